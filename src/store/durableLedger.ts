/**
 * The derivatives ledger made durable: every command (accepted or refused, with its outcome
 * and events) goes into a journal store before it is acknowledged, and opening the store
 * replays the journal into a fresh ledger, checking each record's checksum and outcome. A
 * damaged last record (a write cut short) is dropped with a warning; damage anywhere else stops
 * recovery with `store_corrupt`. Commands are written in batches, one atomic write each.
 */
import { FulcrumError } from '../domain/errors.js';
import { DerivativesLedger, type LedgerCommand, type LedgerEvent } from '../derivatives/ledger.js';
import type { RecordContent } from './journal.js';
import { checkedReplay, dropTornTail } from './recovery.js';
import type { JournalStore } from './store.js';

/** A command's outcome: its events, or the refusal. */
export type LedgerOutcome =
  | { readonly ok: true; readonly events: LedgerEvent[] }
  | { readonly ok: false; readonly error: FulcrumError };

/** Records read per page while replaying. */
const PAGE = 10_000;

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

/** The sub-accounts a command names, for history queries. */
function accountsOf(command: LedgerCommand, events: readonly LedgerEvent[]): string[] {
  const names = new Set<string>();
  switch (command.type) {
    case 'deposit':
      names.add(command.to);
      break;
    case 'withdraw':
      names.add(command.from);
      break;
    case 'transfer':
      names.add(command.from).add(command.to);
      break;
    case 'set-mode':
    case 'liquidate':
      names.add(command.account);
      break;
    case 'trade':
      names.add(command.buyer).add(command.seller);
      break;
    default:
      break;
  }
  for (const e of events) {
    if (e.type === 'deleveraged') names.add(e.account).add(e.counterparty);
  }
  return [...names].sort();
}

export class DurableLedger {
  private seq: number;

  private constructor(
    private readonly store: JournalStore,
    readonly ledger: DerivativesLedger,
    seq: number,
  ) {
    this.seq = seq;
  }

  /**
   * Opens a journal: replays it into `ledger` (empty), dropping a torn last record. Returns the
   * durable ledger, how many records were replayed, and any warning.
   */
  static async open(
    store: JournalStore,
    ledger: DerivativesLedger = new DerivativesLedger(),
    warn: (message: string) => void = () => {},
  ): Promise<{ durable: DurableLedger; replayed: number }> {
    await dropTornTail(store, warn);
    let after = 0;
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
    return { durable: new DurableLedger(store, ledger, after), replayed: after };
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
    if (records.length > 0) await this.store.append(records);
    return outcomes;
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
