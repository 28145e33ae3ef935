import {
  CorruptDocumentError,
  fromErrorJSON,
  InternalError,
  isDocpipeError,
} from '../../stages/shared/errors.ts';

describe('fromErrorJSON', () => {
  test('rebuilds the typed error, its code, retryable flag and details', () => {
    // Prepare
    const json = new CorruptDocumentError('The PDF cannot be read', { details: { page: 3 } }).toJSON();

    // Act
    const error = fromErrorJSON(structuredClone(json));

    // Assess
    expect(error).toBeInstanceOf(CorruptDocumentError);
    expect(error.toJSON()).toEqual(json);
  });

  test('turns an unknown name into an InternalError that keeps the message', () => {
    // Act
    const error = fromErrorJSON({ name: 'TypeError', message: 'x is not a function' });

    // Assess
    expect(isDocpipeError(error)).toBe(true);
    expect(error).toBeInstanceOf(InternalError);
    expect(error.message).toBe('x is not a function');
  });
});
