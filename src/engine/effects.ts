/**
 * The effects journal: what each accepted command changed, as after-images (each changed pool,
 * each changed asset's prices, each changed sub-account's positions), in compact binary
 * segments, one per journal batch. Recovery applies them instead of re-executing the commands:
 * an image is written, not computed. A segment is applied whole, so within a run of records
 * (those between two kept commands, or a segment's ends) only the last image of each pool or
 * sub-account matters: sub-accounts are written with each record (their images come from the
 * draft, and most commands touch a different one), while the pools and prices a run changed,
 * which nearly every command touches, are written once, from the state, into the run's last
 * CHANGES record when the run ends. The commands stay in the journal: `fulcrum verify`
 * re-executes them and checks that both roads reach the same state.
 *
 * Commands whose changes are not images of pools, prices and positions (a listing, new weights,
 * an oracle's quote, a liquidation, which also moves the liquidation throttle) are kept as their
 * stored text and re-executed in their place: the state before them is exact, so their replay is.
 *
 * A segment, all integers little-endian:
 *
 * ```
 * segment   := version:u8 record*
 * record    := REFUSED:u8                                  a refused command changed nothing
 *            | CHANGES:u8 time:f64 assets:u8 subs:u16 asset{assets} sub{subs}
 *            | COMMAND:u8 bytes:u32 utf8{bytes}            stored command, re-executed
 * asset     := index:u8 flags:u8 [pool] [prices]           flags: 1 pool, 2 prices
 * pool      := cash supplyScaled borrowScaled treasuryScaled supplyIndexRay borrowIndexRay
 *              accruedAt:f64                               (the first six are bigints)
 * prices    := oraclePrice stablePrice                     risk is rebuilt from them
 * sub       := account number:u8 positions:u8 (asset:u8 scaled){positions}
 * account   := ref:varint [length:u8 ascii{length}]        a ref equal to the number of
 *                                                          accounts named so far in the segment
 *                                                          names a new one, spelled out after it
 * bigint    := header:u8 limb:u64{header & 0x7f}           magnitude in 64-bit limbs, low first;
 *                                                          header bit 7: negative
 * ```
 *
 * Part of the core: no I/O, no clock; the stores add the checksums.
 */
import { LIMITS } from '../domain/limits.js';
import { assetRisk } from '../margin/assetRisk.js';
import type { PoolState } from '../pools/pool.js';
import { applyCommand } from './apply.js';
import { grownBytes } from './bytes.js';
import { decodeStoredCommand } from './commandCodec.js';
import { type Draft, type DraftChanges, overwrite, writePool, writeSubAccount } from './draft.js';
import {
  type EngineState,
  findSubAccount,
  positionLimit,
  type ScaledPosition,
  type SubAccountState,
} from './state.js';

/** Version byte that opens every segment; a change of layout must change it. */
export const EFFECTS_FORMAT_VERSION = 1;

const REFUSED = 0;
const CHANGES = 1;
const COMMAND = 2;

/** Bytes of a CHANGES record's header (kind, time, assets, subs), and where `assets` is in it. */
const CHANGES_HEADER = 12;
const CHANGES_ASSETS_AT = 9;

const POOL = 1;
const PRICES = 2;

const U64 = (1n << 64n) - 1n;
/** Largest bigint a segment holds: 127 limbs of 64 bits. */
const LIMBS_MAX = 127;

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
    const { assets, subAccounts, liquidationState } = draft.changes();
    if (liquidationState || !this.imagesSuffice(draft, assets, subAccounts)) {
      // The state is still the run's end here: the command is committed after this returns.
      this.endRun();
      this.command(commandText);
    } else {
      this.lastChanges = this.at;
      this.reserve(CHANGES_HEADER);
      this.bytes[this.at++] = CHANGES;
      this.view.setFloat64(this.at, draft.time, true);
      this.at += 8;
      // No asset images yet: the run's last CHANGES record gets them when the run ends.
      this.bytes[this.at++] = 0;
      this.view.setUint16(this.at, subAccounts.length, true);
      this.at += 2;
      const listed = draft.base.assets;
      for (const asset of assets) {
        const before = listed[asset.index];
        const flags =
          (asset.pool !== before?.pool ? POOL : 0) | (asset.risk !== before?.risk ? PRICES : 0);
        if (flags === 0) continue;
        const was = this.dirtyAssets[asset.index] ?? 0;
        if (was === 0) this.dirtyOrder.push(asset.index);
        this.dirtyAssets[asset.index] = was | flags;
      }
      for (const { ref, state } of subAccounts) {
        this.account(ref.account);
        const { positions } = state;
        this.reserve(2);
        this.bytes[this.at++] = ref.subAccount;
        this.bytes[this.at++] = positions.length;
        for (const position of positions) {
          this.reserve(1);
          this.bytes[this.at++] = position.asset;
          this.big(position.scaled);
        }
      }
    }
    this.close();
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
   * Ends the run: the images of the pools and prices it changed, read from the state as it
   * stands (the run's end), go into its last CHANGES record, before that record's sub-account
   * images (the bytes after them move up).
   */
  private endRun(): void {
    const { dirtyOrder } = this;
    if (dirtyOrder.length === 0) return;
    const state = this.state as EngineState;
    const tailStart = this.lastChanges + CHANGES_HEADER;
    const tailEnd = this.at;
    for (const index of dirtyOrder) {
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
    // [tailStart, tailEnd) holds the record's sub-account images and the records after it;
    // [tailEnd, at) the asset images: swap the two.
    const tail = this.bytes.slice(tailStart, tailEnd);
    this.bytes.copyWithin(tailStart, tailEnd, this.at);
    this.bytes.set(tail, tailStart + (this.at - tailEnd));
    this.bytes[this.lastChanges + CHANGES_ASSETS_AT] = dirtyOrder.length;
    dirtyOrder.length = 0;
  }

  /**
   * Finishes a segment that filled at its last record, before the next command is applied,
   * where the state is the segment's end: its run ends there.
   */
  private settle(): void {
    if (this.records >= this.segmentRecords) this.full.push(this.finish());
  }

  /** Whether the draft's changes are all images this format holds. */
  private imagesSuffice(
    draft: Draft,
    assets: DraftChanges['assets'],
    subAccounts: DraftChanges['subAccounts'],
  ): boolean {
    const listed = draft.base.assets;
    for (const asset of assets) {
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
    if (subAccounts.length > 0xffff) return false;
    for (const { ref } of subAccounts) {
      if (!this.refs.has(ref.account) && !isShortAscii(ref.account)) return false;
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
 * segment is read and checked before the state is touched; an error after that (a re-executed
 * command that is refused, an image of an asset not listed) leaves the state part-way and must
 * stop recovery. An error's `record` counts records from the first segment's first.
 *
 * Records are applied in runs between re-executed commands, runs that go on across segments;
 * within a run only the last image of each pool, each asset's prices and each sub-account is
 * written: the state after the run is the same, and most images are overwritten soon (a
 * sub-account touched a thousand times is written once).
 */
export function applyEffectsInOrder(
  state: EngineState,
  segments: readonly EffectsSegment[],
): EffectsApplied {
  const { steps, accounts, readers } = parseSegments(segments);
  let commands = 0;
  let records = 0;
  for (const segment of segments) records += segment.records;
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
      continue;
    }
    applyRun(state, readers, step, accounts);
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
  /** Where the last image of each sub-account starts, by `account * 256 + number`. */
  readonly subs: Map<number, number>;
  time: number;
  accepted: number;
  /** The record that set `time`. */
  last: number;
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
    subs: new Map(),
    time: -1,
    accepted: 0,
    last: -1,
  };
}

/**
 * Reads every segment, checking its structure, into runs and re-executed commands, with the
 * accounts they name (numbered across the segments) and a reader for each segment.
 */
function parseSegments(segments: readonly EffectsSegment[]): {
  steps: (Run | CommandStep)[];
  accounts: string[];
  readers: Reader[];
} {
  const steps: (Run | CommandStep)[] = [];
  const accounts: string[] = [];
  const accountNumbers = new Map<string, number>();
  const readers: Reader[] = [];
  let run = newRun();
  let time = -1;
  let record = 0;
  for (let segment = 0; segment < segments.length; segment++) {
    const { bytes, records } = segments[segment] as EffectsSegment;
    const reader = new Reader(bytes);
    readers.push(reader);
    const base = segment * SEGMENT_STRIDE;
    // The segment's own account numbers, as numbers across the segments.
    const named: number[] = [];
    const end = record + records;
    try {
      if (reader.u8() !== EFFECTS_FORMAT_VERSION) {
        throw new EffectsError(`not an effects segment of version ${EFFECTS_FORMAT_VERSION}`);
      }
      for (; record < end; record++) {
        const kind = reader.u8();
        if (kind === REFUSED) continue;
        if (kind === COMMAND) {
          const length = reader.u32();
          const text = decoder.decode(reader.bytesOf(length));
          const command = decodeStoredCommand(text);
          if (run.accepted > 0) steps.push(run);
          run = newRun();
          steps.push({ kind: 'command', command, record });
          time = -1;
          continue;
        }
        if (kind !== CHANGES) throw new EffectsError(`unknown record kind ${kind}`, record);
        const at = reader.f64();
        if (!Number.isSafeInteger(at) || at < time || at > LIMITS.timeMax) {
          throw new EffectsError(`time ${at} out of order`, record);
        }
        time = at;
        const assets = reader.u8();
        const subs = reader.u16();
        for (let a = 0; a < assets; a++) {
          const index = reader.u8();
          const flags = reader.u8();
          if (index >= LIMITS.assets || flags === 0 || flags > (POOL | PRICES)) {
            throw new EffectsError(`bad asset image (asset ${index}, flags ${flags})`, record);
          }
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
        for (let s = 0; s < subs; s++) {
          const ref = reader.varint();
          if (ref === named.length) {
            const name = reader.ascii(reader.u8());
            let number = accountNumbers.get(name);
            if (number === undefined) {
              number = accounts.length;
              accounts.push(name);
              accountNumbers.set(name, number);
            }
            named.push(number);
          } else if (ref > named.length) {
            throw new EffectsError(`account ${ref} used before it is named`, record);
          }
          const image = reader.at;
          const number = reader.u8();
          const positions = reader.u8();
          const holder = accounts[named[ref] as number] as string;
          if (number >= LIMITS.subAccountsPerAccount || positions > positionLimit(holder, number)) {
            throw new EffectsError(`bad sub-account image`, record);
          }
          for (let p = 0; p < positions; p++) {
            if (reader.u8() >= LIMITS.assets) throw new EffectsError('bad position', record);
            reader.skipBig();
          }
          run.subs.set((named[ref] as number) * 256 + number, base + image);
        }
        run.time = time;
        run.last = record;
        run.accepted++;
      }
      if (reader.at !== bytes.length) {
        throw new EffectsError(
          `${bytes.length - reader.at} bytes after the segment's ${records} records`,
        );
      }
    } catch (error) {
      if (error instanceof EffectsError) throw error;
      // A read past the end (RangeError), bad UTF-8 (TypeError) or a command text that does not
      // decode (FulcrumError): the segment is not what its writer wrote.
      throw new EffectsError(
        `record ${record} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
        record,
      );
    }
  }
  if (run.accepted > 0) steps.push(run);
  return { steps, accounts, readers };
}

/** The reader of the segment an image is in, placed at the image. */
function readerAt(readers: readonly Reader[], where: number): Reader {
  const reader = readers[Math.floor(where / SEGMENT_STRIDE)] as Reader;
  reader.at = where % SEGMENT_STRIDE;
  return reader;
}

function applyRun(
  state: EngineState,
  readers: readonly Reader[],
  run: Run,
  accounts: readonly string[],
): void {
  if (run.time < state.time) {
    throw new EffectsError(`time ${run.time} is before the state's ${state.time}`, run.last, true);
  }
  for (const [index, where] of run.pools) {
    const asset = listed(state, index, run);
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
    writePool(asset.pool, pool);
  }
  for (const [index, where] of run.prices) {
    const asset = listed(state, index, run);
    const reader = readerAt(readers, where);
    const oraclePrice = reader.big();
    const stablePrice = reader.big();
    // Images carry prices set directly; an oracle's confidence (never changed by a run) stays.
    const confidence = asset.oracle?.confidence ?? 0n;
    overwrite(asset, { risk: assetRisk(asset.config, oraclePrice, stablePrice, confidence) });
  }
  for (const [key, where] of run.subs) {
    const account = accounts[Math.floor(key / 256)] as string;
    const reader = readerAt(readers, where);
    const at = reader.at;
    const number = reader.u8();
    const count = reader.u8();
    if (count > 0 && writeInPlace(state, reader, account, number, count)) continue;
    reader.at = at + 2;
    const positions: ScaledPosition[] = new Array<ScaledPosition>(count);
    for (let p = 0; p < count; p++) {
      const asset = reader.u8();
      if (state.assets[asset] === undefined) {
        throw new EffectsError(`a position in asset ${asset}, which is not listed`, run.last, true);
      }
      positions[p] = { asset, scaled: reader.big() };
    }
    // An image is a sub-account's balances: its derivatives, which change only by commands
    // kept whole in the effects, stay as they are.
    const derivatives = findSubAccount(state.accounts.get(account), number)?.derivatives;
    const next: SubAccountState =
      derivatives === undefined ? { number, positions } : { number, positions, derivatives };
    writeSubAccount(state, { account, subAccount: number }, next);
  }
  state.time = run.time;
  state.sequence += run.accepted;
}

/**
 * The common case, written without allocating anything but the balances: the sub-account
 * exists and holds the same assets, in the same order, as the image. False (nothing written)
 * otherwise.
 */
function writeInPlace(
  state: EngineState,
  reader: Reader,
  account: string,
  number: number,
  count: number,
): boolean {
  const held = findSubAccount(state.accounts.get(account), number);
  if (held === undefined || held.positions.length !== count) return false;
  const positions = held.positions as { asset: number; scaled: bigint }[];
  const start = reader.at;
  for (let p = 0; p < count; p++) {
    if (reader.u8() !== positions[p]?.asset) return false;
    reader.skipBig();
  }
  reader.at = start;
  for (let p = 0; p < count; p++) {
    reader.at++;
    (positions[p] as { scaled: bigint }).scaled = reader.big();
  }
  return true;
}

function listed(state: EngineState, index: number, run: Run) {
  const asset = state.assets[index];
  if (asset === undefined) {
    throw new EffectsError(`an image of asset ${index}, which is not listed`, run.last, true);
  }
  return asset;
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

  skipBig(): void {
    const limbs = this.u8() & 0x7f;
    this.at += 8 * limbs;
    if (this.at > this.bytes.length) throw new RangeError('past the end');
  }
}
