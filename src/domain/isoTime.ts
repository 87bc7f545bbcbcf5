/**
 * ISO-8601 UTC times at the boundary, read strictly. `Date.parse` rolls an impossible date over
 * (`2021-02-30` becomes 2 March, `T24:00:00Z` the next day) and reads other shapes by the
 * platform's rules; a time here is either exactly the instant its text names or refused.
 */

/** Earliest and latest year accepted: unix time 0 to the engine's last second (year 9999). */
export const ISO_YEAR_MIN = 1970;
export const ISO_YEAR_MAX = 9999;

/** `YYYY-MM-DD`, optionally `THH:MM`, `:SS` and `.fff`, then `Z`. */
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?Z)?$/;

/** Days in `month` (1-12) of `year`, by the Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Unix milliseconds of an ISO-8601 UTC date (`2020-03-12`, midnight) or time
 * (`2020-03-12T06:00Z`, `2020-03-12T06:00:00Z`, `2020-03-12T06:00:00.250Z`); undefined for
 * anything else: another shape, a day the month does not have, an hour of 24, a minute or
 * second of 60, a year outside {@link ISO_YEAR_MIN}..{@link ISO_YEAR_MAX}.
 *
 * @example
 * isoUtcMillis('2020-03-12T06:00:00Z'); // 1583992800000
 * isoUtcMillis('2021-02-30'); // undefined
 */
export function isoUtcMillis(text: string): number | undefined {
  const match = ISO_UTC.exec(text);
  if (match === null) return undefined;
  const [, y = '', mo = '', d = '', h = '0', mi = '0', s = '0', ms = '0'] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const [hour, minute, second] = [Number(h), Number(mi), Number(s)];
  if (year < ISO_YEAR_MIN || year > ISO_YEAR_MAX || month < 1 || month > 12) return undefined;
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, Number(ms.padEnd(3, '0')));
}
