/**
 * Fulcrum's risk analytics (`fulcrum/risk`): what a risk analyst calibrates listings with.
 * Volatility estimators over price bars, haircuts and proposed weights from volatility and
 * liquidation size, order books and market impact (linear depth, the square-root law), the
 * stress-margin controller, and the standard normal distribution. Float analytics, pure: the
 * engine never imports them, and their conclusions reach it only as commands (`set-weights`).
 */

export {
  DEFAULT_HAIRCUT_CONFIG,
  type HaircutConfig,
  type HaircutInput,
  meetsPenaltyRule,
  penaltyRuleMax,
  proposeWeights,
  type TierHaircut,
  tierHaircut,
  type TierHorizon,
  type WeightProposal,
} from './haircut.js';
export {
  type BookLevel,
  type DailyStats,
  dailyStats,
  depthCurve,
  type DepthPoint,
  fitLinearDepth,
  type ImpactInput,
  type LinearDepth,
  linearDepthImpact,
  ORDER_BOOK_HEADER,
  ORDER_BOOK_LEVELS_MAX,
  type OrderBook,
  parseOrderBook,
  squareRootImpact,
} from './liquidity.js';
export {
  DEFAULT_STRESS_MARGIN_CONFIG,
  MAX_MULTIPLIER_LIMIT,
  MULTIPLIER_ONE_PPM,
  type StressDecision,
  StressMargin,
  type StressMarginConfig,
  stressedWeights,
  type StressRegime,
  validateStressMarginConfig,
} from './stressMargin.js';
export {
  annualize,
  CALIBRATION_BARS_MIN,
  closeToCloseVolatility,
  DEFAULT_EWMA_HALF_LIFE_SECONDS,
  ewmaVolatility,
  garmanKlassVolatility,
  type LogReturn,
  logReturns,
  overHorizon,
  parkinsonVolatility,
  type Volatility,
  type VolatilityEstimates,
  volatilityEstimates,
} from './volatility.js';
export { inverseNormalCdf, normalCdf, normalPdf } from '../math/normal.js';
