import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Upload } from '@aws-sdk/lib-storage';
import { type Command, Option } from 'commander';
import {
  type DocumentOptions,
  documentIdFor,
  documentOptionsFrom,
  getBytes,
  OPTION_METADATA,
} from '../../stages/shared/artifacts.ts';
import { clientConfig } from '../../stages/shared/aws.ts';
import { InvalidOptionError } from '../../stages/shared/errors.ts';
import { mapLimit } from '../../stages/shared/map-limit.ts';
import {
  describeFailure,
  EXIT,
  expandDocuments,
  OUTPUT_EXTENSIONS,
  type OutputKind,
  outputPath,
  outputStems,
  overwritesInput,
  parseDpiOption,
  parseInteger,
  parsePagesOption,
  progressWriter,
  sharedOutput,
} from '../cli-support.ts';
import {
  DEFAULT_ARTIFACT_EXPIRY_DAYS,
  endpointOption,
  localPort,
  type PipelineConfig,
  readPipelineConfig,
} from '../config.ts';
import { peekDeadLetters, redriveDeadLetters } from '../dead-letters.ts';
import { parseResultEvent, type ResultEvent } from '../events.ts';
import { type LocalStack, startLocalStack } from '../local/stack.ts';
import { type DocumentProgress, documentProgress, formatTable } from '../ops.ts';
import { resolveQueueUrl } from '../queues.ts';

interface TargetOptions {
  endpoint?: string;
  region?: string;
}

function targetConfig(options: TargetOptions): PipelineConfig {
  const config = readPipelineConfig();
  if (options.endpoint !== undefined) config.endpoint = endpointOption('--endpoint', options.endpoint);
  if (options.region !== undefined) config.region = options.region;
  return config;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What `submit` and `run` take besides the file: the key, and how the document is to be read. */
export interface SubmitOptions extends DocumentOptions {
  key?: string;
}

/**
 * Uploads with the SDK's managed upload: multipart above 5 MB, like `aws s3 cp`. The document
 * options go with it as object metadata, where the trigger reads them (as it does from any S3 client's upload).
 */
export async function submitFile(
  s3: S3Client,
  config: PipelineConfig,
  file: string,
  options: SubmitOptions = {},
): Promise<{ bucket: string; key: string; etag: string; documentId: string }> {
  const key = options.key ?? basename(file);
  const body = await readFile(file);
  const metadata = Object.fromEntries(
    (Object.entries(OPTION_METADATA) as Array<[keyof DocumentOptions, string]>)
      .filter(([option]) => options[option] !== undefined)
      .map(([option, name]) => [name, String(options[option])]),
  );
  const upload = new Upload({
    client: s3,
    params: { Bucket: config.inputBucket, Key: key, Body: body, Metadata: metadata },
  });
  const out = await upload.done();
  const etag = (out.ETag ?? '').replaceAll('"', '');
  // The id the trigger will compute: from the metadata as S3 hands it back.
  const documentOptions = documentOptionsFrom(metadata);
  const source = {
    bucket: config.inputBucket,
    key,
    etag,
    ...(out.VersionId ? { versionId: out.VersionId } : {}),
    ...(documentOptions === undefined ? {} : { options: documentOptions }),
  };
  return { bucket: config.inputBucket, key, etag, documentId: documentIdFor(source) };
}

/**
 * Waits for the document's result event without consuming the results queue (other consumers
 * own it): the publish function keeps a copy of each event under <documentId>/events/.
 */
export async function waitForResultEvent(
  s3: S3Client,
  config: PipelineConfig,
  documentId: string,
  timeoutMs: number,
): Promise<ResultEvent> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: config.resultsBucket, Prefix: `${documentId}/events/` }),
    );
    const newest = (listed.Contents ?? []).sort(
      (a, b) => (b.LastModified?.getTime() ?? 0) - (a.LastModified?.getTime() ?? 0),
    )[0];
    if (newest?.Key !== undefined) {
      const object = await s3.send(new GetObjectCommand({ Bucket: config.resultsBucket, Key: newest.Key }));
      return parseResultEvent(await object.Body!.transformToString());
    }
    await sleep(250);
  }
  throw new InvalidOptionError(
    `no result event for document ${documentId} within ${Math.round(timeoutMs / 1000)} s`,
  );
}

async function readText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString();
}

/** The result's S3 key of each output: `alto` and `pdf` are absent from older or PDF-less events. */
function resultKeys(result: NonNullable<ResultEvent['result']>): Array<[OutputKind, string | undefined]> {
  return [
    ['json', result.json],
    ['text', result.text],
    ['hocr', result.hocr],
    ['alto', result.alto],
    ['pdf', result.pdf],
  ];
}

/**
 * Copies a processed document's outputs out of the results bucket into `dir`, named `stem` and
 * their extension as `docpipe ocr -o` names them (`outputStems`); returns the paths written.
 */
async function saveResults(
  s3: S3Client,
  result: NonNullable<ResultEvent['result']>,
  dir: string,
  stem: string,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [kind, key] of resultKeys(result)) {
    if (key === undefined) continue;
    const path = outputPath(stem, dir, kind);
    await writeFile(path, await getBytes(s3, { bucket: result.bucket, key }));
    written.push(path);
  }
  return written;
}

/**
 * Whether saving `file`'s results, named `stem`, into `dir` would overwrite `file`; if so, the exit
 * code says usage.
 */
async function refuseOverwrite(file: string, stem: string, dir: string): Promise<boolean> {
  const kinds = Object.keys(OUTPUT_EXTENSIONS) as OutputKind[];
  const refused = await overwritesInput(
    file,
    kinds.map((kind) => outputPath(stem, dir, kind)),
  );
  if (refused) process.exitCode = EXIT.usage;
  return refused;
}

/** Result events waited for at once by `submit` and `run`: each wait polls the results bucket. */
const WAIT_CONCURRENCY = 8;

/**
 * The documents a `submit` or `run` command line names, once every check that needs no pipeline
 * has passed (directories expanded, every path readable, --key for one file, outputs that neither clash
 * nor overwrite an input); undefined after saying why, with the exit code set.
 */
async function documentsToSend(
  args: readonly string[],
  options: { key?: string; output?: string },
): Promise<string[] | undefined> {
  const { files, errors } = await expandDocuments(args);
  for (const error of errors) process.stderr.write(`docpipe: ${error}\n`);
  if (errors.length > 0) {
    process.exitCode = EXIT.failed;
    return undefined;
  }
  if (options.key !== undefined && files.length > 1) {
    process.stderr.write(`docpipe: --key names one object, but ${files.length} files are given\n`);
    process.exitCode = EXIT.usage;
    return undefined;
  }
  if (options.output !== undefined) {
    const clash = sharedOutput(files, options.output, Object.keys(OUTPUT_EXTENSIONS) as OutputKind[]);
    if (clash !== undefined) {
      process.stderr.write(`docpipe: ${clash}\n`);
      process.exitCode = EXIT.usage;
      return undefined;
    }
    const stems = outputStems(files);
    for (const file of files)
      if (await refuseOverwrite(file, stems.get(file)!, options.output)) return undefined;
    // Made before any upload, so an -o that cannot be created fails before the documents are read.
    await mkdir(options.output, { recursive: true });
  }
  return files;
}

/** A file uploaded by `submit` or `run`, and its result event once it came. */
interface Sent {
  file: string;
  bucket: string;
  key: string;
  documentId: string;
  event?: ResultEvent;
}

/** How often the wait looks at the documents' page progress, and how many it looks at each time. */
const PROGRESS_INTERVAL_MS = 2000;
const PROGRESS_SAMPLE = 4;

/**
 * Waits for every document's event, `WAIT_CONCURRENCY` at a time, all within one deadline. Meanwhile
 * `report` hears how far they are, when that changes: documents done and pages read, counted from
 * the artifacts (a few unfinished documents a round, so a long wait lists little).
 */
async function waitForAll(
  s3: S3Client,
  config: PipelineConfig,
  sent: Sent[],
  timeoutMs: number,
  report: (line: string) => void = () => {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let done = 0;
  const progress = new Map<string, DocumentProgress>();
  let last = '';
  const say = (): void => {
    const known = [...progress.values()];
    const pages = known.reduce((sum, p) => sum + p.pages, 0);
    const recognized = known.reduce((sum, p) => sum + p.recognized, 0);
    const unsplit = sent.length - known.filter((p) => p.split).length;
    const pageText = pages === 0 ? '' : `${recognized}/${pages}${unsplit > 0 ? '+' : ''} pages read`;
    const line =
      sent.length > 1
        ? [`${done}/${sent.length} documents done`, pageText].filter(Boolean).join(', ')
        : pageText && `${sent[0]!.file}: ${pageText}`;
    if (line !== '' && line !== last) report(line);
    last = line;
  };
  let stopped = false;
  let cursor = 0;
  // The look-out naps between rounds; the end of the wait wakes it so that it adds no delay.
  let wake = (): void => {};
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const watch = (async () => {
    while (!stopped) {
      await nap(PROGRESS_INTERVAL_MS);
      const waiting = sent.filter((upload) => upload.event === undefined);
      if (stopped || waiting.length === 0) break;
      const sample = Array.from(
        { length: Math.min(PROGRESS_SAMPLE, waiting.length) },
        (_, i) => waiting[(cursor + i) % waiting.length]!,
      );
      cursor += sample.length;
      await Promise.all(
        sample.map(async (upload) => {
          // Progress is a courtesy: a failed listing must not end the wait.
          const seen = await documentProgress(s3, config.artifactsBucket, upload.documentId).catch(
            () => undefined,
          );
          if (seen !== undefined && upload.event === undefined) progress.set(upload.documentId, seen);
        }),
      );
      if (!stopped) say();
    }
  })();
  try {
    await mapLimit(sent, WAIT_CONCURRENCY, async (upload) => {
      upload.event = await waitForResultEvent(
        s3,
        config,
        upload.documentId,
        Math.max(1000, deadline - Date.now()),
      );
      done++;
      const pages = upload.event.pageCount ?? 0;
      progress.set(upload.documentId, { split: true, pages, recognized: pages });
      if (sent.length > 1) say();
    });
  } finally {
    stopped = true;
    wake();
    await watch;
  }
}

/** Uploads each file in turn; `onSent` hears of each upload. */
async function sendAll(
  s3: S3Client,
  config: PipelineConfig,
  files: readonly string[],
  options: SubmitOptions,
  onSent: (upload: Sent) => void = () => {},
): Promise<Sent[]> {
  const sent: Sent[] = [];
  for (const file of files) {
    const upload = { file, ...(await submitFile(s3, config, file, options)) };
    onSent(upload);
    sent.push(upload);
  }
  return sent;
}

/**
 * Goes through the documents in the order given, once their events are in: says why each failed
 * one failed, saves each processed one's results into `output` (if given), then hands it to
 * `print`. Returns how many failed.
 */
async function settle(
  s3: S3Client,
  sent: readonly Sent[],
  output: string | undefined,
  print: (upload: Sent, event: ResultEvent) => Promise<void>,
): Promise<number> {
  let failed = 0;
  const stems = outputStems(sent.map((upload) => upload.file));
  for (const upload of sent) {
    const event = upload.event!;
    if (event.type === 'document.failed') {
      failed++;
      process.stderr.write(failureLine(upload.file, event));
    } else if (output !== undefined) {
      for (const path of await saveResults(s3, event.result!, output, stems.get(upload.file)!)) {
        process.stderr.write(`${upload.file} -> ${path}\n`);
      }
    }
    await print(upload, event);
  }
  return failed;
}

/** The line that says why a document failed: its file, code, message, and where. */
function failureLine(file: string, event: ResultEvent): string {
  const { code, message, stage, page } = event.error!;
  return `docpipe: ${file}: ${code}: ${message}${stage ? ` (stage ${stage}${page ? `, page ${page}` : ''})` : ''}\n`;
}

/** The flags of `submit` and `run` that travel with each upload as its document options. */
const DOCUMENT_FLAGS = {
  pages: () =>
    new Option(
      '--pages <list>',
      "read only these pages, e.g. '1-3,7,10-' (sent as x-amz-meta-docpipe-pages)",
    ).argParser(parsePagesOption),
  dpi: () =>
    new Option(
      '--dpi <n>',
      'resolution PDF pages are rendered at (sent as x-amz-meta-docpipe-dpi; default: DOCPIPE_DPI, or 300)',
    ).argParser(parseDpiOption),
};

/** The upload options of a `submit` or `run` command line. */
function submitOptions(options: { key?: string; pages?: string; dpi?: number }): SubmitOptions {
  return {
    ...(options.key === undefined ? {} : { key: options.key }),
    ...(options.pages === undefined ? {} : { pages: options.pages }),
    ...(options.dpi === undefined ? {} : { dpi: String(options.dpi) }),
  };
}

/**
 * How to submit to this stack from another terminal: the other commands find it on their own only
 * at the endpoint they default to, so a stack on another port says which variable to set.
 */
export function submitHint(endpoint: string, env: NodeJS.ProcessEnv = process.env): string {
  const command = 'npx docpipe submit scan.pdf --wait';
  let found: string | undefined;
  try {
    found = readPipelineConfig(env).endpoint;
  } catch {
    found = undefined;
  }
  return found === endpoint ? command : `DOCPIPE_ENDPOINT=${endpoint} ${command}`;
}

function printStack(stack: LocalStack): void {
  const { config } = stack;
  process.stderr.write(
    [
      `docpipe is up (data in ${stack.dataDir}, ${stack.pool.size} warm workers)`,
      `  S3 and SQS endpoint: ${stack.endpoint}`,
      `  Step Functions API:  ${stack.controlEndpoint}   <- docpipe executions / describe / replay`,
      `  input bucket:        s3://${config.inputBucket}   <- put documents here`,
      `  artifacts bucket:    s3://${config.artifactsBucket}   (${stack.expiry.days === 0 ? 'kept' : `deleted after ${stack.expiry.days} days`})`,
      `  results bucket:      s3://${config.resultsBucket}`,
      `  models bucket:       s3://${config.modelsBucket}/models/`,
      `  ingest queue:        ${config.ingestQueue} (DLQ ${config.ingestDlq})`,
      `  results queue:       ${config.resultsQueue}`,
      `Try: aws --endpoint-url ${stack.endpoint} s3 cp scan.pdf s3://${config.inputBucket}/`,
      `  or: ${submitHint(stack.endpoint)}`,
      'Ctrl-C stops; everything persists in the data directory.',
      '',
    ].join('\n'),
  );
}

interface UpOptions {
  port?: number;
  data: string;
  workers?: number;
  maxConcurrency?: number;
  artifactDays: number;
}

export function registerPipeline(program: Command): void {
  program
    .command('up')
    .description('start the whole pipeline on this machine (embedded S3/SQS + Step Functions + warm workers)')
    .option('--port <n>', 'S3/SQS endpoint port (default: DOCPIPE_PORT or 4566)', parseInteger(0, 65535))
    .option('--data <dir>', 'data directory that survives restarts', '.docpipe')
    .option('--workers <n>', 'warm worker processes (default: one per core)', parseInteger(1, 64))
    .option('--max-concurrency <n>', 'pages of one document processed at once', parseInteger(0, 1000))
    .option(
      '--artifact-days <n>',
      'delete intermediate artifacts (rendered pages, stage outputs) older than this, as the AWS lifecycle rule does; 0 keeps them',
      parseInteger(0, 3650),
      DEFAULT_ARTIFACT_EXPIRY_DAYS,
    )
    .action(async (options: UpOptions) => {
      const stack = await startLocalStack({
        port: options.port ?? localPort(),
        dataDir: options.data,
        artifactExpiryDays: options.artifactDays,
        ...(options.workers === undefined ? {} : { workers: options.workers }),
        ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
      });
      printStack(stack);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      process.stderr.write('stopping: unfinished executions resume on the next start\n');
      await stack.stop();
    });

  program
    .command('submit')
    .description('upload documents to the input bucket (the running pipeline processes them)')
    .argument('<file...>', 'PDF, TIFF, PNG, JPEG or WebP files, or directories of them')
    .option('--key <key>', 'object key (default: the file name; one file only)')
    .addOption(DOCUMENT_FLAGS.pages())
    .addOption(DOCUMENT_FLAGS.dpi())
    .option('--wait', 'wait for the result events and print them', false)
    .option(
      '-o, --output <dir>',
      'wait, then write <name>.json, .txt, .hocr, .alto.xml and .pdf (searchable) into this directory',
    )
    .option('--timeout <seconds>', 'how long --wait waits', parseInteger(1, 86_400), 900)
    .option(
      '--endpoint <url>',
      "S3/SQS endpoint ('aws' for real AWS; default DOCPIPE_ENDPOINT, else http://127.0.0.1 on DOCPIPE_PORT or 4566)",
    )
    .option('--region <region>', 'AWS region')
    .action(
      async (
        args: string[],
        options: TargetOptions & {
          key?: string;
          pages?: string;
          dpi?: number;
          wait: boolean;
          output?: string;
          timeout: number;
        },
      ) => {
        const files = await documentsToSend(args, options);
        if (files === undefined) return;
        const config = targetConfig(options);
        const s3 = new S3Client(clientConfig(config));
        const submitted = await sendAll(s3, config, files, submitOptions(options), (upload) =>
          process.stderr.write(
            `uploaded s3://${upload.bucket}/${upload.key} (document ${upload.documentId})\n`,
          ),
        );
        if (!options.wait && options.output === undefined) {
          for (const { documentId } of submitted) process.stdout.write(`${documentId}\n`);
          return;
        }
        const progress = progressWriter(true);
        let reported = false;
        await waitForAll(s3, config, submitted, options.timeout * 1000, (line) => {
          reported = true;
          progress(line);
        });
        if (reported) progress(`${submitted.length} document(s) done`, true);
        const failed = await settle(s3, submitted, options.output, async (_, event) => {
          process.stdout.write(`${JSON.stringify(event, null, 2)}\n`);
        });
        if (submitted.length > 1) {
          process.stderr.write(`${submitted.length - failed} processed, ${failed} failed\n`);
        }
        process.exitCode = failed === 0 ? EXIT.ok : EXIT.failed;
      },
    );

  program
    .command('run')
    .description(
      'one shot: start the embedded stack, submit documents, wait for their results, print the text, stop',
    )
    .argument('<file...>', 'PDF, TIFF, PNG, JPEG or WebP files, or directories of them')
    .option('--data <dir>', 'data directory (default: a temporary one, removed afterwards)')
    .option('--port <n>', 'S3/SQS endpoint port (0: any free port)', parseInteger(0, 65535), 0)
    .option('--workers <n>', 'warm worker processes (default: one per core)', parseInteger(1, 64))
    .addOption(DOCUMENT_FLAGS.pages())
    .addOption(DOCUMENT_FLAGS.dpi())
    .option('--json', 'print the result events as JSON instead of the text', false)
    .option(
      '-o, --output <dir>',
      'write <name>.json, .txt, .hocr, .alto.xml and .pdf (searchable) into this directory instead of printing the text',
    )
    .option('--timeout <seconds>', 'how long to wait for the results', parseInteger(1, 86_400), 900)
    .action(
      async (
        args: string[],
        options: {
          data?: string;
          port: number;
          workers?: number;
          pages?: string;
          dpi?: number;
          json: boolean;
          output?: string;
          timeout: number;
        },
      ) => {
        const progress = progressWriter(true);
        const files = await documentsToSend(args, options);
        if (files === undefined) return;
        const temporary =
          options.data === undefined ? mkdtempSync(join(tmpdir(), 'docpipe-run-')) : undefined;
        progress('starting the embedded stack...');
        const stack = await startLocalStack({
          port: options.port,
          dataDir: options.data ?? temporary!,
          ...(options.workers === undefined ? {} : { workers: options.workers }),
        });
        try {
          const started = performance.now();
          const sent = await sendAll(stack.s3, stack.config, files, submitOptions(options));
          const what =
            files.length === 1
              ? `${files[0]} as s3://${sent[0]!.bucket}/${sent[0]!.key}`
              : `${files.length} documents`;
          progress(`submitted ${what}; processing...`);
          await waitForAll(stack.s3, stack.config, sent, options.timeout * 1000, progress);
          const seconds = ((performance.now() - started) / 1000).toFixed(2);
          const events = sent.map((s) => s.event!);
          const failed = events.filter((e) => e.type === 'document.failed').length;
          const pages = events.reduce((sum, e) => sum + (e.pageCount ?? 0), 0);
          progress(
            failed === events.length && events.length === 1
              ? `failed after ${seconds} s`
              : `${pages} page(s) in ${seconds} s${failed > 0 ? `; ${failed} of ${events.length} documents failed` : ''}`,
            true,
          );
          await settle(stack.s3, sent, options.output, async ({ file }, event) => {
            if (options.json) {
              process.stdout.write(`${JSON.stringify(event, null, 2)}\n`);
            } else if (options.output === undefined && event.type === 'document.processed') {
              if (files.length > 1) process.stdout.write(`==> ${file} <==\n`);
              process.stdout.write(await readText(stack.s3, event.result!.bucket, event.result!.text));
              if (options.data !== undefined) {
                process.stderr.write(
                  `result: s3://${event.result!.bucket}/${event.result!.json} (data in ${stack.dataDir})\n`,
                );
              }
            }
          });
          process.exitCode = failed === 0 ? EXIT.ok : EXIT.failed;
        } catch (error) {
          const { line, exitCode } = describeFailure(error);
          process.stderr.write(`docpipe: ${line}\n`);
          process.exitCode = exitCode;
        } finally {
          await stack.stop();
          if (temporary !== undefined) rmSync(temporary, { recursive: true, force: true });
        }
      },
    );

  program
    .command('events')
    .description('print result events from the results queue as JSON lines (consumes them)')
    .option('--follow', 'keep waiting for new events', false)
    .option('--keep', 'leave the events on the queue (they reappear after the visibility timeout)', false)
    .option('--endpoint <url>', "S3/SQS endpoint ('aws' for real AWS)")
    .option('--region <region>', 'AWS region')
    .action(async (options: TargetOptions & { follow: boolean; keep: boolean }) => {
      const config = targetConfig(options);
      const sqs = new SQSClient(clientConfig(config));
      const queueUrl = await resolveQueueUrl(sqs, config.resultsQueue);
      let stop = false;
      process.once('SIGINT', () => {
        stop = true;
      });
      let count = 0;
      while (!stop) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: options.follow ? 5 : 1,
          }),
        );
        for (const message of Messages) {
          process.stdout.write(`${message.Body}\n`);
          count++;
          if (!options.keep)
            await sqs.send(
              new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }),
            );
        }
        if (Messages.length === 0 && !options.follow) break;
      }
      // On stderr, so stdout stays JSON lines; an empty queue otherwise looks like a hung command.
      if (!options.follow)
        process.stderr.write(
          `${count} result event(s) from ${config.resultsQueue}${options.keep && count > 0 ? ' (left on the queue)' : ''}\n`,
        );
    });

  program
    .command('dlq')
    .description(
      'list the upload notifications in the ingest DLQ (the trigger failed on them 5 times), or --redrive them',
    )
    .option('--redrive', 'move them back to the ingest queue, once the cause is fixed', false)
    .option('--json', 'print JSON lines instead of a table', false)
    .option('--endpoint <url>', "S3/SQS endpoint ('aws' for real AWS)")
    .option('--region <region>', 'AWS region')
    .action(async (options: TargetOptions & { redrive: boolean; json: boolean }) => {
      const config = targetConfig(options);
      const sqs = new SQSClient(clientConfig(config));
      try {
        const dlqUrl = await resolveQueueUrl(sqs, config.ingestDlq);
        const letters = options.redrive
          ? await redriveDeadLetters(sqs, dlqUrl, await resolveQueueUrl(sqs, config.ingestQueue))
          : await peekDeadLetters(sqs, dlqUrl);
        if (options.json) {
          for (const letter of letters) process.stdout.write(`${JSON.stringify(letter)}\n`);
        } else if (letters.length > 0) {
          process.stdout.write(
            `${formatTable(
              ['message', 'sent', 'receives', 'uploads'],
              letters.map((letter) => [
                letter.messageId,
                letter.sentAt?.toISOString() ?? '-',
                letter.receiveCount === undefined ? '-' : String(letter.receiveCount),
                letter.problem ??
                  (letter.sources.map((source) => `s3://${source.bucket}/${source.key}`).join(' ') ||
                    '(no uploads)'),
              ]),
            )}\n`,
          );
        }
        process.stderr.write(
          options.redrive
            ? `${letters.length} notification(s) moved back to ${config.ingestQueue}\n`
            : `${letters.length} notification(s) in ${config.ingestDlq}${letters.length > 0 ? '; docpipe dlq --redrive puts them back' : ''}\n`,
        );
      } finally {
        sqs.destroy();
      }
    });
}
