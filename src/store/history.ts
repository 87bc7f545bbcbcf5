/**
 * Questions about the past, answered from the journal: what happened to an account, which
 * events fell in a time window (liquidations among them), and the whole state as it stood at
 * any journal position (by replay from the nearest snapshot before it).
 */
import type { EngineState } from '../engine/state.js';
import { type JournalRecord, recordIntact } from './journal.js';
import { recover } from './recovery.js';
import { type JournalStore, StoreError } from './store.js';

/** Most records one history query returns. */
export const HISTORY_LIMIT_MAX = 100_000;

export interface HistoryEntry {
  readonly seq: number;
  readonly time: number;
  readonly outcome: string;
  /** The command in stored form (bigints as integer strings in their own units). */
  readonly command: unknown;
  /** The command's events as JSON (decimal strings in their units). */
  readonly events: readonly Record<string, unknown>[];
}

/** A record as history tells it; a damaged one is refused, never told as what happened. */
/** A journal record as history shows it; `store_corrupt` when its checksum does not match. */
export function historyEntry(record: JournalRecord): HistoryEntry {
  if (!recordIntact(record)) {
    throw new StoreError(
      'store_corrupt',
      `journal record ${record.seq} is damaged (its checksum does not match)`,
    );
  }
  return {
    seq: record.seq,
    time: record.time,
    outcome: record.outcome,
    command: JSON.parse(record.command) as unknown,
    events: JSON.parse(record.events) as Record<string, unknown>[],
  };
}

/** Every journaled command that touched `account` (accepted or refused), oldest first. */
export async function accountHistory(
  store: JournalStore,
  account: string,
  limit = 1_000,
): Promise<HistoryEntry[]> {
  const records = await store.recordsOfAccount(account, Math.min(limit, HISTORY_LIMIT_MAX));
  return records.map(historyEntry);
}

/**
 * Events whose command time lies in [from, to], oldest first, optionally only those whose type
 * passes `keep` (for example, the liquidation engine's liquidation events).
 */
export async function eventsInTimeRange(
  store: JournalStore,
  from: number,
  to: number,
  keep: (type: string) => boolean = () => true,
  limit = HISTORY_LIMIT_MAX,
): Promise<(Record<string, unknown> & { seq: number; time: number })[]> {
  const records = await store.recordsInTimeRange(from, to, Math.min(limit, HISTORY_LIMIT_MAX));
  return records.flatMap((record) =>
    historyEntry(record)
      .events.filter((e) => keep(String(e.type)))
      .map((e) => ({ seq: record.seq, time: record.time, ...e })),
  );
}

/**
 * Event types that record liquidations and their losses, of both books: a debt repaid against
 * collateral (`liquidation`), a position taken over (`position-liquidated`), a bankrupt position
 * closed against its counterparties (`deleveraged`), and a loss written off (`bad-debt`).
 */
export function isLiquidationEvent(type: string): boolean {
  return (
    type === 'liquidation' ||
    type === 'position-liquidated' ||
    type === 'deleveraged' ||
    type === 'bad-debt'
  );
}

/** The state as it stood right after journal record `seq`, rebuilt by replay. */
export async function stateAt(store: JournalStore, seq: number): Promise<EngineState> {
  const { state } = await recover(store, { untilSeq: seq });
  return state;
}
