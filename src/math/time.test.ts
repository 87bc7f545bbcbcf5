import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  barSeconds,
  DAY_SECONDS,
  isoUtc,
  isoUtcMillis,
  isoZonedMillis,
  SECONDS_PER_YEAR,
  utcFields,
  YEAR_SECONDS,
} from './time.js';

describe('the year', () => {
  it('is 365 days, as a number and as a bigint', () => {
    expect(YEAR_SECONDS).toBe(365 * DAY_SECONDS);
    expect(SECONDS_PER_YEAR).toBe(BigInt(YEAR_SECONDS));
  });
});

describe('isoUtcMillis', () => {
  it('reads every shape it accepts as the instant it names', () => {
    expect(isoUtcMillis('2020-03-12')).toBe(Date.UTC(2020, 2, 12));
    expect(isoUtcMillis('2020-03-12T06:07Z')).toBe(Date.UTC(2020, 2, 12, 6, 7));
    expect(isoUtcMillis('2020-03-12T06:07:08Z')).toBe(Date.UTC(2020, 2, 12, 6, 7, 8));
    expect(isoUtcMillis('2020-03-12T06:07:08.5Z')).toBe(Date.UTC(2020, 2, 12, 6, 7, 8, 500));
    expect(isoUtcMillis('2000-02-29')).toBe(Date.UTC(2000, 1, 29)); // divisible by 400
    expect(isoUtcMillis('9999-12-31T23:59:59Z')).toBe(253_402_300_799_000);
    expect(isoUtcMillis('1970-01-01')).toBe(0);
  });

  it('refuses what Date.parse rolls over or reads by the platform', () => {
    for (const text of [
      '2021-02-30',
      '1900-02-29', // divisible by 100, not by 400
      '2021-02-29',
      '2020-06-31',
      '2020-03-12T24:00:00Z',
      '2020-03-12T23:60Z',
      '2020-03-12T23:59:60Z',
      '2020-03-12T06:07:08',
      '2020-03-12 06:07:08Z',
      '2020-3-12',
      '1969-12-31T23:59:59Z',
      '10000-01-01',
      '2020-03-12T06:07:08+00:00', // UTC only: no offsets
      '2020-03-12T06:07:08.1234Z', // to the millisecond at most
    ]) {
      expect(isoUtcMillis(text), text).toBeUndefined();
    }
  });
});

/** Two digits, or four for `width` 4. */
const digits = (n: number, width = 2): string => String(n).padStart(width, '0');

/** An ISO-8601 time that exists, with a fraction of up to nine digits and any zone. */
const existingIsoTime = fc
  .record({
    year: fc.integer({ min: 100, max: 9999 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    second: fc.integer({ min: 0, max: 59 }),
    fraction: fc.option(fc.stringMatching(/^[0-9]{1,9}$/), { nil: undefined }),
    zone: fc.oneof(
      fc.constant('Z'),
      fc
        .tuple(
          fc.constantFrom('+', '-'),
          fc.integer({ min: 0, max: 23 }),
          fc.integer({ min: 0, max: 59 }),
        )
        .map(([sign, h, m]) => `${sign}${digits(h)}:${digits(m)}`),
    ),
  })
  .map((t) => {
    const date = `${digits(t.year, 4)}-${digits(t.month)}-${digits(t.day)}`;
    const fraction = t.fraction === undefined ? '' : `.${t.fraction}`;
    return `${date}T${digits(t.hour)}:${digits(t.minute)}:${digits(t.second)}${fraction}${t.zone}`;
  });

describe('isoZonedMillis', () => {
  it('reads a time with its offset as the instant it names', () => {
    // 02:10 at +02:00 is 00:10 UTC; 19:40 at -04:30 is 00:10 the next day.
    expect(isoZonedMillis('2020-03-12T02:10:00+02:00')).toBe(Date.UTC(2020, 2, 12, 0, 10));
    expect(isoZonedMillis('2020-03-11T19:40-04:30')).toBe(Date.UTC(2020, 2, 12, 0, 10));
    expect(isoZonedMillis('2020-03-12T00:10:00-00:00')).toBe(Date.UTC(2020, 2, 12, 0, 10));
    expect(isoZonedMillis('2020-03-12')).toBe(Date.UTC(2020, 2, 12));
    // Nine digits of a second, read to the millisecond.
    expect(isoZonedMillis('2020-03-12T00:00:00.123456789Z')).toBe(Date.UTC(2020, 2, 12) + 123);
    expect(isoZonedMillis('1969-12-31')).toBe(-DAY_SECONDS * 1000);
  });

  it('agrees with Date.parse on every time that exists', () => {
    fc.assert(
      fc.property(existingIsoTime, (text) => {
        expect(isoZonedMillis(text)).toBe(Date.parse(text));
      }),
    );
  });

  it('refuses a time that does not exist, an offset past 23:59 and a time without a zone', () => {
    for (const text of [
      '2021-02-30',
      '2020-03-12T24:00:00Z',
      '2020-03-12T23:59:60+01:00',
      '2020-03-12T10:00:00+24:00',
      '2020-03-12T10:00:00+23:60',
      '2020-03-12T10:00:00',
      '2020-03-12T10:00',
      '2020-03-12T10:00:00.1234567890Z',
      '0099-12-31',
      '10000-01-01',
    ]) {
      expect(isoZonedMillis(text), text).toBeUndefined();
    }
  });
});

describe('isoUtc', () => {
  it('writes UTC times as Date does, across leap years and before 1970', () => {
    for (let t = -2_208_988_800; t < 4_102_444_800; t += 7_654_321) {
      expect(isoUtc(t)).toBe(new Date(t * 1000).toISOString().replace('.000Z', 'Z'));
    }
    expect(isoUtc(1_583_971_200)).toBe('2020-03-12T00:00:00Z');
    expect(isoUtc(951_782_400)).toBe('2000-02-29T00:00:00Z');
    expect(isoUtc(1_583_971_200.75)).toBe('2020-03-12T00:00:00Z'); // a fraction is cut
  });

  it('gives the calendar fields', () => {
    expect(utcFields(1_583_992_800 + 7 * 60 + 8)).toEqual({
      year: 2020,
      month: 3,
      day: 12,
      hour: 6,
      minute: 7,
      second: 8,
    });
  });
});

describe('barSeconds', () => {
  it('is the smallest gap between bars, 60 for a single bar', () => {
    expect(barSeconds([{ time: 0 }, { time: 3600 }, { time: 5400 }, { time: 9000 }])).toBe(1800);
    expect(barSeconds([{ time: 60 }])).toBe(60);
  });
});
