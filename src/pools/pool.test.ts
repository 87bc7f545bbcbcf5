import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AssetConfig, parseAssetConfig } from '../domain/asset.js';
import { RAY } from '../math/fixed.js';
import { SECONDS_PER_YEAR } from '../math/time.js';
import { perSecondRay } from './interestRateCurve.js';
import {
  accrue,
  debtAmount,
  emptyPool,
  type PoolState,
  poolSurplusRayUnits,
  scaledCreditForDeposit,
  scaledDebitForWithdraw,
  scaledDebtForBorrow,
  scaledDebtForRepay,
  supplyAmount,
  totalDebt,
  totalSupply,
} from './pool.js';

/** A pool whose borrow rate is a flat 10% a year at any utilization, reserve factor 20%. */
const flatTenPercent: AssetConfig = parseAssetConfig(
  {
    symbol: 'USDC',
    decimals: 6,
    initialWeight: '0.85',
    maintenanceWeight: '0.875',
    reserveFactor: '0.2',
    interest: { baseRate: '0.1', slope1: '0', slope2: '0', optimalUtilization: '0.8' },
  },
  'usdc',
);

/** 1000 supplied, 200 borrowed, 800 in cash, indices at 1. */
function lentPool(): PoolState {
  return { ...emptyPool(0), cash: 800n, supplyScaled: 1000n, borrowScaled: 200n };
}

describe('accrue', () => {
  it('charges a year of 10% on 200 borrowed and shares it 80/20 with the treasury', () => {
    const { pool, interestRayUnits } = accrue(lentPool(), flatTenPercent, Number(SECONDS_PER_YEAR));
    const ratePerSecond = perSecondRay((RAY * 10n) / 100n); // rounded up
    // borrow index grows by rate × seconds (the index starts at 1 RAY, so no extra rounding)
    expect(pool.borrowIndexRay).toBe(RAY + ratePerSecond * SECONDS_PER_YEAR);
    expect(interestRayUnits).toBe(200n * ratePerSecond * SECONDS_PER_YEAR);
    // debt: 200 × 1.1 = 220 (a hair more, rounded up)
    expect(totalDebt(pool)).toBe(221n);
    // suppliers get 80% of 20 = 16 on 1000: index 1.016 (rounded down), the treasury 4
    expect(supplyAmount(1000n, pool)).toBe(1016n);
    expect(supplyAmount(pool.treasuryScaled, pool)).toBe(3n); // 4 minted at 1.016, rounded down
    expect(pool.accruedAt).toBe(Number(SECONDS_PER_YEAR));
  });

  it('does nothing but move the clock without borrows', () => {
    const idle = { ...emptyPool(0), cash: 5n, supplyScaled: 5n };
    const { pool, interestRayUnits } = accrue(idle, flatTenPercent, 1000);
    expect(interestRayUnits).toBe(0n);
    expect(pool).toEqual({ ...idle, accruedAt: 1000 });
  });

  it('keeps the pool solvent and the indices rising for any pool and time step', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.integer({ min: 0, max: 10 * 31_536_000 }),
        (cash, supply, borrowFraction, seconds) => {
          const borrow = borrowFraction % (supply + 1n);
          const pool = {
            ...emptyPool(0),
            cash: cash + supply - borrow,
            supplyScaled: supply,
            borrowScaled: borrow,
          };
          const next = accrue(pool, flatTenPercent, seconds).pool;
          expect(next.borrowIndexRay >= pool.borrowIndexRay).toBe(true);
          expect(next.supplyIndexRay >= pool.supplyIndexRay).toBe(true);
          expect(poolSurplusRayUnits(next) >= poolSurplusRayUnits(pool)).toBe(true);
        },
      ),
    );
  });
});

describe('scaled conversions round in the venue favour', () => {
  const index = (RAY * 3n) / 2n; // 1.5
  const pool: PoolState = {
    ...emptyPool(0),
    supplyIndexRay: index,
    borrowIndexRay: index,
  };

  it.each([
    // amount, deposit credit, withdraw debit, borrow debt, repay reduction
    [3n, 2n, 2n, 2n, 2n], // 3 / 1.5 = 2 exactly
    [4n, 2n, 3n, 3n, 2n], // 4 / 1.5 = 2.67
    [1n, 0n, 1n, 1n, 0n], // 1 / 1.5 = 0.67
  ])('amount %s', (amount, credit, debit, debt, reduction) => {
    expect(scaledCreditForDeposit(amount, pool)).toBe(credit);
    expect(scaledDebitForWithdraw(amount, pool)).toBe(debit);
    expect(scaledDebtForBorrow(amount, pool)).toBe(debt);
    expect(scaledDebtForRepay(amount, pool)).toBe(reduction);
  });

  it('a deposit is never worth more than what was paid, a borrow never owes less', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        fc.bigInt({ min: RAY, max: 10n * RAY }),
        (amount, i) => {
          const p: PoolState = { ...pool, supplyIndexRay: i, borrowIndexRay: i };
          expect(supplyAmount(scaledCreditForDeposit(amount, p), p) <= amount).toBe(true);
          expect(debtAmount(scaledDebtForBorrow(amount, p), p) >= amount).toBe(true);
        },
      ),
    );
  });

  it('totals are the scaled sums at the index', () => {
    const p: PoolState = { ...pool, supplyScaled: 10n, borrowScaled: 3n };
    expect(totalSupply(p)).toBe(15n);
    expect(totalDebt(p)).toBe(5n); // 4.5 rounded up
  });
});
