import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  describeFailure,
  EXIT,
  outputPath,
  outputStems,
  sharedOutput,
} from '../../orchestration/cli-support.ts';

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

describe('outputStems', () => {
  it('names outputs after the file without its extension when no other input shares that stem', () => {
    // Act
    const stems = outputStems(['in/receipt.png', 'in/letter.pdf']);
    // Assess
    expect([...stems.values()]).toEqual(['receipt', 'letter']);
  });

  it('keeps the extension of inputs that share a stem, ignoring case', () => {
    // Act
    const stems = outputStems(['in/scan.pdf', 'in/SCAN.png', 'in/receipt.png']);
    // Assess
    expect([...stems.values()]).toEqual(['scan.pdf', 'SCAN.png', 'receipt']);
  });

  it('does not count one file given twice as two', () => {
    // Act
    const stems = outputStems(['in/scan.pdf', './in/scan.pdf']);
    // Assess
    expect([...stems.values()]).toEqual(['scan', 'scan']);
  });

  it("names stdin's outputs 'stdin'", () => {
    // Act
    const stems = outputStems(['-']);
    // Assess
    expect(stems.get('-')).toBe('stdin');
  });
});

describe('sharedOutput', () => {
  it('lets scan.pdf and scan.png share an output directory', () => {
    // Act
    const clash = sharedOutput(['in/scan.pdf', 'in/scan.png'], 'out', ['text', 'json']);
    // Assess
    expect(clash).toBeUndefined();
  });

  it('names two inputs of one file name in different folders, and the file both would write', () => {
    // Act
    const clash = sharedOutput(['a/scan.pdf', 'b/scan.pdf'], 'out', ['text']);
    // Assess
    expect(clash).toBe(
      `a/scan.pdf and b/scan.pdf would both write ${outputPath('scan.pdf', 'out', 'text')}; give them separate --output directories (or rename one)`,
    );
  });

  it('writes alto as .alto.xml beside the other outputs', () => {
    // Act
    const path = outputPath('scan', 'out', 'alto');
    // Assess
    expect(path).toBe(join('out', 'scan.alto.xml'));
  });
});

describe('describeFailure', () => {
  it('turns a port already taken into one line that says what to do, not a stack', async () => {
    // Prepare: a real listener holds a port; a second listen on it fails as `up` would
    const holder = createServer();
    const port = await listen(holder);
    const error = await listen(createServer(), port).catch((e: unknown) => e);
    holder.close();
    // Act
    const { line, exitCode } = describeFailure(error);
    // Assess
    expect(line).toMatch(/^PortInUse: .*EADDRINUSE.*--port N or DOCPIPE_PORT/);
    expect(line).not.toContain('\n');
    expect(exitCode).toBe(EXIT.failed);
  });

  it('turns a file the system refuses into one line naming the call and the path', async () => {
    // Prepare: an output directory asked for under a regular file, as `-o` would
    const file = join(tmpdir(), `docpipe-not-a-dir-${process.pid}`);
    await writeFile(file, 'x');
    const error = await mkdir(join(file, 'out'), { recursive: true }).catch((e: unknown) => e);
    await rm(file);
    // Act
    const { line, exitCode } = describeFailure(error);
    // Assess
    expect(line).toBe(`FileError: ENOTDIR: not a directory, mkdir '${join(file, 'out')}'`);
    expect(exitCode).toBe(EXIT.failed);
  });
});
