/**
 * A worker thread for `ocrDocument` with `jobs > 1`: runs deskew -> denoise -> detect -> recognize
 * on the pages it is sent, keeping its ONNX sessions warm between them. A thread, not a process: a
 * one-shot CLI run has no service to protect from a crash, and a thread starts faster.
 */
import { parentPort } from 'node:worker_threads';
import { type ErrorJSON, toDocpipeError } from '../stages/shared/errors.ts';
import type { PageImage } from '../stages/shared/types.ts';
import { type PageFlags, type PageRead, processPage } from './page.ts';

export interface PageRequest {
  page: PageImage;
  flags: PageFlags;
}

export type PageReply = { ok: true; read: PageRead } | { ok: false; error: ErrorJSON };

parentPort?.on('message', async ({ page, flags }: PageRequest) => {
  let reply: PageReply;
  try {
    reply = { ok: true, read: await processPage(page, flags) };
  } catch (error) {
    reply = { ok: false, error: toDocpipeError(error).toJSON() };
  }
  parentPort!.postMessage(reply);
});
