/**
 * JSON commands to typed commands. Amounts are decimal strings in whole units of their asset
 * (`"10.5"` ETH), so decoding needs the state to know each asset's decimals; prices are decimal
 * strings in quote units. Unknown fields are refused, so a typo never becomes a silent default.
 */
import { parseAssetConfig } from '../domain/asset.js';
import { LIMITS } from '../domain/limits.js';
import { parseLiquidationConfig } from '../domain/liquidationConfig.js';
import { parseVenueConfig } from '../domain/venueConfig.js';
import { FulcrumError } from '../base/errors.js';
import {
  expectInteger,
  expectObject,
  expectString,
  type JsonObject,
  rejectUnknownFields,
} from '../domain/input.js';
import { PRICE_MAX, parsePrice } from '../domain/price.js';
import { parseDecimal } from '../math/decimal.js';
import { AMOUNT_MAX, PRICE_DECIMALS, WEIGHT_DECIMALS, WEIGHT_SCALE } from '../math/fixed.js';
import type { Command, LiquidateCommand, QuoteCommand, TradeCommand } from './commands.js';
import { SIZE_DECIMALS } from '../derivatives/instruments.js';
import { parseInstrumentListing } from '../derivatives/listing.js';
import { quoteInput } from '../domain/quote.js';
import { COMMAND_TYPES } from './commands.js';
import { type EngineState, type SubAccountRef } from './state.js';

const ACCOUNT_FIELDS = ['type', 'time', 'account', 'subAccount', 'asset', 'amount'];

/**
 * Decodes one JSON command (already parsed from text) against the current state.
 *
 * @example
 * decodeCommand({ type: 'deposit', time: 5, account: 'alice', asset: 'ETH', amount: '1.5' }, state);
 */
export function decodeCommand(input: unknown, state: EngineState): Command {
  const raw = expectObject(input, 'command');
  const type = expectString(raw.type, 'type');
  if (!(COMMAND_TYPES as readonly string[]).includes(type)) {
    throw new FulcrumError(
      'unknown_command',
      `unknown command type ${JSON.stringify(type)}; expected one of ${COMMAND_TYPES.join(', ')}`,
      'type',
    );
  }
  const time = expectInteger(raw.time, 'time', 0, LIMITS.timeMax);
  switch (type) {
    case 'list-asset':
      rejectUnknownFields(raw, ['type', 'time', 'config', 'price'], '');
      return {
        type,
        time,
        config: parseAssetConfig(raw.config, 'config'),
        price: parsePrice(raw.price, 'price'),
      };
    case 'set-price': {
      rejectUnknownFields(raw, ['type', 'time', 'asset', 'price', 'stablePrice'], '');
      const asset = assetSymbol(raw, state, 'asset', true);
      const oracle = parsePrice(raw.price, 'price');
      return raw.stablePrice === undefined
        ? { type, time, asset, price: oracle }
        : {
            type,
            time,
            asset,
            price: oracle,
            stablePrice: parsePrice(raw.stablePrice, 'stablePrice'),
          };
    }
    case 'quote': {
      rejectUnknownFields(
        raw,
        ['type', 'time', 'asset', 'source', 'price', 'confidence', 'observedAt'],
        '',
      );
      const asset = assetSymbol(raw, state, 'asset', true);
      const source = expectString(raw.source, 'source');
      const price = parseDecimal(raw.price, PRICE_DECIMALS, {
        field: 'price',
        signed: true,
        min: -PRICE_MAX,
        max: PRICE_MAX,
      });
      const quote: QuoteCommand = { type, time, asset, source, price };
      const confidence =
        raw.confidence === undefined
          ? undefined
          : parseDecimal(raw.confidence, PRICE_DECIMALS, { field: 'confidence', max: PRICE_MAX });
      const observedAt =
        raw.observedAt === undefined
          ? undefined
          : expectInteger(raw.observedAt, 'observedAt', 0, LIMITS.timeMax);
      return {
        ...quote,
        ...(confidence === undefined ? {} : { confidence }),
        ...(observedAt === undefined ? {} : { observedAt }),
      };
    }
    case 'configure-liquidation':
      rejectUnknownFields(raw, ['type', 'time', 'config'], '');
      return {
        type,
        time,
        config: parseLiquidationConfig(raw.config, 'config', state.liquidationConfig),
      };
    case 'configure-venue':
      rejectUnknownFields(raw, ['type', 'time', 'config'], '');
      return {
        type,
        time,
        config: parseVenueConfig(raw.config, 'config', state.venueConfig),
      };
    case 'liquidate': {
      rejectUnknownFields(
        raw,
        [
          'type',
          'time',
          'liquidator',
          'target',
          'debtAsset',
          'collateralAsset',
          'amount',
          'maxPenalty',
        ],
        '',
      );
      const debtAsset = assetSymbol(raw, state, 'debtAsset');
      const collateralAsset = assetSymbol(raw, state, 'collateralAsset');
      const command: LiquidateCommand = {
        type,
        time,
        liquidator: ref(expectObject(raw.liquidator, 'liquidator'), 'liquidator'),
        target: ref(expectObject(raw.target, 'target'), 'target'),
        debtAsset,
        collateralAsset,
        amount: raw.amount === 'max' ? 'max' : amount(raw.amount, debtAsset, state),
      };
      if (raw.maxPenalty === undefined) return command;
      const maxPenalty = parseDecimal(raw.maxPenalty, WEIGHT_DECIMALS, {
        field: 'maxPenalty',
        max: WEIGHT_SCALE,
      });
      return { ...command, maxPenalty };
    }
    case 'backstop':
      rejectUnknownFields(raw, ['type', 'time', 'target', 'debtAsset', 'collateralAsset'], '');
      return {
        type,
        time,
        target: ref(expectObject(raw.target, 'target'), 'target'),
        debtAsset: assetSymbol(raw, state, 'debtAsset'),
        collateralAsset: assetSymbol(raw, state, 'collateralAsset'),
      };
    case 'resolve-bankruptcy':
      rejectUnknownFields(raw, ['type', 'time', 'target'], '');
      return { type, time, target: ref(expectObject(raw.target, 'target'), 'target') };
    case 'list-instrument':
      rejectUnknownFields(raw, ['type', 'time', 'config', 'price'], '');
      return {
        type,
        time,
        config: parseInstrumentListing(raw.config, 'config'),
        price: parsePrice(raw.price, 'price'),
      };
    case 'trade': {
      rejectUnknownFields(
        raw,
        ['type', 'time', 'buyer', 'seller', 'instrument', 'size', 'price', 'buyerFee', 'sellerFee'],
        '',
      );
      const command: TradeCommand = {
        type,
        time,
        buyer: ref(expectObject(raw.buyer, 'buyer'), 'buyer'),
        seller: ref(expectObject(raw.seller, 'seller'), 'seller'),
        instrument: instrumentSymbol(raw, state),
        size: size(raw.size, 'size'),
        price: parsePrice(raw.price, 'price'),
      };
      const fee = (field: 'buyerFee' | 'sellerFee') =>
        raw[field] === undefined ? {} : { [field]: settlementAmount(raw[field], field, state) };
      return { ...command, ...fee('buyerFee'), ...fee('sellerFee') };
    }
    case 'settle-funding':
    case 'expire':
      rejectUnknownFields(raw, ['type', 'time', 'instrument'], '');
      return { type, time, instrument: instrumentSymbol(raw, state) };
    case 'set-mode': {
      rejectUnknownFields(raw, ['type', 'time', 'account', 'subAccount', 'mode'], '');
      const mode = expectString(raw.mode, 'mode');
      if (mode !== 'cross' && mode !== 'isolated' && mode !== 'portfolio') {
        throw new FulcrumError(
          'invalid_field',
          'mode must be cross, isolated or portfolio',
          'mode',
        );
      }
      return { type, time, ...ref(raw, ''), mode };
    }
    case 'settle-pnl':
      rejectUnknownFields(raw, ['type', 'time', 'account', 'subAccount'], '');
      return { type, time, ...ref(raw, '') };
    case 'set-volatility':
      rejectUnknownFields(raw, ['type', 'time', 'asset', 'volatility'], '');
      return {
        type,
        time,
        asset: assetSymbol(raw, state),
        volatility: parseDecimal(raw.volatility, 6, { field: 'volatility', max: 10_000_000n }),
      };
    case 'deleverage':
      rejectUnknownFields(raw, ['type', 'time', 'target', 'instrument'], '');
      return {
        type,
        time,
        target: ref(expectObject(raw.target, 'target'), 'target'),
        instrument: instrumentSymbol(raw, state),
      };
    case 'liquidate-position':
      rejectUnknownFields(
        raw,
        ['type', 'time', 'liquidator', 'target', 'instrument', 'amount'],
        '',
      );
      return {
        type,
        time,
        liquidator: ref(expectObject(raw.liquidator, 'liquidator'), 'liquidator'),
        target: ref(expectObject(raw.target, 'target'), 'target'),
        instrument: instrumentSymbol(raw, state),
        amount: raw.amount === 'max' ? 'max' : size(raw.amount, 'amount'),
      };
    case 'set-weights': {
      rejectUnknownFields(
        raw,
        ['type', 'time', 'asset', 'initialWeight', 'liquidationEndWeight', 'maintenanceWeight'],
        '',
      );
      const weight = (name: string) =>
        parseDecimal(raw[name], WEIGHT_DECIMALS, { field: name, max: WEIGHT_SCALE });
      const initial = weight('initialWeight');
      const maintenance = weight('maintenanceWeight');
      // The liquidation-end weight defaults to the midpoint, rounded down (as in a listing).
      const liquidationEnd =
        raw.liquidationEndWeight === undefined
          ? (initial + maintenance) / 2n
          : weight('liquidationEndWeight');
      return {
        type,
        time,
        asset: assetSymbol(raw, state),
        assetWeight: { initial, liquidationEnd, maintenance },
      };
    }
    case 'accrue':
      rejectUnknownFields(raw, ['type', 'time', 'asset'], '');
      return { type, time, asset: assetSymbol(raw, state) };
    case 'deposit':
    case 'borrow': {
      rejectUnknownFields(raw, ACCOUNT_FIELDS, '');
      const asset = assetSymbol(raw, state);
      return { type, time, ...ref(raw, ''), asset, amount: amount(raw.amount, asset, state) };
    }
    case 'withdraw':
    case 'repay': {
      rejectUnknownFields(raw, ACCOUNT_FIELDS, '');
      const asset = assetSymbol(raw, state);
      return { type, time, ...ref(raw, ''), asset, amount: amountOrAll(raw.amount, asset, state) };
    }
    case 'transfer': {
      rejectUnknownFields(raw, ['type', 'time', 'from', 'to', 'asset', 'amount'], '');
      const asset = assetSymbol(raw, state);
      const from = ref(expectObject(raw.from, 'from'), 'from');
      const to = ref(expectObject(raw.to, 'to'), 'to');
      return { type, time, from, to, asset, amount: amountOrAll(raw.amount, asset, state) };
    }
  }
  throw new FulcrumError('unknown_command', `unknown command type ${type}`, 'type');
}

function assetSymbol(
  raw: JsonObject,
  state: EngineState,
  field = 'asset',
  orInstrument = false,
): string {
  const symbol = expectString(raw[field], field);
  if (orInstrument && state.instrumentIndex.has(symbol)) return symbol;
  if (!state.assetIndex.has(symbol)) {
    throw new FulcrumError('unknown_asset', `asset ${JSON.stringify(symbol)} is not listed`, field);
  }
  return symbol;
}

function instrumentSymbol(raw: JsonObject, state: EngineState, field = 'instrument'): string {
  const symbol = expectString(raw[field], field);
  if (!state.instrumentIndex.has(symbol)) {
    throw new FulcrumError(
      'unknown_instrument',
      `instrument ${quoteInput(symbol)} is not listed`,
      field,
    );
  }
  return symbol;
}

/** A size in units of the underlying (8 decimals), above 0 and at most 10^12 units. */
function size(input: unknown, field: string): bigint {
  return parseDecimal(input, SIZE_DECIMALS, { field, max: LIMITS.sizeMax });
}

/** An amount of the settlement asset in its whole units (a fee). */
function settlementAmount(input: unknown, field: string, state: EngineState): bigint {
  const symbol = state.venueConfig.settlementAsset;
  const index = state.assetIndex.get(symbol);
  if (index === undefined) {
    throw new FulcrumError('unknown_asset', `the settlement asset ${symbol} is not listed`, field);
  }
  const decimals = state.assets[index]?.config.decimals ?? 0;
  return parseDecimal(input, decimals, { field, max: AMOUNT_MAX });
}

function ref(raw: JsonObject, field: string): SubAccountRef {
  const prefix = field === '' ? '' : `${field}.`;
  if (field !== '') rejectUnknownFields(raw, ['account', 'subAccount'], field);
  const account = expectString(raw.account, `${prefix}account`);
  const subAccount =
    raw.subAccount === undefined
      ? 0
      : expectInteger(raw.subAccount, `${prefix}subAccount`, 0, LIMITS.subAccountsPerAccount - 1);
  return { account, subAccount };
}

function amount(input: unknown, symbol: string, state: EngineState): bigint {
  if (input === undefined) throw new FulcrumError('invalid_field', 'amount is required', 'amount');
  const index = state.assetIndex.get(symbol) ?? 0;
  const decimals = state.assets[index]?.config.decimals ?? 0;
  const value = parseDecimal(input, decimals, { field: 'amount', max: AMOUNT_MAX });
  if (value === 0n)
    throw new FulcrumError('zero_amount', 'amount must be more than zero', 'amount');
  return value;
}

function amountOrAll(input: unknown, symbol: string, state: EngineState): bigint | 'all' {
  return input === 'all' ? 'all' : amount(input, symbol, state);
}
