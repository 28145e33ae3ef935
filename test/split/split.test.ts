import { readFileSync } from 'node:fs';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';
import { decompressionBombPng } from '../../fixtures/corpus.ts';
import { buildPdf, buildTiff, generatePage } from '../../fixtures/generate.ts';
import { detectFormat, openDocument, SPLIT_DEFAULTS, splitDocument } from '../../stages/split/core.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).name;
  }
  return 'no error';
}

async function channels(png: Buffer): Promise<number | undefined> {
  return (await sharp(png).metadata()).channels;
}

async function a4TextPdf(pages: number): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 0; i < pages; i++) {
    doc.addPage([595.28, 841.89]).drawText(`Page ${i + 1} of the test`, { x: 72, y: 720, size: 24, font });
  }
  return Buffer.from(await doc.save());
}

async function smallPage(width = 400, height = 200): Promise<Buffer> {
  return (await generatePage({ lines: ['Split me'], width, height, margin: 10 })).png;
}

describe('detectFormat', () => {
  it.each([
    ['pdf', Buffer.from('%PDF-1.7\n')],
    ['pdf', Buffer.concat([Buffer.from('junk before the header\n'), Buffer.from('%PDF-1.4\n')])],
    ['png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0])],
    ['jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xe0])],
    ['tiff', Buffer.from([0x49, 0x49, 0x2a, 0x00])],
    ['tiff', Buffer.from([0x4d, 0x4d, 0x00, 0x2a])],
    ['webp', Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1')],
  ])('recognises %s from magic bytes', (expected, bytes) => {
    // Act
    const format = detectFormat(bytes);
    // Assess
    expect(format).toBe(expected);
  });

  it.each([
    ['text', Buffer.from('just some words')],
    ['GIF', Buffer.from('GIF89a\x01\x00', 'latin1')],
    ['ZIP', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0])],
  ])('names %s in the UnsupportedFormat message', (detected, bytes) => {
    // Act
    const act = () => detectFormat(bytes);
    // Assess
    expect(act).toThrow(
      expect.objectContaining({ name: 'UnsupportedFormat', message: expect.stringContaining(detected) }),
    );
  });
});

describe('openDocument: PDF', () => {
  it('renders an A4 page at 300 DPI as 2480x3508', async () => {
    // Prepare
    const doc = await openDocument(await a4TextPdf(1));
    // Act
    const page = await doc.renderPage(0);
    await doc.close();
    // Assess
    expect([page.width, page.height, page.dpi]).toEqual([2480, 3508, 300]);
    expect(await sharp(page.png).metadata()).toMatchObject({ width: 2480, height: 3508, format: 'png' });
  });

  it('renders at the requested dpi', async () => {
    // Prepare
    const doc = await openDocument(await a4TextPdf(1), { dpi: 150 });
    // Act
    const page = await doc.renderPage(0);
    await doc.close();
    // Assess
    expect([page.width, page.height, page.dpi]).toEqual([1240, 1754, 150]);
  });

  it('draws the text of a PDF that uses a standard (non-embedded) font', async () => {
    // Prepare
    const doc = await openDocument(await a4TextPdf(1), { dpi: 72 });
    // Act
    const page = await doc.renderPage(0);
    await doc.close();
    // Assess: text near the top (y = 720 pt from the bottom) makes dark pixels there.
    const stats = await sharp(page.png).extract({ left: 60, top: 100, width: 300, height: 40 }).stats();
    expect(stats.channels[0]!.min).toBeLessThan(80);
  });

  it('stores black-and-white pages as one gray channel', async () => {
    // Prepare
    const doc = await openDocument(await a4TextPdf(1), { dpi: 72 });
    // Act
    const page = await doc.renderPage(0);
    await doc.close();
    // Assess
    expect(await channels(page.png)).toBe(1);
  });

  it('counts pages and yields them in order', async () => {
    // Prepare
    const bytes = await a4TextPdf(3);
    // Act
    const indexes: number[] = [];
    for await (const page of splitDocument(bytes, { dpi: 72 })) indexes.push(page.index);
    // Assess
    expect(indexes).toEqual([0, 1, 2]);
  });

  it('keeps the size of an image-only PDF page made at 300 DPI', async () => {
    // Prepare
    const png = await smallPage(600, 300);
    const bytes = await buildPdf([{ png, dpi: 300 }]);
    // Act
    const doc = await openDocument(bytes);
    const page = await doc.renderPage(0);
    await doc.close();
    // Assess
    expect([page.width, page.height]).toEqual([600, 300]);
  });
});

describe('openDocument: images', () => {
  it('keeps a PNG at its size and declared density', async () => {
    // Prepare
    const png = await sharp(await smallPage(400, 200))
      .withDensity(150)
      .png()
      .toBuffer();
    // Act
    const doc = await openDocument(png);
    const page = await doc.renderPage(0);
    // Assess
    expect([doc.format, doc.pageCount, page.width, page.height, page.dpi]).toEqual(['png', 1, 400, 200, 150]);
  });

  it('passes an 8-bit PNG on as it was uploaded', async () => {
    // Prepare
    const png = await smallPage(400, 200);
    // Act
    const page = await (await openDocument(png)).renderPage(0);
    // Assess: the very bytes, no second encoding.
    expect(page.png.equals(png)).toBe(true);
  });

  it('writes an interlaced PNG again, plainly', async () => {
    // Prepare
    const interlaced = await sharp(await smallPage(400, 200))
      .png({ progressive: true })
      .toBuffer();
    // Act
    const page = await (await openDocument(interlaced)).renderPage(0);
    // Assess
    expect(await sharp(page.png).metadata()).toMatchObject({ isProgressive: false, width: 400, height: 200 });
  });

  it('uses 300 DPI when the image declares no density', async () => {
    // Prepare
    const png = await sharp({ create: { width: 50, height: 40, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    // Act
    const page = await (await openDocument(png)).renderPage(0);
    // Assess
    expect(page.dpi).toBe(300);
  });

  it('uses 300 DPI for a PNG without a pHYs chunk, not the 72 libvips reports', async () => {
    // Prepare: drop the pHYs chunk sharp writes, as many scanners and converters do.
    const withPhys = await sharp({ create: { width: 50, height: 40, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    const png = withoutPngChunk(withPhys, 'pHYs');
    // Act
    const page = await (await openDocument(png)).renderPage(0);
    // Assess
    expect(page.dpi).toBe(300);
  });

  it('uses 300 DPI for a JPEG whose JFIF density has no unit', async () => {
    // Prepare: sharp writes JFIF units 0 (aspect ratio only) unless a density is given.
    const jpeg = await sharp({ create: { width: 50, height: 40, channels: 3, background: '#fff' } })
      .jpeg()
      .toBuffer();
    // Act
    const page = await (await openDocument(jpeg)).renderPage(0);
    // Assess
    expect(page.dpi).toBe(300);
  });

  it('keeps the density a JPEG declares', async () => {
    // Prepare
    const jpeg = await sharp({ create: { width: 50, height: 40, channels: 3, background: '#fff' } })
      .jpeg()
      .withMetadata({ density: 200 })
      .toBuffer();
    // Act
    const page = await (await openDocument(jpeg)).renderPage(0);
    // Assess
    expect(page.dpi).toBe(200);
  });

  it('applies the EXIF orientation of a JPEG', async () => {
    // Prepare: stored 400x200, orientation 6 = displayed rotated 90 degrees clockwise.
    const jpeg = await sharp(await smallPage(400, 200))
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    // Act
    const page = await (await openDocument(jpeg)).renderPage(0);
    // Assess
    expect([page.width, page.height]).toEqual([200, 400]);
  });

  it('reads WebP', async () => {
    // Prepare
    const webp = await sharp(await smallPage(320, 160))
      .webp({ lossless: true })
      .toBuffer();
    // Act
    const doc = await openDocument(webp);
    const page = await doc.renderPage(0);
    // Assess
    expect([doc.format, page.width, page.height]).toEqual(['webp', 320, 160]);
  });

  it('keeps colour pages RGB and gray pages gray', async () => {
    // Prepare
    const colour = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#c03020' } })
      .png()
      .toBuffer();
    const gray = await smallPage(40, 20);
    // Act
    const outColour = await (await openDocument(colour)).renderPage(0);
    const outGray = await (await openDocument(gray)).renderPage(0);
    // Assess
    expect([await channels(outColour.png), await channels(outGray.png)]).toEqual([3, 1]);
  });

  it.each([
    ['16-bit gray PNG', 'grey16', 'png', 1],
    ['16-bit RGB PNG', 'rgb16', 'png', 3],
    ['CMYK JPEG', 'cmyk', 'jpeg', 3],
  ] as const)('converts a %s to 8-bit', async (_what, space, format, expectedChannels) => {
    // Prepare
    const input = await sharp({ create: { width: 30, height: 20, channels: 3, background: '#a37' } })
      .toColourspace(space)
      .toFormat(format)
      .toBuffer();
    // Act
    const page = await (await openDocument(input)).renderPage(0);
    // Assess
    expect(await sharp(page.png).metadata()).toMatchObject({ depth: 'uchar', channels: expectedChannels });
  });

  it('flattens transparency onto white', async () => {
    // Prepare
    const transparent = await sharp({
      create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    // Act
    const page = await (await openDocument(transparent)).renderPage(0);
    // Assess
    const stats = await sharp(page.png).stats();
    expect(stats.channels.map((c) => c.min)).toEqual(stats.channels.map(() => 255));
  });

  it('splits a multi-page TIFF into its pages', async () => {
    // Prepare
    const png = await smallPage(300, 120);
    const tiff = await buildTiff([png, png, png], { dpi: 200 });
    // Act
    const pages = [];
    for await (const page of splitDocument(tiff)) pages.push(page);
    // Assess
    expect(pages.map((p) => [p.index, p.width, p.height, p.dpi])).toEqual([
      [0, 300, 120, 200],
      [1, 300, 120, 200],
      [2, 300, 120, 200],
    ]);
  });

  it('reads a 1-bit fax (CCITT G4) TIFF as 8-bit gray', async () => {
    // Prepare
    const tiff = await buildTiff([await smallPage(300, 120)], { compression: 'ccittfax4' });
    // Act
    const page = await (await openDocument(tiff)).renderPage(0);
    // Assess
    expect(await sharp(page.png).metadata()).toMatchObject({ channels: 1, depth: 'uchar', width: 300 });
  });
});

describe('openDocument: bad input', () => {
  it.each([
    ['EmptyDocument', 'zero bytes', async () => Buffer.alloc(0), {}],
    ['UnsupportedFormat', 'a text file', async () => Buffer.from('hello'), {}],
    ['CorruptDocument', 'a cut PDF', async () => fixture('bad/truncated.pdf'), {}],
    ['CorruptDocument', 'a cut PNG', async () => fixture('bad/truncated.png'), {}],
    ['EncryptedDocument', 'an AES-256 PDF', async () => fixture('bad/encrypted.pdf'), {}],
    ['EmptyDocument', 'a PDF with no pages', async () => fixture('bad/no-pages.pdf'), {}],
    ['TooManyPages', 'more PDF pages than maxPages', async () => a4TextPdf(3), { maxPages: 2 }],
    [
      'TooManyPages',
      'more TIFF pages than maxPages',
      async () => buildTiff([await smallPage(), await smallPage()]),
      { maxPages: 1 },
    ],
    ['TooManyPixels', 'a PNG bomb', async () => decompressionBombPng(), {}],
    [
      'TooManyPixels',
      'a PDF page over maxPixels at 300 DPI',
      async () => a4TextPdf(1),
      { maxPixels: 8_000_000 },
    ],
    ['DocumentTooLarge', 'more bytes than maxBytes', async () => smallPage(), { maxBytes: 100 }],
    ['InvalidOption', 'a dpi below 72', async () => smallPage(), { dpi: 50 }],
    ['InvalidOption', 'an unknown option', async () => smallPage(), { pages: 3 }],
  ] as const)('throws %s for %s', async (code, _what, bytes, options) => {
    // Prepare
    const input = await bytes();
    // Act
    const got = await codeOf(openDocument(input, options as never));
    // Assess
    expect(got).toBe(code);
  });

  it('rejects a page index outside the document', async () => {
    // Prepare
    const doc = await openDocument(await smallPage());
    // Act
    const got = await codeOf(doc.renderPage(1));
    // Assess
    expect(got).toBe('InvalidOption');
  });

  it('refuses to render after close', async () => {
    // Prepare
    const doc = await openDocument(await a4TextPdf(1), { dpi: 72 });
    await doc.close();
    // Act
    const got = await codeOf(doc.renderPage(0));
    // Assess
    expect(got).toBe('InvalidOption');
  });

  it('exports the documented defaults', () => {
    // Assess
    expect(SPLIT_DEFAULTS).toEqual({
      dpi: 300,
      maxPages: 500,
      maxPixels: 120_000_000,
      maxBytes: 200 * 1024 * 1024,
    });
  });
});

/** The PNG with every chunk of the given type removed (CRCs stay valid: each chunk carries its own). */
function withoutPngChunk(png: Buffer, type: string): Buffer {
  const kept: Buffer[] = [png.subarray(0, 8)];
  for (let offset = 8; offset < png.length; ) {
    const end = offset + 12 + png.readUInt32BE(offset);
    if (png.toString('latin1', offset + 4, offset + 8) !== type) kept.push(png.subarray(offset, end));
    offset = end;
  }
  return Buffer.concat(kept);
}
