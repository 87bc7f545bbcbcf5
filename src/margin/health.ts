/**
 * Cross-margin health of one account (or sub-account): one snapshot, three tiers.
 *
 * For tier t: weighted collateral C_t = Σ amount × price_t × assetWeight_t over deposits,
 * weighted liabilities L_t = Σ debt × price_t × liabilityWeight_t over borrows, and
 * health_t = C_t / L_t (none without debt). Initial (to borrow, withdraw or transfer out) values
 * deposits at min(oracle, stable) and debts at max(oracle, stable); liquidation-end and
 * maintenance use the oracle price; an asset whose oracle sets `confidenceWidening` has every
 * tier's deposit price lowered and debt price raised by that multiple of its confidence
 * (`margin/assetRisk.ts`). Maintenance health below 1 makes an account liquidatable.
 * With liability weight 1 and maintenance weight equal to Aave's liquidation threshold,
 * maintenance health is Aave's health factor.
 *
 * The snapshot keeps exact numerators over one common denominator; decisions compare them
 * exactly, and reported figures are rounded once, in the venue's favour.
 */
import type { Tier } from '../domain/asset.js';
import { divCeil, divFloor, HEALTH_SCALE, pow10, WEIGHT_SCALE } from '../math/fixed.js';
import { type AssetRisk, NORM_DECIMALS, TIER_INDEX } from './assetRisk.js';

/**
 * What an account's other holdings (its derivatives) add to a tier (0 initial, 1
 * liquidation-end, 2 maintenance), as weighted numerators over the snapshot's own denominator:
 * collateral (positive profit, weighted) and liabilities (losses and requirements), computed
 * when the tier is first asked for. The initial tier's collateral is capped at `profitCap` of
 * the balances' own initial weighted collateral.
 */
export interface ExtraMargin {
  tier(index: 0 | 1 | 2): readonly [collateral: bigint, liabilities: bigint];
  /**
   * The tier as floats, with the magnitude its float error is relative to: a screen for
   * `meets`; null when no float figure is offered (the exact one decides).
   */
  floatTier?(
    index: 0 | 1 | 2,
  ): readonly [collateral: number, liabilities: number, magnitude: number] | null;
  /** WEIGHT_SCALE; null for no cap. */
  readonly profitCap: bigint | null;
}

/** One position of an account: a signed amount in base units (negative = owed). */
export interface Position {
  readonly risk: AssetRisk;
  readonly amount: bigint;
}

/** Relative band of the float screen in `meets`: far beyond its rounding error. */
const SCREEN_BAND = 1e-9;

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

/**
 * The health of one account at one set of prices. Each tier is summed on first use, in one pass
 * over the positions with one multiplication per position, and kept: a borrow check pays only
 * for the initial tier, a liquidation scan only for maintenance, a report for all of them.
 * A snapshot holds its own position list (amounts and risk factors, which are never changed in
 * place), so it stays true to the moment it was made.
 */
export class HealthSnapshot {
  readonly positions: readonly Position[];
  /** Bit i set once tier i is summed. Plain fields, not arrays: no allocation on the hot path. */
  private summed = 0;
  private c0 = 0n;
  private l0 = 0n;
  private c1 = 0n;
  private l1 = 0n;
  private c2 = 0n;
  private l2 = 0n;
  private values: readonly [bigint, bigint] | undefined;
  /** What derivatives add; null for an account of balances only. */
  readonly extra: ExtraMargin | null;

  constructor(positions: readonly Position[], extra: ExtraMargin | null = null) {
    this.positions = positions;
    this.extra = extra;
  }

  /** Exact weighted collateral numerator of a tier (over the weighted denominator). */
  collateralNum(tier: Tier): bigint {
    const index = TIER_INDEX[tier];
    this.sum(index);
    return index === 0 ? this.c0 : index === 1 ? this.c1 : this.c2;
  }

  /** Exact weighted liability numerator of a tier (over the weighted denominator). */
  liabilityNum(tier: Tier): bigint {
    const index = TIER_INDEX[tier];
    this.sum(index);
    return index === 0 ? this.l0 : index === 1 ? this.l1 : this.l2;
  }

  /** Exact Σ deposit × oracle price numerator (over the value denominator). */
  get collateralValueNum(): bigint {
    return this.valueSums()[0];
  }

  /** Exact Σ debt × oracle price numerator (over the value denominator). */
  get liabilityValueNum(): bigint {
    return this.valueSums()[1];
  }

  /** True when the account owes anything, or carries a derivatives loss or requirement. */
  get hasDebt(): boolean {
    if (this.extra !== null && this.extra.tier(2)[1] > 0n) return true;
    return this.positions.some((p) => p.amount < 0n);
  }

  /** Value of all deposits at the oracle price, VALUE_SCALE, rounded down. */
  get collateralValue(): bigint {
    return divFloor(this.collateralValueNum, VALUE_DENOMINATOR);
  }

  /** Value of all debts at the oracle price, VALUE_SCALE, rounded up. */
  get liabilityValue(): bigint {
    return divCeil(this.liabilityValueNum, VALUE_DENOMINATOR);
  }

  /**
   * Exact test of health_t >= 1 (true without debt). A float screen decides first when its
   * margin from the threshold is far beyond its error (relative 10^-9 of the magnitudes summed:
   * each float sum of a few dozen products errs by a few 2^-53 of them); otherwise, and always
   * once the tier's exact sums are known, the exact comparison decides: the answer is the exact
   * one either way.
   */
  meets(tier: Tier): boolean {
    const index = TIER_INDEX[tier];
    if ((this.summed & (1 << index)) === 0) {
      const screened = this.screen(index);
      if (screened !== null) return screened;
    }
    return this.collateralNum(tier) >= this.liabilityNum(tier);
  }

  /** The float screen of {@link meets}: true or false when clear of the band, null otherwise. */
  private screen(index: 0 | 1 | 2): boolean | null {
    let collateral = 0;
    let liabilities = 0;
    const { positions } = this;
    for (let i = 0; i < positions.length; i++) {
      const { risk, amount } = positions[i] as Position;
      if (amount > 0n)
        collateral += Number(amount) * (risk.collateralPerUnitFloat[index] as number);
      else if (amount < 0n)
        liabilities -= Number(amount) * (risk.liabilityPerUnitFloat[index] as number);
    }
    const { extra } = this;
    if (extra === null) return screenSums(collateral, liabilities, undefined, null, index);
    const tier = extra.floatTier?.(index) ?? null;
    if (tier === null) return null;
    return screenSums(collateral, liabilities, tier, extra.profitCap, index);
  }

  /** Exact free collateral numerator of a tier (over the weighted denominator); may be negative. */
  freeNum(tier: Tier): bigint {
    return this.collateralNum(tier) - this.liabilityNum(tier);
  }

  /** health_t in HEALTH_SCALE, rounded down; null without debt. */
  healthFactor(tier: Tier): bigint | null {
    const collateral = this.collateralNum(tier);
    const liabilities = this.liabilityNum(tier);
    if (liabilities === 0n) return null;
    // Both sides are non-negative, so bigint division (toward zero) is the floor.
    return (collateral * HEALTH_SCALE) / liabilities;
  }

  /** All figures of one tier. */
  tier(tier: Tier): TierHealth {
    const collateral = this.collateralNum(tier);
    const liabilities = this.liabilityNum(tier);
    return {
      weightedCollateral: divFloor(collateral, WEIGHTED_DENOMINATOR),
      weightedLiabilities: divCeil(liabilities, WEIGHTED_DENOMINATOR),
      freeCollateral: divFloor(collateral - liabilities, WEIGHTED_DENOMINATOR),
      healthFactor: this.healthFactor(tier),
    };
  }

  /** Sums tier `index` once: one pass, one multiplication per position. */
  private sum(index: 0 | 1 | 2): void {
    const bit = 1 << index;
    if ((this.summed & bit) !== 0) return;
    let collateral = 0n;
    let liabilities = 0n;
    const { positions } = this;
    // An indexed loop: this is the hot path of every margin check and liquidation scan.
    for (let i = 0; i < positions.length; i++) {
      const { risk, amount } = positions[i] as Position;
      if (amount > 0n) collateral += amount * risk.collateralPerUnit[index];
      else if (amount < 0n) liabilities -= amount * risk.liabilityPerUnit[index];
    }
    const { extra } = this;
    if (extra !== null) {
      const [extraCollateral, extraLiabilities] = extra.tier(index);
      let profit = extraCollateral;
      if (index === 0 && extra.profitCap !== null) {
        const cap = (collateral * extra.profitCap) / WEIGHT_SCALE;
        if (profit > cap) profit = cap;
      }
      collateral += profit;
      liabilities += extraLiabilities;
    }
    if (index === 0) {
      this.c0 = collateral;
      this.l0 = liabilities;
    } else if (index === 1) {
      this.c1 = collateral;
      this.l1 = liabilities;
    } else {
      this.c2 = collateral;
      this.l2 = liabilities;
    }
    this.summed |= bit;
  }

  private valueSums(): readonly [bigint, bigint] {
    if (this.values !== undefined) return this.values;
    let value = 0n;
    let debtValue = 0n;
    for (const { risk, amount } of this.positions) {
      if (amount > 0n) value += amount * risk.valuePerUnit;
      else if (amount < 0n) debtValue -= amount * risk.valuePerUnit;
    }
    this.values = [value, debtValue];
    return this.values;
  }
}

/**
 * The float screen of {@link HealthSnapshot.meets} from its float sums: the balances' weighted
 * collateral and liabilities (each the sum of positive terms) and, when derivatives add to the
 * tier, their float tier and the profit cap (WEIGHT_SCALE). True or false when clear of the band
 * (relative 10^-9 of the magnitudes summed, plus `slack`: an absolute bound on errors of the
 * sums that are not relative, such as amounts estimated to within a base unit), null otherwise:
 * the exact sums then decide.
 */
export function screenSums(
  collateral: number,
  liabilities: number,
  extra: readonly [collateral: number, liabilities: number, magnitude: number] | undefined,
  profitCap: bigint | null,
  index: 0 | 1 | 2,
  slack = 0,
): boolean | null {
  let magnitude = collateral + liabilities;
  if (extra !== undefined) {
    let profit = extra[0];
    if (index === 0 && profitCap !== null) {
      profit = Math.min(profit, (collateral * Number(profitCap)) / 1e6);
    }
    collateral += profit;
    liabilities += extra[1];
    magnitude += extra[0] + extra[1] + extra[2];
  }
  const band = SCREEN_BAND * magnitude + slack;
  if (collateral - liabilities > band) return true;
  if (liabilities - collateral > band) return false;
  return null;
}

/** Denominators, for what-if helpers that work on the numerators. */
export const HEALTH_DENOMINATORS = {
  value: VALUE_DENOMINATOR,
  weighted: WEIGHTED_DENOMINATOR,
} as const;

/**
 * The health snapshot of a set of positions. Figures are summed when first asked for, each tier
 * in one pass with one multiplication per position and no division.
 *
 * @example
 * const snapshot = evaluateHealth([{ risk: eth, amount: 10n * 10n ** 18n },
 *   { risk: usdc, amount: -5000n * 10n ** 6n }]);
 * snapshot.healthFactor('maintenance'); // 3.3 × HEALTH_SCALE for weight 0.825 at $2000
 */
export function evaluateHealth(
  positions: readonly Position[],
  extra: ExtraMargin | null = null,
): HealthSnapshot {
  return new HealthSnapshot(positions, extra);
}
