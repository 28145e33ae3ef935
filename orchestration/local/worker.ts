import type { FunctionName } from '../pipeline.ts';
import { FUNCTION_MODULES } from './functions.ts';

/**
 * A warm "container": a child process whose handler modules are imported once and keep their ONNX
 * sessions loaded for every later invocation, like a warm Lambda execution environment. A process,
 * not a thread: a native crash (or a kill) here never takes the service down with it.
 */
type Handler = (event: unknown) => Promise<unknown>;
const handlers = new Map<FunctionName, Promise<Handler>>();

function load(fn: FunctionName): Promise<Handler> {
  let handler = handlers.get(fn);
  if (handler === undefined) {
    handler = import(new URL(FUNCTION_MODULES[fn], import.meta.url).href).then(
      (m: { handler: Handler }) => m.handler,
    );
    handlers.set(fn, handler);
  }
  return handler;
}

export interface InvokeRequest {
  id: number;
  fn: FunctionName;
  event: unknown;
}

/** `cpuMs`: the process's CPU time during the invocation, every thread (libvips, onnxruntime) included. */
export type InvokeResponse =
  | { id: number; ok: true; result: unknown; cpuMs: number }
  | { id: number; ok: false; error: { name: string; message: string }; cpuMs: number };

process.on('message', async (request: InvokeRequest) => {
  let response: InvokeResponse;
  // One invocation at a time per process, so the process's CPU time is this invocation's.
  const cpu = process.cpuUsage();
  const cpuMs = () => {
    const { user, system } = process.cpuUsage(cpu);
    return (user + system) / 1000;
  };
  try {
    const handler = await load(request.fn);
    const result = await handler(request.event);
    response = { id: request.id, ok: true, result, cpuMs: cpuMs() };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    response = { id: request.id, ok: false, error: { name: e.name, message: e.message }, cpuMs: cpuMs() };
  }
  process.send!(response);
});

// The pool went away (stop, crash): nothing is left to serve.
process.on('disconnect', () => process.exit(0));
