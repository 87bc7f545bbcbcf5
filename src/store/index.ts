/**
 * Fulcrum's durability layer (`fulcrum/store`): journal, snapshots, recovery and history, with
 * an embedded SQLite store and a PostgreSQL store. Node.js only; the core (`fulcrum`) does not
 * depend on it.
 */
import { isPostgresUrl, PostgresStore } from './postgresStore.js';
import { SqliteStore, type SqliteStoreOptions } from './sqliteStore.js';
import type { JournalStore } from './store.js';

export { DurableEngine, type DurableEngineOptions, type JournaledResult } from './durableEngine.js';
export {
  FORMER_DERIVATIVES_FILE,
  FORMER_DERIVATIVES_SCHEMA,
  formerDerivativesJournal,
} from './formerJournal.js';
export {
  accountHistory,
  eventsInTimeRange,
  type HistoryEntry,
  isLiquidationEvent,
  stateAt,
} from './history.js';
export {
  type JournalRecord,
  recordChecksum,
  recordIntact,
  sealRecord,
  type SnapshotRecord,
} from './journal.js';
export { PostgresStore, type PostgresStoreOptions, postgresUrlProblem } from './postgresStore.js';
export { recover, type Recovered, type RecoveryOptions, type RecoveryReport } from './recovery.js';
export { snapshotWorkerScript } from './snapshotFollower.js';
export { SQLITE_FILE_NAME, SqliteStore, type SqliteStoreOptions } from './sqliteStore.js';
export {
  type JournalStore,
  type SeqRange,
  type SnapshotInfo,
  StoreError,
  type StoreErrorCode,
} from './store.js';

/**
 * Opens the store a `--data` value names: a `postgres://` (or `postgresql://`) URL, or a folder
 * for the embedded SQLite store. For writing (the default) it takes the journal's lock, and
 * creates the folder and the journal if need be; with `readOnly`, it opens an existing journal
 * for reading (`store_not_found` if there is none) and creates nothing.
 */
export async function openStore(
  data: string,
  options: SqliteStoreOptions = {},
): Promise<JournalStore> {
  if (isPostgresUrl(data)) {
    return PostgresStore.open(data, undefined, { readOnly: options.readOnly === true });
  }
  return new SqliteStore(data, options);
}
