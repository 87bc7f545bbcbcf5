/**
 * The store contract against a real PostgreSQL server: FULCRUM_PG_URL, or the development and CI
 * machines' server at 127.0.0.1:5432 (database `test`, trust authentication). Each test works in
 * a schema of its own and drops it. Without a server the tests are skipped, saying why; under CI
 * (CI=true) a missing server fails the run instead, so that these tests run in CI every time.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { formerDerivativesJournal } from '../../src/store/formerJournal.js';
import { PostgresStore } from '../../src/store/index.js';
import { storeContract } from './storeContract.js';

const url = process.env.FULCRUM_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const unreachable = await reachable();

/** Runs one query on a connection of its own (cleaning up, looking at what a store made). */
async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
let counter = 0;

if (unreachable !== null && process.env.CI !== 'true') {
  describe('PostgreSQL journal store', () => {
    it.skip(`skipped: no PostgreSQL server at ${url} (${unreachable}); set FULCRUM_PG_URL`, () => {});
  });
  process.stderr.write(`PostgreSQL tests skipped: no server at ${url} (${unreachable})\n`);
} else {
  if (unreachable !== null) throw new Error(`CI needs PostgreSQL at ${url}: ${unreachable}`);
  storeContract('PostgreSQL', async () => {
    counter += 1;
    const schema = `fulcrum_test_${process.pid}_${counter}`;
    const opened: PostgresStore[] = [];
    return {
      open: async (limit) => {
        const store = await PostgresStore.open(url, schema);
        opened.push(store);
        await store.exec('DROP TRIGGER IF EXISTS journal_full ON {schema}.journal');
        if (limit !== undefined) {
          // The server's own disk-full error (SQLSTATE 53100) once a few more rows are in.
          const allowed = (await store.lastSeq()) + 5 * limit.writesAllowed;
          await store.exec(`
            CREATE OR REPLACE FUNCTION {schema}.journal_full() RETURNS trigger AS $$
            BEGIN
              IF (SELECT count(*) FROM {schema}.journal) >= ${allowed} THEN
                RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
              END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql`);
          await store.exec(
            'CREATE TRIGGER journal_full BEFORE INSERT ON {schema}.journal FOR EACH ROW EXECUTE FUNCTION {schema}.journal_full()',
          );
        }
        return store;
      },
      damage: async (store, seq, change) => {
        const fields = Object.entries(change);
        const set = fields.map(([field], i) => `${field} = $${i + 2}`).join(', ');
        await (store as PostgresStore).exec(`UPDATE {schema}.journal SET ${set} WHERE seq = $1`, [
          seq,
          ...fields.map(([, value]) => value),
        ]);
      },
      damageEffects: async (store, set, firstSeq) =>
        (store as PostgresStore).exec(`UPDATE {schema}.effects SET ${set} WHERE first_seq = $1`, [
          firstSeq,
        ]),
      openForReading: async () => {
        const store = await PostgresStore.open(url, schema, { readOnly: true });
        opened.push(store);
        return store;
      },
      contents: async () =>
        (
          await query<{ table_name: string }>(
            'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
            [schema],
          )
        ).map((row) => row.table_name),
      dispose: async () => {
        // Stores the test left open let go of the journal's lock first.
        await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
        await query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      },
    };
  });
  describe('opening a PostgreSQL journal', () => {
    it('a writer locks its own schema only; a reader’s session refuses any write, even raw SQL', async () => {
      const [first, second] = [`fulcrum_test_${process.pid}_a`, `fulcrum_test_${process.pid}_b`];
      const stores: PostgresStore[] = [];
      try {
        stores.push(await PostgresStore.open(url, first));
        // Another schema is another journal, with a lock of its own.
        stores.push(await PostgresStore.open(url, second));
        await expect(PostgresStore.open(url, first)).rejects.toMatchObject({
          code: 'store_locked',
        });
        const reader = await PostgresStore.open(url, first, { readOnly: true });
        stores.push(reader);
        expect(reader.readOnly).toBe(true);
        await expect(
          reader.exec("INSERT INTO {schema}.snapshots VALUES (1, 'h', 's', 0)"),
        ).rejects.toMatchObject({ code: 'store_read_only' });
        expect(await reader.snapshots()).toEqual([]);
      } finally {
        await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
        await query(
          `DROP SCHEMA IF EXISTS ${first} CASCADE; DROP SCHEMA IF EXISTS ${second} CASCADE`,
        );
      }
    });
  });
  describe('the derivatives journal of an earlier release', () => {
    it('is found by its schema, looked at without a change', async () => {
      const schema = `fulcrum_test_${process.pid}_former`;
      try {
        expect(await formerDerivativesJournal(url, schema)).toBeNull();
        const store = await PostgresStore.open(url, schema);
        await store.close();
        const location = await formerDerivativesJournal(url, schema);
        expect(location).toMatch(new RegExp(`\\(schema ${schema}\\)$`));
        // Looking took no lock: a writer opens it at once.
        const writer = await PostgresStore.open(url, schema);
        await writer.close();
      } finally {
        await query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
      expect(await formerDerivativesJournal(url, schema)).toBeNull();
    });
  });
}
