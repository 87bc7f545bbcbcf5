/**
 * The shared journal store: PostgreSQL through `pg`, for deployments where several tools read
 * the history. Same tables as the SQLite store, in a schema of their own (default `fulcrum`).
 * An append is one transaction; PostgreSQL's default `synchronous_commit = on` makes it durable
 * at COMMIT, which is when the durable engine acknowledges.
 *
 * A store opened for writing holds a session advisory lock keyed by its schema for as long as
 * its connection lives (the server releases it when the connection ends, however it ends): a
 * second writer on the same schema is refused at once (`store_locked`). A store opened for
 * reading takes no lock, creates nothing, runs its session read-only and refuses writes.
 */
import pg from 'pg';
import { crc32 } from 'node:zlib';
import {
  effectsChecksum,
  type JournalRecord,
  type JournalRow,
  type RecordContent,
  recordChecksum,
  recordFromRow,
  recordsDigest,
  type SnapshotRecord,
  type StoredEffects,
} from './journal.js';
import {
  type JournalStore,
  type RecordBatch,
  RecordList,
  type SeqRange,
  type SnapshotInfo,
  StoreError,
} from './store.js';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The first key of the writer's advisory lock (`pg_try_advisory_lock(int, int)`), the same for
 * every Fulcrum journal; the second is the CRC-32 of the schema's name.
 */
const LOCK_CLASS = 0x46756c63;

/** Whether a `--data` value names a PostgreSQL server (`postgres://` or `postgresql://`). */
export function isPostgresUrl(data: string): boolean {
  return /^postgres(ql)?:\/\//i.test(data);
}

/**
 * What is wrong with a PostgreSQL URL (`postgres://user@host:port/database`), or null when it
 * names a host, a port of 1 to 65535 if any, and a database: checked before connecting, so
 * that a mistyped URL is refused in words rather than by the driver's exception.
 */
export function postgresUrlProblem(url: string): string | null {
  if (!isPostgresUrl(url)) return 'it does not start with postgres:// or postgresql://';
  let parsed: URL;
  let host: string;
  try {
    parsed = new URL(url);
    host = parsed.hostname;
  } catch {
    try {
      // `user@/database?host=/socket` names its host in the query, as the driver allows.
      parsed = new URL(url.replace('@/', '@placeholder/'));
      host = '';
    } catch {
      // A URL parser refuses a port past 65535 without saying why: said here.
      const port = PORT_AS_WRITTEN.exec(url)?.[1];
      return port !== undefined && !isPort(port)
        ? `its port ${JSON.stringify(port)} is not 1 to 65535`
        : 'it is not a well-formed URL';
    }
  }
  const query = parsed.searchParams;
  if (host === '' && (query.get('host') ?? '') === '') return 'it names no host';
  for (const port of [parsed.port, query.get('port') ?? '']) {
    if (port !== '' && !isPort(port)) return `its port ${JSON.stringify(port)} is not 1 to 65535`;
  }
  let database: string;
  try {
    database = decodeURIComponent(parsed.pathname.slice(1));
  } catch {
    return 'its database name is not well-formed';
  }
  if (database === '') return 'it names no database (postgres://user@host:port/database)';
  return null;
}

/** The port of a URL as written, after its host (a bracketed IPv6 address or a name). */
const PORT_AS_WRITTEN = /^[a-z]+:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#[\]]*)(?::([^/?#]*))?/i;

function isPort(text: string): boolean {
  return /^[0-9]{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65_535;
}

/** Options of {@link PostgresStore.open}. */
export interface PostgresStoreOptions {
  /**
   * Open an existing journal for reading only (verification, history): no lock, nothing
   * created, the session read-only, every write refused. A schema without a journal is refused
   * with `store_not_found`.
   */
  readonly readOnly?: boolean;
}

/** Most records whose digest text one query reads. */
const DIGEST_QUERY_RECORDS = 16_384;

export class PostgresStore implements JournalStore {
  readonly kind = 'postgres';
  readonly location: string;
  /** Whether this store was opened for reading only. */
  readonly readOnly: boolean;
  private readonly client: pg.Client;
  private readonly schema: string;
  private failed: StoreError | null = null;
  /**
   * The connection's queue: one piece of work at a time (a transaction is several queries that
   * nothing may come between), in the order asked for. Recovery asks for digests while it reads.
   */
  private lane: Promise<unknown> = Promise.resolve();

  private constructor(client: pg.Client, location: string, schema: string, readOnly: boolean) {
    this.client = client;
    this.location = location;
    this.schema = schema;
    this.readOnly = readOnly;
  }

  /**
   * Connects to `url` (`postgres://user@host:port/database`). For writing (the default): takes
   * the journal's lock, then creates the tables in `schema` if they are not there. With
   * `readOnly`: opens the journal `schema` holds, for reading.
   */
  static async open(
    url: string,
    schema = 'fulcrum',
    options: PostgresStoreOptions = {},
  ): Promise<PostgresStore> {
    if (!SCHEMA_NAME.test(schema)) {
      throw new StoreError(
        'store_unavailable',
        `schema name ${JSON.stringify(schema)} is not allowed`,
      );
    }
    const problem = postgresUrlProblem(url);
    if (problem !== null) {
      throw new StoreError(
        'store_unavailable',
        `${redact(url)} is not a PostgreSQL URL: ${problem}`,
      );
    }
    const readOnly = options.readOnly === true;
    const location = `${redact(url)} (schema ${schema})`;
    let client: pg.Client | undefined;
    try {
      // Inside: the driver reads certificate files named in the URL as it is made.
      client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
      await client.connect();
      if (readOnly) await openForReading(client, schema, location);
      else await openForWriting(client, schema, location);
    } catch (error) {
      await client?.end().catch(() => undefined);
      throw storeError(error, `cannot open the journal at ${location}`);
    }
    return new PostgresStore(client, location, schema, readOnly);
  }

  async lastSeq(): Promise<number> {
    const { rows } = await this.query<{ seq: string | null }>(
      `SELECT max(seq) AS seq FROM ${this.t('journal')}`,
    );
    return Number(rows[0]?.seq ?? 0);
  }

  batch(): RecordList {
    return new RecordList();
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
    const list = recordsOf(records);
    return this.exclusive(() => this.appendNow(list, snapshot, effects));
  }

  private async appendNow(
    records: readonly RecordContent[],
    snapshot: SnapshotRecord | undefined,
    effects: Uint8Array | undefined,
  ): Promise<void> {
    // After a failed append every later one is refused unwritten: a journal must not go on past
    // a batch that is missing.
    if (this.failed !== null) throw this.failed;
    try {
      await this.client.query('BEGIN');
      if (records.length > 0) {
        await this.client.query(
          `INSERT INTO ${this.t('journal')} (seq, time, command, outcome, events, accounts, checksum)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])`,
          [
            records.map((r) => r.seq),
            records.map((r) => r.time),
            records.map((r) => r.command),
            records.map((r) => r.outcome),
            records.map((r) => r.events),
            records.map((r) => r.accounts.join(' ')),
            records.map(recordChecksum),
          ],
        );
        const pairs = records.flatMap((r) => r.accounts.map((a) => [a, r.seq] as const));
        if (pairs.length > 0) {
          await this.client.query(
            `INSERT INTO ${this.t('journal_accounts')} (account, seq)
             SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT DO NOTHING`,
            [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
          );
        }
      }
      const first = records[0]?.seq;
      const last = records.at(-1)?.seq;
      if (effects !== undefined && first !== undefined && last !== undefined) {
        await this.client.query(
          `INSERT INTO ${this.t('effects')} (first_seq, last_seq, data, checksum, records_checksum)
           VALUES ($1, $2, $3, $4, $5)`,
          [
            first,
            last,
            Buffer.from(effects.buffer, effects.byteOffset, effects.byteLength),
            effectsChecksum(first, last, effects),
            recordsDigest(records),
          ],
        );
      }
      if (snapshot !== undefined) {
        await this.client.query(
          `INSERT INTO ${this.t('snapshots')} (seq, state_hash, state, checksum) VALUES ($1, $2, $3, $4)
           ON CONFLICT (seq) DO UPDATE SET state_hash = $2, state = $3, checksum = $4`,
          [snapshot.seq, snapshot.stateHash, snapshot.state, snapshot.checksum],
        );
      }
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      this.failed = storeError(error, `cannot write the journal at ${this.location}`);
      throw this.failed;
    }
  }

  async readRecords(after: number, limit: number): Promise<JournalRecord[]> {
    const { rows } = await this.query<JournalRow & pg.QueryResultRow>(
      `SELECT * FROM ${this.t('journal')} WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [after, limit],
    );
    return rows.map(recordFromRow);
  }

  async readEffects(after: number, limit: number): Promise<StoredEffects[]> {
    const { rows } = await this.query<{
      first_seq: string;
      last_seq: string;
      data: Buffer;
      checksum: string;
      records_checksum: string;
    }>(`SELECT * FROM ${this.t('effects')} WHERE first_seq > $1 ORDER BY first_seq LIMIT $2`, [
      after,
      limit,
    ]);
    return rows.map((row) => ({
      firstSeq: Number(row.first_seq),
      lastSeq: Number(row.last_seq),
      data: row.data,
      checksum: Number(row.checksum),
      recordsChecksum: Number(row.records_checksum),
    }));
  }

  /**
   * The digest text of each range is built by the server and read as one value, its CRC-32
   * taken here. The ranges go in queries of up to {@link DIGEST_QUERY_RECORDS} records, all sent
   * at once (the connection runs them in turn): a query for a whole group held the text of all
   * its segments in memory together (some 160 MB for 64 segments of 8,192 records). A range
   * with no records has the digest of nothing, 0.
   */
  recordsChecksums(ranges: readonly SeqRange[]): Promise<number[]> {
    const chunks: SeqRange[][] = [];
    let records = Infinity;
    for (const range of ranges) {
      const size = Math.max(0, range[1] - range[0] + 1);
      if (records + size > DIGEST_QUERY_RECORDS) {
        chunks.push([]);
        records = 0;
      }
      chunks.at(-1)?.push(range);
      records += size;
    }
    return Promise.all(chunks.map((chunk) => this.digestsOf(chunk))).then((d) => d.flat());
  }

  /** The records digests of `ranges`, in one query. */
  private async digestsOf(ranges: readonly SeqRange[]): Promise<number[]> {
    const { rows } = await this.query<{ i: string; digest: Buffer | null }>(
      `SELECT r.i, convert_to(string_agg(j.seq || chr(1) || j.time || chr(1) || j.command
         || chr(1) || j.outcome || chr(1) || j.events || chr(1) || j.accounts || chr(2), ''
         ORDER BY j.seq), 'UTF8') AS digest
       FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS r(first, last, i)
       JOIN ${this.t('journal')} j ON j.seq BETWEEN r.first AND r.last
       GROUP BY r.i`,
      [ranges.map(([first]) => first), ranges.map(([, last]) => last)],
    );
    const digests = ranges.map(() => 0);
    for (const { i, digest } of rows) {
      if (digest !== null) digests[Number(i) - 1] = crc32(digest);
    }
    return digests;
  }

  async snapshots(): Promise<SnapshotInfo[]> {
    const { rows } = await this.query<{ seq: string; state_hash: string }>(
      `SELECT seq, state_hash FROM ${this.t('snapshots')} ORDER BY seq DESC`,
    );
    return rows.map((r) => ({ seq: Number(r.seq), stateHash: r.state_hash }));
  }

  async loadSnapshot(seq: number): Promise<SnapshotRecord | undefined> {
    const { rows } = await this.query<{
      seq: string;
      state_hash: string;
      state: string;
      checksum: string;
    }>(`SELECT * FROM ${this.t('snapshots')} WHERE seq = $1`, [seq]);
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      seq: Number(row.seq),
      stateHash: row.state_hash,
      state: row.state,
      checksum: Number(row.checksum),
    };
  }

  async recordsOfAccount(account: string, limit: number): Promise<JournalRecord[]> {
    const { rows } = await this.query<JournalRow & pg.QueryResultRow>(
      `SELECT j.* FROM ${this.t('journal_accounts')} a JOIN ${this.t('journal')} j ON j.seq = a.seq
       WHERE a.account = $1 ORDER BY a.seq LIMIT $2`,
      [account, limit],
    );
    return rows.map(recordFromRow);
  }

  async recordsInTimeRange(from: number, to: number, limit: number): Promise<JournalRecord[]> {
    const { rows } = await this.query<JournalRow & pg.QueryResultRow>(
      `SELECT * FROM ${this.t('journal')} WHERE time BETWEEN $1 AND $2 ORDER BY seq LIMIT $3`,
      [from, to, limit],
    );
    return rows.map(recordFromRow);
  }

  /** Runs raw SQL on this store's schema (`{schema}` is replaced): tests damage records with it. */
  async exec(sql: string, params: unknown[] = []): Promise<void> {
    await this.query(sql.replaceAll('{schema}', this.schema), params);
  }

  /** Drops this store's schema and everything in it. The benchmark cleans up with it. */
  async dropSchema(): Promise<void> {
    await this.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }

  async close(): Promise<void> {
    await this.lane;
    await this.client.end();
  }

  private t(table: string): string {
    return `${this.schema}.${table}`;
  }

  /** Runs `work` once the work asked for before it is done. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const done = this.lane.then(work, work);
    this.lane = done.catch(() => undefined);
    return done;
  }

  private query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
    return this.exclusive(() => this.queryNow<T>(sql, params));
  }

  private async queryNow<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
    try {
      return await this.client.query<T>(sql, params);
    } catch (error) {
      throw storeError(error, `cannot read the journal at ${this.location}`);
    }
  }
}

/**
 * Takes the writer's lock of `schema` (a session advisory lock: the server drops it with the
 * connection), then creates the journal's tables if they are not there.
 */
async function openForWriting(client: pg.Client, schema: string, location: string) {
  const { rows } = await client.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_lock($1, $2) AS locked',
    [LOCK_CLASS, crc32(schema) | 0],
  );
  if (rows[0]?.locked !== true) {
    throw new StoreError(
      'store_locked',
      `the journal at ${location} is open for writing elsewhere (its advisory lock is held): a journal takes one writer at a time`,
    );
  }
  await client.query(schemaSql(schema));
}

/** Makes the session read-only and checks that `schema` holds a journal, changing nothing. */
async function openForReading(client: pg.Client, schema: string, location: string) {
  await client.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY');
  const tables = ['journal', 'journal_accounts', 'effects', 'snapshots'];
  const { rows } = await client.query<{ name: string }>(
    `SELECT t.name FROM unnest($1::text[]) AS t(name) WHERE to_regclass($2 || '.' || t.name) IS NOT NULL`,
    [tables, schema],
  );
  if (!rows.some((row) => row.name === 'journal')) {
    throw new StoreError('store_not_found', `there is no journal at ${location}`);
  }
  if (rows.length < tables.length) {
    throw new StoreError(
      'store_unavailable',
      `the journal at ${location} lacks tables this Fulcrum reads, and a reader changes nothing: open it once for writing (fulcrum run) to add them`,
    );
  }
}

function schemaSql(schema: string): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${schema};
CREATE TABLE IF NOT EXISTS ${schema}.journal (
  seq BIGINT PRIMARY KEY,
  time BIGINT NOT NULL,
  command TEXT NOT NULL,
  outcome TEXT NOT NULL,
  events TEXT NOT NULL,
  accounts TEXT NOT NULL,
  checksum BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS journal_by_time ON ${schema}.journal (time);
CREATE TABLE IF NOT EXISTS ${schema}.journal_accounts (
  account TEXT NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (account, seq)
);
CREATE TABLE IF NOT EXISTS ${schema}.effects (
  first_seq BIGINT PRIMARY KEY,
  last_seq BIGINT NOT NULL,
  data BYTEA NOT NULL,
  checksum BIGINT NOT NULL,
  records_checksum BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS ${schema}.snapshots (
  seq BIGINT PRIMARY KEY,
  state_hash TEXT NOT NULL,
  state TEXT NOT NULL,
  checksum BIGINT NOT NULL
);`;
}

/**
 * Where schema `schema` of the database `url` names is, when it exists; null when it does not
 * or the server cannot be asked. Reads the catalogue only: nothing is created or locked.
 */
export async function postgresSchemaLocation(url: string, schema: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const { rows } = await client.query(
      'SELECT 1 FROM information_schema.schemata WHERE schema_name = $1',
      [schema],
    );
    return rows.length > 0 ? `${redact(url)} (schema ${schema})` : null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

function storeError(error: unknown, context: string): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: string }).code ?? '';
  const detail = error instanceof Error ? error.message : String(error);
  if (code === '53100')
    return new StoreError('store_full', `${context}: the disk is full (${detail})`);
  if (code === '25006')
    return new StoreError('store_read_only', `${context}: read-only (${detail})`);
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code.startsWith('08') ||
    code === '3D000'
  ) {
    return new StoreError('store_unavailable', `${context}: ${detail}`);
  }
  return new StoreError('store_failed', `${context}: ${detail}`);
}

/** The records of a batch this store made, or of a plain list. */
function recordsOf(records: RecordBatch | readonly RecordContent[]): readonly RecordContent[] {
  if (records instanceof RecordList) return records.records;
  if (Array.isArray(records)) return records as readonly RecordContent[];
  throw new TypeError('a batch made by another store');
}
