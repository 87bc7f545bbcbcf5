/**
 * Journal records: one per command the engine decided, in order, each sealed with a checksum
 * over everything it holds, so that a record damaged on disk or cut short by a crash is found.
 */
import { crc32 } from 'node:zlib';

export interface JournalRecord {
  /** Position in the journal: 1, 2, 3, ... without gaps. */
  readonly seq: number;
  /** The command's own time, unix seconds. */
  readonly time: number;
  /** The command in stored form (`encodeCommand`). */
  readonly command: string;
  /** `ok`, or the code the command was refused with. Replay must reach the same outcome. */
  readonly outcome: string;
  /** The events the command emitted, as JSON (`renderEvent` of each): what history reads. */
  readonly events: string;
  /** Account identifiers the command touched, for history queries; empty if none. */
  readonly accounts: readonly string[];
  /** CRC-32 of the fields above (see {@link recordChecksum}). */
  readonly checksum: number;
}

/** A record before it is sealed: the store computes the checksum as it writes. */
export type RecordContent = Omit<JournalRecord, 'checksum'>;

/**
 * The checksum of a record's content: CRC-32 of its fields joined by U+0000 (accounts by
 * U+0001), separators no field holds. `sqliteWriter.mjs` computes the same, on its own thread.
 */
export function recordChecksum(record: RecordContent): number {
  const text = `${record.seq}\u0000${record.time}\u0000${record.command}\u0000${record.outcome}\u0000${record.events}\u0000${record.accounts.join('\u0001')}`;
  return crc32(text);
}

/** A record with its checksum. */
export function sealRecord(record: RecordContent): JournalRecord {
  return { ...record, checksum: recordChecksum(record) };
}

/** True when a record's checksum matches its content. */
export function recordIntact(record: JournalRecord): boolean {
  return recordChecksum(record) === record.checksum;
}

/** A journal row as a database driver returns it (PostgreSQL gives BIGINT columns as text). */
export interface JournalRow {
  readonly seq: number | string;
  readonly time: number | string;
  readonly command: string;
  readonly outcome: string;
  readonly events: string;
  /** Account identifiers joined by spaces (identifiers hold none). */
  readonly accounts: string;
  readonly checksum: number | string;
}

/** A journal row back as a record. */
export function recordFromRow(row: JournalRow): JournalRecord {
  return {
    seq: Number(row.seq),
    time: Number(row.time),
    command: row.command,
    outcome: row.outcome,
    events: row.events,
    accounts: row.accounts === '' ? [] : row.accounts.split(' '),
    checksum: Number(row.checksum),
  };
}

/** A stored snapshot: the state as text after journal record `seq`. */
export interface SnapshotRecord {
  readonly seq: number;
  /** The state hash of the snapshot's state (`stateHash`). */
  readonly stateHash: string;
  /** `serializeState` text. */
  readonly state: string;
  /** CRC-32 of `seq`, `stateHash` and `state`. */
  readonly checksum: number;
}

export function snapshotChecksum(snapshot: Omit<SnapshotRecord, 'checksum'>): number {
  return crc32(`${snapshot.seq}\u0000${snapshot.stateHash}\u0000${snapshot.state}`);
}
