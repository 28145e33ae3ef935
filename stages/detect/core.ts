/**
 * Text detection: PP-OCRv4 DBNet (differentiable binarisation) on onnxruntime-node, with the DB
 * post-processing done here: probability map -> binary map -> connected components ->
 * minimum-area rotated rectangle -> box score -> unclip -> quad in page coordinates -> reading order.
 */
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { CorruptDocumentError } from '../shared/errors.ts';
import {
  clipQuad,
  minAreaRect,
  quadBounds,
  quadToRect,
  type RotatedRect,
  rectToQuad,
  rowOffset,
} from '../shared/geometry.ts';
import { logger } from '../shared/logger.ts';
import { getModelStore, type ModelStore } from '../shared/model-store.ts';
import type { DetectResult, Point, Quad, TextRegion } from '../shared/types.ts';
import { integerIn, numberIn, rejectUnknownKeys } from '../shared/validate.ts';

export interface DetectOptions {
  /**
   * Long side of the image the detector sees, rounded to a multiple of 32; or 'auto' (default):
   * chosen from the page size, see `chooseMaxSide`.
   */
  maxSide?: number | 'auto';
  /** Probability above which a map pixel counts as text (DB `thresh`). Default 0.3. */
  threshold?: number;
  /** Minimum mean probability inside a box to keep it (DB `box_thresh`). Default 0.5. */
  boxThreshold?: number;
  /** How far a box grows back from the shrunk text kernel: offset = area * ratio / perimeter. Default 1.6. */
  unclipRatio?: number;
  /** Boxes whose short side is below this many map pixels are noise. Default 3. */
  minSize?: number;
  /** At most this many boxes per page (largest first). Default 1000. */
  maxCandidates?: number;
}

export interface DetectDeps {
  models?: ModelStore;
}

export interface DbOptions {
  threshold: number;
  boxThreshold: number;
  unclipRatio: number;
  minSize: number;
  maxCandidates: number;
}

export interface DbBox {
  /** Quad clockwise from top-left, in probability-map pixels. */
  box: Quad;
  rect: RotatedRect;
  score: number;
}

const DEFAULTS: DbOptions = {
  threshold: 0.3,
  boxThreshold: 0.5,
  unclipRatio: 1.6,
  minSize: 3,
  maxCandidates: 1000,
};
const KNOWN = ['maxSide', 'threshold', 'boxThreshold', 'unclipRatio', 'minSize', 'maxCandidates'] as const;

/** Validates and fills in detection options; throws InvalidOption naming the parameter. */
export function resolveDetectOptions(options: DetectOptions = {}): DbOptions & { maxSide: number | 'auto' } {
  rejectUnknownKeys('detectText', options, KNOWN);
  const maxSide = options.maxSide ?? 'auto';
  if (maxSide !== 'auto') integerIn('maxSide', maxSide, 64, 8192);
  return {
    maxSide,
    threshold:
      options.threshold === undefined ? DEFAULTS.threshold : numberIn('threshold', options.threshold, 0, 1),
    boxThreshold:
      options.boxThreshold === undefined
        ? DEFAULTS.boxThreshold
        : numberIn('boxThreshold', options.boxThreshold, 0, 1),
    unclipRatio:
      options.unclipRatio === undefined
        ? DEFAULTS.unclipRatio
        : numberIn('unclipRatio', options.unclipRatio, 0, 10),
    minSize: options.minSize === undefined ? DEFAULTS.minSize : numberIn('minSize', options.minSize, 0, 1000),
    maxCandidates:
      options.maxCandidates === undefined
        ? DEFAULTS.maxCandidates
        : integerIn('maxCandidates', options.maxCandidates, 1, 100_000),
  };
}

/**
 * The detector's input size for a page, chosen from its pixel size (a stand-in for its DPI and
 * content). DBNet finds text best when characters are about 10-30 px tall in its input, and
 * merges neighbouring lines or drops faint ones when they are much smaller or larger:
 * - 300 DPI letter/A4 pages (~2500x3500): 1536, which keeps 9-10 pt text above 15 px
 *   (the calibration notes: CER 0.33% at 1536 against 0.90% at 960);
 * - 200-250 DPI pages: 1280;
 * - small page-shaped scans (FUNSD forms, ~760x1000, 8 pt text at under 100 DPI): upscaled to 1280;
 * - everything else, notably receipts (long narrow strips with big type): 960, PaddleOCR's default
 *   (on the SROIE dev half 960 beat 640 and 1280).
 */
export function chooseMaxSide(width: number, height: number): number {
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  if (long >= 3000) return 1536;
  if (long >= 2200 && long / short < 1.6) return 1280;
  if (long < 1200 && long / short < 1.6) return 1280;
  return 960;
}

function scaledSize(width: number, height: number, maxSide: number): { w: number; h: number } {
  const ratio = maxSide / Math.max(width, height);
  return {
    w: Math.max(32, Math.round((width * ratio) / 32) * 32),
    h: Math.max(32, Math.round((height * ratio) / 32) * 32),
  };
}

/**
 * DB post-processing on a probability map (row-major, `w` x `h`). Returns boxes in map pixels,
 * unclipped, with their box score; order is not meaningful.
 */
export function dbPostprocess(
  prob: Float32Array,
  w: number,
  h: number,
  opts: Partial<DbOptions> = {},
): DbBox[] {
  const o: DbOptions = { ...DEFAULTS, ...opts };
  const n = w * h;
  if (prob.length < n) throw new RangeError(`probability map has ${prob.length} values, expected ${n}`);
  // 0 = background, 1 = unvisited text, 2 = visited.
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (prob[i]! > o.threshold) mask[i] = 1;

  const stack = new Int32Array(n);
  const rowMin = new Int32Array(h);
  const rowMax = new Int32Array(h);
  const components: Array<{ points: Point[]; pixels: number }> = [];
  for (let start = 0; start < n; start++) {
    if (mask[start] !== 1) continue;
    // Flood fill (8-connected, like the outer contours DB traces with findContours).
    let top = 0;
    stack[top++] = start;
    mask[start] = 2;
    let y0 = h;
    let y1 = -1;
    let pixels = 0;
    while (top > 0) {
      const p = stack[--top]!;
      const y = (p / w) | 0;
      const x = p - y * w;
      pixels++;
      if (y < y0) {
        for (let r = y; r < (y1 < 0 ? y + 1 : y0); r++) {
          rowMin[r] = w;
          rowMax[r] = -1;
        }
        y0 = y;
      }
      if (y > y1) {
        for (let r = Math.max(y1 + 1, y0); r <= y; r++) {
          rowMin[r] = w;
          rowMax[r] = -1;
        }
        y1 = y;
      }
      if (x < rowMin[y]!) rowMin[y] = x;
      if (x > rowMax[y]!) rowMax[y] = x;
      const xl = x > 0 ? x - 1 : x;
      const xr = x < w - 1 ? x + 1 : x;
      const yt = y > 0 ? y - 1 : y;
      const yb = y < h - 1 ? y + 1 : y;
      for (let yy = yt; yy <= yb; yy++) {
        const row = yy * w;
        for (let xx = xl; xx <= xr; xx++) {
          const q = row + xx;
          if (mask[q] === 1) {
            mask[q] = 2;
            stack[top++] = q;
          }
        }
      }
    }
    // The hull of a component only depends on the extreme pixels of each row; use pixel corners.
    const points: Point[] = [];
    for (let r = y0; r <= y1; r++) {
      if (rowMax[r]! < 0) continue;
      points.push([rowMin[r]!, r], [rowMax[r]! + 1, r], [rowMin[r]!, r + 1], [rowMax[r]! + 1, r + 1]);
    }
    components.push({ points, pixels });
  }

  components.sort((a, b) => b.pixels - a.pixels);
  const boxes: DbBox[] = [];
  for (const component of components.slice(0, o.maxCandidates)) {
    const rect = minAreaRect(component.points);
    if (Math.min(rect.width, rect.height) < o.minSize) continue;
    const score = rectScore(prob, w, h, rect);
    if (score < o.boxThreshold) continue;
    // Vatti offset of a rectangle by d = A*r/L is the rectangle grown by d on every side.
    const perimeter = 2 * (rect.width + rect.height);
    const d = (rect.width * rect.height * o.unclipRatio) / perimeter;
    const grown: RotatedRect = { ...rect, width: rect.width + 2 * d, height: rect.height + 2 * d };
    if (Math.min(grown.width, grown.height) < o.minSize + 2) continue;
    boxes.push({ box: rectToQuad(grown), rect: grown, score });
  }
  return boxes;
}

/** Mean probability of the map pixels whose centres lie inside a rotated rectangle (DB "fast" score). */
function rectScore(prob: Float32Array, w: number, h: number, rect: RotatedRect): number {
  const ux = Math.cos(rect.angle);
  const uy = Math.sin(rect.angle);
  const hw = rect.width / 2;
  const hh = rect.height / 2;
  const ex = Math.abs(hw * ux) + Math.abs(hh * uy);
  const ey = Math.abs(hw * uy) + Math.abs(hh * ux);
  const x0 = Math.max(0, Math.floor(rect.cx - ex));
  const x1 = Math.min(w - 1, Math.ceil(rect.cx + ex));
  const y0 = Math.max(0, Math.floor(rect.cy - ey));
  const y1 = Math.min(h - 1, Math.ceil(rect.cy + ey));
  let sum = 0;
  let count = 0;
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - rect.cy;
    const row = y * w;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - rect.cx;
      const u = dx * ux + dy * uy;
      const v = -dx * uy + dy * ux;
      if (u >= -hw && u <= hw && v >= -hh && v <= hh) {
        sum += prob[row + x]!;
        count++;
      }
    }
  }
  return count === 0 ? 0 : sum / count;
}

/** Runs the detector and returns the text regions of a page image, in reading order. */
export async function detectText(
  png: Buffer,
  options: DetectOptions = {},
  deps: DetectDeps = {},
): Promise<DetectResult> {
  const opts = resolveDetectOptions(options);
  const log = logger.child({ stage: 'detect' });
  const started = performance.now();
  const models = deps.models ?? getModelStore();

  let width: number;
  let height: number;
  try {
    const meta = await sharp(png).metadata();
    width = meta.width;
    height = meta.height;
  } catch (error) {
    throw new CorruptDocumentError('The page image cannot be decoded', { cause: error });
  }
  const maxSide = opts.maxSide === 'auto' ? chooseMaxSide(width, height) : opts.maxSide;
  const { w, h } = scaledSize(width, height, maxSide);

  const { data, info } = await sharp(png)
    .resize(w, h, { fit: 'fill' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const tensor = detectorInput(data, w, h, info.channels);

  const session = await models.session('det');
  const inference = performance.now();
  const output = await session.run({
    [session.inputNames[0]!]: new ort.Tensor('float32', tensor, [1, 3, h, w]),
  });
  const prob = output[session.outputNames[0]!]!.data as Float32Array;
  const inferenceMs = performance.now() - inference;

  const boxes = dbPostprocess(prob, w, h, opts);
  const sx = width / w;
  const sy = height / h;
  const regions: TextRegion[] = boxes.map((b) => ({
    box: clipQuad(b.box.map(([x, y]) => [x * sx, y * sy]) as Quad, width, height),
    score: b.score,
  }));
  const ordered = readingOrder(regions);
  log.debug(
    {
      width,
      height,
      mapWidth: w,
      mapHeight: h,
      regions: ordered.length,
      inferenceMs: Math.round(inferenceMs),
    },
    'detected text regions',
  );
  log.debug({ ms: Math.round(performance.now() - started) }, 'detect done');
  return { width, height, regions: ordered };
}

/** NCHW float tensor in the detector's training layout: BGR channel order, ImageNet mean/std. */
function detectorInput(data: Uint8Array, w: number, h: number, channels: number): Float32Array {
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  // PaddleOCR reads images with OpenCV (BGR) and normalises channel 0 with the first mean/std.
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const scale = [1 / (255 * std[0]!), 1 / (255 * std[1]!), 1 / (255 * std[2]!)];
  const offset = [mean[0]! / std[0]!, mean[1]! / std[1]!, mean[2]! / std[2]!];
  for (let i = 0; i < plane; i++) {
    const p = i * channels;
    const r = data[p]!;
    const g = channels >= 3 ? data[p + 1]! : r;
    const b = channels >= 3 ? data[p + 2]! : r;
    out[i] = b * scale[0]! - offset[0]!;
    out[plane + i] = g * scale[1]! - offset[1]!;
    out[2 * plane + i] = r * scale[2]! - offset[2]!;
  }
  return out;
}

/** A candidate run of vertical text: the regions it is made of and the quad that reads it down the page. */
export interface VerticalRun {
  /** Indices into the regions it was found among, top to bottom. */
  members: number[];
  /** Clockwise from the top-left of the text read top to bottom: starts at the top right. */
  box: Quad;
  score: number;
}

/**
 * Vertical text (the serial number stamped up the margin of scanned forms) reaches detection as a
 * stack of one-character boxes, each wider than tall because the glyphs lie on their side, or as
 * one tall box. This finds such runs and the quad that reads each one down the page; the 0/180
 * classifier settles whether it runs up or down. They are only candidates: a column of square
 * glyphs in a tight table looks the same, so the recogniser reads both and keeps the better.
 */
export function findVerticalRuns(regions: readonly TextRegion[]): VerticalRun[] {
  if (regions.length === 0) return [];
  const bounds = regions.map((r) => quadBounds(r.box));
  const thickness = bounds.map((b) => Math.min(b.x1 - b.x0, b.y1 - b.y0)).sort((a, b) => a - b);
  const lineHeight = thickness[thickness.length >> 1] ?? 1;
  const run = (members: number[]): VerticalRun => {
    const x0 = Math.min(...members.map((i) => bounds[i]!.x0));
    const y0 = Math.min(...members.map((i) => bounds[i]!.y0));
    const x1 = Math.max(...members.map((i) => bounds[i]!.x1));
    const y1 = Math.max(...members.map((i) => bounds[i]!.y1));
    return {
      members,
      box: [
        [x1, y0],
        [x1, y1],
        [x0, y1],
        [x0, y0],
      ],
      score: members.reduce((sum, i) => sum + regions[i]!.score, 0) / members.length,
    };
  };
  const candidates = regions
    .map((_, i) => i)
    .filter((i) => {
      const w = bounds[i]!.x1 - bounds[i]!.x0;
      const h = bounds[i]!.y1 - bounds[i]!.y0;
      // One character on its side is at most ~1.6 times wider than tall; amounts ("0.00") stacked in a
      // column are wider still and stay rows. Specks do not join.
      return w <= 1.5 * lineHeight && w <= 1.8 * h && Math.max(w, h) >= 0.5 * lineHeight;
    })
    .sort((a, b) => bounds[a]!.y0 - bounds[b]!.y0);
  const chains: number[][] = [];
  for (const i of candidates) {
    const b = bounds[i]!;
    const cx = (b.x0 + b.x1) / 2;
    const w = b.x1 - b.x0;
    // Glyphs of one string touch or nearly (their unclipped boxes overlap); rows of a table do not.
    const chain = chains.find((c) => {
      const last = bounds[c.at(-1)!]!;
      const lw = last.x1 - last.x0;
      return (
        Math.abs((last.x0 + last.x1) / 2 - cx) <= 0.3 * Math.max(w, lw) &&
        Math.min(w, lw) >= 0.6 * Math.max(w, lw) &&
        b.y0 - last.y1 <= 0.2 * Math.max(w, lw)
      );
    });
    if (chain) chain.push(i);
    else chains.push([i]);
  }
  const runs: VerticalRun[] = [];
  const used = new Set<number>();
  for (const chain of chains) {
    if (chain.length < 2) continue;
    const candidate = run(chain);
    const [[x1, y0], , [x0, y1]] = candidate.box;
    const sideways = chain.filter(
      (i) => bounds[i]!.x1 - bounds[i]!.x0 >= 0.9 * (bounds[i]!.y1 - bounds[i]!.y0),
    );
    const tall = chain.some((i) => bounds[i]!.y1 - bounds[i]!.y0 >= 3 * (bounds[i]!.x1 - bounds[i]!.x0));
    if (y1 - y0 < 3 * (x1 - x0) || (sideways.length < 2 && !tall)) continue;
    for (const i of chain) used.add(i);
    runs.push(candidate);
  }
  regions.forEach((region, i) => {
    if (used.has(i)) return;
    const b = bounds[i]!;
    const w = b.x1 - b.x0;
    // One tall, upright box no thicker than a line: a whole vertical string found at once.
    if (b.y1 - b.y0 >= 3 * w && w <= 2.5 * lineHeight && Math.abs(quadToRect(region.box).angle) < 0.2) {
      runs.push(run([i]));
    }
  });
  return runs;
}

interface Item {
  region: TextRegion;
  /** Horizontal bounds in a frame turned by the page's dominant text angle. */
  x0: number;
  x1: number;
  /**
   * The line's own band in that frame: its centre, plus and minus half its own height. A line
   * tilted against the dominant angle (half of a book spread scanned askew) spans more rows than
   * its height, and its neighbours' extents would overlap it.
   */
  y0: number;
  y1: number;
  /** The line along its own axis, for `rowOffset`. */
  rect: RotatedRect;
}

/**
 * Orders regions for reading: split the page into horizontal bands at empty rows; runs of at least
 * three bands that share a vertical gutter, with text hugging it on both sides and lines long
 * enough for running text on each, are columns and are read one after the other (recursively);
 * everything else is read row by row, left to right, so the pieces of one visual line stay together
 * (receipts: item and price). Each line counts with its own height and angle, so a column still
 * tilted after the page was straightened (half of a book spread scanned askew) reads line by line.
 */
export function readingOrder(regions: readonly TextRegion[]): TextRegion[] {
  if (regions.length <= 1) return [...regions];
  // Dominant angle: width-weighted median of the regions' top-edge angles.
  const angles = regions
    .map((r) => {
      const [tl, tr] = r.box;
      return { a: Math.atan2(tr[1] - tl[1], tr[0] - tl[0]), w: Math.hypot(tr[0] - tl[0], tr[1] - tl[1]) };
    })
    .sort((p, q) => p.a - q.a);
  const total = angles.reduce((s, p) => s + p.w, 0);
  let acc = 0;
  let angle = 0;
  for (const p of angles) {
    acc += p.w;
    if (acc >= total / 2) {
      angle = p.a;
      break;
    }
  }
  const cos = Math.cos(-angle);
  const sin = Math.sin(-angle);
  const items: Item[] = regions.map((region) => {
    const xs = region.box.map(([x, y]) => x * cos - y * sin);
    const rect = quadToRect(region.box);
    const centre = rect.cx * sin + rect.cy * cos;
    return {
      region,
      x0: Math.min(...xs),
      x1: Math.max(...xs),
      y0: centre - rect.height / 2,
      y1: centre + rect.height / 2,
      rect,
    };
  });
  const heights = items.map((i) => i.y1 - i.y0).sort((a, b) => a - b);
  const medianHeight = heights[heights.length >> 1] ?? 1;
  return orderBlock(items, medianHeight, 0).map((i) => i.region);
}

function orderBlock(items: Item[], medianHeight: number, depth: number): Item[] {
  if (items.length <= 1 || depth > 20) return rowsOf(items);
  const bands = splitBands(items);
  const out: Item[] = [];
  let i = 0;
  while (i < bands.length) {
    const run = columnRun(bands, i, medianHeight);
    if (run) {
      const members = bands.slice(i, run.end).flat();
      const middle = (run.gap[0] + run.gap[1]) / 2;
      const left = members.filter((m) => (m.x0 + m.x1) / 2 < middle);
      const right = members.filter((m) => (m.x0 + m.x1) / 2 >= middle);
      out.push(...orderBlock(left, medianHeight, depth + 1), ...orderBlock(right, medianHeight, depth + 1));
      i = run.end;
    } else {
      out.push(...rowsOf(bands[i]!));
      i++;
    }
  }
  return out;
}

/** Splits items into bands separated by rows that no item covers (with a little overlap tolerated). */
function splitBands(items: Item[]): Item[][] {
  const sorted = [...items].sort((a, b) => a.y0 - b.y0);
  const bands: Item[][] = [];
  let current: Item[] = [];
  let bottom = Number.NEGATIVE_INFINITY;
  for (const item of sorted) {
    // Unclipped boxes of neighbouring lines overlap slightly; a quarter of the height is still a gap.
    const slack = (item.y1 - item.y0) * 0.25;
    if (current.length > 0 && item.y0 + slack >= bottom) {
      bands.push(current);
      current = [];
      bottom = Number.NEGATIVE_INFINITY;
    }
    current.push(item);
    bottom = Math.max(bottom, item.y1);
  }
  if (current.length > 0) bands.push(current);
  return bands;
}

/** Empty x-intervals inside a set of items' horizontal extent. */
function xGaps(items: Item[], minWidth: number): Array<[number, number]> {
  const sorted = [...items].sort((a, b) => a.x0 - b.x0);
  const gaps: Array<[number, number]> = [];
  let right = sorted[0]!.x1;
  for (const item of sorted.slice(1)) {
    if (item.x0 - right >= minWidth) gaps.push([right, item.x0]);
    right = Math.max(right, item.x1);
  }
  return gaps;
}

/**
 * From band `start`, the longest run of bands (at least 3) sharing a vertical gap whose sides look
 * like text columns: lines on the left end near the gap and lines on the right start at it.
 */
function columnRun(
  bands: Item[][],
  start: number,
  medianHeight: number,
): { end: number; gap: [number, number] } | undefined {
  // Boxes reach about a third of a line height past their ink on each side (unclip), so a gutter
  // of a line height between two columns' ink leaves half a line height between their boxes.
  const minGap = medianHeight * 0.5;
  let best: { end: number; gap: [number, number] } | undefined;
  for (const seed of xGaps(bands[start]!, minGap)) {
    let gap: [number, number] = seed;
    let end = start + 1;
    while (end < bands.length) {
      const next = bands[end]!;
      // Each item of the next band sits on one side of the gap (by its centre) and may narrow it.
      const middle = (gap[0] + gap[1]) / 2;
      let narrowed: [number, number] = gap;
      for (const m of next) {
        if ((m.x0 + m.x1) / 2 < middle) narrowed = [Math.max(narrowed[0], m.x1), narrowed[1]];
        else narrowed = [narrowed[0], Math.min(narrowed[1], m.x0)];
      }
      if (narrowed[1] - narrowed[0] < minGap) break;
      gap = narrowed;
      end++;
    }
    if (end - start < 3) continue;
    const members = bands.slice(start, end).flat();
    if (!looksLikeColumns(bands.slice(start, end), gap, medianHeight)) continue;
    if (members.length >= 4 && (!best || end > best.end)) best = { end, gap };
  }
  return best;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? Number.POSITIVE_INFINITY : s[s.length >> 1]!;
}

/** Median line length of a text column, at least, in line heights. */
const MIN_LINE_LENGTH = 8;

function looksLikeColumns(bands: Item[][], gap: [number, number], medianHeight: number): boolean {
  const leftEnds: number[] = [];
  const rightStarts: number[] = [];
  for (const band of bands) {
    const left = band.filter((m) => m.x1 <= gap[0]);
    const right = band.filter((m) => m.x0 >= gap[1]);
    if (left.length > 0) leftEnds.push(gap[0] - Math.max(...left.map((m) => m.x1)));
    if (right.length > 0) rightStarts.push(Math.min(...right.map((m) => m.x0)) - gap[1]);
  }
  if (leftEnds.length < 2 || rightStarts.length < 2) return false;
  // A gutter is narrow next to the columns it separates; the space between a receipt's labels and
  // its prices is wider than the prices.
  const members = bands.flat();
  const left = members.filter((m) => m.x1 <= gap[0]);
  const right = members.filter((m) => m.x0 >= gap[1]);
  const leftWidth = gap[0] - Math.min(...left.map((m) => m.x0));
  const rightWidth = Math.max(...right.map((m) => m.x1)) - gap[1];
  if (gap[1] - gap[0] > 0.5 * Math.min(leftWidth, rightWidth)) return false;
  // Most lines of a column of running text hold some 25 characters or more (a character is about a
  // third of a line box's height); the short pieces beside a gap on receipts and forms are prices,
  // fields and table cells, whose rows read across.
  const lineLength = (side: Item[]): number => median(side.map((m) => m.x1 - m.x0));
  if (Math.min(lineLength(left), lineLength(right)) < MIN_LINE_LENGTH * medianHeight) return false;
  // Ragged-right text ends within a few characters of the gutter; receipt labels end far from prices.
  return median(leftEnds) <= 2.5 * medianHeight && median(rightStarts) <= 0.5 * medianHeight;
}

/**
 * Items of one band as rows, each row left to right. An item joins the row whose longest line it
 * lies on (`rowOffset`), the nearest if several.
 */
function rowsOf(items: Item[]): Item[] {
  const centre = (i: Item): number => (i.y0 + i.y1) / 2;
  const sorted = [...items].sort((a, b) => centre(a) - centre(b));
  const rows: Array<{ items: Item[]; longest: Item }> = [];
  for (const item of sorted) {
    let target: (typeof rows)[number] | undefined;
    let nearest = 1;
    for (const row of rows) {
      const offset = rowOffset(row.longest.rect, item.rect);
      if (offset < nearest) {
        nearest = offset;
        target = row;
      }
    }
    if (target) {
      target.items.push(item);
      if (item.rect.width > target.longest.rect.width) target.longest = item;
    } else {
      rows.push({ items: [item], longest: item });
    }
  }
  rows.sort((a, b) => centre(a.longest) - centre(b.longest));
  return rows.flatMap((r) => r.items.sort((a, b) => a.x0 - b.x0));
}
