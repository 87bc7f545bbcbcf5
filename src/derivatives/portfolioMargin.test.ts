import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FulcrumError } from '../base/errors.js';
import { black76 } from './black76.js';
import { type InstrumentSpec } from './instruments.js';
import { YEAR_SECONDS } from '../math/time.js';
import {
  DEFAULT_PORTFOLIO_MARGIN_CONFIG,
  type PortfolioMarket,
  type PortfolioPosition,
  portfolioMargin,
  portfolioScenarios,
  sizeFactor,
  standaloneMargin,
  type UnderlyingMargin,
} from './portfolioMargin.js';
import {
  flatSurface,
  shockedSurface,
  type VolSurface,
  volatilityAt,
  volShockFactor,
  volSurface,
} from './volSurface.js';
import { DAY, future, NOW, option, perpetual } from '../../test/fixtures/derivatives.js';

const ethPerp = perpetual('ETH');
const ethFuture30d = future('ETH', 30);
const ethCall30d = option('ETH', 'call', 3000, 30);
const ethPut30d = option('ETH', 'put', 3000, 30);

/** ETH at 3000 with a flat 70% surface, BTC at 60,000 with a flat 55% surface. */
const ethAt3000BtcAt60000: PortfolioMarket = {
  time: NOW,
  underlyings: {
    ETH: { index: 3000, surface: flatSurface(0.7) },
    BTC: { index: 60_000, surface: flatSurface(0.55) },
  },
};

/** The 30-day ATM option's Black-76 delta in the fixture market (0.53996 and −0.46004). */
function delta30d(right: 'call' | 'put'): number {
  return black76({
    forward: 3000,
    strike: 3000,
    time: (30 * DAY) / YEAR_SECONDS,
    volatility: 0.7,
    right,
  }).delta;
}

function margin(positions: readonly PortfolioPosition[], market = ethAt3000BtcAt60000): number {
  return portfolioMargin(positions, market).initial;
}

/** Σ of each position's margin alone. */
function sumOfLegs(positions: readonly PortfolioPosition[], market = ethAt3000BtcAt60000): number {
  return positions.reduce((sum, p) => sum + standaloneMargin(p, market).initial, 0);
}

function only(
  positions: readonly PortfolioPosition[],
  market = ethAt3000BtcAt60000,
): UnderlyingMargin {
  const result = portfolioMargin(positions, market);
  expect(result.underlyings).toHaveLength(1);
  return result.underlyings[0] as UnderlyingMargin;
}

function refusal(run: () => unknown): { code: string; field: string | undefined } {
  try {
    run();
  } catch (error) {
    if (error instanceof FulcrumError) return { code: error.code, field: error.field };
    throw error;
  }
  return { code: 'accepted', field: undefined };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

describe('volSurface', () => {
  const d = DAY;
  // Two expiries 30 and 90 days ahead; strikes 2000, 3000, 4000 (a smile, higher at the wings).
  const smile = volSurface({
    expiries: [NOW + 30 * d, NOW + 90 * d],
    strikes: [2000, 3000, 4000],
    vols: [
      [1.0, 0.8, 0.9],
      [0.7, 0.6, 0.65],
    ],
  });

  it('a flat surface reads its volatility everywhere', () => {
    const flat = flatSurface(0.8);
    for (const strike of [1, 3000, 1e9])
      for (const expiry of [NOW - d, NOW, NOW + d, NOW + 3650 * d])
        expect(volatilityAt(flat, strike, expiry, NOW)).toBe(0.8);
  });

  it('reads the grid at its nodes, linearly between strikes, flat beyond them', () => {
    expect(volatilityAt(smile, 3000, NOW + 30 * d, NOW)).toBe(0.8);
    expect(volatilityAt(smile, 4000, NOW + 90 * d, NOW)).toBe(0.65);
    // Halfway between 2000 and 3000 on the 30-day row: (1.0 + 0.8)/2.
    expect(volatilityAt(smile, 2500, NOW + 30 * d, NOW)).toBeCloseTo(0.9, 15);
    // A quarter of the way from 3000 to 4000 on the 90-day row: 0.6 + 0.25·0.05.
    expect(volatilityAt(smile, 3250, NOW + 90 * d, NOW)).toBeCloseTo(0.6125, 15);
    expect(volatilityAt(smile, 500, NOW + 30 * d, NOW)).toBe(1.0);
    expect(volatilityAt(smile, 9000, NOW + 90 * d, NOW)).toBe(0.65);
  });

  it('is linear in total variance between expiries, flat before the first and after the last', () => {
    // At strike 3000, 60 days: variance halfway between 0.8²·30 and 0.6²·90 (vol²·days):
    // (19.2 + 32.4)/2 = 25.8, so σ = √(25.8/60) = 0.65574…
    expect(volatilityAt(smile, 3000, NOW + 60 * d, NOW)).toBeCloseTo(Math.sqrt(25.8 / 60), 14);
    // The doc comment's example: 100% at 30 days, 60% at 90: √(31.2/60).
    const term = volSurface({ expiries: [30 * d, 90 * d], strikes: [1], vols: [[1.0], [0.6]] });
    expect(volatilityAt(term, 1, 60 * d, 0)).toBeCloseTo(Math.sqrt(31.2 / 60), 14);
    expect(volatilityAt(smile, 3000, NOW + 7 * d, NOW)).toBe(0.8);
    expect(volatilityAt(smile, 3000, NOW + 365 * d, NOW)).toBe(0.6);
  });

  it('skips expiries already past: before the next one, its volatility, flat', () => {
    // 40 days later the 30-day row has expired; 20 days ahead reads the 90-day row (50 days away).
    const later = NOW + 40 * d;
    expect(volatilityAt(smile, 3000, later + 20 * d, later)).toBe(0.6);
    // Every row past: the last row, flat.
    expect(volatilityAt(smile, 3000, NOW + 200 * d, NOW + 100 * d)).toBe(0.6);
  });

  it('reads between the lowest and highest volatility of the grid', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 100, max: 10_000, noNaN: true }),
        fc.integer({ min: -10 * d, max: 400 * d }),
        fc.integer({ min: 0, max: 100 * d }),
        (strike, ahead, elapsed) => {
          const v = volatilityAt(smile, strike, NOW + ahead, NOW + elapsed);
          expect(v).toBeGreaterThanOrEqual(0.6 - 1e-15);
          expect(v).toBeLessThanOrEqual(1.0 + 1e-15);
        },
      ),
    );
  });

  it.each([
    ['expiries', { expiries: [NOW + d, NOW], strikes: [1], vols: [[0.5], [0.5]] }],
    ['expiries', { expiries: [], strikes: [1], vols: [] }],
    ['expiries', { expiries: [1.5], strikes: [1], vols: [[0.5]] }],
    ['strikes', { expiries: [NOW], strikes: [2, 2], vols: [[0.5, 0.5]] }],
    ['strikes', { expiries: [NOW], strikes: [-1], vols: [[0.5]] }],
    ['vols', { expiries: [NOW], strikes: [1], vols: [] }],
    ['vols[0]', { expiries: [NOW], strikes: [1, 2], vols: [[0.5]] }],
    ['vols[0][1]', { expiries: [NOW], strikes: [1, 2], vols: [[0.5, 0]] }],
    ['vols[0][0]', { expiries: [NOW], strikes: [1], vols: [[Number.NaN]] }],
    ['vols[0][0]', { expiries: [NOW], strikes: [1], vols: [[11]] }],
    // Text is not a number, though `'0.5' > 0` would say it is.
    ['vols[0][0]', { expiries: [NOW], strikes: [1], vols: [['0.5']] }],
    ['strikes', { expiries: [NOW], strikes: ['1'], vols: [[0.5]] }],
    ['strikes', { expiries: [NOW], strikes: [1e16], vols: [[0.5]] }],
    ['expiries', { expiries: [1e15], strikes: [1], vols: [[0.5]] }],
  ] as unknown as [string, VolSurface][])('refuses a bad grid: %s', (field, grid) => {
    expect(refusal(() => volSurface(grid))).toEqual({
      code: 'invalid_config',
      field: `surface.${field}`,
    });
  });

  it('refuses a flat surface of 0 or NaN volatility', () => {
    expect(refusal(() => flatSurface(0)).code).toBe('invalid_config');
    expect(refusal(() => flatSurface(Number.NaN)).code).toBe('invalid_config');
  });

  it('shock factors: 1 + shock·(30/max(DTE, 1))^power, 0.3 below 30 days, 0.13 from 30', () => {
    expect(volShockFactor(0.5, 30 * d)).toBe(1.5);
    expect(volShockFactor(-0.25, 30 * d)).toBe(0.75);
    expect(volShockFactor(0.5, d)).toBeCloseTo(1 + 0.5 * 30 ** 0.3, 15); // 2.3863
    expect(volShockFactor(0.5, d / 2)).toBe(volShockFactor(0.5, d)); // the 1-day floor
    expect(volShockFactor(0.5, -d)).toBe(volShockFactor(0.5, d));
    expect(volShockFactor(0.5, 7 * d)).toBeCloseTo(1 + 0.5 * (30 / 7) ** 0.3, 15);
    expect(volShockFactor(0.5, 365 * d)).toBeCloseTo(1 + 0.5 * (30 / 365) ** 0.13, 15);
  });

  it('a shocked surface read at a row is the row times its shock factor', () => {
    const up = shockedSurface(smile, 0.5, NOW);
    expect(volatilityAt(up, 2000, NOW + 30 * d, NOW)).toBe(1.0 * 1.5);
    expect(volatilityAt(up, 3000, NOW + 90 * d, NOW)).toBeCloseTo(
      0.6 * (1 + 0.5 * (30 / 90) ** 0.13),
      15,
    );
    expect(refusal(() => shockedSurface(smile, -2, NOW)).code).toBe('invalid_config');
  });
});

describe('portfolioMargin: the scenarios', () => {
  // Deribit: ±16% in 4 buckets a side, 9 moves, × volatility up (+50%), same, down (−25%), all
  // counted in full; then Paradex's extended moves on volatility up at 16%/|move|.
  const grid = [-0.16, -0.12, -0.08, -0.04, 0, 0.04, 0.08, 0.12, 0.16].flatMap((move) => [
    { table: 'grid', move, vol: 'up', volShock: 0.5, weight: 1 },
    { table: 'grid', move, vol: 'same', volShock: 0, weight: 1 },
    { table: 'grid', move, vol: 'down', volShock: -0.25, weight: 1 },
  ]);
  const extended = [
    [-0.66, 0.16 / 0.66], // 24.24%
    [-0.33, 0.16 / 0.33], // 48.48%
    [0.5, 0.32],
    [1, 0.16],
    [2, 0.08],
    [3, 0.16 / 3], // 5.33%
    [4, 0.04],
    [5, 0.032],
  ].map(([move, weight]) => ({ table: 'extended', move, vol: 'up', volShock: 0.5, weight }));

  it('are the 27 of the grid then the 8 extended, in this order', () => {
    const scenarios = portfolioScenarios();
    expect(scenarios).toHaveLength(35);
    scenarios.forEach((s, i) => {
      const expected = [...grid, ...extended][i] as (typeof scenarios)[number];
      expect(s.table).toBe(expected.table);
      expect(s.vol).toBe(expected.vol);
      expect(s.volShock).toBe(expected.volShock);
      expect(s.move).toBeCloseTo(expected.move, 15);
      expect(s.weight).toBeCloseTo(expected.weight, 15);
    });
  });
});

describe('portfolioMargin: worked examples', () => {
  it('10 ETH long perpetual at 3000: 16% × 10 × 3000 = 4800, maintenance 3840', () => {
    const eth = only([{ instrument: ethPerp, size: 10 }]);
    // Every grid scenario: 10 units × 3000 × move, whatever the volatility.
    for (const s of eth.scenarios.filter((x) => x.table === 'grid'))
      expect(s.pnl).toBeCloseTo(30_000 * s.move, 9);
    // The extended losses weighted 16%/|move| come to the same 4800: a linear position's
    // weighted loss is 0.16 × notional whatever the move.
    for (const s of eth.scenarios.filter((x) => x.table === 'extended' && x.move < 0))
      expect(s.weightedPnl).toBeCloseTo(-4800, 9);
    expect(eth.worst).toMatchObject({ table: 'grid', move: -0.16, vol: 'up' });
    expect(eth.scanRisk).toBeCloseTo(4800, 9);
    // Minimum charge: 2% × |10| × 3000 = 600, nothing hedged, no short option.
    expect(eth.minimumCharge).toEqual({
      netDelta: 10,
      hedgedDelta: 0,
      deltaCharge: 600,
      shortOptions: 0,
      contingency: 0,
      total: 600,
    });
    expect(eth.initial).toBeCloseTo(4800, 9);
    expect(eth.maintenance).toBeCloseTo(0.8 * 4800, 9); // 3840
    expect(eth.greeks).toEqual({ delta: 10, gamma: 0, vega: 0, thetaPerDay: 0 });
    const all = portfolioMargin([{ instrument: ethPerp, size: 10 }], ethAt3000BtcAt60000);
    expect(all.initial).toBe(eth.initial);
    expect(all.maintenance).toBeCloseTo(3840, 9);
  });

  it('a short future margins the rise: 16% × 2 × 3000 = 960', () => {
    const eth = only([{ instrument: ethFuture30d, size: -2 }]);
    // +16% on the grid and every extended rise tie at 960 (16%/move × move × 6000): which one
    // is reported worst is decided by the last bit of rounding (today +300%).
    expect(eth.worst.move).toBeGreaterThan(0);
    expect(eth.worst.weightedPnl).toBeCloseTo(-960, 9);
    expect(eth.initial).toBeCloseTo(960, 9);
  });

  it('1 ETH short 30-day call at the money: each scenario is a full Black-76 revaluation', () => {
    // At 30 days the shock's scaling is (30/30)^0.13 = 1: volatility up 0.7 × 1.5 = 1.05,
    // down 0.7 × 0.75 = 0.525. Each scenario's profit is −(C(shocked) − C(now)).
    const t = (30 * DAY) / YEAR_SECONDS;
    const call = (forward: number, volatility: number) =>
      black76({ forward, strike: 3000, time: t, volatility, right: 'call' }).price;
    const vol = { up: 1.05, same: 0.7, down: 0.525 } as const;
    const eth = only([{ instrument: ethCall30d, size: -1 }]);
    for (const s of eth.scenarios) {
      const expected = -(call(3000 * (1 + s.move), vol[s.vol]) - call(3000, 0.7));
      expect(s.pnl).toBeCloseTo(expected, 9);
      expect(s.weightedPnl).toBeCloseTo(expected * s.weight, 9);
    }
    // The +500% extended move dominates: (18000 − 3000 + time value) × 3.2% ≈ 480.
    expect(eth.worst).toMatchObject({ table: 'extended', move: 5 });
    expect(eth.scanRisk).toBeCloseTo(-eth.worst.weightedPnl, 12);
    // Greeks: the option's, times −1.
    const now = black76({ forward: 3000, strike: 3000, time: t, volatility: 0.7, right: 'call' });
    expect(eth.greeks.delta).toBeCloseTo(-now.delta, 15);
    expect(eth.greeks.vega).toBeCloseTo(-now.vega, 12);
    // Minimum charge: 2% × 0.54 × 3000 + 0.1% × 1 × 3000.
    expect(eth.minimumCharge.contingency).toBeCloseTo(3, 12);
    expect(eth.minimumCharge.total).toBeCloseTo(0.02 * now.delta * 3000 + 3, 12);
  });

  it('an expired option without a settlement price: flagged, never valued on the index', () => {
    // Expired 2 days ago, strike 2800. The index (3000 today) says nothing about what it settled
    // at: it is listed as needing settlement, with no value, no Greeks and no margin.
    const expired = option('ETH', 'call', 2800, -2);
    for (const index of [3000, 1000]) {
      const market = { time: NOW, underlyings: { ETH: { index, surface: flatSurface(0.7) } } };
      const result = portfolioMargin([{ instrument: expired, size: -5 }], market);
      expect(result.needsSettlement).toEqual([expired.symbol]);
      expect(result.initial).toBe(0);
      const eth = result.underlyings[0] as UnderlyingMargin;
      expect(eth.expired).toEqual([
        { symbol: expired.symbol, size: -5, settlement: null, value: null },
      ]);
      for (const s of eth.scenarios) expect(Math.abs(s.pnl)).toBe(0);
      expect(eth.greeks).toEqual({ delta: 0, gamma: 0, vega: 0, thetaPerDay: 0 });
      expect(eth.minimumCharge.total).toBe(0);
    }
  });

  it('an expired option or future with a settlement price: valued on it, margined at nothing', () => {
    // Settled at 2950: the call struck at 2800 is worth 150 a unit, the put 0, the future 2950,
    // whatever the index is today. Beside a 10 ETH perpetual, the margin is the perpetual's.
    const call = option('ETH', 'call', 2800, -2);
    const put = option('ETH', 'put', 2800, -2);
    const dated = future('ETH', -2);
    const market: PortfolioMarket = {
      time: NOW,
      underlyings: {
        ETH: {
          index: 3000,
          surface: flatSurface(0.7),
          settlements: [{ expiry: NOW - 2 * DAY, price: 2950 }],
        },
      },
    };
    const positions = [
      { instrument: call, size: -5 },
      { instrument: put, size: 3 },
      { instrument: dated, size: 2 },
      { instrument: ethPerp, size: 10 },
    ];
    const result = portfolioMargin(positions, market);
    expect(result.needsSettlement).toEqual([]);
    const eth = result.underlyings[0] as UnderlyingMargin;
    expect(eth.expired).toEqual([
      { symbol: call.symbol, size: -5, settlement: 2950, value: 150 },
      { symbol: put.symbol, size: 3, settlement: 2950, value: 0 },
      { symbol: dated.symbol, size: 2, settlement: 2950, value: 2950 },
    ]);
    expect(eth.greeks.delta).toBe(10);
    expect(result.initial).toBe(margin([{ instrument: ethPerp, size: 10 }], market));
    expect(result.initial).toBeCloseTo(4800, 9);
  });

  it('a conversion (long call, short put, short perpetual) is flat: margin = minimum charge', () => {
    // Put-call parity with r = 0: C − P = F − K, so long C, short P, short 1 unit is worth
    // K − ... constant in every scenario. Minimum charge: net delta 0, gross 10·0.54 + 10·0.46
    // + 10 = 20, hedged (20 − 0)/2 = 10: 1% × 10 × 3000 = 300, plus 0.1% × 10 × 3000 = 30
    // for the 10 short puts: 330.
    const eth = only([
      { instrument: ethCall30d, size: 10 },
      { instrument: ethPut30d, size: -10 },
      { instrument: ethPerp, size: -10 },
    ]);
    for (const s of eth.scenarios) expect(Math.abs(s.pnl)).toBeLessThan(1e-8);
    expect(eth.scanRisk).toBeLessThan(1e-8);
    expect(eth.minimumCharge.hedgedDelta).toBeCloseTo(10, 12);
    expect(eth.initial).toBeCloseTo(330, 9);
  });
});

describe('portfolioMargin: forwards and a rate', () => {
  /** ETH at 3000 with the 30-day forward at 3060 (a 2% basis), flat 70%. */
  const basis: PortfolioMarket = {
    time: NOW,
    underlyings: {
      ETH: {
        index: 3000,
        surface: flatSurface(0.7),
        forwards: [{ expiry: NOW + 30 * DAY, forward: 3060 }],
      },
    },
  };

  it('a future moves with its forward: short 2 at 3060 loses 16% × 2 × 3060 = 979.2', () => {
    const eth = only([{ instrument: ethFuture30d, size: -2 }], basis);
    expect(eth.worst.weightedPnl).toBeCloseTo(-979.2, 9);
    expect(eth.initial).toBeCloseTo(979.2, 9);
    // Delta against the index: ∂F/∂S = 3060/3000 = 1.02 a unit.
    expect(eth.greeks.delta).toBeCloseTo(-2.04, 12);
    // No forward given: 960 on the index.
    expect(margin([{ instrument: ethFuture30d, size: -2 }])).toBeCloseTo(960, 9);
  });

  it('a conversion is flat against the future of its expiry, not against the perpetual', () => {
    // Long 10 calls, short 10 puts at 3000, 30 days: by parity (r = 0) worth 10·(F − 3000),
    // delta 10 in F. Short 10 of the 30-day future: flat in every scenario, the margin the
    // minimum charge: gross delta 10·1.02·(Δc + |Δp|) + 10·1.02 = 20.4, hedged 10.2: 1% × 10.2 ×
    // 3000 = 306, plus 0.1% × 10 × 3000 = 30 for the short puts: 336.
    const options = [
      { instrument: ethCall30d, size: 10 },
      { instrument: ethPut30d, size: -10 },
    ];
    const withFuture = only([...options, { instrument: ethFuture30d, size: -10 }], basis);
    for (const s of withFuture.scenarios) expect(Math.abs(s.pnl)).toBeLessThan(1e-8);
    expect(withFuture.greeks.delta).toBeCloseTo(0, 12);
    expect(withFuture.initial).toBeCloseTo(336, 9);
    // Against the perpetual the basis is left: 10 × move × (3060 − 3000), −96 at −16%.
    const withPerp = only([...options, { instrument: ethPerp, size: -10 }], basis);
    for (const s of withPerp.scenarios) expect(s.pnl).toBeCloseTo(10 * s.move * 60, 8);
    expect(withPerp.greeks.delta).toBeCloseTo(0.2, 12);
  });

  it('a rate: the call on S·e^{rT}, its payoff discounted, so 5% a year changes the margin', () => {
    // Short 1 call at 3000, 30 days, 5%: each scenario is −(C − C₀) on F = 3000·e^{0.05·30/365}
    // moved with the index, discounted by e^{−0.05·30/365}.
    const t = (30 * DAY) / YEAR_SECONDS;
    const market: PortfolioMarket = {
      time: NOW,
      underlyings: { ETH: { index: 3000, surface: flatSurface(0.7), rate: 0.05 } },
    };
    const f = 3000 * Math.exp(0.05 * t);
    const call = (forward: number, volatility: number) =>
      black76({ forward, strike: 3000, time: t, volatility, rate: 0.05, right: 'call' }).price;
    const vol = { up: 1.05, same: 0.7, down: 0.525 } as const;
    const eth = only([{ instrument: ethCall30d, size: -1 }], market);
    for (const s of eth.scenarios)
      expect(s.pnl).toBeCloseTo(-(call(f * (1 + s.move), vol[s.vol]) - call(f, 0.7)), 9);
    // Black-76 on S·e^{rT} discounted is Black–Scholes on the index: Δ_S = N(d1) e^{−rT}·e^{rT}.
    const d = black76({
      forward: f,
      strike: 3000,
      time: t,
      volatility: 0.7,
      rate: 0.05,
      right: 'call',
    });
    expect(eth.greeks.delta).toBeCloseTo(-d.delta * Math.exp(0.05 * t), 14);
    expect(margin([{ instrument: ethCall30d, size: -1 }], market)).not.toBeCloseTo(
      margin([{ instrument: ethCall30d, size: -1 }]),
      3,
    );
  });

  it('forwards equal to the index and a rate of 0 change nothing (property)', () => {
    fc.assert(
      fc.property(portfolioArb, (positions) => {
        const expiries = [...new Set(positions.map((p) => p.instrument))]
          .flatMap((i) => (i.kind === 'perpetual' ? [] : [i.expiry]))
          .filter((e, k, all) => all.indexOf(e) === k)
          .sort((a, b) => a - b);
        const flat = (index: number) => expiries.map((expiry) => ({ expiry, forward: index }));
        const market: PortfolioMarket = {
          time: NOW,
          underlyings: {
            ETH: { index: 3000, surface: flatSurface(0.7), forwards: flat(3000), rate: 0 },
            BTC: { index: 60_000, surface: flatSurface(0.55), forwards: flat(60_000) },
          },
        };
        expect(portfolioMargin(positions, market)).toEqual(
          portfolioMargin(positions, ethAt3000BtcAt60000),
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe('portfolioMargin: hedges need much less than their legs one by one', () => {
  it('a delta-hedged long straddle', () => {
    // Long 10 calls and 10 puts at 3000, 30 days, 70%; short 10 × (0.53996 − 0.46004) =
    // 0.7993 ETH perpetual. Figures: portfolio 1196.27 (the worst is no move, volatility down:
    // the straddle's premium falls); legs 2145.59 + 1982.53 + 383.65 = 4511.78; ratio 0.265.
    const hedge = -10 * (delta30d('call') + delta30d('put'));
    const positions = [
      { instrument: ethCall30d, size: 10 },
      { instrument: ethPut30d, size: 10 },
      { instrument: ethPerp, size: hedge },
    ];
    const eth = only(positions);
    expect(eth.greeks.delta).toBeCloseTo(0, 12);
    expect(eth.worst).toMatchObject({ table: 'grid', move: 0, vol: 'down' });
    expect(margin(positions)).toBeCloseTo(1196.27, 2);
    expect(sumOfLegs(positions)).toBeCloseTo(4511.78, 2);
    expect(margin(positions) / sumOfLegs(positions)).toBeLessThan(0.3);
  });

  it('a covered call: long perpetual, short call at the money', () => {
    // Long 10 ETH perpetual, short 10 calls at 3000, 30 days. Portfolio 4218.76 (worst: the
    // −66% extended move, where the call's premium no longer covers the perpetual's loss);
    // legs 4800 + 4723.27 = 9523.27; ratio 0.443.
    const positions = [
      { instrument: ethPerp, size: 10 },
      { instrument: ethCall30d, size: -10 },
    ];
    expect(margin(positions)).toBeCloseTo(4218.76, 2);
    expect(sumOfLegs(positions)).toBeCloseTo(9523.27, 2);
    expect(margin(positions) / sumOfLegs(positions)).toBeLessThan(0.5);
    // The hedge is worth less than the perpetual alone, too.
    expect(margin(positions)).toBeLessThan(margin([positions[0] as PortfolioPosition]));
  });

  it('a short straddle delta-hedged with the 30-day future', () => {
    // Short 10 calls and 10 puts at 3000, long 0.7993 ETH of the future. Portfolio 4262.89
    // (worst: +500% extended, the short call); legs 4723.27 + 4218.76 + 383.65 = 9325.68;
    // ratio 0.457.
    const positions = [
      { instrument: ethCall30d, size: -10 },
      { instrument: ethPut30d, size: -10 },
      { instrument: ethFuture30d, size: 10 * (delta30d('call') + delta30d('put')) },
    ];
    expect(only(positions).worst).toMatchObject({ table: 'extended', move: 5 });
    expect(margin(positions)).toBeCloseTo(4262.89, 2);
    expect(sumOfLegs(positions)).toBeCloseTo(9325.68, 2);
    expect(margin(positions) / sumOfLegs(positions)).toBeLessThan(0.5);
  });

  it('a calendar spread: short the 7-day call, long the 60-day call', () => {
    // Short 10 7-day calls, long 10 60-day calls, both at 3000. Portfolio 1500.41 (worst: −16%
    // with volatility down, the long far leg losing more than the short near one gains);
    // legs 4762.89 + 2659.37 = 7422.26; ratio 0.202. The near leg's volatility is shocked more
    // ((30/7)^0.3 = 1.55 × the shock) than the far one's ((30/60)^0.13 = 0.91 ×).
    const positions = [
      { instrument: option('ETH', 'call', 3000, 7), size: -10 },
      { instrument: option('ETH', 'call', 3000, 60), size: 10 },
    ];
    expect(only(positions).worst).toMatchObject({ table: 'grid', move: -0.16, vol: 'down' });
    expect(margin(positions)).toBeCloseTo(1500.41, 2);
    expect(sumOfLegs(positions)).toBeCloseTo(7422.26, 2);
    expect(margin(positions) / sumOfLegs(positions)).toBeLessThan(0.25);
  });

  it('no offset between underlyings: ETH and BTC margins add', () => {
    const eth = [{ instrument: ethPerp, size: 10 }];
    const btc = [{ instrument: perpetual('BTC'), size: -0.5 }];
    const both = portfolioMargin([...eth, ...btc], ethAt3000BtcAt60000);
    expect(both.underlyings.map((u) => u.underlying)).toEqual(['BTC', 'ETH']);
    // 4800 + 16% × 0.5 × 60,000 = 4800 + 4800.
    expect(both.initial).toBeCloseTo(margin(eth) + margin(btc), 9);
    expect(both.initial).toBeCloseTo(9600, 9);
  });
});

/** Random portfolios on ETH and BTC: perpetuals, futures, options (some expired). */
const positionArb: fc.Arbitrary<PortfolioPosition> = fc
  .record({
    underlying: fc.constantFrom('ETH', 'BTC'),
    kind: fc.constantFrom('perpetual', 'future', 'option', 'option', 'option'),
    right: fc.constantFrom<'call' | 'put'>('call', 'put'),
    moneyness: fc.constantFrom(0.5, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 2),
    days: fc.constantFrom(-3, 1, 2, 7, 14, 30, 60, 90, 180, 365),
    size: fc.double({ min: -100, max: 100, noNaN: true }),
  })
  .map(({ underlying, kind, right, moneyness, days, size }) => {
    const index = underlying === 'ETH' ? 3000 : 60_000;
    const instrument: InstrumentSpec =
      kind === 'perpetual'
        ? perpetual(underlying)
        : kind === 'future'
          ? future(underlying, days)
          : option(underlying, right, index * moneyness, days);
    return { instrument, size };
  });
const portfolioArb = fc.array(positionArb, { minLength: 1, maxLength: 8 });

/**
 * The same market with a carry: ETH's one forward, 3045 for 45 days (so every expiry's forward
 * is 3000·1.015^{T/45 days}: before it read in ln F from the index, beyond it its basis held);
 * BTC a rate of 4% (forwards 60,000·e^{0.04T}, payoffs discounted by e^{−0.04T}).
 */
const withCarry: PortfolioMarket = {
  time: NOW,
  underlyings: {
    ETH: {
      index: 3000,
      surface: flatSurface(0.7),
      forwards: [{ expiry: NOW + 45 * DAY, forward: 3045 }],
    },
    BTC: { index: 60_000, surface: flatSurface(0.55), rate: 0.04 },
  },
};

/** Each market's forward and rate for T years ahead, written out by hand. */
const carries = new Map<PortfolioMarket, (u: string, t: number) => [number, number]>([
  [ethAt3000BtcAt60000, (u) => [u === 'ETH' ? 3000 : 60_000, 0]],
  [
    withCarry,
    (u, t) =>
      u === 'ETH'
        ? [3000 * 1.015 ** ((t * YEAR_SECONDS) / (45 * DAY)), 0]
        : [60_000 * Math.exp(0.04 * t), 0.04],
  ],
]);

/**
 * The reference: each position revalued on its own in every scenario, by Black-76 directly on
 * the forward written out by hand, with the shocked volatility written out from the
 * configuration. Positions past expiry are out.
 */
function referencePnl(
  positions: readonly PortfolioPosition[],
  underlying: string,
  market: PortfolioMarket = ethAt3000BtcAt60000,
): number[] {
  const { index, surface } = market.underlyings[underlying] as {
    index: number;
    surface: VolSurface;
  };
  const carry = carries.get(market) as (u: string, t: number) => [number, number];
  return portfolioScenarios().map((s) => {
    let pnl = 0;
    for (const { instrument: i, size } of positions) {
      if (i.underlying !== underlying) continue;
      if (i.kind === 'perpetual') {
        pnl += size * index * s.move;
        continue;
      }
      if (i.expiry <= NOW) continue;
      const t = (i.expiry - NOW) / YEAR_SECONDS;
      const [forward, rate] = carry(underlying, t);
      if (i.kind === 'future') {
        pnl += size * forward * s.move;
        continue;
      }
      const days = (i.expiry - NOW) / DAY;
      const power = days < 30 ? 0.3 : 0.13;
      const vol = volatilityAt(surface, i.strike, i.expiry, NOW);
      const shocked = vol * (1 + s.volShock * (30 / Math.max(days, 1)) ** power);
      const at = (f: number, volatility: number) =>
        black76({ forward: f, strike: i.strike, time: t, volatility, right: i.right, rate }).price;
      pnl += size * (at(forward * (1 + s.move), shocked) - at(forward, vol));
    }
    return pnl;
  });
}

/** A loose scale for float comparisons: the portfolio's gross notional at the largest move. */
function notional(positions: readonly PortfolioPosition[]): number {
  return positions.reduce(
    (sum, p) => sum + Math.abs(p.size) * (p.instrument.underlying === 'ETH' ? 3000 : 60_000),
    0,
  );
}

describe('portfolioMargin: properties', () => {
  it('every scenario matches the reference; margin >= every grid loss and weighted extended loss', () => {
    fc.assert(
      fc.property(portfolioArb, fc.constantFrom(...carries.keys()), (positions, market) => {
        const result = portfolioMargin(positions, market);
        const tolerance = 1e-9 * (1 + 6 * notional(positions));
        for (const u of result.underlyings) {
          const reference = referencePnl(positions, u.underlying, market);
          u.scenarios.forEach((s, i) => {
            expect(Math.abs(s.pnl - (reference[i] as number))).toBeLessThanOrEqual(tolerance);
            const counted = s.table === 'grid' ? -s.pnl : -s.pnl * s.weight;
            expect(u.initial).toBeGreaterThanOrEqual(counted);
            expect(u.scanRisk).toBeGreaterThanOrEqual(counted);
          });
          expect(u.scanRisk).toBeGreaterThanOrEqual(0);
          expect(u.initial).toBe(Math.max(u.scanRisk, u.minimumCharge.total));
          expect(u.maintenance).toBe(0.8 * u.initial);
          // == rather than Object.is: a position of size 0 (or −0) loses −0.
          const lowest = Math.min(...u.scenarios.map((s) => s.weightedPnl));
          expect(u.worst.weightedPnl === lowest).toBe(true);
        }
        const sum = result.underlyings.reduce((total, u) => total + u.initial, 0);
        expect(result.initial).toBe(sum);
        expect(result.maintenance).toBe(0.8 * result.initial);
      }),
      { numRuns: 300 },
    );
  });

  it('scaling every size by c >= 1 never lowers the margin: it scales it by c', () => {
    fc.assert(
      fc.property(portfolioArb, fc.double({ min: 1, max: 20, noNaN: true }), (positions, c) => {
        const base = margin(positions);
        const scaled = margin(positions.map((p) => ({ ...p, size: c * p.size })));
        // Every part (scenario profits, delta charge, contingency) is linear in the sizes.
        expect(scaled).toBeGreaterThanOrEqual(base * (1 - 1e-12));
        expect(Math.abs(scaled - c * base)).toBeLessThanOrEqual(1e-9 * (1 + c * base));
      }),
      { numRuns: 200 },
    );
  });

  it('with a size premium, a larger book needs a larger share of its notional', () => {
    // The size factor: 0.8 + premium·√units / 0.16, at least 1.
    expect(sizeFactor(10_000, 0.001, 0.16)).toBeCloseTo(1.425, 12);
    expect(sizeFactor(100, 0.001, 0.16)).toBe(1);
    expect(sizeFactor(1e6, 0, 0.16)).toBe(1);
    const premiumPerp = { ...ethPerp, sizePremium: 0.001 };
    // 10,000 ETH long at 3000: the −16% move loses 4.8M; × 1.425 = max(16%, 12.8% + 0.1 × √10,000 / 100)
    // of 30M, the standard modes' size premium on the grid's 16%: 22.8% = 6.84M.
    const whale = portfolioMargin([{ instrument: premiumPerp, size: 10_000 }], ethAt3000BtcAt60000);
    expect(whale.underlyings[0]?.size).toEqual({ units: 10_000, premium: 0.001, factor: 1.425 });
    expect(whale.initial).toBeCloseTo(0.228 * 30_000_000, 3);
    // 100 ETH: factor 1, 16% of 300,000.
    expect(margin([{ instrument: premiumPerp, size: 100 }])).toBeCloseTo(48_000, 6);
    // A short option book: its net short units count too.
    const premiumCall = { ...ethCall30d, sizePremium: 0.001 };
    const small = margin([{ instrument: premiumCall, size: -10 }]) / 10;
    const large = margin([{ instrument: premiumCall, size: -40_000 }]) / 40_000;
    expect(large).toBeGreaterThan(1.5 * small);
  });

  it('with a size premium, margin still grows with every size (property)', () => {
    fc.assert(
      fc.property(
        positionArb,
        fc.double({ min: 0, max: 0.01, noNaN: true }),
        fc.double({ min: 1e-3, max: 1e4, noNaN: true }),
        fc.double({ min: 1, max: 50, noNaN: true }),
        ({ instrument }, premium, size, c) => {
          const spec = { ...instrument, sizePremium: premium };
          const one = standaloneMargin({ instrument: spec, size }, ethAt3000BtcAt60000).initial;
          const more = standaloneMargin({ instrument: spec, size: c * size }, ethAt3000BtcAt60000);
          // At least proportional: the share of notional never falls as the size grows.
          expect(more.initial).toBeGreaterThanOrEqual(c * one * (1 - 1e-9));
          for (const u of more.underlyings) expect(u.size.factor).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("one position's margin is proportional to |size|, minimum charge included", () => {
    fc.assert(
      fc.property(
        positionArb,
        fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
        ({ instrument }, c) => {
          const one = standaloneMargin({ instrument, size: 1 }, ethAt3000BtcAt60000).initial;
          const many = standaloneMargin({ instrument, size: c }, ethAt3000BtcAt60000).initial;
          expect(Math.abs(many - c * one)).toBeLessThanOrEqual(1e-9 * (1 + c * one));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('positions in the same instrument net: split or joined, the same margin', () => {
    fc.assert(
      fc.property(portfolioArb, fc.double({ min: 0, max: 1, noNaN: true }), (positions, share) => {
        const [first, ...rest] = positions as [PortfolioPosition, ...PortfolioPosition[]];
        const split = [
          { instrument: first.instrument, size: share * first.size },
          ...rest,
          { instrument: first.instrument, size: (1 - share) * first.size },
        ];
        expect(Math.abs(margin(split) - margin(positions))).toBeLessThanOrEqual(
          1e-9 * (1 + notional(positions)),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('deterministic, finite, never throws on valid input, and changes nothing it is given', () => {
    fc.assert(
      fc.property(portfolioArb, (positions) => {
        const frozen = deepFreeze(structuredClone(positions));
        const market = deepFreeze(structuredClone(ethAt3000BtcAt60000));
        const first = portfolioMargin(frozen, market);
        const second = portfolioMargin(frozen, market);
        expect(second).toEqual(first);
        expect(frozen).toEqual(positions);
        expect(Number.isFinite(first.initial) && Number.isFinite(first.maintenance)).toBe(true);
        for (const u of first.underlyings) {
          for (const s of u.scenarios) expect(Number.isFinite(s.pnl)).toBe(true);
          for (const g of Object.values(u.greeks)) expect(Number.isFinite(g)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('an empty portfolio needs nothing', () => {
    expect(portfolioMargin([], ethAt3000BtcAt60000)).toEqual({
      underlyings: [],
      initial: 0,
      maintenance: 0,
      needsSettlement: [],
    });
  });
});

describe('portfolioMargin: refusals', () => {
  const long = { instrument: ethPerp, size: 1 };
  const withEth = (eth: object): PortfolioMarket =>
    ({ time: NOW, underlyings: { ETH: eth } }) as PortfolioMarket;
  const cases: [string, () => unknown, string, string | undefined][] = [
    [
      'an underlying missing from the market',
      () => portfolioMargin([{ instrument: perpetual('SOL'), size: 1 }], ethAt3000BtcAt60000),
      'unknown_asset',
      'positions[0].instrument.underlying',
    ],
    [
      'a NaN index',
      () => portfolioMargin([long], withEth({ index: Number.NaN, surface: flatSurface(0.7) })),
      'invalid_number',
      'market.underlyings.ETH.index',
    ],
    [
      'a negative index',
      () => portfolioMargin([long], withEth({ index: -3000, surface: flatSurface(0.7) })),
      'invalid_number',
      'market.underlyings.ETH.index',
    ],
    [
      'a zero index',
      () => portfolioMargin([long], withEth({ index: 0, surface: flatSurface(0.7) })),
      'invalid_number',
      'market.underlyings.ETH.index',
    ],
    [
      'a broken surface',
      () =>
        portfolioMargin(
          [long],
          withEth({ index: 3000, surface: { expiries: [NOW], strikes: [1], vols: [[-1]] } }),
        ),
      'invalid_config',
      'market.underlyings.ETH.surface.vols[0][0]',
    ],
    [
      'a NaN size',
      () => portfolioMargin([{ instrument: ethPerp, size: Number.NaN }], ethAt3000BtcAt60000),
      'invalid_number',
      'positions[0].size',
    ],
    [
      'an infinite size',
      () => portfolioMargin([{ instrument: ethPerp, size: -Infinity }], ethAt3000BtcAt60000),
      'invalid_number',
      'positions[0].size',
    ],
    [
      'a NaN time',
      () => portfolioMargin([long], { ...ethAt3000BtcAt60000, time: Number.NaN }),
      'invalid_number',
      'market.time',
    ],
    [
      'an option struck at 0',
      () =>
        portfolioMargin(
          [{ instrument: { ...ethCall30d, strike: 0 }, size: 1 }],
          ethAt3000BtcAt60000,
        ),
      'invalid_config',
      'strike',
    ],
    [
      'one symbol, two instruments',
      () =>
        portfolioMargin(
          [
            { instrument: ethCall30d, size: 1 },
            { instrument: { ...ethCall30d, strike: 3100 }, size: 1 },
          ],
          ethAt3000BtcAt60000,
        ),
      'invalid_config',
      'positions[1].instrument',
    ],
    [
      'too many positions',
      () =>
        portfolioMargin(
          Array.from({ length: 1001 }, () => long),
          ethAt3000BtcAt60000,
        ),
      'limit_exceeded',
      'positions',
    ],
    [
      'a volatility down shock that would reach 0 at the 1-day floor (0.4 × 30^0.3 = 1.11)',
      () =>
        portfolioMargin([long], ethAt3000BtcAt60000, {
          ...DEFAULT_PORTFOLIO_MARGIN_CONFIG,
          volDown: 0.4,
        }),
      'invalid_config',
      'config.volDown',
    ],
    [
      'a price range of 100%',
      () =>
        portfolioMargin([long], ethAt3000BtcAt60000, {
          ...DEFAULT_PORTFOLIO_MARGIN_CONFIG,
          priceRange: 1,
        }),
      'invalid_config',
      'config.priceRange',
    ],
    [
      'forwards out of order',
      () =>
        portfolioMargin(
          [long],
          withEth({
            index: 3000,
            surface: flatSurface(0.7),
            forwards: [
              { expiry: NOW + 2 * DAY, forward: 3010 },
              { expiry: NOW + DAY, forward: 3005 },
            ],
          }),
        ),
      'invalid_config',
      'market.underlyings.ETH.forwards[1]',
    ],
    [
      'a NaN forward',
      () =>
        portfolioMargin(
          [long],
          withEth({
            index: 3000,
            surface: flatSurface(0.7),
            forwards: [{ expiry: NOW + DAY, forward: Number.NaN }],
          }),
        ),
      'invalid_number',
      'market.underlyings.ETH.forwards[0].forward',
    ],
    [
      'a rate of 300%',
      () => portfolioMargin([long], withEth({ index: 3000, surface: flatSurface(0.7), rate: 3 })),
      'invalid_number',
      'market.underlyings.ETH.rate',
    ],
    [
      'a settlement price for an expiry still ahead',
      () =>
        portfolioMargin(
          [long],
          withEth({
            index: 3000,
            surface: flatSurface(0.7),
            settlements: [{ expiry: NOW + DAY, price: 3000 }],
          }),
        ),
      'invalid_config',
      'market.underlyings.ETH.settlements[0].expiry',
    ],
    [
      'a rate carried 40 years (r·T = 40, beyond e^30)',
      () =>
        portfolioMargin(
          [{ instrument: option('ETH', 'call', 3000, 40 * 365), size: 1 }],
          withEth({ index: 3000, surface: flatSurface(0.7), rate: 1 }),
        ),
      'invalid_number',
      'market.underlyings.ETH',
    ],
    [
      'an extended move of −100%',
      () =>
        portfolioMargin([long], ethAt3000BtcAt60000, {
          ...DEFAULT_PORTFOLIO_MARGIN_CONFIG,
          extendedMoves: [{ move: -1, weight: 0.16 }],
        }),
      'invalid_config',
      'config.extendedMoves[0].move',
    ],
  ];

  it.each(cases)('refuses %s', (_name, run, code, field) => {
    expect(refusal(run)).toEqual({ code, field });
  });

  it('checks the underlyings before their indices: a missing one is reported first', () => {
    const market = withEth({ index: Number.NaN, surface: flatSurface(0.7) });
    const positions = [long, { instrument: perpetual('SOL'), size: 1 }];
    expect(refusal(() => portfolioMargin(positions, market)).code).toBe('unknown_asset');
  });

  it('reads only the underlyings held: a broken entry for another is not looked at', () => {
    const market = {
      time: NOW,
      underlyings: {
        ETH: { index: 3000, surface: flatSurface(0.7) },
        SOL: { index: Number.NaN, surface: flatSurface(0.7) },
      },
    };
    expect(portfolioMargin([long], market).initial).toBeCloseTo(480, 9);
  });
});
