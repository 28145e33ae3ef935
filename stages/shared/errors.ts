/**
 * One error hierarchy for every stage.
 *
 * `name` is the contract with Step Functions: Lambda reports it as `errorType`, and Retry/Catch
 * `ErrorEquals` match it (aws-local-stepfunctions matches `error.name` only). Never rename one.
 * `code` is the stable code published in `document.failed` events; it equals `name`.
 */
export interface DocpipeErrorOptions {
  cause?: unknown;
  /** Small, JSON-safe facts that help an operator (limits, sizes, page numbers). */
  details?: Record<string, unknown>;
}

/** A DocpipeError as plain data: what result events carry and what crosses a thread boundary. */
export interface ErrorJSON {
  name: string;
  code: string;
  message: string;
  retryable: boolean;
  details: Record<string, unknown>;
}

export abstract class DocpipeError extends Error {
  /** True when the same call may succeed later (throttling, a worker that died, a network blip). */
  abstract readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(message: string, options: DocpipeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details ?? {};
  }

  get code(): string {
    return this.name;
  }

  toJSON(): ErrorJSON {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      details: this.details,
    };
  }
}

/** The file is none of PDF, TIFF, PNG, JPEG, WebP. */
export class UnsupportedFormatError extends DocpipeError {
  override readonly name = 'UnsupportedFormat';
  readonly retryable = false;
}

/** The file claims a supported format but cannot be decoded (truncated, damaged). */
export class CorruptDocumentError extends DocpipeError {
  override readonly name = 'CorruptDocument';
  readonly retryable = false;
}

/** A password-protected PDF: we never guess passwords. */
export class EncryptedDocumentError extends DocpipeError {
  override readonly name = 'EncryptedDocument';
  readonly retryable = false;
}

/** Zero bytes, or a document with no pages. */
export class EmptyDocumentError extends DocpipeError {
  override readonly name = 'EmptyDocument';
  readonly retryable = false;
}

export class TooManyPagesError extends DocpipeError {
  override readonly name = 'TooManyPages';
  readonly retryable = false;
}

/** A page larger than the pixel limit: protects against decompression bombs. */
export class TooManyPixelsError extends DocpipeError {
  override readonly name = 'TooManyPixels';
  readonly retryable = false;
}

/** The input file is larger than the byte limit. */
export class DocumentTooLargeError extends DocpipeError {
  override readonly name = 'DocumentTooLarge';
  readonly retryable = false;
}

/** No page of the document holds any recognisable text. */
export class NoTextFoundError extends DocpipeError {
  override readonly name = 'NoTextFound';
  readonly retryable = false;
}

/** An option or request field is invalid: a caller's mistake, never retried. */
export class InvalidOptionError extends DocpipeError {
  override readonly name = 'InvalidOption';
  readonly retryable = false;
}

/** A model is missing from the store or its checksum does not match the manifest. */
export class ModelUnavailableError extends DocpipeError {
  override readonly name = 'ModelUnavailable';
  readonly retryable = true;
}

/** A queue message or state payload that is not what the pipeline expects (e.g. not an S3 event). */
export class InvalidEventError extends DocpipeError {
  override readonly name = 'InvalidEvent';
  readonly retryable = false;
}

/** An artifact a stage needs is missing (e.g. an earlier stage's output was deleted). */
export class ArtifactMissingError extends DocpipeError {
  override readonly name = 'ArtifactMissing';
  readonly retryable = false;
}

/** Storage or queue calls that failed in a way that may pass (throttling, 5xx, connection reset). */
export class TransientStorageError extends DocpipeError {
  override readonly name = 'TransientStorage';
  readonly retryable = true;
}

/** A local worker crashed or was killed while running a stage: the stage may be retried. */
export class WorkerCrashedError extends DocpipeError {
  override readonly name = 'WorkerCrashed';
  readonly retryable = true;
}

/** A stage took longer than its configured timeout. */
export class StageTimeoutError extends DocpipeError {
  override readonly name = 'StageTimeout';
  readonly retryable = true;
}

/** Any failure we did not anticipate: a bug. Not retried, so it is seen. */
export class InternalError extends DocpipeError {
  override readonly name = 'InternalError';
  readonly retryable = false;
}

export function isDocpipeError(error: unknown): error is DocpipeError {
  return error instanceof DocpipeError;
}

/** Wraps anything thrown into a DocpipeError, keeping typed errors as they are. */
export function toDocpipeError(error: unknown): DocpipeError {
  if (error instanceof DocpipeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(message, { cause: error });
}

type ErrorClass = new (message: string, options?: DocpipeErrorOptions) => DocpipeError;

const ERROR_CLASSES: Readonly<Record<string, ErrorClass>> = Object.fromEntries(
  [
    UnsupportedFormatError,
    CorruptDocumentError,
    EncryptedDocumentError,
    EmptyDocumentError,
    TooManyPagesError,
    TooManyPixelsError,
    DocumentTooLargeError,
    NoTextFoundError,
    InvalidOptionError,
    ModelUnavailableError,
    InvalidEventError,
    ArtifactMissingError,
    TransientStorageError,
    WorkerCrashedError,
    StageTimeoutError,
    InternalError,
  ].map((cls) => [new cls('').name, cls]),
);

/**
 * The typed error again from its `toJSON()` form, as it crosses a thread or process boundary
 * (structured clone keeps only a plain Error); an unknown name becomes an InternalError.
 */
export function fromErrorJSON(json: Pick<ErrorJSON, 'name' | 'message'> & Partial<ErrorJSON>): DocpipeError {
  const cls = ERROR_CLASSES[json.name] ?? InternalError;
  return new cls(json.message, { details: json.details ?? {} });
}
