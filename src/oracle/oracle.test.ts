import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ORACLE_CONFIG as config } from '../domain/oracleConfig.js';
import { PRICE_SCALE } from '../math/fixed.js';
import {
  advanceDelay,
  aggregate,
  breakerFrozen,
  delayPrice,
  followStable,
  gradeAt,
  initialOracleState,
  type OracleState,
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

describe('aggregate: worked examples (quorum 2, 60 s, 5% deviation, 2% spread, 2% confidence)', () => {
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
      'two sources 1.5% apart agree: half the spread is 0.74% of 2015',
      [q('a', 2000), q('b', 2030)],
      'valid',
      P(2015),
    ],
    // 2080 / 2000 − 1 = 4% > 2%: neither is a majority of the two, so no price
    [
      'two sources 4% apart do not agree',
      [q('a', 2000), q('b', 2080)],
      'insufficientSources',
      null,
    ],
    [
      'far from the reference price is too volatile',
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
        // sources that agree: within 2% of each other (2040 / 2000 − 1 = 2%)
        fc.array(fc.integer({ min: 2_000, max: 2_040 }), { minLength: 3, maxLength: 9 }),
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

describe('aggregate: the agreeing majority (fewer than a third of the sources faulty)', () => {
  const legacy = { ...config, maxSpreadRay: null };
  it.each([
    // name, quotes, grade, price, used
    [
      // 2080 / 2000 − 1 = 4% > 2%: two groups of two, neither more than half of four
      'four sources, two colluding 4% up: refused, the price stays',
      [q('a', 2000), q('b', 2000), q('c', 2080), q('d', 2080)],
      'insufficientSources',
      null,
      [],
    ],
    [
      // two of four at −4%: the same split the other way
      'four sources, two colluding 4% down: refused',
      [q('a', 1920), q('b', 1920), q('c', 2000), q('d', 2000)],
      'insufficientSources',
      null,
      [],
    ],
    [
      // one faulty of four (n = 4 >= 3f + 1): the three honest ones are the group
      'four sources, one 4% up: the other three',
      [q('a', 2000), q('b', 2000), q('c', 2000), q('d', 2080)],
      'valid',
      P(2000),
      ['a', 'b', 'c'],
    ],
    [
      // a colluding pair that stays within 2% of the others joins them: (2000 + 2030) / 2
      'four sources, two 1.5% up: one group, moved by at most half the spread',
      [q('a', 2000), q('b', 2000), q('c', 2030), q('d', 2030)],
      'valid',
      P(2015),
      ['a', 'b', 'c', 'd'],
    ],
    [
      // 3 of 5 agree within 0.1%: more than half; the median of 2000, 2001, 2002
      'five sources, two colluding 4% up: the honest three',
      [q('a', 2000), q('b', 2001), q('c', 2002), q('d', 2080), q('e', 2080)],
      'valid',
      P(2001),
      ['a', 'b', 'c'],
    ],
    [
      // {2000, 2040} spans 2.00%, {2040, 2080} 1.96%: equal sizes, the narrower wins
      'two groups of the same size: the narrower',
      [q('a', 2000), q('b', 2040), q('c', 2080)],
      'valid',
      P(2060),
      ['b', 'c'],
    ],
    [
      // a stale source counts in no majority: of the two fresh, both agree
      'majority of the fresh sources only',
      [q('a', 2000), q('b', 2004), q('c', 2500, 900)],
      'valid',
      P(2002),
      ['a', 'b'],
    ],
  ] as const)('%s', (_name, quotes, grade, price, used) => {
    const result = aggregate(quotes, 1000, config, stable);
    expect(result.grade).toBe(grade);
    expect(result.price).toBe(price);
    expect(result.used).toEqual(used);
  });

  it('without the agreement rule (maxSpread null) an even count averages the middle two', () => {
    // the oracle of a listing stored before the rule: a pair at +4% moves the price 2%
    const result = aggregate(
      [q('a', 2000), q('b', 2000), q('c', 2080), q('d', 2080)],
      1000,
      legacy,
      stable,
    );
    expect(result.price).toBe(P(2040));
  });

  it('a faulty minority (n >= 3f + 1) moves the price by no more than the honest spread', () => {
    fc.assert(
      fc.property(
        // at least the quorum of two
        fc.integer({ min: 2, max: 16 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 16, maxLength: 16 }),
        fc.array(fc.integer({ min: -1_000_000, max: 1_000_000_000 }), {
          minLength: 5,
          maxLength: 5,
        }),
        fc.nat(),
        (n, offsets, faultyCents, order) => {
          const f = Math.min(Math.floor((n - 1) / 3), faultyCents.length);
          // honest prices within 2% of each other: 2000 to 2040
          const honest = offsets.slice(0, n - f).map((o) => P(2000 + o));
          const faulty = faultyCents.slice(0, f).map((c) => (BigInt(c) * PRICE_SCALE) / 100n);
          const prices = [...honest, ...faulty];
          // any order of sources: the faulty ones may sort anywhere
          const quotes = prices.map((price, i) => ({
            source: `s${((i + order) % prices.length).toString().padStart(2, '0')}`,
            price,
            confidence: null,
            observedAt: 1000,
          }));
          const result = aggregate(quotes, 1000, config, P(2020));
          const low = honest.reduce((a, b) => (a < b ? a : b));
          const high = honest.reduce((a, b) => (a > b ? a : b));
          expect(result.price).not.toBeNull();
          expect((result.price ?? 0n) >= low && (result.price ?? 0n) <= high).toBe(true);
        },
      ),
    );
  });

  it('half the sources colluding beyond the spread never make a price', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        // 2.1% to 60% away, either side
        fc.integer({ min: 21, max: 600 }),
        fc.boolean(),
        (half, permille, up) => {
          const moved = up ? 2000 * (1 + permille / 1000) : 2000 * (1 - permille / 1000);
          const quotes = [
            ...Array.from({ length: half }, (_, i) => q(`h${i}`, 2000)),
            ...Array.from({ length: half }, (_, i) => q(`x${i}`, moved)),
          ];
          const result = aggregate(quotes, 1000, config, stable);
          expect(result.price).toBeNull();
        },
      ),
    );
  });
});

describe('frozen sources', () => {
  /** Sources from t = 0, listed at `a`'s first price; every 10 s each quotes its price. */
  function run(prices: (t: number) => Record<string, number>, until: number, own = config) {
    let state: OracleState = initialOracleState(P(prices(0).a ?? 0), 0, own);
    let last = null as ReturnType<typeof takeQuote> | null;
    for (let t = 0; t <= until; t += 10) {
      for (const [source, price] of Object.entries(prices(t))) {
        last = takeQuote(state, q(source, price, t), t, own);
        state = last.state;
      }
    }
    return last as ReturnType<typeof takeQuote>;
  }
  // a repeats 2000 with fresh times; b and c rise 1 every 10 s (0.05%)
  const aFrozen = (t: number) => ({ a: 2000, b: 2000 + t / 10, c: 2001 + t / 10 });

  it.each([
    // name, until, frozen, price
    // at 300 s a has been unchanged for 300 s, not more: it still counts (2000, 2030, 2031)
    ['at the span, a frozen source still counts', 300, [], P(2030)],
    // at 310 s: unchanged 310 s > 300 while b and c (2 of 3, more than half) changed within it:
    // a is left out, the price is the median of 2031 and 2032
    ['past it, left out', 310, ['a'], P(2031.5)],
    // an hour on, b and c 18% up: a is still out (before, only the 5% outlier bound caught it)
    ['long after, still out', 3600, ['a'], P(2360.5)],
  ] as const)('%s', (_name, until, frozen, price) => {
    const { aggregation } = run(aFrozen, until);
    expect(aggregation.frozen).toEqual(frozen);
    expect(aggregation.price).toBe(price);
  });

  it('a flat market freezes nothing: every source unchanged for an hour', () => {
    const { aggregation } = run(() => ({ a: 1, b: 1, c: 1 }), 3600);
    expect(aggregation).toMatchObject({ grade: 'valid', frozen: [], price: P(1) });
  });

  it('nor does one source flickering in a flat market (one of three moving is no majority)', () => {
    const flicker = (t: number) => ({ a: t % 20 === 0 ? 1.0001 : 1, b: 1, c: 1 });
    const { aggregation } = run(flicker, 3600);
    expect(aggregation).toMatchObject({ grade: 'valid', frozen: [], price: P(1) });
  });

  it('maxUnchangedSeconds 0 turns it off', () => {
    const { aggregation } = run(aFrozen, 3600, { ...config, maxUnchangedSeconds: 0 });
    expect(aggregation.frozen).toEqual([]);
  });

  it('a source that moves again is taken back at once', () => {
    const back = (t: number) => ({ ...aFrozen(t), a: t < 600 ? 2000 : 2000 + t / 10 });
    const { aggregation } = run(back, 600);
    expect(aggregation.frozen).toEqual([]);
    expect(aggregation.used).toEqual(['a', 'b', 'c']);
  });
});

describe('delay price', () => {
  // three intervals of an hour, each average within 6% of the one before
  const own = { ...config, delayIntervals: 3, delayIntervalSeconds: 3600 };
  const listed = initialOracleState(P(100), 0, own);
  const adopted = (state: OracleState, price: number, at: number): OracleState => ({
    ...state,
    ...advanceDelay(state, at, own),
    price: P(price),
    stableAt: at,
  });

  it('is the listing price until an interval closes', () => {
    expect(listed.delayPrices).toEqual([P(100), P(100), P(100)]);
    expect(delayPrice(listed)).toBe(P(100));
  });

  it('averages the price over each whole interval, by time held', () => {
    // 100 held [0, 1800), 110 from 1800; at 4500 interval 0 closes:
    // (100 × 1800 + 110 × 1800) / 3600 = 105, within 6% of 100
    const state = adopted(adopted(listed, 110, 1800), 120, 4500);
    expect(state.delayPrices).toEqual([P(105), P(100), P(100)]);
    // the open interval 1 holds 110 × 900 s so far
    expect([state.delayInterval, state.delaySum, state.delaySeconds]).toEqual([
      1,
      P(110) * 900n,
      900,
    ]);
    // the window's mean: (105 + 100 + 100) / 3, rounded down
    expect(delayPrice(state)).toBe((P(105) + P(200)) / 3n);
  });

  it('moves each interval by at most 6% of the one before', () => {
    // 200 held through interval 0: its average 200 becomes 100 × 1.06 = 106; interval 1, also
    // all at 200, becomes 106 × 1.06 = 112.36
    const state = adopted(adopted(listed, 200, 0), 200, 7200);
    expect(state.delayPrices).toEqual([P(106), P(112.36), P(100)]);
  });

  it('after a gap longer than the window, refills from where it was, no faster', () => {
    // 200 from 0 to 10 hours: interval 0 closes (106), then of the nine whole intervals after
    // it only the last three (7, 8, 9), each 6% above the one before: 112.36, 119.1016,
    // 126.247696, at indices 7, 8, 9 mod 3
    const state = adopted(adopted(listed, 200, 0), 200, 36_000);
    expect(state.delayInterval).toBe(10);
    expect(state.delayPrices).toEqual([P(126.247696), P(112.36), P(119.1016)]);
  });

  it('slows the stable price by (lower / higher of stable and delay price)²', () => {
    // 10 s toward 3000 at 0.03%/s: 2000 × 0.0003 × 10 = 6, times the factor
    expect(followStable(P(2000), P(3000), 10, config, null)).toBe(P(2006));
    expect(followStable(P(2000), P(3000), 10, config, P(2000))).toBe(P(2006));
    // delay 1000: (1000 / 2000)² = 1/4, so 1.5
    expect(followStable(P(2000), P(3000), 10, config, P(1000))).toBe(P(2001.5));
    // delay 4000: (2000 / 4000)² = 1/4 the other way
    expect(followStable(P(2000), P(1000), 10, config, P(4000))).toBe(P(1998.5));
  });

  it('a price held far up is followed more slowly than by the plain rate limiter', () => {
    // two sources jump 2000 -> 2900 (+45%, under the 50% too-volatile gap) and hold it
    const hold = (own: typeof config) => {
      let state = initialOracleState(P(2000), 0, own);
      for (let t = 10; t <= 1800; t += 10) {
        state = takeQuote(state, q('a', 2900, t), t, own).state;
        state = takeQuote(state, q('b', 2900, t), t, own).state;
      }
      return state;
    };
    const plain = hold({ ...config, delayIntervals: 0 });
    const delayed = hold(config);
    // the plain limiter gains 0.03% a second: 2000 × 1.003^180 > 2900 within 30 minutes
    expect(plain.stablePrice).toBe(P(2900));
    // behind it, the delay price is still the listing's 2000, and the stable price slows as it
    // parts from it
    expect(delayPrice(delayed)).toBe(P(2000));
    expect(delayed.stablePrice < P(2900)).toBe(true);
  });
});

describe('volatility reference price: the too-volatile grade is not slowed by the delay price', () => {
  /**
   * A steady crash: sources a and b quote every 10 s from t = 10 a price that falls 0.25% each
   * time (1.49% a minute, exact cents rounded down), with confidence `confidencePermille` of it.
   * The plain rate limiter (0.03% a second, 0.3% a step) keeps up; the stable price, slowed by
   * (stable / delay price)² as it parts from the day's average of 2000, falls behind.
   */
  function crash(until: number, own = config, confidencePermille = 0n) {
    let state = initialOracleState(P(2000), 0, own);
    let cents = 200_000n;
    let last = null as ReturnType<typeof takeQuote> | null;
    for (let t = 10; t <= until; t += 10) {
      cents = (cents * 9975n) / 10_000n;
      const price = (cents * PRICE_SCALE) / 100n;
      for (const source of ['a', 'b']) {
        const confidence = (price * confidencePermille) / 1000n;
        last = takeQuote(state, { source, price, confidence, observedAt: t }, t, own);
        state = last.state;
      }
    }
    return last as ReturnType<typeof takeQuote>;
  }
  const plain = { ...config, delayIntervals: 0 };

  it.each([
    // name, confidence (permille of the price), grade
    ['agreeing sources: valid', 0n, 'valid'],
    // 2.5% > 2%: too uncertain, which (by default) still allows liquidation
    ['a wide confidence: too uncertain', 25n, 'tooUncertain'],
  ] as const)(
    'after 100 minutes, %s, where the stable price would say too volatile',
    (_n, c, grade) => {
      const { state, aggregation } = crash(6000, config, c);
      const price = state.price;
      expect(aggregation.grade).toBe(grade);
      // the stable price, which initial margin uses, is the slowed one: more than 50% above the
      // price (graded against it, the price would be too volatile: liquidation stopped)
      expect(state.stablePrice > 2n * price).toBe(true);
      expect(aggregate(state.quotes, 6000, config, state.stablePrice).grade).toBe('tooVolatile');
      // the reference is the plain limiter's, exactly: the stable price with the delay price off
      const before = crash(6000, plain, c);
      expect(state.volatilityReferencePrice).toBe(before.state.stablePrice);
      expect(before.aggregation.grade).toBe(grade);
      // which keeps within one step of the price: 0.25% behind, at most
      expect(state.volatilityReferencePrice >= price).toBe(true);
      expect((state.volatilityReferencePrice - price) * 400n <= price).toBe(true);
    },
  );

  it('a newly listed asset starts it at the listing price', () => {
    expect(initialOracleState(P(2000), 0).volatilityReferencePrice).toBe(P(2000));
  });

  it('grades, prices and the reference are those of the plain limiter, whatever the quotes', () => {
    // short intervals, so that the delay price moves within a run
    const delayed = { ...config, delayIntervals: 3, delayIntervalSeconds: 600 };
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            // the market's move this step, in permille: a walk down or up, now and then a jump
            move: fc.oneof(fc.integer({ min: -40, max: 30 }), fc.integer({ min: -600, max: 600 })),
            gap: fc.integer({ min: 0, max: 300 }),
            // c's own price, in permille off the market's; a's age
            skew: fc.integer({ min: -60, max: 60 }),
            age: fc.integer({ min: 0, max: 70 }),
          }),
          { minLength: 1, maxLength: 150 },
        ),
        (steps) => {
          let on = initialOracleState(P(2000), 0, delayed);
          let off = initialOracleState(P(2000), 0, plain);
          let cents = 200_000n;
          let t = 0;
          for (const step of steps) {
            t += step.gap;
            const next = (cents * BigInt(1000 + step.move)) / 1000n;
            cents = next > 0n ? next : 1n;
            const price = (cents * PRICE_SCALE) / 100n;
            const quotes: SourceQuote[] = [
              { source: 'a', price, confidence: null, observedAt: t - step.age },
              { source: 'b', price, confidence: null, observedAt: t },
              {
                source: 'c',
                price: (price * BigInt(1000 + step.skew)) / 1000n,
                confidence: null,
                observedAt: t,
              },
            ];
            for (const quote of quotes) {
              const a = takeQuote(on, quote, t, delayed);
              const b = takeQuote(off, quote, t, plain);
              on = a.state;
              off = b.state;
              expect(a.aggregation).toEqual(b.aggregation);
              expect([on.price, on.volatilityReferencePrice]).toEqual([off.price, off.stablePrice]);
              expect(off.volatilityReferencePrice).toBe(off.stablePrice);
            }
          }
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
