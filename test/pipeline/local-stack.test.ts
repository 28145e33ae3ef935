import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { Upload } from '@aws-sdk/lib-storage';
import sharp from 'sharp';
import { s3EventMessage } from '../../orchestration/local/notifications.ts';
import type { LocalStack } from '../../orchestration/local/stack.ts';
import { resolveQueueUrl } from '../../orchestration/queues.ts';
import type { AssembleOutput } from '../../stages/assemble/handler.ts';
import { documentKey, pageKey } from '../../stages/shared/artifacts.ts';
import { cer } from '../bench/metrics.ts';
import { docpipe, RECEIPT_OUTPUTS, withTempDir } from '../support/cli.ts';
import {
  collectEvents,
  drainEvents,
  startTestStack,
  tempDataDir,
  useSharedStack,
} from '../support/local-stack.ts';
import { readPdf } from '../support/pdf.ts';
import { schemaValidators } from '../support/schemas.ts';

const sample = (name: string) => readFileSync(new URL(`../../fixtures/samples/${name}`, import.meta.url));
const groundTruth = (name: string) =>
  readFileSync(new URL(`../../fixtures/samples/${name}`, import.meta.url), 'utf8');

describe('the embedded pipeline', () => {
  const shared = useSharedStack();
  const { put } = shared;
  let stack: LocalStack;
  const readResult = async (bucket: string, key: string) =>
    (await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();

  beforeAll(() => {
    stack = shared.stack;
  });

  it.each([
    ['letter.pdf', 'letter.gt.txt', 2],
    ['scan.tiff', 'scan.gt.txt', 2],
  ])(
    'turns a plain PutObject of %s into one document.processed event with its pages and text',
    async (file, gt, pages) => {
      // Prepare
      const key = `inbox/${file}`;

      // Act
      await put(key, sample(file));
      const [event, ...extra] = await collectEvents(stack, 1);
      await stack.idle();

      // Assess
      expect(extra).toHaveLength(0);
      expect(event).toMatchObject({ type: 'document.processed', pageCount: pages, source: { key } });
      expect(schemaValidators().resultEvent(event)).toBe(true);
      const result = await stack.s3.send(
        new GetObjectCommand({ Bucket: event!.result!.bucket, Key: event!.result!.text }),
      );
      expect(cer(await result.Body!.transformToString(), groundTruth(gt), { normalize: true })).toBeLessThan(
        0.05,
      );
    },
  );

  it("reads only the pages an upload's x-amz-meta-docpipe-pages names", async () => {
    // Prepare: the letter's second page is the second half of its ground truth.
    const pageTwo = groundTruth('letter.gt.txt').split('\n').slice(18).join('\n');

    // Act
    await put('selected/letter.pdf', sample('letter.pdf'), { 'docpipe-pages': '2-' });
    const [event] = await collectEvents(stack, 1);
    const result = JSON.parse(await readResult(event!.result!.bucket, event!.result!.json));

    // Assess: one page, numbered as in the file, and the event says what was asked.
    expect(event).toMatchObject({
      type: 'document.processed',
      pageCount: 1,
      source: { options: { pages: '2-' } },
    });
    expect(schemaValidators().resultEvent(event)).toBe(true);
    expect(result.source.pages).toBe(2);
    expect(result.pages.map((page: { number: number }) => page.number)).toEqual([2]);
    expect(cer(result.text, pageTwo, { normalize: true })).toBeLessThan(0.05);
  });

  it('treats the same file uploaded again with another page selection as another document', async () => {
    // Act: one key, the same bytes, two selections one after the other.
    await put('again/letter.pdf', sample('letter.pdf'), { 'docpipe-pages': '1' });
    const [first] = await collectEvents(stack, 1);
    await put('again/letter.pdf', sample('letter.pdf'), { 'docpipe-pages': '2' });
    const [second] = await collectEvents(stack, 1);

    // Assess: two documents, each of the page it asked for.
    expect(second!.documentId).not.toBe(first!.documentId);
    const numbers = async (event: typeof first) =>
      JSON.parse(await readResult(event!.result!.bucket, event!.result!.json)).pages.map(
        (page: { number: number }) => page.number,
      );
    expect(await numbers(first)).toEqual([1]);
    expect(await numbers(second)).toEqual([2]);
  });

  it('fails an upload whose page selection does not fit the document, naming the metadata to fix', async () => {
    // Act
    await put('selected/beyond.pdf', sample('letter.pdf'), { 'docpipe-pages': '3' });
    const [event] = await collectEvents(stack, 1);

    // Assess
    expect(event).toMatchObject({
      type: 'document.failed',
      error: { code: 'InvalidOption', stage: 'split' },
    });
    expect(event!.error!.message).toContain(
      "for pages (object metadata x-amz-meta-docpipe-pages) but received '3': the document has 2 pages",
    );
  });

  it('writes a searchable PDF of the document beside its text', async () => {
    // Prepare
    await put('searchable/receipt.png', sample('receipt.png'));
    const [event] = await collectEvents(stack, 1);

    // Act
    const object = await stack.s3.send(
      new GetObjectCommand({ Bucket: event!.result!.bucket, Key: event!.result!.pdf }),
    );
    const pages = await readPdf(await object.Body!.transformToByteArray());

    // Assess: one page, whose text layer reads like the receipt.
    expect(object.ContentType).toBe('application/pdf');
    expect(event!.result!.pdf).toBe(`${event!.documentId}/result.pdf`);
    expect(pages).toHaveLength(1);
    expect(cer(pages[0]!.text, groundTruth('receipt.gt.txt'), { normalize: true })).toBeLessThan(0.05);
  });

  it('still writes the text when the searchable PDF cannot be made', async () => {
    // Prepare: a processed document whose deskewed page image has gone, then Assemble once more.
    await put('nopdf/receipt.png', sample('receipt.png'));
    const [event] = await collectEvents(stack, 1);
    const { documentId } = event!;
    const artifacts = stack.config.artifactsBucket;
    const read = async (key: string) =>
      JSON.parse(
        await (
          await stack.s3.send(new GetObjectCommand({ Bucket: artifacts, Key: key }))
        ).Body!.transformToString(),
      );
    const split = await read(documentKey(documentId, 'document.json'));
    await stack.s3.send(
      new DeleteObjectCommand({ Bucket: artifacts, Key: pageKey(documentId, 1, 'deskew.png') }),
    );

    // Act
    const output = (await stack.pool.invoke('assemble', {
      documentId,
      source: event!.source,
      split,
      pages: [{ page: 1, outcome: { bucket: artifacts, key: pageKey(documentId, 1, 'recognize.json') } }],
    })) as AssembleOutput;

    // Assess: the text and result are there, the PDF is left out rather than failing the document.
    expect(output.location.pdf).toBeUndefined();
    expect(output.location.text).toBe(`${documentId}/result.txt`);
    expect(output.pageCount).toBe(1);
  });

  it('hands a running pipeline a file with docpipe submit -o and saves its outputs', async () => {
    // Prepare
    const file = fileURLToPath(new URL('../../fixtures/samples/receipt.png', import.meta.url));

    await withTempDir('submit', async (dir) => {
      // Act
      const { code, stdout } = await docpipe([
        'submit',
        '--key',
        'cli/receipt.png',
        '-o',
        dir,
        '--endpoint',
        stack.endpoint,
        file,
      ]);

      // The event also went to the results queue, for the pipeline's consumers (submit only reads
      // its copy in the results bucket); take it off so later tests see only their own.
      const [queued] = await collectEvents(stack, 1);

      // Assess: the result event on stdout, the four outputs named after the file.
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({
        type: 'document.processed',
        source: { key: 'cli/receipt.png' },
      });
      expect(queued!.eventId).toBe(JSON.parse(stdout).eventId);
      expect(readdirSync(dir).sort()).toEqual(RECEIPT_OUTPUTS);
      expect(
        cer(readFileSync(join(dir, 'receipt.txt'), 'utf8'), groundTruth('receipt.gt.txt'), {
          normalize: true,
        }),
      ).toBeLessThan(0.05);
    });
  }, 60_000);

  it('submits several files at once and says which failed', async () => {
    // Prepare
    const receipt = fileURLToPath(new URL('../../fixtures/samples/receipt.png', import.meta.url));
    const truncated = fileURLToPath(new URL('../../fixtures/bad/truncated.pdf', import.meta.url));

    await withTempDir('submit-many', async (dir) => {
      // Act
      const { code, stdout, stderr } = await docpipe([
        'submit',
        '-o',
        dir,
        '--endpoint',
        stack.endpoint,
        receipt,
        truncated,
      ]);
      await collectEvents(stack, 2);

      // Assess: both events in the order given, the good file's outputs, the bad one named.
      expect(code).toBe(1);
      expect([...stdout.matchAll(/"type": "(document\.\w+)"/gu)].map((m) => m[1])).toEqual([
        'document.processed',
        'document.failed',
      ]);
      expect(readdirSync(dir).sort()).toEqual(RECEIPT_OUTPUTS);
      expect(stderr).toContain(`docpipe: ${truncated}: CorruptDocument:`);
      expect(stderr).toContain('1 processed, 1 failed');
    });
  });

  it('processes a document sent as a multipart upload', async () => {
    // Prepare: an uncompressed A4 TIFF (over 8 MB) goes up in 5 MB parts.
    const page = await sharp(sample('receipt.png'))
      .greyscale()
      .resize({ width: 2480, height: 3508, fit: 'contain', background: 'white' });
    const body = await page.tiff({ compression: 'none' }).toBuffer();
    const upload = new Upload({
      client: stack.s3,
      partSize: 5 * 1024 * 1024,
      params: { Bucket: stack.config.inputBucket, Key: 'multipart/big.tiff', Body: body },
    });

    // Act
    const out = await upload.done();
    const events = await collectEvents(stack, 1);

    // Assess
    expect(out.ETag).toMatch(/-\d+"?$/);
    expect(events.map((e) => [e.type, e.source.key, e.pageCount])).toEqual([
      ['document.processed', 'multipart/big.tiff', 1],
    ]);
  });

  it('writes every stage artifact of every page under the document prefix', async () => {
    // Prepare
    await put('artifacts/letter.pdf', sample('letter.pdf'));
    const [event] = await collectEvents(stack, 1);

    // Act
    const keys = [1, 2].flatMap((page) =>
      (
        ['page.png', 'deskew.png', 'deskew.json', 'denoise.png', 'detect.json', 'recognize.json'] as const
      ).map((a) => pageKey(event!.documentId, page, a)),
    );
    const heads = await Promise.allSettled(
      keys.map((Key) => stack.s3.send(new HeadObjectCommand({ Bucket: stack.config.artifactsBucket, Key }))),
    );

    // Assess
    expect(heads.map((h) => h.status)).toEqual(keys.map(() => 'fulfilled'));
  });

  it("counts each function's invocations and CPU time in the worker pool", async () => {
    // Prepare
    await stack.idle();
    const before = stack.pool.usage();

    // Act
    await put('usage/letter.pdf', sample('letter.pdf'));
    await collectEvents(stack, 1);
    await stack.idle();
    const after = stack.pool.usage();

    // Assess: one split, assemble and publish for the document, each page stage once per page.
    const delta = (fn: keyof typeof after) => ({
      invocations: after[fn]!.invocations - (before[fn]?.invocations ?? 0),
      cpu: after[fn]!.cpuMs - (before[fn]?.cpuMs ?? 0) > 0,
    });
    expect(
      (['split', 'deskew', 'denoise', 'detect', 'recognize', 'assemble', 'publish'] as const).map(delta),
    ).toEqual([1, 2, 2, 2, 2, 1, 1].map((invocations) => ({ invocations, cpu: true })));
  });

  it('starts no second execution for a duplicated notification', async () => {
    // Prepare
    const key = 'dup/receipt.png';
    const put1 = await put(key, sample('receipt.png'));
    await collectEvents(stack, 1);
    const executions = stack.engine.list().length;
    const body = s3EventMessage(
      {
        bucket: stack.config.inputBucket,
        key,
        size: 1,
        etag: put1.ETag!.replaceAll('"', ''),
        eventName: 'ObjectCreated:Put',
      },
      stack.config.region,
    );

    // Act
    await stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: await resolveQueueUrl(stack.sqs, stack.config.ingestQueue),
        MessageBody: body,
      }),
    );
    const later = await drainEvents(stack);

    // Assess
    expect(stack.engine.list()).toHaveLength(executions);
    expect(later).toHaveLength(0);
  });

  it('fails a corrupt file with one document.failed event and still processes the next good file', async () => {
    // Prepare
    const corrupt = readFileSync(new URL('../../fixtures/bad/truncated.pdf', import.meta.url));

    // Act
    await put('bad/truncated.pdf', corrupt);
    await put('bad/after.png', sample('receipt.png'));
    const events = await collectEvents(stack, 2);
    const rest = await drainEvents(stack);

    // Assess
    const byKey = Object.fromEntries(events.map((e) => [e.source.key, e]));
    expect(byKey['bad/truncated.pdf']).toMatchObject({
      type: 'document.failed',
      error: { code: 'CorruptDocument', stage: 'split' },
    });
    expect(schemaValidators().resultEvent(byKey['bad/truncated.pdf'])).toBe(true);
    expect(byKey['bad/after.png']?.type).toBe('document.processed');
    expect(rest).toHaveLength(0);
  });
});

describe('the embedded pipeline across a restart', () => {
  it('processes a document uploaded just before the stack stopped once it starts again', async () => {
    // Prepare
    const data = tempDataDir();
    const first = await startTestStack(data.dir, { workers: 1 });
    await first.s3.send(
      new PutObjectCommand({
        Bucket: first.config.inputBucket,
        Key: 'restart.png',
        Body: sample('receipt.png'),
      }),
    );
    await first.stop();

    // Act
    const second = await startTestStack(data.dir, { workers: 1 });
    try {
      const events = await collectEvents(second, 1);
      const rest = await drainEvents(second);

      // Assess
      expect(events.map((e) => [e.type, e.source.key])).toEqual([['document.processed', 'restart.png']]);
      expect(rest).toHaveLength(0);
    } finally {
      await second.stop();
      data.remove();
    }
  });

  it('resumes an execution that a stop interrupted mid-run and publishes one event', async () => {
    // Prepare: stop while the document's pages are being processed.
    const data = tempDataDir();
    const first = await startTestStack(data.dir, { workers: 1 });
    await first.s3.send(
      new PutObjectCommand({
        Bucket: first.config.inputBucket,
        Key: 'midrun.pdf',
        Body: sample('letter.pdf'),
      }),
    );
    for (let i = 0; i < 600 && first.engine.list().length === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1500));
    const interrupted = first.engine.list().map((record) => record.status);
    await first.stop();

    // Act
    const second = await startTestStack(data.dir, { workers: 1 });
    try {
      const events = await collectEvents(second, 1);
      const rest = await drainEvents(second);

      // Assess
      expect(interrupted).toEqual(['RUNNING']);
      expect(events.map((e) => [e.type, e.source.key, e.pageCount])).toEqual([
        ['document.processed', 'midrun.pdf', 2],
      ]);
      expect(rest).toHaveLength(0);
      expect(second.engine.list().map((record) => record.status)).toEqual(['SUCCEEDED']);
    } finally {
      await second.stop();
      data.remove();
    }
  });
});
