/**
 * `fulcrum serve` as a process (the built `dist/cli/main.js`, as `npm test` builds it): SIGTERM
 * while clients send commands stops it gracefully, and every command that got a success answer
 * is in the journal when it is reopened.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, expect, test } from 'vitest';
import { hashKey } from '../../src/server/keys.js';
import { DurableEngine } from '../../src/store/durableEngine.js';
import { SqliteStore } from '../../src/store/sqliteStore.js';
import { T0, VENUE } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ADMIN = 'fk_shutdown-test-admin-key-000000000000000000';

let dir: string | undefined;
let child: ChildProcess | undefined;
afterEach(() => {
  if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  child = undefined;
  dir = undefined;
});

/** Starts `fulcrum serve` on a free port; resolves with its base URL once it listens. */
/** The service's last log lines, for the message of a failed expectation. */
const logs: string[] = [];

async function serve(data: string, config: string): Promise<{ base: string; child: ChildProcess }> {
  const process_ = spawn(
    process.execPath,
    ['dist/cli/main.js', 'serve', '--data', data, '--config', config, '--port', '0'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child = process_;
  // Read every line to the end: a child writing logs into a full pipe would block.
  const lines = createInterface({ input: process_.stdout as NodeJS.ReadableStream });
  const base = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      logs.push(line);
      if (logs.length > 40) logs.shift();
      const record = JSON.parse(line) as { msg?: string; port?: number };
      if (record.msg === 'serving') resolve(`http://127.0.0.1:${record.port}`);
    });
    lines.on('close', () => reject(new Error('the service stopped before it listened')));
  });
  process_.stderr?.resume();
  return { base, child: process_ };
}

async function send(base: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}/v1/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

test('SIGTERM under load: exit 0, and every acknowledged command is in the journal', async () => {
  dir = mkdtempSync(join(tmpdir(), 'fulcrum-serve-'));
  const data = join(dir, 'data');
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({ keys: [{ id: 'admin', hash: hashKey(ADMIN), role: 'risk-admin' }] }),
  );
  const { base, child: server } = await serve(data, config);
  // Listened for from the start: under load the process may exit before every client has seen
  // its connection close, and an 'exit' emitted before a listener is attached is never seen.
  const exited = once(server, 'exit') as Promise<[number | null]>;
  for (const command of VENUE.slice(0, 2)) expect((await send(base, command)).status).toBe(200);

  const count = 400;
  let answered = 0;
  let stopped = false;
  const sends = Array.from({ length: count }, (_, i) =>
    send(base, { type: 'deposit', time: T0 + 1, account: `u${i}`, asset: 'ETH', amount: '1' }).then(
      (reply) => {
        answered++;
        if (answered === 50 && !stopped) {
          stopped = true;
          server.kill('SIGTERM');
        }
        return { i, ...reply };
      },
    ),
  );
  const results = await Promise.allSettled(sends);
  const [code] = await exited;
  expect(code, logs.join('\n')).toBe(0);

  const acknowledged = results.flatMap((r) =>
    r.status === 'fulfilled' && r.value.status === 200
      ? [{ i: r.value.i, seq: (r.value.body as { seq: number }).seq }]
      : [],
  );
  expect(acknowledged.length).toBeGreaterThanOrEqual(50);
  // Every other answer is a refusal to start (503) or a closed connection, never a success.
  for (const r of results) {
    if (r.status === 'fulfilled' && r.value.status !== 200) expect(r.value.status).toBe(503);
  }

  const durable = await DurableEngine.open(new SqliteStore(data), { snapshotWorker: null });
  try {
    const records = await durable.store.readRecords(0, 10_000);
    const bySeq = new Map(records.map((r) => [r.seq, r]));
    for (const { i, seq } of acknowledged) {
      const record = bySeq.get(seq);
      expect(record?.outcome).toBe('ok');
      expect((JSON.parse(record?.command ?? '{}') as { account: string }).account).toBe(`u${i}`);
      expect(durable.engine.state.accounts.has(`u${i}`)).toBe(true);
    }
  } finally {
    await durable.close();
  }
});
