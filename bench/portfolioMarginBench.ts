/**
 * Portfolio margin figures: evaluations per second of the scenario margin of one account of 20
 * options (10 on ETH, 10 on BTC, long and short, calls and puts, 10 days to 4 months, on smile
 * surfaces) and a perpetual hedge per underlying: 2 underlyings × 35 scenarios, each option
 * revalued in full. The baseline, measured in the same run: the 700 Black-76 revaluations one
 * evaluation makes (20 options × 35 scenarios), alone, so the ratio says how much of the cost
 * is pricing and how much the rest (validation, netting, surface reads, the minimum charge).
 */
import { black76, type Black76Input } from '../src/derivatives/black76.js';
import { type InstrumentSpec } from '../src/derivatives/instruments.js';
import { YEAR_SECONDS } from '../src/math/time.js';
import {
  DEFAULT_PORTFOLIO_MARGIN_CONFIG,
  type PortfolioMarket,
  type PortfolioPosition,
  portfolioMargin,
  portfolioScenarios,
} from '../src/derivatives/portfolioMargin.js';
import {
  type VolSurface,
  volatilityAt,
  volShockFactor,
  volSurface,
} from '../src/derivatives/volSurface.js';
import { type Measurement, measure } from './harness.js';
import { DAY, NOW, option, STANDARD } from '../test/fixtures/derivatives.js';

/**
 * A smile: at-the-money volatility by expiry (falling with time, as crypto's term structure
 * usually does), plus a skew and a curvature in log-moneyness.
 */
function smileSurface(index: number, atm: readonly number[], strikeStep: number): VolSurface {
  const days = [7, 14, 30, 60, 90, 180];
  const strikes: number[] = [];
  for (let k = index * 0.5; k <= index * 2 + 1e-9; k += strikeStep) strikes.push(k);
  return volSurface({
    expiries: days.map((d) => NOW + d * DAY),
    strikes,
    vols: atm.map((level) =>
      strikes.map((k) => {
        const x = Math.log(k / index);
        return level - 0.06 * x + 0.3 * x * x;
      }),
    ),
  });
}

const MARKET: PortfolioMarket = {
  time: NOW,
  underlyings: {
    ETH: { index: 3000, surface: smileSurface(3000, [0.78, 0.74, 0.7, 0.67, 0.65, 0.63], 100) },
    BTC: {
      index: 60_000,
      surface: smileSurface(60_000, [0.6, 0.57, 0.55, 0.53, 0.52, 0.51], 2000),
    },
  },
};

/** 10 options on one underlying: strikes 80% to 130% of the index, 10 to 120 days. */
function book(underlying: string, index: number, unit: number): PortfolioPosition[] {
  const legs: ['call' | 'put', number, number, number][] = [
    ['call', 1.0, 10, -5],
    ['put', 1.0, 10, -5],
    ['call', 1.1, 21, 8],
    ['put', 0.9, 21, 8],
    ['call', 1.2, 45, -10],
    ['put', 0.8, 45, -6],
    ['call', 1.05, 75, 4],
    ['put', 0.95, 75, 4],
    ['call', 1.3, 120, -12],
    ['put', 0.85, 120, 3],
  ];
  return legs.map(([right, moneyness, days, size]) => ({
    instrument: option(underlying, right, Math.round(index * moneyness), days),
    size: size * unit,
  }));
}

/** The account: both books and a perpetual per underlying hedging its options' delta. */
function account(): PortfolioPosition[] {
  const options = [...book('ETH', 3000, 1), ...book('BTC', 60_000, 0.05)];
  const greeks = portfolioMargin(options, MARKET).underlyings;
  const hedges = greeks.map((u): PortfolioPosition => {
    const perpetual: InstrumentSpec = {
      ...STANDARD,
      kind: 'perpetual',
      symbol: `${u.underlying}-PERP`,
      underlying: u.underlying,
      fundingIntervalSeconds: 28_800,
      fundingClamp: 0.0075,
    };
    return { instrument: perpetual, size: -u.greeks.delta };
  });
  return [...options, ...hedges];
}

/** The 700 Black-76 inputs of one evaluation: every option at every scenario. */
function revaluations(positions: readonly PortfolioPosition[]): Black76Input[] {
  const config = DEFAULT_PORTFOLIO_MARGIN_CONFIG;
  const out: Black76Input[] = [];
  for (const { instrument: i } of positions) {
    if (i.kind !== 'option') continue;
    const { index, surface } = MARKET.underlyings[i.underlying] as {
      index: number;
      surface: VolSurface;
    };
    const vol = volatilityAt(surface, i.strike, i.expiry, NOW);
    const seconds = i.expiry - NOW;
    for (const s of portfolioScenarios(config)) {
      const volatility = vol * volShockFactor(s.volShock, seconds, config.vegaPower);
      out.push({
        forward: index * (1 + s.move),
        strike: i.strike,
        time: seconds / YEAR_SECONDS,
        volatility,
        right: i.right,
      });
    }
  }
  return out;
}

export function portfolioMarginBenchmarks(): Measurement[] {
  const positions = account();
  const inputs = revaluations(positions);
  let sink = 0;
  const evaluation = measure(
    'Fulcrum: portfolio margin, 20 options + 2 perpetual hedges, ETH and BTC (70 scenarios)',
    (n) => {
      for (let i = 0; i < n; i++) sink += portfolioMargin(positions, MARKET).initial;
    },
  );
  const pricing = measure(
    `Black-76 alone: the ${inputs.length} revaluations of one evaluation (baseline)`,
    (n) => {
      for (let i = 0; i < n; i++) for (const input of inputs) sink += black76(input).price;
    },
  );
  if (sink === -1) console.log('unreachable');
  return [evaluation, pricing];
}
