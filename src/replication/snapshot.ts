/**
 * Replica snapshots: the engine's state at a stream sequence of the log, with what the log's
 * reading needs to go on from there (the `LogApplier`'s term, commands handed to the engine and
 * idempotency-key table), so a restarted replica loads its newest snapshot and reads only the
 * log after it.
 *
 * A snapshot is taken at a checkpoint (every `snapshotEvery` stream sequences, a multiple of
 * the checkpoint interval) and stored only once a majority of the replicas published the same
 * state hash there (`AuditBook`): a stored snapshot is a verified one. They live in the shard's
 * JetStream object store (R3 like the log, `<node>/<seq>`, the newest two per node), beside the
 * log they cut short, whatever the replica's local store (none, SQLite or PostgreSQL).
 *
 * A snapshot is checked before it is used: its checksum (SHA-256 of its body), its shard, its
 * format, and the state hash of the state it decodes to. One that fails is refused loudly and
 * the next older is tried; with none left, the replica replays the log from its start, and
 * stops with `log_trimmed` if the log no longer starts at 1.
 */
import { createHash } from 'node:crypto';
import type { JetStreamManager, NatsConnection, ObjectStore } from 'nats';
import { Engine } from '../engine/engine.js';
import { deserializeState, serializeState } from '../engine/snapshotCodec.js';
import type { ApplierState, CommandOutcome } from './applier.js';
import { ReplicationError } from './errors.js';
import type { ShardNames } from './natsLog.js';

/** Version of the snapshot's envelope; a change of form must change this. */
export const REPLICA_SNAPSHOT_VERSION = 1;

/** Snapshots kept per node in the object store (the newest). */
export const SNAPSHOTS_KEPT = 2;

export interface ReplicaSnapshot extends ApplierState {
  readonly shard: string;
  /** The replica that took it (every replica's is the same state at the same sequence). */
  readonly node: string;
  /** The engine's state hash at `seq` (`stateHash`), agreed by a majority of the replicas. */
  readonly stateHash: string;
  /** The engine's state, in the engine's snapshot format (`snapshotCodec`). */
  readonly state: string;
}

/** A snapshot of `engine` and the applier's `applier` state, as the shard's replica `node` took it. */
export function takeSnapshot(
  shard: string,
  node: string,
  engine: Engine,
  hash: string,
  applier: ApplierState,
): ReplicaSnapshot {
  return { ...applier, shard, node, stateHash: hash, state: serializeState(engine.state) };
}

function checksumOf(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The stored bytes: the body as JSON, then a line with its SHA-256. */
export function encodeSnapshot(snapshot: ReplicaSnapshot): Uint8Array {
  const body = JSON.stringify({ v: REPLICA_SNAPSHOT_VERSION, ...snapshot });
  return new TextEncoder().encode(`${body}\n${checksumOf(body)}`);
}

const refused = (message: string) => new ReplicationError('snapshot_refused', message);

/**
 * The stored bytes back as a snapshot and the engine it holds, once checked: checksum, version,
 * shard, fields, and the state hash recomputed from the decoded state. Throws `snapshot_refused`.
 */
export function decodeSnapshot(
  bytes: Uint8Array,
  shard: string,
): { snapshot: ReplicaSnapshot; engine: Engine } {
  const text = new TextDecoder().decode(bytes);
  const cut = text.lastIndexOf('\n');
  const body = text.slice(0, Math.max(0, cut));
  if (cut < 0 || checksumOf(body) !== text.slice(cut + 1)) {
    throw refused('its checksum does not match its body');
  }
  let value: Partial<ReplicaSnapshot> & { v?: unknown };
  try {
    value = JSON.parse(body) as Partial<ReplicaSnapshot> & { v?: unknown };
  } catch {
    throw refused('its body is not JSON');
  }
  if (value.v !== REPLICA_SNAPSHOT_VERSION) throw refused(`format ${String(value.v)}`);
  if (value.shard !== shard) throw refused(`it is shard ${String(value.shard)}'s, not ${shard}'s`);
  const { seq, term, submitted, stateHash, state, outcomes } = value;
  const whole = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (!whole(seq) || !whole(term) || !whole(submitted) || typeof stateHash !== 'string') {
    throw refused('its position, term or hash is missing');
  }
  if (typeof state !== 'string' || !Array.isArray(outcomes)) throw refused('no state or keys');
  let engine: Engine;
  try {
    engine = new Engine(deserializeState(state));
  } catch (error) {
    throw refused(`its state does not decode: ${(error as Error).message}`);
  }
  const hash = engine.hash();
  if (hash !== stateHash) {
    throw refused(`its state hashes to ${hash}, not the recorded ${stateHash}`);
  }
  const node = typeof value.node === 'string' ? value.node : '';
  const snapshot: ReplicaSnapshot = {
    shard,
    node,
    seq,
    term,
    submitted,
    stateHash,
    state,
    outcomes: outcomes as CommandOutcome[],
  };
  return { snapshot, engine };
}

/** A stored snapshot's name and stream sequence. */
export interface SnapshotEntry {
  readonly name: string;
  readonly node: string;
  readonly seq: number;
}

/** The shard's snapshots in its JetStream object store. */
export class SnapshotStore {
  private readonly store: ObjectStore;

  private constructor(store: ObjectStore) {
    this.store = store;
  }

  /** Opens (creating it if needed) the shard's snapshot bucket, `replicas` copies. */
  static async open(
    connection: NatsConnection,
    names: ShardNames,
    replicas: number,
  ): Promise<SnapshotStore> {
    const js = connection.jetstream({ timeout: 10_000 });
    return new SnapshotStore(await js.views.os(names.snapshotBucket, { replicas }));
  }

  /** Every stored snapshot (of `node`, or of every node), newest first. */
  async list(node?: string): Promise<SnapshotEntry[]> {
    const entries: SnapshotEntry[] = [];
    for (const info of await this.store.list()) {
      const match = /^([A-Za-z0-9_-]{1,32})\/(\d{1,16})$/.exec(info.name);
      if (info.deleted || match === null) continue;
      if (node !== undefined && match[1] !== node) continue;
      entries.push({ name: info.name, node: match[1] as string, seq: Number(match[2]) });
    }
    return entries.sort((a, b) => b.seq - a.seq);
  }

  /** The stored bytes of a snapshot, or null when it is gone. */
  load(name: string): Promise<Uint8Array | null> {
    return this.store.getBlob(name);
  }

  /** Stores a verified snapshot, then drops the node's older ones past {@link SNAPSHOTS_KEPT}. */
  async put(snapshot: ReplicaSnapshot): Promise<void> {
    await this.putBytes(`${snapshot.node}/${snapshot.seq}`, encodeSnapshot(snapshot));
    const mine = await this.list(snapshot.node);
    for (const old of mine.slice(SNAPSHOTS_KEPT)) await this.store.delete(old.name);
  }

  /** Stores bytes under a name (also how a test plants a damaged snapshot). */
  async putBytes(name: string, bytes: Uint8Array): Promise<void> {
    await this.store.putBlob({ name }, bytes);
  }

  /**
   * Where the log may be trimmed: every entry up to this stream sequence is covered by a
   * verified snapshot of each of `nodes` (the lowest of their newest); null while one of them
   * has none.
   */
  async trimPoint(nodes: readonly string[]): Promise<number | null> {
    const all = await this.list();
    let point = Infinity;
    for (const node of nodes) {
      const newest = all.find((entry) => entry.node === node);
      if (newest === undefined) return null;
      point = Math.min(point, newest.seq);
    }
    return Number.isFinite(point) ? point : null;
  }
}

/**
 * Trims the log below the oldest of `nodes`' newest verified snapshots (every entry up to that
 * stream sequence is purged; the log must have been created trimmable). Resolves with the first
 * sequence the log keeps, or null when a replica has no snapshot yet (nothing is trimmed).
 */
export async function trimLog(
  jsm: JetStreamManager,
  names: ShardNames,
  store: SnapshotStore,
  nodes: readonly string[],
): Promise<number | null> {
  const point = await store.trimPoint(nodes);
  if (point === null) return null;
  await jsm.streams.purge(names.stream, { seq: point + 1 });
  return point + 1;
}
