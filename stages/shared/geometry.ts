import type { Point, Quad } from './types.ts';

/** A rotated rectangle: centre, size along its own axes, and the angle of its width axis (radians, y down). */
export interface RotatedRect {
  cx: number;
  cy: number;
  width: number;
  height: number;
  angle: number;
}

function cross(o: Point, a: Point, b: Point): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/** Convex hull (Andrew's monotone chain), counter-clockwise in a y-up frame, no repeated end point. */
export function convexHull(points: readonly Point[]): Point[] {
  if (points.length <= 2) return points.map((p) => [p[0], p[1]]);
  const sorted = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const lower: Point[] = [];
  for (const p of sorted) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0)
      lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = sorted.length - 1; i >= 0; i--) {
    const p = sorted[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0)
      upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/**
 * Minimum-area enclosing rectangle of a point set (rotating calipers over the convex hull: the
 * optimal rectangle has one side collinear with a hull edge). The returned angle is the direction
 * of the side closest to horizontal, so `width` is measured along the most horizontal axis.
 */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) return { cx: 0, cy: 0, width: 0, height: 0, angle: 0 };
  if (hull.length === 1) return { cx: hull[0]![0], cy: hull[0]![1], width: 0, height: 0, angle: 0 };
  let best: RotatedRect | undefined;
  let bestArea = Number.POSITIVE_INFINITY;
  const n = hull.length;
  for (let i = 0; i < n; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % n]!;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (len === 0) continue;
    const ux = (b[0] - a[0]) / len;
    const uy = (b[1] - a[1]) / len;
    let minU = Number.POSITIVE_INFINITY;
    let maxU = Number.NEGATIVE_INFINITY;
    let minV = Number.POSITIVE_INFINITY;
    let maxV = Number.NEGATIVE_INFINITY;
    for (const p of hull) {
      const u = p[0] * ux + p[1] * uy;
      const v = -p[0] * uy + p[1] * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea - 1e-9) {
      bestArea = area;
      const mu = (minU + maxU) / 2;
      const mv = (minV + maxV) / 2;
      best = {
        cx: mu * ux - mv * uy,
        cy: mu * uy + mv * ux,
        width: maxU - minU,
        height: maxV - minV,
        angle: Math.atan2(uy, ux),
      };
    }
  }
  return normaliseRect(best ?? { cx: hull[0]![0], cy: hull[0]![1], width: 0, height: 0, angle: 0 });
}

/** Rewrites a rectangle so its width axis is the one closest to horizontal, angle in (-pi/4, pi/4]. */
export function normaliseRect(rect: RotatedRect): RotatedRect {
  let { width, height, angle } = rect;
  // Fold to (-pi/2, pi/2]: a rectangle is symmetric under a half turn.
  while (angle <= -Math.PI / 2) angle += Math.PI;
  while (angle > Math.PI / 2) angle -= Math.PI;
  if (angle > Math.PI / 4) {
    angle -= Math.PI / 2;
    [width, height] = [height, width];
  } else if (angle <= -Math.PI / 4) {
    angle += Math.PI / 2;
    [width, height] = [height, width];
  }
  return { cx: rect.cx, cy: rect.cy, width, height, angle };
}

/** Corners clockwise (y down) from the top-left, reading along the rectangle's width axis. */
export function rectToQuad(rect: RotatedRect): Quad {
  const ux = Math.cos(rect.angle);
  const uy = Math.sin(rect.angle);
  // v is u turned a quarter clockwise on screen (y down): it points "down" the text.
  const vx = -uy;
  const vy = ux;
  const hw = rect.width / 2;
  const hh = rect.height / 2;
  const corner = (su: number, sv: number): Point => [
    rect.cx + su * hw * ux + sv * hh * vx,
    rect.cy + su * hw * uy + sv * hh * vy,
  ];
  return [corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1)];
}

/** The rotated rectangle described by a quad (tl, tr, br, bl): its size is the mean of opposite sides. */
export function quadToRect(quad: Quad): RotatedRect {
  const [tl, tr, br, bl] = quad;
  const width = (Math.hypot(tr[0] - tl[0], tr[1] - tl[1]) + Math.hypot(br[0] - bl[0], br[1] - bl[1])) / 2;
  const height = (Math.hypot(bl[0] - tl[0], bl[1] - tl[1]) + Math.hypot(br[0] - tr[0], br[1] - tr[1])) / 2;
  const angle = Math.atan2(tr[1] - tl[1] + br[1] - bl[1], tr[0] - tl[0] + br[0] - bl[0]);
  return {
    cx: (tl[0] + tr[0] + br[0] + bl[0]) / 4,
    cy: (tl[1] + tr[1] + br[1] + bl[1]) / 4,
    width,
    height,
    angle,
  };
}

/**
 * Orders four arbitrary corners clockwise (y down) starting at the top-left: the corner that starts
 * the edge closest to horizontal and heading right, on the top side.
 */
export function orderQuad(points: readonly Point[]): Quad {
  if (points.length !== 4) throw new RangeError(`orderQuad needs 4 points, got ${points.length}`);
  const cx = points.reduce((s, p) => s + p[0], 0) / 4;
  const cy = points.reduce((s, p) => s + p[1], 0) / 4;
  // Clockwise on screen = increasing atan2 with y down.
  const byAngle = [...points].sort(
    (a, b) => Math.atan2(a[1] - cy, a[0] - cx) - Math.atan2(b[1] - cy, b[0] - cx),
  );
  let start = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < 4; i++) {
    const a = byAngle[i]!;
    const b = byAngle[(i + 1) % 4]!;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
    // The top edge heads right (dx > 0) and lies above the centre.
    const score = (b[0] - a[0]) / len - ((a[1] + b[1]) / 2 > cy ? 2 : 0);
    if (score > bestScore) {
      bestScore = score;
      start = i;
    }
  }
  return [0, 1, 2, 3].map((k) => {
    const p = byAngle[(start + k) % 4]!;
    return [p[0], p[1]] as Point;
  }) as Quad;
}

/** Clamps every corner into [0, width] x [0, height]. */
export function clipQuad(quad: Quad, width: number, height: number): Quad {
  return quad.map(([x, y]) => [Math.min(Math.max(x, 0), width), Math.min(Math.max(y, 0), height)]) as Quad;
}

/**
 * How far apart across the line two text lines sit, in half line heights: the distance of one
 * centre from the other's centre line (the longer line's, whose angle is the surer), over half the
 * taller line's height. Below 1, they lie on one visual row; for level lines that is the same as
 * overlapping by more than half the shorter height. Unlike overlapping vertical extents, it holds
 * for rows tilted by residual skew or a curled page, and it keeps apart the lines of a tilted
 * column, whose extents overlap once a line's rise over its length passes the line spacing.
 */
export function rowOffset(a: RotatedRect, b: RotatedRect): number {
  const [line, other] = a.width >= b.width ? [a, b] : [b, a];
  const across = (other.cy - line.cy) * Math.cos(line.angle) - (other.cx - line.cx) * Math.sin(line.angle);
  return Math.abs(across) / (0.5 * Math.max(a.height, b.height, Number.MIN_VALUE));
}

/** Axis-aligned bounds of a quad. */
export function quadBounds(quad: Quad): { x0: number; y0: number; x1: number; y1: number } {
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
}

/** Interleaved raw pixels as sharp returns them. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * Samples the parallelogram spanned by a quad's top-left, top-right and bottom-left corners into an
 * `outWidth` x `outHeight` upright image (bilinear; white outside the page). The quad's own axes
 * become the output axes, so a tilted line comes out straight.
 */
export function cropQuad(image: RawImage, quad: Quad, outWidth: number, outHeight: number): RawImage {
  const { data, width, height, channels } = image;
  const [tl, tr, , bl] = quad;
  const ow = Math.max(1, Math.round(outWidth));
  const oh = Math.max(1, Math.round(outHeight));
  const out = new Uint8Array(ow * oh * channels);
  // Step per output pixel along each axis; sample at pixel centres.
  const ux = (tr[0] - tl[0]) / ow;
  const uy = (tr[1] - tl[1]) / ow;
  const vx = (bl[0] - tl[0]) / oh;
  const vy = (bl[1] - tl[1]) / oh;
  const maxX = width - 1;
  const maxY = height - 1;
  let o = 0;
  for (let j = 0; j < oh; j++) {
    const rowX = tl[0] + (j + 0.5) * vx - 0.5;
    const rowY = tl[1] + (j + 0.5) * vy - 0.5;
    for (let i = 0; i < ow; i++) {
      const x = rowX + (i + 0.5) * ux;
      const y = rowY + (i + 0.5) * uy;
      if (x < -0.5 || y < -0.5 || x > maxX + 0.5 || y > maxY + 0.5) {
        for (let c = 0; c < channels; c++) out[o++] = 255;
        continue;
      }
      const xc = Math.min(Math.max(x, 0), maxX);
      const yc = Math.min(Math.max(y, 0), maxY);
      // xc, yc >= 0, so truncation is the floor.
      const x0 = xc | 0;
      const y0 = yc | 0;
      const x1 = x0 < maxX ? x0 + 1 : x0;
      const y1 = y0 < maxY ? y0 + 1 : y0;
      const fx = xc - x0;
      const fy = yc - y0;
      const i00 = (y0 * width + x0) * channels;
      const i01 = (y0 * width + x1) * channels;
      const i10 = (y1 * width + x0) * channels;
      const i11 = (y1 * width + x1) * channels;
      for (let c = 0; c < channels; c++) {
        const top = data[i00 + c]! + (data[i01 + c]! - data[i00 + c]!) * fx;
        const bottom = data[i10 + c]! + (data[i11 + c]! - data[i10 + c]!) * fx;
        // The sample is >= 0, so adding 0.5 and truncating rounds it as Math.round does, at a
        // fraction of the cost (Math.round took most of the crop's time).
        out[o++] = (top + (bottom - top) * fy + 0.5) | 0;
      }
    }
  }
  return { data: out, width: ow, height: oh, channels };
}

/** Point at fractions (s along the width axis, t along the height axis) inside a quad (bilinear). */
export function quadPoint(quad: Quad, s: number, t: number): Point {
  const [tl, tr, br, bl] = quad;
  const topX = tl[0] + (tr[0] - tl[0]) * s;
  const topY = tl[1] + (tr[1] - tl[1]) * s;
  const botX = bl[0] + (br[0] - bl[0]) * s;
  const botY = bl[1] + (br[1] - bl[1]) * s;
  return [topX + (botX - topX) * t, topY + (botY - topY) * t];
}

/** The part of a quad between fractions s0 and s1 of its width axis. */
export function subQuad(quad: Quad, s0: number, s1: number): Quad {
  return [quadPoint(quad, s0, 0), quadPoint(quad, s1, 0), quadPoint(quad, s1, 1), quadPoint(quad, s0, 1)];
}
