import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { denoisePage } from '../../stages/denoise/core.ts';
import { rmse } from '../../stages/denoise/metrics.ts';
import { datasetRoot } from '../support/datasets.ts';

const dir = join(datasetRoot(), 'ddd_denoise/dev');

async function grayPixels(png: Buffer): Promise<Uint8Array> {
  return new Uint8Array(await sharp(png).toColourspace('b-w').raw().toBuffer());
}

// The shared datasets live outside the repository (a user's clone does not have them): skip then.
const d = existsSync(dir) ? describe : describe.skip;

d('denoisePage on Denoising Dirty Documents (dev half)', () => {
  it('cuts the mean RMSE against the clean targets from ~0.16 to below 0.045, improving every page', async () => {
    // Prepare
    const names = readdirSync(dir).filter((f) => /^\d+\.png$/.test(f));

    // Act
    const scores: Array<{ noisy: number; ours: number }> = [];
    for (const name of names) {
      const noisyPng = readFileSync(join(dir, name));
      const clean = await grayPixels(readFileSync(join(dir, name.replace(/\.png$/, '.clean.png'))));
      const result = await denoisePage(noisyPng);
      scores.push({
        noisy: rmse(await grayPixels(noisyPng), clean),
        ours: rmse(await grayPixels(result.png), clean),
      });
    }

    // Assess: measured 0.030 on this half; the margin leaves room for the held-back half.
    const mean = scores.reduce((s, x) => s + x.ours, 0) / scores.length;
    expect(scores.length).toBeGreaterThan(0);
    expect(mean).toBeLessThan(0.045);
    expect(scores.filter((s) => s.ours >= s.noisy)).toEqual([]);
  });
});
