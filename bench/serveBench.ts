/**
 * `fulcrum serve` over loopback: the built service as a child process (so that the load
 * generator does not share its thread), autocannon for HTTP, `ws` clients for the streams.
 * - health queries at saturation: requests a second, p50 and p99;
 * - journaled commands through HTTP against the durable engine's direct journaled rate
 *   (`submitJson`, pipelined, SQLite), measured in the same run;
 * - one price tick with many WebSocket subscribers (each watching its own sub-account): the
 *   time until the last one has its health update, over several ticks.
 * Each phase is bounded in time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { hashKey } from '../src/server/keys.js';
import { journaledDepositRate, type Measurement, median } from './harness.js';

const ADMIN = 'fk_bench-admin-key-000000000000000000000000000';
const VIEWER = 'fk_bench-viewer-key-00000000000000000000000000';
const T0 = 1_700_000_000;
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 10_000);
const SECONDS = Number(process.env.BENCH_SERVE_SECONDS ?? 5);
const TICKS = 7;
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

const ETH = {
  symbol: 'ETH',
  decimals: 18,
  initialWeight: '0.8',
  maintenanceWeight: '0.825',
  liabilityWeight: '1',
};
const VENUE = [
  { type: 'list-asset', time: T0, config: { ...ETH, symbol: 'USDC', decimals: 6 }, price: '1' },
  { type: 'list-asset', time: T0, config: ETH, price: '2000' },
  { type: 'deposit', time: T0, account: 'lena', asset: 'USDC', amount: '100000000' },
];

interface Figures {
  readonly measurements: Measurement[];
  readonly note: string;
}

function figure(name: string, perSecond: number): Measurement {
  return { name, perSecond, nsPerOp: 1e9 / perSecond, rounds: 1 };
}

export async function serveBenchmarks(): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-serve-bench-'));
  const limit = { perSecond: 1_000_000, burst: 1_000_000 };
  const keys = [
    { id: 'admin', hash: hashKey(ADMIN), role: 'risk-admin', rateLimit: limit },
    { id: 'viewer', hash: hashKey(VIEWER), role: 'read-only', accounts: ['*'], rateLimit: limit },
  ];
  const config = join(dir, 'config.json');
  const streams = { streamClientsMax: SUBSCRIBERS, streamClientsPerKey: SUBSCRIBERS };
  writeFileSync(config, JSON.stringify({ keys, logLevel: 'error', queueMax: 100_000, ...streams }));
  const server = await serve(join(dir, 'data'), config);
  try {
    for (const command of VENUE) await post(server.base, command);
    const notes: string[] = [];
    const health = await healthQueries(server.base);
    notes.push(health.note);
    const http = await httpCommands(server.base);
    const direct = await journaledDepositRate(join(dir, 'direct'), VENUE, T0, SECONDS);
    notes.push(http.note);
    const ticks = await fanOut(server.base);
    notes.push(ticks.note);
    return {
      measurements: [
        health.measurement,
        http.measurement,
        ...ticks.measurements,
        figure('journaled commands, DurableEngine direct (SQLite, pipelined)', direct),
      ],
      note: notes.join('; '),
    };
  } finally {
    server.child.kill('SIGTERM');
    await once(server.child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function serve(data: string, config: string): Promise<{ base: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--data', data, '--config', config], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FULCRUM_PORT: '0', FULCRUM_LOG_LEVEL: 'info' },
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const base = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const record = JSON.parse(line) as { msg?: string; port?: number };
      if (record.msg === 'serving') resolve(`http://127.0.0.1:${record.port}`);
    });
    lines.on('close', () => reject(new Error('the service stopped before it listened')));
  });
  return { base, child };
}

async function post(base: string, body: unknown): Promise<{ seq: number }> {
  const reply = await fetch(`${base}/v1/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify(body),
  });
  const text = await reply.text();
  if (reply.status !== 200) throw new Error(`bench command refused: ${text}`);
  return JSON.parse(text) as { seq: number };
}

async function cannon(options: autocannon.Options): Promise<autocannon.Result> {
  return autocannon({ connections: 64, duration: SECONDS, ...options });
}

async function healthQueries(base: string): Promise<{ measurement: Measurement; note: string }> {
  await post(base, { type: 'deposit', time: T0, account: 'alice', asset: 'ETH', amount: '10' });
  await post(base, { type: 'borrow', time: T0, account: 'alice', asset: 'USDC', amount: '9000' });
  const result = await cannon({
    url: `${base}/v1/accounts/alice/sub-accounts/0`,
    headers: { authorization: `Bearer ${VIEWER}` },
  });
  const rate = result.requests.average;
  const note = `health queries: 64 connections, ${SECONDS} s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.non2xx} non-2xx`;
  return { measurement: figure('health queries over HTTP (autocannon)', rate), note };
}

async function httpCommands(base: string): Promise<{ measurement: Measurement; note: string }> {
  const body = JSON.stringify({
    type: 'deposit',
    time: T0,
    account: 'bench',
    asset: 'USDC',
    amount: '1',
  });
  const result = await cannon({
    url: `${base}/v1/commands`,
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body,
  });
  const note = `journaled commands over HTTP: 64 connections, ${SECONDS} s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.non2xx} non-2xx`;
  const measurement = figure('journaled commands over HTTP (autocannon)', result.requests.average);
  return { measurement, note };
}

/** Opens `count` subscribers (bounded in time), each on its own sub-account. */
async function openSubscribers(
  base: string,
  count: number,
  onHealth: (seq: number) => void,
): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  const deadline = Date.now() + 60_000;
  for (let i = 0; i < count && Date.now() < deadline; i += 250) {
    const batch = Array.from({ length: Math.min(250, count - i) }, async (_, j) => {
      const socket = new WebSocket(`${base.replace('http', 'ws')}/v1/stream`, {
        headers: { authorization: `Bearer ${VIEWER}` },
      });
      socket.on('error', () => {});
      await once(socket, 'open');
      const live = new Promise<void>((resolve) => {
        socket.on('message', (data) => {
          const message = JSON.parse(String(data)) as { type: string; seq: number };
          if (message.type === 'live') resolve();
          else if (message.type === 'health') onHealth(message.seq);
        });
      });
      const accounts = [{ account: `s${i + j}`, subAccount: 0 }];
      socket.send(JSON.stringify({ type: 'subscribe', channels: ['accounts'], accounts }));
      await live;
      return socket;
    });
    const opened = await Promise.allSettled(batch);
    for (const r of opened) if (r.status === 'fulfilled') sockets.push(r.value);
  }
  return sockets;
}

/** Seeds one borrower a subscriber (through the service), then times price ticks. */
async function fanOut(base: string): Promise<{ measurements: Measurement[]; note: string }> {
  const seedStart = performance.now();
  const seeds = Array.from({ length: SUBSCRIBERS }, (_, i) => i);
  for (let i = 0; i < seeds.length; i += 200) {
    await Promise.all(
      seeds.slice(i, i + 200).map(async (n) => {
        const account = `s${n}`;
        await post(base, { type: 'deposit', time: T0, account, asset: 'ETH', amount: '1' });
        await post(base, { type: 'borrow', time: T0, account, asset: 'USDC', amount: '1000' });
      }),
    );
  }
  const seeded = performance.now() - seedStart;
  const ready = (await (await fetch(`${base}/readyz`)).json()) as { seq: number };
  let awaitedSeq = Infinity;
  let arrived = 0;
  let allArrived: (() => void) | null = null;
  const sockets = await openSubscribers(base, SUBSCRIBERS, (seq) => {
    if (seq < awaitedSeq) return;
    arrived += 1;
    if (arrived === sockets.length) allArrived?.();
  });
  const times: number[] = [];
  for (let tick = 0; tick < TICKS; tick++) {
    arrived = 0;
    const done = new Promise<void>((resolve) => (allArrived = resolve));
    const start = performance.now();
    const price = tick % 2 === 0 ? '1990' : '2000';
    // Only this tick's health counts (the journal's next position: nothing else is sent now).
    awaitedSeq = ready.seq + tick + 1;
    await post(base, { type: 'set-price', time: T0 + tick + 1, asset: 'ETH', price });
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    if (arrived === sockets.length) times.push(performance.now() - start);
  }
  for (const socket of sockets) socket.terminate();
  const sorted = [...times].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
  const note = `${sockets.length} of ${SUBSCRIBERS} subscribers connected (seeded in ${(seeded / 1_000).toFixed(1)} s); one ETH tick to the last health update, ${times.length} ticks: p50 ${median(times).toFixed(0)} ms, p99 (the slowest of ${times.length}) ${p99.toFixed(0)} ms`;
  return {
    measurements: [
      figure(
        `price ticks fanned out to ${sockets.length} subscribers (1 / p50)`,
        1e3 / median(times),
      ),
    ],
    note,
  };
}
