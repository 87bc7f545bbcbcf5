/**
 * Derivative instruments, all settled in the quote asset: perpetual futures, dated futures and
 * European options on an underlying whose index price the venue's oracle gives.
 *
 * Sizes are in units of the underlying (one contract of one unit); prices in the quote unit per
 * unit of the underlying. The exact ledger keeps sizes as bigint base units of
 * {@link SIZE_DECIMALS} decimals and prices in PRICE_SCALE; analytics (pricing, Greeks, scenario
 * margin) work in floats on the same figures.
 */
import { FulcrumError } from '../domain/errors.js';

/** Decimals of a position size: 10^-8 of a unit of the underlying. */
export const SIZE_DECIMALS = 8;

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

/** Checks an instrument's fields; throws `invalid_config` naming the field. */
export function validateInstrument(spec: InstrumentSpec): void {
  const fail = (field: string, message: string): never => {
    throw new FulcrumError('invalid_config', `${spec.symbol}: ${message}`, field);
  };
  if (typeof spec.symbol !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/.test(spec.symbol))
    fail('symbol', 'symbol must be 1-40 letters, digits, ".", "_" or "-"');
  if (
    typeof spec.underlying !== 'string' ||
    !/^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$/.test(spec.underlying)
  )
    fail('underlying', 'underlying must be 1-16 letters, digits, ".", "_" or "-"');
  if (!(
    spec.maintenanceMargin > 0 &&
    spec.maintenanceMargin <= spec.initialMargin &&
    spec.initialMargin <= 1
  ))
    fail('initialMargin', 'margins must satisfy 0 < maintenance <= initial <= 1');
  if (!(spec.sizePremium >= 0 && spec.sizePremium <= 1))
    fail('sizePremium', 'the size premium must be from 0 to 1');
  switch (spec.kind) {
    case 'perpetual':
      if (
        !Number.isSafeInteger(spec.fundingIntervalSeconds) ||
        spec.fundingIntervalSeconds < 60 ||
        spec.fundingIntervalSeconds > 86_400
      )
        fail('fundingIntervalSeconds', 'the funding interval must be 60 to 86,400 whole seconds');
      if (!(spec.fundingClamp > 0 && spec.fundingClamp <= 0.1))
        fail('fundingClamp', 'the funding clamp must be above 0 and at most 0.1 per interval');
      return;
    case 'future':
      if (!Number.isSafeInteger(spec.expiry) || spec.expiry <= 0)
        fail('expiry', 'expiry must be unix seconds');
      return;
    case 'option':
      if (!Number.isSafeInteger(spec.expiry) || spec.expiry <= 0)
        fail('expiry', 'expiry must be unix seconds');
      if (!(spec.strike > 0 && Number.isFinite(spec.strike)))
        fail('strike', 'the strike must be above 0');
      if (spec.right !== 'call' && spec.right !== 'put') fail('right', 'right must be call or put');
      return;
    default:
      fail('kind', 'kind must be perpetual, future or option');
  }
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

/** Seconds in a year for option time to expiry (365 days, the market's convention). */
export const YEAR_SECONDS = 31_536_000;
