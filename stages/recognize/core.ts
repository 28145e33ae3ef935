/**
 * Text recognition: each detected region is cropped along its own orientation at native scale,
 * turned upright by the 0/180 line classifier, resized to height 48 and read by the PP-OCRv4
 * CTC recogniser in width-sorted batches. The CTC time steps say where each character sits, which
 * gives word boxes and lets us put back the spaces the model drops on receipts and forms.
 */
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { findVerticalRuns } from '../detect/core.ts';
import { CorruptDocumentError } from '../shared/errors.ts';
import { cropQuad, quadToRect, type RawImage, subQuad } from '../shared/geometry.ts';
import { logger } from '../shared/logger.ts';
import { getModelStore, type ModelStore } from '../shared/model-store.ts';
import type {
  DetectResult,
  Quad,
  RecognizedLine,
  RecognizedWord,
  RecognizeResult,
  TextRegion,
} from '../shared/types.ts';
import {
  booleanOption,
  integerIn,
  invalidParameter,
  numberIn,
  rejectUnknownKeys,
} from '../shared/validate.ts';
import { correctConfusions } from './confusions.ts';
import {
  applyLexicon,
  countNonWords,
  DEFAULT_LEXICON_RULE,
  englishLexicon,
  type LinePosteriors,
} from './lexicon.ts';

export interface RecognizeOptions {
  /** Run the 0/180 line classifier and read upside-down lines turned. Default true. */
  classify?: boolean;
  /** Classifier probability needed to call a line upside down. Default 0.9. */
  classifyThreshold?: number;
  /**
   * Classify the widest this many lines first; unless two of them (or the only one) look upside
   * down, take the rest as upright without running the classifier on them (the usual case once
   * deskew has set the page's orientation). 0 classifies every line. Default 8.
   */
  classifySample?: number;
  /**
   * Lines per recogniser run (width-sorted, padded to the widest). Default 1: on this CPU
   * onnxruntime spent 35% more CPU time per page at 4 and 60% more at 8 (padding, cache misses),
   * so batching only pays where the per-call overhead dominates (GPU, tiny crops).
   */
  batchSize?: number;
  /** Put back spaces the model drops, from the gaps in the ink between characters. Default true. */
  restoreSpaces?: boolean;
  /** Lines whose mean character probability is below this are dropped (noise, graphics). Default 0.5. */
  minConfidence?: number;
  /** The same for lines of one or two characters, which are mostly specks and marks. Default 0.8. */
  minShortConfidence?: number;
  /** Read stacks of sideways characters (serial numbers up a margin) as one vertical line. Default true. */
  verticalText?: boolean;
  /**
   * Map a lone confusable digit inside a word to its letter ('als0' -> 'also') and a lone
   * confusable letter inside a number to its digit ('2O24' -> '2024'); see confusions.ts. Default true.
   */
  correctConfusions?: boolean;
  /**
   * Check words against an English word list: take out spaces that split a word into pieces, and swap
   * an unsure character for the model's runner-up when that makes a non-word a word (lexicon.ts).
   * Default true.
   */
  lexicon?: boolean;
  /**
   * Lines read with a mean confidence below this are read again from a darkened crop and the more
   * confident reading kept (faint print; dev halves: receipts F1 +0.4, forms +0.3 points, for
   * 9% / 19% of lines read twice). 0 never reads a line twice. Default 0.9.
   */
  reread?: number;
  /**
   * With `reread` and `lexicon` on, also read again the confident lines that hold a word the word
   * list does not know, keeping the second reading when it knows more of its words (dev halves:
   * forms F1 +0.6, receipts +0.1; lines read twice go from 9% to 20% on receipts and 19% to 36% on
   * forms). Only on pages where at least 5% of lines were read below `reread`: on clean letters,
   * where it changed nothing, it read 38% of lines twice. Default true.
   */
  rereadNonWords?: boolean;
}

export interface RecognizeDeps {
  models?: ModelStore;
}

interface ResolvedOptions {
  classify: boolean;
  classifyThreshold: number;
  classifySample: number;
  batchSize: number;
  restoreSpaces: boolean;
  minConfidence: number;
  minShortConfidence: number;
  verticalText: boolean;
  correctConfusions: boolean;
  lexicon: boolean;
  reread: number;
  rereadNonWords: boolean;
}

const KNOWN = [
  'classify',
  'classifyThreshold',
  'classifySample',
  'batchSize',
  'restoreSpaces',
  'minConfidence',
  'minShortConfidence',
  'verticalText',
  'correctConfusions',
  'lexicon',
  'reread',
  'rereadNonWords',
] as const;
const REC_HEIGHT = 48;
const CLS_WIDTH = 192;
const CLS_WINDOW = 2 * CLS_WIDTH;

export function resolveRecognizeOptions(options: RecognizeOptions = {}): ResolvedOptions {
  rejectUnknownKeys('recognizeText', options, KNOWN);
  return {
    classify: options.classify === undefined ? true : booleanOption('classify', options.classify),
    classifyThreshold:
      options.classifyThreshold === undefined
        ? 0.9
        : numberIn('classifyThreshold', options.classifyThreshold, 0.5, 1),
    classifySample:
      options.classifySample === undefined
        ? 8
        : integerIn('classifySample', options.classifySample, 0, 100_000),
    batchSize: options.batchSize === undefined ? 1 : integerIn('batchSize', options.batchSize, 1, 256),
    restoreSpaces:
      options.restoreSpaces === undefined ? true : booleanOption('restoreSpaces', options.restoreSpaces),
    minConfidence:
      options.minConfidence === undefined ? 0.5 : numberIn('minConfidence', options.minConfidence, 0, 1),
    minShortConfidence:
      options.minShortConfidence === undefined
        ? 0.8
        : numberIn('minShortConfidence', options.minShortConfidence, 0, 1),
    verticalText:
      options.verticalText === undefined ? true : booleanOption('verticalText', options.verticalText),
    correctConfusions:
      options.correctConfusions === undefined
        ? true
        : booleanOption('correctConfusions', options.correctConfusions),
    lexicon: options.lexicon === undefined ? true : booleanOption('lexicon', options.lexicon),
    reread: options.reread === undefined ? 0.9 : numberIn('reread', options.reread, 0, 1),
    rereadNonWords:
      options.rereadNonWords === undefined ? true : booleanOption('rereadNonWords', options.rereadNonWords),
  };
}

/** A line image at the recogniser's height (48 px): one gray band or three (RGB). */
export interface LineCrop extends RawImage {
  /** Native-scale width of the region, to map positions back to the page. */
  nativeWidth: number;
}

/** One character as the CTC decoder emitted it, with its position along the crop (0..1). */
export interface DecodedChar {
  char: string;
  prob: number;
  /** Start and end of the character's time steps, as fractions of the crop width. */
  x0: number;
  x1: number;
  /** True when this space was put back from an ink gap rather than emitted by the model. */
  restored?: boolean;
  /** Highest probability the recogniser gave a space between this character and the next. */
  spaceAfter?: number;
  /** The likeliest other characters where this one peaked (runner-up first), for the word list. */
  alts?: ReadonlyArray<{ char: string; prob: number }>;
}

export interface DecodedLine {
  text: string;
  confidence: number;
  chars: DecodedChar[];
}

/**
 * Decodes a page as sRGB, or as one gray band when it has no colour: the three bands of a gray
 * page are equal, and cropping and resizing one instead of three is a third of the work (fillSlot
 * and inkColumns read a gray band as r = g = b).
 */
async function decodePage(png: Buffer): Promise<RawImage> {
  try {
    const image = sharp(png);
    const { channels, hasAlpha } = await image.metadata();
    const gray = (channels ?? 3) - (hasAlpha ? 1 : 0) === 1;
    const { data, info } = await image
      .removeAlpha()
      .toColourspace(gray ? 'b-w' : 'srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), ...info };
  } catch (error) {
    throw new CorruptDocumentError('The page image cannot be decoded', { cause: error });
  }
}

/** Crops a region at native scale along its own axes and resizes it to the recogniser's height. */
export async function cropLine(image: RawImage, box: Quad): Promise<LineCrop> {
  const rect = quadToRect(box);
  const nativeWidth = Math.max(1, Math.round(rect.width));
  const nativeHeight = Math.max(1, Math.round(rect.height));
  const native = cropQuad(image, box, nativeWidth, nativeHeight);
  const width = Math.max(1, Math.round((nativeWidth * REC_HEIGHT) / nativeHeight));
  if (nativeHeight === REC_HEIGHT && width === nativeWidth) return { ...native, nativeWidth };
  const { data, info } = await sharp(native.data, {
    raw: { width: native.width, height: native.height, channels: native.channels as 1 | 2 | 3 | 4 },
  })
    .resize(width, REC_HEIGHT, { fit: 'fill', kernel: nativeHeight > REC_HEIGHT ? 'lanczos3' : 'cubic' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
    channels: info.channels,
    nativeWidth,
  };
}

function rotate180(crop: LineCrop): LineCrop {
  const { data, width, height, channels } = crop;
  const out = new Uint8Array(data.length);
  const pixels = width * height;
  for (let p = 0; p < pixels; p++) {
    const src = p * channels;
    const dst = (pixels - 1 - p) * channels;
    for (let c = 0; c < channels; c++) out[dst + c] = data[src + c]!;
  }
  return { ...crop, data: out };
}

/**
 * The crop with its mid-tones pushed towards black (gamma 3: paper stays white, a faded stroke at
 * 160 comes out at 63), for a second reading of faint lines. On the dev halves gamma 2 to 4 all
 * helped; a contrast stretch of the same lines did not.
 */
export function darken(crop: LineCrop): LineCrop {
  const data = new Uint8Array(crop.data.length);
  for (let i = 0; i < data.length; i++) data[i] = DARKEN[crop.data[i]!]!;
  return { ...crop, data };
}
const DARKEN = Uint8Array.from({ length: 256 }, (_, v) => Math.round(255 * (v / 255) ** 3));

/**
 * How much less confident a darkened reading may be and still replace a confident one that has
 * more words the word list does not know (dev halves: forms F1 +0.2 over 0, the same at 0.1).
 */
const REREAD_MARGIN = 0.05;
/** Share of a page's lines read below `reread` that marks it as faded or worn print. */
const FADED_SHARE = 0.05;

/**
 * Writes a crop into an NCHW batch slot as the models were trained: BGR, v/127.5 - 1, the crop at
 * the left, zero (mid grey after normalisation) padding to the right. `targetWidth` squeezes the
 * crop horizontally (the classifier's fixed 192 px input).
 */
function fillSlot(
  out: Float32Array,
  slot: number,
  batchWidth: number,
  crop: RawImage,
  targetWidth = crop.width,
): void {
  const plane = REC_HEIGHT * batchWidth;
  const base = slot * 3 * plane;
  const { data, width, channels } = crop;
  const step = width / targetWidth;
  for (let y = 0; y < REC_HEIGHT; y++) {
    const row = y * width;
    for (let x = 0; x < targetWidth; x++) {
      const sx = targetWidth === width ? x : Math.min(width - 1, Math.floor((x + 0.5) * step));
      const p = (row + sx) * channels;
      const r = data[p]!;
      const g = channels >= 3 ? data[p + 1]! : r;
      const b = channels >= 3 ? data[p + 2]! : r;
      const o = base + y * batchWidth + x;
      out[o] = b / 127.5 - 1;
      out[o + plane] = g / 127.5 - 1;
      out[o + 2 * plane] = r / 127.5 - 1;
    }
  }
}

/** Columns `from`..`from + width` of a crop. */
function columns(crop: RawImage, from: number, width: number): RawImage {
  const { data, height, channels } = crop;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const src = (y * crop.width + from) * channels;
    out.set(data.subarray(src, src + width * channels), y * width * channels);
  }
  return { data: out, width, height, channels };
}

/** 0/180 classification of prepared 48 px crops: probability that each one is upside down. */
async function upsideDownProbabilities(crops: readonly LineCrop[], models: ModelStore): Promise<number[]> {
  const session = await models.session('cls');
  const result: number[] = [];
  const chunk = 32;
  for (let start = 0; start < crops.length; start += chunk) {
    const part = crops.slice(start, start + chunk);
    const input = new Float32Array(part.length * 3 * REC_HEIGHT * CLS_WIDTH);
    part.forEach((crop, i) => {
      // A long line squeezed whole into 192 px is a smear the classifier calls either way; its
      // middle 384 columns squeezed 2x look like what it was trained on. While tuning, this took
      // the wrong calls on generated letters, receipts and forms from 10% to 5% of lines
      // (`npm run bench:models` prints the current rates).
      const window =
        crop.width > CLS_WINDOW ? columns(crop, Math.floor((crop.width - CLS_WINDOW) / 2), CLS_WINDOW) : crop;
      fillSlot(input, i, CLS_WIDTH, window, Math.min(CLS_WIDTH, window.width));
    });
    const out = await session.run({
      [session.inputNames[0]!]: new ort.Tensor('float32', input, [part.length, 3, REC_HEIGHT, CLS_WIDTH]),
    });
    const probs = out[session.outputNames[0]!]!.data as Float32Array;
    for (let i = 0; i < part.length; i++) result.push(probs[i * 2 + 1]!);
  }
  return result;
}

/**
 * Upside-down probabilities, classifying the `sample` widest crops first (wide lines are the
 * classifier's surest calls) and the rest only when two of those (or the one) look turned: a page is
 * upright or turned as a whole far more often than line by line, the classifier costs ~5 ms a line
 * and it calls one upright line in twenty (receipts) to twelve (forms) turned.
 */
async function sampledUpsideDown(
  crops: readonly LineCrop[],
  sample: number,
  models: ModelStore,
): Promise<number[]> {
  if (sample === 0 || crops.length <= sample) return upsideDownProbabilities(crops, models);
  const widest = crops
    .map((_, i) => i)
    .sort((a, b) => crops[b]!.width - crops[a]!.width)
    .slice(0, sample);
  const probs = await upsideDownProbabilities(
    widest.map((i) => crops[i]!),
    models,
  );
  if (probs.filter((p) => p >= 0.5).length >= Math.min(2, sample))
    return upsideDownProbabilities(crops, models);
  const result = crops.map(() => 0);
  widest.forEach((i, k) => {
    result[i] = probs[k]!;
  });
  return result;
}

/**
 * Reads prepared crops (any size; resized to height 48 here if needed) with the recogniser.
 * Batches crops of similar width; returns one decoded line per crop, in input order.
 */
export async function recognizeLines(
  crops: readonly RawImage[],
  options: { batchSize?: number; restoreSpaces?: boolean; lexicon?: boolean } = {},
  deps: RecognizeDeps = {},
): Promise<DecodedLine[]> {
  const batchSize = options.batchSize ?? 1;
  const restore = options.restoreSpaces ?? true;
  const lexicon = (options.lexicon ?? true) ? englishLexicon() : undefined;
  const models = deps.models ?? getModelStore();
  const prepared = await Promise.all(
    crops.map(async (c) => {
      if (c.height === REC_HEIGHT) return c;
      const width = Math.max(1, Math.round((c.width * REC_HEIGHT) / c.height));
      const { data, info } = await sharp(c.data, {
        raw: { width: c.width, height: c.height, channels: c.channels as 1 | 2 | 3 | 4 },
      })
        .resize(width, REC_HEIGHT, { fit: 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), ...info };
    }),
  );
  const [session, classes] = await Promise.all([models.session('rec'), models.dictionary()]);
  const results: DecodedLine[] = new Array(prepared.length);
  // Like PaddleOCR: sort by aspect ratio so a batch pads little.
  const order = prepared.map((_, i) => i).sort((a, b) => prepared[a]!.width - prepared[b]!.width);
  for (let start = 0; start < order.length; start += batchSize) {
    const ids = order.slice(start, start + batchSize);
    // Width a multiple of 8: the recogniser emits one time step per 8 input columns.
    const batchWidth = Math.max(16, Math.ceil(Math.max(...ids.map((i) => prepared[i]!.width)) / 8) * 8);
    const input = new Float32Array(ids.length * 3 * REC_HEIGHT * batchWidth);
    ids.forEach((id, slot) => {
      fillSlot(input, slot, batchWidth, prepared[id]!);
    });
    const out = await session.run({
      [session.inputNames[0]!]: new ort.Tensor('float32', input, [ids.length, 3, REC_HEIGHT, batchWidth]),
    });
    const tensor = out[session.outputNames[0]!]!;
    const [, steps, numClasses] = tensor.dims as [number, number, number];
    const probs = tensor.data as Float32Array;
    ids.forEach((id, slot) => {
      const crop = prepared[id]!;
      const frames: LineFrames = {
        probs,
        offset: slot * steps * numClasses,
        numClasses,
        // Time steps beyond the crop see only padding.
        steps: Math.min(steps, Math.ceil(crop.width / (batchWidth / steps))),
        stride: batchWidth / steps,
        cropWidth: crop.width,
        classes,
        groups: classGroups(classes),
      };
      const decoded = ctcDecode(frames);
      const spaced = restore ? restoreSpaces(decoded, inkColumns(crop)) : decoded;
      const revised = lexicon
        ? applyLexicon(spaced.chars, lexicon, DEFAULT_LEXICON_RULE, linePosteriors(frames))
        : spaced.chars;
      results[id] = revised === spaced.chars ? spaced : summarise([...revised]);
    });
  }
  return results;
}

/**
 * Classes that are one character to a reader: the Chinese dictionary holds full-width and circled
 * twins of the Latin letters and digits ('：', '４', '②') and both cases of each letter, and the
 * model spreads its belief over them where the glyph alone cannot tell ('x' 0.47, '×' 0.38 on a
 * receipt's "1 x"). Decoding scores each group as a whole, so such a character is neither dropped
 * for the blank nor taken for unsure. Each group is a list of class ids, the same array for all
 * its members.
 */
const groupCache = new WeakMap<readonly string[], Int32Array[]>();
export function classGroups(classes: readonly string[]): Int32Array[] {
  let groups = groupCache.get(classes);
  if (!groups) {
    const byKey = new Map<string, number[]>();
    classes.forEach((c, k) => {
      if (k === 0) return;
      const key = LOOKALIKE[c] ?? c.normalize('NFKC').toLowerCase();
      const members = byKey.get(key);
      if (members) members.push(k);
      else byKey.set(key, [k]);
    });
    const built: Int32Array[] = [new Int32Array([0])];
    for (const members of byKey.values()) {
      const group = Int32Array.from(members);
      for (const k of members) built[k] = group;
    }
    groups = built;
    groupCache.set(classes, groups);
  }
  return groups;
}
/** One line's slice of a batch's recogniser output: what CTC decoding and the word list read. */
interface LineFrames {
  probs: Float32Array;
  /** Where the line's first step starts in `probs`. */
  offset: number;
  numClasses: number;
  /** Steps that see the crop (the rest of the batch width is padding). */
  steps: number;
  /** Input columns per step. */
  stride: number;
  cropWidth: number;
  classes: readonly string[];
  groups: Int32Array[];
}

/** Probability of a look-alike group at the step whose classes start at `base`. */
function groupProb(probs: Float32Array, base: number, group: Int32Array): number {
  let sum = 0;
  for (let j = 0; j < group.length; j++) sum += probs[base + group[j]!]!;
  return sum;
}

const indexCache = new WeakMap<readonly string[], Map<string, number>>();
/**
 * The line's frames read through the look-alike groups, so the word list can score whole spellings
 * against them (a letter dropped or added, not only swapped).
 */
function linePosteriors(frames: LineFrames): LinePosteriors {
  const { probs, offset, numClasses, steps, stride, cropWidth, classes, groups } = frames;
  let index = indexCache.get(classes);
  if (!index) {
    index = new Map();
    for (let k = classes.length - 1; k > 0; k--) index.set(classes[k]!, k);
    indexCache.set(classes, index);
  }
  const lookup = index;
  const spaceGroup = groups[numClasses - 1]!;
  return {
    steps,
    stepOf: (x) => Math.max(0, Math.min(steps, Math.round((x * cropWidth) / stride))),
    prob: (t, char) => {
      const k = lookup.get(char);
      return k === undefined ? 0 : groupProb(probs, offset + t * numClasses, groups[k]!);
    },
    blank: (t) => {
      const base = offset + t * numClasses;
      return probs[base]! + groupProb(probs, base, spaceGroup);
    },
  };
}

/** Runners-up kept per character for the word list. */
const ALTERNATIVES = 3;

/** Glyphs NFKC keeps apart that print the same on receipts and forms. */
const LOOKALIKE: Readonly<Record<string, string>> = { '×': 'x' };

/** A step whose blank probability is above this is blank whatever the other classes hold. */
const BLANK_SURE = 0.5001;

/** Greedy CTC decoding of one line, with each character's time-step span. */
function ctcDecode(frames: LineFrames): DecodedLine {
  const { probs, offset, numClasses, steps, stride, cropWidth, classes, groups } = frames;
  const chars: DecodedChar[] = [];
  let previous: Int32Array | undefined;
  let current: DecodedChar | undefined;
  const spaceGroup = groups[numClasses - 1]!;
  let spaceSince = 0;
  // The likeliest classes of a step: the best of each other group are the runners-up.
  const TOP = 6;
  const topClass = new Int32Array(TOP);
  const topProb = new Float64Array(TOP);
  for (let t = 0; t < steps; t++) {
    const base = offset + t * numClasses;
    const spaceProb = groupProb(probs, base, spaceGroup);
    // Most steps are blank. When the blank holds over half the mass no group can outweigh it, so
    // the step ends the current character without the scan of all 6,625 classes; the margin
    // covers softmax rounding.
    if (probs[base]! > BLANK_SURE) {
      current = undefined;
      if (spaceProb > spaceSince) spaceSince = spaceProb;
      previous = undefined;
      continue;
    }
    topProb.fill(-1);
    for (let k = 1; k < numClasses; k++) {
      const p = probs[base + k]!;
      if (p <= topProb[TOP - 1]!) continue;
      let i = TOP - 1;
      while (i > 0 && topProb[i - 1]! < p) {
        topProb[i] = topProb[i - 1]!;
        topClass[i] = topClass[i - 1]!;
        i--;
      }
      topProb[i] = p;
      topClass[i] = k;
    }
    const first = topClass[0]!;
    const firstGroup = groups[first]!;
    const firstProb = groupProb(probs, base, firstGroup);
    const alts: Array<{ char: string; prob: number }> = [];
    const seen: Int32Array[] = [firstGroup];
    for (let i = 1; i < TOP && alts.length < ALTERNATIVES; i++) {
      const group = groups[topClass[i]!]!;
      if (topProb[i]! < 0 || seen.includes(group)) continue;
      seen.push(group);
      alts.push({ char: classes[topClass[i]!] ?? '', prob: groupProb(probs, base, group) });
    }
    const bestGroup = firstProb > probs[base]! ? firstGroup : undefined;
    const bestProb = firstProb;
    if (bestGroup && bestGroup === previous && current) {
      current.x1 = Math.min(1, ((t + 1) * stride) / cropWidth);
      if (bestProb > current.prob) {
        current.prob = bestProb;
        current.alts = alts;
      }
    } else if (bestGroup) {
      const last = chars[chars.length - 1];
      if (last) last.spaceAfter = spaceSince;
      spaceSince = 0;
      current = {
        char: classes[first] ?? '',
        prob: bestProb,
        alts,
        x0: (t * stride) / cropWidth,
        x1: Math.min(1, ((t + 1) * stride) / cropWidth),
      };
      chars.push(current);
    } else {
      current = undefined;
      if (spaceProb > spaceSince) spaceSince = spaceProb;
    }
    previous = bestGroup;
  }
  return summarise(chars);
}

function summarise(chars: DecodedChar[]): DecodedLine {
  const real = chars.filter((c) => !c.restored && c.char !== ' ');
  const confidence = real.length === 0 ? 0 : real.reduce((s, c) => s + c.prob, 0) / real.length;
  return { text: chars.map((c) => c.char).join(''), confidence, chars };
}

/**
 * Column ink profile of a 48 px crop: 1 where a column holds ink of this line. Rows are limited to
 * the line's own band (the rows around the middle up to the first blank row each way), because the
 * unclipped box takes in bits of the lines above and below, which would fill the gaps between words.
 */
/** The line's own band is looked for within these fractions of the crop height. */
const BAND: readonly [number, number] = [0.15, 0.85];
export function inkColumns(crop: RawImage): Uint8Array {
  const { data, width, height, channels } = crop;
  const gray = new Uint8Array(width * height);
  const histogram = new Uint32Array(256);
  for (let i = 0; i < width * height; i++) {
    const p = i * channels;
    const v = channels >= 3 ? (data[p]! * 77 + data[p + 1]! * 150 + data[p + 2]! * 29) >> 8 : data[p]!;
    gray[i] = v;
    histogram[v]!++;
  }
  const percentile = (q: number): number => {
    const target = q * width * height;
    let acc = 0;
    for (let v = 0; v < 256; v++) {
      acc += histogram[v]!;
      if (acc >= target) return v;
    }
    return 255;
  };
  const dark = percentile(0.05);
  const paper = percentile(0.6);
  const ink = new Uint8Array(width);
  if (paper - dark < 40) return ink.fill(1);
  const threshold = (dark + paper) / 2;
  const rows = new Uint32Array(height);
  for (let y = 0; y < height; y++) {
    let n = 0;
    for (let x = 0, i = y * width; x < width; x++, i++) if (gray[i]! < threshold) n++;
    rows[y] = n;
  }
  const blank = Math.max(1, 0.01 * width);
  let centre = height >> 1;
  if (rows[centre]! <= blank) {
    // The middle row falls between two parts of the glyphs (rare): start from the densest row near it.
    for (let y = Math.floor(height * 0.25); y < Math.ceil(height * 0.75); y++)
      if (rows[y]! > rows[centre]!) centre = y;
  }
  const limitTop = Math.floor(height * BAND[0]);
  const limitBottom = Math.ceil(height * BAND[1]) - 1;
  let top = centre;
  while (top > limitTop && rows[top - 1]! > blank) top--;
  let bottom = centre;
  while (bottom < limitBottom && rows[bottom + 1]! > blank) bottom++;
  for (let x = 0; x < width; x++) {
    for (let y = top; y <= bottom; y++) {
      if (gray[y * width + x]! < threshold) {
        ink[x] = 1;
        break;
      }
    }
  }
  return ink;
}

export interface SpaceRule {
  /** Smallest gap (columns at height 48) that can be a space. */
  minColumns: number;
  /** Gap as a fraction of the line's median character pitch. */
  pitchFactor: number;
  /** Gap as a multiple of the line's typical gap between letters. */
  letterFactor: number;
  /** Distance between the two characters' centres, as a multiple of the median pitch. */
  centreFactor: number;
  /** Extra factor on the gap next to punctuation, whose glyphs leave blank space inside their cell. */
  punctuationFactor: number;
  /** A gap this many times the minimum is a space even when the centres are close. */
  strongFactor: number;
  /** Extra factor before closing marks (':', ')') and after opening ones ('('), which rarely take a space. */
  closingFactor: number;
  /** Extra factor next to narrow letters ('i', 'l', 't', 'r'...), whose cells are partly blank. */
  narrowLetterFactor: number;
  /**
   * Extra factor before a full stop or comma that ends a word (`R. E. Lane`): on typewritten forms
   * the mark sits mid-cell, a wide gap from its letter, yet a space before it is never English
   * (dev halves: forms +0.08, receipts +0.04; the same from 2.5 to 4).
   */
  terminalFactor: number;
  /**
   * A space goes in wherever the recogniser gave the space class at least this probability between
   * two characters, whatever the ink gap (dev halves: SROIE F1 +1.3, FUNSD +3.9 points at 0.1).
   */
  spaceProbability: number;
  /** Lines with fewer character pairs than this are measured by `typicalPitch`, not by themselves. */
  minMeasured: number;
  /** Character pitch (columns at height 48) of a typical line: the dev halves' median is 24. */
  typicalPitch: number;
}

export const DEFAULT_SPACE_RULE: SpaceRule = {
  minColumns: 3,
  pitchFactor: 0.35,
  letterFactor: 2.5,
  centreFactor: 1.3,
  punctuationFactor: 1.5,
  strongFactor: 1.5,
  closingFactor: 1.5,
  narrowLetterFactor: 1.3,
  terminalFactor: 3,
  spaceProbability: 0.1,
  minMeasured: 2,
  typicalPitch: 24,
};

const NARROW_PUNCTUATION = new Set([...'.,;!?', "'"]);
// Closing marks follow their word without a space, opening marks precede theirs.
const CLOSING = new Set([...':;)]}%']);
const OPENING = new Set([...'([{']);
// A full stop or comma that ends a word belongs to it, however far a typewriter's cell sets it off.
const WORD_END = new Set([...'.,']);
// Letters whose glyph leaves the right (or left) part of its cell blank.
const BLANK_RIGHT = new Set([...'filjrtFILPTJ1']);
const BLANK_LEFT = new Set([...'ijltIJT1']);
const LETTER = /[\p{L}\p{Nd}]/u;
const DIGIT = /\p{Nd}/u;

/**
 * Puts back the spaces the recogniser drops between words (17-25% of them on receipts and forms).
 * Between two consecutive characters, the widest run of ink-free columns is the gap. A gap is a
 * space when it is wide against the line's own measures: its median character pitch (a word space
 * is about a third of an em, a character about half an em) and its typical letter gap (0-2 columns
 * on blurred scans, more on crisp print).
 */
export function restoreSpaces(
  line: DecodedLine,
  ink: Uint8Array,
  rule: SpaceRule = DEFAULT_SPACE_RULE,
): DecodedLine {
  if (line.chars.length < 2) return line;
  const w = ink.length;
  const centre = (c: DecodedChar): number => ((c.x0 + c.x1) / 2) * w;
  const gaps: number[] = [];
  const pitches: number[] = [];
  for (let i = 0; i + 1 < line.chars.length; i++) {
    const a = line.chars[i]!;
    const b = line.chars[i + 1]!;
    if (a.char === ' ' || b.char === ' ') {
      gaps.push(-1);
      continue;
    }
    const from = Math.floor(centre(a));
    const to = Math.ceil(centre(b));
    pitches.push(to - from);
    let run = 0;
    let longest = 0;
    for (let x = from; x < to && x < w; x++) {
      if (ink[x] === 0) {
        run++;
        if (run > longest) longest = run;
      } else {
        run = 0;
      }
    }
    gaps.push(longest);
  }
  if (pitches.length === 0) return line;
  const letterGaps = gaps.filter((g) => g >= 0).sort((p, q) => p - q);
  // A line of two characters cannot be measured by itself: its one gap would be its own "typical
  // letter gap" and set its own threshold, so '1 X' on a receipt never took a space. It is measured
  // against a typical line at the crop's height instead.
  const measured = pitches.length >= rule.minMeasured;
  const typical = measured ? (letterGaps[Math.floor(letterGaps.length * 0.4)] ?? 0) : 0;
  const pitch = measured ? pitches.sort((p, q) => p - q)[pitches.length >> 1]! : rule.typicalPitch;
  const minimum = Math.max(rule.minColumns, rule.pitchFactor * pitch, rule.letterFactor * typical);
  const out: DecodedChar[] = [];
  line.chars.forEach((c, i) => {
    out.push(c);
    const gap = gaps[i];
    if (gap === undefined) return;
    const next = line.chars[i + 1]!;
    // 12.50 and 1,000 never take a space.
    const decimal =
      (c.char === '.' || c.char === ',') &&
      DIGIT.test(next.char) &&
      DIGIT.test(line.chars[i - 1]?.char ?? '');
    // The model's own space probability between the two characters: where it hesitated (often
    // 0.1-0.5 on spaced-out receipt print), the space is there even when the ink gap is narrow.
    if ((c.spaceAfter ?? 0) >= rule.spaceProbability && next.char !== ' ' && c.char !== ' ' && !decimal) {
      out.push({ char: ' ', prob: Math.min(c.prob, next.prob), x0: c.x1, x1: next.x0, restored: true });
      return;
    }
    if (gap < minimum || decimal) return;
    // Punctuation and narrow digits ('1' in a tabular-figure cell) leave blank space inside their own
    // cell, so their gaps look wider than they are.
    const narrow =
      NARROW_PUNCTUATION.has(c.char) ||
      NARROW_PUNCTUATION.has(next.char) ||
      (DIGIT.test(c.char) && DIGIT.test(next.char));
    if (narrow && gap < minimum * rule.punctuationFactor) return;
    const after = line.chars[i + 2]?.char;
    const terminal = WORD_END.has(next.char) && (after === undefined || after === ' ');
    if (terminal && gap < minimum * rule.terminalFactor) return;
    const closing = (CLOSING.has(next.char) && !CLOSING.has(c.char)) || OPENING.has(c.char);
    if (closing && gap < minimum * rule.closingFactor) return;
    const narrowLetter =
      LETTER.test(c.char) && LETTER.test(next.char) && (BLANK_RIGHT.has(c.char) || BLANK_LEFT.has(next.char));
    if (narrowLetter && gap < minimum * rule.narrowLetterFactor) return;
    // Wide letters (bold capitals) sit far apart anyway: a clearly wide gap is a space on its own.
    if (centre(next) - centre(c) < rule.centreFactor * pitch && gap < minimum * rule.strongFactor) return;
    out.push({ char: ' ', prob: Math.min(c.prob, next.prob), x0: c.x1, x1: next.x0, restored: true });
  });
  return out.length === line.chars.length ? line : summarise(out);
}

/** NFKC, plus the few glyphs the Chinese dictionary reads from form furniture (checkboxes). */
export function normaliseText(text: string): string {
  return (
    text
      .normalize('NFKC')
      .replace(/[口□■☐☑☒]/gu, '☐')
      // Form underlines (fill-in lines) and dotted or dashed leaders are rules, not text: they read
      // as runs of '_', '.', '-', and glue the words on either side together.
      .replace(/_+|\.{4,}|-{4,}|·{2,}/gu, ' ')
      .replace(/\s+/gu, ' ')
      .trim()
  );
}

/**
 * Splits a decoded line into words with boxes along the line's quad. `fix` rewrites a word's text
 * (confusion repair); its box and confidence stay those of the characters read.
 */
function toWords(line: DecodedLine, box: Quad, fix: (text: string) => string): RecognizedWord[] {
  const words: RecognizedWord[] = [];
  let current: DecodedChar[] = [];
  const flush = (): void => {
    if (current.length === 0) return;
    const text = fix(normaliseText(current.map((c) => c.char).join('')));
    if (text.length > 0) {
      const s0 = Math.max(0, current[0]!.x0 - 0.5 * (current[0]!.x1 - current[0]!.x0));
      const s1 = Math.min(1, current.at(-1)!.x1 + 0.5 * (current.at(-1)!.x1 - current.at(-1)!.x0));
      words.push({
        text,
        confidence: current.reduce((s, c) => s + c.prob, 0) / current.length,
        box: subQuad(box, s0, s1),
      });
    }
    current = [];
  };
  for (const c of line.chars) {
    if (c.char === ' ' || c.char === '_') flush();
    else current.push(c);
  }
  flush();
  return words;
}

function turnQuad(box: Quad): Quad {
  return [box[2], box[3], box[0], box[1]];
}

/** Orientation of each region's crop as the 0/180 line classifier sees it. */
export async function classifyLines(
  png: Buffer,
  regions: readonly TextRegion[],
  deps: RecognizeDeps = {},
): Promise<Array<{ angle: 0 | 180; confidence: number }>> {
  const models = deps.models ?? getModelStore();
  const image = await decodePage(png);
  const crops = await Promise.all(regions.map((r) => cropLine(image, r.box)));
  const upside = await upsideDownProbabilities(crops, models);
  return upside.map((p) => (p > 0.5 ? { angle: 180, confidence: p } : { angle: 0, confidence: 1 - p }));
}

/** Reads the text of every detected region of a page. */
export async function recognizeText(
  png: Buffer,
  detection: DetectResult,
  options: RecognizeOptions = {},
  deps: RecognizeDeps = {},
): Promise<RecognizeResult> {
  const opts = resolveRecognizeOptions(options);
  if (typeof detection !== 'object' || detection === null || !Array.isArray(detection.regions)) {
    throw invalidParameter('detection', 'a DetectResult with regions', detection);
  }
  const log = logger.child({ stage: 'recognize' });
  const started = performance.now();
  const models = deps.models ?? getModelStore();
  const image = await decodePage(png);
  const regions = detection.regions;
  // Candidate vertical strings are read as well as their pieces; see below.
  const runs = opts.verticalText ? findVerticalRuns(regions) : [];
  const boxes = [...regions.map((r) => r.box), ...runs.map((r) => r.box)];
  const crops = await Promise.all(boxes.map((box) => cropLine(image, box)));

  // Lines the classifier calls upside down are read both ways and the more confident reading
  // wins: the classifier alone flips some short upright lines ("SR", "0.51").
  const flipped = opts.classify
    ? await sampledUpsideDown(crops, opts.classifySample, models)
    : crops.map(() => 0);
  const candidates: LineCrop[] = [...crops];
  const turned = new Map<number, number>();
  flipped.forEach((p, i) => {
    if (p >= opts.classifyThreshold) {
      turned.set(i, candidates.length);
      candidates.push(rotate180(crops[i]!));
    }
  });
  const decoded = await recognizeLines(
    candidates,
    { batchSize: opts.batchSize, restoreSpaces: opts.restoreSpaces, lexicon: opts.lexicon },
    { models },
  );

  // Faint thermal print and worn typewriter strokes read better darkened. A line the model is
  // unsure of is read again from its crop with the mid-tones pushed down, and the more confident
  // reading is kept. So is a confident line with a word the word list does not know; there the
  // second reading must know more of its words and be about as confident (worn typewriter type
  // reads 'Inplement' at 0.94).
  if (opts.reread > 0) {
    const lexicon = opts.lexicon ? englishLexicon() : undefined;
    const unknown = (line: DecodedLine): number => (lexicon ? countNonWords(line.text, lexicon) : 0);
    const lineIds = boxes.map((_, i) => i).filter((i) => !turned.has(i));
    // Unknown words on a page the model reads confidently throughout are names, codes and numbers,
    // not faded strokes: there a darkened second reading costs time and changes nothing.
    const faded =
      lineIds.filter((i) => decoded[i]!.confidence < opts.reread).length >= FADED_SHARE * lineIds.length;
    const unsure = lineIds.filter(
      (i) =>
        decoded[i]!.confidence < opts.reread || (opts.rereadNonWords && faded && unknown(decoded[i]!) > 0),
    );
    const again = await recognizeLines(
      unsure.map((i) => darken(crops[i]!)),
      { batchSize: opts.batchSize, restoreSpaces: opts.restoreSpaces, lexicon: opts.lexicon },
      { models },
    );
    unsure.forEach((i, k) => {
      const first = decoded[i]!;
      const second = again[k]!;
      const better =
        first.confidence < opts.reread
          ? second.confidence > first.confidence
          : unknown(second) < unknown(first) && second.confidence > first.confidence - REREAD_MARGIN;
      if (better) decoded[i] = second;
    });
  }
  const readings = boxes.map((box, i) => {
    const upright = decoded[i]!;
    const alt = turned.get(i);
    const other = alt === undefined ? undefined : decoded[alt]!;
    if (other && other.confidence > upright.confidence)
      return { reading: other, box: turnQuad(box), rotated: true };
    return { reading: upright, box, rotated: false };
  });
  const fix = opts.correctConfusions ? correctConfusions : (text: string): string => text;
  const toLine = (k: number): RecognizedLine | undefined => {
    const { reading, box, rotated } = readings[k]!;
    const text = fix(normaliseText(reading.text));
    if (text.length === 0 || reading.confidence < opts.minConfidence) return undefined;
    // One or two characters read with middling confidence are mostly specks, stamps, ticks and
    // handwriting strokes (on the FUNSD dev half, 4 of 5 such lines matched no word).
    if ([...text.replace(/\s/gu, '')].length <= 2 && reading.confidence < opts.minShortConfidence)
      return undefined;
    const line: RecognizedLine = {
      text,
      confidence: reading.confidence,
      box,
      words: toWords(reading, box, fix),
    };
    if (rotated) line.rotated180 = true;
    return line;
  };

  // A vertical run replaces its pieces when it reads confidently and better than they do: a real
  // vertical serial number reads at ~1.0 while its sideways pieces read as stray digits, and a
  // column of table cells read vertically is garbage.
  const replacedBy = new Map<number, number>();
  runs.forEach((run, j) => {
    const merged = readings[regions.length + j]!.reading;
    const pieces = run.members.map((i) => readings[i]!.reading.confidence);
    const piecesConfidence = pieces.reduce((sum, c) => sum + c, 0) / pieces.length;
    if (merged.confidence >= 0.8 && merged.confidence > piecesConfidence && merged.text.trim().length > 0) {
      for (const i of run.members) replacedBy.set(i, regions.length + j);
    }
  });
  const lines: RecognizedLine[] = [];
  const emitted = new Set<number>();
  regions.forEach((_, i) => {
    const k = replacedBy.get(i) ?? i;
    if (emitted.has(k)) return;
    emitted.add(k);
    const line = toLine(k);
    if (line) lines.push(line);
  });
  const kept = dropStrayCjk(lines);
  log.debug(
    {
      regions: regions.length,
      lines: kept.length,
      turned: turned.size,
      vertical: new Set(replacedBy.values()).size,
      ms: Math.round(performance.now() - started),
    },
    'recognized text',
  );
  return { width: detection.width, height: detection.height, lines: kept };
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/**
 * On a page written in Latin script, a line of one or two Han characters is the recogniser's
 * reading of a logo, a tick or a vertical serial number (its dictionary is mostly Chinese), not text.
 */
function dropStrayCjk(lines: RecognizedLine[]): RecognizedLine[] {
  let cjk = 0;
  let total = 0;
  for (const line of lines) {
    for (const ch of line.text) {
      if (ch === ' ') continue;
      total++;
      if (CJK.test(ch)) cjk++;
    }
  }
  if (total === 0 || cjk / total > 0.1) return lines;
  return lines.filter((l) => {
    const chars = [...l.text.replace(/\s/gu, '')];
    return !(chars.length <= 2 && chars.every((ch) => CJK.test(ch)));
  });
}
