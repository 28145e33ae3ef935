import { getDocument, VerbosityLevel } from 'pdfjs-dist/legacy/build/pdf.mjs';

export interface PdfTextItem {
  str: string;
  x: number;
  y: number;
  width: number;
}

export interface PdfPageRead {
  /** Size in points. */
  width: number;
  height: number;
  /** The text items that hold more than white space, with their origin and width in points. */
  items: PdfTextItem[];
  /** All of the page's text, items joined by a space or by a newline where pdf.js ends a line. */
  text: string;
}

/** Each page of a PDF as pdf.js (Firefox's viewer) reads it: its size and its text. */
export async function readPdf(bytes: Uint8Array): Promise<PdfPageRead[]> {
  const task = getDocument({ data: new Uint8Array(bytes), verbosity: VerbosityLevel.ERRORS });
  try {
    const pdf = await task.promise;
    const pages: PdfPageRead[] = [];
    for (let n = 1; n <= pdf.numPages; n++) {
      const page = await pdf.getPage(n);
      const { width, height } = page.getViewport({ scale: 1 });
      const all = (await page.getTextContent()).items.flatMap((item) => ('str' in item ? [item] : []));
      pages.push({
        width,
        height,
        items: all
          .filter((item) => item.str.trim() !== '')
          .map(({ str, transform, width: w }) => ({ str, x: transform[4]!, y: transform[5]!, width: w })),
        text: all.map((item) => item.str + (item.hasEOL ? '\n' : ' ')).join(''),
      });
    }
    return pages;
  } finally {
    await task.destroy();
  }
}
