/**
 * The storage port: what the durable engine needs from a journal store. Two adapters implement
 * it: SQLite (embedded, the default) and PostgreSQL (shared deployments and history tools).
 */
import type { JournalRecord, RecordContent, SnapshotRecord, StoredEffects } from './journal.js';

export interface SnapshotInfo {
  readonly seq: number;
  readonly stateHash: string;
}

/**
 * The records of one write, gathered one by one as the engine makes them. Each store holds them
 * its own way while they wait: the SQLite store encodes each at once into the bytes it will
 * write, so that a backlog of records is a buffer rather than objects the garbage collector
 * copies and promotes.
 */
export interface RecordBatch {
  /** Records added so far. */
  readonly length: number;
  add(record: RecordContent): void;
}

/** A batch kept as the records themselves (the PostgreSQL store's). */
export class RecordList implements RecordBatch {
  readonly records: RecordContent[] = [];
  get length(): number {
    return this.records.length;
  }
  add(record: RecordContent): void {
    this.records.push(record);
  }
}

/** Journal positions `first` to `last`, both included. */
export type SeqRange = readonly [first: number, last: number];

/**
 * A journal store. One opened for writing holds the journal's lock until it is closed, so that
 * two writers never interleave (the second is refused at once with `store_locked`); one opened
 * for reading takes no lock, creates nothing and refuses every write.
 */
export interface JournalStore {
  /** `sqlite` or `postgres`, for reports. */
  readonly kind: string;
  /** Where the data lives, for messages (a file path or a database URL without password). */
  readonly location: string;
  /** The highest journal position stored; 0 when the journal is empty. */
  lastSeq(): Promise<number>;
  /** An empty batch of this store's kind, to fill and hand to {@link append}. */
  batch(): RecordBatch;
  /**
   * Seals records with their checksums and stores them (and optionally a snapshot, and the
   * effects segment of exactly these records) in one atomic write. Resolves only when the write
   * is durable; rejects with a {@link StoreError} when it cannot be made. Writes are made in the
   * order they are asked for.
   */
  append(
    records: RecordBatch | readonly RecordContent[],
    snapshot?: SnapshotRecord,
    effects?: Uint8Array,
  ): Promise<void>;
  /** Records with `seq > after`, ascending, at most `limit` of them. */
  readRecords(after: number, limit: number): Promise<JournalRecord[]>;
  /** Effects segments with `firstSeq > after`, ascending, at most `limit` of them. */
  readEffects(after: number, limit: number): Promise<StoredEffects[]>;
  /**
   * The records digest of each range of records (`[first, last]`, inclusive) as stored now,
   * by the same definition as the `recordsChecksum` the store wrote with each effects segment:
   * any change to a record changes it. SQLite: the CRC-32 of the records' frames
   * (`recordFrames.ts`), on the writer thread; PostgreSQL: of their digest text
   * (`recordsDigest`), which the server builds and sends. The question is asked before the call
   * returns, so a caller can go on working while it is answered.
   */
  recordsChecksums(ranges: readonly SeqRange[]): Promise<number[]>;
  /** Snapshots, newest first (without their state text). */
  snapshots(): Promise<SnapshotInfo[]>;
  loadSnapshot(seq: number): Promise<SnapshotRecord | undefined>;
  /** Records that touched `account`, ascending, at most `limit`. */
  recordsOfAccount(account: string, limit: number): Promise<JournalRecord[]>;
  /** Records whose command time lies in [from, to], ascending, at most `limit`. */
  recordsInTimeRange(from: number, to: number, limit: number): Promise<JournalRecord[]>;
  close(): Promise<void>;
}

/**
 * Codes of storage failures: what went wrong, in words an operator can act on. `store_locked`:
 * another writer has the journal open (a journal takes one writer at a time); `store_not_found`:
 * a reader was pointed at a journal that does not exist (readers create nothing);
 * `store_incompatible`: a record that checks out replays to another outcome than the journal's,
 * because it was written under other rules (an earlier release of Fulcrum).
 */
export type StoreErrorCode =
  | 'store_unavailable'
  | 'store_incompatible'
  | 'store_read_only'
  | 'store_full'
  | 'store_corrupt'
  | 'store_locked'
  | 'store_not_found'
  | 'store_failed';

/** A storage failure. Whatever was acknowledged before it stays durable. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
