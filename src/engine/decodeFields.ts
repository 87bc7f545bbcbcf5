/**
 * Fields most commands share, decoded against the state: an asset by its symbol, a sub-account
 * reference, an amount in the asset's whole units.
 */
import { FulcrumError } from '../base/errors.js';
import { LIMITS } from '../domain/limits.js';
import {
  expectInteger,
  expectString,
  type JsonObject,
  rejectUnknownFields,
} from '../domain/input.js';
import { parseDecimal } from '../math/decimal.js';
import { AMOUNT_MAX } from '../math/fixed.js';
import type { EngineState, SubAccountRef } from './state.js';

export function assetSymbol(
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

export function ref(raw: JsonObject, field: string): SubAccountRef {
  const prefix = field === '' ? '' : `${field}.`;
  if (field !== '') rejectUnknownFields(raw, ['account', 'subAccount'], field);
  const account = expectString(raw.account, `${prefix}account`);
  const subAccount =
    raw.subAccount === undefined
      ? 0
      : expectInteger(raw.subAccount, `${prefix}subAccount`, 0, LIMITS.subAccountsPerAccount - 1);
  return { account, subAccount };
}

export function amount(input: unknown, symbol: string, state: EngineState): bigint {
  if (input === undefined) throw new FulcrumError('invalid_field', 'amount is required', 'amount');
  const index = state.assetIndex.get(symbol) ?? 0;
  const decimals = state.assets[index]?.config.decimals ?? 0;
  const value = parseDecimal(input, decimals, { field: 'amount', max: AMOUNT_MAX });
  if (value === 0n)
    throw new FulcrumError('zero_amount', 'amount must be more than zero', 'amount');
  return value;
}

export function amountOrAll(input: unknown, symbol: string, state: EngineState): bigint | 'all' {
  return input === 'all' ? 'all' : amount(input, symbol, state);
}
