import { positiveInt } from '../stages/shared/config.ts';
import { InvalidOptionError } from '../stages/shared/errors.ts';

export { clientConfig } from '../stages/shared/aws.ts';

/**
 * Where the pipeline's resources live. Read once from the environment; CLI flags override.
 * The embedded local stack is the default: endpoint http://127.0.0.1:4566, fixed names.
 * Against real AWS: set DOCPIPE_ENDPOINT to '' (or 'aws') and DOCPIPE_STATE_MACHINE_ARN.
 */
export interface PipelineConfig {
  region: string;
  /** S3/SQS endpoint; undefined means the real AWS endpoints. */
  endpoint: string | undefined;
  inputBucket: string;
  artifactsBucket: string;
  resultsBucket: string;
  modelsBucket: string;
  ingestQueue: string;
  ingestDlq: string;
  resultsQueue: string;
  /** Set on AWS; the local stack uses its in-process engine. */
  stateMachineArn: string | undefined;
}

export const LOCAL_PORT = 4566;

/**
 * Days the intermediate artifacts (rendered pages, per-stage outputs) are kept: the AWS stack's
 * lifecycle rule and the embedded stack's sweeper both default to this.
 */
export const DEFAULT_ARTIFACT_EXPIRY_DAYS = 7;

export const DEFAULT_NAMES = {
  inputBucket: 'docpipe-input',
  artifactsBucket: 'docpipe-artifacts',
  resultsBucket: 'docpipe-results',
  modelsBucket: 'docpipe-models',
  ingestQueue: 'docpipe-ingest',
  ingestDlq: 'docpipe-ingest-dlq',
  resultsQueue: 'docpipe-results',
} as const;

/** '' and 'aws' name the real AWS endpoints. */
const isAws = (value: string): boolean => value === '' || value === 'aws';

/**
 * An endpoint as given by `name` (a variable or a flag): undefined for the real AWS endpoints ('' or
 * 'aws'), else an http(s) URL. Checked here, so a typo fails at once by name instead of deep inside
 * the AWS SDK as "Invalid URL".
 */
export function endpointOption(name: string, value: string): string | undefined {
  if (isAws(value)) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new InvalidOptionError(`Expected an http(s) URL, '' or 'aws' for ${name} but received '${value}'`, {
      details: { parameter: name, expected: "an http(s) URL, '' or 'aws'" },
    });
  }
  return value;
}

/** The embedded stack's S3/SQS port: DOCPIPE_PORT, else 4566. `up` listens on it, the clients call it. */
export function localPort(env: NodeJS.ProcessEnv = process.env): number {
  return positiveInt(env, 'DOCPIPE_PORT', LOCAL_PORT, 65535);
}

export function readPipelineConfig(env: NodeJS.ProcessEnv = process.env): PipelineConfig {
  const endpoint =
    env.DOCPIPE_ENDPOINT === undefined
      ? `http://127.0.0.1:${localPort(env)}`
      : endpointOption('DOCPIPE_ENDPOINT', env.DOCPIPE_ENDPOINT);
  return {
    region: env.DOCPIPE_REGION ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    endpoint,
    inputBucket: env.DOCPIPE_INPUT_BUCKET ?? DEFAULT_NAMES.inputBucket,
    artifactsBucket: env.DOCPIPE_ARTIFACTS_BUCKET ?? DEFAULT_NAMES.artifactsBucket,
    resultsBucket: env.DOCPIPE_RESULTS_BUCKET ?? DEFAULT_NAMES.resultsBucket,
    modelsBucket: env.DOCPIPE_MODELS_BUCKET ?? DEFAULT_NAMES.modelsBucket,
    ingestQueue: env.DOCPIPE_INGEST_QUEUE ?? DEFAULT_NAMES.ingestQueue,
    ingestDlq: env.DOCPIPE_INGEST_DLQ ?? DEFAULT_NAMES.ingestDlq,
    resultsQueue: env.DOCPIPE_RESULTS_QUEUE ?? DEFAULT_NAMES.resultsQueue,
    stateMachineArn: env.DOCPIPE_STATE_MACHINE_ARN || undefined,
  };
}
