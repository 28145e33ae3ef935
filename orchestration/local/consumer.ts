import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { logger } from '../../stages/shared/logger.ts';
import { resolveQueueUrl } from '../queues.ts';
import { type ExecutionStarter, type MetadataReader, processIngestMessages } from '../trigger.ts';

/**
 * What Lambda's SQS event source does for the trigger: long-poll the ingest queue, hand batches to
 * the same trigger code, delete what succeeded. Failed messages reappear after the visibility
 * timeout and, after maxReceiveCount, move to the DLQ.
 */
export class IngestConsumer {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly log = logger.child({ component: 'ingest' });
  private readonly sqs: SQSClient;
  private readonly queue: string;
  private readonly starter: ExecutionStarter;
  private readonly readMetadata: MetadataReader | undefined;

  constructor(sqs: SQSClient, queue: string, starter: ExecutionStarter, readMetadata?: MetadataReader) {
    this.sqs = sqs;
    this.queue = queue;
    this.starter = starter;
    this.readMetadata = readMetadata;
  }

  start(): void {
    this.running = true;
    this.loop = this.poll();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async poll(): Promise<void> {
    const queueUrl = await resolveQueueUrl(this.sqs, this.queue);
    while (this.running) {
      try {
        const { Messages = [] } = await this.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        if (Messages.length === 0) continue;
        const batch = Messages.map((m) => ({
          messageId: m.MessageId!,
          body: m.Body ?? '',
          receipt: m.ReceiptHandle!,
        }));
        const { batchItemFailures } = await processIngestMessages(batch, this.starter, this.readMetadata);
        const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
        const done = batch.filter((m) => !failed.has(m.messageId));
        if (done.length > 0) {
          await this.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receipt })),
            }),
          );
        }
      } catch (error) {
        if (!this.running) return;
        this.log.error({ err: error }, 'polling the ingest queue failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}
