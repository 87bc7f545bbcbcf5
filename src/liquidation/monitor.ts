/**
 * The liquidation monitor: after every command, every sub-account whose maintenance health is
 * below 1, found at a cost that grows with the accounts a change touches, not with all accounts.
 *
 * It keeps, beside the engine's state and derived from it alone:
 *
 * - per sub-account (a "slot"), the maintenance-weighted collateral C and liabilities L of its
 *   balances as float64 sums, and whether it is liquidatable;
 * - per asset, a column of the slots holding or owing it, with their scaled balances as float64;
 * - per slot that holds derivatives (a "book"), its positions as floats and what they add to
 *   maintenance: P, positive profit at its maintenance weight, and Q, losses and maintenance
 *   requirements in full (docs/MARGIN.md), with M, the size of the terms P and Q are made of;
 * - per instrument, a column of the slots holding it.
 *
 * A slot is liquidatable when C + P < L + Q. When an asset's price or pool index moves, only its
 * column is swept: each holder's C or L moves by its scaled balance times the change of the
 * asset's per-unit factor, and the slot is judged again. When an instrument's mark, funding index
 * or listing moves (or its underlying's price, once a position on it has a requirement that reads
 * the index), the book of each holder is recomputed and judged. A slot whose float margin is clear
 * of the threshold by more than the float error bound is decided on the floats; one inside the
 * band is confirmed with the engine's exact health. So the set is always exactly the set an exact
 * scan of every account would find.
 *
 * Error bound, balances. Each sum is built from at most 16 products, and between rebuilds moved
 * by at most {@link REBUILD_SWEEPS} incremental steps, each with a few roundings of 2^-53
 * relative to terms that are kept within a factor {@link REBUILD_RATIO} of their size at the last
 * rebuild: the drift stays under 10^-10 of C + L, well inside {@link FLOAT_BAND}. Balances are
 * rounded to base units by the exact engine, which an absolute band of one base unit per position
 * covers.
 *
 * Error bound, derivatives. A position is kept as its size S (units of the underlying), k = its
 * quote plus S times the funding index at its last settlement (so that its value is
 * S × (mark − F) + k, F the instrument's funding per unit), and the two coefficients of its
 * maintenance requirement, which for a fixed size is linear in the mark and the index:
 * |S| × (a × mark + b × index) (`derivatives/requirement.ts`: a share of notional at the mark
 * raised by the size premium; a short option a share of the index plus its mark value; a long
 * option its mark value), each part rounded up to one numerator unit, 10^-38 of a quote unit.
 * a and b are read from `standardRequirement` itself at a reference price of 10^9 quote when
 * the book is read, so the monitor follows its ratios (its rounding up there is at most 10^-33 of
 * them). Each input is converted with a relative error of at most 3u (u = 2^-53); a position's
 * value then carries an absolute error of at most 10u × (|S| × (mark + |F|) + |k|) however much
 * S × mark and k cancel, and its requirement at most 10u of itself; max(0, ·) and weights of at
 * most 1 do not enlarge an error, and summing at most 33 terms (32 positions and the unsettled
 * profit; more only for the insurance fund) adds at most 33u of their magnitudes. So
 * |error of P − Q| <= 50u × M, with M = Σ (|S| × (mark + |F|) + |k| + requirement) + |unsettled|
 * kept per book. P, Q and M are recomputed from the positions every time (never moved by
 * increments), so no drift adds to this. The verdict compares C + P with L + Q inside a band of
 * FLOAT_BAND × (C + L + M) plus the absolute band: 10^-9 of M is over 10^5 times 50u of it (and
 * over 10^3 times the bound for the insurance fund's up to 1,024 positions). M measures the
 * terms, not the result, so a book whose value is a small difference of large numbers (a
 * position near its entry, a long option far out of the money with its premium paid) still has a
 * band wide enough; the price is an exact confirmation when C + P − L − Q lies within 10^-9 of
 * C + L + M. The rounding up of requirements lies far inside the absolute band.
 *
 * Small moves. An asset whose factors move by less than {@link SWEEP_THRESHOLD} (interest
 * accrual between commands, the smallest price ticks) is not swept at once: the band of every
 * slot widens by the pending move instead, and the few slots near enough to the threshold for
 * it to matter (kept in a set as they are judged) are judged again. A larger move sweeps. The
 * balances of a book move by at most the pending share of C + L, inside the widened band of
 * C + L + M. Instruments defer nothing: a mark or funding index moves only by a command, and any
 * change of one recomputes its holders.
 *
 * Books the float model does not follow. A sub-account in portfolio mode may be margined on the
 * scenario grid (docs/MARGIN.md): its slot is judged exactly at every refresh, one exact health
 * per such sub-account per command, and never on floats.
 *
 * Stress estimates. `stressEstimate` asks what a move of one asset's price alone would leave below
 * maintenance, for the console's heat map past `whatIfScanMax`: per move, one pass over the
 * asset's column (and its instruments' holders) on scratch figures, the sums and verdicts left
 * as they are.
 *
 * The monitor never changes the state; it reads it after each accepted command (`observe`).
 */
import type { CommandResult } from '../engine/apply.js';
import { Draft } from '../engine/draft.js';
import {
  type DerivativesBook,
  type EngineState,
  findSubAccount,
  type InstrumentState,
  type SubAccountRef,
} from '../engine/state.js';
import type { InstrumentListing } from '../derivatives/listing.js';
import { DEFAULT_PROFIT_WEIGHT } from '../derivatives/listing.js';
import type { InstrumentSpec } from '../derivatives/instruments.js';
import {
  type DerivativePosition,
  RATE_SCALE,
  SIZE_UNIT,
  VALUE_UNIT,
} from '../derivatives/position.js';
import { standardRequirement } from '../derivatives/requirement.js';
import { type AssetRisk, assetRisk, NORM_DECIMALS } from '../margin/assetRisk.js';
import { pow10, PRICE_SCALE, WEIGHT_SCALE } from '../math/fixed.js';
import { accrue, type PoolState } from '../pools/pool.js';

/** Relative float band inside which a slot's health is confirmed exactly. */
export const FLOAT_BAND = 1e-9;
/** Factor moves smaller than this (relative) are deferred rather than swept. */
export const SWEEP_THRESHOLD = 1e-6;
/** Slots within this relative margin of the threshold are re-judged while moves are deferred. */
const NEAR_BAND = FLOAT_BAND + 4 * SWEEP_THRESHOLD;
/** Incremental sweeps between full rebuilds of the sums. */
const REBUILD_SWEEPS = 256;
/** A factor that moves this many times away from its value at the last rebuild forces one. */
const REBUILD_RATIO = 16;

/**
 * Slot sums: C and L, side by side. Slot meta: version << 6 | exact << 5 | book << 4 | was << 3 |
 * flipped << 2 | near << 1 | liquidatable, where `book` marks a slot whose sub-account holds
 * derivatives, `exact` one judged exactly only, `flipped` a slot whose verdict changed during the
 * current refresh and `was` keeps its verdict before. A column entry is the slot's while its
 * version is the slot's; when a slot's version wraps, every column forgets the slot's entries
 * first, so that an entry from an earlier turn can never pass for a current one.
 */
const STRIDE = 2;
/** Where a slot's version starts in its meta, and its largest value (exported for a test). */
export const VERSION_SHIFT = 6;
export const VERSION_MASK = (1 << 25) - 1;
const LIQUIDATABLE = 1;
const NEAR = 2;
const FLIPPED = 4;
const WAS = 8;
const BOOK = 16;
const EXACT = 32;
const FLAGS = LIQUIDATABLE | NEAR | FLIPPED | WAS | BOOK | EXACT;
/** Denominators: weighted numerators are over 10^36, pool indices over 10^27. */
const WEIGHTED = 1e36;
const RAY_FLOAT = 1e27;

/**
 * Derivatives in the sums' unit: one quote unit of value at weight 1 is a weighted numerator of
 * 10^NORM_DECIMALS × PRICE_SCALE × WEIGHT_SCALE (an asset's per-unit factor), over WEIGHTED.
 */
const QUOTE = Number(pow10(NORM_DECIMALS) * PRICE_SCALE * WEIGHT_SCALE) / WEIGHTED;
/** A mark or index (PRICE_SCALE) to the sums' unit per unit of the underlying. */
const PRICE_TO_FLOAT = QUOTE / Number(PRICE_SCALE);
/** A funding index (numerator per size unit) to the sums' unit per unit of the underlying. */
const FUNDING_TO_FLOAT = (QUOTE * Number(SIZE_UNIT)) / Number(VALUE_UNIT);
/** A value numerator (over VALUE_UNIT) to the sums' unit. */
const VALUE_TO_FLOAT = QUOTE / Number(VALUE_UNIT);
const SIZE_FLOAT = Number(SIZE_UNIT);
const WEIGHT_FLOAT = Number(WEIGHT_SCALE);
/** Unsettled profit counts at the default profit weights (`engine/draft.ts`). */
const UNSETTLED_WEIGHT = Number(DEFAULT_PROFIT_WEIGHT.maintenance) / WEIGHT_FLOAT;
/** The price at which a requirement is split into its mark and index parts (10^9 quote). */
const REFERENCE_PRICE = PRICE_SCALE * 10n ** 9n;
/** Floats per position record: size, k, mark coefficient, index coefficient. */
const RECORD = 4;
/** Per book: floats P, Q, M and unsettled profit; ints first record and `packed`. */
const SUMS = 4;
const INFO = 2;
/** `packed`: records used (low 16 bits), records reserved (high 16). */
const COUNT_MASK = 0xffff;
const CAPACITY_SHIFT = 16;

/** A value (VALUE_SCALE numerator times the norm factor) to quote units. */
const VALUE_FLOAT = Number(pow10(NORM_DECIMALS)) * 1e18;
/** Resolution of a stress move: the price is multiplied by round((1 + move) × 10^9) / 10^9. */
const MOVE_SCALE = 1_000_000_000;

/** One move of {@link LiquidationMonitor.stressEstimate}. */
export interface StressCell {
  /** The relative move, as asked (-0.5 for -50%). */
  readonly move: number;
  /** Sub-accounts whose maintenance health would be below 1 after the move alone. */
  readonly liquidatable: number;
  /** What they would owe in full (unweighted debts at the oracle price), in quote units. */
  readonly debtValue: number;
}

/** What one stress call shares between its moves (made once per call, never per holder). */
interface StressContext {
  readonly asset: number;
  /** Per slot: unweighted debt at the current prices, in quote units. */
  readonly debts: Float64Array;
  /** Per slot: the number (from 1) of the move that last judged it. */
  readonly stamps: Int32Array;
  /** Instruments on the asset, and the mark and index floats with theirs moved. */
  readonly affected: readonly number[];
  readonly marks: number[];
  readonly indices: number[];
  /** The count and debt of the liquidatable slots now. */
  readonly count: number;
  readonly debt: number;
}

/** One move's figures: factor and debt changes, and the exact check of a slot under it. */
interface StressMove {
  readonly stamp: number;
  readonly dC: number;
  readonly dL: number;
  readonly dDebt: number;
  /** The exact liability value (quote units) if the slot falls below maintenance, else -1. */
  readonly exact: (slot: number) => number;
}

/** The holders of one asset: slot, the slot's version when written, and the scaled balance. */
interface Column {
  slots: Int32Array;
  versions: Int32Array;
  scaled: Float64Array;
  length: number;
  /** Length after the last compaction: the column is compacted when it doubles. */
  compacted: number;
}

/** The holders of one instrument: slot and the slot's version when written. */
interface Holders {
  slots: Int32Array;
  versions: Int32Array;
  length: number;
  compacted: number;
}

/** The inputs an asset's factors were last computed from, and its deferred move. */
interface SeenAsset {
  readonly risk: AssetRisk;
  readonly at: number;
  readonly accruedAt: number;
  readonly supplyIndexRay: bigint;
  readonly borrowIndexRay: bigint;
  /** Value of one base unit (in the sums' unit), the larger of the two sides. */
  readonly perUnit: number;
  /** Relative move of the factors not yet swept into the sums. */
  move: number;
}

/** The inputs an instrument's floats were last computed from. */
interface SeenInstrument {
  readonly listing: InstrumentListing;
  readonly mark: bigint;
  readonly fundingIndex: bigint;
  /** The underlying's oracle price: the index. */
  readonly index: bigint;
}

/** What one refresh found. */
export interface MonitorScan {
  /** Sub-accounts that became liquidatable. */
  readonly liquidatable: SubAccountRef[];
  /** Sub-accounts that are no longer liquidatable. */
  readonly recovered: SubAccountRef[];
  /** Slots judged, and how many of them needed the exact check. */
  readonly judged: number;
  readonly confirmed: number;
  /** Assets swept (their move was at least the sweep threshold). */
  readonly swept: number;
  /** Instruments whose holders were recomputed (a mark, funding or index moved). */
  readonly sweptInstruments: number;
}

/**
 * The set of liquidatable sub-accounts of one engine state, kept up to date command by command:
 * build it on the state, pass it every command's result (`observe`), and it answers with the
 * sub-accounts that fell below maintenance and those that recovered; `liquidatable()` lists
 * them all. Its set is always the one a full exact scan would find.
 *
 * @example
 * import { Engine, LiquidationMonitor } from 'fulcrum';
 *
 * const engine = new Engine();
 * const listing = (symbol, decimals, initialWeight, maintenanceWeight) => ({
 *   symbol,
 *   decimals,
 *   initialWeight,
 *   maintenanceWeight,
 * });
 * engine.applyJson({ type: 'list-asset', time: 0, price: '1', config: listing('USDC', 6, '0.85', '0.875') });
 * engine.applyJson({ type: 'list-asset', time: 0, price: '2000', config: listing('ETH', 18, '0.8', '0.825') });
 * engine.applyJson({ type: 'deposit', time: 1, account: 'lena', asset: 'USDC', amount: '100000' });
 * engine.applyJson({ type: 'deposit', time: 1, account: 'alice', asset: 'ETH', amount: '10' });
 * engine.applyJson({ type: 'borrow', time: 2, account: 'alice', asset: 'USDC', amount: '12000' });
 *
 * const monitor = new LiquidationMonitor(engine.state);
 * const named = (refs) => refs.map((ref) => `${ref.account}/${ref.subAccount}`).join(' ');
 * const fall = engine.applyJson({ type: 'set-price', time: 3, asset: 'ETH', price: '1400' });
 * console.log(named(monitor.observe(fall).liquidatable), monitor.count);
 * // → alice/0 1
 * const liquidated = engine.applyJson({
 *   type: 'liquidate',
 *   time: 4,
 *   liquidator: { account: 'lena' },
 *   target: { account: 'alice' },
 *   debtAsset: 'USDC',
 *   collateralAsset: 'ETH',
 *   amount: 'max',
 * });
 * console.log(named(monitor.observe(liquidated).recovered), monitor.count);
 * // → alice/0 0
 */
export class LiquidationMonitor {
  private readonly state: EngineState;
  private time: number;
  /** Slot sums, STRIDE float64 each, and slot meta. */
  private data = new Float64Array(0);
  private meta = new Int32Array(0);
  private slotCount = 0;
  private readonly slotAccount: string[] = [];
  private slotNumber = new Uint8Array(0);
  /** `account` for sub-account 0, `account/n` otherwise. */
  private readonly slotOf = new Map<string, number>();
  private readonly columns: Column[] = [];
  /** Per asset: the factors the sums hold, the current ones, and those at the last rebuild. */
  private readonly appliedC: number[] = [];
  private readonly appliedL: number[] = [];
  private readonly rebuiltC: number[] = [];
  private readonly rebuiltL: number[] = [];
  private sweepsSinceRebuild = 0;
  /** Largest deferred relative move of any asset's factors. */
  private pending = 0;
  /** An absolute band: one base unit of the dearest asset, per possible position. */
  private absoluteBand = 0;
  private readonly near = new Set<number>();
  private liquidatableCount = 0;
  /** What each asset's factors were computed from, to skip assets that did not change. */
  private readonly seen: SeenAsset[] = [];
  private lastSwept = 0;
  private lastSweptInstruments = 0;

  // Books. A slot keeps its book number once it has one; the arrays are made when the first
  // sub-account with derivatives is read, so that a state of balances only pays nothing for them.
  /** Per slot: its book, -1 for none. */
  private bookOf = new Int32Array(0);
  private bookCount = 0;
  /** Per book: P, Q, M and the unsettled profit, in the sums' unit. */
  private bookSums = new Float64Array(0);
  /** Per book: first position record and `packed` (see INFO). */
  private bookInfo = new Int32Array(0);
  /** The slots judged exactly, never on floats (portfolio mode). */
  private readonly exactSlots = new Set<number>();
  /** Position records: instrument, and RECORD floats each. */
  private recordInstrument = new Int32Array(0);
  private records = new Float64Array(0);
  private recordCount = 0;

  // Instruments.
  private readonly holders: Holders[] = [];
  private readonly seenInstruments: SeenInstrument[] = [];
  /** Per instrument, in the sums' unit per unit of the underlying: mark, funding, index. */
  private readonly markF: number[] = [];
  private readonly fundingF: number[] = [];
  private readonly indexF: number[] = [];
  /** Maintenance weight of positive profit. */
  private readonly weightF: number[] = [];
  /** Whether a position's requirement on it reads the index (its holders move with it). */
  private readonly readsIndex: boolean[] = [];

  // Per-refresh bookkeeping.
  /** Slots whose verdict changed during this refresh (each once: see FLIPPED). */
  private flipped = new Int32Array(1024);
  private flippedCount = 0;
  private judged = 0;
  private confirmed = 0;
  /** Scratch for a book's P, Q and M. */
  private readonly terms = new Float64Array(3);

  /** Indexes every sub-account of `state`, judged at `time` (default: the state's time). */
  constructor(state: EngineState, time: number = state.time) {
    this.state = state;
    this.time = Math.max(time, state.time);
    this.sync();
    this.grow(state.accounts.size + 16);
    for (const account of state.accounts.values()) {
      for (const sub of account.subAccounts) {
        this.index({ account: account.id, subAccount: sub.number });
      }
    }
    this.flippedCount = 0;
    for (let slot = 0; slot < this.slotCount; slot++) {
      this.meta[slot] = (this.meta[slot] as number) & ~(FLIPPED | WAS);
    }
  }

  /** Number of sub-accounts indexed. */
  get size(): number {
    return this.slotCount;
  }

  /** Number of sub-accounts liquidatable now. */
  get count(): number {
    return this.liquidatableCount;
  }

  /**
   * Follows one command result: re-prices every asset and instrument at the command's time,
   * then re-reads the sub-accounts it changed. What moved is read from the state, not from the
   * events: an asset's price or pool, an instrument's mark (`set-price` and `quote` on its
   * symbol), funding index (`settle-funding`), listing, or its underlying's price; a fill, a
   * takeover or an expiry changes the positions of the sub-accounts it touches. Refused commands
   * change nothing and are ignored.
   */
  observe(result: CommandResult): MonitorScan {
    this.begin();
    if (!result.ok) return this.finish();
    this.time = Math.max(result.time, this.state.time);
    this.sync();
    for (const ref of result.touched) this.index(ref);
    return this.finish();
  }

  /** Re-prices every asset at `time` (default: the state's time) and re-judges what moved. */
  refresh(time: number = this.state.time): MonitorScan {
    this.begin();
    this.time = Math.max(time, this.state.time);
    this.sync();
    return this.finish();
  }

  /** Re-reads sub-accounts whose holdings changed outside {@link observe}, and re-prices. */
  update(refs: readonly SubAccountRef[]): MonitorScan {
    this.begin();
    this.sync();
    for (const ref of refs) this.index(ref);
    return this.finish();
  }

  /** Every sub-account liquidatable now, in no particular order. */
  liquidatable(): SubAccountRef[] {
    const out: SubAccountRef[] = [];
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (this.status(slot)) out.push(this.ref(slot));
    }
    return out;
  }

  /** Whether one sub-account is liquidatable now, by the monitor's index. */
  isLiquidatable(ref: SubAccountRef): boolean {
    const slot = this.slotOf.get(keyOf(ref));
    return slot !== undefined && this.status(slot);
  }

  /**
   * The slot number of a sub-account the monitor has seen, for {@link healthEstimate}; -1 if
   * none. A slot stays the sub-account's for the monitor's life.
   */
  slotOfRef(ref: SubAccountRef): number {
    return this.slotOf.get(keyOf(ref)) ?? -1;
  }

  /** The sub-account of a slot (0 to {@link size} - 1), for ranking by {@link healthEstimate}. */
  refOfSlot(slot: number): SubAccountRef {
    if (slot < 0 || slot >= this.slotCount) throw new RangeError(`no slot ${slot}`);
    return this.ref(slot);
  }

  /**
   * The float estimate of a slot's maintenance health, (C + P) / (L + Q) (Infinity without
   * liabilities): within the error band and any deferred small move of the exact health. For
   * ranking and screening; decisions that move value use the engine's exact health.
   */
  healthEstimate(slot: number): number {
    if (slot < 0 || slot >= this.slotCount) return Number.POSITIVE_INFINITY;
    let c = this.data[slot * STRIDE] as number;
    let l = this.data[slot * STRIDE + 1] as number;
    if (((this.meta[slot] as number) & BOOK) !== 0) {
      const o = (this.bookOf[slot] as number) * SUMS;
      c += this.bookSums[o] as number;
      l += this.bookSums[o + 1] as number;
    }
    return l > 0 ? c / l : Number.POSITIVE_INFINITY;
  }

  /**
   * An estimate, changing nothing, of what each relative move of `asset`'s price alone (-0.5 for
   * -50%; applied as `shockOf` does, to its oracle and stable prices, and to the marks of the
   * instruments on it, whose index is its price; a price is multiplied by (1 + move) to 10^-9,
   * rounded down) would leave below maintenance: per move, the number of sub-accounts whose
   * health would be below 1 and what they would owe in full, in quote units.
   *
   * One pass over the asset's column per move, as {@link sweep} makes: each holder's C or L moves
   * by its scaled balance times the change of the asset's factor. The holders of the asset's
   * instruments have their book recomputed at the moved mark and index (one pass over each such
   * instrument's holders). Every other sub-account keeps its present verdict. Verdicts are taken
   * on the floats, within the monitor's band, and confirmed with the engine's exact health under
   * the move only inside it (and for portfolio-mode books, always). The debt is a float sum of
   * the debts at the oracle price (the exact figure rounds each debt up to a base unit). Before
   * the moves, one pass over every column reads each sub-account's debt. Scratch arrays are made
   * per call, nothing per holder.
   */
  stressEstimate(asset: number, moves: readonly number[]): StressCell[] {
    const listed = this.state.assets[asset];
    if (listed === undefined || this.columns[asset] === undefined) {
      throw new RangeError(`no asset ${asset} in the monitor`);
    }
    const debts = this.debtsBySlot();
    let debt = 0;
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (this.status(slot)) debt += debts[slot] as number;
    }
    const context: StressContext = {
      asset,
      debts,
      stamps: new Int32Array(this.slotCount),
      affected: (this.state.instrumentsByAsset.get(asset) ?? []).filter(
        (i) => this.holders[i] !== undefined && this.markF[i] !== undefined,
      ),
      marks: this.markF.slice(),
      indices: this.indexF.slice(),
      count: this.liquidatableCount,
      debt,
    };
    return moves.map((move, k) => {
      if (!Number.isFinite(move) || move <= -1) throw new RangeError(`bad move ${move}`);
      const stressed = this.stressMove(context, move, k + 1);
      return { move, ...stressed };
    });
  }

  /** Each slot's unweighted debt at the oracle prices, in quote units: one pass per column. */
  private debtsBySlot(): Float64Array {
    const debts = new Float64Array(this.slotCount);
    const metas = this.meta;
    this.columns.forEach((column, a) => {
      const listed = this.state.assets[a];
      if (listed === undefined) return;
      const pool = poolAt(listed.pool, listed, this.time);
      const perScaled = debtPerScaled(pool, listed.risk);
      for (let i = 0; i < column.length; i++) {
        const slot = column.slots[i] as number;
        const s = column.scaled[i] as number;
        if (s >= 0 || (metas[slot] as number) >>> VERSION_SHIFT !== column.versions[i]) continue;
        debts[slot] = (debts[slot] as number) - s * perScaled;
      }
    });
    return debts;
  }

  /** The figures of one move: the asset's factors and its instruments' floats moved. */
  private stressMove(context: StressContext, move: number, stamp: number) {
    const { asset, affected, marks, indices } = context;
    const listed = this.state.assets[asset] as EngineState['assets'][number];
    const ratio = BigInt(Math.round((1 + move) * MOVE_SCALE));
    const moved = (price: bigint) => {
      const next = (price * ratio) / BigInt(MOVE_SCALE);
      return next > 0n ? next : 1n;
    };
    const { risk } = listed;
    const shocked = assetRisk(
      listed.config,
      moved(risk.oraclePrice),
      moved(risk.stablePrice),
      risk.confidence,
    );
    const pool = poolAt(listed.pool, listed, this.time);
    const c =
      (Number(shocked.collateralPerUnit[2]) / WEIGHTED) * (Number(pool.supplyIndexRay) / RAY_FLOAT);
    const l =
      (Number(shocked.liabilityPerUnit[2]) / WEIGHTED) * (Number(pool.borrowIndexRay) / RAY_FLOAT);
    const instruments: InstrumentState[] = [];
    for (const i of affected) {
      const instrument = this.state.instruments[i] as InstrumentState;
      const mark = moved(instrument.mark);
      instruments.push({ ...instrument, mark });
      marks[i] = Number(mark) * PRICE_TO_FLOAT;
      indices[i] = Number(shocked.oraclePrice) * PRICE_TO_FLOAT;
    }
    const shockedAsset = { ...listed, risk: shocked };
    const exact = (slot: number): number => {
      const draft = new Draft(this.state, this.time);
      draft.setAsset(shockedAsset);
      for (const instrument of instruments) draft.setInstrument(instrument);
      const health = draft.health(this.ref(slot));
      return health.meets('maintenance') ? -1 : Number(health.liabilityValue) / 1e18;
    };
    const figures: StressMove = {
      stamp,
      dC: c - (this.appliedC[asset] as number),
      dL: l - (this.appliedL[asset] as number),
      dDebt: debtPerScaled(pool, shocked) - debtPerScaled(pool, risk),
      exact,
    };
    return this.stressPass(context, figures);
  }

  /**
   * One move: the asset's holders, then the holders of its instruments not already judged,
   * each judged under the move in place of its present verdict.
   */
  private stressPass(
    context: StressContext,
    move: StressMove,
  ): { liquidatable: number; debtValue: number } {
    const { debts, stamps } = context;
    const column = this.columns[context.asset] as Column;
    const metas = this.meta;
    const total = { count: context.count, debt: context.debt };
    for (let i = 0; i < column.length; i++) {
      const slot = column.slots[i] as number;
      if ((metas[slot] as number) >>> VERSION_SHIFT !== (column.versions[i] as number)) continue;
      const s = column.scaled[i] as number;
      stamps[slot] = move.stamp;
      const debt = (debts[slot] as number) - (s < 0 ? s * move.dDebt : 0);
      this.stressJudge(
        context,
        move,
        slot,
        s > 0 ? s * move.dC : 0,
        s < 0 ? -s * move.dL : 0,
        debt,
        total,
      );
    }
    for (const instrument of context.affected) {
      const holders = this.holders[instrument] as Holders;
      for (let i = 0; i < holders.length; i++) {
        const slot = holders.slots[i] as number;
        const meta = metas[slot] as number;
        if (meta >>> VERSION_SHIFT !== (holders.versions[i] as number) || (meta & BOOK) === 0) {
          continue;
        }
        if (stamps[slot] === move.stamp) continue;
        stamps[slot] = move.stamp;
        this.stressJudge(context, move, slot, 0, 0, debts[slot] as number, total);
      }
    }
    return { liquidatable: total.count, debtValue: total.debt };
  }

  /** Replaces one slot's present verdict in `total` by its verdict under the move. */
  private stressJudge(
    context: StressContext,
    move: StressMove,
    slot: number,
    dC: number,
    dL: number,
    debt: number,
    total: { count: number; debt: number },
  ): void {
    const meta = this.meta[slot] as number;
    if ((meta & LIQUIDATABLE) !== 0) {
      total.count--;
      total.debt -= context.debts[slot] as number;
    }
    let owed = -1;
    if ((meta & EXACT) !== 0) {
      owed = move.exact(slot);
    } else {
      const o = slot * STRIDE;
      let c = (this.data[o] as number) + dC;
      let l = (this.data[o + 1] as number) + dL;
      let size = c + l;
      if ((meta & BOOK) !== 0) {
        const terms = this.terms;
        this.bookTerms(this.bookOf[slot] as number, context.marks, context.indices, terms);
        c += terms[0] as number;
        l += terms[1] as number;
        size += terms[2] as number;
      }
      if (l > 0) {
        const diff = c - l;
        const band = (FLOAT_BAND + 2 * this.pending) * size + this.absoluteBand;
        if (diff < -band) owed = debt;
        else if (diff <= band) owed = move.exact(slot);
      }
    }
    if (owed >= 0) {
      total.count++;
      total.debt += owed;
    }
  }

  /** Bytes the index holds in typed arrays (the slot map and names aside). */
  get arrayBytes(): number {
    let bytes = this.data.byteLength + this.meta.byteLength + this.slotNumber.byteLength;
    for (const column of this.columns) {
      bytes += column.slots.byteLength + column.versions.byteLength + column.scaled.byteLength;
    }
    bytes += this.bookSums.byteLength + this.bookInfo.byteLength + this.bookOf.byteLength;
    bytes += this.recordInstrument.byteLength;
    bytes += this.records.byteLength;
    for (const column of this.holders) {
      bytes += column.slots.byteLength + column.versions.byteLength;
    }
    return bytes;
  }

  private begin(): void {
    this.flippedCount = 0;
    this.judged = 0;
    this.confirmed = 0;
  }

  private finish(): MonitorScan {
    const swept = this.lastSwept;
    const sweptInstruments = this.lastSweptInstruments;
    const liquidatable: SubAccountRef[] = [];
    const recovered: SubAccountRef[] = [];
    for (let i = 0; i < this.flippedCount; i++) {
      const slot = this.flipped[i] as number;
      const meta = this.meta[slot] as number;
      this.meta[slot] = meta & ~(FLIPPED | WAS);
      const now = (meta & LIQUIDATABLE) !== 0;
      if (now === ((meta & WAS) !== 0)) continue;
      (now ? liquidatable : recovered).push(this.ref(slot));
    }
    this.flippedCount = 0;
    this.lastSwept = 0;
    this.lastSweptInstruments = 0;
    return {
      liquidatable,
      recovered,
      judged: this.judged,
      confirmed: this.confirmed,
      swept,
      sweptInstruments,
    };
  }

  /**
   * Brings every asset's factors and every instrument's floats to the state at `this.time`, and
   * re-judges what moved: the books of instruments that moved are recomputed first, then asset
   * moves are swept (or deferred), then the holders of the instruments are judged, so that no
   * slot is judged on a mix of old and new figures it would then have to be confirmed on.
   */
  private sync(): void {
    const instruments = this.syncInstruments();
    const assets = this.syncAssets();
    this.lastSweptInstruments = instruments.length;
    if (assets === null) {
      // Only instruments moved: one pass per column, recomputing and judging.
      for (const instrument of instruments) this.sweepInstrument(instrument, true);
    } else {
      for (const instrument of instruments) this.sweepInstrument(instrument, false);
      if (assets.rebuild) {
        this.rebuild();
      } else {
        for (const { asset, dC, dL } of assets.sweeps) this.sweep(asset, dC, dL);
        for (const instrument of instruments) this.judgeHolders(instrument);
      }
    }
    // Deferred moves: only the slots near the threshold can have crossed it.
    if (this.pending > 0) for (const slot of [...this.near]) this.judge(slot);
    for (const slot of this.exactSlots) this.judge(slot);
  }

  /**
   * Reads every instrument: a new listing gets its column; one whose mark, funding index or
   * listing changed, or whose underlying's price changed while a requirement on it reads the
   * index, is returned to be swept. Its floats are brought up to date either way.
   */
  private syncInstruments(): number[] {
    const moved: number[] = [];
    const { instruments, assets } = this.state;
    for (let i = 0; i < instruments.length; i++) {
      const instrument = instruments[i];
      if (instrument === undefined) continue;
      const index = assets[instrument.underlying]?.risk.oraclePrice ?? 0n;
      const seen = this.seenInstruments[i];
      if (
        seen !== undefined &&
        seen.mark === instrument.mark &&
        seen.fundingIndex === instrument.fundingIndex &&
        seen.listing === instrument.listing &&
        seen.index === index
      ) {
        continue;
      }
      this.seenInstruments[i] = {
        listing: instrument.listing,
        mark: instrument.mark,
        fundingIndex: instrument.fundingIndex,
        index,
      };
      this.setInstrumentFloats(i, instrument, index);
      if (seen === undefined) {
        while (this.holders.length <= i) {
          this.holders.push(newHolders());
          this.readsIndex.push(false);
        }
        continue;
      }
      const own =
        seen.mark !== instrument.mark ||
        seen.fundingIndex !== instrument.fundingIndex ||
        seen.listing !== instrument.listing;
      if (own || this.readsIndex[i] === true) moved.push(i);
    }
    return moved;
  }

  private setInstrumentFloats(i: number, instrument: InstrumentState, index: bigint): void {
    while (this.markF.length <= i) {
      this.markF.push(0);
      this.fundingF.push(0);
      this.indexF.push(0);
      this.weightF.push(0);
    }
    this.markF[i] = Number(instrument.mark) * PRICE_TO_FLOAT;
    this.fundingF[i] = Number(instrument.fundingIndex) * FUNDING_TO_FLOAT;
    this.indexF[i] = Number(index) * PRICE_TO_FLOAT;
    this.weightF[i] = Number(instrument.listing.profitWeight.maintenance) / WEIGHT_FLOAT;
  }

  /**
   * Brings every asset's factors to the current prices and indices at `this.time`: moves of at
   * least the sweep threshold are returned to be swept into the sums (with whether the sums are
   * to be rebuilt instead), smaller ones are deferred. Null when nothing is to be swept.
   */
  private syncAssets(): {
    sweeps: { asset: number; dC: number; dL: number }[];
    rebuild: boolean;
  } | null {
    const assets = this.state.assets;
    const sweeps: { asset: number; dC: number; dL: number }[] = [];
    let rebuild = false;
    for (let a = 0; a < assets.length; a++) {
      const asset = assets[a];
      if (asset === undefined) continue;
      const seen = this.seen[a];
      const { pool, risk } = asset;
      const at = Math.max(pool.accruedAt, this.time);
      if (
        seen !== undefined &&
        seen.risk === risk &&
        seen.at === at &&
        seen.accruedAt === pool.accruedAt &&
        seen.supplyIndexRay === pool.supplyIndexRay &&
        seen.borrowIndexRay === pool.borrowIndexRay
      ) {
        continue;
      }
      const current = poolAt(pool, asset, this.time);
      const perUnitC = Number(risk.collateralPerUnit[2]) / WEIGHTED;
      const perUnitL = Number(risk.liabilityPerUnit[2]) / WEIGHTED;
      const c = perUnitC * (Number(current.supplyIndexRay) / RAY_FLOAT);
      const l = perUnitL * (Number(current.borrowIndexRay) / RAY_FLOAT);
      this.seen[a] = {
        risk,
        at,
        accruedAt: pool.accruedAt,
        supplyIndexRay: pool.supplyIndexRay,
        borrowIndexRay: pool.borrowIndexRay,
        perUnit: Math.max(perUnitC, perUnitL),
        move: 0,
      };
      if (a >= this.columns.length) {
        this.columns.push(newColumn());
        this.appliedC.push(c);
        this.appliedL.push(l);
        this.rebuiltC.push(c);
        this.rebuiltL.push(l);
        continue;
      }
      const oldC = this.appliedC[a] as number;
      const oldL = this.appliedL[a] as number;
      const move = Math.max(relative(c, oldC), relative(l, oldL));
      if (move < SWEEP_THRESHOLD) {
        (this.seen[a] as SeenAsset).move = move;
        continue;
      }
      sweeps.push({ asset: a, dC: c - oldC, dL: l - oldL });
      this.appliedC[a] = c;
      this.appliedL[a] = l;
      if (outside(c, this.rebuiltC[a] as number) || outside(l, this.rebuiltL[a] as number)) {
        rebuild = true;
      }
    }
    let pending = 0;
    let dearest = 0;
    for (const seen of this.seen) {
      pending = Math.max(pending, seen.move);
      dearest = Math.max(dearest, seen.perUnit);
    }
    this.absoluteBand = 32 * dearest;
    this.pending = pending;
    this.lastSwept = sweeps.length;
    if (sweeps.length === 0) return null;
    this.sweepsSinceRebuild += sweeps.length;
    return { sweeps, rebuild: rebuild || this.sweepsSinceRebuild >= REBUILD_SWEEPS };
  }

  /**
   * Moves every holder of `asset` by its balance times the factor change, and judges it. The
   * hot loop of the monitor: the judgment of {@link judge} is written out here, and only a slot
   * whose verdict changes leaves the loop (and a slot with a book, for its figures).
   */
  private sweep(asset: number, dC: number, dL: number): void {
    const column = this.columns[asset];
    if (column === undefined) return;
    const { slots, versions, scaled, length } = column;
    const data = this.data;
    const metas = this.meta;
    const sums = this.bookSums;
    const bookOf = this.bookOf;
    const relativeBand = FLOAT_BAND + 2 * this.pending;
    const absoluteBand = this.absoluteBand;
    let stale = 0;
    for (let i = 0; i < length; i++) {
      const slot = slots[i] as number;
      const meta = metas[slot] as number;
      if (meta >>> VERSION_SHIFT !== (versions[i] as number)) {
        stale++;
        continue;
      }
      const s = scaled[i] as number;
      const o = slot * STRIDE;
      let c = data[o] as number;
      let l = data[o + 1] as number;
      if (s > 0) data[o] = c += s * dC;
      else data[o + 1] = l -= s * dL;
      let flags = 0;
      let size = c + l;
      if ((meta & BOOK) !== 0) {
        if ((meta & EXACT) !== 0) {
          flags = this.exact(slot) ? LIQUIDATABLE : 0;
          if (flags !== (meta & (NEAR | LIQUIDATABLE))) this.settle(slot, meta, flags);
          continue;
        }
        const b = (bookOf[slot] as number) * SUMS;
        c += sums[b] as number;
        l += sums[b + 1] as number;
        size += sums[b + 2] as number;
      }
      if (l > 0) {
        const diff = c - l;
        const band = relativeBand * size + absoluteBand;
        if (diff < -band || (diff <= band && this.exact(slot))) flags = LIQUIDATABLE;
        if (Math.abs(diff) <= NEAR_BAND * size + absoluteBand) flags |= NEAR;
      }
      if (flags !== (meta & (NEAR | LIQUIDATABLE))) this.settle(slot, meta, flags);
    }
    this.judged += length - stale;
    if (stale * 2 > length) this.compact(column);
  }

  /**
   * Recomputes the book of every holder of `instrument` at its new floats, and judges the slot
   * when `judge` is set (else {@link judgeHolders} does, once the balances are swept too).
   */
  private sweepInstrument(instrument: number, judge: boolean): void {
    const column = this.holders[instrument];
    if (column === undefined) return;
    const { slots, versions, length } = column;
    const metas = this.meta;
    const data = this.data;
    const sums = this.bookSums;
    const bookOf = this.bookOf;
    const relativeBand = FLOAT_BAND + 2 * this.pending;
    const absoluteBand = this.absoluteBand;
    let stale = 0;
    for (let i = 0; i < length; i++) {
      const slot = slots[i] as number;
      const meta = metas[slot] as number;
      if (meta >>> VERSION_SHIFT !== (versions[i] as number) || (meta & BOOK) === 0) {
        stale++;
        continue;
      }
      const book = bookOf[slot] as number;
      this.computeBook(book);
      if (!judge) continue;
      // The judgment of {@link judge}, written out as in {@link sweep}.
      let flags = 0;
      if ((meta & EXACT) !== 0) {
        flags = this.exact(slot) ? LIQUIDATABLE : 0;
      } else {
        const o = slot * STRIDE;
        const b = book * SUMS;
        const l = (data[o + 1] as number) + (sums[b + 1] as number);
        if (l > 0) {
          const c = (data[o] as number) + (sums[b] as number);
          const size = (data[o] as number) + (data[o + 1] as number) + (sums[b + 2] as number);
          const diff = c - l;
          const band = relativeBand * size + absoluteBand;
          if (diff < -band || (diff <= band && this.exact(slot))) flags = LIQUIDATABLE;
          if (Math.abs(diff) <= NEAR_BAND * size + absoluteBand) flags |= NEAR;
        }
      }
      if (flags !== (meta & (NEAR | LIQUIDATABLE))) this.settle(slot, meta, flags);
    }
    if (judge) this.judged += length - stale;
    if (stale * 2 > length) compactHolders(column, metas);
  }

  /** Judges every current holder of `instrument`. */
  private judgeHolders(instrument: number): void {
    const column = this.holders[instrument];
    if (column === undefined) return;
    for (let i = 0; i < column.length; i++) {
      const slot = column.slots[i] as number;
      const meta = this.meta[slot] as number;
      if (meta >>> VERSION_SHIFT === (column.versions[i] as number)) this.judge(slot);
    }
  }

  /** Recomputes every sum from the columns at the applied factors, and judges every slot. */
  private rebuild(): void {
    const data = this.data;
    for (let slot = 0; slot < this.slotCount; slot++) {
      data[slot * STRIDE] = 0;
      data[slot * STRIDE + 1] = 0;
    }
    this.columns.forEach((column, asset) => {
      this.compact(column);
      const c = this.appliedC[asset] as number;
      const l = this.appliedL[asset] as number;
      for (let i = 0; i < column.length; i++) {
        const o = (column.slots[i] as number) * STRIDE;
        const s = column.scaled[i] as number;
        if (s > 0) data[o] = (data[o] as number) + s * c;
        else data[o + 1] = (data[o + 1] as number) - s * l;
      }
      this.rebuiltC[asset] = c;
      this.rebuiltL[asset] = l;
    });
    this.sweepsSinceRebuild = 0;
    for (let slot = 0; slot < this.slotCount; slot++) this.judge(slot);
  }

  /** Re-reads one sub-account from the state: new version, fresh column entries, fresh sums. */
  private index(ref: SubAccountRef): void {
    const key = keyOf(ref);
    let slot = this.slotOf.get(key);
    if (slot === undefined) {
      slot = this.slotCount++;
      this.grow(this.slotCount);
      this.slotOf.set(key, slot);
      this.slotAccount[slot] = ref.account;
      this.slotNumber[slot] = ref.subAccount;
    }
    const o = slot * STRIDE;
    const meta = this.meta[slot] as number;
    const version = ((meta >>> VERSION_SHIFT) + 1) & VERSION_MASK;
    if (version === 0) this.forget(slot);
    const sub = findSubAccount(this.state.accounts.get(ref.account), ref.subAccount);
    const book = sub?.derivatives;
    const hasBook =
      book !== undefined &&
      (book.positions.length > 0 || book.unsettled !== 0n || book.mode === 'portfolio');
    const exact = hasBook && book.mode === 'portfolio';
    this.meta[slot] =
      (version << VERSION_SHIFT) |
      (meta & (FLAGS & ~(BOOK | EXACT))) |
      (hasBook ? BOOK : 0) |
      (exact ? EXACT : 0);
    let c = 0;
    let l = 0;
    for (const { asset, scaled } of sub?.positions ?? []) {
      const s = Number(scaled);
      if (s > 0) c += s * (this.appliedC[asset] as number);
      else l -= s * (this.appliedL[asset] as number);
      const column = this.columns[asset] as Column;
      append(column, slot, version, s);
      if (column.length > 2 * column.compacted + 1024) this.compact(column);
    }
    this.data[o] = c;
    this.data[o + 1] = l;
    if (hasBook) {
      this.indexBook(slot, version, book);
    } else {
      this.exactSlots.delete(slot);
    }
    this.judge(slot);
  }

  /** Reads a sub-account's derivatives into its book, and lists it with each instrument. */
  private indexBook(slot: number, version: number, book: DerivativesBook): void {
    if (this.bookOf.length === 0) this.bookOf = new Int32Array(this.meta.length).fill(-1);
    let b = this.bookOf[slot] as number;
    if (b < 0) {
      b = this.bookCount++;
      this.bookOf[slot] = b;
      if (this.bookCount * INFO > this.bookInfo.length) {
        const capacity = Math.max(1024, this.bookCount * 2);
        this.bookSums = grownFloat(this.bookSums, capacity * SUMS);
        this.bookInfo = grownInt(this.bookInfo, capacity * INFO);
      }
    }
    const { positions } = book;
    const at = b * INFO;
    let start = this.bookInfo[at] as number;
    let capacity = ((this.bookInfo[at + 1] as number) >>> CAPACITY_SHIFT) & COUNT_MASK;
    if (positions.length > capacity) {
      // A book's records move to the end when it outgrows them; capacities double, so the
      // space left behind stays within the book's own size.
      capacity = Math.max(positions.length, 2 * capacity);
      start = this.reserveRecords(capacity);
    }
    this.bookInfo[at] = start;
    this.bookInfo[at + 1] = positions.length | (capacity << CAPACITY_SHIFT);
    this.bookSums[b * SUMS + 3] = Number(book.unsettled) * VALUE_TO_FLOAT;
    const { instruments } = this.state;
    for (let j = 0; j < positions.length; j++) {
      const position = positions[j] as DerivativePosition;
      const i = position.instrument;
      const spec = (instruments[i] as InstrumentState).listing.spec;
      const [a, x] = requirementCoefficients(spec, position.size);
      const r = start + j;
      this.recordInstrument[r] = i;
      const o = r * RECORD;
      this.records[o] = Number(position.size) / SIZE_FLOAT;
      this.records[o + 1] =
        Number(position.quote + position.size * position.funding) * VALUE_TO_FLOAT;
      this.records[o + 2] = a;
      this.records[o + 3] = x;
      if (x !== 0) this.readsIndex[i] = true;
      const column = this.holders[i] as Holders;
      appendHolder(column, slot, version);
      if (column.length > 2 * column.compacted + 1024) compactHolders(column, this.meta);
    }
    this.computeBook(b);
    if (book.mode === 'portfolio') this.exactSlots.add(slot);
    else this.exactSlots.delete(slot);
  }

  /** P, Q and M of a book at the instruments' current floats, from its positions. */
  private computeBook(book: number): void {
    const terms = this.terms;
    this.bookTerms(book, this.markF, this.indexF, terms);
    const s = book * SUMS;
    this.bookSums[s] = terms[0] as number;
    this.bookSums[s + 1] = terms[1] as number;
    this.bookSums[s + 2] = terms[2] as number;
  }

  /** P, Q and M of a book at the given marks and indices, into `out`; changes nothing else. */
  private bookTerms(
    book: number,
    marks: readonly number[],
    indices: readonly number[],
    out: Float64Array,
  ): void {
    const records = this.records;
    const instrumentOf = this.recordInstrument;
    const fundings = this.fundingF;
    const weights = this.weightF;
    const unsettled = this.bookSums[book * SUMS + 3] as number;
    let p = 0;
    let q = 0;
    let m = Math.abs(unsettled);
    if (unsettled > 0) p = unsettled * UNSETTLED_WEIGHT;
    else q = -unsettled;
    const start = this.bookInfo[book * INFO] as number;
    const end = start + ((this.bookInfo[book * INFO + 1] as number) & COUNT_MASK);
    for (let r = start; r < end; r++) {
      const i = instrumentOf[r] as number;
      const o = r * RECORD;
      const size = records[o] as number;
      const k = records[o + 1] as number;
      const mark = marks[i] as number;
      const funding = fundings[i] as number;
      const value = size * (mark - funding) + k;
      const abs = Math.abs(size);
      const requirement =
        abs *
        (mark * (records[o + 2] as number) + (indices[i] as number) * (records[o + 3] as number));
      if (value > 0) p += (weights[i] as number) * value;
      else q -= value;
      q += requirement;
      m += abs * (mark + Math.abs(funding)) + Math.abs(k) + requirement;
    }
    out[0] = p;
    out[1] = q;
    out[2] = m;
  }

  /** Judges one slot on its floats, confirming exactly inside the band. */
  private judge(slot: number): void {
    this.judged++;
    const data = this.data;
    const o = slot * STRIDE;
    let c = data[o] as number;
    let l = data[o + 1] as number;
    let size = c + l;
    const meta = this.meta[slot] as number;
    let flags = 0;
    if ((meta & EXACT) !== 0) {
      flags = this.exact(slot) ? LIQUIDATABLE : 0;
    } else {
      if ((meta & BOOK) !== 0) {
        // C + P against L + Q, in a band of the balances and the book's terms M.
        const b = (this.bookOf[slot] as number) * SUMS;
        c += this.bookSums[b] as number;
        l += this.bookSums[b + 1] as number;
        size += this.bookSums[b + 2] as number;
      }
      if (l > 0) {
        const diff = c - l;
        const band = (FLOAT_BAND + 2 * this.pending) * size + this.absoluteBand;
        if (diff < -band || (diff <= band && this.exact(slot))) flags = LIQUIDATABLE;
        if (Math.abs(diff) <= NEAR_BAND * size + this.absoluteBand) flags |= NEAR;
      }
    }
    if (flags !== (meta & (NEAR | LIQUIDATABLE))) this.settle(slot, meta, flags);
  }

  /** Records a slot's new verdict: the near set, the flips of this refresh, the count. */
  private settle(slot: number, meta: number, flags: number): void {
    const near = (flags & NEAR) !== 0;
    if (near !== ((meta & NEAR) !== 0)) {
      if (near) this.near.add(slot);
      else this.near.delete(slot);
    }
    let next = (meta & ~(NEAR | LIQUIDATABLE)) | flags;
    const liquidatable = (flags & LIQUIDATABLE) !== 0;
    if (liquidatable !== ((meta & LIQUIDATABLE) !== 0)) {
      this.liquidatableCount += liquidatable ? 1 : -1;
      if ((meta & FLIPPED) === 0) {
        next |= FLIPPED | (liquidatable ? 0 : WAS);
        if (this.flippedCount === this.flipped.length) {
          const grown = new Int32Array(this.flipped.length * 2);
          grown.set(this.flipped);
          this.flipped = grown;
        }
        this.flipped[this.flippedCount++] = slot;
      }
    }
    this.meta[slot] = next;
  }

  /** The engine's exact verdict: maintenance health below 1 at the monitor's time. */
  private exact(slot: number): boolean {
    this.confirmed++;
    return !new Draft(this.state, this.time).health(this.ref(slot)).meets('maintenance');
  }

  private status(slot: number): boolean {
    return ((this.meta[slot] as number) & LIQUIDATABLE) !== 0;
  }

  private ref(slot: number): SubAccountRef {
    return {
      account: this.slotAccount[slot] as string,
      subAccount: this.slotNumber[slot] as number,
    };
  }

  private grow(slots: number): void {
    if (slots * STRIDE <= this.data.length) return;
    const capacity = Math.max(slots, (this.data.length / STRIDE) * 2, 1024);
    const data = new Float64Array(capacity * STRIDE);
    data.set(this.data);
    this.data = data;
    const meta = new Int32Array(capacity);
    meta.set(this.meta);
    this.meta = meta;
    const numbers = new Uint8Array(capacity);
    numbers.set(this.slotNumber);
    this.slotNumber = numbers;
    if (this.bookOf.length > 0) {
      const bookOf = new Int32Array(capacity).fill(-1);
      bookOf.set(this.bookOf);
      this.bookOf = bookOf;
    }
  }

  /** `count` fresh records at the end; returns the first. */
  private reserveRecords(count: number): number {
    const start = this.recordCount;
    this.recordCount += count;
    if (this.recordCount > this.recordInstrument.length) {
      const capacity = Math.max(1024, this.recordInstrument.length * 2, this.recordCount);
      this.recordInstrument = grownInt(this.recordInstrument, capacity);
      this.records = grownFloat(this.records, capacity * RECORD);
    }
    return start;
  }

  /**
   * Drops every entry of `slot`, current or not, and every stale entry, from every column: done
   * before the slot's version wraps (once in 2^25 readings of one sub-account).
   */
  private forget(slot: number): void {
    for (const column of this.columns) this.compact(column, slot);
    for (const column of this.holders) compactHolders(column, this.meta, slot);
  }

  /** Drops entries written under an older version of their slot, and those of `drop`. */
  private compact(column: Column, drop = -1): void {
    const metas = this.meta;
    let kept = 0;
    for (let i = 0; i < column.length; i++) {
      const slot = column.slots[i] as number;
      const version = column.versions[i] as number;
      if ((metas[slot] as number) >>> VERSION_SHIFT !== version || slot === drop) continue;
      column.slots[kept] = slot;
      column.versions[kept] = version;
      column.scaled[kept] = column.scaled[i] as number;
      kept++;
    }
    column.length = kept;
    column.compacted = kept;
  }
}

/**
 * The maintenance requirement of `size` of `spec` as |S| × (a × mark + b × index) (S, mark and
 * index in units): a and b, read from the requirement itself at a reference price.
 */
export function requirementCoefficients(
  spec: InstrumentSpec,
  size: bigint,
): readonly [number, number] {
  const abs = size < 0n ? -size : size;
  const notional = Number(abs * REFERENCE_PRICE * RATE_SCALE);
  const onMark = standardRequirement(spec, REFERENCE_PRICE, 0n, size).maintenance;
  const onIndex = standardRequirement(spec, 0n, REFERENCE_PRICE, size).maintenance;
  return [Number(onMark) / notional, Number(onIndex) / notional];
}

function keyOf(ref: SubAccountRef): string {
  return ref.subAccount === 0 ? ref.account : `${ref.account}/${ref.subAccount}`;
}

function poolAt(pool: PoolState, asset: EngineState['assets'][number], time: number): PoolState {
  return pool.accruedAt >= time ? pool : accrue(pool, asset.config, time).pool;
}

/** The unweighted value of one scaled unit of debt, in quote units. */
function debtPerScaled(pool: PoolState, risk: AssetRisk): number {
  return ((Number(pool.borrowIndexRay) / RAY_FLOAT) * Number(risk.valuePerUnit)) / VALUE_FLOAT;
}

function relative(now: number, before: number): number {
  if (now === before) return 0;
  return before === 0 ? Infinity : Math.abs(now / before - 1);
}

function outside(now: number, reference: number): boolean {
  return now > reference * REBUILD_RATIO || now * REBUILD_RATIO < reference;
}

function newColumn(): Column {
  return {
    slots: new Int32Array(16),
    versions: new Int32Array(16),
    scaled: new Float64Array(16),
    length: 0,
    compacted: 0,
  };
}

function newHolders(): Holders {
  return { slots: new Int32Array(16), versions: new Int32Array(16), length: 0, compacted: 0 };
}

function append(column: Column, slot: number, version: number, scaled: number): void {
  if (column.length === column.slots.length) {
    const capacity = column.length * 2;
    column.slots = grownInt(column.slots, capacity);
    column.versions = grownInt(column.versions, capacity);
    column.scaled = grownFloat(column.scaled, capacity);
  }
  column.slots[column.length] = slot;
  column.versions[column.length] = version;
  column.scaled[column.length] = scaled;
  column.length++;
}

function appendHolder(column: Holders, slot: number, version: number): void {
  if (column.length === column.slots.length) {
    const capacity = column.length * 2;
    column.slots = grownInt(column.slots, capacity);
    column.versions = grownInt(column.versions, capacity);
  }
  column.slots[column.length] = slot;
  column.versions[column.length] = version;
  column.length++;
}

/** Drops holders written under an older version of their slot, and those of `drop`. */
function compactHolders(column: Holders, metas: Int32Array, drop = -1): void {
  let kept = 0;
  for (let i = 0; i < column.length; i++) {
    const slot = column.slots[i] as number;
    const version = column.versions[i] as number;
    if ((metas[slot] as number) >>> VERSION_SHIFT !== version || slot === drop) continue;
    column.slots[kept] = slot;
    column.versions[kept] = version;
    kept++;
  }
  column.length = kept;
  column.compacted = kept;
}

function grownInt(array: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(capacity);
  grown.set(array);
  return grown;
}

function grownFloat(array: Float64Array, capacity: number): Float64Array<ArrayBuffer> {
  const grown = new Float64Array(capacity);
  grown.set(array);
  return grown;
}
