import { createHash } from 'node:crypto';
import { assembleDocument, type DocumentResult, type PageOutcome } from '../stages/assemble/core.ts';
import { denoisePage } from '../stages/denoise/core.ts';
import { deskewPage } from '../stages/deskew/core.ts';
import { detectText } from '../stages/detect/core.ts';
import { recognizeText } from '../stages/recognize/core.ts';
import { stageConfig } from '../stages/shared/config.ts';
import { TooManyPagesError } from '../stages/shared/errors.ts';
import { logger } from '../stages/shared/logger.ts';
import { getModelStore } from '../stages/shared/model-store.ts';
import type { PageImage } from '../stages/shared/types.ts';
import { booleanOption, integerIn, invalidParameter, rejectUnknownKeys } from '../stages/shared/validate.ts';
import { MAX_PAGES, openDocument } from '../stages/split/core.ts';
import { selectPages } from '../stages/split/pages.ts';

export interface OcrProgress {
  /** Pages done so far, 1..pageCount. */
  page: number;
  /** Pages to read: every page of the file, or the pages selected. */
  pageCount: number;
  /** The page just done, as numbered in the file (1-based). */
  number: number;
  ms: number;
}

export interface OcrOptions {
  /** Shown in the result's `source.name` and logs. */
  name?: string;
  dpi?: number;
  /**
   * Refuse documents with more pages than this; with `pages`, refuse selections of more pages
   * (the file itself may then be longer).
   */
  maxPages?: number;
  /** Read only these pages: `'1-3,7,10-'` (1-based; `N-` runs to the last page). Default: all. */
  pages?: string;
  maxPixels?: number;
  maxBytes?: number;
  deskew?: boolean;
  denoise?: boolean;
  /** Fail with NoTextFound when no page holds text (default true). */
  requireText?: boolean;
  onProgress?: (progress: OcrProgress) => void;
}

const KNOWN = [
  'name',
  'dpi',
  'maxPages',
  'pages',
  'maxPixels',
  'maxBytes',
  'deskew',
  'denoise',
  'requireText',
  'onProgress',
];

const round = (value: number): number => Math.round(value * 10) / 10;
const ms = (since: number): number => round(performance.now() - since);

/**
 * Runs every stage in this process, page after page: what `docpipe ocr` does. The event-driven
 * pipeline runs the same pure cores, one function per stage, with S3 in between.
 */
export async function ocrDocument(bytes: Buffer, options: OcrOptions = {}): Promise<DocumentResult> {
  rejectUnknownKeys('ocrDocument', options, KNOWN);
  const name = options.name ?? 'document';
  const deskew = options.deskew === undefined ? true : booleanOption('deskew', options.deskew);
  const denoise = options.denoise === undefined ? true : booleanOption('denoise', options.denoise);
  const dpi = integerIn('dpi', options.dpi ?? stageConfig.dpi, 72, 600);
  const log = logger.child({ stage: 'inprocess', document: name });

  const maxPages = integerIn('maxPages', options.maxPages ?? stageConfig.maxPages, 1, MAX_PAGES);
  if (options.pages !== undefined && typeof options.pages !== 'string') {
    throw invalidParameter('pages', "a string such as '1-3,7'", options.pages);
  }

  const started = performance.now();
  const document = await openDocument(bytes, {
    dpi,
    // With a selection the limit applies to the pages read, checked below, not to the file.
    maxPages: options.pages === undefined ? maxPages : MAX_PAGES,
    maxPixels: options.maxPixels ?? stageConfig.maxPixels,
    maxBytes: options.maxBytes ?? stageConfig.maxBytes,
  });
  const splitMs = ms(started);
  const pages: PageOutcome[] = [];
  let numbers: number[];
  try {
    numbers =
      options.pages === undefined
        ? Array.from({ length: document.pageCount }, (_, i) => i + 1)
        : selectPages(options.pages, document.pageCount);
    if (numbers.length > maxPages) {
      throw new TooManyPagesError(`${numbers.length} pages are selected; the limit is ${maxPages}`, {
        details: { pages: numbers.length, maxPages },
      });
    }
    for (const [done, number] of numbers.entries()) {
      const pageStarted = performance.now();
      const page: PageImage = await document.renderPage(number - 1);
      const renderMs = ms(pageStarted);
      pages.push(await processPage(page, { deskew, denoise, renderMs }));
      const pageMs = ms(pageStarted);
      log.debug({ page: number, ms: pageMs }, 'page done');
      options.onProgress?.({ page: done + 1, pageCount: numbers.length, number, ms: pageMs });
    }
  } finally {
    await document.close();
  }

  const store = getModelStore();
  return assembleDocument({
    source: {
      name,
      format: document.format,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      ...(options.pages === undefined ? {} : { pages: document.pageCount }),
    },
    pages,
    pageNumbers: numbers,
    models: store.models().map(({ name: model, version, sha256 }) => ({ name: model, version, sha256 })),
    timings: {
      split: round(splitMs + pages.reduce((sum, p) => sum + (p.timings.split ?? 0), 0)),
      total: ms(started),
    },
    requireText: options.requireText ?? true,
  });
}

interface PageFlags {
  deskew: boolean;
  denoise: boolean;
  renderMs: number;
}

/** deskew -> denoise -> detect -> recognize on one page image, with per-stage timings. */
export async function processPage(page: PageImage, flags: PageFlags): Promise<PageOutcome> {
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
  const deskewMs = ms(t);
  png = deskewed.png;
  width = deskewed.width;
  height = deskewed.height;

  t = performance.now();
  // Lines are found on the cleaned page and read from the deskewed one (see the recognize handler).
  const cleaned = flags.denoise ? (await denoisePage(png)).png : png;
  const denoiseMs = ms(t);

  t = performance.now();
  const detection = await detectText(cleaned);
  const detectMs = ms(t);

  t = performance.now();
  const recognized = await recognizeText(png, detection);
  const recognizeMs = ms(t);

  const { png: _png, width: _w, height: _h, ...deskew } = deskewed;
  return {
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
}
