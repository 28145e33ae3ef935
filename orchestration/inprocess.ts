import { createHash } from 'node:crypto';
import { assembleDocument, type DocumentResult, type PageOutcome } from '../stages/assemble/core.ts';
import { denoisePage } from '../stages/denoise/core.ts';
import { deskewPage } from '../stages/deskew/core.ts';
import { detectText } from '../stages/detect/core.ts';
import { recognizeText } from '../stages/recognize/core.ts';
import { stageConfig } from '../stages/shared/config.ts';
import { logger } from '../stages/shared/logger.ts';
import { getModelStore } from '../stages/shared/model-store.ts';
import type { PageImage } from '../stages/shared/types.ts';
import { booleanOption, integerIn, rejectUnknownKeys } from '../stages/shared/validate.ts';
import { openDocument } from '../stages/split/core.ts';

export interface OcrProgress {
  page: number;
  pageCount: number;
  ms: number;
}

export interface OcrOptions {
  /** Shown in the result's `source.name` and logs. */
  name?: string;
  dpi?: number;
  maxPages?: number;
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

  const started = performance.now();
  const document = await openDocument(bytes, {
    dpi,
    maxPages: options.maxPages ?? stageConfig.maxPages,
    maxPixels: options.maxPixels ?? stageConfig.maxPixels,
    maxBytes: options.maxBytes ?? stageConfig.maxBytes,
  });
  const splitMs = ms(started);
  const pages: PageOutcome[] = [];
  try {
    for (let index = 0; index < document.pageCount; index++) {
      const pageStarted = performance.now();
      const page: PageImage = await document.renderPage(index);
      const renderMs = ms(pageStarted);
      pages.push(await processPage(page, { deskew, denoise, renderMs }));
      const pageMs = ms(pageStarted);
      log.debug({ page: index + 1, ms: pageMs }, 'page done');
      options.onProgress?.({ page: index + 1, pageCount: document.pageCount, ms: pageMs });
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
    },
    pages,
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
