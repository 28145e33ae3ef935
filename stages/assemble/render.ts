import type { Quad } from '../shared/types.ts';
import { oneOf } from '../shared/validate.ts';
import type { DocumentResult } from './core.ts';

export const OUTPUT_FORMATS = ['text', 'json', 'hocr', 'alto'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function renderResult(result: DocumentResult, format: OutputFormat): string {
  switch (oneOf('format', format, OUTPUT_FORMATS)) {
    case 'text':
      return renderText(result);
    case 'json':
      return `${JSON.stringify(result, null, 2)}\n`;
    case 'hocr':
      return renderHocr(result);
    case 'alto':
      return renderAlto(result);
  }
}

/** Plain text, page by page: what `docpipe ocr` prints by default. */
export function renderText(result: DocumentResult): string {
  return `${result.pages.map((page) => page.text).join('\n\f')}\n`;
}

interface Bounds {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A quad's axis-aligned bounds, rounded to whole pixels. */
function bounds(quad: Quad): Bounds {
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  return {
    x0: Math.round(Math.min(...xs)),
    y0: Math.round(Math.min(...ys)),
    x1: Math.round(Math.max(...xs)),
    y1: Math.round(Math.max(...ys)),
  };
}

function bbox(quad: Quad): string {
  const { x0, y0, x1, y1 } = bounds(quad);
  return `bbox ${x0} ${y0} ${x1} ${y1}`;
}

const escapeXml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** hOCR 1.2 (the format Tesseract writes), so existing hOCR tools (hocr-pdf, hocrjs) read it. */
export function renderHocr(result: DocumentResult): string {
  const pages = result.pages
    .map((page) => {
      const lines = page.lines
        .map((line, l) => {
          const words = line.words
            .map(
              (word, w) =>
                `     <span class='ocrx_word' id='word_${page.number}_${l + 1}_${w + 1}' title='${bbox(word.box)}; x_wconf ${Math.round(word.confidence * 100)}'>${escapeXml(word.text)}</span>`,
            )
            .join('\n');
          return `    <span class='ocr_line' id='line_${page.number}_${l + 1}' title='${bbox(line.box)}; x_wconf ${Math.round(line.confidence * 100)}'>\n${words}\n    </span>`;
        })
        .join('\n');
      return `  <div class='ocr_page' id='page_${page.number}' title='image "${escapeXml(result.source.name)}"; bbox 0 0 ${page.width} ${page.height}; ppageno ${page.number - 1}; scan_res ${page.dpi} ${page.dpi}'>\n${lines}\n  </div>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>${escapeXml(result.source.name)}</title>
  <meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
  <meta name='ocr-system' content='docpipe ${escapeXml(result.generator.version)}' />
  <meta name='ocr-capabilities' content='ocr_page ocr_line ocrx_word' />
 </head>
 <body>
${pages}
 </body>
</html>
`;
}

/** ALTO's position attributes of some bounds. */
function altoBox({ x0, y0, x1, y1 }: Bounds): string {
  return `HPOS="${x0}" VPOS="${y0}" WIDTH="${x1 - x0}" HEIGHT="${y1 - y0}"`;
}

/**
 * ALTO 4 (the Library of Congress format that digitisation workflows, OCR-D and Tesseract's `alto`
 * output use): per page one text block of the page's lines in reading order, each line's words as
 * String elements with their confidence (WC) and the spaces between them (SP). Positions are
 * pixels of the processed page, as in the JSON result.
 */
export function renderAlto(result: DocumentResult): string {
  const pages = result.pages
    .map((page) => {
      const p = page.number;
      // A TextLine holds at least one String.
      const read = page.lines.filter((line) => line.words.length > 0);
      const lines = read
        .map((line, l) => {
          const words = line.words
            .map((word, w) => {
              const string = `          <String ID="string_${p}_${l + 1}_${w + 1}" ${altoBox(bounds(word.box))} WC="${word.confidence.toFixed(2)}" CONTENT="${escapeXml(word.text)}"/>`;
              return w === 0 ? string : `          <SP/>\n${string}`;
            })
            .join('\n');
          return `        <TextLine ID="line_${p}_${l + 1}" ${altoBox(bounds(line.box))}>\n${words}\n        </TextLine>`;
        })
        .join('\n');
      const block =
        read.length === 0
          ? ''
          : `\n      <TextBlock ID="block_${p}" ${altoBox(union(read.map((line) => bounds(line.box))))}>\n${lines}\n      </TextBlock>\n    `;
      return `  <Page ID="page_${p}" PHYSICAL_IMG_NR="${p}" WIDTH="${page.width}" HEIGHT="${page.height}">\n    <PrintSpace HPOS="0" VPOS="0" WIDTH="${page.width}" HEIGHT="${page.height}">${block}</PrintSpace>\n  </Page>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.loc.gov/standards/alto/ns-v4# http://www.loc.gov/alto/v4/alto-4-2.xsd">
 <Description>
  <MeasurementUnit>pixel</MeasurementUnit>
  <sourceImageInformation>
   <fileName>${escapeXml(result.source.name)}</fileName>
  </sourceImageInformation>
  <OCRProcessing ID="ocr_1">
   <ocrProcessingStep>
    <processingSoftware>
     <softwareName>docpipe</softwareName>
     <softwareVersion>${escapeXml(result.generator.version)}</softwareVersion>
    </processingSoftware>
   </ocrProcessingStep>
  </OCRProcessing>
 </Description>
 <Layout>
${pages}
 </Layout>
</alto>
`;
}

/** The bounds around all of `all`. */
function union(all: readonly Bounds[]): Bounds {
  return {
    x0: Math.min(...all.map((b) => b.x0)),
    y0: Math.min(...all.map((b) => b.y0)),
    x1: Math.max(...all.map((b) => b.x1)),
    y1: Math.max(...all.map((b) => b.y1)),
  };
}
