import { InvalidOptionError, TooManyPagesError } from '../shared/errors.ts';
import { MAX_PAGES } from './core.ts';

const EXPECTED = "page numbers and ranges such as '1-3,7,10-'";

/** One item of a selection: page `from` to page `to` (undefined: to the last page). */
interface PageRange {
  item: string;
  from: number;
  to: number | undefined;
}

function failure(spec: string, name: string, why: string, pageCount?: number): InvalidOptionError {
  return new InvalidOptionError(`Expected ${EXPECTED} for ${name} but received '${spec}': ${why}`, {
    details: { parameter: name, expected: EXPECTED, ...(pageCount === undefined ? {} : { pageCount }) },
  });
}

/**
 * The ranges of a selection such as `1-3,7,10-`, checked for what can be checked without the
 * document: syntax, numbering from 1, ranges that run forwards. `name` is what errors call the
 * selection: where the user wrote it.
 */
export function parsePageSelection(spec: string, name = 'pages'): PageRange[] {
  if (typeof spec !== 'string' || spec.trim() === '') throw failure(spec, name, 'the selection is empty');
  return spec.split(',').map((raw) => {
    const item = raw.trim();
    const match = /^(\d+)\s*(?:(-)\s*(\d*))?$/u.exec(item);
    if (!match) throw failure(spec, name, `'${item}' is not a page number or a range`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : match[3] === '' ? undefined : Number(match[3]);
    if (from < 1) throw failure(spec, name, 'pages are numbered from 1');
    if (to !== undefined && to < from) throw failure(spec, name, `the range '${item}' runs backwards`);
    return { item, from, to };
  });
}

/**
 * The pages a selection such as `1-3,7,10-` names in a document of `pageCount` pages: 1-based,
 * ascending, each once. `N` is one page, `N-M` a range, `N-` page N to the last. Overlaps are
 * allowed ('1-5,3'); a page past the end is an error, not silently dropped, since a user asking
 * for page 12 of a 10-page file has the wrong file or the wrong number.
 */
export function selectPages(spec: string, pageCount: number, name = 'pages'): number[] {
  const chosen = new Set<number>();
  for (const { from, to = pageCount } of parsePageSelection(spec, name)) {
    if (from > pageCount || to > pageCount) {
      throw failure(spec, name, `the document has ${pageCount} page${pageCount === 1 ? '' : 's'}`, pageCount);
    }
    for (let page = from; page <= to; page++) chosen.add(page);
  }
  return [...chosen].sort((a, b) => a - b);
}

/**
 * The page limit to open a document with: with a selection (`spec`), the limit applies to the
 * pages selected (`pagesToRead`), not to the file, so `--pages 1-20` reads the start of a longer one.
 */
export function fileLimit(spec: string | undefined, maxPages: number): number {
  return spec === undefined ? maxPages : MAX_PAGES;
}

/**
 * The pages to read of a document of `pageCount` pages: every page, or those `spec` selects (see
 * `selectPages`, whose errors call it `name`); a selection of more than `maxPages` is TooManyPages.
 */
export function pagesToRead(
  spec: string | undefined,
  pageCount: number,
  maxPages: number,
  name = 'pages',
): number[] {
  if (spec === undefined) return Array.from({ length: pageCount }, (_, i) => i + 1);
  const numbers = selectPages(spec, pageCount, name);
  if (numbers.length > maxPages) {
    throw new TooManyPagesError(`${numbers.length} pages are selected; the limit is ${maxPages}`, {
      details: { pages: numbers.length, maxPages },
    });
  }
  return numbers;
}
