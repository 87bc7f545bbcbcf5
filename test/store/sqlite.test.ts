import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DurableEngine, recover, SQLITE_FILE_NAME, SqliteStore } from '../../src/store/index.js';
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

describe('SQLite journal files of an earlier schema', () => {
  it('upgrades a version 1 file (no effects kept): its records replay as commands, later ones by effects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fulcrum-sqlite-v1-'));
    try {
      const quiet = { warn: () => undefined };
      const first = await DurableEngine.open(new SqliteStore(dir), quiet);
      for (const at of [0, 1, 2]) {
        await first.submitJson({
          type: 'list-asset',
          time: 0,
          price: '1',
          config: {
            symbol: `U${at}`,
            decimals: 6,
            initialWeight: '0.8',
            maintenanceWeight: '0.85',
          },
        });
      }
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
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('an effects segment that checks out but cannot be read', () => {
  it('is replaced by its commands, with a warning; the segments beside it still apply', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fulcrum-sqlite-forged-'));
    try {
      const quiet = { warn: () => undefined };
      const durable = await DurableEngine.open(new SqliteStore(dir), quiet);
      const listing = (symbol: string) => ({
        type: 'list-asset',
        time: 0,
        price: '1',
        config: { symbol, decimals: 6, initialWeight: '0.8', maintenanceWeight: '0.85' },
      });
      await durable.submitJson(listing('USDC'));
      // Three batches of deposits: a segment each.
      for (const time of [1, 2, 3]) {
        await Promise.all(
          ['ann', 'ben', 'cat'].map((account) =>
            durable.submitJson({ type: 'deposit', time, account, asset: 'USDC', amount: '7' }),
          ),
        );
      }
      const hash = durable.engine.hash();
      await durable.close();

      const store = new SqliteStore(dir);
      const segments = await store.readEffects(0, 10);
      expect(segments.map((s) => s.lastSeq - s.firstSeq + 1)).toEqual([1, 3, 3, 3]);
      const forged = segments[2];
      if (forged === undefined) throw new Error('no third segment');
      // A segment of the right version whose first record is of no known kind, checksum and all.
      const data = Buffer.from([1, 9]);
      store.exec(
        'UPDATE effects SET data = ?, checksum = ? WHERE first_seq = ?',
        data,
        effectsChecksum(forged.firstSeq, forged.lastSeq, data),
        forged.firstSeq,
      );
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
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
