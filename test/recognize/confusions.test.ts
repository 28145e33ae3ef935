import { correctConfusions, correctToken } from '../../stages/recognize/confusions.ts';

describe('correctToken', () => {
  describe.each([
    ['a zero at the end of a lowercase word', 'als0', 'also'],
    ['a zero doubling a short word', 'to0', 'too'],
    ['a zero at the start of a word', '0ne', 'one'],
    ['a zero inside a capitalised word', 'T0tal', 'Total'],
    ['a zero inside a capitals word', 'INV0ICE', 'INVOICE'],
    ['a zero between two letters of another zero-like pair', 'FL0OR', 'FLOOR'],
    ['a one between lowercase letters', 'he1lo', 'hello'],
    ['a one between capitals', 'W1LLIAM', 'WILLIAM'],
    ['a five between lowercase letters', 'clas5es', 'classes'],
    ['an eight between capitals', 'NUM8ER', 'NUMBER'],
    ['a zero in a contraction', "d0n't", "don't"],
    ['a zero in a dotted abbreviation, cased from its neighbours', 'P.0.Box', 'P.O.Box'],
    ['a letter O inside a year', '2O24', '2024'],
    ['a letter O before a decimal point', '3O.00', '30.00'],
    ['two letter Os ending an amount', '1,234.OO', '1,234.00'],
    ['a letter O ending a time', '12:3O', '12:30'],
    ['a letter O inside a date', '2024-O1-05', '2024-01-05'],
    ['a letter l between digits', '10l5', '1015'],
    ['a letter S before a decimal point', '1S.00', '15.00'],
    ['a zero in a two-letter label', 'N0:', 'NO:'],
    ['a zero starting a two-letter word', '0n', 'on'],
    ['a zero ending a two-letter word', 't0', 'to'],
  ])('corrects %s', (_, token, expected) => {
    test(`${token} -> ${expected}`, () => {
      // Act
      const fixed = correctToken(token);

      // Assess
      expect(fixed).toBe(expected);
    });
  });

  describe.each([
    ['a receipt number', 'X51005663293'],
    ['a paper size', 'A4'],
    ['a letter-digit-letter code', 'B2B'],
    ['an ordinal', '3rd'],
    ['an ordinal', '2nd'],
    ['an ordinal with a one', '1st'],
    ['a time with a suffix', '10am'],
    ['a unit with an exponent', 'km2'],
    ['an invoice number', 'INV-2024-001'],
    ['a date', '2024-01-05'],
    ['a decade', '1990s'],
    ['a decade in capitals', '1990S'],
    ['a model number with a letter prefix', 'S100'],
    ['a quantity in litres', '100l'],
    ['a room number', 'Room5'],
    ['a quantity with a unit', '5pcs'],
    ['a duration', '10mins'],
    ['a form field code', '90-B-1'],
    ['a virus name', 'COVID-19'],
    ['a code of alternating letters and digits', 'H1N1'],
    ['a word with two adjacent digits', 'g00gle'],
    ['a short capitals token with a zero', 'S0S'],
    ['an eight between lowercase letters', 'ab8cd'],
    ['an amount behind a currency code', 'RM3O.00'],
    ['a paper size with a zero', 'A0'],
    ['a two-letter code with a zero', 'B0'],
    ['a plain word', 'Total'],
    ['a plain number', '42.50'],
  ])('leaves alone %s', (_, token) => {
    test(token, () => {
      // Act
      const fixed = correctToken(token);

      // Assess
      expect(fixed).toBe(token);
    });
  });

  test('keeps the punctuation around the token', () => {
    // Act
    const fixed = correctToken('(als0),');

    // Assess
    expect(fixed).toBe('(also),');
  });
});

describe('correctConfusions', () => {
  test('capitalises a zero that starts a word after a sentence ends', () => {
    // Act
    const fixed = correctConfusions('in 5348. 0ver the years, 0ver time');

    // Assess
    expect(fixed).toBe('in 5348. Over the years, over time');
  });

  test('corrects each token of a line and keeps its spacing', () => {
    // Act
    const fixed = correctConfusions('Call  0ne of us on 2O24-01-05 at B2B');

    // Assess
    expect(fixed).toBe('Call  one of us on 2024-01-05 at B2B');
  });
});
