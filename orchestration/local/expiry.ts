/**
 * The embedded stack's stand-in for the artifacts bucket's lifecycle rule on AWS
 * (`expire-intermediate-artifacts` in infra/stack.ts). fauxqs keeps every object for ever, so on one
 * machine the rendered pages and per-stage outputs of every document would fill the disk (a 300 DPI
 * page leaves 1.5 MB when clean, over 10 MB when noisy). This deletes the ones older than the same number of days, through the S3
 * API, as the rule does on AWS: results, inputs and models are never touched.
 */
import { DeleteObjectsCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { logger } from '../../stages/shared/logger.ts';

export interface ExpiryReport {
  /** Objects deleted. */
  deleted: number;
  /** Their total size. */
  bytes: number;
}

const DAY_MS = 86_400_000;
/** DeleteObjects takes at most this many keys a call. */
const DELETE_BATCH = 1000;

/** Deletes the objects of `bucket` last written more than `maxAgeMs` before `now`. */
export async function expireObjects(
  s3: S3Client,
  bucket: string,
  maxAgeMs: number,
  now: number = Date.now(),
): Promise<ExpiryReport> {
  const cutoff = now - maxAgeMs;
  const report: ExpiryReport = { deleted: 0, bytes: 0 };
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket })) {
    const old = (page.Contents ?? []).filter(
      (object) => object.Key !== undefined && (object.LastModified?.getTime() ?? now) < cutoff,
    );
    for (let start = 0; start < old.length; start += DELETE_BATCH) {
      const batch = old.slice(start, start + DELETE_BATCH);
      const result = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: batch.map((object) => ({ Key: object.Key! })), Quiet: true },
        }),
      );
      const failed = new Set((result.Errors ?? []).map((error) => error.Key));
      for (const object of batch) {
        if (failed.has(object.Key)) continue;
        report.deleted++;
        report.bytes += object.Size ?? 0;
      }
    }
  }
  return report;
}

export interface ArtifactExpiryOptions {
  s3: S3Client;
  bucket: string;
  /** Age in days after which an artifact goes; 0 keeps them all. */
  days: number;
  /** How often to look. Default hourly. */
  intervalMs?: number;
}

/** Sweeps the artifacts bucket on start and then every `intervalMs`, one sweep at a time. */
export class ArtifactExpiry {
  private readonly options: Required<ArtifactExpiryOptions>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly log = logger.child({ component: 'artifact-expiry' });

  /** `days` as validated by the stack (a whole number >= 0). */
  constructor(options: ArtifactExpiryOptions) {
    this.options = { intervalMs: 3_600_000, ...options };
  }

  /** Age in days after which an artifact goes; 0: never. */
  get days(): number {
    return this.options.days;
  }

  start(): void {
    if (this.options.days === 0 || this.timer !== undefined) return;
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), this.options.intervalMs);
    // The sweeper alone must not keep a stopped stack's process alive.
    this.timer.unref();
  }

  /** One sweep now (or the one under way); a failure is logged, not thrown: the next sweep tries again. */
  sweep(): Promise<void> {
    this.running ??= (async () => {
      const { s3, bucket, days } = this.options;
      try {
        const report = await expireObjects(s3, bucket, days * DAY_MS);
        if (report.deleted > 0) this.log.info({ bucket, days, ...report }, 'expired artifacts');
      } catch (error) {
        this.log.warn({ err: error, bucket }, 'artifact expiry failed; trying again at the next sweep');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
