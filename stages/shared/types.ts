/**
 * Data contracts between stages. Every artifact that crosses a stage boundary is one of these
 * (JSON) or a PNG page image. Coordinates are pixels of the page image the stage received,
 * origin top-left, y down.
 */

export type Point = [x: number, y: number];
/** Four corners clockwise from the top-left corner of the text as read. */
export type Quad = [Point, Point, Point, Point];

export type DocumentFormat = 'pdf' | 'tiff' | 'png' | 'jpeg' | 'webp';

/** One page as split from the document: a lossless PNG (8-bit gray or RGB). */
export interface PageImage {
  /** 0-based page index within the document. */
  index: number;
  png: Buffer;
  width: number;
  height: number;
  /** Resolution the page was rendered at (PDF) or declares (images; 300 when unknown... see split). */
  dpi: number;
}

export type Orientation = 0 | 90 | 180 | 270;

export interface DeskewInfo {
  /** Skew angle of the content as found, degrees, counter-clockwise positive, y down (after orientation). */
  angle: number;
  /** Clockwise rotation that was applied to make the page upright, in degrees (0/90/180/270). */
  orientation: Orientation;
  /** 0..1: how sure the estimate is. Low when the page has little text. */
  confidence: number;
  /** False when the page was left alone (too little text to judge, or angle below the threshold). */
  applied: boolean;
  /** Why the page was left alone, when it was: a straight page's reason starts with STRAIGHT_PAGE_REASON. */
  reason?: string;
}

/** How the reason of a page that was measured and found straight begins (`skew below 0.05 degrees`). */
export const STRAIGHT_PAGE_REASON = 'skew below';

/**
 * True when the page may still be skewed because deskew did not measure it: turned off, too little
 * text, or an estimate too unsure to act on. A page measured and found straight was not skipped.
 */
export function deskewSkipped(info: DeskewInfo): boolean {
  return !info.applied && info.reason !== undefined && !info.reason.startsWith(STRAIGHT_PAGE_REASON);
}

export interface DeskewResult extends DeskewInfo {
  png: Buffer;
  width: number;
  height: number;
}

export interface DenoiseResult {
  png: Buffer;
  width: number;
  height: number;
  /** What the filter did, for logs and the result: e.g. background level, specks removed. */
  stats: Record<string, number>;
}

export interface TextRegion {
  box: Quad;
  /** Mean probability inside the region (DB "box score"), 0..1. */
  score: number;
}

export interface DetectResult {
  width: number;
  height: number;
  /** In reading order. */
  regions: TextRegion[];
}

export interface RecognizedWord {
  text: string;
  confidence: number;
  box: Quad;
}

export interface RecognizedLine {
  text: string;
  /** Mean character probability, 0..1. */
  confidence: number;
  box: Quad;
  words: RecognizedWord[];
  /** True when the line classifier found the crop upside down and it was turned before reading. */
  rotated180?: boolean;
}

export interface RecognizeResult {
  width: number;
  height: number;
  lines: RecognizedLine[];
}

export interface ModelRef {
  name: string;
  version: string;
  sha256: string;
}

/** Wall-clock milliseconds spent in each stage (for a page, or summed for a document). */
export type StageTimings = Partial<
  Record<'split' | 'deskew' | 'denoise' | 'detect' | 'recognize' | 'assemble', number>
>;
