import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * What a stage handler needs from its environment, read once at cold start. On Lambda the CDK app
 * sets these; the local stack sets them for its workers.
 */
export interface HandlerEnv {
  region: string;
  /** S3/SQS endpoint of the local emulator; undefined on AWS. */
  endpoint: string | undefined;
  artifactsBucket: string;
  resultsBucket: string;
  /** Queue URL or name for result events. */
  resultsQueue: string;
}

export function readHandlerEnv(env: NodeJS.ProcessEnv = process.env): HandlerEnv {
  const endpoint = env.DOCPIPE_ENDPOINT;
  return {
    region: env.DOCPIPE_REGION ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    endpoint: endpoint === undefined || endpoint === '' || endpoint === 'aws' ? undefined : endpoint,
    artifactsBucket: env.DOCPIPE_ARTIFACTS_BUCKET ?? 'docpipe-artifacts',
    resultsBucket: env.DOCPIPE_RESULTS_BUCKET ?? 'docpipe-results',
    resultsQueue: env.DOCPIPE_RESULTS_QUEUE_URL ?? env.DOCPIPE_RESULTS_QUEUE ?? 'docpipe-results',
  };
}

/** Client settings: path-style and dummy credentials only for a local endpoint. */
export function clientConfig(config: { region: string; endpoint: string | undefined }) {
  if (config.endpoint === undefined) return { region: config.region };
  return {
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: true,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'docpipe',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'docpipe',
    },
  };
}

let handlerEnv: HandlerEnv | undefined;
let s3: S3Client | undefined;
let sqs: SQSClient | undefined;

/** Lazily, once per process: module scope would read env before the local worker sets it. */
export function handlerContext(): { env: HandlerEnv; s3: S3Client; sqs: SQSClient } {
  handlerEnv ??= readHandlerEnv();
  s3 ??= new S3Client(clientConfig(handlerEnv));
  sqs ??= new SQSClient(clientConfig(handlerEnv));
  return { env: handlerEnv, s3, sqs };
}
