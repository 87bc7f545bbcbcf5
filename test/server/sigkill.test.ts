/**
 * SIGKILL under load: the built `fulcrum serve` as a child, concurrent clients sending commands
 * and a stream subscriber; the process is killed mid-load and restarted on the same journal.
 * Every command that got a success answer is in the journal, and the subscriber's resume from
 * its last (seq, index) continues the journal's events with no gap and no duplicate.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import { hashKey } from '../../src/server/keys.js';
import { DurableEngine } from '../../src/store/durableEngine.js';
import { SqliteStore } from '../../src/store/sqliteStore.js';
import { T0, VENUE } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ADMIN = 'fk_sigkill-test-admin-key-0000000000000000000';
const CLIENTS = 8;
const KILL_AFTER = 150;

let dir: string | undefined;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children.length = 0;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function serve(data: string, config: string): Promise<{ base: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['dist/cli/main.js', 'serve', '--data', data, '--config', config, '--port', '0'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const base = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const record = JSON.parse(line) as { msg?: string; port?: number };
      if (record.msg === 'serving') resolve(`http://127.0.0.1:${record.port}`);
    });
    lines.on('close', () => reject(new Error('the service stopped before it listened')));
  });
  child.stderr?.resume();
  return { base, child };
}

async function send(base: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}/v1/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

interface EventMessage {
  type: string;
  seq: number;
  index: number;
}

/** A stream of every event; `onMessage` sees each message; resolves once subscribed. */
async function subscribe(
  base: string,
  from: { from: number; index: number } | null,
  onMessage: (message: EventMessage) => void,
): Promise<WebSocket> {
  const socket = new WebSocket(`${base.replace('http', 'ws')}/v1/stream`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  await once(socket, 'open');
  const subscribed = new Promise<void>((resolve) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as EventMessage;
      if (message.type === 'subscribed') resolve();
      onMessage(message);
    });
  });
  socket.on('error', () => {});
  socket.send(JSON.stringify({ type: 'subscribe', channels: ['events'], ...(from ?? {}) }));
  await subscribed;
  return socket;
}

/** Client `k` sends deposits one after another until the service is gone. */
async function client(base: string, k: number, acked: { seq: number; account: string }[]) {
  for (let n = 0; ; n++) {
    const account = `c${k}n${n}`;
    let reply;
    try {
      reply = await send(base, {
        type: 'deposit',
        time: T0 + 1,
        account,
        asset: 'ETH',
        amount: '1',
      });
    } catch {
      return;
    }
    if (reply.status === 200) acked.push({ seq: (reply.body as { seq: number }).seq, account });
  }
}

test('SIGKILL under load: acknowledged commands survive, the stream resumes without gap', async () => {
  dir = mkdtempSync(join(tmpdir(), 'fulcrum-sigkill-'));
  const data = join(dir, 'data');
  const config = join(dir, 'config.json');
  const keys = [{ id: 'admin', hash: hashKey(ADMIN), role: 'risk-admin' }];
  writeFileSync(config, JSON.stringify({ keys }));
  const first = await serve(data, config);
  const before: EventMessage[] = [];
  const watcher = await subscribe(first.base, null, (m) => {
    if (m.type === 'event') before.push(m);
  });
  for (const command of VENUE.slice(0, 2))
    expect((await send(first.base, command)).status).toBe(200);

  const acked: { seq: number; account: string }[] = [];
  const exited = once(first.child, 'exit');
  // The subscriber's connection drops at 100 acknowledged commands, the service at 150: the
  // resume has events to catch up on, across the restart.
  const killed = new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (acked.length >= KILL_AFTER - 50 && watcher.readyState === WebSocket.OPEN) {
        watcher.terminate();
      }
      if (acked.length < KILL_AFTER) return;
      clearInterval(timer);
      first.child.kill('SIGKILL');
      resolve();
    }, 2);
  });
  const clients = Array.from({ length: CLIENTS }, (_, k) => client(first.base, k, acked));
  await killed;
  await Promise.all(clients);
  await exited;
  expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER);

  // Restarted on the same journal: resume from the last event received.
  const second = await serve(data, config);
  const last = before.at(-1);
  const resumed: EventMessage[] = [];
  let liveSeq = -1;
  const live = new Promise<void>((resolve) => {
    void subscribe(
      second.base,
      last === undefined ? null : { from: last.seq, index: last.index },
      (m) => {
        if (m.type === 'event') resumed.push(m);
        if (m.type === 'live') {
          liveSeq = m.seq;
          resolve();
        }
      },
    ).then((socket) => live.then(() => socket.terminate()));
  });
  await live;
  const stopped = once(second.child, 'exit');
  second.child.kill('SIGTERM');
  expect((await stopped)[0]).toBe(0);

  const durable = await DurableEngine.open(new SqliteStore(data), { snapshotWorker: null });
  try {
    const records = await durable.store.readRecords(0, 100_000);
    const bySeq = new Map(records.map((r) => [r.seq, r]));
    for (const { seq, account } of acked) {
      const record = bySeq.get(seq);
      expect(record?.outcome).toBe('ok');
      expect((JSON.parse(record?.command ?? '{}') as { account: string }).account).toBe(account);
      expect(durable.engine.state.accounts.has(account)).toBe(true);
    }
    // Every event of the journal up to the live position, once, in order.
    const journal = records
      .filter((r) => r.seq <= liveSeq)
      .flatMap((r) => (JSON.parse(r.events) as unknown[]).map((_, index) => `${r.seq}:${index}`));
    const seen = [...before, ...resumed].map((m) => `${m.seq}:${m.index}`);
    expect(seen).toEqual(journal);
    expect(resumed.length).toBeGreaterThan(0);
  } finally {
    await durable.close();
  }
}, 60_000);
