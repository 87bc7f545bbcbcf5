/**
 * Fulcrum: margin and liquidation engine. The core entry point of the library (`fulcrum`): the
 * engine and its commands, events and state queries, margin and health, lending pools, the
 * oracle and price feeds, liquidation sizing and the liquidation monitor, and the domain types
 * they share.
 *
 * The core is pure and deterministic: no clock, no randomness, no I/O, and no runtime
 * dependency, so it runs the same in Node.js and in a browser. The other entry points:
 * `fulcrum/store` (journal, snapshots, recovery, history; Node.js), `fulcrum/derivatives`
 * (instruments, Black-76, surfaces, portfolio margin, the portfolio risk report),
 * `fulcrum/risk` (volatility, haircuts, market impact, the stress-margin controller) and
 * `fulcrum/sim` (the cascade simulator).
 */

export {
  type AssetConfig,
  DEFAULT_INTEREST_RATE_CURVE,
  type InterestRateCurve,
  parseAssetConfig,
  TIERS,
  type Tier,
  validateAssetConfig,
} from './domain/asset.js';
export { AssertionError, ERROR_CODES, type ErrorCode, FulcrumError } from './base/errors.js';
export { PRICE_MAX, parsePrice } from './domain/price.js';
export { parseJsonText } from './domain/json.js';
export { applyCommand, type CommandResult, dryRun } from './engine/apply.js';
export type * from './engine/commands.js';
export { decodeCommand } from './engine/decode.js';
export { decodeJson, Engine } from './engine/engine.js';
export type * from './engine/events.js';
export { renderEvent, renderEventsJson, renderResult } from './engine/render.js';
export {
  type AccountState,
  type AssetState,
  createState,
  type EngineState,
  BACKSTOP_ACCOUNT,
  type DerivativesBook,
  INSURANCE_ACCOUNT,
  type InstrumentState,
  type MarginMode,
  positionLimit,
  RESERVED_ACCOUNT_PREFIX,
  SETTLEMENT_ACCOUNT,
  type SubAccountRef,
  type SubAccountState,
  VENUE_ACCOUNT,
} from './engine/state.js';
export { LIMITS } from './domain/limits.js';
export { canonicalState, stateHash } from './engine/stateHash.js';
export { type AssetRisk, assetRisk } from './margin/assetRisk.js';
export { evaluateHealth, HealthSnapshot, type Position, type TierHealth } from './margin/health.js';
export { type Portfolio, parsePortfolio } from './margin/portfolio.js';
export { type HealthReport, healthReport, renderHealthReport } from './margin/report.js';
export {
  collateralLiquidationPrice,
  debtLiquidationPrice,
  maxBorrowByMargin,
  maxWithdrawByMargin,
} from './margin/whatIf.js';
export { formatDecimal, parseDecimal } from './math/decimal.js';
export {
  AMOUNT_MAX,
  divCeil,
  divFloor,
  HEALTH_DECIMALS,
  HEALTH_SCALE,
  PRICE_DECIMALS,
  PRICE_SCALE,
  RAY,
  RAY_DECIMALS,
  VALUE_DECIMALS,
  VALUE_SCALE,
  WEIGHT_DECIMALS,
  WEIGHT_SCALE,
} from './math/fixed.js';
export { barSeconds, DAY_SECONDS, SECONDS_PER_YEAR, YEAR_SECONDS } from './math/time.js';
export {
  borrowRateAnnualRay,
  supplyRateAnnualRay,
  utilizationRay,
} from './pools/interestRateCurve.js';
export {
  accrue,
  debtAmount,
  INDEX_MAX_RAY,
  POOL_VALUE_MAX,
  type PoolState,
  poolSurplusRayUnits,
  poolValue,
  supplyAmount,
  totalDebt,
  totalSupply,
} from './pools/pool.js';
export {
  holdingReport,
  type LiquidationStatus,
  liquidationStatus,
  poolSummaries,
  subAccountReport,
} from './engine/queries.js';
export {
  DEFAULT_ORACLE_CONFIG,
  type OracleConfig,
  parseOracleConfig,
} from './domain/oracleConfig.js';
export {
  DEFAULT_PRICE_POLICY,
  type Grade,
  GRADES,
  gradeAllows,
  type PriceAction,
  type PricePolicy,
} from './domain/priceGrade.js';
export {
  advanceDelay,
  aggregate,
  type Aggregation,
  breakerFrozen,
  delayPrice,
  followStable,
  gradeAt,
  type OracleState,
  type SourceQuote,
  type StoredQuote,
  takeQuote,
} from './oracle/oracle.js';
export type { Bar } from './domain/bar.js';
export { OHLCV_HEADER, parseOhlcv } from './feeds/ohlcv.js';
export { describeFile, type QuoteJson, replayQuotes, type SourceSeries } from './feeds/replay.js';
export { type AssetReplay, replayReport } from './feeds/replayReport.js';
export { type SimulatedMarket, simulateMarket } from './feeds/simulated.js';
export { LiveFeed, type LiveQuote } from './feeds/live.js';
export {
  DEFAULT_LIQUIDATION_CONFIG,
  type LiquidationConfig,
  parseLiquidationConfig,
} from './domain/liquidationConfig.js';
export {
  DEFAULT_VENUE_CONFIG,
  parseVenueConfig,
  TIME_JUMP_SECONDS_LIMIT,
  type VenueConfig,
} from './domain/venueConfig.js';
export {
  type LiquidationInput,
  type LiquidationLeg,
  type LiquidationPlan,
  penaltyLimit,
  planLiquidation,
} from './liquidation/plan.js';
export {
  FLOAT_BAND,
  LiquidationMonitor,
  type MonitorScan,
  SWEEP_THRESHOLD,
} from './liquidation/monitor.js';
