import { InvalidOptionError } from '../shared/errors.ts';

const EXPECTED = "page numbers and ranges such as '1-3,7,10-'";

/**
 * The pages a selection such as `1-3,7,10-` names in a document of `pageCount` pages: 1-based,
 * ascending, each once. `N` is one page, `N-M` a range, `N-` page N to the last. Overlaps are
 * allowed ('1-5,3'); a page past the end or a backwards range is an error, not silently dropped,
 * since a user asking for page 12 of a 10-page file has the wrong file or the wrong number.
 */
export function selectPages(spec: string, pageCount: number): number[] {
  const fail = (why: string): never => {
    throw new InvalidOptionError(`Expected ${EXPECTED} for pages but received '${spec}': ${why}`, {
      details: { parameter: 'pages', expected: EXPECTED, pageCount },
    });
  };
  if (typeof spec !== 'string' || spec.trim() === '') fail('the selection is empty');
  const chosen = new Set<number>();
  for (const item of spec.split(',')) {
    const match = /^\s*(\d+)\s*(?:(-)\s*(\d*)\s*)?$/u.exec(item);
    if (!match) fail(`'${item.trim()}' is not a page number or a range`);
    const from = Number(match![1]);
    const to = match![2] === undefined ? from : match![3] === '' ? pageCount : Number(match![3]);
    if (from < 1) fail('pages are numbered from 1');
    if (to < from) fail(`the range '${item.trim()}' runs backwards`);
    if (from > pageCount || to > pageCount) {
      fail(`the document has ${pageCount} page${pageCount === 1 ? '' : 's'}`);
    }
    for (let page = from; page <= to; page++) chosen.add(page);
  }
  return [...chosen].sort((a, b) => a - b);
}
