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
      ((((1.857777061846031526e-1 * t + 3.161123743870565596) * t + 1.138641541510501556e2) * t +
        3.774852376853020208e2) *
        t +
        3.209377589138469473e3) *
      z;
    const den =
      (((t + 2.360129095234412093e1) * t + 2.440246379344441733e2) * t + 1.282616526077372276e3) *
        t +
      2.844236833439170622e3;
    return 1 - num / den;
  }
  if (z < 4) {
    const num =
      (((((((2.15311535474403846e-8 * z + 5.64188496988670089e-1) * z + 8.88314979438837594) * z +
        6.61191906371416295e1) *
        z +
        2.98635138197400131e2) *
        z +
        8.8195222124176909e2) *
        z +
        1.71204761263407058e3) *
        z +
        2.05107837782607147e3) *
        z +
      1.23033935479799725e3;
    const den =
      (((((((z + 1.57449261107098347e1) * z + 1.17693950891312499e2) * z + 5.37181101862009858e2) *
        z +
        1.62138957456669019e3) *
        z +
        3.29079923573345963e3) *
        z +
        4.36261909014324716e3) *
        z +
        3.43936767414372164e3) *
        z +
      1.23033935480374942e3;
    return (Math.exp(-z * z) * num) / den;
  }
  const t = 1 / (z * z);
  const num =
    (((1.63153871373020978e-2 * t + 3.05326634961232344e-1) * t + 3.60344899949804439e-1) * t +
      1.25781726111229246e-1) *
      t +
    1.60837851487422766e-2;
  const den =
    (((t + 2.56852019228982242) * t + 1.87295284992346725) * t + 5.27905102951428412e-1) * t +
    6.05183413124413191e-2;
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
