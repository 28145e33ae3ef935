import sharp from 'sharp';

/** Deterministic PRNG (mulberry32) so generated fixtures are identical run to run. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the quick brown fox jumps over lazy dog invoice total amount paid date number customer address ' +
  'payment received thank you for your order item quantity price tax subtotal balance due account ' +
  'document pipeline recognises printed text from scanned pages with skew noise and stains'
).split(' ');

/** Pseudo-random prose, seeded, about `words` words long. */
export function prose(seed: number, words: number): string {
  const rnd = seededRandom(seed);
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(rnd() * WORDS.length)]!);
  return out.join(' ');
}

export interface PageSpec {
  width?: number;
  height?: number;
  /** Pango font description, e.g. 'DejaVu Sans 10'. */
  font?: string;
  dpi?: number;
  words?: number;
  seed?: number;
  margin?: number;
}

/** A white page with a paragraph of black text in the top-left area, as an 8-bit gray PNG. */
export async function renderTextPage(spec: PageSpec = {}): Promise<Buffer> {
  const width = spec.width ?? 1240;
  const height = spec.height ?? 1754;
  const margin = spec.margin ?? Math.round(width * 0.08);
  const text = prose(spec.seed ?? 1, spec.words ?? 220);
  // vips renders a one-band mask (text = 255), so negate it to get black ink on white paper.
  const block = await sharp({
    text: {
      text,
      font: spec.font ?? 'DejaVu Sans 10',
      dpi: spec.dpi ?? 150,
      width: width - 2 * margin,
      wrap: 'word',
    },
  })
    .negate()
    .png()
    .toBuffer();
  const meta = await sharp(block).metadata();
  const blockHeight = Math.min(meta.height, height - 2 * margin);
  const cropped = await sharp(block)
    .extract({ left: 0, top: 0, width: meta.width, height: blockHeight })
    .toBuffer();
  const page = await sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite([{ input: cropped, left: margin, top: margin }])
    .png()
    .toBuffer();
  return toGrayPng(page);
}

/** Re-encodes as a one-channel 8-bit PNG (composites come back RGBA). */
export async function toGrayPng(png: Buffer): Promise<Buffer> {
  return sharp(png)
    .flatten({ background: '#ffffff' })
    .extractChannel(0)
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

/**
 * Rotates page content counter-clockwise by `ccwDeg` (the dataset convention: angle_deg,
 * y down), on a white, enlarged canvas. sharp rotates clockwise for positive angles.
 */
export async function rotateCcw(png: Buffer, ccwDeg: number): Promise<Buffer> {
  return toGrayPng(await sharp(png).rotate(-ccwDeg, { background: '#ffffff' }).png().toBuffer());
}
