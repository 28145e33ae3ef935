import { join } from 'node:path';

/**
 * Where `../shared/datasets` is: `override` (a command's --datasets), else $DOCPIPE_DATASETS, else
 * beside the checkout. Benchmarks and the dataset tests skip a set whose folder is absent.
 */
export function datasetRoot(override?: string): string {
  return override ?? process.env.DOCPIPE_DATASETS ?? join(import.meta.dirname, '../../../shared/datasets');
}
