import { denoisePage } from '../../stages/denoise/core.ts';
import { detectText } from '../../stages/detect/core.ts';
import { recognizeText } from '../../stages/recognize/core.ts';
import { renderTextPage } from '../deskew/pages.ts';

async function read(png: Buffer): Promise<string> {
  const detection = await detectText(png);
  const result = await recognizeText(png, detection);
  return result.lines.map((line) => line.text).join('\n');
}

describe('denoisePage and recognition', () => {
  it('leaves the text read from a clean rendered page unchanged', async () => {
    // Prepare: a strip of a 200 DPI A4 page keeps recognition to a few lines.
    const page = await renderTextPage({
      width: 1654,
      height: 300,
      dpi: 200,
      font: 'DejaVu Serif 9',
      words: 28,
      seed: 5,
    });
    const before = await read(page);

    // Act
    const after = await read((await denoisePage(page)).png);

    // Assess
    expect(before.length).toBeGreaterThan(80);
    expect(after).toBe(before);
  });
});
