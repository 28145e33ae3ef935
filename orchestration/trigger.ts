import type { S3Client } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  documentIdFor,
  documentOptionsFrom,
  objectMetadata,
  type S3Ref,
  type SourceRef,
} from '../stages/shared/artifacts.ts';
import { clientConfig, handlerContext } from '../stages/shared/aws.ts';
import { InvalidEventError, InvalidOptionError } from '../stages/shared/errors.ts';
import { logger } from '../stages/shared/logger.ts';

/** The execution input the workflow starts with. */
export interface PipelineInput {
  documentId: string;
  source: SourceRef;
}

export interface StartResult {
  executionName: string;
  /** False when an execution with this name already existed: a duplicate notification. */
  started: boolean;
}

/** Starts executions: Step Functions on AWS, the embedded engine locally. */
export interface ExecutionStarter {
  start(name: string, input: PipelineInput): Promise<StartResult>;
}

interface S3EventRecord {
  eventSource?: string;
  eventName?: string;
  s3?: {
    bucket?: { name?: string };
    object?: { key?: string; size?: number; eTag?: string; versionId?: string; sequencer?: string };
  };
}

/** S3 form-encodes keys in notifications: spaces arrive as '+', everything else percent-encoded. */
export function decodeS3Key(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, '%20'));
}

/**
 * Reads the ObjectCreated records of one SQS message body (an S3 event notification).
 * The s3:TestEvent S3 sends when notifications are configured yields no records.
 */
export function parseS3Notification(body: string): SourceRef[] {
  let parsed: { Records?: S3EventRecord[]; Event?: string };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch (error) {
    throw new InvalidEventError(`message body is not JSON: ${body.slice(0, 80)}`, { cause: error });
  }
  if (parsed.Event === 's3:TestEvent') return [];
  if (!Array.isArray(parsed.Records)) {
    throw new InvalidEventError('message body is not an S3 event notification: it has no Records array');
  }
  const sources: SourceRef[] = [];
  for (const record of parsed.Records) {
    if (record.eventSource !== 'aws:s3' || !record.eventName?.startsWith('ObjectCreated:')) continue;
    const bucket = record.s3?.bucket?.name;
    const object = record.s3?.object;
    if (typeof bucket !== 'string' || typeof object?.key !== 'string' || object.key === '') {
      throw new InvalidEventError('S3 event record without bucket name or object key');
    }
    sources.push({
      bucket,
      key: decodeS3Key(object.key),
      ...(object.eTag ? { etag: object.eTag } : {}),
      ...(object.versionId ? { versionId: object.versionId } : {}),
      ...(typeof object.size === 'number' ? { size: object.size } : {}),
    });
  }
  return sources;
}

/** Execution names are deterministic per object version: a duplicate notification cannot start twice. */
export function executionNameFor(documentId: string): string {
  return `doc-${documentId}`;
}

export interface IngestMessage {
  messageId: string;
  body: string;
}

/** Reads an uploaded object's user metadata (undefined: the object is gone). */
export type MetadataReader = (source: S3Ref) => Promise<Record<string, string> | undefined>;

/** The metadata reader of the deployed and the embedded trigger: HeadObject. */
export function s3MetadataReader(s3: S3Client): MetadataReader {
  return (source) => objectMetadata(s3, source);
}

/**
 * Starts one execution per object version in a batch of ingest messages, with the document options
 * its uploader set as object metadata (`readMetadata`; without it, none). Returns the ids of the
 * messages that failed, for SQS partial batch responses: only those are redelivered (and after
 * maxReceiveCount land in the DLQ).
 */
export async function processIngestMessages(
  messages: IngestMessage[],
  starter: ExecutionStarter,
  readMetadata?: MetadataReader,
): Promise<{ batchItemFailures: Array<{ itemIdentifier: string }>; results: StartResult[] }> {
  const failures: Array<{ itemIdentifier: string }> = [];
  const results: StartResult[] = [];
  for (const message of messages) {
    const log = logger.child({ stage: 'trigger', messageId: message.messageId });
    try {
      for (const notified of parseS3Notification(message.body)) {
        const options = documentOptionsFrom(await readMetadata?.(notified));
        const source: SourceRef = options === undefined ? notified : { ...notified, options };
        const documentId = documentIdFor(source);
        const result = await starter.start(executionNameFor(documentId), { documentId, source });
        results.push(result);
        log.info(
          {
            document: documentId,
            key: source.key,
            ...(options === undefined ? {} : { options }),
            execution: result.executionName,
            started: result.started,
          },
          result.started ? 'execution started' : 'duplicate notification: execution exists',
        );
      }
    } catch (error) {
      log.warn({ err: error }, 'ingest message failed');
      failures.push({ itemIdentifier: message.messageId });
    }
  }
  return { batchItemFailures: failures, results };
}

/** Step Functions on AWS. */
export function stepFunctionsStarter(sfn: SFNClient, stateMachineArn: string): ExecutionStarter {
  return {
    async start(name, input) {
      try {
        await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
        return { executionName: name, started: true };
      } catch (error) {
        if (error instanceof ExecutionAlreadyExists) return { executionName: name, started: false };
        throw error;
      }
    },
  };
}

let starter: ExecutionStarter | undefined;
let readMetadata: MetadataReader | undefined;

/** Lambda entry point: SQS event source with ReportBatchItemFailures. */
export async function handler(event: { Records: Array<{ messageId: string; body: string }> }) {
  if (starter === undefined) {
    const arn = process.env.DOCPIPE_STATE_MACHINE_ARN;
    if (!arn) throw new InvalidOptionError('DOCPIPE_STATE_MACHINE_ARN is not set');
    const { env, s3 } = handlerContext();
    starter = stepFunctionsStarter(new SFNClient(clientConfig(env)), arn);
    readMetadata = s3MetadataReader(s3);
  }
  const { batchItemFailures } = await processIngestMessages(event.Records, starter, readMetadata);
  return { batchItemFailures };
}
