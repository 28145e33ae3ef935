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
// One-shot commands print their own progress; their logs default to warnings so the terminal shows
// what a user asked for. The long-running service (`up`) logs at info. DOCPIPE_LOG_LEVEL wins.
if (
  process.env.DOCPIPE_LOG_LEVEL === undefined &&
  process.env.LOG_LEVEL === undefined &&
  process.argv[2] !== 'up'
) {
  process.env.DOCPIPE_LOG_LEVEL = 'warn';
}
try {
  await import('../orchestration/cli.ts');
} catch (error) {
  // Configuration read at module load (DOCPIPE_MAX_PAGES=x, say) fails before the CLI's own error
  // printing exists: docpipe's errors still get their one line and exit code 1, anything else its stack.
  if (error instanceof Error && typeof error.retryable === 'boolean') {
    process.stderr.write(`docpipe: ${error.name}: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
