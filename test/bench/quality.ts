/**
 * The quality benchmark: `npm run bench:quality [-- options]`.
 *
 * Scores docpipe, and Tesseract and OCRmyPDF when they are installed, on the same pages in the
 * same run, so every figure can be quoted as a side-by-side ratio:
 *
 *   gen-clean  generated clean A4 pages at 300 DPI (fixtures/generate.ts): CER, WER, word-bag F1
 *   gen-noisy  the same kind of pages skewed 1-6 degrees, stained, blurred, noisy: CER, WER, F1, skew error
 *   sroie      real receipts (../shared/datasets/sroie/dev): F1 + CER, case-folded
 *   funsd      real forms (funsd/dev): F1 + CER
 *   uw3        real text lines (uw3_lines/dev), recognition only, the whole image as one line: CER
 *   skew       real scans with known skew/orientation (skew/x/dev): angle error, orientation
 *   ddd        noisy/clean pairs (ddd_denoise/dev): RMSE of the page before and after denoise
 *
 * Options:
 *   --sets a,b        sets to run (default: all)
 *   --limit N         at most N items per set (generated sets: N pages; default 4 for those)
 *   --json            print one JSON document on stdout instead of tables
 *   --no-baselines    do not run Tesseract/OCRmyPDF even when installed
 *   --datasets DIR    dataset root (default $DOCPIPE_DATASETS or ../shared/datasets beside the checkout)
 *   --out DIR         also write each page's docpipe text and its reference there, as
 *                     <set>-<page>.txt and <set>-<page>.gt.txt, to see where the figures come from
 *
 * Sets whose folder is absent are skipped with a note. Progress goes to stderr. Timings are wall
 * clock per page on this machine, one page at a time, after a warm-up page (models loaded).
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import sharp from 'sharp';
import {
  generatePage,
  makeLetterLines,
  maxCharsPerLine,
  mulberry32,
  type PageSpec,
} from '../../fixtures/generate.ts';
import type { DetectResult, Orientation, Quad } from '../../stages/shared/types.ts';
import { datasetRoot, devScans, scanSet } from '../support/datasets.ts';
import {
  addBags,
  addEdits,
  angleError,
  type BagCount,
  bagCount,
  bagScore,
  charEdits,
  type EditCount,
  rate,
  rmse,
  wordEdits,
} from './metrics.ts';

const run = promisify(execFile);
const SETS = ['gen-clean', 'gen-noisy', 'sroie', 'funsd', 'uw3', 'skew', 'ddd'] as const;
type SetName = (typeof SETS)[number];

const progress = (message: string): void => {
  process.stderr.write(`${message}\n`);
};

// ---------------------------------------------------------------------------------------------
// Our pipeline, loaded lazily: stages arrive at different times, and a missing one is a note.

interface OcrOutput {
  text: string;
  /** Deskew angle found per page (degrees CCW), when deskew ran. */
  angles: number[];
  /** Milliseconds per stage for the whole document, when the runner reports them. */
  timings?: Record<string, number>;
}

interface Pipeline {
  ocr?: (bytes: Buffer, name: string) => Promise<OcrOutput>;
  recognizeLine?: (png: Buffer) => Promise<string>;
  deskew?: (png: Buffer) => Promise<{ angle: number; orientation: Orientation; applied: boolean }>;
  denoise?: (png: Buffer) => Promise<Buffer>;
  notes: string[];
}

async function tryImport<T>(path: string, notes: string[]): Promise<T | undefined> {
  try {
    return (await import(path)) as T;
  } catch (error) {
    notes.push(`${path} not loadable (${(error as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

type DeskewModule = typeof import('../../stages/deskew/core.ts');
type DetectModule = typeof import('../../stages/detect/core.ts');
type RecognizeModule = typeof import('../../stages/recognize/core.ts');
type InprocessModule = typeof import('../../orchestration/inprocess.ts');
interface DenoiseModule {
  denoisePage(png: Buffer, options?: object): Promise<{ png: Buffer }>;
}
type SplitModule = typeof import('../../stages/split/core.ts');

const pageText = (pages: { lines: { text: string }[] }[]): string =>
  pages.map((page) => page.lines.map((line) => line.text).join('\n')).join('\n');

async function loadPipeline(): Promise<Pipeline> {
  const notes: string[] = [];
  const deskew = await tryImport<DeskewModule>('../../stages/deskew/core.ts', notes);
  const denoise = await tryImport<DenoiseModule>('../../stages/denoise/core.ts', notes);
  const detect = await tryImport<DetectModule>('../../stages/detect/core.ts', notes);
  const recognize = await tryImport<RecognizeModule>('../../stages/recognize/core.ts', notes);
  const split = await tryImport<SplitModule>('../../stages/split/core.ts', notes);
  const inprocess = await tryImport<InprocessModule>('../../orchestration/inprocess.ts', notes);
  const pipeline: Pipeline = { notes };

  if (inprocess) {
    pipeline.ocr = async (bytes, name) => {
      const result = await inprocess.ocrDocument(bytes, { name, requireText: false });
      const timings: Record<string, number> = {};
      for (const [stage, ms] of Object.entries(result.timings))
        if (typeof ms === 'number') timings[stage] = ms;
      return { text: pageText(result.pages), angles: result.pages.map((p) => p.deskew.angle), timings };
    };
  } else if (split && detect && recognize) {
    notes.push(
      'orchestration/inprocess.ts missing: chaining split -> deskew -> denoise -> detect -> recognize here',
    );
    pipeline.ocr = async (bytes) => {
      const doc = await split.openDocument(bytes);
      const pages: { lines: { text: string }[] }[] = [];
      const angles: number[] = [];
      try {
        for (let i = 0; i < doc.pageCount; i++) {
          let png = (await doc.renderPage(i)).png;
          if (deskew) {
            const straight = await deskew.deskewPage(png);
            angles.push(straight.angle);
            png = straight.png;
          }
          if (denoise) png = (await denoise.denoisePage(png)).png;
          pages.push(await recognize.recognizeText(png, await detect.detectText(png)));
        }
      } finally {
        await doc.close();
      }
      return { text: pageText(pages), angles };
    };
  } else {
    notes.push('no OCR pipeline available: OCR sets are skipped');
  }
  if (recognize) {
    pipeline.recognizeLine = async (png) => {
      const meta = await sharp(png).metadata();
      const w = meta.width;
      const h = meta.height;
      const box: Quad = [
        [0, 0],
        [w, 0],
        [w, h],
        [0, h],
      ];
      const detection: DetectResult = { width: w, height: h, regions: [{ box, score: 1 }] };
      // The minimum confidence filter would drop a hard line entirely: score what the model reads.
      const result = await recognize.recognizeText(png, detection, { minConfidence: 0 });
      return result.lines.map((line) => line.text).join(' ');
    };
  }
  if (deskew) pipeline.deskew = (png) => deskew.deskewPage(png);
  if (denoise) pipeline.denoise = async (png) => (await denoise.denoisePage(png)).png;
  return pipeline;
}

// ---------------------------------------------------------------------------------------------
// Baselines (external programs)

interface Tools {
  tesseract?: string;
  ocrmypdf?: string;
  pdftotext?: boolean;
}

async function version(command: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run(command, args);
    return `${stdout}${stderr}`.split('\n')[0]!.trim();
  } catch {
    return undefined;
  }
}

async function findTools(enabled: boolean): Promise<Tools> {
  if (!enabled) return {};
  const tesseract = await version('tesseract', ['--version']);
  const ocrmypdf = await version('ocrmypdf', ['--version']);
  const pdftotext = (await version('pdftotext', ['-v'])) !== undefined;
  return {
    ...(tesseract ? { tesseract } : {}),
    ...(ocrmypdf && pdftotext ? { ocrmypdf: `ocrmypdf ${ocrmypdf}` } : {}),
    pdftotext,
  };
}

const MAX_BUFFER = 64 * 1024 * 1024;

async function tesseractText(imagePath: string, psm?: number): Promise<string> {
  const args = [imagePath, '-', '-l', 'eng', ...(psm === undefined ? [] : ['--psm', String(psm)])];
  const { stdout } = await run('tesseract', args, { maxBuffer: MAX_BUFFER });
  return stdout;
}

/** Tesseract's orientation and script detection: the clockwise rotation it would apply. */
async function tesseractOrientation(imagePath: string): Promise<Orientation | undefined> {
  try {
    const { stdout } = await run('tesseract', [imagePath, '-', '--psm', '0'], { maxBuffer: MAX_BUFFER });
    const match = /Rotate:\s*(\d+)/.exec(stdout);
    return match ? (Number(match[1]) as Orientation) : undefined;
  } catch {
    return undefined;
  }
}

async function ocrmypdfText(imagePath: string, dpi: number, work: string): Promise<string> {
  const out = join(work, 'ocrmypdf-out.pdf');
  await run(
    'ocrmypdf',
    [
      '--deskew',
      '--clean',
      '-l',
      'eng',
      '--image-dpi',
      String(dpi),
      '--output-type',
      'pdf',
      '--quiet',
      imagePath,
      out,
    ],
    { maxBuffer: MAX_BUFFER },
  );
  const { stdout } = await run('pdftotext', [out, '-'], { maxBuffer: MAX_BUFFER });
  return stdout;
}

// ---------------------------------------------------------------------------------------------
// Scores

interface TextScore {
  pages: number;
  failures: number;
  seconds: number;
  chars: EditCount;
  charsNorm: EditCount;
  wordsNorm: EditCount;
  bag: BagCount;
  /** The same with the spaces beside punctuation taken out on both sides (joinPunctuationSpacing). */
  bagJoined: BagCount;
  angleErrors: number[];
  /** Summed milliseconds per pipeline stage (docpipe only). */
  stageMs: Record<string, number>;
}

const emptyScore = (): TextScore => ({
  pages: 0,
  failures: 0,
  seconds: 0,
  chars: { edits: 0, length: 0 },
  charsNorm: { edits: 0, length: 0 },
  wordsNorm: { edits: 0, length: 0 },
  bag: { matched: 0, hypothesis: 0, reference: 0 },
  bagJoined: { matched: 0, hypothesis: 0, reference: 0 },
  angleErrors: [],
  stageMs: {},
});

function addText(score: TextScore, hypothesis: string, reference: string, seconds: number, pages = 1): void {
  score.pages += pages;
  score.seconds += seconds;
  score.chars = addEdits(score.chars, charEdits(hypothesis, reference));
  score.charsNorm = addEdits(score.charsNorm, charEdits(hypothesis, reference, { normalize: true }));
  score.wordsNorm = addEdits(score.wordsNorm, wordEdits(hypothesis, reference, { normalize: true }));
  score.bag = addBags(score.bag, bagCount(hypothesis, reference));
  score.bagJoined = addBags(score.bagJoined, bagCount(hypothesis, reference, { joinPunctuation: true }));
}

/** A failed page scores as an empty output (all characters missed), and is counted. */
function addFailure(score: TextScore, reference: string, seconds: number, pages = 1): void {
  addText(score, '', reference, seconds, pages);
  score.failures += 1;
}

interface SkewScore {
  pages: number;
  seconds: number;
  errors: number[];
  orientationChecked: number;
  orientationRight: number;
}

interface DenoiseScore {
  pages: number;
  seconds: number;
  before: number[];
  after: number[];
}

type SystemName = 'docpipe' | 'tesseract' | 'ocrmypdf' | 'input';

interface SetResult {
  name: SetName;
  title: string;
  kind: 'text' | 'line' | 'skew' | 'denoise';
  text?: Partial<Record<SystemName, TextScore>>;
  skew?: Partial<Record<SystemName, SkewScore>>;
  denoise?: DenoiseScore;
  notes: string[];
}

const seconds = (since: number): number => (performance.now() - since) / 1000;

async function timed<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; s: number }> {
  const t = performance.now();
  try {
    const value = await fn();
    return { value, s: seconds(t) };
  } catch (error) {
    return { error, s: seconds(t) };
  }
}

// ---------------------------------------------------------------------------------------------
// Sets

interface TextItem {
  name: string;
  /** The image file (for external tools) or undefined for generated pages written on the fly. */
  path: string;
  reference: string;
  dpi: number;
  /** Known skew, degrees CCW, for generated pages. */
  angle?: number;
}

interface Context {
  pipeline: Pipeline;
  tools: Tools;
  limit?: number;
  datasets: string;
  work: string;
  /** Where each page's text and reference go (--out). */
  out?: string;
}

async function scoreTextItems(ctx: Context, items: TextItem[], result: SetResult): Promise<void> {
  const ours = emptyScore();
  const tess = emptyScore();
  const omp = emptyScore();
  result.text = {};
  const ocr = ctx.pipeline.ocr;
  for (const [i, item] of items.entries()) {
    progress(`  ${result.name} ${i + 1}/${items.length} ${item.name}`);
    if (ocr) {
      const bytes = readFileSync(item.path);
      const r = await timed(() => ocr(bytes, item.name));
      if (r.value) {
        addText(ours, r.value.text, item.reference, r.s);
        if (ctx.out !== undefined) {
          const stem = join(
            ctx.out,
            `${result.name}-${item.name.replace(/[^\w.-]+/g, '_').replace(/\.[a-z]+$/i, '')}`,
          );
          writeFileSync(`${stem}.txt`, `${r.value.text}\n`);
          writeFileSync(`${stem}.gt.txt`, `${item.reference}\n`);
        }
        for (const [stage, ms] of Object.entries(r.value.timings ?? {})) {
          ours.stageMs[stage] = (ours.stageMs[stage] ?? 0) + ms;
        }
        const found = r.value.angles[0];
        if (item.angle !== undefined && found !== undefined) {
          ours.angleErrors.push(angleError(found, item.angle));
          if (item.angle !== 0) result.notes.push(`${item.name}: docpipe deskew found ${found} deg`);
        }
      } else {
        addFailure(ours, item.reference, r.s);
        result.notes.push(
          `docpipe failed on ${item.name}: ${String((r.error as Error)?.message ?? r.error)}`,
        );
      }
    }
    if (ctx.tools.tesseract) {
      const r = await timed(() => tesseractText(item.path));
      if (r.value !== undefined) addText(tess, r.value, item.reference, r.s);
      else addFailure(tess, item.reference, r.s);
    }
    if (ctx.tools.ocrmypdf) {
      const r = await timed(() => ocrmypdfText(item.path, item.dpi, ctx.work));
      if (r.value !== undefined) addText(omp, r.value, item.reference, r.s);
      else {
        addFailure(omp, item.reference, r.s);
        result.notes.push(
          `ocrmypdf failed on ${item.name}: ${String((r.error as Error)?.message ?? r.error).split('\n')[0]}`,
        );
      }
    }
  }
  if (ocr) result.text.docpipe = ours;
  if (ctx.tools.tesseract) result.text.tesseract = tess;
  if (ctx.tools.ocrmypdf) result.text.ocrmypdf = omp;
}

const GEN_SPEC: PageSpec = { lines: [], fontSizePt: 11 };

async function generatedItems(ctx: Context, noisy: boolean): Promise<TextItem[]> {
  const count = ctx.limit ?? 4;
  const items: TextItem[] = [];
  const random = mulberry32(noisy ? 7001 : 5001);
  for (let i = 0; i < count; i++) {
    const font = i % 2 === 0 ? 'DejaVu Sans' : 'DejaVu Serif';
    const spec: PageSpec = { ...GEN_SPEC, font };
    const lines = makeLetterLines((noisy ? 7100 : 5100) + i, 28, maxCharsPerLine(spec));
    const sign = random() < 0.5 ? -1 : 1;
    const degrade = noisy
      ? {
          angle: Math.round(sign * (1 + random() * 5) * 100) / 100,
          background: 0.35,
          blur: 0.8,
          noiseSigma: 14,
          saltPepper: 0.0015,
          seed: 7200 + i,
        }
      : {};
    const page = await generatePage({ ...spec, lines }, degrade);
    const path = join(ctx.work, `${noisy ? 'noisy' : 'clean'}-${i + 1}.png`);
    writeFileSync(path, page.png);
    items.push({
      name: `${noisy ? 'noisy' : 'clean'}-${i + 1}${noisy ? ` (${page.angle} deg)` : ''}`,
      path,
      reference: page.text,
      dpi: page.dpi,
      angle: page.angle,
    });
  }
  return items;
}

function datasetItems(dir: string, ext: string, limit: number | undefined): TextItem[] {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(ext) && !f.endsWith(`.clean${ext}`))
    .sort();
  return names.slice(0, limit ?? names.length).map((file) => {
    const base = file.slice(0, -ext.length);
    return {
      name: base,
      path: join(dir, file),
      reference: readFileSync(join(dir, `${base}.gt.txt`), 'utf8'),
      // These scans declare no reliable density; 300 is what OCRmyPDF needs to be told for receipts/forms.
      dpi: 300,
    };
  });
}

async function runLines(ctx: Context, dir: string, result: SetResult): Promise<void> {
  const items = datasetItems(dir, '.png', ctx.limit);
  const ours = emptyScore();
  const tess = emptyScore();
  result.text = {};
  for (const [i, item] of items.entries()) {
    if (i % 25 === 0) progress(`  uw3 ${i + 1}/${items.length}`);
    if (ctx.pipeline.recognizeLine) {
      const recognizeLine = ctx.pipeline.recognizeLine;
      const r = await timed(() => recognizeLine(readFileSync(item.path)));
      if (r.value !== undefined) addText(ours, r.value, item.reference, r.s);
      else addFailure(ours, item.reference, r.s);
    }
    if (ctx.tools.tesseract) {
      // psm 7: treat the image as a single text line, the same task our recogniser gets.
      const r = await timed(() => tesseractText(item.path, 7));
      if (r.value !== undefined) addText(tess, r.value, item.reference, r.s);
      else addFailure(tess, item.reference, r.s);
    }
  }
  if (ctx.pipeline.recognizeLine) result.text.docpipe = ours;
  else result.notes.push('stages/recognize/core.ts missing: docpipe not scored');
  if (ctx.tools.tesseract) result.text.tesseract = tess;
}

interface SkewTruth {
  angle_deg: number;
  orientation_ccw_deg?: number;
}

async function runSkew(ctx: Context, root: string, result: SetResult): Promise<void> {
  const files: { png: string; truth: SkewTruth; name: string }[] = [];
  for (const group of readdirSync(root).sort()) {
    const dir = join(root, group, 'dev');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      if (!file.endsWith('.json')) continue;
      const base = file.slice(0, -5);
      if (!existsSync(join(dir, `${base}.png`))) continue;
      files.push({
        name: `${group}/${base}`,
        png: join(dir, `${base}.png`),
        truth: JSON.parse(readFileSync(join(dir, file), 'utf8')) as SkewTruth,
      });
    }
  }
  const selected = files.slice(0, ctx.limit ?? files.length);
  const ours: SkewScore = { pages: 0, seconds: 0, errors: [], orientationChecked: 0, orientationRight: 0 };
  const tess: SkewScore = { pages: 0, seconds: 0, errors: [], orientationChecked: 0, orientationRight: 0 };
  for (const item of selected) {
    progress(`  skew ${item.name}`);
    const expectedOrientation = item.truth.orientation_ccw_deg;
    if (ctx.pipeline.deskew) {
      const deskew = ctx.pipeline.deskew;
      const r = await timed(() => deskew(readFileSync(item.png)));
      ours.pages += 1;
      ours.seconds += r.s;
      if (r.value) {
        ours.errors.push(angleError(r.value.angle, item.truth.angle_deg));
        if (expectedOrientation !== undefined) {
          ours.orientationChecked += 1;
          // `orientation` is the clockwise turn applied; content turned CCW by X needs X clockwise.
          if (r.value.orientation === expectedOrientation % 360) ours.orientationRight += 1;
        }
        result.notes.push(
          `${item.name}: truth ${item.truth.angle_deg} deg / orientation ${expectedOrientation ?? '-'}; ` +
            `docpipe ${r.value.angle} deg / ${r.value.orientation}${r.value.applied ? '' : ' (not applied)'}`,
        );
      } else {
        ours.errors.push(Number.NaN);
        result.notes.push(`docpipe deskew failed on ${item.name}: ${String(r.error)}`);
      }
    }
    if (ctx.tools.tesseract && expectedOrientation !== undefined) {
      const r = await timed(() => tesseractOrientation(item.png));
      tess.pages += 1;
      tess.seconds += r.s;
      tess.orientationChecked += 1;
      if (r.value === expectedOrientation % 360) tess.orientationRight += 1;
    }
  }
  result.skew = {};
  if (ctx.pipeline.deskew) result.skew.docpipe = ours;
  else result.notes.push('stages/deskew/core.ts missing: docpipe not scored');
  if (ctx.tools.tesseract) result.skew.tesseract = tess;
}

async function gray(path: string | Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(path).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

async function runDenoise(ctx: Context, dir: string, result: SetResult): Promise<void> {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.clean.png'))
    .map((f) => f.slice(0, -'.clean.png'.length))
    .sort();
  const score: DenoiseScore = { pages: 0, seconds: 0, before: [], after: [] };
  for (const name of names.slice(0, ctx.limit ?? names.length)) {
    const noisyBytes = readFileSync(join(dir, `${name}.png`));
    const clean = await gray(join(dir, `${name}.clean.png`));
    const noisy = await gray(noisyBytes);
    score.before.push(rmse(noisy.data, clean.data));
    if (ctx.pipeline.denoise) {
      const denoise = ctx.pipeline.denoise;
      const r = await timed(() => denoise(noisyBytes));
      score.pages += 1;
      score.seconds += r.s;
      if (r.value) {
        const out = await gray(r.value);
        if (out.width === clean.width && out.height === clean.height)
          score.after.push(rmse(out.data, clean.data));
        else result.notes.push(`${name}: denoise changed the size (${out.width}x${out.height}), not scored`);
      } else {
        result.notes.push(`denoise failed on ${name}: ${String(r.error)}`);
      }
    }
  }
  if (!ctx.pipeline.denoise)
    result.notes.push('stages/denoise/core.ts missing: only the input RMSE is shown');
  result.denoise = score;
}

async function runSet(name: SetName, ctx: Context): Promise<SetResult | string> {
  const d = ctx.datasets;
  switch (name) {
    case 'gen-clean':
    case 'gen-noisy': {
      const noisy = name === 'gen-noisy';
      const result: SetResult = {
        name,
        kind: 'text',
        title: noisy
          ? 'generated A4 300 DPI pages, skewed 1-6 deg, stained, blurred, noisy (CER, WER, word-bag F1; deskew error)'
          : 'generated clean A4 300 DPI pages (CER, WER, word-bag F1)',
        notes: [],
      };
      await scoreTextItems(ctx, await generatedItems(ctx, noisy), result);
      return result;
    }
    case 'sroie':
    case 'funsd': {
      const set = scanSet(name)!;
      const scans = devScans(d, set);
      if (scans === undefined) return `${join(d, name, 'dev')} absent`;
      const result: SetResult = {
        name,
        kind: 'text',
        title:
          name === 'sroie'
            ? 'SROIE dev receipts (word-bag F1 and case-folded CER; GT is upper-case)'
            : 'FUNSD dev forms (word-bag F1 and normalised CER; no unique reading order)',
        notes: [],
      };
      await scoreTextItems(ctx, datasetItems(scans.dir, set.extension, ctx.limit), result);
      return result;
    }
    case 'uw3': {
      const dir = join(d, 'uw3_lines', 'dev');
      if (!existsSync(dir)) return `${dir} absent`;
      const result: SetResult = {
        name,
        kind: 'line',
        title: 'UW-III dev text lines, recognition only (whole image = one line): CER',
        notes: [],
      };
      await runLines(ctx, dir, result);
      return result;
    }
    case 'skew': {
      const dir = join(d, 'skew');
      if (!existsSync(dir)) return `${dir} absent`;
      const result: SetResult = {
        name,
        kind: 'skew',
        title: 'real scans with known skew/orientation (skew/*/dev): deskew angle error',
        notes: [],
      };
      await runSkew(ctx, dir, result);
      return result;
    }
    case 'ddd': {
      const dir = join(d, 'ddd_denoise', 'dev');
      if (!existsSync(dir)) return `${dir} absent`;
      const result: SetResult = {
        name,
        kind: 'denoise',
        title: 'Denoising Dirty Documents dev pairs: RMSE to the clean target, [0,1] scale',
        notes: [],
      };
      await runDenoise(ctx, dir, result);
      return result;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Output

const pct = (value: number): string => (Number.isFinite(value) ? `${(value * 100).toFixed(2)}%` : '-');
const mean = (values: number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

interface TextSummary {
  pages: number;
  failures: number;
  cer: number;
  cerNorm: number;
  werNorm: number;
  f1: number;
  /** Bag F1 after taking out the spaces beside punctuation on both sides. */
  f1Joined: number;
  precision: number;
  recall: number;
  secondsPerPage: number;
  meanAngleError?: number;
  /** Seconds per page spent in each stage. */
  stageSecondsPerPage?: Record<string, number>;
}

function summarizeText(score: TextScore): TextSummary {
  const bag = bagScore(score.bag);
  return {
    pages: score.pages,
    failures: score.failures,
    cer: rate(score.chars),
    cerNorm: rate(score.charsNorm),
    werNorm: rate(score.wordsNorm),
    f1: bag.f1,
    f1Joined: bagScore(score.bagJoined).f1,
    precision: bag.precision,
    recall: bag.recall,
    secondsPerPage: score.pages === 0 ? 0 : score.seconds / score.pages,
    ...(score.angleErrors.length > 0 ? { meanAngleError: mean(score.angleErrors) } : {}),
    ...(Object.keys(score.stageMs).length > 0 && score.pages > 0
      ? {
          stageSecondsPerPage: Object.fromEntries(
            Object.entries(score.stageMs).map(([stage, ms]) => [stage, Math.round(ms / score.pages) / 1000]),
          ),
        }
      : {}),
  };
}

interface SkewSummary {
  pages: number;
  meanError?: number;
  maxError?: number;
  within1deg?: number;
  orientationRight: string;
  secondsPerPage: number;
}

function summarizeSkew(score: SkewScore): SkewSummary {
  const errors = score.errors.filter(Number.isFinite);
  return {
    pages: score.pages,
    ...(errors.length > 0
      ? {
          meanError: mean(errors),
          maxError: Math.max(...errors),
          within1deg: errors.filter((e) => e <= 1).length / score.errors.length,
        }
      : {}),
    orientationRight: `${score.orientationRight}/${score.orientationChecked}`,
    secondsPerPage: score.pages === 0 ? 0 : score.seconds / score.pages,
  };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function printSet(result: SetResult): void {
  const out: string[] = [`\n## ${result.name}: ${result.title}`];
  if (result.text) {
    const summaries = Object.entries(result.text).map(
      ([system, score]) => [system, summarizeText(score)] as const,
    );
    const showAngle = summaries.some(([, s]) => s.meanAngleError !== undefined);
    out.push(
      table(
        [
          'system',
          'pages',
          'CER',
          'CER norm',
          'WER norm',
          'bag F1',
          'F1 joined',
          'P',
          'R',
          's/page',
          ...(showAngle ? ['skew err'] : []),
        ],
        summaries.map(([system, s]) => [
          system,
          `${s.pages}${s.failures > 0 ? ` (${s.failures} failed)` : ''}`,
          pct(s.cer),
          pct(s.cerNorm),
          pct(s.werNorm),
          pct(s.f1),
          pct(s.f1Joined),
          pct(s.precision),
          pct(s.recall),
          s.secondsPerPage.toFixed(2),
          ...(showAngle ? [s.meanAngleError === undefined ? '-' : `${s.meanAngleError.toFixed(2)} deg`] : []),
        ]),
      ),
    );
    const ours = result.text.docpipe && summarizeText(result.text.docpipe);
    if (ours?.stageSecondsPerPage) {
      const stages = Object.entries(ours.stageSecondsPerPage)
        .map(([stage, s]) => `${stage} ${s.toFixed(2)}`)
        .join(', ');
      out.push(`docpipe seconds per page by stage: ${stages}`);
    }
    for (const other of ['tesseract', 'ocrmypdf'] as const) {
      const theirs = result.text[other] && summarizeText(result.text[other]);
      if (!ours || !theirs) continue;
      const ratio = theirs.cerNorm === 0 ? 'n/a' : `${(ours.cerNorm / theirs.cerNorm).toFixed(2)}x`;
      const f1 = ((ours.f1 - theirs.f1) * 100).toFixed(1);
      const speed =
        ours.secondsPerPage === 0 ? 'n/a' : `${(theirs.secondsPerPage / ours.secondsPerPage).toFixed(2)}x`;
      out.push(
        `docpipe vs ${other}: CER norm ${pct(ours.cerNorm)} vs ${pct(theirs.cerNorm)} (ratio ${ratio}), ` +
          `bag F1 ${Number(f1) >= 0 ? '+' : ''}${f1} points, docpipe ${speed} as fast`,
      );
    }
  }
  if (result.skew) {
    out.push(
      table(
        ['system', 'pages', 'mean err', 'max err', '<= 1 deg', 'orientation', 's/page'],
        Object.entries(result.skew).map(([system, score]) => {
          const s = summarizeSkew(score);
          return [
            system,
            String(s.pages),
            s.meanError === undefined ? '-' : `${s.meanError.toFixed(2)} deg`,
            s.maxError === undefined ? '-' : `${s.maxError.toFixed(2)} deg`,
            s.within1deg === undefined ? '-' : pct(s.within1deg),
            s.orientationRight,
            s.secondsPerPage.toFixed(2),
          ];
        }),
      ),
    );
    if (result.skew.tesseract)
      out.push('(tesseract: orientation only, from --psm 0 OSD; it reports no skew angle)');
  }
  if (result.denoise) {
    const d = result.denoise;
    const rows = [['input (noisy)', String(d.before.length), mean(d.before).toFixed(4), '-']];
    if (d.after.length > 0) {
      rows.push([
        'docpipe denoise',
        String(d.after.length),
        mean(d.after).toFixed(4),
        (d.seconds / d.pages).toFixed(2),
      ]);
    }
    out.push(table(['image', 'pages', 'mean RMSE', 's/page'], rows));
  }
  for (const note of result.notes) out.push(`  note: ${note}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

function jsonSet(result: SetResult): unknown {
  return {
    name: result.name,
    title: result.title,
    ...(result.text
      ? { text: Object.fromEntries(Object.entries(result.text).map(([k, v]) => [k, summarizeText(v)])) }
      : {}),
    ...(result.skew
      ? { skew: Object.fromEntries(Object.entries(result.skew).map(([k, v]) => [k, summarizeSkew(v)])) }
      : {}),
    ...(result.denoise
      ? {
          denoise: {
            pages: result.denoise.before.length,
            rmseInput: mean(result.denoise.before),
            ...(result.denoise.after.length > 0
              ? {
                  rmseDenoised: mean(result.denoise.after),
                  secondsPerPage: result.denoise.seconds / result.denoise.pages,
                }
              : {}),
          },
        }
      : {}),
    notes: result.notes,
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sets: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-baselines': { type: 'boolean', default: false },
      datasets: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const sets = (values.sets?.split(',').map((s) => s.trim()) ?? [...SETS]) as SetName[];
  const unknown = sets.filter((s) => !(SETS as readonly string[]).includes(s));
  if (unknown.length > 0) {
    process.stderr.write(`unknown set(s) ${unknown.join(', ')}; known: ${SETS.join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    process.stderr.write(`--limit must be a positive integer, got '${values.limit}'\n`);
    process.exitCode = 2;
    return;
  }
  const datasets = datasetRoot(values.datasets);
  const noBaselines = values['no-baselines'] === true;
  const tools = await findTools(!noBaselines);
  const pipeline = await loadPipeline();
  const work = mkdtempSync(join(tmpdir(), 'docpipe-bench-'));
  if (values.out !== undefined) mkdirSync(values.out, { recursive: true });
  const ctx: Context = {
    pipeline,
    tools,
    datasets,
    work,
    ...(limit === undefined ? {} : { limit }),
    ...(values.out === undefined ? {} : { out: values.out }),
  };

  const header = [
    '# docpipe quality benchmark',
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}`,
    `datasets: ${datasets}${existsSync(datasets) ? '' : ' (absent: only generated sets run)'}`,
    `tesseract: ${tools.tesseract ?? (noBaselines ? 'not run' : 'absent (apt-get install tesseract-ocr)')}`,
    `ocrmypdf: ${tools.ocrmypdf ?? (noBaselines ? 'not run' : 'absent (apt-get install ocrmypdf poppler-utils)')}`,
    ...(noBaselines ? ['baselines disabled (--no-baselines)'] : []),
    ...pipeline.notes.map((n) => `note: ${n}`),
    'CER/WER are micro-averaged (total edits / total reference length); "norm" = NFKC, case-folded, whitespace',
    'collapsed; raw CER ignores only blank lines and trailing spaces. bag F1 = order-insensitive word multiset F1.',
    'F1 joined = bag F1 after taking out spaces beside punctuation on both sides (FUNSD splits 407-64-3484 after',
    "each hyphen, SROIE writes DATE: for a printed 'Date :'): the ground truths' tokenisation, not recognition.",
  ];
  if (!values.json) process.stdout.write(`${header.join('\n')}\n`);

  // Warm-up: load the models once so the first page of the first set is not charged for it.
  const ocrSets: readonly SetName[] = ['gen-clean', 'gen-noisy', 'sroie', 'funsd'];
  if (pipeline.ocr && sets.some((set) => ocrSets.includes(set))) {
    progress('warming up (loading models)');
    const warm = await generatePage({ lines: ['Warm up line'], width: 600, height: 200, margin: 20 });
    await pipeline.ocr(warm.png, 'warm-up').catch(() => undefined);
  }

  const results: SetResult[] = [];
  const skipped: Record<string, string> = {};
  try {
    for (const name of sets) {
      progress(`set ${name}`);
      const started = performance.now();
      const result = await runSet(name, ctx);
      if (typeof result === 'string') {
        skipped[name] = result;
        if (!values.json) process.stdout.write(`\n## ${name}: skipped (${result})\n`);
        continue;
      }
      progress(`set ${name} done in ${seconds(started).toFixed(0)} s`);
      results.push(result);
      if (!values.json) printSet(result);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (values.json) {
    const doc = {
      createdAt: new Date().toISOString(),
      machine: { cores: cpus().length, node: process.version },
      datasets,
      tools: { tesseract: tools.tesseract ?? null, ocrmypdf: tools.ocrmypdf ?? null },
      pipelineNotes: pipeline.notes,
      sets: results.map(jsonSet),
      skipped,
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  }
}

await main();
