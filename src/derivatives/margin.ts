/**
 * What a sub-account's derivatives add to its health, in the three tiers: positive profit
 * counted at a weight (paper profit backs new risk only in part), losses and requirements in
 * full. The engine adds these to the weighted collateral and liabilities of the sub-account's
 * balances, so one health covers everything it holds (see docs/MARGIN.md).
 *
 * A tier is computed when first asked for: a liquidation check reads maintenance only. The
 * standard requirement's ratios (the size premium's square root) are computed as needed: a
 * few float operations, cheaper than a cache keyed by positions that every fill replaces.
 */
import { WEIGHT_SCALE } from '../math/fixed.js';
import { type InstrumentSpec, sizeAdjusted } from './instruments.js';
import { type DerivativePosition, RATE_SCALE, SIZE_UNIT } from './position.js';
import { ppmUp, type Requirement, standardRequirement } from './requirement.js';

const W = WEIGHT_SCALE;
const PPM = 1_000_000n;

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
  /**
   * The mark and weights as floats, when the producer keeps them (not the funding index: what
   * a position owes is the exact difference of two indices, converted after subtracting).
   */
  readonly floats?: {
    readonly mark: number;
    readonly weights: readonly [number, number, number];
  };
}

/** The float figures of an instrument's prices, computed once by whoever keeps the prices. */
export function pricesWithFloats(prices: InstrumentPrices): InstrumentPrices {
  const w = prices.profitWeights;
  return {
    ...prices,
    floats: {
      mark: Number(prices.mark),
      weights: [Number(w[0]), Number(w[1]), Number(w[2])],
    },
  };
}

/**
 * A book's contribution to health, tier by tier, as numerators over VALUE_UNIT per quote unit
 * times WEIGHT_SCALE, multiplied by `scale` (what puts them on the health snapshot's
 * denominator). Unsettled profit counts like unrealized profit, at `unsettledWeights` when
 * positive. `requirement` replaces the standard requirements when given (portfolio margin).
 */
export class DerivativesMargin {
  // The tiers once computed: plain fields, not an array, to keep a check allocation-light.
  private tier0: readonly [bigint, bigint] | undefined;
  private tier1: readonly [bigint, bigint] | undefined;
  private tier2: readonly [bigint, bigint] | undefined;

  constructor(
    private readonly positions: readonly DerivativePosition[],
    private readonly instruments: (index: number) => InstrumentPrices,
    private readonly unsettled: bigint,
    private readonly unsettledWeights: ProfitWeights,
    readonly profitCap: bigint | null,
    private readonly scale: bigint = 1n,
    private readonly requirement?: Requirement,
  ) {}

  /**
   * The tier as floats with the magnitude of what was summed (for the health's float screen);
   * null with options or a replaced requirement, which the exact figures decide.
   */
  floatTier(index: 0 | 1 | 2): readonly [number, number, number] | null {
    if (this.requirement !== undefined) return null;
    return floatTierOf(
      this.positions,
      this.instruments,
      this.unsettled,
      this.unsettledWeights,
      this.scale,
      index,
    );
  }

  /** [collateral, liabilities] of tier `index` (0 initial, 1 liquidation-end, 2 maintenance). */
  tier(index: 0 | 1 | 2): readonly [bigint, bigint] {
    const kept = index === 0 ? this.tier0 : index === 1 ? this.tier1 : this.tier2;
    if (kept !== undefined) return kept;
    let profit = 0n;
    let losses = 0n;
    let required = 0n;
    if (this.unsettled > 0n) profit += this.unsettled * (this.unsettledWeights[index] as bigint);
    else losses -= this.unsettled;
    const { positions } = this;
    for (let i = 0; i < positions.length; i++) {
      const position = positions[i] as DerivativePosition;
      const prices = this.instruments(position.instrument);
      const value =
        position.size * prices.mark * RATE_SCALE +
        position.quote -
        position.size * (prices.fundingIndex - position.funding);
      if (value > 0n) profit += value * (prices.profitWeights[index] as bigint);
      else losses -= value;
      if (this.requirement === undefined) required += requirementOf(position, prices, index);
    }
    if (this.requirement !== undefined) {
      const { initial, maintenance } = this.requirement;
      required =
        index === 0 ? initial : index === 2 ? maintenance : (initial + maintenance + 1n) / 2n;
    }
    const result = [profit * this.scale, (losses + required) * W * this.scale] as const;
    if (index === 0) this.tier0 = result;
    else if (index === 1) this.tier1 = result;
    else this.tier2 = result;
    return result;
  }
}

/**
 * A book's tier `index` as floats, with the magnitude of what was summed: the float screen's
 * share of {@link DerivativesMargin.tier} (standard requirements; null with an option, which
 * the exact figures decide).
 */
export function floatTierOf(
  positions: readonly DerivativePosition[],
  instruments: (index: number) => InstrumentPrices,
  unsettled: bigint,
  unsettledWeights: ProfitWeights,
  scale: bigint,
  index: 0 | 1 | 2,
): readonly [number, number, number] | null {
  let profit = 0;
  let losses = 0;
  let magnitude = 0;
  const unsettledFloat = Number(unsettled);
  if (unsettledFloat > 0) profit += unsettledFloat * Number(unsettledWeights[index]);
  else losses -= unsettledFloat;
  magnitude += Math.abs(unsettledFloat);
  for (let i = 0; i < positions.length; i++) {
    const position = positions[i] as DerivativePosition;
    const prices = instruments(position.instrument);
    const { spec } = prices;
    if (spec.kind === 'option') return null;
    // Plain conversions and the ratios' float arithmetic: cheaper than any per-position cache
    // (positions are replaced on every fill, so such a cache mostly missed and fed the GC).
    const size = Number(position.size);
    const quote = Number(position.quote);
    const f = prices.floats;
    const notional = size * (f?.mark ?? Number(prices.mark)) * RATE_FLOAT;
    // Funding owed per unit is the difference of two cumulative indices, which may be large
    // and close: subtracted exactly, so the float's error is relative to what is owed (which
    // the magnitude counts), never to the indices themselves.
    const owed =
      prices.fundingIndex === position.funding
        ? 0
        : size * Number(prices.fundingIndex - position.funding);
    const value = notional + quote - owed;
    if (value > 0) {
      profit += value * (f?.weights[index] ?? Number(prices.profitWeights[index]));
    } else {
      losses -= value;
    }
    const absolute = Math.abs(notional);
    const units = Math.abs(size) / SIZE_UNIT_FLOAT;
    const required =
      index === 0
        ? absolute * ratioFloat(spec.initialMargin, spec.sizePremium, units)
        : index === 2
          ? absolute * ratioFloat(spec.maintenanceMargin, spec.sizePremium, units)
          : (absolute *
              (ratioFloat(spec.initialMargin, spec.sizePremium, units) +
                ratioFloat(spec.maintenanceMargin, spec.sizePremium, units))) /
            2;
    losses += required / 1e6;
    magnitude += absolute + Math.abs(quote) + Math.abs(owed) + required / 1e6;
  }
  const s = Number(scale);
  const w = Number(W);
  return [profit * s, losses * w * s, magnitude * w * s];
}

/** A position's requirement in tier `index`: initial, maintenance, or midway (rounded up). */
function requirementOf(
  position: DerivativePosition,
  prices: InstrumentPrices,
  index: 0 | 1 | 2,
): bigint {
  const { spec } = prices;
  if (spec.kind === 'option') {
    const r = standardRequirement(spec, prices.mark, prices.index, position.size);
    return index === 0
      ? r.initial
      : index === 2
        ? r.maintenance
        : (r.initial + r.maintenance + 1n) / 2n;
  }
  const absSize = position.size < 0n ? -position.size : position.size;
  const notional = absSize * prices.mark * RATE_SCALE;
  const units = Number(absSize) / SIZE_UNIT_FLOAT;
  const initial = () =>
    divUp(notional * ppmUp(sizeAdjusted(spec.initialMargin, spec.sizePremium, units)), PPM);
  const maintenance = () =>
    divUp(notional * ppmUp(sizeAdjusted(spec.maintenanceMargin, spec.sizePremium, units)), PPM);
  if (index === 0) return initial();
  if (index === 2) return maintenance();
  return (initial() + maintenance() + 1n) / 2n;
}

/** `ppmUp(sizeAdjusted(base, premium, units))` as a float: the same integer, never a bigint. */
function ratioFloat(base: number, premium: number, units: number): number {
  return Math.ceil(sizeAdjusted(base, premium, units) * 1e6 - 1e-9);
}

const SIZE_UNIT_FLOAT = Number(SIZE_UNIT);
const RATE_FLOAT = Number(RATE_SCALE);

function divUp(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b === a ? q : q + 1n;
}
