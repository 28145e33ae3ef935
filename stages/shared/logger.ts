import { pino } from 'pino';

/**
 * The one module-level logger. Stages take a child per invocation:
 * `logger.child({ stage, executionId, documentId, page })`.
 * Pretty output only on an interactive terminal; JSON lines everywhere else (Lambda, CI, pipes).
 * Logs go to stderr so that CLI output on stdout stays machine-readable.
 */
const level =
  process.env.DOCPIPE_LOG_LEVEL ?? process.env.LOG_LEVEL ?? (process.env.JEST_WORKER_ID ? 'silent' : 'info');
const pretty = process.stderr.isTTY === true && process.env.DOCPIPE_LOG_FORMAT !== 'json';

export const logger = pino(
  { name: 'docpipe', level, base: null },
  pretty
    ? pino.transport({
        target: 'pino-pretty',
        options: { destination: 2, ignore: 'name', translateTime: 'SYS:HH:MM:ss.l' },
      })
    : pino.destination({ dest: 2, sync: true }),
);

export type Logger = typeof logger;
