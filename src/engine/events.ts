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

/** An asset's collateral weights changed (`set-weights`): before and after, per tier. */
export interface WeightsSetEvent {
  readonly type: 'weights-set';
  readonly asset: string;
  readonly initialPpm: bigint;
  readonly liquidationEndPpm: bigint;
  readonly maintenancePpm: bigint;
  readonly previousInitialPpm: bigint;
  readonly previousLiquidationEndPpm: bigint;
  readonly previousMaintenancePpm: bigint;
}

export interface PriceAggregatedEvent {
  readonly type: 'price-aggregated';
  readonly asset: string;
  /** The grade of this aggregation (see `domain/priceGrade.ts`). */
  readonly grade: string;
  /** The asset's price after it (unchanged when the grade gave no new price). */
  readonly price: bigint;
  readonly stablePrice: bigint;
  /**
   * Sources whose quotes made the price; those rejected (outliers, or outside the agreeing
   * majority); and those left out as frozen (unchanged too long while the others moved).
   */
  readonly sources: readonly string[];
  readonly rejected: readonly string[];
  readonly frozen: readonly string[];
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

/**
 * Interest stopped short of what the rate charges: the pool reached a bound (its cash plus its
 * debts at 2^127 base units, or an index at a billion). The indices are those left.
 */
export interface InterestCappedEvent {
  readonly type: 'interest-capped';
  readonly asset: string;
  readonly supplyIndexRay: bigint;
  readonly borrowIndexRay: bigint;
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

/** One liquidation, with every amount, price and part of the penalty, and the health it left. */
export interface LiquidationEvent {
  readonly type: 'liquidation';
  readonly target: SubAccountRef;
  /** The liquidator, or the backstop (`@backstop`, which sold into the market). */
  readonly liquidator: SubAccountRef;
  readonly debtAsset: string;
  readonly debtDecimals: number;
  /** Debt repaid, base units of the debt asset. */
  readonly repaid: bigint;
  readonly collateralAsset: string;
  readonly collateralDecimals: number;
  /** Collateral taken from the target in all, and the parts: liquidator, insurance fund, market. */
  readonly seized: bigint;
  readonly toLiquidator: bigint;
  readonly toInsurance: bigint;
  readonly soldToMarket: bigint;
  /** Oracle prices used, PRICE_SCALE. */
  readonly debtPrice: bigint;
  readonly collateralPrice: bigint;
  /** The penalty charged (WEIGHT_SCALE): the listing's, or less when the guard shrank it. */
  readonly penaltyPpm: bigint;
  readonly penaltyReduced: boolean;
  /** The backstop's price impact (WEIGHT_SCALE); zero for a liquidator. */
  readonly impactPpm: bigint;
  /** The close factor did not apply (small or deeply unhealthy account, or dust). */
  readonly fullClose: boolean;
  /** Maintenance health before and after, and liquidation-end health after (HEALTH_SCALE). */
  readonly healthBeforeWad: bigint | null;
  readonly healthAfterWad: bigint | null;
  readonly endHealthAfterWad: bigint | null;
}

/** A debt left without collateral, and who bore it. */
export interface BadDebtEvent {
  readonly type: 'bad-debt';
  readonly target: SubAccountRef;
  readonly asset: string;
  readonly decimals: number;
  /** The debt written off, base units. */
  readonly deficit: bigint;
  /** Paid by the insurance fund from its supply of the asset. */
  readonly insuranceDraw: bigint;
  /** Borne by the asset's lenders: the supply index falls. */
  readonly socialized: bigint;
  readonly supplyIndexBeforeRay: bigint;
  readonly supplyIndexAfterRay: bigint;
}

export interface LiquidationConfiguredEvent {
  readonly type: 'liquidation-configured';
}

/** A derivatives instrument listed on an underlying asset, with its first mark. */
export interface InstrumentListedEvent {
  readonly type: 'instrument-listed';
  readonly instrument: string;
  readonly underlying: string;
  readonly kind: string;
  readonly price: bigint;
}

/**
 * A fill booked: sizes in 10^-8 units (`size`, `sizeDecimals`), the price, each side's realized
 * profit (numerator over VALUE_UNIT: `*Value` fields) and its fee in the settlement asset.
 */
export interface TradedEvent {
  readonly type: 'traded';
  readonly instrument: string;
  readonly buyer: SubAccountRef;
  readonly seller: SubAccountRef;
  readonly size: bigint;
  readonly price: bigint;
  readonly buyerRealizedValue: bigint;
  readonly sellerRealizedValue: bigint;
  readonly buyerFee: bigint;
  readonly sellerFee: bigint;
  readonly feeDecimals: number;
}

/** A perpetual's funding: the rate per interval (RATE 10^-12), intervals paid, per unit (numerator). */
export interface FundingPaidEvent {
  readonly type: 'funding-paid';
  readonly instrument: string;
  readonly rate: bigint;
  readonly intervals: number;
  readonly perUnitValue: bigint;
}

/** A dated instrument settled: its price and the positions it closed. */
export interface InstrumentExpiredEvent {
  readonly type: 'instrument-expired';
  readonly instrument: string;
  readonly price: bigint;
  readonly positions: number;
}

/** A sub-account's unsettled profit settled into the settlement asset (negative: paid in). */
export interface PnlSettledEvent extends SubAccountRef {
  readonly type: 'pnl-settled';
  readonly asset: string;
  readonly decimals: number;
  readonly amount: bigint;
  /** What stays unsettled, numerator over VALUE_UNIT. */
  readonly unsettledValue: bigint;
}

export interface ModeSetEvent extends SubAccountRef {
  readonly type: 'mode-set';
  readonly mode: string;
}

/**
 * A liquidator (or the insurance fund, for the backstop) took over part of a position: the size
 * and the price it took it at (the mark less the penalty), the insurance fund's part of the
 * penalty (numerator over VALUE_UNIT), and maintenance health before and after.
 */
export interface PositionLiquidatedEvent {
  readonly type: 'position-liquidated';
  readonly target: SubAccountRef;
  readonly liquidator: SubAccountRef;
  readonly instrument: string;
  readonly size: bigint;
  readonly mark: bigint;
  readonly price: bigint;
  readonly toInsuranceValue: bigint;
  readonly healthBeforeWad: bigint | null;
  readonly healthAfterWad: bigint | null;
}

/** Part of a bankrupt position closed against a counterparty at the bankruptcy price. */
export interface DeleveragedEvent {
  readonly type: 'deleveraged';
  readonly target: SubAccountRef;
  readonly counterparty: SubAccountRef;
  readonly instrument: string;
  readonly size: bigint;
  readonly price: bigint;
}

export interface VolatilitySetEvent {
  readonly type: 'volatility-set';
  readonly asset: string;
  readonly volatilityPpm: bigint;
}

export interface VenueConfiguredEvent {
  readonly type: 'venue-configured';
}

/** A chain's vault listed (`list-chain`). */
export interface ChainListedEvent {
  readonly type: 'chain-listed';
  readonly chain: string;
  readonly withdrawalTtl: number;
}

/** A final vault deposit credited (with the `deposited` event of the balance it made). */
export interface ChainDepositedEvent extends SubAccountRef {
  readonly type: 'chain-deposited';
  readonly chain: string;
  readonly block: number;
  readonly logIndex: number;
  readonly tx: string;
  readonly asset: string;
  readonly decimals: number;
  readonly amount: bigint;
}

/** The chain's cursor moved to the end of `block` (`chain-checkpoint`). */
export interface ChainCheckpointEvent {
  readonly type: 'chain-checkpoint';
  readonly chain: string;
  readonly block: number;
}

/**
 * A withdrawal debited and authorized: what the venue signs for the vault (docs/CHAINS.md).
 * `amount` renders in whole units, `baseUnits` as the integer the vault pays.
 */
export interface ChainWithdrawalAuthorizedEvent extends SubAccountRef {
  readonly type: 'chain-withdrawal-authorized';
  readonly chain: string;
  readonly nonce: number;
  readonly asset: string;
  readonly decimals: number;
  readonly amount: bigint;
  readonly baseUnits: bigint;
  readonly recipient: string;
  readonly expiry: number;
}

/** The vault paid a withdrawal (`chain-withdrawal-paid`): whose it was. */
export interface ChainWithdrawalPaidEvent extends SubAccountRef {
  readonly type: 'chain-withdrawal-paid';
  readonly chain: string;
  readonly nonce: number;
  readonly block: number;
  readonly logIndex: number;
  readonly tx: string;
}

/** An expired withdrawal's amount returned to its sub-account (`chain-withdrawal-expired`). */
export interface ChainWithdrawalReturnedEvent extends SubAccountRef {
  readonly type: 'chain-withdrawal-returned';
  readonly chain: string;
  readonly nonce: number;
  readonly asset: string;
  readonly decimals: number;
  readonly amount: bigint;
}

/** A chain's status changed (`set-chain-status`). */
export interface ChainStatusSetEvent {
  readonly type: 'chain-status-set';
  readonly chain: string;
  readonly status: string;
  readonly previous: string;
}

export type EngineEvent =
  | AssetListedEvent
  | PriceSetEvent
  | WeightsSetEvent
  | PriceAggregatedEvent
  | BreakerEvent
  | InterestAccruedEvent
  | InterestCappedEvent
  | BalanceEvent
  | TransferredEvent
  | LiquidationEvent
  | BadDebtEvent
  | LiquidationConfiguredEvent
  | VenueConfiguredEvent
  | InstrumentListedEvent
  | TradedEvent
  | FundingPaidEvent
  | InstrumentExpiredEvent
  | PnlSettledEvent
  | ModeSetEvent
  | PositionLiquidatedEvent
  | DeleveragedEvent
  | VolatilitySetEvent
  | ChainListedEvent
  | ChainDepositedEvent
  | ChainCheckpointEvent
  | ChainWithdrawalAuthorizedEvent
  | ChainWithdrawalPaidEvent
  | ChainWithdrawalReturnedEvent
  | ChainStatusSetEvent;
