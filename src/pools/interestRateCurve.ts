/**
 * The kinked (two-slope) borrow-rate curve of Aave v3 and Compound, and the supply rate it implies.
 */
import { assert } from '../base/errors.js';
import type { InterestRateCurve } from '../domain/asset.js';
import { divCeil, divFloor, RAY, WEIGHT_SCALE } from '../math/fixed.js';
import { SECONDS_PER_YEAR } from '../math/time.js';

/**
 * Utilization `borrows / (cash + borrows)` in RAY, rounded up (a higher utilization charges a
 * higher rate: the venue's side). Zero when nothing is lent out.
 *
 * @example
 * utilizationRay(20n, 80n); // 0.8 RAY
 */
export function utilizationRay(cash: bigint, borrows: bigint): bigint {
  assert(cash >= 0n && borrows >= 0n, 'utilization of negative balances');
  if (borrows === 0n) return 0n;
  return divCeil(borrows * RAY, cash + borrows);
}

/**
 * Annual borrow rate in RAY at utilization `u` (RAY), rounded up.
 * Below the kink `base + slope1 * u / u*`; above it `base + slope1 + slope2 * (u - u*) / (1 - u*)`.
 *
 * @example
 * // U* = 80%, base 0, slope1 4%, slope2 75%: at U = 90% the rate is 4% + 75% / 2 = 41.5%.
 */
export function borrowRateAnnualRay(curve: InterestRateCurve, u: bigint): bigint {
  assert(u >= 0n && u <= RAY, 'utilization outside [0, 1]');
  const kink = curve.optimalUtilizationRay;
  if (u <= kink) return curve.baseRateRay + divCeil(curve.slope1Ray * u, kink);
  return curve.baseRateRay + curve.slope1Ray + divCeil(curve.slope2Ray * (u - kink), RAY - kink);
}

/** Annual rate (RAY) to a per-second rate (RAY), rounded up: interest accrues by the second. */
export function perSecondRay(annualRay: bigint): bigint {
  return divCeil(annualRay, SECONDS_PER_YEAR);
}

/**
 * Annual supply rate in RAY, rounded down: what borrowers pay, spread over all supply, less the
 * reserve factor. Reported to people; the supply index itself grows from interest actually paid.
 */
export function supplyRateAnnualRay(
  borrowRateRay: bigint,
  u: bigint,
  reserveFactor: bigint,
): bigint {
  return divFloor(borrowRateRay * u * (WEIGHT_SCALE - reserveFactor), RAY * WEIGHT_SCALE);
}
