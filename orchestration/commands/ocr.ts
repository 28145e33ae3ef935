import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type PdfPageImage, renderSearchablePdf } from '../../stages/assemble/pdf.ts';
import { OUTPUT_FORMATS, renderResult } from '../../stages/assemble/render.ts';
import { stageConfig } from '../../stages/shared/config.ts';
import { isDocpipeError } from '../../stages/shared/errors.ts';
import { mapLimit } from '../../stages/shared/map-limit.ts';
import { MAX_PAGES } from '../../stages/split/core.ts';
import {
  describeFailure,
  EXIT,
  expandDocuments,
  OUTPUT_EXTENSIONS,
  outputPath,
  outputStems,
  overwritesInput,
  parseDpiOption,
  parseInteger,
  parsePagesOption,
  progressWriter,
  sharedOutput,
} from '../cli-support.ts';
import { ocrDocument, PagePool } from '../inprocess.ts';

/** What `--format` takes: the text renderings, and a searchable PDF. */
const CLI_FORMATS = [...OUTPUT_FORMATS, 'pdf'] as const;
type CliFormat = (typeof CLI_FORMATS)[number];

interface OcrCommandOptions {
  format: CliFormat[];
  output?: string;
  dpi: number;
  maxPages: number;
  pages?: string;
  jobs: number;
  deskew: boolean;
  denoise: boolean;
  allowEmpty: boolean;
  progress: boolean;
}

/** Default cap on --jobs, whatever the core count: memory grows with every job. */
const DEFAULT_MAX_JOBS = 4;

/** `--format text,pdf`: one format or several, each once, in the order given. */
function parseFormats(raw: string): CliFormat[] {
  // 'txt' as well, since that is the file's extension.
  const formats = raw.split(',').map((f) => (f.trim() === 'txt' ? 'text' : f.trim()));
  const unknown = formats.filter((f) => !(CLI_FORMATS as readonly string[]).includes(f));
  if (unknown.length > 0 || formats.length === 0) {
    throw new InvalidArgumentError(
      `expected ${CLI_FORMATS.join(', ')} or a comma-separated list of them, received '${raw}'`,
    );
  }
  return [...new Set(formats as CliFormat[])];
}

export function registerOcr(program: Command): void {
  program
    .command('ocr')
    .description('read documents on this machine (all stages in-process) and print their text')
    .argument(
      '<file...>',
      "PDF, TIFF, PNG, JPEG or WebP files, or directories of them; '-' reads one from stdin",
    )
    .addOption(
      new Option(
        '-f, --format <formats>',
        `output format: ${CLI_FORMATS.join(', ')}, or several with -o, e.g. text,pdf (pdf: the deskewed page images with an invisible, searchable text layer)`,
      )
        .argParser(parseFormats)
        .default(['text'], 'text'),
    )
    .option(
      '-o, --output <dir>',
      `write <name>.<${Object.values(OUTPUT_EXTENSIONS).join('|')}> into this directory instead of printing`,
    )
    .option('--dpi <n>', 'resolution PDF pages are rendered at', parseDpiOption, stageConfig.dpi)
    .option('--pages <list>', "read only these pages, e.g. '1-3,7,10-' (numbered from 1)", parsePagesOption)
    .option(
      '--max-pages <n>',
      'refuse documents (or --pages selections) with more pages',
      parseInteger(1, MAX_PAGES),
      stageConfig.maxPages,
    )
    .option(
      '-j, --jobs <n>',
      'pages read at once, each in a worker thread with its own models (1: in this thread)',
      parseInteger(1, 64),
      // Each job holds its own models and page images (about 0.8 GB more per job at 300 DPI A4).
      Math.min(availableParallelism(), DEFAULT_MAX_JOBS),
    )
    .option('--no-deskew', 'skip skew and orientation correction')
    .option('--no-denoise', 'skip background and speck removal')
    .option('--allow-empty', 'succeed with empty text instead of failing with NoTextFound', false)
    .option('--no-progress', 'do not print per-page progress on stderr')
    .action(async (files: string[], options: OcrCommandOptions) => {
      process.exitCode = await runOcr(files, options);
    });
}

async function runOcr(args: string[], options: OcrCommandOptions): Promise<number> {
  const progress = progressWriter(options.progress);
  const { files, errors } = await expandDocuments(args);
  for (const error of errors) process.stderr.write(`docpipe: ${error}\n`);
  if (files.length === 0) return EXIT.failed;
  if (options.format.length > 1 && options.output === undefined) {
    process.stderr.write('docpipe: several --format values need --output <dir> to write them into\n');
    return EXIT.usage;
  }
  const pdf = options.format.includes('pdf');
  if (pdf && options.output === undefined && process.stdout.isTTY) {
    // A PDF's bytes on a terminal help nobody and can upset it.
    process.stderr.write(
      "docpipe: --format pdf writes binary: give --output <dir>, or redirect, e.g. 'docpipe ocr -f pdf scan.tif > scan.pdf'\n",
    );
    return EXIT.usage;
  }
  if (pdf && options.output === undefined && files.length > 1) {
    process.stderr.write('docpipe: --format pdf prints one document; give --output <dir> for several\n');
    return EXIT.usage;
  }
  if (options.output !== undefined) {
    const clash = sharedOutput(files, options.output, options.format);
    if (clash !== undefined) {
      process.stderr.write(`docpipe: ${clash}\n`);
      return EXIT.usage;
    }
    await mkdir(options.output, { recursive: true });
  }
  // Several documents with --jobs > 1 share one pool of warm page workers and are read several at
  // once, so single-page documents keep every worker busy too; output still comes in input order.
  const shared = options.jobs > 1 && files.length > 1 ? new PagePool(options.jobs) : undefined;
  const printed: Array<Array<string | Buffer> | undefined> = new Array(files.length);
  let flushed = 0;
  const flush = (): void => {
    while (flushed < files.length && printed[flushed] !== undefined) {
      for (const piece of printed[flushed]!) process.stdout.write(piece);
      flushed++;
    }
  };
  // With several documents each one's last line says how far the command is: [3/12].
  let finished = 0;
  const tally = (): string => (files.length > 1 ? `[${++finished}/${files.length}] ` : '');
  const stems = outputStems(files);
  let codes: number[];
  try {
    codes = await mapLimit(files, shared === undefined ? 1 : options.jobs, async (file, index) => {
      const read = await readOne(file, { ...options, files, stems, pool: shared, report: progress, tally });
      printed[index] = read.stdout;
      flush();
      return read.code;
    });
  } finally {
    await shared?.close();
  }
  const exitCode = Math.max(EXIT.ok, ...codes);
  return errors.length > 0 ? Math.max(exitCode, EXIT.failed) : exitCode;
}

interface ReadOneOptions extends Omit<OcrCommandOptions, 'progress'> {
  /** Every document of the command line, for the headers between them. */
  files: readonly string[];
  /** What each document's outputs are named (`outputStems`). */
  stems: ReadonlyMap<string, string>;
  pool: PagePool | undefined;
  /** Per-page and per-document progress on stderr. */
  report: (line: string, done?: boolean) => void;
  /** Counts this document as finished; returns what its last line starts with. */
  tally: () => string;
}

/** Reads one document and writes its outputs, or returns what goes to stdout; errors are said on stderr. */
async function readOne(
  file: string,
  options: ReadOneOptions,
): Promise<{ code: number; stdout: Array<string | Buffer> }> {
  const pdf = options.format.includes('pdf');
  try {
    const stdin = file === '-';
    if (stdin && process.stdin.isTTY) {
      // Reading would wait for input that is not coming.
      process.stderr.write(
        "docpipe: -: stdin is a terminal; pipe a document in, e.g. 'docpipe ocr - < scan.pdf'\n",
      );
      return { code: EXIT.usage, stdout: [] };
    }
    const name = stdin ? 'stdin' : basename(file);
    const output = options.output;
    const stem = options.stems.get(file)!;
    const targets =
      output === undefined ? undefined : options.format.map((format) => outputPath(stem, output, format));
    if (targets !== undefined && !stdin && (await overwritesInput(file, targets))) {
      return { code: EXIT.usage, stdout: [] };
    }
    const bytes = stdin ? await buffer(process.stdin) : await readFile(file);
    const started = performance.now();
    const images = new Map<number, PdfPageImage>();
    const result = await ocrDocument(bytes, {
      name,
      dpi: options.dpi,
      maxPages: options.maxPages,
      ...(options.pages === undefined ? {} : { pages: options.pages }),
      ...(options.pool === undefined ? { jobs: options.jobs } : { pool: options.pool }),
      deskew: options.deskew,
      denoise: options.denoise,
      requireText: !options.allowEmpty,
      ...(pdf ? { onPageImage: (number: number, image: PdfPageImage) => images.set(number, image) } : {}),
      onProgress: ({ page, pageCount, number, ms }) => {
        // With --jobs pages finish out of order: name the page, then how far the document is.
        options.report(`${name}: page ${number} done (${page}/${pageCount}, ${(ms / 1000).toFixed(2)} s)`);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    options.report(
      `${options.tally()}${name}: ${result.pageCount} page(s) in ${seconds.toFixed(2)} s (${(seconds / result.pageCount).toFixed(2)} s/page)`,
      true,
    );
    const rendered = await Promise.all(
      options.format.map((format) =>
        format === 'pdf' ? renderSearchablePdf(result, images) : renderResult(result, format),
      ),
    );
    if (targets !== undefined) {
      for (const [k, target] of targets.entries()) {
        await writeFile(target, rendered[k]!);
        process.stderr.write(`${file} -> ${target}\n`);
      }
      return { code: EXIT.ok, stdout: [] };
    }
    const header = options.files.length > 1 && options.format[0] === 'text' ? [`==> ${file} <==\n`] : [];
    return { code: EXIT.ok, stdout: [...header, rendered[0]!] };
  } catch (error) {
    const { line, exitCode: code } = describeFailure(error);
    const hint =
      isDocpipeError(error) && error.code === 'TooManyPages'
        ? ' (raise --max-pages, or read some of it with --pages)'
        : '';
    process.stderr.write(`docpipe: ${options.tally()}${file}: ${line}${hint}\n`);
    return { code, stdout: [] };
  }
}
