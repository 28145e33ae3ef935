/** Root-mean-square error of two 8-bit images of the same size, on the [0, 1] scale (DDD metric). */
export function rmse(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`rmse needs equal sizes, got ${a.length} and ${b.length}`);
  if (a.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return Math.sqrt(sum / a.length) / 255;
}
