import type { DecodedChar } from '../../stages/recognize/core.ts';
import { applyLexicon, countNonWords, englishLexicon, Lexicon } from '../../stages/recognize/lexicon.ts';

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

  test('keeps a space the model emitted itself', () => {
    // Prepare
    const decoded = line('Wor_ld');

    // Act
    const fixed = applyLexicon(decoded, words);

    // Assess
    expect(textOf(fixed)).toBe('Wor ld');
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
});
