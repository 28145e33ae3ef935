import { join } from 'node:path';
import { outputPath, outputStems, sharedOutput } from '../../orchestration/cli-support.ts';

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
