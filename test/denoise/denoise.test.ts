import sharp from 'sharp';
import { denoisePage } from '../../stages/denoise/core.ts';
import { rmse } from '../../stages/denoise/metrics.ts';
import { CorruptDocumentError, InvalidOptionError } from '../../stages/shared/errors.ts';
import { renderTextPage, seededRandom } from '../deskew/pages.ts';

const W = 1240;
const H = 1000;

async function grayPixels(png: Buffer): Promise<Uint8Array> {
  return new Uint8Array(await sharp(png).toColourspace('b-w').raw().toBuffer());
}

function toPng(data: Uint8Array): Promise<Buffer> {
  return sharp(data, { raw: { width: W, height: H, channels: 1 } })
    .png()
    .toBuffer();
}

/** Yellowed paper with a shadow across it, a ring-shaped stain and salt-and-pepper dust. */
function degrade(page: Uint8Array, seed: number): Uint8Array {
  const rnd = seededRandom(seed);
  const out = new Uint8Array(page.length);
  const inner = 202 * 202;
  const outer = 238 * 238;
  for (let y = 0; y < H; y++) {
    const dy2 = (y - 500) * (y - 500);
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const d2 = (x - 700) * (x - 700) + dy2;
      const ring = d2 > inner && d2 < outer ? 0.7 : 1;
      const r = rnd();
      // One random draw gives both the dust (rare) and a +-10 grain.
      const v = r < 0.0015 ? 40 : page[i]! * (0.78 + (0.17 * x) / W) * ring + (r - 0.5) * 20;
      out[i] = v < 0 ? 0 : Math.min(v, 255);
    }
  }
  return out;
}

let clean: Uint8Array;
let cleanPng: Buffer;
let noisy: Uint8Array;
let noisyPng: Buffer;

beforeAll(async () => {
  cleanPng = await renderTextPage({ width: W, height: H, dpi: 150, words: 160, seed: 3 });
  clean = await grayPixels(cleanPng);
  noisy = degrade(clean, 42);
  noisyPng = await toPng(noisy);
});

describe('denoisePage', () => {
  it('brings a stained, shaded, dusty page at least three times closer to its clean original', async () => {
    // Act
    const result = await denoisePage(noisyPng);

    // Assess
    const before = rmse(noisy, clean);
    const after = rmse(await grayPixels(result.png), clean);
    expect(after).toBeLessThan(before / 3);
  });

  it('keeps a one-pixel hairline intact', async () => {
    // Prepare
    const page = clean.slice();
    for (let x = 100; x < 1100; x++) page[950 * W + x] = 60;

    // Act
    const out = await grayPixels((await denoisePage(await toPng(page))).png);

    // Assess
    let dark = 0;
    for (let x = 100; x < 1100; x++) if (out[950 * W + x]! < 128) dark++;
    expect(dark).toBe(1000);
  });

  it('removes isolated specks from the margin but keeps the text ink', async () => {
    // Prepare
    const page = clean.slice();
    const specks = [
      [30, 30],
      [1200, 40],
      [40, 900],
      [1150, 960],
    ];
    for (const [x, y] of specks) page[y! * W + x!] = 0;

    // Act
    const out = await grayPixels((await denoisePage(await toPng(page))).png);

    // Assess
    expect(specks.map(([x, y]) => out[y! * W + x!]! > 200)).toEqual([true, true, true, true]);
    const ink = (a: Uint8Array) => a.reduce((n, v) => n + (v < 128 ? 1 : 0), 0);
    expect(Math.abs(ink(out) - ink(clean)) / ink(clean)).toBeLessThan(0.05);
  });

  it('changes a clean page very little', async () => {
    // Act
    const out = await grayPixels((await denoisePage(cleanPng)).png);

    // Assess
    expect(rmse(out, clean)).toBeLessThan(0.05);
  });

  it('returns a one-channel gray PNG of the same size, with stats', async () => {
    // Act
    const result = await denoisePage(cleanPng);

    // Assess
    const meta = await sharp(result.png).metadata();
    expect([meta.width, meta.height, meta.channels, result.width, result.height]).toEqual([W, H, 1, W, H]);
    expect(result.stats.strokeWidth).toBeGreaterThan(0);
  });

  it('outputs only black and white when asked to binarize', async () => {
    // Act
    const out = await grayPixels((await denoisePage(noisyPng, { binarize: true })).png);

    // Assess
    expect(out.every((v) => v === 0 || v === 255)).toBe(true);
  });

  it('returns the input pixels at strength 0', async () => {
    // Act
    const out = await grayPixels((await denoisePage(noisyPng, { strength: 0 })).png);

    // Assess
    expect(rmse(out, noisy)).toBe(0);
  });

  it('handles an image smaller than its filter windows', async () => {
    // Prepare
    const tiny = await sharp({ create: { width: 3, height: 2, channels: 3, background: '#777777' } })
      .png()
      .toBuffer();

    // Act
    const result = await denoisePage(tiny);

    // Assess
    expect([result.width, result.height]).toEqual([3, 2]);
  });

  it.each([
    [{ strength: 2 }, /strength/],
    [{ removeSpecks: 1 }, /removeSpecks/],
    [{ binarize: 'yes' }, /binarize/],
    [{ radius: 3 }, /Unknown option 'radius'/],
  ])('rejects %p before decoding the page', async (options, message) => {
    // Prepare
    const notAnImage = Buffer.from('not an image');

    // Act
    const run = denoisePage(notAnImage, options as never);

    // Assess
    await expect(run).rejects.toThrow(InvalidOptionError);
    await expect(run).rejects.toThrow(message);
  });

  it('reports an undecodable page as a corrupt document', async () => {
    // Act
    const run = denoisePage(Buffer.from('not an image'));

    // Assess
    await expect(run).rejects.toThrow(CorruptDocumentError);
  });
});

describe('rmse', () => {
  it('is 0 for equal images and 1 for black against white', () => {
    // Prepare
    const black = new Uint8Array(4);
    const white = new Uint8Array(4).fill(255);

    // Act
    const same = rmse(black, black);
    const opposite = rmse(black, white);

    // Assess
    expect([same, opposite]).toEqual([0, 1]);
  });

  it('rejects images of different sizes', () => {
    // Act
    const run = () => rmse(new Uint8Array(3), new Uint8Array(4));

    // Assess
    expect(run).toThrow(RangeError);
  });
});
