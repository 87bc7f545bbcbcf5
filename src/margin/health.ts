/**
 * Cross-margin health of one account (or sub-account): one snapshot, three tiers.
 *
 * For tier t: weighted collateral C_t = Σ amount × price_t × assetWeight_t over deposits,
 * weighted liabilities L_t = Σ debt × price_t × liabilityWeight_t over borrows, and
 * health_t = C_t / L_t (none without debt). Initial (to borrow, withdraw or transfer out) values
 * deposits at min(oracle, stable) and debts at max(oracle, stable); liquidation-end and
 * maintenance use the oracle price. Maintenance health below 1 makes an account liquidatable.
 * With liability weight 1 and maintenance weight equal to Aave's liquidation threshold,
 * maintenance health is Aave's health factor.
 *
 * The snapshot keeps exact numerators over one common denominator; decisions compare them
 * exactly, and reported figures are rounded once, in the venue's favour.
 */
import type { Tier } from '../domain/asset.js';
import { divCeil, divFloor, HEALTH_SCALE, pow10, WEIGHT_SCALE } from '../math/fixed.js';
import { type AssetRisk, NORM_DECIMALS, TIER_INDEX } from './assetRisk.js';

/** One position of an account: a signed amount in base units (negative = owed). */
export interface Position {
  readonly risk: AssetRisk;
  readonly amount: bigint;
}

/** Denominator of value numerators: 10^NORM_DECIMALS (values are then in VALUE_SCALE). */
const VALUE_DENOMINATOR = pow10(NORM_DECIMALS);
/** Denominator of weighted numerators. */
const WEIGHTED_DENOMINATOR = VALUE_DENOMINATOR * WEIGHT_SCALE;

/** The figures of one tier, in VALUE_SCALE (quote) and HEALTH_SCALE. */
export interface TierHealth {
  /** Σ deposits × price × asset weight, rounded down. */
  readonly weightedCollateral: bigint;
  /** Σ debts × price × liability weight, rounded up. */
  readonly weightedLiabilities: bigint;
  /** Weighted collateral minus weighted liabilities, rounded down; negative when short. */
  readonly freeCollateral: bigint;
  /** C / L rounded down, HEALTH_SCALE; null when there is no debt. */
  readonly healthFactor: bigint | null;
}

export class HealthSnapshot {
  /** Exact Σ deposit × oracle price numerators (over VALUE_DENOMINATOR). */
  readonly collateralValueNum: bigint;
  /** Exact Σ debt × oracle price numerators. */
  readonly liabilityValueNum: bigint;
  /** Exact weighted collateral numerators per tier (over WEIGHTED_DENOMINATOR). */
  readonly collateralNum: readonly [bigint, bigint, bigint];
  /** Exact weighted liability numerators per tier. */
  readonly liabilityNum: readonly [bigint, bigint, bigint];

  constructor(
    collateralValueNum: bigint,
    liabilityValueNum: bigint,
    collateralNum: readonly [bigint, bigint, bigint],
    liabilityNum: readonly [bigint, bigint, bigint],
  ) {
    this.collateralValueNum = collateralValueNum;
    this.liabilityValueNum = liabilityValueNum;
    this.collateralNum = collateralNum;
    this.liabilityNum = liabilityNum;
  }

  /** True when the account owes anything. */
  get hasDebt(): boolean {
    return this.liabilityValueNum > 0n;
  }

  /** Value of all deposits at the oracle price, VALUE_SCALE, rounded down. */
  get collateralValue(): bigint {
    return divFloor(this.collateralValueNum, VALUE_DENOMINATOR);
  }

  /** Value of all debts at the oracle price, VALUE_SCALE, rounded up. */
  get liabilityValue(): bigint {
    return divCeil(this.liabilityValueNum, VALUE_DENOMINATOR);
  }

  /** Exact test of health_t >= 1 (true without debt). */
  meets(tier: Tier): boolean {
    const i = TIER_INDEX[tier];
    return this.collateralNum[i] >= this.liabilityNum[i];
  }

  /** Exact free collateral numerator of a tier (over the weighted denominator); may be negative. */
  freeNum(tier: Tier): bigint {
    const i = TIER_INDEX[tier];
    return this.collateralNum[i] - this.liabilityNum[i];
  }

  /** health_t in HEALTH_SCALE, rounded down; null without debt. */
  healthFactor(tier: Tier): bigint | null {
    const i = TIER_INDEX[tier];
    const liabilities = this.liabilityNum[i];
    if (liabilities === 0n) return null;
    return divFloor(this.collateralNum[i] * HEALTH_SCALE, liabilities);
  }

  /** All figures of one tier. */
  tier(tier: Tier): TierHealth {
    const i = TIER_INDEX[tier];
    return {
      weightedCollateral: divFloor(this.collateralNum[i], WEIGHTED_DENOMINATOR),
      weightedLiabilities: divCeil(this.liabilityNum[i], WEIGHTED_DENOMINATOR),
      freeCollateral: divFloor(this.collateralNum[i] - this.liabilityNum[i], WEIGHTED_DENOMINATOR),
      healthFactor: this.healthFactor(tier),
    };
  }
}

/** Denominators, for what-if helpers that work on the numerators. */
export const HEALTH_DENOMINATORS = {
  value: VALUE_DENOMINATOR,
  weighted: WEIGHTED_DENOMINATOR,
} as const;

/**
 * Evaluates the health of a set of positions: one pass, one multiplication per position and
 * figure, no division.
 *
 * @example
 * const snapshot = evaluateHealth([{ risk: eth, amount: 10n * 10n ** 18n },
 *   { risk: usdc, amount: -5000n * 10n ** 6n }]);
 * snapshot.healthFactor('maintenance'); // 3.3 × HEALTH_SCALE for weight 0.825 at $2000
 */
export function evaluateHealth(positions: readonly Position[]): HealthSnapshot {
  let value = 0n;
  let debtValue = 0n;
  let c0 = 0n;
  let c1 = 0n;
  let c2 = 0n;
  let l0 = 0n;
  let l1 = 0n;
  let l2 = 0n;
  for (const { risk, amount } of positions) {
    if (amount > 0n) {
      const k = risk.collateralPerUnit;
      value += amount * risk.valuePerUnit;
      c0 += amount * k[0];
      c1 += amount * k[1];
      c2 += amount * k[2];
    } else if (amount < 0n) {
      const owed = -amount;
      const k = risk.liabilityPerUnit;
      debtValue += owed * risk.valuePerUnit;
      l0 += owed * k[0];
      l1 += owed * k[1];
      l2 += owed * k[2];
    }
  }
  return new HealthSnapshot(value, debtValue, [c0, c1, c2], [l0, l1, l2]);
}
