import {
  addBags,
  addEdits,
  angleError,
  bagCount,
  bagF1,
  bagScore,
  canonicalLines,
  cer,
  charEdits,
  joinPunctuationSpacing,
  levenshtein,
  normalizeText,
  rate,
  rmse,
  wer,
} from './metrics.ts';

describe('levenshtein', () => {
  it.each([
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['same', 'same', 0],
    ['flaw', 'lawn', 2],
  ])('distance(%s, %s) = %i', (a, b, expected) => {
    // Act
    const d = levenshtein([...a], [...b]);
    // Assess
    expect(d).toBe(expected);
  });
});

describe('cer', () => {
  it('counts one substitution in ten reference characters as 10%', () => {
    // Act
    const value = cer('abcdefghiX', 'abcdefghij');
    // Assess
    expect(value).toBeCloseTo(0.1, 10);
  });

  it('counts an astral character as one character', () => {
    // Act
    const count = charEdits('a𝒜b', 'a𝒜c');
    // Assess
    expect(count).toEqual({ edits: 1, length: 3 });
  });

  it('ignores case, width forms and spacing when normalised', () => {
    // Act
    const value = cer('TOTAL   ＲＭ 9.00\n', 'total rm 9.00', { normalize: true });
    // Assess
    expect(value).toBe(0);
  });

  it('keeps case differences in raw scoring', () => {
    // Act
    const value = cer('TOTAL', 'total');
    // Assess
    expect(value).toBe(1);
  });

  it('does not count blank lines and form feeds in raw scoring', () => {
    // Act
    const value = cer('line one\n\n\fline two  \n', 'line one\nline two');
    // Assess
    expect(value).toBe(0);
  });

  it('scores an empty hypothesis against an empty reference as 0 and against text as 1', () => {
    // Act
    const [empty, missing] = [cer('', ''), cer('', 'text')];
    // Assess
    expect([empty, missing]).toEqual([0, 1]);
  });
});

describe('wer', () => {
  it('counts one wrong word of four as 25%', () => {
    // Act
    const value = wer('the quick brown fax', 'the quick brown fox');
    // Assess
    expect(value).toBe(0.25);
  });
});

describe('bagF1', () => {
  it('is order-insensitive', () => {
    // Act
    const score = bagF1('name: total 12', 'total 12 name:');
    // Assess
    expect(score.f1).toBe(1);
  });

  it('intersects multisets: a repeated word matches only as often as the reference has it', () => {
    // Act
    const count = bagCount('a a a b', 'a b c');
    // Assess
    expect(count).toEqual({ matched: 2, hypothesis: 4, reference: 3 });
  });

  it('computes precision, recall and F1 from counts', () => {
    // Act
    const score = bagScore({ matched: 2, hypothesis: 4, reference: 3 });
    // Assess
    expect([score.precision, score.recall, score.f1]).toEqual([
      0.5,
      2 / 3,
      (2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3),
    ]);
  });

  it('with joinPunctuation, scores a FUNSD-style split after hyphens as the printed token', () => {
    // Act
    const plain = bagCount('SS# 407-64-3484', 'SS# 407- 64- 3484');
    const joined = bagCount('SS# 407-64-3484', 'SS# 407- 64- 3484', { joinPunctuation: true });
    // Assess
    expect(plain.matched).toBe(1);
    expect(joined).toEqual({ matched: 2, hypothesis: 2, reference: 2 });
  });

  it('with joinPunctuation, still counts a wrong character and a missing word break', () => {
    // Act
    const count = bagCount('Date : 25/12/2O18 TOTALRM', 'DATE: 25/12/2018 TOTAL RM', {
      joinPunctuation: true,
    });
    // Assess
    expect(count).toEqual({ matched: 1, hypothesis: 3, reference: 4 });
  });

  it('joinPunctuationSpacing keeps line breaks', () => {
    // Act
    const joined = joinPunctuationSpacing('Date :\n- item ( a )');
    // Assess
    expect(joined).toBe('Date:\n-item (a)');
  });

  it('case-folds and NFKC-normalises tokens', () => {
    // Act
    const score = bagF1('ＴＯＴＡＬ Fi', 'total ﬁ');
    // Assess
    expect(score.f1).toBe(1);
  });
});

describe('aggregation', () => {
  it('micro-averages by summing counts', () => {
    // Prepare
    const pages = [charEdits('ab', 'ab'), charEdits('xxxx', 'abcdefgh')];
    // Act
    const total = pages.reduce(addEdits, { edits: 0, length: 0 });
    // Assess
    expect(rate(total)).toBe(8 / 10);
  });

  it('sums bag counts', () => {
    // Act
    const total = addBags(
      { matched: 1, hypothesis: 2, reference: 3 },
      { matched: 4, hypothesis: 5, reference: 6 },
    );
    // Assess
    expect(total).toEqual({ matched: 5, hypothesis: 7, reference: 9 });
  });
});

describe('helpers', () => {
  it('normalises NFKC, case and whitespace', () => {
    // Act
    const text = normalizeText('  Ａb\tC\n\nd ');
    // Assess
    expect(text).toBe('ab c d');
  });

  it('drops empty lines in canonical form', () => {
    // Act
    const text = canonicalLines('a\r\n\r\nb \fc');
    // Assess
    expect(text).toBe('a\nb\nc');
  });

  it('computes RMSE on the 0..1 scale', () => {
    // Act
    const value = rmse(Uint8Array.from([0, 255]), Uint8Array.from([255, 255]));
    // Assess
    expect(value).toBeCloseTo(Math.SQRT1_2, 10);
  });

  it.each([
    [3, 1, 2],
    [-179, 179, 2],
    [90, -90, 180],
    [0.5, -0.5, 1],
  ])('angleError(%d, %d) = %d', (estimated, truth, expected) => {
    // Act
    const value = angleError(estimated, truth);
    // Assess
    expect(value).toBeCloseTo(expected, 10);
  });
});
