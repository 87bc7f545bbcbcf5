/**
 * Per-asset factors that health evaluation multiplies balances by.
 *
 * Built once per price or configuration change (O(assets)), so that evaluating an account costs
 * one multiplication per position and tier. Every factor is exact: a price (PRICE_SCALE) times
 * 10^(NORM_DECIMALS − decimals), which puts all assets on one denominator, times a weight
 * (WEIGHT_SCALE) where the tier has one. No division happens until a figure is reported.
 */
import type { AssetConfig, Tier } from '../domain/asset.js';
import { ASSET_DECIMALS_MAX } from '../domain/asset.js';
import { assert } from '../domain/errors.js';
import { maxBig, minBig, pow10 } from '../math/fixed.js';

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
  /** oraclePrice × normFactor: value numerator per base unit. */
  readonly valuePerUnit: bigint;
  /** Weighted collateral numerator per base unit held, per tier (initial, liquidationEnd, maintenance). */
  readonly collateralPerUnit: TierFactors;
  /** Weighted liability numerator per base unit owed, per tier. */
  readonly liabilityPerUnit: TierFactors;
}

/** Factors indexed like {@link TIER_INDEX}: [initial, liquidationEnd, maintenance]. */
export type TierFactors = readonly [bigint, bigint, bigint];

export const TIER_INDEX: Readonly<Record<Tier, 0 | 1 | 2>> = {
  initial: 0,
  liquidationEnd: 1,
  maintenance: 2,
};

/**
 * The risk factors of an asset at the given prices.
 *
 * @example
 * assetRisk(ethConfig, 2000n * PRICE_SCALE, 2000n * PRICE_SCALE);
 */
export function assetRisk(
  config: AssetConfig,
  oraclePrice: bigint,
  stablePrice: bigint,
): AssetRisk {
  assert(oraclePrice > 0n && stablePrice > 0n, 'assetRisk: prices must be positive');
  const normFactor = pow10(NORM_DECIMALS - config.decimals);
  const low = minBig(oraclePrice, stablePrice) * normFactor;
  const high = maxBig(oraclePrice, stablePrice) * normFactor;
  const oracle = oraclePrice * normFactor;
  const a = config.assetWeight;
  const l = config.liabilityWeight;
  return {
    symbol: config.symbol,
    decimals: config.decimals,
    normFactor,
    oraclePrice,
    stablePrice,
    valuePerUnit: oracle,
    collateralPerUnit: [low * a.initial, oracle * a.liquidationEnd, oracle * a.maintenance],
    liabilityPerUnit: [high * l.initial, oracle * l.liquidationEnd, oracle * l.maintenance],
  };
}
