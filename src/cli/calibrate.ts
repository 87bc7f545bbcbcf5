/**
 * `fulcrum calibrate FILE...`: proposes an asset's weights from its price history.
 *
 * Each OHLCV file is one asset (named `source_PAIR_...csv`, as for `oracle replay`). For each:
 * the volatility estimators, the daily volatility and volume, the haircut of each tier (a
 * volatility term and a liquidity term for a position of `--size`), the proposed weights, and
 * at the end the listing fields to paste into a `list-asset` command. `--order-book FILE` adds
 * the depth fitted to an order-book snapshot of one of the assets. The arithmetic lives in
 * `src/risk/`; this file reads files, checks options and lays out the figures.
 */
import { FulcrumError } from '../base/errors.js';
import { type Bar } from '../domain/bar.js';
import { quoteInput } from '../domain/quote.js';
import { BARS_MAX, parseOhlcv } from '../feeds/ohlcv.js';
import { formatDecimal } from '../math/decimal.js';
import { WEIGHT_DECIMALS, WEIGHT_SCALE } from '../math/fixed.js';
import { isoUtc } from '../math/time.js';
import {
  DEFAULT_HAIRCUT_CONFIG,
  type HaircutConfig,
  proposeWeights,
  type TierHaircut,
  type WeightProposal,
} from '../risk/haircut.js';
import {
  type DailyStats,
  dailyStats,
  fitLinearDepth,
  type LinearDepth,
  linearDepthImpact,
  parseOrderBook,
} from '../risk/liquidity.js';
import { CALIBRATION_BARS_MIN, requireSample } from '../risk/volatility.js';
import { CliError, EXIT, priceFileNames, readInput, showPath } from './io.js';
import { dateOption, numberOption, optionalNumber } from './options.js';
import { table } from './table.js';

export interface CalibrateOptions {
  readonly json: boolean;
  /** Maintenance confidence, or `maintenance,initial` (e.g. `0.99,0.999`). */
  readonly confidence?: string | undefined;
  /** Maintenance horizon, or `maintenance,initial` (e.g. `4h,1d`; s, m, h, d or seconds). */
  readonly horizon?: string | undefined;
  /** Position to liquidate, in the quote unit (default 1,000,000). */
  readonly size?: string | undefined;
  /** The listing's liquidation penalty (default 0.05). */
  readonly penalty?: string | undefined;
  /** An order-book snapshot of one of the assets. */
  readonly orderBook?: string | undefined;
  /** ISO date or time: bars opening at or after it. */
  readonly from?: string | undefined;
  /** ISO date or time: bars opening before it. */
  readonly to?: string | undefined;
  /** Fewest bars in the window (default {@link CALIBRATION_BARS_MIN}). */
  readonly minBars?: string | undefined;
}

/** The position `--size` stands for when not given: a large account on a mid-size venue. */
export const DEFAULT_SIZE_QUOTE = 1_000_000;

/** One asset's calibration: its series, the daily figures and the proposal. */
interface AssetCalibration {
  readonly asset: string;
  readonly source: string;
  readonly file: string;
  readonly stats: DailyStats;
  readonly proposal: WeightProposal;
  readonly book: BookFit | undefined;
}

/** The order book's fit, attached to the asset it is a book of. */
interface BookFit {
  readonly file: string;
  readonly source: string;
  readonly side: 'bid' | 'ask';
  readonly time: number;
  readonly fit: LinearDepth;
  /** The fractional move of selling `size` down the fitted line. */
  readonly linearImpact: number;
}

const DURATION = /^((?:0|[1-9][0-9]*)(?:\.[0-9]+)?)([smhd]?)$/;
const DURATION_UNITS = new Map([
  ['', 1],
  ['s', 1],
  ['m', 60],
  ['h', 3600],
  ['d', 86_400],
]);
/** Longest horizon a tier may take: a year. */
const HORIZON_SECONDS_MAX = 365 * 86_400;
/** Largest `--size`: 10^15 in the quote unit. */
const SIZE_MAX = 1e15;

function usage(message: string, option?: string): never {
  throw new CliError(
    message,
    EXIT.usage,
    option === undefined ? {} : { code: 'invalid_field', field: `--${option}` },
  );
}

/** One value, or two separated by a comma: maintenance first, then initial. */
function pairOption<T>(
  text: string | undefined,
  option: string,
  parse: (part: string) => T,
): [T | undefined, T | undefined] {
  if (text === undefined) return [undefined, undefined];
  const parts = text.split(',');
  if (parts.length > 2) {
    usage(
      `--${option} takes one value or two separated by a comma (got ${quoteInput(text)})`,
      option,
    );
  }
  return [parse(parts[0] ?? ''), parts[1] === undefined ? undefined : parse(parts[1])];
}

function confidenceOption(text: string): number {
  return numberOption(text, 'confidence', { min: 0.5, max: 1, above: true, below: true });
}

function horizonOption(text: string): number {
  const match = DURATION.exec(text);
  const seconds =
    match === null ? Number.NaN : Number(match[1]) * (DURATION_UNITS.get(match[2] ?? '') ?? 1);
  if (!(seconds > 0 && seconds <= HORIZON_SECONDS_MAX)) {
    usage(
      `--horizon must be a positive duration such as 4h, 1d or 3600, at most 365d (got ${quoteInput(text)})`,
      'horizon',
    );
  }
  return seconds;
}

/** The haircut configuration the options ask for. */
function haircutConfig(options: CalibrateOptions): HaircutConfig {
  const [maintenanceConfidence, initialConfidence] = pairOption(
    options.confidence,
    'confidence',
    confidenceOption,
  );
  const [maintenanceHorizon, initialHorizon] = pairOption(
    options.horizon,
    'horizon',
    horizonOption,
  );
  let penalty = DEFAULT_HAIRCUT_CONFIG.liquidationPenalty;
  if (options.penalty !== undefined) {
    const value = numberOption(options.penalty, 'penalty', { min: 0, max: 1, below: true });
    // Up to a ppm: a larger penalty is the stricter check of maintenance × (1 + penalty) < 1.
    penalty = BigInt(Math.ceil(value * Number(WEIGHT_SCALE)));
  }
  const d = DEFAULT_HAIRCUT_CONFIG;
  return {
    ...d,
    maintenance: {
      confidence: maintenanceConfidence ?? d.maintenance.confidence,
      horizonSeconds: maintenanceHorizon ?? d.maintenance.horizonSeconds,
    },
    initial: {
      confidence: initialConfidence ?? d.initial.confidence,
      horizonSeconds: initialHorizon ?? d.initial.horizonSeconds,
    },
    liquidationPenalty: penalty,
  };
}

/** The bars of a file inside [from, to): at least `minBars` of them. */
function windowBars(
  path: string,
  from: number | undefined,
  to: number | undefined,
  minBars: number,
): Bar[] {
  const bars = parseOhlcv(readInput(path), path).filter(
    (b) => (from === undefined || b.time >= from) && (to === undefined || b.time < to),
  );
  requireSample(bars, minBars, showPath(path));
  return bars;
}

/**
 * Calibrates each price file and returns the text to print: a report per asset and the listing
 * fields, or with `json` one JSON object per asset, a line each.
 */
export function calibrate(paths: readonly string[], options: CalibrateOptions): string {
  if (paths.length === 0) usage('usage: fulcrum calibrate FILE... [options]');
  const config = haircutConfig(options);
  const sizeQuote = optionalNumber(
    options.size,
    'size',
    { min: 0, max: SIZE_MAX },
    DEFAULT_SIZE_QUOTE,
  );
  const minBars = optionalNumber(
    options.minBars,
    'min-bars',
    { min: 2, max: BARS_MAX, whole: true },
    CALIBRATION_BARS_MIN,
  );
  const from = options.from === undefined ? undefined : dateOption(options.from, 'from');
  const to = options.to === undefined ? undefined : dateOption(options.to, 'to');
  if (from !== undefined && to !== undefined && from >= to)
    usage('--from must be before --to', 'to');
  const book = options.orderBook === undefined ? undefined : readBook(options.orderBook);
  if (
    book !== undefined &&
    paths.length > 1 &&
    !paths.some((p) => priceFileNames(p).asset === book.asset)
  ) {
    usage(
      `--order-book is a book of ${quoteInput(book.asset)}, but no price file of it was given`,
      'order-book',
    );
  }
  const results = paths.map((path): AssetCalibration => {
    const { asset, source } = priceFileNames(path);
    const stats = dailyStats(windowBars(path, from, to, minBars));
    const proposal = proposeWeights(
      {
        volatilityAnnual: stats.volatility.chosen.annual,
        sizeQuote,
        dailyVolumeQuote: stats.averageDailyVolumeQuote,
      },
      config,
    );
    const matches = book !== undefined && (paths.length === 1 || book.asset === asset);
    const fit: BookFit | undefined = matches
      ? { ...book, linearImpact: linearDepthImpact(sizeQuote, book.fit) }
      : undefined;
    return { asset, source, file: path, stats, proposal, book: fit };
  });
  if (options.json) return results.map((r) => JSON.stringify(toJson(r))).join('\n');
  return [...results.map(describe), listingLines(results)].join('\n\n');
}

function readBook(path: string): Omit<BookFit, 'linearImpact'> & { readonly asset: string } {
  const { asset, source } = priceFileNames(path);
  const parsed = parseOrderBook(readInput(path), path);
  const side = parsed.bids.length > 0 ? 'bid' : 'ask';
  const levels = side === 'bid' ? parsed.bids : parsed.asks;
  if (levels.length < 2) {
    throw new FulcrumError(
      'invalid_field',
      `${showPath(path)}: a depth fit needs two levels of one side`,
      showPath(path),
    );
  }
  return { asset, file: path, source, side, time: parsed.time, fit: fitLinearDepth(levels) };
}

// ---- Presentation ----

const round = (x: number, places: number) => Number(x.toFixed(places));
const pct = (x: number, places = 2) =>
  Number.isFinite(x) ? `${(x * 100).toFixed(places)}%` : 'inf';
const money = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'inf');
const weight = (w: bigint) => formatDecimal(w, WEIGHT_DECIMALS);

/** A time as ISO-8601 UTC, without its seconds when they are zero (`2020-03-12T06:00Z`). */
function iso(seconds: number): string {
  return isoUtc(seconds).replace(':00Z', 'Z');
}

/** A duration as the largest whole unit: 4h, 1d, 90s. */
function duration(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

function tierRow(name: string, h: TierHaircut, w: bigint): string[] {
  return [
    name,
    pct(h.confidence, 1),
    duration(h.horizonSeconds),
    h.z.toFixed(4),
    pct(h.volatilityTerm),
    pct(h.liquidityTerm),
    pct(h.haircut),
    weight(w),
  ];
}

function describe(r: AssetCalibration): string {
  const v = r.stats.volatility;
  const p = r.proposal;
  const vol = (name: string, x: { perBar: number; annual: number }) => [
    name,
    pct(x.perBar, 3),
    pct(x.annual, 1),
  ];
  const lines = [
    `${r.asset} (${r.source}, ${r.file})`,
    `${v.bars} bars of ${duration(v.barSeconds)}, ${iso(v.firstTime)} to ${iso(v.lastTime + v.barSeconds)} (${round(r.stats.days, 2)} days)`,
    '',
    table(
      ['volatility', 'per bar', 'annual'],
      [
        vol('close-to-close', v.closeToClose),
        vol(`EWMA (half-life ${duration(v.ewmaHalfLifeSeconds)})`, v.ewma),
        vol('Parkinson', v.parkinson),
        vol('Garman-Klass', v.garmanKlass),
        vol(`chosen (${v.chosen.method === 'ewma' ? 'EWMA' : 'Parkinson'})`, v.chosen),
      ],
    ),
    '',
    `daily: σ ${pct(p.volatilityDaily)}, volume ${money(r.stats.averageDailyVolumeQuote)} quote`,
    `liquidity: ${money(p.sizeQuote)} quote against ${money(p.dailyVolumeQuote)} a day costs 1 × ${pct(p.volatilityDaily)} × sqrt(${(p.sizeQuote / p.dailyVolumeQuote).toPrecision(3)}) = ${pct(p.maintenance.liquidityTerm)}`,
    '',
    table(
      ['tier', 'confidence', 'horizon', 'z', 'volatility', 'liquidity', 'haircut', 'weight'],
      [
        tierRow('maintenance', p.maintenance, p.weights.maintenance),
        ['liquidation end', '', '', '', '', '', '', weight(p.weights.liquidationEnd)],
        tierRow('initial', p.initial, p.weights.initial),
      ],
    ),
    ...p.adjustments.map((a) => `note: ${a}`),
  ];
  if (r.book !== undefined) lines.push('', ...describeBook(r.book, p));
  return lines.join('\n');
}

function describeBook(b: BookFit, p: WeightProposal): string[] {
  const f = b.fit;
  return [
    `order book (${b.source}, ${b.file}): ${f.levels} ${b.side} levels at ${new Date(b.time * 1000).toISOString()}`,
    `  ${money(f.totalQuote)} quote within ${pct(f.maxDistance, 4)} of the best ${b.side}; fitted line ${money(f.quotePerPercent)} quote per 1% (R² ${f.rSquared.toFixed(3)})`,
    `  selling ${money(p.sizeQuote)} quote: ${pct(b.linearImpact, 4)} down the fitted line, ${pct(p.maintenance.liquidityTerm, 4)} by the square-root law`,
    `  the 1% figure extrapolates ${round(0.01 / f.maxDistance, 1)} times beyond the levels in the file`,
  ];
}

function listingFields(p: WeightProposal): string {
  return [
    `"initialWeight":"${p.weightsDecimal.initial}"`,
    `"liquidationEndWeight":"${p.weightsDecimal.liquidationEnd}"`,
    `"maintenanceWeight":"${p.weightsDecimal.maintenance}"`,
    `"liquidationPenalty":"${weight(p.liquidationPenalty)}"`,
  ].join(',');
}

function listingLines(results: readonly AssetCalibration[]): string {
  return [
    'listing fields (paste into a list-asset config):',
    ...results.map((r) => `${r.asset}  ${listingFields(r.proposal)}`),
  ].join('\n');
}

function tierJson(h: TierHaircut) {
  return {
    confidence: h.confidence,
    z: round(h.z, 6),
    horizonSeconds: h.horizonSeconds,
    volatilityTerm: round(h.volatilityTerm, 6),
    liquidityTerm: round(h.liquidityTerm, 6),
    haircut: round(h.haircut, 6),
  };
}

function toJson(r: AssetCalibration) {
  const v = r.stats.volatility;
  const p = r.proposal;
  const annual = (x: { annual: number }) => round(x.annual, 6);
  return {
    asset: r.asset,
    source: r.source,
    file: r.file,
    bars: v.bars,
    barSeconds: v.barSeconds,
    from: iso(v.firstTime),
    to: iso(v.lastTime + v.barSeconds),
    volatilityAnnual: {
      closeToClose: annual(v.closeToClose),
      ewma: annual(v.ewma),
      parkinson: annual(v.parkinson),
      garmanKlass: annual(v.garmanKlass),
      chosen: annual(v.chosen),
      chosenMethod: v.chosen.method,
      ewmaHalfLifeSeconds: v.ewmaHalfLifeSeconds,
    },
    volatilityDaily: round(p.volatilityDaily, 6),
    dailyVolumeQuote: round(p.dailyVolumeQuote, 2),
    sizeQuote: p.sizeQuote,
    maintenance: tierJson(p.maintenance),
    initial: tierJson(p.initial),
    listing: {
      initialWeight: p.weightsDecimal.initial,
      liquidationEndWeight: p.weightsDecimal.liquidationEnd,
      maintenanceWeight: p.weightsDecimal.maintenance,
      liquidationPenalty: weight(p.liquidationPenalty),
    },
    adjustments: p.adjustments,
    ...(r.book === undefined
      ? {}
      : {
          orderBook: {
            file: r.book.file,
            side: r.book.side,
            time: r.book.time,
            levels: r.book.fit.levels,
            maxDistance: round(r.book.fit.maxDistance, 8),
            totalQuote: round(r.book.fit.totalQuote, 2),
            quotePerPercent: round(r.book.fit.quotePerPercent, 2),
            rSquared: round(r.book.fit.rSquared, 6),
            linearImpact: round(r.book.linearImpact, 8),
            squareRootImpact: round(p.maintenance.liquidityTerm, 8),
          },
        }),
  };
}
