/**
 * The stored form of a typed command: JSON with every bigint written as a decimal integer string
 * in its own unit (base units for amounts, PRICE_SCALE for prices, WEIGHT_SCALE and RAY for
 * listing parameters). Unlike the JSON that people write (whole units, which need the asset's
 * decimals to read), it decodes without the state, exactly, and fast: journals and replays use it.
 */
import { FulcrumError } from '../base/errors.js';
import { hasKeys, quoteJson } from '../domain/json.js';
import { withLegacyOracleFields } from '../domain/oracleConfig.js';
import { refJson } from './render.js';
import type {
  BorrowCommand,
  Command,
  CommandType,
  DepositCommand,
  RepayCommand,
  SetPriceCommand,
  TransferCommand,
  WithdrawCommand,
} from './commands.js';

/** The fields, at any depth, whose values are bigints in a stored command. */
const BIGINT_FIELDS = new Set([
  'volatility',
  'size',
  'buyerFee',
  'sellerFee',
  'tradeBand',
  'profitCap',
  'amount',
  'price',
  'stablePrice',
  'initial',
  'liquidationEnd',
  'maintenance',
  'reserveFactor',
  'liquidationPenalty',
  'insuranceShare',
  'supplyCap',
  'borrowCap',
  'baseRateRay',
  'slope1Ray',
  'slope2Ray',
  'optimalUtilizationRay',
  'maxDeviationRay',
  'maxSpreadRay',
  'maxConfidenceRay',
  'confidenceWideningRay',
  'maxStableGapRay',
  'stableRatePerSecondRay',
  'delayGrowthMaxRay',
  'breakerMoveRay',
  'confidence',
  'closeFactor',
  'fullCloseValue',
  'fullCloseHealth',
  'dustValue',
  'accountCapValue',
  'globalCapValue',
  'backstopHealth',
  'backstopDepthValue',
  'backstopImpactMax',
  'maxPenalty',
]);

const INTEGER = /^-?[0-9]{1,80}$/;

const BALANCE_COMMAND_KEYS = ['type', 'time', 'account', 'subAccount', 'asset', 'amount'];

/**
 * A typed command as stored JSON.
 *
 * @example
 * encodeCommand({ type: 'accrue', time: 5, asset: 'ETH' }); // '{"type":"accrue","time":5,"asset":"ETH"}'
 */
export function encodeCommand(command: Command): string {
  return directForm(command) ?? storedJson(command) ?? 'null';
}

/**
 * The stored form of the commands a venue sends most (balance changes, transfers, prices),
 * written directly: the generic path costs several times more. The text is exactly what
 * `JSON.stringify` with {@link bigintsAsText} gives; undefined for anything of another shape.
 */
function directForm(command: Command): string | undefined {
  switch (command.type) {
    case 'deposit':
    case 'withdraw':
    case 'borrow':
    case 'repay':
      return encodeBalanceCommand(command);
    case 'set-price':
      return encodeSetPrice(command);
    case 'transfer':
      return encodeTransfer(command);
    default:
      return undefined;
  }
}

/**
 * `JSON.stringify(value)` with bigints written as integer strings, written here rather than with
 * a replacer function (which costs twice as much: it is called for every key). Plain data only,
 * as commands are: an object with a `toJSON` method goes to `JSON.stringify` itself. Undefined
 * for what `JSON.stringify` leaves out (undefined, functions, symbols).
 */
function storedJson(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return quoteJson(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'bigint':
      return `"${value}"`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let items = '';
        for (let i = 0; i < value.length; i++) {
          items += `${i === 0 ? '' : ','}${storedJson(value[i]) ?? 'null'}`;
        }
        return `[${items}]`;
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        return JSON.stringify(value, bigintsAsText);
      }
      let text = '';
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        const item = storedJson((value as Record<string, unknown>)[key]);
        if (item === undefined) continue;
        text += `${text === '' ? '' : ','}${quotedKey(key)}${item}`;
      }
      return `{${text}}`;
    }
    default:
      return undefined;
  }
}

/** Keys as JSON with their colon, remembered: commands have few. */
const QUOTED_KEYS = new Map<string, string>();

function quotedKey(key: string): string {
  let quoted = QUOTED_KEYS.get(key);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(key)}:`;
    if (QUOTED_KEYS.size < 1_000) QUOTED_KEYS.set(key, quoted);
  }
  return quoted;
}

function bigintsAsText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** An amount (base units, or `all`) as JSON; undefined for anything else. */
function amountJson(amount: unknown): string | undefined {
  return typeof amount === 'bigint' ? `"${amount}"` : amount === 'all' ? '"all"' : undefined;
}

/** A deposit, withdraw, borrow or repay in stored form (see {@link directForm}). */
function encodeBalanceCommand(
  command: DepositCommand | WithdrawCommand | BorrowCommand | RepayCommand,
): string | undefined {
  if (
    !Number.isSafeInteger(command.time) ||
    !Number.isSafeInteger(command.subAccount) ||
    typeof command.account !== 'string' ||
    typeof command.asset !== 'string'
  ) {
    return undefined;
  }
  const amountText = amountJson(command.amount);
  if (amountText === undefined) return undefined;
  if (!hasKeys(command, BALANCE_COMMAND_KEYS)) return undefined;
  return `{"type":"${command.type}","time":${command.time},"account":${quoteJson(command.account)},"subAccount":${command.subAccount},"asset":${quoteJson(command.asset)},"amount":${amountText}}`;
}

const SET_PRICE_KEYS = ['type', 'time', 'asset', 'price'];
const SET_PRICES_KEYS = ['type', 'time', 'asset', 'price', 'stablePrice'];

/** A set-price in stored form (see {@link directForm}). */
function encodeSetPrice(command: SetPriceCommand): string | undefined {
  const { time, asset, price, stablePrice } = command;
  if (!Number.isSafeInteger(time) || typeof asset !== 'string' || typeof price !== 'bigint') {
    return undefined;
  }
  const head = `{"type":"set-price","time":${time},"asset":${quoteJson(asset)},"price":"${price}"`;
  if (typeof stablePrice === 'bigint' && hasKeys(command, SET_PRICES_KEYS)) {
    return `${head},"stablePrice":"${stablePrice}"}`;
  }
  return hasKeys(command, SET_PRICE_KEYS) ? `${head}}` : undefined;
}

const TRANSFER_COMMAND_KEYS = ['type', 'time', 'from', 'to', 'asset', 'amount'];
/** A transfer in stored form (see {@link directForm}). */
function encodeTransfer(command: TransferCommand): string | undefined {
  const { time, asset, amount } = command;
  const amountText = amountJson(amount);
  if (
    amountText === undefined ||
    !Number.isSafeInteger(time) ||
    typeof asset !== 'string' ||
    !hasKeys(command, TRANSFER_COMMAND_KEYS)
  ) {
    return undefined;
  }
  const from = refJson(command.from);
  const to = refJson(command.to);
  if (from === undefined || to === undefined) return undefined;
  return `{"type":"transfer","time":${time},"from":${from},"to":${to},"asset":${quoteJson(asset)},"amount":${amountText}}`;
}

/**
 * A stored command back as a typed command. Only the shape of numbers is restored here; the
 * engine checks everything else when the command is applied, as it does for any typed command.
 */
export function decodeStoredCommand(text: string): Command {
  const balance = decodeBalanceCommand(text);
  if (balance !== undefined) return balance;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new FulcrumError('invalid_json', 'a stored command is not valid JSON');
  }
  // The common commands carry their bigints at the top level, in known fields; the others (a
  // listing's config, new weights, a liquidation's penalty cap) are searched through.
  if (typeof raw.type !== 'string' || !FLAT_COMMANDS.has(raw.type)) {
    return withLegacyFields(restoreBigints(raw) as Record<string, unknown>) as unknown as Command;
  }
  for (const key of TOP_LEVEL_BIGINTS) {
    const value = raw[key];
    if (typeof value === 'string' && INTEGER.test(value)) raw[key] = BigInt(value);
  }
  return raw as unknown as Command;
}

/**
 * Commands whose only bigints are top-level {@link TOP_LEVEL_BIGINTS}: a part of
 * `COMMAND_TYPES`, typed so that a renamed command cannot linger here.
 */
const FLAT_COMMANDS: ReadonlySet<string> = new Set<CommandType>([
  'deposit',
  'withdraw',
  'borrow',
  'repay',
  'transfer',
  'accrue',
  'set-price',
  'quote',
]);

const TOP_LEVEL_BIGINTS = ['amount', 'price', 'stablePrice', 'confidence'] as const;

/**
 * A listing stored before its oracle had the agreement, frozen-source, delay-price and widening
 * fields, read with the values that keep its oracle as it was (`withLegacyOracleFields`): a
 * journal written then replays to the prices it gave.
 */
function withLegacyFields(command: Record<string, unknown>): Record<string, unknown> {
  if (command.type !== 'list-asset') return command;
  const config = command.config;
  if (typeof config !== 'object' || config === null) return command;
  const oracle = (config as Record<string, unknown>).oracle;
  if (typeof oracle !== 'object' || oracle === null) return command;
  return {
    ...command,
    config: { ...config, oracle: withLegacyOracleFields(oracle as Record<string, unknown>) },
  };
}

function restoreBigints(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    return BIGINT_FIELDS.has(key) && INTEGER.test(value) ? BigInt(value) : value;
  }
  if (Array.isArray(value)) return value.map((v) => restoreBigints(v));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    // Defined, not assigned: a key `__proto__` stays a key and never sets the prototype.
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: restoreBigints(v, k),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/**
 * Exactly the text {@link encodeBalanceCommand} writes, for account and asset names without
 * escapes: most of a journal, read back without the generic JSON parser. Anything else does not
 * match and takes the general path.
 */
const BALANCE_TEXT =
  /^\{"type":"(deposit|withdraw|borrow|repay)","time":(0|[1-9][0-9]{0,15}),"account":"([^"\\]*)","subAccount":(0|[1-9][0-9]{0,15}),"asset":"([^"\\]*)","amount":"(all|[0-9]{1,80})"\}$/;

function decodeBalanceCommand(text: string): Command | undefined {
  const match = BALANCE_TEXT.exec(text);
  if (match === null) return undefined;
  const [, type, time, account, subAccount, asset, amount] = match as unknown as [
    string,
    'deposit' | 'withdraw' | 'borrow' | 'repay',
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    type,
    time: Number(time),
    account,
    subAccount: Number(subAccount),
    asset,
    amount: amount === 'all' ? 'all' : BigInt(amount),
  } as Command;
}
