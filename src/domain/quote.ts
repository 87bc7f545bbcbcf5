/**
 * User input quoted in messages: short, on one line, and never more than a bounded length, so
 * that an error about a 100 MB key or a value with a newline is still one short line.
 */

/** Most characters of user input a message quotes before it cuts with an ellipsis. */
export const QUOTED_INPUT_MAX = 64;

/**
 * `value` as a message quotes it: strings in double quotes with control characters, quotes
 * and backslashes escaped (as JSON writes them), cut at {@link QUOTED_INPUT_MAX} characters
 * with `…` and the full length; other values by their JSON form or their type.
 *
 * @example
 * quoteInput('valueOf'); // '"valueOf"'
 * quoteInput('x'.repeat(1e6)); // '"xxxx…" (1000000 characters)'
 */
export function quoteInput(value: unknown, max = QUOTED_INPUT_MAX): string {
  if (typeof value === 'string') {
    const cut = value.length > max;
    const shown = JSON.stringify(cut ? value.slice(0, max) : value);
    return cut ? `${shown.slice(0, -1)}…" (${value.length} characters)` : shown;
  }
  if (typeof value === 'bigint') return quoteInput(value.toString(), max);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * A key or field path for a message and an error's `field`: as it is when short and plain,
 * otherwise cut and escaped like {@link quoteInput} (without the quotes when it needs none).
 */
export function fieldName(key: string, max = QUOTED_INPUT_MAX): string {
  // eslint-disable-next-line no-control-regex
  if (key.length <= max && !/[\u0000-\u001f\u007f"\\\u2028\u2029]/.test(key)) return key;
  return quoteInput(key, max);
}
