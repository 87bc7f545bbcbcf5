/**
 * A draft: the changes one command makes, kept apart from the state until the command is
 * accepted. Reads see the draft over the state; `commit` writes the draft into the state.
 * A refused command simply drops its draft, so nothing it touched changes. Dry runs use the
 * same drafts and never commit.
 */
import { assert, FulcrumError } from '../base/errors.js';
import { quoteInput } from '../domain/quote.js';
import { DEFAULT_PROFIT_WEIGHT, type InstrumentListing } from '../derivatives/listing.js';
import {
  DerivativesMargin,
  floatTierOf,
  type InstrumentPrices,
  pricesWithFloats,
  type ProfitWeights,
} from '../derivatives/margin.js';
import type { AssetRisk } from '../margin/assetRisk.js';
import { type DerivativePosition, VALUE_UNIT } from '../derivatives/position.js';
import { portfolioRequirement, unweighted } from './portfolio.js';
import { NORM_DECIMALS, TIER_INDEX } from '../margin/assetRisk.js';
import {
  evaluateHealth,
  type ExtraMargin,
  type HealthSnapshot,
  type Position,
  screenSums,
} from '../margin/health.js';
import type { Tier } from '../domain/asset.js';
import { LIMITS } from '../domain/limits.js';
import type { LiquidationConfig } from '../domain/liquidationConfig.js';
import type { VenueConfig } from '../domain/venueConfig.js';
import { pow10, PRICE_SCALE, RAY } from '../math/fixed.js';
import { accrue, debtAmount, type PoolState, supplyAmount } from '../pools/pool.js';
import type { EngineEvent } from './events.js';
import {
  type AccountState,
  type ChainState,
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

/** A sub-account as the draft holds it: read from the state, or changed (`changed`). */
interface SubAccountSlot {
  ref: SubAccountRef;
  state: SubAccountState;
  changed: boolean;
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
   * Whether the liquidation rules, the liquidation throttle, the venue's rules or a chain's record
   * change: such a command is journaled as itself.
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
  // Every sub-account the draft read or changed, once each; those changed also in
  // `subAccountChanges`, in the order first changed. Handlers pass the same reference objects
  // around, so a lookup first scans for the very object and compares names only when it misses.
  private readonly subAccountSlots: SubAccountSlot[] = [];
  private readonly subAccountChanges: SubAccountSlot[] = [];
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
  /** Made by the first `setChain`: only the chain commands change a chain. */
  private chainChanges: Map<string, ChainState> | undefined;

  private pricesFunction: ((index: number) => InstrumentPrices) | undefined;
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
    const changes = this.instrumentChanges;
    for (let i = 0; i < changes.length; i++) {
      if ((changes[i] as InstrumentState).index === instrument.index) {
        changes[i] = instrument;
        return;
      }
    }
    changes.push(instrument);
  }

  /** An instrument's prices and weights, as margin reads them, at the draft's state. */
  instrumentPrices(index: number): InstrumentPrices {
    const instrument = this.instrument(index);
    const risk = this.asset(instrument.underlying).risk;
    const kept = pricesKept[index];
    if (
      kept !== undefined &&
      kept.listing === instrument.listing &&
      kept.risk === risk &&
      kept.prices.mark === instrument.mark &&
      kept.prices.fundingIndex === instrument.fundingIndex
    ) {
      return kept.prices;
    }
    const { listing } = instrument;
    const prices =
      kept === undefined || kept.listing !== listing
        ? pricesWithFloats({
            spec: listing.spec,
            mark: instrument.mark,
            index: risk.oraclePrice,
            fundingIndex: instrument.fundingIndex,
            profitWeights: [
              listing.profitWeight.initial,
              listing.profitWeight.liquidationEnd,
              listing.profitWeight.maintenance,
            ],
          })
        : movedPrices(kept.prices, instrument, risk);
    pricesKept[index] = { listing, risk, prices };
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
    const changes = this.assetChanges;
    for (let i = 0; i < changes.length; i++) {
      if ((changes[i] as AssetState).index === asset.index) {
        changes[i] = asset;
        return;
      }
    }
    changes.push(asset);
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
    return accruedCopy(asset, this.time);
  }

  subAccount(ref: SubAccountRef): SubAccountState {
    this.assertCurrent();
    const slot = this.slotOf(ref);
    if (slot !== undefined) return slot.state;
    // A handler asks for the same sub-account several times: remember what the state holds.
    const state =
      findSubAccount(this.base.accounts.get(ref.account), ref.subAccount) ?? EMPTY_SUB_ACCOUNT;
    this.subAccountSlots.push({ ref, state, changed: false });
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
    let slot = this.slotOf(ref);
    if (slot === undefined) {
      slot = { ref, state, changed: false };
      this.subAccountSlots.push(slot);
    }
    slot.ref = ref;
    slot.state = state;
    if (!slot.changed) {
      slot.changed = true;
      this.subAccountChanges.push(slot);
    }
  }

  /** The draft's slot of sub-account `ref`, if it read or changed it. */
  private slotOf(ref: SubAccountRef): SubAccountSlot | undefined {
    const slots = this.subAccountSlots;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i] as SubAccountSlot;
      if (slot.ref === ref) return slot;
    }
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i] as SubAccountSlot;
      if (sameSubAccount(slot.ref, ref)) return slot;
    }
    return undefined;
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
        this.venueChange !== undefined ||
        this.chainChanges !== undefined,
    };
  }

  /** A listed chain as the draft leaves it; undefined when it is not listed. */
  chain(id: string): ChainState | undefined {
    return this.chainChanges?.get(id) ?? this.base.chains.get(id);
  }

  /** Chains listed, the draft's listings included. */
  get chainCount(): number {
    let count = this.base.chains.size;
    for (const id of this.chainChanges?.keys() ?? []) if (!this.base.chains.has(id)) count++;
    return count;
  }

  setChain(chain: ChainState): void {
    (this.chainChanges ??= new Map()).set(chain.chain, chain);
  }

  /** The sub-accounts this draft changes. */
  touched(): SubAccountRef[] {
    const changes = this.subAccountChanges;
    const refs: SubAccountRef[] = new Array<SubAccountRef>(changes.length);
    for (let i = 0; i < changes.length; i++) refs[i] = (changes[i] as SubAccountSlot).ref;
    return refs;
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

  /**
   * Whether a sub-account meets `tier` (health at or above 1): exactly `health(ref).meets(tier)`.
   * The float screen decides first, summed straight from the draft with no snapshot built; near
   * the threshold, and for portfolio margin, the exact snapshot decides.
   */
  meets(ref: SubAccountRef, tier: Tier): boolean {
    const sub = this.subAccount(ref);
    const book = sub.derivatives;
    if (book === undefined || book.mode !== 'portfolio') {
      const index = TIER_INDEX[tier];
      let collateral = 0;
      let liabilities = 0;
      // The amounts as floats straight from the scaled balances: each is within one base unit
      // (the exact amount's rounding) and a few 2^-53 of the exact amount, so the band widens by
      // one base unit's weight per balance.
      let slack = 0;
      const { positions } = sub;
      for (let i = 0; i < positions.length; i++) {
        const { asset, scaled } = positions[i] as ScaledPosition;
        const { risk } = this.asset(asset);
        const pool = this.currentPool(asset);
        if (scaled > 0n) {
          const weight = risk.collateralPerUnitFloat[index];
          collateral += ((Number(scaled) * Number(pool.supplyIndexRay)) / RAY_FLOAT) * weight;
          slack += weight;
        } else {
          const weight = risk.liabilityPerUnitFloat[index];
          liabilities -= ((Number(scaled) * Number(pool.borrowIndexRay)) / RAY_FLOAT) * weight;
          slack += weight;
        }
      }
      const extra =
        book === undefined
          ? undefined
          : floatTierOf(
              book.positions,
              this.pricesOf,
              book.unsettled,
              UNSETTLED_WEIGHTS,
              DERIVATIVES_TO_HEALTH,
              index,
            );
      if (extra !== null) {
        const { profitCap } = this.venueConfig;
        // The capped profit follows the collateral's error at up to the cap: doubled, to spare.
        const bound = 2 * (1 + Number(profitCap) / 1e6) * slack;
        const screened = screenSums(collateral, liabilities, extra, profitCap, index, bound);
        if (screened !== null) return screened;
      }
    }
    return this.health(ref).meets(tier);
  }

  /** `instrumentPrices` as a function, made once per draft. */
  private get pricesOf(): (index: number) => InstrumentPrices {
    this.pricesFunction ??= (index) => this.instrumentPrices(index);
    return this.pricesFunction;
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
      this.pricesOf,
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
    if (this.chainChanges !== undefined) {
      for (const [id, chain] of this.chainChanges) base.chains.set(id, chain);
    }
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
 * An instrument's prices as margin reads them, by instrument index, kept while its listing is
 * the same object, its mark and funding index the same and its underlying's risk factors the
 * same object: a fill replaces the instrument's state (its open interest) but not these, so the
 * next fill finds them. A plain array (at most one entry per listable instrument), not a
 * `WeakMap`: a lookup per health check. Engines that share the module only evict each other's.
 */
const pricesKept: {
  readonly listing: InstrumentListing;
  readonly risk: AssetRisk;
  readonly prices: InstrumentPrices;
}[] = [];

/**
 * The last accrued copy of a pool that lags, kept per pool object with the figures it was
 * accrued from: a pool no command accrues (a borrowed asset nobody touches) is read by every
 * health check at the same time, and accrual is a dozen bigint divisions. Committed pools are
 * written in place, so the figures, not the object, say whether the copy still holds.
 */
const accruedKept = new WeakMap<
  PoolState,
  { readonly from: PoolState; readonly config: AssetState['config']; readonly pool: PoolState }
>();

function accruedCopy(asset: AssetState, time: number): PoolState {
  const { pool, config } = asset;
  const kept = accruedKept.get(pool);
  if (
    kept !== undefined &&
    kept.config === config &&
    kept.pool.accruedAt === time &&
    samePool(kept.from, pool)
  ) {
    return kept.pool;
  }
  const accrued = accrue(pool, config, time).pool;
  accruedKept.set(pool, { from: { ...pool }, config, pool: accrued });
  return accrued;
}

function samePool(a: PoolState, b: PoolState): boolean {
  return (
    a.accruedAt === b.accruedAt &&
    a.cash === b.cash &&
    a.supplyScaled === b.supplyScaled &&
    a.borrowScaled === b.borrowScaled &&
    a.treasuryScaled === b.treasuryScaled &&
    a.supplyIndexRay === b.supplyIndexRay &&
    a.borrowIndexRay === b.borrowIndexRay
  );
}

const RAY_FLOAT = Number(RAY);

/**
 * An instrument's prices after its mark, funding index or underlying moved, from its earlier
 * prices under the same listing: the spec, weights and their floats are the listing's and stay.
 */
function movedPrices(
  kept: InstrumentPrices,
  instrument: InstrumentState,
  risk: AssetRisk,
): InstrumentPrices {
  const { mark, fundingIndex } = instrument;
  const floats = kept.floats;
  return {
    spec: kept.spec,
    mark,
    index: risk.oraclePrice,
    fundingIndex,
    profitWeights: kept.profitWeights,
    floats: {
      mark: Number(mark),
      weights: floats?.weights ?? [
        Number(kept.profitWeights[0]),
        Number(kept.profitWeights[1]),
        Number(kept.profitWeights[2]),
      ],
    },
  };
}

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
  let at = -1;
  for (let i = 0; i < subAccounts.length; i++) {
    if ((subAccounts[i] as SubAccountState).number >= ref.subAccount) {
      at = i;
      break;
    }
  }
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
    const book = existing.derivatives;
    if (book !== next.derivatives) {
      if (book === undefined || bookIsEmpty(next.derivatives)) {
        (existing as Mutable<SubAccountState>).derivatives = bookIsEmpty(next.derivatives)
          ? undefined
          : next.derivatives;
      } else {
        mergeBook(book, next.derivatives as DerivativesBook);
      }
    }
  }
}

/**
 * Makes the committed book `existing` hold what `next` holds, in place: its mode and unsettled
 * profit, and, when it holds the same instruments, each position's figures written into the
 * position objects it has (a fill changes one position; the others are the same objects). The
 * position list itself is never changed in place (a list may be shared with an empty stand-in):
 * another set of instruments takes `next`'s list. So a fill leaves nothing new in the state but
 * its numbers, and the garbage collector has less to promote.
 */
function mergeBook(existing: DerivativesBook, next: DerivativesBook): void {
  const book = existing as Mutable<DerivativesBook>;
  book.mode = next.mode;
  book.unsettled = next.unsettled;
  const held = existing.positions;
  const positions = next.positions;
  if (held === positions) return;
  let sameInstruments = held.length === positions.length;
  for (let i = 0; sameInstruments && i < held.length; i++) {
    sameInstruments = (held[i] as DerivativePosition).instrument === positions[i]?.instrument;
  }
  if (!sameInstruments) {
    book.positions = positions;
    return;
  }
  for (let i = 0; i < held.length; i++) {
    const target = held[i] as Mutable<DerivativePosition>;
    const source = positions[i] as DerivativePosition;
    if (target === source) continue;
    target.size = source.size;
    target.quote = source.quote;
    target.funding = source.funding;
  }
}

/**
 * Makes `existing` hold what `next` holds, keeping the position objects of assets held before
 * and after (their balances are written in place).
 */
function mergePositions(existing: SubAccountState, next: SubAccountState): void {
  const positions = existing.positions as ScaledPosition[];
  const nextPositions = next.positions;
  let sameAssets = positions.length === nextPositions.length;
  for (let i = 0; sameAssets && i < positions.length; i++) {
    sameAssets = (positions[i] as ScaledPosition).asset === nextPositions[i]?.asset;
  }
  if (!sameAssets) {
    positions.splice(0, positions.length, ...nextPositions.map((p) => ({ ...p })));
    return;
  }
  for (let i = 0; i < nextPositions.length; i++) {
    const p = nextPositions[i] as ScaledPosition;
    const held = positions[i];
    if (held !== undefined && held !== p) (held as Mutable<ScaledPosition>).scaled = p.scaled;
  }
}
