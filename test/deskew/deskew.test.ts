import sharp from 'sharp';
import { deskewPage } from '../../stages/deskew/core.ts';
import { CorruptDocumentError, InvalidOptionError } from '../../stages/shared/errors.ts';
import { renderTextPage, rotateCcw } from './pages.ts';

let page: Buffer;

beforeAll(async () => {
  // A 150 DPI A4 page keeps the suite fast; the estimator reduces 300 DPI pages to this size anyway.
  page = await renderTextPage({ width: 1240, height: 1754, dpi: 150, words: 260, seed: 7 });
});

describe('deskewPage skew angle', () => {
  describe.each([-30, -7.5, -1.3, 0.4, 12, 44])('content turned %p degrees counter-clockwise', (truth) => {
    it('reports the angle within 0.1 degree and straightens the page', async () => {
      // Prepare
      const skewed = await rotateCcw(page, truth);

      // Act
      const result = await deskewPage(skewed, { detectOrientation: false });

      // Assess
      expect(Math.abs(result.angle - truth)).toBeLessThan(0.1);
      expect(result.applied).toBe(true);
      expect(result.orientation).toBe(0);
    });
  });

  it('leaves no measurable skew in the page it returns', async () => {
    // Prepare
    const skewed = await rotateCcw(page, 5.3);

    // Act
    const first = await deskewPage(skewed, { detectOrientation: false });
    const second = await deskewPage(first.png, { detectOrientation: false });

    // Assess
    expect(Math.abs(second.angle)).toBeLessThan(0.1);
  });

  it('expands the canvas so no corner of the content is cut off', async () => {
    // Prepare
    const skewed = await rotateCcw(page, 10);
    const before = await sharp(skewed).metadata();

    // Act
    const result = await deskewPage(skewed, { detectOrientation: false });

    // Assess: a clockwise turn of a w x h image by 10 degrees needs w cos + h sin wide.
    const r = (10 * Math.PI) / 180;
    expect(result.width).toBeGreaterThanOrEqual(
      Math.floor(before.width * Math.cos(r) + before.height * Math.sin(r)),
    );
  });

  it('keeps a gray page gray', async () => {
    // Prepare
    const skewed = await rotateCcw(page, 2);

    // Act
    const result = await deskewPage(skewed, { detectOrientation: false });

    // Assess
    expect((await sharp(result.png).metadata()).channels).toBe(1);
  });

  it('does not resample for an angle below minAngle', async () => {
    // Prepare
    const skewed = await rotateCcw(page, 0.4);

    // Act
    const result = await deskewPage(skewed, { detectOrientation: false, minAngle: 1 });

    // Assess
    expect(result.applied).toBe(false);
    expect(result.reason).toMatch(/below 1 degree/);
    expect(result.png).toBe(skewed);
  });

  it('finds only angles within maxAngle', async () => {
    // Prepare
    const skewed = await rotateCcw(page, 3);

    // Act
    const result = await deskewPage(skewed, { detectOrientation: false, maxAngle: 2 });

    // Assess
    expect(Math.abs(result.angle)).toBeLessThanOrEqual(2.2);
  });
});

describe('deskewPage on pages without text', () => {
  it('leaves a blank page alone with a reason', async () => {
    // Prepare
    const blank = await sharp({ create: { width: 1240, height: 1754, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();

    // Act
    const result = await deskewPage(blank);

    // Assess
    expect(result.applied).toBe(false);
    expect(result.reason).toMatch(/no text/);
    expect(result.png).toBe(blank);
    expect([result.width, result.height, result.confidence]).toEqual([1240, 1754, 0]);
  });

  it('leaves a page with a few specks alone', async () => {
    // Prepare
    const specks = [
      [100, 200],
      [900, 300],
      [400, 1500],
    ].map(([left, top]) => ({
      input: { create: { width: 4, height: 4, channels: 3 as const, background: '#000000' } },
      left: left!,
      top: top!,
    }));
    const speckled = await sharp({
      create: { width: 1240, height: 1754, channels: 3, background: '#ffffff' },
    })
      .composite(specks)
      .png()
      .toBuffer();

    // Act
    const result = await deskewPage(speckled);

    // Assess
    expect(result.applied).toBe(false);
    expect(result.reason).toBeDefined();
  });

  it('leaves a single short word alone: too few ink pixels for a line angle', async () => {
    // Prepare
    const word = await sharp({ text: { text: 'Hi', dpi: 72 } })
      .negate()
      .png()
      .toBuffer();

    // Act
    const result = await deskewPage(word);

    // Assess
    expect(result.applied).toBe(false);
    expect(result.reason).toMatch(/too little text/);
  });
});

describe('deskewPage input checks', () => {
  it.each([
    [{ maxAngle: 60 }, /maxAngle/],
    [{ minAngle: -1 }, /minAngle/],
    [{ minConfidence: 2 }, /minConfidence/],
    [{ detectOrientation: 'yes' }, /detectOrientation/],
    [{ angle: 3 }, /Unknown option 'angle'/],
  ])('rejects %p before decoding the page', async (options, message) => {
    // Prepare
    const notAnImage = Buffer.from('not an image');

    // Act
    const run = deskewPage(notAnImage, options as never);

    // Assess
    await expect(run).rejects.toThrow(InvalidOptionError);
    await expect(run).rejects.toThrow(message);
  });

  it('reports an undecodable page as a corrupt document', async () => {
    // Prepare
    const notAnImage = Buffer.from('not an image');

    // Act
    const run = deskewPage(notAnImage);

    // Assess
    await expect(run).rejects.toThrow(CorruptDocumentError);
  });
});
