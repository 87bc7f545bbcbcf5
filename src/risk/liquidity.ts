/**
 * Liquidity: what it costs to sell a position, from an order book's depth and from traded volume.
 *
 * Two views. The order book shows the depth resting now near the best price; a line through it
 * (quote notional per 1% of price) is what a market model can take as its depth. Traded volume
 * gives the square-root law of market impact, an empirical regularity that holds across
 * markets and sizes from a fraction of a percent to tens of percent of daily volume
 * (Tóth et al., "Anomalous price impact and the critical nature of liquidity in financial
 * markets", Phys. Rev. X 1, 2011; Bouchaud, Bonart, Donier and Gould, "Trades, Quotes and
 * Prices", 2018):
 *
 *   Δp / p ≈ Y σ_daily sqrt(Q / V)
 *
 * with Q the quantity sold, V the daily volume and Y of order 1.
 *
 * Order-book file format (one snapshot, one or both sides):
 *
 * ```
 * timestamp,timestamp_ms,side,level,price,qty
 * 2022-11-01T23:49:39.146Z,1667346579146,bid,1,20377.00,1.770
 * ```
 *
 * `side` is `bid` or `ask`; `level` counts from 1 at the best price on each side; `qty` is in the
 * base asset. Parsing is strict: the header, every number, one timestamp for the whole file,
 * levels in order, prices moving away from the best one, and a book that is not crossed.
 */
import { FulcrumError } from '../base/errors.js';
import { type Bar } from '../domain/bar.js';
import { PRICE_MAX } from '../domain/price.js';
import { fieldName } from '../domain/quote.js';
import { parseDecimal } from '../math/decimal.js';
import { PRICE_DECIMALS } from '../math/fixed.js';
import { DAY_SECONDS, isoUtcMillis } from '../math/time.js';
import { overHorizon, volatilityEstimates, type VolatilityEstimates } from './volatility.js';

export const ORDER_BOOK_HEADER = 'timestamp,timestamp_ms,side,level,price,qty';

/** Most levels accepted in one file: far beyond any exchange's published depth. */
export const ORDER_BOOK_LEVELS_MAX = 100_000;

/** One price level. */
export interface BookLevel {
  /** PRICE_SCALE. */
  readonly price: bigint;
  /** Resting quantity in the base asset (a float: analytics only). */
  readonly quantity: number;
}

/** One snapshot of an order book, each side best price first. */
export interface OrderBook {
  /** Unix seconds of the snapshot (with milliseconds). */
  readonly time: number;
  readonly bids: readonly BookLevel[];
  readonly asks: readonly BookLevel[];
}

/** One point of a cumulative depth curve. */
export interface DepthPoint {
  /** Distance of the level from the best price, as a fraction of the best price. */
  readonly distance: number;
  /** Quote notional resting from the best price to this level, inclusive. */
  readonly cumulativeQuote: number;
}

/** A straight line through the origin fitted to a depth curve. */
export interface LinearDepth {
  /** Quote notional per unit of fractional price move (per 100%). */
  readonly quotePerUnit: number;
  /** Quote notional per 1% price move: quotePerUnit / 100. */
  readonly quotePerPercent: number;
  readonly levels: number;
  /** The farthest level's distance from the best price: where the data stop. */
  readonly maxDistance: number;
  /** Quote notional of every level. */
  readonly totalQuote: number;
  /** Uncentred R² of the fit through the origin. */
  readonly rSquared: number;
}

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

/**
 * Parses an order-book snapshot (see the format above). `name` is used in error messages.
 *
 * @example
 * parseOrderBook('timestamp,timestamp_ms,side,level,price,qty\n' +
 *   '2022-11-01T23:49:39.146Z,1667346579146,bid,1,20377.00,1.770\n', 'book.csv');
 */
export function parseOrderBook(text: string, fileName: string): OrderBook {
  // The file's name as messages show it: cut and escaped when long or odd, one line always.
  const name = fieldName(fileName);
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== ORDER_BOOK_HEADER) {
    throw new FulcrumError(
      'invalid_field',
      `${name}: the first line must be "${ORDER_BOOK_HEADER}"`,
      `${name}:1`,
    );
  }
  const sides: Record<'bid' | 'ask', BookLevel[]> = { bid: [], ask: [] };
  let snapshotMs: number | undefined;
  let count = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]?.trim() ?? '';
    if (line === '') continue;
    const where = `${name}:${i + 1}`;
    const fail = (code: 'invalid_field' | 'invalid_number', message: string): never => {
      throw new FulcrumError(code, `${where}: ${message}`, where);
    };
    const cells = line.split(',');
    if (cells.length !== 6) fail('invalid_field', `expected 6 fields, found ${cells.length}`);
    const [stamp = '', msText = '', side = '', levelText = '', priceText, qtyText] = cells;
    const ms = (ISO_UTC_MS.test(stamp) ? isoUtcMillis(stamp) : undefined) ?? Number.NaN;
    if (Number.isNaN(ms)) fail('invalid_field', 'timestamp must be a real ISO-8601 UTC time');
    if (!/^[0-9]{1,16}$/.test(msText) || Number(msText) !== ms) {
      fail('invalid_field', 'timestamp_ms must be the timestamp in milliseconds');
    }
    if (snapshotMs !== undefined && ms !== snapshotMs) {
      fail('invalid_field', 'every row must belong to one snapshot (one timestamp)');
    }
    snapshotMs = ms;
    if (side !== 'bid' && side !== 'ask') fail('invalid_field', 'side must be "bid" or "ask"');
    const levels = sides[side as 'bid' | 'ask'];
    if (levelText !== String(levels.length + 1)) {
      fail(
        'invalid_field',
        `level must be ${levels.length + 1} (levels count from 1 on each side)`,
      );
    }
    const price = parseDecimal(priceText, PRICE_DECIMALS, {
      field: `${where} price`,
      min: 1n,
      max: PRICE_MAX,
    });
    parseDecimal(qtyText, PRICE_DECIMALS, { field: `${where} qty`, min: 1n });
    const previous = levels.at(-1);
    if (
      previous !== undefined &&
      (side === 'bid' ? price >= previous.price : price <= previous.price)
    ) {
      fail(
        'invalid_field',
        side === 'bid'
          ? 'bid prices must fall level by level'
          : 'ask prices must rise level by level',
      );
    }
    if (++count > ORDER_BOOK_LEVELS_MAX) {
      throw new FulcrumError(
        'limit_exceeded',
        `${name}: more than ${ORDER_BOOK_LEVELS_MAX} levels`,
        where,
      );
    }
    levels.push({ price, quantity: Number(qtyText) });
  }
  if (snapshotMs === undefined) throw new FulcrumError('invalid_field', `${name}: no levels`, name);
  const bestBid = sides.bid[0];
  const bestAsk = sides.ask[0];
  if (bestBid !== undefined && bestAsk !== undefined && bestBid.price >= bestAsk.price) {
    throw new FulcrumError(
      'invalid_field',
      `${name}: the book is crossed (best bid >= best ask)`,
      name,
    );
  }
  return { time: snapshotMs / 1000, bids: sides.bid, asks: sides.ask };
}

/**
 * The cumulative depth curve of one side, best price first: each level's distance from the best
 * price (a fraction) and the quote notional from the best price to it.
 *
 * @example
 * // bids 100 × 1, 99 × 2: [{ distance: 0, cumulativeQuote: 100 }, { distance: 0.01, cumulativeQuote: 298 }]
 */
export function depthCurve(levels: readonly BookLevel[]): DepthPoint[] {
  const best = levels[0];
  if (best === undefined) return [];
  const bestPrice = Number(best.price);
  let cumulative = 0;
  return levels.map((level) => {
    const price = Number(level.price);
    cumulative += (price / 1e18) * level.quantity;
    return { distance: Math.abs(bestPrice - price) / bestPrice, cumulativeQuote: cumulative };
  });
}

/**
 * Fits depth = k × distance by least squares through the origin on one side's cumulative depth
 * curve: k = Σ dᵢ Nᵢ / Σ dᵢ². Needs at least two distinct prices.
 *
 * Top-of-book depth extrapolates poorly. A snapshot of a hundred levels spans a few hundredths of
 * a percent of price on a liquid market; the 1% figure is a straight line carried tens of times
 * beyond the data. Deeper in the book resting size usually grows more than linearly, but in a
 * crash it is withdrawn, and it refills only over minutes: read the figure as the book's
 * density at the top, not as what 1% of price will absorb.
 */
export function fitLinearDepth(levels: readonly BookLevel[]): LinearDepth {
  const curve = depthCurve(levels);
  let dn = 0;
  let dd = 0;
  let nn = 0;
  for (const p of curve) {
    dn += p.distance * p.cumulativeQuote;
    dd += p.distance * p.distance;
    nn += p.cumulativeQuote * p.cumulativeQuote;
  }
  if (!(dd > 0)) {
    throw new FulcrumError(
      'invalid_field',
      'a depth fit needs at least two price levels',
      'levels',
    );
  }
  const k = dn / dd;
  let residual = 0;
  for (const p of curve) residual += (p.cumulativeQuote - k * p.distance) ** 2;
  return {
    quotePerUnit: k,
    quotePerPercent: k / 100,
    levels: curve.length,
    maxDistance: curve.at(-1)?.distance ?? 0,
    totalQuote: curve.at(-1)?.cumulativeQuote ?? 0,
    rSquared: nn > 0 ? 1 - residual / nn : 0,
  };
}

/**
 * The fractional price move that selling `notional` walks down a linear book: notional / k.
 *
 * @example
 * linearDepthImpact(1_000_000, { quotePerUnit: 50_000_000 }); // 0.02 (2%)
 */
export function linearDepthImpact(
  notional: number,
  depth: Pick<LinearDepth, 'quotePerUnit'>,
): number {
  return notional / depth.quotePerUnit;
}

/** Daily figures of a price series, for the square-root law. */
export interface DailyStats {
  /** Days the bars cover: bars × bar seconds / 86,400. */
  readonly days: number;
  /** σ over one day, from the chosen (conservative) estimate. */
  readonly dailyVolatility: number;
  /** Σ volume × close over the bars, in the quote unit. */
  readonly totalVolumeQuote: number;
  /** totalVolumeQuote / days. */
  readonly averageDailyVolumeQuote: number;
  readonly volatility: VolatilityEstimates;
}

/**
 * Daily volatility (the chosen estimate over one day) and average daily traded volume in the
 * quote unit (each bar's base volume at its close, summed and divided by the days covered).
 * Needs at least two bars.
 */
export function dailyStats(
  bars: readonly Bar[],
  options: { readonly halfLifeSeconds?: number } = {},
): DailyStats {
  const volatility = volatilityEstimates(bars, options);
  let totalVolumeQuote = 0;
  for (const bar of bars) totalVolumeQuote += bar.volume * (Number(bar.close) / 1e18);
  const days = (bars.length * volatility.barSeconds) / DAY_SECONDS;
  return {
    days,
    dailyVolatility: overHorizon(volatility.chosen.annual, DAY_SECONDS),
    totalVolumeQuote,
    averageDailyVolumeQuote: totalVolumeQuote / days,
    volatility,
  };
}

/** Inputs of the square-root law. */
export interface ImpactInput {
  /** Quote notional to sell. */
  readonly notional: number;
  /** Average daily traded volume, quote. */
  readonly dailyVolumeQuote: number;
  /** σ over one day. */
  readonly dailyVolatility: number;
  /** Y; default 1. */
  readonly coefficient?: number;
}

/**
 * The square-root law of market impact: Δp/p ≈ Y σ_daily sqrt(Q / V). 0 for no notional;
 * Infinity for a notional against no volume (nothing can be sold).
 *
 * @example
 * // $10M against $400M a day at 4% daily volatility: 1 × 0.04 × sqrt(0.025) = 0.006325
 * squareRootImpact({ notional: 1e7, dailyVolumeQuote: 4e8, dailyVolatility: 0.04 });
 */
export function squareRootImpact(input: ImpactInput): number {
  const coefficient = input.coefficient ?? 1;
  if (input.notional <= 0 || coefficient === 0) return 0;
  if (!(input.dailyVolumeQuote > 0)) return Number.POSITIVE_INFINITY;
  return coefficient * input.dailyVolatility * Math.sqrt(input.notional / input.dailyVolumeQuote);
}
