/**
 * The command line's options read strictly: one parser for every number and one for every date,
 * so that `0x10`, `" 1"`, `1e3`, `Infinity` or `2021-02-30` is refused by every command alike
 * instead of being read the way `Number` or `Date.parse` happens to read it.
 */
import { quoteInput } from '../domain/quote.js';
import { isoUtcMillis } from '../math/time.js';
import { CliError, EXIT } from './io.js';

/** A plain decimal: digits, an optional fraction, no sign, exponent, spaces or leading zeros. */
const DECIMAL = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const WHOLE = /^(0|[1-9][0-9]*)$/;

/** The numbers an option accepts. */
export interface NumberRange {
  readonly min: number;
  readonly max: number;
  /** The minimum itself is refused: `{ min: 0, above: true }` is "above 0". */
  readonly above?: boolean;
  /** The maximum itself is refused. */
  readonly below?: boolean;
  /** Whole numbers only. */
  readonly whole?: boolean;
}

/** The range in words: "a whole number from 1 to 2000000", "above 0 and at most 10". */
function describeRange(range: NumberRange): string {
  const { min, max, above = false, below = false } = range;
  const bounds =
    above && below
      ? `between ${min} and ${max}, both excluded`
      : above
        ? `above ${min} and at most ${max}`
        : below
          ? `at least ${min} and below ${max}`
          : `from ${min} to ${max}`;
  return range.whole === true ? `a whole number ${bounds}` : bounds;
}

/**
 * `text`, the value of `--option`, as a number in `range`; a usage error naming the option and
 * quoting the value otherwise.
 *
 * @example
 * numberOption('300', 'accounts', { min: 1, max: 2_000_000, whole: true }); // 300
 * numberOption('0x10', 'accounts', { min: 1, max: 2_000_000, whole: true }); // throws
 */
export function numberOption(text: string, option: string, range: NumberRange): number {
  const fail = (message: string): never => {
    throw new CliError(`--${option} ${message} (got ${quoteInput(text)})`, EXIT.usage, {
      code: 'invalid_number',
      field: `--${option}`,
    });
  };
  const whole = range.whole === true;
  if (text.startsWith('-') && (whole ? WHOLE : DECIMAL).test(text.slice(1))) {
    fail('must not be negative');
  }
  if (!(whole ? WHOLE : DECIMAL).test(text)) {
    fail(whole ? 'must be a whole number' : 'must be a plain decimal number such as 0.5');
  }
  const value = Number(text);
  const { min, max, above = false, below = false } = range;
  const inside =
    Number.isFinite(value) &&
    (above ? value > min : value >= min) &&
    (below ? value < max : value <= max);
  if (!inside || (whole && !Number.isSafeInteger(value))) fail(`must be ${describeRange(range)}`);
  return value;
}

/** {@link numberOption} for an option that may be left out: `fallback` then. */
export function optionalNumber(
  text: string | undefined,
  option: string,
  range: NumberRange,
  fallback: number,
): number {
  return text === undefined ? fallback : numberOption(text, option, range);
}

/**
 * `text`, the value of `--option`, as unix seconds: an ISO-8601 UTC date (midnight) or time
 * that names a real instant (`2021-02-30` and `T24:00:00Z` are refused, not rolled over).
 */
export function dateOption(text: string, option: string): number {
  const ms = isoUtcMillis(text);
  if (ms === undefined || ms % 1000 !== 0) {
    throw new CliError(
      `--${option} must be an ISO date such as 2020-03-12 or time such as 2020-03-12T06:00:00Z, a real one (got ${quoteInput(text)})`,
      EXIT.usage,
      { code: 'invalid_field', field: `--${option}` },
    );
  }
  return ms / 1000;
}
