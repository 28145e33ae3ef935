import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { logger } from '../../stages/shared/logger.ts';
import {
  type AslDefinition,
  FUNCTION_PLACEHOLDERS,
  type FunctionName,
  loadPipelineDefinition,
  substitute,
  TASK_FUNCTIONS,
} from '../pipeline.ts';
import type { ExecutionStarter, PipelineInput, StartResult } from '../trigger.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

/** What the embedded engine keeps per execution, on disk, so listing and replay survive restarts. */
export interface ExecutionRecord {
  name: string;
  arn: string;
  status: ExecutionStatus;
  input: PipelineInput;
  startDate: string;
  stopDate?: string;
  output?: unknown;
  error?: string;
  cause?: string;
  /** How many times the execution was redriven (replayed in place). */
  redriveCount: number;
  /** When the execution was last redriven. */
  redriveDate?: string;
  /** Per page, the last per-page state that finished ('Deskew' ... 'Recognize'). */
  pages?: Record<string, string>;
  /** The state that failed, when one did. */
  failedState?: string;
}

export interface EngineOptions {
  dataDir: string;
  invoke: (fn: FunctionName, event: unknown) => Promise<unknown>;
  maxConcurrency?: number;
  /** Scales Retry intervals (tests use 0 to retry at once). */
  retryIntervalMs?: number;
  region?: string;
}

const ACCOUNT = '000000000000';

/**
 * Step Functions on this machine: the real ASL file run by aws-local-stepfunctions, every Task state
 * bound to the same handler its Lambda runs. Execution names are unique like on AWS.
 */
export class LocalEngine implements ExecutionStarter {
  private readonly dir: string;
  private readonly definition: AslDefinition;
  private readonly machine: StateMachine;
  private readonly running = new Map<string, Promise<ExecutionRecord>>();
  private readonly aborts = new Map<string, () => void>();
  private stopping = false;
  private readonly options: EngineOptions;
  readonly stateMachineArn: string;
  private readonly log = logger.child({ component: 'engine' });

  constructor(options: EngineOptions) {
    this.options = options;
    this.dir = join(options.dataDir, 'executions');
    mkdirSync(this.dir, { recursive: true });
    const region = options.region ?? 'us-east-1';
    // The same substitution CDK applies at deploy time; locally the ARNs only name the functions,
    // the Task states are bound to the handlers by state name.
    const substitutions = Object.fromEntries(
      Object.entries(FUNCTION_PLACEHOLDERS).map(([fn, placeholder]) => [
        placeholder,
        `arn:aws:lambda:${region}:${ACCOUNT}:function:docpipe-${fn}`,
      ]),
    );
    const raw = loadPipelineDefinition(
      options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency },
    );
    this.definition = JSON.parse(substitute(JSON.stringify(raw), substitutions)) as AslDefinition;
    this.machine = new StateMachine(this.definition as ConstructorParameters<typeof StateMachine>[0]);
    this.stateMachineArn = `arn:aws:states:${region}:${ACCOUNT}:stateMachine:docpipe`;
  }

  async start(name: string, input: PipelineInput): Promise<StartResult> {
    if (this.stopping) throw new Error('the engine is stopping');
    if (this.running.has(name) || this.read(name) !== undefined)
      return { executionName: name, started: false };
    const record: ExecutionRecord = {
      name,
      arn: `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
      status: 'RUNNING',
      input,
      startDate: new Date().toISOString(),
      redriveCount: 0,
    };
    // Written before the run starts: a crash from here on leaves a RUNNING record that resume() picks up.
    this.write(record);
    this.launch(record);
    return { executionName: name, started: true };
  }

  /** Re-runs executions left RUNNING by a stop or crash. Finished stages are skipped by their handlers. */
  resume(): string[] {
    const resumed: string[] = [];
    for (const record of this.list()) {
      if (record.status === 'RUNNING' && !this.running.has(record.name)) {
        this.log.info({ execution: record.name }, 'resuming an execution interrupted by a stop');
        this.launch(record);
        resumed.push(record.name);
      }
    }
    return resumed;
  }

  /**
   * Runs a failed execution again under the same name, like RedriveExecution: stages whose artifacts
   * exist are skipped by their handlers, so only the failed work runs.
   */
  redrive(name: string): ExecutionRecord {
    const record = this.read(name);
    if (record === undefined) throw new Error(`no execution named ${name}`);
    if (record.status !== 'FAILED' && record.status !== 'ABORTED') return record;
    const next: ExecutionRecord = {
      name: record.name,
      arn: record.arn,
      status: 'RUNNING',
      input: record.input,
      startDate: record.startDate,
      redriveCount: record.redriveCount + 1,
      redriveDate: new Date().toISOString(),
    };
    this.write(next);
    this.launch(next);
    return next;
  }

  describe(name: string): ExecutionRecord | undefined {
    return this.read(name);
  }

  list(): ExecutionRecord[] {
    return readdirSync(this.dir)
      .filter((file) => file.endsWith('.json'))
      .map((file) => this.read(file.slice(0, -5)))
      .filter((r): r is ExecutionRecord => r !== undefined)
      .sort((a, b) => a.startDate.localeCompare(b.startDate));
  }

  /** Resolves when nothing is running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  /**
   * Stops running executions without recording an outcome: their records stay RUNNING, so the next
   * start resumes them (a stop never turns an interrupted document into a failure).
   */
  async shutdown(): Promise<void> {
    this.stopping = true;
    for (const abort of this.aborts.values()) abort();
    await Promise.allSettled([...this.running.values()]);
  }

  get runningCount(): number {
    return this.running.size;
  }

  private launch(record: ExecutionRecord): void {
    const done = this.run(record).finally(() => this.running.delete(record.name));
    this.running.set(record.name, done);
  }

  private async run(record: ExecutionRecord): Promise<ExecutionRecord> {
    const taskResourceLocalHandlers = Object.fromEntries(
      Object.entries(TASK_FUNCTIONS).map(([state, fn]) => [
        state,
        (input: unknown) => this.options.invoke(fn, input) as Promise<never>,
      ]),
    );
    const retryIntervalOverrides =
      this.options.retryIntervalMs === undefined
        ? undefined
        : Object.fromEntries(
            Object.keys(TASK_FUNCTIONS).map((state) => [state, this.options.retryIntervalMs!]),
          );
    const execution = this.machine.run(record.input as never, {
      overrides: { taskResourceLocalHandlers, ...(retryIntervalOverrides ? { retryIntervalOverrides } : {}) },
      context: {
        Execution: {
          Id: record.arn,
          Name: record.name,
          Input: record.input as never,
          StartTime: record.startDate,
          // As on AWS: how many times this execution was redriven (a failure event per run).
          RedriveCount: record.redriveCount,
        },
      },
    });
    this.aborts.set(record.name, execution.abort);
    const progress = this.track(execution.eventLogs);
    let finished: ExecutionRecord;
    try {
      const output = await execution.result;
      finished = { ...record, status: 'SUCCEEDED', output, stopDate: new Date().toISOString() };
    } catch (error) {
      const e = error as { name?: string; message?: string; cause?: { name?: string; message?: string } };
      const cause = e.cause ?? e;
      finished = {
        ...record,
        status: 'FAILED',
        error: cause.name ?? 'States.Runtime',
        cause: cause.message ?? String(error),
        stopDate: new Date().toISOString(),
      };
    }
    this.aborts.delete(record.name);
    if (this.stopping) return record;
    const { pages, failedState } = await progress;
    finished = { ...finished, pages, ...(failedState === undefined ? {} : { failedState }) };
    this.write(finished);
    this.log.info(
      { execution: record.name, status: finished.status, error: finished.error },
      'execution finished',
    );
    return finished;
  }

  /** Follows the event log for per-page progress (what `docpipe describe` shows). */
  private async track(
    events: AsyncGenerator<unknown>,
  ): Promise<{ pages: Record<string, string>; failedState: string | undefined }> {
    const pages: Record<string, string> = {};
    let failedState: string | undefined;
    for await (const event of events) {
      const e = event as {
        type: string;
        index?: number;
        state?: { name: string; input?: { page?: number } };
      };
      if (e.type === 'StateExited' && e.state?.input?.page !== undefined)
        pages[String(e.state.input.page)] = e.state.name;
      if (e.type === 'StateFailed' && e.state !== undefined && !e.state.name.startsWith('Publish'))
        failedState ??= e.state.name;
    }
    return { pages, failedState };
  }

  private read(name: string): ExecutionRecord | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, `${name}.json`), 'utf8')) as ExecutionRecord;
    } catch {
      return undefined;
    }
  }

  private write(record: ExecutionRecord): void {
    const file = join(this.dir, `${record.name}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(record, null, 2));
    renameSync(`${file}.tmp`, file);
  }
}
