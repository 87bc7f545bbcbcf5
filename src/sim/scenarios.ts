/**
 * The crash days Fulcrum ships, and how a run's input is built from price files: the exogenous
 * path inside the window, the market's volatility and volume measured on the days before it,
 * the population, the liquidators and the insurance fund. Pure: files are read by the caller.
 */
import { FulcrumError } from '../base/errors.js';
import { dailyStats } from '../risk/liquidity.js';
import { DEFAULT_MARKET_MODEL, type MarketAsset, type MarketModel } from './market.js';
import { type BarSeries, pathFromBars, type SyntheticMarketAsset, syntheticBars } from './path.js';
import {
  DEFAULT_POPULATION,
  generatePopulation,
  type AccountSpec,
  type PopulationSpec,
} from './population.js';
import type { PopulationInfo } from './result.js';
import { type AssetConfig, SYMBOL_PATTERN } from '../domain/asset.js';
import type { Bar } from '../domain/bar.js';
import { quoteInput } from '../domain/quote.js';
import { DAY_SECONDS, isoUtcMillis } from '../math/time.js';
import {
  DEBT_ASSET,
  defaultListing,
  LENDER_ACCOUNT,
  type LiquidatorSpec,
  type SimulationInput,
} from './simulator.js';

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /**
   * A synthetic market instead of files: its assets; the window is the last day of
   * `calmDays + 1` days of one-minute bars (`syntheticBars`), the seed `--path-seed`.
   */
  readonly synthetic?: readonly SyntheticMarketAsset[];
  /** Price files (relative to the package's `examples/data`), one asset each, by symbol. */
  readonly files: Readonly<Record<string, string>>;
  /** Window (ISO-8601 UTC, end exclusive) and step. */
  readonly start: string;
  readonly end: string;
  readonly stepSeconds: number;
  /** Collateral mix of the population, by symbol. */
  readonly mix: Readonly<Record<string, number>>;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'black-thursday',
    description:
      'Black Thursday, 12-13 March 2020: ETH 194.61 to 86.00 and BTC 7934.52 to 3782.13 (Binance spot, hourly bars walked minute by minute)',
    files: { ETH: 'binance-spot_ETHUSDT_1h.csv', BTC: 'binance-spot_BTCUSDT_1h.csv' },
    start: '2020-03-12T00:00:00Z',
    end: '2020-03-14T00:00:00Z',
    stepSeconds: 60,
    mix: { ETH: 0.6, BTC: 0.4 },
  },
  {
    name: 'may-2021',
    description:
      'The crash of 19 May 2021: ETH 3382 to 1888 and BTC 42876 to 30000 in a day (Binance spot, hourly bars walked minute by minute)',
    files: {
      ETH: 'may-2021/binance-spot_ETHUSDT_1h.csv',
      BTC: 'may-2021/binance-spot_BTCUSDT_1h.csv',
    },
    start: '2021-05-19T00:00:00Z',
    end: '2021-05-20T00:00:00Z',
    stepSeconds: 60,
    mix: { ETH: 0.6, BTC: 0.4 },
  },
  {
    name: 'luna',
    description:
      'The LUNA collapse, 7-13 May 2022: LUNA from 64 to almost nothing, with ETH and BTC falling beside it (Binance spot, hourly)',
    files: {
      LUNA: 'luna/binance-spot_LUNAUSDT_1h.csv',
      ETH: 'luna/binance-spot_ETHUSDT_1h.csv',
      BTC: 'luna/binance-spot_BTCUSDT_1h.csv',
    },
    start: '2022-05-07T00:00:00Z',
    end: '2022-05-13T00:00:00Z',
    stepSeconds: 300,
    mix: { LUNA: 0.4, ETH: 0.3, BTC: 0.3 },
  },
  {
    name: 'luna-day',
    description:
      'One day of the LUNA collapse at minute resolution, 9 May 2022: LUNA 64.27 to 30.00 (Binance spot, one-minute bars)',
    files: { LUNA: 'luna/binance-spot_LUNAUSDT_1m_2022-05-01_2022-05-13.csv' },
    start: '2022-05-09T00:00:00Z',
    end: '2022-05-10T00:00:00Z',
    stepSeconds: 60,
    mix: { LUNA: 1 },
  },
  {
    name: 'synthetic',
    description:
      'A synthetic crash: ETH and BTC as geometric Brownian motion with downward jumps, calm for two days, then a day at 2.5 times the volatility (seeded: --path-seed)',
    files: {},
    synthetic: [
      {
        symbol: 'ETH',
        startPrice: 2000,
        volatility: 0.8,
        jumpsPerDay: 6,
        jumpMean: -0.04,
        jumpSpread: 0.02,
        dailyVolume: 400_000_000,
      },
      {
        symbol: 'BTC',
        startPrice: 40_000,
        volatility: 0.6,
        jumpsPerDay: 4,
        jumpMean: -0.03,
        jumpSpread: 0.02,
        dailyVolume: 800_000_000,
      },
    ],
    start: '2030-01-03T00:00:00Z',
    end: '2030-01-04T00:00:00Z',
    stepSeconds: 60,
    mix: { ETH: 0.6, BTC: 0.4 },
  },
  {
    name: 'ftx',
    description:
      'The FTX collapse, 7-11 November 2022: FTT 22 to 1.3, SOL 35 to 12, BTC and ETH down a quarter (Binance spot, hourly)',
    files: {
      BTC: 'ftx/binance-spot_BTCUSDT_1h.csv',
      ETH: 'ftx/binance-spot_ETHUSDT_1h.csv',
      SOL: 'ftx/binance-spot_SOLUSDT_1h.csv',
      FTT: 'ftx/binance-spot_FTTUSDT_1h.csv',
    },
    start: '2022-11-07T00:00:00Z',
    end: '2022-11-11T00:00:00Z',
    stepSeconds: 300,
    mix: { BTC: 0.35, ETH: 0.35, SOL: 0.2, FTT: 0.1 },
  },
];

/** Days of calm bars before a synthetic scenario's stressed day. */
export const SYNTHETIC_CALM_DAYS = 2;
/** Volatility multiple of a synthetic scenario's stressed day. */
export const SYNTHETIC_STRESS_FACTOR = 2.5;

/** A synthetic scenario's bars, per asset, for a path seed. */
export function syntheticSeries(scenario: Scenario, pathSeed: number): BarSeries[] {
  const startMs = isoUtcMillis(scenario.start) ?? Number.NaN;
  const endMs = isoUtcMillis(scenario.end) ?? Number.NaN;
  const start = startMs / 1000 - SYNTHETIC_CALM_DAYS * DAY_SECONDS;
  return (scenario.synthetic ?? []).map((asset, i) => ({
    symbol: asset.symbol,
    source: `synthetic (GBM ${(asset.volatility * 100).toFixed(0)}% a year, x${SYNTHETIC_STRESS_FACTOR} and ${asset.jumpsPerDay ?? 0} jumps of ${((asset.jumpMean ?? 0) * 100).toFixed(0)}% a day in the window, path seed ${pathSeed})`,
    bars: syntheticBars(
      asset,
      start,
      SYNTHETIC_CALM_DAYS,
      (endMs - startMs) / (DAY_SECONDS * 1000),
      SYNTHETIC_STRESS_FACTOR,
      pathSeed * 101 + i,
    ),
  }));
}

export function findScenario(name: string): Scenario {
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (scenario === undefined) {
    throw new FulcrumError(
      'invalid_field',
      `unknown scenario ${quoteInput(name)}; scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`,
      'scenario',
    );
  }
  return scenario;
}

/** What a run is built from, beside the bars. */
export interface BuildOptions {
  readonly start: number;
  readonly end: number;
  readonly stepSeconds: number;
  readonly population: Omit<PopulationSpec, 'mix'> & { readonly mix?: PopulationSpec['mix'] };
  /** Accounts loaded from a file, instead of generated. */
  readonly accounts?: readonly AccountSpec[];
  readonly marketModel?: MarketModel;
  /** Liquidators' total capital, as a share of the book's collateral value. */
  readonly liquidatorCapitalShare?: number;
  /** Liquidators' reaction delays scaled by this (1: the default profile). */
  readonly liquidatorDelayScale?: number;
  /** Insurance fund's starting capital, as a share of the book's collateral value. */
  readonly insuranceShare?: number;
}

/**
 * The stress margin of the `dynamic-margin` policy: the controller's defaults, but at most
 * half as much haircut again (the listings here are Aave's, whose haircuts already hold a wide
 * buffer: ETH's 17.5% maintenance haircut becomes at most 26.25%), rising by 0.1 a decision.
 */
export const SIMULATION_STRESS_MARGIN = { maxMultiplier: 1.5, maxStepUp: 0.1 } as const;

/** The liquidators of the default profile: a few fast, well-funded ones and a slow tail. */
const LIQUIDATOR_PROFILE: readonly { share: number; delay: number; minProfit: number }[] = [
  { share: 0.3, delay: 0, minProfit: 0.005 },
  { share: 0.2, delay: 0, minProfit: 0.01 },
  { share: 0.15, delay: 30, minProfit: 0.01 },
  { share: 0.1, delay: 60, minProfit: 0.015 },
  { share: 0.1, delay: 120, minProfit: 0.02 },
  { share: 0.05, delay: 300, minProfit: 0.02 },
  { share: 0.05, delay: 600, minProfit: 0.03 },
  { share: 0.05, delay: 1_800, minProfit: 0.03 },
];

/**
 * A run's input from each asset's bars: the path in the window; each asset's daily volatility
 * and volume from the bars before the window (at least a day of them); the population at the
 * window's first prices.
 */
export function buildInput(
  series: readonly BarSeries[],
  options: BuildOptions,
): { input: SimulationInput; population: PopulationInfo } {
  checkSymbols(series);
  const path = pathFromBars(series, options.start, options.end, options.stepSeconds);
  const market: MarketAsset[] = [];
  const baselineVolatility: number[] = [];
  for (const s of series) {
    const before = s.bars.filter((b: Bar) => b.time < options.start);
    if (
      before.length < 2 ||
      (before.at(-1)?.time ?? 0) - (before[0]?.time ?? 0) < DAY_SECONDS - 1
    ) {
      throw new FulcrumError(
        'invalid_field',
        `${s.symbol}: ${s.source} needs at least a day of bars before the window, to measure the market`,
        'window',
      );
    }
    const stats = dailyStats(before);
    market.push({
      symbol: s.symbol,
      dailyVolatility: stats.dailyVolatility,
      dailyVolume: stats.averageDailyVolumeQuote,
      // Depth per 1% from the square-root law at a sale of 1% of a day's volume.
      depthPerPercent:
        (stats.averageDailyVolumeQuote * 0.01 * 0.01) / (stats.dailyVolatility * 0.1),
    });
    baselineVolatility.push(stats.volatility.chosen.annual);
  }
  const startPrices: Record<string, number> = Object.fromEntries(
    path.symbols.map((symbol, i) => [symbol, (path.prices[i] as Float64Array)[0] as number]),
  );
  const mix =
    options.population.mix ??
    Object.fromEntries(path.symbols.map((s) => [s, 1 / path.symbols.length]));
  const accounts =
    options.accounts ?? generatePopulation({ ...options.population, mix }, startPrices);
  checkAccounts(accounts, path.symbols, options.accounts === undefined);
  const population = describePopulation(accounts, startPrices, options.population.seed);
  const book = population.collateralValue;
  const capital = book * (options.liquidatorCapitalShare ?? 0.02);
  const delayScale = options.liquidatorDelayScale ?? 1;
  const liquidators: LiquidatorSpec[] = LIQUIDATOR_PROFILE.map((p, i) => ({
    id: `liquidator${i + 1}`,
    capital: capital * p.share,
    delaySeconds: Math.round(p.delay * delayScale),
    minProfit: p.minProfit,
    maxPerStep: 25,
  }));
  const duration = options.end - options.start;
  const sampleSeconds = Math.max(
    options.stepSeconds,
    Math.round(duration / 400 / options.stepSeconds) * options.stepSeconds,
  );
  return {
    input: {
      path,
      accounts,
      listings: {},
      market,
      marketModel: options.marketModel ?? DEFAULT_MARKET_MODEL,
      liquidators,
      insuranceCapital: book * (options.insuranceShare ?? 0.001),
      baselineVolatility,
      stressMargin: SIMULATION_STRESS_MARGIN,
      sampleSeconds,
    },
    population,
  };
}

/**
 * Each series names a distinct asset the engine can list, other than the debt asset the
 * simulator lends: a file name gives the symbol, so `x_USDCUSDT_1h.csv` or `x__1h.csv` must be
 * refused here rather than fail inside a run.
 */
function checkSymbols(series: readonly BarSeries[]): void {
  const seen = new Set<string>();
  for (const { symbol, source } of series) {
    const fail = (message: string): never => {
      throw new FulcrumError('invalid_field', `${quoteInput(source)}: ${message}`, 'prices');
    };
    if (!SYMBOL_PATTERN.test(symbol)) {
      fail(`the asset ${quoteInput(symbol)} is not a symbol of 1-16 letters or digits`);
    }
    if (symbol === DEBT_ASSET) fail(`${DEBT_ASSET} is the debt asset the simulator lends`);
    if (seen.has(symbol)) fail(`a second price file of ${symbol}: one file per asset`);
    seen.add(symbol);
  }
}

/** Largest units of one collateral asset the simulator deposits for an account (below 10^15). */
const ACCOUNT_UNITS_MAX = 1e15;

/**
 * Largest units of one collateral asset the whole book may hold (below 10^20): a pool takes at
 * most 2^127 base units (`POOL_VALUE_MAX`), about 1.7 × 10^20 whole units at 18 decimals.
 */
const BOOK_UNITS_MAX = 1e20;

/**
 * Every account holds assets with a price path, in amounts the engine can hold, under an id that
 * is not the simulator's own (the lender, a liquidator).
 */
function checkAccounts(
  accounts: readonly AccountSpec[],
  symbols: readonly string[],
  generated: boolean,
): void {
  const totals = new Map<string, number>();
  for (const account of accounts) {
    if (account.id === LENDER_ACCOUNT || /^liquidator[0-9]+$/.test(account.id)) {
      throw new FulcrumError(
        'invalid_field',
        `account ${quoteInput(account.id)} is an account of the simulator's own (the lender or a liquidator)`,
        'population',
      );
    }
    for (const c of account.collateral) {
      if (!symbols.includes(c.symbol)) {
        throw new FulcrumError(
          'unknown_asset',
          `account ${quoteInput(account.id)} holds ${quoteInput(c.symbol)}, which has no price path`,
          'population',
        );
      }
      if (!(c.units > 0 && c.units < ACCOUNT_UNITS_MAX)) {
        // A generated account's units are its value over the start price: a price near zero
        // asks for more units than the engine's amounts can hold.
        throw new FulcrumError(
          'invalid_number',
          generated
            ? `${c.symbol} starts at a price too small for this book: account ${account.id} would hold ${c.units.toPrecision(3)} units, the most is below 10^15; choose a smaller --book-value or another window`
            : `account ${quoteInput(account.id)} holds ${c.units.toPrecision(3)} ${c.symbol}, the most is below 10^15 units`,
          generated ? 'bookValue' : 'population',
        );
      }
      totals.set(c.symbol, (totals.get(c.symbol) ?? 0) + c.units);
    }
  }
  for (const [symbol, units] of totals) {
    if (units >= BOOK_UNITS_MAX) {
      throw new FulcrumError(
        'limit_exceeded',
        `the book holds ${units.toPrecision(3)} ${symbol} in all, the most a pool takes is below 10^20 units`,
        generated ? 'bookValue' : 'population',
      );
    }
  }
}

/** Sizes, mix and health of a population at the start prices. */
export function describePopulation(
  accounts: readonly AccountSpec[],
  prices: Readonly<Record<string, number>>,
  seed: number,
): PopulationInfo {
  const values: number[] = [];
  const healths: number[] = [];
  const bySymbol = new Map<string, { accounts: number; value: number }>();
  const listings = new Map<string, AssetConfig>();
  const weight = (symbol: string, tier: 'initial' | 'maintenance'): number => {
    let listing = listings.get(symbol);
    if (listing === undefined) {
      listing = defaultListing(symbol);
      listings.set(symbol, listing);
    }
    return Number(listing.assetWeight[tier]) / 1e6;
  };
  let total = 0;
  let debt = 0;
  for (const a of accounts) {
    let value = 0;
    let maintenance = 0;
    let initial = 0;
    for (const c of a.collateral) {
      const v = c.units * ((Object.hasOwn(prices, c.symbol) ? prices[c.symbol] : 0) ?? 0);
      value += v;
      maintenance += v * weight(c.symbol, 'maintenance');
      initial += v * weight(c.symbol, 'initial');
      const entry = bySymbol.get(c.symbol) ?? { accounts: 0, value: 0 };
      entry.accounts++;
      entry.value += v;
      bySymbol.set(c.symbol, entry);
    }
    values.push(value);
    healths.push(a.health);
    total += value;
    // What the simulator borrows for it (see `Run.setup`).
    debt += Math.min(maintenance / a.health, initial * 0.999_999);
  }
  values.sort((a, b) => a - b);
  healths.sort((a, b) => a - b);
  const q = (xs: number[], p: number) =>
    xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
  return {
    accounts: accounts.length,
    seed,
    collateralValue: total,
    debtValue: debt,
    collateral: [...bySymbol.entries()].map(([symbol, e]) => ({ symbol, ...e })),
    size: {
      p50: q(values, 0.5),
      p90: q(values, 0.9),
      p99: q(values, 0.99),
      max: values.at(-1) ?? 0,
    },
    health: { p10: q(healths, 0.1), p50: q(healths, 0.5), p90: q(healths, 0.9) },
  };
}

export { DEFAULT_POPULATION };
