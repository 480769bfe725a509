/** The issues of the InvalidInputError `fn` throws (the test fails if it throws anything else, or nothing). */
import { expect } from 'vitest';
import { InvalidInputError, type InputIssue } from '../../functions/shared/errors.js';

export function issuesOf(fn: () => unknown): InputIssue[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return (err as InvalidInputError).issues;
  }
  throw new Error('expected InvalidInputError');
}
