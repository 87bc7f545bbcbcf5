/**
 * Prices at the boundary: quote units per whole unit of an asset, PRICE_SCALE (18 decimals),
 * strictly positive and at most {@link PRICE_MAX}.
 */
import { FulcrumError } from '../base/errors.js';
import { parseDecimal } from '../math/decimal.js';
import { PRICE_DECIMALS, PRICE_SCALE } from '../math/fixed.js';

/** Largest price accepted: 10^12 quote units per whole unit of an asset. */
export const PRICE_MAX = 10n ** 12n * PRICE_SCALE;

/**
 * Parses a price given as a decimal string.
 *
 * @example
 * parsePrice('2000.5', 'price'); // 2000.5 × PRICE_SCALE
 */
export function parsePrice(input: unknown, field: string): bigint {
  if (input === undefined) throw new FulcrumError('invalid_field', `${field} is required`, field);
  const price = parseDecimal(input, PRICE_DECIMALS, { field, max: PRICE_MAX });
  if (price === 0n) throw new FulcrumError('invalid_number', `${field} must be positive`, field);
  return price;
}

/** Checks a price given as a bigint (library callers). */
export function validatePrice(price: bigint, field: string): void {
  if (typeof price !== 'bigint' || price <= 0n) {
    throw new FulcrumError('invalid_number', `${field} must be a positive price`, field);
  }
  if (price > PRICE_MAX) {
    throw new FulcrumError('invalid_number', `${field} exceeds the largest price (10^12)`, field);
  }
}
