/**
 * `fulcrum serve --replicate` end to end: three NATS servers on loopback and three service
 * nodes as child processes (`serveChild.ts`, bundled), each one replica of the shard with its
 * own SQLite journal, each serving HTTP. Commands are posted over HTTP to any node with
 * Idempotency-Keys; the state hashes are read from the replicas over NATS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { freePort, LocalCluster, natsServerBinary } from '../../src/replication/localCluster.js';
import { generateKey, hashKey } from '../../src/server/keys.js';
import { serveCommand } from '../../src/server/serve.js';
import { bundleChild, lastSeqOf, nodeStatus, SETUP, T0, watchLeader } from './helpers.js';

const HAS_NATS = natsServerBinary() !== null;
const SHARD = 'served';
const NODES = ['a', 'b', 'c'] as const;
const ADMIN = generateKey();
const TRADER = generateKey();
const ACCOUNTS = ['alice', 'bob', 'carol', 'dave'];
const TRADER_ACCOUNTS = [...ACCOUNTS, 'erin'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const deposit = (account: string) => ({
  type: 'deposit',
  time: T0,
  account,
  asset: 'USDC',
  amount: '1',
});

/** One `fulcrum serve --replicate` process, its port and output. */
class ServeNode {
  readonly name: string;
  readonly port: number;
  readonly data: string;
  child: ChildProcess | null = null;
  output = '';

  constructor(name: string, port: number, data: string) {
    this.name = name;
    this.port = port;
    this.data = data;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  start(script: string, config: string, servers: readonly string[]): void {
    const args = ['--replicate', '--nats', servers.join(','), '--shard', SHARD];
    args.push('--node', this.name, '--data', this.data, '--port', String(this.port));
    const child = spawn(process.execPath, [script, ...args, '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk).slice(-200_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.child = child;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<number | null> {
    const child = this.child;
    if (child === null || !this.running) return null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill(signal);
    return exited;
  }
}

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly retryAfter: string | null;
}

async function post(node: ServeNode, key: string, body: unknown, idempotency?: string) {
  const headers: Record<string, string> = {
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
  };
  if (idempotency !== undefined) headers['idempotency-key'] = idempotency;
  const response = await fetch(`${node.url}/v1/commands`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  return reply(response);
}

async function get(node: ServeNode, path: string): Promise<Reply> {
  const response = await fetch(`${node.url}${path}`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  return reply(response);
}

async function reply(response: Response): Promise<Reply> {
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, retryAfter: response.headers.get('retry-after') };
}

/** The journal record at `seq` as the node's history tells it. */
async function historyAt(node: ServeNode, seq: number) {
  const cursor = Buffer.from(JSON.stringify(seq - 1)).toString('base64url');
  const page = await get(node, `/v1/history?limit=1&cursor=${cursor}`);
  return (page.body.items as { seq: number; command: { account?: string } }[])[0];
}

async function untilReady(node: ServeNode, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${node.url}/readyz`);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > until || !node.running) {
      throw new Error(`node ${node.name} not ready:\n${node.output.slice(-3_000)}`);
    }
    await sleep(100);
  }
}

/** The state the shard must hold: the setup, then each account's deposits, once each. */
function expectedHash(deposits: ReadonlyMap<string, number>): string {
  const engine = new Engine();
  for (const command of SETUP) engine.applyJson(command);
  for (const [account, count] of deposits) {
    for (let i = 0; i < count; i++) engine.applyJson(deposit(account));
  }
  return engine.hash();
}

describe('fulcrum serve --replicate: usage', () => {
  it('refuses incomplete or misplaced replication flags with one line and status 2', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((text) => {
      lines.push(String(text));
      return true;
    });
    const data = mkdtempSync(join(tmpdir(), 'fulcrum-serve-usage-'));
    try {
      const cases: [string[], RegExp][] = [
        [['--nats', 'nats://127.0.0.1:1'], /--nats, --shard and --node go with --replicate/],
        [['--replicate', '--node', 'a'], /replication\.servers is required \(--nats\)/],
        [['--replicate', '--nats', 'nats://127.0.0.1:1'], /replication\.node is required/],
        [['--replicate', '--nats', 'http://x', '--node', 'a'], /replication\.servers/],
        [['--replicate', '--nats', 'nats://127.0.0.1:1', '--node', 'a b'], /replication\.node/],
        [['--replicate', '--demo', '--nats', 'nats://127.0.0.1:1', '--node', 'a'], /--demo/],
      ];
      for (const [args, message] of cases) {
        lines.length = 0;
        expect(await serveCommand([...args, '--data', data]), args.join(' ')).toBe(2);
        expect(lines.join(''), args.join(' ')).toMatch(message);
      }
    } finally {
      spy.mockRestore();
      rmSync(data, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!HAS_NATS)('fulcrum serve --replicate', () => {
  let cluster: LocalCluster;
  let bundle: Awaited<ReturnType<typeof bundleChild>>;
  let connection: NatsConnection;
  let dir: string;
  let config: string;
  const nodes: ServeNode[] = [];
  /** Deposits the shard holds per account, as the tests acknowledged them. */
  const deposits = new Map<string, number>();

  beforeAll(async () => {
    [cluster, bundle] = await Promise.all([LocalCluster.start(3), bundleChild('serveChild')]);
    connection = await connect({ servers: cluster.servers, maxReconnectAttempts: -1 });
    dir = mkdtempSync(join(tmpdir(), 'fulcrum-serve-replicated-'));
    config = join(dir, 'config.json');
    const keys = [
      { id: 'admin', hash: hashKey(ADMIN), role: 'risk-admin', accounts: ['*'] },
      { id: 'desk', hash: hashKey(TRADER), role: 'trader', accounts: TRADER_ACCOUNTS },
    ];
    const replication = { leaseTtlMs: 1_500, checkpointEvery: 10, retryForMs: 4_000 };
    const settings = {
      keys,
      replication,
      logLevel: 'warn',
      rateLimit: { perSecond: 1e5, burst: 1e5 },
    };
    writeFileSync(config, JSON.stringify(settings));
    for (const name of NODES) {
      const node = new ServeNode(name, await freePort(), join(dir, name));
      node.start(bundle.script, config, cluster.servers);
      nodes.push(node);
    }
    await Promise.all(nodes.map((node) => untilReady(node, 60_000)));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    if (process.env.DEBUG_REPLICATION) {
      for (const node of nodes) writeFileSync(`/tmp/fulcrum-serve-${node.name}.log`, node.output);
    }
    await connection?.close().catch(() => undefined);
    await cluster?.stop();
    bundle?.cleanup();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** Every running node's replica at the log's end has `hash`. */
  async function expectHashes(hash: string): Promise<void> {
    const last = await lastSeqOf(connection, SHARD);
    for (const node of nodes.filter((n) => n.running)) {
      const status = await nodeStatus(connection, SHARD, node.name, last);
      expect(status.applied, node.name).toBeGreaterThanOrEqual(last);
      expect(status.hash, node.name).toBe(hash);
    }
  }

  it('applies a command posted to a follower once, and reads it back there at once', async () => {
    const watch = watchLeader(connection, SHARD);
    const leader = await watch.waitLeader(30_000);
    watch.close();
    const follower = nodes.find((node) => node.name !== leader) as ServeNode;
    for (const [i, command] of SETUP.entries()) {
      const answer = await post(follower, ADMIN, command, `setup-${i}`);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    }
    const first = await post(follower, TRADER, deposit('alice'), 'first-alice');
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.ok).toBe(true);
    deposits.set('alice', 1);
    const seq = first.body.seq as number;
    // The node that answered holds the command already: its history and its state show it.
    expect((await historyAt(follower, seq))?.command.account).toBe('alice');
    const report = await get(follower, '/v1/accounts/alice/sub-accounts/0');
    expect(report.status).toBe(200);
    expect(JSON.stringify(report.body)).toContain('USDC');
    // The same key again, on another node: the first answer, nothing applied twice.
    const other = nodes.find((node) => node !== follower) as ServeNode;
    const again = await post(other, TRADER, deposit('alice'), 'first-alice');
    expect(again.status).toBe(200);
    expect(again.body.seq).toBe(seq);
    // A key used before with another body is refused on every node.
    const conflict = await post(other, TRADER, deposit('bob'), 'first-alice');
    expect(conflict.status).toBe(409);
    await expectHashes(expectedHash(deposits));
  }, 90_000);

  it('applies retried posts exactly once across a SIGKILL of the leader node', async () => {
    const watch = watchLeader(connection, SHARD);
    const leading = await watch.waitLeader(30_000);
    const leader = nodes.find((node) => node.name === leading) as ServeNode;
    const perClient = 40;
    const seqs = new Set<number>();
    let acked = 0;
    let retries = 0;
    const client = async (i: number) => {
      const account = ACCOUNTS[i] as string;
      for (let n = 0; n < perClient; n++) {
        const key = `load-${account}-${n}`;
        for (let attempt = 0; ; attempt++) {
          const live = nodes.filter((node) => node.running);
          const node = live[(i + n + attempt) % live.length] as ServeNode;
          const answer = await post(node, TRADER, deposit(account), key).catch(() => null);
          if (answer !== null && answer.status === 200) {
            expect(answer.body.ok).toBe(true);
            // Read back on the node that answered: it holds the command already.
            const record = await historyAt(node, answer.body.seq as number);
            expect(record?.command.account).toBe(account);
            seqs.add(answer.body.seq as number);
            acked += 1;
            break;
          }
          if (answer !== null) expect([503], JSON.stringify(answer.body)).toContain(answer.status);
          retries += 1;
          await sleep(100);
        }
      }
      deposits.set(account, (deposits.get(account) ?? 0) + perClient);
    };
    const running = Promise.all(ACCOUNTS.map((_, i) => client(i)));
    while (acked < 30) await sleep(20);
    // One post in flight to the leader node when it dies: its outcome unknown to the client,
    // which retries it with its key on another node.
    const inFlight = post(leader, TRADER, deposit('erin'), 'in-flight-erin').catch(() => null);
    await sleep(5);
    await leader.kill();
    const lost = await inFlight;
    expect(lost === null || lost.status === 200).toBe(true);
    for (let attempt = 0; ; attempt++) {
      const live = nodes.filter((node) => node.running);
      const answer = await post(
        live[attempt % live.length] as ServeNode,
        TRADER,
        deposit('erin'),
        'in-flight-erin',
      ).catch(() => null);
      if (answer?.status === 200) {
        if (lost !== null) expect(answer.body.seq).toBe(lost.body.seq);
        break;
      }
      await sleep(100);
    }
    deposits.set('erin', 1);
    const next = await watch.waitLeader(30_000, leader.name);
    expect(next).not.toBe(leader.name);
    await running;
    watch.close();
    expect(acked).toBe(ACCOUNTS.length * perClient);
    expect(seqs.size).toBe(acked);
    console.log(`serve --replicate: ${acked} deposits over a leader SIGKILL, ${retries} retries`);
    await expectHashes(expectedHash(deposits));
    // The killed node comes back on its journal, checks it against the log and catches up.
    leader.start(bundle.script, config, cluster.servers);
    await untilReady(leader, 60_000);
    await expectHashes(expectedHash(deposits));
  }, 150_000);

  it('answers 503 with Retry-After and changes nothing while the log has no quorum', async () => {
    const node = nodes[0] as ServeNode;
    const before = await get(node, '/v1/accounts/dave/sub-accounts/0');
    const lost = cluster.nodes.map((n) => n.name).filter((name) => name !== 'n1');
    for (const name of lost) cluster.signal(name, 'SIGKILL');
    await sleep(2_500);
    const refused = await post(node, TRADER, deposit('dave'), 'no-quorum-dave');
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).not.toBeNull();
    expect(['log_unavailable', 'replica_behind']).toContain(
      (refused.body.error as { code: string }).code,
    );
    for (const one of nodes) {
      const now = await get(one, '/v1/accounts/dave/sub-accounts/0');
      expect(now.body).toEqual(before.body);
    }
    for (const name of lost) cluster.restart(name);
    // Back: the refused command, retried with its key, is applied once.
    for (let attempt = 0; ; attempt++) {
      const retried = await post(node, TRADER, deposit('dave'), 'no-quorum-dave');
      if (retried.status === 200) break;
      expect(retried.status).toBe(503);
      if (attempt > 300) throw new Error('the log did not come back');
      await sleep(200);
    }
    deposits.set('dave', (deposits.get('dave') ?? 0) + 1);
    await expectHashes(expectedHash(deposits));
  }, 150_000);

  it('stops gracefully on SIGTERM (exit 0); the others go on taking commands', async () => {
    const watch = watchLeader(connection, SHARD);
    const leading = await watch.waitLeader(30_000);
    const leader = nodes.find((node) => node.name === leading) as ServeNode;
    expect(await leader.kill('SIGTERM')).toBe(0);
    // It gave up its lease: another node leads well within a lease's time to live.
    expect(await watch.waitLeader(10_000, leading)).not.toBe(leading);
    watch.close();
    const other = nodes.find((node) => node.running) as ServeNode;
    const answer = await post(other, TRADER, deposit('carol'), 'after-stop-carol');
    expect(answer.status).toBe(200);
    deposits.set('carol', (deposits.get('carol') ?? 0) + 1);
    await expectHashes(expectedHash(deposits));
  }, 60_000);
});
