/**
 * Shape checks for untrusted JSON: each returns the typed value or throws `invalid_field`
 * naming the field, so that a caller learns exactly which part of its input is wrong.
 */
import { FulcrumError } from '../base/errors.js';
import { fieldName } from './quote.js';

/** Longest string field accepted anywhere (identifiers, symbols). */
export const STRING_FIELD_LENGTH_MAX = 128;

export type JsonObject = Readonly<Record<string, unknown>>;

export function expectObject(input: unknown, field: string): JsonObject {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new FulcrumError('invalid_field', `${field} must be a JSON object`, field);
  }
  return input as JsonObject;
}

export function expectString(input: unknown, field: string): string {
  if (input === undefined) throw new FulcrumError('invalid_field', `${field} is required`, field);
  if (typeof input !== 'string' || input.length === 0) {
    throw new FulcrumError('invalid_field', `${field} must be a non-empty string`, field);
  }
  if (input.length > STRING_FIELD_LENGTH_MAX) {
    throw new FulcrumError(
      'invalid_field',
      `${field} is longer than ${STRING_FIELD_LENGTH_MAX} characters`,
      field,
    );
  }
  return input;
}

/** An integer given as a JSON number (not a string) within [min, max]. */
export function expectInteger(input: unknown, field: string, min: number, max: number): number {
  if (input === undefined) throw new FulcrumError('invalid_field', `${field} is required`, field);
  if (typeof input !== 'number' || !Number.isSafeInteger(input)) {
    throw new FulcrumError('invalid_field', `${field} must be a whole number`, field);
  }
  if (input < min || input > max) {
    throw new FulcrumError(
      'invalid_number',
      `${field} must be between ${min} and ${max} (got ${input})`,
      field,
    );
  }
  return input;
}

/** Parses `input[name]` with `parse` when present; undefined when absent. */
export function optionalField<T>(
  input: JsonObject,
  name: string,
  parse: (value: unknown, field: string) => T,
  prefix = '',
): T | undefined {
  const value = input[name];
  return value === undefined ? undefined : parse(value, prefix === '' ? name : `${prefix}.${name}`);
}

/** Refuses fields the schema does not know, so that a typo is an error and not a silent default. */
export function rejectUnknownFields(
  input: JsonObject,
  known: readonly string[],
  field: string,
): void {
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) {
      const where = field === '' ? fieldName(key) : `${field}.${fieldName(key)}`;
      throw new FulcrumError('invalid_field', `unknown field ${where}`, where);
    }
  }
}
