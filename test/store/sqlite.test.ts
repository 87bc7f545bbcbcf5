import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_FILE_NAME, SqliteStore } from '../../src/store/index.js';
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
