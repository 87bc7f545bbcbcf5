/**
 * Risk weights from volatility and liquidity: the haircut a tier needs, and the weights it gives.
 *
 * A tier's haircut is the fall in the collateral's price that the venue must survive, with a
 * stated confidence, over the time it needs to act, plus the cost of selling the position:
 *
 *   haircut = max(floor, z(confidence) × σ_annual × sqrt(horizon / year) + Y σ_daily sqrt(size / V))
 *
 * and the weight is 1 − haircut. The figures are float64 analytics; the weights they become are
 * bigints in WEIGHT_SCALE, the haircut rounded up to a part per million and the weight then
 * rounded down to a step, both in the venue's favour.
 */
import { FulcrumError } from '../base/errors.js';
import { type TierWeights } from '../domain/asset.js';
import { formatDecimal } from '../math/decimal.js';
import { divCeil, WEIGHT_DECIMALS, WEIGHT_SCALE } from '../math/fixed.js';
import { inverseNormalCdf } from '../math/normal.js';
import { DAY_SECONDS } from '../math/time.js';
import { squareRootImpact } from './liquidity.js';
import { overHorizon } from './volatility.js';

/** How far and how surely one tier must cover a fall in price. */
export interface TierHorizon {
  /** One-sided confidence that the price does not fall further than the haircut, in (0.5, 1). */
  readonly confidence: number;
  /** Seconds over which the fall is measured. */
  readonly horizonSeconds: number;
}

export interface HaircutConfig {
  readonly maintenance: TierHorizon;
  readonly initial: TierHorizon;
  /** Y of the square-root law; 1 unless a venue has measured its own. */
  readonly impactCoefficient: number;
  /** Smallest haircut of any tier, as a fraction (0 for none). */
  readonly floor: number;
  /** Weights are rounded down to a multiple of this (WEIGHT_SCALE; 0 for none). */
  readonly step: bigint;
  /** Largest weight proposed (WEIGHT_SCALE). */
  readonly maxWeight: bigint;
  /** The listing's liquidation penalty (WEIGHT_SCALE): maintenance × (1 + penalty) must stay < 1. */
  readonly liquidationPenalty: bigint;
}

/**
 * Defaults, and why:
 *
 * - maintenance: 99% one-sided over 4 hours. The maintenance haircut covers the move between an
 *   account crossing maintenance and its collateral being sold. A venue's liquidator acts in
 *   seconds, but in a cascade it works through a queue, throttled, against a thinning book; four
 *   hours is the span over which a venue should still be closing positions at full size. One
 *   day in a hundred of such spans may be worse: the insurance fund and the stress margin
 *   (`stressMargin.ts`) are there for it.
 * - initial: 99.9% over 1 day. Initial margin is the buffer a new position starts with: a
 *   position opened at the limit should stay solvent through a day's move that comes once in
 *   a thousand days, which leaves the account most of a day between crossing maintenance and
 *   owing more than it holds.
 * - step 0.005 (half a point, the grain of listings such as Aave's), maxWeight 0.95 (no volatile
 *   asset is worth more than 95 cents of its price), penalty 0.05 (Fulcrum's listing default).
 *
 * For ETH at 80% annual volatility and no size these give maintenance 1 − 2.326 × 0.8 × 0.0214
 * ≈ 0.960, capped at 0.95, and initial 1 − 3.090 × 0.8 × 0.0523 ≈ 0.871 → 0.87. Aave's ETH
 * listing (LTV 0.80, liquidation threshold 0.825) is stricter at both tiers, as an on-chain
 * venue waits for keepers, blocks and gas (Black Thursday stalled MakerDAO's auctions) and
 * calibrates on stressed rather than recent volatility. docs/RISK.md compares them in full.
 */
export const DEFAULT_HAIRCUT_CONFIG: HaircutConfig = {
  maintenance: { confidence: 0.99, horizonSeconds: 4 * 3600 },
  initial: { confidence: 0.999, horizonSeconds: DAY_SECONDS },
  impactCoefficient: 1,
  floor: 0,
  step: 5_000n,
  maxWeight: 950_000n,
  liquidationPenalty: 50_000n,
};

/** Every figure behind one tier's haircut. */
export interface TierHaircut {
  readonly confidence: number;
  /** z(confidence). */
  readonly z: number;
  readonly horizonSeconds: number;
  /** z × σ_annual × sqrt(horizon / year). */
  readonly volatilityTerm: number;
  /** Y σ_daily sqrt(size / V). */
  readonly liquidityTerm: number;
  /** The haircut as a fraction: max(floor, volatility + liquidity), at most 1. */
  readonly haircut: number;
  /** The haircut rounded up to WEIGHT_SCALE. */
  readonly haircutPpm: bigint;
}

/** What the weights are calibrated from. */
export interface HaircutInput {
  /** Annualized volatility (the conservative estimate). */
  readonly volatilityAnnual: number;
  /** Position to liquidate, in the quote unit (0 for no liquidity term). */
  readonly sizeQuote?: number;
  /** Average daily traded volume, in the quote unit. */
  readonly dailyVolumeQuote?: number;
}

/** A proposal of weights and every figure behind it. */
export interface WeightProposal {
  readonly volatilityAnnual: number;
  /** σ over one day: σ_annual / sqrt(365). */
  readonly volatilityDaily: number;
  readonly sizeQuote: number;
  readonly dailyVolumeQuote: number;
  readonly maintenance: TierHaircut;
  readonly initial: TierHaircut;
  /** The proposed asset weights (WEIGHT_SCALE). */
  readonly weights: TierWeights;
  /** The same as decimal strings, ready for a listing. */
  readonly weightsDecimal: Readonly<Record<keyof TierWeights, string>>;
  readonly liquidationPenalty: bigint;
  /** Each rule that moved a weight away from 1 − haircut, in words. */
  readonly adjustments: readonly string[];
}

function checkInputs(input: HaircutInput, config: HaircutConfig): void {
  const fail = (message: string, field: string): never => {
    throw new FulcrumError('invalid_config', message, field);
  };
  const finiteAtLeast0 = (v: number) => Number.isFinite(v) && v >= 0;
  if (!finiteAtLeast0(input.volatilityAnnual))
    fail('volatilityAnnual must be a finite number >= 0', 'volatilityAnnual');
  if (!finiteAtLeast0(input.sizeQuote ?? 0)) fail('size must be a finite number >= 0', 'size');
  if (!finiteAtLeast0(input.dailyVolumeQuote ?? 0))
    fail('dailyVolumeQuote must be a finite number >= 0', 'dailyVolumeQuote');
  for (const tier of ['maintenance', 'initial'] as const) {
    const { confidence, horizonSeconds } = config[tier];
    if (!(confidence > 0.5 && confidence < 1))
      fail(`${tier} confidence must be in (0.5, 1)`, `${tier}.confidence`);
    if (!(horizonSeconds > 0) || !Number.isFinite(horizonSeconds))
      fail(`${tier} horizon must be a positive number of seconds`, `${tier}.horizonSeconds`);
  }
  if (!finiteAtLeast0(config.impactCoefficient))
    fail('impactCoefficient must be >= 0', 'impactCoefficient');
  if (!(config.floor >= 0 && config.floor <= 1)) fail('floor must be in [0, 1]', 'floor');
  if (config.step < 0n || config.step > WEIGHT_SCALE) fail('step must be in [0, 1]', 'step');
  if (config.maxWeight < 0n || config.maxWeight > WEIGHT_SCALE)
    fail('maxWeight must be in [0, 1]', 'maxWeight');
  if (config.liquidationPenalty < 0n || config.liquidationPenalty > WEIGHT_SCALE)
    fail('liquidationPenalty must be in [0, 1]', 'liquidationPenalty');
}

/**
 * One tier's haircut: z(confidence) × σ_annual × sqrt(horizon / year) plus the liquidity term,
 * at least the floor and at most 1, with its rounding up to WEIGHT_SCALE.
 *
 * @example
 * // 99% over 1 hour at 80% a year: 2.326348 × 0.8 × sqrt(3600 / 31,536,000) = 0.019884
 * tierHaircut({ confidence: 0.99, horizonSeconds: 3600 }, 0.8, 0, 0);
 */
export function tierHaircut(
  tier: TierHorizon,
  volatilityAnnual: number,
  liquidityTerm: number,
  floor: number,
): TierHaircut {
  const z = inverseNormalCdf(tier.confidence);
  const volatilityTerm = z * overHorizon(volatilityAnnual, tier.horizonSeconds);
  const haircut = Math.min(1, Math.max(floor, volatilityTerm + liquidityTerm));
  // Up, so that a weight built on it is never looser than the analysis.
  const haircutPpm = BigInt(Math.ceil(haircut * Number(WEIGHT_SCALE)));
  return {
    confidence: tier.confidence,
    z,
    horizonSeconds: tier.horizonSeconds,
    volatilityTerm,
    liquidityTerm,
    haircut,
    haircutPpm: haircutPpm > WEIGHT_SCALE ? WEIGHT_SCALE : haircutPpm,
  };
}

/** A weight rounded down to a multiple of `step` (no rounding for step 0). */
function downToStep(weight: bigint, step: bigint): bigint {
  // Both are non-negative here, so `/` truncates downward.
  return step > 0n ? (weight / step) * step : weight;
}

/** Whether maintenance × (1 + penalty) < 1, the listing rule of `validateAssetConfig`. */
export function meetsPenaltyRule(maintenance: bigint, penalty: bigint): boolean {
  return maintenance * (WEIGHT_SCALE + penalty) < WEIGHT_SCALE * WEIGHT_SCALE;
}

/**
 * The largest maintenance weight that passes the penalty rule: ceil(W² / (W + penalty)) − 1,
 * the last integer w with w × (W + penalty) < W².
 */
export function penaltyRuleMax(penalty: bigint): bigint {
  return divCeil(WEIGHT_SCALE * WEIGHT_SCALE, WEIGHT_SCALE + penalty) - 1n;
}

/**
 * Proposes asset weights from a volatility and, optionally, a position's size against daily
 * volume. maintenance = 1 − haircut(maintenance), initial = 1 − haircut(initial), each rounded
 * down to the step and clamped to [0, maxWeight]; initial is kept at or below maintenance; the
 * liquidation-end weight is their midpoint rounded down to the step. If maintenance ×
 * (1 + penalty) >= 1, maintenance is lowered to the largest step that passes (and initial and
 * liquidation-end with it when needed), and `adjustments` says so.
 *
 * @example
 * proposeWeights({ volatilityAnnual: 0.8 }).weightsDecimal;
 * // { initial: '0.87', liquidationEnd: '0.91', maintenance: '0.95' }
 */
export function proposeWeights(
  input: HaircutInput,
  config: HaircutConfig = DEFAULT_HAIRCUT_CONFIG,
): WeightProposal {
  checkInputs(input, config);
  const sizeQuote = input.sizeQuote ?? 0;
  const dailyVolumeQuote = input.dailyVolumeQuote ?? 0;
  const volatilityDaily = overHorizon(input.volatilityAnnual, DAY_SECONDS);
  const liquidityTerm = squareRootImpact({
    notional: sizeQuote,
    dailyVolumeQuote,
    dailyVolatility: volatilityDaily,
    coefficient: config.impactCoefficient,
  });
  const maintenance = tierHaircut(
    config.maintenance,
    input.volatilityAnnual,
    liquidityTerm,
    config.floor,
  );
  const initial = tierHaircut(config.initial, input.volatilityAnnual, liquidityTerm, config.floor);
  const adjustments: string[] = [];
  const show = (w: bigint) => formatDecimal(w, WEIGHT_DECIMALS);
  const weightOf = (h: TierHaircut, name: string): bigint => {
    const raw = downToStep(WEIGHT_SCALE - h.haircutPpm, config.step);
    if (raw <= config.maxWeight) return raw;
    adjustments.push(
      `${name} ${show(raw)} capped at the largest weight, ${show(config.maxWeight)}`,
    );
    return downToStep(config.maxWeight, config.step);
  };
  let maintenanceWeight = weightOf(maintenance, 'maintenance');
  let initialWeight = weightOf(initial, 'initial');
  if (!meetsPenaltyRule(maintenanceWeight, config.liquidationPenalty)) {
    const before = maintenanceWeight;
    maintenanceWeight = downToStep(penaltyRuleMax(config.liquidationPenalty), config.step);
    adjustments.push(
      `maintenance lowered from ${show(before)} to ${show(maintenanceWeight)} so that maintenance × (1 + ${show(config.liquidationPenalty)}) < 1`,
    );
  }
  if (initialWeight > maintenanceWeight) {
    adjustments.push(
      `initial ${show(initialWeight)} lowered to maintenance ${show(maintenanceWeight)}`,
    );
    initialWeight = maintenanceWeight;
  }
  // Midpoint, rounded down: both are non-negative, so `/` truncates downward.
  const endWeight = downToStep((initialWeight + maintenanceWeight) / 2n, config.step);
  const liquidationEnd = endWeight < initialWeight ? initialWeight : endWeight;
  const weights = { initial: initialWeight, liquidationEnd, maintenance: maintenanceWeight };
  return {
    volatilityAnnual: input.volatilityAnnual,
    volatilityDaily,
    sizeQuote,
    dailyVolumeQuote,
    maintenance,
    initial,
    weights,
    weightsDecimal: {
      initial: show(weights.initial),
      liquidationEnd: show(weights.liquidationEnd),
      maintenance: show(weights.maintenance),
    },
    liquidationPenalty: config.liquidationPenalty,
    adjustments,
  };
}
