/**
 * Journal records: one per command the engine decided, in order, each sealed with a checksum
 * over everything it holds, so that a record damaged after it was written is found.
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
  return crc32(sealedText(record));
}

/**
 * The text a record's checksum is taken over: its fields joined by U+0000, the accounts among
 * themselves by U+0001. The SQLite store keeps records in this form (`recordFrames.ts`).
 */
export function sealedText(record: RecordContent): string {
  return `${record.seq}\u0000${record.time}\u0000${record.command}\u0000${record.outcome}\u0000${record.events}\u0000${record.accounts.join('\u0001')}`;
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

/**
 * A stored effects segment: the effects (`engine/effects.ts`) of journal records `firstSeq` to
 * `lastSeq`, written in the same transaction as those records. Recovery applies it in their
 * place; the records stay for verification and history.
 */
export interface StoredEffects {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly data: Uint8Array;
  /** CRC-32 of `firstSeq`, `lastSeq` and `data` (see {@link effectsChecksum}). */
  readonly checksum: number;
  /**
   * The records digest of the segment's records as they were written, by the store's own
   * definition (`JournalStore.recordsChecksums`: SQLite, the CRC-32 of their frames; PostgreSQL,
   * of their digest text, {@link recordsDigestPiece}): recovery compares it with the records as
   * they are, without decoding them.
   */
  readonly recordsChecksum: number;
}

/** The checksum of an effects segment. `sqliteWriter.mjs` computes the same. */
export function effectsChecksum(firstSeq: number, lastSeq: number, data: Uint8Array): number {
  return crc32(data, crc32(`${firstSeq}\u0000${lastSeq}\u0000`));
}

/**
 * One record's part of the PostgreSQL store's records digest: its fields joined by U+0001 and
 * ended by U+0002 (accounts joined by spaces, as stored), so that the server can build the
 * digest text of a range of records itself (`seq || chr(1) || ...`) and hand it over as one
 * value. The digest of a range is the CRC-32 of its records' pieces in order. (The SQLite store
 * digests its frames instead.)
 */
export function recordsDigestPiece(record: RecordContent): string {
  return `${record.seq}\u0001${record.time}\u0001${record.command}\u0001${record.outcome}\u0001${record.events}\u0001${record.accounts.join(' ')}\u0002`;
}

/** The records digest of `records`, in order. */
export function recordsDigest(records: readonly RecordContent[]): number {
  let digest = 0;
  for (const record of records) digest = crc32(recordsDigestPiece(record), digest);
  return digest;
}
