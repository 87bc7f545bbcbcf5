/**
 * Events: what an accepted command did, in order, with every amount and its unit. They are what
 * the journal stores and what subscribers stream.
 *
 * Units, by field name: `amount`, `interest` are base units of the event's `asset` (whose
 * `decimals` the event carries); `*Scaled` are scaled balances (base units ÷ index); `price` and
 * `stablePrice` are PRICE_SCALE (18 decimals) quote per whole unit; `*Ray` are RAY (27 decimals)
 * fractions, annual for rates; `seconds` is a duration.
 */
import type { SubAccountRef } from './state.js';

export interface AssetListedEvent {
  readonly type: 'asset-listed';
  readonly asset: string;
  readonly decimals: number;
  readonly price: bigint;
}

export interface PriceSetEvent {
  readonly type: 'price-set';
  readonly asset: string;
  readonly price: bigint;
  readonly stablePrice: bigint;
}

export interface PriceAggregatedEvent {
  readonly type: 'price-aggregated';
  readonly asset: string;
  /** The grade of this aggregation (see `domain/priceGrade.ts`). */
  readonly grade: string;
  /** The asset's price after it (unchanged when the grade gave no new price). */
  readonly price: bigint;
  readonly stablePrice: bigint;
  /** Sources whose quotes made the price, and those rejected as too far from the median. */
  readonly sources: readonly string[];
  readonly rejected: readonly string[];
}

export interface BreakerEvent {
  readonly type: 'breaker-tripped' | 'breaker-reset';
  readonly asset: string;
  /** For a trip: the anchor price and the price that moved too far from it. */
  readonly fromPrice?: bigint;
  readonly toPrice?: bigint;
}

export interface InterestAccruedEvent {
  readonly type: 'interest-accrued';
  readonly asset: string;
  readonly decimals: number;
  readonly seconds: number;
  /** Interest charged to borrowers, base units, rounded down (the exact figure has RAY precision). */
  readonly interest: bigint;
  readonly treasuryMintedScaled: bigint;
  readonly supplyIndexRay: bigint;
  readonly borrowIndexRay: bigint;
  /** Utilization and annual borrow rate in force over the interval. */
  readonly utilizationRay: bigint;
  readonly borrowRateRay: bigint;
}

export interface BalanceEvent extends SubAccountRef {
  readonly type: 'deposited' | 'withdrawn' | 'borrowed' | 'repaid';
  readonly asset: string;
  readonly decimals: number;
  readonly amount: bigint;
  /** Change of the sub-account's scaled balance in this asset (negative for debt growth). */
  readonly scaledDelta: bigint;
}

export interface TransferredEvent {
  readonly type: 'transferred';
  readonly from: SubAccountRef;
  readonly to: SubAccountRef;
  readonly asset: string;
  readonly decimals: number;
  readonly amount: bigint;
  /** Scaled supply moved from `from` to `to`. */
  readonly scaled: bigint;
}

export type EngineEvent =
  | AssetListedEvent
  | PriceSetEvent
  | PriceAggregatedEvent
  | BreakerEvent
  | InterestAccruedEvent
  | BalanceEvent
  | TransferredEvent;
