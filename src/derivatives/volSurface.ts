/**
 * Implied volatility surfaces, one per underlying: a grid of volatilities by expiry and strike,
 * read by interpolation, and its shocked versions for the portfolio margin's volatility
 * scenarios.
 *
 * Reading the grid: linear in strike between the grid's strikes and flat beyond its ends (no
 * extrapolated wings: a wing drawn past the quoted strikes would be a guess); between expiries,
 * linear in total variance σ²T, the quantity that adds up over time, so that a term structure
 * read between two quoted expiries neither dips nor bulges; flat σ before the first and after the
 * last expiry. Expiries already past at the reading time carry no information about the future
 * and are skipped. Analytics: floats, pure.
 */
import { FulcrumError } from '../base/errors.js';
import { LIMITS } from '../domain/limits.js';
import { DAY_SECONDS, YEAR_SECONDS } from '../math/time.js';
import { STRIKE_MAX } from './instruments.js';

/** Expiries a surface may hold: more than any venue lists for one underlying. */
export const SURFACE_EXPIRIES_MAX = 64;
/** Strikes a surface may hold. */
export const SURFACE_STRIKES_MAX = 512;
/** The highest volatility a surface may hold, 1000% a year: above any traded crypto option. */
export const VOLATILITY_MAX = 10;

/**
 * A volatility grid: `vols[i][j]` is the annual implied volatility (0.8 for 80%) of an option
 * expiring at `expiries[i]` (unix seconds) struck at `strikes[j]` (quote per unit).
 */
export interface VolSurface {
  /** Unix seconds, strictly increasing. */
  readonly expiries: readonly number[];
  /** Quote per unit of the underlying, strictly increasing. */
  readonly strikes: readonly number[];
  /** One row per expiry, one volatility per strike. */
  readonly vols: readonly (readonly number[])[];
}

/**
 * The powers and pivot of the volatility shock's term scaling, Paradex's form (Deribit's
 * `short_term_vega_power` and `long_term_vega_power`): a shock s moves a volatility σ of an
 * option with DTE days left to σ·(1 + s·(pivotDays / max(DTE, floorDays))^power), the power being
 * `shortTermPower` below the pivot and `longTermPower` from it on. Short-dated volatility moves
 * more than long-dated, and the scaling is 1 at the pivot either way.
 */
export interface VegaPowerConfig {
  readonly shortTermPower: number;
  readonly longTermPower: number;
  readonly pivotDays: number;
  readonly floorDays: number;
}

/** Deribit's published powers (0.3 and 0.13), a 30-day pivot and Paradex's 1-day floor. */
export const DEFAULT_VEGA_POWER: VegaPowerConfig = {
  shortTermPower: 0.3,
  longTermPower: 0.13,
  pivotDays: 30,
  floorDays: 1,
};

/**
 * A surface with one volatility everywhere.
 *
 * @example
 * volatilityAt(flatSurface(0.8), 2500, 1_900_000_000, 1_890_000_000); // 0.8
 */
export function flatSurface(vol: number): VolSurface {
  return volSurface({ expiries: [1], strikes: [1], vols: [[vol]] });
}

/**
 * A checked surface: throws `invalid_config` naming the first offending field (`expiries`,
 * `strikes`, `vols`, `vols[i]`, `vols[i][j]`). Returns the grid as given.
 *
 * @example
 * volSurface({ expiries: [t1, t2], strikes: [2000, 3000], vols: [[0.9, 0.8], [0.75, 0.7]] });
 */
export function volSurface(grid: VolSurface): VolSurface {
  validateVolSurface(grid);
  return grid;
}

/** Checks a surface's shape and values; throws `invalid_config` naming the field. */
export function validateVolSurface(surface: VolSurface, field = 'surface'): void {
  const fail = (where: string, message: string): never => {
    throw new FulcrumError('invalid_config', message, `${field}.${where}`);
  };
  const { expiries, strikes, vols } = surface;
  if (!Array.isArray(expiries) || expiries.length < 1 || expiries.length > SURFACE_EXPIRIES_MAX)
    fail('expiries', `a surface needs 1 to ${SURFACE_EXPIRIES_MAX} expiries`);
  if (!Array.isArray(strikes) || strikes.length < 1 || strikes.length > SURFACE_STRIKES_MAX)
    fail('strikes', `a surface needs 1 to ${SURFACE_STRIKES_MAX} strikes`);
  for (let i = 0; i < expiries.length; i++) {
    const e = expiries[i] as number;
    if (!Number.isSafeInteger(e) || e <= 0 || e > LIMITS.timeMax)
      fail('expiries', `expiries must be unix seconds from 1 to ${LIMITS.timeMax}`);
    if (i > 0 && !(e > (expiries[i - 1] as number)))
      fail('expiries', 'expiries must be strictly increasing');
  }
  for (let j = 0; j < strikes.length; j++) {
    const k = strikes[j] as number;
    if (!(typeof k === 'number' && k > 0 && k <= STRIKE_MAX))
      fail('strikes', `strikes must be numbers above 0 and at most ${STRIKE_MAX}`);
    if (j > 0 && !(k > (strikes[j - 1] as number)))
      fail('strikes', 'strikes must be strictly increasing');
  }
  if (!Array.isArray(vols) || vols.length !== expiries.length)
    fail('vols', 'vols must have one row per expiry');
  for (let i = 0; i < vols.length; i++) {
    const row = vols[i];
    if (!Array.isArray(row) || row.length !== strikes.length)
      fail(`vols[${i}]`, 'each row of vols must have one volatility per strike');
    for (let j = 0; j < strikes.length; j++) {
      const v = (row as readonly number[])[j] as number;
      if (!(typeof v === 'number' && v > 0 && v <= VOLATILITY_MAX))
        fail(`vols[${i}][${j}]`, `a volatility must be above 0 and at most ${VOLATILITY_MAX}`);
    }
  }
}

/**
 * The implied volatility of an option struck at `strike` expiring at `expiry` (unix seconds),
 * read at `now` (unix seconds): linear in strike, flat beyond the ends; linear in total variance
 * between the expiries still ahead of `now`, flat before the first and after the last. An
 * option at or past expiry reads the first expiry ahead (its price is its intrinsic value
 * anyway). The surface is assumed valid ({@link volSurface}).
 *
 * @example
 * // Two expiries 30 and 90 days ahead at 100% and 60% volatility: at 60 days the variance is
 * // halfway, (1.0²·30 + 0.6²·90)/2 = 31.2 vol²·days, so σ = √(31.2/60) ≈ 0.7211.
 * const d = 86_400;
 * volatilityAt({ expiries: [30 * d, 90 * d], strikes: [1], vols: [[1.0], [0.6]] }, 1, 60 * d, 0);
 */
export function volatilityAt(
  surface: VolSurface,
  strike: number,
  expiry: number,
  now: number,
): number {
  if (!(Number.isFinite(strike) && Number.isFinite(expiry) && Number.isFinite(now)))
    throw new FulcrumError('invalid_number', 'strike, expiry and time must be finite numbers');
  const { expiries } = surface;
  const last = expiries.length - 1;
  // The first expiry still ahead of now; earlier rows are skipped.
  let first = 0;
  while (first < last && (expiries[first] as number) <= now) first++;
  if (expiry <= (expiries[first] as number)) return smileAt(surface, first, strike);
  if (expiry >= (expiries[last] as number)) return smileAt(surface, last, strike);
  // expiries[first] < expiry < expiries[last]: find the bracket [i, i + 1] holding it.
  const i = Math.max(first, lastAtOrBelow(expiries, expiry));
  const t0 = ((expiries[i] as number) - now) / YEAR_SECONDS;
  const t1 = ((expiries[i + 1] as number) - now) / YEAR_SECONDS;
  const t = (expiry - now) / YEAR_SECONDS;
  const s0 = smileAt(surface, i, strike);
  const s1 = smileAt(surface, i + 1, strike);
  const w0 = s0 * s0 * t0;
  const w1 = s1 * s1 * t1;
  const w = w0 + ((t - t0) / (t1 - t0)) * (w1 - w0);
  return Math.sqrt(w / t);
}

/** The volatility of row `i` at `strike`: linear between strikes, flat beyond the ends. */
function smileAt(surface: VolSurface, i: number, strike: number): number {
  const { strikes } = surface;
  const row = surface.vols[i] as readonly number[];
  const last = strikes.length - 1;
  if (strike <= (strikes[0] as number)) return row[0] as number;
  if (strike >= (strikes[last] as number)) return row[last] as number;
  const j = lastAtOrBelow(strikes, strike);
  const k0 = strikes[j] as number;
  const k1 = strikes[j + 1] as number;
  const v0 = row[j] as number;
  const v1 = row[j + 1] as number;
  return v0 + ((strike - k0) / (k1 - k0)) * (v1 - v0);
}

/** The last index i with xs[i] <= x, for xs[0] <= x < xs[last] (binary search). */
function lastAtOrBelow(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if ((xs[mid] as number) <= x) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The factor a volatility shock multiplies a volatility by, for an option with
 * `secondsToExpiry` left: 1 + shock·(pivot / max(DTE, floor))^power (Paradex's form).
 * `shock` is signed: +0.5 for Deribit's volatility up, −0.25 for down.
 *
 * @example
 * volShockFactor(0.5, 30 * 86_400); // 1 + 0.5·1 = 1.5 at the 30-day pivot
 * volShockFactor(0.5, 86_400); // 1 + 0.5·30^0.3 ≈ 2.386 for one day left
 */
export function volShockFactor(
  shock: number,
  secondsToExpiry: number,
  vegaPower: VegaPowerConfig = DEFAULT_VEGA_POWER,
): number {
  const days = secondsToExpiry / DAY_SECONDS;
  const power = days < vegaPower.pivotDays ? vegaPower.shortTermPower : vegaPower.longTermPower;
  return 1 + shock * (vegaPower.pivotDays / Math.max(days, vegaPower.floorDays)) ** power;
}

/**
 * The surface after a volatility shock, read at `now`: every volatility of an expiry row times
 * {@link volShockFactor} for that expiry's time left. Reading the shocked surface at a row's
 * expiry gives the shocked volatility of an option there; between rows it interpolates the
 * shocked rows (the portfolio margin shocks each option at its own expiry instead). A shock up
 * may take a volatility past {@link VOLATILITY_MAX}, the limit of quoted surfaces: it is not
 * capped, since a capped shock would understate the scenario. Throws `invalid_config` if the
 * shock would take a volatility to 0 or below.
 *
 * @example
 * shockedSurface(flatSurface(0.8), -0.25, now); // volatility down by 25% × the term scaling
 */
export function shockedSurface(
  surface: VolSurface,
  shock: number,
  now: number,
  vegaPower: VegaPowerConfig = DEFAULT_VEGA_POWER,
): VolSurface {
  const vols = surface.vols.map((row, i) => {
    const factor = volShockFactor(shock, (surface.expiries[i] as number) - now, vegaPower);
    if (!(factor > 0))
      throw new FulcrumError('invalid_config', 'the shock takes volatility to 0 or below', 'shock');
    return row.map((v) => v * factor);
  });
  return { expiries: surface.expiries, strikes: surface.strikes, vols };
}
