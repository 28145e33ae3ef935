import { readFileSync } from 'node:fs';

// Read rather than imported with a JSON import attribute: the same code then runs under Node, the
// Lambda image (package.json is copied beside stages/) and jest/swc, which drops import attributes.
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const DOCPIPE_VERSION: string = pkg.version;
