/**
 * The derivatives risk report: worked liquidation prices, Greeks against finite differences of
 * the account's equity, margins side by side on the shipped example portfolio, and strict
 * reading of portfolios.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FulcrumError } from '../base/errors.js';
import type { InstrumentSpec } from './instruments.js';
import { DerivativesLedger } from './ledger.js';
import {
  collateralNeeded,
  isolatedLiquidationPrice,
  parsePortfolio,
  type Portfolio,
  portfolioReport,
  positionReport,
} from './report.js';
import { flatSurface } from './volSurface.js';
import { listAt } from '../../test/fixtures/derivatives.js';

const example = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'options-portfolio.json'), 'utf8'),
) as Record<string, unknown>;

/** The same portfolio with one underlying's index moved. */
function moved(portfolio: Portfolio, underlying: string, index: number): Portfolio {
  const base = portfolio.market.underlyings[underlying];
  if (base === undefined) throw new Error(underlying);
  return {
    ...portfolio,
    market: {
      ...portfolio.market,
      underlyings: { ...portfolio.market.underlyings, [underlying]: { ...base, index } },
    },
  };
}

describe('isolated liquidation price', () => {
  it('a long of 10 from 2000 funded with 1,000 at 3% maintenance: (2000 − 100) / 0.97', () => {
    expect(isolatedLiquidationPrice(10, 2000, 1_000, 0.03)).toBeCloseTo(1900 / 0.97, 9);
    // A short: (2000 + 100) / 1.03.
    expect(isolatedLiquidationPrice(-10, 2000, 1_000, 0.03)).toBeCloseTo(2100 / 1.03, 9);
    // Fully funded long: never liquidated above zero.
    expect(isolatedLiquidationPrice(1, 2000, 2_000, 0.03)).toBe(null);
  });

  it('at that price, equity equals the maintenance requirement (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1_000, max: 1_000, noNaN: true }).filter((s) => Math.abs(s) > 0.01),
        fc.double({ min: 1, max: 100_000, noNaN: true }),
        fc.double({ min: 0.01, max: 0.5, noNaN: true }),
        fc.double({ min: 0.001, max: 0.1, noNaN: true }),
        (size, entry, leverageShare, mm) => {
          const collateral = Math.abs(size) * entry * leverageShare;
          const p = isolatedLiquidationPrice(size, entry, collateral, mm);
          if (p === null) return;
          const equity = collateral + size * (p - entry);
          expect(Math.abs(equity - mm * Math.abs(size) * p)).toBeLessThan(
            1e-6 * Math.abs(size) * entry,
          );
        },
      ),
      { seed: 7, numRuns: 500 },
    );
  });
});

describe('the report agrees with the ledger where the size premium binds', () => {
  const T0 = 1_900_000_000;
  const px = (x: number) => BigInt(Math.round(x * 1e6)) * 10n ** 12n;
  const PERP: InstrumentSpec = {
    kind: 'perpetual',
    symbol: 'ETH-PERP',
    underlying: 'ETH',
    initialMargin: 0.1,
    maintenanceMargin: 0.03,
    sizePremium: 0.001,
    fundingIntervalSeconds: 28_800,
    fundingClamp: 0.0075,
  };

  it.each([10_000, -10_000, 2_500])(
    'an isolated %d ETH funded with its initial margin is liquidated at the reported price',
    (size) => {
      const report = positionReport(
        { instrument: PERP, size, entryPrice: 2000 },
        { time: T0, underlyings: { ETH: { index: 2000, surface: flatSurface(0.6) } } },
      );
      const units = Math.abs(size);
      // max(10%, 8% + 0.1%·√units) and max(3%, 2.4% + 0.1%·√units).
      expect(report.initialRatio).toBeCloseTo(Math.max(0.1, 0.08 + 0.001 * Math.sqrt(units)), 9);
      expect(report.maintenanceRatio).toBeCloseTo(
        Math.max(0.03, 0.024 + 0.001 * Math.sqrt(units)),
        9,
      );
      expect(report.leverage).toBeCloseTo(1 / (report.initialRatio ?? 1), 9);
      const liquidation = report.isolatedLiquidationPrice;
      expect(liquidation).not.toBeNull();
      const at = (price: number) => {
        const l = new DerivativesLedger();
        listAt(l, PERP, T0, px(2000));
        l.apply({ type: 'set-mode', time: T0, account: 'whale', mode: 'isolated' });
        l.apply({
          type: 'deposit',
          time: T0,
          to: 'whale',
          amount: BigInt(Math.ceil(report.initial * 1e6)),
        });
        l.apply({ type: 'deposit', time: T0, to: 'mm', amount: 10n ** 15n });
        const [buyer, seller] = size > 0 ? ['whale', 'mm'] : ['mm', 'whale'];
        const absolute = BigInt(Math.round(units * 1e8));
        l.apply({
          type: 'trade',
          time: T0,
          buyer,
          seller,
          instrument: 'ETH-PERP',
          size: absolute,
          price: px(2000),
        });
        l.apply({
          type: 'set-prices',
          time: T0 + 1,
          index: { ETH: px(price) },
          marks: { 'ETH-PERP': px(price) },
        });
        return l.liquidatable('whale');
      };
      const p = liquidation ?? 0;
      // A hair on the safe side it stands; a hair past it the ledger liquidates.
      const safe = size > 0 ? p * 1.0001 : p * 0.9999;
      const past = size > 0 ? p * 0.9999 : p * 1.0001;
      expect(at(safe)).toBe(false);
      expect(at(past)).toBe(true);
    },
  );
});

describe('collateral a mode needs, profit at a haircut (90%) and capped at the collateral', () => {
  it.each([
    // initial, loss, profit, needed: why
    [1_000, 0, 0, 1_000], // nothing to count
    [1_000, -200, 0, 1_200], // losses add
    [1_000, 0, 500, 550], // 450 of profit counts: C + 450 = 1,000 with C = 550 >= 450
    [1_000, 0, 10_000, 500], // the cap binds: C + min(9,000, C) = 1,000 at C = 500
    [1_000, -300, 10_000, 650], // cap binds: 2C − 300 = 1,000
    [0, 0, 5_000, 0], // nothing required
  ])('initial %d, loss %d, profit %d: %d', (initial, loss, profit, needed) => {
    expect(collateralNeeded(initial, loss, profit)).toBeCloseTo(needed, 9);
  });

  it('is the least collateral whose margin equity reaches initial (property)', () => {
    const marginEquity = (c: number, loss: number, profit: number) =>
      c + loss + Math.min(0.9 * profit, c);
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: -1e6, max: 0, noNaN: true }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        (initial, loss, profit) => {
          const c = collateralNeeded(initial, loss, profit);
          expect(c).toBeGreaterThanOrEqual(0);
          expect(marginEquity(c, loss, profit)).toBeGreaterThanOrEqual(initial - 1e-6);
          if (c > 1e-3) expect(marginEquity(c - 1e-3, loss, profit)).toBeLessThan(initial);
        },
      ),
      { seed: 11, numRuns: 500 },
    );
  });
});

describe('the report of the example portfolio', () => {
  const portfolio = parsePortfolio(example);
  const report = portfolioReport(portfolio);

  it('portfolio margin needs much less than standard margin for the hedged book', () => {
    const [cross, isolated, pm] = report.margins;
    expect(cross?.mode).toBe('cross');
    expect(isolated?.mode).toBe('isolated');
    expect(pm?.mode).toBe('portfolio');
    expect((pm?.initial ?? 0) < 0.7 * (cross?.initial ?? 0)).toBe(true);
    // Isolated needs at least what cross needs: losses cannot be offset by other positions' gains.
    expect((isolated?.collateralNeeded ?? 0) >= (cross?.collateralNeeded ?? 0) - 1e-6).toBe(true);
    expect(report.equity).toBeCloseTo(
      portfolio.collateral + report.positions.reduce((s, p) => s + p.unrealizedPnl, 0),
      9,
    );
  });

  it("the account's delta is the finite difference of its equity", () => {
    for (const underlying of ['ETH', 'BTC']) {
      const index = portfolio.market.underlyings[underlying]?.index ?? 0;
      const h = index * 1e-5;
      const up = portfolioReport(moved(portfolio, underlying, index + h)).equity;
      const down = portfolioReport(moved(portfolio, underlying, index - h)).equity;
      const delta = report.positions
        .filter((p) => p.underlying === underlying)
        .reduce((s, p) => s + p.deltaQuote, 0);
      expect(((up - down) / (2 * h)) * index).toBeCloseTo(delta, 0);
    }
  });

  it('the cross liquidation price is where equity meets maintenance', () => {
    for (const [underlying, price] of Object.entries(report.crossLiquidationPrices)) {
      expect(price, underlying).not.toBeNull();
      if (price === null) continue;
      const at = portfolioReport(moved(portfolio, underlying, price));
      const maintenance = at.margins[0]?.maintenance ?? 0;
      expect(Math.abs(at.equity - maintenance) / maintenance, underlying).toBeLessThan(1e-6);
      // Just inside, the account still meets it.
      const index = portfolio.market.underlyings[underlying]?.index ?? 0;
      const inside = portfolioReport(moved(portfolio, underlying, price + (index - price) * 0.01));
      expect(inside.equity > (inside.margins[0]?.maintenance ?? 0), underlying).toBe(true);
    }
  });

  it('a perpetual has delta 1 per unit, no gamma or vega; a long option a positive gamma and vega', () => {
    const perp = report.positions.find((p) => p.kind === 'perpetual');
    expect(perp?.deltaQuote).toBe(-2.5 * 2000);
    expect(Math.abs(perp?.gammaQuote ?? 1)).toBe(0);
    const call = report.positions.find((p) => p.symbol === 'ETH-20300131-2000-C');
    expect(
      (call?.gammaQuote ?? 0) > 0 && (call?.vegaQuote ?? 0) > 0 && (call?.thetaQuote ?? 0) < 0,
    ).toBe(true);
  });
});

describe('reading a portfolio', () => {
  const bad: [string, (p: Record<string, unknown>) => unknown, string, string][] = [
    ['unknown field', (p) => ({ ...p, leverage: '10' }), 'invalid_field', 'leverage'],
    [
      'a NaN index',
      (p) => ({ ...p, underlyings: { ETH: { index: 'NaN', volatility: '0.5' } } }),
      'invalid_number',
      'underlyings.ETH.index',
    ],
    [
      'a negative volatility',
      (p) => ({ ...p, underlyings: { ETH: { index: '2000', volatility: '-0.5' } } }),
      'invalid_number',
      'underlyings.ETH.volatility',
    ],
    ['a bad time', (p) => ({ ...p, time: '01/01/2030' }), 'invalid_field', 'time'],
    [
      'no market for an underlying',
      (p) => ({ ...p, underlyings: { ETH: { index: '2000', volatility: '0.7' } } }),
      'unknown_asset',
      'positions.4.instrument.underlying',
    ],
    [
      'a zero size',
      (p) => ({
        ...p,
        positions: [
          { instrument: { kind: 'perpetual', symbol: 'ETH-PERP', underlying: 'ETH' }, size: '0' },
        ],
      }),
      'invalid_number',
      'positions.0.size',
    ],
    [
      'a right that is neither',
      (p) => ({
        ...p,
        positions: [
          {
            instrument: {
              kind: 'option',
              symbol: 'X',
              underlying: 'ETH',
              expiry: '2030-02-01T00:00:00Z',
              strike: '2000',
              right: 'straddle',
            },
            size: '1',
          },
        ],
      }),
      'invalid_field',
      'positions.0.instrument.right',
    ],
    [
      'an unknown kind',
      (p) => ({
        ...p,
        positions: [{ instrument: { kind: 'swap', symbol: 'X', underlying: 'ETH' }, size: '1' }],
      }),
      'invalid_field',
      'positions.0.instrument.kind',
    ],
    [
      'an underlying named __proto__',
      (p) => ({
        ...p,
        underlyings: JSON.parse('{"__proto__": {"index": "1", "volatility": "1"}}'),
      }),
      'invalid_field',
      'underlyings.__proto__',
    ],
    [
      'an underlying name that is no name',
      (p) => ({ ...p, underlyings: { 'E TH': { index: '1', volatility: '1' } } }),
      'invalid_field',
      'underlyings.E TH',
    ],
    [
      'more underlyings than the limit',
      (p) => ({
        ...p,
        underlyings: Object.fromEntries(
          Array.from({ length: 129 }, (_, i) => [`U${i}`, { index: '1', volatility: '1' }]),
        ),
      }),
      'limit_exceeded',
      'underlyings',
    ],
    [
      'more positions than the limit',
      (p) => ({ ...p, positions: Array.from({ length: 1_001 }, () => 0) }),
      'limit_exceeded',
      'positions',
    ],
    [
      'more surface expiries than the limit',
      (p) => ({
        ...p,
        underlyings: {
          ETH: {
            index: '1',
            surface: { expiries: Array.from({ length: 65 }, () => 0), strikes: ['1'], vols: [] },
          },
        },
      }),
      'limit_exceeded',
      'underlyings.ETH.surface.expiries',
    ],
    [
      'both a volatility and a surface',
      (p) => ({
        ...p,
        underlyings: {
          ETH: {
            index: '2000',
            volatility: '0.5',
            surface: { expiries: [1_900_000_000], strikes: ['1'], vols: [['0.5']] },
          },
        },
      }),
      'invalid_field',
      'underlyings.ETH.volatility',
    ],
    [
      'a size past the portfolio margin limit',
      (p) => ({
        ...p,
        positions: [
          {
            instrument: { kind: 'perpetual', symbol: 'ETH-PERP', underlying: 'ETH' },
            size: '1000000000001',
          },
        ],
      }),
      'invalid_number',
      'positions.0.size',
    ],
    [
      'a size in hexadecimal',
      (p) => ({
        ...p,
        positions: [
          {
            instrument: { kind: 'perpetual', symbol: 'ETH-PERP', underlying: 'ETH' },
            size: '0x10',
          },
        ],
      }),
      'invalid_number',
      'positions.0.size',
    ],
    [
      'an underlying that is not a string',
      (p) => ({
        ...p,
        positions: [
          { instrument: { kind: 'perpetual', symbol: 'ETH-PERP', underlying: ['ETH'] }, size: '1' },
        ],
      }),
      'invalid_field',
      'positions.0.instrument.underlying',
    ],
    [
      'a date that does not exist',
      (p) => ({ ...p, time: '2030-02-29T00:00:00Z' }),
      'invalid_field',
      'time',
    ],
  ];
  it.each(bad)('refuses %s with a typed error naming the field', (_, change, code, field) => {
    let caught: unknown;
    try {
      parsePortfolio(change(example));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FulcrumError);
    expect((caught as FulcrumError).code).toBe(code);
    expect((caught as FulcrumError).field).toBe(field);
  });

  it.each(['valueOf', 'toString', 'constructor', 'hasOwnProperty'])(
    'an underlying and an instrument named %s are names: the report is computed',
    (name) => {
      const report = portfolioReport(
        parsePortfolio({
          time: '2030-01-01T00:00:00Z',
          collateral: '10000',
          underlyings: { [name]: { index: '2000', volatility: '0.8' } },
          positions: [
            { instrument: { kind: 'perpetual', symbol: name, underlying: name }, size: '1' },
            {
              instrument: {
                kind: 'option',
                symbol: `${name}-C`,
                underlying: name,
                expiry: '2030-02-01T00:00:00Z',
                strike: '2000',
                right: 'call',
              },
              size: '-1',
            },
          ],
        }),
      );
      expect(report.positions.map((p) => p.symbol)).toEqual([name, `${name}-C`]);
      expect(report.positions[0]?.mark).toBe(2000);
      expect(Number.isFinite(report.margins[2]?.initial)).toBe(true);
      expect(Object.keys(report.crossLiquidationPrices)).toEqual([name]);
    },
  );

  it('an instrument on an underlying named like a property of every object, absent, is refused', () => {
    let caught: unknown;
    try {
      parsePortfolio({
        time: '2030-01-01T00:00:00Z',
        underlyings: { ETH: { index: '2000', volatility: '0.8' } },
        positions: [
          { instrument: { kind: 'perpetual', symbol: 'P', underlying: 'toString' }, size: '1' },
        ],
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FulcrumError);
    expect((caught as FulcrumError).code).toBe('unknown_asset');
    // Nor does the report itself read a market off the prototype.
    const portfolio = parsePortfolio(example);
    const p = portfolio.positions[0];
    if (p === undefined) throw new Error('no position');
    expect(() =>
      positionReport(
        { ...p, instrument: { ...p.instrument, underlying: 'toString' } },
        portfolio.market,
      ),
    ).toThrow(/no market for "toString"/);
  });

  it('quotes a long or multi-line name short, on one line', () => {
    for (const name of ['U'.repeat(1_000_000), 'a\nb']) {
      let caught: unknown;
      try {
        parsePortfolio({ ...example, underlyings: { [name]: { index: 'x' } } });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(FulcrumError);
      const { message, field } = caught as FulcrumError;
      expect(message.length).toBeLessThan(400);
      expect(`${message} ${field}`).not.toMatch(/\n/);
    }
  });
});
