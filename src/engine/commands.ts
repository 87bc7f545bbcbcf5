/**
 * Commands: the only way state changes. Each carries its own time (unix seconds); the engine
 * never reads a clock. Amounts are bigints in the asset's base units; `'all'` asks for the whole
 * balance (withdraw, transfer) or the whole debt (repay).
 */
import type { AssetConfig, TierWeights } from '../domain/asset.js';
import type { LiquidationConfig } from '../domain/liquidationConfig.js';
import type { VenueConfig } from '../domain/venueConfig.js';
import type { InstrumentListing } from '../derivatives/listing.js';
import type { ChainStatus, MarginMode, SubAccountRef } from './state.js';

/**
 * Who changed a venue parameter: the service writes the id of the key that sent the command,
 * a batch file may name its operator. Journaled with the command, shown in the parameters'
 * history; the engine decides nothing by it.
 */
export interface Attributed {
  readonly by?: string;
}

export interface ListAssetCommand extends Attributed {
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

/**
 * Changes an asset's collateral weights (its haircuts), for example when the venue's stress
 * margin tightens them in a volatile market and relaxes them after. Checked against the listing
 * rules (initial <= liquidation-end <= maintenance, and maintenance × (1 + penalty) < 1).
 * Lowering the maintenance weight can make accounts liquidatable at once: that is its purpose.
 */
export interface SetWeightsCommand extends Attributed {
  readonly type: 'set-weights';
  readonly time: number;
  readonly asset: string;
  readonly assetWeight: TierWeights;
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

/** Sets the venue's liquidation rules (fields not given keep their values). */
export interface ConfigureLiquidationCommand extends Attributed {
  readonly type: 'configure-liquidation';
  readonly time: number;
  readonly config: LiquidationConfig;
}

/** Sets the venue's engine-wide rules (fields not given keep their values). */
export interface ConfigureVenueCommand extends Attributed {
  readonly type: 'configure-venue';
  readonly time: number;
  readonly config: VenueConfig;
}

/**
 * A liquidator repays up to `amount` of the target's debt in `debtAsset` from its own supply of
 * that asset, and receives the target's `collateralAsset` worth the repaid debt plus the penalty
 * (less the insurance fund's part).
 */
export interface LiquidateCommand {
  readonly type: 'liquidate';
  readonly time: number;
  readonly liquidator: SubAccountRef;
  readonly target: SubAccountRef;
  readonly debtAsset: string;
  readonly collateralAsset: string;
  /** Most debt to repay, base units of the debt asset; 'max' for as much as the rules allow. */
  readonly amount: bigint | 'max';
  /**
   * The most penalty the liquidator takes (WEIGHT_SCALE), when it bids below the listing's: a
   * Dutch auction's discount at the moment a liquidator accepts it. Never raises the penalty.
   */
  readonly maxPenalty?: bigint;
}

/**
 * The protocol's backstop closes part of a deeply unhealthy account itself: it sells the
 * target's collateral into the market (a price-impact model) and repays the debt with the
 * proceeds; the insurance fund takes the penalty.
 */
export interface BackstopCommand {
  readonly type: 'backstop';
  readonly time: number;
  readonly target: SubAccountRef;
  readonly debtAsset: string;
  readonly collateralAsset: string;
}

/** Settles the debts of an account with no collateral left: insurance fund, then lenders. */
export interface ResolveBankruptcyCommand {
  readonly type: 'resolve-bankruptcy';
  readonly time: number;
  readonly target: SubAccountRef;
}

/** Brings a pool's interest up to `time` without any other change. */
export interface AccrueCommand {
  readonly type: 'accrue';
  readonly time: number;
  readonly asset: string;
}

/** Lists a derivatives instrument on a listed underlying asset, with its first mark. */
export interface ListInstrumentCommand extends Attributed {
  readonly type: 'list-instrument';
  readonly time: number;
  readonly config: InstrumentListing;
  /** The first mark, PRICE_SCALE. */
  readonly price: bigint;
}

/**
 * A fill from the venue's matching engine: `buyer` buys `size` of `instrument` from `seller`
 * at `price`; each pays its fee in the settlement asset. Fulcrum holds no order book: it checks
 * the fill against the mark's band and each side's margin, and books it.
 */
export interface TradeCommand {
  readonly type: 'trade';
  readonly time: number;
  readonly buyer: SubAccountRef;
  readonly seller: SubAccountRef;
  readonly instrument: string;
  /** 10^-8 units of the underlying, above 0. */
  readonly size: bigint;
  /** PRICE_SCALE. */
  readonly price: bigint;
  /** Fees in base units of the settlement asset (to the venue). */
  readonly buyerFee?: bigint;
  readonly sellerFee?: bigint;
}

/** Pays a perpetual's funding for every whole interval since it was last paid. */
export interface SettleFundingCommand {
  readonly type: 'settle-funding';
  readonly time: number;
  readonly instrument: string;
}

/** Settles every position of a dated instrument at its settlement price. */
export interface ExpireCommand {
  readonly type: 'expire';
  readonly time: number;
  readonly instrument: string;
}

/** A sub-account's margin mode; changes only without open positions. */
export interface SetModeCommand extends SubAccountRef {
  readonly type: 'set-mode';
  readonly time: number;
  readonly mode: MarginMode;
}

/** Settles a sub-account's unsettled profit from the settlement reserve, as far as it holds. */
export interface SettlePnlCommand extends SubAccountRef {
  readonly type: 'settle-pnl';
  readonly time: number;
}

/**
 * A liquidator takes over up to `amount` (10^-8 units) of the target's position in
 * `instrument` at the mark less the instrument's penalty; the insurance fund takes its share.
 */
export interface LiquidatePositionCommand {
  readonly type: 'liquidate-position';
  readonly time: number;
  readonly liquidator: SubAccountRef;
  readonly target: SubAccountRef;
  readonly instrument: string;
  readonly amount: bigint | 'max';
}

/**
 * Auto-deleveraging: closes a bankrupt sub-account's position in `instrument` against the
 * opposite positions of other accounts at the bankruptcy price, when the insurance fund cannot
 * cover its deficit.
 */
export interface DeleverageCommand {
  readonly type: 'deleverage';
  readonly time: number;
  readonly target: SubAccountRef;
  readonly instrument: string;
}

/** An asset's annual volatility, for portfolio margin's scenarios on options on it. */
export interface SetVolatilityCommand extends Attributed {
  readonly type: 'set-volatility';
  readonly time: number;
  readonly asset: string;
  /** Millionths: 700,000 is 70% a year. */
  readonly volatility: bigint;
}

/** Lists a chain whose vault holds collateral (its assets are listed with a `location`). */
export interface ListChainCommand extends Attributed {
  readonly type: 'list-chain';
  readonly time: number;
  readonly chain: string;
  /** Seconds a withdrawal authorization stays valid (60 to 30 days). */
  readonly withdrawalTtl: number;
}

/** Where a vault event sits in its chain: block, log index and transaction. */
export interface ChainEventRef {
  readonly chain: string;
  readonly block: number;
  readonly logIndex: number;
  /** The transaction hash, 0x and 64 hex digits: recorded, not used to decide. */
  readonly tx: string;
}

/**
 * A deposit into a chain's vault, final on that chain, credited to a sub-account. Sent by the
 * chain's watcher in chain order: one at or before the chain's cursor is refused
 * (`chain_event_seen`), so a replayed event never credits twice.
 */
export interface ChainDepositCommand extends ChainEventRef, SubAccountRef {
  readonly type: 'chain-deposit';
  readonly time: number;
  /** The located listing (`ETH.arb`). */
  readonly asset: string;
  readonly amount: bigint;
}

/** Every block of the chain up to `block` was scanned and is final: the cursor moves on. */
export interface ChainCheckpointCommand {
  readonly type: 'chain-checkpoint';
  readonly time: number;
  readonly chain: string;
  readonly block: number;
}

/**
 * Debits a sub-account (checked against initial margin like any withdrawal) and authorizes the
 * chain's vault to pay `recipient`; the authorization's nonce and expiry come in the event.
 */
export interface ChainWithdrawCommand extends SubAccountRef {
  readonly type: 'chain-withdraw';
  readonly time: number;
  readonly chain: string;
  readonly asset: string;
  readonly amount: bigint | 'all';
  /** 0x and 40 hex digits. */
  readonly recipient: string;
}

/** The vault paid withdrawal `nonce`, final on the chain: it is no longer pending. */
export interface ChainWithdrawalPaidCommand extends ChainEventRef {
  readonly type: 'chain-withdrawal-paid';
  readonly time: number;
  readonly nonce: number;
}

/** Withdrawal `nonce` expired unpaid: its amount goes back to the sub-account. */
export interface ChainWithdrawalExpiredCommand {
  readonly type: 'chain-withdrawal-expired';
  readonly time: number;
  readonly chain: string;
  readonly nonce: number;
}

/** A chain's status: a halted or paused chain's collateral backs no new risk. */
export interface SetChainStatusCommand extends Attributed {
  readonly type: 'set-chain-status';
  readonly time: number;
  readonly chain: string;
  readonly status: ChainStatus;
}

export type Command =
  | ListAssetCommand
  | SetPriceCommand
  | SetWeightsCommand
  | QuoteCommand
  | DepositCommand
  | WithdrawCommand
  | BorrowCommand
  | RepayCommand
  | TransferCommand
  | AccrueCommand
  | ConfigureLiquidationCommand
  | ConfigureVenueCommand
  | LiquidateCommand
  | BackstopCommand
  | ResolveBankruptcyCommand
  | ListInstrumentCommand
  | TradeCommand
  | SettleFundingCommand
  | ExpireCommand
  | SetModeCommand
  | SettlePnlCommand
  | LiquidatePositionCommand
  | DeleverageCommand
  | SetVolatilityCommand
  | ListChainCommand
  | ChainDepositCommand
  | ChainCheckpointCommand
  | ChainWithdrawCommand
  | ChainWithdrawalPaidCommand
  | ChainWithdrawalExpiredCommand
  | SetChainStatusCommand;

export type CommandType = Command['type'];

export const COMMAND_TYPES: readonly CommandType[] = [
  'list-asset',
  'set-price',
  'set-weights',
  'quote',
  'deposit',
  'withdraw',
  'borrow',
  'repay',
  'transfer',
  'accrue',
  'configure-liquidation',
  'configure-venue',
  'liquidate',
  'backstop',
  'resolve-bankruptcy',
  'list-instrument',
  'trade',
  'settle-funding',
  'expire',
  'set-mode',
  'settle-pnl',
  'liquidate-position',
  'deleverage',
  'set-volatility',
  'list-chain',
  'chain-deposit',
  'chain-checkpoint',
  'chain-withdraw',
  'chain-withdrawal-paid',
  'chain-withdrawal-expired',
  'set-chain-status',
];

/** The commands that set venue parameters: each may say who sent it (`by`). */
export const ATTRIBUTED_COMMANDS: ReadonlySet<string> = new Set<CommandType>([
  'list-asset',
  'set-weights',
  'configure-liquidation',
  'configure-venue',
  'list-instrument',
  'set-volatility',
  'list-chain',
  'set-chain-status',
]);
