/**
 * One asset's oracle: the latest quote of each source, and what they make together.
 *
 * Each quote re-aggregates the asset's fresh quotes. Sources whose price has not changed for
 * longer than `maxUnchangedSeconds` while most of the others moved are frozen and left out;
 * sources far from the median of the rest are outliers; the price is the median of the largest
 * group of sources that agree within `maxSpread`, adopted only when that group is more than half
 * of the fresh sources (the fault assumption: fewer than a third of them faulty, see
 * {@link aggregate}). A price with such a majority and above zero becomes the asset's price
 * (graded valid, too uncertain or too volatile); otherwise the asset keeps its last price and
 * the grade says why.
 *
 * Two followers trail the price at a bounded rate. The stable price, which initial margin uses,
 * is slowed as it parts from the delay price (a time-weighted average of the price over a window
 * of whole intervals, each interval's average kept within a bounded step of the one before). The
 * volatility reference price, which the too-volatile grade measures from, is not slowed, so a
 * crash is too volatile no longer than the plain rate limit makes it. The circuit breaker watches
 * the price for a move too large within a window. Everything is exact (bigints, explicit
 * rounding) and takes its time from the command.
 */
import { RAY, divFloor } from '../math/fixed.js';
import { DEFAULT_ORACLE_CONFIG, type OracleConfig } from '../domain/oracleConfig.js';
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

/** A source's latest quote as the oracle keeps it. */
export interface StoredQuote extends SourceQuote {
  /** When the source first observed the price it still quotes (unix seconds). */
  readonly unchangedSince: number;
}

export interface OracleState {
  /** The latest quote of each source, sorted by source. */
  readonly quotes: readonly StoredQuote[];
  /** Grade of the last aggregation. */
  readonly grade: Grade;
  /** The price, PRICE_SCALE: the last aggregation with quorum above zero (or the listing's). */
  readonly price: bigint;
  /** Its confidence (half-width), PRICE_SCALE. */
  readonly confidence: bigint;
  /** Until this time (unix seconds) every quote behind the price is fresh; after it, stale. */
  readonly freshUntil: number;
  /**
   * The smoothed price initial margin uses, PRICE_SCALE: it follows the price at the plain rate
   * limit slowed by the delay price, so that a pumped price buys borrowing power slowly.
   */
  readonly stablePrice: bigint;
  /**
   * The price the too-volatile grade measures from, PRICE_SCALE: it follows the price at the
   * plain rate limit only, never slowed by the delay price. Two followers, because the slowing
   * that protects initial margin from a pump would, in a crash, keep the price too volatile (no
   * liquidation by default) for longer; the grade keeps the plain limiter's pace.
   */
  readonly volatilityReferencePrice: bigint;
  /** When the price was last adopted (both followers follow from here). */
  readonly stableAt: number;
  /**
   * The delay price's window: the average of each of the last `delayIntervals` whole intervals,
   * PRICE_SCALE, interval k at index k mod `delayIntervals` (empty when there is no delay price).
   */
  readonly delayPrices: readonly bigint[];
  /**
   * The open interval: its number (time / `delayIntervalSeconds`, floored), its Σ price ×
   * seconds so far (PRICE_SCALE × seconds), and those seconds.
   */
  readonly delayInterval: number;
  readonly delaySum: bigint;
  readonly delaySeconds: number;
  /** The circuit breaker's anchor: the price a move is measured from, and its time. */
  readonly anchorPrice: bigint;
  readonly anchorAt: number;
  /** When the breaker last tripped; null when it is not tripped. */
  readonly trippedAt: number | null;
}

/**
 * The state of a newly listed asset: its listing price (also its stable and volatility reference
 * prices, and every interval of the delay price's window), stale until its sources quote.
 */
export function initialOracleState(
  price: bigint,
  time: number,
  config: OracleConfig = DEFAULT_ORACLE_CONFIG,
): OracleState {
  return {
    quotes: [],
    grade: 'stale',
    price,
    confidence: 0n,
    freshUntil: time,
    stablePrice: price,
    volatilityReferencePrice: price,
    stableAt: time,
    delayPrices: new Array<bigint>(config.delayIntervals).fill(price),
    delayInterval: Math.floor(time / config.delayIntervalSeconds),
    delaySum: 0n,
    delaySeconds: 0,
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
  /** Sources the price was taken from. */
  readonly used: readonly string[];
  /** Fresh sources rejected: outliers, and those outside the agreeing majority. */
  readonly rejected: readonly string[];
  /** Fresh sources left out as frozen: the same price for too long while the others moved. */
  readonly frozen: readonly string[];
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

/** Sorts a short list in place by `key` (insertion sort, stable: lists here hold at most 16). */
function sortInPlace<T>(values: T[], key: (value: T) => bigint): T[] {
  for (let i = 1; i < values.length; i++) {
    const value = values[i] as T;
    const k = key(value);
    let j = i - 1;
    while (j >= 0 && key(values[j] as T) > k) {
      values[j + 1] = values[j] as T;
      j--;
    }
    values[j + 1] = value;
  }
  return values;
}

const itself = (x: bigint) => x;
const priceOf = (q: SourceQuote) => q.price;

/** When the quote's price was first observed; a quote not kept by an oracle, its own time. */
function unchangedSince(quote: SourceQuote | StoredQuote): number {
  return 'unchangedSince' in quote ? quote.unchangedSince : quote.observedAt;
}

/**
 * The fresh quotes at `now`, less the frozen ones: a source whose price has not changed for more
 * than `maxUnchangedSeconds` is frozen when more than half of the fresh sources changed theirs
 * within that span (the market moved and it did not). When most sources are unchanged the market
 * is taken to be flat (a pegged asset) and no source is frozen.
 */
function freshQuotes(
  quotes: readonly (SourceQuote | StoredQuote)[],
  now: number,
  config: OracleConfig,
): { fresh: (SourceQuote | StoredQuote)[]; frozen: string[] } {
  const fresh: (SourceQuote | StoredQuote)[] = [];
  for (const q of quotes) {
    if (q.observedAt <= now && now - q.observedAt <= config.maxStalenessSeconds) fresh.push(q);
  }
  const span = config.maxUnchangedSeconds;
  if (span <= 0) return { fresh, frozen: [] };
  const moving = fresh.filter((q) => now - unchangedSince(q) <= span);
  if (moving.length * 2 <= fresh.length || moving.length === fresh.length) {
    return { fresh, frozen: [] };
  }
  const frozen = fresh.filter((q) => now - unchangedSince(q) > span).map((q) => q.source);
  return { fresh: moving, frozen };
}

/**
 * The agreeing majority of `kept` (sorted by price, all above zero): the largest run of sources
 * whose highest price is at most `maxSpread` above its lowest; of equal runs, the narrowest,
 * then the lowest. Null when the largest is not more than half of `freshCount`.
 */
function agreeingMajority<T extends SourceQuote>(
  kept: readonly T[],
  freshCount: number,
  spreadRay: bigint,
): T[] | null {
  let best: [number, number] | null = null;
  let start = 0;
  for (let end = 0; end < kept.length; end++) {
    const high = (kept[end] as T).price;
    while ((high - (kept[start] as T).price) * RAY > spreadRay * (kept[start] as T).price) start++;
    if (best === null) {
      best = [start, end];
      continue;
    }
    const size = end - start;
    const bestSize = best[1] - best[0];
    if (size < bestSize) continue;
    const low = (kept[start] as T).price;
    const bestLow = (kept[best[0]] as T).price;
    const bestHigh = (kept[best[1]] as T).price;
    // Narrower: (high − low) / low < (bestHigh − bestLow) / bestLow, cross-multiplied.
    if (size > bestSize || (high - low) * bestLow < (bestHigh - bestLow) * low) best = [start, end];
  }
  if (best === null || (best[1] - best[0] + 1) * 2 <= freshCount) return null;
  return kept.slice(best[0], best[1] + 1);
}

/**
 * Aggregates the quotes fresh at `now` and grades the result: too volatile when the price is
 * further than `maxStableGap` from `referencePrice` (the oracle's volatility reference price).
 *
 * 1. Fresh: observed within `maxStalenessSeconds`; frozen sources left out (see `freshQuotes`).
 * 2. A median of them at or below zero is `nonPositive`.
 * 3. Sources further than `maxDeviation` from that median are outliers.
 * 4. The price is the median of the agreeing majority: the largest group of the rest whose
 *    prices lie within `maxSpread` of each other, which must hold more than half of the fresh
 *    sources and at least `quorum` of them; otherwise `insufficientSources` and no price.
 *
 * The fault assumption: of n fresh sources at most f are faulty (any price, in collusion), with
 * n >= 3f + 1, and the honest ones agree within `maxSpread`. Then the honest sources alone are
 * a majority group, the chosen group is at least as large (n − f > 2f), so fewer than half of
 * it are faulty, and its median lies between the lowest and the highest honest price: a faulty
 * minority moves the price by no more than the honest sources' own spread. Half the sources or
 * more colluding is beyond any median; here they either stay within `maxSpread` of the others
 * (the price moves by at most half of it) or split the sources into groups none of which is a
 * majority, and the price is refused. With `maxSpread` null the group is every source that is
 * not an outlier, with no majority rule.
 *
 * @example
 * aggregate(quotes, 1_000, DEFAULT_ORACLE_CONFIG, reference).grade; // 'valid'
 */
export function aggregate(
  quotes: readonly (SourceQuote | StoredQuote)[],
  now: number,
  config: OracleConfig,
  referencePrice: bigint,
): Aggregation {
  const { fresh, frozen } = freshQuotes(quotes, now, config);
  if (fresh.length === 0) return noPrice('stale', now, [], [], frozen);
  const center = median(sortInPlace(fresh.map(priceOf), itself));
  if (center <= 0n)
    return noPrice(
      'nonPositive',
      now,
      fresh.map((q) => q.source),
      [],
      frozen,
    );
  const kept: (SourceQuote | StoredQuote)[] = [];
  const outliers: string[] = [];
  for (const q of fresh) {
    if (beyond(q.price, center, config.maxDeviationRay, center)) outliers.push(q.source);
    else kept.push(q);
  }
  const group =
    config.maxSpreadRay === null
      ? kept
      : agreeingMajority(sortInPlace(kept.slice(), priceOf), fresh.length, config.maxSpreadRay);
  if (group === null || group.length < config.quorum) {
    return noPrice('insufficientSources', now, [], outliers, frozen);
  }
  const used: string[] = [];
  const rejected: string[] = [];
  let oldest = now;
  for (const q of fresh) {
    if (!group.includes(q)) {
      rejected.push(q.source);
      continue;
    }
    used.push(q.source);
    if (q.observedAt < oldest) oldest = q.observedAt;
  }
  const prices = sortInPlace(group.map(priceOf), itself);
  const price = median(prices);
  if (price <= 0n) return noPrice('nonPositive', now, [], rejected, frozen);
  // Confidence: the sources' own (median, a missing one counting as zero), or half their
  // spread if that is wider; rounded up.
  const confidences = group.map((q) => q.confidence ?? 0n);
  const reported = median(sortInPlace(confidences, itself));
  const spread = divFloor((prices.at(-1) ?? price) - (prices[0] ?? price) + 1n, 2n);
  const confidence = reported > spread ? reported : spread;
  const grade: Grade = beyond(price, referencePrice, config.maxStableGapRay, referencePrice)
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
    frozen,
    freshUntil: oldest + config.maxStalenessSeconds,
  };
}

function noPrice(
  grade: Grade,
  now: number,
  used: string[],
  rejected: string[],
  frozen: string[],
): Aggregation {
  return { grade, price: null, confidence: 0n, used, rejected, frozen, freshUntil: now };
}

/**
 * The delay price: the mean of the window's interval averages (each a time-weighted average of
 * the price over one whole interval), rounded down; null when the oracle keeps no window.
 */
export function delayPrice(state: Pick<OracleState, 'delayPrices'>): bigint | null {
  const prices = state.delayPrices;
  if (prices.length === 0) return null;
  let sum = 0n;
  for (let i = 0; i < prices.length; i++) sum += prices[i] as bigint;
  // Prices are positive, so the bigint quotient is the floor.
  return sum / BigInt(prices.length);
}

/** `target` moved to within `growthRay` of `previous` (the bound rounded down: it lags). */
function withinGrowth(target: bigint, previous: bigint, growthRay: bigint): bigint {
  const room = divFloor(previous * growthRay, RAY);
  if (target > previous + room) return previous + room;
  if (target < previous - room) return previous - room;
  return target;
}

type DelayWindow = Pick<OracleState, 'delayPrices' | 'delayInterval' | 'delaySum' | 'delaySeconds'>;

/**
 * The delay price's window at `now`, the asset's price having been `state.price` since
 * `state.stableAt`: that time is added to the open interval, and every interval that ended is
 * closed: its average (price × seconds over seconds, rounded down) moved to within
 * `delayGrowthMax` of the interval before it, and written over the oldest. An interval with no
 * new price averages the price held through it. After a gap longer than the window only its
 * last `delayIntervals` intervals are closed, each within the growth bound of the one before:
 * the window refills from where it was, no faster.
 */
export function advanceDelay(state: OracleState, now: number, config: OracleConfig): DelayWindow {
  const n = config.delayIntervals;
  if (n === 0 || state.delayPrices.length !== n || now <= state.stableAt) return state;
  const length = config.delayIntervalSeconds;
  const held = state.price;
  const target = Math.floor(now / length);
  let interval = state.delayInterval;
  if (target <= interval) {
    const seconds = now - state.stableAt;
    return {
      delayPrices: state.delayPrices,
      delayInterval: interval,
      delaySum: state.delaySum + held * BigInt(seconds),
      delaySeconds: state.delaySeconds + seconds,
    };
  }
  const prices = state.delayPrices.slice();
  const at = (k: number) => ((k % n) + n) % n;
  let previous = prices[at(interval - 1)] as bigint;
  const close = (average: bigint) => {
    previous = withinGrowth(average, previous, config.delayGrowthMaxRay);
    prices[at(interval)] = previous;
    interval++;
  };
  const tail = (interval + 1) * length - state.stableAt;
  const seconds = state.delaySeconds + tail;
  // Seconds are positive here (the open interval ends after the price was adopted) and prices
  // above zero, so the bigint quotient is the floor.
  close((state.delaySum + held * BigInt(tail)) / BigInt(seconds));
  const whole = target - interval;
  interval += Math.max(0, whole - n);
  while (interval < target) close(held);
  const open = now - target * length;
  return {
    delayPrices: prices,
    delayInterval: target,
    delaySum: held * BigInt(open),
    delaySeconds: open,
  };
}

/**
 * The stable price after `seconds` more of following `price`: it moves toward the price by at
 * most `stableRatePerSecond` of itself per second, over at most `stableStepSecondsMax` seconds
 * per step, and, given a delay price, by that times (lower / higher of stable and delay price)²:
 * the further the stable price has moved from the window's average, the slower it goes on
 * (a price held far from where it has been for a day gains initial-margin value slowly). Without
 * a delay price it is the plain rate limiter, which the volatility reference price follows. The
 * step is rounded down.
 */
export function followStable(
  stable: bigint,
  price: bigint,
  seconds: number,
  config: OracleConfig,
  delay: bigint | null = null,
): bigint {
  const step = Math.min(Math.max(seconds, 0), config.stableStepSecondsMax);
  const [low, high] =
    delay === null ? [1n, 1n] : delay < stable ? [delay, stable] : [stable, delay];
  const room = divFloor(
    stable * config.stableRatePerSecondRay * BigInt(step) * low * low,
    RAY * high * high,
  );
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
 * Takes one quote at `now`: stores it as its source's latest (noting since when its price is
 * unchanged), re-aggregates (grading against the volatility reference price as it was), and when
 * there is a new price, advances the delay price's window, moves the stable price (slowed by the
 * delay price) and the volatility reference price (not slowed), and watches the breaker. Pure:
 * returns the new state.
 */
export function takeQuote(
  state: OracleState,
  quote: SourceQuote,
  now: number,
  config: OracleConfig,
): OracleUpdate {
  const quotes = withQuote(state.quotes, quote);
  const aggregation = aggregate(quotes, now, config, state.volatilityReferencePrice);
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
  const window = advanceDelay(state, now, config);
  // A window kept for another configuration (none when the delay price is off) slows nothing.
  const delay = window.delayPrices.length === config.delayIntervals ? delayPrice(window) : null;
  const elapsed = now - state.stableAt;
  const stablePrice = followStable(state.stablePrice, price, elapsed, config, delay);
  const volatilityReferencePrice = followStable(
    state.volatilityReferencePrice,
    price,
    elapsed,
    config,
  );
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
    volatilityReferencePrice,
    stableAt: now,
    delayPrices: window.delayPrices,
    delayInterval: window.delayInterval,
    delaySum: window.delaySum,
    delaySeconds: window.delaySeconds,
    anchorPrice,
    anchorAt,
    trippedAt,
  };
  return { state: next, aggregation, breaker };
}

/**
 * The quotes with `quote` as its source's latest, kept sorted by source. A price equal to the
 * source's last keeps the time since which it is unchanged.
 */
function withQuote(quotes: readonly StoredQuote[], quote: SourceQuote): StoredQuote[] {
  const out = quotes.slice();
  const stored = (since: number): StoredQuote => ({
    source: quote.source,
    price: quote.price,
    confidence: quote.confidence,
    observedAt: quote.observedAt,
    unchangedSince: since,
  });
  for (let i = 0; i < out.length; i++) {
    const last = out[i] as StoredQuote;
    if (last.source === quote.source) {
      const same = last.price === quote.price;
      out[i] = stored(same ? Math.min(last.unchangedSince, quote.observedAt) : quote.observedAt);
      return out;
    }
    if (last.source > quote.source) {
      out.splice(i, 0, stored(quote.observedAt));
      return out;
    }
  }
  out.push(stored(quote.observedAt));
  return out;
}
