/**
 * Fixed-point scales and explicit rounding.
 *
 * Every quantity in Fulcrum is a bigint in a named scale. Every division says which way it
 * rounds; the engine picks the direction that favours the venue (collateral and supply round
 * down, debt and requirements round up). Nothing here reads a clock or allocates beyond the
 * bigints themselves.
 */
import { assert } from '../base/errors.js';

/** Prices: quote units per whole unit of an asset, 18 decimals. */
export const PRICE_DECIMALS = 18;
export const PRICE_SCALE = 10n ** 18n;

/** Values in the quote unit (for example USD), 18 decimals. */
export const VALUE_DECIMALS = 18;
export const VALUE_SCALE = 10n ** 18n;

/** Collateral and liability weights, 6 decimals (parts per million). */
export const WEIGHT_DECIMALS = 6;
export const WEIGHT_SCALE = 10n ** 6n;

/** Health factors and other ratios reported to people, 18 decimals (WAD). */
export const HEALTH_DECIMALS = 18;
export const HEALTH_SCALE = 10n ** 18n;

/** Interest rates, utilization and cumulative indices, 27 decimals (RAY). */
export const RAY_DECIMALS = 27;
export const RAY = 10n ** 27n;

/** Largest amount of one asset, in base units, that any balance or command may hold: 2^128 - 1. */
export const AMOUNT_MAX = (1n << 128n) - 1n;

/**
 * Floor division, also for negative numerators (bigint `/` truncates toward zero).
 *
 * @example
 * divFloor(-7n, 2n); // -4n
 */
export function divFloor(numerator: bigint, denominator: bigint): bigint {
  assert(denominator > 0n, 'divFloor: denominator must be positive');
  const quotient = numerator / denominator;
  return numerator < 0n && quotient * denominator !== numerator ? quotient - 1n : quotient;
}

/**
 * Ceiling division, also for negative numerators.
 *
 * @example
 * divCeil(7n, 2n); // 4n
 */
export function divCeil(numerator: bigint, denominator: bigint): bigint {
  assert(denominator > 0n, 'divCeil: denominator must be positive');
  const quotient = numerator / denominator;
  return numerator > 0n && quotient * denominator !== numerator ? quotient + 1n : quotient;
}

/** `a * b / denominator`, rounded down. */
export function mulDivFloor(a: bigint, b: bigint, denominator: bigint): bigint {
  return divFloor(a * b, denominator);
}

/** `a * b / denominator`, rounded up. */
export function mulDivCeil(a: bigint, b: bigint, denominator: bigint): bigint {
  return divCeil(a * b, denominator);
}

/** The smaller of two bigints. */
export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** The larger of two bigints. */
export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** 10^n as a bigint, from a small cache (decimals never exceed 36 in Fulcrum). */
export function pow10(n: number): bigint {
  const cached = POW10[n];
  assert(cached !== undefined, `pow10: exponent ${n} out of range`);
  return cached;
}

const POW10: readonly bigint[] = Array.from({ length: 80 }, (_, i) => 10n ** BigInt(i));
