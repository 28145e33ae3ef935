import { exists, getBytes, pageKey, putBytes, putJson } from '../shared/artifacts.ts';
import { handlerContext } from '../shared/aws.ts';
import { defineHandler } from '../shared/handler-kit.ts';
import type { PageState } from '../shared/page-state.ts';
import { deskewPage } from './core.ts';

/** Straightens one page: writes deskew.png and deskew.json (angle, orientation, confidence). */
export const handler = defineHandler<PageState, PageState>('deskew', async (event, log) => {
  const { env, s3 } = handlerContext();
  const imageRef = { bucket: env.artifactsBucket, key: pageKey(event.documentId, event.page, 'deskew.png') };
  const infoRef = { bucket: env.artifactsBucket, key: pageKey(event.documentId, event.page, 'deskew.json') };
  if ((await exists(s3, infoRef)) && (await exists(s3, imageRef))) {
    log.info('deskew artifacts exist: reusing them');
    return { ...event, image: imageRef, deskew: infoRef };
  }
  const started = performance.now();
  const { png, ...info } = await deskewPage(await getBytes(s3, event.image));
  await putBytes(s3, imageRef, png, 'image/png');
  // The info is written after the image: its presence means both are complete.
  await putJson(s3, infoRef, info);
  const ms = Math.round(performance.now() - started);
  log.info({ angle: info.angle, orientation: info.orientation, applied: info.applied }, 'deskewed');
  return { ...event, image: imageRef, deskew: infoRef, timings: { ...event.timings, deskew: ms } };
});
