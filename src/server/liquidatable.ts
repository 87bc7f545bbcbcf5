/**
 * What liquidators ask: every sub-account below maintenance (the liquidation monitor's set), in
 * a stable order for cursor pagination, each with the best liquidation of a debt against a
 * collateral it allows now (sized by the engine's own `planLiquidation`, on the same snapshot,
 * legs, rules and throttle room as the `liquidate` command) and the derivatives positions that
 * can be taken over. Nothing changes.
 */
import { FulcrumError } from '../base/errors.js';
import { Draft } from '../engine/draft.js';
import { throttleRoom } from '../engine/liquidate.js';
import { liquidationStatus } from '../engine/queries.js';
import type { EngineState, SubAccountRef } from '../engine/state.js';
import type { LiquidationMonitor } from '../liquidation/monitor.js';
import { type LiquidationLeg, planLiquidation } from '../liquidation/plan.js';
import { HEALTH_DENOMINATORS } from '../margin/health.js';
import { formatDecimal } from '../math/decimal.js';
import {
  divFloor,
  HEALTH_DECIMALS,
  PRICE_DECIMALS,
  VALUE_DECIMALS,
  WEIGHT_DECIMALS,
} from '../math/fixed.js';
import { SIZE_DECIMALS } from '../derivatives/instruments.js';

/** Most sub-accounts one page lists. */
export const LIQUIDATABLE_PAGE_MAX = 1_000;

export interface LendingLiquidation {
  readonly debtAsset: string;
  readonly collateralAsset: string;
  /** Debt repaid, in the debt asset's units. */
  readonly repay: string;
  /** Collateral seized in all, the liquidator's part and the insurance fund's, in its units. */
  readonly seize: string;
  readonly toLiquidator: string;
  readonly toInsurance: string;
  /** The penalty charged, a fraction (0.05 is 5%). */
  readonly penalty: string;
  /** What the liquidator gains at oracle prices: its collateral's value less the debt's. */
  readonly bonusValue: string;
  readonly fullClose: boolean;
}

export interface PositionTakeover {
  readonly instrument: string;
  /** Signed size of the target's position. */
  readonly size: string;
  readonly mark: string;
  /** The instrument's penalty, a fraction. */
  readonly penalty: string;
}

export interface LiquidatableEntry {
  readonly account: string;
  readonly subAccount: number;
  /** Maintenance health factor, or null without liabilities. */
  readonly healthFactor: string | null;
  /** Whether every price the account rests on allows a liquidation now. */
  readonly allowed: boolean;
  readonly blockedBy: readonly { readonly asset: string; readonly grade: string }[];
  /** The lending liquidation worth the most to a liquidator, or null when none is allowed. */
  readonly best: LendingLiquidation | null;
  /** Derivatives positions a liquidator may take over (`liquidate-position`, sized by the engine). */
  readonly positions: readonly PositionTakeover[];
}

/** Sub-accounts in the order pages follow: by account id, then number. */
export function compareRefs(a: SubAccountRef, b: SubAccountRef): number {
  if (a.account !== b.account) return a.account < b.account ? -1 : 1;
  return a.subAccount - b.subAccount;
}

/** A page of liquidatable sub-accounts after `cursor` (exclusive), and the next cursor. */
export function liquidatablePage(
  state: EngineState,
  monitor: LiquidationMonitor,
  after: SubAccountRef | null,
  limit: number,
): { items: LiquidatableEntry[]; next: SubAccountRef | null; total: number } {
  const refs = monitor.liquidatable().sort(compareRefs);
  const start = after === null ? 0 : refs.findIndex((ref) => compareRefs(ref, after) > 0);
  const page = start < 0 ? [] : refs.slice(start, start + limit);
  const last = page.at(-1);
  const more = start >= 0 && start + limit < refs.length;
  return {
    items: page.map((ref) => liquidatableEntry(state, ref)),
    next: more && last !== undefined ? last : null,
    total: refs.length,
  };
}

/** One liquidatable sub-account with what a liquidator may do about it now. */
export function liquidatableEntry(state: EngineState, ref: SubAccountRef): LiquidatableEntry {
  const status = liquidationStatus(state, ref);
  const draft = new Draft(state, state.time);
  const snapshot = draft.health(ref);
  const health = snapshot.healthFactor('maintenance');
  const sub = draft.subAccount(ref);
  const legs = sub.positions.map(({ asset, scaled }): LiquidationLeg & { scaled: bigint } => {
    const { risk, config } = draft.asset(asset);
    const amount = draft.amountOf(asset, scaled);
    return { risk, config, amount: amount < 0n ? -amount : amount, scaled };
  });
  let best: LendingLiquidation | null = null;
  let bestBonus = 0n;
  if (status.allowed) {
    const room = throttleRoom(draft, ref);
    for (const debt of legs.filter((leg) => leg.scaled < 0n)) {
      for (const collateral of legs.filter((leg) => leg.scaled > 0n)) {
        let plan;
        try {
          plan = planLiquidation({
            snapshot,
            debt,
            collateral,
            requested: 'max',
            config: state.liquidationConfig,
            throttleRoom: room,
          });
        } catch (error) {
          if (error instanceof FulcrumError) continue;
          throw error;
        }
        const toLiquidator = plan.seized - plan.toInsurance;
        const bonus = valueOf(toLiquidator, collateral) - valueOf(plan.repay, debt);
        if (plan.repay <= 0n || (best !== null && bonus <= bestBonus)) continue;
        bestBonus = bonus;
        const dC = collateral.config.decimals;
        best = {
          debtAsset: debt.config.symbol,
          collateralAsset: collateral.config.symbol,
          repay: formatDecimal(plan.repay, debt.config.decimals),
          seize: formatDecimal(plan.seized, dC),
          toLiquidator: formatDecimal(toLiquidator, dC),
          toInsurance: formatDecimal(plan.toInsurance, dC),
          penalty: formatDecimal(plan.penalty, WEIGHT_DECIMALS),
          bonusValue: formatDecimal(bonus, VALUE_DECIMALS),
          fullClose: plan.fullClose,
        };
      }
    }
  }
  const positions = (sub.derivatives?.positions ?? []).map((position): PositionTakeover => {
    const instrument = draft.instrument(position.instrument);
    return {
      instrument: instrument.listing.spec.symbol,
      size: formatDecimal(position.size, SIZE_DECIMALS),
      mark: formatDecimal(instrument.mark, PRICE_DECIMALS),
      penalty: formatDecimal(instrument.listing.liquidationPenalty, WEIGHT_DECIMALS),
    };
  });
  return {
    account: ref.account,
    subAccount: ref.subAccount,
    healthFactor: health === null ? null : formatDecimal(health, HEALTH_DECIMALS),
    allowed: status.allowed,
    blockedBy: status.blockedBy,
    best,
    positions,
  };
}

/** An amount's value at its oracle price, VALUE_SCALE, rounded down. */
function valueOf(amount: bigint, leg: LiquidationLeg): bigint {
  return divFloor(amount * leg.risk.valuePerUnit, HEALTH_DENOMINATORS.value);
}
