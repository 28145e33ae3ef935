import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { assembleDocument, type DocumentResult, type PageOutcome } from '../stages/assemble/core.ts';
import type { PdfPageImage } from '../stages/assemble/pdf.ts';
import { stageConfig } from '../stages/shared/config.ts';
import { fromErrorJSON, WorkerCrashedError } from '../stages/shared/errors.ts';
import { logger } from '../stages/shared/logger.ts';
import { getModelStore } from '../stages/shared/model-store.ts';
import type { PageImage } from '../stages/shared/types.ts';
import { booleanOption, integerIn, invalidParameter, rejectUnknownKeys } from '../stages/shared/validate.ts';
import { MAX_PAGES, type OpenedDocument, openDocument } from '../stages/split/core.ts';
import { fileLimit, pagesToRead } from '../stages/split/pages.ts';
import { elapsedMs, type PageFlags, type PageRead, processPage } from './page.ts';
import type { PageReply, PageRequest } from './page-worker.ts';

export interface OcrProgress {
  /** Pages done so far, 1..pageCount. */
  page: number;
  /** Pages to read: every page of the file, or the pages selected. */
  pageCount: number;
  /** The page just done, as numbered in the file (1-based). */
  number: number;
  ms: number;
}

export interface OcrOptions {
  /** Shown in the result's `source.name` and logs. */
  name?: string;
  dpi?: number;
  /**
   * Refuse documents with more pages than this; with `pages`, refuse selections of more pages
   * (the file itself may then be longer).
   */
  maxPages?: number;
  /** Read only these pages: `'1-3,7,10-'` (1-based; `N-` runs to the last page). Default: all. */
  pages?: string;
  maxPixels?: number;
  maxBytes?: number;
  deskew?: boolean;
  denoise?: boolean;
  /**
   * Pages read at once, each in a worker thread with its own warm models (default 1: in this
   * thread). Never more than the pages to read; onnxruntime gets the cores divided among them.
   */
  jobs?: number;
  /**
   * Worker threads shared with other documents (`PagePool`), instead of `jobs` threads of this
   * document's own: their models stay warm from one document to the next, and several documents
   * read at once keep every worker busy. The caller closes it.
   */
  pool?: PagePool;
  /** Fail with NoTextFound when no page holds text (default true). */
  requireText?: boolean;
  onProgress?: (progress: OcrProgress) => void;
  /**
   * Called with each page's image, the deskewed page its boxes are in, encoded for a searchable PDF
   * (`renderSearchablePdf`). Pages arrive in the order they finish. Given, it costs each page an image
   * encode (about 0.05 s at 300 DPI A4).
   */
  onPageImage?: (number: number, image: PdfPageImage) => void;
}

const KNOWN = [
  'name',
  'dpi',
  'maxPages',
  'pages',
  'maxPixels',
  'maxBytes',
  'deskew',
  'denoise',
  'jobs',
  'pool',
  'requireText',
  'onProgress',
  'onPageImage',
];

const round = (value: number): number => Math.round(value * 10) / 10;

/**
 * Runs every stage on this machine, what `docpipe ocr` does: page after page in this thread, or with
 * `jobs` > 1 several pages at once in worker threads. The event-driven pipeline runs the same pure
 * cores, one function per stage, with S3 in between.
 */
export async function ocrDocument(bytes: Buffer, options: OcrOptions = {}): Promise<DocumentResult> {
  rejectUnknownKeys('ocrDocument', options, KNOWN);
  const name = options.name ?? 'document';
  const deskew = options.deskew === undefined ? true : booleanOption('deskew', options.deskew);
  const denoise = options.denoise === undefined ? true : booleanOption('denoise', options.denoise);
  const dpi = integerIn('dpi', options.dpi ?? stageConfig.dpi, 72, 600);
  const log = logger.child({ stage: 'inprocess', document: name });

  const maxPages = integerIn('maxPages', options.maxPages ?? stageConfig.maxPages, 1, MAX_PAGES);
  const jobs = integerIn('jobs', options.jobs ?? 1, 1, 64);
  if (options.pool !== undefined && !(options.pool instanceof PagePool)) {
    throw invalidParameter('pool', 'a PagePool', options.pool);
  }
  if (options.pages !== undefined && typeof options.pages !== 'string') {
    throw invalidParameter('pages', "a string such as '1-3,7'", options.pages);
  }
  for (const key of ['onProgress', 'onPageImage'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') {
      throw invalidParameter(key, 'a function', options[key]);
    }
  }

  const started = performance.now();
  const document = await openDocument(bytes, {
    dpi,
    maxPages: fileLimit(options.pages, maxPages),
    maxPixels: options.maxPixels ?? stageConfig.maxPixels,
    maxBytes: options.maxBytes ?? stageConfig.maxBytes,
  });
  const splitMs = elapsedMs(started);
  let numbers: number[];
  let pages: PageOutcome[];
  try {
    numbers = pagesToRead(options.pages, document.pageCount, maxPages);
    pages = await readPages(document, numbers, {
      deskew,
      denoise,
      jobs,
      pool: options.pool,
      log,
      onProgress: options.onProgress,
      onPageImage: options.onPageImage,
    });
  } finally {
    await document.close();
  }

  const store = getModelStore();
  return assembleDocument({
    source: {
      name,
      format: document.format,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      ...(options.pages === undefined ? {} : { pages: document.pageCount }),
    },
    pages,
    pageNumbers: numbers,
    models: store.models().map(({ name: model, version, sha256 }) => ({ name: model, version, sha256 })),
    timings: {
      split: round(splitMs + pages.reduce((sum, p) => sum + (p.timings.split ?? 0), 0)),
      total: elapsedMs(started),
    },
    requireText: options.requireText ?? true,
  });
}

interface ReadOptions {
  deskew: boolean;
  denoise: boolean;
  jobs: number;
  pool: PagePool | undefined;
  log: typeof logger;
  onProgress: OcrOptions['onProgress'];
  onPageImage: OcrOptions['onPageImage'];
}

/** The outcome of each selected page, in the order of `selected`; the first failure fails all. */
async function readPages(
  document: OpenedDocument,
  selected: readonly number[],
  { deskew, denoise, jobs, pool: shared, log, onProgress, onPageImage }: ReadOptions,
): Promise<PageOutcome[]> {
  // Each lane reads its pages in a worker of the pool (this document's own, or one shared with
  // other documents); onnxruntime gets the cores divided among the workers.
  const own = shared === undefined && Math.min(jobs, selected.length) > 1;
  const pool = own ? new PagePool(Math.min(jobs, selected.length)) : shared;
  const lanes = Math.min(pool?.size ?? 1, selected.length);
  // Pages render one at a time here (pdf.js and the canvas are not shared across threads) while
  // the workers read the pages already rendered.
  let rendering: Promise<unknown> = Promise.resolve();
  const render = (number: number): Promise<PageImage> => {
    const rendered = rendering.then(() => document.renderPage(number - 1));
    rendering = rendered.catch(() => undefined);
    return rendered;
  };
  const outcomes: PageOutcome[] = new Array(selected.length);
  let next = 0;
  let done = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < selected.length) {
      const k = next++;
      const number = selected[k]!;
      // A page is rendered once a worker is free for it: at most one page waits per worker.
      const worker = await pool?.acquire();
      const pageStarted = performance.now();
      try {
        const page = await render(number);
        const flags = {
          deskew,
          denoise,
          renderMs: elapsedMs(pageStarted),
          keepImage: onPageImage !== undefined,
        };
        const read = worker ? await worker.run(page, flags) : await processPage(page, flags);
        outcomes[k] = read.outcome;
        if (read.image) onPageImage?.(number, read.image);
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        if (worker) pool!.release(worker);
      }
      const pageMs = elapsedMs(pageStarted);
      log.debug({ page: number, ms: pageMs }, 'page done');
      onProgress?.({ page: ++done, pageCount: selected.length, number, ms: pageMs });
    }
  };
  try {
    await Promise.all(Array.from({ length: lanes }, lane));
  } finally {
    if (own) await pool!.close();
  }
  return outcomes;
}

/**
 * Worker threads that read pages (`page-worker.ts`), each with its own warm models, lent out one
 * page at a time. Threads start when first needed; one that crashes is replaced.
 */
export class PagePool {
  readonly size: number;
  private readonly threads: number;
  private readonly idle: PageWorker[] = [];
  private readonly waiting: Array<(worker: PageWorker) => void> = [];
  private spawned = 0;
  private readonly all = new Set<PageWorker>();

  /** `size` workers; onnxruntime's threads divided among them unless DOCPIPE_ORT_THREADS says otherwise. */
  constructor(size: number) {
    this.size = integerIn('size', size, 1, 64);
    this.threads = Math.max(1, Math.floor(availableParallelism() / this.size));
  }

  /** Threads started so far: at most `size`, more only when one crashed and was replaced. */
  get started(): number {
    return this.spawned;
  }

  /** A free worker, once one is. */
  acquire(): Promise<PageWorker> {
    const free = this.idle.pop();
    if (free) return Promise.resolve(free);
    // `all` holds the live workers: a replaced one leaves it as its successor joins.
    if (this.all.size < this.size) return Promise.resolve(this.spawn());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(worker: PageWorker): void {
    const next = worker.alive ? worker : this.replace(worker);
    const waiter = this.waiting.shift();
    if (waiter) waiter(next);
    else this.idle.push(next);
  }

  async close(): Promise<void> {
    await Promise.all([...this.all].map((w) => w.close()));
    this.all.clear();
    this.idle.length = 0;
  }

  private spawn(): PageWorker {
    const worker = new PageWorker(this.threads);
    this.spawned++;
    this.all.add(worker);
    return worker;
  }

  private replace(dead: PageWorker): PageWorker {
    this.all.delete(dead);
    return this.spawn();
  }
}

/** A worker thread that reads one page at a time (`page-worker.ts`), its models kept warm. */
class PageWorker {
  private readonly worker: Worker;
  /** False once the thread has exited: a crash, or close(). */
  alive = true;

  constructor(ortThreads: number) {
    this.worker = new Worker(new URL('./page-worker.ts', import.meta.url), {
      // A DOCPIPE_ORT_THREADS the user set wins over the even split.
      env: { DOCPIPE_ORT_THREADS: String(ortThreads), ...process.env },
    });
    this.worker.once('exit', () => {
      this.alive = false;
    });
  }

  run(page: PageImage, flags: PageFlags): Promise<PageRead> {
    const worker = this.worker;
    return new Promise<PageRead>((resolve, reject) => {
      const settle = (): void => {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        worker.off('error', onError);
      };
      const onMessage = (reply: PageReply): void => {
        settle();
        if (reply.ok) resolve(reply.read);
        else reject(fromErrorJSON(reply.error));
      };
      const onExit = (code: number): void => {
        settle();
        reject(
          new WorkerCrashedError(`A page worker exited with code ${code} reading page ${page.index + 1}`),
        );
      };
      const onError = (error: Error): void => {
        settle();
        reject(new WorkerCrashedError(`A page worker failed: ${error.message}`, { cause: error }));
      };
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.on('error', onError);
      worker.postMessage({ page, flags } satisfies PageRequest);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
