/**
 * Where one shard saturates, and what account shards with a pool shard buy: a seeded,
 * time-stepped simulation of shard leaders (docs/REPLICATION.md, "Sharding"). Each shard's
 * leader is one server: it takes up to `batchMax` waiting commands, appends them as one log
 * entry (`appendMs`, the R3 quorum's acknowledgement) and applies them (`applyUs` each, its one
 * engine thread), one batch at a time. With one shard every command is local. With `shards`
 * account shards and a pool shard, a share `poolShare` of commands (borrows, withdrawals of
 * supply, repayments, liquidation repayments) goes hold -> pool decision -> settle: a stage on
 * the account shard, a relay (`relayMs`), a stage on the pool shard, a relay, a stage on the
 * account shard again. Pure and deterministic for its input: no clock, seeded arrivals.
 */
import { SeededRandom } from '../math/random.js';

export interface ShardSimConfig {
  /** Account shards; 1: one shard holds everything (no pool shard). */
  readonly shards: number;
  /** Commands a second offered, all shards together. */
  readonly rate: number;
  /** Share of commands that need the pool shard (when shards > 1). */
  readonly poolShare: number;
  readonly batchMax: number;
  /** One log append's acknowledgement, ms. */
  readonly appendMs: number;
  /** One command's work on the leader's engine thread, µs. */
  readonly applyUs: number;
  /** A cross-shard relay's latency beyond the append, ms. */
  readonly relayMs: number;
  readonly seconds: number;
  readonly seed: number;
}

export interface ShardSimResult {
  readonly rate: number;
  /** Commands finished a second. */
  readonly completed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The busiest leader's share of the time spent on batches (appending included), 0 to 1. */
  readonly busiest: number;
  /** Most commands waiting at one leader at the end (not in its batch). */
  readonly waiting: number;
  /** Commands still in flight at the end. */
  readonly inFlight: number;
}

interface Job {
  readonly arrivedMs: number;
  /** Shards still to visit, in order. */
  readonly route: number[];
  readyMs: number;
}

interface Leader {
  queue: Job[];
  head: number;
  busyUntilMs: number;
  batch: Job[];
  busyMs: number;
}

const STEP_MS = 0.05;

/** Arrivals in one step: Poisson with mean `mean` (normal approximation past 30). */
function arrivals(random: SeededRandom, mean: number): number {
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * random.normal()));
  let count = 0;
  let product = random.next();
  const limit = Math.exp(-mean);
  while (product > limit) {
    count += 1;
    product *= random.next();
  }
  return count;
}

function routeOf(config: ShardSimConfig, random: SeededRandom): number[] {
  if (config.shards === 1) return [0];
  const home = Math.floor(random.next() * config.shards);
  return random.next() < config.poolShare ? [home, config.shards, home] : [home];
}

/** Runs one configuration. */
export function simulateShards(config: ShardSimConfig): ShardSimResult {
  const random = new SeededRandom(config.seed);
  const count = config.shards === 1 ? 1 : config.shards + 1;
  const leaders: Leader[] = Array.from({ length: count }, () => ({
    queue: [],
    head: 0,
    busyUntilMs: 0,
    batch: [],
    busyMs: 0,
  }));
  const latencies: number[] = [];
  const endMs = config.seconds * 1_000;
  let offered = 0;
  for (let now = 0; now < endMs; now += STEP_MS) {
    const n = arrivals(random, (config.rate * STEP_MS) / 1_000);
    for (let i = 0; i < n; i++) {
      const route = routeOf(config, random);
      (leaders[route[0] as number] as Leader).queue.push({ arrivedMs: now, route, readyMs: now });
    }
    offered += n;
    for (const leader of leaders) step(leader, leaders, now, config, latencies);
  }
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return {
    rate: config.rate,
    completed: latencies.length / config.seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    busiest: Math.max(...leaders.map((l) => l.busyMs / endMs)),
    waiting: Math.max(...leaders.map((l) => l.queue.length - l.head)),
    inFlight: offered - latencies.length,
  };
}

/** One step of one leader: finish its batch, then start the next from what is ready. */
function step(
  leader: Leader,
  leaders: Leader[],
  now: number,
  config: ShardSimConfig,
  latencies: number[],
): void {
  if (leader.batch.length > 0 && now >= leader.busyUntilMs) {
    for (const job of leader.batch) {
      job.route.shift();
      const next = job.route[0];
      if (next === undefined) {
        latencies.push(now - job.arrivedMs);
      } else {
        job.readyMs = now + config.relayMs;
        (leaders[next] as Leader).queue.push(job);
      }
    }
    leader.batch = [];
  }
  if (leader.batch.length > 0) return;
  const batch: Job[] = [];
  while (leader.head < leader.queue.length && batch.length < config.batchMax) {
    const job = leader.queue[leader.head] as Job;
    if (job.readyMs > now) break;
    batch.push(job);
    leader.head += 1;
  }
  if (leader.head > 4_096 && leader.head * 2 > leader.queue.length) {
    leader.queue = leader.queue.slice(leader.head);
    leader.head = 0;
  }
  if (batch.length === 0) return;
  const serviceMs = config.appendMs + (batch.length * config.applyUs) / 1_000;
  leader.batch = batch;
  leader.busyUntilMs = now + serviceMs;
  leader.busyMs += serviceMs;
}

/**
 * The highest offered rate (of a doubling sweep refined by bisection) a configuration carries
 * with p99 latency within `p99MsMax` and no growing backlog: where it saturates.
 */
export function saturationRate(
  base: Omit<ShardSimConfig, 'rate'>,
  p99MsMax: number,
  from = 1_000,
): { rate: number; at: ShardSimResult | null } {
  // Little's law: a stable system holds about rate x latency in flight.
  // and no leader with more than two full batches waiting at the end: batching absorbs a
  // load the leader carries, so a longer wait is a queue that grows.
  const ok = (r: ShardSimResult) =>
    r.p99Ms <= p99MsMax &&
    r.inFlight <= (r.rate * p99MsMax) / 1_000 &&
    r.waiting <= 2 * base.batchMax;
  let low = 0;
  let lowResult: ShardSimResult | null = null;
  let high = from;
  for (let i = 0; i < 24; i++) {
    const result = simulateShards({ ...base, rate: high });
    if (!ok(result)) break;
    low = high;
    lowResult = result;
    high *= 2;
  }
  for (let i = 0; i < 6; i++) {
    const mid = (low + high) / 2;
    const result = simulateShards({ ...base, rate: mid });
    if (ok(result)) {
      low = mid;
      lowResult = result;
    } else {
      high = mid;
    }
  }
  return { rate: low, at: lowResult };
}
