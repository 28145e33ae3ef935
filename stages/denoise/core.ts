/**
 * Denoise: flattens uneven paper (shadows, stains, yellowing), stretches contrast and drops specks,
 * keeping gray levels (the recogniser reads anti-aliased gray better than hard black and white).
 *
 * Background model, per page, at a scale where text strokes are ~2 px wide:
 *  - paper level: a wide median (~15 stroke widths), which ignores text;
 *  - local level: a gray closing of radius ~1.5 stroke widths, which removes text strokes but keeps
 *    anything wider (stains, creases, shaded boxes).
 * Where the closing is not much darker than the paper (a stain, not a solid dark shape) it is the
 * background, so stains divide out to white and the text on them stays dark; elsewhere the paper
 * level is, so bold shapes and filled areas keep their ink.
 */
import sharp from 'sharp';
import { ARTIFACT_PNG, decodeRaw, type Gray, histogram, otsuThreshold, toGray } from '../deskew/raster.ts';
import { logger } from '../shared/logger.ts';
import type { DenoiseResult } from '../shared/types.ts';
import { booleanOption, numberIn, rejectUnknownKeys } from '../shared/validate.ts';
import { closing, divideByBackground, removeSmallComponents, strokeWidth, upsample } from './filters.ts';

export interface DenoiseOptions {
  /** 0..1: blend between the input (0) and the full clean-up (1). Default 1. */
  strength?: number;
  /** Remove isolated specks much smaller than a text stroke. Default true. */
  removeSpecks?: boolean;
  /** Output pure black and white instead of gray. Default false. */
  binarize?: boolean;
}

interface ResolvedOptions {
  strength: number;
  removeSpecks: boolean;
  binarize: boolean;
}

const KNOWN = ['strength', 'removeSpecks', 'binarize'] as const;

/**
 * Contrast stretch of the normalised page (pixel / background): at or below INK_LEVEL is black, at
 * or above PAPER_LEVEL white. Per-page levels (from the ink class median) were tried: they darken
 * anti-aliased edges and doubled the DDD error, so the levels are fixed.
 */
const INK_LEVEL = 0.15;
const PAPER_LEVEL = 0.9;
/** A closing darker than this fraction of the paper level is ink (bold strokes, fills), not a stain. */
const STAIN_LIMIT = 0.45;
/** Background never drops below this fraction of the page's paper level (keeps white-on-black text). */
const BACKGROUND_FLOOR = 0.5;

export function resolveDenoiseOptions(options: DenoiseOptions = {}): ResolvedOptions {
  rejectUnknownKeys('denoisePage', options, KNOWN);
  return {
    strength: options.strength === undefined ? 1 : numberIn('strength', options.strength, 0, 1),
    removeSpecks:
      options.removeSpecks === undefined ? true : booleanOption('removeSpecks', options.removeSpecks),
    binarize: options.binarize === undefined ? false : booleanOption('binarize', options.binarize),
  };
}

export interface CleanStats {
  strokeWidth: number;
  paperLevel: number;
  specksRemoved: number;
}

/** The clean-up on a decoded gray page; `gray.data` is not modified. */
export async function cleanGray(
  gray: Gray,
  opts: ResolvedOptions,
): Promise<{ image: Gray; stats: CleanStats }> {
  const { width, height } = gray;
  const hist = histogram(gray.data);
  const threshold = otsuThreshold(hist);
  const paperLevel = Math.max(1, percentile(hist, gray.data.length, 0.9));
  const stroke = Math.max(1, Math.min(40, strokeWidth(gray, threshold)));

  // Work where strokes are ~2 px: finer wastes time, coarser merges strokes with stains.
  const factor = Math.max(1, Math.floor(stroke / 2));
  const small = factor === 1 ? gray : toGray({ ...gray, channels: 1 }, factor);
  const radius = Math.max(2, Math.round((1.5 * stroke) / factor));
  const local = closing(small, radius);
  const paper = await paperBackground(small, (15 * stroke) / factor);

  const floor = BACKGROUND_FLOOR * paperLevel;
  const bgSmall = new Uint8Array(small.data.length);
  for (let i = 0; i < bgSmall.length; i++) {
    const c = local.data[i]!;
    const p = paper[i]!;
    const b = c > STAIN_LIMIT * p ? c : p;
    bgSmall[i] = Math.max(b, floor);
  }
  const lut = new Uint8Array(256);
  for (let r = 0; r < 256; r++) {
    const n = (r / 255 - INK_LEVEL) / (PAPER_LEVEL - INK_LEVEL);
    lut[r] = Math.round(255 * Math.min(1, Math.max(0, n)));
  }
  // The page divided by its background (255 is paper, ink keeps its contrast to the paper around
  // it), through the contrast stretch.
  const out = divideByBackground(
    gray,
    { data: bgSmall, width: small.width, height: small.height },
    factor,
    lut,
  );
  const keep = 1 - opts.strength;
  if (keep > 0)
    for (let i = 0; i < out.length; i++) out[i] = (keep * gray.data[i]! + opts.strength * out[i]! + 0.5) | 0;
  const image = { data: out, width, height };
  let specksRemoved = 0;
  if (opts.removeSpecks && opts.strength > 0) {
    // A speck is well under a stroke's square (full stops, colons and i-dots are about one) and
    // stands three strokes clear of anything visible. On receipts, removing stroke-sized dots took
    // colons and broken thermal-print stems with them.
    const maxArea = Math.max(1, Math.floor((stroke * stroke) / 3));
    specksRemoved = removeSmallComponents(image, 128, maxArea, 3 * stroke);
  }
  if (opts.binarize) {
    const t = otsuThreshold(histogram(out));
    for (let i = 0; i < out.length; i++) out[i] = out[i]! <= t ? 0 : 255;
  }
  return { image, stats: { strokeWidth: stroke, paperLevel, specksRemoved } };
}

/** Wide median of the page on a grid coarse enough for a 9-tap median, brought back to `small`'s grid. */
async function paperBackground(small: Gray, window: number): Promise<Uint8Array> {
  const taps = 9;
  const reduce = Math.max(1, Math.round(window / taps));
  const coarse = reduce === 1 ? small : toGray({ ...small, channels: 1 }, reduce);
  // Odd, and no wider than the image (sharp rejects a larger window).
  const size = Math.min(
    taps,
    Math.min(coarse.width, coarse.height) - (Math.min(coarse.width, coarse.height) % 2 === 0 ? 1 : 0),
  );
  if (size < 3)
    return new Uint8Array(small.data.length).fill(percentile(histogram(small.data), small.data.length, 0.9));
  const median = await sharp(coarse.data, {
    raw: { width: coarse.width, height: coarse.height, channels: 1 },
  })
    .median(size)
    .raw()
    .toBuffer();
  const grid: Gray = {
    data: new Uint8Array(median.buffer, median.byteOffset, median.length),
    width: coarse.width,
    height: coarse.height,
  };
  return upsample(grid, reduce, small.width, small.height);
}

function percentile(hist: Uint32Array, total: number, q: number): number {
  const target = total * q;
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += hist[v]!;
    if (seen >= target) return v;
  }
  return 255;
}

/** Cleans one page image; always returns an 8-bit gray PNG of the same size. */
export async function denoisePage(png: Buffer, options: DenoiseOptions = {}): Promise<DenoiseResult> {
  const opts = resolveDenoiseOptions(options);
  const log = logger.child({ stage: 'denoise' });
  const started = performance.now();
  const raw = await decodeRaw(png);
  const { image, stats } = await cleanGray(toGray(raw), opts);
  // Without toColourspace sharp writes one-band raw input as sRGB.
  const encoded = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 1 } })
    .toColourspace('b-w')
    .png(ARTIFACT_PNG)
    .toBuffer();
  const ms = Math.round(performance.now() - started);
  log.debug({ ...stats, ms }, 'denoised');
  return { png: encoded, width: image.width, height: image.height, stats: { ...stats, ms } };
}
