/**
 * The embedded journal store: one SQLite file in WAL mode, through better-sqlite3. The default:
 * no server to set up. Every append is one transaction, made by a writer thread
 * (`sqliteWriter.mjs`) so that the engine goes on applying commands while a batch is written;
 * with `synchronous = FULL` (the default) a transaction is on disk when the writer reports it,
 * which is when the durable engine acknowledges. Reads use a connection of their own on the
 * calling thread (WAL lets readers and the writer work at once).
 *
 * A store opened for writing holds the journal's lock, an exclusive SQLite transaction on an
 * empty file beside it (`fulcrum.sqlite.lock`), until it closes: a second writer, in this
 * process or another, is refused at once (`store_locked`), and the operating system releases
 * the lock of a process that dies, so that no stale lock is ever left to clear by hand. Closing
 * takes the file out of WAL mode when nobody else has it open, so that a copy of it is one
 * file that opens anywhere, a read-only folder included. A store opened for reading
 * (`readOnly`) takes no lock, creates nothing, opens the file read-only and refuses writes.
 *
 * The records of each write are kept as one segment (`recordFrames.ts`): a row per write, not
 * per record, with the accounts it touched indexed per segment and the span of its times; the
 * history queries read the segments these point to and pick their records out.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { makeFolder } from './folder.js';
import {
  type JournalRecord,
  type RecordContent,
  recordFromRow,
  type JournalRow,
  type SnapshotRecord,
  type StoredEffects,
} from './journal.js';
import {
  decodeFrames,
  decodeFramesWhere,
  encodeFrames,
  FrameBuilder,
  frameNamesAccount,
  frameTime,
} from './recordFrames.js';
import {
  ACCOUNT_BUCKET,
  accountRows,
  INSERT_SEGMENT,
  insertAccountsSql,
  LAST_SEQ,
  SEGMENT_HOLDING,
} from './segmentLayout.mjs';
import {
  type JournalStore,
  type RecordBatch,
  type SeqRange,
  type SnapshotInfo,
  StoreError,
} from './store.js';

/** Name of the database file inside the data folder. */
export const SQLITE_FILE_NAME = 'fulcrum.sqlite';

/**
 * Version of the schema; a change of tables must change it. Version 2 added the effects table;
 * version 3 keeps records in segments. Files of versions 1 and 2 are upgraded on opening: their
 * records move into segments as they are (checksums and damage included), and their effects
 * are dropped (those records replay as commands, later ones from effects).
 */
export const SQLITE_SCHEMA_VERSION = '3';

/** Most records in a segment made by upgrading an older file. */
const UPGRADE_SEGMENT = 8_192;

/** Most bytes a new batch's frames start with (a batch of unusually long records grows past). */
const MAX_FRAME_HINT = 16 << 20;

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
  /**
   * Open an existing journal for reading only (verification, history): the file is opened
   * read-only, no lock is taken, nothing is created or upgraded, and every write is refused.
   * A journal that is not there is refused with `store_not_found`.
   */
  readonly readOnly?: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS segments (
  first_seq INTEGER PRIMARY KEY,
  last_seq INTEGER NOT NULL,
  min_time INTEGER NOT NULL,
  max_time INTEGER NOT NULL,
  records BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS segment_accounts (
  bucket INTEGER NOT NULL,
  account TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  PRIMARY KEY (bucket, account, first_seq)
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

/** A segment row as `raw` statements return it: first position and frames. */
type RawSegment = [number, Uint8Array];

/** What the writer thread answers. */
interface WriterReply {
  readonly id: number;
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
  /** The answer to a question (`digests`: one per range asked). */
  readonly value?: number[];
}

export class SqliteStore implements JournalStore {
  readonly kind = 'sqlite';
  readonly location: string;
  /** Whether this store was opened for reading only. */
  readonly readOnly: boolean;
  private readonly db: Database.Database;
  /** The journal's lock, held while a store opened for writing is open; null for a reader. */
  private readonly lock: Database.Database | null = null;
  private readonly writer: Worker;
  private readonly opened: Promise<unknown>;
  /** Questions sent to the writer thread and not yet answered, by message id. */
  private readonly replies = new Map<
    number,
    {
      readonly resolve: (value: number[]) => void;
      readonly reject: (error: StoreError) => void;
      /** What a refusal says was being done. */
      readonly context: string;
    }
  >();
  private nextId = 1;
  private readStatement: Database.Statement | undefined;
  private effectsStatement: Database.Statement | undefined;
  /** Bytes of the frames of the last batch written: the size the next batch starts with. */
  private frameBytes = 1 << 10;
  /** Why the writer thread answers no more (closed, exited, failed); null while it does. */
  private gone: StoreError | null = null;

  /**
   * Opens the store in data folder `dir`: for writing (the default), creating the folder and
   * the file if need be and taking the journal's lock; or, with `readOnly`, an existing journal
   * for reading.
   */
  constructor(dir: string, options: SqliteStoreOptions = {}) {
    this.location = join(dir, options.fileName ?? SQLITE_FILE_NAME);
    this.readOnly = options.readOnly === true;
    if (this.readOnly) {
      if (!existsSync(this.location)) {
        throw new StoreError('store_not_found', `there is no journal at ${this.location}`);
      }
      let db: Database.Database | undefined;
      try {
        this.db = db = new Database(this.location, { readonly: true, fileMustExist: true });
        this.checkSchema();
      } catch (error) {
        db?.close();
        throw readError(error, this.location);
      }
    } else {
      let db: Database.Database | undefined;
      try {
        makeFolder(dir);
        this.lock = takeLock(this.location);
        this.db = db = new Database(this.location);
        this.db.pragma('journal_mode = WAL');
        this.db.exec(SCHEMA);
        this.checkSchema();
      } catch (error) {
        db?.close();
        this.lock?.close();
        throw storeError(error, `cannot open the journal at ${this.location}`);
      }
    }
    this.writer = new Worker(new URL('./sqliteWriter.mjs', import.meta.url));
    this.writer.unref();
    this.writer.on('message', (reply: WriterReply) => {
      const waiting = this.replies.get(reply.id);
      if (waiting !== undefined) {
        if (reply.ok) waiting.resolve(reply.value ?? []);
        else waiting.reject(storeError(reply, waiting.context));
      }
      this.replies.delete(reply.id);
      if (this.replies.size === 0) this.writer.unref();
    });
    // A writer thread that stops answers nothing more: what waits on it is refused, not left
    // waiting for ever.
    this.writer.on('error', (error) => this.stopped(`its writer thread failed (${error.message})`));
    this.writer.on('exit', (code) => this.stopped(`its writer thread exited (code ${code})`));
    this.opened = this.send({
      kind: 'open',
      file: this.location,
      readOnly: this.readOnly,
      synchronous: options.synchronous ?? 'full',
      maxPageCount: options.maxPageCount === undefined ? null : Math.floor(options.maxPageCount),
    });
    // A writer that cannot open is reported by the first question or write sent after; until
    // then it is not an error.
    this.opened.catch(() => undefined);
  }

  /**
   * Sends a message to the writer thread; resolves on its reply (with the reply's value, if it
   * has one), rejects with a StoreError.
   */
  private send(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<number[]> {
    if (this.gone !== null) return Promise.reject(this.gone);
    const id = this.nextId++;
    this.writer.ref();
    const context = `cannot ${message.kind === 'digests' ? 'read' : 'write'} the journal at ${this.location}`;
    return new Promise((resolve, reject) => {
      this.replies.set(id, { resolve, reject, context });
      this.writer.postMessage({ ...message, id }, transfer);
    });
  }

  /** The writer thread answers no more: every question still waiting is refused with `why`. */
  private stopped(why: string): void {
    this.gone ??= new StoreError('store_unavailable', `the journal at ${this.location}: ${why}`);
    const waiting = [...this.replies.values()];
    this.replies.clear();
    this.writer.unref();
    for (const { reject } of waiting) reject(this.gone);
  }

  private checkSchema(): void {
    if (this.readOnly && this.db.prepare(META_TABLE).get() === undefined) {
      throw new StoreError('store_corrupt', `${this.location} is not a Fulcrum journal`);
    }
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as
      { value: string } | undefined;
    if (row === undefined && !this.readOnly) {
      this.db
        .prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)")
        .run(SQLITE_SCHEMA_VERSION);
    } else if (row === undefined) {
      throw new StoreError('store_corrupt', `${this.location} is not a Fulcrum journal`);
    } else if ((row.value === '1' || row.value === '2') && this.readOnly) {
      throw new StoreError(
        'store_unavailable',
        `${this.location} has schema ${row.value}, and a reader changes nothing: open it once for writing (fulcrum run) to upgrade it to schema ${SQLITE_SCHEMA_VERSION}`,
      );
    } else if (row.value === '1' || row.value === '2') {
      this.upgrade();
    } else if (row.value !== SQLITE_SCHEMA_VERSION) {
      throw new StoreError(
        'store_corrupt',
        `${this.location} has schema ${row.value}; this Fulcrum reads schema ${SQLITE_SCHEMA_VERSION}`,
      );
    }
  }

  /** Moves a version 1 or 2 file's records, a row each, into segments: one transaction. */
  private upgrade(): void {
    const read = this.db.prepare(
      'SELECT seq, time, command, outcome, events, accounts, checksum FROM journal WHERE seq > ? ORDER BY seq LIMIT ?',
    );
    this.db.transaction(() => {
      let run: JournalRecord[] = [];
      for (let after = -Infinity; ;) {
        const rows = read.all(after, UPGRADE_SEGMENT) as JournalRow[];
        if (rows.length === 0) break;
        for (const row of rows) {
          const record = recordFromRow(row);
          const previous = run.at(-1);
          if (
            previous !== undefined &&
            (record.seq !== previous.seq + 1 || run.length >= UPGRADE_SEGMENT)
          ) {
            this.insertSegment(run);
            run = [];
          }
          run.push(record);
          after = record.seq;
        }
      }
      if (run.length > 0) this.insertSegment(run);
      this.db.exec(
        'DROP TABLE journal; DROP TABLE IF EXISTS journal_accounts; DELETE FROM effects',
      );
      this.db.prepare("UPDATE meta SET value = ? WHERE key = 'schema'").run(SQLITE_SCHEMA_VERSION);
    })();
  }

  /**
   * Stores consecutive records as one segment, their checksums as they are (damage included),
   * on this thread's connection (upgrades; the writer thread stores what the engine appends).
   */
  private insertSegment(records: readonly JournalRecord[]): void {
    const first = records[0];
    if (first === undefined) return;
    let minTime = first.time;
    let maxTime = first.time;
    const accounts = new Set<string>();
    for (const record of records) {
      minTime = Math.min(minTime, record.time);
      maxTime = Math.max(maxTime, record.time);
      for (const account of record.accounts) accounts.add(account);
    }
    this.db
      .prepare(INSERT_SEGMENT)
      .run(
        first.seq,
        first.seq + records.length - 1,
        Number.isFinite(minTime) ? minTime : 0,
        Number.isFinite(maxTime) ? maxTime : 0,
        encodeFrames(records),
      );
    const insert = this.db.prepare(insertAccountsSql(1));
    const rows = accountRows(first.seq, accounts);
    for (let at = 0; at < rows.length; at += 3) insert.run(rows.slice(at, at + 3));
  }

  async lastSeq(): Promise<number> {
    return this.read(() => (this.db.prepare(LAST_SEQ).pluck().get() as number | undefined) ?? 0);
  }

  /**
   * Runs a read on this thread's connection: what SQLite or the file system refuses (a damaged
   * page, a file gone) comes back as a StoreError, never as a driver's error.
   */
  private read<T>(query: () => T): T {
    try {
      return query();
    } catch (error) {
      throw readError(error, this.location);
    }
  }

  batch(): FrameBatch {
    // Sized as the last batch was, with room to spare: a buffer grown by doubling from small
    // copies and clears several times the bytes it ends with.
    return new FrameBatch(this.frameBytes + (this.frameBytes >>> 2));
  }

  async append(
    records: RecordBatch | readonly RecordContent[],
    snapshot?: SnapshotRecord,
    effects?: Uint8Array,
  ): Promise<void> {
    if (this.readOnly) {
      throw new StoreError(
        'store_read_only',
        `cannot write the journal at ${this.location}: it is open for reading only`,
      );
    }
    const batch = records instanceof FrameBatch ? records : FrameBatch.of(records);
    const { frames: framed, runs } = batch.take();
    if (framed !== null) this.frameBytes = Math.min(framed.byteLength, MAX_FRAME_HINT);
    const transfer: ArrayBuffer[] = framed === null ? [] : [framed.buffer as ArrayBuffer];
    // The effects' bytes are moved too, when they are all their buffer holds.
    const moved =
      effects !== undefined &&
      effects.byteOffset === 0 &&
      effects.byteLength === effects.buffer.byteLength &&
      effects.buffer instanceof ArrayBuffer;
    if (moved) transfer.push(effects.buffer as ArrayBuffer);
    await this.opened;
    await this.send(
      {
        kind: 'append',
        frames: framed,
        runs,
        snapshot: snapshot ?? null,
        effects: effects ?? null,
      },
      transfer,
    );
  }

  async readEffects(after: number, limit: number): Promise<StoredEffects[]> {
    const rows = this.read(() => {
      this.effectsStatement ??= this.db
        .prepare(
          'SELECT first_seq, last_seq, data, checksum, records_checksum FROM effects WHERE first_seq > ? ORDER BY first_seq LIMIT ?',
        )
        .raw(true);
      return this.effectsStatement.all(after, limit) as [
        number,
        number,
        Uint8Array,
        number,
        number,
      ][];
    });
    return rows.map(([firstSeq, lastSeq, data, checksum, recordsChecksum]) => ({
      firstSeq,
      lastSeq,
      data,
      checksum,
      recordsChecksum,
    }));
  }

  /**
   * Computed by the writer thread, which is idle during recovery, while the caller goes on: the
   * question is posted before this returns (the writer answers its messages in order, after
   * its open), all the ranges in one message.
   */
  recordsChecksums(ranges: readonly SeqRange[]): Promise<number[]> {
    if (ranges.length === 0) return Promise.resolve([]);
    const flat = Float64Array.from(ranges.flat());
    const digests = this.send({ kind: 'digests', ranges: flat }, [flat.buffer]);
    // A writer that could not open answers with that error.
    return Promise.all([this.opened, digests]).then(([, value]) => value);
  }

  async readRecords(after: number, limit: number): Promise<JournalRecord[]> {
    return this.read(() => {
      this.readStatement ??= this.db
        .prepare(
          `SELECT first_seq, records FROM segments WHERE first_seq >= ${SEGMENT_HOLDING} AND last_seq > ? ORDER BY first_seq`,
        )
        .raw(true);
      const records: JournalRecord[] = [];
      const segments = this.readStatement.iterate(after + 1, after) as Iterable<RawSegment>;
      for (const [first, frames] of segments) {
        for (const record of decodeFrames(first, frames, after + 1, limit - records.length)) {
          records.push(record);
        }
        if (records.length >= limit) break;
      }
      return records;
    });
  }

  async snapshots(): Promise<SnapshotInfo[]> {
    return this.read(
      () =>
        this.db
          .prepare('SELECT seq, state_hash AS stateHash FROM snapshots ORDER BY seq DESC')
          .all() as SnapshotInfo[],
    );
  }

  async loadSnapshot(seq: number): Promise<SnapshotRecord | undefined> {
    return this.read(
      () =>
        this.db
          .prepare(
            'SELECT seq, state_hash AS stateHash, state, checksum FROM snapshots WHERE seq = ?',
          )
          .get(seq) as SnapshotRecord | undefined,
    );
  }

  async recordsOfAccount(account: string, limit: number): Promise<JournalRecord[]> {
    const buckets = Math.floor((await this.lastSeq()) / ACCOUNT_BUCKET);
    return this.read(() => {
      const inBucket = this.db
        .prepare(
          'SELECT s.first_seq, s.records FROM segment_accounts a JOIN segments s ON s.first_seq = a.first_seq WHERE a.bucket = ? AND a.account = ? ORDER BY a.first_seq',
        )
        .raw(true);
      function* segments(): Generator<RawSegment> {
        for (let bucket = 0; bucket <= buckets; bucket++) {
          yield* inBucket.iterate(bucket, account) as Iterable<RawSegment>;
        }
      }
      const name = new TextEncoder().encode(account);
      return pick(
        segments(),
        limit,
        (frames, start, end) => frameNamesAccount(frames, start, end, name),
        (record) => record.accounts.includes(account),
      );
    });
  }

  async recordsInTimeRange(from: number, to: number, limit: number): Promise<JournalRecord[]> {
    return this.read(() => {
      const segments = this.db
        .prepare(
          'SELECT first_seq, records FROM segments WHERE min_time <= ? AND max_time >= ? ORDER BY first_seq',
        )
        .raw(true)
        .iterate(to, from) as Iterable<RawSegment>;
      return pick(
        segments,
        limit,
        (frames, start, end) => {
          const time = frameTime(frames, start, end);
          // A time that is not plain digits is read in full, and judged on what it reads as.
          return Number.isNaN(time) || (time >= from && time <= to);
        },
        (record) => record.time >= from && record.time <= to,
      );
    });
  }

  /** Runs raw SQL: tests use it to damage records on purpose. */
  exec(sql: string, ...params: unknown[]): void {
    this.db.prepare(sql).run(...params);
  }

  async close(): Promise<void> {
    await this.opened.catch(() => undefined);
    await this.send({ kind: 'close' }).catch(() => undefined);
    this.stopped('it is closed');
    await this.writer.terminate();
    if (this.db.open) {
      if (!this.readOnly) leaveWal(this.db);
      this.db.close();
    }
    // Released last: the next writer finds the file as this one left it.
    if (this.lock?.open === true) this.lock.close();
  }
}

/**
 * The SQLite store's batch: each record framed as it is added (`recordFrames.ts`), in runs of
 * consecutive positions, each run to be one segment.
 */
class FrameBatch implements RecordBatch {
  private readonly frames: FrameBuilder;
  /** Per run: first position, count, end offset, smallest time, largest time. */
  private readonly runs: number[] = [];
  private count = 0;

  /** `capacity`: bytes the frames are expected to take (they grow past it if need be). */
  constructor(capacity?: number) {
    this.frames = new FrameBuilder(capacity);
  }

  static of(records: RecordBatch | readonly RecordContent[]): FrameBatch {
    if (!Array.isArray(records)) throw new TypeError('a batch made by another store');
    const batch = new FrameBatch();
    for (const record of records as readonly RecordContent[]) batch.add(record);
    return batch;
  }

  get length(): number {
    return this.count;
  }

  add(record: RecordContent): void {
    const { runs } = this;
    const at = runs.length - 5;
    this.frames.add(record);
    this.count += 1;
    if (at >= 0 && record.seq === (runs[at] as number) + (runs[at + 1] as number)) {
      runs[at + 1] = (runs[at + 1] as number) + 1;
      runs[at + 2] = this.frames.size;
      if (record.time < (runs[at + 3] as number)) runs[at + 3] = record.time;
      if (record.time > (runs[at + 4] as number)) runs[at + 4] = record.time;
    } else {
      runs.push(record.seq, 1, this.frames.size, record.time, record.time);
    }
  }

  /** The frames (null if none) and the runs, as the writer thread takes them. */
  take(): { frames: Uint8Array | null; runs: Float64Array } {
    return {
      frames: this.count === 0 ? null : this.frames.take(),
      runs: Float64Array.from(this.runs),
    };
  }
}

/**
 * The records of `segments` that `keep` accepts, in order, at most `limit`; frames that `admit`
 * turns away (on their bytes) are not decoded at all.
 */
function pick(
  segments: Iterable<RawSegment>,
  limit: number,
  admit: (frames: Uint8Array, start: number, end: number) => boolean,
  keep: (record: JournalRecord) => boolean,
): JournalRecord[] {
  const picked: JournalRecord[] = [];
  if (limit <= 0) return picked;
  for (const [first, frames] of segments) {
    for (const record of decodeFramesWhere(first, frames, admit)) {
      if (!keep(record)) continue;
      picked.push(record);
      if (picked.length >= limit) return picked;
    }
  }
  return picked;
}

/** SQL that finds the journal's `meta` table: a file without it is no Fulcrum journal. */
const META_TABLE = "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'";

/**
 * Takes the lock of the journal file `location`: an exclusive transaction, never committed, on
 * the empty database file `location.lock` (its rollback journal kept in memory, so that nothing
 * else appears beside it). SQLite's file locks are the operating system's, released when the
 * process ends however it ends, and SQLite keeps them straight between connections of one
 * process too. The lock file stays when the store closes: removing it could let two writers
 * lock two different files of that name.
 */
function takeLock(location: string): Database.Database {
  const path = `${location}.lock`;
  const lock = new Database(path, { timeout: 0 });
  try {
    lock.pragma('journal_mode = MEMORY');
    lock.exec('BEGIN EXCLUSIVE');
    return lock;
  } catch (error) {
    lock.close();
    if (String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY')) {
      throw new StoreError(
        'store_locked',
        `the journal at ${location} is open for writing elsewhere (${path} is held): a journal takes one writer at a time`,
      );
    }
    throw error;
  }
}

/**
 * Takes a closing writer's file out of WAL mode (its log checkpointed into it and removed), so
 * that the journal at rest is one file, which SQLite can open read-only anywhere: in WAL mode a
 * reader needs the `-shm` file beside it, or a folder it may create one in. While anyone else
 * has the file open it stays in WAL mode, as it is safe to.
 */
function leaveWal(db: Database.Database): void {
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('journal_mode = DELETE');
  } catch {
    // Busy: a reader has it open.
  }
}

/**
 * A failure to read the journal at `location` as a StoreError. A file in WAL mode without its
 * `-shm` file, in a folder SQLite may not create one in, cannot be opened read-only: said so,
 * with what to do.
 */
function readError(error: unknown, location: string): StoreError {
  const context = `cannot read the journal at ${location}`;
  if (
    !(error instanceof StoreError) &&
    String((error as { code?: unknown }).code).startsWith('SQLITE_CANTOPEN') &&
    inWalMode(location) &&
    !existsSync(`${location}-shm`)
  ) {
    return new StoreError(
      'store_unavailable',
      `${context}: it was left in WAL mode and SQLite cannot create its -shm file in this folder; copy it with its -wal and -shm files, or into a folder that can be written`,
    );
  }
  return storeError(error, context);
}

/** Whether the database file's header says WAL mode (its read and write versions are 2). */
function inWalMode(location: string): boolean {
  const header = Buffer.alloc(20);
  try {
    const fd = openSync(location, 'r');
    try {
      readSync(fd, header, 0, header.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
  return header[18] === 2 && header[19] === 2;
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
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'ENOENT' || code === 'ENOTDIR') {
    return new StoreError('store_unavailable', `${context}: it cannot be opened (${detail})`);
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new StoreError('store_corrupt', `${context}: the file is damaged (${detail})`);
  }
  return new StoreError('store_failed', `${context}: ${detail}`);
}
