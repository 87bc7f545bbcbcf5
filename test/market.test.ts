/**
 * The cascade simulator's market model (`src/sim/market.ts`): worked examples of the square-root
 * and linear impact laws, the recovery half-life, the cap, and the model's validation; then
 * properties over random sales.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FulcrumError } from '../src/base/errors.js';
import {
  DEFAULT_MARKET_MODEL,
  Market,
  type MarketAsset,
  type MarketModel,
  validateMarketModel,
} from '../src/sim/market.js';

const SEED = Number(process.env.FC_SEED ?? 20_200_312);

/** ETH-like: 5% a day, $1B a day; $2M moves the price 1% (for the linear model). */
const ETH: MarketAsset = {
  symbol: 'ETH',
  dailyVolatility: 0.05,
  dailyVolume: 1e9,
  depthPerPercent: 2e6,
};
/** BTC-like: 4% a day, $4B a day, $10M per 1%. */
const BTC: MarketAsset = {
  symbol: 'BTC',
  dailyVolatility: 0.04,
  dailyVolume: 4e9,
  depthPerPercent: 1e7,
};

const SQRT: MarketModel = {
  impact: 'sqrt',
  coefficient: 1,
  recoveryHalfLifeSeconds: 3_600,
  liquidityFactor: 0.5,
  maxImpact: 0.5,
};
const LINEAR: MarketModel = { ...SQRT, impact: 'linear' };
const NONE: MarketModel = { ...SQRT, impact: 'none' };

describe('square-root law', () => {
  it('a sale raises the displacement by Y σ sqrt(Q / (V × liquidity))', () => {
    const market = new Market([ETH, BTC], SQRT);
    expect(market.displacement(0)).toBe(0);
    expect(market.realized(0, 200)).toBe(200);
    // Q = $10M: D = 1 × 0.05 × sqrt(10^7 / (10^9 × 0.5)) = 0.05 × sqrt(0.02) = 0.0070710678...
    const average = market.sell(0, 1e7);
    const d = 0.05 * Math.sqrt(0.02);
    expect(market.displacement(0)).toBeCloseTo(d, 15);
    expect(d).toBeCloseTo(0.007_071_067_811_865_475, 15);
    // The seller gets the average of D before (0) and after.
    expect(average).toBeCloseTo(d / 2, 15);
    expect(market.unabsorbed(0)).toBe(1e7);
    // The oracle sees the exogenous price less D: 200 × (1 − 0.0070710678) = 198.5857864...
    expect(market.realized(0, 200)).toBeCloseTo(200 * (1 - d), 12);
    // The other asset is untouched.
    expect(market.displacement(1)).toBe(0);
    expect(market.unabsorbed(1)).toBe(0);
  });

  it('a second sale adds to the unabsorbed notional; the seller averages before and after', () => {
    const market = new Market([ETH], SQRT);
    market.sell(0, 1e7);
    const before = 0.05 * Math.sqrt(1e7 / 5e8);
    // Q = $30M after: D = 0.05 × sqrt(0.06) = 0.0122474487...
    const average = market.sell(0, 2e7);
    const after = 0.05 * Math.sqrt(3e7 / 5e8);
    expect(market.displacement(0)).toBeCloseTo(after, 15);
    expect(average).toBeCloseTo((before + after) / 2, 15);
  });

  it('slippage is what a sale would cost on average, without selling', () => {
    const market = new Market([ETH], SQRT);
    market.sell(0, 1e7);
    const q = 1e7;
    const n = 5e6;
    const impact = (x: number) => 0.05 * Math.sqrt(x / 5e8);
    // (D(q + n) + D(q)) / 2 − D(q): the average extra discount over the sale.
    expect(market.slippage(0, n)).toBeCloseTo((impact(q + n) + impact(q)) / 2 - impact(q), 15);
    expect(market.unabsorbed(0)).toBe(q);
    expect(market.slippage(0, 0)).toBe(0);
  });

  it('the coefficient scales it, and it is capped at maxImpact', () => {
    const doubled = new Market([ETH], { ...SQRT, coefficient: 2 });
    doubled.sell(0, 1e7);
    expect(doubled.displacement(0)).toBeCloseTo(2 * 0.05 * Math.sqrt(0.02), 15);
    // $10^14 sold: 0.05 × sqrt(2 × 10^5) = 22.4, far above the cap of 0.5.
    const capped = new Market([ETH], SQRT);
    expect(capped.sell(0, 1e14)).toBe(0.25); // the average of 0 and the cap
    expect(capped.displacement(0)).toBe(0.5);
    expect(capped.realized(0, 100)).toBe(50);
    // An infinite sale is capped too.
    const infinite = new Market([ETH], SQRT);
    infinite.sell(0, Number.POSITIVE_INFINITY);
    expect(infinite.displacement(0)).toBe(0.5);
  });

  it('a sale of nothing (or less) changes nothing and returns the current displacement', () => {
    const market = new Market([ETH], SQRT);
    market.sell(0, 1e7);
    const d = market.displacement(0);
    expect(market.sell(0, 0)).toBe(d);
    expect(market.sell(0, -5)).toBe(d);
    expect(market.sell(0, Number.NaN)).toBe(d);
    expect(market.unabsorbed(0)).toBe(1e7);
  });
});

describe('recovery', () => {
  it('advance halves the unabsorbed notional after one half-life', () => {
    const market = new Market([ETH, BTC], SQRT);
    market.sell(0, 1e7);
    market.sell(1, 3e6);
    market.advance(3_600);
    expect(Math.abs(market.unabsorbed(0) / 5e6 - 1)).toBeLessThan(1e-12);
    expect(Math.abs(market.unabsorbed(1) / 1.5e6 - 1)).toBeLessThan(1e-12);
    // Two more half-lives in two steps: a quarter of that.
    market.advance(1_800);
    market.advance(5_400);
    expect(Math.abs(market.unabsorbed(0) / 1.25e6 - 1)).toBeLessThan(1e-12);
    // D follows Q: sqrt of a quarter is half.
    expect(market.displacement(0)).toBeCloseTo(0.05 * Math.sqrt(1.25e6 / 5e8), 15);
    // No time, no recovery.
    market.advance(0);
    expect(Math.abs(market.unabsorbed(0) / 1.25e6 - 1)).toBeLessThan(1e-12);
  });

  it('the half-life is the model’s', () => {
    const market = new Market([ETH], { ...SQRT, recoveryHalfLifeSeconds: 60 });
    market.sell(0, 8e6);
    market.advance(180); // three half-lives: an eighth
    expect(Math.abs(market.unabsorbed(0) / 1e6 - 1)).toBeLessThan(1e-12);
  });
});

describe('linear and none', () => {
  it('linear: D = Q / (depth × liquidity) × 1%, capped', () => {
    const market = new Market([ETH], LINEAR);
    // $5M into $2M per 1% at half the liquidity: 5e6 / 1e6 × 1% = 5%.
    const average = market.sell(0, 5e6);
    expect(market.displacement(0)).toBeCloseTo(0.05, 15);
    expect(average).toBeCloseTo(0.025, 15);
    expect(market.slippage(0, 1e6)).toBeCloseTo(0.005, 15); // (0.06 + 0.05) / 2 − 0.05
    market.sell(0, 1e9); // 1000% before the cap
    expect(market.displacement(0)).toBe(0.5);
  });

  it('none: no sale moves the price', () => {
    const market = new Market([ETH, BTC], NONE);
    expect(market.sell(0, 1e12)).toBe(0);
    expect(market.displacement(0)).toBe(0);
    expect(market.slippage(0, 1e12)).toBe(0);
    expect(market.realized(0, 123.45)).toBe(123.45);
    // It still keeps the notional (and lets it decay), only without effect.
    expect(market.unabsorbed(0)).toBe(1e12);
  });
});

describe('validateMarketModel', () => {
  it('accepts the default and the edges', () => {
    expect(() => validateMarketModel(DEFAULT_MARKET_MODEL)).not.toThrow();
    expect(() =>
      validateMarketModel({ ...SQRT, coefficient: 0, maxImpact: 0, liquidityFactor: 100 }),
    ).not.toThrow();
    expect(() =>
      validateMarketModel({ ...SQRT, coefficient: 100, recoveryHalfLifeSeconds: 30 * 86_400 }),
    ).not.toThrow();
  });

  it('refuses bad numbers with invalid_config naming the field', () => {
    const bad: [string, Partial<MarketModel> | { impact: string }][] = [
      ['impact', { impact: 'cubic' }],
      ['coefficient', { coefficient: -0.1 }],
      ['coefficient', { coefficient: 101 }],
      ['coefficient', { coefficient: Number.NaN }],
      ['recoveryHalfLifeSeconds', { recoveryHalfLifeSeconds: 0 }],
      ['recoveryHalfLifeSeconds', { recoveryHalfLifeSeconds: 30 * 86_400 + 1 }],
      ['liquidityFactor', { liquidityFactor: 0 }],
      ['liquidityFactor', { liquidityFactor: 100.5 }],
      ['liquidityFactor', { liquidityFactor: Number.POSITIVE_INFINITY }],
      ['maxImpact', { maxImpact: 1 }],
      ['maxImpact', { maxImpact: -0.01 }],
    ];
    for (const [field, change] of bad) {
      const model = { ...SQRT, ...change } as MarketModel;
      let caught: unknown;
      try {
        validateMarketModel(model);
      } catch (error) {
        caught = error;
      }
      expect(caught, field).toBeInstanceOf(FulcrumError);
      expect((caught as FulcrumError).code, field).toBe('invalid_config');
      expect((caught as FulcrumError).field, field).toBe(`market.${field}`);
      // A market is never built on a bad model.
      expect(() => new Market([ETH], model)).toThrow(FulcrumError);
    }
  });
});

describe('properties', () => {
  const model = fc.record({
    impact: fc.constantFrom<MarketModel['impact']>('sqrt', 'linear', 'none'),
    coefficient: fc.double({ min: 0, max: 100, noNaN: true }),
    recoveryHalfLifeSeconds: fc.double({ min: 1, max: 86_400, noNaN: true }),
    liquidityFactor: fc.double({ min: 0.01, max: 100, noNaN: true }),
    maxImpact: fc.double({ min: 0, max: 0.99, noNaN: true }),
  });
  const sales = fc.array(
    fc.record({
      notional: fc.double({ min: 0, max: 1e11, noNaN: true }),
      wait: fc.integer({ min: 0, max: 7_200 }),
    }),
    { maxLength: 20 },
  );

  it('D stays in [0, maxImpact]; a sale never lowers it and pays between before and after', () => {
    fc.assert(
      fc.property(model, sales, (m, list) => {
        const market = new Market([ETH], m);
        for (const { notional, wait } of list) {
          market.advance(wait);
          const before = market.displacement(0);
          const average = market.sell(0, notional);
          const after = market.displacement(0);
          expect(after).toBeGreaterThanOrEqual(before);
          expect(after).toBeLessThanOrEqual(m.maxImpact);
          expect(before).toBeGreaterThanOrEqual(0);
          expect(average).toBeGreaterThanOrEqual(before - 1e-15);
          expect(average).toBeLessThanOrEqual(after + 1e-15);
          expect(market.realized(0, 100)).toBeLessThanOrEqual(100);
          expect(market.realized(0, 100)).toBeGreaterThanOrEqual(100 * (1 - m.maxImpact) - 1e-12);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
