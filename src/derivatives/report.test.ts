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
import { black76 } from './black76.js';
import { Engine } from '../engine/engine.js';
import { DEFAULT_PROFIT_WEIGHT } from './listing.js';
import {
  collateralNeeded,
  INITIAL_PROFIT_WEIGHT,
  isolatedLiquidationPrice,
  parsePortfolio,
  type Portfolio,
  type PositionReport,
  portfolioReport,
  positionReport,
} from './report.js';
import { flatSurface } from './volSurface.js';
import { withIndex } from './forwards.js';

const example = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'options-portfolio.json'), 'utf8'),
) as Record<string, unknown>;

/** The same portfolio with one underlying's index moved, its forwards with it. */
function moved(portfolio: Portfolio, underlying: string, index: number): Portfolio {
  const base = portfolio.market.underlyings[underlying];
  if (base === undefined) throw new Error(underlying);
  return {
    ...portfolio,
    market: {
      ...portfolio.market,
      underlyings: { ...portfolio.market.underlyings, [underlying]: withIndex(base, index) },
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

describe('the report agrees with the engine where the size premium binds', () => {
  const T0 = 1_900_000_000;
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
      // The engine: an isolated sub-account whose USDC counts at 0.95 in every tier, funded so
      // that its weighted collateral is the reported initial requirement.
      const whale = { account: 'whale', subAccount: 1 };
      const at = (price: number) => {
        const engine = new Engine();
        const apply = (command: Record<string, unknown>) => {
          const result = engine.applyJson(command);
          if (!result.ok) throw result.error;
        };
        const usdc = { symbol: 'USDC', decimals: 6, initialWeight: '0.95' };
        apply({
          type: 'list-asset',
          time: T0,
          config: { ...usdc, maintenanceWeight: '0.95' },
          price: '1',
        });
        apply({
          type: 'list-asset',
          time: T0,
          config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
          price: '2000',
        });
        apply({
          type: 'list-instrument',
          time: T0,
          config: {
            kind: 'perpetual',
            symbol: 'ETH-PERP',
            underlying: 'ETH',
            initialMargin: '0.1',
            maintenanceMargin: '0.03',
            sizePremium: '0.001',
          },
          price: '2000',
        });
        apply({ type: 'set-mode', time: T0, ...whale, mode: 'isolated' });
        const deposit = Math.ceil((report.initial / 0.95) * 1e6) / 1e6;
        apply({ type: 'deposit', time: T0, ...whale, asset: 'USDC', amount: deposit.toFixed(6) });
        apply({ type: 'deposit', time: T0, account: 'mm', asset: 'USDC', amount: '1000000000' });
        const mm = { account: 'mm' };
        const [buyer, seller] = size > 0 ? [whale, mm] : [mm, whale];
        const trade = { type: 'trade', time: T0, buyer, seller, instrument: 'ETH-PERP' };
        apply({ ...trade, size: String(units), price: '2000' });
        const mark = price.toFixed(6);
        apply({ type: 'set-price', time: T0 + 1, asset: 'ETH', price: mark });
        apply({ type: 'set-price', time: T0 + 1, asset: 'ETH-PERP', price: mark });
        return engine.liquidation(whale).liquidatable;
      };
      const p = liquidation ?? 0;
      // A hair on the safe side it stands; a hair past it the engine liquidates.
      const safe = size > 0 ? p * 1.0001 : p * 0.9999;
      const past = size > 0 ? p * 0.9999 : p * 1.0001;
      expect(at(safe)).toBe(false);
      expect(at(past)).toBe(true);
    },
  );
});

describe('collateral a mode needs, profit at a haircut (90%) and capped at the collateral', () => {
  it("counts profit at an instrument listing's default initial weight", () => {
    expect(INITIAL_PROFIT_WEIGHT * 1e6).toBe(Number(DEFAULT_PROFIT_WEIGHT.initial));
  });

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
      portfolio.collateral + report.positions.reduce((s, p) => s + (p.unrealizedPnl ?? 0), 0),
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
    expect(Math.abs(perp?.gammaQuotePerPercent ?? 1)).toBe(0);
    const call = report.positions.find((p) => p.symbol === 'ETH-20300131-2000-C');
    expect(
      (call?.gammaQuotePerPercent ?? 0) > 0 &&
        (call?.vegaQuotePerVolPoint ?? 0) > 0 &&
        (call?.thetaQuotePerDay ?? 0) < 0,
    ).toBe(true);
  });
});

const T0 = '2030-01-01T00:00:00Z';
/** 59 days after T0. */
const MARCH = '2030-03-01T00:00:00Z';
const YEARS_TO_MARCH = (59 * 86_400) / 31_536_000;
const DECEMBER = '2029-12-28T08:00:00Z';

/**
 * ETH at 2000, 70% flat, the March forward 2040 (unix seconds as its key), a 5% rate: long 3
 * March futures from 2030, short 10 March calls at 2100, long 1 perpetual from 1990, and any
 * `more` positions; `eth` adds to ETH's market.
 */
function bookJson(
  more: unknown[] = [],
  eth: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    time: T0,
    collateral: '100000',
    underlyings: {
      ETH: {
        index: '2000',
        volatility: '0.7',
        forwards: { '1898553600': '2040' },
        rate: '0.05',
        ...eth,
      },
    },
    positions: [
      {
        instrument: { kind: 'future', symbol: 'ETH-MAR', underlying: 'ETH', expiry: MARCH },
        size: '3',
        entryPrice: '2030',
      },
      {
        instrument: {
          kind: 'option',
          symbol: 'ETH-MAR-2100-C',
          underlying: 'ETH',
          expiry: MARCH,
          strike: '2100',
          right: 'call',
        },
        size: '-10',
      },
      {
        instrument: { kind: 'perpetual', symbol: 'ETH-PERP', underlying: 'ETH' },
        size: '1',
        entryPrice: '1990',
      },
      ...more,
    ],
  };
}

function book(more: unknown[] = [], eth: Record<string, unknown> = {}): Portfolio {
  return parsePortfolio(bookJson(more, eth));
}

const expiredPut = (entryPrice?: string) => ({
  instrument: {
    kind: 'option',
    symbol: 'ETH-DEC-2000-P',
    underlying: 'ETH',
    expiry: DECEMBER,
    strike: '2000',
    right: 'put',
  },
  size: '20',
  ...(entryPrice === undefined ? {} : { entryPrice }),
});
const expiredFuture = {
  instrument: { kind: 'future', symbol: 'ETH-DEC', underlying: 'ETH', expiry: DECEMBER },
  size: '-2',
  entryPrice: '1990',
};

function find(report: { positions: readonly PositionReport[] }, symbol: string): PositionReport {
  const p = report.positions.find((x) => x.symbol === symbol);
  if (p === undefined) throw new Error(symbol);
  return p;
}

describe('forwards and a rate in the report', () => {
  const report = portfolioReport(book());

  it('a future is valued on its forward: mark, notional, delta and margin at 2040', () => {
    const future = find(report, 'ETH-MAR');
    expect(future.forward).toBe(2040);
    expect(future.mark).toBe(2040);
    expect(future.unrealizedPnl).toBeCloseTo(3 * (2040 - 2030), 9);
    expect(future.notional).toBeCloseTo(3 * 2040, 9);
    // Against the index, the basis held as a ratio: ∂F/∂S = 2040/2000 = 1.02 a unit.
    expect(future.deltaUnits).toBeCloseTo(3.06, 12);
    expect(future.deltaQuote).toBeCloseTo(3 * 2040, 9);
    // 5% of the notional at its mark, the ledger's standard requirement.
    expect(future.initial).toBeCloseTo(0.05 * 3 * 2040, 6);
    expect(future.initialRatio).toBeCloseTo(0.05, 9);
    expect(future.expired).toBe(false);
  });

  it('an option is Black-76 on its forward, discounted at the rate; its delta against the index', () => {
    const call = find(report, 'ETH-MAR-2100-C');
    const b = black76({
      forward: 2040,
      strike: 2100,
      time: YEARS_TO_MARCH,
      volatility: 0.7,
      rate: 0.05,
      right: 'call',
    });
    expect(call.forward).toBe(2040);
    expect(call.mark).toBeCloseTo(b.price, 12);
    // No entry given: at the mark, no profit yet.
    expect(call.entryPrice).toBe(call.mark);
    expect(Math.abs(call.unrealizedPnl ?? 1)).toBe(0);
    expect(call.deltaUnits).toBeCloseTo(-10 * b.delta * 1.02, 12);
    // Γ_S·S²/100 = Γ_F·(F/S)²·S²/100 = Γ_F·F²/100.
    expect(call.gammaQuotePerPercent).toBeCloseTo((-10 * b.gamma * 2040 * 2040) / 100, 9);
    expect(call.vegaQuotePerVolPoint).toBeCloseTo((-10 * b.vega) / 100, 12);
  });

  it('a perpetual stays on the index; without forwards the rate gives S·e^{rT}, without either the index', () => {
    const perp = find(report, 'ETH-PERP');
    expect(perp.forward).toBeNull();
    expect(perp.mark).toBe(2000);
    expect(perp.deltaUnits).toBe(1);
    // Without the forwards, the rate alone gives March 2000·e^{0.05·59/365}.
    const rateOnly = portfolioReport(book([], { forwards: {} }));
    expect(find(rateOnly, 'ETH-MAR').forward).toBeCloseTo(
      2000 * Math.exp(0.05 * YEARS_TO_MARCH),
      9,
    );
    // And without a rate either, the index.
    const neither = portfolioReport(
      parsePortfolio({
        time: T0,
        underlyings: { ETH: { index: '2000', volatility: '0.7' } },
        positions: [
          {
            instrument: { kind: 'future', symbol: 'ETH-MAR', underlying: 'ETH', expiry: MARCH },
            size: '1',
          },
        ],
      }),
    );
    expect(find(neither, 'ETH-MAR').mark).toBe(2000);
  });

  it('the same expiry as ISO or unix seconds is one forward; given twice it is refused', () => {
    const iso = book([], { forwards: { [MARCH]: '2040' } });
    expect(iso.market.underlyings.ETH).toEqual(book().market.underlyings.ETH);
    expect(() => book([], { forwards: { [MARCH]: '2040', '1898553600': '2041' } })).toThrow(
      /given twice/,
    );
  });
});

describe('each Greek is what its label says (finite differences of the report)', () => {
  const portfolio = book();
  const report = portfolioReport(portfolio);
  const at = (p: Portfolio) => portfolioReport(p).positions;

  it('deltaUnits is ∂V/∂S and deltaQuote is it times S, the forwards moving with the index', () => {
    const h = 2000 * 1e-5;
    const up = at(moved(portfolio, 'ETH', 2000 + h));
    const down = at(moved(portfolio, 'ETH', 2000 - h));
    report.positions.forEach((p, i) => {
      const dv = ((up[i]?.unrealizedPnl ?? 0) - (down[i]?.unrealizedPnl ?? 0)) / (2 * h);
      expect(dv).toBeCloseTo(p.deltaUnits, 6);
      expect(p.deltaQuote).toBeCloseTo(p.deltaUnits * 2000, 9);
    });
  });

  it('gammaQuotePerPercent is how much deltaUnits changes for a 1% move, × the index', () => {
    // Γ·S²/100 = (∂Δ/∂S)·S · S/100: a central difference of deltaUnits over ±0.1%.
    const e = 1e-3;
    const up = at(moved(portfolio, 'ETH', 2000 * (1 + e)));
    const down = at(moved(portfolio, 'ETH', 2000 * (1 - e)));
    report.positions.forEach((p, i) => {
      const perPercent = (((up[i]?.deltaUnits ?? 0) - (down[i]?.deltaUnits ?? 0)) / (2 * e)) * 0.01;
      expect(perPercent * 2000).toBeCloseTo(p.gammaQuotePerPercent, 3);
    });
    expect(find(report, 'ETH-MAR-2100-C').gammaQuotePerPercent).toBeLessThan(-1);
  });

  it('vegaQuotePerVolPoint is the value change for one volatility point', () => {
    // A central difference over 70% ± 0.01 points, scaled to one point (× 50).
    const vol = (v: string) => at(book([], { volatility: v }));
    const up = vol('0.7001');
    const down = vol('0.6999');
    report.positions.forEach((p, i) => {
      const change = 50 * p.size * ((up[i]?.mark ?? 0) - (down[i]?.mark ?? 0));
      expect(change).toBeCloseTo(p.vegaQuotePerVolPoint, 6);
    });
    expect(find(report, 'ETH-MAR-2100-C').vegaQuotePerVolPoint).toBeLessThan(-1);
  });

  it('thetaQuotePerDay is the value change over the next day, the forward, volatility and rate held', () => {
    // The March forward is given, so a day later it is still 2040: the report one day on
    // revalues every position exactly as theta per day assumes.
    const later = at(parsePortfolio({ ...bookJson(), time: '2030-01-02T00:00:00Z' }));
    report.positions.forEach((p, i) => {
      const change = p.size * ((later[i]?.mark ?? 0) - (p.mark ?? 0));
      expect(change).toBeCloseTo(p.thetaQuotePerDay, 9);
    });
    expect(find(report, 'ETH-MAR-2100-C').thetaQuotePerDay).toBeGreaterThan(0); // short
  });

  it('one hour before expiry, theta per day is minus the time value left, finite', () => {
    // ETH at 2000, no forward or rate, 70%: a call struck at 1990 expiring in an hour is worth
    // 12.2415, its intrinsic 10 and 2.2415 of time value; by expiry the time value is gone, so
    // theta per day is −2.2415 a unit (−8.97 for 4), not the instantaneous rate θ/365 (−57.06
    // a unit a day, and infinite at expiry).
    const r = portfolioReport(
      parsePortfolio({
        time: T0,
        underlyings: { ETH: { index: '2000', volatility: '0.7' } },
        positions: [
          {
            instrument: {
              kind: 'option',
              symbol: 'C',
              underlying: 'ETH',
              expiry: '2030-01-01T01:00:00Z',
              strike: '1990',
              right: 'call',
            },
            size: '4',
          },
        ],
      }),
    );
    const call = r.positions[0] as PositionReport;
    expect(call.mark).toBeCloseTo(12.241467926970927, 9);
    const timeValue = (call.mark ?? 0) - 10;
    expect(Number.isFinite(call.thetaQuotePerDay)).toBe(true);
    expect(call.thetaQuotePerDay).toBeCloseTo(-4 * timeValue, 9);
    expect(r.greeks.thetaQuotePerDay).toBe(call.thetaQuotePerDay);
  });
});

describe("expired positions: flagged, never valued on today's index", () => {
  const live = portfolioReport(book());

  it('without a settlement price: no mark, no profit, no Greeks, no margin, listed as needing settlement', () => {
    for (const index of ['2000', '1500']) {
      const r = portfolioReport(book([expiredPut('45'), expiredFuture], { index }));
      for (const symbol of ['ETH-DEC-2000-P', 'ETH-DEC']) {
        expect(find(r, symbol)).toMatchObject({
          expired: true,
          needsSettlement: true,
          settlementPrice: null,
          forward: null,
          mark: null,
          unrealizedPnl: null,
          notional: 0,
          deltaUnits: 0,
          deltaQuote: 0,
          gammaQuotePerPercent: 0,
          vegaQuotePerVolPoint: 0,
          thetaQuotePerDay: 0,
          initial: 0,
          maintenance: 0,
          leverage: null,
          isolatedLiquidationPrice: null,
        });
      }
      expect(r.needsSettlement).toEqual(['ETH-DEC-2000-P', 'ETH-DEC']);
    }
    // Everything else is the report without them.
    const r = portfolioReport(book([expiredPut('45'), expiredFuture]));
    expect(r.equity).toBe(live.equity);
    expect(r.greeks).toEqual(live.greeks);
    expect(r.margins).toEqual(live.margins);
    expect(r.crossLiquidationPrices).toEqual(live.crossLiquidationPrices);
    expect(live.needsSettlement).toEqual([]);
    // No entry price and no mark: none is made up.
    expect(find(portfolioReport(book([expiredPut()])), 'ETH-DEC-2000-P').entryPrice).toBeNull();
  });

  it('with a settlement price: valued on it (the put at 2000 − 1940 = 60), no Greeks, no margin', () => {
    const settled = { settlements: { [DECEMBER]: '1940' } };
    for (const index of ['2000', '1500']) {
      const r = portfolioReport(book([expiredPut('45'), expiredFuture], { index, ...settled }));
      const put = find(r, 'ETH-DEC-2000-P');
      expect(put).toMatchObject({ expired: true, needsSettlement: false, settlementPrice: 1940 });
      expect(put.mark).toBe(60);
      // 20 × (60 − 45) = 300.
      expect(put.unrealizedPnl).toBe(300);
      // The future at the settlement price: −2 × (1940 − 1990) = 100.
      expect(find(r, 'ETH-DEC').mark).toBe(1940);
      expect(find(r, 'ETH-DEC').unrealizedPnl).toBe(100);
      for (const p of [put, find(r, 'ETH-DEC')]) {
        expect([
          p.deltaQuote,
          p.gammaQuotePerPercent,
          p.vegaQuotePerVolPoint,
          p.thetaQuotePerDay,
        ]).toEqual([0, 0, 0, 0]);
        expect([p.initial, p.maintenance, p.notional]).toEqual([0, 0, 0]);
      }
      expect(r.needsSettlement).toEqual([]);
    }
    const r = portfolioReport(book([expiredPut('45'), expiredFuture], settled));
    expect(r.equity).toBeCloseTo(live.equity + 400, 9);
    expect(r.margins[2]?.initial).toBe(live.margins[2]?.initial);
    expect(r.margins[0]?.initial).toBe(live.margins[0]?.initial);
    // No entry price: at the settlement value, no profit.
    const atMark = find(portfolioReport(book([expiredPut()], settled)), 'ETH-DEC-2000-P');
    expect([atMark.entryPrice, atMark.unrealizedPnl]).toEqual([60, 0]);
  });

  it('the shipped example holds a settled put: worth 60 a unit, 300 of profit', () => {
    const put = find(portfolioReport(parsePortfolio(example)), 'ETH-20291228-2000-P');
    expect(put).toMatchObject({
      expired: true,
      settlementPrice: 1940,
      mark: 60,
      unrealizedPnl: 300,
    });
  });
});

/** The portfolio with ETH's market entry changed by `change`. */
function withEth(
  p: Record<string, unknown>,
  change: Record<string, unknown>,
): Record<string, unknown> {
  const underlyings = p.underlyings as Record<string, Record<string, unknown>>;
  return { ...p, underlyings: { ...underlyings, ETH: { ...underlyings.ETH, ...change } } };
}

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
      'positions.5.instrument.underlying',
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
    [
      'a forward keyed by something that is no time',
      (p) => withEth(p, { forwards: { tomorrow: '2010' } }),
      'invalid_field',
      'underlyings.ETH.forwards.tomorrow',
    ],
    [
      'a forward of 0',
      (p) => withEth(p, { forwards: { '2030-02-01T00:00:00Z': '0' } }),
      'invalid_number',
      'underlyings.ETH.forwards.2030-02-01T00:00:00Z',
    ],
    [
      'forwards given as a list',
      (p) => withEth(p, { forwards: ['2010'] }),
      'invalid_field',
      'underlyings.ETH.forwards',
    ],
    [
      'more than 64 forwards',
      (p) =>
        withEth(p, {
          forwards: Object.fromEntries(
            Array.from({ length: 65 }, (_, i) => [String(1_900_000_000 + i), '2000']),
          ),
        }),
      'limit_exceeded',
      'underlyings.ETH.forwards',
    ],
    [
      'a rate of 150%',
      (p) => withEth(p, { rate: '1.5' }),
      'invalid_number',
      'underlyings.ETH.rate',
    ],
    [
      'a rate as a percentage',
      (p) => withEth(p, { rate: '5%' }),
      'invalid_number',
      'underlyings.ETH.rate',
    ],
    [
      'a settlement for an expiry after the time',
      (p) => withEth(p, { settlements: { '2030-01-02T00:00:00Z': '2000' } }),
      'invalid_field',
      'underlyings.ETH.settlements.2030-01-02T00:00:00Z',
    ],
    [
      'a negative settlement price',
      (p) => withEth(p, { settlements: { '2029-12-28T08:00:00Z': '-1' } }),
      'invalid_number',
      'underlyings.ETH.settlements.2029-12-28T08:00:00Z',
    ],
    [
      'a rate carried so far that the forward would overflow',
      (p) => ({
        ...withEth(p, { rate: '1' }),
        positions: [
          {
            instrument: {
              kind: 'future',
              symbol: 'F',
              underlying: 'ETH',
              expiry: '2070-01-01T00:00:00Z',
            },
            size: '1',
          },
        ],
      }),
      'invalid_number',
      'underlyings.ETH',
    ],
  ];
  it.each(bad)('refuses %s with a typed error naming the field', (_, change, code, field) => {
    let caught: unknown;
    try {
      portfolioReport(parsePortfolio(change(example)));
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
