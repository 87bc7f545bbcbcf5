/**
 * Damage and old files for the SQLite store's tests: records are kept in segments of frames
 * (`recordFrames.ts`), so a test that damages a record rewrites its segment through a connection
 * of its own, changing the record's fields and leaving its stored checksum as it was; files of
 * an earlier schema are written as Fulcrum wrote them, a row per record.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DurableEngine } from '../../src/store/durableEngine.js';
import type { JournalRecord } from '../../src/store/journal.js';
import { decodeFrames, encodeFrames } from '../../src/store/recordFrames.js';
import { SQLITE_FILE_NAME, SqliteStore } from '../../src/store/sqliteStore.js';

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

/** The tables of a version 2 file, as Fulcrum wrote them: a row per record. */
export const SCHEMA_2 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE journal (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, command TEXT NOT NULL,
  outcome TEXT NOT NULL, events TEXT NOT NULL, accounts TEXT NOT NULL, checksum INTEGER NOT NULL);
CREATE INDEX journal_by_time ON journal (time);
CREATE TABLE journal_accounts (account TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (account, seq)) WITHOUT ROWID;
CREATE TABLE effects (first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, data BLOB NOT NULL,
  checksum INTEGER NOT NULL, records_checksum INTEGER NOT NULL);
CREATE TABLE snapshots (seq INTEGER PRIMARY KEY, state_hash TEXT NOT NULL, state TEXT NOT NULL,
  checksum INTEGER NOT NULL);
`;

/**
 * Writes `records` into a new file of schema `version` (1: without the effects table) in `dir`,
 * a row each, with an effects row over them all for version 2.
 */
export function writeOldFile(dir: string, version: 1 | 2, records: readonly JournalRecord[]): void {
  const db = new Database(join(dir, SQLITE_FILE_NAME));
  db.exec(SCHEMA_2);
  if (version === 1) db.exec('DROP TABLE effects');
  db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(String(version));
  const row = db.prepare('INSERT INTO journal VALUES (?, ?, ?, ?, ?, ?, ?)');
  const account = db.prepare('INSERT INTO journal_accounts VALUES (?, ?)');
  // One transaction: a row a commit (and a disk flush each) took a minute for 9,000 records.
  db.transaction(() => {
    for (const r of records) {
      row.run(r.seq, r.time, r.command, r.outcome, r.events, r.accounts.join(' '), r.checksum);
      for (const id of r.accounts) account.run(id, r.seq);
    }
  })();
  if (version === 2) {
    db.prepare('INSERT INTO effects VALUES (?, ?, ?, ?, ?)').run(
      1,
      records.length,
      Buffer.from([1]),
      0,
      0,
    );
  }
  db.close();
}

/** The records of a short journal: three listings and a deposit, a batch each. */
export async function fourRecords(dir: string): Promise<JournalRecord[]> {
  const durable = await DurableEngine.open(new SqliteStore(dir), { warn: () => undefined });
  for (const symbol of ['U0', 'U1', 'U2'])
    await durable.submitJson({
      type: 'list-asset',
      time: 0,
      price: '1',
      config: { symbol, decimals: 6, initialWeight: '0.8', maintenanceWeight: '0.85' },
    });
  await durable.submitJson({
    type: 'deposit',
    time: 1,
    account: 'ann',
    asset: 'U0',
    amount: '100',
  });
  const records = await durable.store.readRecords(0, 10);
  await durable.close();
  return records;
}
