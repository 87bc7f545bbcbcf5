/**
 * The derivatives ledger's journal: commands in stored form decode to themselves, a journal
 * written in two runs replays to the state of one run in memory, and damage anywhere (the last
 * record included) stops recovery; snapshots: a ledger's text reads back to itself, recovery
 * from the newest snapshot equals a full replay, and damaged snapshots are passed over.
 */
import { describe, expect, it } from 'vitest';
import { temporaryFolders } from '../fixtures/examples.js';
import { ledgerWithPortfolioMargin } from '../../src/cli/derivatives.js';
import { FulcrumError } from '../../src/base/errors.js';
import { DerivativesLedger, type LedgerCommand } from '../../src/derivatives/ledger.js';
import { ledgerHash, restoreLedger, serializeLedger } from '../../src/derivatives/ledgerCodec.js';
import {
  decodeLedgerCommand,
  DurableLedger,
  encodeLedgerCommand,
} from '../../src/store/durableLedger.js';
import { SqliteStore } from '../../src/store/sqliteStore.js';
import { cutRecordsAfter, damageRecord } from './sqliteRecords.js';
import { journalStory, story, storyInMemory } from '../fixtures/ledgerStory.js';
import { snapshotChecksum } from '../../src/store/journal.js';
import { StoreError } from '../../src/store/store.js';

/** Everything the ledger holds, as text. */
function state(l: DerivativesLedger): string {
  return JSON.stringify(
    {
      accounts: [...l.accounts].map(([k, v]) => [
        k,
        v.mode,
        v.cash,
        [...v.positions],
        [...v.realized],
      ]),
      instruments: [...l.instruments].map(([k, v]) => [k, { ...v, spec: undefined }]),
      volatility: [...l.volatility],
      netDeposits: l.netDeposits,
      time: l.time,
    },
    (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
  );
}

const folder = temporaryFolders('fulcrum-ledger-');

describe('the derivatives journal', () => {
  it('stores every command so that it decodes to itself', () => {
    for (const command of story) {
      expect(decodeLedgerCommand(encodeLedgerCommand(command))).toEqual(command);
    }
    expect(new Set(story.map((c) => c.type)).size).toBeGreaterThanOrEqual(9);
  });

  it('a journal written in two runs replays to the state of one run in memory', async () => {
    const memory = ledgerWithPortfolioMargin();
    for (const command of story) {
      try {
        memory.apply(command);
      } catch {
        // refusals are part of the story
      }
    }
    const dir = folder();
    const first = await DurableLedger.open(new SqliteStore(dir), ledgerWithPortfolioMargin());
    const outcomes = await first.submit(story.slice(0, 19));
    expect(outcomes.filter((o) => !o.ok).map((o) => (o.ok ? '' : o.error.code))).toEqual([
      'insufficient_margin',
      'isolated_one_instrument',
      'reserved_account',
    ]);
    await first.close();
    const second = await DurableLedger.open(new SqliteStore(dir), ledgerWithPortfolioMargin());
    expect(second.recovery.replayed).toBe(19);
    await second.submit(story.slice(19));
    await second.close();
    const third = await DurableLedger.open(new SqliteStore(dir), ledgerWithPortfolioMargin());
    expect(third.recovery.replayed).toBe(story.length);
    expect(state(third.ledger)).toBe(state(memory));
    await third.close();
  });

  it('journals a refusal of a name that is no name without indexing it', async () => {
    const dir = folder();
    const durable = await DurableLedger.open(new SqliteStore(dir), ledgerWithPortfolioMargin());
    const [outcome] = await durable.submit([{ type: 'deposit', time: 1, to: 'a b', amount: 5n }]);
    expect(outcome?.ok).toBe(false);
    await durable.close();
    const store = new SqliteStore(dir);
    const [record] = await store.readRecords(0, 1);
    expect(record?.outcome).toBe('invalid_field');
    expect(record?.accounts).toEqual([]);
    // It replays to the same refusal.
    const reopened = await DurableLedger.open(store, ledgerWithPortfolioMargin());
    expect(reopened.recovery.seq).toBe(1);
    await reopened.close();
  });

  it('runs each command as its journal holds it: what the journal cannot carry, the ledger never sees', async () => {
    const dir = folder();
    const durable = await DurableLedger.open(new SqliteStore(dir), ledgerWithPortfolioMargin());
    // An instrument named valueOf, a trade on it, then commands whose values JSON cannot write:
    // a mark that is undefined, a mark that is a function (both absent from the stored form).
    const listing = story
      .slice(0, 1)
      .map((c) =>
        c.type === 'list-instrument' ? { ...c, spec: { ...c.spec, symbol: 'valueOf' } } : c,
      );
    const outcomes = await durable.submit([
      ...listing,
      { type: 'set-prices', time: 1_893_456_000, index: { ETH: 2000n * 10n ** 18n } },
      { type: 'set-prices', time: 1_893_456_000, marks: { valueOf: 2000n * 10n ** 18n } },
      { type: 'deposit', time: 1_893_456_000, to: 'ann', amount: 10n ** 10n },
      { type: 'deposit', time: 1_893_456_000, to: 'mm', amount: 10n ** 10n },
      {
        type: 'trade',
        time: 1_893_456_000,
        buyer: 'ann',
        seller: 'mm',
        instrument: 'valueOf',
        size: 10n ** 8n,
        price: 2000n * 10n ** 18n,
      },
      { type: 'set-prices', time: 1_893_456_001, marks: { valueOf: undefined } },
      {
        type: 'set-prices',
        time: 1_893_456_002,
        marks: { valueOf: (() => 1n) as unknown as bigint },
      },
      { type: 'set-prices', time: 1_893_456_003, index: { ETH: 2001n * 10n ** 18n } },
    ] as LedgerCommand[]);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(durable.ledger.instrument('valueOf').mark).toBe(2000n * 10n ** 18n);
    const hash = ledgerHash(durable.ledger);
    await durable.close();
    // Every later run reads the journal back to the same ledger, and so does a full replay.
    for (const fullReplay of [false, true]) {
      const again = await DurableLedger.open(new SqliteStore(dir), ledgerWithPortfolioMargin(), {
        fullReplay,
      });
      expect(again.recovery.stateHash).toBe(hash);
      expect(typeof again.ledger.margin('ann').equity).toBe('bigint');
      await again.close();
    }
  });

  it('stops at a damaged record, the last one included, and drops nothing', async () => {
    const dir = folder();
    const opened = await DurableLedger.open(new SqliteStore(dir), ledgerWithPortfolioMargin());
    await opened.submit(story.slice(0, 10));
    await opened.close();
    // The last record damaged: a write is one transaction, so it was acknowledged whole, and
    // this is corruption, not a write cut short.
    let store = new SqliteStore(dir);
    damageRecord(store, 10, { events: '[{' });
    await expect(DurableLedger.open(store, ledgerWithPortfolioMargin())).rejects.toThrow(
      /journal record 10 is damaged/,
    );
    const reader = new SqliteStore(dir, { readOnly: true });
    expect(await reader.lastSeq()).toBe(10);
    await reader.close();
    // A damaged record in the middle: recovery refuses to guess.
    store = new SqliteStore(dir);
    damageRecord(store, 5, { outcome: 'ok2' });
    await expect(DurableLedger.open(store, ledgerWithPortfolioMargin())).rejects.toBeInstanceOf(
      StoreError,
    );
    // The failed opening closed the store (an open PostgreSQL client would keep the process up).
    await expect(store.lastSeq()).rejects.toThrow(/not open/);
  });
});

describe('the derivatives journal with snapshots', () => {
  it('a ledger read back from its text writes the same text and hashes the same', () => {
    const memory = storyInMemory();
    const text = serializeLedger(memory);
    const copy = restoreLedger(ledgerWithPortfolioMargin(), text);
    expect(serializeLedger(copy)).toBe(text);
    expect(ledgerHash(copy)).toBe(ledgerHash(memory));
    expect(state(copy)).toBe(state(memory));
    // No name can look like a stored number: the ledger keeps a volatility only for an
    // underlying it lists, and names hold no `#`.
    const odd = new DerivativesLedger();
    odd.apply({ type: 'deposit', time: 1, to: 'ann', amount: 5n });
    expect(() => odd.apply({ type: 'set-prices', time: 1, volatility: { '#12': 0.5 } })).toThrow(
      /no instrument on "#12"/,
    );
    expect(() => restoreLedger(new DerivativesLedger(), '{"version":2}')).toThrow(FulcrumError);
    expect(() => restoreLedger(new DerivativesLedger(), 'not json')).toThrow(/not valid JSON/);
    // A `#` value that is neither a number nor an escaped string is damage, not a name.
    const damaged = serializeLedger(odd).replace(/"#(\d)/, '"#x$1');
    expect(damaged).not.toBe(serializeLedger(odd));
    expect(() => restoreLedger(new DerivativesLedger(), damaged)).toThrow(/not valid JSON/);
    expect(() => restoreLedger(odd, serializeLedger(odd))).toThrow(/empty ledger/);
  });

  it('recovery from the newest snapshot equals a full replay and the ledger in memory', async () => {
    const dir = folder();
    await journalStory(new SqliteStore(dir));
    const fast = await DurableLedger.open(new SqliteStore(dir), ledgerWithPortfolioMargin());
    const { recovery } = fast;
    expect(recovery.seq).toBe(story.length);
    expect(recovery.snapshotSeq).not.toBeNull();
    // Writes of three with a snapshot once five records have passed: at 6, 12, 18, 24, 30.
    expect(recovery.snapshotSeq).toBe(Math.floor(story.length / 6) * 6);
    expect(recovery.replayed).toBe(story.length - (recovery.snapshotSeq ?? 0));
    await fast.close();
    const full = await DurableLedger.open(new SqliteStore(dir), ledgerWithPortfolioMargin(), {
      fullReplay: true,
    });
    expect(full.recovery.snapshotSeq).toBeNull();
    expect(full.recovery.replayed).toBe(story.length);
    expect(full.recovery.stateHash).toBe(recovery.stateHash);
    expect(recovery.stateHash).toBe(ledgerHash(storyInMemory()));
    expect(state(full.ledger)).toBe(state(fast.ledger));
    await full.close();
  });

  it('a snapshot past the end of the journal is passed over: only records there count', async () => {
    const dir = folder();
    await journalStory(new SqliteStore(dir));
    // The journal restored shorter than its snapshots (at 6, 12, ..., 30): 20 records left.
    const store = new SqliteStore(dir);
    cutRecordsAfter(store, 20);
    const warnings: string[] = [];
    const opened = await DurableLedger.open(store, ledgerWithPortfolioMargin(), {
      warn: (w) => warnings.push(w),
    });
    expect(warnings.join('\n')).toMatch(/snapshot at journal record 24 is past the journal's end/);
    expect(opened.recovery).toMatchObject({ snapshotSeq: 18, replayed: 2, seq: 20 });
    const first20 = ledgerWithPortfolioMargin();
    for (const command of story.slice(0, 20)) {
      try {
        first20.apply(command);
      } catch {
        // refusals are part of the story
      }
    }
    expect(opened.recovery.stateHash).toBe(ledgerHash(first20));
    await opened.close();
  });

  it('a damaged snapshot is passed over for an older one, with a warning', async () => {
    const dir = folder();
    await journalStory(new SqliteStore(dir));
    let store = new SqliteStore(dir);
    const [newest] = await store.snapshots();
    expect(newest).toBeDefined();
    store.exec("UPDATE snapshots SET state = replace(state, '#', '#9') WHERE seq = ?", newest?.seq);
    const warnings: string[] = [];
    const opened = await DurableLedger.open(store, ledgerWithPortfolioMargin(), {
      warn: (w) => warnings.push(w),
    });
    expect(warnings.join()).toMatch(
      new RegExp(`snapshot at journal record ${newest?.seq} is damaged`),
    );
    expect(opened.recovery.snapshotSeq).toBeLessThan(newest?.seq ?? 0);
    expect(opened.recovery.stateHash).toBe(ledgerHash(storyInMemory()));
    await opened.close();
    // A snapshot whose checksum matches but whose state does not hash to its recorded hash.
    store = new SqliteStore(dir);
    // The next older one (the newest is still the damaged one, passed over again).
    const [, kept, older] = await store.snapshots();
    const snapshot = await store.loadSnapshot(kept?.seq ?? 0);
    if (snapshot === undefined || older === undefined) throw new Error('no snapshot');
    const forged = { seq: snapshot.seq, stateHash: '0'.repeat(64), state: snapshot.state };
    await store.append([], { ...forged, checksum: snapshotChecksum(forged) });
    // And the one before it: a sound checksum over text that is no ledger.
    const unreadable = { seq: older.seq, stateHash: older.stateHash, state: 'not a ledger' };
    await store.append([], { ...unreadable, checksum: snapshotChecksum(unreadable) });
    const again: string[] = [];
    const reopened = await DurableLedger.open(store, ledgerWithPortfolioMargin(), {
      warn: (w) => again.push(w),
    });
    expect(again.join()).toMatch(
      new RegExp(`snapshot at journal record ${kept?.seq} does not hash to its recorded hash`),
    );
    expect(again.join()).toMatch(
      new RegExp(`snapshot at journal record ${older.seq} cannot be read`),
    );
    expect(reopened.recovery.snapshotSeq).toBeLessThan(older.seq);
    expect(reopened.recovery.stateHash).toBe(ledgerHash(storyInMemory()));
    await reopened.close();
  });
});
