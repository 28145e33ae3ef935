/** Levenshtein distance over code points: the basis of CER in tests (the benchmark has its own report). */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[y.length]!;
}

/** CER after NFKC, case folding and whitespace collapsing. */
export function normalizedCer(hypothesis: string, reference: string): number {
  const norm = (s: string) => s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
  const ref = norm(reference);
  return editDistance(norm(hypothesis), ref) / Math.max(1, [...ref].length);
}
