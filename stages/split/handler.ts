import { createHash } from 'node:crypto';
import {
  documentKey,
  exists,
  getBytes,
  getJson,
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
import { openDocument } from './core.ts';

export interface SplitEvent extends StageEventBase {
  source: SourceRef;
}

export interface SplitOutput {
  format: DocumentFormat;
  pageCount: number;
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
  const document = await openDocument(bytes, {
    dpi: stageConfig.dpi,
    maxPages: stageConfig.maxPages,
    maxPixels: stageConfig.maxPixels,
    maxBytes: stageConfig.maxBytes,
  });
  const pages: SplitOutput['pages'] = [];
  try {
    for (let index = 0; index < document.pageCount; index++) {
      const page = await document.renderPage(index);
      const ref = { bucket: env.artifactsBucket, key: pageKey(event.documentId, index + 1, 'page.png') };
      pages.push({ page: index + 1, dpi: page.dpi, image: await putBytes(s3, ref, page.png, 'image/png') });
      log.debug({ page: index + 1, of: document.pageCount }, 'page split');
    }
  } finally {
    await document.close();
  }
  const output: SplitOutput = {
    format: document.format,
    pageCount: document.pageCount,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    pages,
    timings: { split: Math.round(performance.now() - started) },
  };
  await putJson(s3, summaryRef, output);
  return output;
});
