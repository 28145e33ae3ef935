import { assembleDocument, type PageOutcome, pageText } from '../../stages/assemble/core.ts';
import { renderAlto, renderHocr, renderResult } from '../../stages/assemble/render.ts';
import { deskewPage } from '../../stages/deskew/core.ts';
import { InvalidOptionError, NoTextFoundError } from '../../stages/shared/errors.ts';
import { rectToQuad } from '../../stages/shared/geometry.ts';
import type { Quad, RecognizedLine } from '../../stages/shared/types.ts';
import { renderTextPage } from '../deskew/pages.ts';
import { tiltedColumnLine } from '../support/layout.ts';
import { schemaValidators } from '../support/schemas.ts';

const box: Quad = [
  [10, 20],
  [110, 20],
  [110, 50],
  [10, 50],
];

function page(number: number, texts: string[]): PageOutcome {
  return {
    number,
    width: 1000,
    height: 1400,
    dpi: 300,
    deskew: { angle: 1.2, orientation: 0, confidence: 0.9, applied: true },
    lines: texts.map((text) => ({
      text,
      confidence: 0.95,
      box,
      words: text.split(' ').map((word) => ({ text: word, confidence: 0.95, box })),
    })),
    timings: { deskew: 10, denoise: 5, detect: 100, recognize: 200 },
  };
}

const source = { name: 'a <b>.pdf', format: 'pdf' as const, bytes: 1234, sha256: 'a'.repeat(64) };
const models = [{ name: 'det', version: 'PP-OCRv4', sha256: 'b'.repeat(64) }];

describe('assembleDocument', () => {
  it('produces a result that validates against the published JSON Schema', () => {
    // Prepare
    const { documentResult } = schemaValidators();

    // Act
    const result = assembleDocument({
      source,
      models,
      pages: [page(1, ['Hello world']), page(2, ['Second page'])],
    });

    // Assess
    expect(documentResult(result)).toBe(true);
    expect(documentResult.errors ?? []).toEqual([]);
  });

  it('orders pages that arrive out of order and joins pages with a form feed', () => {
    // Act
    const result = assembleDocument({ source, models, pages: [page(2, ['two']), page(1, ['one'])] });

    // Assess
    expect(result.pages.map((p) => p.number)).toEqual([1, 2]);
    expect(result.text).toBe('one\n\ftwo');
  });

  it('sums per-page stage timings into document timings', () => {
    // Act
    const result = assembleDocument({ source, models, pages: [page(1, ['a']), page(2, ['b'])] });

    // Assess
    expect(result.timings).toMatchObject({ deskew: 20, denoise: 10, detect: 200, recognize: 400 });
  });

  it('marks a blank page inside a document with a NoText warning', () => {
    // Act
    const result = assembleDocument({ source, models, pages: [page(1, ['text']), page(2, [])] });

    // Assess
    expect(result.pages[1]!.warnings).toContain('NoText');
  });

  it('warns DeskewSkipped on a page deskew could not measure', () => {
    // Prepare
    const unmeasured = {
      ...page(1, ['text']),
      deskew: {
        angle: 0,
        orientation: 0 as const,
        confidence: 0,
        applied: false,
        reason: 'too little text to measure the skew',
      },
    };

    // Act
    const result = assembleDocument({ source, models, pages: [unmeasured] });

    // Assess
    expect(result.pages[0]!.warnings).toContain('DeskewSkipped');
  });

  it('gives a page measured and found straight no DeskewSkipped warning', async () => {
    // Prepare: the deskew stage's own verdict on a straight page, not a hand-written one.
    const straight = await deskewPage(
      await renderTextPage({ width: 1240, height: 1754, dpi: 150, words: 260, seed: 7 }),
      { detectOrientation: false },
    );
    const { angle, orientation, confidence, applied, reason } = straight;
    const deskew = { angle, orientation, confidence, applied, ...(reason === undefined ? {} : { reason }) };

    // Act
    const result = assembleDocument({ source, models, pages: [{ ...page(1, ['text']), deskew }] });

    // Assess
    expect(straight.applied).toBe(false);
    expect(result.pages[0]!.warnings).not.toContain('DeskewSkipped');
  });

  it('fails a document without any text with NoTextFound', () => {
    // Act
    const act = () => assembleDocument({ source, models, pages: [page(1, []), page(2, ['   '])] });

    // Assess
    expect(act).toThrow(NoTextFoundError);
  });

  it('rejects a gap in the page numbers', () => {
    // Act
    const act = () => assembleDocument({ source, models, pages: [page(1, ['a']), page(3, ['c'])] });

    // Assess
    expect(act).toThrow(InvalidOptionError);
    expect(act).toThrow('Expected pages numbered 1..2 but page 2 is missing');
  });

  it('accepts the pages of a selection, gaps and all', () => {
    // Act
    const result = assembleDocument({
      source: { ...source, pages: 5 },
      models,
      pages: [page(5, ['e']), page(2, ['b'])],
      pageNumbers: [2, 5],
    });

    // Assess
    expect(result.pages.map((p) => p.number)).toEqual([2, 5]);
    expect(result.pageCount).toBe(2);
  });

  it('rejects a selected page that is missing', () => {
    // Act
    const act = () => assembleDocument({ source, models, pages: [page(2, ['b'])], pageNumbers: [2, 5] });

    // Assess
    expect(act).toThrow('Expected pages 2, 5 but page 5 is missing');
  });
});

describe('pageText', () => {
  const at = (text: string, x: number, y: number, h = 30): RecognizedLine => ({
    text,
    confidence: 0.9,
    box: [
      [x, y],
      [x + 100, y],
      [x + 100, y + h],
      [x, y + h],
    ],
    words: [],
  });

  it('joins regions on the same visual row with a space', () => {
    expect(pageText([at('TOTAL', 10, 100), at('42.50', 400, 104)])).toBe('TOTAL 42.50');
  });

  it('starts a new line for the next row', () => {
    expect(pageText([at('first', 10, 100), at('second', 10, 140)])).toBe('first\nsecond');
  });

  it('starts a new line for the next row of lines tilted more than their spacing over their length', () => {
    // Prepare: a column turned 3 degrees counter-clockwise, so each line starts right of the one above.
    const tilted = (text: string, row: number): RecognizedLine => ({
      text,
      confidence: 0.9,
      box: tiltedColumnLine(row, -3),
      words: [],
    });
    const lines = [tilted('first', 0), tilted('second', 1), tilted('third', 2)];

    // Act
    const text = pageText(lines);

    // Assess
    expect(text).toBe('first\nsecond\nthird');
  });

  it('joins the pieces of one tilted row', () => {
    // Prepare: a label and its price 800 px apart on a row tilted by 2 degrees (28 px rise).
    const angle = (2 * Math.PI) / 180;
    const piece = (text: string, cx: number): RecognizedLine => ({
      text,
      confidence: 0.9,
      box: rectToQuad({ cx, cy: 300 + (cx - 200) * Math.tan(angle), width: 300, height: 30, angle }),
      words: [],
    });

    // Act
    const text = pageText([piece('TOTAL', 200), piece('42.50', 1000)]);

    // Assess
    expect(text).toBe('TOTAL 42.50');
  });

  it('starts a new line when reading order moves back to the left on the same band (next column block)', () => {
    expect(pageText([at('right column', 400, 100), at('left again', 10, 102)])).toBe(
      'right column\nleft again',
    );
  });
});

describe('renderers', () => {
  const result = assembleDocument({ source, models, pages: [page(1, ['Fish & <chips>'])] });

  it('escapes markup in hOCR and gives every word a bbox', () => {
    // Act
    const hocr = renderHocr(result);

    // Assess
    expect(hocr).toContain(
      "<span class='ocrx_word' id='word_1_1_2' title='bbox 10 20 110 50; x_wconf 95'>&amp;</span>",
    );
    expect(hocr).toContain('&lt;chips&gt;');
    expect(hocr).not.toContain('<chips>');
  });

  it('writes ALTO 4 with each word a String at its box, spaces between them and markup escaped', () => {
    // Act
    const alto = renderAlto(result);

    // Assess
    expect(alto).toContain('<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"');
    expect(alto).toContain('<MeasurementUnit>pixel</MeasurementUnit>');
    expect(alto).toContain('<Page ID="page_1" PHYSICAL_IMG_NR="1" WIDTH="1000" HEIGHT="1400">');
    expect(alto).toContain(
      '<String ID="string_1_1_2" HPOS="10" VPOS="20" WIDTH="100" HEIGHT="30" WC="0.95" CONTENT="&amp;"/>',
    );
    expect(alto.match(/<SP\/>/g)).toHaveLength(2);
    expect(alto).toContain('CONTENT="&lt;chips&gt;"');
    expect(alto).not.toContain('<chips>');
  });

  it('gives a page without text an empty print space in ALTO, with no text block', () => {
    // Prepare
    const empty = assembleDocument({ source, models, pages: [page(1, [])], requireText: false });

    // Act
    const alto = renderAlto(empty);

    // Assess
    expect(alto).toContain('<PrintSpace HPOS="0" VPOS="0" WIDTH="1000" HEIGHT="1400"></PrintSpace>');
    expect(alto).not.toContain('<TextBlock');
  });

  it('names the parameter when the format is unknown', () => {
    // Act
    const act = () => renderResult(result, 'pdf' as never);

    // Assess
    expect(act).toThrow("Expected one of text, json, hocr, alto for format but received 'pdf'");
  });
});
