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
import { formerDerivativesJournal, formerDerivativesNote } from '../store/formerJournal.js';
import { openStore } from '../store/index.js';
import { recover } from '../store/recovery.js';
import { type JournalStore, StoreError } from '../store/store.js';
import { CliError, EXIT } from './io.js';

/** Opens the journal in `data` read-only, answers with it, and closes it. */
export async function withStore<T>(
  data: string,
  use: (store: JournalStore) => Promise<T>,
): Promise<T> {
  const store = await openStore(data, { readOnly: true });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** `history account ID`: every journaled command that touched the account. */
export function historyAccount(data: string, account: string, limit: number): Promise<string> {
  return withStore(data, async (store) => {
    const entries = await accountHistory(store, account, limit);
    return entries.map((e) => JSON.stringify(e)).join('\n');
  });
}

/** `history events FROM TO [--liquidations]`: events with command times in [FROM, TO]. */
export function historyEvents(
  data: string,
  from: string,
  to: string,
  liquidationsOnly: boolean,
): Promise<string> {
  // Wrong input is refused before any journal is looked for.
  const range = [parseTime(from, 'FROM'), parseTime(to, 'TO')] as const;
  return withStore(data, async (store) => {
    const keep = liquidationsOnly ? isLiquidationEvent : () => true;
    const events = await eventsInTimeRange(store, ...range, keep);
    return events.map((e) => JSON.stringify(e)).join('\n');
  });
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
 * `verify`: recovery (snapshot and tail) and the whole journal from its effects, against a full
 * replay of the commands. A derivatives journal an earlier release left beside the engine's is
 * not read: a warning says so (through `warn`), and when it is all `data` holds, the refusal
 * (`store_not_found`) says so instead.
 */
export async function verify(
  data: string,
  warn: (message: string) => void,
): Promise<{ text: string; ok: boolean }> {
  const former = await formerDerivativesJournal(data);
  try {
    return await withStore(data, async (store) => {
      if (former !== null) warn(formerDerivativesNote(former));
      const fast = await recover(store);
      const effects = await recover(store, { snapshots: false });
      const full = await recover(store, { fullReplay: true });
      return verdict(store.location, fast.report, full.report, effects.report);
    });
  } catch (error) {
    if (former !== null && error instanceof StoreError && error.code === 'store_not_found') {
      throw new StoreError(
        'store_not_found',
        `${error.message}, only ${former}: the derivatives journal of an earlier release, which this release does not read`,
      );
    }
    throw error;
  }
}

/** What a recovery reached, as `verify` compares it. */
interface Reached {
  readonly seq: number;
  readonly snapshotSeq: number | null;
  readonly replayed: number;
  readonly stateHash: string;
}

/**
 * The verdict: recovery from the newest snapshot and the whole journal from its effects,
 * against the full replay of its commands.
 */
function verdict(
  location: string,
  fast: Reached,
  full: Reached,
  effects: Reached & { readonly fromEffects: number },
) {
  const ok = fast.stateHash === full.stateHash && effects.stateHash === full.stateHash;
  const text = [
    `journal: ${full.seq} records in ${location}`,
    `recovery: snapshot at ${fast.snapshotSeq ?? 'none'}, ${fast.replayed} records replayed, hash ${fast.stateHash}`,
    `from effects: ${effects.fromEffects} of ${effects.replayed} records from their effects, the rest re-executed, hash ${effects.stateHash}`,
    `full replay: ${full.replayed} records, hash ${full.stateHash}`,
    ok ? 'ok: the hashes agree' : 'MISMATCH: recovery and full replay disagree',
  ].join('\n');
  return { text, ok };
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
