import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ORACLE_CONFIG as config } from '../domain/oracleConfig.js';
import { PRICE_SCALE } from '../math/fixed.js';
import {
  aggregate,
  breakerFrozen,
  followStable,
  gradeAt,
  initialOracleState,
  type SourceQuote,
  takeQuote,
} from './oracle.js';

const P = (n: number | string) => (BigInt(Math.round(Number(n) * 1e6)) * PRICE_SCALE) / 1_000_000n;
const q = (source: string, price: number, observedAt = 1000, confidence?: number): SourceQuote => ({
  source,
  price: P(price),
  confidence: confidence === undefined ? null : P(confidence),
  observedAt,
});
const stable = P(2000);

describe('aggregate: worked examples (defaults: quorum 2, 60 s, 5% deviation, 2% confidence)', () => {
  it.each([
    // name, quotes, grade, price
    ['median of three', [q('a', 2000), q('b', 2010), q('c', 1990)], 'valid', P(2000)],
    ['median of two is their midpoint', [q('a', 2000), q('b', 2010)], 'valid', P(2005)],
    ['a source 50% off is rejected', [q('a', 2000), q('b', 2010), q('c', 1000)], 'valid', P(2005)],
    [
      'one fresh source is not enough',
      [q('a', 2000), q('b', 2010, 900)],
      'insufficientSources',
      null,
    ],
    ['no fresh source is stale', [q('a', 2000, 900), q('b', 2010, 930)], 'stale', null],
    ['a non-positive median', [q('a', -5), q('b', 0), q('c', 2000)], 'nonPositive', null],
    [
      'wide confidence is too uncertain',
      [q('a', 2000, 1000, 50), q('b', 2000, 1000, 50)],
      'tooUncertain',
      P(2000),
    ],
    [
      'two sources 4% apart: half the spread is 1.96% of 2040',
      [q('a', 2000), q('b', 2080)],
      'valid',
      P(2040),
    ],
    [
      'far from the stable price is too volatile',
      [q('a', 3200), q('b', 3210)],
      'tooVolatile',
      P(3205),
    ],
  ] as const)('%s', (_name, quotes, grade, price) => {
    const result = aggregate(quotes, 1000, config, stable);
    expect(result.grade).toBe(grade);
    expect(result.price).toBe(price);
  });

  it('records which sources made the price and which were rejected', () => {
    const result = aggregate([q('a', 2000), q('b', 2010), q('c', 3000)], 1000, config, stable);
    expect(result.used).toEqual(['a', 'b']);
    expect(result.rejected).toEqual(['c']);
    // fresh until the oldest quote used turns 60 s old
    expect(result.freshUntil).toBe(1060);
  });

  it('the price lies within the kept quotes, and an outlier never moves it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1_900, max: 2_100 }), { minLength: 3, maxLength: 9 }),
        fc.integer({ min: 1, max: 100_000 }),
        (prices, outlier) => {
          const quotes = prices.map((p, i) => q(`s${i}`, p));
          const base = aggregate(quotes, 1000, config, stable);
          const kept = prices.map(P);
          expect(base.price !== null && base.price >= kept.reduce((a, b) => (a < b ? a : b))).toBe(
            true,
          );
          expect(base.price !== null && base.price <= kept.reduce((a, b) => (a > b ? a : b))).toBe(
            true,
          );
          fc.pre(outlier < 1_500 || outlier > 2_500);
          // One wild source among at least three honest ones is rejected outright.
          const withOutlier = aggregate([...quotes, q('x', outlier)], 1000, config, stable);
          expect(withOutlier.rejected).toContain('x');
        },
      ),
    );
  });
});

describe('stable price', () => {
  it('follows at most 0.03% of itself a second, over steps of at most 600 s', () => {
    // 10 s toward a price 10% away: 2000 × 0.0003 × 10 = 6
    expect(followStable(P(2000), P(2200), 10, config)).toBe(P(2006));
    expect(followStable(P(2000), P(1800), 10, config)).toBe(P(1994));
    // close enough: it reaches the price
    expect(followStable(P(2000), P(2003), 10, config)).toBe(P(2003));
    // after an hour's gap it moves only 600 s' worth: 2000 × 0.0003 × 600 = 360
    expect(followStable(P(2000), P(1000), 3600, config)).toBe(P(1640));
  });
});

describe('takeQuote: breaker and staleness', () => {
  it('trips on a 25% move within 5 minutes, freezes for 10, resets on a later quote', () => {
    let state = initialOracleState(P(2000), 0);
    state = takeQuote(state, q('a', 2000, 10), 10, config).state;
    state = takeQuote(state, q('b', 2000, 10), 10, config).state;
    expect(state.grade).toBe('valid');
    // both sources fall 30% a minute later: a genuine gap, and the breaker trips
    state = takeQuote(state, q('a', 1400, 70), 70, config).state;
    const trip = takeQuote(state, q('b', 1400, 70), 70, config);
    expect(trip.breaker).toEqual([{ kind: 'tripped', from: P(2000), to: P(1400) }]);
    state = trip.state;
    expect(breakerFrozen(state, 70, config)).toBe(true);
    expect(breakerFrozen(state, 669, config)).toBe(true);
    expect(breakerFrozen(state, 670, config)).toBe(false);
    const later = takeQuote(state, q('a', 1400, 700), 700, config);
    expect(later.breaker).toEqual([{ kind: 'reset' }]);
  });

  it('a price turns stale when a quote behind it ages past 60 s', () => {
    let state = initialOracleState(P(2000), 0);
    expect(gradeAt(state, 0)).toBe('stale'); // listed, no quotes yet
    state = takeQuote(state, q('a', 2000, 100), 100, config).state;
    state = takeQuote(state, q('b', 2000, 100), 100, config).state;
    expect(gradeAt(state, 160)).toBe('valid');
    expect(gradeAt(state, 161)).toBe('stale');
  });

  it('a grade without a new price keeps the last price', () => {
    let state = initialOracleState(P(2000), 0);
    state = takeQuote(state, q('a', 2000, 100), 100, config).state;
    state = takeQuote(state, q('b', 2000, 100), 100, config).state;
    // both sources post zero: the median is not positive, the price stays
    state = takeQuote(state, q('a', 0, 110), 110, config).state;
    const update = takeQuote(state, q('b', 0, 110), 110, config);
    expect(update.aggregation.grade).toBe('nonPositive');
    expect(update.state.price).toBe(P(2000));
    expect(gradeAt(update.state, 120)).toBe('nonPositive');
  });
});
