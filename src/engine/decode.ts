/**
 * JSON commands to typed commands. Amounts are decimal strings in whole units of their asset
 * (`"10.5"` ETH), so decoding needs the state to know each asset's decimals; prices are decimal
 * strings in quote units. Unknown fields are refused, so a typo never becomes a silent default.
 */
import { parseAssetConfig } from '../domain/asset.js';
import { ACTOR_ID_PATTERN, LIMITS } from '../domain/limits.js';
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
import type {
  Command,
  CommandType,
  LiquidateCommand,
  QuoteCommand,
  TradeCommand,
} from './commands.js';
import { SIZE_DECIMALS } from '../derivatives/instruments.js';
import { parseInstrumentListing } from '../derivatives/listing.js';
import { quoteInput } from '../domain/quote.js';
import { ATTRIBUTED_COMMANDS, COMMAND_TYPES } from './commands.js';
import { CHAIN_DECODERS } from './decodeChains.js';
import { amount, amountOrAll, assetSymbol, ref } from './decodeFields.js';
import type { EngineState } from './state.js';

const ACCOUNT_FIELDS = ['type', 'time', 'account', 'subAccount', 'asset', 'amount'];

/** Decodes the fields of one command type; `time` is already checked. */
export type Decoder = (raw: JsonObject, time: number, state: EngineState) => Command;

/**
 * Decodes one JSON command (already parsed from text) against the current state.
 *
 * @example
 * decodeCommand({ type: 'deposit', time: 5, account: 'alice', asset: 'ETH', amount: '1.5' }, state);
 */
export function decodeCommand(input: unknown, state: EngineState): Command {
  const raw = expectObject(input, 'command');
  const type = expectString(raw.type, 'type');
  const decoder = DECODERS.get(type);
  if (decoder === undefined) {
    throw new FulcrumError(
      'unknown_command',
      `unknown command type ${JSON.stringify(type)}; expected one of ${COMMAND_TYPES.join(', ')}`,
      'type',
    );
  }
  const time = expectInteger(raw.time, 'time', 0, LIMITS.timeMax);
  if (raw.by === undefined || !ATTRIBUTED_COMMANDS.has(type)) return decoder(raw, time, state);
  const by = expectString(raw.by, 'by');
  if (!ACTOR_ID_PATTERN.test(by)) {
    throw new FulcrumError('invalid_field', 'by must be 1-64 letters, digits or _ . : @ -', 'by');
  }
  const { by: _by, ...rest } = raw;
  return { ...decoder(rest, time, state), by } as Command;
}

function decodeListAsset(raw: JsonObject, time: number): Command {
  rejectUnknownFields(raw, ['type', 'time', 'config', 'price'], '');
  return {
    type: 'list-asset',
    time,
    config: parseAssetConfig(raw.config, 'config'),
    price: parsePrice(raw.price, 'price'),
  };
}

function decodeSetPrice(raw: JsonObject, time: number, state: EngineState): Command {
  rejectUnknownFields(raw, ['type', 'time', 'asset', 'price', 'stablePrice'], '');
  const asset = assetSymbol(raw, state, 'asset', true);
  const oracle = parsePrice(raw.price, 'price');
  return raw.stablePrice === undefined
    ? { type: 'set-price', time, asset, price: oracle }
    : {
        type: 'set-price',
        time,
        asset,
        price: oracle,
        stablePrice: parsePrice(raw.stablePrice, 'stablePrice'),
      };
}

function decodeQuote(raw: JsonObject, time: number, state: EngineState): Command {
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
  const quote: QuoteCommand = { type: 'quote', time, asset, source, price };
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

function decodeConfigureLiquidation(raw: JsonObject, time: number, state: EngineState): Command {
  rejectUnknownFields(raw, ['type', 'time', 'config'], '');
  return {
    type: 'configure-liquidation',
    time,
    config: parseLiquidationConfig(raw.config, 'config', state.liquidationConfig),
  };
}

function decodeConfigureVenue(raw: JsonObject, time: number, state: EngineState): Command {
  rejectUnknownFields(raw, ['type', 'time', 'config'], '');
  return {
    type: 'configure-venue',
    time,
    config: parseVenueConfig(raw.config, 'config', state.venueConfig),
  };
}

const LIQUIDATE_FIELDS = [
  'type',
  'time',
  'liquidator',
  'target',
  'debtAsset',
  'collateralAsset',
  'amount',
  'maxPenalty',
];

function decodeLiquidate(raw: JsonObject, time: number, state: EngineState): Command {
  rejectUnknownFields(raw, LIQUIDATE_FIELDS, '');
  const debtAsset = assetSymbol(raw, state, 'debtAsset');
  const collateralAsset = assetSymbol(raw, state, 'collateralAsset');
  const command: LiquidateCommand = {
    type: 'liquidate',
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

function decodeBackstop(raw: JsonObject, time: number, state: EngineState): Command {
  rejectUnknownFields(raw, ['type', 'time', 'target', 'debtAsset', 'collateralAsset'], '');
  return {
    type: 'backstop',
    time,
    target: ref(expectObject(raw.target, 'target'), 'target'),
    debtAsset: assetSymbol(raw, state, 'debtAsset'),
    collateralAsset: assetSymbol(raw, state, 'collateralAsset'),
  };
}

function decodeResolveBankruptcy(raw: JsonObject, time: number): Command {
  rejectUnknownFields(raw, ['type', 'time', 'target'], '');
  return {
    type: 'resolve-bankruptcy',
    time,
    target: ref(expectObject(raw.target, 'target'), 'target'),
  };
}

function decodeListInstrument(raw: JsonObject, time: number): Command {
  rejectUnknownFields(raw, ['type', 'time', 'config', 'price'], '');
  return {
    type: 'list-instrument',
    time,
    config: parseInstrumentListing(raw.config, 'config'),
    price: parsePrice(raw.price, 'price'),
  };
}

function decodeTrade(raw: JsonObject, time: number, state: EngineState): Command {
  rejectUnknownFields(
    raw,
    ['type', 'time', 'buyer', 'seller', 'instrument', 'size', 'price', 'buyerFee', 'sellerFee'],
    '',
  );
  const command: TradeCommand = {
    type: 'trade',
    time,
    buyer: ref(expectObject(raw.buyer, 'buyer'), 'buyer'),
    seller: ref(expectObject(raw.seller, 'seller'), 'seller'),
    instrument: instrumentSymbol(raw, state),
    size: size(raw.size, 'size'),
    price: parsePrice(raw.price, 'price'),
  };
  return { ...command, ...fee(raw, 'buyerFee', state), ...fee(raw, 'sellerFee', state) };
}

/** A trade's optional fee field, as an object to spread (empty when the field is absent). */
function fee(raw: JsonObject, field: 'buyerFee' | 'sellerFee', state: EngineState) {
  return raw[field] === undefined ? {} : { [field]: settlementAmount(raw[field], field, state) };
}

function decodeSettleFunding(raw: JsonObject, time: number, state: EngineState): Command {
  rejectUnknownFields(raw, ['type', 'time', 'instrument'], '');
  return { type: 'settle-funding', time, instrument: instrumentSymbol(raw, state) };
}

function decodeExpire(raw: JsonObject, time: number, state: EngineState): Command {
  rejectUnknownFields(raw, ['type', 'time', 'instrument'], '');
  return { type: 'expire', time, instrument: instrumentSymbol(raw, state) };
}

function decodeSetMode(raw: JsonObject, time: number): Command {
  rejectUnknownFields(raw, ['type', 'time', 'account', 'subAccount', 'mode'], '');
  const mode = expectString(raw.mode, 'mode');
  if (mode !== 'cross' && mode !== 'isolated' && mode !== 'portfolio') {
    throw new FulcrumError('invalid_field', 'mode must be cross, isolated or portfolio', 'mode');
  }
  return { type: 'set-mode', time, ...ref(raw, ''), mode };
}

function decodeSettlePnl(raw: JsonObject, time: number): Command {
  rejectUnknownFields(raw, ['type', 'time', 'account', 'subAccount'], '');
  return { type: 'settle-pnl', time, ...ref(raw, '') };
}

function decodeSetVolatility(raw: JsonObject, time: number, state: EngineState): Command {
  rejectUnknownFields(raw, ['type', 'time', 'asset', 'volatility'], '');
  return {
    type: 'set-volatility',
    time,
    asset: assetSymbol(raw, state),
    volatility: parseDecimal(raw.volatility, 6, { field: 'volatility', max: 10_000_000n }),
  };
}

function decodeDeleverage(raw: JsonObject, time: number, state: EngineState): Command {
  rejectUnknownFields(raw, ['type', 'time', 'target', 'instrument'], '');
  return {
    type: 'deleverage',
    time,
    target: ref(expectObject(raw.target, 'target'), 'target'),
    instrument: instrumentSymbol(raw, state),
  };
}

function decodeLiquidatePosition(raw: JsonObject, time: number, state: EngineState): Command {
  rejectUnknownFields(raw, ['type', 'time', 'liquidator', 'target', 'instrument', 'amount'], '');
  return {
    type: 'liquidate-position',
    time,
    liquidator: ref(expectObject(raw.liquidator, 'liquidator'), 'liquidator'),
    target: ref(expectObject(raw.target, 'target'), 'target'),
    instrument: instrumentSymbol(raw, state),
    amount: raw.amount === 'max' ? 'max' : size(raw.amount, 'amount'),
  };
}

function decodeSetWeights(raw: JsonObject, time: number, state: EngineState): Command {
  rejectUnknownFields(
    raw,
    ['type', 'time', 'asset', 'initialWeight', 'liquidationEndWeight', 'maintenanceWeight'],
    '',
  );
  const initial = weight(raw, 'initialWeight');
  const maintenance = weight(raw, 'maintenanceWeight');
  // The liquidation-end weight defaults to the midpoint, rounded down (as in a listing).
  const liquidationEnd =
    raw.liquidationEndWeight === undefined
      ? (initial + maintenance) / 2n
      : weight(raw, 'liquidationEndWeight');
  return {
    type: 'set-weights',
    time,
    asset: assetSymbol(raw, state),
    assetWeight: { initial, liquidationEnd, maintenance },
  };
}

/** A collateral weight field of set-weights, WEIGHT_SCALE, at most 1. */
function weight(raw: JsonObject, name: string): bigint {
  return parseDecimal(raw[name], WEIGHT_DECIMALS, { field: name, max: WEIGHT_SCALE });
}

function decodeAccrue(raw: JsonObject, time: number, state: EngineState): Command {
  rejectUnknownFields(raw, ['type', 'time', 'asset'], '');
  return { type: 'accrue', time, asset: assetSymbol(raw, state) };
}

/** Deposit and borrow: an account, an asset and an amount above zero. */
function decodeAccountAmount(
  type: 'deposit' | 'borrow',
  raw: JsonObject,
  time: number,
  state: EngineState,
): Command {
  rejectUnknownFields(raw, ACCOUNT_FIELDS, '');
  const asset = assetSymbol(raw, state);
  return { type, time, ...ref(raw, ''), asset, amount: amount(raw.amount, asset, state) };
}

/** Withdraw and repay: an account, an asset and an amount above zero or `'all'`. */
function decodeAccountAmountOrAll(
  type: 'withdraw' | 'repay',
  raw: JsonObject,
  time: number,
  state: EngineState,
): Command {
  rejectUnknownFields(raw, ACCOUNT_FIELDS, '');
  const asset = assetSymbol(raw, state);
  return { type, time, ...ref(raw, ''), asset, amount: amountOrAll(raw.amount, asset, state) };
}

function decodeTransfer(raw: JsonObject, time: number, state: EngineState): Command {
  rejectUnknownFields(raw, ['type', 'time', 'from', 'to', 'asset', 'amount'], '');
  const asset = assetSymbol(raw, state);
  const from = ref(expectObject(raw.from, 'from'), 'from');
  const to = ref(expectObject(raw.to, 'to'), 'to');
  return { type: 'transfer', time, from, to, asset, amount: amountOrAll(raw.amount, asset, state) };
}

/** One decoder per command type; the `Record` makes the compiler check that none is missing. */
const DECODER_BY_TYPE: Record<CommandType, Decoder> = {
  'list-asset': decodeListAsset,
  'set-price': decodeSetPrice,
  'set-weights': decodeSetWeights,
  quote: decodeQuote,
  deposit: (raw, time, state) => decodeAccountAmount('deposit', raw, time, state),
  withdraw: (raw, time, state) => decodeAccountAmountOrAll('withdraw', raw, time, state),
  borrow: (raw, time, state) => decodeAccountAmount('borrow', raw, time, state),
  repay: (raw, time, state) => decodeAccountAmountOrAll('repay', raw, time, state),
  transfer: decodeTransfer,
  accrue: decodeAccrue,
  'configure-liquidation': decodeConfigureLiquidation,
  'configure-venue': decodeConfigureVenue,
  liquidate: decodeLiquidate,
  backstop: decodeBackstop,
  'resolve-bankruptcy': decodeResolveBankruptcy,
  'list-instrument': decodeListInstrument,
  trade: decodeTrade,
  'settle-funding': decodeSettleFunding,
  expire: decodeExpire,
  'set-mode': decodeSetMode,
  'settle-pnl': decodeSettlePnl,
  'liquidate-position': decodeLiquidatePosition,
  deleverage: decodeDeleverage,
  'set-volatility': decodeSetVolatility,
  ...CHAIN_DECODERS,
};

/** Looked up by the raw `type` string: a Map, so no prototype key (`constructor`) can match. */
const DECODERS: ReadonlyMap<string, Decoder> = new Map(Object.entries(DECODER_BY_TYPE));

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
