/**
 * History pages from the journal (durable records only), oldest first. Every account's: by
 * journal position, the cursor being the last position given. One account's: through the
 * store's account index (`accountHistory`), the cursor being how many of the account's records
 * were given; the index reaches the account's first {@link HISTORY_LIMIT_MAX} records.
 */
import { FulcrumError } from '../base/errors.js';
import { recordIntact } from '../store/journal.js';
import { accountHistory, HISTORY_LIMIT_MAX, type HistoryEntry } from '../store/history.js';
import { type JournalStore, StoreError } from '../store/store.js';

export interface HistoryPage {
  readonly items: readonly HistoryEntry[];
  /** Where the next page starts, or null when this one reached the end. */
  readonly next: number | null;
}

export async function readHistory(
  store: JournalStore,
  account: string | undefined,
  position: number,
  limit: number,
): Promise<HistoryPage> {
  if (account !== undefined) {
    if (position + limit > HISTORY_LIMIT_MAX) {
      throw new FulcrumError(
        'limit_exceeded',
        `an account's history is paged through its first ${HISTORY_LIMIT_MAX} records`,
        'cursor',
      );
    }
    const entries = await accountHistory(store, account, position + limit + 1);
    const items = entries.slice(position, position + limit);
    return { items, next: entries.length > position + limit ? position + limit : null };
  }
  const records = await store.readRecords(position, limit + 1);
  const items = records.slice(0, limit).map((record): HistoryEntry => {
    if (!recordIntact(record)) {
      throw new StoreError('store_corrupt', `journal record ${record.seq} is damaged`);
    }
    return {
      seq: record.seq,
      time: record.time,
      outcome: record.outcome,
      command: JSON.parse(record.command) as unknown,
      events: JSON.parse(record.events) as Record<string, unknown>[],
    };
  });
  const last = items.at(-1);
  return { items, next: records.length > limit && last !== undefined ? last.seq : null };
}
