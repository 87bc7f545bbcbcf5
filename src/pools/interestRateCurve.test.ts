import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InterestRateCurve } from '../domain/asset.js';
import { RAY, WEIGHT_SCALE } from '../math/fixed.js';
import { SECONDS_PER_YEAR } from '../math/time.js';
import {
  borrowRateAnnualRay,
  perSecondRay,
  supplyRateAnnualRay,
  utilizationRay,
} from './interestRateCurve.js';

const pct = (n: number) => (RAY * BigInt(Math.round(n * 10_000))) / 1_000_000n;

/** Aave v3's example listing: U* 80%, base 0.25%, slope1 3%, slope2 75%. */
const aaveExample: InterestRateCurve = {
  baseRateRay: pct(0.25),
  slope1Ray: pct(3),
  slope2Ray: pct(75),
  optimalUtilizationRay: pct(80),
};

describe('borrowRateAnnualRay', () => {
  it.each([
    // utilization %, expected rate % (derivation)
    [0, 0.25], // base
    [40, 1.75], // 0.25 + 3 × 40/80
    [80, 3.25], // 0.25 + 3: the kink
    [90, 40.75], // 0.25 + 3 + 75 × 10/20
    [100, 78.25], // 0.25 + 3 + 75
  ])('at %d%% utilization is %d%%', (u, rate) => {
    expect(borrowRateAnnualRay(aaveExample, pct(u))).toBe(pct(rate));
  });

  it('never decreases with utilization and rounds up', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: RAY }), fc.bigInt({ min: 0n, max: RAY }), (a, b) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        expect(borrowRateAnnualRay(aaveExample, lo) <= borrowRateAnnualRay(aaveExample, hi)).toBe(
          true,
        );
      }),
    );
    // 3% × 1e-27 / 0.8 is a fraction of a RAY unit: it rounds up to one unit above the base.
    expect(borrowRateAnnualRay(aaveExample, 1n)).toBe(pct(0.25) + 1n);
  });
});

describe('utilization and supply rate', () => {
  it.each([
    [100n, 0n, 0n],
    [80n, 20n, pct(20)],
    [0n, 50n, RAY],
    [2n, 1n, RAY / 3n + 1n], // one third, rounded up
  ])('cash %s, borrows %s', (cash, borrows, expected) => {
    expect(utilizationRay(cash, borrows)).toBe(expected);
  });

  it('supply rate is the borrow rate spread over supply, less the reserve factor', () => {
    // 10% borrow rate at 50% utilization with a 20% reserve factor: 10 × 0.5 × 0.8 = 4%
    expect(supplyRateAnnualRay(pct(10), pct(50), (WEIGHT_SCALE * 20n) / 100n)).toBe(pct(4));
  });

  it('per-second rate rounds up so a year of seconds charges at least the annual rate', () => {
    const perSecond = perSecondRay(pct(10));
    expect(perSecond * SECONDS_PER_YEAR >= pct(10)).toBe(true);
    expect((perSecond - 1n) * SECONDS_PER_YEAR < pct(10)).toBe(true);
  });
});
