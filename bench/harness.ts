/**
 * A small benchmark harness: runs a function in rounds until a time budget is spent, after a
 * warm-up, and reports the median rate. Benchmarks print figures; they never assert on time.
 */
import { cpus } from 'node:os';
import { DurableEngine, SqliteStore } from '../src/store/index.js';

export interface Measurement {
  readonly name: string;
  /** Operations per second, median of the rounds. */
  readonly perSecond: number;
  /** Nanoseconds per operation at the median rate. */
  readonly nsPerOp: number;
  readonly rounds: number;
}

/**
 * Measures `run(n)`, which must perform `n` operations. Each round runs enough operations to
 * take about `roundMs`; the median of `rounds` rounds is reported.
 */
export function measure(
  name: string,
  run: (n: number) => void,
  options: { rounds?: number; roundMs?: number } = {},
): Measurement {
  const rounds = options.rounds ?? 7;
  const roundMs = options.roundMs ?? 250;
  let n = 1;
  // Warm up and size the round: double until one round takes roundMs.
  for (;;) {
    const ms = time(() => run(n));
    if (ms >= roundMs / 4) {
      n = Math.max(1, Math.round((n * roundMs) / ms));
      break;
    }
    n *= 2;
  }
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const ms = time(() => run(n));
    rates.push((n * 1000) / ms);
  }
  return rateMeasurement(name, rates);
}

/** The median of `values` (the upper one of an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** A figure from the rates (operations a second) of its rounds: their median. */
export function rateMeasurement(name: string, rates: readonly number[]): Measurement {
  const perSecond = median(rates);
  return { name, perSecond, nsPerOp: 1e9 / perSecond, rounds: rates.length };
}

function time(f: () => void): number {
  const start = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The machine, for the report: figures from shared, noisy machines need their context. */
export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  return `${cpu}, ${cpus().length} cores, Node.js ${process.version}`;
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k/s`;
  return `${perSecond.toFixed(1)} /s`;
}

/**
 * The embedded journal's own rate, the baseline of the service's and the replicated log's
 * figures: deposits of 1 USDC on a `DurableEngine` on SQLite in `dir`, pipelined (1,000 at a
 * time, at most 10,000 waiting), for `seconds`, after the `opening` commands.
 */
export async function journaledDepositRate(
  dir: string,
  opening: readonly unknown[],
  time: number,
  seconds: number,
): Promise<number> {
  const durable = await DurableEngine.open(new SqliteStore(dir), { snapshotWorker: null });
  try {
    for (const command of opening) await durable.submitJson(command);
    const deposit = { type: 'deposit', time, account: 'bench', asset: 'USDC', amount: '1' };
    const start = performance.now();
    let done = 0;
    while (performance.now() - start < seconds * 1_000) {
      for (let i = 0; i < 1_000; i++) void durable.submitJson(deposit);
      done += 1_000;
      await durable.backlogBelow(10_000);
    }
    await durable.flush();
    return (done * 1_000) / (performance.now() - start);
  } finally {
    await durable.close();
  }
}
