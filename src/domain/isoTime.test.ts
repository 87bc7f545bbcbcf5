import { describe, expect, it } from 'vitest';
import { isoUtcMillis } from './isoTime.js';

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
    ]) {
      expect(isoUtcMillis(text), text).toBeUndefined();
    }
  });
});
