import { jest } from '@jest/globals';
import { defineHandler } from '../../stages/shared/handler-kit.ts';
import { logger } from '../../stages/shared/logger.ts';

describe('defineHandler', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  test('logs the wall and CPU milliseconds of a finished invocation', async () => {
    // Prepare: a stage that keeps the CPU busy for a while.
    const info = jest.fn();
    jest.spyOn(logger, 'child').mockReturnValue({ info, warn: jest.fn(), error: jest.fn() } as never);
    const handler = defineHandler('detect', async () => {
      const until = performance.now() + 30;
      let spins = 0;
      while (performance.now() < until) spins++;
      return spins;
    });

    // Act
    await handler({ documentId: 'doc', page: 1 });

    // Assess
    const done = info.mock.calls.find((call) => call[1] === 'detect done');
    expect(done).toBeDefined();
    const fields = done![0] as { ms: number; cpuMs: number };
    expect(fields.ms).toBeGreaterThanOrEqual(30);
    expect(Number.isInteger(fields.cpuMs)).toBe(true);
    expect(fields.cpuMs).toBeGreaterThanOrEqual(20);
  });
});
