import { readdirSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { generatePage } from '../../fixtures/generate.ts';
import { WorkerPool, workerExecArgv } from '../../orchestration/local/pool.ts';
import type { LocalStack } from '../../orchestration/local/stack.ts';
import { documentIdFor } from '../../stages/shared/artifacts.ts';
import { WorkerCrashedError } from '../../stages/shared/errors.ts';
import { collectEvents, drainEvents, useSharedStack } from '../support/local-stack.ts';

/** The expected code of every file in fixtures/bad, from the table in its README. */
function badCorpus(): Array<{ file: string; code: string }> {
  const readme = readFileSync(new URL('../../fixtures/bad/README.md', import.meta.url), 'utf8');
  const codes = new Map(
    [...readme.matchAll(/^\|\s*`([^`]+)`\s*\|\s*`([A-Za-z]+)`/gm)].map((m) => [m[1]!, m[2]!]),
  );
  return readdirSync(new URL('../../fixtures/bad/', import.meta.url))
    .filter((file) => codes.has(file))
    .map((file) => ({ file, code: codes.get(file)! }));
}

async function listKeys(stack: LocalStack, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await stack.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

describe('the embedded pipeline under bad input and load', () => {
  const shared = useSharedStack();
  const { put } = shared;
  let stack: LocalStack;

  beforeAll(() => {
    stack = shared.stack;
  });

  it('ends every file of the bad-input corpus, under awkward keys, in one document.failed event with its code', async () => {
    // Prepare: keys with spaces, '+', unicode and '../' as S3 allows them.
    const corpus = badCorpus();
    const prefixes = ['with space/', 'plus+sign/', 'ünïcødé/', '../escape/'];
    const uploads = corpus.map(({ file, code }, i) => ({
      key: `${prefixes[i % prefixes.length]}${file}`,
      file,
      code,
    }));

    // Act
    for (const u of uploads)
      await put(u.key, readFileSync(new URL(`../../fixtures/bad/${u.file}`, import.meta.url)));
    const events = await collectEvents(stack, uploads.length);
    const extra = await drainEvents(stack);

    // Assess
    expect(extra).toEqual([]);
    const outcome = Object.fromEntries(events.map((e) => [e.source.key, [e.type, e.error?.code]]));
    expect(outcome).toEqual(Object.fromEntries(uploads.map((u) => [u.key, ['document.failed', u.code]])));
  });

  it('writes artifacts and results only under each document id prefix', async () => {
    // Prepare: the documents of the previous test and of this one.
    await put(
      '../../outside.png',
      (await generatePage({ lines: ['Stay inside'], width: 600, height: 160, margin: 20 })).png,
    );
    await collectEvents(stack, 1);
    await stack.idle();

    // Act
    const keys = [
      ...(await listKeys(stack, stack.config.artifactsBucket)),
      ...(await listKeys(stack, stack.config.resultsBucket)),
    ];

    // Assess
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys)
      expect(key).toMatch(
        /^[0-9a-f]{32}\/(pages\/\d+\/[a-z]+\.(png|json)|document\.json|result\.(json|txt|hocr|alto\.xml|pdf)|events\/[0-9a-f]{32}\.json)$/,
      );
  });

  it('finishes 50 documents submitted at once with exactly one event each', async () => {
    // Prepare
    const pages = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        generatePage({ lines: [`Invoice number ${1000 + i}`], width: 700, height: 160, margin: 20 }),
      ),
    );

    // Act
    const puts = await Promise.all(pages.map((page, i) => put(`batch/doc-${i}.png`, page.png)));
    const events = await collectEvents(stack, 50, 600_000);
    const extra = await drainEvents(stack);

    // Assess
    const ids = puts.map((out, i) =>
      documentIdFor({
        bucket: stack.config.inputBucket,
        key: `batch/doc-${i}.png`,
        etag: out.ETag!.replaceAll('"', ''),
      }),
    );
    expect(extra).toEqual([]);
    expect(events.map((e) => e.documentId).sort()).toEqual([...ids].sort());
    expect(events.every((e) => e.type === 'document.processed')).toBe(true);
  });

  it('retries a stage whose worker dies and still processes the document once', async () => {
    // Prepare
    const page = await generatePage({
      lines: ['Crash test page', 'second line of text'],
      width: 900,
      height: 300,
      margin: 30,
    });
    await put('crash/page.png', page.png);

    // Act: kill the first worker that is busy with this document.
    let crashed = false;
    for (let i = 0; i < 200 && !crashed; i++) {
      crashed = await stack.pool.crashOne();
      if (!crashed) await new Promise((r) => setTimeout(r, 25));
    }
    const events = await collectEvents(stack, 1);
    const extra = await drainEvents(stack);

    // Assess
    expect(crashed).toBe(true);
    expect(events.map((e) => [e.type, e.source.key])).toEqual([['document.processed', 'crash/page.png']]);
    expect(extra).toEqual([]);
  });
});

describe('WorkerPool', () => {
  it("starts workers with the service's own Node options and then the V8 garbage-collection flags", () => {
    // Act
    const args = workerExecArgv(['--experimental-vm-modules']);

    // Assess
    expect(args).toEqual(['--experimental-vm-modules', '--single-threaded-gc', '--initial-heap-size=256']);
  });

  it('fails the task of a worker that dies with WorkerCrashed and replaces the worker', async () => {
    // Prepare: an endpoint that accepts connections and never answers keeps a handler busy.
    // Its connections are destroyed at the end, so that closing it need not wait for them.
    const connections = new Set<Socket>();
    const silent = createServer((socket) => connections.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const pool = new WorkerPool({ size: 1, env: { DOCPIPE_ENDPOINT: `http://127.0.0.1:${port}` } });
    try {
      const event = {
        type: 'document.failed',
        documentId: 'x',
        executionName: 'x',
        source: { bucket: 'b', key: 'k' },
      };
      const task = pool.invoke('publish', event).catch((error: unknown) => error);
      await new Promise((r) => setTimeout(r, 500));

      // Act
      const crashed = await pool.crashOne();
      const outcome = await task;

      // Assess
      expect(crashed).toBe(true);
      expect(outcome).toBeInstanceOf(WorkerCrashedError);
      const replacement = pool.invoke('publish', event).catch((error: unknown) => error);
      await new Promise((r) => setTimeout(r, 500));
      expect(await pool.crashOne()).toBe(true);
      expect(await replacement).toBeInstanceOf(WorkerCrashedError);
    } finally {
      await pool.close();
      for (const socket of connections) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
