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

export interface SkewEstimate {
  /** Counter-clockwise skew of the text lines in degrees, y axis down. */
  angle: number;
  axis: LineAxis;
  /** 0..1 from the sharpness of the profile peak and the amount of ink. */
  confidence: number;
  /** Peak profile sharpness over the median over all coarse angles (1 = flat). */
  peakRatio: number;
  /** How much sharper the chosen axis is than the other one at its best angle. */
  axisRatio: number;
  /** Ink pixels over all pixels of the analysed image. */
  inkFraction: number;
}

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
 * Estimates the skew of `gray` (already reduced to about 1000-2000 px on the long side). Returns
 * undefined when there is no ink at all.
 */
export function estimateSkew(gray: Gray, options: EstimateOptions): SkewEstimate | undefined {
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
  const scans = (['h', 'v'] as const).map((axis) =>
    scan(coarse, axis, -max, max, coarseStep, coarseBlock, max),
  );
  const bestPer = scans.map((s) => peaks(s, 1)[0]!);
  const axisIndex = bestPer[0]!.score >= bestPer[1]!.score ? 0 : 1;
  const axisRatio = bestPer[axisIndex]!.score / Math.max(1e-9, bestPer[1 - axisIndex]!.score);
  const chosen = scans[axisIndex]!;
  const axis: LineAxis = axisIndex === 0 ? 'h' : 'v';
  const peakRatio = peaks(chosen, 1)[0]!.score / Math.max(1e-9, median(chosen.map((c) => c.score)));

  // Mid level: refine the best few coarse peaks, so a strong but wrong coarse peak (a table rule,
  // a photo edge) cannot hide the true one.
  let best: Candidate | undefined;
  for (const p of peaks(chosen, 3)) {
    const refined = peaks(
      scan(mid, axis, p.angle - 2 * coarseStep, p.angle + 2 * coarseStep, 0.1, midBlock, max),
      1,
    )[0]!;
    if (best === undefined || refined.score > best.score) best = refined;
  }
  const midBest = best!;

  // Fine level: dense scan at full analysis resolution around the mid peak, then a parabola
  // through the top sample and its neighbours.
  const fineScan = scan(fine, axis, midBest.angle - 0.14, midBest.angle + 0.14, 0.02, 1, max);
  let top = 0;
  for (let i = 1; i < fineScan.length; i++) if (fineScan[i]!.score > fineScan[top]!.score) top = i;
  let angle = fineScan[top]!.angle;
  const fineStep = fineScan.length > 1 ? fineScan[1]!.angle - fineScan[0]!.angle : 0;
  if (top > 0 && top < fineScan.length - 1) {
    angle +=
      fineStep * parabolicOffset(fineScan[top - 1]!.score, fineScan[top]!.score, fineScan[top + 1]!.score);
  }

  const confidence = confidenceFrom(peakRatio, axisRatio, inkFraction);
  return { angle, axis, confidence, peakRatio, axisRatio, inkFraction };
}

function confidenceFrom(peakRatio: number, axisRatio: number, inkFraction: number): number {
  // A clear text page has a peak several times the typical score; 1.0 means a flat profile.
  const sharp = Math.min(1, Math.max(0, (peakRatio - 1.1) / 1.5));
  const axisSure = Math.min(1, Math.max(0, (axisRatio - 1) / 0.5));
  const enoughInk = Math.min(1, inkFraction / 0.002);
  return Math.round(sharp * (0.5 + 0.5 * axisSure) * enoughInk * 1000) / 1000;
}
