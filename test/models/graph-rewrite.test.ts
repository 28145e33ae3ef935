import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { onnx as OnnxNamespace } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { fuseHardSwish } from '../../stages/shared/graph-rewrite.ts';
import { bundledModelDir, modelManifest } from '../../stages/shared/model-store.ts';
import { textImage } from '../detect/render.ts';

const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxNamespace };
const FLOAT = onnx.TensorProto.DataType.FLOAT;

function scalarNode(name: string, value: number): OnnxNamespace.INodeProto {
  return {
    opType: 'Constant',
    output: [name],
    attribute: [
      {
        name: 'value',
        type: onnx.AttributeProto.AttributeType.TENSOR,
        t: { dataType: FLOAT, floatData: [value] },
      },
    ],
  };
}

/** y = x * Clip(x + 3, 0, 6) / 6 as paddle2onnx writes it; opset 11 passes the Clip bounds as inputs. */
function hardSwishModel(opset: 9 | 11, { reuseGate = false } = {}): Uint8Array {
  const clip: OnnxNamespace.INodeProto =
    opset === 9
      ? {
          opType: 'Clip',
          input: ['shifted'],
          output: ['gate'],
          attribute: [
            { name: 'min', type: onnx.AttributeProto.AttributeType.FLOAT, f: 0 },
            { name: 'max', type: onnx.AttributeProto.AttributeType.FLOAT, f: 6 },
          ],
        }
      : { opType: 'Clip', input: ['shifted', 'zero', 'six.clip'], output: ['gate'] };
  const tensor = (name: string) => ({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: 8 }] } } },
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'hardswish',
      node: [
        scalarNode('three', 3),
        scalarNode('six', 6),
        scalarNode('zero', 0),
        scalarNode('six.clip', 6),
        { opType: 'Add', input: ['x', 'three'], output: ['shifted'] },
        clip,
        { opType: 'Mul', input: ['x', 'gate'], output: ['scaled'] },
        { opType: 'Div', input: ['scaled', 'six'], output: ['y'] },
        ...(reuseGate ? [{ opType: 'Identity', input: ['gate'], output: ['gate.copy'] }] : []),
      ],
      input: [tensor('x')],
      output: [tensor('y'), ...(reuseGate ? [tensor('gate.copy')] : [])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

async function run(bytes: Uint8Array, input: Float32Array, dims: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input, dims) });
    return out[session.outputNames[0]!]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

const X = Float32Array.from([-5, -3, -1.5, 0, 0.5, 2, 3, 7]);
const hardSwish = (v: number) => (v * Math.min(6, Math.max(0, v + 3))) / 6;

describe('fuseHardSwish', () => {
  test.each([9, 11] as const)(
    'turns an opset %i hard-swish into HardSigmoid and Mul with the same values',
    async (opset) => {
      // Prepare
      const bytes = hardSwishModel(opset);

      // Act
      const { bytes: rewritten, fused } = fuseHardSwish(bytes);
      const y = await run(rewritten, X, [1, 8]);

      // Assess
      expect(fused).toBe(1);
      const ops = onnx.ModelProto.decode(rewritten).graph!.node!.map((n) => n.opType);
      expect(ops).toEqual(['HardSigmoid', 'Mul']);
      [...X].forEach((v, i) => {
        expect(y[i]).toBeCloseTo(hardSwish(v), 5);
      });
    },
  );

  test('leaves the graph alone when the clipped gate is read elsewhere too', () => {
    // Prepare
    const bytes = hardSwishModel(9, { reuseGate: true });

    // Act
    const result = fuseHardSwish(bytes);

    // Assess
    expect(result.fused).toBe(0);
    expect(result.bytes).toBe(bytes);
  });

  test('keeps what the shipped recogniser reads from a real line image', async () => {
    // Prepare: a rendered text line at the recogniser's input size, normalised as it expects.
    const entry = modelManifest().find((m) => m.name === 'rec')!;
    const original = readFileSync(join(bundledModelDir(), entry.file));
    const png = await textImage('Total due 1,250.00 EUR', 14);
    const { data, info } = await sharp(png)
      .resize({ height: 48 })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const width = info.width - (info.width % 8);
    const input = new Float32Array(3 * 48 * width);
    for (let y = 0; y < 48; y++)
      for (let x = 0; x < width; x++)
        for (let c = 0; c < 3; c++)
          input[c * 48 * width + y * width + x] = data[(y * info.width + x) * 3 + c]! / 127.5 - 1;

    // Act
    const { bytes, fused } = fuseHardSwish(original);
    const [before, after] = await Promise.all([
      run(original, input, [1, 3, 48, width]),
      run(bytes, input, [1, 3, 48, width]),
    ]);

    // Assess
    expect(fused).toBeGreaterThan(0);
    expect(after.length).toBe(before.length);
    const maxDiff = before.reduce((m, v, i) => Math.max(m, Math.abs(v - after[i]!)), 0);
    expect(maxDiff).toBeLessThan(1e-4);
  });
});
