/**
 * The standard margin requirement of one derivatives position, exact: numerators over
 * VALUE_UNIT per quote unit (see `position.ts`), ratios rounded up (the venue's side).
 *
 * Perpetuals and futures: a share of notional at the mark, the instrument's initial or
 * maintenance ratio raised by its size premium (`sizeAdjusted`, Drift's form). A short option:
 * Deribit's legacy standard margin, initial max(0.15 − out-of-the-money share, 0.1) of the index
 * plus its mark, maintenance 0.075 of the index plus its mark, each share raised by the size
 * premium. A long option: its own market value, since it is paid in full (its value counts in
 * the account and is required back, so premium cannot be bought on credit).
 */
import { PRICE_SCALE } from '../math/fixed.js';
import { type InstrumentSpec, sizeAdjusted } from './instruments.js';
import { RATE_SCALE, SIZE_UNIT } from './position.js';

const PPM = 1_000_000n;

export interface Requirement {
  readonly initial: bigint;
  readonly maintenance: bigint;
}

/**
 * The requirement of `size` (signed, 10^-8 units) of the instrument `spec` at `mark` and the
 * underlying's `index` (PRICE_SCALE).
 *
 * @example
 * // 10 ETH-PERP at 2000, initial 10%, maintenance 5%, no size premium: 2000 and 1000.
 * standardRequirement(perp, 2000n * PRICE_SCALE, 2000n * PRICE_SCALE, 10n * SIZE_UNIT);
 */
export function standardRequirement(
  spec: InstrumentSpec,
  mark: bigint,
  index: bigint,
  size: bigint,
): Requirement {
  const absSize = size < 0n ? -size : size;
  const units = Number(absSize) / Number(SIZE_UNIT);
  if (spec.kind === 'option') {
    const markValue = absSize * mark * RATE_SCALE;
    if (size >= 0n) return { initial: markValue, maintenance: markValue };
    const indexNumber = Number(index) / Number(PRICE_SCALE);
    const otm =
      indexNumber === 0
        ? 0
        : Math.max(
            0,
            spec.right === 'call' ? spec.strike - indexNumber : indexNumber - spec.strike,
          ) / indexNumber;
    const initialRatio = ppmUp(sizeAdjusted(Math.max(0.15 - otm, 0.1), spec.sizePremium, units));
    const maintenanceRatio = ppmUp(sizeAdjusted(0.075, spec.sizePremium, units));
    const indexValue = absSize * index * RATE_SCALE;
    return {
      initial: divUp(indexValue * initialRatio, PPM) + markValue,
      maintenance: divUp(indexValue * maintenanceRatio, PPM) + markValue,
    };
  }
  const notional = absSize * mark * RATE_SCALE;
  const initialRatio = ppmUp(sizeAdjusted(spec.initialMargin, spec.sizePremium, units));
  const maintenanceRatio = ppmUp(sizeAdjusted(spec.maintenanceMargin, spec.sizePremium, units));
  return {
    initial: divUp(notional * initialRatio, PPM),
    maintenance: divUp(notional * maintenanceRatio, PPM),
  };
}

/**
 * What an expiring instrument settles at, PRICE_SCALE: a future at the settlement index, an
 * option at its intrinsic value on it (the strike read to 10^-9).
 */
export function settlementPrice(spec: InstrumentSpec, index: bigint): bigint {
  if (spec.kind !== 'option') return index;
  const strike = BigInt(Math.round(spec.strike * 1e9)) * 10n ** 9n;
  const intrinsic = spec.right === 'call' ? index - strike : strike - index;
  return intrinsic > 0n ? intrinsic : 0n;
}

/** A ratio as parts per million, rounded up (the venue's side). */
export function ppmUp(ratio: number): bigint {
  return BigInt(Math.ceil(ratio * 1e6 - 1e-9));
}

function divUp(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b === a || a < 0n ? q : q + 1n;
}
