import { createHash } from 'node:crypto';
import type { SourceRef } from '../stages/shared/artifacts.ts';
import type { StageName } from '../stages/shared/handler-kit.ts';

export const RESULT_EVENT_SCHEMA_VERSION = 1;

export interface ResultEvent {
  schemaVersion: 1;
  eventId: string;
  type: 'document.processed' | 'document.failed';
  time: string;
  documentId: string;
  executionName: string;
  source: SourceRef;
  pageCount?: number;
  /** `alto` and `pdf` (the searchable PDF) are absent from events of docpipe versions before them. */
  result?: { bucket: string; json: string; text: string; hocr: string; alto?: string; pdf?: string };
  timings?: Record<string, number>;
  error?: { code: string; message: string; stage?: StageName; page?: number; retryable?: boolean };
}

/**
 * The processed event of one object version always has the same id, so a consumer that sees it
 * twice (at-least-once delivery) can tell. Failed events are per failed run.
 */
export function eventIdFor(type: ResultEvent['type'], documentId: string, discriminator = ''): string {
  return createHash('sha256').update(`${type}\n${documentId}\n${discriminator}`).digest('hex').slice(0, 32);
}

export function parseResultEvent(body: string): ResultEvent {
  return JSON.parse(body) as ResultEvent;
}
