/**
 * Raster filters on 8-bit gray images that sharp does not offer (or offers too slowly on big pages):
 * separable max/min (van Herk / Gil-Werman: three comparisons a pixel whatever the radius), bilinear
 * resampling between a block-reduced grid and the full grid, dark stroke width and small connected
 * components.
 */
import type { Gray } from '../deskew/raster.ts';

// Module bindings, not `Math.x` in the per-pixel loops: a global lookup per pixel is free in Node
// but costs about 100x inside a vm context (the test runner's), where globals go through the
// context's interceptors.
const { floor, max, min } = Math;

/**
 * In place over n samples `step` apart (step > 1: n rows of `step` values, filtered down the
 * columns): sample i becomes the extreme of samples i .. i + w - 1, by doubling (van Herk style cost:
 * log2(w) + 1 passes whatever the radius). Ascending order makes in-place updates safe.
 */
function windowExtreme(a: Uint8Array, n: number, w: number, isMax: boolean, step: number): void {
  let len = 1;
  while (len * 2 <= w) {
    const last = (n - 2 * len + 1) * step - 1;
    const off = len * step;
    if (isMax) for (let i = 0; i <= last; i++) a[i] = max(a[i]!, a[i + off]!);
    else for (let i = 0; i <= last; i++) a[i] = min(a[i]!, a[i + off]!);
    len *= 2;
  }
  if (len < w) {
    const last = (n - w + 1) * step - 1;
    const off = (w - len) * step;
    if (isMax) for (let i = 0; i <= last; i++) a[i] = max(a[i]!, a[i + off]!);
    else for (let i = 0; i <= last; i++) a[i] = min(a[i]!, a[i + off]!);
  }
}

/** Gray-level max (dilation of paper, erosion of ink) or min over a (2r+1) square. */
export function rankFilter(img: Gray, r: number, isMax: boolean): Gray {
  const { data, width, height } = img;
  if (r <= 0) return { data: data.slice(), width, height };
  const w = 2 * r + 1;
  const pad = isMax ? 0 : 255;
  // Rows: pad each row with r neutral samples on both sides, filter, copy back.
  const out = new Uint8Array(width * height);
  const row = new Uint8Array(width + 2 * r);
  for (let y = 0; y < height; y++) {
    row.fill(pad, 0, r);
    row.set(data.subarray(y * width, (y + 1) * width), r);
    row.fill(pad, r + width);
    windowExtreme(row, width + 2 * r, w, isMax, 1);
    out.set(row.subarray(0, width), y * width);
  }
  // Columns: the same over whole rows at once (step = width), which keeps memory access sequential.
  const cols = new Uint8Array((height + 2 * r) * width);
  cols.fill(pad, 0, r * width);
  cols.set(out, r * width);
  cols.fill(pad, (r + height) * width);
  windowExtreme(cols, height + 2 * r, w, isMax, width);
  out.set(cols.subarray(0, width * height));
  return { data: out, width, height };
}

/** Gray closing: removes dark features narrower than 2r+1 (text strokes), keeps wide ones (stains). */
export function closing(img: Gray, r: number): Gray {
  return rankFilter(rankFilter(img, r, true), r, false);
}

/**
 * Bilinear resampling of a grid made by `factor` x `factor` block averaging back to full size
 * `width` x `height`: block centres sit at (b + 0.5) * factor - 0.5 in full-grid pixels.
 */
export function upsample(small: Gray, factor: number, width: number, height: number): Uint8Array {
  const { data, width: sw, height: sh } = small;
  const out = new Uint8Array(width * height);
  if (factor === 1 && sw === width && sh === height) {
    out.set(data);
    return out;
  }
  const { x0, x1, fx } = bilinearColumns(width, sw, factor);
  for (let y = 0; y < height; y++) {
    const { r0, r1, fy } = bilinearRow(y, sw, sh, factor);
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const a = x0[x]!;
      const b = x1[x]!;
      const t = fx[x]!;
      const top = data[r0 + a]! + (data[r0 + b]! - data[r0 + a]!) * t;
      const bottom = data[r1 + a]! + (data[r1 + b]! - data[r1 + a]!) * t;
      out[row + x] = (top + (bottom - top) * fy + 0.5) | 0;
    }
  }
  return out;
}

/**
 * The page divided by its background, scaled so that 255 is paper: `background` is on the grid of
 * `factor` x `factor` blocks and is interpolated bilinearly (as a reciprocal, so the inner loop
 * multiplies) without materialising a full-size background. With `lut`, each ratio is mapped
 * through it.
 */
export function divideByBackground(
  page: Gray,
  background: Gray,
  factor: number,
  lut?: Uint8Array,
): Uint8Array {
  const { data, width, height } = page;
  const { data: bg, width: sw, height: sh } = background;
  const inv = new Float32Array(bg.length);
  for (let i = 0; i < bg.length; i++) inv[i] = 255 / (bg[i]! || 1);
  const out = new Uint8Array(width * height);
  const { x0, x1, fx } = bilinearColumns(width, sw, factor);
  const rowInv = new Float32Array(sw);
  for (let y = 0; y < height; y++) {
    const { r0, r1, fy } = bilinearRow(y, sw, sh, factor);
    for (let k = 0; k < sw; k++) rowInv[k] = inv[r0 + k]! + (inv[r1 + k]! - inv[r0 + k]!) * fy;
    const row = y * width;
    if (lut === undefined) {
      for (let x = 0; x < width; x++) {
        const a = rowInv[x0[x]!]!;
        const r = data[row + x]! * (a + (rowInv[x1[x]!]! - a) * fx[x]!);
        out[row + x] = min(r, 255);
      }
    } else {
      // The tone curve applied in the same pass: one full-page loop and array fewer.
      for (let x = 0; x < width; x++) {
        const a = rowInv[x0[x]!]!;
        const r = data[row + x]! * (a + (rowInv[x1[x]!]! - a) * fx[x]!);
        out[row + x] = lut[min(r, 255) | 0]!;
      }
    }
  }
  return out;
}

/**
 * Typical dark stroke width in pixels: the median length of horizontal runs at or below
 * `threshold`, over every other row. 0 when there is no ink.
 */
export function strokeWidth(img: Gray, threshold: number): number {
  const { data, width, height } = img;
  const counts = new Uint32Array(65);
  let total = 0;
  for (let y = 0; y < height; y += 2) {
    const row = y * width;
    let run = 0;
    for (let x = 0; x <= width; x++) {
      if (x < width && data[row + x]! <= threshold) run++;
      else if (run > 0) {
        counts[min(64, run)]!++;
        total++;
        run = 0;
      }
    }
  }
  if (total === 0) return 0;
  let seen = 0;
  for (let i = 1; i <= 64; i++) {
    seen += counts[i]!;
    if (seen * 2 >= total) return i;
  }
  return 64;
}

/**
 * Whitens isolated specks: 8-connected components of pixels darker than `threshold` with an area of
 * at most `maxArea` and nothing visible within `gap` pixels of their bounding box (so the dot of an
 * i or a full stop next to its word stays). Their anti-aliased rim (4-neighbours) goes too.
 * Returns how many components were removed.
 */
export function removeSmallComponents(img: Gray, threshold: number, maxArea: number, gap: number): number {
  const { data, width, height } = img;
  // Components are found over horizontal runs of dark pixels with union-find (8-connected: runs
  // on neighbouring rows that touch, diagonals included, join): far fewer steps than per pixel.
  let capacity = 1 << 14;
  let x0s = new Int32Array(capacity);
  let x1s = new Int32Array(capacity);
  let ys = new Int32Array(capacity);
  let parent = new Int32Array(capacity);
  let count = 0;
  const find = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r]!;
    while (parent[i] !== r) {
      const next = parent[i]!;
      parent[i] = r;
      i = next;
    }
    return r;
  };
  let prevStart = 0;
  let prevEnd = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const start = count;
    let j = prevStart;
    for (let x = 0; x < width; x++) {
      if (data[row + x]! >= threshold) continue;
      let e = x;
      while (e + 1 < width && data[row + e + 1]! < threshold) e++;
      if (count === capacity) {
        capacity *= 2;
        const grow = (a: Int32Array) => {
          const b = new Int32Array(capacity);
          b.set(a);
          return b;
        };
        x0s = grow(x0s);
        x1s = grow(x1s);
        ys = grow(ys);
        parent = grow(parent);
      }
      x0s[count] = x;
      x1s[count] = e;
      ys[count] = y;
      parent[count] = count;
      // Runs of the previous row that touch [x - 1, e + 1].
      while (j < prevEnd && x1s[j]! < x - 1) j++;
      for (let k = j; k < prevEnd && x0s[k]! <= e + 1; k++) {
        const a = find(k);
        const b = find(count);
        if (a !== b) parent[b] = a;
      }
      count++;
      x = e;
    }
    prevStart = start;
    prevEnd = count;
  }
  const area = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const r = find(i);
    area[r] = area[r]! + x1s[i]! - x0s[i]! + 1;
  }
  const small = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const r = find(i);
    if (area[r]! > maxArea) continue;
    let members = small.get(r);
    if (members === undefined) {
      members = [];
      small.set(r, members);
    }
    for (let x = x0s[i]!; x <= x1s[i]!; x++) members.push(ys[i]! * width + x);
  }
  let removed = 0;
  for (const members of small.values()) {
    if (!isolated(data, width, height, members, gap)) continue;
    for (const p of members) {
      const x = p % width;
      data[p] = 255;
      if (x > 0) data[p - 1] = 255;
      if (x < width - 1) data[p + 1] = 255;
      if (p >= width) data[p - width] = 255;
      if (p + width < data.length) data[p + width] = 255;
    }
    removed++;
  }
  return removed;
}

/**
 * True when nothing visibly darker than paper (below VISIBLE) lies in the ring between 2 and `gap`
 * pixels around the members' bounding box. Faint neighbours count: a thermal-print stem or the
 * dot of a colon next to pale letters is not a speck.
 */
function isolated(
  data: Uint8Array,
  width: number,
  height: number,
  members: readonly number[],
  gap: number,
): boolean {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (const p of members) {
    const x = p % width;
    const y = (p - x) / width;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  for (let y = max(0, y0 - gap); y <= min(height - 1, y1 + gap); y++) {
    const nearRow = y >= y0 - 1 && y <= y1 + 1;
    for (let x = max(0, x0 - gap); x <= min(width - 1, x1 + gap); x++) {
      // The speck itself and its anti-aliased rim are inside the inner box.
      if (nearRow && x >= x0 - 1 && x <= x1 + 1) continue;
      if (data[y * width + x]! < VISIBLE) return false;
    }
  }
  return true;
}

/** Gray level below which a pixel is visibly not paper. */
const VISIBLE = 224;

/** For each output column, the two grid columns it lies between and its weight (pixel centres aligned). */
function bilinearColumns(width: number, gridWidth: number, factor: number) {
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const u = min(gridWidth - 1, max(0, (x + 0.5) / factor - 0.5));
    const i = min(gridWidth - 1, floor(u));
    x0[x] = i;
    x1[x] = min(gridWidth - 1, i + 1);
    fx[x] = u - i;
  }
  return { x0, x1, fx };
}

/** For one output row, the offsets of the two grid rows it lies between and its weight. */
function bilinearRow(y: number, gridWidth: number, gridHeight: number, factor: number) {
  const v = min(gridHeight - 1, max(0, (y + 0.5) / factor - 0.5));
  const j = min(gridHeight - 1, floor(v));
  return { r0: j * gridWidth, r1: min(gridHeight - 1, j + 1) * gridWidth, fy: v - j };
}
