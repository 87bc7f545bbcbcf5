/**
 * One asset's oracle: the latest quote of each source, and what they make together.
 *
 * Each quote re-aggregates the asset's fresh quotes: the median of the fresh sources, sources
 * too far from it rejected, the median of the rest, graded. A price with quorum and above zero
 * becomes the asset's price (graded valid, too uncertain or too volatile); otherwise the asset
 * keeps its last price and the grade says why. The stable price follows the price at a bounded
 * rate; the circuit breaker watches the price for a move too large within a window. Everything
 * is exact (bigints, explicit rounding) and takes its time from the command.
 */
import { RAY, divFloor } from '../math/fixed.js';
import type { OracleConfig } from '../domain/oracleConfig.js';
import type { Grade } from '../domain/priceGrade.js';

export interface SourceQuote {
  readonly source: string;
  /** PRICE_SCALE; a source may send zero or a negative price, which then counts against it. */
  readonly price: bigint;
  /** Half-width of the source's confidence interval, PRICE_SCALE; null when it gives none. */
  readonly confidence: bigint | null;
  /** Unix seconds when the source observed the price. */
  readonly observedAt: number;
}

export interface OracleState {
  /** The latest quote of each source, sorted by source. */
  readonly quotes: readonly SourceQuote[];
  /** Grade of the last aggregation. */
  readonly grade: Grade;
  /** The price, PRICE_SCALE: the last aggregation with quorum above zero (or the listing's). */
  readonly price: bigint;
  /** Its confidence (half-width), PRICE_SCALE. */
  readonly confidence: bigint;
  /** Until this time (unix seconds) every quote behind the price is fresh; after it, stale. */
  readonly freshUntil: number;
  /** The smoothed price used by initial margin, PRICE_SCALE. */
  readonly stablePrice: bigint;
  readonly stableAt: number;
  /** The circuit breaker's reference price and its time. */
  readonly anchorPrice: bigint;
  readonly anchorAt: number;
  /** When the breaker last tripped; null when it is not tripped. */
  readonly trippedAt: number | null;
}

/** The state of a newly listed asset: its listing price, stale until its sources quote. */
export function initialOracleState(price: bigint, time: number): OracleState {
  return {
    quotes: [],
    grade: 'stale',
    price,
    confidence: 0n,
    freshUntil: time,
    stablePrice: price,
    stableAt: time,
    anchorPrice: price,
    anchorAt: time,
    trippedAt: null,
  };
}

/** What one aggregation found. */
export interface Aggregation {
  readonly grade: Grade;
  /** The new price, or null when there is none to adopt (no quorum, not above zero). */
  readonly price: bigint | null;
  readonly confidence: bigint;
  readonly used: readonly string[];
  readonly rejected: readonly string[];
  readonly freshUntil: number;
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The median of sorted prices; between the two middle ones, rounded down. */
function median(sorted: readonly bigint[]): bigint {
  const middle = sorted.length >> 1;
  const high = sorted[middle] ?? 0n;
  return sorted.length % 2 === 1 ? high : divFloor((sorted[middle - 1] ?? 0n) + high, 2n);
}

function absolute(x: bigint): bigint {
  return x < 0n ? -x : x;
}

/** |a − b| > ratio × reference, exactly (ratio in RAY, reference > 0). */
function beyond(a: bigint, b: bigint, ratioRay: bigint, reference: bigint): boolean {
  return absolute(a - b) * RAY > ratioRay * reference;
}

/**
 * Aggregates the quotes fresh at `now` and grades the result against `stablePrice`.
 *
 * @example
 * aggregate(quotes, 1_000, DEFAULT_ORACLE_CONFIG, stable).grade; // 'valid'
 */
export function aggregate(
  quotes: readonly SourceQuote[],
  now: number,
  config: OracleConfig,
  stablePrice: bigint,
): Aggregation {
  const fresh = quotes.filter(
    (q) => q.observedAt <= now && now - q.observedAt <= config.maxStalenessSeconds,
  );
  const none = { price: null, confidence: 0n, used: [], rejected: [], freshUntil: now };
  if (fresh.length === 0) return { ...none, grade: 'stale' };
  const center = median(fresh.map((q) => q.price).sort(compare));
  if (center <= 0n) return { ...none, grade: 'nonPositive', used: fresh.map((q) => q.source) };
  const kept = fresh.filter((q) => !beyond(q.price, center, config.maxDeviationRay, center));
  const rejected = fresh.filter((q) => !kept.includes(q)).map((q) => q.source);
  if (kept.length < config.quorum) return { ...none, grade: 'insufficientSources', rejected };
  const prices = kept.map((q) => q.price).sort(compare);
  const price = median(prices);
  if (price <= 0n) return { ...none, grade: 'nonPositive', rejected };
  // Confidence: the sources' own (median), or half their spread if that is wider.
  const reported = median(kept.map((q) => q.confidence ?? 0n).sort(compare));
  const spread = divFloor((prices.at(-1) ?? price) - (prices[0] ?? price) + 1n, 2n);
  const confidence = reported > spread ? reported : spread;
  const freshUntil = Math.min(...kept.map((q) => q.observedAt)) + config.maxStalenessSeconds;
  const grade: Grade = beyond(price, stablePrice, config.maxStableGapRay, stablePrice)
    ? 'tooVolatile'
    : confidence * RAY > config.maxConfidenceRay * price
      ? 'tooUncertain'
      : 'valid';
  return { grade, price, confidence, used: kept.map((q) => q.source), rejected, freshUntil };
}

/**
 * The stable price after `seconds` more of following `price`: it moves toward the price by at
 * most `stableRatePerSecond` of itself per second (rounded down), over at most
 * `stableStepSecondsMax` seconds per step.
 */
export function followStable(
  stable: bigint,
  price: bigint,
  seconds: number,
  config: OracleConfig,
): bigint {
  const step = Math.min(Math.max(seconds, 0), config.stableStepSecondsMax);
  const room = divFloor(stable * config.stableRatePerSecondRay * BigInt(step), RAY);
  if (price > stable + room) return stable + room;
  if (price < stable - room) return stable - room;
  return price;
}

/** Breaker events of one update. */
export type BreakerChange =
  | { readonly kind: 'tripped'; readonly from: bigint; readonly to: bigint }
  | { readonly kind: 'reset' };

/** True while risk-increasing actions on the asset are frozen. */
export function breakerFrozen(state: OracleState, now: number, config: OracleConfig): boolean {
  return state.trippedAt !== null && now - state.trippedAt < config.breakerCooldownSeconds;
}

/** The grade of the asset's price at `now`: the last aggregation's, or stale once it aged. */
export function gradeAt(state: OracleState, now: number): Grade {
  return now > state.freshUntil && state.grade !== 'nonPositive' ? 'stale' : state.grade;
}

export interface OracleUpdate {
  readonly state: OracleState;
  readonly aggregation: Aggregation;
  readonly breaker: readonly BreakerChange[];
}

/**
 * Takes one quote at `now`: stores it as its source's latest, re-aggregates, moves the stable
 * price and watches the breaker. Pure: returns the new state.
 */
export function takeQuote(
  state: OracleState,
  quote: SourceQuote,
  now: number,
  config: OracleConfig,
): OracleUpdate {
  const quotes = withQuote(state.quotes, quote);
  const aggregation = aggregate(quotes, now, config, state.stablePrice);
  const breaker: BreakerChange[] = [];
  let next: OracleState = { ...state, quotes, grade: aggregation.grade };
  // A cooled-down breaker resets at the next quote, whatever that quote brings.
  if (next.trippedAt !== null && now - next.trippedAt >= config.breakerCooldownSeconds) {
    next = { ...next, trippedAt: null };
    breaker.push({ kind: 'reset' });
  }
  const price = aggregation.price;
  if (price !== null) {
    const stablePrice = followStable(state.stablePrice, price, now - state.stableAt, config);
    next = {
      ...next,
      price,
      confidence: aggregation.confidence,
      freshUntil: aggregation.freshUntil,
      stablePrice,
      stableAt: now,
    };
    next = watchBreaker(next, price, now, config, breaker);
  }
  return { state: next, aggregation, breaker };
}

function watchBreaker(
  state: OracleState,
  price: bigint,
  now: number,
  config: OracleConfig,
  changes: BreakerChange[],
): OracleState {
  const next = state;
  if (now - next.anchorAt >= config.breakerWindowSeconds) {
    return { ...next, anchorPrice: price, anchorAt: now };
  }
  if (beyond(price, next.anchorPrice, config.breakerMoveRay, next.anchorPrice)) {
    changes.push({ kind: 'tripped', from: next.anchorPrice, to: price });
    return { ...next, trippedAt: now, anchorPrice: price, anchorAt: now };
  }
  return next;
}

/** The quotes with `quote` as its source's latest, kept sorted by source. */
function withQuote(quotes: readonly SourceQuote[], quote: SourceQuote): SourceQuote[] {
  const out = quotes.filter((q) => q.source !== quote.source);
  const at = out.findIndex((q) => q.source > quote.source);
  if (at < 0) out.push(quote);
  else out.splice(at, 0, quote);
  return out;
}
