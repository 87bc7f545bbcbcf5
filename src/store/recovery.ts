/**
 * Recovery: the newest valid snapshot, then the journal after it, command by command through
 * the same `applyCommand` as the live engine. Each record's checksum is checked and each
 * command must reach the outcome the journal recorded, or recovery stops and says which record.
 * A damaged last record is what a crash in the middle of a write leaves: it is dropped with a
 * warning, never silently. Damage anywhere else stops recovery.
 */
import { applyCommand } from '../engine/apply.js';
import { decodeStoredCommand } from '../engine/commandCodec.js';
import { deserializeState } from '../engine/snapshotCodec.js';
import { createState, type EngineState } from '../engine/state.js';
import { stateHash } from '../engine/stateHash.js';
import { type JournalRecord, recordIntact, snapshotChecksum } from './journal.js';
import { type JournalStore, StoreError } from './store.js';

/** Records read from the store at a time during replay. */
const READ_BATCH = 10_000;

export interface RecoveryReport {
  readonly store: string;
  readonly location: string;
  /** The snapshot recovery started from (journal position), or null for an empty start. */
  readonly snapshotSeq: number | null;
  /** Records replayed after the snapshot. */
  readonly replayed: number;
  /** Journal length after recovery. */
  readonly seq: number;
  /** The damaged last record that was dropped, if any. */
  readonly droppedTail: { readonly seq: number; readonly reason: string } | null;
  readonly stateHash: string;
}

export interface Recovered {
  readonly state: EngineState;
  readonly report: RecoveryReport;
}

export interface RecoveryOptions {
  /** Where warnings go (a dropped record, a damaged snapshot). Default: standard error. */
  readonly warn?: (message: string) => void;
  /** Replay only up to this journal position (history: the state at a sequence). */
  readonly untilSeq?: number;
  /** Ignore snapshots and replay the whole journal (verification). */
  readonly fullReplay?: boolean;
}

const defaultWarn = (message: string) => process.stderr.write(`fulcrum: warning: ${message}\n`);

export async function recover(
  store: JournalStore,
  options: RecoveryOptions = {},
): Promise<Recovered> {
  const warn = options.warn ?? defaultWarn;
  const droppedTail = options.untilSeq === undefined ? await dropTornTail(store, warn) : null;
  const last = await store.lastSeq();
  const until = Math.min(options.untilSeq ?? last, last);
  const start =
    options.fullReplay === true ? null : await newestValidSnapshot(store, { until, last }, warn);
  const state = start?.state ?? createState();
  let seq = start?.seq ?? 0;
  const startSeq = seq;
  while (seq < until) {
    const records = await store.readRecords(seq, Math.min(READ_BATCH, until - seq));
    if (records.length === 0) {
      throw new StoreError(
        'store_corrupt',
        `journal record ${seq + 1} is missing (the journal ends at ${last})`,
      );
    }
    for (const record of records) {
      replayRecord(state, record, seq + 1);
      seq = record.seq;
    }
  }
  return {
    state,
    report: {
      store: store.kind,
      location: store.location,
      snapshotSeq: start?.seq ?? null,
      replayed: seq - startSeq,
      seq,
      droppedTail,
      stateHash: stateHash(state),
    },
  };
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
 * code) and checks the outcome against the journal's: any mismatch is `store_corrupt`.
 */
export function checkedReplay(
  record: JournalRecord,
  expectedSeq: number,
  apply: () => string,
): void {
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
  const outcome = apply();
  if (outcome !== record.outcome) {
    throw new StoreError(
      'store_corrupt',
      `journal record ${record.seq} replayed to ${outcome} but the journal says ${record.outcome}`,
    );
  }
}

/** A damaged last record is a write cut short: drop it (and any snapshot at it), with a warning. */
export async function dropTornTail(
  store: JournalStore,
  warn: (message: string) => void,
): Promise<RecoveryReport['droppedTail']> {
  const last = await store.lastSeq();
  if (last === 0) return null;
  const [record] = await store.readRecords(last - 1, 1);
  if (record === undefined || recordIntact(record)) return null;
  const reason = 'its checksum does not match (a write cut short by a crash)';
  warn(`dropping journal record ${last}: ${reason}; it was never acknowledged`);
  await store.truncateFrom(last);
  return { seq: last, reason };
}

async function newestValidSnapshot(
  store: JournalStore,
  range: SnapshotRange,
  warn: (message: string) => void,
): Promise<{ state: EngineState; seq: number } | null> {
  const found = await newestSnapshotThatChecksOut(store, range, warn, {
    label: 'snapshot',
    read: deserializeState,
    hash: stateHash,
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
    } catch {
      warn(`${label} at journal record ${info.seq} cannot be read; using an older one`);
      continue;
    }
    if (reader.hash(state) !== snapshot.stateHash) {
      warn(
        `${label} at journal record ${info.seq} does not hash to its recorded hash; using an older one`,
      );
      continue;
    }
    return { state, seq: snapshot.seq, text: snapshot.state };
  }
  return null;
}
