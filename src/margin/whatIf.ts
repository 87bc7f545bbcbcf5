/**
 * What-if answers built on one {@link HealthSnapshot}: how much more may be borrowed or
 * withdrawn, and at which price an account becomes liquidatable. Pure functions of the snapshot
 * and the asset's factors; the engine narrows them further by pool cash and caps.
 */
import { divCeil, divFloor } from '../math/fixed.js';
import { type AssetRisk, TIER_INDEX } from './assetRisk.js';
import type { HealthSnapshot } from './health.js';

const INITIAL = TIER_INDEX.initial;
const MAINTENANCE = TIER_INDEX.maintenance;

/**
 * Largest additional debt in `risk`'s asset, in base units, that keeps initial health >= 1.
 * Rounded down, so that borrowing exactly this much still passes the initial check.
 */
export function maxBorrowByMargin(snapshot: HealthSnapshot, risk: AssetRisk): bigint {
  const free = snapshot.freeNum('initial');
  const perUnit = risk.liabilityPerUnit[INITIAL];
  if (free <= 0n) return 0n;
  return divFloor(free, perUnit);
}

/**
 * Largest amount of a deposit of `held` base units that may be withdrawn keeping initial
 * health >= 1. Without debt, all of it; with a zero initial weight, all of it while the account
 * meets initial margin, none otherwise.
 */
export function maxWithdrawByMargin(
  snapshot: HealthSnapshot,
  risk: AssetRisk,
  held: bigint,
): bigint {
  if (held <= 0n) return 0n;
  const free = snapshot.freeNum('initial');
  if (free < 0n) return 0n;
  const perUnit = risk.collateralPerUnit[INITIAL];
  if (perUnit === 0n || !snapshot.hasDebt) return held;
  const byMargin = divFloor(free, perUnit);
  return byMargin < held ? byMargin : held;
}

/**
 * The oracle price (PRICE_SCALE) of a deposit of `held` base units at which maintenance health
 * reaches 1, all other prices (and this price's confidence) held: any lower price makes the
 * account liquidatable. Rounded up, so that the statement stays exact.
 * Null when no price of this asset can make the account liquidatable (no debt, a zero
 * maintenance weight, or the rest of the account covers its debts alone).
 */
export function collateralLiquidationPrice(
  snapshot: HealthSnapshot,
  risk: AssetRisk,
  held: bigint,
): bigint | null {
  if (held <= 0n || !snapshot.hasDebt) return null;
  const perUnit = risk.collateralPerUnit[MAINTENANCE];
  if (perUnit === 0n) return null;
  const others = snapshot.collateralNum('maintenance') - held * perUnit;
  const shortfall = snapshot.liabilityNum('maintenance') - others;
  if (shortfall <= 0n) return null;
  // perUnit = (price − widening) × normFactor × weight, so the weight-and-norm part is
  // perUnit / (price − widening), exactly; the margin price must reach shortfall / that.
  const perUnitPerPrice = held * (perUnit / (risk.oraclePrice - risk.widening));
  return divCeil(shortfall, perUnitPerPrice) + risk.widening;
}

/**
 * The oracle price (PRICE_SCALE) of a debt of `owed` base units at which maintenance health
 * reaches 1, all other prices (and this price's confidence) held: any higher price makes the
 * account liquidatable. Rounded down, so that the statement stays exact. Zero when the account
 * is liquidatable whatever this asset's price.
 */
export function debtLiquidationPrice(
  snapshot: HealthSnapshot,
  risk: AssetRisk,
  owed: bigint,
): bigint | null {
  if (owed <= 0n) return null;
  const perUnit = risk.liabilityPerUnit[MAINTENANCE];
  const others = snapshot.liabilityNum('maintenance') - owed * perUnit;
  const room = snapshot.collateralNum('maintenance') - others;
  if (room <= 0n) return 0n;
  // perUnit = (price + widening) × normFactor × w: liquidatable when owed × (price + widening)
  // × normFactor × w > room, that is price > room / (owed × normFactor × w) − widening.
  const perUnitPerPrice = owed * (perUnit / (risk.oraclePrice + risk.widening));
  const price = divFloor(room, perUnitPerPrice) - risk.widening;
  return price > 0n ? price : 0n;
}
