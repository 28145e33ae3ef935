import { loadPipelineDefinition } from '../../orchestration/pipeline.ts';
import * as errors from '../../stages/shared/errors.ts';

type ErrorClass = new (message: string) => errors.DocpipeError;

/** Every concrete error class the stages can throw, instantiated once to read its name and flag. */
const typedErrors = Object.values(errors as Record<string, unknown>)
  .filter(
    (value): value is ErrorClass =>
      typeof value === 'function' && value.prototype instanceof errors.DocpipeError,
  )
  .map((ErrorType) => new ErrorType('probe'));

interface TaskState {
  Type: string;
  Retry?: Array<{ ErrorEquals: string[] }>;
}

/** Every Task state that runs a stage (the page states live inside the Map). */
function stageTasks(): Array<[string, TaskState]> {
  const { States } = loadPipelineDefinition();
  const all = { ...States, ...States.Pages.ItemProcessor.States } as Record<string, TaskState>;
  return Object.entries(all).filter(([name, state]) => state.Type === 'Task' && !name.startsWith('Publish'));
}

describe('the workflow definition and the error classes', () => {
  const retried = (state: TaskState) => new Set((state.Retry ?? []).flatMap((retry) => retry.ErrorEquals));

  it.each(stageTasks())('%s retries every retryable error name', (_name, state) => {
    // Act
    const names = retried(state);

    // Assess
    expect(typedErrors.filter((e) => e.retryable && !names.has(e.name)).map((e) => e.name)).toEqual([]);
  });

  it.each(stageTasks())('%s retries no permanent error name', (_name, state) => {
    // Act
    const names = retried(state);

    // Assess
    expect(typedErrors.filter((e) => !e.retryable && names.has(e.name)).map((e) => e.name)).toEqual([]);
  });

  it('knows the error classes it checks', () => {
    expect(typedErrors.map((e) => e.name)).toEqual(
      expect.arrayContaining(['CorruptDocument', 'ModelUnavailable']),
    );
  });
});
