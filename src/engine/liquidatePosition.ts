/**
 * `liquidate-position`: the first step of working through an account below maintenance
 * (docs/MARGIN.md). A liquidator takes over part of the target's position in one instrument at
 * the mark less the instrument's penalty (a long bought below the mark, a short sold above it);
 * the insurance fund takes its share of the penalty from the liquidator. The size is the least
 * that brings the target's liquidation-end health back to 1, or the whole position; a remainder
 * worth less than the dust value goes with it. The insurance fund itself may take a position
 * over (the backstop) once the target is below the backstop's health, keeping the whole penalty;
 * it then unwinds it by trading.
 */
import { FulcrumError } from '../base/errors.js';
import type { HealthSnapshot } from '../margin/health.js';
import { RATE_SCALE, SIZE_UNIT } from '../derivatives/position.js';
import { minBig, PRICE_SCALE, VALUE_SCALE, WEIGHT_SCALE } from '../math/fixed.js';
import type { LiquidatePositionCommand } from './commands.js';
import type { Draft } from './draft.js';
import { accountName, requireInitialMargin } from './lending.js';
import {
  countThrottle,
  requirePricesAllowLiquidation,
  resolveIfBankrupt,
  throttleRoom,
} from './liquidate.js';
import { settleAll } from './settlement.js';
import {
  INSURANCE_ACCOUNT,
  type InstrumentState,
  RESERVED_ACCOUNT_PREFIX,
  type SubAccountRef,
} from './state.js';
import { addUnsettled, fill, requireDerivativePrices } from './trading.js';

const W = WEIGHT_SCALE;
const INSURANCE: SubAccountRef = { account: INSURANCE_ACCOUNT, subAccount: 0 };

export function liquidatePosition(draft: Draft, command: LiquidatePositionCommand): void {
  const { liquidator, target } = command;
  refuseSelfOrVenueTarget(liquidator, target);
  const instrument = draft.findInstrument(command.instrument, 'instrument');
  const position = draft
    .subAccount(target)
    .derivatives?.positions.find((p) => p.instrument === instrument.index);
  if (position === undefined) {
    throw new FulcrumError(
      'no_position',
      `${accountName(target)} holds no ${instrument.listing.spec.symbol}`,
      'instrument',
    );
  }
  const backstop = liquidator.account === INSURANCE_ACCOUNT;
  const before = requireLiquidatable(draft, target, backstop);
  const { liquidationPenalty: penalty, insuranceShare } = instrument.listing;
  const long = position.size > 0n;
  const mark = instrument.mark;
  // The target's side of the takeover, at the mark less the penalty, rounded against it.
  const price = long ? (mark * (W - penalty)) / W : (mark * (W + penalty) + W - 1n) / W;
  const held = long ? position.size : -position.size;
  const size = takeoverSize(draft, command, instrument, held, price);
  const signed = long ? size : -size;
  const quote = signed * price * RATE_SCALE;
  fill(draft, target, instrument, -signed, quote, 'target');
  fill(draft, liquidator, draft.instrument(instrument.index), signed, -quote, 'liquidator');
  // The penalty the target paid, numerator: the size times the price's distance from the mark.
  const penaltyValue = size * (long ? mark - price : price - mark) * RATE_SCALE;
  const toInsurance = backstop ? 0n : (penaltyValue * insuranceShare) / W;
  if (toInsurance > 0n) {
    addUnsettled(draft, liquidator, -toInsurance);
    addUnsettled(draft, INSURANCE, toInsurance);
  }
  updateOpenInterest(
    draft,
    instrument.index,
    liquidator,
    long ? held : 0n,
    long ? held - size : 0n,
    signed,
  );
  // The notional taken over counts against the throttle, VALUE_SCALE (a price is PRICE_SCALE).
  countThrottle(draft, target, notionalValue(size, mark));
  settleAll(draft, [target, liquidator, INSURANCE]);
  const after = draft.health(target);
  if (!backstop) {
    requirePricesAllowLiquidation(draft, liquidator, 'liquidator');
    requireDerivativePrices(draft, liquidator, 'liquidate', 'liquidator');
    requireInitialMargin(draft, liquidator, 'liquidator');
  }
  draft.emit({
    type: 'position-liquidated',
    target: { account: target.account, subAccount: target.subAccount },
    liquidator: { account: liquidator.account, subAccount: liquidator.subAccount },
    instrument: instrument.listing.spec.symbol,
    size: signed,
    mark,
    price,
    toInsuranceValue: toInsurance,
    healthBeforeWad: before.healthFactor('maintenance'),
    healthAfterWad: after.healthFactor('maintenance'),
  });
  resolveIfBankrupt(draft, target);
}

/** No account liquidates itself, and the venue's own accounts are never liquidated. */
function refuseSelfOrVenueTarget(liquidator: SubAccountRef, target: SubAccountRef): void {
  if (liquidator.account === target.account && liquidator.subAccount === target.subAccount) {
    throw new FulcrumError('same_account', 'an account cannot liquidate itself', 'liquidator');
  }
  if (target.account.startsWith(RESERVED_ACCOUNT_PREFIX)) {
    throw new FulcrumError(
      'reserved_account',
      "the venue's own accounts are not liquidated",
      'target',
    );
  }
}

/**
 * The target's health before the takeover, checked: below maintenance, below the backstop's
 * threshold when the insurance fund takes over, and at prices that allow liquidation.
 */
function requireLiquidatable(
  draft: Draft,
  target: SubAccountRef,
  backstop: boolean,
): HealthSnapshot {
  const before = draft.health(target);
  if (before.meets('maintenance')) {
    throw new FulcrumError('not_liquidatable', 'the account meets maintenance margin', 'target');
  }
  const health = before.healthFactor('maintenance') ?? 0n;
  if (backstop && health >= draft.liquidationConfig.backstopHealth) {
    throw new FulcrumError(
      'backstop_not_needed',
      `maintenance health ${health} is above the backstop's threshold: liquidators act`,
      'target',
    );
  }
  requirePricesAllowLiquidation(draft, target, 'target');
  requireDerivativePrices(draft, target, 'liquidate', 'target');
  return before;
}

/**
 * Open interest after a takeover of `signed` units (the liquidator's side): the target's long
 * part goes from `oldLong` to `newLong`, and the liquidator's long part is recomputed from its
 * position before and after.
 */
function updateOpenInterest(
  draft: Draft,
  instrumentIndex: number,
  liquidator: SubAccountRef,
  oldLong: bigint,
  newLong: bigint,
  signed: bigint,
): void {
  const current = draft.instrument(instrumentIndex);
  // The liquidator's side changes open interest too: recompute both sides' long parts.
  const liquidatorPosition = draft
    .subAccount(liquidator)
    .derivatives?.positions.find((p) => p.instrument === instrumentIndex);
  const liquidatorBefore = (liquidatorPosition?.size ?? 0n) - signed;
  draft.setInstrument({
    ...current,
    openInterest:
      current.openInterest +
      newLong -
      oldLong +
      longPart(liquidatorPosition?.size ?? 0n) -
      longPart(liquidatorBefore),
  });
}

function longPart(size: bigint): bigint {
  return size > 0n ? size : 0n;
}

/**
 * The size taken over (10^-8 units, absolute): the least that brings the target's
 * liquidation-end health to 1, found by bisection on the exact health with the takeover's loss
 * counted as unsettled; at most what was asked, what the throttle leaves and the position; the
 * whole position when the rest would be worth less than the dust value.
 */
function takeoverSize(
  draft: Draft,
  command: LiquidatePositionCommand,
  instrument: InstrumentState,
  held: bigint,
  price: bigint,
): bigint {
  const { target } = command;
  const mark = instrument.mark;
  let most = command.amount === 'max' ? held : minBig(command.amount, held);
  const room = throttleRoom(draft, target);
  if (room !== null) {
    // Notional in VALUE_SCALE per size unit: mark / SIZE_UNIT (quote) → VALUE_SCALE.
    const bySize = (room * SIZE_UNIT * PRICE_SCALE) / (mark * VALUE_SCALE);
    if (bySize <= 0n) {
      throw new FulcrumError(
        'liquidation_throttled',
        'the liquidation caps for this window are used up',
        'target',
      );
    }
    most = minBig(most, bySize);
  }
  if (most <= 0n) {
    throw new FulcrumError('not_liquidatable', 'nothing can be taken over', 'amount');
  }
  const restores = (size: bigint): boolean =>
    takeoverRestores(draft, target, instrument, size, price);
  let size = most;
  if (restores(most)) {
    let low = 0n;
    let high = most;
    while (high - low > 1n) {
      const middle = (low + high) / 2n;
      if (restores(middle)) high = middle;
      else low = middle;
    }
    size = high;
  }
  const dust = draft.liquidationConfig.dustValue;
  const leftValue = notionalValue(held - size, mark);
  if (
    size < held &&
    leftValue < dust &&
    (command.amount === 'max' || command.amount >= held) &&
    (room === null || held <= most)
  ) {
    size = held;
  }
  return size;
}

/** Whether taking over `size` brings the target's liquidation-end health to 1 (settlement aside). */
function takeoverRestores(
  draft: Draft,
  target: SubAccountRef,
  instrument: InstrumentState,
  size: bigint,
  price: bigint,
): boolean {
  const sub = draft.subAccount(target);
  const book = sub.derivatives;
  const held = book?.positions.find((p) => p.instrument === instrument.index);
  if (book === undefined || held === undefined) return false;
  // As `applyFill` books it: the closed part's quote and the funding owed are realized, and
  // what stays open keeps its share of the quote.
  const signed = held.size > 0n ? size : -size;
  const kept = held.size - signed;
  const keptQuote = kept === 0n ? 0n : (held.quote * kept) / held.size;
  const owed = held.size * (instrument.fundingIndex - held.funding);
  const realized = held.quote - keptQuote + signed * price * RATE_SCALE - owed;
  const positions = book.positions.flatMap((p) =>
    p.instrument !== instrument.index
      ? [p]
      : kept === 0n
        ? []
        : [{ ...p, size: kept, quote: keptQuote, funding: instrument.fundingIndex }],
  );
  const next = { ...book, positions, unsettled: book.unsettled + realized };
  return draft.healthOf(sub.positions, next).meets('liquidationEnd');
}

/** Notional of `size` (10^-8 units) at `mark` (PRICE_SCALE), VALUE_SCALE, rounded down. */
function notionalValue(size: bigint, mark: bigint): bigint {
  return (size * mark * VALUE_SCALE) / (SIZE_UNIT * PRICE_SCALE);
}
