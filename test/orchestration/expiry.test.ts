import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { clientConfig } from '../../orchestration/config.ts';
import { ArtifactExpiry, expireObjects } from '../../orchestration/local/expiry.ts';
import { startLocalStack } from '../../orchestration/local/stack.ts';
import { InvalidOptionError } from '../../stages/shared/errors.ts';

const DAY_MS = 86_400_000;
let server: FauxqsServer;
let s3: S3Client;
let bucketCount = 0;

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false });
  s3 = new S3Client(clientConfig({ region: 'us-east-1', endpoint: `http://127.0.0.1:${server.port}` }));
});

afterAll(async () => {
  s3.destroy();
  await server.stop();
});

async function freshBucket(): Promise<string> {
  const bucket = `expiry-${++bucketCount}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

async function keys(bucket: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (listed.Contents ?? []).map((object) => object.Key!).sort();
}

const put = (bucket: string, key: string, body: string) =>
  s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

describe('expireObjects', () => {
  it('deletes the objects written before the cutoff and keeps the later ones', async () => {
    // Prepare: an object, a moment, then another; "now" is seven days after that moment.
    const bucket = await freshBucket();
    await put(bucket, 'doc-1/pages/1/deskew.png', 'old page');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const moment = Date.now();
    await put(bucket, 'doc-2/pages/1/deskew.png', 'new');

    // Act
    const report = await expireObjects(s3, bucket, 7 * DAY_MS, moment + 7 * DAY_MS);

    // Assess
    expect(report).toEqual({ deleted: 1, bytes: 'old page'.length });
    expect(await keys(bucket)).toEqual(['doc-2/pages/1/deskew.png']);
  }, 15_000);

  it('goes through every page of a listing longer than one ListObjectsV2 call returns', async () => {
    // Prepare: more objects than the 1,000 one listing returns.
    const bucket = await freshBucket();
    const names = Array.from({ length: 1010 }, (_, i) => `doc-${i}/document.json`);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((key) => put(bucket, key, '{}')));
    }

    // Act
    const report = await expireObjects(s3, bucket, DAY_MS, Date.now() + 2 * DAY_MS);

    // Assess
    expect(report.deleted).toBe(1010);
    expect(await keys(bucket)).toEqual([]);
  }, 60_000);
});

describe('ArtifactExpiry', () => {
  it('with 0 days never deletes anything', async () => {
    // Prepare
    const bucket = await freshBucket();
    await put(bucket, 'doc/document.json', '{}');
    const expiry = new ArtifactExpiry({ s3, bucket, days: 0 });

    // Act
    expiry.start();
    await expiry.stop();

    // Assess
    expect(await keys(bucket)).toEqual(['doc/document.json']);
  });

  it('keeps artifacts younger than its days', async () => {
    // Prepare
    const bucket = await freshBucket();
    await put(bucket, 'doc/document.json', '{}');
    const expiry = new ArtifactExpiry({ s3, bucket, days: 7 });

    // Act
    await expiry.sweep();

    // Assess
    expect(await keys(bucket)).toEqual(['doc/document.json']);
  });

  it('survives a sweep that fails (the bucket is gone) instead of throwing', async () => {
    // Prepare
    const expiry = new ArtifactExpiry({ s3, bucket: 'no-such-bucket', days: 7 });

    // Act
    const sweep = expiry.sweep();

    // Assess
    await expect(sweep).resolves.toBeUndefined();
  });
});

describe('startLocalStack', () => {
  it('refuses a negative artifactExpiryDays before starting anything', async () => {
    // Act
    const started = startLocalStack({
      port: 0,
      dataDir: '/nonexistent/never-created',
      artifactExpiryDays: -1,
    });

    // Assess
    await expect(started).rejects.toThrow(InvalidOptionError);
    await expect(started).rejects.toThrow(/artifactExpiryDays/);
  });
});
