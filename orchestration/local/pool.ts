import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { StageTimeoutError, WorkerCrashedError } from '../../stages/shared/errors.ts';
import { logger } from '../../stages/shared/logger.ts';
import { integerIn } from '../../stages/shared/validate.ts';
import type { FunctionName } from '../pipeline.ts';
import type { InvokeRequest, InvokeResponse } from './worker.ts';

export interface PoolOptions {
  /** Worker processes, each a warm function container (default: one per core). */
  size?: number;
  /** Environment the handlers read (endpoint, buckets, model store). */
  env: Record<string, string>;
  /** Per-invocation timeout, ms, by function (default 300 s). A stuck worker is killed. */
  timeoutMs?: Partial<Record<FunctionName, number>>;
}

interface Task {
  id: number;
  fn: FunctionName;
  event: unknown;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: ChildProcess;
  task: Task | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** What one function's invocations have cost so far in this pool. */
export interface FunctionUsage {
  /** Invocations answered (succeeded or failed; not those lost with a crashed or killed worker). */
  invocations: number;
  /** CPU time of the workers while they ran them, ms, all threads. */
  cpuMs: number;
}

const DEFAULT_TIMEOUT_MS = 300_000;

/**
 * V8 flags of every worker process. A worker churns through large buffers (page images, tensors)
 * on a small heap of long-lived objects (the word list, the SDK), and with V8's defaults it ran a
 * full mark-compact about six times a page, its helper threads taking CPU from the other worker.
 * A larger first heap limit lets garbage build up between collections, and collecting on the main
 * thread stops the helpers competing with the other worker. On 16 receipts
 * (`npm run bench:throughput -- --pages 16 --set sroie`, three runs interleaved with three without
 * the flags) worker CPU fell from 2.59 to 2.26 s a page and throughput rose from 0.69 to 0.79
 * pages/s; on the dense letters (`--pages 8`, two pairs) from 5.70 to 5.38 s and 0.32 to 0.34
 * pages/s. Neither flag is allowed in NODE_OPTIONS, so they go on the command line.
 */
export const WORKER_V8_FLAGS = ['--single-threaded-gc', '--initial-heap-size=256'] as const;

/** A worker's Node options: the service's own (a loader, --inspect) and then the V8 flags above. */
export function workerExecArgv(parent: readonly string[] = process.execArgv): string[] {
  return [...parent, ...WORKER_V8_FLAGS];
}
const WORKER_PATH = new URL('./worker.ts', import.meta.url);

/** A remote error keeps its name: that is what the workflow's Retry/Catch match. */
function remoteError(error: { name: string; message: string }): Error {
  const e = new Error(error.message);
  e.name = error.name;
  return e;
}

/**
 * Runs function invocations in warm worker processes so the main event loop never does image work.
 * A worker that dies or times out is replaced; its task fails with WorkerCrashed / StageTimeout,
 * which the workflow retries.
 */
export class WorkerPool {
  readonly size: number;
  private readonly env: Record<string, string>;
  private readonly timeouts: Partial<Record<FunctionName, number>>;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private readonly used = new Map<FunctionName, FunctionUsage>();
  private nextId = 1;
  private closed = false;
  private readonly log = logger.child({ component: 'pool' });

  constructor(options: PoolOptions) {
    this.size = integerIn('size', options.size ?? availableParallelism(), 1, 64);
    this.env = options.env;
    this.timeouts = options.timeoutMs ?? {};
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  invoke(fn: FunctionName, event: unknown): Promise<unknown> {
    if (this.closed) return Promise.reject(new WorkerCrashedError('the worker pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, fn, event, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * CPU per function since the pool started: where a page's cost goes when stages run side by side,
   * which wall-clock timings cannot tell (`npm run bench:throughput` prints it).
   */
  usage(): Partial<Record<FunctionName, FunctionUsage>> {
    return Object.fromEntries([...this.used].map(([fn, u]) => [fn, { ...u }]));
  }

  /** Kills one busy worker (tests use it to prove crashes are retried). */
  async crashOne(): Promise<boolean> {
    const slot = this.slots.find((s) => s.task !== undefined);
    if (slot === undefined) return false;
    await kill(slot.worker);
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    // Settle every caller, queued or running: a pending invoke would keep the engine's Task
    // timeout timer (and so the process) alive.
    const running = this.slots.flatMap((slot) => (slot.task === undefined ? [] : [slot.task]));
    for (const slot of this.slots) this.finish(slot);
    for (const task of [...this.queue.splice(0), ...running])
      task.reject(new WorkerCrashedError('the worker pool closed'));
    await Promise.all(this.slots.map((slot) => kill(slot.worker)));
  }

  private spawn(): Slot {
    const threads = Math.max(1, Math.floor(availableParallelism() / this.size));
    const worker = fork(WORKER_PATH, [], {
      env: { ...process.env, DOCPIPE_ORT_THREADS: String(threads), ...this.env },
      // Structured clone keeps Buffers and typed arrays intact across the channel.
      serialization: 'advanced',
      execArgv: workerExecArgv(),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const slot: Slot = { worker, task: undefined, timer: undefined };
    worker.on('message', (response: InvokeResponse) => {
      const task = slot.task;
      if (task === undefined || task.id !== response.id) return;
      this.finish(slot);
      const used = this.used.get(task.fn) ?? { invocations: 0, cpuMs: 0 };
      this.used.set(task.fn, { invocations: used.invocations + 1, cpuMs: used.cpuMs + response.cpuMs });
      if (response.ok) task.resolve(response.result);
      else task.reject(remoteError(response.error));
      this.dispatch();
    });
    worker.on('error', (error) => this.log.error({ err: error }, 'worker error'));
    worker.on('exit', (code, signal) => {
      const task = slot.task;
      this.finish(slot);
      if (this.closed) return;
      this.log.warn({ code, signal, fn: task?.fn }, 'worker exited: replacing it');
      task?.reject(
        new WorkerCrashedError(`the worker running ${task.fn} exited (${signal ?? `code ${code}`})`),
      );
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots[index] = this.spawn();
      this.dispatch();
    });
    // Idle workers must not keep a CLI process alive; the service keeps itself alive.
    worker.unref();
    worker.channel?.unref();
    return slot;
  }

  private finish(slot: Slot): void {
    if (slot.timer !== undefined) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.task = undefined;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.task !== undefined) continue;
      const task = this.queue.shift()!;
      slot.task = task;
      const timeout = this.timeouts[task.fn] ?? DEFAULT_TIMEOUT_MS;
      slot.timer = setTimeout(() => {
        slot.task = undefined;
        task.reject(new StageTimeoutError(`${task.fn} took longer than ${timeout} ms`));
        // A stuck native call cannot be interrupted: the process is killed and replaced (see 'exit').
        void kill(slot.worker);
      }, timeout);
      const request: InvokeRequest = { id: task.id, fn: task.fn, event: task.event };
      slot.worker.send(request);
    }
  }
}

/** SIGKILL and wait for the exit: a stuck native call cannot be interrupted any other way. */
function kill(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    worker.once('exit', () => resolve());
    worker.kill('SIGKILL');
  });
}
