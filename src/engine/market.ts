/**
 * Market commands: listing an asset and setting its price. A price here is a plain oracle
 * update; aggregation, grading and smoothing of prices belong to the oracle layer above.
 */
import { FulcrumError } from '../domain/errors.js';
import { assetRisk } from '../margin/assetRisk.js';
import { emptyPool } from '../pools/pool.js';
import type { ListAssetCommand, SetPriceCommand } from './commands.js';
import type { Draft } from './draft.js';
import { LIMITS } from './state.js';

/**
 * Fewest decimals a pool asset may have. Scaled balances round to the base unit in the venue's
 * favour, so every pool operation may cost a user up to one base unit: a millionth of a whole
 * unit at 6 decimals, but a whole unit of an indivisible asset once an index has moved past 1.
 */
export const POOL_DECIMALS_MIN = 6;

export function listAsset(draft: Draft, command: ListAssetCommand): void {
  const { config, price } = command;
  const index = draft.assetCount;
  if (draft.base.assetIndex.has(config.symbol)) {
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
  draft.setAsset({
    index,
    config,
    risk: assetRisk(config, price, price),
    pool: emptyPool(draft.time),
  });
  draft.emit({ type: 'asset-listed', asset: config.symbol, decimals: config.decimals, price });
}

export function setPrice(draft: Draft, command: SetPriceCommand): void {
  const asset = draft.findAsset(command.asset, 'asset');
  const stablePrice = command.stablePrice ?? command.price;
  draft.setAsset({ ...asset, risk: assetRisk(asset.config, command.price, stablePrice) });
  draft.emit({ type: 'price-set', asset: asset.config.symbol, price: command.price, stablePrice });
}
