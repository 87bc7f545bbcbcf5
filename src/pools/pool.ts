/**
 * A lending pool per asset: cash, scaled supply and borrows, and the cumulative indices that turn
 * scaled balances into amounts.
 *
 * An account's supply is `floor(scaled * supplyIndex / RAY)` and its debt
 * `ceil(scaled * borrowIndex / RAY)`. Interest accrues in O(1) per pool by raising the indices;
 * no account is touched. The borrow rate is not stored: it is a pure function of the pool's
 * balances (its utilization), so changing the balances is what updates it, and it is computed
 * when interest next accrues (as Compound v3 does). The rate in force over an interval is the
 * one the pool's balances set at its start. Every conversion rounds in the venue's favour, which keeps the pool's
 * solvency invariant exact (see {@link poolSurplusRayUnits}): cash plus what borrowers owe is
 * never less than what suppliers and the treasury may claim.
 */
import { assert } from '../base/errors.js';
import type { AssetConfig } from '../domain/asset.js';
import { AMOUNT_MAX, divCeil, divFloor, RAY, WEIGHT_SCALE } from '../math/fixed.js';
import { borrowRateAnnualRay, perSecondRay, utilizationRay } from './interestRateCurve.js';

export interface PoolState {
  /** Tokens held by the venue for this pool, in base units. */
  readonly cash: bigint;
  /** Sum of all scaled supply balances, the treasury's included. */
  readonly supplyScaled: bigint;
  /** Sum of all scaled debt balances. */
  readonly borrowScaled: bigint;
  /** The treasury's share of {@link supplyScaled}: the reserve factor, accumulated. */
  readonly treasuryScaled: bigint;
  /** Cumulative supply index, RAY; starts at 1. */
  readonly supplyIndexRay: bigint;
  /** Cumulative borrow index, RAY; starts at 1. */
  readonly borrowIndexRay: bigint;
  /** Unix seconds of the last accrual. */
  readonly accruedAt: number;
}

/**
 * Bounds that keep every balance within {@link AMOUNT_MAX} (2^128 − 1 base units) whatever
 * the rates and however long the pool runs. A pool's cash plus what its borrowers owe bounds
 * its total supply (the solvency surplus is never negative) and so every balance in it: deposits
 * and borrows that would take it past {@link POOL_VALUE_MAX} (2^127, half the largest amount)
 * are refused, and interest stops there; neither index passes {@link INDEX_MAX_RAY}. Repays,
 * withdrawals and liquidations are never refused for it: a repay may add a unit of rounding,
 * which the half left below {@link AMOUNT_MAX} has room for many times over.
 */
export const POOL_VALUE_MAX = (AMOUNT_MAX + 1n) / 2n;

/** Largest supply or borrow index: a billion times its start (RAY). */
export const INDEX_MAX_RAY = 10n ** 9n * RAY;

/** The pool's cash plus what its borrowers owe (rounded up), base units. */
export function poolValue(pool: PoolState): bigint {
  return pool.cash + totalDebt(pool);
}

/** A pool with nothing in it, as listed at `time`. */
export function emptyPool(time: number): PoolState {
  return {
    cash: 0n,
    supplyScaled: 0n,
    borrowScaled: 0n,
    treasuryScaled: 0n,
    supplyIndexRay: RAY,
    borrowIndexRay: RAY,
    accruedAt: time,
  };
}

/** What one accrual did, for the event. Amounts in base units × RAY (exact). */
export interface Accrual {
  readonly pool: PoolState;
  readonly seconds: number;
  /** Interest borrowers now owe in addition, base units × RAY. */
  readonly interestRayUnits: bigint;
  /** Scaled supply minted to the treasury. */
  readonly treasuryMintedScaled: bigint;
  /** The rates in force over the interval (zero when nothing accrued). */
  readonly rates: PoolRates | null;
  /** Interest stopped short of the rate at a bound: the pool's value or an index. */
  readonly capped: boolean;
}

/**
 * Accrues interest from `pool.accruedAt` to `now` at the rate the pool's balances set. Pure:
 * returns a new pool.
 * The borrow index grows by `rate * seconds` (rounded up); exactly the interest that growth
 * charges is shared out: `1 - reserveFactor` of it raises the supply index (rounded down) and the
 * rest is minted to the treasury as scaled supply (rounded down).
 */
export function accrue(pool: PoolState, config: AssetConfig, now: number): Accrual {
  assert(now >= pool.accruedAt, 'accrue: time went backwards');
  const seconds = now - pool.accruedAt;
  if (seconds === 0 || pool.borrowScaled === 0n) {
    const moved = seconds === 0 ? pool : { ...pool, accruedAt: now };
    return {
      pool: moved,
      seconds,
      interestRayUnits: 0n,
      treasuryMintedScaled: 0n,
      rates: null,
      capped: false,
    };
  }
  const rates = poolRates(pool, config);
  const byRate = divCeil(pool.borrowIndexRay * rates.borrowRatePerSecondRay * BigInt(seconds), RAY);
  const indexGrowth = minGrowth(byRate, growthRoom(pool));
  const interestRayUnits = pool.borrowScaled * indexGrowth;
  const treasuryRayUnits = divFloor(interestRayUnits * config.reserveFactor, WEIGHT_SCALE);
  const suppliersRayUnits = interestRayUnits - treasuryRayUnits;
  // The supply index spreads the suppliers' share over all scaled supply (the treasury's stake
  // earns like any other). With no supply at all the treasury takes the whole interest.
  const supplyScaled = pool.supplyScaled;
  const supplyIndexGrowth = supplyScaled === 0n ? 0n : divFloor(suppliersRayUnits, supplyScaled);
  const supplyIndexRay = pool.supplyIndexRay + supplyIndexGrowth;
  const treasuryShare = supplyScaled === 0n ? interestRayUnits : treasuryRayUnits;
  const treasuryMintedScaled = divFloor(treasuryShare, supplyIndexRay);
  return {
    pool: {
      ...pool,
      supplyScaled: pool.supplyScaled + treasuryMintedScaled,
      treasuryScaled: pool.treasuryScaled + treasuryMintedScaled,
      supplyIndexRay,
      borrowIndexRay: pool.borrowIndexRay + indexGrowth,
      accruedAt: now,
    },
    seconds,
    interestRayUnits,
    treasuryMintedScaled,
    rates,
    capped: indexGrowth < byRate,
  };
}

/**
 * The most the borrow index may grow at once within the bounds: the pool's value (what the
 * borrowers owe, rounded up, plus cash, at most {@link POOL_VALUE_MAX}), the borrow index, and
 * the supply index (whose growth is at most the borrow index's growth times borrowScaled over
 * supplyScaled, since the suppliers' share never exceeds the interest).
 */
function growthRoom(pool: PoolState): bigint {
  const { borrowScaled, supplyScaled, borrowIndexRay, supplyIndexRay } = pool;
  const byValue = divFloor((POOL_VALUE_MAX - pool.cash) * RAY, borrowScaled) - borrowIndexRay;
  let room = minGrowth(byValue, INDEX_MAX_RAY - borrowIndexRay);
  if (supplyScaled > 0n) {
    room = minGrowth(room, divFloor((INDEX_MAX_RAY - supplyIndexRay) * supplyScaled, borrowScaled));
  }
  return room > 0n ? room : 0n;
}

function minGrowth(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** A pool's utilization and the rates it sets, all RAY. */
export interface PoolRates {
  readonly utilizationRay: bigint;
  readonly borrowRateAnnualRay: bigint;
  readonly borrowRatePerSecondRay: bigint;
}

/** The rates the pool's utilization sets now. */
export function poolRates(pool: PoolState, config: AssetConfig): PoolRates {
  const u = poolUtilizationRay(pool);
  const annual = borrowRateAnnualRay(config.interest, u);
  return {
    utilizationRay: u,
    borrowRateAnnualRay: annual,
    borrowRatePerSecondRay: perSecondRay(annual),
  };
}

/** Utilization of the pool in RAY. */
export function poolUtilizationRay(pool: PoolState): bigint {
  return utilizationRay(pool.cash, totalDebt(pool));
}

/** Supply amount of a scaled supply balance: rounded down. */
export function supplyAmount(scaled: bigint, pool: PoolState): bigint {
  return divFloor(scaled * pool.supplyIndexRay, RAY);
}

/** Debt amount of a scaled debt balance: rounded up. */
export function debtAmount(scaled: bigint, pool: PoolState): bigint {
  return divCeil(scaled * pool.borrowIndexRay, RAY);
}

/** Total supply of the pool (suppliers and treasury), rounded down. */
export function totalSupply(pool: PoolState): bigint {
  return supplyAmount(pool.supplyScaled, pool);
}

/** Total debt owed to the pool, rounded up. */
export function totalDebt(pool: PoolState): bigint {
  return debtAmount(pool.borrowScaled, pool);
}

/** Scaled supply credited for depositing `amount`: rounded down. */
export function scaledCreditForDeposit(amount: bigint, pool: PoolState): bigint {
  return divFloor(amount * RAY, pool.supplyIndexRay);
}

/** Scaled supply debited for withdrawing `amount`: rounded up. */
export function scaledDebitForWithdraw(amount: bigint, pool: PoolState): bigint {
  return divCeil(amount * RAY, pool.supplyIndexRay);
}

/** Scaled debt added for borrowing `amount`: rounded up. */
export function scaledDebtForBorrow(amount: bigint, pool: PoolState): bigint {
  return divCeil(amount * RAY, pool.borrowIndexRay);
}

/** Scaled debt removed by repaying `amount`: rounded down. */
export function scaledDebtForRepay(amount: bigint, pool: PoolState): bigint {
  return divFloor(amount * RAY, pool.borrowIndexRay);
}

/**
 * The pool's surplus in base units × RAY: `cash·RAY + borrowScaled·borrowIndex −
 * supplyScaled·supplyIndex`. Exact, with no rounding; never negative (value is never created),
 * and it grows only by the rounding the venue keeps.
 */
export function poolSurplusRayUnits(pool: PoolState): bigint {
  return (
    pool.cash * RAY +
    pool.borrowScaled * pool.borrowIndexRay -
    pool.supplyScaled * pool.supplyIndexRay
  );
}
