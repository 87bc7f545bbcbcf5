/**
 * Decimal strings at the boundary: the only way numbers enter or leave Fulcrum.
 *
 * Parsing is strict: plain decimal notation only (`"1.5"`, `"-3"`, `"0.000001"`); no exponents,
 * no leading `+`, no `.5` or `5.`, no leading zeros, no spaces, no `NaN` or `Infinity`. Extra
 * fractional digits are accepted only when they are zeros, so a value is never silently rounded.
 */
import { FulcrumError } from '../base/errors.js';
import { pow10 } from './fixed.js';

/** Longest decimal string accepted; anything longer is refused before it is looked at. */
export const DECIMAL_TEXT_LENGTH_MAX = 100;

const DECIMAL_PATTERN = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

export interface ParseDecimalOptions {
  /** Name of the input field, for the error message. */
  readonly field: string;
  /** Allow a leading minus sign. Default: false. */
  readonly signed?: boolean;
  /** Smallest allowed value, in the scaled units returned. */
  readonly min?: bigint;
  /** Largest allowed value, in the scaled units returned. */
  readonly max?: bigint;
}

/**
 * Parses a decimal string into a bigint scaled by 10^decimals.
 *
 * @example
 * parseDecimal('1.5', 6, { field: 'amount' }); // 1_500_000n
 * parseDecimal('1.2345678', 6, { field: 'amount' }); // throws too_many_decimals
 */
export function parseDecimal(
  text: unknown,
  decimals: number,
  options: ParseDecimalOptions,
): bigint {
  const { field } = options;
  if (typeof text !== 'string') {
    const shown = typeof text === 'number' ? ` (got the number ${String(text)})` : '';
    throw new FulcrumError(
      'invalid_number',
      `${field} must be a decimal string such as "12.5"${shown}`,
      field,
    );
  }
  if (text.length > DECIMAL_TEXT_LENGTH_MAX) {
    throw new FulcrumError(
      'invalid_number',
      `${field} is longer than ${DECIMAL_TEXT_LENGTH_MAX} characters`,
      field,
    );
  }
  const match = DECIMAL_PATTERN.exec(text);
  if (match === null) {
    throw new FulcrumError(
      'invalid_number',
      `${field} is not a plain decimal number: ${JSON.stringify(text)}`,
      field,
    );
  }
  const [, sign = '', whole = '0', fraction = ''] = match;
  if (sign === '-' && options.signed !== true) {
    throw new FulcrumError('invalid_number', `${field} must not be negative: ${text}`, field);
  }
  const kept = fraction.slice(0, decimals);
  const dropped = fraction.slice(decimals);
  if (/[^0]/.test(dropped)) {
    throw new FulcrumError(
      'too_many_decimals',
      `${field} has more than ${decimals} decimal places: ${text}`,
      field,
    );
  }
  const magnitude = BigInt(whole) * pow10(decimals) + BigInt(kept.padEnd(decimals, '0') || '0');
  const value = sign === '-' ? -magnitude : magnitude;
  checkRange(value, decimals, options);
  return value;
}

function checkRange(value: bigint, decimals: number, options: ParseDecimalOptions): void {
  const { field, min, max } = options;
  if (min !== undefined && value < min) {
    throw new FulcrumError(
      'invalid_number',
      `${field} must be at least ${formatDecimal(min, decimals)}`,
      field,
    );
  }
  if (max !== undefined && value > max) {
    throw new FulcrumError(
      'invalid_number',
      `${field} must be at most ${formatDecimal(max, decimals)}`,
      field,
    );
  }
}

/**
 * Formats a bigint scaled by 10^decimals as a plain decimal string, trailing zeros trimmed.
 * The result parses back to the same bigint with {@link parseDecimal}.
 *
 * @example
 * formatDecimal(1_500_000n, 6); // "1.5"
 * formatDecimal(-5n, 2); // "-0.05"
 */
export function formatDecimal(value: bigint, decimals: number): string {
  const negative = value < 0n;
  let digits = (negative ? -value : value).toString();
  if (digits.length <= decimals) digits = digits.padStart(decimals + 1, '0');
  const point = digits.length - decimals;
  // Trailing zeros of the fraction go (a loop: every journaled amount passes through here).
  let end = digits.length;
  while (end > point && digits.charCodeAt(end - 1) === 48) end--;
  const body =
    end > point ? `${digits.slice(0, point)}.${digits.slice(point, end)}` : digits.slice(0, point);
  return negative ? `-${body}` : body;
}
