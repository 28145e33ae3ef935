import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

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
