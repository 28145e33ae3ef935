import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PDFDocumentLoadingTask, PDFDocumentProxy, PDFPageProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { getDocument, VerbosityLevel } from 'pdfjs-dist/legacy/build/pdf.mjs';
import sharp, { type Metadata, type SharpOptions } from 'sharp';
import {
  CorruptDocumentError,
  DocumentTooLargeError,
  EmptyDocumentError,
  EncryptedDocumentError,
  InvalidOptionError,
  isDocpipeError,
  TooManyPagesError,
  TooManyPixelsError,
  UnsupportedFormatError,
} from '../shared/errors.ts';
import { logger } from '../shared/logger.ts';
import type { DocumentFormat, PageImage } from '../shared/types.ts';
import { integerIn, rejectUnknownKeys } from '../shared/validate.ts';

/**
 * Split: one document (PDF, multi-page TIFF, PNG, JPEG, WebP) in, one lossless PNG per page out.
 *
 * - The format comes from the magic bytes only; the file name is never trusted.
 * - PDF pages are rendered with pdf.js at `dpi`. Image pages keep their own resolution, and
 *   `PageImage.dpi` is the density the file declares, or 300 when it declares none (or nonsense).
 * - Limits are checked before any page is rendered: byte size, page count, and the pixel count of
 *   every page (at `dpi` for PDF). A page over `maxPixels` is an error (TooManyPixels), never silently
 *   scaled down: scaling would change the text size the later stages were tuned for, and a page that
 *   large is far more likely a decompression bomb than a real scan (A4 at 600 DPI is 35 Mpx).
 * - Output PNGs are 8-bit gray when the page is gray, else 8-bit RGB, alpha flattened on white, with
 *   fast compression: they are intermediate artifacts, read once by deskew.
 */

export interface SplitOptions {
  /** PDF render resolution, 72..600. Images keep their own resolution. */
  dpi?: number;
  maxPages?: number;
  /** Most pixels one page may have (after rendering, for PDF). */
  maxPixels?: number;
  maxBytes?: number;
}

export type ResolvedSplitOptions = Required<SplitOptions>;

/** The highest `maxPages` accepted. */
export const MAX_PAGES = 100_000;
/** The resolutions PDF pages may be rendered at. */
export const DPI_RANGE = [72, 600] as const;

export const SPLIT_DEFAULTS: Readonly<ResolvedSplitOptions> = Object.freeze({
  dpi: 300,
  maxPages: 500,
  maxPixels: 120_000_000,
  maxBytes: 200 * 1024 * 1024,
});

export interface OpenedDocument {
  format: DocumentFormat;
  pageCount: number;
  /** Renders one page (0-based). Pages may be rendered in any order, and concurrently. */
  renderPage(index: number): Promise<PageImage>;
  /** Frees the decoder. Further renderPage calls fail. */
  close(): Promise<void>;
}

const OPTION_KEYS = ['dpi', 'maxPages', 'maxPixels', 'maxBytes'] as const;
/** Density outside this range is treated as absent: files claiming 1 or 20000 DPI are lying. */
const PLAUSIBLE_DPI = [50, 2400] as const;
const DEFAULT_IMAGE_DPI = 300;
/** Fast deflate, no per-row filter search: the page is read once, by deskew (~25% less split CPU). */
const PAGE_PNG = { compressionLevel: 1, adaptiveFiltering: false } as const;

/**
 * Whether an uploaded PNG can be a page image as it is: 8-bit gray or RGB, no alpha, palette,
 * interlacing or EXIF turn, which the stages would otherwise each have to undo.
 */
function isPagePng(meta: Metadata): boolean {
  return (
    meta.depth === 'uchar' &&
    (meta.channels === 1 || meta.channels === 3) &&
    !meta.hasAlpha &&
    !meta.isPalette &&
    !meta.isProgressive &&
    (meta.orientation === undefined || meta.orientation === 1)
  );
}

export function resolveSplitOptions(options: SplitOptions = {}): ResolvedSplitOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`Expected an object for split options but received ${String(options)}`, {
      details: { parameter: 'options' },
    });
  }
  rejectUnknownKeys('split', options, OPTION_KEYS);
  return {
    dpi: integerIn('dpi', options.dpi ?? SPLIT_DEFAULTS.dpi, ...DPI_RANGE),
    maxPages: integerIn('maxPages', options.maxPages ?? SPLIT_DEFAULTS.maxPages, 1, MAX_PAGES),
    maxPixels: integerIn('maxPixels', options.maxPixels ?? SPLIT_DEFAULTS.maxPixels, 1, 2 ** 31),
    maxBytes: integerIn('maxBytes', options.maxBytes ?? SPLIT_DEFAULTS.maxBytes, 1, 2 ** 32),
  };
}

// ---------------------------------------------------------------------------------------------
// Format detection

function startsWith(bytes: Buffer, signature: readonly number[], at = 0): boolean {
  if (bytes.length < at + signature.length) return false;
  return signature.every((value, i) => bytes[at + i] === value);
}

const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

/** Names a few common formats we do not take, so the error message tells the user what they sent. */
function describeUnknown(bytes: Buffer): string {
  const known: [string, number[]][] = [
    ['GIF', ascii('GIF8')],
    ['BMP', ascii('BM')],
    ['ZIP (e.g. DOCX/XLSX/ODT)', [0x50, 0x4b, 0x03, 0x04]],
    ['OLE2 (e.g. DOC/XLS)', [0xd0, 0xcf, 0x11, 0xe0]],
    ['RTF', ascii('{\\rtf')],
    ['PostScript', ascii('%!PS')],
    ['gzip', [0x1f, 0x8b]],
  ];
  for (const [name, signature] of known) {
    if (startsWith(bytes, signature)) return name;
  }
  if (startsWith(bytes, ascii('ftyp'), 4)) return 'ISO media (HEIF/AVIF/MP4)';
  const head = bytes.subarray(0, 512);
  const printable = head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 0x80);
  if (printable) return 'text';
  return `unknown binary (first bytes ${head.subarray(0, 8).toString('hex')})`;
}

/**
 * The document format from its magic bytes. PDF readers accept a header anywhere in the first KiB
 * (some producers prepend junk), so we do too.
 */
export function detectFormat(bytes: Buffer): DocumentFormat {
  if (bytes.length === 0)
    throw new EmptyDocumentError('The document is empty (0 bytes)', { details: { bytes: 0 } });
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  // Classic TIFF (42) and BigTIFF (43), both byte orders.
  if (
    startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) ||
    startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]) ||
    startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) ||
    startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])
  ) {
    return 'tiff';
  }
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (bytes.subarray(0, 1024).includes('%PDF-', 0, 'latin1')) return 'pdf';
  const detected = describeUnknown(bytes);
  throw new UnsupportedFormatError(
    `Unsupported document format: detected ${detected}; expected PDF, TIFF, PNG, JPEG or WebP (judged by content, not file name)`,
    { details: { detected, expected: ['pdf', 'tiff', 'png', 'jpeg', 'webp'] } },
  );
}

// ---------------------------------------------------------------------------------------------
// Public API

export async function openDocument(bytes: Buffer, options: SplitOptions = {}): Promise<OpenedDocument> {
  const opts = resolveSplitOptions(options);
  if (!Buffer.isBuffer(bytes)) {
    throw new InvalidOptionError(`Expected a Buffer for bytes but received ${typeof bytes}`, {
      details: { parameter: 'bytes' },
    });
  }
  if (bytes.length === 0)
    throw new EmptyDocumentError('The document is empty (0 bytes)', { details: { bytes: 0 } });
  if (bytes.length > opts.maxBytes) {
    throw new DocumentTooLargeError(`The document is ${bytes.length} bytes; the limit is ${opts.maxBytes}`, {
      details: { bytes: bytes.length, maxBytes: opts.maxBytes },
    });
  }
  const format = detectFormat(bytes);
  const log = logger.child({ stage: 'split', format });
  const started = performance.now();
  const doc = format === 'pdf' ? await openPdf(bytes, opts) : await openImage(bytes, format, opts);
  log.debug({ pages: doc.pageCount, ms: Math.round(performance.now() - started) }, 'document opened');
  return doc;
}

/** Opens, yields every page in order, and always closes. */
export async function* splitDocument(bytes: Buffer, options: SplitOptions = {}): AsyncGenerator<PageImage> {
  const doc = await openDocument(bytes, options);
  try {
    for (let i = 0; i < doc.pageCount; i++) yield await doc.renderPage(i);
  } finally {
    await doc.close();
  }
}

function checkPageCount(count: number, maxPages: number): void {
  if (count === 0) throw new EmptyDocumentError('The document has no pages', { details: { pages: 0 } });
  if (count > maxPages) {
    throw new TooManyPagesError(`The document has ${count} pages; the limit is ${maxPages}`, {
      details: { pages: count, maxPages },
    });
  }
}

function checkPixels(page: number, width: number, height: number, maxPixels: number, dpi?: number): void {
  if (width * height > maxPixels) {
    const at = dpi === undefined ? '' : ` at ${dpi} DPI`;
    throw new TooManyPixelsError(
      `Page ${page + 1} is ${width}x${height} = ${width * height} pixels${at}; the limit is ${maxPixels} per page`,
      { details: { page, width, height, maxPixels, ...(dpi === undefined ? {} : { dpi }) } },
    );
  }
}

function makeIndexCheck(pageCount: number, isClosed: () => boolean): (index: number) => void {
  return (index) => {
    if (isClosed())
      throw new InvalidOptionError('renderPage called after close()', { details: { parameter: 'index' } });
    integerIn('index', index, 0, pageCount - 1);
  };
}

// ---------------------------------------------------------------------------------------------
// PDF via pdf.js (legacy build: the modern one needs browser APIs Node 24 lacks)

/** pdf.js reads fonts and CMaps from these folders with fs in Node, so text PDFs render offline. */
const PDFJS_ASSETS = (() => {
  try {
    const root = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
    const folder = (name: string): string => `${join(root, name)}/`;
    return {
      cMapUrl: folder('cmaps'),
      standardFontDataUrl: folder('standard_fonts'),
      wasmUrl: folder('wasm'),
      iccUrl: folder('iccs'),
    };
  } catch {
    // A bundle without node_modules: pdf.js still renders, with fallback fonts for non-embedded ones.
    return {};
  }
})();

function mapPdfError(error: unknown): Error {
  if (isDocpipeError(error)) return error;
  const name = (error as { name?: unknown })?.name;
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'PasswordException') {
    return new EncryptedDocumentError('The PDF is password-protected; docpipe does not open encrypted PDFs', {
      cause: error,
    });
  }
  return new CorruptDocumentError(`The PDF cannot be read: ${message}`, {
    cause: error,
    details: { reason: name },
  });
}

async function openPdf(bytes: Buffer, opts: ResolvedSplitOptions): Promise<OpenedDocument> {
  const task: PDFDocumentLoadingTask = getDocument({
    // A copy: pdf.js may detach the buffer it is given, and the caller still owns `bytes`.
    data: new Uint8Array(bytes),
    ...PDFJS_ASSETS,
    verbosity: VerbosityLevel.ERRORS,
    // No network, no scripting, no system fonts: rendering depends on the file and pdfjs-dist only.
    useSystemFonts: false,
    disableFontFace: true,
    enableXfa: false,
    // Embedded images bigger than a page may be are skipped rather than decoded into gigabytes.
    maxImageSize: opts.maxPixels,
  });
  let pdf: PDFDocumentProxy;
  try {
    pdf = await task.promise;
  } catch (error) {
    await task.destroy().catch(() => undefined);
    throw mapPdfError(error);
  }
  const scale = opts.dpi / 72;
  const pageCount = pdf.numPages;
  try {
    checkPageCount(pageCount, opts.maxPages);
    // Every page's size is known from its dictionary: check them all before rendering any.
    for (let i = 0; i < pageCount; i++) {
      const page = await pdf.getPage(i + 1);
      const { width, height } = pageSize(page, scale);
      checkPixels(i, width, height, opts.maxPixels, opts.dpi);
    }
  } catch (error) {
    await task.destroy().catch(() => undefined);
    throw mapPdfError(error);
  }

  let closed = false;
  const checkIndex = makeIndexCheck(pageCount, () => closed);
  return {
    format: 'pdf',
    pageCount,
    async renderPage(index) {
      checkIndex(index);
      try {
        return await renderPdfPage(pdf, index, scale, opts.dpi);
      } catch (error) {
        throw mapPdfError(error);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await task.destroy();
    },
  };
}

/** Rounded like pdftoppm, so A4 at 300 DPI is 2480x3508. */
function pageSize(page: PDFPageProxy, scale: number): { width: number; height: number } {
  const viewport = page.getViewport({ scale });
  return { width: Math.max(1, Math.round(viewport.width)), height: Math.max(1, Math.round(viewport.height)) };
}

async function renderPdfPage(
  pdf: PDFDocumentProxy,
  index: number,
  scale: number,
  dpi: number,
): Promise<PageImage> {
  const page = await pdf.getPage(index + 1);
  const viewport = page.getViewport({ scale });
  const { width, height } = pageSize(page, scale);
  const factory = pdf.canvasFactory as CanvasFactory;
  const target = factory.create(width, height);
  try {
    await page.render({ canvasContext: target.context, canvas: target.canvas, viewport, background: 'white' })
      .promise;
    const rgba = target.context.getImageData(0, 0, width, height).data;
    const raw = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
    const gray = isGray(raw);
    let image = sharp(raw, { raw: { width, height, channels: 4 } });
    image = gray ? image.extractChannel(0) : image.removeAlpha();
    const png = await image.png(PAGE_PNG).toBuffer();
    return { index, png, width, height, dpi };
  } finally {
    factory.destroy(target);
    page.cleanup();
  }
}

interface CanvasAndContext {
  canvas: unknown;
  context: { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
interface CanvasFactory {
  create(width: number, height: number): CanvasAndContext;
  destroy(target: CanvasAndContext): void;
}

/** True when every pixel has R = G = B: the page can be stored as one channel. */
function isGray(rgba: Buffer): boolean {
  for (let i = 0; i < rgba.length; i += 4) {
    const r = rgba[i];
    if (r !== rgba[i + 1] || r !== rgba[i + 2]) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Images via sharp (libvips)

function mapSharpError(error: unknown, maxPixels: number): Error {
  if (isDocpipeError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) {
    return new TooManyPixelsError(`The image exceeds the limit of ${maxPixels} pixels per page`, {
      cause: error,
      details: { maxPixels },
    });
  }
  return new CorruptDocumentError(`The image cannot be decoded: ${message.split('\n')[0]}`, { cause: error });
}

function declaredDpi(meta: Metadata): number {
  // libvips reports 72 for a PNG with no pHYs chunk and for a JPEG whose JFIF units are 0 (aspect
  // ratio only); in both cases resolutionUnit is unset, so that is what tells a declared density
  // from libvips' placeholder.
  if (meta.resolutionUnit === undefined) return DEFAULT_IMAGE_DPI;
  const density = meta.density;
  if (density === undefined || !Number.isFinite(density)) return DEFAULT_IMAGE_DPI;
  const dpi = Math.round(density);
  return dpi >= PLAUSIBLE_DPI[0] && dpi <= PLAUSIBLE_DPI[1] ? dpi : DEFAULT_IMAGE_DPI;
}

/** EXIF orientations 5-8 swap width and height once applied. */
function orientedSize(meta: Metadata): { width: number; height: number } {
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  return (meta.orientation ?? 1) >= 5 ? { width: height, height: width } : { width, height };
}

async function openImage(
  bytes: Buffer,
  format: DocumentFormat,
  opts: ResolvedSplitOptions,
): Promise<OpenedDocument> {
  // failOn 'truncated' rejects cut-off files instead of returning a half-grey page; libvips' default
  // ('warning') would also reject files with harmless warnings that scanners routinely produce.
  const input = (page?: number): SharpOptions => ({
    limitInputPixels: opts.maxPixels,
    failOn: 'truncated',
    ...(page === undefined ? {} : { page }),
  });
  const pageMeta: Metadata[] = [];
  try {
    const first = await sharp(bytes, input()).metadata();
    if (first.format !== format) {
      throw new CorruptDocumentError(`The file starts like ${format} but decodes as ${first.format}`, {
        details: { detected: format, decoded: first.format },
      });
    }
    // Animated PNG/WebP frames are not pages: only TIFF is multi-page.
    const pageCount = format === 'tiff' ? (first.pages ?? 1) : 1;
    checkPageCount(pageCount, opts.maxPages);
    pageMeta.push(first);
    for (let i = 1; i < pageCount; i++) pageMeta.push(await sharp(bytes, input(i)).metadata());
    pageMeta.forEach((meta, i) => {
      const { width, height } = orientedSize(meta);
      checkPixels(i, width, height, opts.maxPixels);
    });
  } catch (error) {
    throw mapSharpError(error, opts.maxPixels);
  }

  const pageCount = pageMeta.length;
  const render = async (index: number): Promise<PageImage> => {
    const meta = pageMeta[index]!;
    try {
      if (format === 'png' && isPagePng(meta)) {
        // Already what the stages read: decoded in full only to prove it whole (a truncated file
        // fails here), then passed on as uploaded, which spares a re-encode (~0.15 s at 300 DPI A4).
        await sharp(bytes, input()).raw().toBuffer();
        return { index, png: bytes, width: meta.width, height: meta.height, dpi: declaredDpi(meta) };
      }
      const gray =
        meta.channels === 1 || meta.channels === 2 || meta.space === 'b-w' || meta.space === 'grey16';
      let image = sharp(bytes, input(format === 'tiff' ? index : undefined)).autoOrient();
      if (meta.hasAlpha) image = image.flatten({ background: '#ffffff' });
      // toColourspace also casts 16-bit input to 8-bit; 'b-w' gives one channel.
      image = image.toColourspace(gray ? 'b-w' : 'srgb');
      const { data, info } = await image.png(PAGE_PNG).toBuffer({ resolveWithObject: true });
      return { index, png: data, width: info.width, height: info.height, dpi: declaredDpi(meta) };
    } catch (error) {
      throw mapSharpError(error, opts.maxPixels);
    }
  };
  // A single image is decoded now, once: a truncated file then fails at open like a bad PDF does,
  // and renderPage costs nothing. TIFF pages are decoded when asked for, to bound memory.
  const eager = format === 'tiff' ? undefined : await render(0);

  let closed = false;
  const checkIndex = makeIndexCheck(pageCount, () => closed);
  return {
    format,
    pageCount,
    async renderPage(index) {
      checkIndex(index);
      return eager ?? render(index);
    },
    async close() {
      closed = true;
    },
  };
}
