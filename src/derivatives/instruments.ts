/**
 * Derivative instruments, all settled in the quote asset: perpetual futures, dated futures and
 * European options on an underlying whose index price the venue's oracle gives.
 *
 * Sizes are in units of the underlying (one contract of one unit); prices in the quote unit per
 * unit of the underlying. The engine keeps sizes as bigint base units of
 * {@link SIZE_DECIMALS} decimals and prices in PRICE_SCALE; analytics (pricing, Greeks, scenario
 * margin) work in floats on the same figures.
 */
import { FulcrumError } from '../base/errors.js';
import { LIMITS } from '../domain/limits.js';
import { fieldName, quoteInput } from '../domain/quote.js';

/** Decimals of a position size: 10^-8 of a unit of the underlying. */
export const SIZE_DECIMALS = 8;

/** An instrument's symbol: 1 to 40 letters, digits, `.`, `_` or `-`, starting with a letter or digit. */
export const SYMBOL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;
/** An underlying's name: 1 to 16 letters, digits, `.`, `_` or `-`, starting with a letter or digit. */
export const UNDERLYING_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$/;
/**
 * The highest strike, in quote per unit: the highest index any part of Fulcrum reads (the
 * portfolio margin's). The lowest is 10^-9: the engine settles options on the strike to 10^-9.
 */
export const STRIKE_MAX = 1e15;
export const STRIKE_MIN = 1e-9;

interface InstrumentBase {
  /** The instrument's name, such as `ETH-PERP`, `BTC-20301227`, `ETH-20301227-2500-C`. */
  readonly symbol: string;
  /** The underlying's name, such as `ETH`: the index price comes from it. */
  readonly underlying: string;
  /**
   * Standard margin, as shares of notional (futures and perpetuals): initial and maintenance
   * for a small position, and the size premium: the margin ratio of a position of size s is
   * max(base, 0.8·base + sizePremium·√s), Drift's form, so a large position cannot use the
   * ratio of a small one.
   */
  readonly initialMargin: number;
  readonly maintenanceMargin: number;
  readonly sizePremium: number;
}

export interface PerpetualSpec extends InstrumentBase {
  readonly kind: 'perpetual';
  /** Seconds between funding payments (Binance and most venues: 8 hours). */
  readonly fundingIntervalSeconds: number;
  /** Largest funding rate per interval, either way (a share of the index price). */
  readonly fundingClamp: number;
}

export interface FutureSpec extends InstrumentBase {
  readonly kind: 'future';
  /** Unix seconds of expiry: settled at the index price then. */
  readonly expiry: number;
}

export interface OptionSpec extends InstrumentBase {
  readonly kind: 'option';
  readonly expiry: number;
  readonly strike: number;
  readonly right: 'call' | 'put';
}

export type InstrumentSpec = PerpetualSpec | FutureSpec | OptionSpec;

/** The fields each kind of instrument has beyond those every instrument has. */
const FIELDS: Readonly<Record<InstrumentSpec['kind'], readonly string[]>> = {
  perpetual: ['fundingIntervalSeconds', 'fundingClamp'],
  future: ['expiry'],
  option: ['expiry', 'strike', 'right'],
};
const COMMON_FIELDS = [
  'kind',
  'symbol',
  'underlying',
  'initialMargin',
  'maintenanceMargin',
  'sizePremium',
];

/**
 * Checks an instrument's fields; throws `invalid_config` naming the field. Every number must be
 * a JavaScript number in its range (a string such as `"0.1"` is refused, not compared as text),
 * and a field the kind does not have is refused, so that what the engine keeps is exactly the
 * instrument described.
 */
export function validateInstrument(spec: InstrumentSpec): void {
  const fail = (field: string, message: string): never => {
    const name = typeof spec?.symbol === 'string' ? `${quoteInput(spec.symbol)}: ` : '';
    throw new FulcrumError('invalid_config', `${name}${message}`, field);
  };
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
    fail('instrument', 'an instrument must be an object');
  if (typeof spec.symbol !== 'string' || !SYMBOL_PATTERN.test(spec.symbol))
    fail(
      'symbol',
      'symbol must be 1-40 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  if (typeof spec.underlying !== 'string' || !UNDERLYING_PATTERN.test(spec.underlying))
    fail(
      'underlying',
      'underlying must be 1-16 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  const kindFields = Object.hasOwn(FIELDS, spec.kind) ? FIELDS[spec.kind] : undefined;
  if (kindFields === undefined) return fail('kind', 'kind must be perpetual, future or option');
  for (const key of Object.keys(spec)) {
    if (!COMMON_FIELDS.includes(key) && !kindFields.includes(key))
      fail(fieldName(key), `a ${spec.kind} has no field ${quoteInput(key)}`);
  }
  const number = (value: unknown): value is number =>
    typeof value === 'number' && Number.isFinite(value);
  if (!(
    number(spec.maintenanceMargin) &&
    number(spec.initialMargin) &&
    spec.maintenanceMargin > 0 &&
    spec.maintenanceMargin <= spec.initialMargin &&
    spec.initialMargin <= 1
  ))
    fail('initialMargin', 'margins must satisfy 0 < maintenance <= initial <= 1');
  if (!(number(spec.sizePremium) && spec.sizePremium >= 0 && spec.sizePremium <= 1))
    fail('sizePremium', 'the size premium must be from 0 to 1');
  switch (spec.kind) {
    case 'perpetual':
      if (
        !Number.isSafeInteger(spec.fundingIntervalSeconds) ||
        spec.fundingIntervalSeconds < 60 ||
        spec.fundingIntervalSeconds > 86_400
      )
        fail('fundingIntervalSeconds', 'the funding interval must be 60 to 86,400 whole seconds');
      if (!(number(spec.fundingClamp) && spec.fundingClamp > 0 && spec.fundingClamp <= 0.1))
        fail('fundingClamp', 'the funding clamp must be above 0 and at most 0.1 per interval');
      return;
    case 'future':
      checkExpiry(spec.expiry, fail);
      return;
    case 'option':
      checkExpiry(spec.expiry, fail);
      if (!(number(spec.strike) && spec.strike >= STRIKE_MIN && spec.strike <= STRIKE_MAX))
        fail('strike', `the strike must be from ${STRIKE_MIN} to ${STRIKE_MAX}`);
      if (spec.right !== 'call' && spec.right !== 'put') fail('right', 'right must be call or put');
      return;
  }
}

function checkExpiry(expiry: unknown, fail: (field: string, message: string) => never): void {
  if (
    !Number.isSafeInteger(expiry) ||
    (expiry as number) <= 0 ||
    (expiry as number) > LIMITS.timeMax
  )
    fail('expiry', `expiry must be unix seconds from 1 to ${LIMITS.timeMax}`);
}

/**
 * The margin ratio of a position of `size` units (absolute) given a base ratio: the size
 * premium's max(base, 0.8·base + premium·√size).
 *
 * @example
 * sizeAdjusted(0.05, 0.0005, 10_000); // max(0.05, 0.04 + 0.05) = 0.09
 */
export function sizeAdjusted(base: number, premium: number, size: number): number {
  return Math.min(1, Math.max(base, 0.8 * base + premium * Math.sqrt(Math.abs(size))));
}
