import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { clientConfig } from '../../stages/shared/aws.ts';
import { logger } from '../../stages/shared/logger.ts';
import { bundledModelDir, modelManifest } from '../../stages/shared/model-store.ts';
import { integerIn } from '../../stages/shared/validate.ts';
import { DEFAULT_ARTIFACT_EXPIRY_DAYS, DEFAULT_NAMES, LOCAL_PORT, type PipelineConfig } from '../config.ts';
import type { FunctionName } from '../pipeline.ts';
import { resolveQueueUrl } from '../queues.ts';
import { s3MetadataReader } from '../trigger.ts';
import { IngestConsumer } from './consumer.ts';
import { type ControlServer, startControlServer } from './control.ts';
import { LocalEngine } from './engine.ts';
import { ArtifactExpiry } from './expiry.ts';
import { NotificationBridge } from './notifications.ts';
import { WorkerPool } from './pool.ts';

export interface LocalStackOptions {
  /** S3/SQS endpoint port (0 picks a free one). Default 4566. */
  port?: number;
  /** Where everything persists: objects, queues, executions. Default `.docpipe` in the working directory. */
  dataDir?: string;
  /** Warm worker processes (default: one per core). */
  workers?: number;
  /** Pages of one document processed at once (the Map state's MaxConcurrency). */
  maxConcurrency?: number;
  /** Retry interval override for every Task, ms (tests: 0). */
  retryIntervalMs?: number;
  /** Per-function timeouts, ms. */
  timeoutMs?: Partial<Record<FunctionName, number>>;
  /** Upload the bundled models to the models bucket when missing (default true). */
  seedModels?: boolean;
  region?: string;
  /** Port of the Step Functions control API (default: the S3/SQS port + 1; any free one when port is 0). */
  controlPort?: number;
  /**
   * Delete artifacts older than this many days, as the AWS stack's lifecycle rule does (0 keeps
   * them all). Default 7.
   */
  artifactExpiryDays?: number;
}

export interface LocalStack {
  endpoint: string;
  port: number;
  dataDir: string;
  config: PipelineConfig;
  server: FauxqsServer;
  engine: LocalEngine;
  /** The Step Functions subset (ListExecutions, DescribeExecution, StartExecution, RedriveExecution). */
  control: ControlServer;
  controlEndpoint: string;
  pool: WorkerPool;
  bridge: NotificationBridge;
  /** Deletes expired artifacts hourly (see expiry.ts). */
  expiry: ArtifactExpiry;
  s3: S3Client;
  sqs: SQSClient;
  /** Resolves when every delivered notification has started its execution and all executions ended. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** The ingest queue hands a message to the DLQ after this many failed receives (as configured on AWS). */
export const INGEST_MAX_RECEIVE_COUNT = 5;

/**
 * Starts the whole pipeline on this machine: the S3/SQS emulator with persistence, the S3 -> SQS
 * notification bridge, the trigger consuming the ingest queue, the Step Functions engine running
 * the real ASL, and a pool of warm workers running the stage handlers.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const dataDir = resolve(options.dataDir ?? '.docpipe');
  const artifactExpiryDays = integerIn(
    'artifactExpiryDays',
    options.artifactExpiryDays ?? DEFAULT_ARTIFACT_EXPIRY_DAYS,
    0,
    3650,
  );
  const region = options.region ?? 'us-east-1';
  mkdirSync(join(dataDir, 'fauxqs'), { recursive: true });
  const log = logger.child({ component: 'stack' });

  const server = await startFauxqs({
    port: options.port ?? LOCAL_PORT,
    logger: false,
    defaultRegion: region,
    dataDir: join(dataDir, 'fauxqs'),
    s3StorageDir: join(dataDir, 's3'),
    messageSpies: { bufferSize: 1000 },
  });
  try {
    const endpoint = `http://127.0.0.1:${server.port}`;
    const config: PipelineConfig = { region, endpoint, ...DEFAULT_NAMES, stateMachineArn: undefined };

    const dlq = server.createQueue(config.ingestDlq);
    server.setup({
      queues: [
        {
          name: config.ingestQueue,
          attributes: {
            VisibilityTimeout: '60',
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: dlq.queueArn,
              maxReceiveCount: String(INGEST_MAX_RECEIVE_COUNT),
            }),
          },
        },
        { name: config.resultsQueue },
      ],
      buckets: [config.inputBucket, config.artifactsBucket, config.resultsBucket, config.modelsBucket],
    });

    const s3 = new S3Client(clientConfig(config));
    const sqs = new SQSClient(clientConfig(config));
    if (options.seedModels ?? true) await seedModels(s3, config.modelsBucket);

    const pool = new WorkerPool({
      ...(options.workers === undefined ? {} : { size: options.workers }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      env: {
        DOCPIPE_ENDPOINT: endpoint,
        DOCPIPE_REGION: region,
        DOCPIPE_ARTIFACTS_BUCKET: config.artifactsBucket,
        DOCPIPE_RESULTS_BUCKET: config.resultsBucket,
        DOCPIPE_RESULTS_QUEUE: config.resultsQueue,
        DOCPIPE_MODEL_STORE: `s3://${config.modelsBucket}/models`,
        DOCPIPE_MODEL_CACHE: join(dataDir, 'model-cache'),
      },
    });
    const engine = new LocalEngine({
      dataDir,
      region,
      invoke: (fn, event) => pool.invoke(fn, event),
      ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
      ...(options.retryIntervalMs === undefined ? {} : { retryIntervalMs: options.retryIntervalMs }),
    });
    const bridge = new NotificationBridge({
      server,
      s3,
      sqs,
      bucket: config.inputBucket,
      queue: config.ingestQueue,
      region,
      ledgerFile: join(dataDir, 'notifications.jsonl'),
    });
    bridge.start();
    const consumer = new IngestConsumer(sqs, config.ingestQueue, engine, s3MetadataReader(s3));
    const control = await startControlServer(engine, {
      port: options.controlPort ?? (options.port === 0 ? 0 : server.port + 1),
    });

    const resumed = engine.resume();
    const missed = await bridge.reconcile();
    consumer.start();
    const expiry = new ArtifactExpiry({
      s3,
      bucket: config.artifactsBucket,
      days: artifactExpiryDays,
    });
    expiry.start();
    log.info(
      {
        endpoint,
        control: control.url,
        dataDir,
        workers: pool.size,
        resumed: resumed.length,
        missed,
        artifactExpiryDays,
      },
      'local stack up',
    );

    const ingestUrl = await resolveQueueUrl(sqs, config.ingestQueue);
    return {
      endpoint,
      port: server.port,
      dataDir,
      config,
      server,
      engine,
      control,
      controlEndpoint: control.url,
      pool,
      bridge,
      expiry,
      s3,
      sqs,
      async idle() {
        for (;;) {
          await bridge.flush();
          const attributes = await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: ingestUrl,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
            }),
          );
          const pending =
            Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0) +
            Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
          if (pending === 0 && engine.runningCount === 0) return;
          await engine.idle();
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      async stop() {
        bridge.stop();
        await expiry.stop();
        await control.close();
        await consumer.stop();
        await bridge.flush();
        await engine.shutdown();
        await pool.close();
        s3.destroy();
        sqs.destroy();
        await server.stop();
      },
    };
  } catch (error) {
    // A half-started stack must not keep the port or the emulator's files open.
    await server.stop();
    throw error;
  }
}

/**
 * The models bucket is the model store (the paper's design). It is seeded from the bundled package
 * only when it holds no model at all (first start): a model an operator removed stays removed.
 */
async function seedModels(s3: S3Client, bucket: string): Promise<void> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'models/', MaxKeys: 1 }));
  if ((listed.KeyCount ?? 0) > 0) return;
  const dir = bundledModelDir();
  for (const entry of modelManifest()) {
    const body = await readFile(join(dir, entry.file));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `models/${entry.file}`, Body: body }));
  }
}
