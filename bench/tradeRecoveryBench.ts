/**
 * Recovery of a derivatives venue's journal: the account bench's mix (fills, marks, index prices,
 * deposits, borrows, withdrawals, funding) journaled on SQLite without snapshots, then recovered
 * from its effects, records checked and not, against re-executing every command (the baseline).
 * Every road must reach the same state hash.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from '../src/index.js';
import { DurableEngine, recover, SqliteStore } from '../src/store/index.js';
import { fundAccount, mix, OPENING } from './accountBench.js';
import { type Measurement, rateMeasurement } from './harness.js';

const ACCOUNTS = 10_000;
const COMMANDS = 200_000;
const quiet = { warn: () => undefined };

/** Journals the venue's opening (the account bench's: listings, a lender, funded accounts) and the mix. */
async function write(folder: string): Promise<void> {
  const durable = await DurableEngine.open(new SqliteStore(folder), {
    ...quiet,
    snapshotEvery: 100_000_000,
  });
  for (const command of OPENING) await durable.submitJson(command);
  for (let a = 0; a < ACCOUNTS; a++) durable.submitPipelined(fundAccount(a));
  const commands = mix(COMMANDS, ACCOUNTS, 11);
  for (let i = 0; i < commands.length; i++) {
    durable.submitPipelined(commands[i] as Command);
    if (i % 4096 === 4095) await durable.backlogBelow(32_768);
  }
  await durable.flush();
  await durable.close();
}

export async function tradeRecoveryBenchmarks(): Promise<{
  measurements: Measurement[];
  note: string;
}> {
  const folder = mkdtempSync(join(tmpdir(), 'fulcrum-trade-recovery-'));
  try {
    await write(folder);
    const store = new SqliteStore(folder);
    const roads = [
      { name: 'recovery from effects, records checked', options: { snapshots: false } },
      {
        name: 'recovery from effects, records unchecked',
        options: { snapshots: false, checkRecords: false },
      },
      { name: 'full replay of every command (baseline)', options: { fullReplay: true } },
    ];
    const rates = roads.map(() => [] as number[]);
    const hashes = new Set<string>();
    let records = 0;
    let fromEffects = 0;
    for (let round = 0; round < 4; round++) {
      for (const [r, road] of roads.entries()) {
        const start = process.hrtime.bigint();
        const { report } = await recover(store, { ...quiet, ...road.options });
        const ns = Number(process.hrtime.bigint() - start);
        hashes.add(report.stateHash);
        records = report.replayed;
        if (road.options.snapshots === false) fromEffects = report.fromEffects;
        if (round > 0) (rates[r] as number[]).push((report.replayed * 1e9) / ns);
      }
    }
    await store.close();
    if (hashes.size !== 1) throw new Error('the roads of recovery reached different states');
    return {
      measurements: roads.map((road, r) => rateMeasurement(road.name, rates[r] as number[])),
      note: `${records} records, ${fromEffects} of them applied from effects; every road reached the same state hash; median of three rounds after a warm-up`,
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
