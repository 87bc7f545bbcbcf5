/**
 * Damage for the SQLite store's tests: records are kept in segments of frames
 * (`recordFrames.ts`), so a test that damages a record rewrites its segment through a connection
 * of its own, changing the record's fields and leaving its stored checksum as it was.
 */
import Database from 'better-sqlite3';
import type { JournalRecord } from '../../src/store/journal.js';
import { decodeFrames, encodeFrames } from '../../src/store/recordFrames.js';
import type { SqliteStore } from '../../src/store/sqliteStore.js';

/** Fields of a record a test may change. */
export type RecordDamage = Partial<
  Pick<JournalRecord, 'command' | 'outcome' | 'events' | 'checksum'>
>;

/** Changes record `seq`'s fields in place; its checksum stays unless `change` gives one. */
export function damageRecord(store: SqliteStore, seq: number, change: RecordDamage): void {
  withSegments(store, (db) => {
    const row = db
      .prepare('SELECT first_seq, records FROM segments WHERE first_seq <= ? AND last_seq >= ?')
      .raw(true)
      .get(seq, seq) as [number, Uint8Array] | undefined;
    if (row === undefined) throw new Error(`no segment holds journal record ${seq}`);
    const [first, frames] = row;
    const records = decodeFrames(first, frames).map((r) =>
      r.seq === seq ? { ...r, ...change } : r,
    );
    db.prepare('UPDATE segments SET records = ? WHERE first_seq = ?').run(
      encodeFrames(records),
      first,
    );
  });
}

/**
 * Removes the records after `seq`, and nothing else (not the snapshots or effects that reach
 * them): a journal restored shorter than what was written beside it.
 */
export function cutRecordsAfter(store: SqliteStore, seq: number): void {
  withSegments(store, (db) => {
    const rows = db
      .prepare('SELECT first_seq, records FROM segments WHERE last_seq > ?')
      .raw(true)
      .all(seq) as [number, Uint8Array][];
    for (const [first, frames] of rows) {
      if (first > seq) {
        db.prepare('DELETE FROM segments WHERE first_seq = ?').run(first);
        continue;
      }
      const kept = decodeFrames(first, frames).filter((r) => r.seq <= seq);
      db.prepare('UPDATE segments SET records = ?, last_seq = ? WHERE first_seq = ?').run(
        encodeFrames(kept),
        seq,
        first,
      );
    }
  });
}

function withSegments(store: SqliteStore, body: (db: Database.Database) => void): void {
  const db = new Database(store.location);
  try {
    db.transaction(() => body(db))();
  } finally {
    db.close();
  }
}
