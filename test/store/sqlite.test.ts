import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../../src/engine/commandCodec.js';
import { createState, decodeCommand } from '../../src/index.js';
import {
  DurableEngine,
  recover,
  SQLITE_FILE_NAME,
  SqliteStore,
  StoreError,
} from '../../src/store/index.js';
import { effectsChecksum } from '../../src/store/journal.js';
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
      new SqliteStore(dir).close();
      return new SqliteStore(dir, { maxPageCount: pageCount(dir) + limit.writesAllowed });
    },
    damage: async (store, set, seq) =>
      (store as SqliteStore).exec(`UPDATE journal SET ${set} WHERE seq = ?`, seq),
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

describe('SQLite journal files of an earlier schema', () => {
  it('upgrades a version 1 file (no effects kept): its records replay as commands, later ones by effects', () =>
    inFolder(async (dir) => {
      const first = await DurableEngine.open(new SqliteStore(dir), quiet);
      for (const symbol of ['U0', 'U1', 'U2']) await first.submitJson(listing(symbol));
      await first.submitJson({
        type: 'deposit',
        time: 1,
        account: 'ann',
        asset: 'U0',
        amount: '100',
      });
      await first.close();
      // What a version 1 file held: no effects table, schema 1.
      const db = new Database(join(dir, SQLITE_FILE_NAME));
      db.exec("DROP TABLE effects; UPDATE meta SET value = '1' WHERE key = 'schema'");
      db.close();

      const second = await DurableEngine.open(new SqliteStore(dir), quiet);
      expect(second.recovery.fromEffects).toBe(0);
      expect(second.recovery.seq).toBe(4);
      await second.submitJson({
        type: 'deposit',
        time: 2,
        account: 'ann',
        asset: 'U1',
        amount: '5',
      });
      const hash = second.engine.hash();
      await second.close();

      const store = new SqliteStore(dir);
      const recovered = await recover(store, { ...quiet, snapshots: false });
      expect(recovered.report.fromEffects).toBe(1);
      expect(recovered.report.stateHash).toBe(hash);
      await store.close();
      const check = new Database(join(dir, SQLITE_FILE_NAME));
      expect(check.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get()).toBe('2');
      // A schema from a later Fulcrum is refused, not guessed at.
      check.exec("UPDATE meta SET value = '3' WHERE key = 'schema'");
      check.close();
      expect(() => new SqliteStore(dir)).toThrow(/has schema 3; this Fulcrum reads schema 2/);
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
      expect((failure as StoreError).code).toBe('store_corrupt');
      expect((failure as StoreError).message).toMatch(
        new RegExp(
          `effects of journal record ${forged.firstSeq} cannot be applied \\(a command kept in the effects was refused on replay \\(asset_already_listed\\)\\)`,
        ),
      );
      await store.close();
    }));
});
