/**
 * The effects journal: what each accepted command changed, as after-images (each changed pool,
 * each changed asset's prices, each changed instrument's state, each volatility set, each
 * changed sub-account's balances and derivatives book), in compact binary segments, one per
 * journal batch. Recovery applies them instead of re-executing the commands: an image is
 * written, not computed. A segment is applied whole, so within a run of records (those between
 * two kept commands, or a segment's ends) only the last image of each pool, instrument or
 * sub-account matters: sub-accounts are written with each record (their images come from the
 * draft, and most commands touch a different one), while the pools, prices, instruments and
 * volatilities a run changed, which nearly every command touches (a fill moves its instrument's
 * open interest and the settlement asset's pool), are written once, from the state, into the
 * run's last CHANGES record when the run ends. The commands stay in the journal: `fulcrum
 * verify` re-executes them and checks that both roads reach the same state.
 *
 * The writer decides by what the draft changed, not by the command's type. Kept as their stored
 * text and re-executed in their place (the state before them is exact, so their replay is):
 *
 * - listings and new weights (`list-asset`, `list-instrument`, `set-weights`): they change the
 *   rules the images are read under (an asset's risk factors are rebuilt from its listing), and
 *   are rare;
 * - oracle quotes (`quote`, on an asset or on an instrument): an oracle's state (each source's
 *   latest quote, the delay window, the breaker) is larger than the command, and replaying a
 *   quote touches that one oracle (and the settlement prices it may fix), without any health;
 * - whatever moves the liquidation throttle or the venue's rules (`liquidate`, `backstop`,
 *   `liquidate-position`, `configure-liquidation`, `configure-venue`): the throttle is a window
 *   with a total per sub-account, which the format does not image; these are rare beside fills,
 *   and a takeover's replay is one bisection on one account.
 *
 * Everything else is images: lending, `accrue`, `set-price` (on an asset, with the settlement
 * prices it fixes, or on an instrument: its mark), `trade`, `settle-funding`, `expire`,
 * `set-mode`, `settle-pnl`, `deleverage`, `resolve-bankruptcy`, `set-volatility`.
 *
 * A segment, all integers little-endian, every field without a type a bigint (format 2; format
 * 1, still read, follows):
 *
 * ```
 * segment    := version:u8 record*
 * record     := REFUSED:u8                                 a refused command changed nothing
 *             | CHANGES:u8 time:f64 assets:u8 instruments:u16 volatilities:u8 subs:u16
 *                 asset{assets} instrument{instruments} volatility{volatilities} sub{subs}
 *             | COMMAND:u8 bytes:u32 utf8{bytes}           stored command, re-executed
 * asset      := index:u8 flags:u8 [pool] [prices]          flags: 1 pool, 2 prices
 * pool       := cash supplyScaled borrowScaled treasuryScaled supplyIndexRay borrowIndexRay
 *               accruedAt:f64                              (the first six are bigints)
 * prices     := oraclePrice stablePrice                    risk is rebuilt from them
 * instrument := index:u16 mark fundingIndex fundingAt:f64 openInterest flags:u8
 *               [settlementPrice]                          flags: 1 settlement price, 2 settled;
 *                                                          listing, oracle, underlying stay
 * volatility := asset:u8 ppm
 * sub        := account number:u8 positions:u8 (asset:u8 scaled){positions} book
 * book       := 0:u8                                       no derivatives (or an empty book)
 *             | mode:u8 count:u16 (instrument:u16 size quote funding){count} unsettled
 *                                                          mode: 1 cross, 2 isolated,
 *                                                          3 portfolio; sorted by instrument
 * account    := ref:varint [length:u8 ascii{length}]       a ref equal to the number of
 *                                                          accounts named so far in the segment
 *                                                          names a new one, spelled out after it
 * bigint     := header:u8 limb:u64{header & 0x7f}          magnitude in 64-bit limbs, low first;
 *                                                          header bit 7: negative
 * ```
 *
 * Format 1 (written before derivatives were images): a CHANGES record is `CHANGES:u8 time:f64
 * assets:u8 subs:u16 asset{assets} sub{subs}` and a sub-account image ends after its balances,
 * its derivatives book left as it is; every command that changed an instrument, a book or a
 * volatility is a COMMAND. Segments of either version apply, in any mix.
 *
 * Counts read from a segment are bounded by the engine's limits (assets, instruments,
 * sub-accounts, positions per sub-account and per book), every index is checked against the
 * state before a run is written, and a segment that does not read to its end exactly is
 * refused whole.
 *
 * Part of the core: no I/O, no clock; the stores add the checksums.
 */
import { LIMITS } from '../domain/limits.js';
import type { DerivativePosition } from '../derivatives/position.js';
import { assetRisk } from '../margin/assetRisk.js';
import type { PoolState } from '../pools/pool.js';
import { applyCommand } from './apply.js';
import { grownBytes } from './bytes.js';
import { decodeStoredCommand } from './commandCodec.js';
import { type Draft, type DraftChanges, overwrite, writePool, writeSubAccount } from './draft.js';
import {
  type AssetState,
  bookIsEmpty,
  type DerivativesBook,
  type EngineState,
  findSubAccount,
  INSURANCE_ACCOUNT,
  type InstrumentState,
  type MarginMode,
  positionLimit,
  type ScaledPosition,
  type SubAccountState,
} from './state.js';

/** Version byte that opens every segment written; a change of layout must change it. */
export const EFFECTS_FORMAT_VERSION = 2;
/** The first format, still read: derivatives kept as commands, sub-accounts without books. */
const FORMAT_1 = 1;

const REFUSED = 0;
const CHANGES = 1;
const COMMAND = 2;

/**
 * Bytes of a CHANGES record's header (kind, time, assets, instruments, volatilities, subs), and
 * where its counts of assets, instruments and volatilities are, filled in when its run ends.
 */
const CHANGES_HEADER = 15;
const ASSETS_AT = 9;
const INSTRUMENTS_AT = 10;
const VOLATILITIES_AT = 12;

const POOL = 1;
const PRICES = 2;

/** An instrument image's flags. */
const HAS_SETTLEMENT_PRICE = 1;
const SETTLED = 2;

/** A book's mode byte (0: no book). */
const MODES: readonly MarginMode[] = ['cross', 'isolated', 'portfolio'];
const MODE_CODES: Readonly<Record<MarginMode, number>> = { cross: 1, isolated: 2, portfolio: 3 };

const U64 = (1n << 64n) - 1n;
/** Largest bigint a segment holds: 127 limbs of 64 bits. */
const LIMBS_MAX = 127;

/**
 * Most positions a sub-account's book may hold: the insurance fund takes over whatever it must
 * (one of every instrument), a trader's sub-account is capped.
 */
function bookLimit(account: string): number {
  return account === INSURANCE_ACCOUNT ? LIMITS.instruments : LIMITS.derivativesPerSubAccount;
}

/** An effects segment that cannot be applied: damaged or not made by this engine. */
export class EffectsError extends Error {
  override readonly name = 'EffectsError';
  /** Which record of the segment (0 for its first), when one is to blame. */
  readonly record: number | null;
  /**
   * False when the segment was refused before anything was written (the state is as it was);
   * true when applying stopped part-way.
   */
  readonly stateChanged: boolean;
  /**
   * The refusal's code when a command the segment keeps as accepted was refused on replay: the
   * segment checked out, so it was written under other rules. Null for any other fault.
   */
  readonly refusedOnReplay: string | null;
  constructor(
    message: string,
    record: number | null = null,
    stateChanged = false,
    refusedOnReplay: string | null = null,
  ) {
    super(message);
    this.record = record;
    this.stateChanged = stateChanged;
    this.refusedOnReplay = refusedOnReplay;
  }
}

/** A finished segment: its bytes and the number of journal records it covers. */
export interface EffectsSegment {
  readonly bytes: Uint8Array;
  readonly records: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes the effects of commands as they are applied, one record per journal record, into
 * segments of at most `segmentRecords` records. `take` hands segments out oldest first; a
 * writer that takes a segment whenever it writes up to `segmentRecords` of the oldest waiting
 * records gets segments that cover exactly its batches.
 */
export class EffectsWriter {
  private bytes = new Uint8Array(1 << 16);
  private view = new DataView(this.bytes.buffer);
  private at = 0;
  private records = 0;
  /** Accounts named in the open segment, by their number in it. */
  private readonly refs = new Map<string, number>();
  private readonly full: EffectsSegment[] = [];
  private readonly segmentRecords: number;
  /** The state the commands are applied to (the last draft's base). */
  private state: EngineState | undefined;
  /** Where the open run's last CHANGES record starts. */
  private lastChanges = -1;
  /** Flags (POOL, PRICES) of the assets the open run changed, by index, and their order. */
  private readonly dirtyAssets: number[] = [];
  private readonly dirtyOrder: number[] = [];
  /** Instruments and volatilities the open run changed: a mark each, and their order. */
  private readonly dirtyInstruments = new Uint8Array(LIMITS.instruments);
  private readonly instrumentOrder: number[] = [];
  private readonly dirtyVolatilities = new Uint8Array(LIMITS.assets);
  private readonly volatilityOrder: number[] = [];

  constructor(segmentRecords: number) {
    if (!Number.isSafeInteger(segmentRecords) || segmentRecords < 1) {
      throw new RangeError(`segmentRecords must be a positive integer, not ${segmentRecords}`);
    }
    this.segmentRecords = segmentRecords;
    this.open();
  }

  /** Records waiting in segments not yet taken. */
  get waiting(): number {
    let total = this.records;
    for (const segment of this.full) total += segment.records;
    return total;
  }

  /** The record of a refused command: it changed nothing. */
  refused(): void {
    this.settle();
    this.reserve(1);
    this.bytes[this.at++] = REFUSED;
    this.close();
  }

  /**
   * The record of an accepted command, from its draft before `commit` (the draft's changes are
   * compared with the state they replace). `commandText` is the command's stored form, kept
   * when its changes are not images.
   */
  accepted(draft: Draft, commandText: string): void {
    this.settle();
    this.state = draft.base;
    const changes = draft.changes();
    if (changes.liquidationState || !this.imagesSuffice(draft, changes)) {
      // The state is still the run's end here: the command is committed after this returns.
      this.endRun();
      this.command(commandText);
    } else {
      this.changesRecord(draft, changes);
    }
    this.close();
  }

  /**
   * A CHANGES record: its header, its sub-accounts' images; the assets, instruments and
   * volatilities it changed are only marked, their images written when the run ends.
   */
  private changesRecord(draft: Draft, changes: DraftChanges): void {
    const { subAccounts } = changes;
    this.lastChanges = this.at;
    this.reserve(CHANGES_HEADER);
    this.bytes[this.at++] = CHANGES;
    this.view.setFloat64(this.at, draft.time, true);
    this.at += 8;
    // No images of assets, instruments or volatilities yet: the run's last record gets them.
    this.bytes.fill(0, this.at, this.at + 4);
    this.at += 4;
    this.view.setUint16(this.at, subAccounts.length, true);
    this.at += 2;
    this.markAssets(draft.base.assets, changes.assets);
    for (const instrument of changes.instruments) {
      if (instrument === draft.base.instruments[instrument.index]) continue;
      if (this.dirtyInstruments[instrument.index] === 0) {
        this.dirtyInstruments[instrument.index] = 1;
        this.instrumentOrder.push(instrument.index);
      }
    }
    if (changes.volatilities !== undefined) {
      for (const asset of changes.volatilities.keys()) {
        if (this.dirtyVolatilities[asset] === 0) {
          this.dirtyVolatilities[asset] = 1;
          this.volatilityOrder.push(asset);
        }
      }
    }
    for (const { ref, state } of subAccounts) {
      this.account(ref.account);
      this.reserve(2);
      this.bytes[this.at++] = ref.subAccount;
      this.bytes[this.at++] = state.positions.length;
      for (const position of state.positions) {
        this.reserve(1);
        this.bytes[this.at++] = position.asset;
        this.big(position.scaled);
      }
      this.book(state.derivatives);
    }
  }

  /** Marks the pools and prices the draft changed, for the run's end. */
  private markAssets(listed: readonly AssetState[], assets: readonly AssetState[]): void {
    for (const asset of assets) {
      const before = listed[asset.index];
      const flags =
        (asset.pool !== before?.pool ? POOL : 0) | (asset.risk !== before?.risk ? PRICES : 0);
      if (flags === 0) continue;
      const was = this.dirtyAssets[asset.index] ?? 0;
      if (was === 0) this.dirtyOrder.push(asset.index);
      this.dirtyAssets[asset.index] = was | flags;
    }
  }

  /** A sub-account's derivatives book: 0 when it has none (or an empty one). */
  private book(book: DerivativesBook | undefined): void {
    if (book === undefined || bookIsEmpty(book)) {
      this.reserve(1);
      this.bytes[this.at++] = 0;
      return;
    }
    const { positions } = book;
    this.reserve(3);
    this.bytes[this.at++] = MODE_CODES[book.mode];
    this.view.setUint16(this.at, positions.length, true);
    this.at += 2;
    for (const position of positions) {
      this.reserve(2);
      this.view.setUint16(this.at, position.instrument, true);
      this.at += 2;
      this.big(position.size);
      this.big(position.quote);
      this.big(position.funding);
    }
    this.big(book.unsettled);
  }

  /**
   * The oldest segment not yet taken, closing the open one if no full one waits; undefined when
   * no record waits. Call it before the next command is applied: the open segment's pools and
   * prices are read from the state, which must be at its last record.
   */
  take(): EffectsSegment | undefined {
    this.settle();
    const segment = this.full.shift();
    if (segment !== undefined) return segment;
    return this.records === 0 ? undefined : this.finish();
  }

  /** Ends the open segment's run and hands the segment out; a new one opens. */
  private finish(): EffectsSegment {
    this.endRun();
    const segment = { bytes: this.bytes.slice(0, this.at), records: this.records };
    this.open();
    return segment;
  }

  /**
   * Ends the run: the images of the pools, prices, instruments and volatilities it changed, read
   * from the state as it stands (the run's end), go into its last CHANGES record, before that
   * record's sub-account images (the bytes after them move up).
   */
  private endRun(): void {
    const assets = this.dirtyOrder.length;
    const instruments = this.instrumentOrder.length;
    const volatilities = this.volatilityOrder.length;
    if (assets + instruments + volatilities === 0) return;
    const state = this.state as EngineState;
    const tailStart = this.lastChanges + CHANGES_HEADER;
    const tailEnd = this.at;
    this.assetImages(state);
    for (const index of this.instrumentOrder) {
      this.instrument(state.instruments[index] as InstrumentState);
      this.dirtyInstruments[index] = 0;
    }
    for (const asset of this.volatilityOrder) {
      const ppm = state.volatilities.get(asset);
      if (ppm === undefined) throw new RangeError(`no volatility of asset ${asset}`);
      this.reserve(1);
      this.bytes[this.at++] = asset;
      this.big(ppm);
      this.dirtyVolatilities[asset] = 0;
    }
    // [tailStart, tailEnd) holds the record's sub-account images and the records after it;
    // [tailEnd, at) the new images: swap the two.
    const tail = this.bytes.slice(tailStart, tailEnd);
    this.bytes.copyWithin(tailStart, tailEnd, this.at);
    this.bytes.set(tail, tailStart + (this.at - tailEnd));
    this.bytes[this.lastChanges + ASSETS_AT] = assets;
    this.view.setUint16(this.lastChanges + INSTRUMENTS_AT, instruments, true);
    this.bytes[this.lastChanges + VOLATILITIES_AT] = volatilities;
    this.dirtyOrder.length = 0;
    this.instrumentOrder.length = 0;
    this.volatilityOrder.length = 0;
  }

  private assetImages(state: EngineState): void {
    for (const index of this.dirtyOrder) {
      const flags = this.dirtyAssets[index] as number;
      const asset = state.assets[index];
      if (asset === undefined) throw new RangeError(`no asset at index ${index}`);
      this.reserve(2);
      this.bytes[this.at++] = index;
      this.bytes[this.at++] = flags;
      if ((flags & POOL) !== 0) this.pool(asset.pool);
      if ((flags & PRICES) !== 0) {
        this.big(asset.risk.oraclePrice);
        this.big(asset.risk.stablePrice);
      }
      this.dirtyAssets[index] = 0;
    }
  }

  private instrument(instrument: InstrumentState): void {
    this.reserve(2);
    this.view.setUint16(this.at, instrument.index, true);
    this.at += 2;
    this.big(instrument.mark);
    this.big(instrument.fundingIndex);
    this.reserve(9);
    this.view.setFloat64(this.at, instrument.fundingAt, true);
    this.at += 8;
    this.big(instrument.openInterest);
    const price = instrument.settlementPrice;
    this.reserve(1);
    this.bytes[this.at++] =
      (price === null ? 0 : HAS_SETTLEMENT_PRICE) | (instrument.settled ? SETTLED : 0);
    if (price !== null) this.big(price);
  }

  /**
   * Finishes a segment that filled at its last record, before the next command is applied,
   * where the state is the segment's end: its run ends there.
   */
  private settle(): void {
    if (this.records >= this.segmentRecords) this.full.push(this.finish());
  }

  /** Whether the draft's changes are all images this format holds. */
  private imagesSuffice(draft: Draft, changes: DraftChanges): boolean {
    const { assets: listed, instruments: listedInstruments } = draft.base;
    for (const asset of changes.assets) {
      const before = listed[asset.index];
      // A listing, new weights or an oracle's state: re-executed from the command.
      if (
        before === undefined ||
        before.config !== asset.config ||
        before.oracle !== asset.oracle
      ) {
        return false;
      }
    }
    for (const instrument of changes.instruments) {
      const before = listedInstruments[instrument.index];
      // A listing or its oracle's state: re-executed from the command.
      if (
        before === undefined ||
        before.listing !== instrument.listing ||
        before.oracle !== instrument.oracle
      ) {
        return false;
      }
    }
    const { subAccounts } = changes;
    if (subAccounts.length > 0xffff) return false;
    for (const { ref, state } of subAccounts) {
      if (!this.refs.has(ref.account) && !isShortAscii(ref.account)) return false;
      const book = state.derivatives;
      if (book !== undefined && book.positions.length > bookLimit(ref.account)) return false;
    }
    return true;
  }

  private command(text: string): void {
    const utf8 = encoder.encode(text);
    this.reserve(5 + utf8.length);
    this.bytes[this.at++] = COMMAND;
    this.view.setUint32(this.at, utf8.length, true);
    this.at += 4;
    this.bytes.set(utf8, this.at);
    this.at += utf8.length;
  }

  private pool(pool: PoolState): void {
    this.big(pool.cash);
    this.big(pool.supplyScaled);
    this.big(pool.borrowScaled);
    this.big(pool.treasuryScaled);
    this.big(pool.supplyIndexRay);
    this.big(pool.borrowIndexRay);
    this.reserve(8);
    this.view.setFloat64(this.at, pool.accruedAt, true);
    this.at += 8;
  }

  private account(id: string): void {
    const known = this.refs.get(id);
    if (known !== undefined) {
      this.varint(known);
      return;
    }
    const ref = this.refs.size;
    this.refs.set(id, ref);
    this.varint(ref);
    this.reserve(1 + id.length);
    this.bytes[this.at++] = id.length;
    for (let i = 0; i < id.length; i++) this.bytes[this.at++] = id.charCodeAt(i);
  }

  private varint(value: number): void {
    this.reserve(5);
    let rest = value;
    while (rest >= 0x80) {
      this.bytes[this.at++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.bytes[this.at++] = rest;
  }

  private big(value: bigint): void {
    const negative = value < 0n;
    let magnitude = negative ? -value : value;
    if (magnitude === 0n) {
      this.reserve(1);
      this.bytes[this.at++] = 0;
      return;
    }
    const sign = negative ? 0x80 : 0;
    if (magnitude <= U64) {
      this.reserve(9);
      this.bytes[this.at++] = sign | 1;
      this.view.setBigUint64(this.at, magnitude, true);
      this.at += 8;
      return;
    }
    const header = this.at;
    this.reserve(1);
    this.at++;
    let limbs = 0;
    while (magnitude > 0n) {
      this.reserve(8);
      this.view.setBigUint64(this.at, magnitude & U64, true);
      this.at += 8;
      magnitude >>= 64n;
      limbs++;
    }
    if (limbs > LIMBS_MAX) throw new RangeError(`a ${limbs * 64}-bit integer is too large`);
    this.bytes[header] = sign | limbs;
  }

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.bytes.length) return;
    this.bytes = grownBytes(this.bytes, this.at, this.at + bytes);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Ends a record; a segment that is full is finished before the next (see `settle`). */
  private close(): void {
    this.records++;
  }

  private open(): void {
    this.at = 0;
    this.records = 0;
    this.refs.clear();
    this.bytes[this.at++] = EFFECTS_FORMAT_VERSION;
  }
}

function isShortAscii(text: string): boolean {
  if (text.length > 255) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** What applying segments did. */
export interface EffectsApplied {
  /** Records in the segments. */
  readonly records: number;
  /** Of which commands re-executed (their changes were not images). */
  readonly commands: number;
}

/**
 * Applies a segment of `records` records to `state`, as if its commands had been applied.
 * See {@link applyEffectsInOrder}.
 */
export function applyEffects(
  state: EngineState,
  bytes: Uint8Array,
  records: number,
): EffectsApplied {
  return applyEffectsInOrder(state, [{ bytes, records }]);
}

/**
 * Applies consecutive segments to `state`, as if their commands had been applied. Every
 * segment is read and checked before the state is touched, and every run's images are checked
 * against the state (each asset and instrument listed) before the run is written; an error after
 * the first write (a re-executed command that is refused, a later run's image of an asset or
 * instrument not listed) leaves the state part-way and must stop recovery. An error's `record`
 * counts records from the first segment's first.
 *
 * Records are applied in runs between re-executed commands, runs that go on across segments;
 * within a run only the last image of each pool, each asset's prices, each instrument, each
 * volatility and each sub-account is written: the state after the run is the same, and most
 * images are overwritten soon (a sub-account touched a thousand times is written once).
 */
export function applyEffectsInOrder(
  state: EngineState,
  segments: readonly EffectsSegment[],
): EffectsApplied {
  const { steps, accounts, readers, versions } = new Parser(segments).parse();
  let commands = 0;
  let records = 0;
  for (const segment of segments) records += segment.records;
  let changed = false;
  for (const step of steps) {
    if (step.kind === 'command') {
      commands++;
      const result = applyCommand(state, step.command);
      if (!result.ok) {
        throw new EffectsError(
          `a command kept in the effects was refused on replay (${result.error.code})`,
          step.record,
          true,
          result.error.code,
        );
      }
    } else {
      checkRun(state, step, changed);
      applyRun(state, { readers, versions, accounts }, step);
    }
    changed = true;
  }
  return { records, commands };
}

/** Where an image starts: which segment, and the offset in it, as one number. */
const SEGMENT_STRIDE = 2 ** 32;

interface Run {
  readonly kind: 'run';
  /** Where the last pool image, and the last prices, of each asset changed start, by index. */
  readonly pools: Map<number, number>;
  readonly prices: Map<number, number>;
  /** Where the last image of each instrument and each volatility start, by index. */
  readonly instruments: Map<number, number>;
  readonly volatilities: Map<number, number>;
  /** Where the last image of each sub-account starts, by `account * 256 + number`. */
  readonly subs: Map<number, number>;
  time: number;
  accepted: number;
  /** The record that set `time`. */
  last: number;
  /** The highest asset and instrument index an image names (-1: none), and its record. */
  maxAsset: number;
  maxAssetRecord: number;
  maxInstrument: number;
  maxInstrumentRecord: number;
}

interface CommandStep {
  readonly kind: 'command';
  readonly command: ReturnType<typeof decodeStoredCommand>;
  readonly record: number;
}

function newRun(): Run {
  return {
    kind: 'run',
    pools: new Map(),
    prices: new Map(),
    instruments: new Map(),
    volatilities: new Map(),
    subs: new Map(),
    time: -1,
    accepted: 0,
    last: -1,
    maxAsset: -1,
    maxAssetRecord: -1,
    maxInstrument: -1,
    maxInstrumentRecord: -1,
  };
}

/**
 * Reads every segment, checking its structure, into runs and re-executed commands, with the
 * accounts they name (numbered across the segments), a reader for each segment and its version.
 */
class Parser {
  private readonly segments: readonly EffectsSegment[];
  private readonly steps: (Run | CommandStep)[] = [];
  private readonly accounts: string[] = [];
  private readonly accountNumbers = new Map<string, number>();
  private readonly readers: Reader[] = [];
  private readonly versions: number[] = [];
  private run = newRun();
  private time = -1;
  /** The record being read, counted from the first segment's first. */
  private record = 0;
  // The segment being read: its reader, version, offset base and account numbers (the
  // segment's own numbers, as numbers across the segments).
  private reader = new Reader(new Uint8Array(0));
  private version = EFFECTS_FORMAT_VERSION;
  private base = 0;
  private named: number[] = [];

  constructor(segments: readonly EffectsSegment[]) {
    this.segments = segments;
  }

  parse(): {
    steps: (Run | CommandStep)[];
    accounts: string[];
    readers: Reader[];
    versions: number[];
  } {
    for (let segment = 0; segment < this.segments.length; segment++) {
      const { bytes, records } = this.segments[segment] as EffectsSegment;
      this.reader = new Reader(bytes);
      this.readers.push(this.reader);
      this.base = segment * SEGMENT_STRIDE;
      this.named = [];
      try {
        this.segment(records);
      } catch (error) {
        if (error instanceof EffectsError) throw error;
        // A read past the end (RangeError), bad UTF-8 (TypeError) or a command text that does
        // not decode (FulcrumError): the segment is not what its writer wrote.
        const reason = error instanceof Error ? error.message : String(error);
        throw new EffectsError(`record ${this.record} cannot be read: ${reason}`, this.record);
      }
    }
    if (this.run.accepted > 0) this.steps.push(this.run);
    const { steps, accounts, readers, versions } = this;
    return { steps, accounts, readers, versions };
  }

  private segment(records: number): void {
    const { reader } = this;
    const version = reader.u8();
    if (version !== EFFECTS_FORMAT_VERSION && version !== FORMAT_1) {
      throw new EffectsError(
        `not an effects segment of version ${FORMAT_1} to ${EFFECTS_FORMAT_VERSION}`,
      );
    }
    this.version = version;
    this.versions.push(version);
    const end = this.record + records;
    for (; this.record < end; this.record++) {
      const kind = reader.u8();
      if (kind === REFUSED) continue;
      if (kind === COMMAND) this.command();
      else if (kind === CHANGES) this.changes();
      else throw new EffectsError(`unknown record kind ${kind}`, this.record);
    }
    if (reader.at !== reader.length) {
      throw new EffectsError(
        `${reader.length - reader.at} bytes after the segment's ${records} records`,
      );
    }
  }

  private command(): void {
    const length = this.reader.u32();
    const text = decoder.decode(this.reader.bytesOf(length));
    const command = decodeStoredCommand(text);
    if (this.run.accepted > 0) this.steps.push(this.run);
    this.run = newRun();
    this.steps.push({ kind: 'command', command, record: this.record });
    this.time = -1;
  }

  private changes(): void {
    const { reader, record, run } = this;
    const at = reader.f64();
    if (!Number.isSafeInteger(at) || at < this.time || at > LIMITS.timeMax) {
      throw new EffectsError(`time ${at} out of order`, record);
    }
    this.time = at;
    const format1 = this.version === FORMAT_1;
    const assets = reader.u8();
    const instruments = format1 ? 0 : reader.u16();
    const volatilities = format1 ? 0 : reader.u8();
    const subs = reader.u16();
    if (
      assets > LIMITS.assets ||
      instruments > LIMITS.instruments ||
      volatilities > LIMITS.assets
    ) {
      throw new EffectsError(
        `counts out of range: ${assets} assets, ${instruments} instruments, ${volatilities} volatilities`,
        record,
      );
    }
    for (let a = 0; a < assets; a++) this.asset();
    for (let i = 0; i < instruments; i++) this.instrument();
    for (let v = 0; v < volatilities; v++) {
      const asset = reader.u8();
      this.assetNamed(asset);
      run.volatilities.set(asset, this.base + reader.at);
      reader.skipBig();
    }
    for (let s = 0; s < subs; s++) this.sub();
    run.time = at;
    run.last = record;
    run.accepted++;
  }

  /** Notes that an image names asset `index`, which must be listed when the run is written. */
  private assetNamed(index: number): void {
    if (index >= LIMITS.assets) throw new EffectsError(`asset ${index} out of range`, this.record);
    if (index > this.run.maxAsset) {
      this.run.maxAsset = index;
      this.run.maxAssetRecord = this.record;
    }
  }

  private asset(): void {
    const { reader, run, base } = this;
    const index = reader.u8();
    const flags = reader.u8();
    if (flags === 0 || flags > (POOL | PRICES)) {
      throw new EffectsError(`bad asset image (asset ${index}, flags ${flags})`, this.record);
    }
    this.assetNamed(index);
    if ((flags & POOL) !== 0) {
      run.pools.set(index, base + reader.at);
      for (let i = 0; i < 6; i++) reader.skipBig();
      reader.f64();
    }
    if ((flags & PRICES) !== 0) {
      run.prices.set(index, base + reader.at);
      reader.skipBig();
      reader.skipBig();
    }
  }

  private instrument(): void {
    const { reader, run } = this;
    const image = reader.at;
    const index = reader.u16();
    this.instrumentNamed(index);
    reader.skipBig();
    reader.skipBig();
    const fundingAt = reader.f64();
    reader.skipBig();
    const flags = reader.u8();
    if (
      !Number.isSafeInteger(fundingAt) ||
      fundingAt < 0 ||
      fundingAt > LIMITS.timeMax ||
      flags > (HAS_SETTLEMENT_PRICE | SETTLED)
    ) {
      throw new EffectsError(`bad image of instrument ${index}`, this.record);
    }
    if ((flags & HAS_SETTLEMENT_PRICE) !== 0) reader.skipBig();
    run.instruments.set(index, this.base + image);
  }

  /** Notes that an image names instrument `index`, which must be listed when the run is written. */
  private instrumentNamed(index: number): void {
    if (index >= LIMITS.instruments) {
      throw new EffectsError(`instrument ${index} out of range`, this.record);
    }
    if (index > this.run.maxInstrument) {
      this.run.maxInstrument = index;
      this.run.maxInstrumentRecord = this.record;
    }
  }

  private sub(): void {
    const { reader, record, named } = this;
    const ref = reader.varint();
    if (ref === named.length) {
      named.push(this.accountNumber(reader.ascii(reader.u8())));
    } else if (ref > named.length) {
      throw new EffectsError(`account ${ref} used before it is named`, record);
    }
    const account = named[ref] as number;
    const holder = this.accounts[account] as string;
    const image = reader.at;
    const number = reader.u8();
    const positions = reader.u8();
    if (number >= LIMITS.subAccountsPerAccount || positions > positionLimit(holder, number)) {
      throw new EffectsError(`bad sub-account image`, record);
    }
    for (let p = 0; p < positions; p++) {
      this.assetNamed(reader.u8());
      reader.skipBig();
    }
    if (this.version !== FORMAT_1) this.book(holder);
    this.run.subs.set(account * 256 + number, this.base + image);
  }

  private accountNumber(name: string): number {
    let number = this.accountNumbers.get(name);
    if (number === undefined) {
      number = this.accounts.length;
      this.accounts.push(name);
      this.accountNumbers.set(name, number);
    }
    return number;
  }

  private book(holder: string): void {
    const { reader, record } = this;
    const mode = reader.u8();
    if (mode === 0) return;
    const count = reader.u16();
    if (mode > MODES.length || count > bookLimit(holder)) {
      throw new EffectsError(`bad derivatives book (mode ${mode}, ${count} positions)`, record);
    }
    let previous = -1;
    for (let p = 0; p < count; p++) {
      const instrument = reader.u16();
      if (instrument <= previous) throw new EffectsError('positions out of order', record);
      this.instrumentNamed(instrument);
      previous = instrument;
      if (reader.skipBig() === 0) throw new EffectsError('a position of size 0', record);
      reader.skipBig();
      reader.skipBig();
    }
    reader.skipBig();
  }
}

/**
 * Refuses a run whose images name an asset or instrument the state does not list (assets and
 * instruments are only ever added, by kept commands, which end runs), before it is written.
 */
function checkRun(state: EngineState, run: Run, changed: boolean): void {
  if (run.time < state.time) {
    throw new EffectsError(
      `time ${run.time} is before the state's ${state.time}`,
      run.last,
      changed,
    );
  }
  if (run.maxAsset >= state.assets.length) {
    throw new EffectsError(
      `an image of asset ${run.maxAsset}, which is not listed`,
      run.maxAssetRecord,
      changed,
    );
  }
  if (run.maxInstrument >= state.instruments.length) {
    throw new EffectsError(
      `an image of instrument ${run.maxInstrument}, which is not listed`,
      run.maxInstrumentRecord,
      changed,
    );
  }
}

/** The segments a run's images are read from. */
interface Sources {
  readonly readers: readonly Reader[];
  readonly versions: readonly number[];
  readonly accounts: readonly string[];
}

/** The reader of the segment an image is in, placed at the image. */
function readerAt(readers: readonly Reader[], where: number): Reader {
  const reader = readers[Math.floor(where / SEGMENT_STRIDE)] as Reader;
  reader.at = where % SEGMENT_STRIDE;
  return reader;
}

/** Writes a run checked by {@link checkRun}: each last image, then the run's time and count. */
function applyRun(state: EngineState, sources: Sources, run: Run): void {
  const { readers } = sources;
  for (const [index, where] of run.pools) {
    const reader = readerAt(readers, where);
    const pool: PoolState = {
      cash: reader.big(),
      supplyScaled: reader.big(),
      borrowScaled: reader.big(),
      treasuryScaled: reader.big(),
      supplyIndexRay: reader.big(),
      borrowIndexRay: reader.big(),
      accruedAt: reader.f64(),
    };
    writePool((state.assets[index] as AssetState).pool, pool);
  }
  for (const [index, where] of run.prices) {
    const asset = state.assets[index] as AssetState;
    const reader = readerAt(readers, where);
    const oraclePrice = reader.big();
    const stablePrice = reader.big();
    // Images carry prices set directly; an oracle's confidence (never changed by a run) stays.
    const confidence = asset.oracle?.confidence ?? 0n;
    overwrite(asset, { risk: assetRisk(asset.config, oraclePrice, stablePrice, confidence) });
  }
  for (const where of run.instruments.values()) applyInstrument(state, readerAt(readers, where));
  for (const [asset, where] of run.volatilities) {
    state.volatilities.set(asset, readerAt(readers, where).big());
  }
  for (const [key, where] of run.subs) {
    const account = sources.accounts[Math.floor(key / 256)] as string;
    const format1 = sources.versions[Math.floor(where / SEGMENT_STRIDE)] === FORMAT_1;
    applySub(state, readerAt(readers, where), account, format1);
  }
  state.time = run.time;
  state.sequence += run.accepted;
}

/** An instrument's image: its state changes, its listing and oracle stay (a new object, as `commit` makes). */
function applyInstrument(state: EngineState, reader: Reader): void {
  const index = reader.u16();
  const listed = state.instruments[index] as InstrumentState;
  const mark = reader.big();
  const fundingIndex = reader.big();
  const fundingAt = reader.f64();
  const openInterest = reader.big();
  const flags = reader.u8();
  const settlementPrice = (flags & HAS_SETTLEMENT_PRICE) !== 0 ? reader.big() : null;
  const settled = (flags & SETTLED) !== 0;
  state.instruments[index] = {
    ...listed,
    mark,
    fundingIndex,
    fundingAt,
    openInterest,
    settlementPrice,
    settled,
  };
}

/**
 * A sub-account's image: its balances, written in place when it holds the same assets, and its
 * book (format 1: the book it has stays).
 */
function applySub(state: EngineState, reader: Reader, account: string, format1: boolean): void {
  const number = reader.u8();
  const count = reader.u8();
  const start = reader.at;
  const held = count > 0 ? writeInPlace(state, reader, account, number, count) : undefined;
  if (held !== undefined) {
    if (format1) return;
    const book = readBook(reader);
    if (book !== held.derivatives) overwrite(held, { derivatives: book });
    return;
  }
  reader.at = start;
  const positions: ScaledPosition[] = new Array<ScaledPosition>(count);
  for (let p = 0; p < count; p++) positions[p] = { asset: reader.u8(), scaled: reader.big() };
  const derivatives = format1
    ? findSubAccount(state.accounts.get(account), number)?.derivatives
    : readBook(reader);
  const next: SubAccountState =
    derivatives === undefined ? { number, positions } : { number, positions, derivatives };
  writeSubAccount(state, { account, subAccount: number }, next);
}

/** A book's image; undefined for none. */
function readBook(reader: Reader): DerivativesBook | undefined {
  const mode = reader.u8();
  if (mode === 0) return undefined;
  const count = reader.u16();
  const positions = new Array<DerivativePosition>(count);
  for (let p = 0; p < count; p++) {
    const instrument = reader.u16();
    positions[p] = { instrument, size: reader.big(), quote: reader.big(), funding: reader.big() };
  }
  return { mode: MODES[mode - 1] as MarginMode, positions, unsettled: reader.big() };
}

/**
 * The common case, written without allocating anything but the balances: the sub-account
 * exists and holds the same assets, in the same order, as the image. Returns it, the reader
 * after the balances; undefined (nothing written) otherwise.
 */
function writeInPlace(
  state: EngineState,
  reader: Reader,
  account: string,
  number: number,
  count: number,
): SubAccountState | undefined {
  const held = findSubAccount(state.accounts.get(account), number);
  if (held === undefined || held.positions.length !== count) return undefined;
  const positions = held.positions as { asset: number; scaled: bigint }[];
  const start = reader.at;
  for (let p = 0; p < count; p++) {
    if (reader.u8() !== positions[p]?.asset) return undefined;
    reader.skipBig();
  }
  reader.at = start;
  for (let p = 0; p < count; p++) {
    reader.at++;
    (positions[p] as { scaled: bigint }).scaled = reader.big();
  }
  return held;
}

/** A cursor over a segment's bytes; reading past the end throws RangeError. */
class Reader {
  at = 0;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  u8(): number {
    if (this.at >= this.bytes.length) throw new RangeError('past the end');
    return this.bytes[this.at++] as number;
  }

  u16(): number {
    const value = this.view.getUint16(this.at, true);
    this.at += 2;
    return value;
  }

  u32(): number {
    const value = this.view.getUint32(this.at, true);
    this.at += 4;
    return value;
  }

  f64(): number {
    const value = this.view.getFloat64(this.at, true);
    this.at += 8;
    return value;
  }

  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.u8();
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new RangeError('varint too long');
  }

  bytesOf(length: number): Uint8Array {
    if (this.at + length > this.bytes.length) throw new RangeError('past the end');
    const slice = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return slice;
  }

  ascii(length: number): string {
    const slice = this.bytesOf(length);
    let text = '';
    for (let i = 0; i < slice.length; i++) text += String.fromCharCode(slice[i] as number);
    return text;
  }

  big(): bigint {
    const header = this.u8();
    const limbs = header & 0x7f;
    if (limbs === 0) return 0n;
    let magnitude = this.view.getBigUint64(this.at, true);
    if (limbs > 1) {
      for (let i = 1; i < limbs; i++) {
        magnitude |= this.view.getBigUint64(this.at + 8 * i, true) << BigInt(64 * i);
      }
    }
    this.at += 8 * limbs;
    return header >= 0x80 ? -magnitude : magnitude;
  }

  /** Skips a bigint; returns its number of limbs (0: zero). */
  skipBig(): number {
    const limbs = this.u8() & 0x7f;
    this.at += 8 * limbs;
    if (this.at > this.bytes.length) throw new RangeError('past the end');
    return limbs;
  }
}
