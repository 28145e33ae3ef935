/**
 * Throughput of the product's main job: `npm run bench:throughput [-- --pages N --workers W]`.
 *
 * Starts the embedded stack (fauxqs, the real ASL on the local engine, W warm workers), uploads N
 * generated 300 DPI A4 letter pages (skewed 0-3 degrees, lightly noisy; one single-page PNG each)
 * at once, waits for every result event, and prints pages per second with all cores busy, the
 * mean per-stage milliseconds from the events, the CPU each function took (from the worker pool)
 * and the service process took (emulator, workflow engine), and the character error rate against
 * the rendered text. The first document is a warm-up (cold model loads) and is not counted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { generatePage, makeLetterLines } from '../../fixtures/generate.ts';
import { startLocalStack } from '../../orchestration/local/stack.ts';
import { collectEvents } from '../support/local-stack.ts';
import { addEdits, charEdits, type EditCount, rate } from './metrics.ts';

const { values } = parseArgs({
  options: {
    pages: { type: 'string', default: '12' },
    workers: { type: 'string', default: String(availableParallelism()) },
  },
});
const count = Number(values.pages);
const workers = Number(values.workers);
const say = (line: string) => process.stderr.write(`${line}\n`);

say(`generating ${count + 1} pages...`);
const pages = await Promise.all(
  Array.from({ length: count + 1 }, (_, i) =>
    generatePage({ lines: makeLetterLines(100 + i, 30) }, { angle: (i % 7) * 0.45, noiseSigma: 6, seed: i }),
  ),
);

const dataDir = mkdtempSync(join(tmpdir(), 'docpipe-bench-'));
const stack = await startLocalStack({ port: 0, dataDir, workers });
try {
  const put = (key: string, body: Buffer) =>
    stack.s3.send(new PutObjectCommand({ Bucket: stack.config.inputBucket, Key: key, Body: body }));
  say('warm-up document (cold start: model loads)...');
  const coldStart = performance.now();
  await put('warmup.png', pages[0]!.png);
  await collectEvents(stack, 1, 600_000);
  say(`  cold document: ${((performance.now() - coldStart) / 1000).toFixed(2)} s`);

  say(`uploading ${count} pages at once to ${workers} warm workers...`);
  const usedBefore = stack.pool.usage();
  const mainCpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(pages.slice(1).map((page, i) => put(`page-${i + 1}.png`, page.png)));
  const events = await collectEvents(stack, count, 1_800_000);
  const seconds = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(mainCpu);
  const used = stack.pool.usage();

  const stageMs: Record<string, number[]> = {};
  let edits: EditCount = { edits: 0, length: 0 };
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
      `pages: ${events.length}/${count} (${failed} failed), workers: ${workers}, cores: ${availableParallelism()}`,
      `wall: ${seconds.toFixed(1)} s  throughput: ${(events.length / seconds).toFixed(2)} pages/s  (${(seconds / Math.max(1, events.length)).toFixed(2)} s/page)`,
      `normalised CER: ${(100 * rate(edits)).toFixed(2)}%`,
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
