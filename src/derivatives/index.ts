/**
 * Fulcrum's derivatives rules and analytics (`fulcrum/derivatives`): perpetuals, futures and
 * options as instruments and listings, a position's exact value, the engine's standard
 * requirements, Black-76 and its Greeks, volatility surfaces, forwards and carry, scenario
 * portfolio margin, and the risk report of a JSON portfolio. Pure, like the core: the engine
 * trades these instruments through its commands (`list-instrument`, `trade`, ...), and this
 * entry point is what prices, margins and reports them outside the engine.
 */

export * from './black76.js';
export * from './forwards.js';
export {
  type FutureSpec,
  type InstrumentSpec,
  type OptionSpec,
  type PerpetualSpec,
  SIZE_DECIMALS,
  sizeAdjusted,
  validateInstrument,
} from './instruments.js';
export {
  DEFAULT_PROFIT_WEIGHT,
  type InstrumentListing,
  parseInstrumentListing,
} from './listing.js';
export * from './portfolioMargin.js';
export {
  type DerivativePosition,
  positionValue,
  RATE_SCALE,
  SIZE_UNIT,
  VALUE_UNIT,
} from './position.js';
export {
  isolatedLiquidationPrice,
  type ModeMargin,
  parseInstrument,
  parsePortfolio,
  type Portfolio,
  type PortfolioReport,
  portfolioReport,
  type PositionReport,
  positionReport,
  type ReportPosition,
} from './report.js';
export { type Requirement, settlementPrice, standardRequirement } from './requirement.js';
export * from './volSurface.js';
