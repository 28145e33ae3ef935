import { type DocpipeError, toDocpipeError } from './errors.ts';
import { type Logger, logger } from './logger.ts';

export type StageName = 'split' | 'deskew' | 'denoise' | 'detect' | 'recognize' | 'assemble' | 'publish';

/** Fields every state payload carries so each log line can be traced to an execution, document and page. */
export interface StageEventBase {
  executionName?: string;
  documentId: string;
  page?: number;
}

/**
 * What a failed stage reports. Lambda serialises only `errorType` (our `name`) and `errorMessage`,
 * so the message carries this envelope as JSON: the failure event can then name stage and page.
 */
export interface FailureEnvelope {
  message: string;
  stage: StageName;
  page?: number;
  retryable: boolean;
  details: Record<string, unknown>;
}

export class StageFailure extends Error {
  readonly envelope: FailureEnvelope;
  constructor(error: DocpipeError, stage: StageName, page: number | undefined) {
    const envelope: FailureEnvelope = {
      message: error.message,
      stage,
      ...(page === undefined ? {} : { page }),
      retryable: error.retryable,
      details: error.details,
    };
    super(JSON.stringify(envelope), { cause: error });
    // Step Functions Retry/Catch match this name (Lambda reports it as errorType).
    this.name = error.name;
    this.envelope = envelope;
  }
}

/** Reads the envelope back from a Step Functions error Cause (AWS wraps it in Lambda's JSON). */
export function parseFailureCause(cause: unknown): Partial<FailureEnvelope> & { message: string } {
  let text = typeof cause === 'string' ? cause : JSON.stringify(cause ?? '');
  try {
    const outer = JSON.parse(text) as { errorMessage?: unknown };
    if (outer && typeof outer === 'object' && typeof outer.errorMessage === 'string')
      text = outer.errorMessage;
  } catch {
    // Not JSON: a plain message from the engine (States.Timeout etc.).
  }
  try {
    const inner = JSON.parse(text) as Partial<FailureEnvelope>;
    if (inner && typeof inner === 'object' && typeof inner.message === 'string') {
      return inner as Partial<FailureEnvelope> & { message: string };
    }
  } catch {
    // Plain text.
  }
  return { message: text };
}

/**
 * Wraps a stage's work in the things every handler does the same way: a child logger bound to
 * execution, document, page and stage; timing; errors turned into typed StageFailures.
 */
export function defineHandler<E extends StageEventBase, R>(
  stage: StageName,
  run: (event: E, log: Logger) => Promise<R>,
): (event: E) => Promise<R> {
  return async (event: E): Promise<R> => {
    const log = logger.child({
      stage,
      execution: event.executionName,
      document: event.documentId,
      ...(event.page === undefined ? {} : { page: event.page }),
    });
    const started = performance.now();
    // One invocation at a time per process (Lambda, a local worker): the process's CPU time over
    // the call is this stage's, sharp's and onnxruntime's threads included.
    const cpuBefore = process.cpuUsage();
    try {
      const result = await run(event, log);
      const cpu = process.cpuUsage(cpuBefore);
      log.info(
        { ms: Math.round(performance.now() - started), cpuMs: Math.round((cpu.user + cpu.system) / 1000) },
        `${stage} done`,
      );
      return result;
    } catch (error) {
      if (error instanceof StageFailure) throw error;
      const typed = toDocpipeError(error);
      const ms = Math.round(performance.now() - started);
      if (typed.name === 'InternalError') log.error({ err: error, ms }, `${stage} failed unexpectedly`);
      else log.warn({ code: typed.code, msg: typed.message, ms }, `${stage} failed`);
      throw new StageFailure(typed, stage, event.page);
    }
  };
}
