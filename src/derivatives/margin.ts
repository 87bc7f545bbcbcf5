/**
 * What a sub-account's derivatives add to its health, in the three tiers: positive profit
 * counted at a weight (paper profit backs new risk only in part), losses and requirements in
 * full. The engine adds these to the weighted collateral and liabilities of the sub-account's
 * balances, so one health covers everything it holds (see docs/MARGIN.md).
 *
 * Figures are numerators over VALUE_UNIT per quote unit (see `position.ts`) multiplied by a
 * weight in WEIGHT_SCALE: what the engine's health snapshot adds after one exact scaling.
 */
import { WEIGHT_SCALE } from '../math/fixed.js';
import type { InstrumentSpec } from './instruments.js';
import { type DerivativePosition, positionValue } from './position.js';
import { standardRequirement } from './requirement.js';

const W = WEIGHT_SCALE;

/** Weights of positive profit per tier, WEIGHT_SCALE: [initial, liquidationEnd, maintenance]. */
export type ProfitWeights = readonly [bigint, bigint, bigint];

/** An instrument as margin reads it: its listing and its prices. */
export interface InstrumentPrices {
  readonly spec: InstrumentSpec;
  /** The instrument's mark, PRICE_SCALE. */
  readonly mark: bigint;
  /** The underlying's index, PRICE_SCALE. */
  readonly index: bigint;
  /** Cumulative funding per size unit, numerator. */
  readonly fundingIndex: bigint;
  /** Positive profit counts at these weights. */
  readonly profitWeights: ProfitWeights;
}

/** Per tier [initial, liquidationEnd, maintenance], numerator × WEIGHT_SCALE. */
export interface DerivativesTiers {
  /** Positive profit, weighted. */
  readonly profit: readonly [bigint, bigint, bigint];
  /** Losses and requirements, at weight 1. */
  readonly liabilities: readonly [bigint, bigint, bigint];
}

export const NO_DERIVATIVES: DerivativesTiers = {
  profit: [0n, 0n, 0n],
  liabilities: [0n, 0n, 0n],
};

/**
 * The tiers of a book of positions with `unsettled` realized profit not yet settled (it counts
 * like unrealized profit or loss, at `unsettledWeights` when positive). Each position's value
 * (unrealized profit, funding owed included) counts as profit at its instrument's weights or as
 * a loss in full; its requirement is the instrument's initial requirement in the initial tier,
 * its maintenance requirement in maintenance, and midway (rounded up) in liquidation-end.
 * `requirement` replaces the standard requirements when given (portfolio margin).
 */
export function derivativesTiers(
  positions: readonly DerivativePosition[],
  instruments: (index: number) => InstrumentPrices,
  unsettled: bigint,
  unsettledWeights: ProfitWeights,
  requirement?: { readonly initial: bigint; readonly maintenance: bigint },
): DerivativesTiers {
  let p0 = 0n;
  let p1 = 0n;
  let p2 = 0n;
  let losses = 0n;
  let initial = 0n;
  let maintenance = 0n;
  let middle = 0n;
  const profit = (value: bigint, weights: ProfitWeights) => {
    if (value > 0n) {
      p0 += value * weights[0];
      p1 += value * weights[1];
      p2 += value * weights[2];
    } else {
      losses -= value;
    }
  };
  profit(unsettled, unsettledWeights);
  for (let i = 0; i < positions.length; i++) {
    const position = positions[i] as DerivativePosition;
    const prices = instruments(position.instrument);
    profit(positionValue(position, prices.mark, prices.fundingIndex), prices.profitWeights);
    if (requirement !== undefined) continue;
    const r = standardRequirement(prices.spec, prices.mark, prices.index, position.size);
    initial += r.initial;
    maintenance += r.maintenance;
    middle += (r.initial + r.maintenance + 1n) / 2n;
  }
  if (requirement !== undefined) {
    initial = requirement.initial;
    maintenance = requirement.maintenance;
    middle = (initial + maintenance + 1n) / 2n;
  }
  return {
    profit: [p0, p1, p2],
    liabilities: [(losses + initial) * W, (losses + middle) * W, (losses + maintenance) * W],
  };
}
