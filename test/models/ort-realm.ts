/**
 * Jest runs each test file in its own V8 context, with its own typed-array constructors, while
 * onnxruntime-node's native binding returns tensors built in the main context. onnxruntime-common
 * checks `data instanceof Float32Array` (against the test context's constructor) and throws
 * "A float32 tensor's data must be type of function Float32Array()". Using the main context's
 * typed arrays in the test context, before onnxruntime loads, makes both sides agree.
 * Loaded through jest's `setupFiles`; it has no effect outside jest.
 */
import { runInThisContext } from 'node:vm';

// Only Float32Array: every docpipe model takes and returns float32, and swapping the other typed
// arrays (Uint8Array above all) would change how Buffer behaves in every other test.
const outer = runInThisContext('Float32Array') as Float32ArrayConstructor;
if (outer !== globalThis.Float32Array) globalThis.Float32Array = outer;
