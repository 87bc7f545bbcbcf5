/**
 * A portfolio given as JSON, evaluated on its own without an engine: the input of
 * `fulcrum health`. Each asset carries its price and weights; balances are signed decimal
 * strings in whole units (negative = borrowed).
 *
 * ```json
 * {"assets": {"ETH": {"price": "2000", "decimals": 18, "initialWeight": "0.8",
 *   "maintenanceWeight": "0.825", "liabilityWeight": "1"}, "USDC": {...}},
 *  "balances": {"ETH": "10", "USDC": "-5000"}}
 * ```
 */
import { FulcrumError } from '../base/errors.js';
import { ASSET_CONFIG_FIELDS, type AssetConfig, parseAssetConfig } from '../domain/asset.js';
import { expectObject, rejectUnknownFields } from '../domain/input.js';
import { parsePrice } from '../domain/price.js';
import { fieldName } from '../domain/quote.js';
import { parseDecimal } from '../math/decimal.js';
import { AMOUNT_MAX } from '../math/fixed.js';
import { assetRisk } from './assetRisk.js';
import type { Position } from './health.js';

/** Largest number of assets in one portfolio. */
export const PORTFOLIO_ASSETS_MAX = 128;

export interface Portfolio {
  readonly configs: readonly AssetConfig[];
  /** One position per asset, in `Object.keys` order of `assets`; zero where no balance. */
  readonly positions: readonly Position[];
}

/**
 * Parses a portfolio. Every asset named in `balances` must be described in `assets`.
 *
 * @example
 * const { positions } = parsePortfolio(JSON.parse(text));
 * healthReport(positions);
 */
export function parsePortfolio(input: unknown): Portfolio {
  const raw = expectObject(input, 'portfolio');
  rejectUnknownFields(raw, ['assets', 'balances'], '');
  const assets = expectObject(raw.assets, 'assets');
  const balances = raw.balances === undefined ? {} : expectObject(raw.balances, 'balances');
  const symbols = Object.keys(assets);
  if (symbols.length > PORTFOLIO_ASSETS_MAX) {
    throw new FulcrumError('limit_exceeded', `at most ${PORTFOLIO_ASSETS_MAX} assets`, 'assets');
  }
  for (const symbol of Object.keys(balances)) {
    // Own keys only: `constructor` or `__proto__` must not pass for a listed asset.
    if (!Object.hasOwn(assets, symbol)) {
      throw new FulcrumError(
        'unknown_asset',
        `balances.${fieldName(symbol)} names an asset missing from assets`,
        `balances.${fieldName(symbol)}`,
      );
    }
  }
  const configs: AssetConfig[] = [];
  const positions: Position[] = symbols.map((symbol) => {
    // A key as messages show it: cut and escaped when long or odd.
    const field = `assets.${fieldName(symbol)}`;
    const entry = expectObject(assets[symbol], field);
    const fields = ASSET_CONFIG_FIELDS.filter((f) => f !== 'symbol');
    rejectUnknownFields(entry, [...fields, 'price', 'stablePrice'], field);
    const { price: priceText, stablePrice: stableText, ...rest } = entry;
    const config = parseAssetConfig({ ...rest, symbol }, field);
    const price = parsePrice(priceText, `${field}.price`);
    const stable =
      stableText === undefined ? price : parsePrice(stableText, `${field}.stablePrice`);
    const balance = Object.hasOwn(balances, symbol) ? balances[symbol] : undefined;
    const amount =
      balance === undefined
        ? 0n
        : parseDecimal(balance, config.decimals, {
            field: `balances.${fieldName(symbol)}`,
            signed: true,
            min: -AMOUNT_MAX,
            max: AMOUNT_MAX,
          });
    configs.push(config);
    return { risk: assetRisk(config, price, stable), amount };
  });
  return { configs, positions };
}
