import type { Quad } from '../shared/types.ts';
import { oneOf } from '../shared/validate.ts';
import type { DocumentResult } from './core.ts';

export const OUTPUT_FORMATS = ['text', 'json', 'hocr'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function renderResult(result: DocumentResult, format: OutputFormat): string {
  switch (oneOf('format', format, OUTPUT_FORMATS)) {
    case 'text':
      return renderText(result);
    case 'json':
      return `${JSON.stringify(result, null, 2)}\n`;
    case 'hocr':
      return renderHocr(result);
  }
}

/** Plain text, page by page: what `docpipe ocr` prints by default. */
export function renderText(result: DocumentResult): string {
  return `${result.pages.map((page) => page.text).join('\n\f')}\n`;
}

function bbox(quad: Quad): string {
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  return `bbox ${Math.round(Math.min(...xs))} ${Math.round(Math.min(...ys))} ${Math.round(Math.max(...xs))} ${Math.round(Math.max(...ys))}`;
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
