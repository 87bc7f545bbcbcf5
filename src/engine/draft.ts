/**
 * A draft: the changes one command makes, kept apart from the state until the command is
 * accepted. Reads see the draft over the state; `commit` writes the draft into the state.
 * A refused command simply drops its draft, so nothing it touched changes. Dry runs use the
 * same drafts and never commit.
 */
import { assert, FulcrumError } from '../base/errors.js';
import { quoteInput } from '../domain/quote.js';
import { DEFAULT_PROFIT_WEIGHT } from '../derivatives/listing.js';
import {
  DerivativesMargin,
  type InstrumentPrices,
  pricesWithFloats,
  type ProfitWeights,
} from '../derivatives/margin.js';
import type { AssetRisk } from '../margin/assetRisk.js';
import { VALUE_UNIT } from '../derivatives/position.js';
import { portfolioRequirement, unweighted } from './portfolio.js';
import { NORM_DECIMALS } from '../margin/assetRisk.js';
import {
  evaluateHealth,
  type ExtraMargin,
  type HealthSnapshot,
  type Position,
} from '../margin/health.js';
import { LIMITS } from '../domain/limits.js';
import type { LiquidationConfig } from '../domain/liquidationConfig.js';
import type { VenueConfig } from '../domain/venueConfig.js';
import { pow10, PRICE_SCALE, RAY } from '../math/fixed.js';
import { accrue, debtAmount, type PoolState, supplyAmount } from '../pools/pool.js';
import type { EngineEvent } from './events.js';
import {
  type AccountState,
  type AssetState,
  bookIsEmpty,
  type DerivativesBook,
  type InstrumentState,
  EMPTY_SUB_ACCOUNT,
  type EngineState,
  findSubAccount,
  type LiquidationThrottle,
  type ScaledPosition,
  type SubAccountRef,
  type SubAccountState,
} from './state.js';

export interface SubAccountChange {
  readonly ref: SubAccountRef;
  readonly state: SubAccountState;
}

/** What a draft changes, as the effects journal reads it before `commit`. */
export interface DraftChanges {
  /** Assets as the draft leaves them (listings included), in the order first changed. */
  readonly assets: readonly AssetState[];
  /** Sub-accounts as the draft leaves them, books included; holding nothing means emptied. */
  readonly subAccounts: readonly SubAccountChange[];
  /** Instruments as the draft leaves them (listings included), in the order first changed. */
  readonly instruments: readonly InstrumentState[];
  /** Volatilities set (millionths a year), by asset index; undefined when the draft sets none. */
  readonly volatilities: ReadonlyMap<number, bigint> | undefined;
  /**
   * Whether the liquidation rules, the liquidation throttle or the venue's rules change: such a
   * command is journaled as itself.
   */
  readonly liquidationState: boolean;
}

export class Draft {
  readonly base: EngineState;
  /** Time of the command, unix seconds. */
  readonly time: number;
  readonly events: EngineEvent[] = [];
  // A command touches one or two assets and sub-accounts: short lists scanned in order beat maps
  // (no key strings, no hashing) on the engine's hot path.
  private readonly assetChanges: AssetState[] = [];
  private readonly subAccountChanges: SubAccountChange[] = [];
  private readonly subAccountReads: SubAccountChange[] = [];
  /**
   * The throttle's change: the window's total and, when the per-account cap is kept, one
   * sub-account's total (a command liquidates one target). Never a copy of the per-account map:
   * a window of tens of thousands of liquidations must not copy it for each.
   */
  private throttleChange: ThrottleChange | undefined;
  private readonly instrumentChanges: InstrumentState[] = [];
  /** Made by the first `setVolatility`: most commands set none. */
  private volatilityChanges: Map<number, bigint> | undefined;
  private configChange: LiquidationConfig | undefined;
  private venueChange: VenueConfig | undefined;

  /** The state's sequence when the draft was made: a draft is valid only until the next commit. */
  private readonly sequence: number;

  constructor(base: EngineState, time: number) {
    this.base = base;
    this.time = time;
    this.sequence = base.sequence;
  }

  /**
   * The state a draft reads may not have moved on since the draft was made: committed objects
   * are updated in place, so a stale draft would mix old changes with new state.
   */
  private assertCurrent(): void {
    assert(this.base.sequence === this.sequence, 'draft used after the state moved on');
  }

  emit(event: EngineEvent): void {
    this.events.push(event);
  }

  /** Number of listed instruments, the draft's listings included. */
  get instrumentCount(): number {
    const listed = this.base.instruments.length;
    return listed + this.instrumentChanges.filter((i) => i.index >= listed).length;
  }

  instrument(index: number): InstrumentState {
    this.assertCurrent();
    for (const changed of this.instrumentChanges) if (changed.index === index) return changed;
    const listed = this.base.instruments[index];
    if (listed === undefined) throw new RangeError(`no instrument at index ${index}`);
    return listed;
  }

  /** The instrument listed as `symbol`, or `unknown_instrument` naming `field`. */
  findInstrument(symbol: string, field: string): InstrumentState {
    const index = this.base.instrumentIndex.get(symbol);
    if (index !== undefined) return this.instrument(index);
    for (const changed of this.instrumentChanges) {
      if (changed.listing.spec.symbol === symbol) return changed;
    }
    throw new FulcrumError(
      'unknown_instrument',
      `instrument ${quoteInput(symbol)} is not listed`,
      field,
    );
  }

  /** The instrument `symbol` if one is listed (assets and instruments share one namespace). */
  lookupInstrument(symbol: string): InstrumentState | undefined {
    const index = this.base.instrumentIndex.get(symbol);
    if (index !== undefined) return this.instrument(index);
    return this.instrumentChanges.find((i) => i.listing.spec.symbol === symbol);
  }

  setInstrument(instrument: InstrumentState): void {
    const at = this.instrumentChanges.findIndex((i) => i.index === instrument.index);
    if (at >= 0) this.instrumentChanges[at] = instrument;
    else this.instrumentChanges.push(instrument);
  }

  /** An instrument's prices and weights, as margin reads them, at the draft's state. */
  instrumentPrices(index: number): InstrumentPrices {
    const instrument = this.instrument(index);
    const risk = this.asset(instrument.underlying).risk;
    const kept = pricesKept.get(instrument);
    if (kept !== undefined && kept.risk === risk) return kept.prices;
    const w = instrument.listing.profitWeight;
    const prices = pricesWithFloats({
      spec: instrument.listing.spec,
      mark: instrument.mark,
      index: risk.oraclePrice,
      fundingIndex: instrument.fundingIndex,
      profitWeights: [w.initial, w.liquidationEnd, w.maintenance],
    });
    pricesKept.set(instrument, { risk, prices });
    return prices;
  }

  /** Number of listed assets, the draft's listings included. */
  get assetCount(): number {
    const listed = this.base.assets.length;
    return listed + this.assetChanges.filter((a) => a.index >= listed).length;
  }

  asset(index: number): AssetState {
    this.assertCurrent();
    for (const changed of this.assetChanges) if (changed.index === index) return changed;
    const listed = this.base.assets[index];
    if (listed === undefined) throw new RangeError(`no asset at index ${index}`);
    return listed;
  }

  /** The asset listed as `symbol`, or `unknown_asset` naming `field`. */
  findAsset(symbol: string, field: string): AssetState {
    const index = this.base.assetIndex.get(symbol);
    if (index !== undefined) return this.asset(index);
    for (const changed of this.assetChanges) if (changed.config.symbol === symbol) return changed;
    throw new FulcrumError('unknown_asset', `asset ${JSON.stringify(symbol)} is not listed`, field);
  }

  setAsset(asset: AssetState): void {
    const at = this.assetChanges.findIndex((a) => a.index === asset.index);
    if (at >= 0) this.assetChanges[at] = asset;
    else this.assetChanges.push(asset);
  }

  /**
   * Accrues the asset's pool to the command's time and keeps the result in the draft: the first
   * step of every pool operation. Emits `interest-accrued` when interest was charged.
   */
  accruePool(index: number): AssetState {
    const asset = this.asset(index);
    if (asset.pool.accruedAt === this.time) return asset;
    const accrual = accrue(asset.pool, asset.config, this.time);
    const accrued = { ...asset, pool: accrual.pool };
    this.setAsset(accrued);
    if (accrual.interestRayUnits > 0n) {
      this.emit({
        type: 'interest-accrued',
        asset: asset.config.symbol,
        decimals: asset.config.decimals,
        seconds: accrual.seconds,
        interest: accrual.interestRayUnits / RAY,
        treasuryMintedScaled: accrual.treasuryMintedScaled,
        supplyIndexRay: accrual.pool.supplyIndexRay,
        borrowIndexRay: accrual.pool.borrowIndexRay,
        utilizationRay: accrual.rates?.utilizationRay ?? 0n,
        borrowRateRay: accrual.rates?.borrowRateAnnualRay ?? 0n,
      });
    }
    if (accrual.capped) {
      this.emit({
        type: 'interest-capped',
        asset: asset.config.symbol,
        supplyIndexRay: accrual.pool.supplyIndexRay,
        borrowIndexRay: accrual.pool.borrowIndexRay,
      });
    }
    return accrued;
  }

  /** The pool as it stands at the command's time: accrued in a copy if it lags (no event). */
  currentPool(index: number): PoolState {
    const asset = this.asset(index);
    if (asset.pool.accruedAt >= this.time) return asset.pool;
    return accrue(asset.pool, asset.config, this.time).pool;
  }

  subAccount(ref: SubAccountRef): SubAccountState {
    this.assertCurrent();
    for (const changed of this.subAccountChanges) {
      if (sameSubAccount(changed.ref, ref)) return changed.state;
    }
    // A handler asks for the same sub-account several times: remember what the state holds.
    for (const seen of this.subAccountReads) {
      if (sameSubAccount(seen.ref, ref)) return seen.state;
    }
    const state =
      findSubAccount(this.base.accounts.get(ref.account), ref.subAccount) ?? EMPTY_SUB_ACCOUNT;
    this.subAccountReads.push({ ref, state });
    return state;
  }

  setSubAccount(ref: SubAccountRef, state: SubAccountState): void {
    const { accounts } = this.base;
    if (accounts.size >= LIMITS.accounts && !accounts.has(ref.account)) {
      throw new FulcrumError(
        'limit_exceeded',
        `the engine holds at most ${LIMITS.accounts} accounts`,
      );
    }
    const at = this.subAccountChanges.findIndex((c) => sameSubAccount(c.ref, ref));
    if (at >= 0) this.subAccountChanges[at] = { ref, state };
    else this.subAccountChanges.push({ ref, state });
  }

  /** Everything the draft changes, without copying: read it before `commit`. */
  changes(): DraftChanges {
    return {
      assets: this.assetChanges,
      subAccounts: this.subAccountChanges,
      instruments: this.instrumentChanges,
      volatilities: this.volatilityChanges,
      liquidationState:
        this.throttleChange !== undefined ||
        this.configChange !== undefined ||
        this.venueChange !== undefined,
    };
  }

  /** The sub-accounts this draft changes. */
  touched(): SubAccountRef[] {
    return this.subAccountChanges.map((change) => change.ref);
  }

  get liquidationConfig(): LiquidationConfig {
    return this.configChange ?? this.base.liquidationConfig;
  }

  setLiquidationConfig(config: LiquidationConfig): void {
    this.configChange = config;
  }

  get venueConfig(): VenueConfig {
    return this.venueChange ?? this.base.venueConfig;
  }

  setVenueConfig(config: VenueConfig): void {
    this.venueChange = config;
  }

  /**
   * The throttle window of the command's time, named by its start (unix seconds): a window of
   * another length never shares a name with this one, so a change of the window's length
   * starts a fresh window rather than reusing an earlier period's totals.
   */
  get throttleWindow(): number {
    const length = this.liquidationConfig.throttleWindowSeconds;
    return Math.floor(this.time / length) * length;
  }

  /**
   * Debt value (VALUE_SCALE) repaid by liquidations in the command's throttle window: across
   * the venue, and of sub-account `key` (`account/number`). A new window starts empty.
   */
  throttleUsed(key: string): { readonly globalValue: bigint; readonly accountValue: bigint } {
    this.assertCurrent();
    const window = this.throttleWindow;
    const change = this.throttleChange;
    if (change !== undefined && change.window === window) {
      const accountValue =
        change.key === key ? change.accountValue : this.committedThrottleValue(key, window);
      return { globalValue: change.globalValue, accountValue };
    }
    const base = this.base.liquidationThrottle;
    return base.window === window
      ? { globalValue: base.globalValue, accountValue: base.accountValues.get(key) ?? 0n }
      : { globalValue: 0n, accountValue: 0n };
  }

  private committedThrottleValue(key: string, window: number): bigint {
    const base = this.base.liquidationThrottle;
    return base.window === window ? (base.accountValues.get(key) ?? 0n) : 0n;
  }

  /**
   * Counts `value` of repaid debt against the window: across the venue, and against sub-account
   * `key` (`account/number`). One sub-account a command.
   */
  countThrottle(key: string, value: bigint): void {
    const used = this.throttleUsed(key);
    const change = this.throttleChange;
    assert(
      change === undefined || change.key === key,
      'one command counts one sub-account against the throttle',
    );
    this.throttleChange = {
      window: this.throttleWindow,
      globalValue: used.globalValue + value,
      key,
      accountValue: used.accountValue + value,
    };
  }

  /** Signed amount in base units of a scaled balance in `asset`, at the command's time. */
  amountOf(asset: number, scaled: bigint): bigint {
    const pool = this.currentPool(asset);
    return scaled >= 0n ? supplyAmount(scaled, pool) : -debtAmount(-scaled, pool);
  }

  /** A sub-account's positions as signed amounts (base units) at the command's time. */
  positions(ref: SubAccountRef): Position[] {
    return this.subAccount(ref).positions.map(({ asset, scaled }) => ({
      risk: this.asset(asset).risk,
      amount: this.amountOf(asset, scaled),
    }));
  }

  health(ref: SubAccountRef): HealthSnapshot {
    const sub = this.subAccount(ref);
    return this.healthOf(sub.positions, sub.derivatives);
  }

  /** The health a sub-account would have holding `positions` (scaled) and `book`. */
  healthOf(
    positions: readonly ScaledPosition[],
    book: DerivativesBook | undefined,
  ): HealthSnapshot {
    const portfolio = book?.mode === 'portfolio';
    const amounts = positions.map(({ asset, scaled }) => {
      const risk = this.asset(asset).risk;
      return { risk: portfolio ? unweighted(risk) : risk, amount: this.amountOf(asset, scaled) };
    });
    return evaluateHealth(amounts, book === undefined ? null : this.extraMargin(book, positions));
  }

  /** An asset's volatility (a share a year) as the draft sees it; undefined when never set. */
  volatility(asset: number): number | undefined {
    const ppm = this.volatilityChanges?.get(asset) ?? this.base.volatilities.get(asset);
    return ppm === undefined ? undefined : Number(ppm) / 1e6;
  }

  setVolatility(asset: number, ppm: bigint): void {
    this.volatilityChanges ??= new Map();
    this.volatilityChanges.set(asset, ppm);
  }

  /** What a sub-account's derivatives add to its health (see docs/MARGIN.md). */
  extraMargin(book: DerivativesBook, balances: readonly ScaledPosition[] = []): ExtraMargin {
    return new DerivativesMargin(
      book.positions,
      (index) => this.instrumentPrices(index),
      book.unsettled,
      UNSETTLED_WEIGHTS,
      this.venueConfig.profitCap,
      DERIVATIVES_TO_HEALTH,
      book.mode === 'portfolio' ? portfolioRequirement(this, book, balances) : undefined,
    );
  }

  /**
   * Writes every change into the state. Called once, after the command is accepted.
   *
   * The state's objects are updated in place (pool fields, position balances) rather than
   * replaced: the state lives long, and replacing its objects on every command made the garbage
   * collector promote them, about 40% of a deposit's time. The draft's own objects die young.
   */
  commit(): void {
    this.assertCurrent();
    const { base } = this;
    for (const asset of this.assetChanges) {
      const existing = base.assets[asset.index];
      if (existing === undefined) {
        base.assetIndex.set(asset.config.symbol, asset.index);
        base.assets[asset.index] = asset;
      } else {
        const target = existing as Mutable<AssetState>;
        target.config = asset.config;
        target.risk = asset.risk;
        target.oracle = asset.oracle;
        if (asset.pool !== existing.pool) writePool(existing.pool, asset.pool);
      }
    }
    for (const instrument of this.instrumentChanges) {
      if (base.instruments[instrument.index] === undefined) {
        base.instrumentIndex.set(instrument.listing.spec.symbol, instrument.index);
        indexInstrument(base, instrument);
      }
      base.instruments[instrument.index] = instrument;
    }
    if (this.volatilityChanges !== undefined) {
      for (const [asset, ppm] of this.volatilityChanges) base.volatilities.set(asset, ppm);
    }
    for (const { ref, state } of this.subAccountChanges) writeSubAccount(base, ref, state);
    if (this.configChange !== undefined) base.liquidationConfig = this.configChange;
    if (this.venueChange !== undefined) base.venueConfig = this.venueChange;
    if (this.throttleChange !== undefined) commitThrottle(base, this.throttleChange);
    base.time = this.time;
    base.sequence += 1;
  }
}

interface ThrottleChange {
  readonly window: number;
  readonly globalValue: bigint;
  /** The sub-account counted (`account/number`). */
  readonly key: string;
  readonly accountValue: bigint;
}

/**
 * Writes a throttle change into the state: a new window starts a new map; within a window the
 * one sub-account's total is set in place.
 */
function commitThrottle(base: EngineState, change: ThrottleChange): void {
  let throttle = base.liquidationThrottle;
  if (throttle.window !== change.window) {
    throttle = { window: change.window, globalValue: 0n, accountValues: new Map() };
    base.liquidationThrottle = throttle;
  }
  (throttle as Mutable<LiquidationThrottle>).globalValue = change.globalValue;
  (throttle.accountValues as Map<string, bigint>).set(change.key, change.accountValue);
}

/** Derivatives tiers (numerator × WEIGHT_SCALE over VALUE_UNIT) onto the health's denominator. */
export const DERIVATIVES_TO_HEALTH = (pow10(NORM_DECIMALS) * PRICE_SCALE) / VALUE_UNIT;

/**
 * An instrument's prices as margin reads them, kept per instrument state (states are replaced,
 * never changed in place) while its underlying's risk factors are the same object.
 */
const pricesKept = new WeakMap<InstrumentState, { risk: AssetRisk; prices: InstrumentPrices }>();

/** Unsettled profit counts at the default profit weights: it waits on the settlement reserve. */
const UNSETTLED_WEIGHTS: ProfitWeights = [
  DEFAULT_PROFIT_WEIGHT.initial,
  DEFAULT_PROFIT_WEIGHT.liquidationEnd,
  DEFAULT_PROFIT_WEIGHT.maintenance,
];

/** Adds a newly listed instrument to the index of instruments per underlying asset. */
export function indexInstrument(base: EngineState, instrument: InstrumentState): void {
  const list = base.instrumentsByAsset.get(instrument.underlying);
  if (list === undefined) base.instrumentsByAsset.set(instrument.underlying, [instrument.index]);
  else list.push(instrument.index);
}

function sameSubAccount(a: SubAccountRef, b: SubAccountRef): boolean {
  return a.subAccount === b.subAccount && a.account === b.account;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Writes `fields` into `target`: the one place where committed objects change. */
export function overwrite<T extends object>(target: T, fields: Partial<T>): void {
  Object.assign(target as Mutable<T>, fields);
}

/**
 * Writes `source`'s fields into the committed pool `target`, field by field: a pool changes on
 * most commands, and a generic `Object.assign` cost a few percent of the engine's time.
 */
export function writePool(target: PoolState, source: PoolState): void {
  const pool = target as Mutable<PoolState>;
  pool.cash = source.cash;
  pool.supplyScaled = source.supplyScaled;
  pool.borrowScaled = source.borrowScaled;
  pool.treasuryScaled = source.treasuryScaled;
  pool.supplyIndexRay = source.supplyIndexRay;
  pool.borrowIndexRay = source.borrowIndexRay;
  pool.accruedAt = source.accruedAt;
}

/**
 * Makes sub-account `ref` of the state hold what `next` holds: created, replaced or removed
 * (an account with no sub-accounts left is removed). `commit` and the effects journal's replay
 * both write sub-accounts through it.
 */
export function writeSubAccount(
  base: EngineState,
  ref: SubAccountRef,
  next: SubAccountState,
): void {
  let account: AccountState | undefined = base.accounts.get(ref.account);
  const empty = next.positions.length === 0 && bookIsEmpty(next.derivatives);
  if (account === undefined) {
    if (empty) return;
    account = { id: ref.account, subAccounts: [] };
    base.accounts.set(ref.account, account);
  }
  const { subAccounts } = account;
  const at = subAccounts.findIndex((s) => s.number >= ref.subAccount);
  const existing =
    at >= 0 && subAccounts[at]?.number === ref.subAccount ? subAccounts[at] : undefined;
  if (empty) {
    if (existing !== undefined) subAccounts.splice(at, 1);
    if (subAccounts.length === 0) base.accounts.delete(ref.account);
  } else if (existing === undefined) {
    const entry: SubAccountState =
      next.derivatives === undefined || bookIsEmpty(next.derivatives)
        ? { number: ref.subAccount, positions: [...next.positions] }
        : { number: ref.subAccount, positions: [...next.positions], derivatives: next.derivatives };
    if (at < 0) subAccounts.push(entry);
    else subAccounts.splice(at, 0, entry);
  } else {
    mergePositions(existing, next);
    if (existing.derivatives !== next.derivatives) {
      (existing as Mutable<SubAccountState>).derivatives = bookIsEmpty(next.derivatives)
        ? undefined
        : next.derivatives;
    }
  }
}

/**
 * Makes `existing` hold what `next` holds, keeping the position objects of assets held before
 * and after (their balances are written in place).
 */
function mergePositions(existing: SubAccountState, next: SubAccountState): void {
  const positions = existing.positions as ScaledPosition[];
  const sameAssets =
    positions.length === next.positions.length &&
    positions.every((p, i) => p.asset === next.positions[i]?.asset);
  if (!sameAssets) {
    positions.splice(0, positions.length, ...next.positions.map((p) => ({ ...p })));
    return;
  }
  next.positions.forEach((p, i) => {
    const held = positions[i];
    if (held !== undefined && held !== p) (held as Mutable<ScaledPosition>).scaled = p.scaled;
  });
}
