/**
 * History pages from the journal (durable records only), oldest first. Every account's: by
 * journal position, the cursor being the last position given. One account's: through the
 * store's account index (`accountHistory`), the cursor being how many of the account's records
 * were given; the index reaches the account's first {@link HISTORY_LIMIT_MAX} records.
 */
import { FulcrumError } from '../base/errors.js';
import {
  accountHistory,
  HISTORY_LIMIT_MAX,
  type HistoryEntry,
  historyEntry,
} from '../store/history.js';
import type { JournalStore } from '../store/store.js';

export interface HistoryPage {
  readonly items: readonly HistoryEntry[];
  /** Where the next page starts, or null when this one reached the end. */
  readonly next: number | null;
}

/**
 * A page of history. One account's page reads the account's records from its first (the
 * store's account index has no position cursor), so its depth is bounded by `depthMax`
 * (`historyDepthMax`): no request reads more than that many records.
 */
export async function readHistory(
  store: JournalStore,
  account: string | undefined,
  position: number,
  limit: number,
  depthMax: number = HISTORY_LIMIT_MAX,
): Promise<HistoryPage> {
  if (account !== undefined) {
    const depth = Math.min(depthMax, HISTORY_LIMIT_MAX);
    if (position + limit > depth) {
      throw new FulcrumError(
        'limit_exceeded',
        `an account's history is paged through its first ${depth} records (historyDepthMax)`,
        'cursor',
      );
    }
    const entries = await accountHistory(store, account, position + limit + 1);
    const items = entries.slice(position, position + limit);
    return { items, next: entries.length > position + limit ? position + limit : null };
  }
  const records = await store.readRecords(position, limit + 1);
  const items = records.slice(0, limit).map(historyEntry);
  const last = items.at(-1);
  return { items, next: records.length > limit && last !== undefined ? last.seq : null };
}

/** Every account a JSON value names: the `account` fields of it and of the objects in it. */
function namedAccounts(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) namedAccounts(item, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const [field, inner] of Object.entries(value)) {
      if (field === 'account' && typeof inner === 'string') out.add(inner);
      else namedAccounts(inner, out);
    }
  }
  return out;
}

/**
 * An entry as a key that reads only some accounts sees it: the events that name none of its
 * accounts (an expiry's settlement of another holder, a deleveraging's other side) left out,
 * and a command that names accounts, none of them readable, told by its type and time only.
 * Events that name no account (prices, pools) are the venue's and stay.
 */
export function visibleEntry(
  entry: HistoryEntry,
  mayRead: (account: string) => boolean,
): HistoryEntry {
  const visible = (value: unknown) => {
    const named = namedAccounts(value);
    return named.size === 0 || [...named].some(mayRead);
  };
  const command = entry.command as { type?: unknown; time?: unknown };
  return {
    ...entry,
    command: visible(command) ? command : { type: command.type, time: command.time },
    events: entry.events.filter(visible),
  };
}
