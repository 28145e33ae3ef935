import sharp from 'sharp';
import { CorruptDocumentError } from '../shared/errors.ts';

/**
 * Intermediate artifacts are read once by the next stage: fast deflate without per-row filter
 * search costs ~100 ms less per 300 DPI page than level 4 for a somewhat larger file.
 */
export const ARTIFACT_PNG = { compressionLevel: 1, adaptiveFiltering: false } as const;

/** An 8-bit, single-channel image in row-major order (0 = black, 255 = white). */
export interface Gray {
  data: Uint8Array;
  width: number;
  height: number;
}

/** A decoded page: 8-bit interleaved pixels as sharp returns them. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * Decodes to raw 8-bit pixels. sharp's own grayscale conversion goes through a colour-managed
 * transform that costs ~150 ms on a 300 DPI page; the luma sum in `toGray` takes ~15 ms.
 */
export async function decodeRaw(image: Buffer): Promise<RawImage> {
  try {
    const meta = await sharp(image).metadata();
    // sharp turns gray input into sRGB on raw output unless told to keep it; keeping it is 3x faster.
    const pipeline = meta.channels <= 2 ? sharp(image).toColourspace('b-w') : sharp(image);
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
      channels: info.channels,
    };
  } catch (error) {
    throw new CorruptDocumentError(`Cannot decode the page image: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Rec. 601 luma of raw pixels with alpha flattened onto white paper. `factor` > 1 also averages
 * factor x factor blocks (the last partial row/column is dropped), which is how analysis images
 * are shrunk: box averaging keeps thin strokes visible as gray instead of skipping them.
 */
export function toGray(raw: RawImage, factor = 1): Gray {
  const { data, width, height, channels } = raw;
  const f = Math.max(1, Math.floor(factor));
  const w = Math.max(1, Math.floor(width / f));
  const h = Math.max(1, Math.floor(height / f));
  const out = new Uint8Array(w * h);
  if (f === 1 && channels === 1) {
    out.set(data.subarray(0, w * h));
    return { data: out, width: w, height: h };
  }
  if (channels === 1) return boxReduce(data, width, w, h, f, out);
  // Luma in 1/1024 units (306 R + 601 G + 117 B), one source row at a time, then block sums.
  const luma = new Uint32Array(width);
  const acc = new Uint32Array(w);
  const norm = 1 / (f * f * 1024);
  for (let by = 0; by < h; by++) {
    acc.fill(0);
    for (let dy = 0; dy < f; dy++) {
      lumaRow(data, (by * f + dy) * width * channels, width, channels, luma);
      let x = 0;
      for (let bx = 0; bx < w; bx++) {
        let s = 0;
        for (let dx = 0; dx < f; dx++) s += luma[x++]!;
        acc[bx] = acc[bx]! + s;
      }
    }
    const row = by * w;
    for (let bx = 0; bx < w; bx++) out[row + bx] = (acc[bx]! * norm + 0.5) | 0;
  }
  return { data: out, width: w, height: h };
}

/** Block mean of a one-channel image: the common case (gray scans) without a luma pass. */
function boxReduce(data: Uint8Array, width: number, w: number, h: number, f: number, out: Uint8Array): Gray {
  if (f === 2) {
    // The common analysis factor for 300 DPI pages, unrolled.
    for (let by = 0; by < h; by++) {
      const r0 = 2 * by * width;
      const r1 = r0 + width;
      const row = by * w;
      for (let bx = 0, x = 0; bx < w; bx++, x += 2) {
        out[row + bx] = (data[r0 + x]! + data[r0 + x + 1]! + data[r1 + x]! + data[r1 + x + 1]! + 2) >> 2;
      }
    }
    return { data: out, width: w, height: h };
  }
  const acc = new Uint32Array(w);
  const area = f * f;
  const half = area >> 1;
  for (let by = 0; by < h; by++) {
    acc.fill(0);
    for (let dy = 0; dy < f; dy++) {
      let p = (by * f + dy) * width;
      for (let bx = 0; bx < w; bx++) {
        let s = 0;
        for (let dx = 0; dx < f; dx++) s += data[p + dx]!;
        p += f;
        acc[bx] = acc[bx]! + s;
      }
    }
    const row = by * w;
    for (let bx = 0; bx < w; bx++) out[row + bx] = ((acc[bx]! + half) / area) | 0;
  }
  return { data: out, width: w, height: h };
}

/** One row of luma x 1024, alpha composited over white; a loop per layout keeps it branch-free. */
function lumaRow(data: Uint8Array, start: number, width: number, channels: number, out: Uint32Array): void {
  let p = start;
  switch (channels) {
    case 1:
      for (let x = 0; x < width; x++) out[x] = data[p++]! << 10;
      return;
    case 2:
      for (let x = 0; x < width; x++, p += 2) {
        const a = data[p + 1]!;
        out[x] = ((data[p]! * a + 255 * (255 - a)) * 1024) / 255;
      }
      return;
    case 3:
      for (let x = 0; x < width; x++, p += 3)
        out[x] = 306 * data[p]! + 601 * data[p + 1]! + 117 * data[p + 2]!;
      return;
    default:
      for (let x = 0; x < width; x++, p += channels) {
        const a = data[p + 3]!;
        const l = 306 * data[p]! + 601 * data[p + 1]! + 117 * data[p + 2]!;
        out[x] = (l * a + 1024 * 255 * (255 - a)) / 255;
      }
  }
}

/** Otsu's threshold over a 256-bin histogram: pixels <= the returned value are the dark class. */
export function otsuThreshold(hist: ArrayLike<number>): number {
  let total = 0;
  let sum = 0;
  for (let i = 0; i < 256; i++) {
    const h = hist[i] ?? 0;
    total += h;
    sum += i * h;
  }
  let weightDark = 0;
  let sumDark = 0;
  let best = -1;
  let threshold = 127;
  for (let t = 0; t < 255; t++) {
    const h = hist[t] ?? 0;
    weightDark += h;
    if (weightDark === 0) continue;
    const weightLight = total - weightDark;
    if (weightLight === 0) break;
    sumDark += t * h;
    const meanDark = sumDark / weightDark;
    const meanLight = (sum - sumDark) / weightLight;
    const between = weightDark * weightLight * (meanDark - meanLight) ** 2;
    if (between > best) {
      best = between;
      threshold = t;
    }
  }
  return threshold;
}

export function histogram(data: Uint8Array): Uint32Array {
  const h = new Uint32Array(256);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    h[v] = h[v]! + 1;
  }
  return h;
}
