/**
 * The storage port: what the durable engine needs from a journal store. Two adapters implement
 * it: SQLite (embedded, the default) and PostgreSQL (shared deployments and history tools).
 */
import type { JournalRecord, RecordContent, SnapshotRecord } from './journal.js';

export interface SnapshotInfo {
  readonly seq: number;
  readonly stateHash: string;
}

export interface JournalStore {
  /** `sqlite` or `postgres`, for reports. */
  readonly kind: string;
  /** Where the data lives, for messages (a file path or a database URL without password). */
  readonly location: string;
  /** The highest journal position stored; 0 when the journal is empty. */
  lastSeq(): Promise<number>;
  /**
   * Seals records with their checksums and stores them (and optionally a snapshot) in one
   * atomic write. Resolves only when the write is durable; rejects with a {@link StoreError}
   * when it cannot be made. Writes are made in the order they are asked for.
   */
  append(records: readonly RecordContent[], snapshot?: SnapshotRecord): Promise<void>;
  /** Records with `seq > after`, ascending, at most `limit` of them. */
  readRecords(after: number, limit: number): Promise<JournalRecord[]>;
  /** Snapshots, newest first (without their state text). */
  snapshots(): Promise<SnapshotInfo[]>;
  loadSnapshot(seq: number): Promise<SnapshotRecord | undefined>;
  /** Removes records from `seq` on (a torn tail found at recovery). */
  truncateFrom(seq: number): Promise<void>;
  /** Records that touched `account`, ascending, at most `limit`. */
  recordsOfAccount(account: string, limit: number): Promise<JournalRecord[]>;
  /** Records whose command time lies in [from, to], ascending, at most `limit`. */
  recordsInTimeRange(from: number, to: number, limit: number): Promise<JournalRecord[]>;
  close(): Promise<void>;
}

/** Codes of storage failures: what went wrong, in words an operator can act on. */
export type StoreErrorCode =
  'store_unavailable' | 'store_read_only' | 'store_full' | 'store_corrupt' | 'store_failed';

/** A storage failure. Whatever was acknowledged before it stays durable. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
