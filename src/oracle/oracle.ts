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

/** Sorts a short list of bigints in place (insertion sort: lists here hold at most 16). */
function sortInPlace(values: bigint[]): bigint[] {
  for (let i = 1; i < values.length; i++) {
    const value = values[i] as bigint;
    let j = i - 1;
    while (j >= 0 && (values[j] as bigint) > value) {
      values[j + 1] = values[j] as bigint;
      j--;
    }
    values[j + 1] = value;
  }
  return values;
}

/**
 * Aggregates the quotes fresh at `now` and grades the result against `stablePrice`. One pass to
 * find the fresh quotes, one to split them into kept and rejected; lists of at most 16.
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
  const fresh: SourceQuote[] = [];
  for (const q of quotes) {
    if (q.observedAt <= now && now - q.observedAt <= config.maxStalenessSeconds) fresh.push(q);
  }
  if (fresh.length === 0) return noPrice('stale', now, [], []);
  const center = median(sortInPlace(fresh.map((q) => q.price)));
  if (center <= 0n)
    return noPrice(
      'nonPositive',
      now,
      fresh.map((q) => q.source),
      [],
    );
  const used: string[] = [];
  const rejected: string[] = [];
  const prices: bigint[] = [];
  const confidences: bigint[] = [];
  let oldest = now;
  for (const q of fresh) {
    if (beyond(q.price, center, config.maxDeviationRay, center)) {
      rejected.push(q.source);
      continue;
    }
    used.push(q.source);
    prices.push(q.price);
    if (q.confidence !== null) confidences.push(q.confidence);
    if (q.observedAt < oldest) oldest = q.observedAt;
  }
  if (used.length < config.quorum) return noPrice('insufficientSources', now, [], rejected);
  const price = median(sortInPlace(prices));
  if (price <= 0n) return noPrice('nonPositive', now, [], rejected);
  // Confidence: the sources' own (median, a missing one counting as zero), or half their
  // spread if that is wider; rounded up.
  while (confidences.length < prices.length) confidences.push(0n);
  const reported = median(sortInPlace(confidences));
  const spread = divFloor((prices.at(-1) ?? price) - (prices[0] ?? price) + 1n, 2n);
  const confidence = reported > spread ? reported : spread;
  const grade: Grade = beyond(price, stablePrice, config.maxStableGapRay, stablePrice)
    ? 'tooVolatile'
    : confidence * RAY > config.maxConfidenceRay * price
      ? 'tooUncertain'
      : 'valid';
  return {
    grade,
    price,
    confidence,
    used,
    rejected,
    freshUntil: oldest + config.maxStalenessSeconds,
  };
}

function noPrice(grade: Grade, now: number, used: string[], rejected: string[]): Aggregation {
  return { grade, price: null, confidence: 0n, used, rejected, freshUntil: now };
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
  let trippedAt = state.trippedAt;
  // A cooled-down breaker resets at the next quote, whatever that quote brings.
  if (trippedAt !== null && now - trippedAt >= config.breakerCooldownSeconds) {
    trippedAt = null;
    breaker.push({ kind: 'reset' });
  }
  const price = aggregation.price;
  if (price === null) {
    return {
      state: { ...state, quotes, grade: aggregation.grade, trippedAt },
      aggregation,
      breaker,
    };
  }
  const stablePrice = followStable(state.stablePrice, price, now - state.stableAt, config);
  let { anchorPrice, anchorAt } = state;
  if (now - anchorAt >= config.breakerWindowSeconds) {
    anchorPrice = price;
    anchorAt = now;
  } else if (beyond(price, anchorPrice, config.breakerMoveRay, anchorPrice)) {
    breaker.push({ kind: 'tripped', from: anchorPrice, to: price });
    trippedAt = now;
    anchorPrice = price;
    anchorAt = now;
  }
  const next: OracleState = {
    quotes,
    grade: aggregation.grade,
    price,
    confidence: aggregation.confidence,
    freshUntil: aggregation.freshUntil,
    stablePrice,
    stableAt: now,
    anchorPrice,
    anchorAt,
    trippedAt,
  };
  return { state: next, aggregation, breaker };
}

/** The quotes with `quote` as its source's latest, kept sorted by source. */
function withQuote(quotes: readonly SourceQuote[], quote: SourceQuote): SourceQuote[] {
  const out = quotes.slice();
  for (let i = 0; i < out.length; i++) {
    const source = (out[i] as SourceQuote).source;
    if (source === quote.source) {
      out[i] = quote;
      return out;
    }
    if (source > quote.source) {
      out.splice(i, 0, quote);
      return out;
    }
  }
  out.push(quote);
  return out;
}
