import type { DecodedChar } from '../../stages/recognize/core.ts';
import {
  applyLexicon,
  countNonWords,
  ctcLogLikelihood,
  DEFAULT_LEXICON_RULE,
  englishLexicon,
  Lexicon,
  type LinePosteriors,
} from '../../stages/recognize/lexicon.ts';

const words = new Lexicon(['simplified', 'tax', 'invoice', 'client', 'total', 'world', 'the']);

const textOf = (chars: readonly DecodedChar[]): string => chars.map((c) => c.char).join('');

/** A decoded line; `|` marks a space put back from an ink gap, `_` one the model emitted. */
function line(text: string, tweak: Record<number, Partial<DecodedChar>> = {}): DecodedChar[] {
  return [...text].map((char, i): DecodedChar => {
    const base: DecodedChar = { char, prob: 0.99, x0: i / text.length, x1: (i + 1) / text.length };
    if (char === '|') return { ...base, char: ' ', restored: true };
    if (char === '_') return { ...base, char: ' ' };
    return { ...base, ...tweak[i] };
  });
}

describe('applyLexicon', () => {
  test('takes out a restored space that split a word in two', () => {
    // Prepare
    const decoded = line('SIMPL|IFIED TAX');

    // Act
    const fixed = applyLexicon(decoded, words);

    // Assess
    expect(textOf(fixed)).toBe('SIMPLIFIED TAX');
  });

  test('joins a word the model itself spelt out in pieces', () => {
    // Prepare: letter-spaced receipt print, where the model emits the spaces.
    const decoded = line('Descr_ipt_ion TAX');
    const lexicon = new Lexicon(['description', 'tax']);

    // Act
    const fixed = applyLexicon(decoded, lexicon);

    // Assess
    expect(textOf(fixed)).toBe('Description TAX');
  });

  test('takes a lone letter as a piece of a word', () => {
    // Prepare: 'ASH' is a word, but 'C' alone is not.
    const decoded = line('C_ASH 12.00');
    const lexicon = new Lexicon(['cash', 'ash']);

    // Act
    const fixed = applyLexicon(decoded, lexicon);

    // Assess
    expect(textOf(fixed)).toBe('CASH 12.00');
  });

  test('keeps an initial apart from the name before it', () => {
    // Prepare: 'Carols' is a word, but 'S.' is an initial.
    const decoded = line('Carol_S. Harper');
    const lexicon = new Lexicon(['carol', 'carols']);

    // Act
    const fixed = applyLexicon(decoded, lexicon);

    // Assess
    expect(textOf(fixed)).toBe('Carol S. Harper');
  });

  test('does not join a piece of a code to the word after it', () => {
    // Prepare: the P of 'U.P' belongs to the code, though 'Piss' is a word.
    const decoded = line('U.P_Iss');
    const lexicon = new Lexicon(['piss']);

    // Act
    const fixed = applyLexicon(decoded, lexicon);

    // Assess
    expect(textOf(fixed)).toBe('U.P Iss');
  });

  test('keeps a restored space between two words', () => {
    // Prepare: 'the' and 'world' are words on their own.
    const decoded = line('the|world');

    // Act
    const fixed = applyLexicon(decoded, words);

    // Assess
    expect(textOf(fixed)).toBe('the world');
  });

  test("swaps an unsure character for the model's runner-up when that makes a word", () => {
    // Prepare: 'Cliont' with the 'o' unsure and 'e' second.
    const decoded = line('Cliont', { 3: { prob: 0.6, alts: [{ char: 'e', prob: 0.3 }] } });

    // Act
    const fixed = applyLexicon(decoded, words);

    // Assess
    expect(textOf(fixed)).toBe('Client');
    expect(fixed[3]).toMatchObject({ char: 'e', prob: 0.3, alts: [{ char: 'o', prob: 0.6 }] });
  });

  test('matches the case of the word it corrects, digits included', () => {
    // Prepare: 'T0TAL' with an unsure zero whose runner-up is a lower-case 'o'.
    const decoded = line('T0TAL', { 1: { prob: 0.7, alts: [{ char: 'o', prob: 0.2 }] } });

    // Act
    const fixed = applyLexicon(decoded, words);

    // Assess
    expect(textOf(fixed)).toBe('TOTAL');
  });

  test('leaves a confident character alone even when its runner-up would make a word', () => {
    // Prepare
    const decoded = line('Cliont', { 3: { prob: 0.99, alts: [{ char: 'e', prob: 0.01 }] } });

    // Act
    const fixed = applyLexicon(decoded, words);

    // Assess
    expect(fixed).toBe(decoded);
  });

  test('looks past the runner-up to the letters the model put third and fourth', () => {
    // Prepare: 'Tbtal' with the 'b' unsure, 'h' second and 'o' third.
    const alts = [
      { char: 'h', prob: 0.2 },
      { char: 'o', prob: 0.1 },
    ];
    const decoded = line('Tbtal', { 1: { prob: 0.6, alts } });

    // Act
    const fixed = applyLexicon(decoded, words);

    // Assess
    expect(textOf(fixed)).toBe('Total');
  });

  test('of two words within reach, makes the one the model found likelier', () => {
    // Prepare: 'casn' whose last letter could be an 'h' (0.1) or an 'e' (0.3).
    const lexicon = new Lexicon(['cash', 'case']);
    const alts = [
      { char: 'h', prob: 0.1 },
      { char: 'e', prob: 0.3 },
    ];
    const decoded = line('casn', { 3: { prob: 0.5, alts } });

    // Act
    const fixed = applyLexicon(decoded, lexicon);

    // Assess
    expect(textOf(fixed)).toBe('case');
  });

  test('leaves a name that no runner-up turns into a word', () => {
    // Prepare
    const decoded = line('Kenari', { 4: { prob: 0.5, alts: [{ char: 'n', prob: 0.4 }] } });

    // Act
    const fixed = applyLexicon(decoded, words);

    // Assess
    expect(textOf(fixed)).toBe('Kenari');
  });
});

/** Recogniser steps: a letter read at 0.99, or the probabilities of one step's characters. */
type Step = string | Record<string, number>;

function posteriors(steps: readonly Step[]): LinePosteriors {
  const table = steps.map((s) => (typeof s === 'string' ? { [s.toLowerCase()]: 0.99 } : s));
  return {
    steps: table.length,
    stepOf: (x) => Math.round(x * table.length),
    prob: (t, char) => table[t]![char.toLowerCase()] ?? 0,
    blank: (t) => 1 - Object.values(table[t]!).reduce((sum, p) => sum + p, 0),
  };
}

/** The greedy reading of the steps: each step's likeliest character unless the blank outweighs it. */
function greedy(steps: readonly Step[]): DecodedChar[] {
  const chars: DecodedChar[] = [];
  steps.forEach((s, t) => {
    const [char, prob] =
      typeof s === 'string' ? [s, 0.99] : Object.entries(s).sort((a, b) => b[1] - a[1])[0]!;
    if (prob > 0.5) chars.push({ char, prob, x0: t / steps.length, x1: (t + 1) / steps.length });
  });
  return chars;
}

describe('ctcLogLikelihood', () => {
  test('sums the probability of every alignment of the word to the steps', () => {
    // Prepare: 'a' over two steps is 'aa', 'a-' or '-a'.
    const post = posteriors([{ a: 0.6 }, { a: 0.3 }]);

    // Act
    const score = ctcLogLikelihood('a', 0, 2, post);

    // Assess
    expect(score).toBeCloseTo(Math.log(0.6 * 0.3 + 0.6 * 0.7 + 0.4 * 0.3), 10);
  });

  test('scores a doubled letter that has no blank step between its two halves as impossible', () => {
    // Prepare
    const post = posteriors([{ a: 0.6 }, { a: 0.3 }]);

    // Act
    const score = ctcLogLikelihood('aa', 0, 2, post);

    // Assess
    expect(score).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('applyLexicon respelling', () => {
  const lexicon = new Lexicon(['marketing', 'service', 'boson', 'you']);

  test('puts back a faint letter the blank outweighed', () => {
    // Prepare: the 'i' of 'Marketing' read at 0.4 against the blank's 0.6.
    const steps: Step[] = [...'Market', { i: 0.4 }, ...'ng'];

    // Act
    const fixed = applyLexicon(greedy(steps), lexicon, DEFAULT_LEXICON_RULE, posteriors(steps));

    // Assess
    expect(textOf(greedy(steps))).toBe('Marketng');
    expect(textOf(fixed)).toBe('Marketing');
  });

  test('keeps the word boxes where the reading put them', () => {
    // Prepare
    const steps: Step[] = [...'Market', { i: 0.4 }, ...'ng'];
    const read = greedy(steps);

    // Act
    const fixed = applyLexicon(read, lexicon, DEFAULT_LEXICON_RULE, posteriors(steps));

    // Assess
    expect(fixed[0]!.x0).toBe(read[0]!.x0);
    expect(fixed.at(-1)!.x1).toBeCloseTo(read.at(-1)!.x1, 10);
  });

  test('leaves a name whose letters were read confidently', () => {
    // Prepare: 'Boston' is one letter from 'boson', but its 't' was read at 0.99.
    const steps: Step[] = [...'Boston'];

    // Act
    const fixed = applyLexicon(greedy(steps), lexicon, DEFAULT_LEXICON_RULE, posteriors(steps));

    // Assess
    expect(textOf(fixed)).toBe('Boston');
  });

  test('does not drop a letter to make a word shorter than four letters', () => {
    // Prepare: 'youn' with an unsure 'n'; 'you' is a word.
    const steps: Step[] = [...'you', { n: 0.55 }];

    // Act
    const fixed = applyLexicon(greedy(steps), lexicon, DEFAULT_LEXICON_RULE, posteriors(steps));

    // Assess
    expect(textOf(fixed)).toBe('youn');
  });

  test('respells a misread three-letter abbreviation', () => {
    // Prepare: the 'y' of 'qty' read as 'v' at 0.55, with 'y' at 0.4.
    const steps: Step[] = [...'qt', { v: 0.55, y: 0.4 }];

    // Act
    const fixed = applyLexicon(greedy(steps), new Lexicon(['qty']), DEFAULT_LEXICON_RULE, posteriors(steps));

    // Assess
    expect(textOf(greedy(steps))).toBe('qtv');
    expect(textOf(fixed)).toBe('qty');
  });

  test('leaves a known three-letter abbreviation alone though a word is one letter away', () => {
    // Prepare: 'AMT' with an unsure 'M' (n second); 'ant' is a word, 'amt' a known abbreviation.
    const steps: Step[] = ['A', { m: 0.55, n: 0.4 }, 'T'];

    // Act
    const fixed = applyLexicon(
      greedy(steps),
      new Lexicon(['ant', 'amt']),
      DEFAULT_LEXICON_RULE,
      posteriors(steps),
    );

    // Assess
    expect(textOf(fixed)).toBe('AmT');
  });

  test('respells a misread two-letter word that stands alone', () => {
    // Prepare: 'Rm 7.42' with the m read as h at 0.55, m at 0.4.
    const steps: Step[] = ['R', { h: 0.55, m: 0.4 }, ' ', ...'7.42'];

    // Act
    const fixed = applyLexicon(greedy(steps), new Lexicon(['rm']), DEFAULT_LEXICON_RULE, posteriors(steps));

    // Assess
    expect(textOf(greedy(steps))).toBe('Rh 7.42');
    expect(textOf(fixed)).toBe('Rm 7.42');
  });

  test('leaves two letters that are part of a code', () => {
    // Prepare: the same unsure letter, but inside 'Rh-64' (joined by a hyphen).
    const steps: Step[] = ['R', { h: 0.55, m: 0.4 }, ...'-64'];

    // Act
    const fixed = applyLexicon(greedy(steps), new Lexicon(['rm']), DEFAULT_LEXICON_RULE, posteriors(steps));

    // Assess
    expect(textOf(fixed)).toBe('Rh-64');
  });

  test('respells nothing without the recogniser output', () => {
    // Prepare
    const steps: Step[] = [...'Market', { i: 0.4 }, ...'ng'];

    // Act
    const fixed = applyLexicon(greedy(steps), lexicon);

    // Assess
    expect(textOf(fixed)).toBe('Marketng');
  });
});

describe('countNonWords', () => {
  test('counts the runs of four letters or more that the list does not know', () => {
    // Act
    const count = countNonWords('Tbtal TAX: 12.50 Cliont, the Invoice X51005', words);

    // Assess: 'Tbtal' and 'Cliont'; 'TAX', 'the' and the code's 'X' are too short.
    expect(count).toBe(2);
  });
});

describe('englishLexicon', () => {
  test('knows common and inflected English words and not receipt codes', () => {
    // Act
    const lexicon = englishLexicon();

    // Assess
    expect(lexicon.size).toBeGreaterThan(50_000);
    expect(['returnable', 'adjustments', 'Invoice'].every((w) => lexicon.has(w))).toBe(true);
    expect(lexicon.has('gtg02')).toBe(false);
  });

  test('knows the abbreviations receipts and forms print', () => {
    // Act
    const lexicon = englishLexicon();

    // Assess
    expect(['qty', 'amt', 'gst', 'attn'].every((w) => lexicon.has(w))).toBe(true);
  });

  test('knows both the British and the American spelling of a word', () => {
    // Act
    const lexicon = englishLexicon();

    // Assess
    expect(['modelling', 'modeling', 'colour', 'color'].every((w) => lexicon.has(w))).toBe(true);
  });
});
