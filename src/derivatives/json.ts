/**
 * Ledger commands from JSON, as people write them: decimal strings in whole units (cash in
 * USDC, sizes in units of the underlying, prices in quote per unit), times as unix seconds or
 * ISO-8601 UTC. Strict: unknown fields, malformed numbers and too many decimals are refused with
 * a typed error naming the field.
 */
import { FulcrumError } from '../domain/errors.js';
import { expectObject, expectString, rejectUnknownFields } from '../domain/input.js';
import { parseDecimal } from '../math/decimal.js';
import { PRICE_DECIMALS } from '../math/fixed.js';
import { SIZE_DECIMALS } from './instruments.js';
import {
  ACCOUNT_NAME_PATTERN,
  CASH_DECIMALS,
  type LedgerCommand,
  type MarginMode,
} from './ledger.js';
import { parseInstrument, parseTime } from './report.js';

/** A ledger command from JSON. */
export function decodeLedgerJson(input: unknown): LedgerCommand {
  const raw = expectObject(input, 'command');
  const type = expectString(raw.type, 'type');
  const time = parseTime(raw.time, 'time');
  const cash = (field: string) =>
    parseDecimal(raw[field], CASH_DECIMALS, { field, max: 10n ** 24n });
  const account = (field: string) => {
    const id = expectString(raw[field], field);
    if (!ACCOUNT_NAME_PATTERN.test(id)) {
      throw new FulcrumError(
        'invalid_field',
        `${field} must be 1-64 letters, digits or _ . : @ / -`,
        field,
      );
    }
    return id;
  };
  switch (type) {
    case 'list-instrument':
      rejectUnknownFields(raw, ['type', 'time', 'instrument'], '');
      return { type, time, spec: parseInstrument(raw.instrument, 'instrument') };
    case 'set-prices': {
      rejectUnknownFields(raw, ['type', 'time', 'index', 'marks', 'volatility'], '');
      const prices = (field: string) => {
        if (raw[field] === undefined) return {};
        const o = expectObject(raw[field], field);
        return Object.fromEntries(
          Object.entries(o).map(([k, v]) => [
            k,
            parseDecimal(v, PRICE_DECIMALS, { field: `${field}.${k}` }),
          ]),
        );
      };
      const volatility: Record<string, number> = {};
      if (raw.volatility !== undefined) {
        for (const [k, v] of Object.entries(expectObject(raw.volatility, 'volatility'))) {
          const x =
            Number(parseDecimal(v, 6, { field: `volatility.${k}`, max: 10_000_000n })) / 1e6;
          if (!(x > 0))
            throw new FulcrumError(
              'invalid_number',
              'a volatility must be above 0',
              `volatility.${k}`,
            );
          volatility[k] = x;
        }
      }
      return { type, time, index: prices('index'), marks: prices('marks'), volatility };
    }
    case 'deposit':
      rejectUnknownFields(raw, ['type', 'time', 'account', 'amount'], '');
      return { type, time, to: account('account'), amount: cash('amount') };
    case 'withdraw':
      rejectUnknownFields(raw, ['type', 'time', 'account', 'amount'], '');
      return { type, time, from: account('account'), amount: cash('amount') };
    case 'transfer':
      rejectUnknownFields(raw, ['type', 'time', 'from', 'to', 'amount'], '');
      return { type, time, from: account('from'), to: account('to'), amount: cash('amount') };
    case 'set-mode': {
      rejectUnknownFields(raw, ['type', 'time', 'account', 'mode'], '');
      const mode = expectString(raw.mode, 'mode');
      if (mode !== 'cross' && mode !== 'isolated' && mode !== 'portfolio') {
        throw new FulcrumError(
          'invalid_field',
          'mode must be cross, isolated or portfolio',
          'mode',
        );
      }
      return { type, time, account: account('account'), mode: mode as MarginMode };
    }
    case 'trade':
      rejectUnknownFields(
        raw,
        ['type', 'time', 'buyer', 'seller', 'instrument', 'size', 'price'],
        '',
      );
      return {
        type,
        time,
        buyer: account('buyer'),
        seller: account('seller'),
        instrument: expectString(raw.instrument, 'instrument'),
        size: parseDecimal(raw.size, SIZE_DECIMALS, { field: 'size', max: 10n ** 24n }),
        price: parseDecimal(raw.price, PRICE_DECIMALS, { field: 'price' }),
      };
    case 'settle-funding':
    case 'expire':
      rejectUnknownFields(raw, ['type', 'time', 'instrument'], '');
      return { type, time, instrument: expectString(raw.instrument, 'instrument') };
    case 'liquidate':
      rejectUnknownFields(raw, ['type', 'time', 'account'], '');
      return { type, time, account: account('account') };
    default:
      throw new FulcrumError(
        'unknown_command',
        `unknown command type ${JSON.stringify(type)}`,
        'type',
      );
  }
}
