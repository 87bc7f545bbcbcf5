/**
 * Black-76: European options on a forward (or futures) price F, discounted at rate r.
 *
 *   d1 = (ln(F/K) + σ²T/2) / (σ√T),  d2 = d1 − σ√T
 *   call = e^{−rT} (F N(d1) − K N(d2)),  put = e^{−rT} (K N(−d2) − F N(−d1))
 *   Δ_call = e^{−rT} N(d1),  Δ_put = −e^{−rT} N(−d1)
 *   Γ = e^{−rT} n(d1) / (F σ √T),  vega = e^{−rT} F n(d1) √T  (per 1.00 of volatility)
 *   θ = −∂V/∂T per year: −e^{−rT} F n(d1) σ / (2√T) + r V
 *
 * Crypto venues settle options in the quote asset at expiry on the index, with r = 0 as the
 * default (no carry between trade and settlement). At or after expiry (T <= 0) the price is the
 * intrinsic value and the Greeks are those of the payoff (delta 0 or ±1, no gamma or vega).
 */

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

/** The standard normal density. */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/**
 * The standard normal distribution function, to about 1e-15 absolute: W. J. Cody's rational
 * approximations of erfc (1969), as used by most numerical libraries.
 */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const tail = 0.5 * erfc(z);
  return x >= 0 ? 1 - tail : tail;
}

/** The complementary error function for z >= 0 (Cody's three ranges). */
function erfc(z: number): number {
  if (z < 0.5) {
    // erf by a rational function of z².
    const t = z * z;
    const num =
      ((((0.18577770618460315 * t + 3.1611237438705655) * t + 113.86415415105016) * t +
        377.485237685302) *
        t +
        3209.3775891384694) *
      z;
    const den =
      (((t + 23.601290952344122) * t + 244.02463793444417) * t + 1282.6165260773723) * t +
      2844.236833439171;
    return 1 - num / den;
  }
  if (z < 4) {
    const num =
      (((((((2.1531153547440383e-8 * z + 0.5641884969886701) * z + 8.883149794388377) * z +
        66.11919063714163) *
        z +
        298.6351381974001) *
        z +
        881.952221241769) *
        z +
        1712.0476126340707) *
        z +
        2051.0783778260716) *
        z +
      1230.3393547979972;
    const den =
      (((((((z + 15.744926110709835) * z + 117.6939508913125) * z + 537.1811018620099) * z +
        1621.3895745666903) *
        z +
        3290.7992357334597) *
        z +
        4362.619090143247) *
        z +
        3439.3676741437216) *
        z +
      1230.3393548037495;
    return (Math.exp(-z * z) * num) / den;
  }
  const t = 1 / (z * z);
  const num =
    ((((0.016315387137302097 * t + 0.30532663496123236) * t + 0.36034489994980445) * t +
      0.12578172611122926) *
      t +
      0.016083785148742275) *
      t +
    6.587491615298378e-4;
  const den =
    ((((t + 2.568520192289822) * t + 1.8729528499234673) * t + 0.5279051029514285) * t +
      0.06051834131244132) *
      t +
    2.335204976268692e-3;
  return (Math.exp(-z * z) / z) * (1 / Math.sqrt(Math.PI) - (t * num) / den);
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
