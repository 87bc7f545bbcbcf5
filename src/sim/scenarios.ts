/**
 * The crash days Fulcrum ships, and how a run's input is built from price files: the exogenous
 * path inside the window, the market's volatility and volume measured on the days before it,
 * the population, the liquidators and the insurance fund. Pure: files are read by the caller.
 */
import { FulcrumError } from '../base/errors.js';
import { dailyStats } from '../risk/liquidity.js';
import { DEFAULT_MARKET_MODEL, type MarketAsset, type MarketModel } from './market.js';
import {
  basisFromBars,
  type BarSeries,
  pathFromBars,
  type PricePath,
  type SyntheticMarketAsset,
  syntheticBars,
} from './path.js';
import { crashStress, depegPath, KNOWN_PEGS, PEGGED_TOKENS, type PeggedToken } from './peg.js';
import {
  MAKER_ACCOUNT,
  PERP_SUFFIX,
  type PerpInput,
  perpListing,
  type PerpsInput,
} from './perpDesk.js';
import { DEFAULT_TRADERS, generateTraders, type TraderSpec } from './traders.js';
import {
  DEFAULT_POPULATION,
  generatePopulation,
  type AccountSpec,
  type PopulationSpec,
} from './population.js';
import type { PegInfo, PopulationInfo, TradersInfo } from './result.js';
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
  /**
   * Perpetuals' mark files (relative to `examples/data`) by underlying symbol: real marks, whose
   * basis over the index the perpetuals follow when the book has traders (`--perps`).
   */
  readonly marks?: Readonly<Record<string, string>>;
  /** The traders' share of the book when `--perps` does not say (none: a lending book). */
  readonly perps?: number;
}

/** The Black Thursday window and files, shared by its lending and its two-book scenario. */
const BLACK_THURSDAY = {
  files: { ETH: 'binance-spot_ETHUSDT_1h.csv', BTC: 'binance-spot_BTCUSDT_1h.csv' },
  marks: { ETH: 'binance-usdm_ETHUSDT_1h.csv', BTC: 'binance-usdm_BTCUSDT_1h.csv' },
  start: '2020-03-12T00:00:00Z',
  end: '2020-03-14T00:00:00Z',
  stepSeconds: 60,
  mix: { ETH: 0.6, BTC: 0.4 },
} as const;

/** The traders' share of the book of a scenario with perpetuals on (and of `--prices` with marks). */
export const DEFAULT_PERPS_SHARE = 0.3;

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'black-thursday',
    description:
      'Black Thursday, 12-13 March 2020: ETH 194.61 to 86.00 and BTC 7934.52 to 3782.13 (Binance spot, hourly bars walked minute by minute)',
    ...BLACK_THURSDAY,
  },
  {
    name: 'black-thursday-perps',
    description:
      'Black Thursday through both books: the borrowers beside perpetual traders (30% of the book; ETH-PERP and BTC-PERP marked from Binance USDⓈ-M hourly bars), funding, takeovers and ADL',
    ...BLACK_THURSDAY,
    perps: DEFAULT_PERPS_SHARE,
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
  /** Perpetual traders beside the borrowers; none (or a share of 0): a lending book. */
  readonly perps?: PerpsOptions;
}

/** The derivatives side of a book (docs/SIMULATOR.md, "Perpetuals"). */
export interface PerpsOptions {
  /** Share of the accounts, and of the book's collateral value, held by perpetual traders. */
  readonly share: number;
  /** Bars of perpetuals (symbol `ETH-PERP`), read for each one's basis over its index. */
  readonly marks?: readonly BarSeries[];
  /** Pegged tokens of the model (default `PEGGED_TOKENS`). */
  readonly pegged?: readonly PeggedToken[];
  /** Depeg depth per pegged token of the model, replacing its default. */
  readonly depeg?: Readonly<Record<string, number>>;
  /** Traders' collateral mix by symbol (default: USDC 40%, the assets 30%, pegged tokens 30%). */
  readonly collateralMix?: Readonly<Record<string, number>>;
  readonly longShare?: number;
  readonly leverageMin?: number;
  readonly leverageMax?: number;
  /** The maker's USDC as a share of the opening notional (default 0.5). */
  readonly makerCapitalShare?: number;
  /** Most notional a liquidator takes over in a step, times its capital (default 10). */
  readonly takeoverLeverage?: number;
  /** Seconds between funding payments (default eight hours). */
  readonly fundingIntervalSeconds?: number;
  /** Half-life of a perpetual's own displacement, which arbitrage carries into spot (seconds). */
  readonly arbitrageHalfLifeSeconds?: number;
}

/** Arbitrage halves a perpetual's displacement from its index in ten minutes. */
export const ARBITRAGE_HALF_LIFE_SECONDS = 600;

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
): { input: SimulationInput; population: PopulationInfo; pegged: PegInfo[] } {
  checkSymbols(series);
  const perps = options.perps !== undefined && options.perps.share > 0 ? options.perps : null;
  const built = pathFromBars(series, options.start, options.end, options.stepSeconds);
  const { market, baselineVolatility } = marketsBefore(series, options.start);
  const pegged = perps === null ? null : addPeggedTokens(built, market, baselineVolatility, perps);
  const path = pegged?.path ?? built;
  const startPrices: Record<string, number> = Object.fromEntries(
    path.symbols.map((symbol, i) => [symbol, (path.prices[i] as Float64Array)[0] as number]),
  );
  const mix =
    options.population.mix ??
    Object.fromEntries(built.symbols.map((s) => [s, 1 / built.symbols.length]));
  const accounts =
    options.accounts ?? generateBorrowers(options, perps?.share ?? 0, mix, startPrices);
  checkAccounts(accounts, path.symbols, options.accounts === undefined);
  const population = describePopulation(accounts, startPrices, options.population.seed);
  const derivatives =
    perps === null || pegged === null
      ? null
      : buildPerps(
          series,
          path,
          pegged.tokens,
          market,
          mix,
          startPrices,
          options,
          perps,
          population,
        );
  const book = population.collateralValue + (derivatives?.info.collateralValue ?? 0);
  return {
    input: {
      path,
      accounts,
      listings: {},
      market,
      marketModel: options.marketModel ?? DEFAULT_MARKET_MODEL,
      liquidators: liquidatorsOf(book, options),
      insuranceCapital: book * (options.insuranceShare ?? 0.001),
      baselineVolatility,
      stressMargin: SIMULATION_STRESS_MARGIN,
      sampleSeconds: sampleSecondsOf(options),
      ...(pegged === null ? {} : { peggedTo: pegged.peggedTo }),
      ...(derivatives === null ? {} : { perps: derivatives.perps }),
    },
    population: derivatives === null ? population : { ...population, traders: derivatives.info },
    pegged: pegged?.pegs ?? [],
  };
}

/** Each asset's market and baseline annual volatility, measured on the bars before `start`. */
function marketsBefore(
  series: readonly BarSeries[],
  start: number,
): { market: MarketAsset[]; baselineVolatility: number[] } {
  const market: MarketAsset[] = [];
  const baselineVolatility: number[] = [];
  for (const s of series) {
    const stats = statsBefore(s, start);
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
  return { market, baselineVolatility };
}

/** The generated borrowers: the accounts less the traders' `share`, with the book's rest. */
function generateBorrowers(
  options: BuildOptions,
  share: number,
  mix: Readonly<Record<string, number>>,
  startPrices: Readonly<Record<string, number>>,
): AccountSpec[] {
  const borrowers = borrowerCount(options, share);
  if (borrowers === 0) return [];
  return generatePopulation(
    {
      ...options.population,
      accounts: borrowers,
      bookValue: options.population.bookValue * (1 - share),
      // Fewer borrowers than asked must still be able to fill their part of the book.
      largestShare:
        share > 0
          ? Math.min(1, Math.max(options.population.largestShare, 2 / borrowers))
          : options.population.largestShare,
      mix,
    },
    startPrices,
  );
}

/** The liquidators of the default profile, sharing their capital of the `book`'s value. */
function liquidatorsOf(book: number, options: BuildOptions): LiquidatorSpec[] {
  const capital = book * (options.liquidatorCapitalShare ?? 0.02);
  const delayScale = options.liquidatorDelayScale ?? 1;
  return LIQUIDATOR_PROFILE.map((p, i) => ({
    id: `liquidator${i + 1}`,
    capital: capital * p.share,
    delaySeconds: Math.round(p.delay * delayScale),
    minProfit: p.minProfit,
    maxPerStep: 25,
  }));
}

/** Seconds between samples: about 400 over the window, a whole number of steps. */
function sampleSecondsOf(options: BuildOptions): number {
  const duration = options.end - options.start;
  return Math.max(
    options.stepSeconds,
    Math.round(duration / 400 / options.stepSeconds) * options.stepSeconds,
  );
}

/** An asset's market, measured on the day or more of bars before the window. */
function statsBefore(s: BarSeries, start: number): ReturnType<typeof dailyStats> {
  const before = s.bars.filter((b: Bar) => b.time < start);
  if (before.length < 2 || (before.at(-1)?.time ?? 0) - (before[0]?.time ?? 0) < DAY_SECONDS - 1) {
    throw new FulcrumError(
      'invalid_field',
      `${s.symbol}: ${s.source} needs at least a day of bars before the window, to measure the market`,
      'window',
    );
  }
  return dailyStats(before);
}

/** Borrowers generated: the accounts less the traders' share of them (none with a file). */
function borrowerCount(options: BuildOptions, share: number): number {
  if (options.accounts !== undefined) return options.accounts.length;
  return options.population.accounts - traderCount(options.population.accounts, share);
}

/** Traders among `accounts`: their share, at least one when the share is above zero. */
function traderCount(accounts: number, share: number): number {
  return share > 0 ? Math.min(accounts, Math.max(1, Math.round(accounts * share))) : 0;
}

/**
 * The pegged tokens of a book with perpetuals, added to the path: each token of the model
 * (`PEGGED_TOKENS`, or the scenario's) whose peg is USDC or an asset of the path, and that has no
 * price file of its own, priced at its peg's exogenous price times its depeg path; tokens with a
 * price file (`KNOWN_PEGS`) keep it. Their markets: the peg's volatility (1% a day for a dollar)
 * and a tenth of the peg's volume (of the deepest asset's, for a dollar).
 */
function addPeggedTokens(
  path: PricePath,
  market: MarketAsset[],
  baselineVolatility: number[],
  perps: PerpsOptions,
): { path: PricePath; tokens: string[]; peggedTo: Record<string, string>; pegs: PegInfo[] } {
  const filed = path.symbols.filter((s) => KNOWN_PEGS.has(s));
  const pegs: PegInfo[] = filed.map((symbol) => ({
    symbol,
    peg: KNOWN_PEGS.get(symbol) ?? DEBT_ASSET,
    depth: null,
  }));
  const unpegged = path.symbols.flatMap((s, i) => (KNOWN_PEGS.has(s) ? [] : [i]));
  const stress = crashStress(unpegged.map((i) => path.prices[i] as Float64Array));
  const depeg = new Map(Object.entries(perps.depeg ?? {}));
  const symbols = [...path.symbols];
  const prices = [...path.prices];
  const sources = [...path.sources];
  const peggedTo: Record<string, string> = {};
  const deepest = Math.max(...market.map((m) => m.dailyVolume));
  for (const token of perps.pegged ?? PEGGED_TOKENS) {
    if (symbols.includes(token.symbol)) continue;
    const base = token.peg === DEBT_ASSET ? -1 : path.symbols.indexOf(token.peg);
    if (token.peg !== DEBT_ASSET && (base < 0 || KNOWN_PEGS.has(token.peg))) continue;
    const depth = depeg.get(token.symbol) ?? token.depth;
    const ratio = depegPath(depth, stress);
    const pegPrices = base < 0 ? null : (path.prices[base] as Float64Array);
    symbols.push(token.symbol);
    prices.push(ratio.map((r, k) => r * (pegPrices === null ? 1 : (pegPrices[k] as number))));
    sources.push(
      `${token.peg} × a peg ratio down to ${formatShare(1 - depth)} as the market falls (model)`,
    );
    const pegMarket = base < 0 ? null : (market[base] as MarketAsset);
    const dailyVolatility = pegMarket?.dailyVolatility ?? 0.01;
    const dailyVolume = (pegMarket?.dailyVolume ?? deepest) * 0.1;
    market.push({
      symbol: token.symbol,
      dailyVolatility,
      dailyVolume,
      depthPerPercent: (dailyVolume * 0.01 * 0.01) / (dailyVolatility * 0.1),
    });
    baselineVolatility.push(base < 0 ? 0.1 : (baselineVolatility[base] as number));
    if (base >= 0) peggedTo[token.symbol] = token.peg;
    pegs.push({ symbol: token.symbol, peg: token.peg, depth });
  }
  for (const symbol of depeg.keys()) {
    if (!symbols.includes(symbol) || filed.includes(symbol)) {
      throw new FulcrumError(
        'invalid_field',
        `--depeg names ${quoteInput(symbol)}, which is not a pegged token of the model in this run (${symbols.filter((s) => !path.symbols.includes(s)).join(', ') || 'none'})`,
        'depeg',
      );
    }
  }
  return {
    path: { ...path, symbols, prices, sources },
    tokens: [...filed, ...symbols.filter((s) => !path.symbols.includes(s))],
    peggedTo,
    pegs,
  };
}

function formatShare(x: number): string {
  return `${Number((x * 100).toFixed(4))}%`;
}

/**
 * The perpetuals (one on each asset of the path that is not a pegged token), their bases from the
 * mark files, their markets, and the traders: `share` of the accounts (beside a population file:
 * as many as make that share), holding that share of the book's collateral.
 */
function buildPerps(
  series: readonly BarSeries[],
  path: PricePath,
  pegged: readonly string[],
  market: readonly MarketAsset[],
  mix: Readonly<Record<string, number>>,
  startPrices: Readonly<Record<string, number>>,
  options: BuildOptions,
  perps: PerpsOptions,
  borrowers: PopulationInfo,
): { perps: PerpsInput; info: TradersInfo } {
  const underlyings = series.filter((s) => !KNOWN_PEGS.has(s.symbol));
  if (underlyings.length === 0) {
    throw new FulcrumError(
      'invalid_field',
      'perpetuals need a price file of an asset that is not a pegged token',
      'perps',
    );
  }
  const marks = marksByUnderlying(perps.marks ?? [], underlyings);
  const instruments: PerpInput[] = underlyings.map((index) =>
    perpInput(index, marks.get(index.symbol), path, market, startPrices, options, perps),
  );
  const file = options.accounts !== undefined;
  if (file && perps.share >= 1) {
    throw new FulcrumError(
      'invalid_field',
      'with a population file, the traders’ share must be below 1',
      'perps',
    );
  }
  const count = file
    ? Math.max(1, Math.round((borrowers.accounts * perps.share) / (1 - perps.share)))
    : traderCount(options.population.accounts, perps.share);
  const value = file
    ? (borrowers.collateralValue * perps.share) / (1 - perps.share)
    : options.population.bookValue * perps.share;
  // Traders go where the perpetuals' volume is (BTC's was almost four times ETH's on Binance
  // before Black Thursday), so that each perpetual's open interest follows its market's depth.
  const instrumentMix = Object.fromEntries(
    instruments.map((p) => [p.listing.spec.symbol, p.market.dailyVolume]),
  );
  const traders = generateTraders(
    {
      accounts: count,
      seed: options.population.seed,
      bookValue: value,
      sizeTail: options.population.sizeTail,
      largestShare: Math.min(1, Math.max(options.population.largestShare, 2 / count)),
      collateralMix: perps.collateralMix ?? tradersCollateralMix(underlyings, pegged, mix),
      instrumentMix,
      longShare: perps.longShare ?? DEFAULT_TRADERS.longShare,
      leverageMin: perps.leverageMin ?? DEFAULT_TRADERS.leverageMin,
      leverageMax: perps.leverageMax ?? DEFAULT_TRADERS.leverageMax,
    },
    { ...startPrices, [DEBT_ASSET]: 1 },
  );
  checkTraders(traders, options.accounts ?? []);
  return {
    perps: {
      instruments,
      traders,
      makerCapitalShare: perps.makerCapitalShare ?? 0.5,
      takeoverLeverage: perps.takeoverLeverage ?? 10,
      arbitrageHalfLifeSeconds: perps.arbitrageHalfLifeSeconds ?? ARBITRAGE_HALF_LIFE_SECONDS,
    },
    info: describeTraders(traders, { ...startPrices, [DEBT_ASSET]: 1 }),
  };
}

/**
 * The mark files by underlying: each one's symbol is its underlying's with `PERP_SUFFIX`, the
 * underlying has a price file of its own (its index), and no underlying has two.
 */
function marksByUnderlying(
  markFiles: readonly BarSeries[],
  underlyings: readonly BarSeries[],
): Map<string, BarSeries> {
  const marks = new Map<string, BarSeries>();
  for (const mark of markFiles) {
    const underlying = mark.symbol.endsWith(PERP_SUFFIX)
      ? mark.symbol.slice(0, -PERP_SUFFIX.length)
      : '';
    if (!underlyings.some((s) => s.symbol === underlying)) {
      throw new FulcrumError(
        'invalid_field',
        `${quoteInput(mark.source)}: the mark of ${quoteInput(mark.symbol)} needs a price file of its underlying ${quoteInput(underlying)}, its index`,
        'prices',
      );
    }
    if (marks.has(underlying)) {
      throw new FulcrumError(
        'invalid_field',
        `${quoteInput(mark.source)}: a second mark file of ${mark.symbol}`,
        'prices',
      );
    }
    marks.set(underlying, mark);
  }
  return marks;
}

/**
 * The perpetual on `index`: its listing at the start price, its basis from its mark file (none
 * without one), and its market: the spot's volatility, and the mark file's volume or a multiple
 * of the spot's.
 */
function perpInput(
  index: BarSeries,
  mark: BarSeries | undefined,
  path: PricePath,
  market: readonly MarketAsset[],
  startPrices: Readonly<Record<string, number>>,
  options: BuildOptions,
  perps: PerpsOptions,
): PerpInput {
  const i = path.symbols.indexOf(index.symbol);
  const spot = market[i] as MarketAsset;
  const volume =
    mark === undefined
      ? spot.dailyVolume * PERP_VOLUME_MULTIPLE
      : statsBefore(mark, options.start).averageDailyVolumeQuote;
  return {
    listing: perpListing(
      index.symbol,
      startPrices[index.symbol] ?? 1,
      perps.fundingIntervalSeconds,
    ),
    basis:
      mark === undefined
        ? new Float64Array(path.times.length)
        : basisFromBars(mark, index, path.times),
    basisSource: mark?.source ?? 'none',
    market: {
      symbol: `${index.symbol}${PERP_SUFFIX}`,
      dailyVolatility: spot.dailyVolatility,
      dailyVolume: volume,
      depthPerPercent: (volume * 0.01 * 0.01) / (spot.dailyVolatility * 0.1),
    },
  };
}

/**
 * The traders' default collateral mix: USDC 40%, the underlyings 30% by the population's mix
 * (evenly when it gives them none), the pegged tokens 30% evenly.
 */
function tradersCollateralMix(
  underlyings: readonly BarSeries[],
  pegged: readonly string[],
  mix: Readonly<Record<string, number>>,
): Record<string, number> {
  const total = underlyings.reduce((sum, s) => sum + (mix[s.symbol] ?? 0), 0);
  const collateralMix: Record<string, number> = { [DEBT_ASSET]: 0.4 };
  for (const s of underlyings) {
    collateralMix[s.symbol] =
      0.3 * (total > 0 ? (mix[s.symbol] ?? 0) / total : 1 / underlyings.length);
  }
  for (const symbol of pegged) collateralMix[symbol] = 0.3 / pegged.length;
  return collateralMix;
}

/** Perpetuals trade this many times their spot market's volume when no mark file measures it. */
export const PERP_VOLUME_MULTIPLE = 2;

/** The traders' collateral, perpetuals, sides and leverage, at the start prices. */
export function describeTraders(
  traders: readonly TraderSpec[],
  prices: Readonly<Record<string, number>>,
): TradersInfo {
  const collateral = new Map<string, { accounts: number; value: number }>();
  const instruments = new Map<
    string,
    { longs: number; shorts: number; longNotional: number; shortNotional: number }
  >();
  const leverage: number[] = [];
  let total = 0;
  for (const t of traders) {
    const price = Object.hasOwn(prices, t.collateral.symbol)
      ? (prices[t.collateral.symbol] ?? 0)
      : 0;
    const value = t.collateral.units * price;
    total += value;
    const c = collateral.get(t.collateral.symbol) ?? { accounts: 0, value: 0 };
    c.accounts++;
    c.value += value;
    collateral.set(t.collateral.symbol, c);
    const p = instruments.get(t.instrument) ?? {
      longs: 0,
      shorts: 0,
      longNotional: 0,
      shortNotional: 0,
    };
    if (t.side > 0) {
      p.longs++;
      p.longNotional += value * t.leverage;
    } else {
      p.shorts++;
      p.shortNotional += value * t.leverage;
    }
    instruments.set(t.instrument, p);
    leverage.push(t.leverage);
  }
  leverage.sort((a, b) => a - b);
  const q = (p: number) =>
    leverage[Math.min(leverage.length - 1, Math.floor(p * leverage.length))] ?? 0;
  return {
    accounts: traders.length,
    collateralValue: total,
    collateral: [...collateral.entries()].map(([symbol, e]) => ({ symbol, ...e })),
    instruments: [...instruments.entries()].map(([symbol, e]) => ({ symbol, ...e })),
    leverage: { p10: q(0.1), p50: q(0.5), p90: q(0.9) },
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
    if (
      account.id === LENDER_ACCOUNT ||
      account.id === MAKER_ACCOUNT ||
      /^liquidator[0-9]+$/.test(account.id)
    ) {
      throw new FulcrumError(
        'invalid_field',
        `account ${quoteInput(account.id)} is an account of the simulator's own (the lender, the maker or a liquidator)`,
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

/** Trader ids are new (no borrower's, not the simulator's own) and their units within bounds. */
function checkTraders(traders: readonly TraderSpec[], accounts: readonly AccountSpec[]): void {
  const ids = new Set(accounts.map((a) => a.id));
  for (const trader of traders) {
    if (ids.has(trader.id)) {
      throw new FulcrumError(
        'invalid_field',
        `account ${quoteInput(trader.id)} of the population file has the id of a generated trader (t1, t2, ...)`,
        'population',
      );
    }
    const { symbol, units } = trader.collateral;
    if (!(units > 0 && units < ACCOUNT_UNITS_MAX)) {
      throw new FulcrumError(
        'invalid_number',
        `${symbol} starts at a price too small for this book: trader ${trader.id} would hold ${units.toPrecision(3)} units, the most is below 10^15; choose a smaller --book-value or another window`,
        'bookValue',
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
