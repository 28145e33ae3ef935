import { dbPostprocess, detectText, findVerticalRuns, readingOrder } from '../../stages/detect/core.ts';
import { InvalidOptionError } from '../../stages/shared/errors.ts';
import { quadBounds, type RotatedRect, rectToQuad, rowOffset } from '../../stages/shared/geometry.ts';
import type { Quad, TextRegion } from '../../stages/shared/types.ts';
import { tiltedColumnLine } from '../support/layout.ts';
import { renderPage } from './render.ts';

function centre(box: Quad): { x: number; y: number } {
  return { x: box.reduce((s, p) => s + p[0], 0) / 4, y: box.reduce((s, p) => s + p[1], 0) / 4 };
}

describe('detectText', () => {
  test('finds one box per rendered line, top to bottom, each enclosing its text', async () => {
    // Prepare
    const page = await renderPage(1240, 900, [
      { text: 'Invoice 2024-001 Total 42.50', left: 120, top: 150 },
      { text: 'Delivery address: 12 Harbour Road', left: 120, top: 300 },
      { text: 'Payment due within 30 days', left: 120, top: 450 },
    ]);

    // Act
    const result = await detectText(page.png);

    // Assess
    expect(result).toMatchObject({ width: 1240, height: 900 });
    expect(result.regions).toHaveLength(3);
    result.regions.forEach((region, i) => {
      const b = quadBounds(region.box);
      const truth = page.boxes[i]!;
      // The text image has a little padding around the ink; the box may sit inside it by a few pixels.
      expect(b.x0).toBeLessThanOrEqual(truth.x0 + 8);
      expect(b.x1).toBeGreaterThanOrEqual(truth.x1 - 8);
      expect(b.y0).toBeLessThanOrEqual(truth.y0 + 8);
      expect(b.y1).toBeGreaterThanOrEqual(truth.y1 - 8);
      // ...and does not take in the neighbouring lines.
      expect(b.y1 - b.y0).toBeLessThan((truth.y1 - truth.y0) * 2);
      expect(region.score).toBeGreaterThan(0.5);
    });
  });

  test('reads a two-column page column by column', async () => {
    // Prepare
    // Lines fill their columns and the gutter is narrow, as in a typeset page.
    const left = [
      'The quick brown fox jumps over the lazy dog',
      'while the farmer sleeps soundly under an old',
      'oak tree at the far end of the long meadow,',
      'dreaming of rain and a richer harvest soon.',
    ];
    const right = [
      'Meanwhile in the city the market opens at',
      'seven and the traders shout their prices',
      'across the busy square to anyone who will',
      'listen, as the first customers arrive there.',
    ];
    const page = await renderPage(2480, 1000, [
      ...left.map((text, i) => ({ text, left: 150, top: 200 + i * 110 })),
      ...right.map((text, i) => ({ text, left: 1300, top: 200 + i * 110 })),
    ]);

    // Act
    const { regions } = await detectText(page.png);

    // Assess
    const centres = regions.map((r) => centre(r.box));
    expect(centres).toHaveLength(8);
    expect(centres.slice(0, 4).every((c) => c.x < 1240)).toBe(true);
    expect(centres.slice(4).every((c) => c.x > 1240)).toBe(true);
    for (let i = 1; i < 4; i++) {
      expect(centres[i]!.y).toBeGreaterThan(centres[i - 1]!.y);
      expect(centres[i + 4]!.y).toBeGreaterThan(centres[i + 3]!.y);
    }
  });

  test('rejects an out-of-range option, naming it', async () => {
    // Prepare
    const page = await renderPage(400, 200, [{ text: 'x', left: 10, top: 10 }]);

    // Act
    const detecting = detectText(page.png, { boxThreshold: 2 });

    // Assess
    await expect(detecting).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(detecting).rejects.toThrow(/boxThreshold/);
  });

  test('rejects an unknown option', async () => {
    // Act
    const detecting = detectText(Buffer.from('x'), { boxThresh: 0.5 } as never);

    // Assess
    await expect(detecting).rejects.toThrow(/Unknown option 'boxThresh'/);
  });
});

describe('dbPostprocess', () => {
  function mapWith(
    rects: Array<{ x0: number; y0: number; x1: number; y1: number; p: number }>,
    w = 200,
    h = 100,
  ) {
    const prob = new Float32Array(w * h);
    for (const r of rects) {
      for (let y = r.y0; y < r.y1; y++) for (let x = r.x0; x < r.x1; x++) prob[y * w + x] = r.p;
    }
    return prob;
  }

  test('grows a text kernel back by area * ratio / perimeter on every side', () => {
    // Prepare: a 100 x 10 kernel of probability 0.9.
    const prob = mapWith([{ x0: 50, y0: 40, x1: 150, y1: 50, p: 0.9 }]);

    // Act
    const boxes = dbPostprocess(prob, 200, 100, { unclipRatio: 1.5 });

    // Assess: d = 1000 * 1.5 / 220.
    const d = (1000 * 1.5) / 220;
    expect(boxes).toHaveLength(1);
    expect(boxes[0]!.rect.width).toBeCloseTo(100 + 2 * d, 5);
    expect(boxes[0]!.rect.height).toBeCloseTo(10 + 2 * d, 5);
    expect(boxes[0]!.score).toBeCloseTo(0.9, 5);
    expect(boxes[0]!.box[0][0]).toBeCloseTo(50 - d, 5);
    expect(boxes[0]!.box[0][1]).toBeCloseTo(40 - d, 5);
  });

  test('drops kernels whose mean probability is below the box threshold', () => {
    // Prepare
    const prob = mapWith([
      { x0: 10, y0: 10, x1: 80, y1: 20, p: 0.45 },
      { x0: 10, y0: 60, x1: 80, y1: 70, p: 0.8 },
    ]);

    // Act
    const boxes = dbPostprocess(prob, 200, 100, { boxThreshold: 0.5 });

    // Assess
    expect(boxes).toHaveLength(1);
    expect(boxes[0]!.rect.cy).toBeCloseTo(65, 5);
  });

  test('drops specks smaller than the minimum size', () => {
    // Prepare
    const prob = mapWith([{ x0: 10, y0: 10, x1: 12, y1: 12, p: 0.9 }]);

    // Act
    const boxes = dbPostprocess(prob, 200, 100);

    // Assess
    expect(boxes).toEqual([]);
  });
});

describe('readingOrder', () => {
  function region(x0: number, y0: number, x1: number, y1: number): TextRegion {
    return {
      box: rectToQuad({ cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, width: x1 - x0, height: y1 - y0, angle: 0 }),
      score: 1,
    };
  }

  test('keeps a receipt row together: label, then its price, then the next row', () => {
    // Prepare
    const rows = [0, 1, 2, 3].flatMap((i) => [
      region(20, 100 + i * 40, 200, 130 + i * 40),
      region(600, 100 + i * 40, 680, 130 + i * 40),
    ]);
    const shuffled = [rows[5]!, rows[0]!, rows[7]!, rows[2]!, rows[1]!, rows[6]!, rows[3]!, rows[4]!];

    // Act
    const ordered = readingOrder(shuffled);

    // Assess
    expect(ordered).toEqual(rows);
  });

  test('reads a full-width heading before the columns beneath it', () => {
    // Prepare
    const heading = region(100, 20, 1100, 60);
    const left = [0, 1, 2, 3].map((i) => region(100, 100 + i * 40, 560, 130 + i * 40));
    const right = [0, 1, 2, 3].map((i) => region(640, 100 + i * 40, 1100, 130 + i * 40));

    // Act
    const ordered = readingOrder([...right, heading, ...left]);

    // Assess
    expect(ordered).toEqual([heading, ...left, ...right]);
  });

  test('reads two columns apart when their boxes leave a gutter of under a line height', () => {
    // Prepare: 30 px lines whose boxes are 15 px apart (their ink some 35 px apart).
    const left = [0, 1, 2, 3].map((i) => region(100, 100 + i * 40, 560, 130 + i * 40));
    const right = [0, 1, 2, 3].map((i) => region(575, 100 + i * 40, 1035, 130 + i * 40));

    // Act
    const ordered = readingOrder([...right, ...left].reverse());

    // Assess
    expect(ordered).toEqual([...left, ...right]);
  });

  test('reads a table of short cells row by row, though a heading below widens its left side', () => {
    // Prepare: three rows of a 200 px cell and a long one 15 px apart, then a heading further left
    // (a form's `BULL DURHAM  Filter Box` rows above `REMARKS`). The left side spans 260 px, wide
    // enough for a column, but its cells are short lines.
    const rows = [0, 1, 2].flatMap((i) => [
      region(80, 100 + i * 40, 280, 130 + i * 40),
      region(295, 100 + i * 40, 900, 130 + i * 40),
    ]);
    const heading = region(20, 220, 120, 250);

    // Act
    const ordered = readingOrder([heading, ...rows].reverse());

    // Assess
    expect(ordered).toEqual([...rows, heading]);
  });

  test('reads labels and the narrow column of prices beside them row by row, not as two columns', () => {
    // Prepare: labels that end at a 40 px gap before prices 80 px wide, over six rows.
    const rows = [0, 1, 2, 3, 4, 5].flatMap((i) => [
      region(20, 100 + i * 40, 380, 130 + i * 40),
      region(420, 100 + i * 40, 500, 130 + i * 40),
    ]);

    // Act
    const ordered = readingOrder([...rows].reverse());

    // Assess
    expect(ordered).toEqual(rows);
  });

  test('reads the lines of a column still tilted after the page was straightened one by one', () => {
    // Prepare: a book spread whose halves were scanned at different angles, so straightening the
    // page as a whole leaves the left half turned 3 degrees clockwise (each line starts left of the
    // one above) and the right half straight.
    const left = [0, 1, 2, 3, 4, 5].map((row): TextRegion => ({ box: tiltedColumnLine(row, 3), score: 1 }));
    const right = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => region(1250, 185 + i * 40, 2250, 215 + i * 40));

    // Act
    const ordered = readingOrder([...right].reverse().concat([...left].reverse()));

    // Assess
    expect(ordered).toEqual([...left, ...right]);
  });
});

describe('rowOffset', () => {
  const line = (cx: number, cy: number, width: number, height: number, degrees = 0): RotatedRect => ({
    cx,
    cy,
    width,
    height,
    angle: (degrees * Math.PI) / 180,
  });

  test('is the distance between level lines over half the taller height', () => {
    // Act
    const offset = rowOffset(line(200, 100, 300, 30), line(700, 112, 100, 20));

    // Assess
    expect(offset).toBeCloseTo(12 / 15, 10);
  });

  test('is zero for a piece that lies on the longer line of a tilted row, however far along it', () => {
    // Prepare: a 5-degree row; the piece sits 900 px further along it, 79 px lower on the page.
    const angle = (5 * Math.PI) / 180;

    // Act
    const offset = rowOffset(
      line(200, 100, 600, 30, 5),
      line(200 + 900 * Math.cos(angle), 100 + 900 * Math.sin(angle), 80, 30, 5),
    );

    // Assess
    expect(offset).toBeCloseTo(0, 10);
  });
});

describe('findVerticalRuns', () => {
  function box(x0: number, y0: number, x1: number, y1: number): TextRegion {
    return {
      box: rectToQuad({ cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, width: x1 - x0, height: y1 - y0, angle: 0 }),
      score: 0.8,
    };
  }
  // Ordinary lines around, so the median line thickness is that of body text (16 px).
  const body = [0, 1, 2, 3, 4].map((i) => box(40, 40 + i * 30, 400, 56 + i * 30));

  test('finds a stack of sideways characters and the quad that reads it down the page', () => {
    // Prepare: six glyphs on their side, 20 wide and 15 tall, their boxes overlapping a little.
    const stack = [0, 1, 2, 3, 4, 5].map((i) => box(600, 300 + i * 14, 620, 315 + i * 14));

    // Act
    const runs = findVerticalRuns([...body, ...stack]);

    // Assess
    expect(runs).toHaveLength(1);
    expect(runs[0]!.members).toEqual([5, 6, 7, 8, 9, 10]);
    expect(runs[0]!.box).toEqual([
      [620, 300],
      [620, 385],
      [600, 385],
      [600, 300],
    ]);
  });

  test('leaves columns of upright single characters and of amounts alone', () => {
    // Prepare: list numbers (taller than wide) and prices (much wider than tall), one per row.
    const numbers = [0, 1, 2, 3, 4, 5].map((i) => box(500, 300 + i * 20, 510, 318 + i * 20));
    const prices = [0, 1, 2, 3, 4, 5].map((i) => box(560, 300 + i * 20, 600, 318 + i * 20));

    // Act
    const runs = findVerticalRuns([...body, ...numbers, ...prices]);

    // Assess
    expect(runs).toEqual([]);
  });
});
