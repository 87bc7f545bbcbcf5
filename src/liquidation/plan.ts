/**
 * How much one liquidation repays and seizes: pure arithmetic on one account's health snapshot
 * and the two assets of the liquidation (the debt repaid, the collateral seized).
 *
 * The repay is the least of: what was asked; the debt; the close factor's share of the debt
 * (unless the account is small or deeply unhealthy); what restores liquidation-end health to 1;
 * what the collateral can pay for; what the throttle window has room for. A leftover worth less
 * than the dust value is taken whole. The penalty is the collateral listing's, shrunk by the
 * toxic-spiral guard to what leaves maintenance health no lower; where no penalty could, the
 * liquidation is refused and the backstop must act. All amounts exact; every rounding leaves
 * the liquidated account the better off.
 */
import type { AssetConfig } from '../domain/asset.js';
import { assert, FulcrumError } from '../base/errors.js';
import type { LiquidationConfig } from '../domain/liquidationConfig.js';
import { formatDecimal } from '../math/decimal.js';
import { divCeil, divFloor, minBig, pow10, WEIGHT_SCALE } from '../math/fixed.js';
import { type AssetRisk, NORM_DECIMALS, TIER_INDEX } from '../margin/assetRisk.js';
import type { HealthSnapshot } from '../margin/health.js';

/** Value numerators (as in `HealthSnapshot`) are over 10^30; values are then VALUE_SCALE. */
const VALUE_DENOMINATOR = pow10(NORM_DECIMALS);
const W = WEIGHT_SCALE;
const MAINTENANCE = TIER_INDEX.maintenance;
const LIQUIDATION_END = TIER_INDEX.liquidationEnd;

export interface LiquidationLeg {
  readonly risk: AssetRisk;
  readonly config: AssetConfig;
  /** Debt owed (debt leg) or collateral held (collateral leg), base units. */
  readonly amount: bigint;
}

export interface LiquidationInput {
  readonly snapshot: HealthSnapshot;
  readonly debt: LiquidationLeg;
  readonly collateral: LiquidationLeg;
  /** Most debt to repay, base units; 'max' for as much as the rules allow. */
  readonly requested: bigint | 'max';
  readonly config: LiquidationConfig;
  /** Debt value (VALUE_SCALE) the throttle window still allows; null without caps. */
  readonly throttleRoom: bigint | null;
  /** The most penalty the liquidator asks (WEIGHT_SCALE); the listing's when absent. */
  readonly maxPenalty?: bigint;
}

export interface LiquidationPlan {
  /** Debt repaid, base units. */
  readonly repay: bigint;
  /** Collateral seized in all, and the insurance fund's part, base units. */
  readonly seized: bigint;
  readonly toInsurance: bigint;
  /**
   * The penalty charged (WEIGHT_SCALE): the listing's, or the liquidator's lower bid, or less
   * where the guard shrank it; `penaltyReduced` says only the last (a bid is not a reduction).
   */
  readonly penalty: bigint;
  readonly penaltyReduced: boolean;
  readonly fullClose: boolean;
  /** The repaid debt's value, VALUE_SCALE (rounded up): what the throttle counts. */
  readonly repayValue: bigint;
}

/**
 * The largest penalty (WEIGHT_SCALE) that does not lower maintenance health when `collateral`
 * is seized for `debt`. Repaying one base unit of debt removes lD of weighted liabilities
 * (`liabilityPerUnit`, at the debt's margin price) and seizes (1 + p)·vD/vC base units of
 * collateral (the repay's worth at oracle prices, `valuePerUnit`), each removing cC of weighted
 * collateral: C/L keeps only while (1 + p)·vD·cC / (vC·lD) <= C/L. Without a confidence widening
 * (cC = vC·w, lD = vD·lw) that is (1 + p)·w/lw <= C/L. Negative when even no penalty would keep
 * it; null when the collateral counts for nothing at maintenance (seizing it never lowers C).
 */
export function penaltyLimit(
  snapshot: HealthSnapshot,
  debt: LiquidationLeg,
  collateral: LiquidationLeg,
): bigint | null {
  const cC = collateral.risk.collateralPerUnit[MAINTENANCE];
  if (cC === 0n) return null;
  const c = snapshot.collateralNum('maintenance');
  const l = snapshot.liabilityNum('maintenance');
  const lD = debt.risk.liabilityPerUnit[MAINTENANCE];
  const vD = debt.risk.valuePerUnit;
  const vC = collateral.risk.valuePerUnit;
  return divFloor(c * vC * W * lD, l * vD * cC) - W;
}

/**
 * Plans one liquidation of `input.snapshot`'s account: how much of the debt leg is repaid, how
 * much of the collateral leg is seized for it (and the insurance fund's part of the penalty),
 * or why none may be (a `FulcrumError`: `not_liquidatable`, `liquidation_toxic`,
 * `liquidation_throttled`, `liquidation_dust`). The engine's `liquidate` command runs it on the
 * target's snapshot at the command's time; a liquidator can run it beforehand on the same
 * figures.
 *
 * @example
 * import {
 *   assetRisk,
 *   DEFAULT_LIQUIDATION_CONFIG,
 *   evaluateHealth,
 *   formatDecimal,
 *   parseAssetConfig,
 *   planLiquidation,
 *   PRICE_SCALE,
 * } from 'fulcrum';
 *
 * const eth = parseAssetConfig({
 *   symbol: 'ETH',
 *   decimals: 18,
 *   initialWeight: '0.8',
 *   maintenanceWeight: '0.825',
 * });
 * const usdc = parseAssetConfig({
 *   symbol: 'USDC',
 *   decimals: 6,
 *   initialWeight: '0.85',
 *   maintenanceWeight: '0.875',
 * });
 * // 10 ETH at $1400 against 12,000 USDC owed: maintenance health 0.9625.
 * const ethRisk = assetRisk(eth, 1400n * PRICE_SCALE, 1400n * PRICE_SCALE);
 * const usdcRisk = assetRisk(usdc, PRICE_SCALE, PRICE_SCALE);
 * const held = 10n * 10n ** 18n;
 * const owed = 12000n * 10n ** 6n;
 * const plan = planLiquidation({
 *   snapshot: evaluateHealth([
 *     { risk: ethRisk, amount: held },
 *     { risk: usdcRisk, amount: -owed },
 *   ]),
 *   debt: { risk: usdcRisk, config: usdc, amount: owed },
 *   collateral: { risk: ethRisk, config: eth, amount: held },
 *   requested: 'max',
 *   config: DEFAULT_LIQUIDATION_CONFIG,
 *   throttleRoom: null,
 * });
 * // What restores liquidation-end health, with the listing's 5% penalty on the collateral.
 * console.log(formatDecimal(plan.repay, 6), formatDecimal(plan.seized, 18));
 * // → 4255.319149 3.19148936175
 */
export function planLiquidation(input: LiquidationInput): LiquidationPlan {
  const { penalty, bid } = choosePenalty(input);
  const bounds = repayBounds(input, penalty);
  const { repay, seized, whole } = takeCollateralDust(input, bounds, takeDebtDust(input, bounds));
  if (repay <= 0n || seized <= 0n) {
    throw new FulcrumError(
      'not_liquidatable',
      'nothing can be repaid against this collateral',
      'amount',
    );
  }
  const penaltyPart = divFloor(seized * penalty, W + penalty);
  const toInsurance = divFloor(penaltyPart * input.collateral.config.insuranceShare, W);
  return {
    repay,
    seized,
    toInsurance,
    penalty,
    penaltyReduced: penalty < bid,
    fullClose: whole,
    repayValue: divCeil(repay * bounds.vD, VALUE_DENOMINATOR),
  };
}

/**
 * The penalty charged and the bid it started from (the listing's, or the liquidator's lower
 * one), shrunk by the toxic-spiral guard to what leaves maintenance health no lower. Refuses an
 * account that meets maintenance, and a pair that no penalty could keep from worsening it.
 */
function choosePenalty(input: LiquidationInput): { penalty: bigint; bid: bigint } {
  const { snapshot, debt, collateral } = input;
  if (snapshot.meets('maintenance')) {
    throw new FulcrumError('not_liquidatable', 'the account meets maintenance margin', 'target');
  }
  const listed = collateral.config.liquidationPenalty;
  const limit = penaltyLimit(snapshot, debt, collateral);
  if (limit !== null && limit < 0n) {
    throw new FulcrumError(
      'liquidation_toxic',
      `seizing ${collateral.config.symbol} for ${debt.config.symbol} would leave the account worse at any penalty: the backstop must act`,
      'collateralAsset',
    );
  }
  const bid =
    input.maxPenalty === undefined || input.maxPenalty > listed ? listed : input.maxPenalty;
  const penalty = limit === null || limit >= bid ? bid : limit;
  return { penalty, bid };
}

/** The pair's figures at one penalty, and what bounds the repay. */
interface RepayBounds {
  readonly penalty: bigint;
  /** Value numerators per base unit of the debt and of the collateral. */
  readonly vD: bigint;
  readonly vC: bigint;
  /** The debt owed and the collateral held, base units. */
  readonly owed: bigint;
  readonly held: bigint;
  /** What the liquidator asks, at most the debt. */
  readonly asked: bigint;
  readonly fullClose: boolean;
  /** The most the collateral can pay for, and the most the throttle window allows. */
  readonly byCollateral: bigint;
  readonly byThrottle: bigint;
  /** The dust value, as a value numerator. */
  readonly dust: bigint;
  /** The least of every bound: the repay before the dust rules. */
  readonly repay: bigint;
}

/**
 * The repay's bounds: what was asked, the debt, the close factor's share of it (unless the
 * account is small or deeply unhealthy), what restores liquidation-end health, what the
 * collateral pays for and what the throttle has room for. Refuses when the throttle has none.
 */
function repayBounds(input: LiquidationInput, penalty: bigint): RepayBounds {
  const { snapshot, debt, collateral, config } = input;
  const vD = debt.risk.valuePerUnit;
  const vC = collateral.risk.valuePerUnit;
  const owed = debt.amount;
  const held = collateral.amount;
  const health = snapshot.healthFactor('maintenance') ?? 0n;
  const fullClose =
    snapshot.liabilityValue < config.fullCloseValue || health < config.fullCloseHealth;
  const closeCap = fullClose ? owed : maxOne(divFloor(owed * config.closeFactor, W));
  const byCollateral = divFloor(held * vC * W, vD * (W + penalty));
  const byThrottle =
    input.throttleRoom === null ? owed : divFloor(input.throttleRoom * VALUE_DENOMINATOR, vD);
  if (byThrottle <= 0n) {
    throw new FulcrumError(
      'liquidation_throttled',
      'the liquidation caps for this window are used up',
      'target',
    );
  }
  const asked = input.requested === 'max' ? owed : minBig(input.requested, owed);
  const repay = minBig(
    minBig(minBig(asked, closeCap), repayToRestore(input, penalty)),
    minBig(byCollateral, byThrottle),
  );
  const dust = config.dustValue * VALUE_DENOMINATOR;
  return { penalty, vD, vC, owed, held, asked, fullClose, byCollateral, byThrottle, dust, repay };
}

/**
 * Dust of debt: a debt left worth less than the dust value is repaid whole, if the collateral
 * and the throttle allow; refused when only the liquidator's own amount stands in the way.
 */
function takeDebtDust(
  input: LiquidationInput,
  bounds: RepayBounds,
): { repay: bigint; whole: boolean } {
  const { owed, asked, byCollateral, byThrottle, vD, dust } = bounds;
  const leftDebt = owed - bounds.repay;
  if (leftDebt > 0n && leftDebt * vD < dust) {
    const canTakeAll = owed <= byCollateral && owed <= byThrottle;
    if (canTakeAll && asked === owed) return { repay: owed, whole: true };
    if (canTakeAll) {
      // Only the liquidator's own amount, below the whole debt, stands in the way of taking
      // the dust whole: whether it binds or another bound does (the close factor, the end
      // target), what it allows would leave the dust behind.
      throw new FulcrumError(
        'liquidation_dust',
        `repaying at most ${debtText(input, asked)} would leave a debt worth less than the dust value: repay all of it, ${debtText(input, owed)}`,
        'amount',
      );
    }
    // Otherwise collateral or the throttle is what binds: the rest is left for later.
  }
  return { repay: bounds.repay, whole: bounds.fullClose };
}

/**
 * The collateral seized for `planned.repay`, with the dust rule of collateral: collateral left
 * worth less than the dust value is taken whole, for what it covers: the liquidator repays its
 * worth (rounded up, so that seizing all of it is paid for in full). When the whole debt is
 * worth less, the debt is repaid whole instead and the collateral left over stays with the
 * account: seizing it too would take more than the debt and the penalty are worth. As with
 * debt, a liquidator whose own amount stands in the way is refused; the throttle may leave the
 * dust for a later window.
 */
function takeCollateralDust(
  input: LiquidationInput,
  bounds: RepayBounds,
  planned: { repay: bigint; whole: boolean },
): { repay: bigint; seized: bigint; whole: boolean } {
  const { owed, held, vD, vC, penalty, byThrottle, dust } = bounds;
  const seized = seizedFor(bounds, planned.repay);
  const leftCollateral = held - seized;
  if (leftCollateral > 0n && leftCollateral * vC < dust) {
    const forAll = minBig(owed, divCeil(held * vC * W, vD * (W + penalty)));
    if (forAll <= byThrottle) {
      if (input.requested !== 'max' && forAll > input.requested) {
        throw new FulcrumError(
          'liquidation_dust',
          `repaying at most ${debtText(input, input.requested)} would leave ${input.collateral.config.symbol} worth less than the dust value: ${forAll === owed ? 'repay the whole debt' : `repay ${debtText(input, forAll)} to take all of it`}`,
          'amount',
        );
      }
      return { repay: forAll, seized: seizedFor(bounds, forAll), whole: true };
    }
  }
  return { repay: planned.repay, seized, whole: planned.whole };
}

/** Collateral seized for `repay` of debt at the penalty: its worth plus the penalty, rounded down, at most all of it. */
function seizedFor(bounds: RepayBounds, repay: bigint): bigint {
  const { vD, vC, penalty, held } = bounds;
  return minBig(divFloor(repay * vD * (W + penalty), vC * W), held);
}

/** An amount of the debt asset, in whole units with its symbol, for a message. */
function debtText(input: LiquidationInput, amount: bigint): string {
  const { config } = input.debt;
  return `${formatDecimal(amount, config.decimals)} ${config.symbol}`;
}

/**
 * The repay that brings liquidation-end health back to 1 with this pair: each base unit repaid
 * removes lD of weighted liabilities and seizes (1 + p)·vD/vC base units of collateral, each
 * removing cC of weighted collateral (liquidation-end factors, at margin prices), so it gains
 * lD − (1 + p)·vD·cC/vC; rounded up. Without a widening that is vD·(lw − (1 + p)·w).
 */
function repayToRestore(input: LiquidationInput, penalty: bigint): bigint {
  const { snapshot, debt, collateral } = input;
  const shortfall =
    snapshot.liabilityNum('liquidationEnd') - snapshot.collateralNum('liquidationEnd');
  if (shortfall <= 0n) return 0n;
  const lD = debt.risk.liabilityPerUnit[LIQUIDATION_END];
  const cC = collateral.risk.collateralPerUnit[LIQUIDATION_END];
  const vD = debt.risk.valuePerUnit;
  const vC = collateral.risk.valuePerUnit;
  const gain = lD * vC * W - vD * (W + penalty) * cC;
  // The listing check (w_maint × (1 + penalty) < 1 <= lw) keeps the gain positive; a widening
  // only lowers cC and raises lD.
  assert(gain > 0n, 'a liquidation that gains no health');
  return divCeil(shortfall * vC * W, gain);
}

function maxOne(x: bigint): bigint {
  return x > 0n ? x : 1n;
}
