/**
 * Text-recognition metrics for the quality benchmark. Everything works on Unicode code points,
 * never UTF-16 units, so an astral character or a combining mark counts as one character.
 *
 * - CER: Levenshtein distance between hypothesis and reference characters / reference length.
 * - WER: the same over whitespace-separated words.
 * - Word-bag F1: order-insensitive; the multiset intersection of normalised tokens, for pages
 *   with no unique reading order (forms, receipts).
 * Rates come with their counts so that a dataset can be scored micro-averaged (total edits over
 * total reference length), which is how OCR CER is usually reported.
 */

/** NFKC, case-folded, whitespace runs collapsed to one space, trimmed. */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/**
 * The light clean-up applied to every system's output and to the reference before "raw" scoring:
 * form feeds become line breaks, trailing spaces and empty lines go. Blank lines between
 * paragraphs (Tesseract) or pages (pdftotext) are layout, not recognition.
 */
export function canonicalLines(text: string): string {
  return text
    .replace(/\r\n?|\f/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.trim().length > 0)
    .join('\n');
}

/** Levenshtein distance between two sequences (unit costs), two rows of memory. */
export function levenshtein<T>(a: readonly T[], b: readonly T[]): number {
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Uint32Array(b.length + 1);
  let curr = new Uint32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    curr[0] = i;
    const ai = a[i - 1];
    for (let j = 1; j <= b.length; j++) {
      const substitution = prev[j - 1]! + (ai === b[j - 1] ? 0 : 1);
      const deletion = prev[j]! + 1;
      const insertion = curr[j - 1]! + 1;
      curr[j] = Math.min(substitution, deletion, insertion);
    }
    [prev, curr] = [curr, prev];
  }
  return prev[b.length]!;
}

export interface EditCount {
  /** Edit operations turning the hypothesis into the reference. */
  edits: number;
  /** Reference length (characters or words). */
  length: number;
}

export interface ScoreOptions {
  /** Apply `normalizeText` to both sides first. */
  normalize?: boolean;
}

const prepare = (text: string, options: ScoreOptions): string =>
  options.normalize ? normalizeText(text) : canonicalLines(text);

export function charEdits(hypothesis: string, reference: string, options: ScoreOptions = {}): EditCount {
  const ref = [...prepare(reference, options)];
  return { edits: levenshtein([...prepare(hypothesis, options)], ref), length: ref.length };
}

export function wordEdits(hypothesis: string, reference: string, options: ScoreOptions = {}): EditCount {
  const words = (text: string): string[] => prepare(text, options).split(/\s+/u).filter(Boolean);
  const ref = words(reference);
  return { edits: levenshtein(words(hypothesis), ref), length: ref.length };
}

/** Error rate of a count; an empty reference scores 0 when the hypothesis is empty too, else 1. */
export function rate(count: EditCount): number {
  if (count.length === 0) return count.edits === 0 ? 0 : 1;
  return count.edits / count.length;
}

export function cer(hypothesis: string, reference: string, options: ScoreOptions = {}): number {
  return rate(charEdits(hypothesis, reference, options));
}

export function wer(hypothesis: string, reference: string, options: ScoreOptions = {}): number {
  return rate(wordEdits(hypothesis, reference, options));
}

export interface BagCount {
  /** Tokens found in both (multiset intersection). */
  matched: number;
  hypothesis: number;
  reference: number;
}

export interface BagScore extends BagCount {
  precision: number;
  recall: number;
  f1: number;
}

export interface BagOptions {
  /**
   * Take out the spaces beside punctuation on both sides first (`joinPunctuationSpacing`), so that
   * a ground truth's tokenisation convention does not count as a recognition error.
   */
  joinPunctuation?: boolean;
}

/**
 * Removes whitespace before `: ; , . ) % / -` and after `( / -`. Ground truths disagree with the
 * page about such spaces by convention: FUNSD's word boxes end after each hyphen and slash
 * (`407- 64- 3484` for the printed `407-64-3484`), SROIE's segments write `DATE:` for the printed
 * `Date :`. Applied to reference and hypothesis alike, it scores the characters and the real word
 * breaks, not where a space sits beside a mark.
 */
export function joinPunctuationSpacing(text: string): string {
  return text.replace(/[^\S\n]+(?=[:;,.)%/-])/gu, '').replace(/(?<=[(/-])[^\S\n]+/gu, '');
}

function tokenCounts(text: string, options: BagOptions): Map<string, number> {
  const counts = new Map<string, number>();
  const source = options.joinPunctuation ? joinPunctuationSpacing(text.normalize('NFKC')) : text;
  for (const token of normalizeText(source).split(' ')) {
    if (token.length > 0) counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  return counts;
}

export function bagCount(hypothesis: string, reference: string, options: BagOptions = {}): BagCount {
  const hyp = tokenCounts(hypothesis, options);
  const ref = tokenCounts(reference, options);
  let matched = 0;
  for (const [token, n] of hyp) matched += Math.min(n, ref.get(token) ?? 0);
  const total = (m: Map<string, number>): number => {
    let sum = 0;
    for (const n of m.values()) sum += n;
    return sum;
  };
  return { matched, hypothesis: total(hyp), reference: total(ref) };
}

export function bagScore(count: BagCount): BagScore {
  const precision =
    count.hypothesis === 0 ? (count.reference === 0 ? 1 : 0) : count.matched / count.hypothesis;
  const recall = count.reference === 0 ? 1 : count.matched / count.reference;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { ...count, precision, recall, f1 };
}

/** Order-insensitive word-bag F1 of NFKC, case-folded tokens. */
export function bagF1(hypothesis: string, reference: string): BagScore {
  return bagScore(bagCount(hypothesis, reference));
}

/** Sums counts over pages, for micro-averaged rates. */
export function addEdits(total: EditCount, count: EditCount): EditCount {
  return { edits: total.edits + count.edits, length: total.length + count.length };
}

export function addBags(total: BagCount, count: BagCount): BagCount {
  return {
    matched: total.matched + count.matched,
    hypothesis: total.hypothesis + count.hypothesis,
    reference: total.reference + count.reference,
  };
}

/** Root-mean-square difference of two equally long 8-bit images, on the [0, 1] scale. */
export function rmse(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length || a.length === 0) {
    throw new RangeError(
      `rmse needs two non-empty images of one size (got ${a.length} and ${b.length} samples)`,
    );
  }
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return Math.sqrt(sum / a.length) / 255;
}

/** Smallest difference between two angles in degrees, folded into [0, 180]. */
export function angleError(estimated: number, truth: number): number {
  const d = Math.abs(((((estimated - truth) % 360) + 540) % 360) - 180);
  return d;
}
