/**
 * The embedded journal store: one SQLite file in WAL mode, through better-sqlite3. The default:
 * no server to set up. Every append is one transaction, made by a writer thread
 * (`sqliteWriter.mjs`) so that the engine goes on applying commands while a batch is written;
 * with `synchronous = FULL` (the default) a transaction is on disk when the writer reports it,
 * which is when the durable engine acknowledges. Reads use a connection of their own on the
 * calling thread (WAL lets readers and the writer work at once).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  type JournalRecord,
  type JournalRow,
  type RecordContent,
  recordFromRow,
  type SnapshotRecord,
  type StoredEffects,
} from './journal.js';
import { type JournalStore, type SnapshotInfo, StoreError } from './store.js';

/** Name of the database file inside the data folder. */
export const SQLITE_FILE_NAME = 'fulcrum.sqlite';

/**
 * Version of the schema; a change of tables must change it. Version 2 added the effects table;
 * a version 1 file is upgraded on opening (the table is added; its records replay as commands).
 */
export const SQLITE_SCHEMA_VERSION = '2';

export interface SqliteStoreOptions {
  /** `full` (default): durable on power loss. `normal`: durable on a process crash only. */
  readonly synchronous?: 'full' | 'normal';
  /** Largest number of database pages; reaching it is refused like a full disk. For tests. */
  readonly maxPageCount?: number;
  /**
   * The database file's name in the folder; default {@link SQLITE_FILE_NAME}. Journals of
   * different ledgers (the engine's, the derivatives ledger's) share a folder in files apart.
   */
  readonly fileName?: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (
  seq INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  command TEXT NOT NULL,
  outcome TEXT NOT NULL,
  events TEXT NOT NULL,
  accounts TEXT NOT NULL,
  checksum INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS journal_by_time ON journal (time);
CREATE TABLE IF NOT EXISTS journal_accounts (
  account TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (account, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS effects (
  first_seq INTEGER PRIMARY KEY,
  last_seq INTEGER NOT NULL,
  data BLOB NOT NULL,
  checksum INTEGER NOT NULL,
  records_checksum INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots (
  seq INTEGER PRIMARY KEY,
  state_hash TEXT NOT NULL,
  state TEXT NOT NULL,
  checksum INTEGER NOT NULL
);
`;

/** A journal row as `raw` statements return it: the columns in table order. */
type RawJournalRow = [number, number, string, string, string, string, number];

/** What the writer thread answers. */
interface WriterReply {
  readonly id: number;
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
  /** The answer to a question (`digest`). */
  readonly value?: number;
}

export class SqliteStore implements JournalStore {
  readonly kind = 'sqlite';
  readonly location: string;
  private readonly db: Database.Database;
  private readonly writer: Worker;
  private readonly opened: Promise<number>;
  private readonly replies = new Map<number, (reply: WriterReply) => void>();
  private nextId = 1;
  private readStatement: Database.Statement | undefined;
  private effectsStatement: Database.Statement | undefined;

  /** Opens (creating if needed) the store in data folder `dir`. */
  constructor(dir: string, options: SqliteStoreOptions = {}) {
    this.location = join(dir, options.fileName ?? SQLITE_FILE_NAME);
    try {
      mkdirSync(dir, { recursive: true });
      this.db = new Database(this.location);
      this.db.pragma('journal_mode = WAL');
      this.db.exec(SCHEMA);
      this.checkSchema();
    } catch (error) {
      throw storeError(error, `cannot open the journal at ${this.location}`);
    }
    this.writer = new Worker(new URL('./sqliteWriter.mjs', import.meta.url));
    this.writer.unref();
    this.writer.on('message', (reply: WriterReply) => {
      this.replies.get(reply.id)?.(reply);
      this.replies.delete(reply.id);
      if (this.replies.size === 0) this.writer.unref();
    });
    this.opened = this.send({
      kind: 'open',
      file: this.location,
      synchronous: options.synchronous ?? 'full',
      maxPageCount: options.maxPageCount === undefined ? null : Math.floor(options.maxPageCount),
    });
    // A writer that cannot open is reported by the first append; until then it is not an error.
    this.opened.catch(() => undefined);
  }

  /**
   * Sends a message to the writer thread; resolves on its reply (with the reply's value, if it
   * has one), rejects with a StoreError.
   */
  private send(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<number> {
    const id = this.nextId++;
    this.writer.ref();
    return new Promise((resolve, reject) => {
      this.replies.set(id, (reply) => {
        if (reply.ok) resolve(reply.value ?? 0);
        else reject(storeError(reply, `cannot write the journal at ${this.location}`));
      });
      this.writer.postMessage({ ...message, id }, transfer);
    });
  }

  private checkSchema(): void {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as
      { value: string } | undefined;
    if (row === undefined) {
      this.db
        .prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)")
        .run(SQLITE_SCHEMA_VERSION);
    } else if (row.value === '1') {
      // Before effects were kept: the table is there now (SCHEMA above), empty.
      this.db.prepare("UPDATE meta SET value = ? WHERE key = 'schema'").run(SQLITE_SCHEMA_VERSION);
    } else if (row.value !== SQLITE_SCHEMA_VERSION) {
      throw new StoreError(
        'store_corrupt',
        `${this.location} has schema ${row.value}; this Fulcrum reads schema ${SQLITE_SCHEMA_VERSION}`,
      );
    }
  }

  async lastSeq(): Promise<number> {
    const row = this.db.prepare('SELECT max(seq) AS seq FROM journal').get() as {
      seq: number | null;
    };
    return row.seq ?? 0;
  }

  async append(
    records: readonly RecordContent[],
    snapshot?: SnapshotRecord,
    effects?: Uint8Array,
  ): Promise<void> {
    // Columns as typed arrays (moved, not copied) and the text fields as one string, built before
    // the first await so that the records can die young; the writer thread computes the checksums.
    const seq = Float64Array.from(records, (r) => r.seq);
    const time = Float64Array.from(records, (r) => r.time);
    const text = records
      .map((r) => `${r.command}\u0000${r.outcome}\u0000${r.events}\u0000${r.accounts.join(' ')}`)
      .join('\u0000');
    const transfer = [seq.buffer, time.buffer];
    // The effects' bytes are moved too, when they are all their buffer holds.
    const moved =
      effects !== undefined &&
      effects.byteOffset === 0 &&
      effects.byteLength === effects.buffer.byteLength &&
      effects.buffer instanceof ArrayBuffer;
    if (moved) transfer.push(effects.buffer as ArrayBuffer);
    await this.opened;
    await this.send(
      { kind: 'append', seq, time, text, snapshot: snapshot ?? null, effects: effects ?? null },
      transfer,
    );
  }

  async readEffects(after: number, limit: number): Promise<StoredEffects[]> {
    this.effectsStatement ??= this.db
      .prepare(
        'SELECT first_seq, last_seq, data, checksum, records_checksum FROM effects WHERE first_seq > ? ORDER BY first_seq LIMIT ?',
      )
      .raw(true);
    const rows = this.effectsStatement.all(after, limit) as [
      number,
      number,
      Uint8Array,
      number,
      number,
    ][];
    return rows.map(([firstSeq, lastSeq, data, checksum, recordsChecksum]) => ({
      firstSeq,
      lastSeq,
      data,
      checksum,
      recordsChecksum,
    }));
  }

  /** Computed by the writer thread, which is idle during recovery, while the caller goes on. */
  async recordsChecksum(first: number, last: number): Promise<number> {
    await this.opened;
    return this.send({ kind: 'digest', first, last });
  }

  async readRecords(after: number, limit: number): Promise<JournalRecord[]> {
    // Rows as arrays (`raw`): replay reads every record, and named rows cost a third more.
    this.readStatement ??= this.db
      .prepare(
        'SELECT seq, time, command, outcome, events, accounts, checksum FROM journal WHERE seq > ? ORDER BY seq LIMIT ?',
      )
      .raw(true);
    const rows = this.readStatement.all(after, limit) as RawJournalRow[];
    const records: JournalRecord[] = new Array<JournalRecord>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const [seq, time, command, outcome, events, accounts, checksum] = rows[i] as RawJournalRow;
      records[i] = {
        seq,
        time,
        command,
        outcome,
        events,
        accounts: accounts === '' ? [] : accounts.split(' '),
        checksum,
      };
    }
    return records;
  }

  async snapshots(): Promise<SnapshotInfo[]> {
    const rows = this.db
      .prepare('SELECT seq, state_hash AS stateHash FROM snapshots ORDER BY seq DESC')
      .all() as SnapshotInfo[];
    return rows;
  }

  async loadSnapshot(seq: number): Promise<SnapshotRecord | undefined> {
    const row = this.db
      .prepare('SELECT seq, state_hash AS stateHash, state, checksum FROM snapshots WHERE seq = ?')
      .get(seq) as SnapshotRecord | undefined;
    return row;
  }

  async truncateFrom(seq: number): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM journal WHERE seq >= ?').run(seq);
      this.db.prepare('DELETE FROM journal_accounts WHERE seq >= ?').run(seq);
      this.db.prepare('DELETE FROM snapshots WHERE seq >= ?').run(seq);
      this.db.prepare('DELETE FROM effects WHERE last_seq >= ?').run(seq);
    })();
  }

  async recordsOfAccount(account: string, limit: number): Promise<JournalRecord[]> {
    const rows = this.db
      .prepare(
        'SELECT j.* FROM journal_accounts a JOIN journal j ON j.seq = a.seq WHERE a.account = ? ORDER BY a.seq LIMIT ?',
      )
      .all(account, limit) as JournalRow[];
    return rows.map(recordFromRow);
  }

  async recordsInTimeRange(from: number, to: number, limit: number): Promise<JournalRecord[]> {
    const rows = this.db
      .prepare('SELECT * FROM journal WHERE time BETWEEN ? AND ? ORDER BY seq LIMIT ?')
      .all(from, to, limit) as JournalRow[];
    return rows.map(recordFromRow);
  }

  /** Runs raw SQL: tests use it to damage records on purpose. */
  exec(sql: string, ...params: unknown[]): void {
    this.db.prepare(sql).run(...params);
  }

  async close(): Promise<void> {
    await this.opened.catch(() => undefined);
    await this.send({ kind: 'close' }).catch(() => undefined);
    await this.writer.terminate();
    if (this.db.open) this.db.close();
  }
}

/** A failure from SQLite or the file system as a StoreError an operator can act on. */
function storeError(error: unknown, context: string): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: string }).code ?? '';
  const detail =
    error instanceof Error
      ? error.message
      : String((error as { message?: unknown }).message ?? error);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') {
    return new StoreError('store_full', `${context}: the disk is full (${detail})`);
  }
  if (
    code.startsWith('SQLITE_READONLY') ||
    code === 'EACCES' ||
    code === 'EROFS' ||
    code === 'EPERM'
  ) {
    return new StoreError(
      'store_read_only',
      `${context}: the data folder is read-only (${detail})`,
    );
  }
  if (code === 'SQLITE_CANTOPEN') {
    return new StoreError('store_unavailable', `${context}: it cannot be opened (${detail})`);
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new StoreError('store_corrupt', `${context}: the file is damaged (${detail})`);
  }
  return new StoreError('store_failed', `${context}: ${detail}`);
}
