/**
 * `fulcrum history ...` and `fulcrum verify`: questions to a journal, answered without changing
 * it. They open the journal read-only, take no lock (a run may be writing meanwhile), create
 * nothing, and refuse a journal that is not there (`store_not_found`).
 */
import { renderHealthReport } from '../margin/report.js';
import { Engine } from '../engine/engine.js';
import { isoZonedMillis } from '../math/time.js';
import {
  accountHistory,
  eventsInTimeRange,
  isLiquidationEvent,
  stateAt,
} from '../store/history.js';
import { DurableLedger, openExistingLedgerStore } from '../store/durableLedger.js';
import { openStore } from '../store/index.js';
import { recover } from '../store/recovery.js';
import { type JournalStore, StoreError } from '../store/store.js';
import { ledgerWithPortfolioMargin } from './derivatives.js';
import { CliError, EXIT } from './io.js';

/** Which journal a history question reads: the engine's, or the derivatives ledger's. */
export type Journal = 'engine' | 'derivatives';

async function withStore<T>(
  data: string,
  use: (store: JournalStore) => Promise<T>,
  journal: Journal = 'engine',
): Promise<T> {
  const store =
    journal === 'engine'
      ? await openStore(data, { readOnly: true })
      : await openExistingLedgerStore(data);
  if (store === null) {
    throw new StoreError('store_not_found', `${data} holds no derivatives journal`);
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
  // Wrong input is refused before any journal is looked for.
  const range = [parseTime(from, 'FROM'), parseTime(to, 'TO')] as const;
  return withStore(
    data,
    async (store) => {
      const keep = liquidationsOnly ? isLiquidationEvent : () => true;
      const events = await eventsInTimeRange(store, ...range, keep);
      return events.map((e) => JSON.stringify(e)).join('\n');
    },
    journal,
  );
}

/** `history state SEQ`: the state right after journal record SEQ, its hash and its accounts. */
export function historyState(data: string, seqText: string): Promise<string> {
  // Digits only: `1e3`, `0x10` or ` 1` are not how a position is written.
  const seq = /^[0-9]{1,15}$/.test(seqText) ? Number(seqText) : Number.NaN;
  if (!Number.isSafeInteger(seq)) {
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

/**
 * `verify`: recovery (snapshot and tail) against a full replay of the commands, for each
 * journal `data` holds (the engine's, the derivatives ledger's or both; none is refused); for
 * the engine's, also the whole journal from its effects.
 */
export async function verify(data: string): Promise<{ text: string; ok: boolean }> {
  let engine: { text: string; ok: boolean } | null = null;
  let missing: StoreError | null = null;
  try {
    engine = await verifyEngine(data);
  } catch (error) {
    if (!(error instanceof StoreError && error.code === 'store_not_found')) throw error;
    missing = error;
  }
  const ledger = await verifyLedger(data);
  const verdicts = [engine, ledger].filter((v) => v !== null);
  if (missing !== null && verdicts.length === 0) throw missing;
  return { text: verdicts.map((v) => v.text).join('\n'), ok: verdicts.every((v) => v.ok) };
}

/** What a recovery reached, as `verify` compares it. */
interface Reached {
  readonly seq: number;
  readonly snapshotSeq: number | null;
  readonly replayed: number;
  readonly stateHash: string;
}

/**
 * The verdict of one journal: recovery from its newest snapshot, and the whole journal from its
 * effects when given, against the full replay of its commands.
 */
function verdict(
  name: string,
  location: string,
  fast: Reached,
  full: Reached,
  effects?: Reached & { readonly fromEffects: number },
) {
  const ok =
    fast.stateHash === full.stateHash &&
    (effects === undefined || effects.stateHash === full.stateHash);
  const text = [
    `${name}: ${full.seq} records in ${location}`,
    `recovery: snapshot at ${fast.snapshotSeq ?? 'none'}, ${fast.replayed} records replayed, hash ${fast.stateHash}`,
    ...(effects === undefined
      ? []
      : [
          `from effects: ${effects.fromEffects} of ${effects.replayed} records from their effects, the rest re-executed, hash ${effects.stateHash}`,
        ]),
    `full replay: ${full.replayed} records, hash ${full.stateHash}`,
    ok ? 'ok: the hashes agree' : 'MISMATCH: recovery and full replay disagree',
  ].join('\n');
  return { text, ok };
}

function verifyEngine(data: string): Promise<{ text: string; ok: boolean }> {
  return withStore(data, async (store) => {
    const fast = await recover(store);
    const effects = await recover(store, { snapshots: false });
    const full = await recover(store, { fullReplay: true });
    return verdict('journal', store.location, fast.report, full.report, effects.report);
  });
}

/** The derivatives journal beside the engine's; null when `data` holds none. */
async function verifyLedger(data: string): Promise<{ text: string; ok: boolean } | null> {
  const open = async (fullReplay: boolean) => {
    const store = await openExistingLedgerStore(data);
    if (store === null) return null;
    const durable = await DurableLedger.open(store, ledgerWithPortfolioMargin(), {
      fullReplay,
      warn: (message) => process.stderr.write(`fulcrum: warning: ${message}\n`),
    });
    await durable.close();
    return { recovery: durable.recovery, location: store.location };
  };
  const fast = await open(false);
  const full = await open(true);
  if (fast === null || full === null) return null;
  return verdict('derivatives journal', fast.location, fast.recovery, full.recovery);
}

/**
 * A time given as unix seconds or as an ISO-8601 date (`2020-03-12`, `2020-03-12T10:00:00Z`, or
 * with an offset; a time needs its zone, so that the answer does not depend on the machine's).
 * A date that does not exist (30 February, hour 24) is refused, not carried into the next.
 */
function parseTime(text: string, name: string): number {
  if (/^[0-9]{1,12}$/.test(text)) return Number(text);
  const ms = isoZonedMillis(text);
  if (ms !== undefined) return Math.floor(ms / 1000);
  throw new CliError(
    `${name} must be unix seconds or an ISO date (2020-03-12, 2020-03-12T10:00:00Z), not ${JSON.stringify(text)}`,
    EXIT.usage,
  );
}
