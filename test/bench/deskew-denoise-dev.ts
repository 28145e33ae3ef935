/**
 * Dev figures for the deskew and denoise stages (not a test: prints a report).
 *   npm run bench:deskew-denoise
 * Skew: angle error per file of ../shared/datasets/skew/*\/dev and the mean; orientation found vs
 * expected. Denoise: RMSE on [0,1] of noisy and denoised DDD dev pages against their clean targets,
 * DIBCO 2011 printed F-measure of the binarised output, ms per page; timings on a generated A4 page.
 * With --turned (about 4 minutes more): every dev receipt and form turned by 0, 90, 180 and 270
 * degrees, and how many of them the orientation check sets upright.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { denoisePage } from '../../stages/denoise/core.ts';
import { rmse } from '../../stages/denoise/metrics.ts';
import { deskewPage } from '../../stages/deskew/core.ts';
import { histogram, otsuThreshold } from '../../stages/deskew/raster.ts';
import { detectText } from '../../stages/detect/core.ts';
import { recognizeText } from '../../stages/recognize/core.ts';
import { renderTextPage, rotateCcw } from '../deskew/pages.ts';
import { datasetRoot, devScans, SCAN_SETS } from '../support/datasets.ts';

const { values: args } = parseArgs({ options: { turned: { type: 'boolean', default: false } } });
const root = datasetRoot();
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const f3 = (v: number) => v.toFixed(3);

async function grayPixels(png: Buffer): Promise<Uint8Array> {
  return new Uint8Array(await sharp(png).toColourspace('b-w').raw().toBuffer());
}

async function skew(): Promise<void> {
  const dir = join(root, 'skew');
  if (!existsSync(dir)) return out('skew: dataset absent, skipped');
  out('== deskew: real scans with known skew');
  out('file\ttruth\tours\terror\ttolerance\torientation(truth/ours)\tconfidence\tms');
  const errors: number[] = [];
  const exact: number[] = [];
  for (const set of readdirSync(dir)) {
    const sub = join(dir, set, 'dev');
    if (!existsSync(sub)) continue;
    for (const file of readdirSync(sub).filter((f) => f.endsWith('.png'))) {
      const truth = JSON.parse(readFileSync(join(sub, file.replace(/\.png$/, '.json')), 'utf8'));
      const png = readFileSync(join(sub, file));
      const t = performance.now();
      const r = await deskewPage(png);
      const ms = performance.now() - t;
      const err = Math.abs(r.angle - truth.angle_deg);
      errors.push(err);
      if (truth.tolerance_deg === undefined) exact.push(err);
      out(
        `${set}/${file}\t${truth.angle_deg}\t${f3(r.angle)}\t${f3(err)}\t${truth.tolerance_deg ?? 'exact'}\t${truth.orientation_ccw_deg ?? 0}/${r.orientation}\t${r.confidence}\t${ms.toFixed(0)}`,
      );
    }
  }
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / Math.max(1, a.length);
  out(
    `mean |error| all ${f3(mean(errors))} deg (n=${errors.length}); exact-angle files ${f3(mean(exact))} deg (n=${exact.length})`,
  );
}

async function synthetic(): Promise<void> {
  out('== generated 300 DPI A4 page (2480x3508)');
  const page = await renderTextPage({ width: 2480, height: 3508, dpi: 300, words: 500 });
  const errs: number[] = [];
  let deskewMs = 0;
  const angles = [-30, -7.5, -1.3, 0.4, 3.21, 12, 44];
  for (const a of angles) {
    const skewed = await rotateCcw(page, a);
    const t = performance.now();
    const r = await deskewPage(skewed, { detectOrientation: false });
    deskewMs += performance.now() - t;
    errs.push(Math.abs(r.angle - a));
  }
  out(
    `deskew angle error mean ${f3(errs.reduce((s, x) => s + x, 0) / errs.length)} max ${f3(Math.max(...errs))} deg over ${angles.join(', ')}`,
  );
  out(
    `deskew ms/page, detectOrientation false, incl. rotation and PNG encode: ${(deskewMs / angles.length).toFixed(0)}`,
  );
  let t = performance.now();
  await denoisePage(page);
  await denoisePage(page);
  out(`denoise ms/page: ${((performance.now() - t) / 2).toFixed(0)}`);
  // CPU time (all threads of this process) is what counts on a shared or fully busy machine.
  const cpuMs = async (f: () => Promise<unknown>): Promise<number> => {
    const c = process.cpuUsage();
    await f();
    const d = process.cpuUsage(c);
    return (d.user + d.system) / 1000;
  };
  const tilted = await rotateCcw(page, 0.9);
  await deskewPage(tilted);
  out(
    `CPU ms on the page tilted 0.9 degrees: deskew with orientation ${(await cpuMs(() => deskewPage(tilted))).toFixed(0)}, denoise ${(await cpuMs(() => denoisePage(tilted))).toFixed(0)}`,
  );
  t = performance.now();
  await deskewPage(page, { detectOrientation: false });
  out(
    `deskew ms on a straight page, detectOrientation false (angle analysis, no rotation): ${(performance.now() - t).toFixed(0)}`,
  );
}

async function ddd(): Promise<void> {
  const dir = join(root, 'ddd_denoise/dev');
  if (!existsSync(dir)) return out('ddd_denoise: dataset absent, skipped');
  out('== denoise: Denoising Dirty Documents dev (RMSE on [0,1] vs clean target)');
  let noisy = 0;
  let ours = 0;
  let ms = 0;
  const names = readdirSync(dir).filter((f) => /^\d+\.png$/.test(f));
  for (const name of names) {
    const png = readFileSync(join(dir, name));
    const clean = await grayPixels(readFileSync(join(dir, name.replace(/\.png$/, '.clean.png'))));
    const t = performance.now();
    const r = await denoisePage(png);
    ms += performance.now() - t;
    noisy += rmse(await grayPixels(png), clean);
    ours += rmse(await grayPixels(r.png), clean);
  }
  const n = names.length;
  out(
    `pages ${n}: noisy RMSE ${(noisy / n).toFixed(4)} -> denoised ${(ours / n).toFixed(4)}; ${(ms / n).toFixed(1)} ms/page`,
  );
}

/**
 * The DIBCO "gt.tif" files are really 1-bit Windows BMPs, which sharp does not read: a minimal
 * reader (BITMAPINFOHEADER, 2-colour palette, rows bottom-up unless the height is negative).
 */
function readBmp1(buf: Buffer): { data: Uint8Array; width: number; height: number } {
  const offset = buf.readUInt32LE(10);
  const headerSize = buf.readUInt32LE(14);
  const width = buf.readInt32LE(18);
  const rawHeight = buf.readInt32LE(22);
  if (buf.readUInt16LE(28) !== 1) throw new Error('only 1-bit BMPs are supported');
  const height = Math.abs(rawHeight);
  const palette = 14 + headerSize;
  const level = [0, 1].map((i) => buf[palette + 4 * i + 1]!);
  const stride = Math.ceil(width / 32) * 4;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = offset + (rawHeight > 0 ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) data[y * width + x] = level[(buf[row + (x >> 3)]! >> (7 - (x & 7))) & 1]!;
  }
  return { data, width, height };
}

/** F-measure of ink (0) against the 1-bit ground truth (text = 0). */
function fMeasure(ours: Uint8Array, truth: Uint8Array): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < ours.length; i++) {
    const a = ours[i]! < 128;
    const b = truth[i]! < 128;
    if (a && b) tp++;
    else if (a) fp++;
    else if (b) fn++;
  }
  return (2 * tp) / Math.max(1, 2 * tp + fp + fn);
}

async function dibco(): Promise<void> {
  const dir = join(root, 'dibco11_printed/dev');
  if (!existsSync(dir)) return out('dibco11_printed: dataset absent, skipped');
  out(
    '== denoise: DIBCO 2011 printed dev, F-measure of binarised output (Otsu on the raw scan for reference)',
  );
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.png'))) {
    const png = readFileSync(join(dir, name));
    const truth = readBmp1(readFileSync(join(dir, name.replace(/\.png$/, '.gt.tif')))).data;
    const raw = await grayPixels(png);
    const t = otsuThreshold(histogram(raw));
    const otsu = raw.map((v) => (v <= t ? 0 : 255));
    const ours = await grayPixels((await denoisePage(png, { binarize: true })).png);
    out(`${name}\totsu ${f3(fMeasure(otsu, truth))}\tours ${f3(fMeasure(ours, truth))}`);
  }
}

async function read(png: Buffer): Promise<string> {
  const detection = await detectText(png);
  return (await recognizeText(png, detection)).lines.map((l) => l.text).join('\n');
}

/** Levenshtein distance over the first string's length. */
function cer(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]! / Math.max(1, a.length);
}

async function ocrCheck(): Promise<void> {
  out(
    '== denoise and OCR: text read before vs after denoise (no ground truth: identical is the goal on clean pages)',
  );
  const pages: Array<[string, Buffer]> = [];
  for (const [font, dpi] of [
    ['DejaVu Sans 10', 300],
    ['DejaVu Serif 9', 300],
    ['DejaVu Sans Mono 8', 200],
  ] as const) {
    const page = await renderTextPage({
      width: Math.round(8.27 * dpi),
      height: Math.round(4 * dpi),
      dpi,
      font,
      words: 120,
    });
    pages.push([`clean ${font} @${dpi}`, page]);
  }
  const dir = join(root, 'dibco11_printed/dev');
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.png')))
      pages.push([`dibco ${name}`, readFileSync(join(dir, name))]);
  }
  for (const [name, png] of pages) {
    const before = await read(png);
    const after = await read((await denoisePage(png)).png);
    out(
      `${name}\tidentical ${before === after}\tedit distance / length ${f3(cer(before, after))}\t(${before.length} chars)`,
    );
  }
}

/**
 * Real scans turned by each quarter turn: the datasets hold few turned pages, and a page on its
 * side or upside down is where the orientation check earns its cost.
 */
async function turned(): Promise<void> {
  out('== orientation: dev receipts and forms turned by 0, 90, 180 and 270 degrees clockwise');
  for (const set of SCAN_SETS) {
    const scans = devScans(root, set);
    if (scans === undefined) {
      out(`${set.name}: dataset absent, skipped`);
      continue;
    }
    let upright = 0;
    let total = 0;
    let ms = 0;
    const wrong: string[] = [];
    for (const file of scans.files) {
      const page = await sharp(readFileSync(join(scans.dir, file)))
        .png({ compressionLevel: 1 })
        .toBuffer();
      for (const turn of [0, 90, 180, 270] as const) {
        const png =
          turn === 0 ? page : await sharp(page).rotate(turn).png({ compressionLevel: 1 }).toBuffer();
        const t = performance.now();
        const r = await deskewPage(png);
        ms += performance.now() - t;
        total++;
        // The page was turned `turn` degrees clockwise; the stage must turn it the rest of the way.
        if (r.orientation === (360 - turn) % 360) upright++;
        else wrong.push(`${file} turned ${turn}: orientation ${r.orientation}`);
      }
    }
    out(`${set.name}: ${upright}/${total} upright, ${(ms / total).toFixed(0)} ms a page`);
    for (const line of wrong) out(`  ${line}`);
  }
}

await skew();
if (args.turned) await turned();
await synthetic();
await ddd();
await dibco();
await ocrCheck();
