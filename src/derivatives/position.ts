/**
 * One derivatives position of a margin account, and the exact arithmetic of what moves it: a
 * fill (a trade), funding, and settlement at expiry. Pure: no state, no engine.
 *
 * Every value is a bigint numerator over {@link VALUE_UNIT} per quote unit: a size in 10^-8
 * units of the underlying ({@link SIZE_UNIT}) times a price in PRICE_SCALE times a funding
 * rate's 10^12 ({@link RATE_SCALE}) is such a numerator, so a fill (size × price), a funding
 * payment (size × index × rate) and a settlement are exact products with no rounding. A position
 * keeps its signed size and its quote balance (what was paid for it, signed): its value at a mark
 * is size × mark + quote, its average entry −quote / size. Since every long has a short, the sum
 * of all positions' quote balances and all accounts' realized profit is zero: value moves, it is
 * never made.
 */
import { PRICE_SCALE } from '../math/fixed.js';
import { SIZE_DECIMALS } from './instruments.js';

/** Funding rates are kept to 10^-12. */
export const RATE_SCALE = 10n ** 12n;
/** Size base units per unit of the underlying. */
export const SIZE_UNIT = 10n ** BigInt(SIZE_DECIMALS);
/** Numerator units per quote unit: size (10^8) × price (10^18) × rate (10^12). */
export const VALUE_UNIT = SIZE_UNIT * PRICE_SCALE * RATE_SCALE;

export interface DerivativePosition {
  /** The instrument's index in the engine's list of instruments. */
  readonly instrument: number;
  /** Signed size in 10^-8 units of the underlying: + long, − short; never zero. */
  readonly size: bigint;
  /** What was paid for it (negative) or received (positive), numerator. */
  readonly quote: bigint;
  /** The instrument's cumulative funding per size unit (numerator) when last settled. */
  readonly funding: bigint;
}

/** What a fill did to a position: the position after it, and the profit it realized. */
export interface Fill {
  /** The position after the fill; null when it closed. */
  readonly position: DerivativePosition | null;
  /**
   * Realized profit (negative: loss), numerator: the closed part's result and the funding the
   * position owed (or was owed) up to now, which a fill settles.
   */
  readonly realized: bigint;
}

/** Funding a position owes since it last settled at `fundingIndex` (negative: is owed). */
export function owedFunding(position: DerivativePosition, fundingIndex: bigint): bigint {
  return position.size * (fundingIndex - position.funding);
}

/**
 * A position's value at `mark` (PRICE_SCALE) less the funding it owes at `fundingIndex`:
 * its unrealized profit for a future or perpetual (size × mark + quote), and for an option its
 * market value less its premium.
 */
export function positionValue(
  position: DerivativePosition,
  mark: bigint,
  fundingIndex: bigint,
): bigint {
  return position.size * mark * RATE_SCALE + position.quote - owedFunding(position, fundingIndex);
}

/**
 * The position after a fill of `size` (signed: + bought) for `quote` (signed numerator: −size ×
 * price), with the funding owed so far settled. A fill that reduces the position realizes the
 * closed part's result in proportion to the size closed; what stays open keeps its share of
 * the quote (rounded toward zero: the realized part takes the remainder, so nothing is lost). A
 * fill that flips the position closes the old side and opens the new one at the fill's price.
 *
 * @example
 * // Long 2 ETH bought at 2000 (quote −4000 quote units), sell 1 at 2100: 100 realized, and
 * // 1 ETH left at an entry of 2000.
 * const long = { instrument: 0, size: 2n * SIZE_UNIT, quote: -4000n * VALUE_UNIT, funding: 0n };
 * applyFill(long, 0, -SIZE_UNIT, 2100n * VALUE_UNIT, 0n).realized; // 100n * VALUE_UNIT
 */
export function applyFill(
  before: DerivativePosition | null,
  instrument: number,
  size: bigint,
  quote: bigint,
  fundingIndex: bigint,
): Fill {
  // Most fills find the funding index where the position last settled: nothing owed.
  const funding =
    before === null || before.funding === fundingIndex ? 0n : -owedFunding(before, fundingIndex);
  const oldSize = before?.size ?? 0n;
  const oldQuote = before?.quote ?? 0n;
  const newSize = oldSize + size;
  const combinedQuote = oldQuote + quote;
  let keptQuote = combinedQuote;
  let realized = 0n;
  const reducing = oldSize !== 0n && oldSize > 0n !== size > 0n;
  if (reducing) {
    const flipped = newSize !== 0n && newSize > 0n !== oldSize > 0n;
    if (flipped) {
      // The new side's quote is what was paid for the part beyond the old size.
      keptQuote = (quote * newSize) / size;
    } else {
      keptQuote = newSize === 0n ? 0n : (oldQuote * newSize) / oldSize;
    }
    realized = combinedQuote - keptQuote;
  }
  const position =
    newSize === 0n ? null : { instrument, size: newSize, quote: keptQuote, funding: fundingIndex };
  return { position, realized: funding === 0n ? realized : realized + funding };
}

/**
 * The value a position settles for at expiry: a future at the settlement index, an option at
 * its intrinsic value on it (`strike` in PRICE_SCALE); with the funding it owed (none for dated
 * instruments, which pay none).
 */
export function settlementValue(position: DerivativePosition, price: bigint): bigint {
  return position.size * price * RATE_SCALE + position.quote;
}
