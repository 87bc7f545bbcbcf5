/**
 * `fulcrum history ...` and `fulcrum verify`: questions to a journal, answered without changing
 * it (recovery may drop a torn last record, with a warning, as it always does).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { renderHealthReport } from '../margin/report.js';
import { Engine } from '../engine/engine.js';
import {
  accountHistory,
  eventsInTimeRange,
  isLiquidationEvent,
  stateAt,
} from '../store/history.js';
import {
  DurableLedger,
  LEDGER_POSTGRES_SCHEMA,
  LEDGER_SQLITE_FILE_NAME,
} from '../store/durableLedger.js';
import { openStore, PostgresStore, SqliteStore } from '../store/index.js';
import { recover } from '../store/recovery.js';
import type { JournalStore } from '../store/store.js';
import { ledgerWithPortfolioMargin } from './derivatives.js';
import { CliError, EXIT } from './io.js';

/** Which journal a history question reads: the engine's, or the derivatives ledger's. */
export type Journal = 'engine' | 'derivatives';

async function withStore<T>(
  data: string,
  use: (store: JournalStore) => Promise<T>,
  journal: Journal = 'engine',
): Promise<T> {
  const store = journal === 'engine' ? await openStore(data) : await openLedgerStore(data);
  if (store === null) {
    throw new CliError(`${data} holds no derivatives journal`, EXIT.badInput);
  }
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** `history account ID`: every journaled command that touched the account. */
export function historyAccount(
  data: string,
  account: string,
  limit: number,
  journal: Journal = 'engine',
): Promise<string> {
  return withStore(
    data,
    async (store) => {
      const entries = await accountHistory(store, account, limit);
      return entries.map((e) => JSON.stringify(e)).join('\n');
    },
    journal,
  );
}

/** `history events FROM TO [--liquidations]`: events with command times in [FROM, TO]. */
export function historyEvents(
  data: string,
  from: string,
  to: string,
  liquidationsOnly: boolean,
  journal: Journal = 'engine',
): Promise<string> {
  return withStore(
    data,
    async (store) => {
      const keep = liquidationsOnly ? isLiquidationEvent : () => true;
      const events = await eventsInTimeRange(
        store,
        parseTime(from, 'FROM'),
        parseTime(to, 'TO'),
        keep,
      );
      return events.map((e) => JSON.stringify(e)).join('\n');
    },
    journal,
  );
}

/** `history state SEQ`: the state right after journal record SEQ, its hash and its accounts. */
export function historyState(data: string, seqText: string): Promise<string> {
  const seq = Number(seqText);
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw new CliError(
      `SEQ must be a journal position (a whole number), not ${JSON.stringify(seqText)}`,
      EXIT.usage,
    );
  }
  return withStore(data, async (store) => {
    const last = await store.lastSeq();
    if (seq > last) {
      throw new CliError(
        `the journal holds ${last} records; there is no record ${seq}`,
        EXIT.badInput,
      );
    }
    const engine = new Engine(await stateAt(store, seq));
    const accounts = [...engine.state.accounts.values()].flatMap((account) =>
      account.subAccounts.map((sub) => {
        const ref = { account: account.id, subAccount: sub.number };
        const report = renderHealthReport(engine.health(ref));
        return {
          ...ref,
          healthFactor: report.healthFactor,
          collateralValue: report.collateralValue,
          liabilityValue: report.liabilityValue,
        };
      }),
    );
    return JSON.stringify(
      {
        seq,
        time: engine.state.time,
        sequence: engine.state.sequence,
        stateHash: engine.hash(),
        pools: engine.pools(),
        accounts,
      },
      null,
      2,
    );
  });
}

/** `verify`: recovery (snapshot and tail) against a full replay of the journal. */
export async function verify(data: string): Promise<{ text: string; ok: boolean }> {
  const engine = await verifyEngine(data);
  const ledger = await verifyLedger(data);
  return ledger === null
    ? engine
    : { text: `${engine.text}\n${ledger.text}`, ok: engine.ok && ledger.ok };
}

function verifyEngine(data: string): Promise<{ text: string; ok: boolean }> {
  return withStore(data, async (store) => {
    const fast = await recover(store);
    const full = await recover(store, { fullReplay: true });
    const ok = fast.report.stateHash === full.report.stateHash;
    const text = [
      `journal: ${full.report.seq} records in ${store.location}`,
      `recovery: snapshot at ${fast.report.snapshotSeq ?? 'none'}, ${fast.report.replayed} records replayed, hash ${fast.report.stateHash}`,
      `full replay: ${full.report.replayed} records, hash ${full.report.stateHash}`,
      ok ? 'ok: the hashes agree' : 'MISMATCH: recovery and full replay disagree',
    ].join('\n');
    return { text, ok };
  });
}

/**
 * The derivatives journal beside the engine's, when there is one: recovery from its newest
 * snapshot against a full replay. Null when `data` holds none.
 */
async function verifyLedger(data: string): Promise<{ text: string; ok: boolean } | null> {
  const open = async (fullReplay: boolean) => {
    const store = await openLedgerStore(data);
    if (store === null) return null;
    const { durable } = await DurableLedger.open(store, ledgerWithPortfolioMargin(), {
      fullReplay,
      warn: (message) => process.stderr.write(`fulcrum: warning: ${message}\n`),
    });
    await durable.close();
    return { recovery: durable.recovery, location: store.location };
  };
  const fast = await open(false);
  const full = await open(true);
  if (fast === null || full === null) return null;
  const ok = fast.recovery.stateHash === full.recovery.stateHash;
  const text = [
    `derivatives journal: ${full.recovery.seq} records in ${fast.location}`,
    `recovery: snapshot at ${fast.recovery.snapshotSeq ?? 'none'}, ${fast.recovery.replayed} records replayed, hash ${fast.recovery.stateHash}`,
    `full replay: ${full.recovery.replayed} records, hash ${full.recovery.stateHash}`,
    ok ? 'ok: the hashes agree' : 'MISMATCH: recovery and full replay disagree',
  ].join('\n');
  return { text, ok };
}

/**
 * The derivatives journal a `--data` value holds (`derivatives.sqlite` in the folder, or the
 * `fulcrum_derivatives` schema), or null when there is none: questions do not create one.
 */
async function openLedgerStore(data: string): Promise<JournalStore | null> {
  if (/^postgres(ql)?:\/\//.test(data)) {
    return (await schemaExists(data, LEDGER_POSTGRES_SCHEMA))
      ? PostgresStore.open(data, LEDGER_POSTGRES_SCHEMA)
      : null;
  }
  return existsSync(join(data, LEDGER_SQLITE_FILE_NAME))
    ? new SqliteStore(data, { fileName: LEDGER_SQLITE_FILE_NAME })
    : null;
}

/** Whether a PostgreSQL schema exists (without creating it, as opening a store would). */
async function schemaExists(url: string, schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const { rows } = await client.query(
      'SELECT 1 FROM information_schema.schemata WHERE schema_name = $1',
      [schema],
    );
    return rows.length > 0;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A time given as unix seconds or as an ISO-8601 date. */
function parseTime(text: string, name: string): number {
  if (/^[0-9]{1,12}$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new CliError(
      `${name} must be unix seconds or an ISO date, not ${JSON.stringify(text)}`,
      EXIT.usage,
    );
  return Math.floor(ms / 1000);
}
