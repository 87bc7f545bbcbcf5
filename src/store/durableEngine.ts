/**
 * The durable engine: the in-memory engine with a journal behind it. A command is applied in
 * memory, written to the journal with its outcome, its events and its effects (what it changed,
 * as after-images: recovery applies them instead of re-executing it), and acknowledged (its
 * promise resolves) only once the write is durable. Writes are batched: every command submitted while
 * a write is being made goes into the next one (group commit), so durability costs one
 * transaction per batch, not per command, and the next batch is prepared while the store
 * writes the last. Snapshots are taken at batch boundaries, where the
 * in-memory state is exactly the state after the batch's last record.
 *
 * If the journal cannot be written (a full disk, a read-only folder), the engine stops: the
 * commands of the failed batch and every later one are refused with the storage error, and the
 * in-memory state, now ahead of the journal, is never used again. What was acknowledged stays
 * durable; reopening recovers it.
 */
import { type CommandResult, applyCommand } from '../engine/apply.js';
import { encodeCommand } from '../engine/commandCodec.js';
import type { Command } from '../engine/commands.js';
import type { Draft } from '../engine/draft.js';
import { EffectsWriter } from '../engine/effects.js';
import { decodeJson, Engine } from '../engine/engine.js';
import { renderEventsJson } from '../engine/render.js';
import { serializeState } from '../engine/snapshotCodec.js';
import { ACCOUNT_ID_PATTERN } from '../domain/limits.js';
import { assert, FulcrumError } from '../base/errors.js';
import type { SnapshotRecord } from './journal.js';
import { defaultWarn, recover, type RecoveryReport } from './recovery.js';
import { defaultSnapshotWorker, SnapshotFollower } from './snapshotFollower.js';
import { snapshotOf } from './snapshots.js';
import { type JournalStore, type RecordBatch, StoreError } from './store.js';

/**
 * Writes sent to the store before the first is done: two keep the writer busy while the engine
 * prepares the next batch. Stores write in order, so acknowledgements stay in order.
 */
const WRITES_IN_FLIGHT = 2;

export interface DurableEngineOptions {
  /** Journal records between snapshots, at least. Default 100,000. */
  readonly snapshotEvery?: number;
  /**
   * Journal records between snapshots for each account the state holds, when that is more than
   * {@link snapshotEvery}. A snapshot takes time proportional to the state (5 to 9 µs an
   * account: 5 to 9 s for a million), on the engine's thread or a follower's (see
   * `snapshotWorker`), so a fixed interval would make a large venue spend most of its time
   * snapshotting; scaled, a snapshot costs about a tenth of the engine's time over its interval, and recovery replays about this many records per account
   * after it. Default 10; 0 keeps the interval at `snapshotEvery` whatever the state's size.
   */
  readonly snapshotPerAccount?: number;
  /**
   * The snapshot worker script (`snapshotWorker.js` of the compiled package), or null to build
   * snapshots on the engine's thread. Default: the script beside this module (the package) on
   * a machine of four cores or more, otherwise null (see `defaultSnapshotWorker`). With a worker,
   * a follower thread keeps a copy of the state from the effects segments and builds the
   * snapshots, and the engine does not pause for one while commands flow (it serializes the
   * recovered state once, at `open`, to start the follower; see `snapshotFollower.ts`).
   */
  readonly snapshotWorker?: URL | null;
  /**
   * Records a follower may fall behind before it is dropped (its queue holds their effects,
   * 29 bytes each over the bench's mix). Default 4,000,000.
   */
  readonly followerLagLimit?: number;
  /** Most records written in one transaction. Default 8,192. */
  readonly batchMax?: number;
  /** Where recovery warnings go. Default: standard error. */
  readonly warn?: (message: string) => void;
}

/** A command's result once durable: the journal position it was written at. */
export type JournaledResult = CommandResult & {
  /** Journal position, or null for input that never became a command (malformed JSON fields). */
  readonly seq: number | null;
};

/** A caller waiting for journal position `seq` to be durable. */
interface Waiter {
  readonly seq: number;
  /** What the promise resolves with: the result, for `submit`. */
  readonly value: JournaledResult | undefined;
  readonly resolve: (value: JournaledResult | undefined) => void;
  readonly reject: (error: StoreError) => void;
}

/**
 * An `Engine` with a journal behind it (see the module's comment above): `submit` and
 * `submitJson` apply a command in memory and resolve once it is durable, with its journal
 * position; `open` recovers what the store holds first. Read the state from `engine`.
 *
 * @example
 * import { mkdtempSync, rmSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { DurableEngine, SqliteStore } from 'fulcrum/store';
 *
 * const folder = mkdtempSync(join(tmpdir(), 'fulcrum-'));
 * const durable = await DurableEngine.open(new SqliteStore(folder));
 * await durable.submitJson({
 *   type: 'list-asset',
 *   time: 0,
 *   price: '2000',
 *   config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
 * });
 * // Resolves once the command is durable, at journal position `seq`.
 * const result = await durable.submitJson({
 *   type: 'deposit',
 *   time: 1,
 *   account: 'alice',
 *   asset: 'ETH',
 *   amount: '10',
 * });
 * console.log(result.ok, result.seq);
 * // → true 2
 * const hash = durable.engine.hash();
 * await durable.close();
 *
 * // Reopening recovers the same state from the journal.
 * const reopened = await DurableEngine.open(new SqliteStore(folder));
 * console.log(reopened.recovery.seq, reopened.engine.hash() === hash);
 * // → 2 true
 * await reopened.close();
 * rmSync(folder, { recursive: true });
 */
export class DurableEngine {
  /**
   * The in-memory engine: read from it freely; change it only through this durable engine's
   * `submit`, `submitPipelined` and `submitJson`.
   */
  readonly engine: Engine;
  readonly store: JournalStore;
  readonly recovery: RecoveryReport;
  private readonly snapshotEvery: number;
  private readonly snapshotPerAccount: number;
  private readonly batchMax: number;
  private seq: number;
  private durable: number;
  /** Position of the last snapshot taken, or asked of the follower. */
  private lastSnapshot: number;
  /** Position of the last snapshot handed to the store. */
  private lastWritten: number;
  /** Whether the follower's end was seen (what it was asked for then never comes). */
  private followerGone = false;
  /**
   * Records applied but not yet handed to the store: batches of at most `batchMax`, oldest first,
   * the last one open. Each store keeps a batch its own way (the SQLite store as the bytes it
   * will write): records that waited as objects long enough to survive two young-generation
   * collections were copied and promoted, which cost more than applying their commands.
   */
  private readonly batches: {
    records: RecordBatch;
    last: number;
    /** A snapshot of the state at the batch's end, taken as it filled. */
    snapshot?: SnapshotRecord;
  }[] = [];
  /** Callers waiting for a position to be durable, in order of position; `waitersHead` on. */
  private waiters: Waiter[] = [];
  private waitersHead = 0;
  /** Writes on their way to the store: up to {@link WRITES_IN_FLIGHT}, finished in order. */
  private readonly writing = new Set<Promise<void>>();
  private scheduled = false;
  private failure: StoreError | null = null;
  /** The effects of the commands not yet handed to the store, in segments of a batch each. */
  private readonly effects: EffectsWriter;
  /** The stored form of the command being applied, for the effects of one kept as its command. */
  private commandText = '';
  private readonly captureEffects = (draft: Draft): void =>
    this.effects.accepted(draft, this.commandText);
  /** Builds snapshots off the engine's thread while it follows; null: they are built here. */
  private follower: SnapshotFollower | null = null;
  private readonly warn: (message: string) => void;

  private constructor(
    store: JournalStore,
    engine: Engine,
    recovery: RecoveryReport,
    options: DurableEngineOptions,
  ) {
    this.store = store;
    this.engine = engine;
    this.recovery = recovery;
    this.snapshotEvery = options.snapshotEvery ?? 100_000;
    this.snapshotPerAccount = options.snapshotPerAccount ?? 10;
    this.batchMax = options.batchMax ?? 8_192;
    // Segments of at most batchMax records: each write takes one batch, of at most batchMax.
    this.effects = new EffectsWriter(this.batchMax);
    this.seq = recovery.seq;
    this.durable = recovery.seq;
    this.lastSnapshot = recovery.snapshotSeq ?? 0;
    this.lastWritten = this.lastSnapshot;
    this.warn = options.warn ?? defaultWarn;
  }

  /** Whether snapshots are being built off the engine's thread, by a follower. */
  get snapshotsOffThread(): boolean {
    return this.follower?.active === true;
  }

  /**
   * Opens a durable engine on `store`: recovers what the store holds, then takes commands. If
   * that fails, the store is closed (releasing its lock and its connection) and the error thrown.
   *
   * @example
   * const durable = await DurableEngine.open(new SqliteStore('fulcrum-data'));
   * const result = await durable.submitJson({ type: 'accrue', time: 5, asset: 'ETH' });
   */
  static async open(
    store: JournalStore,
    options: DurableEngineOptions = {},
  ): Promise<DurableEngine> {
    try {
      const recovered =
        options.warn === undefined
          ? await recover(store)
          : await recover(store, { warn: options.warn });
      const durable = new DurableEngine(
        store,
        new Engine(recovered.state),
        recovered.report,
        options,
      );
      // Newer snapshots that could not be used (damaged, or written by an earlier Fulcrum in
      // another format) are replaced at once: otherwise every opening replays as far again.
      const { snapshotsPassedOver, seq } = recovered.report;
      if (snapshotsPassedOver > 0 && seq > (recovered.report.snapshotSeq ?? 0)) {
        await durable.snapshot();
      }
      const script =
        options.snapshotWorker === undefined ? defaultSnapshotWorker() : options.snapshotWorker;
      if (script !== null) {
        const text = serializeState(recovered.state);
        durable.follower = await SnapshotFollower.start(script, durable.seq, text, {
          warn: durable.warn,
          ...(options.followerLagLimit === undefined ? {} : { lagLimit: options.followerLagLimit }),
        });
      }
      return durable;
    } catch (error) {
      await store.close().catch(() => undefined);
      throw error;
    }
  }

  /** Journal position of the last command submitted. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Journal position of the last durable (acknowledged) command. */
  get durableSeq(): number {
    return this.durable;
  }

  /**
   * Applies a command and resolves with its result once it is durable. A refused command is
   * journaled too, with its code: replay checks that it is refused again.
   */
  submit(command: Command): Promise<JournaledResult> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const result = this.submitPipelined(command);
    // A write that failed while the command was being submitted stopped the engine already.
    if (this.failure !== null) return Promise.reject(this.failure);
    // One promise per command, resolved with the result itself.
    return new Promise((resolve, reject) => {
      this.wait({ seq: this.seq, value: result, resolve: resolve as Waiter['resolve'], reject });
    });
  }

  /**
   * Applies a command now and queues its record for the journal, returning its result and
   * journal position at once: the pipelined form of {@link submit}, for a gateway that answers
   * many clients. The result must not be shown to anyone before {@link whenDurable} resolves
   * for its position; if the journal fails first, that promise rejects and the result never
   * happened (recovery will not know it). Throws the storage error once the engine has stopped.
   *
   * @example
   * const result = durable.submitPipelined(command);
   * await durable.whenDurable(result.seq);  // then answer the client
   */
  submitPipelined(command: Command): JournaledResult {
    if (this.failure !== null) throw this.failure;
    this.commandText = encodeCommand(command);
    const result = applyCommand(this.engine.state, command, this.captureEffects);
    if (!result.ok) this.effects.refused();
    this.seq += 1;
    let open = this.batches.at(-1);
    if (open === undefined || open.records.length >= this.batchMax) {
      open = { records: this.store.batch(), last: 0 };
      this.batches.push(open);
    }
    open.records.add({
      seq: this.seq,
      time: Number.isSafeInteger(command.time) ? command.time : 0,
      command: this.commandText,
      outcome: result.ok ? 'ok' : result.error.code,
      events: result.ok ? renderEventsJson(result.events) : '[]',
      accounts: accountsOf(command, result),
    });
    open.last = this.seq;
    if (open.records.length >= this.batchMax) this.filled(open);
    this.schedule();
    return journaled(result, this.seq);
  }

  /**
   * Resolves once journal position `seq` is durable (at once if it is); rejects with the
   * storage error if the journal fails before.
   */
  whenDurable(seq: number): Promise<void> {
    if (!Number.isSafeInteger(seq) || seq < 0) {
      return Promise.reject(new RangeError(`a journal position is a whole number, not ${seq}`));
    }
    if (seq <= this.durable) return Promise.resolve();
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.wait({ seq, value: undefined, resolve: resolve as Waiter['resolve'], reject });
    });
  }

  /**
   * Queues a waiter in order of position (writes resolve them from the front, up to the
   * position made durable): at the end for `submit`, in its place for `whenDurable`.
   */
  private wait(waiter: Waiter): void {
    const { waiters } = this;
    let at = waiters.length;
    while (at > this.waitersHead && (waiters[at - 1] as Waiter).seq > waiter.seq) at--;
    if (at === waiters.length) waiters.push(waiter);
    else waiters.splice(at, 0, waiter);
  }

  /**
   * Decodes and submits a JSON command. Input that is not a command (malformed fields, unknown
   * asset in an amount) is refused at once, changes nothing and is not journaled.
   */
  submitJson(input: unknown): Promise<JournaledResult> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const decoded = decodeJson(input, this.engine.state);
    if (decoded instanceof FulcrumError) {
      return Promise.resolve({ ok: false, error: decoded, seq: null });
    }
    return this.submit(decoded);
  }

  /**
   * Resolves once fewer than `records` submitted commands wait to be durable: backpressure for
   * a producer that submits faster than the store writes.
   */
  async backlogBelow(records: number): Promise<void> {
    while (this.failure === null && this.seq - this.durable >= records && this.writing.size > 0) {
      await Promise.race(this.writing);
    }
    if (this.failure !== null) throw this.failure;
  }

  /** Resolves once every command submitted so far is durable. */
  async flush(): Promise<void> {
    while (this.failure === null && (this.batches.length > 0 || this.writing.size > 0)) {
      if (this.batches.length > 0 && this.writing.size < WRITES_IN_FLIGHT) {
        this.startWrite();
        continue;
      }
      await Promise.race(this.writing);
    }
    await Promise.all(this.writing);
    if (this.failure !== null) throw this.failure;
  }

  /** Takes a snapshot now (after making everything durable). */
  async snapshot(): Promise<void> {
    await this.flush();
    await this.store.append([], this.takeSnapshot());
    this.lastSnapshot = this.seq;
    this.lastWritten = this.seq;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
      // A snapshot the follower finished after the last batch is written before closing.
      const finished = this.follower?.take();
      if (finished !== undefined) await this.store.append([], finished);
    } finally {
      await this.follower?.close();
      await this.store.close();
    }
  }

  private schedule(): void {
    // Batches close only when full: the oldest is full whenever another has opened behind it.
    const full = (this.batches[0]?.records.length ?? 0) >= this.batchMax;
    if (full && this.writing.size < WRITES_IN_FLIGHT) {
      this.startWrite();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.batches.length > 0 && this.writing.size < WRITES_IN_FLIGHT) this.startWrite();
    });
  }

  /**
   * A batch just filled: the state is exactly at its end, so a snapshot due (and not left to a
   * follower) is taken now. Under load that never lets the batches drain, this is the only
   * place the state is at a batch's end.
   */
  private filled(batch: { last: number; snapshot?: SnapshotRecord }): void {
    this.noteFollower();
    if (this.follower?.active === true) return;
    if (!this.snapshotDue(batch.last)) return;
    try {
      batch.snapshot = this.takeSnapshot();
      this.lastSnapshot = batch.last;
    } catch (error) {
      this.fail(error);
    }
  }

  private startWrite(): void {
    const batch = this.batches.shift();
    if (batch === undefined) return;
    const { records, last } = batch;
    let snapshot = batch.snapshot;
    let effects: Uint8Array;
    try {
      const { follower } = this;
      // A snapshot the follower finished since the last batch (of an earlier position) goes
      // with this one; one it finished before it stopped too.
      snapshot ??= follower?.take();
      if (snapshot !== undefined) this.lastSnapshot = Math.max(this.lastSnapshot, snapshot.seq);
      const segment = this.effects.take();
      assert(
        segment?.records === records.length,
        `an effects segment of ${segment?.records} records for a batch of ${records.length}`,
      );
      effects = segment.bytes;
      if (follower?.active === true) {
        // The follower snapshots the state at the batch's end, one snapshot at a time.
        const ask = this.snapshotDue(last) && !follower.building;
        if (follower.follow(last, records.length, effects, ask) && ask) this.lastSnapshot = last;
      }
      this.noteFollower(snapshot?.seq);
      // Without a follower, only where nothing was applied after the batch is the state exactly
      // the batch's end (taking the effects read it, and changed nothing).
      if (
        follower?.active !== true &&
        snapshot === undefined &&
        this.batches.length === 0 &&
        this.snapshotDue(last)
      ) {
        snapshot = this.takeSnapshot();
        this.lastSnapshot = snapshot.seq;
      }
      if (snapshot !== undefined) this.lastWritten = Math.max(this.lastWritten, snapshot.seq);
    } catch (error) {
      // The batch cannot be written whole: the engine stops, as for a failed write.
      this.fail(error);
      return;
    }
    const write: Promise<void> = this.write(records, last, snapshot, effects).finally(() => {
      this.writing.delete(write);
      if (this.batches.length > 0 && this.failure === null) this.schedule();
    });
    this.writing.add(write);
  }

  private async write(
    records: RecordBatch,
    last: number,
    snapshot: SnapshotRecord | undefined,
    effects: Uint8Array,
  ): Promise<void> {
    try {
      await this.store.append(records, snapshot, effects);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.durable = last;
    const { waiters } = this;
    let head = this.waitersHead;
    while (head < waiters.length && (waiters[head] as Waiter).seq <= last) {
      const waiter = waiters[head] as Waiter;
      waiter.resolve(waiter.value);
      head += 1;
    }
    if (head === waiters.length) {
      this.waiters = [];
      this.waitersHead = 0;
    } else if (head > 1_024 && head * 2 > waiters.length) {
      // Under steady load some waiter is always pending: drop the resolved ones now and then.
      waiters.splice(0, head);
      this.waitersHead = 0;
    } else {
      this.waitersHead = head;
    }
  }

  private fail(error: unknown): void {
    const failure =
      error instanceof StoreError
        ? error
        : new StoreError('store_failed', error instanceof Error ? error.message : String(error));
    // A later write in flight fails too (stores refuse every write after a failed one): the
    // first failure is the one reported.
    this.failure ??= new StoreError(
      failure.code,
      `${failure.message}; the engine has stopped: nothing after journal record ${this.durable} was acknowledged`,
    );
    this.batches.length = 0;
    // Its copy of the state is of no more use.
    void this.follower?.close();
    const waiting = this.waiters.slice(this.waitersHead);
    this.waiters = [];
    this.waitersHead = 0;
    // Those left wait for positions past `durable`: each one at or before it was resolved by the
    // write that made it durable, and stays acknowledged.
    for (const waiter of waiting) waiter.reject(this.failure);
  }

  /** Whether a snapshot of the state at journal position `seq` is due. */
  private snapshotDue(seq: number): boolean {
    return seq - this.lastSnapshot >= this.snapshotInterval();
  }

  /** Journal records between snapshots for the state as it is now. */
  private snapshotInterval(): number {
    return Math.max(this.snapshotEvery, this.snapshotPerAccount * this.engine.state.accounts.size);
  }

  /**
   * Once the follower has stopped, what it was asked for will not come: snapshots go on from
   * the last one written, on the engine's thread.
   */
  private noteFollower(taken = 0): void {
    if (this.follower === null || this.follower.active || this.followerGone) return;
    this.followerGone = true;
    // From the last written, or the one about to be (`taken`).
    this.lastSnapshot = Math.max(this.lastWritten, taken);
  }

  private takeSnapshot(): SnapshotRecord {
    return snapshotOf(this.engine.state, this.seq);
  }
}

/**
 * A result with its journal position, its fields written out: an object spread is a slow
 * generic copy, and this runs once per acknowledged command.
 */
function journaled(result: CommandResult, seq: number): JournaledResult {
  return result.ok
    ? {
        ok: true,
        sequence: result.sequence,
        time: result.time,
        events: result.events,
        touched: result.touched,
        seq,
      }
    : { ok: false, error: result.error, seq };
}

const NO_ACCOUNTS: readonly string[] = [];

/**
 * The account identifiers a command touches, for history queries: those it names (the account,
 * both sides of a transfer or a fill, a liquidator and its target), and, for the commands that
 * reach accounts they do not name, those their events name: the counterparties of an
 * auto-deleveraging, the holders an expiry settled, the owner of a withdrawal a vault paid or
 * that came back. Each once, in the order met.
 */
function accountsOf(command: Command, result: CommandResult): readonly string[] {
  switch (command.type) {
    case 'transfer':
      return named([command.from.account, command.to.account]);
    case 'trade':
      return named([command.buyer.account, command.seller.account]);
    case 'liquidate':
    case 'liquidate-position':
      return named([command.liquidator.account, command.target.account]);
    case 'backstop':
    case 'resolve-bankruptcy':
      return named([command.target.account]);
    case 'deleverage': {
      const ids = [command.target.account];
      if (result.ok) {
        for (const event of result.events) {
          if (event.type === 'deleveraged') ids.push(event.counterparty.account);
        }
      }
      return named(ids);
    }
    case 'expire':
    case 'chain-withdrawal-paid':
    case 'chain-withdrawal-expired': {
      const ids: string[] = [];
      if (result.ok) {
        for (const event of result.events) {
          if (
            event.type === 'pnl-settled' ||
            event.type === 'chain-withdrawal-paid' ||
            event.type === 'chain-withdrawal-returned'
          ) {
            ids.push(event.account);
          }
        }
      }
      return named(ids);
    }
    default:
      break;
  }
  if (!('account' in command)) return NO_ACCOUNTS;
  const id = command.account;
  return typeof id === 'string' && ACCOUNT_ID_PATTERN.test(id) ? [id] : NO_ACCOUNTS;
}

/** The well-formed identifiers among `ids`, each once. */
function named(ids: readonly unknown[]): readonly string[] {
  const out: string[] = [];
  for (const id of ids) {
    if (typeof id === 'string' && ACCOUNT_ID_PATTERN.test(id) && !out.includes(id)) out.push(id);
  }
  return out;
}
