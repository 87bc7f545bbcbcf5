/**
 * Durability figures: journaled commands per second with group commit (SQLite, and PostgreSQL
 * when a server answers), replay speed, and recovery time for a long journal with snapshots.
 * Each rate sits beside the same commands applied in memory, measured in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { applyCommand, type Command } from '../src/index.js';
import {
  DurableEngine,
  type JournalStore,
  PostgresStore,
  recover,
  SqliteStore,
} from '../src/store/index.js';
import { setup, setupCommands, Workload } from './commandBench.js';
import type { Measurement } from './harness.js';

const COMMANDS = 200_000;
const CHUNK = 4_096;
/** Most commands a producer lets wait for the journal before it waits itself. */
const BACKLOG = 32_768;
const quiet = { warn: () => undefined };

function measurement(name: string, count: number, ms: number): Measurement {
  const perSecond = (count * 1000) / ms;
  return { name, perSecond, nsPerOp: 1e9 / perSecond, rounds: 1 };
}

function elapsed(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * The first `count` commands of the workload for `seed`, made before the clock starts and then
 * handed out in order: the rates measure the engine and its journal, not the random stream
 * (which costs about as much as applying a command), as the in-memory baseline does.
 */
function pregenerated(seed: number, count: number): { next(count: number): Command[] } {
  const commands = new Workload(seed).next(count);
  let at = 0;
  return {
    next(n: number) {
      const chunk = commands.slice(at, at + n);
      at += chunk.length;
      return chunk;
    },
  };
}

/**
 * How a producer hands commands over: `pipelined` as a gateway would (`submitPipelined`, the
 * results at once, acknowledged by journal position), `promise` one promise per command
 * (`submit`).
 */
type Submission = 'pipelined' | 'promise';

/**
 * Submits `count` commands of the workload as a producer would: continuously, in chunks,
 * waiting only when more than {@link BACKLOG} commands are not yet durable (backpressure), so
 * that the engine prepares batches while the store writes.
 */
async function journal(
  durable: DurableEngine,
  workload: { next(count: number): Command[] },
  count: number,
  submission: Submission,
  progress?: (done: number) => void,
) {
  for (let done = 0; done < count;) {
    const commands = workload.next(Math.min(CHUNK, count - done));
    if (submission === 'pipelined')
      for (const command of commands) durable.submitPipelined(command);
    else for (const command of commands) void durable.submit(command);
    done += commands.length;
    await durable.backlogBelow(BACKLOG);
    progress?.(done);
  }
  await durable.flush();
}

async function openDurable(store: JournalStore, snapshotEvery: number): Promise<DurableEngine> {
  const durable = await DurableEngine.open(store, { ...quiet, snapshotEvery });
  await Promise.all(setupCommands().map((c) => durable.submitJson(c)));
  return durable;
}

async function postgresUrl(): Promise<string | null> {
  const url = process.env.FULCRUM_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return url;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function journalBenchmarks(): Promise<{ measurements: Measurement[]; note: string }> {
  const measurements: Measurement[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-bench-'));
  try {
    // SQLite, synchronous = FULL: durable on power loss. A store each, so that both start
    // from the same empty journal; the first is replayed below.
    const durable = await openDurable(new SqliteStore(dir), 100_000);
    let start = process.hrtime.bigint();
    await journal(durable, pregenerated(7, COMMANDS), COMMANDS, 'pipelined');
    measurements.push(
      measurement(
        'journaled commands, SQLite WAL, synchronous=FULL, group commit, pipelined (submitPipelined)',
        COMMANDS,
        elapsed(start),
      ),
    );
    await durable.close();
    const promiseDir = mkdtempSync(join(tmpdir(), 'fulcrum-bench-'));
    try {
      const perCommand = await openDurable(new SqliteStore(promiseDir), 100_000);
      start = process.hrtime.bigint();
      await journal(perCommand, pregenerated(7, COMMANDS), COMMANDS, 'promise');
      measurements.push(
        measurement(
          'journaled commands, SQLite WAL, synchronous=FULL, group commit, a promise each (submit)',
          COMMANDS,
          elapsed(start),
        ),
      );
      await perCommand.close();
    } finally {
      rmSync(promiseDir, { recursive: true, force: true });
    }

    const store = new SqliteStore(dir);
    start = process.hrtime.bigint();
    const fromEffects = await recover(store, { ...quiet, snapshots: false });
    measurements.push(
      measurement(
        'replay from effects: read, check and apply segments; records checked against their digests (SQLite)',
        fromEffects.report.replayed,
        elapsed(start),
      ),
    );
    start = process.hrtime.bigint();
    const unchecked = await recover(store, { ...quiet, snapshots: false, checkRecords: false });
    measurements.push(
      measurement(
        'replay from effects, records not read (checkRecords: false) (SQLite)',
        unchecked.report.replayed,
        elapsed(start),
      ),
    );
    start = process.hrtime.bigint();
    const replayed = await recover(store, { ...quiet, fullReplay: true });
    measurements.push(
      measurement(
        'replay of commands: read, check, decode and re-execute every record (SQLite)',
        replayed.report.replayed,
        elapsed(start),
      ),
    );
    await store.close();
    if (
      fromEffects.report.stateHash !== replayed.report.stateHash ||
      unchecked.report.stateHash !== replayed.report.stateHash
    ) {
      throw new Error('replay from effects and replay of commands disagree');
    }
    if (fromEffects.report.fromEffects !== fromEffects.report.replayed) {
      throw new Error(
        `only ${fromEffects.report.fromEffects} of ${fromEffects.report.replayed} records replayed from effects`,
      );
    }

    const url = await postgresUrl();
    if (url !== null) {
      const schema = `fulcrum_bench_${process.pid}`;
      const pgStore = await PostgresStore.open(url, schema);
      try {
        const pgDurable = await openDurable(pgStore, 100_000);
        const pgCommands = pregenerated(7, COMMANDS / 4);
        start = process.hrtime.bigint();
        await journal(pgDurable, pgCommands, COMMANDS / 4, 'pipelined');
        measurements.push(
          measurement(
            'journaled commands, PostgreSQL (local), group commit, pipelined',
            COMMANDS / 4,
            elapsed(start),
          ),
        );
        await pgDurable.flush();
      } finally {
        await pgStore.dropSchema();
        await pgStore.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The baseline: the same commands applied in memory, no journal.
  const state = setup();
  const commands: Command[] = new Workload(7).next(COMMANDS);
  const start = process.hrtime.bigint();
  for (const command of commands) applyCommand(state, command);
  measurements.push(
    measurement('the same commands in memory, no journal (baseline)', COMMANDS, elapsed(start)),
  );
  return {
    measurements,
    note: `${COMMANDS} mixed commands over 10,000 accounts; PostgreSQL ${measurements.length === 7 ? 'measured' : 'skipped: no server'}`,
  };
}

/**
 * Recovery of a journal of `total` commands with a snapshot every 100,000: the time to open
 * it (newest snapshot plus tail) against a full replay, in the same run.
 */
export async function recoveryBenchmark(
  total: number,
): Promise<{ measurements: Measurement[]; note: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-recovery-'));
  try {
    const durable = await openDurable(new SqliteStore(dir, { synchronous: 'normal' }), 100_000);
    let last = Date.now();
    const started = process.hrtime.bigint();
    const workload = new Workload(11);
    await journal(durable, workload, total, 'pipelined', (done) => {
      if (Date.now() - last > 5_000 || done === total) {
        last = Date.now();
        const rate = Math.round((done * 1000) / elapsed(started));
        process.stderr.write(
          `  recovery bench: journaled ${done.toLocaleString('en')} of ${total.toLocaleString('en')} (${rate.toLocaleString('en')}/s)\n`,
        );
      }
    });
    await durable.close();
    // Then a tail after the last snapshot, as a crash would find it: 60% of the interval.
    const tailStore = new SqliteStore(dir, { synchronous: 'normal' });
    const tail = await DurableEngine.open(tailStore, {
      ...quiet,
      snapshotEvery: Number.MAX_SAFE_INTEGER,
    });
    await journal(tail, workload, 60_000, 'pipelined');
    await tail.close();
    const store = new SqliteStore(dir);
    let start = process.hrtime.bigint();
    const fast = await recover(store, quiet);
    const fastMs = elapsed(start);
    process.stderr.write(
      `  recovery bench: recovered in ${(fastMs / 1000).toFixed(2)} s; now the full replay\n`,
    );
    // The whole journal from its effects, without snapshots: with its records checked against
    // their digests, and without.
    start = process.hrtime.bigint();
    const effects = await recover(store, { ...quiet, snapshots: false });
    const effectsMs = elapsed(start);
    start = process.hrtime.bigint();
    const unchecked = await recover(store, { ...quiet, snapshots: false, checkRecords: false });
    const uncheckedMs = elapsed(start);
    process.stderr.write(
      `  recovery bench: whole journal from effects in ${(effectsMs / 1000).toFixed(2)} s (records checked), ${(uncheckedMs / 1000).toFixed(2)} s (not); now the full replay of commands\n`,
    );
    start = process.hrtime.bigint();
    const full = await recover(store, { ...quiet, fullReplay: true });
    const fullMs = elapsed(start);
    await store.close();
    for (const other of [fast, effects, unchecked]) {
      if (other.report.stateHash !== full.report.stateHash)
        throw new Error('recovery and full replay disagree');
    }
    const records = full.report.replayed;
    const rate = (ms: number) => `${((records * 1000) / ms / 1e6).toFixed(2)} M records/s`;
    const once = (name: string, ms: number): Measurement => ({
      name,
      perSecond: 1000 / ms,
      nsPerOp: ms * 1e6,
      rounds: 1,
    });
    return {
      measurements: [
        once(`recovery: newest snapshot + ${fast.report.replayed} records replayed`, fastMs),
        once(
          `all ${records.toLocaleString('en')} records from effects, checked against digests`,
          effectsMs,
        ),
        once(`all ${records.toLocaleString('en')} records from effects, not checked`, uncheckedMs),
        once(
          `full replay of all ${records.toLocaleString('en')} records' commands (baseline)`,
          fullMs,
        ),
      ],
      note: `recovery ${(fastMs / 1000).toFixed(2)} s; whole journal from effects ${(effectsMs / 1000).toFixed(1)} s (${rate(effectsMs)}) checked, ${(uncheckedMs / 1000).toFixed(1)} s (${rate(uncheckedMs)}) not; full replay of commands ${(fullMs / 1000).toFixed(1)} s (${rate(fullMs)}); rates above are runs per second`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
