/**
 * The derivatives ledger's journal: commands in stored form decode to themselves, a journal
 * written in two runs replays to the state of one run in memory, a torn last record is dropped,
 * and damage elsewhere stops recovery.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ledgerWithPortfolioMargin } from '../../src/cli/derivatives.js';
import { parseJsonText } from '../../src/domain/json.js';
import { decodeLedgerJson } from '../../src/derivatives/json.js';
import type { DerivativesLedger, LedgerCommand } from '../../src/derivatives/ledger.js';
import {
  decodeLedgerCommand,
  DurableLedger,
  encodeLedgerCommand,
} from '../../src/store/durableLedger.js';
import { SqliteStore } from '../../src/store/sqliteStore.js';
import { StoreError } from '../../src/store/store.js';

const story: LedgerCommand[] = readFileSync(
  join(import.meta.dirname, '..', '..', 'examples', 'perp-story.jsonl'),
  'utf8',
)
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('//'))
  .map((l) => decodeLedgerJson(parseJsonText(l, 'story')));

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

const dirs: string[] = [];
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-ledger-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

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
    const outcomes = await first.durable.submit(story.slice(0, 19));
    expect(outcomes.filter((o) => !o.ok).map((o) => (o.ok ? '' : o.error.code))).toEqual([
      'insufficient_margin',
      'isolated_one_instrument',
      'reserved_account',
    ]);
    await first.durable.close();
    const second = await DurableLedger.open(new SqliteStore(dir), ledgerWithPortfolioMargin());
    expect(second.replayed).toBe(19);
    await second.durable.submit(story.slice(19));
    await second.durable.close();
    const third = await DurableLedger.open(new SqliteStore(dir), ledgerWithPortfolioMargin());
    expect(third.replayed).toBe(story.length);
    expect(state(third.durable.ledger)).toBe(state(memory));
    await third.durable.close();
  });

  it('drops a torn last record with a warning, and stops at damage anywhere else', async () => {
    const dir = folder();
    const opened = await DurableLedger.open(new SqliteStore(dir), ledgerWithPortfolioMargin());
    await opened.durable.submit(story.slice(0, 10));
    await opened.durable.close();
    // The last record cut short: its checksum no longer matches.
    let store = new SqliteStore(dir);
    store.exec("UPDATE journal SET events = '[{' WHERE seq = ?", 10);
    const warnings: string[] = [];
    const reopened = await DurableLedger.open(store, ledgerWithPortfolioMargin(), (w) =>
      warnings.push(w),
    );
    expect(reopened.replayed).toBe(9);
    expect(warnings.join()).toMatch(/dropping journal record 10/);
    await reopened.durable.close();
    // A damaged record in the middle: recovery refuses to guess.
    store = new SqliteStore(dir);
    store.exec("UPDATE journal SET outcome = 'ok2' WHERE seq = ?", 5);
    await expect(DurableLedger.open(store, ledgerWithPortfolioMargin())).rejects.toBeInstanceOf(
      StoreError,
    );
    await store.close();
  });
});
