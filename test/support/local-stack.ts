import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type PutObjectCommandOutput } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { parseResultEvent, type ResultEvent } from '../../orchestration/events.ts';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../orchestration/local/stack.ts';
import { resolveQueueUrl } from '../../orchestration/queues.ts';

export function tempDataDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'docpipe-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A stack on a free port with retries that do not wait: what every pipeline test starts from. */
export function startTestStack(dataDir: string, options: LocalStackOptions = {}): Promise<LocalStack> {
  return startLocalStack({ port: 0, dataDir, workers: 2, retryIntervalMs: 0, ...options });
}

export interface SharedStack {
  readonly stack: LocalStack;
  /** A plain PutObject into the input bucket (with user metadata, if given): what any S3 client does. */
  put(key: string, body: Buffer, metadata?: Record<string, string>): Promise<PutObjectCommandOutput>;
}

/** One stack for a describe block: started before its tests, stopped and removed after them. */
export function useSharedStack(options: LocalStackOptions = {}): SharedStack {
  const data = tempDataDir();
  let started: LocalStack | undefined;
  const current = (): LocalStack => {
    if (started === undefined) throw new Error('the shared stack is used outside its describe block');
    return started;
  };
  beforeAll(async () => {
    started = await startTestStack(data.dir, options);
  });
  afterAll(async () => {
    await started?.stop();
    data.remove();
  });
  return {
    get stack() {
      return current();
    },
    put: (key, body, metadata) =>
      current().s3.send(
        new PutObjectCommand({
          Bucket: current().config.inputBucket,
          Key: key,
          Body: body,
          ...(metadata === undefined ? {} : { Metadata: metadata }),
        }),
      ),
  };
}

/** Consumes result events from the results queue until `count` arrived or the time is up. */
export async function collectEvents(
  stack: LocalStack,
  count: number,
  timeoutMs = 120_000,
): Promise<ResultEvent[]> {
  const url = await resolveQueueUrl(stack.sqs, stack.config.resultsQueue);
  const events: ResultEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  while (events.length < count && Date.now() < deadline) {
    const { Messages = [] } = await stack.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const message of Messages) {
      events.push(parseResultEvent(message.Body!));
      await stack.sqs.send(
        new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle! }),
      );
    }
  }
  return events;
}

/** Everything that is left on the results queue after the stack went idle. */
export async function drainEvents(stack: LocalStack): Promise<ResultEvent[]> {
  await stack.idle();
  return collectEvents(stack, Number.POSITIVE_INFINITY, 1500);
}
