import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { clientConfig } from '../../orchestration/config.ts';
import { peekDeadLetters, redriveDeadLetters } from '../../orchestration/dead-letters.ts';

let server: FauxqsServer;
let sqs: SQSClient;
let queues = 0;

let dataDir: string;

beforeAll(async () => {
  // Persisted, as the embedded stack runs it (fauxqs behaves differently with and without).
  dataDir = mkdtempSync(join(tmpdir(), 'docpipe-dlq-'));
  server = await startFauxqs({ port: 0, logger: false, dataDir });
  sqs = new SQSClient(clientConfig({ region: 'us-east-1', endpoint: `http://127.0.0.1:${server.port}` }));
});

afterAll(async () => {
  sqs.destroy();
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function queue(): Promise<string> {
  const out = await sqs.send(new CreateQueueCommand({ QueueName: `dlq-test-${++queues}` }));
  return out.QueueUrl!;
}

/** An S3 ObjectCreated notification as S3 sends it (keys form-encoded). */
const notification = (key: string) =>
  JSON.stringify({
    Records: [
      {
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: 'docpipe-input' }, object: { key, size: 10, eTag: 'abc' } },
      },
    ],
  });

const send = (url: string, body: string) =>
  sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));

/** Every body on a queue, each received once (hidden for a minute after). */
async function drain(url: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
    );
    if (!out.Messages?.length) return bodies.sort();
    bodies.push(...out.Messages.map((m) => m.Body!));
  }
}

describe('peekDeadLetters', () => {
  it('names the uploads of each notification and leaves every message on the queue', async () => {
    // Prepare
    const dlq = await queue();
    await send(dlq, notification('scans/a+b.pdf'));
    await send(dlq, notification('receipt.png'));

    // Act
    const first = await peekDeadLetters(sqs, dlq);
    const second = await peekDeadLetters(sqs, dlq);

    // Assess
    expect(first.map((l) => l.sources.map((s) => s.key)).sort()).toEqual([
      ['receipt.png'],
      ['scans/a b.pdf'],
    ]);
    expect(first[0]!.sentAt).toBeInstanceOf(Date);
    expect(second).toHaveLength(2);
  });

  it('says why a message is no S3 notification instead of failing', async () => {
    // Prepare
    const dlq = await queue();
    await send(dlq, 'not json');

    // Act
    const [letter] = await peekDeadLetters(sqs, dlq);

    // Assess
    expect(letter?.sources).toEqual([]);
    expect(letter?.problem).toContain('message body is not JSON');
  });
});

describe('redriveDeadLetters', () => {
  it('moves every message to the target queue with its body unchanged, leaving the DLQ empty', async () => {
    // Prepare: more than one receive's worth.
    const dlq = await queue();
    const ingest = await queue();
    const sent = Array.from({ length: 12 }, (_, i) => notification(`page-${i}.png`));
    for (const body of sent) await send(dlq, body);

    // Act
    const moved = await redriveDeadLetters(sqs, dlq, ingest);

    // Assess
    expect(moved).toHaveLength(12);
    expect(await drain(ingest)).toEqual([...sent].sort());
    expect(await peekDeadLetters(sqs, dlq)).toEqual([]);
  });
});
