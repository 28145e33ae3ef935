/**
 * Searchable PDF: each page image with the text it holds laid over it invisibly, word by word at the
 * word's box, the output OCRmyPDF users expect (text can be searched, selected and copied, and the
 * page still looks like the scan). Pure: images and result in, bytes out.
 */
import {
  beginText,
  concatTransformationMatrix,
  drawObject,
  endText,
  PDFDocument,
  type PDFRef,
  popGraphicsState,
  pushGraphicsState,
  rotateAndSkewTextRadiansAndTranslate,
  setCharacterSqueeze,
  setFontAndSize,
  setTextRenderingMode,
  showText,
  TextRenderingMode,
} from 'pdf-lib';
import sharp, { type Sharp } from 'sharp';
import { InvalidOptionError } from '../shared/errors.ts';
import type { Quad } from '../shared/types.ts';
import { integerIn } from '../shared/validate.ts';
import type { DocumentResult } from './core.ts';
import { ADVANCE, ASCENT, DESCENT, embedGlyphlessFont, encodeGlyphless } from './glyphless-font.ts';

/** One page image, the one the page's boxes are in: the deskewed (and turned) page. */
export interface PdfPageImage {
  /** JPEG or PNG bytes (a Uint8Array once it has crossed from a worker thread). */
  bytes: Uint8Array;
  format: 'jpeg' | 'png';
}

export interface PageImageOptions {
  /** JPEG quality, 1-100 (default 75): scans of print stay legible. */
  quality?: number;
}

/**
 * A page image for the PDF: PNG (lossless) or JPEG, whichever is smaller, gray when the page is
 * gray. Clean, mostly white pages are smaller as PNG (a generated 300 DPI A4 letter: 100 KB against
 * 350 KB), photographed receipts and noisy scans as JPEG (a receipt: 170 KB against 970 KB; both
 * measured once with a temporary script). The JPEG comes first; the page is compressed as PNG only
 * when its PNG (written fast, at level 1) is within twice the JPEG's size, since on noisy pages
 * that second encode cost more than the JPEG and lost anyway (the pipeline's assemble in
 * bench:throughput: 577 against 221-238 ms of CPU a page). mozjpeg would save about a quarter more
 * at six to ten times the time. Done per page as pages are read, so a long document holds
 * compressed pages rather than raw ones until the PDF is written.
 */
export async function encodePageImage(png: Buffer, options: PageImageOptions = {}): Promise<PdfPageImage> {
  const quality = integerIn('quality', options.quality ?? 75, 1, 100);
  const { channels, hasAlpha } = await sharp(png).metadata();
  const page = (): Sharp => {
    let image = sharp(png);
    if (hasAlpha) image = image.flatten({ background: '#ffffff' });
    // Gray stays one band: a third of the size of the same page in colour.
    if (channels === 1 || channels === 2) image = image.toColourspace('b-w');
    return image;
  };
  const jpeg = await page().jpeg({ quality }).toBuffer();
  if (png.length > 2 * jpeg.length) return { bytes: jpeg, format: 'jpeg' };
  const lossless = await page().png({ compressionLevel: 6 }).toBuffer();
  return lossless.length <= jpeg.length
    ? { bytes: lossless, format: 'png' }
    : { bytes: jpeg, format: 'jpeg' };
}

/** Lines tilted less than this (radians, half a degree) are laid level. */
const LEVEL = (0.5 * Math.PI) / 180;

interface Baseline {
  /** The bottom-left corner of the line's box, in PDF points (y up). */
  x: number;
  y: number;
  /** Unit vector along the line. */
  dx: number;
  dy: number;
  /** Height of the line's box, in points. */
  height: number;
}

/**
 * A line's baseline from its box (corners clockwise from the top-left, y down, as `Quad` orders
 * them; a rectangle up to rounding, so three corners tell it all). Words sit on their line's
 * baseline, so that viewers see one line of text rather than words at staggered heights.
 */
function baseline(box: Quad, toPdf: ToPdf): Baseline {
  const [tl, , br, bl] = box;
  const [x, y] = toPdf(bl);
  const [xr, yr] = toPdf(br);
  const [xt, yt] = toPdf(tl);
  const length = Math.hypot(xr - x, yr - y) || 1;
  return { x, y, dx: (xr - x) / length, dy: (yr - y) / length, height: Math.hypot(xt - x, yt - y) };
}

/** Where a word starts along its line's baseline, and how long it is, in points. */
function span(box: Quad, line: Baseline, toPdf: ToPdf): { at: number; width: number } {
  const along = (point: readonly [number, number]): number => {
    const [x, y] = toPdf(point);
    return (x - line.x) * line.dx + (y - line.y) * line.dy;
  };
  const from = Math.min(along(box[0]), along(box[3]));
  const to = Math.max(along(box[1]), along(box[2]));
  return { at: from, width: to - from };
}

/** Page pixels (y down) to PDF points (y up). */
type ToPdf = (point: readonly [number, number]) => [number, number];

/** Skew corrections larger than this (degrees) keep the enlarged canvas as the PDF page. */
const MAX_TRIMMED_SKEW = 30;

/**
 * The size the page had before deskew turned it by a skew angle, in pixels, or undefined when it was
 * not turned. Turning a W x H page by a enlarges its canvas to W cos a + H sin a by W sin a + H cos a,
 * so the PDF page can keep the scan's own size (A4 stays A4) with the turned image centred on it, as
 * OCRmyPDF's --deskew does; only the corners the turn brought in fall outside it. Far from level the
 * inversion is ill-conditioned, and the enlarged page is kept.
 */
export function sizeBeforeSkew(
  width: number,
  height: number,
  deskew: { angle: number; applied: boolean },
): { width: number; height: number } | undefined {
  const degrees = Math.abs(deskew.angle);
  if (!deskew.applied || degrees === 0 || degrees > MAX_TRIMMED_SKEW) return undefined;
  const a = (degrees * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const det = cos * cos - sin * sin;
  const w = Math.round((width * cos - height * sin) / det);
  const h = Math.round((height * cos - width * sin) / det);
  return w > 0 && h > 0 && w <= width && h <= height ? { width: w, height: h } : undefined;
}

/**
 * Writes the searchable PDF of a document result. `images` holds each page's image by page number;
 * every page of the result needs one. The text layer is in a blank Unicode font
 * (`glyphless-font.ts`), so every character read, Chinese included, can be searched and copied.
 */
export async function renderSearchablePdf(
  result: DocumentResult,
  images: ReadonlyMap<number, PdfPageImage>,
): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.setTitle(result.source.name);
  doc.setProducer(`docpipe ${result.generator.version}`);
  doc.setCreator(`docpipe ${result.generator.version}`);
  const created = new Date(result.createdAt);
  doc.setCreationDate(created);
  doc.setModificationDate(created);
  const font = embedGlyphlessFont(doc);

  for (const page of result.pages) {
    const image = images.get(page.number);
    if (!image) {
      throw new InvalidOptionError(`No image was given for page ${page.number}`, {
        details: { parameter: 'images', page: page.number },
      });
    }
    const ref =
      image.format === 'jpeg'
        ? (await doc.embedJpg(image.bytes)).ref
        : (pngStream(doc, image.bytes) ?? (await doc.embedPng(image.bytes)).ref);
    const scale = 72 / page.dpi;
    // The page keeps the scan's size; the image, larger when deskew turned it, is centred on it.
    const before = sizeBeforeSkew(page.width, page.height, page.deskew);
    const ox = before ? (page.width - before.width) / 2 : 0;
    const oy = before ? (page.height - before.height) / 2 : 0;
    const w = (before?.width ?? page.width) * scale;
    const h = (before?.height ?? page.height) * scale;
    const toPdf: ToPdf = ([x, y]) => [(x - ox) * scale, h - (y - oy) * scale];
    const pdfPage = doc.addPage([w, h]);
    const name = pdfPage.node.newXObject('Page', ref);
    const fontName = pdfPage.node.newFontDictionary('OCR', font);
    pdfPage.pushOperators(
      pushGraphicsState(),
      concatTransformationMatrix(page.width * scale, 0, 0, page.height * scale, -ox * scale, -oy * scale),
      drawObject(name),
      popGraphicsState(),
    );

    const ops = [beginText(), setTextRenderingMode(TextRenderingMode.Invisible)];
    for (const line of page.lines) {
      const found = baseline(line.box, toPdf);
      if (found.height <= 0) continue;
      const size = found.height / (ASCENT + DESCENT);
      // The boxes of a deskewed page tilt by a few tenths of a degree from rounding alone, and text
      // tilted at all makes pdf.js (and so Firefox) break every word onto a line of its own.
      const tilt = Math.atan2(found.dy, found.dx);
      const angle = Math.abs(tilt) < LEVEL ? 0 : tilt;
      const base = angle === 0 ? { ...found, dx: 1, dy: 0 } : found;
      // The baseline sits the font's descent above the box's bottom edge.
      const lift = DESCENT * size;
      line.words.forEach((word, i) => {
        const text = word.text;
        const { at, width } = span(word.box, base, toPdf);
        if (text.length === 0 || width <= 0) return;
        const natural = ADVANCE * size * text.length;
        // A space after every word but a line's last, so extracted text keeps its word breaks.
        const shown = i < line.words.length - 1 ? `${text} ` : text;
        ops.push(
          setFontAndSize(fontName, size),
          setCharacterSqueeze(natural > 0 ? (100 * width) / natural : 100),
          rotateAndSkewTextRadiansAndTranslate(
            angle,
            0,
            0,
            base.x + at * base.dx - lift * base.dy,
            base.y + at * base.dy + lift * base.dx,
          ),
          showText(encodeGlyphless(shown)),
        );
      });
    }
    ops.push(endText());
    pdfPage.pushOperators(...ops);
  }
  return Buffer.from(await doc.save({ useObjectStreams: true }));
}

/**
 * A PNG's compressed pixels as an image XObject, as they are: PDF's Flate filter with the PNG
 * predictors reads IDAT data unchanged, where pdf-lib's embedPng inflates and deflates every pixel in
 * JavaScript (0.6 s a 300 DPI A4 page). Only for what `encodePageImage` writes: 8-bit gray or RGB,
 * not interlaced; anything else is left to embedPng (undefined).
 */
function pngStream(doc: PDFDocument, png: Uint8Array): PDFRef | undefined {
  const layout = pngLayout(png);
  if (!layout) return undefined;
  const { width, height, colours } = layout;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const parts: Uint8Array[] = [];
  for (let at = 8; at + 8 <= png.byteLength; ) {
    const length = view.getUint32(at);
    const type = view.getUint32(at + 4);
    // IDAT; a palette (PLTE) cannot occur with colour types 0 and 2.
    if (type === 0x49444154) parts.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const data = Buffer.concat(parts);
  const stream = doc.context.stream(data, {
    Type: 'XObject',
    Subtype: 'Image',
    Width: width,
    Height: height,
    ColorSpace: colours === 1 ? 'DeviceGray' : 'DeviceRGB',
    BitsPerComponent: 8,
    Filter: 'FlateDecode',
    DecodeParms: { Predictor: 15, Colors: colours, BitsPerComponent: 8, Columns: width },
  });
  return doc.context.register(stream);
}

/** Size and bands of a PNG that `pngStream` can take as it is: 8-bit gray or RGB, not interlaced. */
function pngLayout(png: Uint8Array): { width: number; height: number; colours: 1 | 3 } | undefined {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  if (png.byteLength < 33 || view.getUint32(0) !== 0x89504e47 || view.getUint32(12) !== 0x49484452)
    return undefined;
  const [depth, colour, , , interlace] = png.subarray(24, 29);
  if (depth !== 8 || (colour !== 0 && colour !== 2) || interlace !== 0) return undefined;
  return { width: view.getUint32(16), height: view.getUint32(20), colours: colour === 0 ? 1 : 3 };
}
