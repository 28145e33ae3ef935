/**
 * Token-level repair of the letter/digit mix-ups the recogniser makes inside words: '0ne', 'als0',
 * 'c0mpany' and '3O.00', '2O24'. Its dictionary puts 0 and o, 1 and l/I, 5 and S, 8 and B side by
 * side, and with no language model a single ambiguous glyph goes either way. A token's other
 * characters say which class it belongs to, so a lone character of the other class is mapped over.
 *
 * The rules are deliberately narrow, because mixed tokens are common on receipts and forms: codes
 * ('X51005663293', 'B2B', 'A4'), ordinals ('3rd'), quantities with units ('10am', '5pcs', '100l'),
 * decades ('1990s'). A token is changed only when
 *   - all its digits (letter words) or all its letters (numbers) are confusable, lone (not next to
 *     another character of their own class) and at most two;
 *   - the majority class has at least three characters (two for lowercase words with a '0', which
 *     covers 'to0' and '0ne'; one when a 0 makes a common two-letter word: 'N0:', '0n', 't0');
 *   - the character sits where a confusion is plausible and a code or unit is not: digits inside a
 *     word anywhere, except that 1, 5 and 8 at a word's edge are left alone (item and room numbers,
 *     'B8' sizes); letters inside a number, or 'o'/'O' at its edge (a leading 'S' or 'I' is a model
 *     number's prefix, a trailing 'l' a unit).
 */

const DIGIT_TO_LETTER: Readonly<Record<string, readonly [lower: string, upper: string]>> = {
  '0': ['o', 'O'],
  '1': ['l', 'I'],
  '5': ['s', 'S'],
  '8': ['b', 'B'],
};
const LETTER_TO_DIGIT: Readonly<Record<string, string>> = {
  o: '0',
  O: '0',
  l: '1',
  I: '1',
  S: '5',
  B: '8',
};
const LETTER = /\p{L}/u;
const UPPER = /\p{Lu}/u;
const DIGIT = /\p{Nd}/u;
/** Inside a number: decimal and thousands marks, time, date and range separators. */
const NUMBER_MARK = /[.,:/-]/u;
/** Inside a word: apostrophes and hyphens ('don't', 'well-known'), dots of e-mail and web addresses. */
const WORD_MARK = /['’.\-@]/u;
const MAX_CONFLICTS = 2;

/** A token that ends a sentence: a full stop, question or exclamation mark, then closing marks. */
const SENTENCE_END = /[.!?]["')\]]*$/u;

/** Repairs every whitespace-separated token of a text; whitespace is kept as it is. */
export function correctConfusions(text: string): string {
  let previous = '';
  return text.replace(/\S+/gu, (token) => {
    // After a sentence's end a word starts with a capital, so a 0 there is an O ('5348. 0ver').
    const fixed = correctToken(token, SENTENCE_END.test(previous));
    previous = token;
    return fixed;
  });
}

/**
 * Repairs one token; leading and trailing punctuation (quotes, brackets, currency) is kept.
 * `sentenceStart`: the token follows the end of a sentence.
 */
export function correctToken(token: string, sentenceStart = false): string {
  const chars = [...token];
  const isAlnum = (ch: string): boolean => LETTER.test(ch) || DIGIT.test(ch);
  const first = chars.findIndex(isAlnum);
  if (first < 0) return token;
  let last = chars.length - 1;
  while (!isAlnum(chars[last]!)) last--;
  const core = chars.slice(first, last + 1);
  const fixed = asWord(core, sentenceStart) ?? asNumber(core);
  if (!fixed) return token;
  return [...chars.slice(0, first), ...fixed, ...chars.slice(last + 1)].join('');
}

/** A word with a lone confusable digit or two: the digits become letters, or null. */
function asWord(core: string[], sentenceStart: boolean): string[] | null {
  const letters = core.filter((ch) => LETTER.test(ch));
  const digits: number[] = [];
  for (let i = 0; i < core.length; i++) {
    const ch = core[i]!;
    if (DIGIT.test(ch)) digits.push(i);
    else if (!LETTER.test(ch) && !WORD_MARK.test(ch)) return null;
  }
  if (digits.length === 0 || digits.length > MAX_CONFLICTS) return null;
  const lowercase = letters.every((ch) => !UPPER.test(ch));
  const onlyZeros = digits.every((i) => core[i] === '0');
  if (core.length === 2 && letters.length === 1 && onlyZeros) return asShortWord(core);
  if (letters.length < 3 && !(letters.length === 2 && lowercase && onlyZeros)) return null;
  const out = [...core];
  for (const i of digits) {
    const pair = DIGIT_TO_LETTER[core[i]!];
    if (!pair) return null;
    const before = core[i - 1];
    const after = core[i + 1];
    // A digit next to a digit is part of a number ('10am'), not a misread letter.
    if ((before && DIGIT.test(before)) || (after && DIGIT.test(after))) return null;
    const inside = before !== undefined && LETTER.test(before) && after !== undefined && LETTER.test(after);
    if (!inside && core[i] !== '0') return null;
    // 8 reads as B only between capitals; nothing lowercase looks like an 8.
    // A word's first letter after a sentence's end is a capital; elsewhere its neighbours decide
    // ('0wn' is 'own' mid-sentence: the recogniser reads a round o as 0 at either height).
    const upper = (i === 0 && sentenceStart) || wantsUpper(core, i);
    if (core[i] === '8' && !(UPPER.test(before!) && UPPER.test(after!))) return null;
    out[i] = upper ? pair[1] : pair[0];
  }
  return out;
}

/**
 * Two-letter words with an o, which receipts and forms print as labels ('NO:', 'TO:') and running
 * text is full of: one letter and a 0 becomes one of these, and nothing else ('A0' is a paper size).
 */
const SHORT_O_WORDS = new Set(['no', 'on', 'of', 'or', 'to', 'so', 'do', 'go']);

function asShortWord(core: string[]): string[] | null {
  const letter = core.find((ch) => LETTER.test(ch))!;
  const o = UPPER.test(letter) ? 'O' : 'o';
  const out = core.map((ch) => (ch === '0' ? o : ch));
  return SHORT_O_WORDS.has(out.join('').toLowerCase()) ? out : null;
}

/**
 * Capital when the nearest letters on either side are capitals. A word's first letter says nothing
 * (it is capitalised in running text), so it decides only when the digit has no other neighbour.
 */
function wantsUpper(core: string[], i: number): boolean {
  const nearest = (step: number): number => {
    let j = i + step;
    while (j >= 0 && j < core.length && !LETTER.test(core[j]!)) j += step;
    return j >= 0 && j < core.length ? j : -1;
  };
  const after = nearest(1);
  const before = nearest(-1);
  if (after >= 0) return UPPER.test(core[after]!) && (before <= 0 || UPPER.test(core[before]!));
  if (before < 0 || !UPPER.test(core[before]!)) return false;
  const earlier = before > 0 ? core.slice(0, before).findLast((ch) => LETTER.test(ch)) : undefined;
  return earlier !== undefined && UPPER.test(earlier);
}

/** A number with a lone confusable letter or two: the letters become digits, or null. */
function asNumber(core: string[]): string[] | null {
  const letters: number[] = [];
  let digits = 0;
  for (let i = 0; i < core.length; i++) {
    const ch = core[i]!;
    if (DIGIT.test(ch)) digits++;
    else if (LETTER.test(ch)) letters.push(i);
    else if (!NUMBER_MARK.test(ch)) return null;
  }
  if (letters.length === 0 || letters.length > MAX_CONFLICTS || digits < 3) return null;
  const out = [...core];
  for (const i of letters) {
    const digit = LETTER_TO_DIGIT[core[i]!];
    if (!digit) return null;
    const before = core[i - 1];
    const after = core[i + 1];
    // Two letters side by side are a word or a unit ('lb'), except the zeros of an amount ('3O.OO').
    const pairedWithLetter =
      (before !== undefined && LETTER.test(before) && !isZeroLike(before)) ||
      (after !== undefined && LETTER.test(after) && !isZeroLike(after));
    if (pairedWithLetter) return null;
    // A letter with no digit beside it is a part of its own ('90-B-1'), and only 'o' looks enough
    // like a digit to be read as one at a number's edge ('S100' and '100l' are a model and a unit).
    const zeros = isZeroLike(core[i]!);
    const beside = (ch: string | undefined): boolean =>
      isDigit(ch) || (zeros && ch !== undefined && isZeroLike(ch));
    if (!beside(before) && !beside(after)) return null;
    if (!zeros && !(isDigitOrMark(before) && isDigitOrMark(after))) return null;
    out[i] = digit;
  }
  return out;
}

function isZeroLike(ch: string): boolean {
  return ch === 'o' || ch === 'O';
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && DIGIT.test(ch);
}

function isDigitOrMark(ch: string | undefined): boolean {
  return ch !== undefined && (DIGIT.test(ch) || NUMBER_MARK.test(ch));
}
