import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { onnx as OnnxNamespace } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { foldAffine, fuseHardSwish, optimiseGraph } from '../../stages/shared/graph-rewrite.ts';
import { bundledModelDir, modelManifest } from '../../stages/shared/model-store.ts';
import { textImage } from '../detect/render.ts';

const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxNamespace };
const FLOAT = onnx.TensorProto.DataType.FLOAT;

function constantNode(name: string, dims: number[], values: number[]): OnnxNamespace.INodeProto {
  return {
    opType: 'Constant',
    output: [name],
    attribute: [
      {
        name: 'value',
        type: onnx.AttributeProto.AttributeType.TENSOR,
        t: { dataType: FLOAT, dims, floatData: values },
      },
    ],
  };
}

const scalarNode = (name: string, value: number) => constantNode(name, [], [value]);

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

  test('keeps what the shipped recogniser reads from a real line image after every rewrite', async () => {
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
    const { bytes, fused, folded } = optimiseGraph(original);
    const [before, after] = await Promise.all([
      run(original, input, [1, 3, 48, width]),
      run(bytes, input, [1, 3, 48, width]),
    ]);

    // Assess
    expect(fused).toBeGreaterThan(0);
    expect(folded).toBeGreaterThan(0);
    expect(after.length).toBe(before.length);
    const maxDiff = before.reduce((m, v, i) => Math.max(m, Math.abs(v - after[i]!)), 0);
    expect(maxDiff).toBeLessThan(1e-4);
  });
});

const ramp = (count: number, scale: number, offset = 0) =>
  Array.from({ length: count }, (_, i) => offset + scale * (((i * 7) % 11) - 5));

/**
 * Conv -> x*s+b -> Relu -> x*s+b -> next Conv, with the constants first as paddle2onnx writes them.
 * `pads` is the second Conv's padding: with padding, its affine input must stay.
 */
function affineModel(pads: number): Uint8Array {
  const vector = (name: string, values: number[]) => constantNode(name, [1, 4, 1, 1], values);
  const tensor = (name: string, dims: number[]) => ({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const k = 2 * pads + 1;
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 9 }],
      graph: {
        name: 'affine',
        node: [
          constantNode('w1', [4, 3, 3, 3], ramp(108, 0.05)),
          constantNode('b1', [4], [0.1, -0.2, 0.3, 0]),
          vector('s1', [1.5, -0.5, 2, 0.25]),
          constantNode('t1', [1], [0.3]),
          constantNode('s2', [1], [0.7]),
          vector('t2', [-0.4, 0.2, 0.1, 0.5]),
          constantNode('w2', [2, 4, k, k], ramp(8 * k * k, 0.03, 0.01)),
          {
            opType: 'Conv',
            input: ['x', 'w1', 'b1'],
            output: ['c1'],
            attribute: [
              { name: 'kernel_shape', type: onnx.AttributeProto.AttributeType.INTS, ints: [3, 3] },
              { name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 1, 1, 1] },
            ],
          },
          { opType: 'Mul', input: ['s1', 'c1'], output: ['m1'] },
          { opType: 'Add', input: ['m1', 't1'], output: ['a1'] },
          { opType: 'Relu', input: ['a1'], output: ['r1'] },
          { opType: 'Mul', input: ['s2', 'r1'], output: ['m2'] },
          { opType: 'Add', input: ['m2', 't2'], output: ['a2'] },
          {
            opType: 'Conv',
            input: ['a2', 'w2'],
            output: ['y'],
            attribute: [
              { name: 'kernel_shape', type: onnx.AttributeProto.AttributeType.INTS, ints: [k, k] },
              { name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: [pads, pads, pads, pads] },
            ],
          },
        ],
        input: [tensor('x', [1, 3, 5, 6])],
        output: [tensor('y', [1, 2, 5, 6])],
      },
    }),
  ).finish();
}

const IMAGE = Float32Array.from(ramp(90, 0.2, 0.1));

describe('foldAffine', () => {
  test.each([
    {
      what: 'folds the affine nodes after a Conv and before an unpadded Conv',
      pads: 0,
      folded: 4,
      ops: ['Conv', 'Relu', 'Conv'],
    },
    {
      what: 'keeps the affine input of a padded Conv, whose zero border it would change,',
      pads: 1,
      folded: 2,
      ops: ['Conv', 'Relu', 'Mul', 'Add', 'Conv'],
    },
  ])('$what with the same values', async ({ pads, folded: expected, ops: expectedOps }) => {
    // Prepare
    const bytes = affineModel(pads);

    // Act
    const { bytes: rewritten, folded } = foldAffine(bytes);
    const [before, after] = await Promise.all([
      run(bytes, IMAGE, [1, 3, 5, 6]),
      run(rewritten, IMAGE, [1, 3, 5, 6]),
    ]);

    // Assess
    expect(folded).toBe(expected);
    const ops = onnx.ModelProto.decode(rewritten)
      .graph!.node!.map((n) => n.opType)
      .filter((op) => op !== 'Constant');
    expect(ops).toEqual(expectedOps);
    [...before].forEach((v, i) => {
      expect(after[i]).toBeCloseTo(v, 5);
    });
  });
});
