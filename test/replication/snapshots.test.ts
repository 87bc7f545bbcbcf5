/**
 * Replica snapshots with a log position, on a three-server NATS cluster on loopback and three
 * replica processes (a and c in memory, b with a local SQLite journal), a snapshot every 50 log
 * entries: a restarted replica starts from its newest snapshot and reads only the entries
 * after it; damaged or mismatching snapshots are refused loudly and it replays the log instead;
 * once the log is trimmed below every replica's newest snapshot, a replica without a usable
 * snapshot stops with `log_trimmed` rather than read a log with a hole.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicaClient } from '../../src/replication/client.js';
import { DepositLoad } from '../../src/replication/load.js';
import {
  LocalCluster,
  natsServerBinary,
  ReplicaProcess,
} from '../../src/replication/localCluster.js';
import { shardNames } from '../../src/replication/natsLog.js';
import {
  decodeSnapshot,
  encodeSnapshot,
  SnapshotStore,
  trimLog,
} from '../../src/replication/snapshot.js';
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
const SHARD = 'snaps';
const NAMES = shardNames(SHARD);
const ARGS = ['--shard', SHARD, '--lease-ttl-ms', '1500', '--checkpoint-every', '10'];
const SNAPSHOT_ARGS = [...ARGS, '--snapshot-every', '50', '--log-trimmable'];

interface SnapshotStatus {
  readonly applied: number;
  readonly hash: string;
  readonly snapshot: number | null;
  readonly firstApplied: number | null;
}

describe.skipIf(!HAS_NATS)('replica snapshots with a log position', () => {
  let cluster: LocalCluster;
  let bundle: Awaited<ReturnType<typeof bundleChild>>;
  let connection: NatsConnection;
  let dir: string;
  let load: DepositLoad;
  const replicas = new Map<string, ReplicaProcess>();

  const spawn = (node: string) => {
    const data = node === 'b' ? ['--data', join(dir, 'b')] : [];
    const replica = ReplicaProcess.spawn(bundle.script, node, cluster.servers, [
      ...SNAPSHOT_ARGS,
      ...data,
    ]);
    replicas.set(node, replica);
    return replica;
  };

  /** Runs the load until the log has grown by `entries`, then lets it drain. */
  async function grow(entries: number): Promise<number> {
    const from = await lastSeqOf(connection, SHARD);
    load = new DepositLoad(connection, {
      clients: 4,
      shard: SHARD,
      asset: 'USDC',
      time: T0,
      now: Date.now,
      prefix: `s${from}`,
    });
    load.start();
    while ((await lastSeqOf(connection, SHARD)) < from + entries) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await load.stop();
    await load.settle();
    expect(load.failed).toEqual([]);
    loads.push(load);
    return lastSeqOf(connection, SHARD);
  }
  const loads: DepositLoad[] = [];

  async function status(node: string, until: number): Promise<SnapshotStatus> {
    return (await nodeStatus(connection, SHARD, node, until)) as unknown as SnapshotStatus;
  }

  /** Every replica's newest snapshot is stored (a majority agreed on its hash). */
  async function snapshotsAt(store: SnapshotStore, seq: number): Promise<void> {
    const until = Date.now() + 20_000;
    while ((await store.trimPoint(['a', 'b', 'c'])) !== seq) {
      if (Date.now() > until) throw new Error(`no snapshot at ${seq} from every replica`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  beforeAll(async () => {
    [cluster, bundle] = await Promise.all([LocalCluster.start(3), bundleChild()]);
    connection = await connect({ servers: cluster.servers, maxReconnectAttempts: -1 });
    dir = mkdtempSync(join(tmpdir(), 'fulcrum-snapshots-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...replicas.values()].map((r) => r.kill()));
    if (process.env.DEBUG_REPLICATION) {
      for (const [node, r] of replicas) {
        writeFileSync(`/tmp/fulcrum-snap-${node}.log`, r.stdout + r.stderr);
      }
    }
    await connection?.close().catch(() => undefined);
    await cluster?.stop();
    bundle?.cleanup();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('restarts from the newest snapshot, reading only the log after it; refuses bad ones', async () => {
    for (const node of ['a', 'b', 'c']) spawn(node);
    const watch = watchLeader(connection, SHARD);
    await watch.waitLeader(30_000);
    watch.close();
    const client = new ReplicaClient(connection, { shard: SHARD, now: Date.now });
    for (const [i, command] of SETUP.entries()) {
      expect((await client.submit(`setup-${i}`, command)).status).toBe('accepted');
    }
    const store = await SnapshotStore.open(connection, NAMES, 3);
    let last = await grow(120);
    await snapshotsAt(store, Math.floor(last / 50) * 50);

    // c (in memory) and b (local journal, stopped gracefully) stop; the log goes on; they return.
    await (replicas.get('c') as ReplicaProcess).kill();
    const b = replicas.get('b') as ReplicaProcess;
    b.signal('SIGTERM');
    expect(await b.exited).toBe(0);
    last = await grow(30);
    const newest = new Map<string, number>();
    for (const node of ['b', 'c']) {
      newest.set(node, (await store.list(node))[0]?.seq ?? 0);
      spawn(node);
    }
    const expected = expectedHash(loads);
    for (const node of ['b', 'c']) {
      const seen = await status(node, last);
      expect(seen.snapshot, node).toBe(newest.get(node));
      expect(seen.firstApplied, node).toBe((newest.get(node) as number) + 1);
      expect(seen.hash, node).toBe(expected);
    }
    expect((replicas.get('b') as ReplicaProcess).stdout).toMatch(/local journal verified/);

    // c's two snapshots spoiled: one damaged, one whose state is not its recorded hash.
    await (replicas.get('c') as ReplicaProcess).kill();
    const [first, second] = await store.list('c');
    if (first === undefined || second === undefined) throw new Error('c keeps two snapshots');
    const bytes = (await store.load(first.name)) as Uint8Array;
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] as number) ^ 1;
    await store.putBytes(first.name, bytes);
    const { snapshot } = decodeSnapshot((await store.load(second.name)) as Uint8Array, SHARD);
    const wrong = {
      ...snapshot,
      stateHash: snapshot.stateHash.replace(/^./, (c) => (c === '0' ? '1' : '0')),
    };
    await store.putBytes(second.name, encodeSnapshot(wrong));
    const c = spawn('c');
    const replayed = await status('c', last);
    expect(replayed.snapshot).toBeNull();
    expect(replayed.firstApplied).toBe(1);
    expect(replayed.hash).toBe(expected);
    expect(c.stderr).toMatch(/snapshot c\/\d+ refused: its checksum does not match/);
    expect(c.stderr).toMatch(/snapshot c\/\d+ refused: its state hashes to/);
  }, 170_000);

  it('lets the log be trimmed below every replica’s verified snapshot', async () => {
    const store = await SnapshotStore.open(connection, NAMES, 3);
    const last = await grow(60);
    const point = Math.floor(last / 50) * 50;
    await snapshotsAt(store, point);
    expect(await store.trimPoint(['a', 'b', 'c'])).toBe(point);
    // The operator's trim (`fulcrum replica trim`): below every replica's newest snapshot.
    const jsm = await connection.jetstreamManager();
    expect(await trimLog(jsm, NAMES, store, ['a', 'b', 'c'])).toBe(point + 1);
    expect((await jsm.streams.info(NAMES.stream)).state.first_seq).toBe(point + 1);

    // a restarts from its snapshot at the trim point: nothing it needs is gone.
    await (replicas.get('a') as ReplicaProcess).kill();
    spawn('a');
    const after = await status('a', last);
    expect(after.snapshot).toBe(point);
    expect(after.hash).toBe(expectedHash(loads));

    // c, with no snapshot left, cannot replay a log with a hole: it stops, loudly.
    await (replicas.get('c') as ReplicaProcess).kill();
    for (const entry of await store.list('c'))
      await store.putBytes(entry.name, new Uint8Array([1]));
    const c = spawn('c');
    expect(await c.exited).toBe(3);
    expect(c.stderr).toMatch(/log_trimmed: the log starts at \d+/);
  }, 120_000);
});
