import { exists, getBytes, pageKey, putJson } from '../shared/artifacts.ts';
import { handlerContext } from '../shared/aws.ts';
import { defineHandler } from '../shared/handler-kit.ts';
import type { PageState } from '../shared/page-state.ts';
import { detectText } from './core.ts';

/** Finds the text lines of one page: writes detect.json (quadrilaterals in reading order). */
export const handler = defineHandler<PageState, PageState>('detect', async (event, log) => {
  const { env, s3 } = handlerContext();
  const detectionRef = {
    bucket: env.artifactsBucket,
    key: pageKey(event.documentId, event.page, 'detect.json'),
  };
  if (await exists(s3, detectionRef)) {
    log.info('detection exists: reusing it');
    return { ...event, detection: detectionRef };
  }
  const started = performance.now();
  const detection = await detectText(await getBytes(s3, event.image));
  await putJson(s3, detectionRef, detection);
  log.info({ regions: detection.regions.length }, 'detected');
  return {
    ...event,
    detection: detectionRef,
    timings: { ...event.timings, detect: Math.round(performance.now() - started) },
  };
});
