import { readStageConfig, STAGE_DEFAULTS } from '../../stages/shared/config.ts';
import { InvalidOptionError } from '../../stages/shared/errors.ts';

describe('readStageConfig', () => {
  test('uses the defaults when nothing is set', () => {
    // Act
    const config = readStageConfig({});

    // Assess
    expect(config).toEqual(STAGE_DEFAULTS);
  });

  test.each([
    ['false', false],
    ['0', false],
    ['true', true],
    ['1', true],
  ])('reads DOCPIPE_SEARCHABLE_PDF=%s as %s', (raw, expected) => {
    // Act
    const config = readStageConfig({ DOCPIPE_SEARCHABLE_PDF: raw });

    // Assess
    expect(config.searchablePdf).toBe(expected);
  });

  test('names the variable, the values it takes and the one it got', () => {
    // Act
    const read = () => readStageConfig({ DOCPIPE_SEARCHABLE_PDF: 'yes' });

    // Assess
    expect(read).toThrow(InvalidOptionError);
    expect(read).toThrow(
      "Expected true or false for environment variable DOCPIPE_SEARCHABLE_PDF but received 'yes'",
    );
  });

  test('refuses a limit that is not a positive integer', () => {
    // Act
    const read = () => readStageConfig({ DOCPIPE_MAX_PAGES: '-3' });

    // Assess
    expect(read).toThrow(
      "Expected a positive integer for environment variable DOCPIPE_MAX_PAGES but received '-3'",
    );
  });
});
