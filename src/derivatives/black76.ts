/**
 * Black-76: European options on a forward (or futures) price F, discounted at rate r.
 *
 *   d1 = (ln(F/K) + σ²T/2) / (σ√T),  d2 = d1 − σ√T
 *   call = e^{−rT} (F N(d1) − K N(d2)),  put = e^{−rT} (K N(−d2) − F N(−d1))
 *   Δ_call = e^{−rT} N(d1),  Δ_put = −e^{−rT} N(−d1)
 *   Γ = e^{−rT} n(d1) / (F σ √T),  vega = e^{−rT} F n(d1) √T  (per 1.00 of volatility)
 *   θ = −∂V/∂T per year: −e^{−rT} F n(d1) σ / (2√T) + r V
 *
 * F is the forward for the option's expiry (`forwards.ts`: the index when no forward or rate is
 * given). The payoff is settled in the quote asset at expiry, so the price is its value today:
 * discounted by e^{−rT} at the rate r if one is given, undiscounted with r = 0, the default (no
 * carry between trade and settlement). At or after expiry (T <= 0) the price is the intrinsic
 * value and the Greeks are those of the payoff (delta 0 or ±1, no gamma or vega).
 *
 * `theta` is the instantaneous rate −∂V/∂T per year, which grows without bound as T → 0 (as
 * 1/√T at the money). What a position loses in a day is {@link thetaPerDay}: the price change
 * over one calendar day, or over the time left when less than a day is left.
 */
import { DAY_SECONDS, YEAR_SECONDS } from '../math/time.js';
import { normalCdf, normalPdf } from '../math/normal.js';

export interface Black76Input {
  /** Forward (or index) price of the underlying. */
  readonly forward: number;
  readonly strike: number;
  /** Years to expiry. */
  readonly time: number;
  /** Annual volatility, e.g. 0.8 for 80%. */
  readonly volatility: number;
  readonly right: 'call' | 'put';
  /** Annual continuously compounded rate; default 0. */
  readonly rate?: number;
}

export interface Black76Result {
  readonly price: number;
  /** ∂V/∂F. */
  readonly delta: number;
  /** ∂²V/∂F². */
  readonly gamma: number;
  /** ∂V/∂σ per 1.00 of volatility (divide by 100 for one volatility point). */
  readonly vega: number;
  /** ∂V/∂t per year as time passes (negative for a long option, typically). */
  readonly theta: number;
}

/**
 * Price and Greeks of one option.
 *
 * @example
 * // Hull, Options, Futures and Other Derivatives, Example 18.7 (Black's model): a European put on
 * // a futures price of 20, strike 20, 4 months, 25% volatility, 9% rate: 1.12.
 * black76({ forward: 20, strike: 20, time: 4 / 12, volatility: 0.25, rate: 0.09, right: 'put' }).price;
 */
export function black76(input: Black76Input): Black76Result {
  const { forward: f, strike: k, time: t, volatility: sigma, right } = input;
  const r = input.rate ?? 0;
  const call = right === 'call';
  if (t <= 0 || sigma <= 0) {
    const intrinsic = Math.max(call ? f - k : k - f, 0);
    const discount = t > 0 ? Math.exp(-r * t) : 1;
    const inTheMoney = call ? f > k : k > f;
    return {
      price: discount * intrinsic,
      delta: inTheMoney ? (call ? discount : -discount) : 0,
      gamma: 0,
      vega: 0,
      theta: t > 0 ? r * discount * intrinsic : 0,
    };
  }
  const discount = Math.exp(-r * t);
  const root = Math.sqrt(t);
  const d1 = (Math.log(f / k) + 0.5 * sigma * sigma * t) / (sigma * root);
  const d2 = d1 - sigma * root;
  const density = normalPdf(d1);
  const price = call
    ? discount * (f * normalCdf(d1) - k * normalCdf(d2))
    : discount * (k * normalCdf(-d2) - f * normalCdf(-d1));
  return {
    price,
    delta: call ? discount * normalCdf(d1) : -discount * normalCdf(-d1),
    gamma: (discount * density) / (f * sigma * root),
    vega: discount * f * density * root,
    theta: (-discount * f * density * sigma) / (2 * root) + r * price,
  };
}

/** One calendar day in years (of 365 days). */
const DAY_YEARS = DAY_SECONDS / YEAR_SECONDS;

/**
 * Theta per calendar day: V(T − h) − V(T) with h = min(1 day, T), the forward, the volatility
 * and the rate held. Over a day well before expiry this is about θ/365; in the last day it is
 * the whole change to expiry, minus the time value left (the price less its undiscounted
 * intrinsic value), finite where the instantaneous θ grows as 1/√T. 0 at or after expiry.
 *
 * @example
 * // One hour left, F = K = 3000, 70%: the call is worth about 0.4·F·σ√T = 8.95, all time
 * // value, so theta per day is −8.95 (the instantaneous θ/365 reads −107 a day).
 * thetaPerDay({ forward: 3000, strike: 3000, time: 3600 / YEAR_SECONDS, volatility: 0.7, right: 'call' });
 */
export function thetaPerDay(input: Black76Input): number {
  if (!(input.time > 0)) return 0;
  const h = Math.min(DAY_YEARS, input.time);
  return black76({ ...input, time: input.time - h }).price - black76(input).price;
}
