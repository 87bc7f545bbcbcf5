/**
 * Time as Fulcrum counts it: unix seconds, a 365-day year, ISO-8601 UTC text at the boundary.
 *
 * Pure functions of numbers and strings; nothing here reads a clock. Digital assets trade around
 * the clock, every day, so annual interest rates, annual volatility and an option's time to
 * expiry are all quoted over the same 365-day year.
 *
 * Text is read strictly. `Date.parse` rolls an impossible date over (`2021-02-30` becomes
 * 2 March, `T24:00:00Z` the next day) and reads other shapes by the platform's rules; a time
 * here is either exactly the instant its text names or refused.
 */
import { assert } from '../base/errors.js';

/** Seconds in a day. */
export const DAY_SECONDS = 86_400;

/** Seconds in the 365-day year that rates, volatility and option expiries are quoted over. */
export const YEAR_SECONDS = 31_536_000;

/** {@link YEAR_SECONDS} as a bigint, for the exact arithmetic of interest rates. */
export const SECONDS_PER_YEAR = 31_536_000n;

/** Earliest and latest year accepted: unix time 0 to the engine's last second (year 9999). */
export const ISO_YEAR_MIN = 1970;
export const ISO_YEAR_MAX = 9999;

/**
 * `YYYY-MM-DD`, optionally `THH:MM`, `:SS` and a fraction of a second, then the zone: `Z` or an
 * offset `±HH:MM`. Which fractions and zones are accepted is the reader's choice.
 */
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** What one reading of ISO-8601 text accepts beyond `YYYY-MM-DD[THH:MM[:SS]]`. */
interface IsoReading {
  /** Zones other than `Z`. */
  readonly offsets: boolean;
  /** Most digits of a fraction of a second (read to the millisecond, the rest cut). */
  readonly fractionDigitsMax: number;
  readonly yearMin: number;
}

const UTC_READING: IsoReading = { offsets: false, fractionDigitsMax: 3, yearMin: ISO_YEAR_MIN };

const ZONED_READING: IsoReading = { offsets: true, fractionDigitsMax: 9, yearMin: 100 };

/** Days in `month` (1-12) of `year`, by the Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Minutes east of UTC of a zone (`Z`, `+02:00`); undefined past 23:59. */
function zoneMinutes(zone: string): number | undefined {
  if (zone === 'Z') return 0;
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(4, 6));
  if (hours > 23 || minutes > 59) return undefined;
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}

function readIso(text: string, reading: IsoReading): number | undefined {
  const match = ISO_TIME.exec(text);
  if (match === null) return undefined;
  const [, y = '', mo = '', d = '', h = '0', mi = '0', s = '0', fraction = '0', zone = 'Z'] = match;
  if (fraction.length > reading.fractionDigitsMax) return undefined;
  if (zone !== 'Z' && !reading.offsets) return undefined;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const [hour, minute, second] = [Number(h), Number(mi), Number(s)];
  if (year < reading.yearMin || year > ISO_YEAR_MAX || month < 1 || month > 12) return undefined;
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const offset = zoneMinutes(zone);
  if (offset === undefined) return undefined;
  const millisecond = Number(fraction.slice(0, 3).padEnd(3, '0'));
  return Date.UTC(year, month - 1, day, hour, minute, second, millisecond) - offset * 60_000;
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
  return readIso(text, UTC_READING);
}

/**
 * Unix milliseconds of an ISO-8601 date or time in any zone: what {@link isoUtcMillis} reads,
 * and also a time with an offset (`2020-03-12T02:10:00+02:00` is 00:10 UTC), a fraction of a
 * second of up to nine digits (read to the millisecond) and years from 0100, so that a range
 * may start before 1970 to mean from the beginning. Undefined for a date or time that does not
 * exist, as there, and for an offset past 23:59.
 *
 * @example
 * isoZonedMillis('2020-03-12T02:10:00+02:00'); // 1583971800000
 * isoZonedMillis('2020-03-12T10:00:00'); // undefined: a time needs its zone
 */
export function isoZonedMillis(text: string): number | undefined {
  return readIso(text, ZONED_READING);
}

/** The calendar fields of a UTC time: month 1-12, day 1-31, hour 0-23. */
export interface UtcFields {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/**
 * The calendar date of a day count since 1970-01-01 (proleptic Gregorian, H. Hinnant's
 * `civil_from_days`): year, month 1-12, day 1-31.
 */
function civilFromDays(days: number): readonly [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

/**
 * The UTC calendar fields of unix `seconds` (a fraction of a second is cut), computed without a
 * `Date`, before 1970 as after.
 *
 * @example
 * utcFields(1_583_992_800); // { year: 2020, month: 3, day: 12, hour: 6, minute: 0, second: 0 }
 */
export function utcFields(seconds: number): UtcFields {
  assert(Number.isFinite(seconds), 'a time to format must be a finite number of seconds');
  const whole = Math.floor(seconds);
  const days = Math.floor(whole / DAY_SECONDS);
  const ofDay = whole - days * DAY_SECONDS;
  const [year, month, day] = civilFromDays(days);
  const hour = Math.floor(ofDay / 3600);
  const minute = Math.floor((ofDay % 3600) / 60);
  return { year, month, day, hour, minute, second: ofDay % 60 };
}

/**
 * Formats unix seconds as ISO-8601 UTC, to the second (a fraction is cut).
 *
 * @example
 * isoUtc(1_583_971_200); // '2020-03-12T00:00:00Z'
 */
export function isoUtc(seconds: number): string {
  const t = utcFields(seconds);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const date = `${String(t.year).padStart(4, '0')}-${pad(t.month)}-${pad(t.day)}`;
  return `${date}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}Z`;
}

/**
 * The bar length in seconds of a series of bars in time order (each with its open `time` in
 * unix seconds): the smallest gap between consecutive bars (60 for one bar).
 */
export function barSeconds(bars: readonly { readonly time: number }[]): number {
  let step = Number.POSITIVE_INFINITY;
  for (let i = 1; i < bars.length; i++) {
    step = Math.min(step, (bars[i]?.time ?? 0) - (bars[i - 1]?.time ?? 0));
  }
  return Number.isFinite(step) ? step : 60;
}
