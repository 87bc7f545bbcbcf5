/**
 * The forward of an underlying for each expiry, the rate an option's payoff is discounted at,
 * and the settlement prices of expiries already past: what turns an index into the price a
 * future or an option of a given expiry is valued on.
 *
 * - No forwards and no rate: every expiry's forward is the index and nothing is discounted
 *   (r = 0), the venues' convention for options settled in the quote asset.
 * - A `rate` r (annual, continuously compounded): an expiry T years ahead has the forward
 *   F = S·e^{rT} (cost of carry on the index S) unless forwards are given, and an option's
 *   payoff, settled in the quote asset at expiry, is discounted by e^{−rT}.
 * - Given `forwards` (a forward price per expiry, from the venue's futures): those expiries use
 *   them; another expiry reads the curve through the points (0, ln S), (T₁, ln F₁), …,
 *   (Tₙ, ln Fₙ) of the given expiries still ahead, linear in ln F over time between two points
 *   (a constant forward rate between quoted expiries), and beyond the last one the last
 *   expiry's annualized basis ln(Fₙ/S)/Tₙ held flat: F = S·(Fₙ/S)^{T/Tₙ}. A given forward
 *   replaces S·e^{rT}; the rate, if any, still discounts. Forwards of expiries at or before the
 *   time are skipped, as the volatility surface skips its past rows.
 * - When the index moves (a scenario, a liquidation search), the basis is held as a ratio:
 *   every forward moves with the index ({@link withIndex}).
 * - `settlements`: the settlement price of expiries at or before the time. An expired future or
 *   option is valued on its expiry's settlement price, never on today's index; without one it is
 *   flagged as needing settlement and left out of the risk figures.
 *
 * Analytics: floats, pure.
 */
import { FulcrumError } from '../base/errors.js';
import { LIMITS } from '../domain/limits.js';
import { YEAR_SECONDS } from '../math/time.js';
import type { FutureSpec, OptionSpec } from './instruments.js';

/** Forwards, or settlement prices, one underlying may hold. */
export const EXPIRY_POINTS_MAX = 64;
/** The largest rate either way, 100% a year. */
export const RATE_MAX = 1;
/**
 * The largest carry to an expiry: |ln(F/S)| and |r·T| at most 30 (a factor of about 10^13). A
 * rate or a basis held flat to an expiry centuries ahead would otherwise overflow.
 */
export const CARRY_LOG_MAX = 30;

/** The forward price of one expiry. */
export interface ForwardPoint {
  /** Unix seconds. */
  readonly expiry: number;
  /** Quote per unit of the underlying. */
  readonly forward: number;
}

/** The settlement price of one expiry. */
export interface SettlementPoint {
  /** Unix seconds. */
  readonly expiry: number;
  /** The index price the expiry settled at, quote per unit. */
  readonly price: number;
}

/** What an underlying's forwards are read from. */
export interface CarryMarket {
  /** Index price, quote per unit. */
  readonly index: number;
  /** Forwards by expiry, expiries strictly increasing. */
  readonly forwards?: readonly ForwardPoint[];
  /** Annual continuously compounded rate: forwards S·e^{rT} and discounting e^{−rT}. */
  readonly rate?: number;
  /** Settlement prices of past expiries, expiries strictly increasing. */
  readonly settlements?: readonly SettlementPoint[];
}

/** An expiry's forward, discount factor and basis ratio. */
export interface Carry {
  /** Years from the time to the expiry. */
  readonly years: number;
  /** The forward price for the expiry, quote per unit. */
  readonly forward: number;
  /** e^{−rT}: what a quote unit paid at expiry is worth at the time. */
  readonly discount: number;
  /** The rate, 0 when none is given. */
  readonly rate: number;
  /** forward / index: ∂F/∂S with the basis held as a ratio. */
  readonly ratio: number;
}

/**
 * The forward of `market`'s underlying for `expiry` at `now` (unix seconds), as the module
 * describes; the index at or after expiry. The market is assumed valid
 * ({@link validateCarryMarket}).
 *
 * @example
 * // Index 2000, the 90-day forward 2040: the 30-day forward is a third of the way in ln F,
 * // 2000·(2040/2000)^{1/3} = 2013.26; at 180 days the basis held flat, 2000·1.02² = 2080.8.
 * const d = 86_400;
 * forwardAt({ index: 2000, forwards: [{ expiry: 90 * d, forward: 2040 }] }, 30 * d, 0);
 */
export function forwardAt(market: CarryMarket, expiry: number, now: number): number {
  const { index } = market;
  if (expiry <= now) return index;
  const t = (expiry - now) / YEAR_SECONDS;
  const points = (market.forwards ?? []).filter((p) => p.expiry > now);
  if (points.length === 0) return index * Math.exp((market.rate ?? 0) * t);
  // The points (0, ln S), (T₁, ln F₁), …: find the first at or after the expiry.
  let t0 = 0;
  let l0 = 0; // ln(F/S) at t0
  for (const p of points) {
    const t1 = (p.expiry - now) / YEAR_SECONDS;
    const l1 = Math.log(p.forward / index);
    if (p.expiry === expiry) return p.forward;
    if (p.expiry > expiry) return index * Math.exp(l0 + ((t - t0) / (t1 - t0)) * (l1 - l0));
    t0 = t1;
    l0 = l1;
  }
  // Beyond the last point: its annualized basis l0 / t0 held flat.
  return index * Math.exp((l0 / t0) * t);
}

/**
 * The forward, discount factor and basis ratio of an expiry, checked: throws `invalid_number`
 * naming `field` if the carry exceeds {@link CARRY_LOG_MAX} (a rate or a basis held to an
 * expiry so far ahead that the forward or the discount would overflow).
 *
 * @example
 * // 5% a year, half a year ahead: F = 2000·e^{0.025} = 2050.63, discount e^{−0.025}.
 * carryAt({ index: 2000, rate: 0.05 }, YEAR_SECONDS / 2, 0, 'rate');
 */
export function carryAt(market: CarryMarket, expiry: number, now: number, field: string): Carry {
  const years = (expiry - now) / YEAR_SECONDS;
  const rate = market.rate ?? 0;
  const forward = forwardAt(market, expiry, now);
  const ratio = forward / market.index;
  const discount = years > 0 ? Math.exp(-rate * years) : 1;
  const growth = Math.log(ratio);
  if (!(Math.abs(growth) <= CARRY_LOG_MAX && Math.abs(rate * Math.max(years, 0)) <= CARRY_LOG_MAX))
    throw new FulcrumError(
      'invalid_number',
      `the carry to expiry ${expiry} (forward over index, or discount) is beyond e^${CARRY_LOG_MAX} either way: a rate or basis held too far ahead`,
      field,
    );
  return { years, forward, discount, rate, ratio };
}

/**
 * The settlement price given for `expiry`, or undefined.
 *
 * @example
 * settlementAt({ index: 2000, settlements: [{ expiry: t, price: 1950 }] }, t); // 1950
 */
export function settlementAt(market: CarryMarket, expiry: number): number | undefined {
  return market.settlements?.find((s) => s.expiry === expiry)?.price;
}

/**
 * What one unit of an expired future or option is worth on its expiry's settlement price: the
 * price for a future, the intrinsic value on it for an option.
 *
 * @example
 * settledValue(putStruckAt2000, 1940); // 60
 */
export function settledValue(instrument: FutureSpec | OptionSpec, settlement: number): number {
  if (instrument.kind === 'future') return settlement;
  const intrinsic =
    instrument.right === 'call' ? settlement - instrument.strike : instrument.strike - settlement;
  return Math.max(intrinsic, 0);
}

/**
 * The market with its index at `index` and every given forward moved in proportion (the basis
 * held as a ratio); the rate and settlements unchanged.
 *
 * @example
 * withIndex({ index: 2000, forwards: [{ expiry: t, forward: 2040 }] }, 1000).forwards; // 1020
 */
export function withIndex<M extends CarryMarket>(market: M, index: number): M {
  const scale = index / market.index;
  const forwards = market.forwards?.map((p) => ({ expiry: p.expiry, forward: p.forward * scale }));
  return forwards === undefined ? { ...market, index } : { ...market, index, forwards };
}

/**
 * Checks an underlying's forwards, rate and settlements (the index is checked by its reader):
 * throws `invalid_config` for a list that is not one (more than {@link EXPIRY_POINTS_MAX}
 * points, expiries not unix seconds strictly increasing, a settlement of an expiry after `now`)
 * and `invalid_number` for a value out of range (a forward or settlement price not above 0 or
 * above `priceMax`, a rate beyond ±{@link RATE_MAX}), naming the field under `field`.
 */
export function validateCarryMarket(
  market: CarryMarket,
  field: string,
  now: number,
  priceMax: number,
): void {
  const points = <P extends { expiry: number }>(
    list: readonly P[] | undefined,
    name: 'forwards' | 'settlements',
    value: (p: P) => unknown,
  ): void => {
    if (list === undefined) return;
    if (!Array.isArray(list) || list.length > EXPIRY_POINTS_MAX)
      throw new FulcrumError(
        'invalid_config',
        `${name} must be a list of at most ${EXPIRY_POINTS_MAX} points`,
        `${field}.${name}`,
      );
    list.forEach((p, i) => {
      const at = `${field}.${name}[${i}]`;
      const e = p?.expiry;
      if (!(Number.isSafeInteger(e) && e > 0 && e <= LIMITS.timeMax))
        throw new FulcrumError(
          'invalid_config',
          `an expiry must be unix seconds from 1 to ${LIMITS.timeMax}`,
          `${at}.expiry`,
        );
      if (i > 0 && !(e > (list[i - 1] as P).expiry))
        throw new FulcrumError('invalid_config', 'expiries must be strictly increasing', at);
      if (name === 'settlements' && e > now)
        throw new FulcrumError(
          'invalid_config',
          'a settlement price is for an expiry at or before the time',
          `${at}.expiry`,
        );
      const x = value(p);
      if (!(typeof x === 'number' && x > 0 && x <= priceMax))
        throw new FulcrumError(
          'invalid_number',
          `a ${name === 'forwards' ? 'forward' : 'settlement'} price must be above 0 and at most ${priceMax}`,
          `${at}.${name === 'forwards' ? 'forward' : 'price'}`,
        );
    });
  };
  points(market.forwards, 'forwards', (p) => p.forward);
  points(market.settlements, 'settlements', (p) => p.price);
  const rate = market.rate;
  if (rate !== undefined && !(typeof rate === 'number' && Math.abs(rate) <= RATE_MAX))
    throw new FulcrumError(
      'invalid_number',
      `a rate must be a number from −${RATE_MAX} to ${RATE_MAX}`,
      `${field}.rate`,
    );
}
