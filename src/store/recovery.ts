/**
 * Recovery: the newest valid snapshot, then the journal after it. Where the journal holds the
 * records' effects (after-images, `engine/effects.ts`, one checksummed segment per batch),
 * recovery applies them instead of re-executing the commands; elsewhere (a journal written
 * before effects were kept, a segment that does not check out, a position inside a batch) it
 * re-executes the commands through the same `applyCommand` as the live engine, checking each
 * record's position, checksum and outcome. The records behind each segment are checked too,
 * against the digest written with it, on the store's side while the effects are applied: a record
 * damaged anywhere stops recovery with an error naming it, whichever road replayed it (unless
 * `checkRecords: false` leaves the records behind sound segments unread). The last record is no
 * exception: both stores write a batch in one transaction, which a crash either leaves whole or
 * undoes, so a record that is there was acknowledged, and one that does not check out is damage,
 * never a write cut short. Recovery reads the journal and never changes it.
 */
import { applyCommand } from '../engine/apply.js';
import { decodeStoredCommand } from '../engine/commandCodec.js';
import { applyEffectsInOrder, EffectsError } from '../engine/effects.js';
import { deserializeState } from '../engine/snapshotCodec.js';
import { createState, type EngineState } from '../engine/state.js';
import {
  effectsChecksum,
  type JournalRecord,
  recordIntact,
  snapshotChecksum,
  type StoredEffects,
} from './journal.js';
import { hashOf } from './snapshots.js';
import { type JournalStore, StoreError } from './store.js';

/** Records read from the store at a time during replay. */
const READ_BATCH = 10_000;
/** Effects segments read from the store at a time. */
const EFFECTS_BATCH = 64;
/**
 * Groups of segments whose records digests may be waited for at once: the store computes one
 * group's while the next is applied, and the check waits only for the group before.
 */
const GROUPS_IN_FLIGHT = 1;

export interface RecoveryReport {
  readonly store: string;
  readonly location: string;
  /** The snapshot recovery started from (journal position), or null for an empty start. */
  readonly snapshotSeq: number | null;
  /**
   * Snapshots newer than that one that could not be used (damaged, or of an earlier format):
   * the durable engine writes a fresh snapshot as it opens, so that the next recovery need not
   * replay as far again.
   */
  readonly snapshotsPassedOver: number;
  /** Records replayed after the snapshot. */
  readonly replayed: number;
  /** Of those, records whose effects were applied (the rest were re-executed). */
  readonly fromEffects: number;
  /** Journal length after recovery. */
  readonly seq: number;
  readonly stateHash: string;
}

export interface Recovered {
  readonly state: EngineState;
  readonly report: RecoveryReport;
}

export interface RecoveryOptions {
  /** Where warnings go (a damaged snapshot or effects segment). Default: standard error. */
  readonly warn?: (message: string) => void;
  /** Replay only up to this journal position (history: the state at a sequence). */
  readonly untilSeq?: number;
  /**
   * Ignore snapshots and effects: re-execute every command from an empty state (verification).
   * Shorthand for `{ snapshots: false, effects: false }`.
   */
  readonly fullReplay?: boolean;
  /** Start from the newest valid snapshot (default true, false under `fullReplay`). */
  readonly snapshots?: boolean;
  /** Apply stored effects where there are some (default true, false under `fullReplay`). */
  readonly effects?: boolean;
  /**
   * Check the records behind each applied segment against the digest written with it (default
   * true). Without it, recovery reads only the effects: faster, and a damaged record that
   * recovery did not need is left for `fulcrum verify` to find.
   */
  readonly checkRecords?: boolean;
}

/** Where warnings go unless told otherwise: standard error. */
export const defaultWarn = (message: string) =>
  process.stderr.write(`fulcrum: warning: ${message}\n`);

/**
 * The state a journal holds: from its newest snapshot that checks out, then each later record's
 * effects (or its command, re-executed, where it has none), every record checked against what
 * it recorded. `DurableEngine.open` runs it; call it directly to read a journal without taking
 * it over (a store opened read-only), or with `untilSeq` for the state at an earlier position.
 * Throws a `StoreError` for a journal that does not replay to what it recorded.
 *
 * @example
 * import { mkdtempSync, rmSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { DurableEngine, recover, SqliteStore } from 'fulcrum/store';
 *
 * const folder = mkdtempSync(join(tmpdir(), 'fulcrum-'));
 * const durable = await DurableEngine.open(new SqliteStore(folder));
 * await durable.submitJson({
 *   type: 'list-asset',
 *   time: 0,
 *   price: '2000',
 *   config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
 * });
 * await durable.submitJson({ type: 'deposit', time: 1, account: 'alice', asset: 'ETH', amount: '10' });
 * await durable.close();
 *
 * const store = new SqliteStore(folder, { readOnly: true });
 * const { state, report } = await recover(store);
 * await store.close();
 * console.log(report.seq, state.accounts.has('alice'));
 * // → 2 true
 * rmSync(folder, { recursive: true });
 */
export async function recover(
  store: JournalStore,
  options: RecoveryOptions = {},
): Promise<Recovered> {
  const warn = options.warn ?? defaultWarn;
  const full = options.fullReplay === true;
  const last = await store.lastSeq();
  const until = Math.min(options.untilSeq ?? last, last);
  const useSnapshots = options.snapshots ?? !full;
  const start = useSnapshots ? await newestValidSnapshot(store, { until, last }, warn) : null;
  const passedOver = useSnapshots
    ? (await store.snapshots()).filter((s) => s.seq <= until && s.seq > (start?.seq ?? -1)).length
    : 0;
  const state = start?.state ?? createState();
  const replay = new Replay(
    store,
    state,
    start?.seq ?? 0,
    last,
    warn,
    options.checkRecords ?? true,
  );
  await replay.run(until, options.effects ?? !full);
  return {
    state,
    report: {
      store: store.kind,
      location: store.location,
      snapshotSeq: start?.seq ?? null,
      snapshotsPassedOver: passedOver,
      replayed: replay.seq - (start?.seq ?? 0),
      fromEffects: replay.fromEffects,
      seq: replay.seq,
      stateHash: hashOf(state),
    },
  };
}

/** The journal after the starting point, replayed into `state`: by effects where it can. */
class Replay {
  seq: number;
  fromEffects = 0;
  private readonly store: JournalStore;
  private readonly state: EngineState;
  private readonly last: number;
  private readonly warn: (message: string) => void;
  private readonly checkRecords: boolean;
  /** Whether checking a group's digests failed (the groups before it checked out). */
  private checkFailed = false;
  /** Records digests asked of the store, a group of segments at a time, checked in order. */
  private readonly digests: { segments: readonly StoredEffects[]; digests: Promise<number[]> }[] =
    [];

  constructor(
    store: JournalStore,
    state: EngineState,
    seq: number,
    last: number,
    warn: (message: string) => void,
    checkRecords: boolean,
  ) {
    this.checkRecords = checkRecords;
    this.store = store;
    this.state = state;
    this.seq = seq;
    this.last = last;
    this.warn = warn;
  }

  async run(until: number, useEffects: boolean): Promise<void> {
    try {
      while (this.seq < until) await this.step(until, useEffects);
    } catch (error) {
      // Every digest asked for is waited for: none is left running. Damage behind a group
      // applied before the failure is where recovery should have stopped: it is named first.
      const settled = await Promise.allSettled(this.digests.map((d) => d.digests));
      if (this.checkFailed) throw error;
      for (const outcome of settled) {
        if (outcome.status === 'rejected') break;
        await this.checkOldestDigest();
      }
      throw error;
    }
    while (this.digests.length > 0) await this.checkOldestDigest();
  }

  /** Replays from `seq` on: a group of segments that check out, one damaged, or commands. */
  private async step(until: number, useEffects: boolean): Promise<void> {
    const segments = useEffects ? await this.store.readEffects(this.seq, EFFECTS_BATCH) : [];
    // The segments that follow on from here, each checking out, go in together.
    const group: StoredEffects[] = [];
    let next = this.seq + 1;
    for (const segment of segments) {
      if (segment.firstSeq !== next || segment.lastSeq > until || !intact(segment)) break;
      group.push(segment);
      next = segment.lastSeq + 1;
    }
    if (group.length > 0) {
      await this.applyGroup(group);
      return;
    }
    const first = segments[0];
    if (first !== undefined && first.firstSeq === this.seq + 1 && first.lastSeq <= until) {
      await this.insteadOfEffects(first, 'are damaged (checksum)');
      return;
    }
    // No segment starts here: commands, up to the next segment or the end.
    const upTo =
      first !== undefined && first.firstSeq > this.seq + 1 && first.firstSeq - 1 < until
        ? first.firstSeq - 1
        : until;
    await this.replayCommands(upTo);
  }

  /**
   * Applies consecutive segments that check out, together (images overwritten in a later
   * segment are not written at all), asking the store for their records' digests meanwhile.
   * A group that cannot be read goes in segment by segment, so that only the one at fault is
   * replaced by its commands.
   */
  private async applyGroup(group: readonly StoredEffects[], askDigests = true): Promise<void> {
    if (askDigests && this.checkRecords) {
      // Asked before the effects are applied, so that the store works on them meanwhile.
      const digests = this.store.recordsChecksums(
        group.map((s) => [s.firstSeq, s.lastSeq] as const),
      );
      // A refusal is taken up when the group is checked; until then it is not unhandled.
      digests.catch(() => undefined);
      this.digests.push({ segments: group, digests });
    }
    const firstSeq = (group[0] as StoredEffects).firstSeq;
    const lastSeq = (group.at(-1) as StoredEffects).lastSeq;
    try {
      applyEffectsInOrder(
        this.state,
        group.map((s) => ({ bytes: s.data, records: s.lastSeq - s.firstSeq + 1 })),
      );
    } catch (error) {
      if (!(error instanceof EffectsError)) throw error;
      if (error.refusedOnReplay !== null && error.record !== null) {
        throw incompatible(firstSeq + error.record, error.refusedOnReplay, 'ok');
      }
      if (error.stateChanged) {
        const where =
          error.record === null
            ? `records ${firstSeq} to ${lastSeq}`
            : `record ${firstSeq + error.record}`;
        throw new StoreError(
          'store_corrupt',
          `the effects of journal ${where} cannot be applied (${error.message}); recovery stopped there`,
        );
      }
      if (group.length > 1) {
        for (const segment of group) await this.applyGroup([segment], false);
        return;
      }
      await this.insteadOfEffects(group[0] as StoredEffects, `cannot be read (${error.message})`);
      return;
    }
    this.seq = lastSeq;
    this.fromEffects += lastSeq - firstSeq + 1;
    while (this.digests.length > GROUPS_IN_FLIGHT) await this.checkOldestDigest();
  }

  /** A segment that cannot be used: its commands are re-executed instead, with a warning. */
  private async insteadOfEffects(segment: StoredEffects, why: string): Promise<void> {
    this.warn(
      `the effects of journal records ${segment.firstSeq} to ${segment.lastSeq} ${why}; re-executing their commands`,
    );
    await this.replayCommands(segment.lastSeq);
  }

  /** Re-executes the commands of records `seq + 1` to `upTo`, checking each. */
  private async replayCommands(upTo: number): Promise<void> {
    await this.eachRecord(this.seq + 1, upTo, (record) => {
      replayRecord(this.state, record, this.seq + 1);
      this.seq = record.seq;
    });
  }

  /** Reads records `from` to `upTo` in order, in batches; a record not there stops recovery. */
  private async eachRecord(
    from: number,
    upTo: number,
    visit: (record: JournalRecord) => void,
  ): Promise<void> {
    let next = from;
    while (next <= upTo) {
      const records = await this.store.readRecords(next - 1, Math.min(READ_BATCH, upTo - next + 1));
      if (records.length === 0) {
        throw new StoreError(
          'store_corrupt',
          `journal record ${next} is missing (the journal ends at ${this.last})`,
        );
      }
      for (const record of records) {
        visit(record);
        next = record.seq + 1;
      }
    }
  }

  /**
   * The records behind the oldest group of applied segments must be those their effects were
   * written with. When they are not, the damaged record is found and named.
   */
  private async checkOldestDigest(): Promise<void> {
    const oldest = this.digests.shift();
    if (oldest === undefined) return;
    try {
      const digests = await oldest.digests;
      for (const [i, segment] of oldest.segments.entries()) {
        if (digests[i] === segment.recordsChecksum) continue;
        let expected = segment.firstSeq;
        await this.eachRecord(segment.firstSeq, segment.lastSeq, (record) =>
          checkRecord(record, expected++),
        );
        throw new StoreError(
          'store_corrupt',
          `journal records ${segment.firstSeq} to ${segment.lastSeq} are not the records their effects were written with; recovery stopped there`,
        );
      }
    } catch (error) {
      // The groups before this one checked out: this is the earliest failure.
      this.checkFailed = true;
      throw error;
    }
  }
}

/** Applies one journal record to `state`, checking its position, checksum and outcome. */
export function replayRecord(state: EngineState, record: JournalRecord, expectedSeq: number): void {
  checkedReplay(record, expectedSeq, () => {
    const result = applyCommand(state, decodeStoredCommand(record.command));
    return result.ok ? 'ok' : result.error.code;
  });
}

/**
 * Checks a record's position and checksum, replays it with `apply` (which returns the outcome
 * code) and checks the outcome against the journal's. The record checked out, so a mismatch
 * means the rules it was written under are not these: `store_incompatible`.
 */
export function checkedReplay(
  record: JournalRecord,
  expectedSeq: number,
  apply: () => string,
): void {
  checkRecord(record, expectedSeq);
  const outcome = apply();
  if (outcome !== record.outcome) throw incompatible(record.seq, outcome, record.outcome);
}

/** A record that checks out but replays to another outcome than the journal says. */
export function incompatible(seq: number, outcome: string, recorded: string): StoreError {
  return new StoreError(
    'store_incompatible',
    `journal record ${seq} replays to ${outcome} under this Fulcrum's rules, but the journal says ${recorded}: it was written under other rules (an earlier release); open it with the release that wrote it`,
  );
}

/** Whether an effects segment matches its checksum. */
function intact(segment: StoredEffects): boolean {
  return effectsChecksum(segment.firstSeq, segment.lastSeq, segment.data) === segment.checksum;
}

/** A record must stand at its position and match its checksum, or recovery stops naming it. */
function checkRecord(record: JournalRecord, expectedSeq: number): void {
  if (record.seq !== expectedSeq) {
    throw new StoreError(
      'store_corrupt',
      `journal record ${expectedSeq} is missing (found ${record.seq} next)`,
    );
  }
  if (!recordIntact(record)) {
    throw new StoreError(
      'store_corrupt',
      `journal record ${record.seq} is damaged (its checksum does not match); recovery stopped there`,
    );
  }
}

async function newestValidSnapshot(
  store: JournalStore,
  range: SnapshotRange,
  warn: (message: string) => void,
): Promise<{ state: EngineState; seq: number } | null> {
  const found = await newestSnapshotThatChecksOut(store, range, warn, {
    label: 'snapshot',
    read: deserializeState,
    hash: hashOf,
  });
  return found === null ? null : { state: found.state, seq: found.seq };
}

/** Where a snapshot may stand: at or before `until`, and never past the journal's `last` record. */
export interface SnapshotRange {
  readonly until: number;
  readonly last: number;
}

/** How to read a snapshot's text back into a state, and hash the state read. */
export interface SnapshotReader<S> {
  /** How warnings name the snapshot (`snapshot`, `ledger snapshot`). */
  readonly label: string;
  /** The state a snapshot's text holds; throws for text that holds none. */
  readonly read: (text: string) => S;
  readonly hash: (state: S) => string;
}

/**
 * The newest snapshot at or before journal position `range.until` that checks out: its checksum,
 * a state read back from its text, and that state's hash against the hash recorded with it.
 * Each damaged one passed over is said through `warn`, as is one past the journal's last record
 * (a journal restored shorter than its snapshots: it would skip records that are not there).
 * Null when none checks out (start from the beginning).
 */
export async function newestSnapshotThatChecksOut<S>(
  store: JournalStore,
  range: SnapshotRange,
  warn: (message: string) => void,
  reader: SnapshotReader<S>,
): Promise<{ state: S; seq: number; text: string } | null> {
  const { label } = reader;
  // Snapshots that cannot be read for one reason (a format of an earlier Fulcrum, most often)
  // are said once, with how many and where, not once each.
  const unreadable = new Map<string, number[]>();
  const sayUnreadable = () => {
    for (const [why, seqs] of unreadable) {
      const where =
        seqs.length === 1
          ? `at journal record ${seqs[0]}`
          : `(${seqs.length}, at journal records ${seqs.at(-1)} to ${seqs[0]})`;
      warn(`${label}${seqs.length === 1 ? '' : 's'} ${where} cannot be read (${why}); passed over`);
    }
  };
  for (const info of await store.snapshots()) {
    if (info.seq > range.last) {
      warn(
        `${label} at journal record ${info.seq} is past the journal's end (${range.last}); using an older one`,
      );
      continue;
    }
    // A question about an earlier position starts from a snapshot at or before it.
    if (info.seq > range.until) continue;
    const snapshot = await store.loadSnapshot(info.seq);
    if (snapshot === undefined) continue;
    if (snapshotChecksum(snapshot) !== snapshot.checksum) {
      warn(`${label} at journal record ${info.seq} is damaged (checksum); using an older one`);
      continue;
    }
    let state: S;
    try {
      state = reader.read(snapshot.state);
    } catch (error) {
      // A snapshot of another format (written by an earlier Fulcrum) is passed over: recovery
      // starts from an older one, or replays the journal, which upgrades it.
      const why = error instanceof Error ? error.message : 'unreadable';
      const seqs = unreadable.get(why) ?? [];
      if (seqs.length === 0) unreadable.set(why, seqs);
      seqs.push(info.seq);
      continue;
    }
    if (reader.hash(state) !== snapshot.stateHash) {
      warn(
        `${label} at journal record ${info.seq} does not hash to its recorded hash; using an older one`,
      );
      continue;
    }
    sayUnreadable();
    return { state, seq: snapshot.seq, text: snapshot.state };
  }
  sayUnreadable();
  return null;
}
