import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectText } from '../../stages/detect/core.ts';
import { recognizeText } from '../../stages/recognize/core.ts';
import { addBags, type BagCount, bagCount, bagScore } from '../bench/metrics.ts';
import { datasetRoot, devScans, scanSet, truthFile } from '../support/datasets.ts';

const DATASETS = datasetRoot();

/** Word-bag counts of detect + recognize over evenly spaced pages of a dev set. */
async function score(name: string, pages: number): Promise<ReturnType<typeof bagScore>> {
  const scans = devScans(DATASETS, scanSet(name)!);
  if (scans === undefined) throw new Error(`${join(DATASETS, name, 'dev')} is absent`);
  const { dir, files } = scans;
  let total: BagCount = { matched: 0, hypothesis: 0, reference: 0 };
  for (let i = 0; i < pages; i++) {
    const file = files[Math.floor(((i + 0.5) * files.length) / pages)]!;
    const png = readFileSync(join(dir, file));
    const result = await recognizeText(png, await detectText(png));
    const truth = readFileSync(join(dir, truthFile(file)), 'utf8');
    total = addBags(total, bagCount(result.lines.map((l) => l.text).join('\n'), truth));
  }
  return bagScore(total);
}

// The datasets live outside the repository (research licences); a user's clone does not have them.
const d = existsSync(DATASETS) ? describe : describe.skip;

d('detect + recognize on the dev halves (2 pages each, floors measured with a margin)', () => {
  test('SROIE receipts: word-bag F1 above 0.79 (measured 0.84)', async () => {
    // Act
    const { f1 } = await score('sroie', 2);

    // Assess
    expect(f1).toBeGreaterThan(0.79);
  });

  test('FUNSD forms: word-bag F1 above 0.78 (measured 0.83)', async () => {
    // Act
    const { f1 } = await score('funsd', 2);

    // Assess
    expect(f1).toBeGreaterThan(0.78);
  });
});
