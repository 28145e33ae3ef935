import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ArtifactMissingError, TransientStorageError } from './errors.ts';

/** A reference to an S3 object: the only thing state payloads carry (Step Functions caps them at 256 KB). */
export interface S3Ref {
  bucket: string;
  key: string;
}

/**
 * How to read one document, set by whoever uploads it as S3 object metadata
 * (`x-amz-meta-docpipe-pages: 1-3`, `x-amz-meta-docpipe-dpi: 200`). Kept as the strings the
 * uploader wrote: the split stage validates them, so a bad value ends in a failure event with its
 * error code instead of a notification that can never be processed.
 */
export interface DocumentOptions {
  /** Pages to read, as `docpipe ocr --pages` takes them: `1-3,7,10-`. */
  pages?: string;
  /** Resolution PDF pages are rendered at. */
  dpi?: string;
}

/** The metadata key (without S3's `x-amz-meta-` prefix) of each document option. */
export const OPTION_METADATA = { pages: 'docpipe-pages', dpi: 'docpipe-dpi' } as const satisfies Record<
  keyof DocumentOptions,
  string
>;

/** The document options in an object's user metadata (keys in any case); undefined when none is set. */
export function documentOptionsFrom(
  metadata: Record<string, string> | undefined,
): DocumentOptions | undefined {
  const options: DocumentOptions = {};
  // S3 hands metadata keys back in lower case; an emulator may keep the case the uploader wrote.
  const byKey = new Map(Object.entries(metadata ?? {}).map(([key, value]) => [key.toLowerCase(), value]));
  for (const [option, key] of Object.entries(OPTION_METADATA) as Array<[keyof DocumentOptions, string]>) {
    const value = byKey.get(key)?.trim();
    if (value) options[option] = value;
  }
  return Object.keys(options).length === 0 ? undefined : options;
}

/** The uploaded document, as the trigger saw it in the S3 event. */
export interface SourceRef extends S3Ref {
  versionId?: string;
  etag?: string;
  size?: number;
  /** How the uploader asked for it to be read (its object metadata); absent: every page, the default DPI. */
  options?: DocumentOptions;
}

export type PageArtifact =
  | 'page.png'
  | 'deskew.png'
  | 'deskew.json'
  | 'denoise.png'
  | 'detect.json'
  | 'recognize.json';

/**
 * Stable id of one object version: the same upload always maps to the same documentId, so artifact
 * keys, execution names and result keys are deterministic and a redelivered notification finds
 * the work it already did. Hex only, so keys never carry a user's `../` or unicode.
 */
export function documentIdFor(source: SourceRef): string {
  const version = source.versionId ?? source.etag ?? '';
  // The same bytes uploaded again with other options are another document (other pages, other
  // artifacts); without options the id is what it always was.
  const options = Object.entries(source.options ?? {})
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `\n${name}=${value}`)
    .join('');
  return createHash('sha256')
    .update(`${source.bucket}\n${source.key}\n${version}${options}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * The user metadata of an uploaded object, for its document options; undefined when the object is
 * gone (the split stage then reports it missing). Other failures throw, for the message to be retried.
 */
export async function objectMetadata(s3: S3Client, ref: S3Ref): Promise<Record<string, string> | undefined> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return out.Metadata ?? {};
  } catch (error) {
    const mapped = mapS3Error(error, 'HeadObject', ref);
    if (mapped instanceof ArtifactMissingError) return undefined;
    throw mapped;
  }
}

export function pageKey(documentId: string, page: number, artifact: PageArtifact): string {
  return `${documentId}/pages/${page}/${artifact}`;
}

export function documentKey(documentId: string, name: 'document.json'): string {
  return `${documentId}/${name}`;
}

export function resultKey(documentId: string, ext: 'json' | 'txt' | 'hocr' | 'alto.xml' | 'pdf'): string {
  return `${documentId}/result.${ext}`;
}

interface S3ErrorShape {
  name?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** S3 failures become our typed errors so Step Functions Retry/Catch can tell them apart. */
function mapS3Error(error: unknown, action: string, ref: S3Ref): Error {
  const e = error as S3ErrorShape;
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'NoSuchKey' || e.name === 'NotFound' || status === 404) {
    return new ArtifactMissingError(`s3://${ref.bucket}/${ref.key} does not exist`, {
      cause: error,
      details: { ...ref },
    });
  }
  if (status === undefined || status >= 500 || status === 429 || e.$retryable !== undefined) {
    return new TransientStorageError(
      `${action} s3://${ref.bucket}/${ref.key} failed: ${String((error as Error).message)}`,
      {
        cause: error,
        details: { ...ref, status },
      },
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

export async function getBytes(s3: S3Client, ref: S3Ref): Promise<Buffer> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch (error) {
    throw mapS3Error(error, 'GetObject', ref);
  }
}

export async function getJson<T>(s3: S3Client, ref: S3Ref): Promise<T> {
  return JSON.parse((await getBytes(s3, ref)).toString('utf8')) as T;
}

export async function putBytes(
  s3: S3Client,
  ref: S3Ref,
  body: Buffer | string,
  contentType: string,
): Promise<S3Ref> {
  try {
    await s3.send(
      new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: body, ContentType: contentType }),
    );
    return { bucket: ref.bucket, key: ref.key };
  } catch (error) {
    throw mapS3Error(error, 'PutObject', ref);
  }
}

export function putJson(s3: S3Client, ref: S3Ref, value: unknown): Promise<S3Ref> {
  return putBytes(s3, ref, `${JSON.stringify(value)}\n`, 'application/json');
}

export async function exists(s3: S3Client, ref: S3Ref): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return true;
  } catch (error) {
    const mapped = mapS3Error(error, 'HeadObject', ref);
    if (mapped instanceof ArtifactMissingError) return false;
    throw mapped;
  }
}
