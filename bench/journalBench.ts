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
  snapshotWorkerScript,
  SqliteStore,
} from '../src/store/index.js';
import { setup, setupCommands, Workload } from './commandBench.js';
import { type Measurement, median, rateMeasurement } from './harness.js';

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

/** Timed rounds of each journaled and replay figure; the median is reported. */
const ROUNDS = 3;

/**
 * Journals the workload's first {@link COMMANDS} commands into a new SQLite journal in a new
 * folder under `parent`; returns the rate and the folder.
 */
async function journalRound(
  parent: string,
  submission: Submission,
): Promise<{ perSecond: number; cpuMicros: number; dir: string }> {
  const dir = mkdtempSync(join(parent, 'round-'));
  const durable = await openDurable(new SqliteStore(dir), 100_000);
  const commands = pregenerated(7, COMMANDS);
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await journal(durable, commands, COMMANDS, submission);
  const perSecond = (COMMANDS * 1000) / elapsed(start);
  // CPU of the whole process (both threads and the collector's), a command: on two cores,
  // 200,000 a second allows at most 10 µs.
  const used = process.cpuUsage(cpu);
  const cpuMicros = (used.user + used.system) / COMMANDS;
  await durable.close();
  return { perSecond, cpuMicros, dir };
}

/**
 * Journaled rates with group commit, each the median of {@link ROUNDS} rounds into a new
 * journal after one warm-up round (as the in-memory figures are measured warm), and replay
 * rates of the last journal; PostgreSQL when a server answers.
 */
export async function journalBenchmarks(): Promise<{ measurements: Measurement[]; note: string }> {
  const measurements: Measurement[] = [];
  let pgMeasured = false;
  /** CPU a command of each pipelined SQLite round, over all threads. */
  const cpuMicros: number[] = [];
  const parent = mkdtempSync(join(tmpdir(), 'fulcrum-bench-'));
  try {
    // SQLite, synchronous = FULL: durable on power loss.
    rmSync((await journalRound(parent, 'pipelined')).dir, { recursive: true, force: true });
    const pipelined: number[] = [];
    const promised: number[] = [];
    let dir = '';
    for (let round = 0; round < ROUNDS; round++) {
      const perCommand = await journalRound(parent, 'promise');
      promised.push(perCommand.perSecond);
      rmSync(perCommand.dir, { recursive: true, force: true });
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
      const gateway = await journalRound(parent, 'pipelined');
      pipelined.push(gateway.perSecond);
      cpuMicros.push(gateway.cpuMicros);
      dir = gateway.dir;
    }
    measurements.push(
      rateMeasurement(
        'journaled commands, SQLite WAL, synchronous=FULL, group commit, pipelined (submitPipelined)',
        pipelined,
      ),
      rateMeasurement(
        'journaled commands, SQLite WAL, synchronous=FULL, group commit, a promise each (submit)',
        promised,
      ),
    );

    const store = new SqliteStore(dir);
    const replays = {
      checked: [] as number[],
      unchecked: [] as number[],
      commands: [] as number[],
    };
    const hashes = new Set<string>();
    let fromEffects = 0;
    let replayed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [kind, options] of [
        ['checked', { snapshots: false }],
        ['unchecked', { snapshots: false, checkRecords: false }],
        ['commands', { fullReplay: true }],
      ] as const) {
        const start = process.hrtime.bigint();
        const recovered = await recover(store, { ...quiet, ...options });
        replays[kind].push((recovered.report.replayed * 1000) / elapsed(start));
        hashes.add(recovered.report.stateHash);
        replayed = recovered.report.replayed;
        if (kind === 'checked') fromEffects = recovered.report.fromEffects;
      }
    }
    await store.close();
    if (hashes.size !== 1) throw new Error('replay from effects and replay of commands disagree');
    if (fromEffects !== replayed) {
      throw new Error(`only ${fromEffects} of ${replayed} records replayed from effects`);
    }
    measurements.push(
      rateMeasurement(
        'replay from effects: read, check and apply segments; records checked against their digests (SQLite)',
        replays.checked,
      ),
      rateMeasurement(
        'replay from effects, records not read (checkRecords: false) (SQLite)',
        replays.unchecked,
      ),
      rateMeasurement(
        'replay of commands: read, check, decode and re-execute every record (SQLite)',
        replays.commands,
      ),
    );

    const url = await postgresUrl();
    if (url !== null) {
      const schema = `fulcrum_bench_${process.pid}`;
      const pgStore = await PostgresStore.open(url, schema);
      try {
        const pgDurable = await openDurable(pgStore, 100_000);
        const pgCommands = pregenerated(7, COMMANDS / 4);
        const start = process.hrtime.bigint();
        await journal(pgDurable, pgCommands, COMMANDS / 4, 'pipelined');
        measurements.push(
          measurement(
            'journaled commands, PostgreSQL (local), group commit, pipelined',
            COMMANDS / 4,
            elapsed(start),
          ),
        );
        pgMeasured = true;
        await pgDurable.flush();
      } finally {
        await pgStore.dropSchema();
        await pgStore.close();
      }
    }
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
  // The baseline: the same commands applied in memory, no journal, also the median of rounds.
  const commands: Command[] = new Workload(7).next(COMMANDS);
  const memory: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const state = setup();
    const start = process.hrtime.bigint();
    for (const command of commands) applyCommand(state, command);
    memory.push((COMMANDS * 1000) / elapsed(start));
  }
  measurements.push(rateMeasurement('the same commands in memory, no journal (baseline)', memory));
  return {
    measurements,
    note: `${COMMANDS} mixed commands over 10,000 accounts, medians of ${ROUNDS} rounds after a warm-up round; pipelined SQLite journaling used ${median(cpuMicros).toFixed(1)} µs of CPU a command over all threads; PostgreSQL ${pgMeasured ? 'measured (one round)' : 'skipped: no server'}`,
  };
}

/**
 * Snapshots on the engine's thread against snapshots built by a follower thread: journaled
 * commands a second, and the longest the producer waited for a chunk of {@link CHUNK} commands
 * (a snapshot built on the engine's thread stops it for as long as it takes), with `accounts`
 * accounts and a snapshot every 100,000 records.
 */
export async function snapshotBenchmarks(
  sizes: readonly number[],
): Promise<{ measurements: Measurement[]; note: string }> {
  const script = snapshotWorkerScript();
  if (script === null) throw new Error('the snapshot worker is not built');
  const measurements: Measurement[] = [];
  const notes: string[] = [];
  for (const accounts of sizes) {
    for (const [where, snapshotWorker] of [
      ['a follower thread', script],
      ["the engine's thread", null],
    ] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'fulcrum-snapshots-'));
      try {
        const durable = await DurableEngine.open(new SqliteStore(dir), {
          ...quiet,
          snapshotEvery: 100_000,
          snapshotPerAccount: 0,
          snapshotWorker,
        });
        await Promise.all(setupCommands().map((c) => durable.submitJson(c)));
        const extra = accounts - 10_000;
        for (let at = 0; at < extra; at += CHUNK) {
          for (let k = at; k < Math.min(extra, at + CHUNK); k++) {
            durable.submitPipelined({
              type: 'deposit',
              time: 1,
              account: `extra-${k}`,
              subAccount: 0,
              asset: 'ETH',
              amount: 10n ** 18n,
            });
          }
          await durable.backlogBelow(BACKLOG);
        }
        await durable.flush();
        const workload = pregenerated(5, 4 * COMMANDS);
        let longest = 0;
        const start = process.hrtime.bigint();
        let step = start;
        await journal(durable, workload, 4 * COMMANDS, 'pipelined', () => {
          const now = process.hrtime.bigint();
          longest = Math.max(longest, Number(now - step) / 1e6);
          step = now;
        });
        const perSecond = (4 * COMMANDS * 1000) / elapsed(start);
        await durable.close();
        const store = new SqliteStore(dir);
        const snapshots = (await store.snapshots()).length;
        await store.close();
        measurements.push({
          name: `${accounts.toLocaleString('en')} accounts, snapshots built on ${where}: longest wait ${longest.toFixed(0)} ms`,
          perSecond,
          nsPerOp: 1e9 / perSecond,
          rounds: 1,
        });
        notes.push(`${snapshots} (${accounts.toLocaleString('en')} accounts, ${where})`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return {
    measurements,
    note: `journaled commands a second, pipelined, ${(4 * COMMANDS).toLocaleString('en')} mixed commands after the accounts' deposits, one round each; snapshots taken: ${notes.join(', ')}; the longest wait is the longest the producer waited for a chunk of ${CHUNK.toLocaleString('en')} commands (on average a chunk takes ${CHUNK.toLocaleString('en')} / the rate: 34 ms at 120 k/s)`,
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
