/**
 * Ledger commands from JSON, as people write them: decimal strings in whole units (cash in
 * USDC, sizes in units of the underlying, prices in quote per unit), times as unix seconds or
 * ISO-8601 UTC. Strict: unknown fields, malformed numbers and too many decimals are refused with
 * a typed error naming the field.
 */
import { FulcrumError } from '../base/errors.js';
import { expectObject, expectString, rejectUnknownFields } from '../domain/input.js';
import { fieldName, quoteInput } from '../domain/quote.js';
import { parseDecimal } from '../math/decimal.js';
import { PRICE_DECIMALS } from '../math/fixed.js';
import { SIZE_DECIMALS, SYMBOL_PATTERN, UNDERLYING_PATTERN } from './instruments.js';
import {
  CASH_DECIMALS,
  isSubAccountName,
  LEDGER_LIMITS,
  type LedgerCommand,
  type MarginMode,
  SUB_ACCOUNT_NAME_RULE,
} from './ledger.js';
import { parseInstrument, parseTime } from './report.js';

const SYMBOL_RULE =
  'an instrument symbol: 1-40 letters, digits, ".", "_" or "-", starting with a letter or digit';
const UNDERLYING_RULE =
  'an underlying: 1-16 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** The highest volatility `set-prices` takes (1000% a year), in millionths. */
const VOLATILITY_MAX_MILLIONTHS = 10_000_000n;

/** A ledger command from JSON. */
export function decodeLedgerJson(input: unknown): LedgerCommand {
  const raw = expectObject(input, 'command');
  const type = expectString(raw.type, 'type');
  const time = parseTime(raw.time, 'time');
  const cash = (field: string) =>
    parseDecimal(raw[field], CASH_DECIMALS, { field, max: LEDGER_LIMITS.cashMax });
  const account = (field: string) => {
    const id = expectString(raw[field], field);
    if (!isSubAccountName(id)) {
      throw new FulcrumError(
        'invalid_field',
        `${field} must be ${SUB_ACCOUNT_NAME_RULE} (got ${quoteInput(id)})`,
        field,
      );
    }
    return id;
  };
  const instrument = (field: string) => {
    const symbol = expectString(raw[field], field);
    if (!SYMBOL_PATTERN.test(symbol)) {
      throw new FulcrumError(
        'invalid_field',
        `${field} must be ${SYMBOL_RULE} (got ${quoteInput(symbol)})`,
        field,
      );
    }
    return symbol;
  };
  switch (type) {
    case 'list-instrument':
      rejectUnknownFields(raw, ['type', 'time', 'instrument'], '');
      return { type, time, spec: parseInstrument(raw.instrument, 'instrument') };
    case 'set-prices': {
      rejectUnknownFields(raw, ['type', 'time', 'index', 'marks', 'volatility'], '');
      const index = namedValues(raw.index, 'index', UNDERLYING_PATTERN, UNDERLYING_RULE, (v, f) =>
        parseDecimal(v, PRICE_DECIMALS, { field: f, max: LEDGER_LIMITS.priceMax }),
      );
      const marks = namedValues(raw.marks, 'marks', SYMBOL_PATTERN, SYMBOL_RULE, (v, f) =>
        parseDecimal(v, PRICE_DECIMALS, { field: f, max: LEDGER_LIMITS.priceMax }),
      );
      const volatility = namedValues(
        raw.volatility,
        'volatility',
        UNDERLYING_PATTERN,
        UNDERLYING_RULE,
        (v, f) => {
          const millionths = parseDecimal(v, 6, { field: f, max: VOLATILITY_MAX_MILLIONTHS });
          if (millionths === 0n)
            throw new FulcrumError('invalid_number', 'a volatility must be above 0', f);
          return Number(millionths) / 1e6;
        },
      );
      return { type, time, index, marks, volatility };
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
        instrument: instrument('instrument'),
        size: parseDecimal(raw.size, SIZE_DECIMALS, { field: 'size', max: LEDGER_LIMITS.sizeMax }),
        price: parseDecimal(raw.price, PRICE_DECIMALS, {
          field: 'price',
          max: LEDGER_LIMITS.priceMax,
        }),
      };
    case 'settle-funding':
    case 'expire':
      rejectUnknownFields(raw, ['type', 'time', 'instrument'], '');
      return { type, time, instrument: instrument('instrument') };
    case 'liquidate':
      rejectUnknownFields(raw, ['type', 'time', 'account'], '');
      return { type, time, account: account('account') };
    default:
      throw new FulcrumError('unknown_command', `unknown command type ${quoteInput(type)}`, 'type');
  }
}

/**
 * An object of names to values (`{"ETH": "2000"}`), each name checked against `pattern` and
 * each value parsed; absent, an empty one. The result has no prototype, so that no name
 * (`valueOf`, `constructor`) can ever find a property every object has.
 */
function namedValues<T>(
  input: unknown,
  field: string,
  pattern: RegExp,
  what: string,
  parse: (value: unknown, field: string) => T,
): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  if (input === undefined) return out;
  for (const [name, value] of Object.entries(expectObject(input, field))) {
    const where = `${field}.${fieldName(name)}`;
    if (!pattern.test(name)) {
      throw new FulcrumError(
        'invalid_field',
        `${where}: ${quoteInput(name)} is not ${what}`,
        where,
      );
    }
    out[name] = parse(value, where);
  }
  return out;
}
