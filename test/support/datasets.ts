import { existsSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';

/**
 * Where `../shared/datasets` is: `override` (a command's --datasets), else $DOCPIPE_DATASETS, else
 * beside the checkout. Benchmarks and the dataset tests skip a set whose folder is absent.
 */
export function datasetRoot(override?: string): string {
  return override ?? process.env.DOCPIPE_DATASETS ?? join(import.meta.dirname, '../../../shared/datasets');
}

/** The sets of real page scans with ground truth: receipts as JPEG, forms as PNG. */
export const SCAN_SETS = [
  { name: 'sroie', extension: '.jpg' },
  { name: 'funsd', extension: '.png' },
] as const;

export type ScanSet = (typeof SCAN_SETS)[number];

/** The scan set called `name` (a command's --set or --sets), undefined for any other name. */
export function scanSet(name: string): ScanSet | undefined {
  return SCAN_SETS.find((set) => set.name === name);
}

/** The ground-truth text file beside a scan: `X.jpg` has `X.gt.txt`. */
export function truthFile(scan: string): string {
  return `${scan.slice(0, -extname(scan).length)}.gt.txt`;
}

/** The page images of a scan set's dev half, sorted by name; undefined when the set is absent. */
export function devScans(root: string, set: ScanSet): { dir: string; files: string[] } | undefined {
  const dir = join(root, set.name, 'dev');
  if (!existsSync(dir)) return undefined;
  return {
    dir,
    files: readdirSync(dir)
      .filter((f) => f.endsWith(set.extension))
      .sort(),
  };
}
