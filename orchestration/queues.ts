import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';

// Per client: tests run several stacks (endpoints) in one process.
const cache = new WeakMap<SQSClient, Map<string, Promise<string>>>();

/** Accepts a queue URL or a bare name (the local stack and the CLI use names). */
export function resolveQueueUrl(sqs: SQSClient, queue: string): Promise<string> {
  if (/^https?:\/\//.test(queue)) return Promise.resolve(queue);
  let urls = cache.get(sqs);
  if (urls === undefined) {
    urls = new Map();
    cache.set(sqs, urls);
  }
  let url = urls.get(queue);
  if (url === undefined) {
    url = sqs.send(new GetQueueUrlCommand({ QueueName: queue })).then((out) => out.QueueUrl!);
    url.catch(() => urls.delete(queue));
    urls.set(queue, url);
  }
  return url;
}
