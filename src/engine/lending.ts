/**
 * Pool operations on a draft. Each follows the same fixed order: accrue the pool, validate,
 * change balances, update the rate (which follows the balances), emit. Risk-increasing operations (withdraw, borrow, transfer
 * out) end with the initial-margin check on the sub-account, so a command that would leave it
 * short is refused and its draft dropped.
 */
import { FulcrumError } from '../base/errors.js';
import { gradeAllows } from '../domain/priceGrade.js';
import { breakerFrozen, gradeAt } from '../oracle/oracle.js';
import { formatDecimal } from '../math/decimal.js';
import {
  debtAmount,
  POOL_VALUE_MAX,
  poolValue,
  type PoolState,
  scaledCreditForDeposit,
  scaledDebitForWithdraw,
  scaledDebtForBorrow,
  scaledDebtForRepay,
  supplyAmount,
  totalDebt,
  totalSupply,
} from '../pools/pool.js';
import type {
  AccrueCommand,
  BorrowCommand,
  DepositCommand,
  RepayCommand,
  TransferCommand,
  WithdrawCommand,
} from './commands.js';
import type { Draft } from './draft.js';
import type { BalanceEvent } from './events.js';
import { scaledBalance, withScaledBalance } from './positions.js';
import { type AssetState, INSURANCE_ACCOUNT, positionLimit, type SubAccountRef } from './state.js';

export function deposit(draft: Draft, command: DepositCommand): void {
  const asset = draft.findAsset(command.asset, 'asset');
  refuseLocated(asset, 'deposited');
  credit(draft, command, asset.index, command.amount, true);
}

/**
 * Credits `amount` base units of an asset's supply to a sub-account, within the supply cap when
 * `capped` (a chain's deposit is in its vault already: it is credited whatever the cap), and
 * emits `deposited`.
 */
export function credit(
  draft: Draft,
  ref: SubAccountRef,
  index: number,
  amount: bigint,
  capped: boolean,
): void {
  const asset = draft.accruePool(index);
  const { pool, config } = asset;
  const held = scaledBalance(draft.subAccount(ref), asset.index);
  if (held < 0n) {
    throw new FulcrumError(
      'asset_is_borrowed',
      `${accountName(ref)} owes ${config.symbol}: repay it instead`,
      'asset',
    );
  }
  const scaled = scaledCreditForDeposit(amount, pool);
  if (scaled === 0n) throw tooSmall(asset, amount);
  const next = { ...pool, cash: pool.cash + amount, supplyScaled: pool.supplyScaled + scaled };
  requirePoolRoom(asset, next);
  if (capped && config.supplyCap !== null && totalSupply(next) > config.supplyCap) {
    throw new FulcrumError(
      'supply_cap_exceeded',
      `total ${config.symbol} supply would exceed its cap of ${formatDecimal(config.supplyCap, config.decimals)}`,
      'amount',
    );
  }
  draft.setSubAccount(
    ref,
    withScaledBalance(
      draft.subAccount(ref),
      asset.index,
      held + scaled,
      positionLimit(ref.account, ref.subAccount),
    ),
  );
  finishPool(draft, asset, next);
  draft.emit(balanceEvent('deposited', ref, asset, amount, scaled));
}

/**
 * An asset held on another chain moves in and out only through its chain's vault: the watcher
 * credits deposits, `chain-withdraw` pays out (`chain_asset`).
 */
function refuseLocated(asset: AssetState, verb: string): void {
  const { location, symbol } = asset.config;
  if (location === undefined) return;
  throw new FulcrumError(
    'chain_asset',
    `${symbol} is held in the vault on chain ${location.chain}: it is ${verb} there (chain-deposit, chain-withdraw)`,
    'asset',
  );
}

export function withdraw(draft: Draft, command: WithdrawCommand): void {
  const asset = draft.findAsset(command.asset, 'asset');
  refuseLocated(asset, 'withdrawn');
  debit(draft, command, asset.index, command.amount);
}

/**
 * Takes `amount` base units (or all) of a sub-account's supply out of the pool, checked against
 * initial margin, and emits `withdrawn`; returns the amount taken.
 */
export function debit(
  draft: Draft,
  ref: SubAccountRef,
  index: number,
  wanted: bigint | 'all',
): bigint {
  requireOwnAccount(ref);
  const asset = draft.accruePool(index);
  const { pool, config } = asset;
  const sub = draft.subAccount(ref);
  const held = scaledBalance(sub, asset.index);
  const available = held > 0n ? supplyAmount(held, pool) : 0n;
  const amount = wanted === 'all' ? available : wanted;
  if (amount === 0n || amount > available) {
    throw new FulcrumError(
      'insufficient_balance',
      `${accountName(ref)} holds ${formatDecimal(available, config.decimals)} ${config.symbol}`,
      'amount',
    );
  }
  requireCash(asset, amount);
  // Taking the whole balance clears the position: the sub-base-unit remainder stays in the pool.
  const scaled = amount === available ? held : scaledDebitForWithdraw(amount, pool);
  const next = { ...pool, cash: pool.cash - amount, supplyScaled: pool.supplyScaled - scaled };
  draft.setSubAccount(ref, withScaledBalance(sub, asset.index, held - scaled));
  finishPool(draft, asset, next);
  requireUsablePrices(draft, ref, asset);
  requireInitialMargin(draft, ref);
  draft.emit(balanceEvent('withdrawn', ref, asset, amount, -scaled));
  return amount;
}

export function borrow(draft: Draft, command: BorrowCommand): void {
  requireOwnAccount(command);
  const asset = draft.accruePool(draft.findAsset(command.asset, 'asset').index);
  const { pool, config } = asset;
  if (!config.borrowable) {
    throw new FulcrumError('borrowing_disabled', `${config.symbol} cannot be borrowed`, 'asset');
  }
  const sub = draft.subAccount(command);
  const held = scaledBalance(sub, asset.index);
  if (held > 0n) {
    throw new FulcrumError(
      'asset_is_supplied',
      `${accountName(command)} supplies ${config.symbol}: withdraw it instead`,
      'asset',
    );
  }
  requireCash(asset, command.amount);
  const debt = scaledDebtForBorrow(command.amount, pool);
  const next = {
    ...pool,
    cash: pool.cash - command.amount,
    borrowScaled: pool.borrowScaled + debt,
  };
  requirePoolRoom(asset, next);
  if (config.borrowCap !== null && totalDebt(next) > config.borrowCap) {
    throw new FulcrumError(
      'borrow_cap_exceeded',
      `total ${config.symbol} borrows would exceed their cap of ${formatDecimal(config.borrowCap, config.decimals)}`,
      'amount',
    );
  }
  draft.setSubAccount(command, withScaledBalance(sub, asset.index, held - debt));
  finishPool(draft, asset, next);
  requireUsablePrices(draft, command, asset);
  requireInitialMargin(draft, command);
  draft.emit(balanceEvent('borrowed', command, asset, command.amount, -debt));
}

export function repay(draft: Draft, command: RepayCommand): void {
  const asset = draft.accruePool(draft.findAsset(command.asset, 'asset').index);
  const { pool, config } = asset;
  const sub = draft.subAccount(command);
  const held = scaledBalance(sub, asset.index);
  if (held >= 0n) {
    throw new FulcrumError('no_debt', `${accountName(command)} owes no ${config.symbol}`, 'asset');
  }
  const owed = debtAmount(-held, pool);
  const amount = command.amount === 'all' ? owed : command.amount;
  if (amount > owed) {
    throw new FulcrumError(
      'repay_exceeds_debt',
      `${accountName(command)} owes ${formatDecimal(owed, config.decimals)} ${config.symbol}`,
      'amount',
    );
  }
  // Repaying the whole debt clears the position; a partial repayment is credited rounded down.
  const reduction = amount === owed ? -held : scaledDebtForRepay(amount, pool);
  if (reduction === 0n) throw tooSmall(asset, amount);
  const next = { ...pool, cash: pool.cash + amount, borrowScaled: pool.borrowScaled - reduction };
  draft.setSubAccount(command, withScaledBalance(sub, asset.index, held + reduction));
  finishPool(draft, asset, next);
  draft.emit(balanceEvent('repaid', command, asset, amount, reduction));
}

/**
 * Moves supply between two sub-accounts (of one account or two). The scaled balance moves as it
 * is, so the pool does not change and no value is created or lost; the sender is checked
 * against initial margin.
 */
export function transfer(draft: Draft, command: TransferCommand): void {
  const { from, to } = command;
  requireOwnAccount(from);
  if (from.account === to.account && from.subAccount === to.subAccount) {
    throw new FulcrumError('same_account', 'a transfer needs two different sub-accounts', 'to');
  }
  const asset = draft.accruePool(draft.findAsset(command.asset, 'asset').index);
  const { pool, config } = asset;
  const source = draft.subAccount(from);
  const held = scaledBalance(source, asset.index);
  const available = held > 0n ? supplyAmount(held, pool) : 0n;
  const amount = command.amount === 'all' ? available : command.amount;
  if (amount === 0n || amount > available) {
    throw new FulcrumError(
      'insufficient_balance',
      `${accountName(from)} holds ${formatDecimal(available, config.decimals)} ${config.symbol}`,
      'amount',
    );
  }
  const scaled = amount === available ? held : scaledDebitForWithdraw(amount, pool);
  const target = draft.subAccount(to);
  const targetHeld = scaledBalance(target, asset.index);
  if (targetHeld < 0n) {
    throw new FulcrumError(
      'asset_is_borrowed',
      `${accountName(to)} owes ${config.symbol}: it cannot receive it`,
      'to',
    );
  }
  draft.setSubAccount(from, withScaledBalance(source, asset.index, held - scaled));
  draft.setSubAccount(
    to,
    withScaledBalance(
      target,
      asset.index,
      targetHeld + scaled,
      positionLimit(to.account, to.subAccount),
      'to',
    ),
  );
  requireUsablePrices(draft, from, asset);
  requireInitialMargin(draft, from);
  draft.emit({
    type: 'transferred',
    from: refOf(from),
    to: refOf(to),
    asset: config.symbol,
    decimals: config.decimals,
    amount,
    scaled,
  });
}

export function accruePool(draft: Draft, command: AccrueCommand): void {
  draft.accruePool(draft.findAsset(command.asset, 'asset').index);
}

/**
 * Sets the pool's new balances: the "update rates" step too, since the borrow rate is a pure
 * function of the balances (see pools/pool.ts) and follows them without being stored.
 */
function finishPool(draft: Draft, asset: AssetState, next: PoolState): void {
  if (next !== asset.pool) draft.setAsset({ ...asset, pool: next });
}

/**
 * Deposits and borrows may not take a pool's cash and debts past {@link POOL_VALUE_MAX}, the
 * bound that keeps every balance within 2^128 − 1 base units (`limit_exceeded`).
 */
function requirePoolRoom(asset: AssetState, next: PoolState): void {
  if (poolValue(next) > POOL_VALUE_MAX) {
    const { symbol, decimals } = asset.config;
    throw new FulcrumError(
      'limit_exceeded',
      `the ${symbol} pool's cash and debts would pass ${formatDecimal(POOL_VALUE_MAX, decimals)} ${symbol} (2^127 base units)`,
      'amount',
    );
  }
}

function requireCash(asset: AssetState, amount: bigint): void {
  if (amount > asset.pool.cash) {
    const { symbol, decimals } = asset.config;
    throw new FulcrumError(
      'insufficient_liquidity',
      `the ${symbol} pool has ${formatDecimal(asset.pool.cash, decimals)} ${symbol} available`,
      'amount',
    );
  }
}

/**
 * New risk rests on prices: every asset of the sub-account, and the command's, must have a price
 * whose grade allows new risk, and no tripped circuit breaker. A sub-account that owes nothing
 * after the command needs no price: taking its own supply out is no risk to the venue.
 */
export function requireUsablePrices(draft: Draft, ref: SubAccountRef, asset: AssetState): void {
  const { positions } = draft.subAccount(ref);
  let owes = false;
  for (const p of positions) if (p.scaled < 0n) owes = true;
  if (!owes) return;
  // The command's asset first, then the sub-account's others (each asset once).
  requireUsablePrice(draft, asset.index);
  for (const p of positions) if (p.asset !== asset.index) requireUsablePrice(draft, p.asset);
}

/** One asset's price for {@link requireUsablePrices}: a grade allowing new risk, no breaker. */
function requireUsablePrice(draft: Draft, held: number): void {
  // An asset held on another chain is priced by the asset it is a copy of.
  const index = underlyingIndex(draft, held);
  const { oracle, config } = draft.asset(index);
  if (oracle === null || config.oracle === null) return;
  const grade = gradeAt(oracle, draft.time);
  if (!gradeAllows(config.oracle.policy, grade, 'newRisk')) {
    throw new FulcrumError(
      'price_unusable',
      `${config.symbol}'s price is ${grade}: new risk needs a valid price`,
      'asset',
    );
  }
  if (breakerFrozen(oracle, draft.time, config.oracle)) {
    const until = (oracle.trippedAt ?? 0) + config.oracle.breakerCooldownSeconds;
    throw new FulcrumError(
      'circuit_breaker',
      `${config.symbol}'s circuit breaker tripped at ${oracle.trippedAt}: risk-increasing actions are frozen until ${until}`,
      'asset',
    );
  }
}

/** The asset whose oracle prices asset `index`: itself, or the one a located listing copies. */
export function underlyingIndex(draft: Draft, index: number): number {
  const location = draft.asset(index).config.location;
  if (location === undefined) return index;
  return draft.base.assetIndex.get(location.asset) ?? index;
}

/** The check after every risk-increasing change: initial health must stay at or above 1. */
export function requireInitialMargin(draft: Draft, ref: SubAccountRef, field = 'amount'): void {
  if (!draft.meets(ref, 'initial')) {
    const health = draft.health(ref);
    throw new FulcrumError(
      'insufficient_collateral',
      `${accountName(ref)} would fall below initial margin (health ${formatDecimal(health.healthFactor('initial') ?? 0n, 18)})`,
      field,
    );
  }
}

function tooSmall(asset: AssetState, amount: bigint): FulcrumError {
  const { symbol, decimals } = asset.config;
  return new FulcrumError(
    'zero_amount',
    `${formatDecimal(amount, decimals)} ${symbol} is below one unit of the pool's scaled balance`,
    'amount',
  );
}

function balanceEvent(
  type: 'deposited' | 'withdrawn' | 'borrowed' | 'repaid',
  ref: SubAccountRef,
  asset: AssetState,
  amount: bigint,
  scaledDelta: bigint,
): BalanceEvent {
  const { symbol, decimals } = asset.config;
  return {
    type,
    account: ref.account,
    subAccount: ref.subAccount,
    asset: symbol,
    decimals,
    amount,
    scaledDelta,
  };
}

function refOf(ref: SubAccountRef): SubAccountRef {
  return { account: ref.account, subAccount: ref.subAccount };
}

/** The insurance fund's balances leave it only to pay bad debt. */
function requireOwnAccount(ref: SubAccountRef): void {
  if (ref.account === INSURANCE_ACCOUNT) {
    throw new FulcrumError('reserved_account', 'the insurance fund pays only bad debt', 'account');
  }
}

export function accountName(ref: SubAccountRef): string {
  return `${ref.account}/${ref.subAccount}`;
}
