/**
 * One page through deskew -> denoise -> detect -> recognize, the unit `ocrDocument` runs in its own
 * thread or sends to a page worker. Kept apart from the document code so that a worker loads the
 * four stages and not pdf.js.
 */
import type { PageOutcome } from '../stages/assemble/core.ts';
import { encodePageImage, type PdfPageImage } from '../stages/assemble/pdf.ts';
import { denoisePage } from '../stages/denoise/core.ts';
import { deskewPage } from '../stages/deskew/core.ts';
import { detectText } from '../stages/detect/core.ts';
import { recognizeText } from '../stages/recognize/core.ts';
import type { PageImage } from '../stages/shared/types.ts';

/** Milliseconds since `since`, to a tenth. */
export const elapsedMs = (since: number): number => Math.round((performance.now() - since) * 10) / 10;

export interface PageFlags {
  deskew: boolean;
  denoise: boolean;
  renderMs: number;
  /** Also return the page image the boxes are in (the deskewed page), encoded for a searchable PDF. */
  keepImage?: boolean;
}

export interface PageRead {
  outcome: PageOutcome;
  image?: PdfPageImage;
}

/** deskew -> denoise -> detect -> recognize on one page image, with per-stage timings. */
export async function processPage(page: PageImage, flags: PageFlags): Promise<PageRead> {
  let png = page.png;
  let width = page.width;
  let height = page.height;
  let t = performance.now();
  const deskewed = flags.deskew
    ? await deskewPage(png)
    : {
        png,
        width,
        height,
        angle: 0,
        orientation: 0 as const,
        confidence: 0,
        applied: false,
        reason: 'disabled',
      };
  const deskewMs = elapsedMs(t);
  png = deskewed.png;
  width = deskewed.width;
  height = deskewed.height;

  t = performance.now();
  // Lines are found on the cleaned page and read from the deskewed one (see the recognize handler).
  const cleaned = flags.denoise ? (await denoisePage(png)).png : png;
  const denoiseMs = elapsedMs(t);

  t = performance.now();
  const detection = await detectText(cleaned);
  const detectMs = elapsedMs(t);

  t = performance.now();
  const recognized = await recognizeText(png, detection);
  const recognizeMs = elapsedMs(t);

  const image = flags.keepImage ? await encodePageImage(png) : undefined;
  const { png: _png, width: _w, height: _h, ...deskew } = deskewed;
  const outcome: PageOutcome = {
    number: page.index + 1,
    width,
    height,
    dpi: page.dpi,
    deskew,
    lines: recognized.lines,
    timings: {
      split: flags.renderMs,
      deskew: deskewMs,
      denoise: denoiseMs,
      detect: detectMs,
      recognize: recognizeMs,
    },
  };
  return image ? { outcome, image } : { outcome };
}
