/**
 * Per-asset factors that health evaluation multiplies balances by.
 *
 * Built once per price or configuration change (O(assets)), so that evaluating an account costs
 * one multiplication per position and tier. Every factor is exact: a price (PRICE_SCALE) times
 * 10^(NORM_DECIMALS − decimals), which puts all assets on one denominator, times a weight
 * (WEIGHT_SCALE) where the tier has one. No division happens until a figure is reported.
 *
 * Margin prices. A deposit is valued at the collateral price and a debt at the debt price:
 * for initial margin min(oracle, stable) and max(oracle, stable), for liquidation-end and
 * maintenance the oracle price; each widened, when the asset's oracle sets
 * `confidenceWidening` k, by w = k × confidence (rounded up): the collateral price less w (not
 * below zero), the debt price plus w. Every tier is widened, so the tiers keep their order and
 * an account is liquidatable exactly when its maintenance health at the widened prices is below
 * 1. Values that are not margin (`valuePerUnit`: what a liquidation repays and seizes, reports,
 * the throttle) use the oracle price itself: the widening is a margin of safety on what a
 * position may be worth, not a price anyone trades at.
 */
import { assert } from '../base/errors.js';
import type { AssetConfig, Tier } from '../domain/asset.js';
import { ASSET_DECIMALS_MAX } from '../domain/asset.js';
import { divCeil, maxBig, minBig, pow10, RAY } from '../math/fixed.js';

/** Every balance is brought to this many decimals before it is valued. */
export const NORM_DECIMALS = ASSET_DECIMALS_MAX;

export interface AssetRisk {
  readonly symbol: string;
  readonly decimals: number;
  /** 10^(NORM_DECIMALS − decimals). */
  readonly normFactor: bigint;
  /** Oracle price, PRICE_SCALE: used by maintenance and liquidation-end. */
  readonly oraclePrice: bigint;
  /** Smoothed price, PRICE_SCALE: initial margin values assets at min and debts at max of the two. */
  readonly stablePrice: bigint;
  /** The oracle price's confidence (half-width), PRICE_SCALE; 0 for a price set directly. */
  readonly confidence: bigint;
  /** Margin prices' widening, PRICE_SCALE: `confidenceWidening` × confidence, rounded up. */
  readonly widening: bigint;
  /** oraclePrice × normFactor: value numerator per base unit (unwidened). */
  readonly valuePerUnit: bigint;
  /** Weighted collateral numerator per base unit held, per tier (initial, liquidationEnd, maintenance). */
  readonly collateralPerUnit: TierFactors;
  /** Weighted liability numerator per base unit owed, per tier. */
  readonly liabilityPerUnit: TierFactors;
  /** The same factors as floats: a health check's screen, confirmed exactly near the threshold. */
  readonly collateralPerUnitFloat: readonly [number, number, number];
  readonly liabilityPerUnitFloat: readonly [number, number, number];
}

/** Factors indexed like {@link TIER_INDEX}: [initial, liquidationEnd, maintenance]. */
export type TierFactors = readonly [bigint, bigint, bigint];

export const TIER_INDEX: Readonly<Record<Tier, 0 | 1 | 2>> = {
  initial: 0,
  liquidationEnd: 1,
  maintenance: 2,
};

/**
 * The risk factors of an asset at the given prices and the oracle price's confidence (see the
 * margin prices above; the widening applies only to an asset whose oracle sets it).
 *
 * @example
 * assetRisk(ethConfig, 2000n * PRICE_SCALE, 2000n * PRICE_SCALE);
 * // with confidenceWidening 2 and a confidence of 10: collateral at 1980, debts at 2020
 * assetRisk(ethConfig, 2000n * PRICE_SCALE, 2000n * PRICE_SCALE, 10n * PRICE_SCALE);
 */
export function assetRisk(
  config: AssetConfig,
  oraclePrice: bigint,
  stablePrice: bigint,
  confidence = 0n,
): AssetRisk {
  assert(oraclePrice > 0n && stablePrice > 0n, 'assetRisk: prices must be positive');
  assert(confidence >= 0n, 'assetRisk: confidence must not be negative');
  const normFactor = pow10(NORM_DECIMALS - config.decimals);
  const k = config.oracle?.confidenceWideningRay ?? 0n;
  // Rounded up: a wider margin is against the account on both sides.
  const widening = k === 0n ? 0n : divCeil(k * confidence, RAY);
  const lower = (price: bigint) => (price > widening ? price - widening : 0n) * normFactor;
  const higher = (price: bigint) => (price + widening) * normFactor;
  const lowOracle = lower(oraclePrice);
  const highOracle = higher(oraclePrice);
  const low = lower(minBig(oraclePrice, stablePrice));
  const high = higher(maxBig(oraclePrice, stablePrice));
  const a = config.assetWeight;
  const l = config.liabilityWeight;
  const collateral: TierFactors = [
    low * a.initial,
    lowOracle * a.liquidationEnd,
    lowOracle * a.maintenance,
  ];
  const liability: TierFactors = [
    high * l.initial,
    highOracle * l.liquidationEnd,
    highOracle * l.maintenance,
  ];
  return {
    symbol: config.symbol,
    decimals: config.decimals,
    normFactor,
    oraclePrice,
    stablePrice,
    confidence,
    widening,
    valuePerUnit: oraclePrice * normFactor,
    collateralPerUnit: collateral,
    liabilityPerUnit: liability,
    collateralPerUnitFloat: [Number(collateral[0]), Number(collateral[1]), Number(collateral[2])],
    liabilityPerUnitFloat: [Number(liability[0]), Number(liability[1]), Number(liability[2])],
  };
}
