/**
 * Portfolio margin for a whole sub-account (docs/MARGIN.md, margin modes): the scenario grid of
 * `derivatives/portfolioMargin.ts` (each underlying's index moved −16% to +16%, volatility up,
 * unchanged and down, and the far moves) applied to everything the sub-account holds: its
 * derivatives positions, and its balances and debts as delta-one exposures of their asset (the
 * settlement asset aside: it is the unit profit and loss are counted in). Underlyings do not
 * offset one another. In this mode the balances count at their oracle value, unweighted: the
 * scenarios are their haircut.
 *
 * The grid is float analytics: its requirement is rounded up to a numerator unit, and it is
 * the same on every machine that runs the same JavaScript engine's Math functions.
 */
import type { InstrumentSpec } from '../derivatives/instruments.js';
import { type PortfolioPosition, portfolioMargin } from '../derivatives/portfolioMargin.js';
import { SIZE_UNIT, VALUE_UNIT } from '../derivatives/position.js';
import type { Requirement } from '../derivatives/requirement.js';
import { flatSurface } from '../derivatives/volSurface.js';
import type { AssetRisk } from '../margin/assetRisk.js';
import { pow10, PRICE_SCALE, WEIGHT_SCALE } from '../math/fixed.js';
import type { Draft } from './draft.js';
import type { DerivativesBook, ScaledPosition } from './state.js';

/** The volatility assumed for an underlying whose volatility the venue has not set: 100%. */
export const DEFAULT_VOLATILITY = 1;

/** A balance as a delta-one exposure of its asset: a perpetual without premium or funding. */
function spotSpec(symbol: string): InstrumentSpec {
  return {
    kind: 'perpetual',
    symbol: `${symbol}.spot`,
    underlying: symbol,
    initialMargin: 0.1,
    maintenanceMargin: 0.05,
    sizePremium: 0,
    fundingIntervalSeconds: 28_800,
    fundingClamp: 0.0075,
  };
}

/**
 * The scenario requirement of a portfolio-mode sub-account: initial and maintenance numerators
 * (VALUE_UNIT per quote unit), rounded up.
 */
export function portfolioRequirement(
  draft: Draft,
  book: DerivativesBook,
  balances: readonly ScaledPosition[],
): Requirement {
  const positions: PortfolioPosition[] = [];
  const underlyings = Object.create(null) as Record<
    string,
    { index: number; surface: ReturnType<typeof flatSurface> }
  >;
  const market = (assetIndex: number) => {
    const asset = draft.asset(assetIndex);
    const symbol = asset.config.symbol;
    underlyings[symbol] ??= {
      index: Number(asset.risk.oraclePrice) / Number(PRICE_SCALE),
      surface: flatSurface(draft.volatility(assetIndex) ?? DEFAULT_VOLATILITY),
    };
  };
  for (const position of book.positions) {
    const instrument = draft.instrument(position.instrument);
    market(instrument.underlying);
    positions.push({
      instrument: instrument.listing.spec,
      size: Number(position.size) / Number(SIZE_UNIT),
    });
  }
  const settlement = draft.base.assetIndex.get(draft.venueConfig.settlementAsset);
  for (const { asset, scaled } of balances) {
    if (asset === settlement) continue;
    const config = draft.asset(asset).config;
    const amount = draft.amountOf(asset, scaled);
    market(asset);
    positions.push({
      instrument: spotSpec(config.symbol),
      size: Number(amount) / Number(pow10(config.decimals)),
    });
  }
  if (positions.length === 0) return { initial: 0n, maintenance: 0n };
  const result = portfolioMargin(positions, { time: draft.time, underlyings });
  return { initial: toNumerator(result.initial), maintenance: toNumerator(result.maintenance) };
}

/** A float amount of quote as a numerator, rounded up to a millionth. */
function toNumerator(quote: number): bigint {
  return BigInt(Math.ceil(quote * 1e6)) * (VALUE_UNIT / 1_000_000n);
}

const unweightedRisks = new WeakMap<AssetRisk, AssetRisk>();

/**
 * An asset's risk factors with every weight 1 and the oracle price in every tier: how a
 * portfolio-mode sub-account values its balances (the scenarios being their haircut).
 */
export function unweighted(risk: AssetRisk): AssetRisk {
  let out = unweightedRisks.get(risk);
  if (out === undefined) {
    const value = risk.valuePerUnit * WEIGHT_SCALE;
    const float = Number(value);
    out = {
      ...risk,
      collateralPerUnit: [value, value, value],
      liabilityPerUnit: [value, value, value],
      collateralPerUnitFloat: [float, float, float],
      liabilityPerUnitFloat: [float, float, float],
    };
    unweightedRisks.set(risk, out);
  }
  return out;
}
