import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { StartExecutionCommand as StartSfnExecution } from '@aws-sdk/client-sfn';
import type { ResultEvent } from '../../orchestration/events.ts';
import { expireObjects } from '../../orchestration/local/expiry.ts';
import type { LocalStack } from '../../orchestration/local/stack.ts';
import {
  describeExecution,
  listExecutions,
  listModels,
  type OpsContext,
  opsContext,
  putModel,
  readOpsConfig,
  replayExecution,
  resolveStateMachineArn,
  selectFailed,
  waitForExecutions,
} from '../../orchestration/ops.ts';
import { type PageArtifact, pageKey } from '../../stages/shared/artifacts.ts';
import { bundledModelDir, modelManifest } from '../../stages/shared/model-store.ts';
import { collectEvents, drainEvents, startTestStack, tempDataDir } from '../support/local-stack.ts';

const receipt = readFileSync(new URL('../../fixtures/samples/receipt.png', import.meta.url));
const rec = modelManifest().find((m) => m.name === 'rec')!;
const KEYS = ['ops/first.png', 'ops/second.png'];
/** Artifacts written before the failing stage: a replay must reuse them, not rewrite them. */
const DONE_BEFORE_FAILURE: PageArtifact[] = ['page.png', 'deskew.png', 'denoise.png', 'detect.json'];

/**
 * An embedded stack whose model store lacks the recogniser, before any document ran (no worker holds
 * the model and no verified copy is cached), with `keys` uploaded as the receipt and their
 * document.failed events collected.
 */
async function stackWithoutRec(
  dataDir: string,
  keys: readonly string[],
): Promise<{ stack: LocalStack; ops: OpsContext; failedEvents: ResultEvent[] }> {
  const stack = await startTestStack(dataDir);
  const ops = opsContext(
    readOpsConfig({ DOCPIPE_ENDPOINT: stack.endpoint, DOCPIPE_SFN_ENDPOINT: stack.controlEndpoint }),
    { s3: stack.s3 },
  );
  await stack.s3.send(
    new DeleteObjectCommand({ Bucket: stack.config.modelsBucket, Key: `models/${rec.file}` }),
  );
  rmSync(join(stack.dataDir, 'model-cache'), { recursive: true, force: true });
  for (const key of keys) {
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.config.inputBucket, Key: key, Body: receipt }));
  }
  const failedEvents = await collectEvents(stack, keys.length);
  await stack.idle();
  return { stack, ops, failedEvents };
}

/**
 * The operator scenario of issue 5 on the embedded stack: a model is missing from the store, so
 * documents fail; the operator puts it back and replays the failed executions.
 */
describe('replaying executions that failed on a missing model', () => {
  const data = tempDataDir();
  let stack: LocalStack;
  let ops: OpsContext;
  let failedEvents: ResultEvent[];

  const lastModified = async (documentId: string) =>
    Promise.all(
      DONE_BEFORE_FAILURE.map(async (artifact) => {
        const head = await stack.s3.send(
          new HeadObjectCommand({
            Bucket: stack.config.artifactsBucket,
            Key: pageKey(documentId, 1, artifact),
          }),
        );
        return `${artifact} ${head.LastModified?.toISOString()}`;
      }),
    );

  beforeAll(async () => {
    ({ stack, ops, failedEvents } = await stackWithoutRec(data.dir, KEYS));
  });

  afterAll(async () => {
    ops?.sfn.destroy();
    await stack?.stop();
    data.remove();
  });

  it('fails each document with ModelUnavailable in recognize and one document.failed event', async () => {
    // Act
    const failed = await listExecutions(ops, { status: 'FAILED' });
    const models = await listModels(ops);

    // Assess
    expect(failedEvents.map((e) => [e.source.key, e.type, e.error?.code, e.error?.stage]).sort()).toEqual(
      KEYS.map((key) => [key, 'document.failed', 'ModelUnavailable', 'recognize']),
    );
    expect(failed.map((e) => e.source?.key).sort()).toEqual(KEYS);
    expect(failed.map((e) => e.failure)).toEqual(
      KEYS.map(() => expect.objectContaining({ code: 'ModelUnavailable', stage: 'recognize', page: 1 })),
    );
    expect(models.find((m) => m.name === 'rec')).toMatchObject({
      state: 'missing',
      location: `s3://${stack.config.modelsBucket}/models/${rec.file}`,
    });
  });

  it('describes a failed execution with its page progress up to detect and its artifacts', async () => {
    // Prepare
    const [execution] = await listExecutions(ops, { status: 'FAILED' });

    // Act
    const detail = await describeExecution(ops, execution!.name);

    // Assess
    expect(detail.pages).toEqual([
      { page: 1, lastStage: 'detect', stages: ['split', 'deskew', 'denoise', 'detect'] },
    ]);
    expect(detail.artifacts).toContain(
      `s3://${stack.config.artifactsBucket}/${pageKey(detail.documentId!, 1, 'detect.json')}`,
    );
    expect(detail.failure?.message).toMatch(/rec/);
  });

  it('after models put and replay --failed, gives each document exactly one document.processed and recomputes nothing', async () => {
    // Prepare
    const failed = await selectFailed(ops);
    const before = await Promise.all(failed.map((e) => lastModified(e.documentId!)));
    // S3 LastModified has one-second resolution: a rewrite after this would show.
    await new Promise((r) => setTimeout(r, 1100));

    // Act
    await putModel(ops, 'rec', join(bundledModelDir(), rec.file));
    const outcomes = [];
    for (const execution of failed) outcomes.push(await replayExecution(ops, execution.arn));
    const finished = await waitForExecutions(
      ops,
      outcomes.map((o) => o.arn!),
      { pollMs: 200 },
    );
    const events = await collectEvents(stack, KEYS.length);
    const extra = await drainEvents(stack);

    // Assess
    expect(failed).toHaveLength(KEYS.length);
    expect(outcomes.map((o) => o.action)).toEqual(KEYS.map(() => 'redriven'));
    expect(finished.map((e) => e.status)).toEqual(KEYS.map(() => 'SUCCEEDED'));
    expect(events.map((e) => [e.source.key, e.type]).sort()).toEqual(
      KEYS.map((key) => [key, 'document.processed']),
    );
    expect(extra).toHaveLength(0);
    expect(await Promise.all(failed.map((e) => lastModified(e.documentId!)))).toEqual(before);
    expect((await listModels(ops)).every((m) => m.state === 'ok')).toBe(true);
  });

  it('publishes no second document.processed when a succeeded execution is replayed or restarted', async () => {
    // Prepare
    const [done] = await listExecutions(ops, { status: 'SUCCEEDED' });
    const detail = await describeExecution(ops, done!.name);

    // Act
    const replay = await replayExecution(ops, done!.name);
    // What a restart does (same input, new name): the whole workflow runs again over existing artifacts.
    const restarted = await ops.sfn.send(
      new StartSfnExecution({
        stateMachineArn: await resolveStateMachineArn(ops),
        name: `${done!.name}-r1`,
        input: JSON.stringify(detail.input),
      }),
    );
    const [rerun] = await waitForExecutions(ops, [restarted.executionArn!], { pollMs: 200 });
    const events = await drainEvents(stack);

    // Assess
    expect(replay).toMatchObject({ action: 'skipped', reason: 'it is SUCCEEDED' });
    expect(rerun?.status).toBe('SUCCEEDED');
    expect(events).toHaveLength(0);
  });
});

/**
 * A failure replayed after its artifacts expired (the embedded stack's sweep, or the lifecycle rule
 * on AWS, after 7 days, while Step Functions redrives for 14): a redrive would run recognize on
 * pages that are gone, so the replay restarts the document.
 */
describe('replaying a failure whose artifacts have expired', () => {
  const data = tempDataDir();
  let stack: LocalStack;
  let ops: OpsContext;

  beforeAll(async () => {
    ({ stack, ops } = await stackWithoutRec(data.dir, ['ops/expired.png']));
  });

  afterAll(async () => {
    ops?.sfn.destroy();
    await stack?.stop();
    data.remove();
  });

  it('restarts the document and gives it one document.processed', async () => {
    // Prepare: every artifact of the failed run is swept away, and the model is back.
    const [failed] = await selectFailed(ops);
    const swept = await expireObjects(stack.s3, stack.config.artifactsBucket, 0, Date.now() + 1000);
    await putModel(ops, 'rec', join(bundledModelDir(), rec.file));

    // Act
    const outcome = await replayExecution(ops, failed!.arn);
    const [finished] = await waitForExecutions(ops, [outcome.arn!], { pollMs: 200 });
    const events = await collectEvents(stack, 1);

    // Assess
    expect(swept.deleted).toBeGreaterThan(0);
    expect(outcome).toMatchObject({ action: 'restarted', name: `${failed!.name}-r1` });
    expect(finished?.status).toBe('SUCCEEDED');
    expect(events.map((e) => [e.source.key, e.type])).toEqual([['ops/expired.png', 'document.processed']]);
  });
});
