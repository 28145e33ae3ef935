import { submitHint } from '../../orchestration/commands/pipeline.ts';
import { endpointOption, LOCAL_PORT, localPort, readPipelineConfig } from '../../orchestration/config.ts';
import { docpipe } from '../support/cli.ts';

describe('readPipelineConfig', () => {
  it('points at the embedded stack on 4566 when nothing is set', () => {
    // Act
    const config = readPipelineConfig({});
    // Assess
    expect(config.endpoint).toBe(`http://127.0.0.1:${LOCAL_PORT}`);
  });

  it('points at the port DOCPIPE_PORT names', () => {
    // Act
    const config = readPipelineConfig({ DOCPIPE_PORT: '5099' });
    // Assess
    expect(config.endpoint).toBe('http://127.0.0.1:5099');
  });

  it('lets DOCPIPE_ENDPOINT win over DOCPIPE_PORT, and take AWS as empty or aws', () => {
    // Act
    const named = readPipelineConfig({ DOCPIPE_ENDPOINT: 'http://10.0.0.5:4566', DOCPIPE_PORT: '5099' });
    const aws = readPipelineConfig({ DOCPIPE_ENDPOINT: 'aws' });
    const empty = readPipelineConfig({ DOCPIPE_ENDPOINT: '' });
    // Assess
    expect([named.endpoint, aws.endpoint, empty.endpoint]).toEqual([
      'http://10.0.0.5:4566',
      undefined,
      undefined,
    ]);
  });

  it.each([['abc'], ['0'], ['65536'], ['45.5']])(
    'rejects DOCPIPE_PORT=%s by name, with what it expected and received',
    (raw) => {
      // Act
      const read = () => localPort({ DOCPIPE_PORT: raw });
      // Assess
      expect(read).toThrow(
        expect.objectContaining({
          name: 'InvalidOption',
          message: `Expected an integer between 1 and 65535 for environment variable DOCPIPE_PORT but received '${raw}'`,
        }),
      );
    },
  );

  it.each([['localhost:4566'], ['http://x:99999'], ['ftp://example.com']])(
    'rejects DOCPIPE_ENDPOINT=%s before any client is made',
    (raw) => {
      // Act
      const read = () => readPipelineConfig({ DOCPIPE_ENDPOINT: raw });
      // Assess
      expect(read).toThrow(
        expect.objectContaining({
          name: 'InvalidOption',
          message: expect.stringContaining('for DOCPIPE_ENDPOINT'),
        }),
      );
    },
  );
});

describe('endpointOption', () => {
  it('names the flag it checks', () => {
    // Act
    const check = () => endpointOption('--endpoint', 'foo');
    // Assess
    expect(check).toThrow("Expected an http(s) URL, '' or 'aws' for --endpoint but received 'foo'");
  });
});

describe('submitHint', () => {
  it('is the plain command for a stack where the other commands look by default', () => {
    // Act
    const hint = submitHint('http://127.0.0.1:4566', {});
    // Assess
    expect(hint).toBe('npx docpipe submit scan.pdf --wait');
  });

  it('says which endpoint to set for a stack on another port', () => {
    // Act
    const hint = submitHint('http://127.0.0.1:5100', {});
    // Assess
    expect(hint).toBe('DOCPIPE_ENDPOINT=http://127.0.0.1:5100 npx docpipe submit scan.pdf --wait');
  });

  it('is the plain command when DOCPIPE_PORT already leads there', () => {
    // Act
    const hint = submitHint('http://127.0.0.1:5100', { DOCPIPE_PORT: '5100' });
    // Assess
    expect(hint).toBe('npx docpipe submit scan.pdf --wait');
  });
});

describe('the docpipe command with a bad setting', () => {
  it('ends with the setting named on one line when DOCPIPE_PORT is wrong', async () => {
    // Act
    const run = await docpipe(['executions'], undefined, { DOCPIPE_PORT: 'abc' });
    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "docpipe: InvalidOption: Expected an integer between 1 and 65535 for environment variable DOCPIPE_PORT but received 'abc'\n",
    );
  });

  it('ends with one line, not a stack, when a variable read at load is wrong', async () => {
    // Act
    const run = await docpipe(['executions'], undefined, { DOCPIPE_MAX_PAGES: 'x' });
    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "docpipe: InvalidOption: Expected a positive integer for environment variable DOCPIPE_MAX_PAGES but received 'x'\n",
    );
  });
});
