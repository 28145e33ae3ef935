import { DEFAULT_ARTIFACT_EXPIRY_DAYS } from '../orchestration/config.ts';
import type { AslDefinition } from '../orchestration/pipeline.ts';
import {
  FUNCTION_PLACEHOLDERS,
  type FunctionName,
  loadPipelineDefinition,
  TASK_FUNCTIONS,
} from '../orchestration/pipeline.ts';
import { InvalidOptionError } from '../stages/shared/errors.ts';
import { booleanOption, integerIn, invalidParameter, oneOf } from '../stages/shared/validate.ts';

/** Every Lambda function of the stack: the seven the workflow invokes, plus the SQS trigger. */
export type DeployedFunction = FunctionName | 'trigger';

export const PIPELINE_FUNCTIONS = Object.keys(FUNCTION_PLACEHOLDERS) as FunctionName[];
export const ALL_FUNCTIONS: readonly DeployedFunction[] = [...PIPELINE_FUNCTIONS, 'trigger'];

/** Where each function's `handler` export lives, relative to the repository root. */
export const HANDLER_MODULES: Record<DeployedFunction, string> = {
  split: 'stages/split/handler.ts',
  deskew: 'stages/deskew/handler.ts',
  denoise: 'stages/denoise/handler.ts',
  detect: 'stages/detect/handler.ts',
  recognize: 'stages/recognize/handler.ts',
  assemble: 'stages/assemble/handler.ts',
  publish: 'orchestration/publish.ts',
  trigger: 'orchestration/trigger.ts',
};

/** The image's CMD for a function: the runtime imports infra/lambda/<name>.mjs and calls `handler`. */
export function imageCommand(fn: DeployedFunction): string {
  return `infra/lambda/${fn}.handler`;
}

export interface FunctionSettings {
  memoryMiB: number;
  timeoutSeconds: number;
  ephemeralStorageMiB: number;
  /** onnxruntime intra-op threads (DOCPIPE_ORT_THREADS); only set for the stages that run models. */
  ortThreads: number | undefined;
}

export interface InfraConfig {
  stackName: string;
  /** Lowercase prefix of every bucket name: `<prefix>-<role>-<account>-<region>`. */
  namePrefix: string;
  architecture: 'x86_64' | 'arm64';
  functions: Record<DeployedFunction, FunctionSettings>;
  /** DOCPIPE_LOG_LEVEL of every function (pino level). */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  logRetentionDays: number;
  stateMachineLogLevel: 'ERROR' | 'ALL';
  /** Whether state machine logs carry execution input/output (S3 keys of the user's documents). */
  logExecutionData: boolean;
  /** Map MaxConcurrency: pages of one document processed at once; undefined keeps the ASL file's value. */
  maxConcurrency: number | undefined;
  /** Deliveries of a message before it moves to its DLQ (ingest and results queues). */
  maxReceiveCount: number;
  triggerBatchSize: number;
  triggerBatchWindowSeconds: number;
  /** Intermediate artifacts (rendered pages, per-stage outputs) expire after this many days. */
  artifactsExpirationDays: number;
  /** 'destroy' empties and deletes the buckets with the stack; 'retain' keeps them (and their data). */
  removalPolicy: 'retain' | 'destroy';
  /** Upload the bundled OCR models into the models bucket on deploy (BucketDeployment). */
  deployModels: boolean;
  /** Create the DocpipeOperator managed policy for the CLI's operators. */
  operatorPolicy: boolean;
  /** Subscribes this address to the alarm topic. */
  alarmEmail: string | undefined;
  /** Whether Assemble writes result.pdf, the searchable PDF (DOCPIPE_SEARCHABLE_PDF). */
  searchablePdf: boolean;
  /** Stage limits (DOCPIPE_MAX_BYTES, ...); undefined leaves the code's defaults (stages/shared/config.ts). */
  limits: { maxBytes?: number; maxPages?: number; maxPixels?: number; dpi?: number };
}

/** Lambda grants one vCPU per 1,769 MB, up to 6 at 10,240 MB. */
export const MB_PER_VCPU = 1769;

export function vcpusFor(memoryMiB: number): number {
  return Math.min(6, Math.max(1, Math.ceil(memoryMiB / MB_PER_VCPU)));
}

const MODEL_STAGES: readonly DeployedFunction[] = ['deskew', 'detect', 'recognize'];

/**
 * Memory picks: the page stages are CPU-bound, and Lambda sells CPU by memory, so the model stages
 * get two vCPUs (onnxruntime uses both) and the image-only stages one. Split renders whole PDF pages
 * at 300 dpi (a 2,480 x 3,508 RGBA canvas is 35 MB) and holds the input document in memory.
 */
const DEFAULT_MEMORY: Record<DeployedFunction, number> = {
  split: 2048,
  deskew: 1769,
  denoise: 1769,
  detect: 3538,
  recognize: 3538,
  assemble: 1024,
  publish: 256,
  trigger: 256,
};

const STATE_LOG_LEVELS = ['ERROR', 'ALL'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
const ARCHITECTURES = ['x86_64', 'arm64'] as const;
const REMOVAL_POLICIES = ['retain', 'destroy'] as const;
/** The values CloudWatch Logs accepts for retention. */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Context keys (cdk.json `context` or `cdk ... -c docpipe:<key>=<value>`). */
export const CONTEXT_PREFIX = 'docpipe:';
const GLOBAL_KEYS = [
  'stackName',
  'namePrefix',
  'architecture',
  'logLevel',
  'logRetentionDays',
  'stateMachineLogLevel',
  'logExecutionData',
  'maxConcurrency',
  'maxReceiveCount',
  'triggerBatchSize',
  'triggerBatchWindowSeconds',
  'artifactsExpirationDays',
  'removalPolicy',
  'deployModels',
  'operatorPolicy',
  'alarmEmail',
  'searchablePdf',
  'maxBytes',
  'maxPages',
  'maxPixels',
  'dpi',
] as const;
const FUNCTION_KEYS = ['memory', 'timeout', 'ephemeralStorage', 'ortThreads'] as const;

/**
 * The ASL file's TimeoutSeconds per function: the Lambda timeout defaults to it, so the task's own
 * timer (States.Timeout, which the workflow retries) and the function's timeout agree.
 */
export function taskTimeouts(definition: AslDefinition): Partial<Record<FunctionName, number>> {
  const timeouts: Partial<Record<FunctionName, number>> = {};
  const visit = (states: Record<string, AslDefinition>) => {
    for (const [name, state] of Object.entries(states)) {
      const fn = TASK_FUNCTIONS[name];
      if (state.Type === 'Task' && fn !== undefined && typeof state.TimeoutSeconds === 'number') {
        timeouts[fn] = Math.max(timeouts[fn] ?? 0, state.TimeoutSeconds);
      }
      if (state.ItemProcessor?.States) visit(state.ItemProcessor.States);
      if (state.Iterator?.States) visit(state.Iterator.States);
    }
  };
  visit(definition.States);
  return timeouts;
}

/** CLI context arrives as strings; cdk.json context as JSON values. Accept both. */
function asInteger(name: string, value: unknown, min: number, max: number): number {
  const number = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  return integerIn(name, number, min, max);
}

function asBoolean(name: string, value: unknown): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return booleanOption(name, value);
}

/**
 * Resolves the deployment settings from CDK context, validating every value eagerly: a typo in a
 * key or a memory size Lambda refuses fails `cdk synth`, not the deploy half an hour later.
 */
export function resolveInfraConfig(context: Record<string, unknown> = {}): InfraConfig {
  const known = new Set<string>([
    ...GLOBAL_KEYS.map((k) => `${CONTEXT_PREFIX}${k}`),
    ...ALL_FUNCTIONS.flatMap((fn) => FUNCTION_KEYS.map((k) => `${CONTEXT_PREFIX}${fn}.${k}`)),
  ]);
  for (const key of Object.keys(context)) {
    if (key.startsWith(CONTEXT_PREFIX) && !known.has(key)) {
      throw new InvalidOptionError(`Unknown context key '${key}'; known keys: ${[...known].join(', ')}`, {
        details: { parameter: key },
      });
    }
  }
  const get = (key: string): unknown => context[`${CONTEXT_PREFIX}${key}`];
  const opt = <T>(key: string, parse: (name: string, value: unknown) => T, fallback: T): T => {
    const value = get(key);
    return value === undefined || value === '' ? fallback : parse(`${CONTEXT_PREFIX}${key}`, value);
  };

  const timeouts = taskTimeouts(loadPipelineDefinition());
  const functions = {} as Record<DeployedFunction, FunctionSettings>;
  for (const fn of ALL_FUNCTIONS) {
    const memoryMiB = opt(`${fn}.memory`, (n, v) => asInteger(n, v, 128, 10_240), DEFAULT_MEMORY[fn]);
    const defaultTimeout = fn === 'trigger' ? 60 : (timeouts[fn] ?? 300);
    functions[fn] = {
      memoryMiB,
      timeoutSeconds: opt(`${fn}.timeout`, (n, v) => asInteger(n, v, 1, 900), defaultTimeout),
      ephemeralStorageMiB: opt(`${fn}.ephemeralStorage`, (n, v) => asInteger(n, v, 512, 10_240), 512),
      ortThreads: MODEL_STAGES.includes(fn)
        ? opt(`${fn}.ortThreads`, (n, v) => asInteger(n, v, 1, 64), vcpusFor(memoryMiB))
        : undefined,
    };
    if (!MODEL_STAGES.includes(fn) && get(`${fn}.ortThreads`) !== undefined) {
      throw invalidParameter(
        `${CONTEXT_PREFIX}${fn}.ortThreads`,
        `nothing: ${fn} runs no model`,
        get(`${fn}.ortThreads`),
      );
    }
  }

  const namePrefix = opt(
    'namePrefix',
    (n, v) => {
      // Bucket names are global, lowercase and at most 63 characters: `<prefix>-artifacts-<12 digits>-<region>`.
      if (typeof v !== 'string' || !/^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$/.test(v)) {
        throw invalidParameter(n, 'lowercase letters, digits and inner hyphens, at most 20 characters', v);
      }
      return v;
    },
    'docpipe',
  );
  const stackName = opt(
    'stackName',
    (n, v) => {
      if (typeof v !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(v)) {
        throw invalidParameter(n, 'a CloudFormation stack name (letters, digits, hyphens)', v);
      }
      return v;
    },
    'Docpipe',
  );
  const alarmEmail = opt(
    'alarmEmail',
    (n, v) => {
      if (typeof v !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(v))
        throw invalidParameter(n, 'an email address', v);
      return v;
    },
    undefined as string | undefined,
  );
  const limit = (key: 'maxBytes' | 'maxPages' | 'maxPixels' | 'dpi', max: number) => {
    const value = get(key);
    return value === undefined || value === ''
      ? {}
      : { [key]: asInteger(`${CONTEXT_PREFIX}${key}`, value, 1, max) };
  };

  const triggerBatchSize = opt('triggerBatchSize', (n, v) => asInteger(n, v, 1, 10_000), 10);
  const triggerBatchWindowSeconds = opt('triggerBatchWindowSeconds', (n, v) => asInteger(n, v, 0, 300), 1);
  if (triggerBatchSize > 10 && triggerBatchWindowSeconds === 0) {
    // SQS event sources accept batches above 10 only with a batching window.
    throw invalidParameter(
      `${CONTEXT_PREFIX}triggerBatchWindowSeconds`,
      'at least 1 when triggerBatchSize > 10',
      0,
    );
  }

  return {
    stackName,
    namePrefix,
    architecture: opt('architecture', (n, v) => oneOf(n, v, ARCHITECTURES), 'x86_64'),
    functions,
    logLevel: opt('logLevel', (n, v) => oneOf(n, v, LOG_LEVELS), 'info'),
    logRetentionDays: opt(
      'logRetentionDays',
      (n, v) => {
        const days = asInteger(n, v, 1, 3653);
        if (!RETENTION_DAYS.includes(days))
          throw invalidParameter(n, `one of ${RETENTION_DAYS.join(', ')}`, v);
        return days;
      },
      30,
    ),
    stateMachineLogLevel: opt('stateMachineLogLevel', (n, v) => oneOf(n, v, STATE_LOG_LEVELS), 'ERROR'),
    logExecutionData: opt('logExecutionData', asBoolean, false),
    maxConcurrency: opt(
      'maxConcurrency',
      (n, v) => asInteger(n, v, 0, 1000),
      undefined as number | undefined,
    ),
    maxReceiveCount: opt('maxReceiveCount', (n, v) => asInteger(n, v, 1, 1000), 5),
    triggerBatchSize,
    triggerBatchWindowSeconds,
    artifactsExpirationDays: opt(
      'artifactsExpirationDays',
      (n, v) => asInteger(n, v, 1, 3650),
      DEFAULT_ARTIFACT_EXPIRY_DAYS,
    ),
    removalPolicy: opt('removalPolicy', (n, v) => oneOf(n, v, REMOVAL_POLICIES), 'retain'),
    deployModels: opt('deployModels', asBoolean, true),
    operatorPolicy: opt('operatorPolicy', asBoolean, true),
    alarmEmail,
    searchablePdf: opt('searchablePdf', asBoolean, true),
    limits: {
      ...limit('maxBytes', 10 * 1024 * 1024 * 1024),
      ...limit('maxPages', 100_000),
      ...limit('maxPixels', 2_000_000_000),
      ...limit('dpi', 1200),
    },
  };
}
