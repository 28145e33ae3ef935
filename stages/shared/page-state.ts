import type { S3Ref } from './artifacts.ts';
import type { StageEventBase } from './handler-kit.ts';
import type { StageTimings } from './types.ts';

/**
 * The payload that flows through the per-page states: Deskew -> Denoise -> Detect -> Recognize.
 * Each stage returns it with its own artifact added; only references and small numbers, never pixels.
 */
export interface PageState extends StageEventBase {
  page: number;
  dpi: number;
  /** The latest page image: page.png, then deskew.png, then denoise.png. */
  image: S3Ref;
  deskew?: S3Ref;
  detection?: S3Ref;
  timings?: StageTimings;
}

/** What one Map iteration returns to the Assemble state. */
export interface PageDone {
  page: number;
  outcome: S3Ref;
}
