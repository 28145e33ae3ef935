/**
 * The ingest DLQ: upload notifications the trigger could not turn into an execution five times
 * (Step Functions throttled or unreachable, a bucket policy that broke HeadObject). The alarm on its
 * depth tells the operator; these let them see which uploads are stuck and put them back on the
 * ingest queue once the cause is fixed. The same code runs against SQS and the embedded emulator.
 */
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SourceRef } from '../stages/shared/artifacts.ts';
import { parseS3Notification } from './trigger.ts';

export interface DeadLetter {
  messageId: string;
  /** When the notification was first sent, if SQS says. */
  sentAt?: Date;
  /** How many times it was received before it moved here, if SQS says. */
  receiveCount?: number;
  /** The uploads it announces. */
  sources: SourceRef[];
  /** Why it cannot be read as an S3 notification, when it cannot. */
  problem?: string;
}

/**
 * How long a peeked message stays hidden while the rest of the queue is read. Peeking lets the
 * messages come back by themselves rather than with ChangeMessageVisibility(0): fauxqs 2.4 with
 * persistence answers that call with MessageNotInflight and loses the message.
 */
const PEEK_VISIBILITY_SECONDS = 1;
/** Moving a message: long enough to send it on and delete it. */
const MOVE_VISIBILITY_SECONDS = 30;

async function receive(sqs: SQSClient, queueUrl: string, visibility: number): Promise<Message[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: visibility,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
    }),
  );
  return out.Messages ?? [];
}

function describe(message: Message): DeadLetter {
  const sent = Number(message.Attributes?.SentTimestamp);
  const count = Number(message.Attributes?.ApproximateReceiveCount);
  const letter: DeadLetter = {
    messageId: message.MessageId ?? '',
    ...(Number.isFinite(sent) ? { sentAt: new Date(sent) } : {}),
    ...(Number.isFinite(count) ? { receiveCount: count } : {}),
    sources: [],
  };
  try {
    letter.sources = parseS3Notification(message.Body ?? '');
  } catch (error) {
    letter.problem = (error as Error).message;
  }
  return letter;
}

/**
 * Every message on the queue, left on it: each is hidden for a second while the queue is read, and
 * this returns once they are all visible again, so a second look (or a redrive) sees them all.
 */
export async function peekDeadLetters(sqs: SQSClient, queueUrl: string): Promise<DeadLetter[]> {
  const seen = new Map<string, Message>();
  let hiddenUntil = 0;
  for (;;) {
    const batch = await receive(sqs, queueUrl, PEEK_VISIBILITY_SECONDS);
    hiddenUntil = Date.now() + PEEK_VISIBILITY_SECONDS * 1000;
    const fresh = batch.filter((message) => !seen.has(message.MessageId ?? ''));
    // Empty, or only messages seen already (a long queue outlasting the second): all were read.
    if (fresh.length === 0) break;
    for (const message of fresh) seen.set(message.MessageId ?? '', message);
  }
  const wait = hiddenUntil - Date.now();
  if (seen.size > 0 && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 100));
  return [...seen.values()].map(describe);
}

/**
 * Moves every message of `fromUrl` to `toUrl`, body unchanged: sent first, then deleted, so a
 * failure half-way leaves a message on both queues (the trigger starts one execution per document
 * version, so a duplicate costs nothing) and never on neither. Returns the messages moved.
 */
export async function redriveDeadLetters(
  sqs: SQSClient,
  fromUrl: string,
  toUrl: string,
): Promise<DeadLetter[]> {
  const moved: DeadLetter[] = [];
  for (;;) {
    const batch = await receive(sqs, fromUrl, MOVE_VISIBILITY_SECONDS);
    if (batch.length === 0) return moved;
    for (const message of batch) {
      await sqs.send(new SendMessageCommand({ QueueUrl: toUrl, MessageBody: message.Body ?? '' }));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: fromUrl, ReceiptHandle: message.ReceiptHandle! }));
      moved.push(describe(message));
    }
  }
}
