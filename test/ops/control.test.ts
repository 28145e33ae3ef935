import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionNotRedrivable,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { DEFAULT_NAMES } from '../../orchestration/config.ts';
import {
  type ControlEngine,
  type ControlServer,
  startControlServer,
} from '../../orchestration/local/control.ts';
import type { ExecutionRecord } from '../../orchestration/local/engine.ts';
import {
  documentProgress,
  listExecutions,
  opsContext,
  parseDuration,
  readOpsConfig,
  replayExecution,
  restartName,
  selectFailed,
} from '../../orchestration/ops.ts';
import type { PipelineInput } from '../../orchestration/trigger.ts';

const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:docpipe';
const ARN = (name: string) => `arn:aws:states:us-east-1:000000000000:execution:docpipe:${name}`;
const DAY = 86_400_000;

/** An engine that only keeps records: the control API's behaviour without running workflows. */
class FakeEngine implements ControlEngine {
  readonly stateMachineArn = MACHINE;
  readonly records = new Map<string, ExecutionRecord>();
  readonly redriven: string[] = [];
  readonly started: string[] = [];

  add(
    name: string,
    status: ExecutionRecord['status'],
    startedAgoMs: number,
    extra: Partial<ExecutionRecord> = {},
  ) {
    const input: PipelineInput = {
      documentId: name.replace(/^doc-/, '').replace(/-r\d+$/, ''),
      source: { bucket: 'in', key: `${name}.png` },
    };
    const start = new Date(Date.now() - startedAgoMs).toISOString();
    this.records.set(name, {
      name,
      arn: ARN(name),
      status,
      input,
      startDate: start,
      ...(status === 'RUNNING' ? {} : { stopDate: start }),
      redriveCount: 0,
      ...extra,
    });
  }
  list() {
    return [...this.records.values()].sort((a, b) => a.startDate.localeCompare(b.startDate));
  }
  describe(name: string) {
    return this.records.get(name);
  }
  async start(name: string, input: PipelineInput) {
    this.started.push(name);
    this.records.set(name, {
      name,
      arn: ARN(name),
      status: 'RUNNING',
      input,
      startDate: new Date().toISOString(),
      redriveCount: 0,
    });
    return { executionName: name, started: true };
  }
  redrive(name: string) {
    this.redriven.push(name);
    const next = {
      ...this.records.get(name)!,
      status: 'RUNNING' as const,
      redriveDate: new Date().toISOString(),
    };
    next.redriveCount += 1;
    this.records.set(name, next);
    return next;
  }
}

const failureCause = JSON.stringify({
  message: "Model 'rec' could not be fetched",
  stage: 'recognize',
  page: 2,
  retryable: true,
  details: {},
});

describe('the local Step Functions control API', () => {
  let engine: FakeEngine;
  let server: ControlServer;
  let sfn: SFNClient;

  beforeEach(async () => {
    engine = new FakeEngine();
    server = await startControlServer(engine, { port: 0 });
    sfn = new SFNClient({
      region: 'us-east-1',
      endpoint: server.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
  });

  afterEach(async () => {
    sfn.destroy();
    await server.close();
  });

  it('describes an execution through the real SDK client with dates, input, error and cause', async () => {
    // Prepare
    engine.add('doc-a', 'FAILED', 60_000, { error: 'ModelUnavailable', cause: failureCause });

    // Act
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn: ARN('doc-a') }));

    // Assess
    expect(out).toMatchObject({
      name: 'doc-a',
      status: 'FAILED',
      error: 'ModelUnavailable',
      redriveStatus: 'REDRIVABLE',
    });
    expect(out.startDate).toBeInstanceOf(Date);
    expect(Math.abs(out.startDate!.getTime() - (Date.now() - 60_000))).toBeLessThan(5000);
    expect(JSON.parse(out.input!)).toMatchObject({ documentId: 'a' });
  });

  it('answers an unknown execution with the SDK exception ExecutionDoesNotExist', async () => {
    // Act
    const attempt = sfn.send(new DescribeExecutionCommand({ executionArn: ARN('doc-nope') }));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });

  it('lists newest first, filters by status and pages with nextToken', async () => {
    // Prepare
    engine.add('doc-1', 'FAILED', 3000);
    engine.add('doc-2', 'SUCCEEDED', 2000);
    engine.add('doc-3', 'FAILED', 1000);

    // Act
    const first = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: MACHINE, statusFilter: 'FAILED', maxResults: 1 }),
    );
    const second = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: MACHINE,
        statusFilter: 'FAILED',
        maxResults: 1,
        nextToken: first.nextToken!,
      }),
    );

    // Assess
    expect(first.executions?.map((e) => e.name)).toEqual(['doc-3']);
    expect(second.executions?.map((e) => e.name)).toEqual(['doc-1']);
    expect(second.nextToken).toBeUndefined();
  });

  it('refuses to redrive an execution that closed more than 14 days ago', async () => {
    // Prepare
    engine.add('doc-old', 'FAILED', 15 * DAY);

    // Act
    const attempt = sfn.send(new RedriveExecutionCommand({ executionArn: ARN('doc-old') }));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ExecutionNotRedrivable);
    expect(engine.redriven).toEqual([]);
  });

  it('rejects a second StartExecution of a closed execution name with ExecutionAlreadyExists', async () => {
    // Prepare
    engine.add('doc-x', 'FAILED', 1000);
    const input = JSON.stringify(engine.records.get('doc-x')!.input);

    // Act
    const attempt = sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'doc-x', input }));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });
});

describe('operator replay logic against the control API', () => {
  let engine: FakeEngine;
  let server: ControlServer;
  let ctx: ReturnType<typeof opsContext>;
  // The artifacts bucket a replay looks in, on the S3 emulator.
  let s3Server: FauxqsServer;

  beforeAll(async () => {
    s3Server = await startFauxqs({ port: 0, logger: false });
    s3Server.setup({ buckets: [DEFAULT_NAMES.artifactsBucket] });
  });

  afterAll(async () => {
    await s3Server.stop();
  });

  beforeEach(async () => {
    engine = new FakeEngine();
    server = await startControlServer(engine, { port: 0 });
    ctx = opsContext(
      readOpsConfig({
        DOCPIPE_ENDPOINT: `http://127.0.0.1:${s3Server.port}`,
        DOCPIPE_SFN_ENDPOINT: server.url,
      }),
    );
  });

  afterEach(async () => {
    ctx.sfn.destroy();
    ctx.s3.destroy();
    await server.close();
  });

  /** What split leaves for a document (FakeEngine names doc-<id> after the document <id>). */
  const putSplitSummary = (documentId: string) =>
    ctx.s3.send(
      new PutObjectCommand({
        Bucket: ctx.config.artifactsBucket,
        Key: `${documentId}/document.json`,
        Body: '{}',
      }),
    );

  it('redrives a recent failure in place', async () => {
    // Prepare
    engine.add('doc-r', 'FAILED', 1000, { error: 'ModelUnavailable', cause: failureCause });
    await putSplitSummary('r');

    // Act
    const outcome = await replayExecution(ctx, 'doc-r');

    // Assess
    expect(outcome).toMatchObject({ action: 'redriven', arn: ARN('doc-r') });
    expect(engine.redriven).toEqual(['doc-r']);
  });

  it('restarts a recent failure after split whose artifacts have expired, since a redrive would not split again', async () => {
    // Prepare: failed in recognize; document.json is gone from the artifacts bucket.
    engine.add('doc-x', 'FAILED', 8 * DAY, { error: 'ModelUnavailable', cause: failureCause });

    // Act
    const outcome = await replayExecution(ctx, 'doc-x');

    // Assess
    expect(outcome).toMatchObject({ action: 'restarted', name: 'doc-x-r1' });
    expect(outcome.reason).toContain('x/document.json has expired');
    expect(engine.redriven).toEqual([]);
  });

  it('redrives a failure in split even though split left nothing', async () => {
    // Prepare
    const splitCause = JSON.stringify({
      message: 'slow storage',
      stage: 'split',
      retryable: true,
      details: {},
    });
    engine.add('doc-y', 'FAILED', 1000, { error: 'TransientStorage', cause: splitCause });

    // Act
    const outcome = await replayExecution(ctx, 'doc-y');

    // Assess
    expect(outcome).toMatchObject({ action: 'redriven', name: 'doc-y' });
  });

  it("counts a document's pages split and read from its artifacts", async () => {
    // Prepare: three pages split, one read, split not finished; another document's page beside it.
    const put = (key: string) =>
      ctx.s3.send(new PutObjectCommand({ Bucket: ctx.config.artifactsBucket, Key: key, Body: 'x' }));
    for (const page of [1, 2, 3]) await put(`p1/pages/${page}/page.png`);
    await put('p1/pages/1/deskew.png');
    await put('p1/pages/1/recognize.json');
    await put('p10/pages/1/page.png');

    // Act
    const before = await documentProgress(ctx.s3, ctx.config.artifactsBucket, 'p1');
    await put('p1/document.json');
    const after = await documentProgress(ctx.s3, ctx.config.artifactsBucket, 'p1');

    // Assess
    expect(before).toEqual({ split: false, pages: 3, recognized: 1 });
    expect(after).toEqual({ split: true, pages: 3, recognized: 1 });
  });

  it('restarts a failure older than 14 days under a derived name with the same input', async () => {
    // Prepare
    engine.add('doc-o', 'FAILED', 20 * DAY);

    // Act
    const outcome = await replayExecution(ctx, 'doc-o');

    // Assess
    expect(outcome).toMatchObject({ action: 'restarted', name: 'doc-o-r1' });
    expect(engine.records.get('doc-o-r1')?.input).toEqual(engine.records.get('doc-o')!.input);
  });

  it('skips a succeeded execution', async () => {
    // Prepare
    engine.add('doc-s', 'SUCCEEDED', 1000);

    // Act
    const outcome = await replayExecution(ctx, 'doc-s');

    // Assess
    expect(outcome.action).toBe('skipped');
    expect(engine.redriven).toEqual([]);
    expect(engine.started).toEqual([]);
  });

  it('selects only the newest execution of each document and only when it failed', async () => {
    // Prepare: doc-p failed long ago and its restart succeeded; doc-q failed twice
    engine.add('doc-p', 'FAILED', 20 * DAY);
    engine.add('doc-p-r1', 'SUCCEEDED', 1000);
    engine.add('doc-q', 'FAILED', 20 * DAY);
    engine.add('doc-q-r1', 'FAILED', 2000);

    // Act
    const selected = await selectFailed(ctx);

    // Assess
    expect(selected.map((e) => e.name)).toEqual(['doc-q-r1']);
  });

  it('lists only executions started within --since, with the failure stage and page from the cause', async () => {
    // Prepare
    engine.add('doc-new', 'FAILED', 3_600_000, { error: 'ModelUnavailable', cause: failureCause });
    engine.add('doc-older', 'FAILED', 2 * DAY);

    // Act
    const listed = await listExecutions(ctx, { sinceMs: parseDuration('24h') });

    // Assess
    expect(listed.map((e) => e.name)).toEqual(['doc-new']);
    expect(listed[0]?.failure).toMatchObject({ code: 'ModelUnavailable', stage: 'recognize', page: 2 });
    expect(listed[0]?.source?.key).toBe('doc-new.png');
  });
});

describe('operator helpers', () => {
  it('derives the control endpoint from a local S3 endpoint and uses AWS for aws', () => {
    // Act
    const local = readOpsConfig({ DOCPIPE_ENDPOINT: 'http://127.0.0.1:4566' });
    const aws = readOpsConfig({ DOCPIPE_ENDPOINT: 'aws', DOCPIPE_STATE_MACHINE_ARN: MACHINE });

    // Assess
    expect(local.sfnEndpoint).toBe('http://127.0.0.1:4567');
    expect(local.modelStore).toBe('s3://docpipe-models/models');
    expect(aws.sfnEndpoint).toBeUndefined();
    expect(aws.stateMachineArn).toBe(MACHINE);
  });

  it('numbers restarts without growing the name', () => {
    // Assess
    expect(restartName('doc-abc', 1)).toBe('doc-abc-r1');
    expect(restartName('doc-abc-r1', 2)).toBe('doc-abc-r2');
    expect(restartName('x'.repeat(80), 3)).toHaveLength(80);
  });

  it('rejects a malformed duration', () => {
    // Assess
    expect(() => parseDuration('yesterday')).toThrow(/duration like/);
    expect(parseDuration('90s')).toBe(90_000);
  });
});
