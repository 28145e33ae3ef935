import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelUnavailableError } from '../../stages/shared/errors.ts';
import {
  bundledModelDir,
  getModelStore,
  ModelStore,
  modelManifest,
  setModelStore,
} from '../../stages/shared/model-store.ts';

const bundled = bundledModelDir();
const clsFile = modelManifest().find((m) => m.name === 'cls')!.file;
const dictFile = modelManifest().find((m) => m.name === 'dict')!.file;

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `docpipe-${prefix}-`));
}

describe('ModelStore', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  function dir(prefix: string): string {
    const d = tempDir(prefix);
    dirs.push(d);
    return d;
  }

  test('loads a session from a local directory and caches the verified file', async () => {
    // Prepare
    const store = new ModelStore({ source: bundled, cacheDir: dir('cache'), threads: 1 });

    // Act
    const session = await store.session('cls');
    const path = await store.file('cls');

    // Assess
    expect(session.inputNames).toEqual(['x']);
    expect(path.startsWith(store.cacheDir)).toBe(true);
    await store.release();
  });

  test('returns the same session object to every caller, also concurrent ones', async () => {
    // Prepare
    const store = new ModelStore({ source: bundled, cacheDir: dir('cache'), threads: 1 });

    // Act
    const [a, b] = await Promise.all([store.session('cls'), store.session('cls')]);
    const c = await store.session('cls');

    // Assess
    expect(b).toBe(a);
    expect(c).toBe(a);
    await store.release();
  });

  test('rejects a corrupted model with ModelUnavailable naming the model and where it is', async () => {
    // Prepare
    const source = dir('corrupt');
    copyFileSync(join(bundled, clsFile), join(source, clsFile));
    const bytes = readFileSync(join(source, clsFile));
    bytes[1000] = bytes[1000]! ^ 0xff;
    writeFileSync(join(source, clsFile), bytes);
    const store = new ModelStore({ source, cacheDir: dir('cache'), threads: 1 });

    // Act
    const loading = store.session('cls');

    // Assess
    await expect(loading).rejects.toBeInstanceOf(ModelUnavailableError);
    await expect(loading).rejects.toMatchObject({
      name: 'ModelUnavailable',
      message: expect.stringContaining(join(source, clsFile)),
      details: { model: 'cls', location: join(source, clsFile) },
    });
  });

  test('rejects a missing model with ModelUnavailable', async () => {
    // Prepare
    const store = new ModelStore({ source: dir('empty'), cacheDir: dir('cache'), threads: 1 });

    // Act
    const loading = store.session('det');

    // Assess
    await expect(loading).rejects.toMatchObject({ name: 'ModelUnavailable', details: { model: 'det' } });
  });

  test('reuses a verified cached file when the source is gone', async () => {
    // Prepare
    const source = dir('src');
    copyFileSync(join(bundled, dictFile), join(source, dictFile));
    const cacheDir = dir('cache');
    await new ModelStore({ source, cacheDir, threads: 1 }).file('dict');
    rmSync(join(source, dictFile));

    // Act
    const classes = await new ModelStore({ source, cacheDir, threads: 1 }).dictionary();

    // Assess
    expect(classes).toHaveLength(6625);
    expect(classes[0]).toBe('');
    expect(classes.at(-1)).toBe(' ');
  });

  test('replaces a cached file whose checksum no longer matches', async () => {
    // Prepare
    const cacheDir = dir('cache');
    const first = new ModelStore({ source: bundled, cacheDir, threads: 1 });
    const cached = await first.file('dict');
    writeFileSync(cached, 'tampered');

    // Act
    const path = await new ModelStore({ source: bundled, cacheDir, threads: 1 }).file('dict');

    // Assess
    expect(readFileSync(path)).toEqual(readFileSync(join(bundled, dictFile)));
  });

  test('fetches from an s3:// source through the injected fetch, by prefix and file name', async () => {
    // Prepare
    const keys: string[] = [];
    const store = new ModelStore({
      source: 's3://models-bucket/ocr/v4',
      cacheDir: dir('cache'),
      threads: 1,
      fetchS3: async (bucket, key) => {
        keys.push(`${bucket}/${key}`);
        return readFileSync(join(bundled, dictFile));
      },
    });

    // Act
    const classes = await store.dictionary();

    // Assess
    expect(keys).toEqual([`models-bucket/ocr/v4/${dictFile}`]);
    expect(classes).toHaveLength(6625);
  });

  test('lists the manifest with sizes and locations', () => {
    // Prepare
    const store = new ModelStore({ source: 's3://b/p', cacheDir: dir('cache'), threads: 1 });

    // Act
    const models = store.models();

    // Assess
    expect(models.map((m) => m.name)).toEqual(['det', 'rec', 'cls', 'dict']);
    expect(models.find((m) => m.name === 'cls')).toMatchObject({
      location: `s3://b/p/${clsFile}`,
      size: 578966,
    });
  });

  test('rejects invalid options naming the parameter', () => {
    // Act / Assess
    expect(() => new ModelStore({ source: bundled, cacheDir: dir('cache'), threads: 0 })).toThrow(/threads/);
  });

  test('getModelStore returns one process-wide store until replaced', () => {
    // Prepare
    setModelStore(undefined);

    // Act
    const a = getModelStore();
    const b = getModelStore();

    // Assess
    expect(b).toBe(a);
    setModelStore(undefined);
  });
});
