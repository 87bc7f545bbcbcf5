/**
 * Settlement of derivatives profit and loss into the pools (docs/MARGIN.md): a sub-account's
 * unsettled profit moves into its balance of the settlement asset. A loss settles at once and in
 * full, from its deposit, then as a borrow; what it pays goes to the settlement reserve. A
 * profit settles from the reserve, as far as the reserve holds. Scaled balances move exactly;
 * every rounding leaves the remainder in the unsettled profit or with the venue.
 */
import { FulcrumError } from '../base/errors.js';
import { VALUE_UNIT } from '../derivatives/position.js';
import { minBig, pow10 } from '../math/fixed.js';
import {
  debtAmount,
  type PoolState,
  scaledCreditForDeposit,
  scaledDebitForWithdraw,
  scaledDebtForBorrow,
  scaledDebtForRepay,
  supplyAmount,
} from '../pools/pool.js';
import type { Draft } from './draft.js';
import { scaledBalance, withScaledBalance } from './positions.js';
import {
  type AssetState,
  type DerivativesBook,
  positionLimit,
  SETTLEMENT_ACCOUNT,
  type SubAccountRef,
} from './state.js';

const RESERVE: SubAccountRef = { account: SETTLEMENT_ACCOUNT, subAccount: 0 };

/** The settlement asset, accrued to the command's time; `no_settlement_asset` if not listed. */
export function settlementAsset(draft: Draft, field: string): AssetState {
  const symbol = draft.venueConfig.settlementAsset;
  const index = draft.base.assetIndex.get(symbol);
  if (index === undefined) {
    throw new FulcrumError(
      'unknown_asset',
      `the settlement asset ${symbol} is not listed: list it before any instrument trades`,
      field,
    );
  }
  return draft.accruePool(index);
}

/** Numerator (VALUE_UNIT per unit) of one base unit of an asset of `decimals`. */
export function baseUnitValue(decimals: number): bigint {
  return BASE_UNIT_VALUES[decimals] ?? VALUE_UNIT / pow10(decimals);
}

/** {@link baseUnitValue} for every number of decimals an asset may have, computed once. */
const BASE_UNIT_VALUES: readonly bigint[] = Array.from(
  { length: 39 },
  (_, decimals) => VALUE_UNIT / pow10(decimals),
);

/** A sub-account's book with `realized` (numerator) added to its unsettled profit. */
export function withRealized(book: DerivativesBook, realized: bigint): DerivativesBook {
  return realized === 0n ? book : { ...book, unsettled: book.unsettled + realized };
}

/** What one settlement moved, base units of the settlement asset (negative: paid in). */
export interface Settled {
  readonly amount: bigint;
}

/**
 * Settles `ref`'s unsettled profit: a loss in full, a profit as far as the reserve holds.
 * Returns what moved (base units; negative for a loss paid in).
 */
export function settle(draft: Draft, ref: SubAccountRef, field = 'account'): Settled {
  const book = draft.subAccount(ref).derivatives;
  if (book === undefined || book.unsettled === 0n) return { amount: 0n };
  const asset = settlementAsset(draft, field);
  const unit = baseUnitValue(asset.config.decimals);
  let amount: bigint;
  if (book.unsettled < 0n) {
    // Rounded up: the account pays whole base units, and the remainder stays to its credit.
    const paid = (-book.unsettled + unit - 1n) / unit;
    payIn(draft, ref, asset, paid);
    amount = -paid;
  } else {
    amount = payOut(draft, ref, asset, book.unsettled / unit);
  }
  if (amount === 0n) return { amount };
  const unsettled = book.unsettled - amount * unit;
  setBook(draft, ref, { mode: book.mode, positions: book.positions, unsettled });
  draft.emit({
    type: 'pnl-settled',
    account: ref.account,
    subAccount: ref.subAccount,
    asset: asset.config.symbol,
    decimals: asset.config.decimals,
    amount,
    unsettledValue: unsettled,
  });
  return { amount };
}

/**
 * Settles several sub-accounts, losses first (in the order given among them), then profits:
 * so that what the losses pay in is there for the profits.
 */
export function settleAll(draft: Draft, refs: readonly SubAccountRef[]): void {
  for (const ref of refs) if (unsettledOf(draft, ref) < 0n) settle(draft, ref);
  for (const ref of refs) if (unsettledOf(draft, ref) > 0n) settle(draft, ref);
}

function unsettledOf(draft: Draft, ref: SubAccountRef): bigint {
  return draft.subAccount(ref).derivatives?.unsettled ?? 0n;
}

function setBook(draft: Draft, ref: SubAccountRef, book: DerivativesBook): void {
  const sub = draft.subAccount(ref);
  draft.setSubAccount(ref, { number: sub.number, positions: sub.positions, derivatives: book });
}

/**
 * `amount` base units from `ref` to the reserve: from its deposit, then as a borrow. The borrow
 * and the reserve's deposit cancel in the pool's cash; the debt is rounded up and the deposit
 * down, so the pool's surplus cannot fall.
 */
function payIn(draft: Draft, ref: SubAccountRef, asset: AssetState, amount: bigint): void {
  const pool = asset.pool;
  const held = scaledBalance(draft.subAccount(ref), asset.index);
  let rest = amount;
  let toReserve = 0n;
  let balance = held;
  let { supplyScaled, borrowScaled } = pool;
  if (held > 0n) {
    const available = supplyAmount(held, pool);
    const take = minBig(rest, available);
    const debit = take === available ? held : scaledDebitForWithdraw(take, pool);
    balance -= debit;
    toReserve += debit;
    rest -= take;
  }
  if (rest > 0n) {
    const debt = scaledDebtForBorrow(rest, pool);
    const credit = scaledCreditForDeposit(rest, pool);
    balance -= debt;
    borrowScaled += debt;
    supplyScaled += credit;
    toReserve += credit;
  }
  const limit = positionLimit(ref.account, ref.subAccount);
  draft.setSubAccount(
    ref,
    withScaledBalance(draft.subAccount(ref), asset.index, balance, limit, 'account'),
  );
  creditReserve(draft, asset.index, toReserve);
  setPoolScaled(draft, asset.index, pool, supplyScaled, borrowScaled);
}

/**
 * Up to `wanted` base units from the reserve to `ref`: repaying its borrow first (the reserve's
 * withdrawal and the repayment cancel in the pool's cash), then as a deposit. Returns what was
 * paid, whole base units, never more than the reserve holds.
 */
function payOut(draft: Draft, ref: SubAccountRef, asset: AssetState, wanted: bigint): bigint {
  const pool = asset.pool;
  const reserveScaled = scaledBalance(draft.subAccount(RESERVE), asset.index);
  if (reserveScaled <= 0n || wanted <= 0n) return 0n;
  const reserveHolds = supplyAmount(reserveScaled, pool);
  const amount = minBig(wanted, reserveHolds);
  if (amount === 0n) return 0n;
  const held = scaledBalance(draft.subAccount(ref), asset.index);
  let balance = held;
  let { supplyScaled, borrowScaled } = pool;
  let fromReserve = 0n;
  let rest = amount;
  let paid = 0n;
  if (held < 0n) {
    const owed = debtAmount(-held, pool);
    const repay = minBig(rest, owed);
    const reduction = repay === owed ? -held : scaledDebtForRepay(repay, pool);
    const debit = repay === reserveHolds ? reserveScaled : scaledDebitForWithdraw(repay, pool);
    balance += reduction;
    borrowScaled -= reduction;
    supplyScaled -= debit;
    fromReserve += debit;
    rest -= repay;
    paid += repay;
  }
  if (rest > 0n && balance >= 0n) {
    // The same scaled supply moves, rounded down: the account receives no more than `rest`.
    const moved = minBig(scaledCreditForDeposit(rest, pool), reserveScaled - fromReserve);
    balance += moved;
    fromReserve += moved;
    paid += supplyAmount(moved, pool);
  }
  if (fromReserve === 0n) return 0n;
  const limit = positionLimit(ref.account, ref.subAccount);
  draft.setSubAccount(
    ref,
    withScaledBalance(draft.subAccount(ref), asset.index, balance, limit, 'account'),
  );
  creditReserve(draft, asset.index, -fromReserve);
  setPoolScaled(draft, asset.index, pool, supplyScaled, borrowScaled);
  return paid;
}

/** The asset with `pool`'s scaled supply and borrows replaced: literals, not spreads. */
function setPoolScaled(
  draft: Draft,
  index: number,
  pool: PoolState,
  supplyScaled: bigint,
  borrowScaled: bigint,
): void {
  const asset = draft.asset(index);
  draft.setAsset({
    index: asset.index,
    config: asset.config,
    risk: asset.risk,
    pool: {
      cash: pool.cash,
      supplyScaled,
      borrowScaled,
      treasuryScaled: pool.treasuryScaled,
      supplyIndexRay: pool.supplyIndexRay,
      borrowIndexRay: pool.borrowIndexRay,
      accruedAt: pool.accruedAt,
    },
    oracle: asset.oracle,
  });
}

function creditReserve(draft: Draft, index: number, scaled: bigint): void {
  if (scaled === 0n) return;
  const sub = draft.subAccount(RESERVE);
  const held = scaledBalance(sub, index);
  const limit = positionLimit(RESERVE.account, RESERVE.subAccount);
  draft.setSubAccount(RESERVE, withScaledBalance(sub, index, held + scaled, limit, 'account'));
}
