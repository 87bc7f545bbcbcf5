/**
 * The simulator's conversions between its float figures (analytics, decisions) and the engine's
 * exact amounts: prices to PRICE_SCALE, whole units to base units.
 */
import { PRICE_SCALE } from '../math/fixed.js';

/** Base units of a USDC unit (6 decimals). */
export const USDC_UNIT = 1e6;

/** A float price as PRICE_SCALE, to nine significant digits; never zero. */
export function toPrice(x: number): bigint {
  if (!(x > 0) || !Number.isFinite(x)) return 1n;
  const exponent = Math.floor(Math.log10(x));
  const digits = 8 - exponent;
  if (digits <= 0) return BigInt(Math.round(x / 10 ** -digits)) * 10n ** BigInt(18 - digits);
  const scaled = BigInt(Math.round(x * 10 ** Math.min(digits, 18)));
  const price = scaled * 10n ** BigInt(18 - Math.min(digits, 18));
  return price > 0n ? price : 1n;
}

/** Whole USDC as base units, rounded down; zero for anything not above zero. */
export function units6(x: number): bigint {
  return x > 0 ? BigInt(Math.floor(x * USDC_UNIT)) : 0n;
}

/** Whole units as 18-decimal base units, to about fifteen significant digits. */
export function units18(x: number): bigint {
  if (!(x > 0)) return 0n;
  const text = x.toFixed(12);
  const [whole = '0', fraction = ''] = text.split('.');
  return BigInt(whole) * 10n ** 18n + BigInt(fraction.padEnd(18, '0').slice(0, 18));
}

/** A price or value numerator in PRICE_SCALE as a float. */
export function priceFloat(x: bigint): number {
  return Number(x) / Number(PRICE_SCALE);
}
