/**
 * Throughput of the product's main job: `npm run bench:throughput [-- --pages N --workers W --set S]`.
 *
 * Starts the embedded stack (fauxqs, the real ASL on the local engine, W warm workers), uploads N
 * single-page documents at once, waits for every result event, and prints pages per second with all
 * cores busy, the mean per-stage milliseconds from the events, the CPU each function took (from the
 * worker pool) and the service process took (emulator, workflow engine), and the normalised
 * character error rate and word-bag F1 against the pages' text. The first document is a warm-up
 * (cold model loads) and is not counted.
 *
 * --set letters (default): generated 300 DPI A4 letter pages of 30 dense lines, skewed 0-3
 *   degrees, lightly noisy (one PNG each): the heaviest ordinary page, the figure the README quotes.
 * --set sroie | funsd: the first N+1 scans of that dev half of ../shared/datasets (receipts as
 *   JPEG, forms as PNG, uploaded as they are), to see the rate on real documents.
 * --datasets DIR: dataset root (default $DOCPIPE_DATASETS or ../shared/datasets beside the checkout).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { generatePage, makeLetterLines } from '../../fixtures/generate.ts';
import { startLocalStack } from '../../orchestration/local/stack.ts';
import { datasetRoot, devScans, SCAN_SETS, type ScanSet, scanSet, truthFile } from '../support/datasets.ts';
import { collectEvents } from '../support/local-stack.ts';
import {
  addBags,
  addEdits,
  type BagCount,
  bagCount,
  bagScore,
  charEdits,
  type EditCount,
  rate,
} from './metrics.ts';

const { values } = parseArgs({
  options: {
    pages: { type: 'string', default: '12' },
    workers: { type: 'string', default: String(availableParallelism()) },
    set: { type: 'string', default: 'letters' },
    datasets: { type: 'string' },
  },
});
const count = Number(values.pages);
const workers = Number(values.workers);
const say = (line: string) => process.stderr.write(`${line}\n`);
const fail = (message: string): never => {
  say(`bench:throughput: ${message}`);
  process.exit(2);
};
if (!Number.isInteger(count) || count < 1)
  fail(`--pages must be a whole number >= 1, received '${values.pages}'`);
if (!Number.isInteger(workers) || workers < 1)
  fail(`--workers must be a whole number >= 1, received '${values.workers}'`);

interface BenchPage {
  /** The upload's file extension, which the split stage reads the format from. */
  extension: string;
  body: Buffer;
  text: string;
}

async function letterPages(n: number): Promise<BenchPage[]> {
  say(`generating ${n} pages...`);
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const page = await generatePage(
        { lines: makeLetterLines(100 + i, 30) },
        { angle: (i % 7) * 0.45, noiseSigma: 6, seed: i },
      );
      return { extension: '.png', body: page.png, text: page.text };
    }),
  );
}

function datasetPages(set: ScanSet, n: number): BenchPage[] {
  const root = datasetRoot(values.datasets);
  const scans = devScans(root, set);
  if (scans === undefined)
    return fail(`--set ${set.name} needs ${join(root, set.name, 'dev')} (see ../shared/datasets/README.md)`);
  const { dir } = scans;
  const files = scans.files.slice(0, n);
  if (files.length < n)
    fail(`--set ${set.name} has ${files.length} scans in ${dir}; --pages ${n - 1} needs ${n}`);
  return files.map((f) => ({
    extension: extname(f),
    body: readFileSync(join(dir, f)),
    text: readFileSync(join(dir, truthFile(f)), 'utf8'),
  }));
}

const chosen = scanSet(values.set);
if (values.set !== 'letters' && chosen === undefined)
  fail(`--set must be one of letters, ${SCAN_SETS.map((s) => s.name).join(', ')}, received '${values.set}'`);
const pages = chosen === undefined ? await letterPages(count + 1) : datasetPages(chosen, count + 1);

const dataDir = mkdtempSync(join(tmpdir(), 'docpipe-bench-'));
const stack = await startLocalStack({ port: 0, dataDir, workers });
try {
  const put = (key: string, body: Buffer) =>
    stack.s3.send(new PutObjectCommand({ Bucket: stack.config.inputBucket, Key: key, Body: body }));
  say('warm-up document (cold start: model loads)...');
  const coldStart = performance.now();
  await put(`warmup${pages[0]!.extension}`, pages[0]!.body);
  await collectEvents(stack, 1, 600_000);
  say(`  cold document: ${((performance.now() - coldStart) / 1000).toFixed(2)} s`);

  say(`uploading ${count} pages at once to ${workers} warm workers...`);
  const usedBefore = stack.pool.usage();
  const mainCpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(pages.slice(1).map((page, i) => put(`page-${i + 1}${page.extension}`, page.body)));
  const events = await collectEvents(stack, count, 1_800_000);
  const seconds = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(mainCpu);
  const used = stack.pool.usage();

  const stageMs: Record<string, number[]> = {};
  let edits: EditCount = { edits: 0, length: 0 };
  let bag: BagCount = { matched: 0, hypothesis: 0, reference: 0 };
  for (const event of events) {
    for (const [stage, ms] of Object.entries(event.timings ?? {})) {
      stageMs[stage] = [...(stageMs[stage] ?? []), ms];
    }
    if (event.type !== 'document.processed') continue;
    const index = Number(/page-(\d+)/.exec(event.source.key)![1]);
    const text = await stack.s3
      .send(new GetObjectCommand({ Bucket: event.result!.bucket, Key: event.result!.text }))
      .then((o) => o.Body!.transformToString());
    edits = addEdits(edits, charEdits(text, pages[index]!.text, { normalize: true }));
    bag = addBags(bag, bagCount(text, pages[index]!.text));
  }
  const failed = events.filter((e) => e.type !== 'document.processed').length;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const perPage = (ms: number) => ms / Math.max(1, events.length);
  const cpuByFunction = Object.entries(used).map(
    ([fn, u]) => [fn, perPage(u!.cpuMs - (usedBefore[fn as keyof typeof used]?.cpuMs ?? 0))] as const,
  );
  const workerCpu = cpuByFunction.reduce((sum, [, ms]) => sum + ms, 0);
  const serviceCpu = perPage((user + system) / 1000);
  process.stdout.write(
    [
      `set: ${values.set}, pages: ${events.length}/${count} (${failed} failed), workers: ${workers}, cores: ${availableParallelism()}`,
      `wall: ${seconds.toFixed(1)} s  throughput: ${(events.length / seconds).toFixed(2)} pages/s  (${(seconds / Math.max(1, events.length)).toFixed(2)} s/page)`,
      `normalised CER: ${(100 * rate(edits)).toFixed(2)}%, word-bag F1: ${(100 * bagScore(bag).f1).toFixed(2)}%`,
      `mean ms per page by stage (per-stage sums from the events): ${Object.entries(stageMs)
        .map(([stage, ms]) => `${stage} ${Math.round(mean(ms))}`)
        .join(', ')}`,
      `CPU ms per page by function (workers, all threads): ${cpuByFunction
        .map(([fn, ms]) => `${fn} ${Math.round(ms)}`)
        .join(', ')}`,
      `CPU s per page: workers ${(workerCpu / 1000).toFixed(2)}, service process (emulator, engine, this script) ${(serviceCpu / 1000).toFixed(2)}; ${availableParallelism()} cores allow at most ${((1000 * availableParallelism()) / (workerCpu + serviceCpu)).toFixed(2)} pages/s`,
      '',
    ].join('\n'),
  );
} finally {
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
