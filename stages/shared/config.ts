import { InvalidOptionError } from './errors.ts';

/**
 * Limits and defaults that every stage shares, read once from the environment at module load so a
 * bad value fails at cold start, not on page 37. Everything else takes options objects.
 */
export interface StageConfig {
  /** Largest input file accepted, bytes. */
  maxBytes: number;
  /** Most pages per document. */
  maxPages: number;
  /** Most pixels per page image (decompression-bomb guard). */
  maxPixels: number;
  /** Resolution PDFs are rendered at. */
  dpi: number;
  /** Whether the pipeline's Assemble writes result.pdf, the searchable PDF (about 0.2 s of CPU a page). */
  searchablePdf: boolean;
}

export const STAGE_DEFAULTS: StageConfig = {
  maxBytes: 200 * 1024 * 1024,
  maxPages: 500,
  maxPixels: 120_000_000,
  dpi: 300,
  searchablePdf: true,
};

/**
 * A positive integer from the environment, at most `max` when given: the fallback when unset or
 * empty, else a named InvalidOption error that quotes what was set.
 */
export function positiveInt(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    const expected =
      max === Number.MAX_SAFE_INTEGER ? 'a positive integer' : `an integer between 1 and ${max}`;
    throw new InvalidOptionError(
      `Expected ${expected} for environment variable ${name} but received '${raw}'`,
      {
        details: { parameter: name },
      },
    );
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new InvalidOptionError(
    `Expected true or false for environment variable ${name} but received '${raw}'`,
    { details: { parameter: name } },
  );
}

export function readStageConfig(env: NodeJS.ProcessEnv = process.env): StageConfig {
  return {
    maxBytes: positiveInt(env, 'DOCPIPE_MAX_BYTES', STAGE_DEFAULTS.maxBytes),
    maxPages: positiveInt(env, 'DOCPIPE_MAX_PAGES', STAGE_DEFAULTS.maxPages),
    maxPixels: positiveInt(env, 'DOCPIPE_MAX_PIXELS', STAGE_DEFAULTS.maxPixels),
    dpi: positiveInt(env, 'DOCPIPE_DPI', STAGE_DEFAULTS.dpi),
    searchablePdf: flag(env, 'DOCPIPE_SEARCHABLE_PDF', STAGE_DEFAULTS.searchablePdf),
  };
}

export const stageConfig: StageConfig = readStageConfig();
