/**
 * The replicated log against the embedded journal, in the same run: a three-server NATS
 * cluster on loopback (`LocalCluster`), three engine replicas as child processes (the built
 * `cli/replica.js`, each journaling into its own SQLite store), keyed deposits from concurrent
 * clients in this process through the leader.
 * - journaled commands a second: replicated (acknowledged = stored by a quorum of the R3 stream
 *   and applied by the leader) against the embedded `DurableEngine` on SQLite, pipelined;
 * - follower lag under that load: the leader's commands minus each follower's, sampled from
 *   the replicas' status messages every 100 ms (p50, p99, max);
 * - failover stall: the leader SIGKILLed under load, again and again; the longest gap between
 *   answers after each kill (p50, max).
 * - commands a second over HTTP: `fulcrum serve --replicate` (three nodes, one replica each,
 *   the 64 connections spread over them) against one plain `fulcrum serve` (autocannon).
 * All of it shares the machine's cores: three servers, three replicas and the clients.
 * `BENCH_REPLICATION_SECONDS` (default 8), `BENCH_REPLICATION_CLIENTS` (256) and
 * `BENCH_REPLICATION_KILLS` (5) change the phases; `BENCH_REPLICA_SCRIPT` the replica script.
 */
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { connect, type NatsConnection } from 'nats';
import { ReplicaClient } from '../src/replication/client.js';
import { DepositLoad, stallAfter } from '../src/replication/load.js';
import { freePort, LocalCluster, ReplicaProcess } from '../src/replication/localCluster.js';
import { generateKey, hashKey } from '../src/server/keys.js';
import { shardNames } from '../src/replication/natsLog.js';
import { Engine } from '../src/engine/engine.js';
import { LogApplier } from '../src/replication/applier.js';
import { encodeEntry } from '../src/replication/envelope.js';
import { JetStreamLog, ensureShard } from '../src/replication/natsLog.js';
import { saturationRate } from '../src/replication/shardSim.js';
import { memoryTarget } from '../src/replication/targets.js';
import { journaledDepositRate, type Measurement, median, rateMeasurement } from './harness.js';

const SECONDS = Number(process.env.BENCH_REPLICATION_SECONDS ?? 8);
const CLIENTS = Number(process.env.BENCH_REPLICATION_CLIENTS ?? 256);
const KILLS = Number(process.env.BENCH_REPLICATION_KILLS ?? 5);
const SCRIPT =
  process.env.BENCH_REPLICA_SCRIPT ??
  fileURLToPath(new URL('../src/cli/replica.js', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const HTTP_CONNECTIONS = 64;
const T0 = 1_700_000_000;
const SHARD = 'bench';
const USDC = {
  type: 'list-asset',
  time: T0,
  price: '1',
  config: { symbol: 'USDC', decimals: 6, initialWeight: '0.85', maintenanceWeight: '0.875' },
};

function figure(name: string, perSecond: number): Measurement {
  return { name, perSecond, nsPerOp: 1e9 / perSecond, rounds: 1 };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))] ?? 0;
}

/** Samples leader-minus-follower commands every 100 ms from the status messages. */
function sampleLag(connection: NatsConnection) {
  const latest = new Map<string, { role: string; commands: number }>();
  const lags: number[] = [];
  const sub = connection.subscribe(`${shardNames(SHARD).statusPrefix}.*`, {
    callback: (_error, message) => {
      const status = JSON.parse(message.string()) as {
        node: string;
        role: string;
        commands: number;
      };
      latest.set(status.node, status);
    },
  });
  const timer = setInterval(() => {
    const all = [...latest.values()];
    const leader = all.find((s) => s.role === 'leader');
    if (leader === undefined) return;
    for (const s of all) if (s !== leader) lags.push(Math.max(0, leader.commands - s.commands));
  }, 100);
  return {
    lags,
    stop: () => {
      clearInterval(timer);
      sub.unsubscribe();
    },
  };
}

/** The leader's name from the replicas' status messages. */
async function leaderOf(connection: NatsConnection, not?: string): Promise<string> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const leader = await new Promise<string | null>((resolve) => {
      const sub = connection.subscribe(`${shardNames(SHARD).statusPrefix}.*`, {
        callback: (_error, message) => {
          const status = JSON.parse(message.string()) as { node: string; role: string };
          if (status.role === 'leader' && status.node !== not) {
            sub.unsubscribe();
            resolve(status.node);
          }
        },
      });
      setTimeout(() => {
        sub.unsubscribe();
        resolve(null);
      }, 500);
    });
    if (leader !== null) return leader;
  }
  throw new Error('no leader within 60 s');
}

/** An entry of `count` keyed deposits, as the leader writes it. */
function depositEntry(term: number, first: number, count: number): string {
  const commands = Array.from({ length: count }, (_, i) => ({
    key: `e${first + i}`,
    command: {
      type: 'deposit',
      time: T0,
      account: `a${(first + i) % 1000}`,
      asset: 'USDC',
      amount: '1',
    },
  }));
  return encodeEntry({ kind: 'commands', term, node: 'bench', commands });
}

/** A replica's apply path (entry text -> decode -> dedup -> engine), one core: 3 rounds. */
function applierRate(): Measurement {
  const entries = Array.from({ length: 400 }, (_, i) => depositEntry(1, i * 256, 256));
  const setup = encodeEntry({
    kind: 'commands',
    term: 1,
    node: 'bench',
    commands: [{ key: 'setup', command: USDC }],
  });
  const rates: number[] = [];
  for (let round = 0; round < 3; round++) {
    const applier = new LogApplier(memoryTarget(new Engine()));
    applier.applyEntry(1, encodeEntry({ kind: 'term', term: 1, node: 'bench' }));
    applier.applyEntry(2, setup);
    const start = performance.now();
    entries.forEach((text, i) => applier.applyEntry(i + 3, text));
    rates.push((entries.length * 256 * 1_000) / (performance.now() - start));
  }
  return rateMeasurement(
    'replica apply path (log entry -> engine), 256-command entries, one core',
    rates,
  );
}

/** One 256-command entry's append to an R3 stream, acknowledged, one at a time: p50 ms. */
async function appendLatency(connection: NatsConnection): Promise<number> {
  const names = shardNames('benchappend');
  await ensureShard(connection, names);
  const log = new JetStreamLog(connection, names);
  const text = depositEntry(1, 0, 256);
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const start = performance.now();
    await log.append(text, { msgId: `b${i}` });
    times.push(performance.now() - start);
  }
  return median(times);
}

/** Where one shard saturates, and account shards with a pool shard, from measured costs. */
function saturation(applyUs: number, appendMs: number): string {
  const base = { batchMax: 256, appendMs, applyUs, relayMs: appendMs, seconds: 1, seed: 1 };
  const rows = [
    { shards: 1, poolShare: 0 },
    { shards: 4, poolShare: 0.2 },
    { shards: 4, poolShare: 0.5 },
    { shards: 8, poolShare: 0.2 },
  ].map(({ shards, poolShare }) => {
    const { rate, at } = saturationRate({ ...base, shards, poolShare }, 50, 4_000);
    const label =
      shards === 1
        ? '1 shard'
        : `${shards} account shards + pool shard, ${poolShare * 100}% pool ops`;
    return `${label}: ${Math.round(rate / 1_000)}k/s (p99 ${at?.p99Ms.toFixed(1) ?? '-'} ms)`;
  });
  return `simulated saturation at p99 <= 50 ms (apply ${applyUs.toFixed(1)} us, append ${appendMs.toFixed(2)} ms, batches of 256): ${rows.join('; ')}`;
}

interface Rig {
  readonly cluster: LocalCluster;
  readonly connection: NatsConnection;
  readonly replicas: Map<string, ReplicaProcess>;
  readonly dir: string;
  spawn(node: string): void;
}

/** Acknowledged commands a second under `clients` clients of `perRequest` commands a request. */
async function replicatedThroughput(rig: Rig, clients: number, perRequest: number) {
  const load = new DepositLoad(rig.connection, {
    clients,
    shard: SHARD,
    asset: 'USDC',
    time: T0,
    now: Date.now,
    prefix: `t${perRequest}-`,
    perRequest,
  });
  const lag = sampleLag(rig.connection);
  load.start();
  await sleep(1_000);
  const from = load.total;
  const start = performance.now();
  await sleep(SECONDS * 1_000);
  const rate = ((load.total - from) * 1_000) / (performance.now() - start);
  await load.stop();
  lag.stop();
  return { rate, lags: lag.lags };
}

async function failoverStalls(rig: Rig): Promise<number[]> {
  const load = new DepositLoad(rig.connection, {
    clients: 32,
    shard: SHARD,
    asset: 'USDC',
    time: T0,
    now: Date.now,
    prefix: 'k',
  });
  load.start();
  const stalls: number[] = [];
  try {
    for (let kill = 0; kill < KILLS; kill++) {
      await load.answers(200, 60_000);
      const leader = await leaderOf(rig.connection);
      const at = Date.now();
      await rig.replicas.get(leader)?.kill();
      await leaderOf(rig.connection, leader);
      await load.answers(100, 60_000);
      stalls.push(stallAfter(load.answerTimes, at));
      rig.spawn(leader);
    }
  } finally {
    await load.stop();
  }
  return stalls;
}

async function startRig(): Promise<Rig> {
  const cluster = await LocalCluster.start(3);
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-replication-bench-'));
  const connection = await connect({ servers: cluster.servers, maxReconnectAttempts: -1 });
  const replicas = new Map<string, ReplicaProcess>();
  let generation = 0;
  const spawn = (node: string) => {
    generation += 1;
    const data = join(dir, `${node}-${generation}`);
    const args = ['--shard', SHARD, '--lease-ttl-ms', '1500', '--data', data];
    replicas.set(node, ReplicaProcess.spawn(SCRIPT, node, cluster.servers, args));
  };
  return { cluster, connection, replicas, dir, spawn };
}

async function stopRig(rig: Rig): Promise<void> {
  await Promise.all([...rig.replicas.values()].map((r) => r.kill()));
  await rig.connection.close().catch(() => undefined);
  await rig.cluster.stop();
  rmSync(rig.dir, { recursive: true, force: true });
}

/** A `fulcrum serve` process (the built `cli/main.js`) on a free port, ready to take commands. */
async function startServe(args: readonly string[]): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawnProcess(process.execPath, [MAIN, 'serve', ...args, '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; tries < 600; tries++) {
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return { url, child };
    await sleep(100);
  }
  throw new Error(`fulcrum serve ${args.join(' ')} did not become ready`);
}

/**
 * Deposits a second answered 200 over HTTP (autocannon, `HTTP_CONNECTIONS` connections shared
 * by `urls`, at once), with the p99 latency of the slowest.
 */
async function httpRate(
  urls: readonly string[],
  key: string,
): Promise<{ rate: number; p99: number }> {
  const body = JSON.stringify({
    type: 'deposit',
    time: T0,
    account: 'bench',
    asset: 'USDC',
    amount: '1',
  });
  const results = await Promise.all(
    urls.map((url) =>
      autocannon({
        url: `${url}/v1/commands`,
        method: 'POST',
        connections: Math.max(1, Math.floor(HTTP_CONNECTIONS / urls.length)),
        duration: SECONDS,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      }),
    ),
  );
  const rate = results.reduce((sum, r) => sum + r['2xx'] / r.duration, 0);
  return { rate, p99: Math.max(...results.map((r) => r.latency.p99)) };
}

/**
 * The same HTTP load through three `serve --replicate` nodes of a fresh shard, then through one
 * plain `serve`: commands a second of each.
 */
async function serveRates(rig: Rig) {
  const key = generateKey();
  const config = join(rig.dir, 'serve.json');
  const keys = [{ id: 'bench', hash: hashKey(key), role: 'risk-admin', accounts: ['*'] }];
  const rateLimit = { perSecond: 1_000_000, burst: 1_000_000 };
  writeFileSync(config, JSON.stringify({ keys, rateLimit, logLevel: 'warn' }));
  const setup = (url: string) =>
    fetch(`${url}/v1/commands`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(USDC),
    });
  const children: ChildProcess[] = [];
  try {
    const nats = ['--replicate', '--nats', rig.cluster.servers.join(','), '--shard', 'benchhttp'];
    const nodes = await Promise.all(
      ['a', 'b', 'c'].map((node) =>
        startServe([
          ...nats,
          '--node',
          node,
          '--data',
          join(rig.dir, `http-${node}`),
          '--config',
          config,
        ]),
      ),
    );
    children.push(...nodes.map((n) => n.child));
    await setup(nodes[0]?.url ?? '');
    const replicated = await httpRate(
      nodes.map((n) => n.url),
      key,
    );
    for (const child of children.splice(0)) child.kill('SIGKILL');
    const plain = await startServe(['--data', join(rig.dir, 'http-plain'), '--config', config]);
    children.push(plain.child);
    await setup(plain.url);
    return { replicated, plain: await httpRate([plain.url], key) };
  } finally {
    for (const child of children) child.kill('SIGKILL');
  }
}

export async function replicationBenchmarks(): Promise<{
  measurements: Measurement[];
  note: string;
}> {
  const embeddedDir = mkdtempSync(join(tmpdir(), 'fulcrum-replication-embedded-'));
  let embedded: number;
  try {
    embedded = await journaledDepositRate(embeddedDir, [USDC], T0, SECONDS);
  } finally {
    rmSync(embeddedDir, { recursive: true, force: true });
  }
  const rig = await startRig();
  try {
    for (const node of ['a', 'b', 'c']) rig.spawn(node);
    await leaderOf(rig.connection);
    const client = new ReplicaClient(rig.connection, { shard: SHARD, now: Date.now });
    await client.submit('setup', USDC);
    const { rate, lags } = await replicatedThroughput(rig, CLIENTS, 1);
    const batched = await replicatedThroughput(rig, 16, 64);
    const stalls = await failoverStalls(rig);
    const append = await appendLatency(rig.connection);
    const apply = applierRate();
    // The replicas stop first: the HTTP phase has the cores to itself and its own nodes.
    await Promise.all([...rig.replicas.values()].map((r) => r.kill()));
    const http = await serveRates(rig);
    const note = [
      `replicated: R3 JetStream on 3 loopback servers, 3 replicas each journaling to SQLite, ${CLIENTS} clients, ${SECONDS} s`,
      `follower lag (commands behind the leader, ${lags.length} samples): p50 ${percentile(lags, 0.5)}, p99 ${percentile(lags, 0.99)}, max ${percentile(lags, 1)}`,
      `batched (16 gateways of 64 commands a request): follower lag p50 ${percentile(batched.lags, 0.5)}, p99 ${percentile(batched.lags, 0.99)}, max ${percentile(batched.lags, 1)}`,
      `failover stall over ${stalls.length} leader SIGKILLs (lease TTL 1.5 s): p50 ${median(stalls)} ms, max ${Math.max(...stalls)} ms (${stalls.join(', ')})`,
      `one 256-command entry appended to the R3 stream and acknowledged: p50 ${append.toFixed(2)} ms`,
      saturation(apply.nsPerOp / 1_000, append),
      `HTTP (autocannon, deposits without Idempotency-Key, ${SECONDS} s): serve --replicate p99 ${http.replicated.p99} ms, plain serve p99 ${http.plain.p99} ms`,
    ].join('; ');
    return {
      measurements: [
        figure('journaled commands, replicated (R3 NATS JetStream log, 3 replicas)', rate),
        figure(
          'journaled commands, replicated, 16 gateways batching 64 commands a request',
          batched.rate,
        ),
        figure('journaled commands, embedded (DurableEngine on SQLite, pipelined)', embedded),
        figure(
          `HTTP commands, serve --replicate (3 nodes, ${HTTP_CONNECTIONS} connections spread)`,
          http.replicated.rate,
        ),
        figure(
          `HTTP commands, plain serve (SQLite, ${HTTP_CONNECTIONS} connections)`,
          http.plain.rate,
        ),
        figure(
          'failover: leader SIGKILL to service resumed (1 / p50 stall)',
          1_000 / median(stalls),
        ),
        apply,
      ],
      note,
    };
  } finally {
    await stopRig(rig);
  }
}
