import sharp from 'sharp';
import { assembleDocument, type DocumentResult, type PageOutcome } from '../../stages/assemble/core.ts';
import { glyphlessTrueType } from '../../stages/assemble/glyphless-font.ts';
import {
  encodePageImage,
  type PdfPageImage,
  renderSearchablePdf,
  sizeBeforeSkew,
} from '../../stages/assemble/pdf.ts';
import { InvalidOptionError } from '../../stages/shared/errors.ts';
import type { Quad, RecognizedWord } from '../../stages/shared/types.ts';
import { openDocument } from '../../stages/split/core.ts';
import { type PdfTextItem, readPdf } from '../support/pdf.ts';

// A 600 x 300 px page at 150 DPI: 288 x 144 points.
const DPI = 150;
const WIDTH = 600;
const HEIGHT = 300;
const POINTS = 72 / DPI;

const rect = (x0: number, y0: number, x1: number, y1: number): Quad => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
];

const word = (text: string, x0: number, x1: number, y0 = 40, y1 = 70): RecognizedWord => ({
  text,
  confidence: 0.95,
  box: rect(x0, y0, x1, y1),
});

function outcome(number: number, words: RecognizedWord[][]): PageOutcome {
  return {
    number,
    width: WIDTH,
    height: HEIGHT,
    dpi: DPI,
    deskew: { angle: 0, orientation: 0, confidence: 0.9, applied: false },
    lines: words.map((line) => ({
      text: line.map((w) => w.text).join(' '),
      confidence: 0.95,
      box: rect(line[0]!.box[0][0], line[0]!.box[0][1], line.at(-1)!.box[2][0], line.at(-1)!.box[2][1]),
      words: line,
    })),
    timings: { deskew: 1, denoise: 1, detect: 1, recognize: 1 },
  };
}

function result(pages: PageOutcome[]): DocumentResult {
  return assembleDocument({
    source: { name: 'scan.tif', format: 'tiff', bytes: 1, sha256: 'a'.repeat(64) },
    pages,
    models: [],
    now: new Date(Date.UTC(2026, 11, 2)),
  });
}

/** An 8-bit gray PNG of `raw` (one byte a pixel, row by row). */
function grayPng(raw: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(raw, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

async function blankPage(): Promise<PdfPageImage> {
  return encodePageImage(await grayPng(Buffer.alloc(WIDTH * HEIGHT, 255), WIDTH, HEIGHT));
}

describe('renderSearchablePdf', () => {
  test('makes one page per result page, sized from its pixels and DPI', async () => {
    // Prepare
    const doc = result([outcome(1, [[word('one', 20, 80)]]), outcome(2, [[word('two', 20, 80)]])]);
    const image = await blankPage();

    // Act
    const pdf = await renderSearchablePdf(
      doc,
      new Map([
        [1, image],
        [2, image],
      ]),
    );

    // Assess
    const pages = await readPdf(pdf);
    expect(pages.map((p) => [p.width, p.height])).toEqual([
      [WIDTH * POINTS, HEIGHT * POINTS],
      [WIDTH * POINTS, HEIGHT * POINTS],
    ]);
  });

  test("lays a line's words on one baseline, below the line before", async () => {
    // Prepare
    const doc = result([
      outcome(1, [
        [word('TOTAL', 20, 120), word('12.50', 400, 500, 42, 71)],
        [word('CASH', 20, 110, 100, 130)],
      ]),
    ]);

    // Act
    const pdf = await renderSearchablePdf(doc, new Map([[1, await blankPage()]]));

    // Assess: pdf.js keeps the far-apart words as two items, at one height.
    const [page] = await readPdf(pdf);
    const at = Object.fromEntries(page!.items.map((i) => [i.str.trim(), i.y]));
    expect(Object.keys(at)).toEqual(['TOTAL', '12.50', 'CASH']);
    expect(at['12.50']).toBe(at.TOTAL);
    expect(at.CASH).toBeLessThan(at.TOTAL!);
  });

  test('keeps the break between words, so extracted text has its spaces', async () => {
    // Prepare: words a normal space apart.
    const doc = result([outcome(1, [[word('like', 20, 70), word('delivery', 80, 170)]])]);

    // Act
    const pdf = await renderSearchablePdf(doc, new Map([[1, await blankPage()]]));

    // Assess
    const [page] = await readPdf(pdf);
    expect(page!.items.map((i) => i.str.trim())).toEqual(['like delivery']);
  });

  test('puts a word where its box is on the page', async () => {
    // Prepare: a box from x 300 to 450 px, its bottom at y 200 px.
    const doc = result([outcome(1, [[word('Invoice', 300, 450, 170, 200)]])]);

    // Act
    const pdf = await renderSearchablePdf(doc, new Map([[1, await blankPage()]]));

    // Assess: starts at the box's left edge, spans its width, baseline just above its bottom.
    const [{ items }] = (await readPdf(pdf)) as unknown as [{ items: PdfTextItem[] }];
    expect(items[0]!.x).toBeCloseTo(300 * POINTS, 1);
    expect(Math.abs(items[0]!.width / (150 * POINTS) - 1)).toBeLessThan(0.03);
    const bottom = (HEIGHT - 200) * POINTS;
    expect(items[0]!.y).toBeGreaterThan(bottom);
    expect(items[0]!.y).toBeLessThan(bottom + 30 * POINTS * 0.3);
  });

  test('keeps every character in the text layer, Chinese included', async () => {
    // Prepare: characters outside Latin-1, which a standard PDF font cannot encode.
    const doc = result([outcome(1, [[word('café', 20, 120), word('谢谢', 130, 190)]])]);

    // Act
    const pdf = await renderSearchablePdf(doc, new Map([[1, await blankPage()]]));

    // Assess
    const [page] = await readPdf(pdf);
    expect(page!.items.map((i) => i.str.trim())).toEqual(['café 谢谢']);
  });

  test('shows each page image as it was given', async () => {
    // Prepare: a white page with a black bar, stored as PNG (its pixels go in without re-encoding).
    const raw = Buffer.alloc(WIDTH * HEIGHT, 255);
    raw.fill(0, 100 * WIDTH, 130 * WIDTH);
    const png = await grayPng(raw, WIDTH, HEIGHT);
    const image = await encodePageImage(png);
    const doc = result([outcome(1, [[word('one', 20, 80)]])]);

    // Act
    const pdf = await renderSearchablePdf(doc, new Map([[1, image]]));

    // Assess: rendered back at the page's DPI, the same pixels.
    const opened = await openDocument(pdf, { dpi: DPI });
    const page = await opened.renderPage(0);
    await opened.close();
    const { data } = await sharp(page.png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    let difference = 0;
    for (let i = 0; i < raw.length; i++) difference += Math.abs(data[i]! - raw[i]!);
    expect([image.format, page.width, page.height]).toEqual(['png', WIDTH, HEIGHT]);
    expect(difference / raw.length).toBeLessThan(2);
  });

  test('keeps the size the page had before deskew turned it, the turned image centred on it', async () => {
    // Prepare: a 600 x 300 px page turned by 3 degrees has a 615 x 331 px canvas.
    const turned = outcome(1, [[word('Invoice', 300, 450, 170, 200)]]);
    turned.width = 615;
    turned.height = 331;
    turned.deskew = { angle: 3, orientation: 0, confidence: 0.9, applied: true };
    const png = await grayPng(Buffer.alloc(615 * 331, 255), 615, 331);

    // Act
    const pdf = await renderSearchablePdf(result([turned]), new Map([[1, await encodePageImage(png)]]));

    // Assess: the page is 600 x 300 px again, and the word moved by half the growth (7.5 px).
    const [page] = await readPdf(pdf);
    expect([page!.width, page!.height].map((v) => Math.round(v / POINTS))).toEqual([600, 300]);
    expect(page!.items[0]!.x).toBeCloseTo((300 - 7.5) * POINTS, 0);
  });

  test('refuses a result page it has no image for', async () => {
    // Prepare
    const doc = result([outcome(1, [[word('one', 20, 80)]])]);

    // Act
    const rendering = renderSearchablePdf(doc, new Map());

    // Assess
    await expect(rendering).rejects.toThrow(InvalidOptionError);
    await expect(rendering).rejects.toThrow('No image was given for page 1');
  });
});

describe('encodePageImage', () => {
  test('keeps a gray page gray', async () => {
    // Prepare
    const png = await grayPng(Buffer.alloc(64 * 32, 128), 64, 32);

    // Act
    const image = await encodePageImage(png);

    // Assess
    const meta = await sharp(image.bytes).metadata();
    expect([meta.format, meta.channels, meta.width, meta.height]).toEqual([image.format, 1, 64, 32]);
  });

  test('stores a flat page losslessly, where PNG is the smaller', async () => {
    // Prepare: white with one black bar, as clean print is.
    const raw = Buffer.alloc(400 * 200, 255);
    raw.fill(0, 100 * 400, 110 * 400);
    const png = await grayPng(raw, 400, 200);

    // Act
    const image = await encodePageImage(png);

    // Assess
    expect(image.format).toBe('png');
    const { data } = await sharp(image.bytes).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect(data.equals(raw)).toBe(true);
  });

  test('stores a photographic page as JPEG, where that is the smaller', async () => {
    // Prepare: smooth shading with sensor grain, as in a photographed receipt.
    let seed = 7;
    const raw = Buffer.alloc(400 * 200);
    for (let i = 0; i < raw.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const x = i % 400;
      const y = Math.floor(i / 400);
      raw[i] = Math.round(128 + 60 * Math.sin(x / 17) * Math.cos(y / 11) + ((seed >>> 24) % 9) - 4);
    }
    const png = await grayPng(raw, 400, 200);

    // Act
    const image = await encodePageImage(png);

    // Assess
    expect(image.format).toBe('jpeg');
    expect(image.bytes.length).toBeLessThan(png.length);
  });
});

describe('glyphlessTrueType', () => {
  test('is a well-formed TrueType font: table checksums and the whole-font checksum hold', () => {
    // Act
    const font = glyphlessTrueType();

    // Assess
    const view = new DataView(font.buffer, font.byteOffset, font.byteLength);
    const sum = (from: number, length: number): number => {
      let total = 0;
      for (let i = from; i < from + length; i += 4) {
        const word = [0, 1, 2, 3].map((k) => (i + k < from + length ? font[i + k]! : 0));
        total = (total + ((word[0]! << 24) | (word[1]! << 16) | (word[2]! << 8) | word[3]!)) >>> 0;
      }
      return total;
    };
    const tables = view.getUint16(4);
    const records = Array.from({ length: tables }, (_, k) => {
      const at = 12 + 16 * k;
      const tag = String.fromCharCode(...font.subarray(at, at + 4));
      return {
        tag,
        checksum: view.getUint32(at + 4),
        offset: view.getUint32(at + 8),
        length: view.getUint32(at + 12),
      };
    });
    const head = records.find((r) => r.tag === 'head')!;
    const adjustment = view.getUint32(head.offset + 8);
    const mismatched = records.filter((r) => r.tag !== 'head' && sum(r.offset, r.length) !== r.checksum);
    expect(records.map((r) => r.tag)).toEqual([
      'cmap',
      'glyf',
      'head',
      'hhea',
      'hmtx',
      'loca',
      'maxp',
      'name',
      'post',
    ]);
    expect(mismatched).toEqual([]);
    expect(adjustment).not.toBe(0);
    expect(sum(0, font.length)).toBe(0xb1b0afba);
  });
});

describe('sizeBeforeSkew', () => {
  test.each([
    [
      'a page turned by 3 degrees',
      2660,
      3633,
      { angle: 3.005, applied: true },
      { width: 2480, height: 3508 },
    ],
    [
      'a page turned the other way',
      2660,
      3633,
      { angle: -3.005, applied: true },
      { width: 2480, height: 3508 },
    ],
    ['a page left alone', 2480, 3508, { angle: 0.001, applied: false }, undefined],
    ['a page turned too far to tell', 3000, 3000, { angle: 40, applied: true }, undefined],
  ])('gives the size of %s', (_, width, height, deskew, expected) => {
    // Act
    const size = sizeBeforeSkew(width, height, deskew);

    // Assess: within a pixel of the original (the canvas was rounded).
    if (expected === undefined) expect(size).toBeUndefined();
    else {
      expect(Math.abs(size!.width - expected.width)).toBeLessThanOrEqual(1);
      expect(Math.abs(size!.height - expected.height)).toBeLessThanOrEqual(1);
    }
  });
});
