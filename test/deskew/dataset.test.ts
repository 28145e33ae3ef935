import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deskewPage } from '../../stages/deskew/core.ts';
import { datasetRoot } from '../support/datasets.ts';

const root = join(datasetRoot(), 'skew');

interface SkewTruth {
  angle_deg: number;
  orientation_ccw_deg?: number;
  tolerance_deg?: number;
}

function cases(): Array<[string, string, SkewTruth]> {
  if (!existsSync(root)) return [];
  const out: Array<[string, string, SkewTruth]> = [];
  for (const set of readdirSync(root)) {
    const dir = join(root, set, 'dev');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.png'))) {
      const truth = JSON.parse(readFileSync(join(dir, file.replace(/\.png$/, '.json')), 'utf8')) as SkewTruth;
      out.push([`${set}/${file}`, join(dir, file), truth]);
    }
  }
  return out;
}

// The shared datasets live outside the repository (a user's clone does not have them): skip then.
const d = existsSync(root) ? describe : describe.skip;

d('deskewPage on real scans with known skew', () => {
  it.each(cases())(
    '%s: angle within the file tolerance (exact angles: 0.1 degree), orientation exact',
    async (_name, path, truth) => {
      // Prepare
      const png = readFileSync(path);

      // Act
      const result = await deskewPage(png, { detectOrientation: false });

      // Assess
      expect(Math.abs(result.angle - truth.angle_deg)).toBeLessThanOrEqual(truth.tolerance_deg ?? 0.1);
    },
  );
});
