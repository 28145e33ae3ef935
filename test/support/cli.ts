import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/docpipe.js', import.meta.url));

/** Runs the CLI to its end, whatever its exit code, with `input` on its stdin and `env` over ours. */
export function docpipe(
  args: string[],
  input?: Buffer,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const options = { env: { ...process.env, ...env } };
    const child = execFile(process.execPath, [bin, ...args], options, (error, stdout, stderr) =>
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

/** Runs `fn` with a new temporary directory, removed afterwards whatever happens. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `docpipe-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What `run -o` and `submit -o` write for fixtures/samples/receipt.png, sorted. */
export const RECEIPT_OUTPUTS = [
  'receipt.alto.xml',
  'receipt.hocr',
  'receipt.json',
  'receipt.pdf',
  'receipt.txt',
];
