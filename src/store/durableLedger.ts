/**
 * The derivatives ledger made durable: every command (accepted or refused, with its outcome
 * and events) goes into a journal store before it is acknowledged, and opening the store
 * loads the newest snapshot that checks out and replays the journal after it, checking each
 * record's checksum and outcome. A damaged last record (a write cut short) is dropped with a
 * warning; damage anywhere else stops recovery with `store_corrupt`; a damaged snapshot is
 * passed over (with a warning) for an older one or the start. Commands are written in batches,
 * one atomic write each; a snapshot goes in the same write as the batch it follows.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FulcrumError } from '../domain/errors.js';
import {
  DerivativesLedger,
  type LedgerCommand,
  type LedgerEvent,
  namedAccounts,
  ACCOUNT_NAME_PATTERN,
} from '../derivatives/ledger.js';
import { ledgerHash, restoreLedger, serializeLedger } from '../derivatives/ledgerCodec.js';
import { sha256Hex } from '../math/sha256.js';
import { type RecordContent, type SnapshotRecord, snapshotChecksum } from './journal.js';
import { isPostgresUrl, PostgresStore } from './postgresStore.js';
import { checkedReplay, dropTornTail, newestSnapshotThatChecksOut } from './recovery.js';
import { SqliteStore } from './sqliteStore.js';
import type { JournalStore } from './store.js';

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
  /** Where recovery warnings go (a dropped record, a damaged snapshot). Default: nowhere. */
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
      .filter(
        (name): name is string => typeof name === 'string' && ACCOUNT_NAME_PATTERN.test(name),
      ),
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
   * wanted): drops a torn last record, loads the newest snapshot that checks out (unless
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
    await dropTornTail(store, warn);
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
    const outcomes: LedgerOutcome[] = [];
    const records: RecordContent[] = [];
    for (const command of commands) {
      const outcome = applyLedgerCommand(this.ledger, command);
      outcomes.push(outcome);
      this.seq += 1;
      records.push({
        seq: this.seq,
        time: command.time,
        command: encodeLedgerCommand(command),
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

/** The derivatives journal `data` holds, or null: questions about a journal create none. */
export async function openExistingLedgerStore(data: string): Promise<JournalStore | null> {
  const exists = isPostgresUrl(data)
    ? await PostgresStore.schemaExists(data, LEDGER_POSTGRES_SCHEMA)
    : existsSync(join(data, LEDGER_SQLITE_FILE_NAME));
  return exists ? openLedgerStore(data) : null;
}
