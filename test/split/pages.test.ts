import { InvalidOptionError, TooManyPagesError } from '../../stages/shared/errors.ts';
import { fileLimit, pagesToRead, parsePageSelection, selectPages } from '../../stages/split/pages.ts';

describe('selectPages', () => {
  test('reads single pages, ranges and open-ended ranges', () => {
    // Act
    const pages = selectPages('1-3, 7,10-', 12);

    // Assess
    expect(pages).toEqual([1, 2, 3, 7, 10, 11, 12]);
  });

  test('returns each page once, ascending, whatever the order and overlaps', () => {
    // Act
    const pages = selectPages('5,1-5,3', 6);

    // Assess
    expect(pages).toEqual([1, 2, 3, 4, 5]);
  });

  test.each([
    ['4', 3, 'the document has 3 pages'],
    ['2-4', 3, 'the document has 3 pages'],
    ['0', 3, 'pages are numbered from 1'],
    ['3-1', 3, "the range '3-1' runs backwards"],
    ['1,,2', 3, "'' is not a page number or a range"],
    ['first', 3, "'first' is not a page number or a range"],
    ['-2', 3, "'-2' is not a page number or a range"],
    [' ', 3, 'the selection is empty'],
  ])('refuses %p in a %d-page document: %s', (spec, pageCount, why) => {
    // Act
    const select = (): number[] => selectPages(spec, pageCount);

    // Assess
    expect(select).toThrow(InvalidOptionError);
    expect(select).toThrow(`for pages but received '${spec}': ${why}`);
  });
});

describe('parsePageSelection', () => {
  test('checks a selection without the document, open ranges included', () => {
    // Act
    const ranges = parsePageSelection('1-3,7, 10-');

    // Assess
    expect(ranges.map(({ from, to }) => [from, to])).toEqual([
      [1, 3],
      [7, 7],
      [10, undefined],
    ]);
  });

  test('names the selection as the caller calls it', () => {
    // Act
    const parse = () => parsePageSelection('2-1', '--pages');

    // Assess
    expect(parse).toThrow(
      "Expected page numbers and ranges such as '1-3,7,10-' for --pages but received '2-1'",
    );
  });
});

describe('pagesToRead', () => {
  test('reads every page without a selection', () => {
    expect(pagesToRead(undefined, 3, 10)).toEqual([1, 2, 3]);
  });

  test('holds a selection, not the file, to the page limit', () => {
    // Prepare: a 600-page file opened with a limit of 500.
    const limit = fileLimit('1-20', 500);

    // Act
    const numbers = pagesToRead('1-20', 600, 500);

    // Assess
    expect(limit).toBeGreaterThan(600);
    expect(numbers).toHaveLength(20);
    expect(() => pagesToRead('1-', 600, 500)).toThrow(TooManyPagesError);
  });
});
