import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { HeadObjectCommand, ListObjectsV2Command, paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type ExecutionStatus,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { Upload } from '@aws-sdk/lib-storage';
import { documentKey, type SourceRef } from '../stages/shared/artifacts.ts';
import { clientConfig } from '../stages/shared/aws.ts';
import { InvalidOptionError, TransientStorageError } from '../stages/shared/errors.ts';
import { parseFailureCause } from '../stages/shared/handler-kit.ts';
import { mapLimit } from '../stages/shared/map-limit.ts';
import { type ModelManifestEntry, modelManifest } from '../stages/shared/model-store.ts';
import { endpointOption, type PipelineConfig, readPipelineConfig } from './config.ts';
import type { PipelineInput } from './trigger.ts';

/**
 * Operator logic shared by the CLI commands and the tests: list, inspect and replay executions
 * through the Step Functions API (the embedded stack serves the same API), and manage the model
 * store in S3.
 */

export interface OpsConfig extends PipelineConfig {
  /** Step Functions endpoint; undefined means real AWS. Locally the stack's control API. */
  sfnEndpoint: string | undefined;
  /** The model store the workers read: an s3://bucket/prefix URI. */
  modelStore: string;
}

export interface OpsOverrides {
  endpoint?: string;
  sfnEndpoint?: string;
  region?: string;
}

/**
 * DOCPIPE_SFN_ENDPOINT (or --sfn-endpoint) wins; otherwise a local S3/SQS endpoint implies the
 * embedded stack's control API on the next port (4566 -> 4567), and AWS implies AWS.
 */
export function readOpsConfig(env: NodeJS.ProcessEnv = process.env, overrides: OpsOverrides = {}): OpsConfig {
  const base = readPipelineConfig(env);
  if (overrides.endpoint !== undefined) {
    base.endpoint = endpointOption('--endpoint', overrides.endpoint);
  }
  if (overrides.region !== undefined) base.region = overrides.region;
  const rawSfn = overrides.sfnEndpoint ?? env.DOCPIPE_SFN_ENDPOINT;
  let sfnEndpoint: string | undefined;
  if (rawSfn !== undefined)
    sfnEndpoint = endpointOption(
      overrides.sfnEndpoint !== undefined ? '--sfn-endpoint' : 'DOCPIPE_SFN_ENDPOINT',
      rawSfn,
    );
  else if (base.endpoint !== undefined) {
    const url = new URL(base.endpoint);
    url.port = String(Number(url.port || (url.protocol === 'https:' ? 443 : 80)) + 1);
    sfnEndpoint = url.origin;
  }
  const store = env.DOCPIPE_MODEL_STORE;
  const modelStore = store?.startsWith('s3://')
    ? store.replace(/\/+$/, '')
    : `s3://${base.modelsBucket}/models`;
  return { ...base, sfnEndpoint, modelStore };
}

export interface OpsContext {
  config: OpsConfig;
  sfn: SFNClient;
  s3: S3Client;
  /** Resolved once: DOCPIPE_STATE_MACHINE_ARN, or the state machine named `docpipe`. */
  stateMachineArn?: string;
}

export function opsContext(config: OpsConfig, clients: { sfn?: SFNClient; s3?: S3Client } = {}): OpsContext {
  return {
    config,
    sfn: clients.sfn ?? new SFNClient(clientConfig({ region: config.region, endpoint: config.sfnEndpoint })),
    s3: clients.s3 ?? new S3Client(clientConfig(config)),
    ...(config.stateMachineArn === undefined ? {} : { stateMachineArn: config.stateMachineArn }),
  };
}

/** SDK failures an operator can act on become typed errors with a one-line message. */
async function call<T>(ctx: OpsContext, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const e = error as { name?: string; code?: string; message?: string };
    if (e.code === 'ECONNREFUSED' || e.name === 'ECONNREFUSED' || /ECONNREFUSED/.test(String(e.message))) {
      const where = ctx.config.sfnEndpoint ?? 'AWS Step Functions';
      throw new TransientStorageError(`${what}: cannot reach ${where} (is \`docpipe up\` running?)`, {
        cause: error,
      });
    }
    throw error;
  }
}

export async function resolveStateMachineArn(ctx: OpsContext): Promise<string> {
  if (ctx.stateMachineArn !== undefined) return ctx.stateMachineArn;
  const listed = await call(ctx, 'ListStateMachines', () => ctx.sfn.send(new ListStateMachinesCommand({})));
  const found = listed.stateMachines?.find((m) => m.name === 'docpipe');
  if (found?.stateMachineArn === undefined) {
    throw new InvalidOptionError('no state machine named docpipe: set DOCPIPE_STATE_MACHINE_ARN');
  }
  ctx.stateMachineArn = found.stateMachineArn;
  return found.stateMachineArn;
}

async function executionArn(ctx: OpsContext, nameOrArn: string): Promise<string> {
  if (nameOrArn.startsWith('arn:')) return nameOrArn;
  const machine = await resolveStateMachineArn(ctx);
  return `${machine.replace(':stateMachine:', ':execution:')}:${nameOrArn}`;
}

/** `90s`, `30m`, `24h`, `7d` -> milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(text.trim());
  if (!match)
    throw new InvalidOptionError(`Expected a duration like 90s, 30m, 24h or 7d but received '${text}'`);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

export interface FailureInfo {
  code: string;
  message: string;
  stage?: string;
  page?: number;
  retryable?: boolean;
}

export interface ExecutionSummary {
  name: string;
  arn: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  redriveCount: number;
  documentId?: string;
  source?: SourceRef;
  failure?: FailureInfo;
  /** REDRIVABLE when Step Functions can rerun only the failed steps. */
  redriveStatus?: string;
  redriveStatusReason?: string;
  input?: unknown;
}

function summarize(out: DescribeExecutionCommandOutput): ExecutionSummary {
  let input: Partial<PipelineInput> | undefined;
  try {
    input = out.input === undefined ? undefined : (JSON.parse(out.input) as Partial<PipelineInput>);
  } catch {
    input = undefined;
  }
  let failure: FailureInfo | undefined;
  if (out.error !== undefined || out.cause !== undefined) {
    const cause = parseFailureCause(out.cause);
    failure = {
      code: out.error ?? 'InternalError',
      message: cause.message,
      ...(cause.stage === undefined ? {} : { stage: cause.stage }),
      ...(cause.page === undefined ? {} : { page: cause.page }),
      ...(cause.retryable === undefined ? {} : { retryable: cause.retryable }),
    };
  }
  return {
    name: out.name ?? out.executionArn!.split(':').at(-1)!,
    arn: out.executionArn!,
    status: out.status!,
    startDate: out.startDate!,
    ...(out.stopDate === undefined ? {} : { stopDate: out.stopDate }),
    redriveCount: out.redriveCount ?? 0,
    ...(typeof input?.documentId === 'string' ? { documentId: input.documentId } : {}),
    ...(input?.source === undefined ? {} : { source: input.source }),
    ...(failure === undefined ? {} : { failure }),
    ...(out.redriveStatus === undefined ? {} : { redriveStatus: out.redriveStatus }),
    ...(out.redriveStatusReason === undefined ? {} : { redriveStatusReason: out.redriveStatusReason }),
    ...(input === undefined ? {} : { input }),
  };
}

async function describeRaw(ctx: OpsContext, nameOrArn: string): Promise<DescribeExecutionCommandOutput> {
  const arn = await executionArn(ctx, nameOrArn);
  try {
    return await call(ctx, 'DescribeExecution', () =>
      ctx.sfn.send(new DescribeExecutionCommand({ executionArn: arn })),
    );
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) {
      throw new InvalidOptionError(`no execution named ${nameOrArn}`, {
        cause: error,
        details: { execution: arn },
      });
    }
    throw error;
  }
}

export interface ListOptions {
  status?: ExecutionStatus;
  /** Only executions started within this many ms. */
  sinceMs?: number;
}

/**
 * Executions newest first, each described (input, error and cause are not in ListExecutions), so
 * the table can show the document, its key and where a failure happened.
 */
export async function listExecutions(
  ctx: OpsContext,
  options: ListOptions = {},
): Promise<ExecutionSummary[]> {
  const stateMachineArn = await resolveStateMachineArn(ctx);
  const cutoff = options.sinceMs === undefined ? undefined : Date.now() - options.sinceMs;
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call(ctx, 'ListExecutions', () =>
      ctx.sfn.send(
        new ListExecutionsCommand({
          stateMachineArn,
          maxResults: 100,
          ...(options.status === undefined ? {} : { statusFilter: options.status }),
          ...(nextToken === undefined ? {} : { nextToken }),
        }),
      ),
    );
    let older = false;
    for (const item of page.executions ?? []) {
      if (cutoff !== undefined && (item.startDate?.getTime() ?? 0) < cutoff) {
        older = true;
        break;
      }
      arns.push(item.executionArn!);
    }
    // Newest first: once one is older than the cutoff, so is every later page.
    nextToken = older ? undefined : page.nextToken;
  } while (nextToken !== undefined);
  return mapLimit(arns, 8, async (arn) => summarize(await describeRaw(ctx, arn)));
}

export const PAGE_STAGES = ['split', 'deskew', 'denoise', 'detect', 'recognize'] as const;
const STAGE_OF_ARTIFACT: Record<string, (typeof PAGE_STAGES)[number]> = {
  'page.png': 'split',
  'deskew.json': 'deskew',
  'denoise.png': 'denoise',
  'detect.json': 'detect',
  'recognize.json': 'recognize',
};

export interface PageProgress {
  page: number;
  /** The last stage whose artifact exists (stages run in order). */
  lastStage: (typeof PAGE_STAGES)[number] | undefined;
  stages: Array<(typeof PAGE_STAGES)[number]>;
}

export interface ExecutionDetail extends ExecutionSummary {
  pages: PageProgress[];
  /** s3:// URIs of every artifact and result written for the document so far. */
  artifacts: string[];
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
  }
  return keys;
}

export interface DocumentProgress {
  /** Split has finished (its summary is written), so `pages` is the document's whole count. */
  split: boolean;
  /** Pages split so far. */
  pages: number;
  /** Pages whose text has been read (the recognize stage's output exists). */
  recognized: number;
}

/**
 * How far a document is, from one listing of its artifacts (which the operator policy allows on
 * AWS): the pages split so far and those read.
 */
export async function documentProgress(
  s3: S3Client,
  artifactsBucket: string,
  documentId: string,
): Promise<DocumentProgress> {
  const keys = await listKeys(s3, artifactsBucket, `${documentId}/`);
  const pages = pageProgress(keys);
  return {
    split: keys.includes(documentKey(documentId, 'document.json')),
    pages: pages.filter((p) => p.stages.includes('split')).length,
    recognized: pages.filter((p) => p.stages.includes('recognize')).length,
  };
}

/** Each page's stages done, from the artifact keys of one document, pages in order. */
function pageProgress(artifactKeys: readonly string[]): PageProgress[] {
  const pages = new Map<number, PageProgress>();
  for (const key of artifactKeys) {
    const match = /\/pages\/(\d+)\/([^/]+)$/.exec(key);
    const stage = match ? STAGE_OF_ARTIFACT[match[2]!] : undefined;
    if (!match || stage === undefined) continue;
    const number = Number(match[1]);
    const progress = pages.get(number) ?? { page: number, lastStage: undefined, stages: [] };
    progress.stages.push(stage);
    pages.set(number, progress);
  }
  for (const progress of pages.values()) {
    progress.stages.sort((a, b) => PAGE_STAGES.indexOf(a) - PAGE_STAGES.indexOf(b));
    progress.lastStage = progress.stages.at(-1);
  }
  return [...pages.values()].sort((a, b) => a.page - b.page);
}

/**
 * One execution with its per-page progress, read from the artifacts (the same on AWS and locally,
 * and exactly what a replay will skip).
 */
export async function describeExecution(ctx: OpsContext, nameOrArn: string): Promise<ExecutionDetail> {
  const summary = summarize(await describeRaw(ctx, nameOrArn));
  if (summary.documentId === undefined) return { ...summary, pages: [], artifacts: [] };
  const prefix = `${summary.documentId}/`;
  const [artifactKeys, resultKeys] = await Promise.all([
    listKeys(ctx.s3, ctx.config.artifactsBucket, prefix),
    listKeys(ctx.s3, ctx.config.resultsBucket, prefix),
  ]);
  return {
    ...summary,
    pages: pageProgress(artifactKeys),
    artifacts: [
      ...artifactKeys.sort().map((k) => `s3://${ctx.config.artifactsBucket}/${k}`),
      ...resultKeys.sort().map((k) => `s3://${ctx.config.resultsBucket}/${k}`),
    ],
  };
}

const REPLAYABLE: ReadonlySet<string> = new Set(['FAILED', 'ABORTED', 'TIMED_OUT']);

/**
 * The failed executions to replay: for each document only its newest execution counts, so a
 * document whose earlier restart already succeeded is not replayed again.
 */
export async function selectFailed(
  ctx: OpsContext,
  options: { sinceMs?: number } = {},
): Promise<ExecutionSummary[]> {
  const all = await listExecutions(ctx, options.sinceMs === undefined ? {} : { sinceMs: options.sinceMs });
  const newest = new Map<string, ExecutionSummary>();
  for (const execution of all) {
    const key = execution.documentId ?? execution.name;
    const seen = newest.get(key);
    if (seen === undefined || seen.startDate < execution.startDate) newest.set(key, execution);
  }
  return [...newest.values()]
    .filter((e) => REPLAYABLE.has(e.status))
    .sort((a, b) => +a.startDate - +b.startDate);
}

export interface ReplayOutcome {
  execution: string;
  action: 'redriven' | 'restarted' | 'skipped';
  /** The execution that now runs: the same one when redriven, a new one when restarted. */
  arn?: string;
  name?: string;
  reason?: string;
}

/** `doc-x` -> `doc-x-r1`, `doc-x-r1` -> `doc-x-r2`: restarts of one document stay recognisable. */
export function restartName(name: string, attempt: number): string {
  const suffix = `-r${attempt}`;
  // Step Functions names are at most 80 characters.
  return `${name.replace(/-r\d+$/, '').slice(0, 80 - suffix.length)}${suffix}`;
}

/**
 * Replays one execution. A failed Standard execution that closed less than 14 days ago is redriven
 * (only the failed steps run again) unless the artifacts those steps need have expired; an older
 * one, or one whose artifacts have, is restarted with the same input under a derived name. Either way the handlers skip every stage whose artifacts exist. Running and succeeded
 * executions are left alone: the publish step would not send a second document.processed anyway.
 */
export async function replayExecution(ctx: OpsContext, nameOrArn: string): Promise<ReplayOutcome> {
  const out = await describeRaw(ctx, nameOrArn);
  const summary = summarize(out);
  if (!REPLAYABLE.has(summary.status)) {
    return { execution: summary.name, action: 'skipped', reason: `it is ${summary.status}` };
  }
  if (out.redriveStatus === 'REDRIVABLE') {
    if (await splitArtifactsExpired(ctx, summary)) {
      return restartExecution(
        ctx,
        summary,
        out.input ?? '{}',
        `its split had succeeded but ${documentKey(summary.documentId!, 'document.json')} has expired from the artifacts bucket, so a redrive would read pages that are gone`,
      );
    }
    await call(ctx, 'RedriveExecution', () =>
      ctx.sfn.send(new RedriveExecutionCommand({ executionArn: summary.arn })),
    );
    return { execution: summary.name, action: 'redriven', arn: summary.arn, name: summary.name };
  }
  return restartExecution(ctx, summary, out.input ?? '{}', out.redriveStatusReason);
}

/**
 * Whether a redrive would fail for want of artifacts: the execution failed after split, and the
 * document's split summary is no longer in the artifacts bucket (its lifecycle rule, or the embedded
 * stack's sweep, deletes artifacts after 7 days by default, while Step Functions redrives for 14).
 * A redrive runs only the failed steps, so it would not split again. Checked with a listing, which
 * the operator policy allows. When the listing fails, a redrive is tried as before.
 */
async function splitArtifactsExpired(ctx: OpsContext, summary: ExecutionSummary): Promise<boolean> {
  if (summary.documentId === undefined || summary.failure?.stage === 'split') return false;
  const key = documentKey(summary.documentId, 'document.json');
  try {
    const listed = await ctx.s3.send(
      new ListObjectsV2Command({ Bucket: ctx.config.artifactsBucket, Prefix: key, MaxKeys: 1 }),
    );
    return !(listed.Contents ?? []).some((object) => object.Key === key);
  } catch {
    return false;
  }
}

async function restartExecution(
  ctx: OpsContext,
  summary: ExecutionSummary,
  input: string,
  reason: string | undefined,
): Promise<ReplayOutcome> {
  const stateMachineArn = await resolveStateMachineArn(ctx);
  const current = /-r(\d+)$/.exec(summary.name);
  for (let attempt = current ? Number(current[1]) + 1 : 1; attempt < 1000; attempt++) {
    const name = restartName(summary.name, attempt);
    try {
      const started = await call(ctx, 'StartExecution', () =>
        ctx.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input })),
      );
      return {
        execution: summary.name,
        action: 'restarted',
        arn: started.executionArn!,
        name,
        ...(reason === undefined ? {} : { reason }),
      };
    } catch (error) {
      // That restart exists and is closed: its own outcome is what the operator sees next.
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
    }
  }
  throw new InvalidOptionError(`too many restarts of ${summary.name}`);
}

export interface ReplayProgress {
  total: number;
  running: number;
  succeeded: number;
  failed: number;
}

/** Polls the replayed executions until none is running; reports each change. */
export async function waitForExecutions(
  ctx: OpsContext,
  arns: readonly string[],
  options: { onProgress?: (progress: ReplayProgress) => void; pollMs?: number; timeoutMs?: number } = {},
): Promise<ExecutionSummary[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 3_600_000);
  const last = new Map<string, ExecutionSummary>();
  let previous = '';
  for (;;) {
    const pending = arns.filter((arn) => {
      const status = last.get(arn)?.status;
      return status === undefined || status === 'RUNNING' || status === 'PENDING_REDRIVE';
    });
    const described = await mapLimit(pending, 8, async (arn) => summarize(await describeRaw(ctx, arn)));
    for (const d of described) last.set(d.arn, d);
    const all = arns.map((arn) => last.get(arn)!);
    const progress: ReplayProgress = {
      total: arns.length,
      running: all.filter((e) => e.status === 'RUNNING' || e.status === 'PENDING_REDRIVE').length,
      succeeded: all.filter((e) => e.status === 'SUCCEEDED').length,
      failed: all.filter((e) => REPLAYABLE.has(e.status)).length,
    };
    const key = JSON.stringify(progress);
    if (key !== previous) options.onProgress?.(progress);
    previous = key;
    if (progress.running === 0) return all;
    if (Date.now() > deadline)
      throw new TransientStorageError(`${progress.running} replayed execution(s) still running`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
}

export interface ModelListing {
  name: string;
  file: string;
  version: string;
  sha256: string;
  size: number;
  location: string;
  /** 'ok' when the object exists with the manifest's size. */
  state: 'ok' | 'missing' | 'size-mismatch';
  storedSize?: number;
  lastModified?: Date;
}

function storeRef(ctx: OpsContext, entry: ModelManifestEntry): { bucket: string; key: string; uri: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(ctx.config.modelStore);
  if (!match)
    throw new InvalidOptionError(`the model store must be an s3:// URI, received '${ctx.config.modelStore}'`);
  const prefix = match[2] ?? '';
  const key = prefix === '' ? entry.file : `${prefix}/${entry.file}`;
  return { bucket: match[1]!, key, uri: `s3://${match[1]}/${key}` };
}

async function modelListing(ctx: OpsContext, entry: ModelManifestEntry): Promise<ModelListing> {
  const ref = storeRef(ctx, entry);
  const base = {
    name: entry.name,
    file: entry.file,
    version: entry.version,
    sha256: entry.sha256,
    size: entry.size,
    location: ref.uri,
  };
  try {
    const head = await ctx.s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return {
      ...base,
      state: head.ContentLength === entry.size ? 'ok' : 'size-mismatch',
      ...(head.ContentLength === undefined ? {} : { storedSize: head.ContentLength }),
      ...(head.LastModified === undefined ? {} : { lastModified: head.LastModified }),
    };
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) {
      return { ...base, state: 'missing' };
    }
    throw error;
  }
}

/** Every model of the manifest with its place in the store and whether it is there. */
export async function listModels(ctx: OpsContext): Promise<ModelListing[]> {
  return Promise.all(modelManifest().map((entry) => modelListing(ctx, entry)));
}

/**
 * Uploads a model file to the store. The manifest (stages/shared/models.json) is the contract the
 * workers verify every model against, so a file whose sha256 differs is refused: it would only
 * turn into ModelUnavailable at load time. Changing a model means changing the manifest first.
 */
export async function putModel(ctx: OpsContext, name: string, file: string): Promise<ModelListing> {
  const entry = modelManifest().find((m) => m.name === name || m.file === name);
  if (entry === undefined) {
    const names = modelManifest()
      .map((m) => m.name)
      .join(', ');
    throw new InvalidOptionError(`Expected a model name (${names}) but received '${name}'`);
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new InvalidOptionError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== entry.sha256) {
    throw new InvalidOptionError(
      `${file} has sha256 ${actual}, but the manifest requires ${entry.sha256} for model '${entry.name}' (stages/shared/models.json); workers would refuse it`,
      { details: { model: entry.name, expected: entry.sha256, actual } },
    );
  }
  const ref = storeRef(ctx, entry);
  await new Upload({
    client: ctx.s3,
    params: { Bucket: ref.bucket, Key: ref.key, Body: bytes, Metadata: { sha256: actual } },
  }).done();
  return modelListing(ctx, entry);
}

/** A fixed-width text table (columns sized to their widest cell). */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

const time = (date: Date | undefined) =>
  date === undefined ? '-' : date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function formatFailure(failure: FailureInfo | undefined): string {
  if (failure === undefined) return '';
  const where = [failure.stage, failure.page === undefined ? undefined : `page ${failure.page}`]
    .filter(Boolean)
    .join(' ');
  return where === '' ? failure.code : `${failure.code} (${where})`;
}

export function formatExecutions(executions: readonly ExecutionSummary[]): string {
  return formatTable(
    ['EXECUTION', 'STATUS', 'STARTED', 'STOPPED', 'SOURCE', 'FAILURE'],
    executions.map((e) => [
      e.name,
      e.redriveCount > 0 ? `${e.status} (redriven ${e.redriveCount}x)` : e.status,
      time(e.startDate),
      time(e.stopDate),
      e.source === undefined ? '-' : `s3://${e.source.bucket}/${e.source.key}`,
      formatFailure(e.failure),
    ]),
  );
}

/** JSON form of a summary: dates as ISO strings, the raw input left out (source and documentId carry it). */
export function executionJson(e: ExecutionSummary): Record<string, unknown> {
  const { input: _input, startDate, stopDate, ...rest } = e;
  return {
    ...rest,
    startDate: startDate.toISOString(),
    ...(stopDate === undefined ? {} : { stopDate: stopDate.toISOString() }),
  };
}
