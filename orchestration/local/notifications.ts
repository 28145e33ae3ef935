import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { HeadObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { FauxqsServer } from 'fauxqs';
import { type DocumentOptions, documentOptionsFrom } from '../../stages/shared/artifacts.ts';
import { logger } from '../../stages/shared/logger.ts';
import { resolveQueueUrl } from '../queues.ts';

/** S3 form-encodes keys in event notifications ('+' for space); slashes stay. */
export function encodeS3Key(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

export interface ObjectCreated {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  versionId?: string;
  eventName: 'ObjectCreated:Put' | 'ObjectCreated:CompleteMultipartUpload';
}

/** One notification message in the format S3 sends to SQS (event version 2.1). */
export function s3EventMessage(object: ObjectCreated, region: string, time = new Date()): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: time.toISOString(),
        eventName: object.eventName,
        userIdentity: { principalId: 'docpipe-local' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': randomUUID(), 'x-amz-id-2': randomUUID() },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'docpipe-ingest',
          bucket: {
            name: object.bucket,
            ownerIdentity: { principalId: 'docpipe-local' },
            arn: `arn:aws:s3:::${object.bucket}`,
          },
          object: {
            key: encodeS3Key(object.key),
            size: object.size,
            eTag: object.etag,
            ...(object.versionId === undefined ? {} : { versionId: object.versionId }),
            sequencer: time.getTime().toString(16).toUpperCase().padStart(16, '0'),
          },
        },
      },
    ],
  });
}

export interface NotificationBridgeOptions {
  server: FauxqsServer;
  s3: S3Client;
  sqs: SQSClient;
  bucket: string;
  queue: string;
  region: string;
  /** Append-only record of what was delivered, so a restart re-delivers only what was missed. */
  ledgerFile: string;
}

/**
 * The emulator accepts bucket notification configs but never delivers them. This bridge watches
 * every object created in the input bucket (PutObject, POST, multipart, copy: whatever client made
 * it) and sends the same S3 event record AWS would send to the ingest queue. On start it also
 * delivers objects that arrived while the stack was down.
 */
export class NotificationBridge {
  private readonly options: NotificationBridgeOptions;
  /** Ledger lines: each object version, with the document options its upload carried. */
  private readonly delivered = new Set<string>();
  /** The object versions among them, whatever their options: what a restart checks the bucket against. */
  private readonly versions = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly log = logger.child({ component: 'notifications' });

  constructor(options: NotificationBridgeOptions) {
    this.options = options;
    if (existsSync(options.ledgerFile)) {
      for (const line of readFileSync(options.ledgerFile, 'utf8').split('\n')) if (line) this.remember(line);
    }
  }

  start(): void {
    this.tap();
  }

  /** Delivers every object of the bucket not delivered before (objects uploaded while down). */
  async reconcile(): Promise<number> {
    let count = 0;
    for await (const page of paginateListObjectsV2(
      { client: this.options.s3 },
      { Bucket: this.options.bucket },
    )) {
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        const etag = (object.ETag ?? '').replaceAll('"', '');
        // A listing carries no metadata: a version delivered with other options before the stop
        // counts as delivered (a re-upload of the same bytes while down is not told apart).
        if (!this.versions.has(versionLine(object.Key, etag))) {
          this.enqueue(object.Key);
          count++;
        }
      }
    }
    await this.flush();
    return count;
  }

  /** Resolves when every notification seen so far has been sent. */
  flush(): Promise<void> {
    return this.chain;
  }

  stop(): void {
    this.stopped = true;
  }

  private tap(): void {
    // A waiter that never matches sees every event the emulator records: a subscription through
    // the public spy API. clear()/reset() reject it, so it is registered again.
    this.options.server.spy
      .waitForMessage((message) => {
        if (
          !this.stopped &&
          message.service === 's3' &&
          message.status === 'uploaded' &&
          message.bucket === this.options.bucket
        ) {
          this.enqueue(message.key);
        }
        return false;
      })
      .catch(() => {
        if (!this.stopped) this.tap();
      });
  }

  private enqueue(key: string): void {
    this.chain = this.chain
      .then(() => this.deliver(key))
      .catch((error) => this.log.error({ err: error, key }, 'notification failed'));
  }

  private async deliver(key: string): Promise<void> {
    const { s3, sqs, bucket, queue, region, ledgerFile } = this.options;
    // Deleted again before we saw it: S3 would have notified, but there is nothing to process.
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
    if (head === undefined) return;
    const etag = (head.ETag ?? '').replaceAll('"', '');
    // The same bytes uploaded again with other document options are news (S3 notifies every PUT;
    // the trigger then dedupes by document id); with the same options they are not.
    const line = ledgerLine(key, etag, documentOptionsFrom(head.Metadata));
    if (this.delivered.has(line)) return;
    const object: ObjectCreated = {
      bucket,
      key,
      size: head.ContentLength ?? 0,
      etag,
      ...(head.VersionId ? { versionId: head.VersionId } : {}),
      eventName: etag.includes('-') ? 'ObjectCreated:CompleteMultipartUpload' : 'ObjectCreated:Put',
    };
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: await resolveQueueUrl(sqs, queue),
        MessageBody: s3EventMessage(object, region),
      }),
    );
    this.remember(line);
    appendFileSync(ledgerFile, `${line}\n`);
    this.log.debug({ key, etag }, 'S3 event delivered');
  }

  private remember(line: string): void {
    this.delivered.add(line);
    const [key, etag] = JSON.parse(line) as [string, string];
    this.versions.add(versionLine(key, etag));
  }
}

/** Ledgers written before document options have two fields; those lines still read. */
function ledgerLine(key: string, etag: string, options: DocumentOptions | undefined): string {
  return JSON.stringify(options === undefined ? [key, etag] : [key, etag, options]);
}

function versionLine(key: string, etag: string): string {
  return JSON.stringify([key, etag]);
}
