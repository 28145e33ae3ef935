/**
 * Orientation helpers: which way the text lines run (from detected boxes), where boxes land after
 * the page is turned, and the 0/180 vote of the line classifier. Pure geometry, no I/O.
 */
import { orderQuad, subQuad } from '../shared/geometry.ts';
import type { Point, Quad, TextRegion } from '../shared/types.ts';
import type { LineAxis } from './skew.ts';

export interface AxisVote {
  /** Undefined when too few elongated boxes to tell. */
  axis: LineAxis | undefined;
  /** Summed long-side length of boxes whose long side runs across (h) or down (v) the page. */
  h: number;
  v: number;
}

/**
 * Text-line boxes are long in the reading direction: a page whose boxes are mostly tall reads top
 * to bottom, i.e. it lies on its side. Near-square boxes (single characters, logos) do not vote.
 */
export function lineAxisFromRegions(regions: readonly TextRegion[], minBoxes = 3): AxisVote {
  let h = 0;
  let v = 0;
  let voters = 0;
  for (const { box } of regions) {
    const [p0, p1, , p3] = box;
    const a: Point = [p1[0] - p0[0], p1[1] - p0[1]];
    const b: Point = [p3[0] - p0[0], p3[1] - p0[1]];
    const la = Math.hypot(a[0], a[1]);
    const lb = Math.hypot(b[0], b[1]);
    const [long, side] = la >= lb ? [la, a] : [lb, b];
    if (long < 2 * Math.min(la, lb)) continue;
    voters++;
    if (Math.abs(side[0]) >= Math.abs(side[1])) h += long;
    else v += long;
  }
  if (voters < minBoxes) return { axis: undefined, h, v };
  return { axis: v > 1.5 * h ? 'v' : 'h', h, v };
}

/**
 * Maps a quad into the page sharp produces by turning a `width` x `height` image clockwise by
 * `clockwiseDeg` about its centre onto an expanded `outWidth` x `outHeight` canvas.
 */
export function rotateQuad(
  quad: Quad,
  clockwiseDeg: number,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Quad {
  const r = (clockwiseDeg * Math.PI) / 180;
  const c = Math.cos(r);
  const s = Math.sin(r);
  const cx = width / 2;
  const cy = height / 2;
  const ox = outWidth / 2;
  const oy = outHeight / 2;
  // Clockwise on screen with y down: (1, 0) turns towards (0, 1).
  const points = quad.map(
    ([x, y]) => [ox + (x - cx) * c - (y - cy) * s, oy + (x - cx) * s + (y - cy) * c] as Point,
  );
  return orderQuad(points);
}

export interface UpsideDownVote {
  upsideDown: boolean;
  /** Mean of P(upside down | piece) - P(upside down | piece turned): -1..1, sign = verdict. */
  margin: number;
}

/**
 * Confidence-weighted vote of the 0/180 classifier, each piece seen as it is and turned by 180
 * degrees. A line that is upright must read as upright one way and as upside down the other, so
 * the difference cancels any bias the classifier has for a font or a crop size.
 */
export function voteUpsideDown(
  asIs: ReadonlyArray<{ angle: 0 | 180; confidence: number }>,
  turned: ReadonlyArray<{ angle: 0 | 180; confidence: number }>,
): UpsideDownVote {
  const p = (r: { angle: 0 | 180; confidence: number }) =>
    r.angle === 180 ? r.confidence : 1 - r.confidence;
  let sum = 0;
  const n = Math.min(asIs.length, turned.length);
  for (let i = 0; i < n; i++) sum += p(asIs[i]!) - p(turned[i]!);
  const margin = n === 0 ? 0 : sum / n;
  return { upsideDown: margin > 0, margin };
}

/** The same quad read from the other end: the crop comes out turned by 180 degrees. */
export function turnQuad(q: Quad): Quad {
  return [q[2], q[3], q[0], q[1]];
}

/**
 * Pieces of the longest lines about as long as the classifier's 48 x 192 input: a whole long line
 * squeezed or cut into that window is read as noise (it voted 180 on most upright lines).
 */
export function classifierPieces(regions: readonly TextRegion[], lines: number, perLine: number): Quad[] {
  const pieces: Quad[] = [];
  for (const { box } of longestRegions(regions, lines)) {
    const length = Math.hypot(box[1][0] - box[0][0], box[1][1] - box[0][1]);
    const height = Math.hypot(box[3][0] - box[0][0], box[3][1] - box[0][1]);
    if (length === 0 || height === 0) continue;
    const span = Math.min(1, (4 * height) / length);
    const n = Math.max(1, Math.min(perLine, Math.floor(1 / span)));
    for (let k = 0; k < n; k++) {
      const s0 = n === 1 ? 0 : (k * (1 - span)) / (n - 1);
      pieces.push(subQuad(box, s0, s0 + span));
    }
  }
  return pieces;
}

/**
 * The `count` longest line boxes (long lines carry the most evidence for the classifier), skipping
 * boxes that overlap one already taken: where the detector ran too coarse for the type, boxes
 * straddle two lines, and such crops read as noise.
 */
export function longestRegions(regions: readonly TextRegion[], count: number): TextRegion[] {
  const size = (q: Quad) =>
    Math.max(
      Math.hypot(q[1][0] - q[0][0], q[1][1] - q[0][1]),
      Math.hypot(q[3][0] - q[0][0], q[3][1] - q[0][1]),
    );
  const bounds = (q: Quad) => {
    const xs = q.map((p) => p[0]);
    const ys = q.map((p) => p[1]);
    return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
  };
  const taken: Array<ReturnType<typeof bounds>> = [];
  const out: TextRegion[] = [];
  for (const region of [...regions].sort((a, b) => size(b.box) - size(a.box))) {
    if (out.length === count) break;
    const b = bounds(region.box);
    const overlaps = taken.some((t) => {
      const w = Math.min(b.x1, t.x1) - Math.max(b.x0, t.x0);
      const h = Math.min(b.y1, t.y1) - Math.max(b.y0, t.y0);
      return (
        w > 0 && h > 0 && w * h > 0.1 * Math.min((b.x1 - b.x0) * (b.y1 - b.y0), (t.x1 - t.x0) * (t.y1 - t.y0))
      );
    });
    if (overlaps) continue;
    taken.push(b);
    out.push(region);
  }
  return out;
}

export interface LineShape {
  /** Text-line bands found in the profile. */
  lines: number;
  /** Ink above the x-height cores (ascenders, capitals, i-dots) and below them (descenders). */
  above: number;
  below: number;
  /** (above - below) / (above + below): clearly positive on upright Latin text, negative upside down. */
  balance: number;
  /** Lines leaning clearly up (above > 1.5 below) and clearly down. */
  up: number;
  down: number;
}

/**
 * Where the ink of each text line sits around its x-height core, from a projection profile across
 * the lines (top of the page first). Latin text has several times more ascender than descender ink
 * (b d f h k l t, capitals, i-dots against g j p q y), so upright lines lean above their core and
 * upside-down ones below: a cheap first opinion on 0 versus 180 degrees.
 */
export function lineShape(profile: ArrayLike<number>): LineShape {
  const n = profile.length;
  const positive: number[] = [];
  for (let i = 0; i < n; i++) if (profile[i]! > 0) positive.push(profile[i]!);
  if (positive.length === 0) return { lines: 0, above: 0, below: 0, balance: 0, up: 0, down: 0 };
  positive.sort((a, b) => a - b);
  // Gaps between lines hold only specks. Descender and ascender zones are thin (a few per cent of a
  // core row's ink at times), so the cut sits just above the specks.
  const gap = 0.03 * positive[Math.floor(0.9 * (positive.length - 1))]!;
  let lines = 0;
  let above = 0;
  let below = 0;
  let up = 0;
  let down = 0;
  let i = 0;
  while (i < n) {
    if (profile[i]! <= gap) {
      i++;
      continue;
    }
    const start = i;
    let peak = 0;
    while (i < n && profile[i]! > gap) peak = Math.max(peak, profile[i++]!);
    const end = i; // exclusive
    // The core: from the first to the last bin at half the band's peak (x-height rows are dense).
    let c0 = start;
    while (profile[c0]! < 0.5 * peak) c0++;
    let c1 = end - 1;
    while (profile[c1]! < 0.5 * peak) c1--;
    if (c1 - c0 < 2) continue;
    lines++;
    let a = 0;
    let b = 0;
    // The bin on either edge of the core is partly core (anti-aliasing, residual skew): which side
    // it weighs more on is chance, and it outweighs the thin ascender and descender zones.
    for (let k = start; k < c0 - 1; k++) a += profile[k]!;
    for (let k = c1 + 2; k < end; k++) b += profile[k]!;
    above += a;
    below += b;
    if (a > 1.5 * b) up++;
    else if (b > 1.5 * a) down++;
  }
  const total = above + below;
  return { lines, above, below, balance: total === 0 ? 0 : (above - below) / total, up, down };
}
