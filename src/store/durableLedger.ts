/**
 * The derivatives ledger made durable: every command (accepted or refused, with its outcome
 * and events) goes into a journal store before it is acknowledged, and opening the store
 * loads the newest snapshot that checks out and replays the journal after it, checking each
 * record's checksum and outcome. A damaged record, the last one included (a write is one
 * transaction: a crash never leaves part of one), stops recovery with `store_corrupt`; a
 * damaged snapshot is passed over (with a warning) for an older one or the start. Commands are written in batches,
 * one atomic write each; a snapshot goes in the same write as the batch it follows.
 */
import { FulcrumError } from '../base/errors.js';
import {
  DerivativesLedger,
  type LedgerCommand,
  type LedgerEvent,
  isSubAccountName,
  LEDGER_LIMITS,
  namedAccounts,
} from '../derivatives/ledger.js';
import { ledgerHash, restoreLedger, serializeLedger } from '../derivatives/ledgerCodec.js';
import { sha256Hex } from '../math/sha256.js';
import { type RecordContent, type SnapshotRecord, snapshotChecksum } from './journal.js';
import { isPostgresUrl, PostgresStore } from './postgresStore.js';
import { checkedReplay, newestSnapshotThatChecksOut } from './recovery.js';
import { SqliteStore } from './sqliteStore.js';
import { type JournalStore, StoreError } from './store.js';

/** A command's outcome: its events, or the refusal. */
export type LedgerOutcome =
  | { readonly ok: true; readonly events: LedgerEvent[] }
  | { readonly ok: false; readonly error: FulcrumError };

/** The derivatives journal's file in a `--data` folder, apart from the engine's. */
export const LEDGER_SQLITE_FILE_NAME = 'derivatives.sqlite';

/** The derivatives journal's PostgreSQL schema, apart from the engine's (`fulcrum`). */
export const LEDGER_POSTGRES_SCHEMA = 'fulcrum_derivatives';

/** Records read per page while replaying. */
const PAGE = 10_000;

export interface DurableLedgerOptions {
  /** Journal records between snapshots. Default 10,000. */
  readonly snapshotEvery?: number;
  /** Ignore snapshots and replay the whole journal (verification). */
  readonly fullReplay?: boolean;
  /** Where recovery warnings go (a damaged snapshot). Default: nowhere. */
  readonly warn?: (message: string) => void;
}

/** What opening a derivatives journal did. */
export interface LedgerRecovery {
  /** The snapshot recovery started from (journal position), or null for the start. */
  readonly snapshotSeq: number | null;
  /** Records replayed after it. */
  readonly replayed: number;
  /** Journal length. */
  readonly seq: number;
  /** {@link ledgerHash} of the recovered ledger. */
  readonly stateHash: string;
}

/**
 * A ledger command in stored form: JSON with every bigint written as `#` and its digits (no
 * identifier, symbol or number of a command holds a `#`), so that it decodes without help.
 */
export function encodeLedgerCommand(command: LedgerCommand): string {
  return JSON.stringify(command, (_, v: unknown) => (typeof v === 'bigint' ? `#${v}` : v));
}

export function decodeLedgerCommand(text: string): LedgerCommand {
  return JSON.parse(text, (_, v: unknown) =>
    typeof v === 'string' && /^#-?\d{1,80}$/.test(v) ? BigInt(v.slice(1)) : v,
  ) as LedgerCommand;
}

function eventsJson(events: readonly LedgerEvent[]): string {
  return JSON.stringify(events, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** The sub-accounts a command touched, for history queries: those it names and deleverages. */
function accountsOf(command: LedgerCommand, events: readonly LedgerEvent[]): string[] {
  // A refused command may name what is no name (a space would split the stored list).
  const names = new Set(
    namedAccounts(command)
      .map(([, name]) => name)
      .filter(isSubAccountName),
  );
  for (const e of events) {
    if (e.type === 'deleveraged') names.add(e.account).add(e.counterparty);
  }
  return [...names].sort();
}

export class DurableLedger {
  private seq: number;
  private lastSnapshot: number;
  private readonly snapshotEvery: number;

  private constructor(
    private readonly store: JournalStore,
    readonly ledger: DerivativesLedger,
    readonly recovery: LedgerRecovery,
    options: DurableLedgerOptions,
  ) {
    this.seq = recovery.seq;
    this.lastSnapshot = recovery.snapshotSeq ?? 0;
    this.snapshotEvery = options.snapshotEvery ?? 10_000;
  }

  /**
   * Opens a journal into `ledger` (empty, made with the configuration and portfolio hook
   * wanted): loads the newest snapshot that checks out (unless
   * `fullReplay`), then replays the records after it. If recovery fails, the store is closed
   * and the error thrown.
   */
  static async open(
    store: JournalStore,
    ledger: DerivativesLedger = new DerivativesLedger(),
    options: DurableLedgerOptions = {},
  ): Promise<DurableLedger> {
    try {
      return await DurableLedger.recover(store, ledger, options);
    } catch (error) {
      await store.close().catch(() => undefined);
      throw error;
    }
  }

  private static async recover(
    store: JournalStore,
    ledger: DerivativesLedger,
    options: DurableLedgerOptions,
  ): Promise<DurableLedger> {
    const warn = options.warn ?? (() => {});
    const start = options.fullReplay === true ? null : await restoreNewest(store, ledger, warn);
    let after = start ?? 0;
    for (;;) {
      const records = await store.readRecords(after, PAGE);
      for (const record of records) {
        checkedReplay(record, after + 1, () => {
          const outcome = applyLedgerCommand(ledger, decodeLedgerCommand(record.command));
          return outcome.ok ? 'ok' : outcome.error.code;
        });
        after = record.seq;
      }
      if (records.length < PAGE) break;
    }
    const recovery: LedgerRecovery = {
      snapshotSeq: start,
      replayed: after - (start ?? 0),
      seq: after,
      stateHash: ledgerHash(ledger),
    };
    return new DurableLedger(store, ledger, recovery, options);
  }

  /** Records journaled so far. */
  get journaled(): number {
    return this.seq;
  }

  /**
   * Applies commands in order and writes them, with their outcomes, in one atomic write;
   * resolves with the outcomes once the write is durable (refusals are journaled too: replay
   * must refuse them the same way).
   */
  async submit(commands: readonly LedgerCommand[]): Promise<LedgerOutcome[]> {
    // Every command is written first and applied as read back from what was written, so that
    // the ledger runs exactly what replay will run: a value the stored form cannot carry (a
    // function, undefined, a Map) is absent alike in both, never only in the live ledger. A
    // command that cannot be written at all (a cycle) fails the batch before anything applies.
    const texts = commands.map(encodeLedgerCommand);
    const outcomes: LedgerOutcome[] = [];
    const records: RecordContent[] = [];
    for (const text of texts) {
      const command = decodeLedgerCommand(text);
      const outcome = applyLedgerCommand(this.ledger, command);
      outcomes.push(outcome);
      this.seq += 1;
      records.push({
        seq: this.seq,
        // The ledger's time for a command refused for its own time, which is not a time.
        time: outcome.ok || isRecordTime(command.time) ? command.time : this.ledger.time,
        command: text,
        outcome: outcome.ok ? 'ok' : outcome.error.code,
        events: outcome.ok ? eventsJson(outcome.events) : '[]',
        accounts: accountsOf(command, outcome.ok ? outcome.events : []),
      });
    }
    if (records.length > 0) {
      // The ledger now stands exactly after the batch's last record: snapshot it there.
      const snapshot =
        this.seq - this.lastSnapshot >= this.snapshotEvery ? this.takeSnapshot() : undefined;
      await this.store.append(records, snapshot);
      if (snapshot !== undefined) this.lastSnapshot = snapshot.seq;
    }
    return outcomes;
  }

  private takeSnapshot(): SnapshotRecord {
    const state = serializeLedger(this.ledger);
    const content = { seq: this.seq, stateHash: sha256Hex(state), state };
    return { ...content, checksum: snapshotChecksum(content) };
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

/** Whether `time` can stand as a journal record's time: unix seconds the ledger accepts. */
function isRecordTime(time: unknown): time is number {
  return (
    Number.isSafeInteger(time) && (time as number) >= 0 && (time as number) <= LEDGER_LIMITS.timeMax
  );
}

/** Applies a command to a ledger: its events, or the refusal (other errors are thrown). */
export function applyLedgerCommand(
  ledger: DerivativesLedger,
  command: LedgerCommand,
): LedgerOutcome {
  try {
    return { ok: true, events: ledger.apply(command) };
  } catch (error) {
    if (error instanceof FulcrumError) return { ok: false, error };
    throw error;
  }
}

/**
 * Restores into `ledger` the newest snapshot that checks out (at or before the journal's end);
 * its journal position, or null when none does (the ledger is left empty).
 */
async function restoreNewest(
  store: JournalStore,
  ledger: DerivativesLedger,
  warn: (message: string) => void,
): Promise<number | null> {
  const last = await store.lastSeq();
  const found = await newestSnapshotThatChecksOut(store, { until: last, last }, warn, {
    label: 'ledger snapshot',
    read: (text) => restoreLedger(new DerivativesLedger(ledger.config), text),
    hash: ledgerHash,
  });
  if (found === null) return null;
  restoreLedger(ledger, found.text);
  return found.seq;
}

/**
 * The derivatives journal a `--data` value names, created if need be: `derivatives.sqlite` in
 * the folder, or the `fulcrum_derivatives` schema of a `postgres://` URL.
 */
export async function openLedgerStore(data: string): Promise<JournalStore> {
  return isPostgresUrl(data)
    ? PostgresStore.open(data, LEDGER_POSTGRES_SCHEMA)
    : new SqliteStore(data, { fileName: LEDGER_SQLITE_FILE_NAME });
}

/**
 * The derivatives journal `data` holds, opened for reading only (no lock; nothing created or
 * changed), or null when it holds none: questions about a journal create none.
 */
export async function openExistingLedgerStore(data: string): Promise<JournalStore | null> {
  try {
    return isPostgresUrl(data)
      ? await PostgresStore.open(data, LEDGER_POSTGRES_SCHEMA, { readOnly: true })
      : new SqliteStore(data, { fileName: LEDGER_SQLITE_FILE_NAME, readOnly: true });
  } catch (error) {
    if (error instanceof StoreError && error.code === 'store_not_found') return null;
    throw error;
  }
}
