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
  /**
   * The deskewed page (deskew.png), which Recognize reads: Detect finds lines on the cleaned page,
   * but the recogniser reads the scan's own gray levels better (`npm run bench:quality` before and
   * after: receipts F1 84.2% -> 87.3%, forms 77.2% -> 77.7%, noisy generated pages CER 0.13% ->
   * 0.03%). Absent in states written before it existed: Recognize then reads `image`.
   */
  upright?: S3Ref;
  deskew?: S3Ref;
  detection?: S3Ref;
  timings?: StageTimings;
}

/** What one Map iteration returns to the Assemble state. */
export interface PageDone {
  page: number;
  outcome: S3Ref;
}
