/**
 * Fulcrum's cascade simulator (`fulcrum/sim`): a population of accounts on the real engine and
 * liquidation monitor, driven along a price path (historical bars or GBM with jumps) through an
 * impact market, once per liquidation policy, with the result as data and as an HTML report.
 * Seeded and deterministic: the same input gives the same run.
 */

export { SeededRandom } from '../math/random.js';
export {
  DEFAULT_MARKET_MODEL,
  Market,
  type MarketAsset,
  type MarketModel,
  validateMarketModel,
} from './market.js';
export {
  type BarSeries,
  pathFromBars,
  type PricePath,
  priceInBar,
  type SyntheticAsset,
  syntheticPath,
} from './path.js';
export { POLICIES, type Policy, selectPolicies } from './policies.js';
export {
  type AccountSpec,
  DEFAULT_POPULATION,
  generatePopulation,
  parsePopulation,
  type PopulationSpec,
  validatePopulation,
} from './population.js';
export { renderReport } from './report.js';
export type * from './result.js';
export {
  buildInput,
  type BuildOptions,
  findScenario,
  type PerpsOptions,
  type Scenario,
  SCENARIOS,
} from './scenarios.js';
export {
  DEBT_ASSET,
  defaultListing,
  type LiquidatorSpec,
  type Progress,
  simulate,
  type SimulationInput,
  toPrice,
} from './simulator.js';
