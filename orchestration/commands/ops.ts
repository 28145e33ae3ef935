import type { ExecutionStatus } from '@aws-sdk/client-sfn';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { EXIT, progressWriter } from '../cli-support.ts';
import {
  describeExecution,
  executionJson,
  formatExecutions,
  formatFailure,
  formatTable,
  listExecutions,
  listModels,
  type OpsContext,
  type OpsOverrides,
  opsContext,
  parseDuration,
  putModel,
  type ReplayOutcome,
  readOpsConfig,
  replayExecution,
  selectFailed,
  waitForExecutions,
} from '../ops.ts';

type TargetFlags = OpsOverrides;

function withTarget(command: Command): Command {
  return command
    .option(
      '--endpoint <url>',
      "S3/SQS endpoint ('aws' for real AWS; default DOCPIPE_ENDPOINT, else http://127.0.0.1 on DOCPIPE_PORT or 4566)",
    )
    .option(
      '--sfn-endpoint <url>',
      "Step Functions endpoint ('aws' for real AWS; default DOCPIPE_SFN_ENDPOINT, else the S3/SQS port + 1)",
    )
    .option('--region <region>', 'AWS region');
}

function context(flags: TargetFlags): OpsContext {
  return opsContext(
    readOpsConfig(process.env, {
      ...(flags.endpoint === undefined ? {} : { endpoint: flags.endpoint }),
      ...(flags.sfnEndpoint === undefined ? {} : { sfnEndpoint: flags.sfnEndpoint }),
      ...(flags.region === undefined ? {} : { region: flags.region }),
    }),
  );
}

function close(ctx: OpsContext): void {
  ctx.sfn.destroy();
  ctx.s3.destroy();
}

const duration = (raw: string) => {
  try {
    return parseDuration(raw);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
};

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];

function printOutcome(outcome: ReplayOutcome): void {
  const what =
    outcome.action === 'redriven'
      ? 'redriven (only failed steps run again)'
      : outcome.action === 'restarted'
        ? `restarted as ${outcome.name}${outcome.reason ? ` (${outcome.reason})` : ''}`
        : `skipped: ${outcome.reason}`;
  process.stderr.write(`${outcome.execution}: ${what}\n`);
}

export function registerOps(program: Command): void {
  withTarget(
    program
      .command('executions')
      .description(
        'list executions with their document, status, times and, for failures, stage, page and error code',
      ),
  )
    .addOption(new Option('--status <status>', 'only executions with this status').choices(STATUSES))
    .option('--since <duration>', 'only executions started within this long (e.g. 30m, 24h, 7d)', duration)
    .option('--json', 'print JSON instead of a table', false)
    .action(async (flags: TargetFlags & { status?: ExecutionStatus; since?: number; json: boolean }) => {
      const ctx = context(flags);
      try {
        const executions = await listExecutions(ctx, {
          ...(flags.status === undefined ? {} : { status: flags.status }),
          ...(flags.since === undefined ? {} : { sinceMs: flags.since }),
        });
        if (flags.json) process.stdout.write(`${JSON.stringify(executions.map(executionJson), null, 2)}\n`);
        else if (executions.length === 0) process.stderr.write('no executions\n');
        else process.stdout.write(formatExecutions(executions));
      } finally {
        close(ctx);
      }
    });

  withTarget(
    program
      .command('describe')
      .description(
        'one execution: its input, per-page stage progress, the error and its cause, and the artifacts written so far',
      )
      .argument('<execution>', 'execution name (doc-...) or ARN'),
  )
    .option('--json', 'print JSON', false)
    .action(async (name: string, flags: TargetFlags & { json: boolean }) => {
      const ctx = context(flags);
      try {
        const d = await describeExecution(ctx, name);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ ...executionJson(d), input: d.input }, null, 2)}\n`);
          return;
        }
        const lines = [
          `execution:  ${d.name}`,
          `arn:        ${d.arn}`,
          `status:     ${d.status}${d.redriveCount > 0 ? ` (redriven ${d.redriveCount}x)` : ''}`,
          `started:    ${d.startDate.toISOString()}`,
          `stopped:    ${d.stopDate?.toISOString() ?? '-'}`,
          `document:   ${d.documentId ?? '-'}`,
          `source:     ${d.source === undefined ? '-' : `s3://${d.source.bucket}/${d.source.key}`}`,
          `input:      ${JSON.stringify(d.input)}`,
        ];
        if (d.failure !== undefined) {
          lines.push(`error:      ${formatFailure(d.failure)}`, `cause:      ${d.failure.message}`);
          if (d.redriveStatus !== undefined) {
            lines.push(
              `replay:     ${d.redriveStatus === 'REDRIVABLE' ? 'redrive' : `restart (${d.redriveStatusReason ?? 'not redrivable'})`}`,
            );
          }
        }
        lines.push('pages:');
        if (d.pages.length === 0) lines.push('  (none split yet)');
        for (const p of d.pages) lines.push(`  page ${p.page}: ${p.stages.join(' -> ')}`);
        lines.push(
          'artifacts:',
          ...(d.artifacts.length === 0 ? ['  (none)'] : d.artifacts.map((a) => `  ${a}`)),
        );
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        close(ctx);
      }
    });

  withTarget(
    program
      .command('replay')
      .description(
        'replay failed executions: redrive those closed < 14 days ago (only failed steps run), restart older ones, or ones whose artifacts expired, under a derived name',
      )
      .argument('[execution...]', 'execution names or ARNs'),
  )
    .option('--failed', 'replay every failed execution (the newest of each document)', false)
    .option(
      '--since <duration>',
      'with --failed: only executions started within this long (e.g. 24h)',
      duration,
    )
    .option('--no-wait', 'return once the replays started instead of waiting for their outcome')
    .option('--timeout <duration>', 'how long to wait for the replays (default 1h)', duration)
    .action(
      async (
        names: string[],
        flags: TargetFlags & { failed: boolean; since?: number; wait: boolean; timeout?: number },
        command: Command,
      ) => {
        if (names.length === 0 && !flags.failed)
          command.error('error: name executions to replay, or pass --failed');
        if (names.length > 0 && flags.failed)
          command.error('error: pass execution names or --failed, not both');
        const ctx = context(flags);
        try {
          const targets = flags.failed
            ? (await selectFailed(ctx, flags.since === undefined ? {} : { sinceMs: flags.since })).map(
                (e) => e.arn,
              )
            : names;
          if (targets.length === 0) {
            process.stderr.write('nothing to replay\n');
            return;
          }
          const outcomes: ReplayOutcome[] = [];
          for (const target of targets) {
            const outcome = await replayExecution(ctx, target);
            printOutcome(outcome);
            outcomes.push(outcome);
          }
          const started = outcomes.filter((o) => o.arn !== undefined).map((o) => o.arn!);
          if (!flags.wait || started.length === 0) {
            process.stdout.write(`${JSON.stringify(outcomes, null, 2)}\n`);
            return;
          }
          const progress = progressWriter(true);
          const finished = await waitForExecutions(ctx, started, {
            timeoutMs: flags.timeout ?? 3_600_000,
            onProgress: (p) =>
              progress(
                `replaying ${p.total}: ${p.succeeded} succeeded, ${p.failed} failed, ${p.running} running`,
                p.running === 0,
              ),
          });
          const failed = finished.filter((e) => e.status !== 'SUCCEEDED');
          for (const e of failed)
            process.stderr.write(`${e.name}: ${e.status} ${formatFailure(e.failure)}\n`);
          process.stdout.write(formatExecutions(finished));
          process.exitCode = failed.length === 0 ? EXIT.ok : EXIT.failed;
        } finally {
          close(ctx);
        }
      },
    );

  const models = program.command('models').description('the model store the workers load models from');
  withTarget(
    models.command('list').description("each model's name, version, sha256, size and location in the store"),
  )
    .option('--json', 'print JSON', false)
    .action(async (flags: TargetFlags & { json: boolean }) => {
      const ctx = context(flags);
      try {
        const listed = await listModels(ctx);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(listed, null, 2)}\n`);
        } else {
          process.stdout.write(
            formatTable(
              ['NAME', 'VERSION', 'SHA256', 'SIZE', 'STATE', 'LOCATION'],
              listed.map((m) => [m.name, m.version, m.sha256, String(m.size), m.state, m.location]),
            ),
          );
        }
        if (listed.some((m) => m.state !== 'ok')) process.exitCode = EXIT.failed;
      } finally {
        close(ctx);
      }
    });
  withTarget(
    models
      .command('put')
      .description(
        'upload or replace a model in the store; its sha256 must match the manifest (stages/shared/models.json)',
      )
      .argument('<name>', 'model name (det, rec, cls, dict) or manifest file name')
      .argument('<file>', 'the model file'),
  ).action(async (name: string, file: string, flags: TargetFlags) => {
    const ctx = context(flags);
    try {
      const stored = await putModel(ctx, name, file);
      process.stderr.write(`uploaded ${file} to ${stored.location} (sha256 ${stored.sha256} verified)\n`);
    } finally {
      close(ctx);
    }
  });
}
