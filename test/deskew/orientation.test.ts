import sharp from 'sharp';
import { analyseSkew, deskewPage, plainlyUpright, turnsOver } from '../../stages/deskew/core.ts';
import {
  classifierPieces,
  lineAxisFromRegions,
  lineShape,
  rotateQuad,
  turnQuad,
  voteUpsideDown,
} from '../../stages/deskew/orientation.ts';
import { decodeRaw, toGray } from '../../stages/deskew/raster.ts';
import type { Quad, TextRegion } from '../../stages/shared/types.ts';
import { renderTextPage, rotateCcw } from './pages.ts';

const box = (x0: number, y0: number, x1: number, y1: number): TextRegion => ({
  box: [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
  ],
  score: 0.9,
});

describe('lineAxisFromRegions', () => {
  it('reads wide boxes as lines across the page', () => {
    // Prepare
    const regions = [
      box(10, 10, 400, 40),
      box(10, 60, 380, 90),
      box(10, 110, 420, 140),
      box(500, 10, 530, 40),
    ];

    // Act
    const vote = lineAxisFromRegions(regions);

    // Assess
    expect(vote.axis).toBe('h');
  });

  it('reads tall boxes as lines running down the page', () => {
    // Prepare
    const regions = [box(10, 10, 40, 400), box(60, 10, 90, 380), box(110, 10, 140, 420)];

    // Act
    const vote = lineAxisFromRegions(regions);

    // Assess
    expect(vote.axis).toBe('v');
  });

  it('does not decide from square boxes alone', () => {
    // Prepare
    const regions = [box(10, 10, 40, 40), box(60, 10, 90, 40), box(110, 10, 140, 40)];

    // Act
    const vote = lineAxisFromRegions(regions);

    // Assess
    expect(vote.axis).toBeUndefined();
  });
});

describe('rotateQuad', () => {
  it('maps a box through a clockwise quarter turn of the page, top-left first', () => {
    // Prepare: a 100 x 50 page turned 90 degrees clockwise becomes 50 x 100.
    const quad: Quad = [
      [10, 5],
      [30, 5],
      [30, 15],
      [10, 15],
    ];

    // Act
    const turned = rotateQuad(quad, 90, 100, 50, 50, 100);

    // Assess: (x, y) -> (height - y, x).
    expect(turned.map(([x, y]) => [Math.round(x), Math.round(y)])).toEqual([
      [35, 10],
      [45, 10],
      [45, 30],
      [35, 30],
    ]);
  });
});

describe('voteUpsideDown', () => {
  it('cancels a classifier that calls everything upside down', () => {
    // Prepare: biased towards 180, but more sure of it for the turned crops.
    const asIs = [{ angle: 180 as const, confidence: 0.6 }];
    const turned = [{ angle: 180 as const, confidence: 0.99 }];

    // Act
    const vote = voteUpsideDown(asIs, turned);

    // Assess
    expect(vote.upsideDown).toBe(false);
  });

  it('finds lines upside down when the turned crops read upright', () => {
    // Act
    const vote = voteUpsideDown([{ angle: 180, confidence: 0.9 }], [{ angle: 0, confidence: 0.8 }]);

    // Assess
    expect([vote.upsideDown, Number(vote.margin.toFixed(2))]).toEqual([true, 0.7]);
  });

  it('turnQuad reads a box from the other end', () => {
    // Act
    const turned = turnQuad(box(0, 0, 10, 2).box);

    // Assess
    expect(turned[0]).toEqual([10, 2]);
  });
});

describe('turnsOver', () => {
  // A weak vote for upside down: the lines read a little better turned than as they are.
  const weak = { upsideDown: true, margin: 0.2 };

  it('keeps a page read as upright when the vote for turning it over is weak', () => {
    // Act
    const flipped = turnsOver(0, weak);

    // Assess
    expect(flipped).toBe(false);
  });

  it('follows a weak vote on a page lying on its side, as either quarter turn is as likely', () => {
    // Act
    const flipped = turnsOver(90, weak);

    // Assess
    expect(flipped).toBe(true);
  });

  it('turns over a page read as upright when the vote is clear', () => {
    // Act
    const flipped = turnsOver(0, { upsideDown: true, margin: 0.6 });

    // Assess
    expect(flipped).toBe(true);
  });
});

describe('classifierPieces', () => {
  it('cuts a long line into pieces about four line heights long', () => {
    // Prepare: a 1000 x 20 line.
    const regions = [box(0, 0, 1000, 20)];

    // Act
    const pieces = classifierPieces(regions, 8, 3);

    // Assess
    expect(pieces).toHaveLength(3);
    expect(pieces.map((q) => Math.round(q[1][0] - q[0][0]))).toEqual([80, 80, 80]);
    expect(pieces.map((q) => Math.round(q[0][0]))).toEqual([0, 460, 920]);
  });
});

describe('lineShape', () => {
  // One text line across: gap, ascender zone, edge bin, x-height core, edge bin, descender zone, gap.
  const line = [0, 0, 30, 40, 200, 500, 480, 470, 500, 190, 10, 12, 0, 0];

  it('finds upright lines leaning above their core', () => {
    // Act
    const shape = lineShape([...line, ...line, ...line]);

    // Assess
    expect([shape.lines, shape.up, shape.down, shape.balance > 0.5]).toEqual([3, 3, 0, true]);
  });

  it('finds the same lines upside down leaning below it', () => {
    // Act
    const shape = lineShape([...line, ...line, ...line].reverse());

    // Assess
    expect([shape.up, shape.down, shape.balance < -0.5]).toEqual([0, 3, true]);
  });
});

describe('plainlyUpright', () => {
  let page: Buffer;

  beforeAll(async () => {
    page = await renderTextPage({ width: 1240, height: 1754, dpi: 150, words: 260, seed: 11 });
  });

  it.each([
    [0, true],
    [180, false],
    [90, false],
  ])('content turned %p degrees: upright by the profiles alone is %p', async (turn, expected) => {
    // Prepare
    const raw = await decodeRaw(await rotateCcw(page, turn + 0.7));
    const { estimates } = analyseSkew(toGray(raw), 45);

    // Act
    const upright = plainlyUpright(estimates!);

    // Assess
    expect(upright).toBe(expected);
  });
});

describe('deskewPage orientation', () => {
  let page: Buffer;

  beforeAll(async () => {
    page = await renderTextPage({ width: 1240, height: 1754, dpi: 150, words: 260, seed: 11 });
  });

  describe.each([
    [0, 1.2],
    [90, -2],
    [180, 0.7],
    [270, 3],
  ])('content turned %p degrees plus %p degrees of skew', (orientation, skew) => {
    it('finds the quarter turn and the skew and returns the page upright', async () => {
      // Prepare
      const turned = await rotateCcw(page, orientation + skew);

      // Act
      const result = await deskewPage(turned);

      // Assess
      expect(result.orientation).toBe(orientation);
      expect(Math.abs(result.angle - skew)).toBeLessThan(0.1);
      const meta = await sharp(result.png).metadata();
      expect(meta.height).toBeGreaterThan(meta.width);
    });
  });
});
