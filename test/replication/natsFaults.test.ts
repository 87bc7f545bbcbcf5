/**
 * Faults of the NATS servers under a load of keyed deposits, on a three-server cluster started
 * here with three engine replicas as child processes: the stream leader's server killed
 * (SIGKILL) and restarted, one paused (SIGSTOP) past Raft's election timeout and resumed, one
 * slowed (paused and resumed in turn), then two of three killed (no quorum). The log keeps its
 * promises or the service refuses with a retryable error; nothing acknowledged is lost: after
 * the servers return, every replica's state hash is the setup plus each acknowledged deposit
 * once (commands refused during the quorum loss are retried with their own keys first).
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { ReplicaClient } from '../../src/replication/client.js';
import { ReplicationError } from '../../src/replication/errors.js';
import { DepositLoad, stallAfter } from '../../src/replication/load.js';
import {
  LocalCluster,
  natsServerBinary,
  ReplicaProcess,
} from '../../src/replication/localCluster.js';
import { shardNames } from '../../src/replication/natsLog.js';
import {
  bundleChild,
  expectedHash,
  lastSeqOf,
  nodeStatus,
  SETUP,
  T0,
  watchLeader,
} from './helpers.js';

const HAS_NATS = natsServerBinary() !== null;
const SHARD = 'faults';
const NAMES = shardNames(SHARD);
const REPLICA_ARGS = [
  ['--shard', SHARD, '--lease-ttl-ms', '2000', '--checkpoint-every', '50'],
  ['--append-deadline-ms', '12000'],
].flat();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!HAS_NATS)('replicated log: NATS server faults', () => {
  let cluster: LocalCluster;
  let bundle: Awaited<ReturnType<typeof bundleChild>>;
  let connection: NatsConnection;
  const replicas: ReplicaProcess[] = [];

  beforeAll(async () => {
    [cluster, bundle] = await Promise.all([LocalCluster.start(3), bundleChild()]);
    connection = await connect({
      servers: cluster.servers,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 1_000,
      maxPingOut: 2,
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.kill()));
    if (process.env.DEBUG_REPLICATION) {
      for (const r of replicas)
        writeFileSync(`/tmp/fulcrum-debug-${r.node}.log`, r.stdout + r.stderr);
    }
    await connection?.close().catch(() => undefined);
    await cluster?.stop();
    bundle?.cleanup();
  }, 30_000);

  /** The server leading the command log (a running one), or the first running one. */
  async function logLeader(): Promise<string> {
    const leader = await cluster.streamLeader(NAMES.stream);
    return leader ?? 'n1';
  }

  it('keeps every acknowledged command through kills, a pause, a slow server and no quorum', async () => {
    const watch = watchLeader(connection, SHARD);
    for (const node of ['a', 'b', 'c']) {
      replicas.push(ReplicaProcess.spawn(bundle.script, node, cluster.servers, REPLICA_ARGS));
    }
    await watch.waitLeader(30_000);
    const client = new ReplicaClient(connection, { shard: SHARD, now: Date.now });
    for (const [i, command] of SETUP.entries()) {
      expect((await client.submit(`setup-${i}`, command)).status).toBe('accepted');
    }
    const load = new DepositLoad(connection, {
      clients: 6,
      shard: SHARD,
      asset: 'USDC',
      time: T0,
      now: Date.now,
      prefix: 'f',
      retryForMs: 90_000,
    });
    load.start();
    const stalls: Record<string, number> = {};
    expect(await load.answers(100, 60_000)).toBe(true);

    // 1. The log's leader server dies; another is elected; the dead one comes back.
    const killed = await logLeader();
    let at = Date.now();
    cluster.signal(killed, 'SIGKILL');
    expect(await load.answers(100, 60_000)).toBe(true);
    stalls.kill = stallAfter(load.answerTimes, at);
    cluster.restart(killed);

    // 2. A server paused past the election timeout (a partition of one), then resumed.
    const paused = await logLeader();
    at = Date.now();
    cluster.signal(paused, 'SIGSTOP');
    await sleep(10_000);
    cluster.signal(paused, 'SIGCONT');
    expect(await load.answers(100, 60_000)).toBe(true);
    stalls.pause = stallAfter(load.answerTimes, at);

    // 3. A slow server: paused 100 ms of every 250 ms for 6 s.
    const slowed = await logLeader();
    at = Date.now();
    cluster.slow(slowed, 100, 250);
    await sleep(6_000);
    cluster.unslow(slowed);
    expect(await load.answers(100, 60_000)).toBe(true);
    stalls.slow = stallAfter(load.answerTimes, at);

    // 4. Two of three servers lost: no quorum. New commands are refused, retryably.
    await load.stop();
    const [first, second] = cluster.nodes.map((n) => n.name).filter((n) => n !== 'n1');
    cluster.signal(first as string, 'SIGKILL');
    cluster.signal(second as string, 'SIGKILL');
    const quick = new ReplicaClient(connection, {
      shard: SHARD,
      now: Date.now,
      retryForMs: 20_000,
    });
    const refusal = await quick.submit('noquorum-1', load.command(0)).then(
      (answer) => answer,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(ReplicationError);
    expect((refusal as ReplicationError).retry).toBe(true);
    expect(['log_unavailable', 'not_leader', 'timeout']).toContain(
      (refusal as ReplicationError).code,
    );
    cluster.restart(first as string);
    cluster.restart(second as string);

    // Back: the refused command, retried with its key, is applied once; so are the rest.
    const back = new ReplicaClient(connection, { shard: SHARD, now: Date.now, retryForMs: 90_000 });
    const retried = await back.submit('noquorum-1', load.command(0));
    expect(retried.status).toBe('accepted');
    await load.settle();
    watch.close();
    console.log(
      `NATS fault stalls (ms, longest gap between answers): ${JSON.stringify(stalls)}; ${load.total} acknowledged`,
    );
    expect(load.unexpected).toEqual([]);
    expect(load.failed).toEqual([]);

    const last = await lastSeqOf(connection, SHARD);
    const expected = expectedHash(load, [load.command(0)]);
    for (const replica of replicas) {
      const status = await nodeStatus(connection, SHARD, replica.node, last);
      expect(status.applied).toBeGreaterThanOrEqual(last);
      expect(status.hash).toBe(expected);
    }
  }, 175_000);
});
