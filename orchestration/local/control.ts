import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { logger } from '../../stages/shared/logger.ts';
import type { PipelineInput } from '../trigger.ts';
import type { ExecutionRecord, LocalEngine } from './engine.ts';

/** What the control API needs from the engine (tests pass a stand-in). */
export type ControlEngine = Pick<LocalEngine, 'stateMachineArn' | 'list' | 'describe' | 'start' | 'redrive'>;

export interface ControlServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ControlServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Step Functions redrives Standard executions that closed less than this long ago (14 days). */
  redriveWindowMs?: number;
}

export const REDRIVE_WINDOW_MS = 14 * 24 * 3600 * 1000;
const STATE_MACHINE_NAME = 'docpipe';
const CREATED = Date.now() / 1000;

/** A Step Functions API error: `__type` is what the SDK turns into its exception classes. */
class ApiError extends Error {
  readonly type: string;
  constructor(type: string, message: string) {
    super(message);
    this.type = type;
  }
}

const seconds = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso) / 1000);

/**
 * A small subset of the Step Functions JSON API (AWS JSON 1.0: POST, `X-Amz-Target:
 * AWSStepFunctions.<Action>`), backed by the embedded engine, so the operator commands use the real
 * SDK client against the local stack and AWS alike. Requests are not authenticated: it listens on
 * 127.0.0.1 only.
 */
export async function startControlServer(
  engine: ControlEngine,
  options: ControlServerOptions,
): Promise<ControlServer> {
  const log = logger.child({ component: 'control' });
  const windowMs = options.redriveWindowMs ?? REDRIVE_WINDOW_MS;
  const executionPrefix = `${engine.stateMachineArn.replace(':stateMachine:', ':execution:')}:`;

  const nameOf = (arn: unknown): string => {
    if (typeof arn !== 'string' || !arn.startsWith(executionPrefix)) {
      throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(arn)}'`);
    }
    return arn.slice(executionPrefix.length);
  };
  /** The fields ListExecutions and DescribeExecution share. */
  const summary = (r: ExecutionRecord) => ({
    executionArn: r.arn,
    stateMachineArn: engine.stateMachineArn,
    name: r.name,
    status: r.status,
    startDate: seconds(r.startDate),
    stopDate: seconds(r.stopDate),
    redriveCount: r.redriveCount,
    redriveDate: seconds(r.redriveDate),
  });
  const recordOf = (arn: unknown): ExecutionRecord => {
    const record = engine.describe(nameOf(arn));
    if (record === undefined)
      throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(arn)}'`);
    return record;
  };
  const checkMachine = (arn: unknown) => {
    if (arn !== engine.stateMachineArn) {
      throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(arn)}'`);
    }
  };
  const redrivable = (record: ExecutionRecord): { ok: boolean; reason?: string } => {
    if (record.status !== 'FAILED' && record.status !== 'ABORTED') {
      return { ok: false, reason: `Execution is ${record.status}` };
    }
    const stopped = record.stopDate === undefined ? Date.now() : Date.parse(record.stopDate);
    if (Date.now() - stopped > windowMs)
      return { ok: false, reason: 'Execution closed more than 14 days ago' };
    return { ok: true };
  };

  const actions: Record<string, (body: Record<string, unknown>) => Promise<unknown> | unknown> = {
    ListStateMachines: () => ({
      stateMachines: [
        {
          stateMachineArn: engine.stateMachineArn,
          name: STATE_MACHINE_NAME,
          type: 'STANDARD',
          creationDate: CREATED,
        },
      ],
    }),
    ListExecutions: (body) => {
      checkMachine(body.stateMachineArn);
      const max =
        typeof body.maxResults === 'number' && body.maxResults > 0 ? Math.min(body.maxResults, 1000) : 100;
      const offset = typeof body.nextToken === 'string' ? Number.parseInt(body.nextToken, 10) || 0 : 0;
      // Newest first, like Step Functions.
      const all = engine
        .list()
        .reverse()
        .filter((r) => body.statusFilter === undefined || r.status === body.statusFilter)
        .filter((r) => body.redriveFilter !== 'REDRIVEN' || r.redriveCount > 0)
        .filter((r) => body.redriveFilter !== 'NOT_REDRIVEN' || r.redriveCount === 0);
      const page = all.slice(offset, offset + max);
      return {
        executions: page.map(summary),
        ...(offset + max < all.length ? { nextToken: String(offset + max) } : {}),
      };
    },
    DescribeExecution: (body) => {
      const r = recordOf(body.executionArn);
      const redrive = redrivable(r);
      return {
        ...summary(r),
        input: JSON.stringify(r.input),
        ...(r.output === undefined ? {} : { output: JSON.stringify(r.output) }),
        ...(r.error === undefined ? {} : { error: r.error }),
        ...(r.cause === undefined ? {} : { cause: r.cause }),
        redriveStatus: redrive.ok ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
        ...(redrive.reason === undefined ? {} : { redriveStatusReason: redrive.reason }),
      };
    },
    StartExecution: async (body) => {
      checkMachine(body.stateMachineArn);
      const name = typeof body.name === 'string' && body.name !== '' ? body.name : randomUUID();
      if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new ApiError('InvalidName', `Invalid Name: '${name}'`);
      let input: PipelineInput;
      try {
        input = JSON.parse(typeof body.input === 'string' ? body.input : '{}') as PipelineInput;
      } catch {
        throw new ApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not JSON');
      }
      if (
        typeof input?.documentId !== 'string' ||
        typeof input.source !== 'object' ||
        input.source === null
      ) {
        throw new ApiError(
          'InvalidExecutionInput',
          'the docpipe workflow needs { documentId, source } as input',
        );
      }
      const existing = engine.describe(name);
      if (existing !== undefined) {
        // Step Functions: the same name and input while running is idempotent; anything else is a conflict.
        if (existing.status === 'RUNNING' && JSON.stringify(existing.input) === JSON.stringify(input)) {
          return { executionArn: existing.arn, startDate: seconds(existing.startDate) };
        }
        throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.arn}'`);
      }
      await engine.start(name, input);
      const started = engine.describe(name)!;
      return { executionArn: started.arn, startDate: seconds(started.startDate) };
    },
    RedriveExecution: (body) => {
      const r = recordOf(body.executionArn);
      const redrive = redrivable(r);
      if (!redrive.ok)
        throw new ApiError('ExecutionNotRedrivable', `Execution not redrivable: ${redrive.reason}`);
      const next = engine.redrive(r.name);
      return { redriveDate: seconds(next.redriveDate) ?? Date.now() / 1000 };
    },
  };

  const send = (res: ServerResponse, status: number, payload: unknown, errorType?: string) => {
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': randomUUID(),
      ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
    });
    res.end(JSON.stringify(payload));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const action = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
    try {
      const run = actions[action];
      if (req.method !== 'POST' || run === undefined) {
        throw new ApiError('UnknownOperationException', `the local control API does not support '${target}'`);
      }
      let body: Record<string, unknown>;
      try {
        body =
          chunks.length === 0
            ? {}
            : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      } catch {
        throw new ApiError('SerializationException', 'request body is not JSON');
      }
      send(res, 200, await run(body));
    } catch (error) {
      if (error instanceof ApiError) {
        send(res, 400, { __type: error.type, message: error.message }, error.type);
      } else {
        log.error({ err: error, action }, 'control API request failed');
        send(res, 500, { __type: 'InternalFailure', message: (error as Error).message }, 'InternalFailure');
      }
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
