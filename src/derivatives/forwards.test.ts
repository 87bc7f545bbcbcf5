/**
 * Forwards by expiry: the index by default, S·e^{rT} with a rate, given forwards read linearly
 * in ln F over time and their last basis held flat beyond; the carry's bounds; and the checks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FulcrumError } from '../base/errors.js';
import { YEAR_SECONDS } from '../math/time.js';
import {
  CARRY_LOG_MAX,
  type CarryMarket,
  carryAt,
  forwardAt,
  settledValue,
  settlementAt,
  validateCarryMarket,
  withIndex,
} from './forwards.js';

const DAY = 86_400;
const MARGINS = { initialMargin: 0.1, maintenanceMargin: 0.05, sizePremium: 0 } as const;
const NOW = 1_900_000_000;

function refusal(run: () => unknown): { code: string; field: string | undefined } {
  try {
    run();
  } catch (error) {
    if (error instanceof FulcrumError) return { code: error.code, field: error.field };
    throw error;
  }
  return { code: 'accepted', field: undefined };
}

describe('forwardAt: worked examples', () => {
  it('nothing given: every expiry reads the index', () => {
    for (const days of [1, 30, 365, 3650])
      expect(forwardAt({ index: 2000 }, NOW + days * DAY, NOW)).toBe(2000);
  });

  it('a rate: S·e^{rT}; 5% for half a year on 2000 is 2000·e^{0.025} = 2050.63', () => {
    const half = NOW + YEAR_SECONDS / 2;
    expect(forwardAt({ index: 2000, rate: 0.05 }, half, NOW)).toBeCloseTo(2050.630241048858, 9);
    // A negative rate (the underlying earns more than the quote): below the index.
    expect(forwardAt({ index: 2000, rate: -0.05 }, half, NOW)).toBeCloseTo(
      2000 * Math.exp(-0.025),
      9,
    );
  });

  it('one forward: its expiry reads it; before it, a third of the way in ln F; beyond, its basis held', () => {
    const market = { index: 2000, forwards: [{ expiry: NOW + 90 * DAY, forward: 2040 }] };
    expect(forwardAt(market, NOW + 90 * DAY, NOW)).toBe(2040);
    // 30 days of 90: ln F = ln 2000 + (1/3)·ln 1.02, F = 2000·1.02^{1/3} = 2013.2454.
    expect(forwardAt(market, NOW + 30 * DAY, NOW)).toBeCloseTo(2013.245419120226, 9);
    // 180 days: the 90-day basis (2% over 90 days) held flat, 2000·1.02² = 2080.8.
    expect(forwardAt(market, NOW + 180 * DAY, NOW)).toBeCloseTo(2080.8, 9);
  });

  it('two forwards: linear in ln F between them (√(2010·2040) halfway), the last basis beyond', () => {
    const market = {
      index: 2000,
      forwards: [
        { expiry: NOW + 30 * DAY, forward: 2010 },
        { expiry: NOW + 90 * DAY, forward: 2040 },
      ],
    };
    // 60 days is halfway from 30 to 90: ln F = (ln 2010 + ln 2040)/2.
    expect(forwardAt(market, NOW + 60 * DAY, NOW)).toBeCloseTo(2024.9444436823446, 9);
    // 15 days, halfway to the first: 2000·(2010/2000)^{1/2} = 2004.9938.
    expect(forwardAt(market, NOW + 15 * DAY, NOW)).toBeCloseTo(2004.9937655763422, 9);
    // 180 days: the last expiry's 2% over 90 days held, 2000·1.02^2, not the 30-to-90 slope.
    expect(forwardAt(market, NOW + 180 * DAY, NOW)).toBeCloseTo(2080.8, 9);
  });

  it('forwards of expiries already past are skipped; at or after expiry the index', () => {
    const market = {
      index: 2000,
      rate: 0.5,
      forwards: [
        { expiry: NOW - DAY, forward: 5000 },
        { expiry: NOW + 90 * DAY, forward: 2040 },
      ],
    };
    expect(forwardAt(market, NOW + 30 * DAY, NOW)).toBeCloseTo(2013.245419120226, 9);
    expect(forwardAt(market, NOW, NOW)).toBe(2000);
    expect(forwardAt(market, NOW - DAY, NOW)).toBe(2000);
    // Every forward past: the rate's S·e^{rT}.
    expect(forwardAt(market, NOW + 200 * DAY, NOW + 100 * DAY)).toBeCloseTo(
      2000 * Math.exp((0.5 * 100 * DAY) / YEAR_SECONDS),
      9,
    );
  });
});

/** A market with 1 to 6 forwards at increasing expiries within ±30% of the index. */
const curveArb = fc
  .record({
    index: fc.double({ min: 1, max: 1e6, noNaN: true }),
    days: fc.uniqueArray(fc.integer({ min: 1, max: 720 }), { minLength: 1, maxLength: 6 }),
    ratios: fc.array(fc.double({ min: 0.7, max: 1.3, noNaN: true }), {
      minLength: 6,
      maxLength: 6,
    }),
  })
  .map(({ index, days, ratios }) => ({
    index,
    forwards: [...days]
      .sort((a, b) => a - b)
      .map((d, i) => ({ expiry: NOW + d * DAY, forward: index * (ratios[i] as number) })),
  }));

describe('forwardAt: properties', () => {
  it('passes through every given forward and between two of them stays between them', () => {
    fc.assert(
      fc.property(curveArb, fc.integer({ min: 1, max: 1000 * DAY }), (market, ahead) => {
        for (const p of market.forwards) expect(forwardAt(market, p.expiry, NOW)).toBe(p.forward);
        const expiry = NOW + ahead;
        const f = forwardAt(market, expiry, NOW);
        expect(f).toBeGreaterThan(0);
        // The bracket, the index standing for time 0.
        const points = [{ expiry: NOW, forward: market.index }, ...market.forwards];
        const next = points.findIndex((p) => p.expiry >= expiry);
        if (next > 0) {
          const a = (points[next - 1] as { forward: number }).forward;
          const b = (points[next] as { forward: number }).forward;
          expect(f).toBeGreaterThanOrEqual(Math.min(a, b) * (1 - 1e-12));
          expect(f).toBeLessThanOrEqual(Math.max(a, b) * (1 + 1e-12));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('is continuous: a second either side of a given expiry reads within a hair of its forward', () => {
    fc.assert(
      fc.property(curveArb, (market) => {
        for (const p of market.forwards) {
          for (const e of [p.expiry - 1, p.expiry + 1]) {
            // ln F moves at most |ln 1.3 − ln 0.7| per day between points: ~7e-6 a second.
            expect(Math.abs(Math.log(forwardAt(market, e, NOW) / p.forward))).toBeLessThan(1e-5);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('moves with the index: the basis is held as a ratio (withIndex)', () => {
    fc.assert(
      fc.property(
        curveArb,
        fc.double({ min: 0.1, max: 10, noNaN: true }),
        fc.integer({ min: 1, max: 1000 * DAY }),
        (market, scale, ahead) => {
          const moved = withIndex(market, market.index * scale);
          const before = forwardAt(market, NOW + ahead, NOW);
          const after = forwardAt(moved, NOW + ahead, NOW);
          expect(Math.abs(after / before - scale)).toBeLessThanOrEqual(1e-12 * scale);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('forwards equal to S·e^{rT} at their expiries read S·e^{rT} everywhere', () => {
    // ln F linear in T through (0, ln S) and points on the line ln S + rT is that line, and
    // beyond the last its basis r is held: the two ways of giving a carry agree.
    fc.assert(
      fc.property(
        curveArb,
        fc.double({ min: -0.5, max: 0.5, noNaN: true }),
        fc.integer({ min: 1, max: 1000 * DAY }),
        (market, rate, ahead) => {
          const t = (e: number) => (e - NOW) / YEAR_SECONDS;
          const forwards = market.forwards.map((p) => ({
            expiry: p.expiry,
            forward: market.index * Math.exp(rate * t(p.expiry)),
          }));
          const expiry = NOW + ahead;
          const expected = market.index * Math.exp(rate * t(expiry));
          const f = forwardAt({ index: market.index, forwards }, expiry, NOW);
          expect(Math.abs(f / expected - 1)).toBeLessThan(1e-12);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('carryAt', () => {
  it('the forward, the discount e^{−rT} and the ratio F/S', () => {
    const carry = carryAt({ index: 2000, rate: 0.05 }, NOW + YEAR_SECONDS / 2, NOW, 'rate');
    expect(carry.years).toBe(0.5);
    expect(carry.forward).toBeCloseTo(2050.630241048858, 9);
    expect(carry.discount).toBeCloseTo(Math.exp(-0.025), 15);
    expect(carry.ratio).toBeCloseTo(Math.exp(0.025), 15);
    expect(carry.rate).toBe(0.05);
    // No rate: nothing discounted, the forward the index.
    expect(carryAt({ index: 2000 }, NOW + DAY, NOW, 'x')).toMatchObject({
      forward: 2000,
      discount: 1,
      rate: 0,
      ratio: 1,
    });
  });

  it(`refuses a carry beyond e^${CARRY_LOG_MAX}: a rate or a basis held centuries ahead`, () => {
    // 100% a year for 31 years: r·T = 31.
    const far = NOW + 31 * YEAR_SECONDS;
    expect(refusal(() => carryAt({ index: 1, rate: 1 }, far, NOW, 'u.rate'))).toEqual({
      code: 'invalid_number',
      field: 'u.rate',
    });
    // 29 years is within it.
    expect(carryAt({ index: 1, rate: 1 }, NOW + 29 * YEAR_SECONDS, NOW, 'u').forward).toBeCloseTo(
      Math.exp(29),
      0,
    );
    // A forward 30% over the index in a day, held flat to the year 2100: refused, not Infinity.
    const steep = { index: 1, forwards: [{ expiry: NOW + DAY, forward: 1.3 }] };
    expect(refusal(() => carryAt(steep, NOW + 100 * YEAR_SECONDS, NOW, 'u.forwards'))).toEqual({
      code: 'invalid_number',
      field: 'u.forwards',
    });
    const message = (() => {
      try {
        carryAt(steep, NOW + 100 * YEAR_SECONDS, NOW, 'u.forwards');
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message).not.toMatch(/\n/);
  });
});

describe('settledValue, settlementAt and withIndex', () => {
  it('a unit settles at the price for a future, at the intrinsic value on it for an option', () => {
    const expiry = NOW - DAY;
    const common = { symbol: 'X', underlying: 'ETH', expiry, ...MARGINS };
    const option = (right: 'call' | 'put') =>
      ({ ...common, kind: 'option', strike: 2000, right }) as const;
    expect(settledValue({ ...common, kind: 'future' }, 1940)).toBe(1940);
    expect(settledValue(option('put'), 1940)).toBe(60);
    expect(settledValue(option('call'), 1940)).toBe(0);
    expect(settledValue(option('call'), 2100)).toBe(100);
    expect(settledValue(option('put'), 2100)).toBe(0);
  });

  it('reads the settlement of exactly that expiry', () => {
    const market = { index: 2000, settlements: [{ expiry: NOW - DAY, price: 1950 }] };
    expect(settlementAt(market, NOW - DAY)).toBe(1950);
    expect(settlementAt(market, NOW - DAY + 1)).toBeUndefined();
    expect(settlementAt({ index: 2000 }, NOW - DAY)).toBeUndefined();
  });

  it('withIndex moves forwards with the index, not the rate or the settlements', () => {
    const market: CarryMarket = {
      index: 2000,
      rate: 0.05,
      forwards: [{ expiry: NOW + DAY, forward: 2040 }],
      settlements: [{ expiry: NOW - DAY, price: 1950 }],
    };
    expect(withIndex(market, 1000)).toEqual({
      index: 1000,
      rate: 0.05,
      forwards: [{ expiry: NOW + DAY, forward: 1020 }],
      settlements: [{ expiry: NOW - DAY, price: 1950 }],
    });
    expect(market.index).toBe(2000);
  });
});

describe('validateCarryMarket', () => {
  const ok = { index: 2000 };
  const point = (expiry: number, forward: number) => ({ expiry, forward });
  const cases: [string, CarryMarket, string, string][] = [
    [
      'expiries out of order',
      { ...ok, forwards: [point(NOW + 2 * DAY, 2010), point(NOW + DAY, 2005)] },
      'invalid_config',
      'ETH.forwards[1]',
    ],
    [
      'a forward of 0',
      { ...ok, forwards: [point(NOW + DAY, 0)] },
      'invalid_number',
      'ETH.forwards[0].forward',
    ],
    [
      'a NaN forward',
      { ...ok, forwards: [point(NOW + DAY, Number.NaN)] },
      'invalid_number',
      'ETH.forwards[0].forward',
    ],
    [
      'a forward above the largest price',
      { ...ok, forwards: [point(NOW + DAY, 2e15)] },
      'invalid_number',
      'ETH.forwards[0].forward',
    ],
    [
      'an expiry that is no time',
      { ...ok, forwards: [point(1.5, 2000)] },
      'invalid_config',
      'ETH.forwards[0].expiry',
    ],
    [
      'a settlement of an expiry after the time',
      { ...ok, settlements: [{ expiry: NOW + 1, price: 2000 }] },
      'invalid_config',
      'ETH.settlements[0].expiry',
    ],
    [
      'a negative settlement',
      { ...ok, settlements: [{ expiry: NOW, price: -1 }] },
      'invalid_number',
      'ETH.settlements[0].price',
    ],
    ['a rate of 200%', { ...ok, rate: 2 }, 'invalid_number', 'ETH.rate'],
    ['a NaN rate', { ...ok, rate: Number.NaN }, 'invalid_number', 'ETH.rate'],
    [
      'more than 64 forwards',
      { ...ok, forwards: Array.from({ length: 65 }, (_, i) => point(NOW + (i + 1) * DAY, 2000)) },
      'invalid_config',
      'ETH.forwards',
    ],
  ];

  it.each(cases)('refuses %s', (_, market, code, field) => {
    expect(refusal(() => validateCarryMarket(market, 'ETH', NOW, 1e15))).toEqual({ code, field });
  });

  it('accepts a settlement at the time itself, a forward of a past expiry, a rate of −100%', () => {
    expect(
      refusal(() =>
        validateCarryMarket(
          {
            index: 2000,
            rate: -1,
            forwards: [point(NOW - DAY, 1990), point(NOW + DAY, 2001)],
            settlements: [{ expiry: NOW, price: 1999 }],
          },
          'ETH',
          NOW,
          1e15,
        ),
      ).code,
    ).toBe('accepted');
  });
});
