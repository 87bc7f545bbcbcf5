import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../../src/engine/commandCodec.js';
import { createState, decodeCommand } from '../../src/index.js';
import {
  accountHistory,
  DurableEngine,
  recover,
  SQLITE_FILE_NAME,
  SqliteStore,
  StoreError,
} from '../../src/store/index.js';
import { effectsChecksum, recordIntact, sealRecord } from '../../src/store/journal.js';
import { encodeFrames } from '../../src/store/recordFrames.js';
import { damageRecord, fourRecords, writeOldFile } from './sqliteRecords.js';
import { storeContract } from './storeContract.js';

/** Pages the database file holds now. */
function pageCount(dir: string): number {
  const db = new Database(join(dir, SQLITE_FILE_NAME));
  try {
    return Number(db.pragma('page_count', { simple: true }));
  } finally {
    db.close();
  }
}

storeContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-sqlite-'));
  return {
    open: async (limit) => {
      if (limit === undefined) return new SqliteStore(dir);
      // A few pages past what the file holds: the first writes fit, then SQLite reports it full,
      // exactly as it does when the disk is.
      await new SqliteStore(dir).close();
      return new SqliteStore(dir, { maxPageCount: pageCount(dir) + limit.writesAllowed });
    },
    openForReading: async () => new SqliteStore(dir, { readOnly: true }),
    contents: async () => readdirSync(dir).sort(),
    damage: async (store, seq, change) => damageRecord(store as SqliteStore, seq, change),
    damageEffects: async (store, set, firstSeq) =>
      (store as SqliteStore).exec(`UPDATE effects SET ${set} WHERE first_seq = ?`, firstSeq),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

const quiet = { warn: () => undefined };

/** Runs `body` with a fresh folder, removed afterwards whatever happens. */
async function inFolder(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-sqlite-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A stablecoin-like listing under `symbol`. */
function listing(symbol: string, time = 0) {
  const config = { symbol, decimals: 6, initialWeight: '0.8', maintenanceWeight: '0.85' };
  return { type: 'list-asset', time, price: '1', config };
}

/**
 * A journal of a USDC listing (one batch) and three batches of three deposits (a segment
 * each); the state hash it ends at.
 */
async function fourBatches(dir: string): Promise<string> {
  const durable = await DurableEngine.open(new SqliteStore(dir), quiet);
  await durable.submitJson(listing('USDC'));
  for (const time of [1, 2, 3]) {
    await Promise.all(
      ['ann', 'ben', 'cat'].map((account) =>
        durable.submitJson({ type: 'deposit', time, account, asset: 'USDC', amount: '7' }),
      ),
    );
  }
  const hash = durable.engine.hash();
  await durable.close();
  return hash;
}

/** Replaces the third segment's bytes by `data`, with a checksum that matches them. */
async function forgeThirdSegment(store: SqliteStore, data: Buffer) {
  const segments = await store.readEffects(0, 10);
  expect(segments.map((s) => s.lastSeq - s.firstSeq + 1)).toEqual([1, 3, 3, 3]);
  const forged = segments[2];
  if (forged === undefined) throw new Error('no third segment');
  store.exec(
    'UPDATE effects SET data = ?, checksum = ? WHERE first_seq = ?',
    data,
    effectsChecksum(forged.firstSeq, forged.lastSeq, data),
    forged.firstSeq,
  );
  return forged;
}

describe('SQLite record segments', () => {
  it('hold any text the writer thread seals, byte for byte as the frames of the records written', async () => {
    const text = fc
      .string({ unit: 'binary', maxLength: 30 })
      .map((t) => t.replaceAll('\u0000', '?'));
    const content = fc.record({
      time: fc.integer({ min: 0, max: 2 ** 40 }),
      command: text,
      outcome: fc.constantFrom('ok', 'unknown_asset'),
      events: text,
      accounts: fc.array(fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,12}$/), { maxLength: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(content, { minLength: 1, maxLength: 12 }), (contents) =>
        inFolder(async (dir) => {
          const store = new SqliteStore(dir);
          const written = contents.map((c, i) => sealRecord({ ...c, seq: i + 1 }));
          await store.append(written, undefined, new Uint8Array([1]));
          const read = await store.readRecords(0, 100);
          expect(read).toEqual(written);
          const [segment] = await store.readEffects(0, 1);
          expect(segment?.recordsChecksum).toBe(crc32(encodeFrames(written)));
          await store.close();
        }),
      ),
      { numRuns: 15 },
    );
  });

  it('missing from the middle of the journal stop recovery, naming the first one missing', () =>
    inFolder(async (dir) => {
      await fourBatches(dir);
      const store = new SqliteStore(dir);
      // The second batch's records (2 to 4) are gone; their effects and the rest are there.
      store.exec('DELETE FROM segments WHERE first_seq = 2');
      for (const options of [{ fullReplay: true }, { snapshots: false }]) {
        const failure = await recover(store, { ...quiet, ...options }).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(StoreError);
        expect((failure as StoreError).code).toBe('store_corrupt');
        expect((failure as StoreError).message).toMatch(
          /journal record 2 is missing \(found 5 next\)/,
        );
      }
      await store.close();
    }));

  it('damage behind a group already applied is named before a failure that comes after it', () =>
    inFolder(async (dir) => {
      // Seventy one-record writes: seventy segments, applied in groups of up to 64.
      const durable = await DurableEngine.open(new SqliteStore(dir), quiet);
      await durable.submitJson(listing('USDC'));
      for (let time = 1; time < 70; time++) {
        await durable.submitJson({ type: 'accrue', time, asset: 'USDC' });
      }
      await durable.close();
      const store = new SqliteStore(dir);
      store.exec('UPDATE effects SET records_checksum = records_checksum + 1 WHERE first_seq = 3');
      let reads = 0;
      const failing = Object.assign(Object.create(Object.getPrototypeOf(store)), store, {
        // The second group cannot be read.
        readEffects: (after: number, limit: number) =>
          ++reads === 2
            ? Promise.reject(new StoreError('store_failed', 'the disk went away'))
            : store.readEffects(after, limit),
      }) as SqliteStore;
      const failure = await recover(failing, quiet).catch((e: unknown) => e);
      expect(reads).toBe(2);
      expect((failure as StoreError).message).toMatch(
        /journal records 3 to 3 are not the records their effects were written with/,
      );
      // A digest the store cannot give stops recovery with the store's error, handled even
      // while recovery waits on a slow read.
      store.exec('UPDATE effects SET records_checksum = records_checksum - 1 WHERE first_seq = 3');
      const refusing = Object.assign(Object.create(Object.getPrototypeOf(store)), store, {
        recordsChecksums: () => Promise.reject(new StoreError('store_failed', 'no digests')),
        readEffects: async (after: number, limit: number) => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          return store.readEffects(after, limit);
        },
      }) as SqliteStore;
      await expect(recover(refusing, quiet)).rejects.toThrow('no digests');
      // Both: a digest refused before the later failure is not damage found; the failure is
      // what is reported.
      reads = 0;
      const both = Object.assign(Object.create(Object.getPrototypeOf(store)), failing, {
        recordsChecksums: refusing.recordsChecksums,
      }) as SqliteStore;
      await expect(recover(both, quiet)).rejects.toThrow('the disk went away');
      expect((await recover(store, quiet)).report.fromEffects).toBe(70);
      await store.close();
    }));

  it('a closed store refuses questions instead of leaving them unanswered; one asked is posted at once', () =>
    inFolder(async (dir) => {
      await fourBatches(dir);
      const store = new SqliteStore(dir);
      const waiting = () => (store as unknown as { replies: Map<number, unknown> }).replies.size;
      const before = waiting();
      const digests = store.recordsChecksums([[1, 4]]);
      // Posted before the call returned: the writer works while the caller goes on.
      expect(waiting()).toBe(before + 1);
      expect(await digests).toHaveLength(1);
      await store.close();
      const refusal = await store.recordsChecksums([[1, 4]]).catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(StoreError);
      expect((refusal as StoreError).code).toBe('store_unavailable');
      expect((refusal as StoreError).message).toMatch(/it is closed/);
      // A writer thread that exits (killed, crashed) is said so, to every later question too.
      const other = new SqliteStore(dir);
      await (other as unknown as { writer: { terminate(): Promise<number> } }).writer.terminate();
      await expect(other.recordsChecksums([[1, 4]])).rejects.toThrow(/writer thread exited/);
      await expect(other.append([], undefined)).rejects.toThrow(/writer thread exited/);
      await other.close();
    }));

  it('finds records by a time that is not plain digits (a negative one) in a time range', () =>
    inFolder(async (dir) => {
      const durable = await DurableEngine.open(new SqliteStore(dir), quiet);
      // Refused (no such asset), journaled all the same, with the times they came with.
      durable.submitPipelined({ type: 'accrue', time: -5, asset: 'USDC' });
      durable.submitPipelined({ type: 'accrue', time: 7, asset: 'USDC' });
      await durable.close();
      const store = new SqliteStore(dir);
      expect((await store.recordsInTimeRange(-10, -1, 10)).map((r) => r.seq)).toEqual([1]);
      expect((await store.recordsInTimeRange(0, 100, 10)).map((r) => r.seq)).toEqual([2]);
      await store.close();
    }));

  it('hold what the writer thread sealed: each record its checksum, each batch the digest of its frames', () =>
    inFolder(async (dir) => {
      await fourBatches(dir);
      const store = new SqliteStore(dir);
      const records = await store.readRecords(0, 100);
      expect(records).toHaveLength(10);
      expect(records.every(recordIntact)).toBe(true);
      for (const segment of await store.readEffects(0, 10)) {
        const inSegment = records.filter(
          (r) => r.seq >= segment.firstSeq && r.seq <= segment.lastSeq,
        );
        const digest = crc32(encodeFrames(inSegment));
        expect(segment.recordsChecksum).toBe(digest);
        expect(await store.recordsChecksums([[segment.firstSeq, segment.lastSeq]])).toEqual([
          digest,
        ]);
      }
      // Across segments: the frames of the records in the range, in order.
      expect(await store.recordsChecksums([[3, 8]])).toEqual([
        crc32(encodeFrames(records.slice(2, 8))),
      ]);
      // Asked together (one message to the writer), in any order, overlapping, past the end.
      const ranges: [number, number][] = [
        [8, 10],
        [1, 1],
        [2, 9],
        [5, 5],
        [9, 12],
      ];
      const together = await store.recordsChecksums(ranges);
      expect(together).toEqual(
        ranges.map(([a, b]) =>
          crc32(encodeFrames(records.filter((r) => r.seq >= a && r.seq <= b))),
        ),
      );
      await store.close();
    }));

  it('refuses a write that would overlap the journal, whole', () =>
    inFolder(async (dir) => {
      await fourBatches(dir);
      const store = new SqliteStore(dir);
      const [tenth] = await store.readRecords(9, 1);
      if (tenth === undefined) throw new Error('no record 10');
      const eleventh = { ...tenth, seq: 11 };
      // Records 10 (again) and 11 in one write: neither is written.
      await expect(store.append([tenth, eleventh])).rejects.toThrow(
        /journal record 10 is already written/,
      );
      await store.close();
      const reopened = new SqliteStore(dir);
      expect(await reopened.lastSeq()).toBe(10);
      await reopened.close();
    }));
});

describe('SQLite journal files of an earlier schema', () => {
  for (const version of [1, 2] as const) {
    it(`upgrades a version ${version} file: its records move into segments and replay as commands, later ones by effects`, () =>
      inFolder(async (dir) => {
        const records = await fourRecords(join(dir, 'now'));
        const old = join(dir, 'old');
        mkdirSync(old);
        writeOldFile(old, version, records);

        const second = await DurableEngine.open(new SqliteStore(old), quiet);
        expect(second.recovery.fromEffects).toBe(0);
        expect(second.recovery.seq).toBe(4);
        expect(await second.store.readRecords(0, 10)).toEqual(records);
        expect((await accountHistory(second.store, 'ann')).map((e) => e.seq)).toEqual([4]);
        await second.submitJson({
          type: 'deposit',
          time: 2,
          account: 'ann',
          asset: 'U1',
          amount: '5',
        });
        const hash = second.engine.hash();
        await second.close();

        const store = new SqliteStore(old);
        const recovered = await recover(store, { ...quiet, snapshots: false });
        expect(recovered.report.fromEffects).toBe(1);
        expect(recovered.report.stateHash).toBe(hash);
        expect((await accountHistory(store, 'ann')).map((e) => e.seq)).toEqual([4, 5]);
        await store.close();
        const check = new Database(join(old, SQLITE_FILE_NAME));
        expect(check.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get()).toBe(
          '3',
        );
        expect(
          check.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'journal'").pluck().get(),
        ).toBe(0);
        // A schema from a later Fulcrum is refused, not guessed at.
        check.exec("UPDATE meta SET value = '4' WHERE key = 'schema'");
        check.close();
        expect(() => new SqliteStore(old)).toThrow(/has schema 4; this Fulcrum reads schema 3/);
      }));
  }

  it('keeps a damaged record of an old file damaged: recovery names it after the upgrade', () =>
    inFolder(async (dir) => {
      const records = await fourRecords(join(dir, 'now'));
      const old = join(dir, 'old');
      mkdirSync(old);
      writeOldFile(
        old,
        2,
        records.map((r) => (r.seq === 2 ? { ...r, outcome: 'ok ' } : r)),
      );
      const store = new SqliteStore(old);
      const failure = await recover(store, quiet).catch((error: unknown) => error);
      expect((failure as StoreError).message).toMatch(/journal record 2 is damaged/);
      await store.close();
    }));
});

describe('upgrading a long old file', () => {
  it("moves every record, across gaps and past a segment's length, with its index", () =>
    inFolder(async (dir) => {
      // Records 1 to 9,000 and, after a gap, 9,005 to 9,010 (a journal restored with a hole).
      const seqs = [
        ...Array.from({ length: 9_000 }, (_, i) => i + 1),
        ...Array.from({ length: 6 }, (_, i) => 9_005 + i),
      ];
      const records = seqs.map((seq) =>
        sealRecord({
          seq,
          time: Math.floor(seq / 10),
          command: `{"type":"accrue","time":${Math.floor(seq / 10)},"asset":"USDC"}`,
          outcome: 'unknown_asset',
          events: '[]',
          accounts: seq % 1_000 === 0 ? ['ann'] : [],
        }),
      );
      writeOldFile(dir, 1, records);
      const store = new SqliteStore(dir);
      expect(await store.readRecords(0, 20_000)).toEqual(records);
      expect(await store.lastSeq()).toBe(9_010);
      expect((await store.recordsOfAccount('ann', 100)).map((r) => r.seq)).toEqual(
        Array.from({ length: 9 }, (_, i) => (i + 1) * 1_000),
      );
      expect((await store.recordsInTimeRange(900, 900, 100)).map((r) => r.seq)).toEqual(
        Array.from({ length: 10 }, (_, i) => 9_000 + i).filter((seq) => seqs.includes(seq)),
      );
      await store.close();
      const db = new Database(join(dir, SQLITE_FILE_NAME));
      const segments = db.prepare('SELECT first_seq, last_seq FROM segments ORDER BY 1').all();
      db.close();
      // A segment never spans a gap, nor more than 8,192 records.
      expect(segments).toEqual([
        { first_seq: 1, last_seq: 8_192 },
        { first_seq: 8_193, last_seq: 9_000 },
        { first_seq: 9_005, last_seq: 9_010 },
      ]);
    }));
});

describe('an effects segment whose checksum holds but which is not what its writer wrote', () => {
  it('is replaced by its commands, with a warning, when it cannot be read; the segments beside it still apply', () =>
    inFolder(async (dir) => {
      const hash = await fourBatches(dir);
      const store = new SqliteStore(dir);
      // The right version, then a record of no known kind.
      const forged = await forgeThirdSegment(store, Buffer.from([1, 9]));
      const warnings: string[] = [];
      const recovered = await recover(store, { warn: (m) => warnings.push(m) });
      expect(warnings.join()).toMatch(
        new RegExp(
          `effects of journal records ${forged.firstSeq} to ${forged.lastSeq} cannot be read \\(unknown record kind 9\\)`,
        ),
      );
      expect(recovered.report.fromEffects).toBe(10 - 3);
      expect(recovered.report.stateHash).toBe(hash);
      await store.close();
    }));

  it('stops recovery, naming the record, when it reads but fails part-way', () =>
    inFolder(async (dir) => {
      await fourBatches(dir);
      const store = new SqliteStore(dir);
      // A kept command (listing USDC again, which is refused) and two refusals: it reads, and
      // applying it changes the state before it fails, so nothing can stand in for it.
      const text = Buffer.from(encodeCommand(decodeCommand(listing('USDC', 1), createState())));
      const length = Buffer.alloc(4);
      length.writeUInt32LE(text.length);
      const forged = await forgeThirdSegment(
        store,
        Buffer.concat([Buffer.from([1, 2]), length, text, Buffer.from([0, 0])]),
      );
      const failure = await recover(store, quiet).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(StoreError);
      // The segment checks out, so the journal was written under other rules (or forged with
      // its checksum): recovery stops, naming the record.
      expect((failure as StoreError).code).toBe('store_incompatible');
      expect((failure as StoreError).message).toMatch(
        new RegExp(
          `journal record ${forged.firstSeq} replays to asset_already_listed under this Fulcrum's rules, but the journal says ok`,
        ),
      );
      await store.close();
    }));
});
