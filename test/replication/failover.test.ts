/**
 * Engine failover on a three-server NATS cluster started here (loopback, free ports, stores in
 * a temporary folder), with three engine replicas as child processes: the leader is killed
 * (SIGKILL) again and again under a load of keyed deposits, and paused past its lease once
 * (SIGSTOP, then SIGCONT: a stale leader). Every acknowledged command must be applied exactly
 * once: each replica's state hash must equal the hash of the setup plus each acknowledged
 * deposit once. The stall of each failover is printed (measured, never asserted).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { DepositLoad, stallAfter } from '../../src/replication/load.js';
import {
  LocalCluster,
  natsServerBinary,
  ReplicaProcess,
} from '../../src/replication/localCluster.js';
import { ReplicaClient } from '../../src/replication/client.js';
import { ensureShard, JetStreamLog, shardNames } from '../../src/replication/natsLog.js';
import { Engine } from '../../src/engine/engine.js';
import { LogApplier } from '../../src/replication/applier.js';
import { encodeEntry } from '../../src/replication/envelope.js';
import type { ReplicationError } from '../../src/replication/errors.js';
import { memoryTarget } from '../../src/replication/targets.js';
import { bundleChild, expectedHash, nodeStatus, SETUP, T0, watchLeader } from './helpers.js';

const HAS_NATS = natsServerBinary() !== null;
const SHARD = 'failover';
const KILLS = 4;
const REPLICA_ARGS = ['--shard', SHARD, '--lease-ttl-ms', '1500', '--checkpoint-every', '50'];

describe.skipIf(!HAS_NATS)('replicated log: engine leader failover', () => {
  let cluster: LocalCluster;
  let bundle: Awaited<ReturnType<typeof bundleChild>>;
  let connection: NatsConnection;
  const replicas = new Map<string, ReplicaProcess>();

  const spawn = (node: string, env: Record<string, string> = {}) => {
    const replica = ReplicaProcess.spawn(bundle.script, node, cluster.servers, REPLICA_ARGS, env);
    replicas.set(node, replica);
    return replica;
  };

  beforeAll(async () => {
    [cluster, bundle] = await Promise.all([LocalCluster.start(3), bundleChild()]);
    connection = await connect({ servers: cluster.servers, maxReconnectAttempts: -1 });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...replicas.values()].map((r) => r.kill()));
    await connection?.close().catch(() => undefined);
    await cluster?.stop();
    bundle?.cleanup();
  }, 30_000);

  it('loses no acknowledged command over repeated SIGKILLs and a paused leader', async () => {
    const watch = watchLeader(connection, SHARD);
    for (const node of ['a', 'b', 'c']) spawn(node);
    await watch.waitLeader(30_000);
    const client = new ReplicaClient(connection, { shard: SHARD, now: Date.now });
    for (const [i, command] of SETUP.entries()) {
      expect((await client.submit(`setup-${i}`, command)).status).toBe('accepted');
    }
    const load = new DepositLoad(connection, {
      clients: 8,
      shard: SHARD,
      asset: 'USDC',
      time: T0,
      now: Date.now,
      prefix: 'u',
    });
    // Two gateways batching 16 commands a request beside them (retried whole after a failover).
    const batched = new DepositLoad(connection, {
      clients: 2,
      shard: SHARD,
      asset: 'USDC',
      time: T0,
      now: Date.now,
      prefix: 'v',
      perRequest: 16,
    });
    load.start();
    batched.start();
    const stalls: number[] = [];
    for (let kill = 0; kill < KILLS + 1; kill++) {
      expect(await load.answers(150, 60_000)).toBe(true);
      const leader = await watch.waitLeader(30_000);
      const victim = replicas.get(leader) as ReplicaProcess;
      const at = Date.now();
      if (kill < KILLS) {
        await victim.kill();
      } else {
        // A stale leader: paused past its lease, a follower takes over, then it resumes.
        victim.signal('SIGSTOP');
      }
      await watch.waitLeader(30_000, leader);
      expect(await load.answers(50, 60_000)).toBe(true);
      // The longest gap between answers since the fault (answers already on the wire when the
      // leader died arrive just after it).
      stalls.push(stallAfter(load.answerTimes, at));
      if (kill < KILLS) spawn(leader);
      else victim.signal('SIGCONT');
    }
    expect(await load.answers(150, 60_000)).toBe(true);
    await Promise.all([load.stop(), batched.stop()]);
    await load.settle();
    await batched.settle();
    watch.close();
    console.log(
      `failover stalls (ms, longest gap between answers after the fault): ${stalls.join(', ')}; ${load.total + batched.total} commands acknowledged (${batched.total} in batches of 16)`,
    );
    expect(load.unexpected).toEqual([]);
    expect(load.failed).toEqual([]);
    expect(batched.unexpected).toEqual([]);
    expect(batched.failed).toEqual([]);
    expect(batched.total).toBeGreaterThan(0);

    const jsm = await connection.jetstreamManager();
    const last = (await jsm.streams.info(shardNames(SHARD).stream)).state.last_seq;
    const statuses = await Promise.all(
      [...replicas.keys()].map((node) => nodeStatus(connection, SHARD, node, last)),
    );
    const expected = expectedHash([load, batched]);
    for (const status of statuses) {
      expect(status.applied).toBeGreaterThanOrEqual(last);
      expect(status.hash).toBe(expected);
    }
    // The paused leader woke up as a follower (it never wrote past its successor).
    expect(statuses.filter((s) => s.role === 'leader')).toHaveLength(1);
  }, 170_000);

  it('fences a stale writer at the log and in every replica', async () => {
    const names = shardNames('fence');
    await ensureShard(connection, names, { leaseTtlMs: 1_500 });
    const log = new JetStreamLog(connection, names);
    const leader = await log.append(encodeEntry({ kind: 'term', term: 10, node: 'new' }), {
      msgId: 'm1',
      expectLastSeq: 0,
    });
    expect(leader).toEqual({ seq: 1, duplicate: false });
    // A deposed writer that has not seen the new leader's marker cannot append.
    const setup = encodeEntry({
      kind: 'commands',
      term: 10,
      node: 'new',
      commands: [{ key: 's', command: SETUP[0] }],
    });
    const stale = encodeEntry({
      kind: 'commands',
      term: 5,
      node: 'old',
      commands: [
        {
          key: 'x',
          command: { type: 'deposit', time: T0, account: 'x', asset: 'USDC', amount: '1' },
        },
      ],
    });
    const refused = await log
      .append(stale, { msgId: 'm2', expectLastSeq: 0 })
      .catch((e: unknown) => e);
    expect((refused as ReplicationError).code).toBe('fenced');
    expect((await log.append(setup, { msgId: 'm3', expectLastSeq: 1 })).seq).toBe(2);
    // A retried publish of the same message id is stored once.
    expect(await log.append(setup, { msgId: 'm3', expectLastSeq: 1 })).toEqual({
      seq: 2,
      duplicate: true,
    });
    // One that did see the log's end gets in, but its term is older: every replica skips it.
    expect((await log.append(stale, { msgId: 'm4', expectLastSeq: 2 })).seq).toBe(3);
    const engine = new Engine();
    const applier = new LogApplier(memoryTarget(engine));
    const controller = new AbortController();
    const statuses: string[] = [];
    for await (const entry of log.read(1, controller.signal)) {
      const result = applier.applyEntry(entry.seq, entry.text);
      statuses.push(...result.outcomes.map((o) => o.status));
      if (entry.seq === 3) controller.abort();
    }
    expect(statuses).toEqual(['accepted', 'stale']);
    expect(engine.state.accounts.has('x')).toBe(false);
  }, 60_000);

  it('stops a diverging replica at its next checkpoint; the others go on', async () => {
    const shard = 'div';
    const args = ['--shard', shard, '--lease-ttl-ms', '1500', '--checkpoint-every', '10'];
    const start = (node: string, env: Record<string, string> = {}) => {
      const r = ReplicaProcess.spawn(bundle.script, node, cluster.servers, args, env);
      replicas.set(`div-${node}`, r);
      return r;
    };
    const watch = watchLeader(connection, shard);
    const a = start('a');
    const b = start('b');
    const leader = await watch.waitLeader(30_000);
    watch.close();
    const odd = start('c', { FULCRUM_TEST_DIVERGE_AT: '25' });
    const client = new ReplicaClient(connection, { shard, now: Date.now });
    await client.submit('setup', SETUP[0]);
    const command = { type: 'deposit', time: T0, account: 'd', asset: 'USDC', amount: '1' };
    // Commands go on until the odd replica has stopped: it compares at a checkpoint once it has
    // read its peers' hashes for it, which on a loaded machine may be a later checkpoint.
    let exit: number | null | undefined;
    void odd.exited.then((code) => (exit = code));
    let sent = 0;
    while ((sent < 60 || exit === undefined) && sent < 2_000) {
      expect((await client.submit(`d-${sent}`, command)).status).toBe('accepted');
      sent++;
    }
    expect(await odd.exited).toBe(3);
    // At the first checkpoint after the fault whose peers' hashes it has read (usually 30).
    const at = Number(/diverged at stream sequence (\d+)/.exec(odd.stderr)?.[1]);
    expect(at).toBeGreaterThanOrEqual(30);
    const engine = new Engine();
    engine.applyJson(SETUP[0]);
    for (let i = 0; i < sent; i++) engine.applyJson(command);
    const last = (
      await (await connection.jetstreamManager()).streams.info(shardNames(shard).stream)
    ).state.last_seq;
    for (const node of ['a', 'b']) {
      expect((await nodeStatus(connection, shard, node, last)).hash).toBe(engine.hash());
    }
    expect(a.running && b.running).toBe(true);
    // The odd one was never the leader; the others saw it leave the majority.
    expect(leader).not.toBe('c');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(a.stdout + a.stderr + b.stdout + b.stderr).toMatch(/a peer replica diverged/);
  }, 180_000);

  it("keeps a replica's local journal: restarted, it checks it against the log and goes on", async () => {
    const shard = 'journal';
    const args = ['--shard', shard, '--lease-ttl-ms', '1500'];
    const data = mkdtempSync(join(tmpdir(), 'fulcrum-replica-journal-'));
    try {
      const start = (node: string, extra: string[] = []) => {
        const r = ReplicaProcess.spawn(bundle.script, node, cluster.servers, [...args, ...extra]);
        replicas.set(`journal-${node}-${Date.now()}`, r);
        return r;
      };
      const watch = watchLeader(connection, shard);
      start('a');
      start('b');
      await watch.waitLeader(30_000);
      watch.close();
      let c = start('c', ['--data', join(data, 'c')]);
      const client = new ReplicaClient(connection, { shard, now: Date.now });
      await client.submit('setup', SETUP[0]);
      const command = { type: 'deposit', time: T0, account: 'j', asset: 'USDC', amount: '1' };
      for (let i = 0; i < 40; i++) await client.submit(`j-${i}`, command);
      const names = shardNames(shard);
      const jsm = await connection.jetstreamManager();
      await nodeStatus(
        connection,
        shard,
        'c',
        (await jsm.streams.info(names.stream)).state.last_seq,
      );
      // A graceful stop makes its local journal durable (a SIGKILL could leave it empty, and
      // then there would be nothing to check against the log).
      c.signal('SIGTERM');
      expect(await c.exited).toBe(0);
      for (let i = 40; i < 70; i++) await client.submit(`j-${i}`, command);
      c = start('c', ['--data', join(data, 'c')]);
      const last = (await jsm.streams.info(names.stream)).state.last_seq;
      const engine = new Engine();
      engine.applyJson(SETUP[0]);
      for (let i = 0; i < 70; i++) engine.applyJson(command);
      const status = await nodeStatus(connection, shard, 'c', last);
      expect(status).toMatchObject({ applied: last, commands: 71, hash: engine.hash() });
      for (let i = 0; i < 50 && !c.stdout.includes('local journal verified'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(c.stdout).toMatch(/local journal verified against the log/);
      // The same journal under another shard's log is not that log's prefix: it stops.
      await c.kill();
      const wrong = start('w', ['--data', join(data, 'c'), '--shard', 'div']);
      expect(await wrong.exited).toBe(3);
      expect(wrong.stderr).toMatch(/local_journal_mismatch/);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  }, 90_000);
});
