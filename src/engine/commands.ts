/**
 * Commands: the only way state changes. Each carries its own time (unix seconds); the engine
 * never reads a clock. Amounts are bigints in the asset's base units; `'all'` asks for the whole
 * balance (withdraw, transfer) or the whole debt (repay).
 */
import type { AssetConfig } from '../domain/asset.js';
import type { SubAccountRef } from './state.js';

export interface ListAssetCommand {
  readonly type: 'list-asset';
  readonly time: number;
  readonly config: AssetConfig;
  /** Initial oracle price, PRICE_SCALE. */
  readonly price: bigint;
}

export interface SetPriceCommand {
  readonly type: 'set-price';
  readonly time: number;
  readonly asset: string;
  /** Oracle price, PRICE_SCALE. */
  readonly price: bigint;
  /** Smoothed price for initial margin, PRICE_SCALE; defaults to `price`. */
  readonly stablePrice?: bigint;
}

interface AccountCommandBase extends SubAccountRef {
  readonly time: number;
  readonly asset: string;
}

export interface DepositCommand extends AccountCommandBase {
  readonly type: 'deposit';
  readonly amount: bigint;
}

export interface WithdrawCommand extends AccountCommandBase {
  readonly type: 'withdraw';
  readonly amount: bigint | 'all';
}

export interface BorrowCommand extends AccountCommandBase {
  readonly type: 'borrow';
  readonly amount: bigint;
}

export interface RepayCommand extends AccountCommandBase {
  readonly type: 'repay';
  readonly amount: bigint | 'all';
}

export interface TransferCommand {
  readonly type: 'transfer';
  readonly time: number;
  readonly from: SubAccountRef;
  readonly to: SubAccountRef;
  readonly asset: string;
  readonly amount: bigint | 'all';
}

/** One source's price for an asset with an oracle: the oracle aggregates, grades, smooths. */
export interface QuoteCommand {
  readonly type: 'quote';
  readonly time: number;
  readonly asset: string;
  /** Identifier of the source (an exchange, a feed): 1-32 letters, digits, `_ . : -`. */
  readonly source: string;
  /** PRICE_SCALE; may be zero or negative: the oracle grades it. */
  readonly price: bigint;
  /** Half-width of the source's confidence interval, PRICE_SCALE, if it gives one. */
  readonly confidence?: bigint;
  /** When the source observed the price (unix seconds); defaults to `time`. */
  readonly observedAt?: number;
}

/** Brings a pool's interest up to `time` without any other change. */
export interface AccrueCommand {
  readonly type: 'accrue';
  readonly time: number;
  readonly asset: string;
}

export type Command =
  | ListAssetCommand
  | SetPriceCommand
  | QuoteCommand
  | DepositCommand
  | WithdrawCommand
  | BorrowCommand
  | RepayCommand
  | TransferCommand
  | AccrueCommand;

export type CommandType = Command['type'];

export const COMMAND_TYPES: readonly CommandType[] = [
  'list-asset',
  'set-price',
  'quote',
  'deposit',
  'withdraw',
  'borrow',
  'repay',
  'transfer',
  'accrue',
];
