import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';

// ajv-formats is CommonJS with the plugin as module.exports; require gives it one type at run and compile time.
const addFormats = createRequire(import.meta.url)('ajv-formats') as (ajv: Ajv2020) => Ajv2020;

const load = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as object;

/** Validators for the published JSON Schemas: the contract with downstream consumers. */
export function schemaValidators() {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
  addFormats(ajv);
  return {
    documentResult: ajv.compile(load('../../stages/assemble/document-result.schema.json')),
    resultEvent: ajv.compile(load('../../orchestration/result-event.schema.json')),
  };
}
