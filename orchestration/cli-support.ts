import { constants } from 'node:fs';
import { access, readdir, realpath, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { isDocpipeError } from '../stages/shared/errors.ts';
import { DPI_RANGE } from '../stages/split/core.ts';
import { parsePageSelection } from '../stages/split/pages.ts';

/** Exit codes: 0 ok, 1 a document failed with an expected error, 2 usage, 70 a bug. */
export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 70 } as const;

export function parseInteger(min: number, max: number) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer between ${min} and ${max}, received '${raw}'`);
    }
    return value;
  };
}

/** `--pages`: checked as far as it can be without the document, so a typo fails before any work. */
export function parsePagesOption(raw: string): string {
  try {
    parsePageSelection(raw, '--pages');
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return raw.trim();
}

/** `--dpi`: the resolutions the split stage renders PDF pages at. */
export const parseDpiOption = parseInteger(...DPI_RANGE);

/** What the system says when nothing answers at an endpoint. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);

/**
 * Expected errors print one line with their stable code; anything else is a bug and keeps its
 * stack. A pipeline that does not answer, a port already taken, a file the system refuses, or
 * missing AWS credentials are expected too:
 * the commands that talk to a running pipeline meet them first.
 */
export function describeFailure(error: unknown): { line: string; exitCode: number } {
  if (isDocpipeError(error)) return { line: `${error.code}: ${error.message}`, exitCode: EXIT.failed };
  const { code, name, message } = (error ?? {}) as { code?: string; name?: string; message?: string };
  if (code !== undefined && UNREACHABLE.has(code)) {
    return {
      line: `EndpointUnreachable: ${message} (is \`docpipe up\` running? --endpoint names another pipeline)`,
      exitCode: EXIT.failed,
    };
  }
  const { syscall, path } = (error ?? {}) as { syscall?: string; path?: string };
  if (path !== undefined && syscall !== undefined) {
    // A file the system refused (ENOTDIR, EACCES, ENOSPC…): its message names the call and the path.
    return { line: `FileError: ${message}`, exitCode: EXIT.failed };
  }
  if (code === 'EADDRINUSE') {
    return {
      line: `PortInUse: ${message} (another \`docpipe up\` may be running: stop it, or give this one --port N or DOCPIPE_PORT; the Step Functions API takes the port after it)`,
      exitCode: EXIT.failed,
    };
  }
  if (name === 'CredentialsProviderError') {
    return {
      line: `NoCredentials: ${message} (AWS needs credentials: AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`,
      exitCode: EXIT.failed,
    };
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { line: `InternalError: ${stack}`, exitCode: EXIT.internal };
}

/** Progress goes to stderr so stdout stays the result; on a terminal it rewrites one line. */
export function progressWriter(enabled: boolean): (line: string, done?: boolean) => void {
  if (!enabled) return () => {};
  const tty = process.stderr.isTTY === true;
  return (line, done = false) => {
    if (tty) process.stderr.write(`\r\x1b[2K${line}${done ? '\n' : ''}`);
    else process.stderr.write(`${line}\n`);
  };
}

/** The file extension of each output the commands write, as `<name>.<extension>`. */
export const OUTPUT_EXTENSIONS = {
  text: 'txt',
  json: 'json',
  hocr: 'hocr',
  alto: 'alto.xml',
  pdf: 'pdf',
} as const;
export type OutputKind = keyof typeof OUTPUT_EXTENSIONS;

/**
 * The name each input's outputs take, before their extension: the file's name without its own
 * extension, or with it where two inputs share that stem, so that `scan.pdf` and `scan.png` in one
 * folder write `scan.pdf.txt` and `scan.png.txt` instead of one `scan.txt` (stems compared without
 * case, as macOS and Windows file systems do). `-` (stdin) is named `stdin`.
 */
export function outputStems(files: readonly string[]): Map<string, string> {
  const stem = (file: string): string => (file === '-' ? 'stdin' : basename(file, extname(file)));
  const holders = new Map<string, Set<string>>();
  for (const file of files) {
    const key = stem(file).toLowerCase();
    holders.set(key, (holders.get(key) ?? new Set()).add(resolve(file)));
  }
  return new Map(
    files.map((file) => {
      const shared = (holders.get(stem(file).toLowerCase())?.size ?? 0) > 1;
      return [file, shared && file !== '-' ? basename(file) : stem(file)];
    }),
  );
}

/** Where the `kind` output named `stem` (see `outputStems`) goes in `dir`. */
export function outputPath(stem: string, dir: string, kind: OutputKind): string {
  return join(dir, `${stem}.${OUTPUT_EXTENSIONS[kind]}`);
}

/**
 * The first output that two different inputs would still both write once named by `outputStems`
 * ('docpipe ocr -o out a/scan.pdf b/scan.pdf'), as a message naming both; undefined when every input
 * has outputs of its own. The second would silently replace the first's, so nothing is read.
 */
export function sharedOutput(
  files: readonly string[],
  dir: string,
  kinds: readonly OutputKind[],
): string | undefined {
  const stems = outputStems(files);
  const writers = new Map<string, string>();
  for (const file of files) {
    for (const kind of kinds) {
      const path = outputPath(stems.get(file)!, dir, kind);
      const target = resolve(path).toLowerCase();
      const other = writers.get(target);
      if (other !== undefined && resolve(other) !== resolve(file)) {
        return `${other} and ${file} would both write ${path}; give them separate --output directories (or rename one)`;
      }
      writers.set(target, file);
    }
  }
  return undefined;
}

/**
 * Whether writing `targets` would replace `file` itself ('docpipe ocr -f pdf -o . scan.pdf' would
 * replace the scan with its OCR); says so on stderr. The caller sets the exit code.
 */
export async function overwritesInput(file: string, targets: readonly string[]): Promise<boolean> {
  const real = (path: string): Promise<string> => realpath(path).catch(() => resolve(path));
  const input = await real(file);
  for (const target of targets) {
    if ((await real(target)) === input) {
      process.stderr.write(
        `docpipe: ${file}: the output would overwrite the input; choose another --output\n`,
      );
      return true;
    }
  }
  return false;
}

/** The file names a directory given to `docpipe ocr` contributes: the documents directly in it. */
const DOCUMENT_EXTENSIONS = new Set(['.pdf', '.tif', '.tiff', '.png', '.jpg', '.jpeg', '.webp']);

/** Why `path` cannot be read as a document, in the words of a shell ('no such file'), or undefined. */
async function unreadable(path: string): Promise<string | undefined> {
  try {
    if ((await stat(path)).isDirectory()) return 'is a directory';
    await access(path, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'no such file';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    return (error as Error).message;
  }
}

/**
 * The documents a command line names, each path looked at once: files as given, a directory as
 * the PDF, TIFF, PNG, JPEG and WebP files directly inside it (by extension, sorted by name).
 * `errors` names each path that cannot be read, and each directory without documents (as a shell
 * glob that matches nothing would); the caller decides whether the rest go ahead.
 */
export async function expandDocuments(
  args: readonly string[],
): Promise<{ files: string[]; errors: string[] }> {
  const files: string[] = [];
  const errors: string[] = [];
  for (const arg of args) {
    const why = arg === '-' ? undefined : await unreadable(arg);
    if (why === undefined) {
      files.push(arg);
      continue;
    }
    if (why !== 'is a directory') {
      errors.push(`${arg}: ${why}`);
      continue;
    }
    const entries = await readdir(arg, { withFileTypes: true });
    const documents = entries
      .filter((entry) => entry.isFile() && DOCUMENT_EXTENSIONS.has(extname(entry.name).toLowerCase()))
      .map((entry) => join(arg, entry.name))
      .sort();
    if (documents.length === 0)
      errors.push(`${arg}: no PDF, TIFF, PNG, JPEG or WebP files in this directory`);
    files.push(...documents);
  }
  return { files, errors };
}
