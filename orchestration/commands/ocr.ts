import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, extname, join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { type Command, Option } from 'commander';
import { OUTPUT_FORMATS, type OutputFormat, renderResult } from '../../stages/assemble/render.ts';
import { stageConfig } from '../../stages/shared/config.ts';
import { isDocpipeError } from '../../stages/shared/errors.ts';
import { MAX_PAGES } from '../../stages/split/core.ts';
import { describeFailure, EXIT, parseInteger, progressWriter } from '../cli-support.ts';
import { ocrDocument } from '../inprocess.ts';

interface OcrCommandOptions {
  format: OutputFormat;
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

const EXTENSIONS: Record<OutputFormat, string> = { text: 'txt', json: 'json', hocr: 'hocr' };

export function registerOcr(program: Command): void {
  program
    .command('ocr')
    .description('read documents on this machine (all stages in-process) and print their text')
    .argument('<file...>', "PDF, TIFF, PNG, JPEG or WebP files; '-' reads one from stdin")
    .addOption(new Option('-f, --format <format>', 'output format').choices(OUTPUT_FORMATS).default('text'))
    .option('-o, --output <dir>', 'write <name>.<txt|json|hocr> into this directory instead of printing')
    .option('--dpi <n>', 'resolution PDF pages are rendered at', parseInteger(72, 600), stageConfig.dpi)
    .option('--pages <list>', "read only these pages, e.g. '1-3,7,10-' (numbered from 1)")
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

async function runOcr(files: string[], options: OcrCommandOptions): Promise<number> {
  const progress = progressWriter(options.progress);
  if (options.output !== undefined) await mkdir(options.output, { recursive: true });
  let exitCode: number = EXIT.ok;
  for (const file of files) {
    try {
      const stdin = file === '-';
      if (stdin && process.stdin.isTTY) {
        // Reading would wait for input that is not coming.
        process.stderr.write(
          "docpipe: -: stdin is a terminal; pipe a document in, e.g. 'docpipe ocr - < scan.pdf'\n",
        );
        exitCode = Math.max(exitCode, EXIT.usage);
        continue;
      }
      const bytes = stdin ? await buffer(process.stdin) : await readFile(file);
      const name = stdin ? 'stdin' : basename(file);
      const started = performance.now();
      const result = await ocrDocument(bytes, {
        name,
        dpi: options.dpi,
        maxPages: options.maxPages,
        ...(options.pages === undefined ? {} : { pages: options.pages }),
        jobs: options.jobs,
        deskew: options.deskew,
        denoise: options.denoise,
        requireText: !options.allowEmpty,
        onProgress: ({ page, pageCount, number, ms }) => {
          // With --jobs pages finish out of order: name the page, then how far the document is.
          progress(`${name}: page ${number} done (${page}/${pageCount}, ${(ms / 1000).toFixed(2)} s)`);
        },
      });
      const seconds = (performance.now() - started) / 1000;
      progress(
        `${name}: ${result.pageCount} page(s) in ${seconds.toFixed(2)} s (${(seconds / result.pageCount).toFixed(2)} s/page)`,
        true,
      );
      const rendered = renderResult(result, options.format);
      if (options.output !== undefined) {
        const stem = stdin ? name : basename(file, extname(file));
        const target = join(options.output, `${stem}.${EXTENSIONS[options.format]}`);
        await writeFile(target, rendered);
        process.stderr.write(`${file} -> ${target}\n`);
      } else {
        if (files.length > 1 && options.format === 'text') process.stdout.write(`==> ${file} <==\n`);
        process.stdout.write(rendered);
      }
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
        process.stderr.write(`docpipe: ${file}: no such file\n`);
        exitCode = Math.max(exitCode, EXIT.failed);
        continue;
      }
      const { line, exitCode: code } = describeFailure(error);
      const hint =
        isDocpipeError(error) && error.code === 'TooManyPages'
          ? ' (raise --max-pages, or read some of it with --pages)'
          : '';
      process.stderr.write(`docpipe: ${file}: ${line}${hint}\n`);
      exitCode = Math.max(exitCode, code);
    }
  }
  return exitCode;
}
