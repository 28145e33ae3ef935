import { InvalidOptionError, NoTextFoundError } from '../shared/errors.ts';
import { quadToRect, rowOffset } from '../shared/geometry.ts';
import {
  type DeskewInfo,
  type DocumentFormat,
  deskewSkipped,
  type ModelRef,
  type RecognizedLine,
  type StageTimings,
} from '../shared/types.ts';
import { DOCPIPE_VERSION } from '../shared/version.ts';

export const RESULT_SCHEMA_VERSION = 1;

export type PageWarning = 'NoText' | 'LowConfidence' | 'DeskewSkipped';

/** Everything the per-page stages learnt about one page. */
export interface PageOutcome {
  /** 1-based. */
  number: number;
  width: number;
  height: number;
  dpi: number;
  deskew: DeskewInfo;
  lines: RecognizedLine[];
  timings: StageTimings;
}

export interface DocumentSource {
  name: string;
  format: DocumentFormat;
  bytes: number;
  sha256: string;
  etag?: string;
  versionId?: string;
  /** Pages in the file, given when only some of them were read (a page selection). */
  pages?: number;
}

export interface PageResult extends Omit<PageOutcome, 'timings'> {
  text: string;
  warnings: PageWarning[];
  timings: StageTimings & { total?: number };
}

/** Schema version 1: `stages/assemble/document-result.schema.json` is the authority. */
export interface DocumentResult {
  schemaVersion: 1;
  documentId?: string;
  source: DocumentSource;
  pageCount: number;
  pages: PageResult[];
  text: string;
  timings: StageTimings & { total?: number };
  models: ModelRef[];
  createdAt: string;
  generator: { name: 'docpipe'; version: string };
}

export interface AssembleInput {
  documentId?: string;
  source: DocumentSource;
  pages: PageOutcome[];
  /**
   * The page numbers expected, ascending (default 1..pages.length): when only some pages of a file
   * were read, those; a page outcome missing from it or not asked for is an error.
   */
  pageNumbers?: readonly number[];
  models: ModelRef[];
  /** Document-level timings (split, and the wall-clock total) measured by the caller. */
  timings?: StageTimings & { total?: number };
  /** When true (default), a document in which no page holds any text fails with NoTextFound. */
  requireText?: boolean;
  /** Lines below this confidence earn the page a LowConfidence warning. */
  lowConfidence?: number;
  now?: Date;
}

const PAGE_STAGES = ['deskew', 'denoise', 'detect', 'recognize'] as const;

/**
 * Builds the document result from per-page outcomes. Pure: the caller measures time and supplies
 * `now`. Pages may arrive in any order (they are produced in parallel) and are sorted by number.
 */
export function assembleDocument(input: AssembleInput): DocumentResult {
  const started = performance.now();
  const { source, models, requireText = true, lowConfidence = 0.6 } = input;
  if (input.pages.length === 0) {
    throw new InvalidOptionError('Expected at least one page outcome for pages but received none');
  }
  const pages = [...input.pages].sort((a, b) => a.number - b.number);
  const expected = input.pageNumbers ?? pages.map((_, i) => i + 1);
  const numbers = pages.map((p) => p.number);
  if (numbers.length !== expected.length || numbers.some((n, i) => n !== expected[i])) {
    const missing = expected.find((n) => !numbers.includes(n));
    const wanted = input.pageNumbers ? `pages ${expected.join(', ')}` : `pages numbered 1..${pages.length}`;
    const why = missing === undefined ? `received pages ${numbers.join(', ')}` : `page ${missing} is missing`;
    throw new InvalidOptionError(`Expected ${wanted} but ${why}`, {
      details: { parameter: 'pages', numbers },
    });
  }

  const pageResults = pages.map((page): PageResult => {
    const lines = page.lines.filter((line) => line.text.trim().length > 0);
    const warnings: PageWarning[] = [];
    if (lines.length === 0) warnings.push('NoText');
    if (lines.some((line) => line.confidence < lowConfidence)) warnings.push('LowConfidence');
    if (deskewSkipped(page.deskew)) warnings.push('DeskewSkipped');
    const total = PAGE_STAGES.reduce((sum, stage) => sum + (page.timings[stage] ?? 0), 0);
    return {
      number: page.number,
      width: page.width,
      height: page.height,
      dpi: page.dpi,
      deskew: page.deskew,
      lines,
      text: pageText(lines),
      warnings,
      timings: { ...page.timings, total: round(total) },
    };
  });

  if (requireText && pageResults.every((page) => page.lines.length === 0)) {
    throw new NoTextFoundError(
      `No text was found on any of the ${pageResults.length} page(s) of ${source.name}`,
      {
        details: { pageCount: pageResults.length },
      },
    );
  }

  const timings: StageTimings & { total?: number } = { ...input.timings };
  for (const stage of PAGE_STAGES) {
    timings[stage] = round(pageResults.reduce((sum, page) => sum + (page.timings[stage] ?? 0), 0));
  }
  timings.assemble = round(performance.now() - started);

  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    ...(input.documentId === undefined ? {} : { documentId: input.documentId }),
    source,
    pageCount: pageResults.length,
    pages: pageResults,
    text: pageResults.map((page) => page.text).join('\n\f'),
    timings,
    models,
    createdAt: (input.now ?? new Date()).toISOString(),
    generator: { name: 'docpipe', version: DOCPIPE_VERSION },
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function leftEdge(line: RecognizedLine): number {
  return Math.min(...line.box.map((p) => p[0]));
}

/**
 * Lines in reading order become text: a region that continues the previous one on the same visual
 * row (receipts and forms leave wide gaps that the detector splits into several regions) joins it
 * with a space, everything else starts a new line.
 */
export function pageText(lines: readonly RecognizedLine[]): string {
  let text = '';
  lines.forEach((line, i) => {
    const previous = lines[i - 1];
    if (previous === undefined) {
      text = line.text;
      return;
    }
    const sameRow =
      rowOffset(quadToRect(previous.box), quadToRect(line.box)) < 1 && leftEdge(line) > leftEdge(previous);
    text += `${sameRow ? ' ' : '\n'}${line.text}`;
  });
  return text;
}
