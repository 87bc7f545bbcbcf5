/**
 * Market commands: listing an asset, and its price: set directly (`set-price`, for assets
 * listed without an oracle) or aggregated from its sources' quotes (`quote`, for assets with
 * one: see `oracle/oracle.ts`).
 */
import { FulcrumError } from '../base/errors.js';
import { assetRisk } from '../margin/assetRisk.js';
import {
  captureSettlement,
  emitOracleUpdate,
  quoteInstrument,
  setInstrumentPrice,
} from './trading.js';
import { LIMITS } from '../domain/limits.js';
import { ORACLE_SOURCES_MAX } from '../domain/oracleConfig.js';
import { initialOracleState, takeQuote } from '../oracle/oracle.js';
import { emptyPool } from '../pools/pool.js';
import { validateAssetConfig } from '../domain/asset.js';
import type {
  ConfigureVenueCommand,
  ListAssetCommand,
  QuoteCommand,
  SetPriceCommand,
  SetWeightsCommand,
} from './commands.js';
import type { Draft } from './draft.js';
import { checkLocation, heldInitialWeight, mirrorPrices } from './chains.js';

/**
 * Fewest decimals a pool asset may have. Scaled balances round to the base unit in the venue's
 * favour, so every pool operation may cost a user up to one base unit: a millionth of a whole
 * unit at 6 decimals, but a whole unit of an indivisible asset once an index has moved past 1.
 */
export const POOL_DECIMALS_MIN = 6;

export function listAsset(draft: Draft, command: ListAssetCommand): void {
  const { config, price } = command;
  const index = draft.assetCount;
  if (draft.base.assetIndex.has(config.symbol) || draft.lookupInstrument(config.symbol)) {
    throw new FulcrumError(
      'asset_already_listed',
      `${config.symbol} is already listed`,
      'config.symbol',
    );
  }
  if (index >= LIMITS.assets) {
    throw new FulcrumError(
      'limit_exceeded',
      `at most ${LIMITS.assets} assets can be listed`,
      'config.symbol',
    );
  }
  if (config.decimals < POOL_DECIMALS_MIN) {
    throw new FulcrumError(
      'invalid_config',
      `${config.symbol}: a pool asset needs at least ${POOL_DECIMALS_MIN} decimals (list a ` +
        `wrapped unit): with fewer, rounding a balance could cost a user a whole unit`,
      'config.decimals',
    );
  }
  checkLocation(draft, config);
  // An asset held on a chain takes the prices of the asset it copies, not the command's.
  const copied =
    config.location === undefined
      ? undefined
      : draft.asset(draft.base.assetIndex.get(config.location.asset) ?? -1).risk;
  draft.setAsset({
    index,
    config,
    risk:
      copied === undefined
        ? assetRisk(config, price, price)
        : assetRisk(config, copied.oraclePrice, copied.stablePrice),
    pool: emptyPool(draft.time),
    oracle: config.oracle === null ? null : initialOracleState(price, draft.time, config.oracle),
  });
  const listed = copied?.oraclePrice ?? price;
  draft.emit({
    type: 'asset-listed',
    asset: config.symbol,
    decimals: config.decimals,
    price: listed,
  });
}

export function setPrice(draft: Draft, command: SetPriceCommand): void {
  const instrument = draft.lookupInstrument(command.asset);
  if (instrument !== undefined) {
    setInstrumentPrice(draft, instrument, command);
    return;
  }
  const asset = draft.findAsset(command.asset, 'asset');
  if (asset.config.location !== undefined) {
    const message = `${asset.config.symbol} is priced by ${asset.config.location.asset}: set its price`;
    throw new FulcrumError('oracle_managed', message, 'asset');
  }
  if (asset.oracle !== null) {
    throw new FulcrumError(
      'oracle_managed',
      `${asset.config.symbol} is priced by its oracle: send quotes from its sources`,
      'asset',
    );
  }
  const stablePrice = command.stablePrice ?? command.price;
  draft.setAsset({ ...asset, risk: assetRisk(asset.config, command.price, stablePrice) });
  draft.emit({ type: 'price-set', asset: asset.config.symbol, price: command.price, stablePrice });
  mirrorPrices(draft, asset.index);
  captureSettlement(draft, asset.index);
}

/**
 * New collateral weights for a listed asset: the listing with them must pass every listing
 * rule; the asset's risk factors are rebuilt at its current prices.
 */
export function setWeights(draft: Draft, command: SetWeightsCommand): void {
  const asset = draft.findAsset(command.asset, 'asset');
  validateAssetConfig({ ...asset.config, assetWeight: command.assetWeight }, 'assetWeight');
  const before = asset.config.assetWeight;
  const after = command.assetWeight;
  // On a tripped chain, the initial weight is held for when it is active again (chains.ts).
  const initial = heldInitialWeight(draft, asset, after.initial);
  const config = { ...asset.config, assetWeight: { ...after, initial } };
  draft.setAsset({
    ...asset,
    config,
    risk: assetRisk(config, asset.risk.oraclePrice, asset.risk.stablePrice, asset.risk.confidence),
  });
  draft.emit({
    type: 'weights-set',
    asset: config.symbol,
    initialPpm: after.initial,
    liquidationEndPpm: after.liquidationEnd,
    maintenancePpm: after.maintenance,
    previousInitialPpm: before.initial,
    previousLiquidationEndPpm: before.liquidationEnd,
    previousMaintenancePpm: before.maintenance,
  });
}

/**
 * Takes one source's quote into the asset's oracle: re-aggregates, grades, moves the stable
 * price, watches the breaker, and adopts the new price when there is one; the risk factors are
 * rebuilt when the price, the stable price or the confidence (which may widen margin prices)
 * moved.
 */
export function quote(draft: Draft, command: QuoteCommand): void {
  const instrument = draft.lookupInstrument(command.asset);
  if (instrument !== undefined) {
    quoteInstrument(draft, instrument, command);
    return;
  }
  const asset = draft.findAsset(command.asset, 'asset');
  const { config } = asset;
  if (asset.oracle === null || config.oracle === null) {
    throw new FulcrumError('no_oracle', `${config.symbol} has no oracle: set its price`, 'asset');
  }
  const observedAt = command.observedAt ?? command.time;
  if (!asset.oracle.quotes.some((q) => q.source === command.source)) {
    if (asset.oracle.quotes.length >= ORACLE_SOURCES_MAX) {
      throw new FulcrumError(
        'limit_exceeded',
        `${config.symbol} has ${ORACLE_SOURCES_MAX} sources already`,
        'source',
      );
    }
  }
  const source = {
    source: command.source,
    price: command.price,
    confidence: command.confidence ?? null,
    observedAt,
  };
  const update = takeQuote(asset.oracle, source, draft.time, config.oracle);
  const next = update.state;
  const moved =
    next.price !== asset.oracle.price ||
    next.stablePrice !== asset.oracle.stablePrice ||
    next.confidence !== asset.oracle.confidence;
  draft.setAsset({
    ...asset,
    oracle: next,
    risk: moved ? assetRisk(config, next.price, next.stablePrice, next.confidence) : asset.risk,
  });
  if (moved) mirrorPrices(draft, asset.index);
  if (update.aggregation.price !== null) captureSettlement(draft, asset.index);
  emitOracleUpdate(draft, config.symbol, update);
}

/** `configure-venue`: the venue's engine-wide rules (see `domain/venueConfig.ts`). */
export function configureVenue(draft: Draft, command: ConfigureVenueCommand): void {
  draft.setVenueConfig(command.config);
  draft.emit({ type: 'venue-configured' });
}
