import { createHash } from 'node:crypto';
import {
  type DocumentOptions,
  documentKey,
  exists,
  getBytes,
  getJson,
  OPTION_METADATA,
  pageKey,
  putBytes,
  putJson,
  type S3Ref,
  type SourceRef,
} from '../shared/artifacts.ts';
import { handlerContext } from '../shared/aws.ts';
import { stageConfig } from '../shared/config.ts';
import { defineHandler, type StageEventBase } from '../shared/handler-kit.ts';
import type { DocumentFormat } from '../shared/types.ts';
import { integerIn, invalidParameter } from '../shared/validate.ts';
import { DPI_RANGE, openDocument } from './core.ts';
import { fileLimit, pagesToRead } from './pages.ts';

export interface SplitEvent extends StageEventBase {
  source: SourceRef;
}

export interface SplitOutput {
  format: DocumentFormat;
  /** Pages split: every page of the file, or the pages its uploader selected. */
  pageCount: number;
  /** Pages in the file, present when only some were selected (`x-amz-meta-docpipe-pages`). */
  documentPages?: number;
  bytes: number;
  sha256: string;
  pages: Array<{ page: number; dpi: number; image: S3Ref }>;
  timings: { split: number };
}

/**
 * Reads the uploaded document, writes one PNG per page to <documentId>/pages/<n>/page.png and a
 * summary document.json last: when the summary exists, every page does, so a replay skips the work.
 */
export const handler = defineHandler<SplitEvent, SplitOutput>('split', async (event, log) => {
  const { env, s3 } = handlerContext();
  const summaryRef = { bucket: env.artifactsBucket, key: documentKey(event.documentId, 'document.json') };
  if (await exists(s3, summaryRef)) {
    log.info('pages already split: reusing them');
    return getJson<SplitOutput>(s3, summaryRef);
  }
  const started = performance.now();
  const bytes = await getBytes(s3, event.source);
  const asked = event.source.options ?? {};
  const document = await openDocument(bytes, {
    dpi: asked.dpi === undefined ? stageConfig.dpi : metadataInteger('dpi', asked.dpi, ...DPI_RANGE),
    maxPages: fileLimit(asked.pages, stageConfig.maxPages),
    maxPixels: stageConfig.maxPixels,
    maxBytes: stageConfig.maxBytes,
  });
  const pages: SplitOutput['pages'] = [];
  let numbers: number[];
  try {
    numbers = pagesToRead(asked.pages, document.pageCount, stageConfig.maxPages, from('pages'));
    for (const number of numbers) {
      const page = await document.renderPage(number - 1);
      const ref = { bucket: env.artifactsBucket, key: pageKey(event.documentId, number, 'page.png') };
      pages.push({ page: number, dpi: page.dpi, image: await putBytes(s3, ref, page.png, 'image/png') });
      log.debug({ page: number, of: document.pageCount }, 'page split');
    }
  } finally {
    await document.close();
  }
  const output: SplitOutput = {
    format: document.format,
    pageCount: numbers.length,
    ...(asked.pages === undefined ? {} : { documentPages: document.pageCount }),
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    pages,
    timings: { split: Math.round(performance.now() - started) },
  };
  await putJson(s3, summaryRef, output);
  return output;
});

/** The metadata key an option came from, for error messages that say where to fix it. */
const from = (option: keyof DocumentOptions) =>
  `${option} (object metadata x-amz-meta-${OPTION_METADATA[option]})`;

/** Metadata values are strings: a whole number in range, or an error naming the metadata key. */
function metadataInteger(option: keyof DocumentOptions, raw: string, min: number, max: number): number {
  if (!/^\d+$/u.test(raw)) throw invalidParameter(from(option), `an integer between ${min} and ${max}`, raw);
  return integerIn(from(option), Number(raw), min, max);
}
