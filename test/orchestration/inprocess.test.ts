import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type OcrProgress, ocrDocument, PagePool } from '../../orchestration/inprocess.ts';
import { InvalidOptionError, ModelUnavailableError, TooManyPagesError } from '../../stages/shared/errors.ts';
import { getModelStore } from '../../stages/shared/model-store.ts';
import { cer } from '../bench/metrics.ts';
import { docpipe, withTempDir } from '../support/cli.ts';
import { readPdf } from '../support/pdf.ts';
import { schemaValidators } from '../support/schemas.ts';

// The in-process runner behind `docpipe ocr`, on the project's own two-page letter (18 lines a page).
const letter = readFileSync(new URL('../../fixtures/samples/letter.pdf', import.meta.url));
const truth = readFileSync(new URL('../../fixtures/samples/letter.gt.txt', import.meta.url), 'utf8')
  .trimEnd()
  .split('\n');
const pageTruth = (number: number): string => truth.slice((number - 1) * 18, number * 18).join('\n');
const { documentResult } = schemaValidators();

describe('ocrDocument', () => {
  test('reads every page in order into a result the schema accepts', async () => {
    // Act
    const result = await ocrDocument(letter, { name: 'letter.pdf' });

    // Assess
    expect(documentResult(result)).toBe(true);
    expect(result.pages.map((p) => p.number)).toEqual([1, 2]);
    expect(result.source.pages).toBeUndefined();
    expect(cer(result.pages[1]!.text, pageTruth(2), { normalize: true })).toBeLessThan(0.01);
  }, 180_000);

  test('reads pages in worker threads into the same text as in this thread', async () => {
    // Prepare
    const here = await ocrDocument(letter, { deskew: false, denoise: false });

    // Act
    const threaded = await ocrDocument(letter, { deskew: false, denoise: false, jobs: 2 });

    // Assess
    expect(threaded.pages.map((p) => p.number)).toEqual([1, 2]);
    expect(threaded.text).toBe(here.text);
    expect(documentResult(threaded)).toBe(true);
  }, 180_000);

  test('reads several documents at once through one pool of warm workers', async () => {
    // Prepare
    const here = await ocrDocument(letter, { deskew: false, denoise: false, pages: '1' });
    const pool = new PagePool(2);

    // Act: two one-page documents at the same time.
    let results: Awaited<ReturnType<typeof ocrDocument>>[];
    try {
      results = await Promise.all(
        [1, 2].map(() => ocrDocument(letter, { deskew: false, denoise: false, pages: '1', pool })),
      );
    } finally {
      await pool.close();
    }

    // Assess: the same text, read by the pool's two threads (and no others).
    expect(results.map((r) => r.text)).toEqual([here.text, here.text]);
    expect(pool.started).toBe(2);
  }, 240_000);

  test('replaces a pool worker whose thread has gone', async () => {
    // Prepare: a worker whose thread ended, given back.
    const pool = new PagePool(1);
    const gone = await pool.acquire();
    await gone.close();
    pool.release(gone);

    // Act
    let result: Awaited<ReturnType<typeof ocrDocument>>;
    try {
      result = await ocrDocument(letter, { deskew: false, denoise: false, pages: '1', pool });
    } finally {
      await pool.close();
    }

    // Assess
    expect(result.pages.map((p) => p.number)).toEqual([1]);
    expect(pool.started).toBe(2);
  }, 180_000);

  test('brings a typed error back from a worker thread', async () => {
    // Prepare: this thread's model store is made first, on the bundled models, so only a worker can
    // fail; the workers inherit a model store and cache that hold no models.
    getModelStore();
    const empty = mkdtempSync(join(tmpdir(), 'docpipe-no-models-'));
    const saved = { store: process.env.DOCPIPE_MODEL_STORE, cache: process.env.DOCPIPE_MODEL_CACHE };
    process.env.DOCPIPE_MODEL_STORE = empty;
    process.env.DOCPIPE_MODEL_CACHE = join(empty, 'cache');

    // Act
    const run = ocrDocument(letter, { jobs: 2 });

    // Assess
    try {
      await expect(run).rejects.toThrow(ModelUnavailableError);
    } finally {
      process.env.DOCPIPE_MODEL_STORE = saved.store;
      process.env.DOCPIPE_MODEL_CACHE = saved.cache;
      if (saved.store === undefined) delete process.env.DOCPIPE_MODEL_STORE;
      if (saved.cache === undefined) delete process.env.DOCPIPE_MODEL_CACHE;
      rmSync(empty, { recursive: true, force: true });
    }
  }, 180_000);

  test('reads only the selected pages, numbered as in the file', async () => {
    // Prepare
    const progress: OcrProgress[] = [];

    // Act
    const result = await ocrDocument(letter, { pages: '2', onProgress: (p) => progress.push(p) });

    // Assess
    expect(documentResult(result)).toBe(true);
    expect(result.pageCount).toBe(1);
    expect(result.pages[0]!.number).toBe(2);
    expect(result.source.pages).toBe(2);
    expect(progress.map(({ page, pageCount, number }) => ({ page, pageCount, number }))).toEqual([
      { page: 1, pageCount: 1, number: 2 },
    ]);
    expect(cer(result.text, pageTruth(2), { normalize: true })).toBeLessThan(0.01);
  }, 180_000);

  test('applies maxPages to the selection, not to the file', async () => {
    // Act
    const result = await ocrDocument(letter, { pages: '1', maxPages: 1 });

    // Assess
    expect(result.pages.map((p) => p.number)).toEqual([1]);
  }, 180_000);

  test('refuses a selection of more pages than maxPages', async () => {
    // Act
    const run = ocrDocument(letter, { pages: '1-', maxPages: 1 });

    // Assess
    await expect(run).rejects.toThrow(TooManyPagesError);
    await expect(run).rejects.toThrow('2 pages are selected; the limit is 1');
  });

  test('refuses a page past the end before reading any page', async () => {
    // Prepare
    const progress: OcrProgress[] = [];

    // Act
    const run = ocrDocument(letter, { pages: '1,3', onProgress: (p) => progress.push(p) });

    // Assess
    await expect(run).rejects.toThrow(InvalidOptionError);
    await expect(run).rejects.toThrow("received '1,3': the document has 2 pages");
    expect(progress).toEqual([]);
  });
});

describe('docpipe ocr', () => {
  const samplePath = fileURLToPath(new URL('../../fixtures/samples/letter.pdf', import.meta.url));

  test('refuses a malformed page list as a usage error, before reading the document', async () => {
    // Act
    const { code, stderr } = await docpipe(['ocr', '--pages', '2-1', samplePath]);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain(
      "Expected page numbers and ranges such as '1-3,7,10-' for --pages but received '2-1'",
    );
    expect(stderr).toContain("the range '2-1' runs backwards");
    expect(stderr).not.toMatch(/\n\s+at /u);
  }, 30_000);

  test('exits non-zero with the error name and message, and no stack trace, for pages the document lacks', async () => {
    // Act
    const { code, stderr } = await docpipe(['ocr', '--pages', '3', samplePath]);

    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain(
      "InvalidOption: Expected page numbers and ranges such as '1-3,7,10-' for pages but received '3': the document has 2 pages",
    );
    expect(stderr).not.toMatch(/\n\s+at /u);
  }, 30_000);

  test("reads a document piped to '-'", async () => {
    // Prepare
    const receipt = readFileSync(new URL('../../fixtures/samples/receipt.png', import.meta.url));
    const receiptTruth = readFileSync(
      new URL('../../fixtures/samples/receipt.gt.txt', import.meta.url),
      'utf8',
    );

    // Act
    const { code, stdout, stderr } = await docpipe(['ocr', '-'], receipt);

    // Assess
    expect(code).toBe(0);
    expect(stderr).toContain('stdin: 1 page(s)');
    expect(cer(stdout, receiptTruth, { normalize: true })).toBeLessThan(0.05);
  }, 180_000);

  test('points at --pages when a document has too many pages', async () => {
    // Act
    const { code, stderr } = await docpipe(['ocr', '--max-pages', '1', samplePath]);

    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain(
      'TooManyPages: The document has 2 pages; the limit is 1 (raise --max-pages, or read some of it with --pages)',
    );
  }, 30_000);

  test('writes a searchable PDF whose text layer reads like the text output', async () => {
    // Prepare
    const receiptPath = fileURLToPath(new URL('../../fixtures/samples/receipt.png', import.meta.url));
    const receiptTruth = readFileSync(
      new URL('../../fixtures/samples/receipt.gt.txt', import.meta.url),
      'utf8',
    );

    await withTempDir('pdf', async (dir) => {
      // Act
      const { code, stderr } = await docpipe(['ocr', '-f', 'pdf', '-o', dir, receiptPath]);

      // Assess: one page, with the text a viewer's search and copy would find.
      expect(code).toBe(0);
      expect(stderr).toContain(`-> ${join(dir, 'receipt.pdf')}`);
      const pages = await readPdf(readFileSync(join(dir, 'receipt.pdf')));
      expect(pages).toHaveLength(1);
      expect(cer(pages[0]!.text, receiptTruth, { normalize: true })).toBeLessThan(0.05);
    });
  }, 180_000);

  test('refuses to write a PDF over the document it reads', async () => {
    await withTempDir('pdf', async (dir) => {
      // Prepare: a copy, so that a failure cannot overwrite the project's sample.
      const copy = join(dir, 'letter.pdf');
      copyFileSync(samplePath, copy);

      // Act
      const { code, stderr } = await docpipe(['ocr', '-f', 'pdf', '-o', dir, copy]);

      // Assess
      expect(code).toBe(2);
      expect(stderr).toContain('the output would overwrite the input; choose another --output');
      expect(readFileSync(copy)).toEqual(readFileSync(samplePath));
    });
  }, 30_000);

  test('names the outputs of scan.pdf and scan.png after their whole file names', async () => {
    await withTempDir('stems', async (dir) => {
      // Prepare: two documents with one stem, and a third of its own.
      copyFileSync(samplePath, join(dir, 'scan.pdf'));
      const receipt = fileURLToPath(new URL('../../fixtures/samples/receipt.png', import.meta.url));
      copyFileSync(receipt, join(dir, 'scan.png'));
      copyFileSync(receipt, join(dir, 'receipt.png'));
      const out = join(dir, 'out');

      // Act
      const { code } = await docpipe(['ocr', '--pages', '1', '-o', out, dir]);

      // Assess: each document has its own text, the letter's from the PDF.
      expect(code).toBe(0);
      expect(readdirSync(out).sort()).toEqual(['receipt.txt', 'scan.pdf.txt', 'scan.png.txt']);
      expect(
        cer(readFileSync(join(out, 'scan.pdf.txt'), 'utf8'), pageTruth(1), { normalize: true }),
      ).toBeLessThan(0.01);
      expect(readFileSync(join(out, 'scan.png.txt'), 'utf8')).toBe(
        readFileSync(join(out, 'receipt.txt'), 'utf8'),
      );
    });
  }, 180_000);

  test('refuses two documents that would still write one file, before reading either', async () => {
    await withTempDir('clash', async (dir) => {
      // Prepare: a/scan.pdf and b/scan.pdf would both be written as scan.txt.
      mkdirSync(join(dir, 'a'));
      mkdirSync(join(dir, 'b'));
      const first = join(dir, 'a', 'scan.pdf');
      const second = join(dir, 'b', 'scan.pdf');
      copyFileSync(samplePath, first);
      copyFileSync(samplePath, second);
      const out = join(dir, 'out');

      // Act
      const { code, stderr } = await docpipe(['ocr', '-o', out, first, second]);

      // Assess: a usage error naming both, and nothing written.
      expect(code).toBe(2);
      expect(stderr).toContain(`${first} and ${second} would both write ${join(out, 'scan.pdf.txt')}`);
      expect(existsSync(out)).toBe(false);
    });
  }, 30_000);

  test('reads the documents in a directory it is given, and nothing else there', async () => {
    await withTempDir('dir', async (dir) => {
      // Prepare: a receipt and a note that is no document.
      const inbox = join(dir, 'inbox');
      mkdirSync(inbox);
      copyFileSync(
        fileURLToPath(new URL('../../fixtures/samples/receipt.png', import.meta.url)),
        join(inbox, 'receipt.PNG'),
      );
      writeFileSync(join(inbox, 'notes.txt'), 'not a scan');
      const out = join(dir, 'out');

      // Act
      const { code } = await docpipe(['ocr', '-o', out, inbox]);

      // Assess
      expect(code).toBe(0);
      expect(readdirSync(out)).toEqual(['receipt.txt']);
    });
  }, 180_000);

  test('fails a directory without documents, and a path that is not there, by name', async () => {
    await withTempDir('empty', async (dir) => {
      // Act
      const { code, stderr } = await docpipe(['ocr', dir, join(dir, 'missing.pdf')]);

      // Assess
      expect(code).toBe(1);
      expect(stderr).toContain(`docpipe: ${dir}: no PDF, TIFF, PNG, JPEG or WebP files in this directory`);
      expect(stderr).toContain(`docpipe: ${join(dir, 'missing.pdf')}: no such file`);
      expect(stderr).not.toContain('InternalError');
    });
  }, 30_000);

  test('prints several documents read at once in the order they were given', async () => {
    // Prepare: the two-page letter first, so the one-page receipt finishes before it.
    const receiptPath = fileURLToPath(new URL('../../fixtures/samples/receipt.png', import.meta.url));

    // Act
    const { code, stdout, stderr } = await docpipe(['ocr', '-j', '2', samplePath, receiptPath]);

    // Assess: and stderr counts the documents as they finish.
    expect(code).toBe(0);
    expect(stderr).toMatch(/^\[1\/2\] (letter\.pdf|receipt\.png): \d page\(s\) in/mu);
    expect(stderr).toMatch(/^\[2\/2\] (letter\.pdf|receipt\.png): \d page\(s\) in/mu);
    const headers = stdout.split('\n').filter((line) => line.startsWith('==> '));
    expect(headers).toEqual([`==> ${samplePath} <==`, `==> ${receiptPath} <==`]);
  }, 180_000);

  test('asks for --output before printing PDFs of several documents', async () => {
    // Act
    const { code, stderr, stdout } = await docpipe(['ocr', '-f', 'pdf', samplePath, samplePath]);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain('--format pdf prints one document; give --output <dir> for several');
    expect(stdout).toBe('');
  }, 30_000);

  test('writes several formats of one reading into --output', async () => {
    // Prepare
    const receiptPath = fileURLToPath(new URL('../../fixtures/samples/receipt.png', import.meta.url));

    await withTempDir('formats', async (dir) => {
      // Act
      const { code } = await docpipe(['ocr', '-f', 'txt,json,pdf', '-o', dir, receiptPath]);

      // Assess: the text file and the JSON result hold the same reading.
      expect(code).toBe(0);
      expect(readdirSync(dir).sort()).toEqual(['receipt.json', 'receipt.pdf', 'receipt.txt']);
      const json = JSON.parse(readFileSync(join(dir, 'receipt.json'), 'utf8'));
      expect(readFileSync(join(dir, 'receipt.txt'), 'utf8')).toBe(`${json.pages[0].text}\n`);
    });
  }, 180_000);

  test('asks for --output before writing several formats', async () => {
    // Act
    const { code, stderr, stdout } = await docpipe(['ocr', '-f', 'text,pdf', samplePath]);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain('several --format values need --output <dir>');
    expect(stdout).toBe('');
  }, 30_000);

  test('names the formats it knows when given another', async () => {
    // Act
    const { code, stderr } = await docpipe(['ocr', '-f', 'docx', samplePath]);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain(
      "expected text, json, hocr, alto, pdf or a comma-separated list of them, received 'docx'",
    );
  }, 30_000);

  // The guard needs a Node below 24 to run under: the system Node of this project's machines is 20,
  // but a machine with only Node 24 has none, and there the test cannot run.
  const oldNode = olderNodeOnPath();
  (oldNode ? test : test.skip)(
    `refuses to start on a Node older than 24 with a sentence that says how to run it (${oldNode ?? 'skipped: no Node below 24 on PATH'})`,
    () => {
      // Act
      const run = spawnSync(
        oldNode!,
        [fileURLToPath(new URL('../../bin/docpipe.js', import.meta.url)), 'ocr', samplePath],
        {
          encoding: 'utf8',
        },
      );

      // Assess
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/^docpipe needs Node\.js 24 or later \(this is v\d+\./u);
      expect(run.stderr).toContain('`npx docpipe ...`');
      expect(run.stdout).toBe('');
    },
  );
});

/** A `node` on PATH, outside node_modules, whose major version is below 24; undefined if none. */
function olderNodeOnPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '' || dir.split(sep).includes('node_modules')) continue;
    const candidate = join(dir, 'node');
    if (!existsSync(candidate)) continue;
    const version = spawnSync(candidate, ['--version'], { encoding: 'utf8' }).stdout ?? '';
    const major = Number(/^v(\d+)\./u.exec(version)?.[1]);
    if (major > 0 && major < 24) return candidate;
  }
  return undefined;
}
