/**
 * Where the time and the errors of the models go: `npm run bench:models [-- --runs N]`.
 *
 * Prints, on one onnxruntime thread:
 *  - warm milliseconds per run (median of N, the two run in turn) of each model as shipped and
 *    after the load-time rewrites (stages/shared/graph-rewrite.ts), with the largest
 *    output difference between the two;
 *  - the recogniser's cost per input column at several line widths (it is linear in width);
 *  - on the dense letter pages of `bench:throughput`, the recogniser's own seconds per page (every
 *    detected line read once, nothing else), which bounds pages per second on this machine;
 *  - the 0/180 line classifier's wrong calls on generated pages and, when ../shared/datasets is
 *    present, SROIE and FUNSD dev pages, each upright and turned 180 degrees;
 *  - the share of ground-truth word boxes (SROIE, FUNSD) whose centre lies in a detected region.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { generatePage, makeLetterLines } from '../../fixtures/generate.ts';
import { detectText } from '../../stages/detect/core.ts';
import { classifyLines, cropLine } from '../../stages/recognize/core.ts';
import type { RawImage } from '../../stages/shared/geometry.ts';
import { optimiseGraph } from '../../stages/shared/graph-rewrite.ts';
import { bundledModelDir, getModelStore, modelManifest } from '../../stages/shared/model-store.ts';
import { datasetRoot, devScans, SCAN_SETS } from '../support/datasets.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Number(values.runs);
const DATASETS = datasetRoot();
const say = (line: string) => process.stdout.write(`${line}\n`);
const progress = (line: string) => process.stderr.write(`${line}\n`);

function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
}

async function msPerRun(s: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<number> {
  await s.run(feeds);
  const started = performance.now();
  for (let i = 0; i < runs; i++) await s.run(feeds);
  return (performance.now() - started) / runs;
}

const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;

/** Median ms per run of two sessions, run in turn so both see the same machine load. */
async function compare(
  a: ort.InferenceSession,
  b: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
): Promise<[number, number]> {
  await a.run(feeds);
  await b.run(feeds);
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < runs; i++) {
    for (const [k, s] of [a, b].entries()) {
      const started = performance.now();
      await s.run(feeds);
      times[k]!.push(performance.now() - started);
    }
  }
  return [median(times[0]), median(times[1])];
}

function randomInput(dims: number[]): ort.Tensor {
  const size = dims.reduce((a, b) => a * b, 1);
  let seed = 1;
  const data = new Float32Array(size).map(() => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed / 0x7fffffff) * 2 - 1;
  });
  return new ort.Tensor('float32', data, dims);
}

say('# docpipe model benchmark (one onnxruntime thread)');
say('');
say('## warm ms per run, as shipped and after the load-time rewrites');
const shapes: Record<string, number[]> = {
  det: [1, 3, 1536, 1088],
  rec: [1, 3, 48, 960],
  cls: [8, 3, 48, 192],
};
for (const entry of modelManifest().filter((m) => m.name in shapes)) {
  const bytes = readFileSync(join(bundledModelDir(), entry.file));
  const rewritten = optimiseGraph(bytes);
  const [a, b] = await Promise.all([session(bytes), session(rewritten.bytes)]);
  const feeds = { [a.inputNames[0]!]: randomInput(shapes[entry.name]!) };
  const [outA, outB] = [await a.run(feeds), await b.run(feeds)];
  const da = outA[a.outputNames[0]!]!.data as Float32Array;
  const db = outB[b.outputNames[0]!]!.data as Float32Array;
  const diff = da.reduce((m, v, i) => Math.max(m, Math.abs(v - db[i]!)), 0);
  const [before, after] = await compare(a, b, feeds);
  say(
    `${entry.name.padEnd(4)} input ${shapes[entry.name]!.join('x').padEnd(14)} shipped ${before.toFixed(1).padStart(6)} ms  rewritten ${after.toFixed(1).padStart(6)} ms  (${(100 * (after / before - 1)).toFixed(0)}%, ${rewritten.fused} activations fused, ${rewritten.folded} affine nodes folded, max output diff ${diff.toExponential(1)})`,
  );
}

say('');
say('## recogniser cost per input column (48 px high line images)');
const rec = await getModelStore().session('rec');
for (const width of [160, 320, 640, 960, 1280, 1920]) {
  const ms = await msPerRun(rec, { [rec.inputNames[0]!]: randomInput([1, 3, 48, width]) });
  say(
    `width ${String(width).padStart(4)}: ${ms.toFixed(1).padStart(6)} ms, ${((1000 * ms) / width).toFixed(0)} us per column`,
  );
}

say('');
say('## recogniser alone on the dense letter pages of bench:throughput');
let recSeconds = 0;
let lines = 0;
const pages = 4;
for (let i = 1; i <= pages; i++) {
  const page = await generatePage(
    { lines: makeLetterLines(100 + i, 30) },
    { angle: 0, noiseSigma: 6, seed: i },
  );
  const detection = await detectText(page.png);
  const { data, info } = await sharp(page.png)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const image: RawImage = { data: new Uint8Array(data), ...info };
  const crops = await Promise.all(detection.regions.map((r) => cropLine(image, r.box)));
  lines += crops.length;
  const started = performance.now();
  for (const crop of crops) {
    const width = Math.ceil(crop.width / 8) * 8;
    await rec.run({ [rec.inputNames[0]!]: randomInput([1, 3, 48, width]) });
  }
  recSeconds += (performance.now() - started) / 1000;
}
say(
  `${pages} pages, ${lines / pages} lines a page: ${(recSeconds / pages).toFixed(2)} s of one core per page in the recogniser, so at most ${(2 / (recSeconds / pages)).toFixed(2)} pages/s on 2 cores if every other stage were free`,
);

say('');
say('## 0/180 line classifier: wrong calls (lines called turned when upright, and the reverse)');
const classifierSets: Array<{ name: string; images: () => Promise<Buffer[]> }> = [
  {
    name: 'generated letters',
    images: () =>
      Promise.all(
        [1, 2, 3].map(
          async (i) => (await generatePage({ lines: makeLetterLines(300 + i, 30) }, { seed: i })).png,
        ),
      ),
  },
  ...SCAN_SETS.map((set) => ({
    name: `${set.name} dev (first 8)`,
    images: async () => {
      const scans = devScans(DATASETS, set);
      if (scans === undefined) return [];
      return scans.files.slice(0, 8).map((f) => readFileSync(join(scans.dir, f)));
    },
  })),
];
for (const set of classifierSets) {
  const images = await set.images();
  if (images.length === 0) {
    say(`${set.name}: no data`);
    continue;
  }
  let total = 0;
  let wrongUpright = 0;
  let wrongTurned = 0;
  for (const png of images) {
    const turned = await sharp(png).rotate(180).png().toBuffer();
    const [up, down] = await Promise.all([detectText(png), detectText(turned)]);
    const [a, b] = [await classifyLines(png, up.regions), await classifyLines(turned, down.regions)];
    total += a.length + b.length;
    wrongUpright += a.filter((c) => c.angle === 180).length;
    wrongTurned += b.filter((c) => c.angle === 0).length;
  }
  say(
    `${set.name.padEnd(20)} ${String(total).padStart(5)} lines: ${((100 * (wrongUpright + wrongTurned)) / total).toFixed(1)}% wrong (${wrongUpright} upright called turned, ${wrongTurned} turned called upright)`,
  );
}

say('');
say('## detection: ground-truth word boxes whose centre lies in a detected region');
for (const set of SCAN_SETS) {
  const scans = devScans(DATASETS, set);
  if (scans === undefined) {
    say(`${set.name}: no data`);
    continue;
  }
  const { dir, files } = scans;
  const ext = set.extension;
  progress(`detecting ${set.name}...`);
  let total = 0;
  let covered = 0;
  for (const file of files) {
    const detection = await detectText(readFileSync(join(dir, file)));
    const boxes = detection.regions.map((r) => {
      const xs = r.box.map((p) => p[0]);
      const ys = r.box.map((p) => p[1]);
      return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] as const;
    });
    const truth = readFileSync(join(dir, `${file.slice(0, -ext.length)}.boxes.tsv`), 'utf8');
    for (const row of truth.split('\n')) {
      const [x0, y0, x1, y1, text] = row.split('\t');
      if (!text || !/[\p{L}\p{N}]/u.test(text)) continue;
      const cx = (Number(x0) + Number(x1)) / 2;
      const cy = (Number(y0) + Number(y1)) / 2;
      total++;
      if (boxes.some(([bx0, by0, bx1, by1]) => cx >= bx0 && cx <= bx1 && cy >= by0 && cy <= by1)) covered++;
    }
  }
  say(`${set.name.padEnd(6)} ${covered}/${total} (${((100 * covered) / total).toFixed(1)}%)`);
}
await getModelStore().release();
