/**
 * The engine's whole state: listed assets with their prices and pools, and accounts with
 * numbered sub-accounts. Only `applyCommand` changes it, and only when a command is accepted.
 */
import type { AssetConfig } from '../domain/asset.js';
import { LIMITS } from '../domain/limits.js';
import { DEFAULT_LIQUIDATION_CONFIG, type LiquidationConfig } from '../domain/liquidationConfig.js';
import { DEFAULT_VENUE_CONFIG, type VenueConfig } from '../domain/venueConfig.js';
import type { InstrumentListing } from '../derivatives/listing.js';
import type { DerivativePosition } from '../derivatives/position.js';
import type { AssetRisk } from '../margin/assetRisk.js';
import type { OracleState } from '../oracle/oracle.js';
import type { PoolState } from '../pools/pool.js';

export interface AssetState {
  readonly index: number;
  readonly config: AssetConfig;
  /** Risk factors at the current prices (prices live here: `risk.oraclePrice`, `risk.stablePrice`). */
  readonly risk: AssetRisk;
  readonly pool: PoolState;
  /** The oracle's state when the listing has an oracle; null for prices set directly. */
  readonly oracle: OracleState | null;
}

/** A balance in one asset: scaled supply when positive, scaled debt when negative; never zero. */
export interface ScaledPosition {
  readonly asset: number;
  readonly scaled: bigint;
}

export type MarginMode = 'cross' | 'isolated' | 'portfolio';

/**
 * A sub-account's derivatives: its margin mode, its positions and the profit it realized that
 * is not yet settled into the settlement asset. Absent from a sub-account that never traded.
 */
export interface DerivativesBook {
  readonly mode: MarginMode;
  /** Sorted by instrument index; at most {@link LIMITS.derivativesPerSubAccount}. */
  readonly positions: readonly DerivativePosition[];
  /** Realized profit not yet settled (negative: a loss not yet paid), numerator (VALUE_UNIT). */
  readonly unsettled: bigint;
}

export interface SubAccountState {
  /** The sub-account's number (0 to 255); -1 for the empty stand-in. */
  readonly number: number;
  /** Sorted by asset index; at most {@link positionLimit} of them. */
  readonly positions: readonly ScaledPosition[];
  /** Its derivatives; undefined when it has none (most sub-accounts). */
  readonly derivatives?: DerivativesBook | undefined;
}

/** Whether a book holds nothing: no position, nothing unsettled, the default mode. */
export function bookIsEmpty(book: DerivativesBook | undefined): boolean {
  return (
    book === undefined ||
    (book.positions.length === 0 && book.unsettled === 0n && book.mode === 'cross')
  );
}

/** A listed derivatives instrument: its listing, its mark, funding, expiry and open interest. */
export interface InstrumentState {
  readonly index: number;
  readonly listing: InstrumentListing;
  /** The index of the underlying's asset: its oracle price is the instrument's index. */
  readonly underlying: number;
  /** The mark, PRICE_SCALE, with the smoothed mark beside it (as an asset's risk factors). */
  readonly mark: bigint;
  readonly oracle: OracleState | null;
  /** Cumulative funding per size unit (numerator); perpetuals only. */
  readonly fundingIndex: bigint;
  /** When funding was last paid up to (unix seconds). */
  readonly fundingAt: number;
  /** The sum of long sizes (equal to that of short sizes), kept with every fill. */
  readonly openInterest: bigint;
  /**
   * What a dated instrument settles at (PRICE_SCALE): set by the underlying's first price at or
   * after expiry; null before.
   */
  readonly settlementPrice: bigint | null;
  /** Whether `expire` has settled every position. */
  readonly settled: boolean;
}

/** A chain's collateral vault, as the engine keeps it (docs/CHAINS.md). */
export interface ChainState {
  readonly chain: string;
  /** `active`; `halted` (no new blocks) or `paused` (its vault paused): no new risk on it. */
  readonly status: ChainStatus;
  /** Seconds a withdrawal authorization stays valid. */
  readonly withdrawalTtl: number;
  /**
   * How far the chain's vault events were taken: every event at (block, log index) up to this
   * one, in that order; {@link BLOCK_END} as the log index when the whole block was scanned.
   */
  readonly cursorBlock: number;
  readonly cursorLog: number;
  /** The nonce the next withdrawal authorization gets (1, 2, ...). */
  readonly nextNonce: number;
  /** Withdrawals debited and authorized, not yet paid nor returned, by nonce. */
  readonly pending: ReadonlyMap<number, PendingWithdrawal>;
  /**
   * While the chain is tripped, the initial weights its assets had (asset index -> weight):
   * they back no new risk until it is active again.
   */
  readonly heldWeights: ReadonlyMap<number, bigint>;
}

export type ChainStatus = 'active' | 'halted' | 'paused';

/** A withdrawal authorized on a chain: the vault pays it once, until `expiry`. */
export interface PendingWithdrawal {
  readonly nonce: number;
  readonly account: string;
  readonly subAccount: number;
  readonly asset: number;
  /** Base units. */
  readonly amount: bigint;
  /** The address the vault pays (0x and 40 hex digits, lower case). */
  readonly recipient: string;
  /** Unix seconds after which the vault refuses it and the engine may return it. */
  readonly expiry: number;
}

/** A cursor's log index when its whole block was taken (a new chain starts at block -1's end). */
export const BLOCK_END = Number.MAX_SAFE_INTEGER;

export interface AccountState {
  readonly id: string;
  /**
   * Sub-accounts that hold or owe something, sorted by number; changed only by `Draft.commit`.
   * A short array, not a map: most accounts use one or two, and a scan beats a hash lookup.
   */
  readonly subAccounts: SubAccountState[];
}

/** The insurance fund: a system account that takes part of every penalty and pays bad debt. */
export const INSURANCE_ACCOUNT = '@insurance';

/**
 * The settlement reserve: the settlement asset that derivatives losses paid in, from which
 * profits are paid out (docs/MARGIN.md).
 */
export const SETTLEMENT_ACCOUNT = '@settlement';

/** The venue's own account: trading fees. */
export const VENUE_ACCOUNT = '@venue';

/** The protocol's backstop, as liquidation events name it; it holds nothing. */
export const BACKSTOP_ACCOUNT = '@backstop';

/**
 * Account identifiers that begin with `@` are the venue's own: only the insurance fund exists
 * (anyone may pay into it); no command may name any other.
 */
export const RESERVED_ACCOUNT_PREFIX = '@';

/**
 * Most assets sub-account `number` of `account` may hold or owe: a trader's sub-account
 * {@link LIMITS.positionsPerSubAccount}; the insurance fund's, every listed asset, so that no
 * liquidation ever waits for a slot in the fund.
 */
export function positionLimit(account: string, number: number): number {
  return number === 0 &&
    (account === INSURANCE_ACCOUNT || account === SETTLEMENT_ACCOUNT || account === VENUE_ACCOUNT)
    ? LIMITS.assets
    : LIMITS.positionsPerSubAccount;
}

/** Debt value repaid by liquidations in the current throttle window (VALUE_SCALE). */
export interface LiquidationThrottle {
  /** The window, named by its start (unix seconds): floor(time / length) × length. */
  readonly window: number;
  readonly globalValue: bigint;
  /** Per sub-account (`account/number`), kept whether or not a per-account cap is set. */
  readonly accountValues: ReadonlyMap<string, bigint>;
}

export interface EngineState {
  /** Unix seconds of the last accepted command. */
  time: number;
  /** Number of commands accepted so far; the next accepted command gets `sequence + 1`. */
  sequence: number;
  /** Name of the unit prices and values are quoted in. */
  readonly quote: string;
  readonly assets: AssetState[];
  readonly assetIndex: Map<string, number>;
  readonly accounts: Map<string, AccountState>;
  /** The venue's liquidation rules; changed by `configure-liquidation`. */
  liquidationConfig: LiquidationConfig;
  liquidationThrottle: LiquidationThrottle;
  /** The venue's engine-wide rules; changed by `configure-venue`. */
  venueConfig: VenueConfig;
  /** Listed derivatives instruments, by index. */
  readonly instruments: InstrumentState[];
  /** Instrument symbols to their index (symbols are shared with assets: one namespace). */
  readonly instrumentIndex: Map<string, number>;
  /**
   * Annual volatility per asset index (millionths), set by `set-volatility`: what portfolio
   * margin's scenarios shock options on that underlying with.
   */
  readonly volatilities: Map<number, bigint>;
  /** Derived, never stored: the instruments on each asset, by asset index. */
  readonly instrumentsByAsset: Map<number, number[]>;
  /** Chains whose vaults hold collateral, by identifier (`list-chain`). */
  readonly chains: Map<string, ChainState>;
}

/** An empty engine quoting prices in `quote` (default `USD`). */
export function createState(quote = 'USD'): EngineState {
  return {
    time: 0,
    sequence: 0,
    quote,
    assets: [],
    assetIndex: new Map(),
    accounts: new Map(),
    liquidationConfig: DEFAULT_LIQUIDATION_CONFIG,
    liquidationThrottle: { window: 0, globalValue: 0n, accountValues: new Map() },
    venueConfig: DEFAULT_VENUE_CONFIG,
    instruments: [],
    instrumentIndex: new Map(),
    instrumentsByAsset: new Map(),
    volatilities: new Map(),
    chains: new Map(),
  };
}

/** Reference to one sub-account. */
export interface SubAccountRef {
  readonly account: string;
  readonly subAccount: number;
}

/** Frozen: a committed sub-account gets its own position list, never this one. */
export const EMPTY_SUB_ACCOUNT: SubAccountState = Object.freeze({
  number: -1,
  positions: Object.freeze([]) as readonly ScaledPosition[],
});

/** The sub-account `number` of an account, if it holds or owes anything. */
export function findSubAccount(
  account: AccountState | undefined,
  number: number,
): SubAccountState | undefined {
  if (account === undefined) return undefined;
  for (const sub of account.subAccounts) if (sub.number === number) return sub;
  return undefined;
}
