/**
 * `deleverage`: auto-deleveraging, the step of the loss waterfall between the insurance fund and
 * the lenders (docs/MARGIN.md). A bankrupt sub-account (its equity, everything it holds at
 * oracle prices and marks less everything it owes, below zero) whose loss the insurance fund
 * cannot cover has its position in one instrument closed against the opposite positions of
 * other accounts, at the bankruptcy price: the mark moved against the bankrupt side by its
 * deficit's share of that position, so the counterparties, most profitable and most leveraged
 * first, give up the deficit out of their profit. Nobody without an opposite position pays, no
 * counterparty is left below zero equity, and value is conserved exactly.
 */
import { FulcrumError } from '../base/errors.js';
import { type DerivativePosition, positionValue, RATE_SCALE } from '../derivatives/position.js';
import { HEALTH_DENOMINATORS } from '../margin/health.js';
import { VALUE_SCALE } from '../math/fixed.js';
import { VALUE_UNIT } from '../derivatives/position.js';
import type { DeleverageCommand } from './commands.js';
import type { Draft } from './draft.js';
import { accountName } from './lending.js';
import { resolveIfBankrupt } from './liquidate.js';
import { scaledBalance } from './positions.js';
import { settleAll, settlementAsset } from './settlement.js';
import {
  INSURANCE_ACCOUNT,
  type InstrumentState,
  RESERVED_ACCOUNT_PREFIX,
  type SubAccountRef,
} from './state.js';
import { fill } from './trading.js';
import { supplyAmount } from '../pools/pool.js';

const INSURANCE: SubAccountRef = { account: INSURANCE_ACCOUNT, subAccount: 0 };
/** Value numerators (10^48 per quote unit) to derivatives numerators (VALUE_UNIT, 10^38). */
const VALUE_TO_DERIVATIVES = (HEALTH_DENOMINATORS.value * VALUE_SCALE) / VALUE_UNIT;

/**
 * A sub-account's equity at oracle prices and marks, numerator over VALUE_UNIT: deposits less
 * debts, plus every position's value and its unsettled profit. Rounded down.
 */
export function equityOf(draft: Draft, ref: SubAccountRef): bigint {
  const snapshot = draft.health(ref);
  const balances =
    (snapshot.collateralValueNum - snapshot.liabilityValueNum) / VALUE_TO_DERIVATIVES;
  const book = draft.subAccount(ref).derivatives;
  if (book === undefined) return balances;
  let value = book.unsettled;
  for (const position of book.positions) {
    const instrument = draft.instrument(position.instrument);
    value += positionValue(position, instrument.mark, instrument.fundingIndex);
  }
  return balances + value;
}

export function deleverage(draft: Draft, command: DeleverageCommand): void {
  const { target } = command;
  if (target.account.startsWith(RESERVED_ACCOUNT_PREFIX)) {
    throw new FulcrumError(
      'reserved_account',
      "the venue's own accounts are not deleveraged",
      'target',
    );
  }
  const instrument = draft.findInstrument(command.instrument, 'instrument');
  const book = draft.subAccount(target).derivatives;
  const position = book?.positions.find((p) => p.instrument === instrument.index);
  if (book === undefined || position === undefined) {
    throw new FulcrumError(
      'no_position',
      `${accountName(target)} holds no ${instrument.listing.spec.symbol}`,
      'instrument',
    );
  }
  const deficit = uncoveredDeficit(draft, target);
  const size = absolute(position.size);
  const perUnit = deficitPerUnit(draft, book.positions, position, instrument, deficit);
  const long = position.size > 0n;
  // A bankrupt long sells above the mark, a bankrupt short buys below it (numerator per unit).
  const markValue = instrument.mark * RATE_SCALE;
  const bankruptcyValue = long ? markValue + perUnit : markValue - perUnit;
  const touched: SubAccountRef[] = [target];
  const remaining = closeAgainstCounterparties(
    draft,
    target,
    instrument,
    size,
    long,
    perUnit,
    bankruptcyValue,
    touched,
  );
  if (remaining !== 0n) {
    throw new FulcrumError(
      'adl_failed',
      `the opposite positions of ${instrument.listing.spec.symbol} cannot absorb the deficit`,
      'target',
    );
  }
  // Both sides closed the same size: open interest falls by it.
  const current = draft.instrument(instrument.index);
  draft.setInstrument({ ...current, openInterest: current.openInterest - size });
  settleAll(draft, touched);
  resolveIfBankrupt(draft, target);
}

/**
 * The target's deficit (its negative equity, numerator over VALUE_UNIT), checked to be one the
 * insurance fund cannot cover: otherwise the target is not bankrupt or the backstop takes over.
 */
function uncoveredDeficit(draft: Draft, target: SubAccountRef): bigint {
  const equity = equityOf(draft, target);
  if (equity >= 0n) {
    throw new FulcrumError('not_bankrupt', `${accountName(target)} is not bankrupt`, 'target');
  }
  const deficit = -equity;
  const asset = settlementAsset(draft, 'target');
  const unit = VALUE_UNIT / 10n ** BigInt(asset.config.decimals);
  const fundScaled = scaledBalance(draft.subAccount(INSURANCE), asset.index);
  const fund = fundScaled > 0n ? supplyAmount(fundScaled, asset.pool) * unit : 0n;
  if (fund >= deficit) {
    throw new FulcrumError(
      'adl_not_needed',
      `the insurance fund covers ${accountName(target)}'s deficit: the backstop takes its positions over`,
      'target',
    );
  }
  return deficit;
}

/**
 * The deficit each unit of `position` carries, rounded up: the position's share of the deficit,
 * by its notional among all the sub-account's `positions`, spread over its size.
 */
function deficitPerUnit(
  draft: Draft,
  positions: readonly DerivativePosition[],
  position: DerivativePosition,
  instrument: InstrumentState,
  deficit: bigint,
): bigint {
  let total = 0n;
  for (const p of positions) total += absolute(p.size * draft.instrument(p.instrument).mark);
  const notional = absolute(position.size * instrument.mark);
  const share = total === 0n ? deficit : (deficit * notional + total - 1n) / total;
  const size = absolute(position.size);
  return (share + size - 1n) / size;
}

/**
 * Closes up to `size` of the target's position against the ranked opposite positions at the
 * bankruptcy price, each counterparty only as far as its equity pays `perUnit`; pushes each
 * counterparty reached onto `touched` and returns the size left open.
 */
function closeAgainstCounterparties(
  draft: Draft,
  target: SubAccountRef,
  instrument: InstrumentState,
  size: bigint,
  long: boolean,
  perUnit: bigint,
  bankruptcyValue: bigint,
  touched: SubAccountRef[],
): bigint {
  let remaining = size;
  for (const counterparty of ranking(draft, instrument, long ? -1n : 1n)) {
    if (remaining === 0n) break;
    const other = draft
      .subAccount(counterparty)
      .derivatives?.positions.find((p) => p.instrument === instrument.index) as DerivativePosition;
    const room = equityOf(draft, counterparty);
    const affordable = perUnit === 0n ? absolute(other.size) : room / perUnit;
    const closed = minimum(minimum(remaining, absolute(other.size)), affordable);
    if (closed <= 0n) continue;
    const signed = long ? closed : -closed;
    fill(
      draft,
      target,
      draft.instrument(instrument.index),
      -signed,
      signed * bankruptcyValue,
      'target',
    );
    fill(
      draft,
      counterparty,
      draft.instrument(instrument.index),
      signed,
      -signed * bankruptcyValue,
      'target',
    );
    remaining -= closed;
    touched.push(counterparty);
    draft.emit({
      type: 'deleveraged',
      target: { account: target.account, subAccount: target.subAccount },
      counterparty: { account: counterparty.account, subAccount: counterparty.subAccount },
      instrument: instrument.listing.spec.symbol,
      size: signed,
      price: bankruptcyValue / RATE_SCALE,
    });
  }
  return remaining;
}

/**
 * Holders of `side` (+1 long, −1 short) of an instrument, ranked for deleveraging: by profit as
 * a share of entry times leverage (notional over equity), highest first, ties by account name
 * and sub-account number; a position at a loss ranks below every one in profit. The venue's own
 * accounts are left out.
 */
function ranking(draft: Draft, instrument: InstrumentState, side: bigint): SubAccountRef[] {
  const scored: { ref: SubAccountRef; score: number }[] = [];
  for (const id of [...draft.base.accounts.keys()].sort()) {
    if (id.startsWith(RESERVED_ACCOUNT_PREFIX)) continue;
    for (const sub of draft.base.accounts.get(id)?.subAccounts ?? []) {
      const ref = { account: id, subAccount: sub.number };
      const position = draft
        .subAccount(ref)
        .derivatives?.positions.find((p) => p.instrument === instrument.index);
      if (position === undefined || (position.size > 0n ? 1n : -1n) !== side) continue;
      const entry = -Number(position.quote) / Number(position.size);
      const mark = Number(instrument.mark * RATE_SCALE);
      const profitShare = entry === 0 ? 0 : ((mark - entry) / entry) * (side > 0n ? 1 : -1);
      const equity = equityOf(draft, ref);
      const notional = Math.abs(Number(position.size) * mark);
      const leverage = equity > 0n ? notional / Number(equity) : Number.POSITIVE_INFINITY;
      const score = profitShare * leverage;
      scored.push({ ref, score: Number.isNaN(score) ? 0 : score });
    }
  }
  scored.sort((a, b) => b.score - a.score || 0);
  return scored.map((s) => s.ref);
}

function absolute(x: bigint): bigint {
  return x < 0n ? -x : x;
}

function minimum(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
