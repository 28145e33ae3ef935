import { jest } from '@jest/globals';
import { defineHandler } from '../../stages/shared/handler-kit.ts';
import { logger } from '../../stages/shared/logger.ts';

describe('defineHandler', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  test('logs the wall and CPU milliseconds of a finished invocation', async () => {
    // Prepare: a stage that spends 30 ms of CPU (counted by CPU, not by clock: on a busy machine a
    // 30 ms wall-clock spin gets less).
    const info = jest.fn();
    jest.spyOn(logger, 'child').mockReturnValue({ info, warn: jest.fn(), error: jest.fn() } as never);
    const handler = defineHandler('detect', async () => {
      const start = process.cpuUsage();
      let spins = 0;
      for (;;) {
        const used = process.cpuUsage(start);
        if (used.user + used.system >= 30_000) return spins;
        spins++;
      }
    });

    // Act
    await handler({ documentId: 'doc', page: 1 });

    // Assess
    const done = info.mock.calls.find((call) => call[1] === 'detect done');
    expect(done).toBeDefined();
    const fields = done![0] as { ms: number; cpuMs: number };
    expect(Number.isInteger(fields.cpuMs)).toBe(true);
    expect(fields.cpuMs).toBeGreaterThanOrEqual(30);
    // One busy thread: the wall time is at least the CPU time (a little slack for GC threads).
    expect(fields.ms).toBeGreaterThanOrEqual(fields.cpuMs - 5);
  });
});
