/**
 * Deskew: finds the skew angle (projection profiles, see skew.ts) and the 90-degree orientation of a
 * page and rotates it upright. Pure: PNG in, PNG and facts out.
 */
import sharp from 'sharp';
import { detectText } from '../detect/core.ts';
import { classifyLines } from '../recognize/core.ts';
import { logger } from '../shared/logger.ts';
import type { ModelStore } from '../shared/model-store.ts';
import {
  type DeskewResult,
  type Orientation,
  STRAIGHT_PAGE_REASON,
  type TextRegion,
} from '../shared/types.ts';
import { booleanOption, numberIn, rejectUnknownKeys } from '../shared/validate.ts';
import {
  classifierPieces,
  lineAxisFromRegions,
  lineShape,
  rotateQuad,
  turnQuad,
  type UpsideDownVote,
  voteUpsideDown,
} from './orientation.ts';
import {
  ARTIFACT_PNG,
  decodeRaw,
  type Gray,
  histogram,
  otsuThreshold,
  type RawImage,
  toGray,
} from './raster.ts';
import { estimateSkew, type LineAxis, lineProfile, type SkewEstimates } from './skew.ts';

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
/** Nor can a line angle be measured from fewer ink pixels than a few words' worth. */
const MIN_INK_PIXELS = 500;
/** Ink must be at least this many gray levels darker than paper to count as text. */
const MIN_CONTRAST = 40;
/**
 * Long side the detector sees for orientation: 10 pt type on A4 keeps an x-height of ~7 px, about
 * the least DB separates into lines (at 736 small type merged into boxes two lines tall).
 */
const ORIENTATION_DETECT_SIDE = 960;
/**
 * The classifier must be this sure (mean P(180) as read minus P(180) turned) before a page that
 * reads as upright is flipped: upside-down pages score 0.5-0.9, and most pages are upright, so weak
 * votes keep them. Pages on their side go by the vote alone (`turnsOver`).
 */
const MIN_FLIP_MARGIN = 0.25;
/** How many of the longest lines the 0/180 classifier votes on. */
const ORIENTATION_LINES = 8;

export function resolveDeskewOptions(options: DeskewOptions = {}): ResolvedOptions {
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
  /** Estimates along both line directions; absent when the page cannot be judged. */
  estimates?: SkewEstimates;
  /** Why the page cannot be judged. */
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
  if (dark === 0 || paper - darkSum / dark < MIN_CONTRAST) return { reason: 'no text found on the page' };
  const estimates = estimateSkew(small, { maxAngle, threshold });
  if (
    estimates === undefined ||
    estimates.inkFraction < MIN_INK_FRACTION ||
    estimates.inkPixels < MIN_INK_PIXELS
  ) {
    return { reason: 'too little text to measure the skew' };
  }
  return { estimates };
}

/**
 * The line direction the profiles alone support. Upright is the default: forms and monospaced
 * receipts have strong vertical structure (rules, aligned columns) too, so vertical wins only
 * when it is far sharper on both measures, as on a page lying on its side.
 */
export function profileAxis(estimates: SkewEstimates): LineAxis {
  const { h, v } = estimates;
  return v.score > 3 * h.score && v.peakRatio > 3 * h.peakRatio ? 'v' : 'h';
}

/**
 * True when the profiles alone show an upright page of horizontal lines, so the detector and line
 * classifier (~60% of the stage's CPU) need not run: lines across the page far sharper than down
 * it (the mirror of the rule that turns a page on its side), and most lines leaning clearly above
 * their x-height core, as Latin ascenders do. On the dev scans (receipts, forms, letters, books)
 * no page turned by 90, 180 or 270 degrees passes; upright pages of all-capitals, digits or
 * non-Latin script do not pass either and get the full check.
 */
export function plainlyUpright(estimates: SkewEstimates): boolean {
  const { h, v } = estimates;
  if (!(h.score > 3 * v.score && h.peakRatio > 3 * v.peakRatio)) return false;
  const shape = lineShape(lineProfile(estimates.points, h.angle, 'h', 1));
  // Calibrated on the dev scans: upside-down receipts and forms reach 8 lines leaning up, never 10.
  return (
    shape.up >= 10 && shape.up >= 4 * shape.down && shape.up >= 0.4 * shape.lines && shape.balance >= 0.3
  );
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
  const { estimates, reason } = analyseSkew(toGray(raw, factor), opts.maxAngle);
  const unchanged = { png, width: raw.width, height: raw.height };

  if (estimates === undefined) {
    log.debug({ reason }, 'page left alone');
    return {
      ...unchanged,
      angle: 0,
      orientation: 0,
      confidence: 0,
      applied: false,
      reason: reason ?? 'no text',
    };
  }

  let axis = profileAxis(estimates);
  let regions: TextRegion[] = [];
  const upright = opts.detectOrientation && plainlyUpright(estimates);
  if (upright) axis = 'h';
  if (opts.detectOrientation && !upright) {
    // Low resolution is plenty to see which way the lines run, and keeps this cheap.
    regions = (await detectText(png, { maxSide: ORIENTATION_DETECT_SIDE }, depsFor(deps))).regions;
    axis = lineAxisFromRegions(regions).axis ?? axis;
  }
  const chosen = estimates[axis];
  const angle = Math.round(chosen.angle * 1000) / 1000;
  const confidence = chosen.confidence;
  if (confidence < opts.minConfidence) {
    const why = `skew estimate not reliable enough (confidence ${confidence} < ${opts.minConfidence})`;
    return { ...unchanged, angle, orientation: 0, confidence, applied: false, reason: why };
  }

  // sharp rotates clockwise; content tilted counter-clockwise by `angle` comes straight after a
  // clockwise turn by the same amount. Lines running down the page need a quarter turn more (90
  // now; 270 if the classifier then finds them upside down). One resampling for both.
  const skewApplied = Math.abs(angle) >= opts.minAngle;
  const base: Orientation = axis === 'v' ? 90 : 0;
  const turn = base + (skewApplied ? angle : 0);
  let out = turn === 0 ? unchanged : await rotatePage(raw, turn, raw.channels);
  let orientation: Orientation = base;

  if (opts.detectOrientation && regions.length > 0) {
    // Pieces are cut in the turned page, where lines run left to right and boxes start top-left.
    // The detector finds Latin lines running down a page poorly (boxes merge across lines), so a
    // sideways page is detected again once turned; otherwise the boxes are just carried along.
    const turnedRegions =
      base === 90
        ? (await detectText(out.png, { maxSide: ORIENTATION_DETECT_SIDE }, depsFor(deps))).regions
        : regions.map((r) => ({
            ...r,
            box: rotateQuad(r.box, turn, raw.width, raw.height, out.width, out.height),
          }));
    const pieces = classifierPieces(turnedRegions, ORIENTATION_LINES, 3);
    // One call: classifyLines decodes the page once for all crops.
    const both = await classifyLines(
      out.png,
      [...pieces, ...pieces.map(turnQuad)].map((box) => ({ box, score: 1 })),
      depsFor(deps),
    );
    const asIs = both.slice(0, pieces.length);
    const turned = both.slice(pieces.length);
    const vote = voteUpsideDown(asIs, turned);
    log.debug({ pieces: pieces.length, ...vote }, 'orientation vote');
    if (turnsOver(base, vote)) {
      out = await rotatePage(out.png, 180, raw.channels);
      orientation = base === 0 ? 180 : 270;
    }
  }

  if (out === unchanged) {
    return {
      ...unchanged,
      angle,
      orientation,
      confidence,
      applied: false,
      reason: `${STRAIGHT_PAGE_REASON} ${opts.minAngle} degrees`,
    };
  }
  log.debug(
    { angle, orientation, confidence, upright, ms: Math.round(performance.now() - started) },
    'deskewed',
  );
  return { ...out, angle, orientation, confidence, applied: true };
}

/**
 * Whether the 0/180 vote turns the page a half turn further. Upright pages are the rule, so a page
 * read as upright needs a clear vote to be flipped. A page lying on its side is as likely turned one
 * way as the other, so there the vote alone picks 90 or 270. With the margin asked of sideways pages
 * too, one of the 160 dev receipts and forms turned a quarter either way came out upside down (a faint
 * receipt, margin 0.235); with the vote alone none did, and no other sideways page voted within 0.25
 * of even but one at -0.19 (`test/bench/README.md`).
 */
export function turnsOver(base: Orientation, vote: UpsideDownVote): boolean {
  return vote.upsideDown && (base === 90 || vote.margin >= MIN_FLIP_MARGIN);
}

function depsFor(deps: DeskewDeps): { models?: ModelStore } {
  return deps.models === undefined ? {} : { models: deps.models };
}

async function rotatePage(
  page: Buffer | RawImage,
  clockwise: number,
  channels: number,
): Promise<{ png: Buffer; width: number; height: number }> {
  const turn = ((clockwise % 360) + 360) % 360;
  // The decoded pixels when we have them: decoding the PNG again costs ~35 ms on a 300 DPI page.
  const input = Buffer.isBuffer(page)
    ? sharp(page)
    : sharp(page.data, {
        raw: { width: page.width, height: page.height, channels: page.channels as 1 | 2 | 3 | 4 },
      });
  // Gray pages stay gray (sharp would otherwise write sRGB).
  const pipeline = channels <= 2 ? input.toColourspace('b-w') : input;
  if (turn % 90 === 0) {
    pipeline.rotate(turn);
  } else {
    pipeline.rotate(turn, { background: '#ffffff' });
  }
  const { data, info } = await pipeline.png(ARTIFACT_PNG).toBuffer({ resolveWithObject: true });
  return { png: data, width: info.width, height: info.height };
}
