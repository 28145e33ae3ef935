import { jest } from '@jest/globals';
import sharp from 'sharp';
import { detectText } from '../../stages/detect/core.ts';
import {
  classGroups,
  classifyLines,
  type DecodedLine,
  darken,
  normaliseText,
  recognizeLines,
  recognizeText,
  restoreSpaces,
} from '../../stages/recognize/core.ts';
import { countNonWords, englishLexicon } from '../../stages/recognize/lexicon.ts';
import { InvalidOptionError } from '../../stages/shared/errors.ts';
import { quadBounds } from '../../stages/shared/geometry.ts';
import { getModelStore } from '../../stages/shared/model-store.ts';
import { renderPage, rotate180, textImage } from '../detect/render.ts';

const LINES = [
  'Invoice 2024-001 Total 42.50',
  'Delivery to 12 Harbour Road, Leeds',
  'Payment due within 30 days',
];

// Rendering and detection are shared (they are not what these tests check) to keep the file fast.
let rendered: Promise<{ png: Buffer; turned: Buffer }> | undefined;
function page(): Promise<{ png: Buffer; turned: Buffer }> {
  rendered ??= renderPage(
    1240,
    700,
    LINES.map((text, i) => ({ text, left: 120, top: 120 + i * 160 })),
  ).then(async ({ png }) => ({ png, turned: await rotate180(png) }));
  return rendered;
}
const detections = new Map<Buffer, ReturnType<typeof detectText>>();
function detect(png: Buffer): ReturnType<typeof detectText> {
  if (!detections.has(png)) detections.set(png, detectText(png));
  return detections.get(png)!;
}

describe('recognizeText', () => {
  test('reads clean rendered lines exactly, spaces included, in order', async () => {
    // Prepare
    const { png } = await page();
    const detection = await detect(png);

    // Act
    const result = await recognizeText(png, detection);

    // Assess
    expect(result.lines.map((l) => l.text)).toEqual(LINES);
    expect(result.lines.every((l) => l.confidence > 0.9 && !l.rotated180)).toBe(true);
  });

  test('splits each line into words whose boxes run left to right inside the line', async () => {
    // Prepare
    const { png } = await page();
    const detection = await detect(png);

    // Act
    const [line] = (await recognizeText(png, detection)).lines;

    // Assess
    expect(line!.words.map((w) => w.text)).toEqual(['Invoice', '2024-001', 'Total', '42.50']);
    const lineBounds = quadBounds(line!.box);
    const wordBounds = line!.words.map((w) => quadBounds(w.box));
    for (const [i, b] of wordBounds.entries()) {
      expect(b.x0).toBeGreaterThanOrEqual(lineBounds.x0 - 1);
      expect(b.x1).toBeLessThanOrEqual(lineBounds.x1 + 1);
      if (i > 0) expect(b.x0).toBeGreaterThan(wordBounds[i - 1]!.x0);
      expect(line!.words[i]!.confidence).toBeGreaterThan(0.8);
    }
  });

  test('reads an upside-down page line by line through the 0/180 classifier', async () => {
    // Prepare
    const png = (await page()).turned;
    const detection = await detect(png);

    // Act
    const result = await recognizeText(png, detection);

    // Assess: turned lines come bottom-up, each read the right way round.
    expect(result.lines.map((l) => l.text).sort()).toEqual([...LINES].sort());
    expect(result.lines.every((l) => l.rotated180 === true)).toBe(true);
    // The box starts at the text's own top-left, which is now at the bottom right of the page.
    const first = result.lines[0]!;
    expect(first.box[0][0]).toBeGreaterThan(first.box[2][0]);
  });

  test('classifies every line once a sampled line looks turned', async () => {
    // Prepare: only the widest line is sampled; the page is turned as a whole.
    const png = (await page()).turned;
    const detection = await detect(png);

    // Act
    const result = await recognizeText(png, detection, { classifySample: 1 });

    // Assess
    expect(result.lines.map((l) => l.text).sort()).toEqual([...LINES].sort());
    expect(result.lines.every((l) => l.rotated180 === true)).toBe(true);
  });

  test('rejects an out-of-range option, naming it', async () => {
    // Prepare
    const { png } = await page();

    // Act
    const reading = recognizeText(png, { width: 1, height: 1, regions: [] }, { minConfidence: 3 });

    // Assess
    await expect(reading).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(reading).rejects.toThrow(/minConfidence/);
  });

  test('rejects a confusion-repair switch that is not a boolean, naming it', async () => {
    // Prepare
    const { png } = await page();
    const options = { correctConfusions: 'yes' } as unknown as { correctConfusions: boolean };

    // Act
    const reading = recognizeText(png, { width: 1, height: 1, regions: [] }, options);

    // Assess
    await expect(reading).rejects.toThrow(/correctConfusions/);
  });

  test('rejects a re-reading threshold outside 0 to 1, naming it', async () => {
    // Prepare
    const { png } = await page();

    // Act
    const reading = recognizeText(png, { width: 1, height: 1, regions: [] }, { reread: 1.5 });

    // Assess
    await expect(reading).rejects.toThrow(/reread/);
  });

  test('rejects a non-word re-reading switch that is not a boolean, naming it', async () => {
    // Prepare
    const { png } = await page();
    const options = { rereadNonWords: 1 } as unknown as { rereadNonWords: boolean };

    // Act
    const reading = recognizeText(png, { width: 1, height: 1, regions: [] }, options);

    // Assess
    await expect(reading).rejects.toThrow(/rereadNonWords/);
  });

  test('returns no lines for a page without regions', async () => {
    // Prepare
    const { png } = await page();

    // Act
    const result = await recognizeText(png, { width: 1240, height: 700, regions: [] });

    // Assess
    expect(result).toEqual({ width: 1240, height: 700, lines: [] });
  });

  test('reads a gray page (decoded as one band) exactly as the same page in colour', async () => {
    // Prepare
    const { png } = await page();
    const gray = await sharp(png).removeAlpha().toColourspace('b-w').png().toBuffer();
    const colour = await sharp(gray).toColourspace('srgb').png().toBuffer();
    const regions = await detect(gray);

    // Act
    const fromGray = await recognizeText(gray, regions);
    const fromColour = await recognizeText(colour, regions);

    // Assess
    expect((await sharp(gray).metadata()).channels).toBe(1);
    expect(fromGray.lines.map(({ text, confidence, box }) => ({ text, confidence, box }))).toEqual(
      fromColour.lines.map(({ text, confidence, box }) => ({ text, confidence, box })),
    );
    expect(fromGray.lines.map((l) => l.text)).toEqual(LINES);
  });
});

describe('vertical text', () => {
  test('reads a serial number printed up the margin as one line', async () => {
    // Prepare: body text plus an 8-digit number turned a quarter (reading bottom to top).
    const page = await renderPage(1240, 900, [
      { text: 'Quarterly report of the testing laboratory', left: 100, top: 120 },
      { text: 'Samples received and analysed in March', left: 100, top: 260 },
    ]);
    const serial = await sharp(await textImage('82092117', 9))
      .rotate(-90)
      .png()
      .toBuffer();
    const png = await sharp(page.png)
      .composite([{ input: serial, left: 1150, top: 500, blend: 'multiply' }])
      .png()
      .toBuffer();

    // Act
    const result = await recognizeText(png, await detectText(png));

    // Assess
    expect(result.lines.map((l) => l.text)).toContain('82092117');
  });
});

describe('classifyLines', () => {
  test('calls upright lines 0 and turned lines 180', async () => {
    // Prepare
    const { png: upright, turned } = await page();
    const [a, b] = await Promise.all([detect(upright), detect(turned)]);

    // Act
    const [up, down] = await Promise.all([
      classifyLines(upright, a.regions),
      classifyLines(turned, b.regions),
    ]);

    // Assess
    expect(up.map((c) => c.angle)).toEqual([0, 0, 0]);
    expect(down.map((c) => c.angle)).toEqual([180, 180, 180]);
    expect(Math.min(...down.map((c) => c.confidence))).toBeGreaterThan(0.9);
  });
});

describe('recognizeLines', () => {
  test('reads a prepared line crop of any height', async () => {
    // Prepare
    const png = await textImage('Total due 1,250.00 EUR', 14);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });

    // Act
    const [line] = await recognizeLines([
      { data, width: info.width, height: info.height, channels: info.channels },
    ]);

    // Assess
    expect(line!.text).toBe('Total due 1,250.00 EUR');
    expect(line!.chars.at(-1)!.x1).toBeLessThanOrEqual(1);
  });
});

describe('restoreSpaces', () => {
  // Characters every 10 columns of a 100-column crop; ink everywhere except the given gaps.
  function line(text: string): DecodedLine {
    const chars = [...text].map((char, i) => ({
      char,
      prob: 0.9,
      x0: (i * 10 + 3) / 100,
      x1: (i * 10 + 7) / 100,
    }));
    return { text, confidence: 0.9, chars };
  }
  function ink(blank: Array<[number, number]>): Uint8Array {
    const columns = new Uint8Array(100).fill(1);
    for (const [from, to] of blank) columns.fill(0, from, to);
    return columns;
  }
  // The line with its last character moved to columns [x0, x0 + 4) of the crop.
  function moveLast(decoded: DecodedLine, x0: number): DecodedLine {
    decoded.chars.at(-1)!.x0 = x0 / 100;
    decoded.chars.at(-1)!.x1 = (x0 + 4) / 100;
    return decoded;
  }

  test('puts a space back where the ink gap is much wider than the letter gaps', () => {
    // Prepare: 'TOTALDUE' with a 7-column gap between L and D, 1-column gaps elsewhere.
    const decoded = line('TOTALDUE');
    const profile = ink([
      [9, 10],
      [19, 20],
      [29, 30],
      [47, 54],
      [59, 60],
    ]);

    // Act
    const restored = restoreSpaces(decoded, profile, {
      minColumns: 3,
      pitchFactor: 0.4,
      letterFactor: 2.5,
      centreFactor: 0,
      punctuationFactor: 2,
      strongFactor: 1.5,
      closingFactor: 1.5,
      narrowLetterFactor: 1.3,
      terminalFactor: 1,
      spaceProbability: 1,
      minMeasured: 2,
      typicalPitch: 24,
    });

    // Assess
    expect(restored.text).toBe('TOTAL DUE');
    expect(restored.confidence).toBeCloseTo(0.9);
  });

  test('keeps a colon on its word across a gap that would part two letters', () => {
    // Prepare: the last character sits 15 columns after the one before, behind a 5-column gap.
    const profile = ink([
      [9, 10],
      [19, 20],
      [29, 30],
      [39, 44],
    ]);

    // Act
    const colon = restoreSpaces(moveLast(line('NOTE:'), 48), profile);
    const letter = restoreSpaces(moveLast(line('NOTEX'), 48), profile);

    // Assess
    expect(colon.text).toBe('NOTE:');
    expect(letter.text).toBe('NOTE X');
  });

  test('keeps a full stop on its word across a gap wide enough to part two words', () => {
    // Prepare: the last character 17 columns after the one before, behind an 8-column gap, as a
    // typewriter leaves a full stop in the middle of its cell.
    const profile = ink([
      [9, 10],
      [19, 20],
      [29, 30],
      [39, 47],
    ]);

    // Act
    const stop = restoreSpaces(moveLast(line('NOTE.'), 50), profile);
    const letter = restoreSpaces(moveLast(line('NOTEX'), 50), profile);

    // Assess
    expect(stop.text).toBe('NOTE.');
    expect(letter.text).toBe('NOTE X');
  });

  test('does not split a word at the blank side of a narrow letter', () => {
    // Prepare: a 4-column gap after the fifth letter, whose neighbour sits 15 columns on.
    const shift = (decoded: DecodedLine): DecodedLine => {
      for (const c of decoded.chars.slice(5)) {
        c.x0 += 0.05;
        c.x1 += 0.05;
      }
      return decoded;
    };
    const profile = ink([
      [9, 10],
      [19, 20],
      [29, 30],
      [39, 40],
      [48, 52],
      [64, 65],
      [74, 75],
    ]);

    // Act
    const narrow = restoreSpaces(shift(line('submitted')), profile);
    const wide = restoreSpaces(shift(line('summaries')), profile);

    // Assess
    expect(narrow.text).toBe('submitted');
    expect(wide.text).toBe('summa ries');
  });

  test('puts a space where the recogniser hesitated over one, across a narrow ink gap', () => {
    // Prepare: 'BOOKTA' with 1-column gaps everywhere; the model gave a space 0.3 after the K.
    const decoded = line('BOOKTA');
    decoded.chars[3]!.spaceAfter = 0.3;
    decoded.chars[1]!.spaceAfter = 0.01;
    const profile = ink([
      [9, 10],
      [19, 20],
      [29, 30],
      [39, 40],
      [49, 50],
    ]);

    // Act
    const restored = restoreSpaces(decoded, profile);

    // Assess
    expect(restored.text).toBe('BOOK TA');
  });

  test('judges the one gap of a two-character line by a typical line, not by itself', () => {
    // Prepare: '1 X' on a receipt, 20 blank columns between the two; 'SR' with 3.
    const pair = (text: string, gap: number): { decoded: DecodedLine; profile: Uint8Array } => {
      const width = 20 + gap;
      const decoded: DecodedLine = {
        text,
        confidence: 0.9,
        chars: [
          { char: text[0]!, prob: 0.9, x0: 4 / width, x1: 8 / width },
          { char: text[1]!, prob: 0.9, x0: (12 + gap) / width, x1: (16 + gap) / width },
        ],
      };
      const profile = new Uint8Array(width).fill(1);
      profile.fill(0, 10, 10 + gap);
      return { decoded, profile };
    };
    const wide = pair('1X', 20);
    const tight = pair('SR', 3);

    // Act
    const spaced = restoreSpaces(wide.decoded, wide.profile);
    const kept = restoreSpaces(tight.decoded, tight.profile);

    // Assess
    expect(spaced.text).toBe('1 X');
    expect(kept.text).toBe('SR');
  });

  test('never splits a number at its decimal point', () => {
    // Prepare
    const decoded = line('12.50');
    const profile = ink([
      [13, 27],
      [33, 40],
    ]);

    decoded.chars[2]!.spaceAfter = 0.5;

    // Act
    const restored = restoreSpaces(decoded, profile);

    // Assess
    expect(restored.text).toBe('12.50');
  });
});

describe('darken', () => {
  test('keeps paper and ink and pushes a faded stroke towards black', () => {
    // Prepare: one pixel each of ink, faded stroke and paper, in RGB.
    const crop = {
      data: Uint8Array.from([0, 0, 0, 160, 160, 160, 255, 255, 255]),
      width: 3,
      height: 1,
      channels: 3,
      nativeWidth: 3,
    };

    // Act
    const dark = darken(crop);

    // Assess
    expect([...dark.data]).toEqual([0, 0, 0, 63, 63, 63, 255, 255, 255]);
    expect(crop.data[3]).toBe(160);
  });
});

describe('classGroups', () => {
  test('puts the full-width, circled and other-case twins of a character in its group', () => {
    // Prepare
    const classes = ['', 'x', '2', '：', 'X', '②', ':', '×', 'y', ' ', '\u3000'];

    // Act
    const groups = classGroups(classes);

    // Assess
    const members = (k: number): string[] => [...groups[k]!].map((c) => classes[c]!).sort();
    expect(members(1)).toEqual(['X', 'x', '×']);
    expect(members(2)).toEqual(['2', '②']);
    expect(members(3)).toEqual([':', '：']);
    expect(members(8)).toEqual(['y']);
    expect(members(9)).toEqual([' ', '\u3000']);
    expect(groups[4]).toBe(groups[1]);
  });
});

describe('normaliseText', () => {
  test('applies NFKC and reads checkbox glyphs as a ballot box', () => {
    // Act / Assess
    expect(normaliseText('ﬁle  口 Yes □ No')).toBe('file ☐ Yes ☐ No');
  });
});

describe('recognizeText re-reading', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  test('reads every line below the re-reading threshold a second time, darkened', async () => {
    // Prepare: a threshold of 1 makes every line unsure.
    const { png } = await page();
    const detection = await detect(png);
    const rec = await getModelStore().session('rec');
    const runs = jest.spyOn(rec, 'run');

    // Act
    const result = await recognizeText(png, detection, { classify: false, reread: 1 });

    // Assess
    expect(result.lines.map((l) => l.text)).toEqual(LINES);
    expect(runs).toHaveBeenCalledTimes(2 * detection.regions.length);
  });

  test('does not read a confidently read page again for the names and codes the word list lacks', async () => {
    // Prepare: clean print, every line holding a word no English word list has.
    const lines = ['Consignee Zorvath Quillmore', 'Account Brexlund Tavimor', 'Depot Klattwick Oberzan'];
    const { png } = await renderPage(
      1240,
      560,
      lines.map((text, i) => ({ text, left: 120, top: 120 + i * 140 })),
    );
    const detection = await detect(png);
    const rec = await getModelStore().session('rec');
    const runs = jest.spyOn(rec, 'run');

    // Act
    const result = await recognizeText(png, detection, { classify: false });

    // Assess
    const lexicon = englishLexicon();
    expect(result.lines.every((l) => l.confidence > 0.9)).toBe(true);
    expect(result.lines.filter((l) => countNonWords(l.text, lexicon) > 0)).toHaveLength(lines.length);
    // One recogniser run per detected line: none read a second time.
    expect(runs).toHaveBeenCalledTimes(detection.regions.length);
  });
});
