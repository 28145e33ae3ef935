import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTiff, generatePage, makeLetterLines } from '../../fixtures/generate.ts';
import { cer } from '../bench/metrics.ts';
import { docpipe, RECEIPT_OUTPUTS } from '../support/cli.ts';
import { schemaValidators } from '../support/schemas.ts';

// `docpipe run`: the whole event-driven pipeline on the embedded stack, one document, one command.
const receiptPath = fileURLToPath(new URL('../../fixtures/samples/receipt.png', import.meta.url));
const receiptTruth = readFileSync(new URL('../../fixtures/samples/receipt.gt.txt', import.meta.url), 'utf8');

describe('docpipe run', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'docpipe-run-out-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('prints the text of the document it ran through the pipeline', async () => {
    // Act
    const { code, stdout, stderr } = await docpipe(['run', receiptPath]);

    // Assess
    expect(code).toBe(0);
    expect(stderr).toContain('1 page(s) in');
    expect(cer(stdout, receiptTruth, { normalize: true })).toBeLessThan(0.05);
  }, 120_000);

  test('reads only the --pages it is given', async () => {
    // Prepare: the letter's second page is the second half of its ground truth.
    const letterPath = fileURLToPath(new URL('../../fixtures/samples/letter.pdf', import.meta.url));
    const pageTwo = readFileSync(new URL('../../fixtures/samples/letter.gt.txt', import.meta.url), 'utf8')
      .split('\n')
      .slice(18)
      .join('\n');

    // Act
    const { code, stdout, stderr } = await docpipe(['run', '--pages', '2', letterPath]);

    // Assess
    expect(code).toBe(0);
    expect(stderr).toContain('1 page(s) in');
    expect(cer(stdout, pageTwo, { normalize: true })).toBeLessThan(0.05);
  }, 120_000);

  test('says how many pages of a long document have been read while it waits', async () => {
    // Prepare: a six-page TIFF, long enough for the wait to look at its progress.
    const pages = await Promise.all(
      Array.from({ length: 6 }, (_, i) => generatePage({ lines: makeLetterLines(700 + i, 10) }, { seed: i })),
    );
    const tiff = join(dir, 'six.tiff');
    writeFileSync(tiff, await buildTiff(pages.map((page) => page.png)));

    // Act
    const { code, stderr } = await docpipe(['run', tiff]);

    // Assess: progress lines counting the pages read, then the summary.
    expect(code).toBe(0);
    const progress = stderr.split('\n').filter((line) => line.startsWith(`${tiff}: `));
    expect(progress.some((line) => /^.*: [0-6]\/6 pages read$/.test(line))).toBe(true);
    expect(stderr).toContain('6 page(s) in');
  }, 120_000);

  test('refuses a --pages it cannot read before starting anything', async () => {
    // Act
    const { code, stderr } = await docpipe(['run', '--pages', '1-x', receiptPath]);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain("for --pages but received '1-x': '1-x' is not a page number or a range");
    expect(stderr).not.toContain('starting the embedded stack');
  }, 30_000);

  test.each([
    // The directory is the test's own, empty (made in beforeEach).
    ['a directory without documents', () => dir, 'no PDF, TIFF, PNG, JPEG or WebP files in this directory'],
    ['a missing file', () => '/nonexistent/scan.pdf', 'no such file'],
  ])(
    'refuses %s by name before starting the stack',
    async (_what, where, why) => {
      // Prepare
      const path = where();

      // Act
      const { code, stderr } = await docpipe(['run', path]);

      // Assess
      expect(code).toBe(1);
      expect(stderr).toContain(`docpipe: ${path}: ${why}`);
      expect(stderr).not.toContain('starting the embedded stack');
      expect(stderr).not.toContain('InternalError');
    },
    30_000,
  );

  test('runs every document of a directory and prints their texts in order', async () => {
    // Prepare: a directory with the receipt and the two-page letter.
    const samples = join(dir, 'in');
    mkdirSync(samples);
    copyFileSync(receiptPath, join(samples, 'b-receipt.png'));
    copyFileSync(
      fileURLToPath(new URL('../../fixtures/samples/letter.pdf', import.meta.url)),
      join(samples, 'a-letter.pdf'),
    );

    // Act
    const { code, stdout, stderr } = await docpipe(['run', samples]);

    // Assess: three pages in all, the letter's text first, the receipt's after its header.
    expect(code).toBe(0);
    expect(stderr).toContain('3 page(s) in');
    const [, letterText, receiptText] = stdout.split(/^==> .* <==$/mu);
    expect(stdout.match(/^==> .* <==$/gmu)).toEqual([
      `==> ${join(samples, 'a-letter.pdf')} <==`,
      `==> ${join(samples, 'b-receipt.png')} <==`,
    ]);
    expect(cer(receiptText!, receiptTruth, { normalize: true })).toBeLessThan(0.05);
    expect(letterText!.length).toBeGreaterThan(receiptText!.length);
  }, 180_000);

  test('submit says when no pipeline answers at its endpoint, without a stack trace', async () => {
    // Act: nothing listens on port 1.
    const { code, stderr } = await docpipe(['submit', '--endpoint', 'http://127.0.0.1:1', receiptPath]);

    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain(
      'EndpointUnreachable: connect ECONNREFUSED 127.0.0.1:1 (is `docpipe up` running?',
    );
    expect(stderr).not.toMatch(/\n\s+at /u);
  }, 30_000);

  test('copies every output of the pipeline into --output', async () => {
    // Act
    const { code, stdout } = await docpipe(['run', '-o', dir, receiptPath]);

    // Assess: the result, its text, hOCR and searchable PDF, named after the input.
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(readdirSync(dir).sort()).toEqual(RECEIPT_OUTPUTS);
    expect(
      schemaValidators().documentResult(JSON.parse(readFileSync(join(dir, 'receipt.json'), 'utf8'))),
    ).toBe(true);
    expect(
      cer(readFileSync(join(dir, 'receipt.txt'), 'utf8'), receiptTruth, { normalize: true }),
    ).toBeLessThan(0.05);
    expect(readFileSync(join(dir, 'receipt.pdf')).subarray(0, 5).toString('latin1')).toBe('%PDF-');
  }, 120_000);

  test('refuses an --output that would overwrite the input, before starting anything', async () => {
    // Prepare: a PDF named like one of the outputs, in the output directory.
    const input = join(dir, 'receipt.pdf');
    copyFileSync(fileURLToPath(new URL('../../fixtures/samples/letter.pdf', import.meta.url)), input);
    const before = readFileSync(input);

    // Act
    const { code, stderr } = await docpipe(['run', '-o', dir, input]);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain('the output would overwrite the input; choose another --output');
    expect(stderr).not.toContain('starting the embedded stack');
    expect(readFileSync(input)).toEqual(before);
  }, 30_000);
});
