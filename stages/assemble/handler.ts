import type { S3Client } from '@aws-sdk/client-s3';
import {
  getBytes,
  getJson,
  pageKey,
  putBytes,
  putJson,
  resultKey,
  type S3Ref,
  type SourceRef,
} from '../shared/artifacts.ts';
import { handlerContext } from '../shared/aws.ts';
import { stageConfig } from '../shared/config.ts';
import { toDocpipeError } from '../shared/errors.ts';
import { defineHandler, type StageEventBase } from '../shared/handler-kit.ts';
import { mapLimit } from '../shared/map-limit.ts';
import { getModelStore } from '../shared/model-store.ts';
import type { PageDone } from '../shared/page-state.ts';
import type { SplitOutput } from '../split/handler.ts';
import { assembleDocument, type DocumentResult, type PageOutcome } from './core.ts';
import { encodePageImage, type PdfPageImage, renderSearchablePdf } from './pdf.ts';
import { renderAlto, renderHocr } from './render.ts';

export interface AssembleEvent extends StageEventBase {
  source: SourceRef;
  split: SplitOutput;
  pages: PageDone[];
}

export interface AssembleOutput {
  pageCount: number;
  /** `pdf` only when the searchable PDF is on (DOCPIPE_SEARCHABLE_PDF, default true). */
  location: { bucket: string; json: string; text: string; hocr: string; alto: string; pdf?: string };
  timings: Record<string, number>;
}

/** Page images read and encoded at once for the PDF: bounds memory on long documents. */
const IMAGE_CONCURRENCY = 4;

/** Builds the document result from every page outcome and writes result.json/.txt/.hocr/.alto.xml/.pdf. */
export const handler = defineHandler<AssembleEvent, AssembleOutput>('assemble', async (event, log) => {
  const { env, s3 } = handlerContext();
  const outcomes = await Promise.all(event.pages.map((page) => getJson<PageOutcome>(s3, page.outcome)));
  const result = assembleDocument({
    documentId: event.documentId,
    source: {
      name: `s3://${event.source.bucket}/${event.source.key}`,
      format: event.split.format,
      bytes: event.split.bytes,
      sha256: event.split.sha256,
      ...(event.source.etag === undefined ? {} : { etag: event.source.etag }),
      ...(event.source.versionId === undefined ? {} : { versionId: event.source.versionId }),
      ...(event.split.documentPages === undefined ? {} : { pages: event.split.documentPages }),
    },
    pages: outcomes,
    pageNumbers: event.split.pages.map((page) => page.page),
    models: getModelStore()
      .models()
      .map(({ name, version, sha256 }) => ({ name, version, sha256 })),
    timings: { split: event.split.timings.split },
  });
  const ref = (ext: 'json' | 'txt' | 'hocr' | 'alto.xml' | 'pdf'): S3Ref => ({
    bucket: env.resultsBucket,
    key: resultKey(event.documentId, ext),
  });
  // The searchable PDF shows the deskewed page images, the pages the boxes are in. A PDF that cannot
  // be made costs the document its PDF, not its text: only a failure worth retrying fails the state.
  let pdf: Buffer | undefined;
  if (stageConfig.searchablePdf) {
    try {
      pdf = await searchablePdf(s3, env.artifactsBucket, event.documentId, result);
    } catch (error) {
      const typed = toDocpipeError(error);
      if (typed.retryable) throw error;
      log.error({ err: typed }, 'searchable PDF failed: the result goes out without it');
    }
  }
  await Promise.all([
    putBytes(s3, ref('txt'), `${result.text}\n`, 'text/plain; charset=utf-8'),
    putBytes(s3, ref('hocr'), renderHocr(result), 'application/xhtml+xml; charset=utf-8'),
    putBytes(s3, ref('alto.xml'), renderAlto(result), 'application/xml; charset=utf-8'),
    ...(pdf ? [putBytes(s3, ref('pdf'), pdf, 'application/pdf')] : []),
  ]);
  // result.json last: consumers that see it can rely on the others.
  await putJson(s3, ref('json'), result);
  log.info({ pages: result.pageCount, chars: result.text.length, pdfBytes: pdf?.length }, 'assembled');
  return {
    pageCount: result.pageCount,
    location: {
      bucket: env.resultsBucket,
      json: ref('json').key,
      text: ref('txt').key,
      hocr: ref('hocr').key,
      alto: ref('alto.xml').key,
      ...(pdf ? { pdf: ref('pdf').key } : {}),
    },
    timings: Object.fromEntries(
      Object.entries(result.timings).filter((e): e is [string, number] => e[1] !== undefined),
    ),
  };
});

/** The searchable PDF of a document from its deskewed page artifacts. */
async function searchablePdf(
  s3: S3Client,
  bucket: string,
  documentId: string,
  result: DocumentResult,
): Promise<Buffer> {
  const images = new Map<number, PdfPageImage>();
  await mapLimit(result.pages, IMAGE_CONCURRENCY, async ({ number }) => {
    const png = await getBytes(s3, { bucket, key: pageKey(documentId, number, 'deskew.png') });
    images.set(number, await encodePageImage(png));
  });
  return renderSearchablePdf(result, images);
}
