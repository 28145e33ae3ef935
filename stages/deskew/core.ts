/**
 * Deskew: finds the skew angle (projection profiles, see skew.ts) and the 90-degree orientation of a
 * page and rotates it upright. Pure: PNG in, PNG and facts out.
 */
import sharp from 'sharp';
import { logger } from '../shared/logger.ts';
import type { ModelStore } from '../shared/model-store.ts';
import type { DeskewResult, Orientation } from '../shared/types.ts';
import { booleanOption, invalidParameter, numberIn, rejectUnknownKeys } from '../shared/validate.ts';
import { decodeRaw, type Gray, histogram, otsuThreshold, toGray } from './raster.ts';
import { estimateSkew, type LineAxis } from './skew.ts';

export interface DeskewOptions {
  /** Largest skew searched, degrees (0..45). Default 45. */
  maxAngle?: number;
  /** Skews smaller than this (degrees) are left alone: resampling blurs more than it helps. Default 0.05. */
  minAngle?: number;
  /** Also find 90/180/270-degree orientation and turn the page upright. Default true. */
  detectOrientation?: boolean;
  /** Below this confidence (0..1) the page is left as it is. Default 0.3. */
  minConfidence?: number;
}

export interface DeskewDeps {
  models?: ModelStore;
}

interface ResolvedOptions {
  maxAngle: number;
  minAngle: number;
  detectOrientation: boolean;
  minConfidence: number;
}

const KNOWN = ['maxAngle', 'minAngle', 'detectOrientation', 'minConfidence'] as const;

/** Long side of the image the angle is measured on: ~150 DPI for A4, enough for 0.02-degree steps. */
const ANALYSIS_SIDE = 1600;
/** Fewer ink pixels than this fraction of the analysis image: blank, or a few specks. */
const MIN_INK_FRACTION = 0.0005;
/** Ink must be at least this many gray levels darker than paper to count as text. */
const MIN_CONTRAST = 40;

export function resolveDeskewOptions(options: DeskewOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw invalidParameter('options', 'an object', options);
  rejectUnknownKeys('deskewPage', options, KNOWN);
  const maxAngle = options.maxAngle === undefined ? 45 : numberIn('maxAngle', options.maxAngle, 0, 45);
  const minAngle = options.minAngle === undefined ? 0.05 : numberIn('minAngle', options.minAngle, 0, 45);
  const detectOrientation =
    options.detectOrientation === undefined
      ? true
      : booleanOption('detectOrientation', options.detectOrientation);
  const minConfidence =
    options.minConfidence === undefined ? 0.3 : numberIn('minConfidence', options.minConfidence, 0, 1);
  return { maxAngle, minAngle, detectOrientation, minConfidence };
}

/** What the analysis found, before anything is rotated. */
export interface SkewAnalysis {
  angle: number;
  axis: LineAxis;
  confidence: number;
  /** Set when the page cannot be judged. */
  reason?: string;
}

/** Measures the skew of a decoded gray page (any size; it is reduced here). */
export function analyseSkew(gray: Gray, maxAngle: number): SkewAnalysis {
  const factor = Math.max(1, Math.round(Math.max(gray.width, gray.height) / ANALYSIS_SIDE));
  const small = factor === 1 ? gray : toGray({ ...gray, channels: 1 }, factor);
  const hist = histogram(small.data);
  const threshold = otsuThreshold(hist);
  const paper = percentile(hist, small.data.length, 0.9);
  let dark = 0;
  let darkSum = 0;
  for (let v = 0; v <= threshold; v++) {
    dark += hist[v]!;
    darkSum += v * hist[v]!;
  }
  if (dark === 0 || paper - darkSum / dark < MIN_CONTRAST) {
    return { angle: 0, axis: 'h', confidence: 0, reason: 'no text found on the page' };
  }
  const estimate = estimateSkew(small, { maxAngle, threshold });
  if (estimate === undefined || estimate.inkFraction < MIN_INK_FRACTION) {
    return { angle: 0, axis: 'h', confidence: 0, reason: 'too little text to measure the skew' };
  }
  return { angle: estimate.angle, axis: estimate.axis, confidence: estimate.confidence };
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

/** Straightens a page: skew angle, then (optionally) 90/180/270-degree orientation. */
export async function deskewPage(
  png: Buffer,
  options: DeskewOptions = {},
  deps: DeskewDeps = {},
): Promise<DeskewResult> {
  const opts = resolveDeskewOptions(options);
  const log = logger.child({ stage: 'deskew' });
  const started = performance.now();
  const raw = await decodeRaw(png);
  const factor = Math.max(1, Math.round(Math.max(raw.width, raw.height) / ANALYSIS_SIDE));
  const analysis = analyseSkew(toGray(raw, factor), opts.maxAngle);
  const unchanged = { png, width: raw.width, height: raw.height };
  const round = (v: number) => Math.round(v * 1000) / 1000;

  if (analysis.reason !== undefined) {
    log.debug({ reason: analysis.reason }, 'page left alone');
    return { ...unchanged, angle: 0, orientation: 0, confidence: 0, applied: false, reason: analysis.reason };
  }
  const angle = round(analysis.angle);
  if (analysis.confidence < opts.minConfidence) {
    const reason = `skew estimate not reliable enough (confidence ${analysis.confidence} < ${opts.minConfidence})`;
    return { ...unchanged, angle, orientation: 0, confidence: analysis.confidence, applied: false, reason };
  }

  let orientation: Orientation = 0;
  if (opts.detectOrientation) {
    orientation = await findOrientation(png, analysis, deps);
  }
  const skewApplied = Math.abs(angle) >= opts.minAngle;
  if (!skewApplied && orientation === 0) {
    return {
      ...unchanged,
      angle,
      orientation,
      confidence: analysis.confidence,
      applied: false,
      reason: `skew below ${opts.minAngle} degrees`,
    };
  }
  // sharp rotates clockwise; content tilted counter-clockwise by `angle` comes straight after a
  // clockwise turn by the same amount. One resampling for both turns.
  const clockwise = orientation + (skewApplied ? angle : 0);
  const rotated = await rotatePage(png, clockwise, raw.channels);
  log.debug(
    { angle, orientation, confidence: analysis.confidence, ms: Math.round(performance.now() - started) },
    'deskewed',
  );
  return { ...rotated, angle, orientation, confidence: analysis.confidence, applied: true };
}

/**
 * Chooses the clockwise quarter turn that makes the text upright. Text lines running down the page
 * need 90 or 270.
 */
async function findOrientation(
  _png: Buffer,
  analysis: SkewAnalysis,
  _deps: DeskewDeps,
): Promise<Orientation> {
  return analysis.axis === 'v' ? 90 : 0;
}

async function rotatePage(
  png: Buffer,
  clockwise: number,
  channels: number,
): Promise<{ png: Buffer; width: number; height: number }> {
  const turn = ((clockwise % 360) + 360) % 360;
  // Gray pages stay gray (sharp would otherwise write sRGB).
  const pipeline = channels <= 2 ? sharp(png).toColourspace('b-w') : sharp(png);
  if (turn % 90 === 0) {
    pipeline.rotate(turn);
  } else {
    pipeline.rotate(turn, { background: '#ffffff' });
  }
  const { data, info } = await pipeline.png({ compressionLevel: 4 }).toBuffer({ resolveWithObject: true });
  return { png: data, width: info.width, height: info.height };
}
