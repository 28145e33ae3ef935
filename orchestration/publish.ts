import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { AssembleOutput } from '../stages/assemble/handler.ts';
import { exists, putJson, type SourceRef } from '../stages/shared/artifacts.ts';
import { handlerContext } from '../stages/shared/aws.ts';
import { TransientStorageError } from '../stages/shared/errors.ts';
import {
  defineHandler,
  parseFailureCause,
  type StageEventBase,
  type StageName,
} from '../stages/shared/handler-kit.ts';
import { eventIdFor, type ResultEvent } from './events.ts';
import { resolveQueueUrl } from './queues.ts';

export interface PublishEvent extends StageEventBase {
  type: ResultEvent['type'];
  executionName: string;
  startedAt?: string;
  /** Failed runs of one execution (redrives) each publish their own document.failed event. */
  redriveCount?: number;
  source: SourceRef;
  result?: AssembleOutput;
  /** Step Functions' Catch output: { Error, Cause }. */
  error?: { Error: string; Cause?: unknown };
}

/**
 * Sends the result event. A document.processed event is sent once per object version: a marker in
 * the results bucket records it, so a replay of a succeeded execution publishes nothing new.
 */
export const handler = defineHandler<PublishEvent, { eventId: string; published: boolean }>(
  'publish',
  async (event, log) => {
    const { env, s3, sqs } = handlerContext();
    const started = event.startedAt === undefined ? undefined : Date.parse(event.startedAt);
    const total =
      started === undefined || Number.isNaN(started) ? undefined : Math.max(0, Date.now() - started);
    const base = {
      schemaVersion: 1 as const,
      time: new Date().toISOString(),
      documentId: event.documentId,
      executionName: event.executionName,
      source: event.source,
    };
    let message: ResultEvent;
    if (event.type === 'document.processed') {
      const result = event.result!;
      message = {
        ...base,
        eventId: eventIdFor('document.processed', event.documentId),
        type: 'document.processed',
        pageCount: result.pageCount,
        result: result.location,
        timings: { ...result.timings, ...(total === undefined ? {} : { total }) },
      };
    } else {
      const cause = parseFailureCause(event.error?.Cause);
      message = {
        ...base,
        eventId: eventIdFor(
          'document.failed',
          event.documentId,
          `${event.executionName}\n${event.redriveCount ?? 0}`,
        ),
        type: 'document.failed',
        error: {
          code: event.error?.Error ?? 'InternalError',
          message: cause.message,
          ...(cause.stage === undefined ? {} : { stage: cause.stage as StageName }),
          ...(cause.page === undefined ? {} : { page: cause.page }),
          ...(cause.retryable === undefined ? {} : { retryable: cause.retryable }),
        },
        ...(total === undefined ? {} : { timings: { total } }),
      };
    }
    const marker = { bucket: env.resultsBucket, key: `${event.documentId}/events/${message.eventId}.json` };
    if (message.type === 'document.processed' && (await exists(s3, marker))) {
      log.info({ eventId: message.eventId }, 'document.processed already published for this object version');
      return { eventId: message.eventId, published: false };
    }
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: await resolveQueueUrl(sqs, env.resultsQueue),
          MessageBody: JSON.stringify(message),
          MessageAttributes: { type: { DataType: 'String', StringValue: message.type } },
        }),
      );
    } catch (error) {
      throw new TransientStorageError(`sending ${message.type} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    await putJson(s3, marker, message);
    log.info(
      { eventId: message.eventId, type: message.type, code: message.error?.code },
      'result event published',
    );
    return { eventId: message.eventId, published: true };
  },
);
