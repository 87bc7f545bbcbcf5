/**
 * How a journal is opened: data folders made in bounded steps, PostgreSQL URLs checked before
 * connecting, a SQLite writer's file left as one file when it closes, and a reader that opens
 * it read-only. (The store contract, `storeContract.ts`, holds what both stores share: one
 * writer at a time, readers that change nothing, a damaged last record that is corruption.)
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeFolder } from '../../src/store/folder.js';
import {
  DurableEngine,
  postgresUrlProblem,
  PostgresStore,
  recover,
  SQLITE_FILE_NAME,
  SqliteStore,
  StoreError,
} from '../../src/store/index.js';

const scratch = mkdtempSync(join(tmpdir(), 'fulcrum-opening-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;
const folder = () => join(scratch, `f${++folders}`);

/** The journal-mode bytes of a SQLite file's header: 2, 2 in WAL mode; 1, 1 otherwise. */
function headerMode(file: string): number[] {
  return [...readFileSync(file).subarray(18, 20)];
}

const listing = {
  type: 'list-asset',
  time: 1,
  price: '1',
  config: { symbol: 'USDC', decimals: 6, initialWeight: '0.8', maintenanceWeight: '0.85' },
};

describe('makeFolder', () => {
  it('makes a folder and its missing parents, and leaves one that is there alone', () => {
    const dir = join(folder(), 'a', 'b', 'c');
    makeFolder(dir);
    expect(existsSync(dir)).toBe(true);
    makeFolder(dir);
    expect(readdirSync(dir)).toEqual([]);
  });

  it.skipIf(!existsSync('/proc/self'))(
    'throws at once where the parent exists but cannot hold the child (/proc), instead of looping',
    () => {
      expect(() => makeFolder('/proc/fulcrum-nope/data')).toThrow(/ENOENT/);
    },
  );

  it('throws where a file stands in the way', () => {
    const dir = folder();
    makeFolder(dir);
    writeFileSync(join(dir, 'file'), '');
    expect(() => makeFolder(join(dir, 'file', 'data'))).toThrow(/ENOTDIR|EEXIST/);
  });
});

describe('postgresUrlProblem', () => {
  it('passes URLs that name a host, a port of 1 to 65535 if any, and a database', () => {
    for (const url of [
      'postgres://postgres@127.0.0.1:5432/test',
      'postgresql://user:secret@db.example.com/fulcrum',
      'postgres://[::1]:5432/test',
      'postgres://u@/test?host=/var/run/postgresql',
      'postgres://u@host:65535/test?sslmode=require',
      'POSTGRES://u@host:1/test',
    ]) {
      expect(postgresUrlProblem(url), url).toBeNull();
    }
  });

  it('names what is wrong with the others', () => {
    const cases: [string, RegExp][] = [
      ['postgresql://postgres@[::1', /not a well-formed URL/],
      ['postgres://a:b@host:99999/x', /port "99999" is not 1 to 65535/],
      ['postgres://a@host:0/x', /port "0"/],
      ['postgres://a@host:5x/x', /port "5x"/],
      ['postgres://a@host/x?port=-1', /port "-1"/],
      ['postgres://a@host:5432/', /names no database/],
      ['postgres://a@host:5432', /names no database/],
      ['postgres://a@host/%E0%A4%A', /database name is not well-formed/],
      ['postgres:///x', /names no host/],
      ['postgres://u@/x', /names no host/],
      ['mysql://a@host/x', /does not start with postgres/],
    ];
    for (const [url, problem] of cases) expect(postgresUrlProblem(url), url).toMatch(problem);
  });

  it('is checked by PostgresStore.open before connecting: a StoreError, never the driver’s', async () => {
    for (const url of ['postgresql://postgres@[::1', 'postgres://a:b@host:99999/x']) {
      const failure = await PostgresStore.open(url).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(StoreError);
      expect((failure as StoreError).code).toBe('store_unavailable');
      expect((failure as StoreError).message).not.toMatch(/:b@/);
    }
  });
});

describe('a SQLite journal at rest', () => {
  it('is one file once its writer closes, and a reader open at that moment keeps it in WAL mode', async () => {
    const dir = folder();
    const file = join(dir, SQLITE_FILE_NAME);
    const durable = await DurableEngine.open(new SqliteStore(dir), {
      snapshotWorker: null,
      warn: () => undefined,
    });
    await durable.submitJson(listing);
    expect(headerMode(file)).toEqual([2, 2]);
    await durable.close();
    // Out of WAL mode, its log checkpointed into it: a copy is this one file, and needs no
    // -shm file to be read, so a read-only folder can hold it.
    expect(headerMode(file)).toEqual([1, 1]);
    expect(readdirSync(dir).sort()).toEqual([SQLITE_FILE_NAME, `${SQLITE_FILE_NAME}.lock`]);
    expect(readFileSync(join(dir, `${SQLITE_FILE_NAME}.lock`))).toHaveLength(0);

    // A writer reopens it in WAL mode. With a reader holding it open as the writer closes, it
    // stays in WAL mode (leaving it needs the file to itself), and nothing is lost.
    const writer = new SqliteStore(dir);
    expect(headerMode(file)).toEqual([2, 2]);
    const reader = new SqliteStore(dir, { readOnly: true });
    expect(await reader.lastSeq()).toBe(1);
    await writer.close();
    expect(headerMode(file)).toEqual([2, 2]);
    expect((await recover(reader, { warn: () => undefined })).report.seq).toBe(1);
    await reader.close();
  });

  it('opened for reading, is not written, not even by the thread that checks its digests', async () => {
    const dir = folder();
    const durable = await DurableEngine.open(new SqliteStore(dir), {
      snapshotWorker: null,
      warn: () => undefined,
    });
    await durable.submitJson(listing);
    await durable.submitJson({
      type: 'deposit',
      time: 2,
      account: 'ann',
      asset: 'USDC',
      amount: '5',
    });
    await durable.close();
    const before = new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
    const reader = new SqliteStore(dir, { readOnly: true });
    expect(reader.readOnly).toBe(true);
    const recovered = await recover(reader, { warn: () => undefined });
    expect(recovered.report.fromEffects).toBe(2);
    await expect(reader.append([])).rejects.toMatchObject({ code: 'store_read_only' });
    expect(() => reader.exec("UPDATE meta SET value = 'x'")).toThrow(/readonly/);
    await reader.close();
    expect(new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]))).toEqual(before);
  });

  it('a reader refuses a file that is not a Fulcrum journal, and one that is not there', () => {
    const dir = folder();
    makeFolder(dir);
    expect(() => new SqliteStore(dir, { readOnly: true })).toThrow(
      expect.objectContaining({ code: 'store_not_found' }),
    );
    writeFileSync(join(dir, SQLITE_FILE_NAME), '');
    expect(() => new SqliteStore(dir, { readOnly: true })).toThrow(
      expect.objectContaining({
        code: 'store_corrupt',
        message: expect.stringMatching(/not a Fulcrum journal/),
      }),
    );
    expect(readdirSync(dir)).toEqual([SQLITE_FILE_NAME]);
  });
});
