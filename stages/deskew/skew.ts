import type { Gray } from './raster.ts';

/**
 * Skew estimation by projection profiles (Postl's method): for a candidate angle, every ink pixel
 * votes into the bin of its coordinate across the text-line direction; when the angle matches the
 * lines, the profile alternates sharply between full bins (lines) and empty ones (leading). The
 * sharpness measure is the sum of squared differences of neighbouring bins, which rewards
 * alternation and, unlike the plain variance, is not dominated by large solid blobs.
 *
 * Only the ink pixel list is rotated (a multiply-add per pixel and angle), never the image, and
 * the search runs coarse-to-fine over an image pyramid.
 */

/** Ink samples: block centres with the number of ink pixels in the block as weight. */
export interface InkPoints {
  x: Float32Array;
  y: Float32Array;
  w: Float32Array;
  count: number;
  /** Sum of weights: ink pixels at the source resolution. */
  ink: number;
  /** Extent of the sampled image, in source pixels. */
  width: number;
  height: number;
}

/** 'h': text lines run across (orientation 0 or 180); 'v': they run down (90 or 270). */
export type LineAxis = 'h' | 'v';

/**
 * Collects ink pixels (value <= threshold) into blocks of `block` x `block` pixels. Blocks keep
 * their ink count as a weight so a coarse level still sees line density.
 */
export function inkPoints(gray: Gray, threshold: number, block: number): InkPoints {
  const { data, width, height } = gray;
  const bw = Math.ceil(width / block);
  const bh = Math.ceil(height / block);
  const counts = new Uint32Array(bw * bh);
  let ink = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const brow = ((y / block) | 0) * bw;
    for (let x = 0; x < width; x++) {
      if (data[row + x]! <= threshold) {
        counts[brow + ((x / block) | 0)]!++;
        ink++;
      }
    }
  }
  let count = 0;
  for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) count++;
  const xs = new Float32Array(count);
  const ys = new Float32Array(count);
  const ws = new Float32Array(count);
  let k = 0;
  const half = (block - 1) / 2;
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      const c = counts[by * bw + bx]!;
      if (c === 0) continue;
      xs[k] = bx * block + half;
      ys[k] = by * block + half;
      ws[k] = c;
      k++;
    }
  }
  return { x: xs, y: ys, w: ws, count, ink, width, height };
}

/**
 * Profile sharpness at `angleDeg` for lines along `axis`. `binSize` is in source pixels; votes are
 * split linearly between the two nearest bins so the score is smooth in the angle (needed for a
 * sub-step peak fit).
 */
export function profileScore(
  points: InkPoints,
  angleDeg: number,
  axis: LineAxis,
  binSize: number,
  scratch?: Float64Array,
): number {
  const a = (angleDeg * Math.PI) / 180;
  const s = Math.sin(a);
  const c = Math.cos(a);
  // h: t = x sin a + y cos a is constant along a line tilted a counter-clockwise (y down).
  // v: t = x cos a - y sin a is constant along the same line turned by 90 degrees.
  const kx = axis === 'h' ? s : c;
  const ky = axis === 'h' ? c : -s;
  const { width, height } = points;
  const tMin = Math.min(0, kx * width) + Math.min(0, ky * height) - binSize;
  const tMax = Math.max(0, kx * width) + Math.max(0, ky * height) + binSize;
  const bins = Math.ceil((tMax - tMin) / binSize) + 2;
  const h = scratch !== undefined && scratch.length >= bins ? scratch : new Float64Array(bins);
  h.fill(0, 0, bins);
  const inv = 1 / binSize;
  const ax = kx * inv;
  const ay = ky * inv;
  const a0 = -tMin * inv;
  const { x, y, w, count } = points;
  for (let i = 0; i < count; i++) {
    const f = x[i]! * ax + y[i]! * ay + a0;
    const j = f | 0;
    const frac = f - j;
    const wi = w[i]!;
    h[j] = h[j]! + wi * (1 - frac);
    h[j + 1] = h[j + 1]! + wi * frac;
  }
  let score = 0;
  let prev = 0;
  for (let j = 0; j < bins; j++) {
    const v = h[j]!;
    const d = v - prev;
    score += d * d;
    prev = v;
  }
  return score;
}

interface Candidate {
  angle: number;
  axis: LineAxis;
  score: number;
}

function scan(
  points: InkPoints,
  axis: LineAxis,
  lo: number,
  hi: number,
  step: number,
  binSize: number,
  limit: number,
): Candidate[] {
  const from = Math.max(-limit, lo);
  const to = Math.min(limit, hi);
  const n = Math.max(1, Math.round((to - from) / step));
  const scratch = new Float64Array(Math.ceil((points.width + points.height) / binSize) + 8);
  const out: Candidate[] = [];
  for (let i = 0; i <= n; i++) {
    const angle = from + ((to - from) * i) / n;
    out.push({ angle, axis, score: profileScore(points, angle, axis, binSize, scratch) });
  }
  return out;
}

/** Local maxima of a scan, best first. */
function peaks(scanned: Candidate[], keep: number): Candidate[] {
  const out: Candidate[] = [];
  for (let i = 0; i < scanned.length; i++) {
    const c = scanned[i]!;
    const l = scanned[i - 1]?.score ?? -1;
    const r = scanned[i + 1]?.score ?? -1;
    if (c.score >= l && c.score >= r) out.push(c);
  }
  return out.sort((p, q) => q.score - p.score).slice(0, keep);
}

/** Vertex of the parabola through three equally spaced samples, as an offset in steps (-0.5..0.5). */
function parabolicOffset(l: number, m: number, r: number): number {
  const denom = l - 2 * m + r;
  if (denom >= 0) return 0;
  return Math.max(-0.5, Math.min(0.5, (0.5 * (l - r)) / denom));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1] ?? 0;
}

export interface EstimateOptions {
  /** Largest |angle| searched, degrees. */
  maxAngle: number;
  /** Ink threshold on the gray image: pixels <= it are ink. */
  threshold: number;
}

/**
 * Paints solid dark areas white: the scanner bed around a receipt, black borders, photos, colour
 * bars. Their long straight edges would otherwise outvote the text lines (and often run at right
 * angles to them). A cell of about 2.5 x-heights is solid when most of it is ink, which text,
 * even bold, never is; the neighbouring cells go too, since a solid area's edge cells are partial.
 */
export function maskSolid(gray: Gray, threshold: number): { gray: Gray; solidFraction: number } {
  const { data, width, height } = gray;
  const cell = Math.max(4, Math.round(Math.max(width, height) / 200));
  const cols = Math.ceil(width / cell);
  const rows = Math.ceil(height / cell);
  const counts = new Uint32Array(cols * rows);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const crow = ((y / cell) | 0) * cols;
    for (let x = 0; x < width; x++) if (data[row + x]! <= threshold) counts[crow + ((x / cell) | 0)]!++;
  }
  const limit = 0.6 * cell * cell;
  const solid = new Uint8Array(cols * rows);
  let any = 0;
  for (let cy = 0; cy < rows; cy++) {
    for (let cx = 0; cx < cols; cx++) {
      if (counts[cy * cols + cx]! <= limit) continue;
      any++;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = cy + dy;
          const xx = cx + dx;
          if (yy >= 0 && yy < rows && xx >= 0 && xx < cols) solid[yy * cols + xx] = 1;
        }
      }
    }
  }
  if (any === 0) return { gray, solidFraction: 0 };
  const out = data.slice();
  let masked = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const crow = ((y / cell) | 0) * cols;
    for (let cx = 0; cx < cols; cx++) {
      if (solid[crow + cx] === 0) continue;
      const x1 = Math.min(width, (cx + 1) * cell);
      out.fill(255, row + cx * cell, row + x1);
      masked += x1 - cx * cell;
    }
  }
  return { gray: { data: out, width, height }, solidFraction: masked / (width * height) };
}

/** The best skew along one line direction. */
export interface AxisEstimate {
  axis: LineAxis;
  /** Counter-clockwise skew of the lines in degrees, y axis down. */
  angle: number;
  /** Coarse-level profile sharpness at the best angle (comparable between the two axes). */
  score: number;
  /** Best coarse score over the median over all coarse angles (1 = flat profile). */
  peakRatio: number;
  /** 0..1 from the peak ratio and the amount of ink. */
  confidence: number;
}

export interface SkewEstimates {
  h: AxisEstimate;
  v: AxisEstimate;
  /** Ink pixels (outside solid areas) over all pixels of the analysed image. */
  inkFraction: number;
  /** Ink pixels (outside solid areas) in the analysed image. */
  inkPixels: number;
  /** The ink the angles were measured on (analysis resolution, solid areas masked). */
  points: InkPoints;
}

/**
 * Estimates the skew of `page` (already reduced to about 1000-2000 px on the long side) along both
 * line directions. Returns undefined when there is no ink at all.
 */
export function estimateSkew(page: Gray, options: EstimateOptions): SkewEstimates | undefined {
  const { gray } = maskSolid(page, options.threshold);
  const longSide = Math.max(gray.width, gray.height);
  // Level sizes chosen so a 300 DPI line (x-height ~25 px at full size) still spans a few bins.
  const coarseBlock = Math.max(1, Math.round(longSide / 300));
  const midBlock = Math.max(1, Math.round(longSide / 800));
  const fine = inkPoints(gray, options.threshold, 1);
  if (fine.ink === 0) return undefined;
  const coarse = coarseBlock === 1 ? fine : inkPoints(gray, options.threshold, coarseBlock);
  const mid = midBlock === 1 ? fine : inkPoints(gray, options.threshold, midBlock);
  const inkFraction = fine.ink / (gray.width * gray.height);
  const max = options.maxAngle;
  const coarseStep = 0.5;

  const refine = (axis: LineAxis): AxisEstimate => {
    const coarseScan = scan(coarse, axis, -max, max, coarseStep, coarseBlock, max);
    const top = peaks(coarseScan, 3);
    const score = top[0]!.score;
    const peakRatio = score / Math.max(1e-9, median(coarseScan.map((c) => c.score)));
    // Mid level: refine the best few coarse peaks, so a strong but wrong coarse peak (a table
    // rule, a photo edge) cannot hide the true one.
    let best: Candidate | undefined;
    for (const p of top) {
      const refined = peaks(
        scan(mid, axis, p.angle - 2 * coarseStep, p.angle + 2 * coarseStep, 0.1, midBlock, max),
        1,
      )[0]!;
      if (best === undefined || refined.score > best.score) best = refined;
    }
    // Fine level: dense scan at full analysis resolution around the mid peak, then a parabola
    // through the top sample and its neighbours.
    const fineScan = scan(fine, axis, best!.angle - 0.14, best!.angle + 0.14, 0.02, 1, max);
    let t = 0;
    for (let i = 1; i < fineScan.length; i++) if (fineScan[i]!.score > fineScan[t]!.score) t = i;
    let angle = fineScan[t]!.angle;
    const fineStep = fineScan.length > 1 ? fineScan[1]!.angle - fineScan[0]!.angle : 0;
    if (t > 0 && t < fineScan.length - 1) {
      angle += fineStep * parabolicOffset(fineScan[t - 1]!.score, fineScan[t]!.score, fineScan[t + 1]!.score);
    }
    return { axis, angle, score, peakRatio, confidence: confidenceFrom(peakRatio, inkFraction) };
  };
  return { h: refine('h'), v: refine('v'), inkFraction, inkPixels: fine.ink, points: fine };
}

function confidenceFrom(peakRatio: number, inkFraction: number): number {
  // A clear text page has a peak several times the typical score; 1.0 means a flat profile.
  const sharp = Math.min(1, Math.max(0, (peakRatio - 1.1) / 1.5));
  const enoughInk = Math.min(1, inkFraction / 0.002);
  return Math.round(sharp * enoughInk * 1000) / 1000;
}

/**
 * The projection profile itself at `angleDeg` (ink per `binSize`-wide band across the lines), for
 * looking at line shapes once the angle is known.
 */
export function lineProfile(
  points: InkPoints,
  angleDeg: number,
  axis: LineAxis,
  binSize: number,
): Float64Array {
  const a = (angleDeg * Math.PI) / 180;
  const kx = axis === 'h' ? Math.sin(a) : Math.cos(a);
  const ky = axis === 'h' ? Math.cos(a) : -Math.sin(a);
  const { width, height } = points;
  const tMin = Math.min(0, kx * width) + Math.min(0, ky * height) - binSize;
  const tMax = Math.max(0, kx * width) + Math.max(0, ky * height) + binSize;
  const h = new Float64Array(Math.ceil((tMax - tMin) / binSize) + 2);
  const inv = 1 / binSize;
  const { x, y, w, count } = points;
  for (let i = 0; i < count; i++) {
    const j = ((x[i]! * kx + y[i]! * ky - tMin) * inv) | 0;
    h[j] = h[j]! + w[i]!;
  }
  return h;
}
