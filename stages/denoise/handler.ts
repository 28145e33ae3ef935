import { exists, getBytes, pageKey, putBytes } from '../shared/artifacts.ts';
import { handlerContext } from '../shared/aws.ts';
import { defineHandler } from '../shared/handler-kit.ts';
import type { PageState } from '../shared/page-state.ts';
import { denoisePage } from './core.ts';

/** Cleans one page: writes denoise.png. */
export const handler = defineHandler<PageState, PageState>('denoise', async (event, log) => {
  const { env, s3 } = handlerContext();
  const imageRef = { bucket: env.artifactsBucket, key: pageKey(event.documentId, event.page, 'denoise.png') };
  if (await exists(s3, imageRef)) {
    log.info('denoise artifact exists: reusing it');
    return { ...event, image: imageRef };
  }
  const started = performance.now();
  const { png } = await denoisePage(await getBytes(s3, event.image));
  await putBytes(s3, imageRef, png, 'image/png');
  return {
    ...event,
    image: imageRef,
    timings: { ...event.timings, denoise: Math.round(performance.now() - started) },
  };
});
