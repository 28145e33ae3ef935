#!/usr/bin/env node
// Plain JavaScript so that an old Node gets a sentence instead of a syntax error.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `docpipe needs Node.js 24 or later (this is ${process.version}). Run it through npm, which uses the ` +
      'Node 24 that `npm ci` installs: `npx docpipe ...` or `npm run docpipe -- ...`.\n',
  );
  process.exit(1);
}
await import('../orchestration/cli.ts');
