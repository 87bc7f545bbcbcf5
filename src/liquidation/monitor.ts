/**
 * The liquidation monitor: after every command, every sub-account whose maintenance health is
 * below 1, found at a cost that grows with the accounts a change touches, not with all accounts.
 *
 * It keeps, beside the engine's state and derived from it alone:
 *
 * - per sub-account (a "slot"), its maintenance-weighted collateral C and liabilities L as
 *   float64 sums, and whether it is liquidatable;
 * - per asset, a column of the slots holding or owing it, with their scaled balances as float64.
 *
 * When an asset's price or pool index moves, only its column is swept: each holder's C or L
 * moves by its scaled balance times the change of the asset's per-unit factor, and the slot is
 * judged again. A slot whose float margin is clear of the threshold by more than the float
 * error bound is decided on the floats; one inside the band is confirmed with the engine's exact
 * health. So the set is always exactly the set an exact scan of every account would find.
 *
 * Error bound. Each sum is built from at most 16 products, and between rebuilds moved by at
 * most {@link REBUILD_SWEEPS} incremental steps, each with a few roundings of 2^-53 relative to
 * terms that are kept within a factor {@link REBUILD_RATIO} of their size at the last rebuild:
 * the drift stays under 10^-10 of C + L, well inside {@link FLOAT_BAND}. Balances are rounded to
 * base units by the exact engine, which an absolute band of one base unit per position covers.
 *
 * Small moves. An asset whose factors move by less than {@link SWEEP_THRESHOLD} (interest
 * accrual between commands, the smallest price ticks) is not swept at once: the band of every
 * slot widens by the pending move instead, and the few slots near enough to the threshold for
 * it to matter (kept in a set as they are judged) are judged again. A larger move sweeps.
 *
 * The monitor never changes the state; it reads it after each accepted command (`observe`).
 */
import type { CommandResult } from '../engine/apply.js';
import { Draft } from '../engine/draft.js';
import { type EngineState, findSubAccount, type SubAccountRef } from '../engine/state.js';
import type { AssetRisk } from '../margin/assetRisk.js';
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
 * Slot sums: C and L, side by side. Slot meta: version << 4 | was << 3 | flipped << 2 |
 * near << 1 | liquidatable, where `flipped` marks a slot whose verdict changed during the
 * current refresh and `was` keeps its verdict before.
 */
const STRIDE = 2;
const VERSION_SHIFT = 4;
const VERSION_MASK = (1 << 27) - 1;
const LIQUIDATABLE = 1;
const NEAR = 2;
const FLIPPED = 4;
const WAS = 8;
const FLAGS = LIQUIDATABLE | NEAR | FLIPPED | WAS;
/** Denominators: weighted numerators are over 10^36, pool indices over 10^27. */
const WEIGHTED = 1e36;
const RAY_FLOAT = 1e27;

/** The holders of one asset: slot, the slot's version when written, and the scaled balance. */
interface Column {
  slots: Int32Array;
  versions: Int32Array;
  scaled: Float64Array;
  length: number;
  /** Length after the last compaction: the column is compacted when it doubles. */
  compacted: number;
}

/** The inputs an asset's factors were last computed from, and its deferred move. */
interface SeenAsset {
  readonly risk: AssetRisk;
  readonly at: number;
  readonly accruedAt: number;
  readonly supplyIndexRay: bigint;
  readonly borrowIndexRay: bigint;
  /** Value of one base unit (quote), the larger of the two sides. */
  readonly perUnit: number;
  /** Relative move of the factors not yet swept into the sums. */
  move: number;
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
}

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
  // Per-refresh bookkeeping.
  /** Slots whose verdict changed during this refresh (each once: see FLIPPED). */
  private flipped = new Int32Array(1024);
  private flippedCount = 0;
  private judged = 0;
  private confirmed = 0;

  /** Indexes every sub-account of `state`, judged at `time` (default: the state's time). */
  constructor(state: EngineState, time: number = state.time) {
    this.state = state;
    this.time = Math.max(time, state.time);
    this.syncAssets();
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
   * Follows one command result: re-reads the sub-accounts it changed, then re-prices every
   * asset at the command's time. Refused commands change nothing and are ignored.
   */
  observe(result: CommandResult): MonitorScan {
    this.begin();
    if (!result.ok) return this.finish();
    this.time = Math.max(result.time, this.state.time);
    this.syncAssets();
    for (const ref of result.touched) this.index(ref);
    return this.finish();
  }

  /** Re-prices every asset at `time` (default: the state's time) and re-judges what moved. */
  refresh(time: number = this.state.time): MonitorScan {
    this.begin();
    this.time = Math.max(time, this.state.time);
    this.syncAssets();
    return this.finish();
  }

  /** Re-reads sub-accounts whose balances changed outside {@link observe}, and re-prices. */
  update(refs: readonly SubAccountRef[]): MonitorScan {
    this.begin();
    this.syncAssets();
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

  /**
   * The float estimate of a slot's maintenance health, C / L (Infinity without debt): within
   * the error band and any deferred small move of the exact health. For ranking and screening;
   * decisions that move value use the engine's exact health.
   */
  healthEstimate(slot: number): number {
    if (slot < 0 || slot >= this.slotCount) return Number.POSITIVE_INFINITY;
    const c = this.data[slot * STRIDE] as number;
    const l = this.data[slot * STRIDE + 1] as number;
    return l > 0 ? c / l : Number.POSITIVE_INFINITY;
  }

  /** Bytes the index holds in typed arrays (the slot map and names aside). */
  get arrayBytes(): number {
    let bytes = this.data.byteLength + this.meta.byteLength + this.slotNumber.byteLength;
    for (const column of this.columns) {
      bytes += column.slots.byteLength + column.versions.byteLength + column.scaled.byteLength;
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
    return { liquidatable, recovered, judged: this.judged, confirmed: this.confirmed, swept };
  }

  /**
   * Brings every asset's factors to the current prices and indices at `this.time`: moves of at
   * least the sweep threshold are swept into the sums, smaller ones are deferred (and the slots
   * near the threshold re-judged with the wider band).
   */
  private syncAssets(): void {
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
    if (sweeps.length > 0) {
      this.sweepsSinceRebuild += sweeps.length;
      if (rebuild || this.sweepsSinceRebuild >= REBUILD_SWEEPS) {
        this.rebuild();
        return;
      }
      for (const { asset, dC, dL } of sweeps) this.sweep(asset, dC, dL);
    }
    // Deferred moves: only the slots near the threshold can have crossed it.
    if (pending > 0) for (const slot of [...this.near]) this.judge(slot);
  }

  /**
   * Moves every holder of `asset` by its balance times the factor change, and judges it. The
   * hot loop of the monitor: the judgment of {@link judge} is written out here, and only a slot
   * whose verdict changes leaves the loop.
   */
  private sweep(asset: number, dC: number, dL: number): void {
    const column = this.columns[asset];
    if (column === undefined) return;
    const { slots, versions, scaled, length } = column;
    const data = this.data;
    const metas = this.meta;
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
      if (l > 0) {
        const size = c + l;
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
    this.meta[slot] = (version << VERSION_SHIFT) | (meta & FLAGS);
    const sub = findSubAccount(this.state.accounts.get(ref.account), ref.subAccount);
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
    this.judge(slot);
  }

  /** Judges one slot on its floats, confirming exactly inside the band. */
  private judge(slot: number): void {
    this.judged++;
    const data = this.data;
    const o = slot * STRIDE;
    const c = data[o] as number;
    const l = data[o + 1] as number;
    const meta = this.meta[slot] as number;
    let flags = 0;
    if (l > 0) {
      const size = c + l;
      const diff = c - l;
      const band = (FLOAT_BAND + 2 * this.pending) * size + this.absoluteBand;
      if (diff < -band || (diff <= band && this.exact(slot))) flags = LIQUIDATABLE;
      if (Math.abs(diff) <= NEAR_BAND * size + this.absoluteBand) flags |= NEAR;
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
  }

  /** Drops entries written under an older version of their slot. */
  private compact(column: Column): void {
    const metas = this.meta;
    let kept = 0;
    for (let i = 0; i < column.length; i++) {
      const slot = column.slots[i] as number;
      const version = column.versions[i] as number;
      if ((metas[slot] as number) >>> VERSION_SHIFT !== version) continue;
      column.slots[kept] = slot;
      column.versions[kept] = version;
      column.scaled[kept] = column.scaled[i] as number;
      kept++;
    }
    column.length = kept;
    column.compacted = kept;
  }
}

function keyOf(ref: SubAccountRef): string {
  return ref.subAccount === 0 ? ref.account : `${ref.account}/${ref.subAccount}`;
}

function poolAt(pool: PoolState, asset: EngineState['assets'][number], time: number): PoolState {
  return pool.accruedAt >= time ? pool : accrue(pool, asset.config, time).pool;
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

function append(column: Column, slot: number, version: number, scaled: number): void {
  if (column.length === column.slots.length) {
    const capacity = column.length * 2;
    const slots = new Int32Array(capacity);
    slots.set(column.slots);
    const versions = new Int32Array(capacity);
    versions.set(column.versions);
    const values = new Float64Array(capacity);
    values.set(column.scaled);
    column.slots = slots;
    column.versions = versions;
    column.scaled = values;
  }
  column.slots[column.length] = slot;
  column.versions[column.length] = version;
  column.scaled[column.length] = scaled;
  column.length++;
}
