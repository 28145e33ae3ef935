import { InvalidOptionError } from './errors.ts';

/** Builds the message sharp uses: which parameter, what was expected, what was received. */
export function invalidParameter(name: string, expected: string, actual: unknown): InvalidOptionError {
  const received = typeof actual === 'string' ? `'${actual}'` : (JSON.stringify(actual) ?? String(actual));
  return new InvalidOptionError(
    `Expected ${expected} for ${name} but received ${received} of type ${typeof actual}`,
    {
      details: { parameter: name, expected },
    },
  );
}

/** Options must be a plain object whose keys are all known: a typo fails at once, by name. */
export function rejectUnknownKeys(where: string, options: unknown, known: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidParameter(`the options of ${where}`, 'an object', options);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(
        `Unknown option '${key}' for ${where}; known options: ${known.join(', ')}`,
        {
          details: { parameter: key },
        },
      );
    }
  }
}

export function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(name, `an integer between ${min} and ${max}`, value);
  }
  return value;
}

export function numberIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidParameter(name, `a number between ${min} and ${max}`, value);
  }
  return value;
}

export function booleanOption(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidParameter(name, 'a boolean', value);
  return value;
}

export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidParameter(name, `one of ${allowed.join(', ')}`, value);
  }
  return value as T;
}
