/**
 * The command log on NATS JetStream: one stream per shard, replicated (R=3 by default), file
 * storage, deduplication of re-published messages (`Nats-Msg-Id`) within a window, deletes and
 * purges denied, a full stream refusing writes rather than dropping history. An append is
 * acknowledged (`PubAck`) by the stream's leader only once a quorum of the servers stored it.
 *
 * The leader appends with `expect.lastSequence`: the stream refuses the message unless the
 * last stored sequence is the one the writer saw, so a writer that lost its place (a deposed
 * leader) cannot add to the log; the refusal is `fenced`. An append that is not acknowledged in
 * time (an election, no quorum) is `log_unavailable`, outcome unknown: retry it with the same
 * message id and the stream keeps one copy.
 */
import {
  connect,
  type JetStreamClient,
  type JetStreamManager,
  type KV,
  type NatsConnection,
  DiscardPolicy,
  headers,
  RetentionPolicy,
  StorageType,
} from 'nats';
import { ReplicationError } from './errors.js';
import { NODE_ID_PATTERN } from './envelope.js';

/** A connection that fails over between the servers and notices a paused one in seconds. */
export function connectCluster(servers: readonly string[], name: string): Promise<NatsConnection> {
  return connect({
    servers: [...servers],
    name,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 1_000,
    maxPingOut: 2,
  });
}

/** The names one shard uses in NATS. */
export interface ShardNames {
  readonly shard: string;
  /** The command log's stream and its one subject. */
  readonly stream: string;
  readonly subject: string;
  /** State hashes at checkpoints: `<auditPrefix>.<node>`. */
  readonly auditStream: string;
  readonly auditPrefix: string;
  /** Where clients send commands (only the leader listens). */
  readonly submitSubject: string;
  /** Each replica's status, core NATS: `<statusPrefix>.<node>`. */
  readonly statusPrefix: string;
  /** A replica's own requests (its hash, its applied position): `<nodePrefix>.<node>`. */
  readonly nodePrefix: string;
  /** The object store of the replicas' snapshots (`<node>/<stream sequence>`). */
  readonly snapshotBucket: string;
  /** The lease bucket and the shard's key in it. */
  readonly leaseBucket: string;
  readonly leaseKey: string;
}

/** The names of shard `shard` (1-32 letters, digits, `_`, `-`). */
export function shardNames(shard: string): ShardNames {
  if (!NODE_ID_PATTERN.test(shard)) {
    throw new ReplicationError('invalid_request', `a shard is 1-32 letters, digits, _ or -`);
  }
  const upper = shard.toUpperCase().replace(/-/g, '_');
  return {
    shard,
    stream: `FULCRUM_${upper}_IN`,
    subject: `fulcrum.${shard}.in`,
    auditStream: `FULCRUM_${upper}_AUDIT`,
    auditPrefix: `fulcrum.${shard}.audit`,
    submitSubject: `fulcrum.${shard}.submit`,
    statusPrefix: `fulcrum.${shard}.status`,
    nodePrefix: `fulcrum.${shard}.node`,
    snapshotBucket: `fulcrum_snapshots_${shard}`,
    leaseBucket: 'fulcrum_leases',
    leaseKey: shard,
  };
}

export interface LogSettings {
  /** Servers holding each stream: 3 tolerates one lost, 5 two. Default 3. */
  readonly replicas?: number;
  /** The deduplication window of re-published batches, ms. Default 120,000. */
  readonly duplicateWindowMs?: number;
  /** The lease's time to live, ms (an unrenewed lease expires). Default 2,000. */
  readonly leaseTtlMs?: number;
  /** The log's size limit, bytes; past it appends are refused. Default 8 GiB. */
  readonly maxBytes?: number;
  /**
   * Whether the log may be trimmed below the replicas' snapshots (a purge); fixed when the
   * stream is created (JetStream never lifts a stream's `deny_purge`). Default false.
   */
  readonly trimmable?: boolean;
}

const MS = 1_000_000;

/** Creates the shard's streams and lease bucket if they are missing (idempotent). */
export async function ensureShard(
  connection: NatsConnection,
  names: ShardNames,
  settings: LogSettings = {},
): Promise<KV> {
  const jsm = await connection.jetstreamManager();
  const replicas = settings.replicas ?? 3;
  await ensureStream(jsm, names.stream, {
    subjects: [names.subject],
    num_replicas: replicas,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    max_bytes: settings.maxBytes ?? 8 * 1024 ** 3,
    duplicate_window: (settings.duplicateWindowMs ?? 120_000) * MS,
    deny_delete: true,
    deny_purge: settings.trimmable !== true,
  });
  await ensureStream(jsm, names.auditStream, {
    subjects: [`${names.auditPrefix}.*`],
    num_replicas: replicas,
    storage: StorageType.File,
    max_msgs_per_subject: 10_000,
  });
  const js = connection.jetstream();
  return js.views.kv(names.leaseBucket, {
    replicas,
    history: 1,
    ttl: settings.leaseTtlMs ?? 2_000,
  });
}

/**
 * Creates the stream unless it exists. A cluster that has just elected its meta leader may not
 * yet see every peer, and refuses to place a replicated stream ("no suitable peers for
 * placement"): that refusal is retried for up to `PLACEMENT_WAIT_MS`, then thrown.
 */
async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  config: Parameters<JetStreamManager['streams']['add']>[0],
): Promise<void> {
  try {
    await jsm.streams.info(name);
    return;
  } catch (error) {
    if (!/stream not found/i.test((error as Error).message)) throw error;
  }
  const deadline = Date.now() + PLACEMENT_WAIT_MS;
  for (;;) {
    try {
      await jsm.streams.add({ ...config, name });
      return;
    } catch (error) {
      const placement = /no suitable peers|insufficient resources/i.test((error as Error).message);
      if (!placement || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** How long a stream's creation waits for the cluster to see enough peers to place it, ms. */
const PLACEMENT_WAIT_MS = 15_000;

/** One entry read back: its stream sequence, subject and stored text. */
export interface StoredEntry {
  readonly seq: number;
  readonly subject: string;
  readonly text: string;
}

export class JetStreamLog {
  readonly names: ShardNames;
  private readonly connection: NatsConnection;
  private readonly js: JetStreamClient;
  private jsm: JetStreamManager | null = null;

  constructor(connection: NatsConnection, names: ShardNames) {
    this.connection = connection;
    this.names = names;
    this.js = connection.jetstream({ timeout: 5_000 });
  }

  /**
   * Appends `text` with message id `msgId`, only if the stream's last sequence is
   * `expectLastSeq`. Resolves with the stored sequence (`duplicate`: the id was stored before,
   * at that sequence). Throws `fenced` when another writer moved the log, `log_unavailable`
   * when no acknowledgement came in `timeoutMs`.
   */
  async append(
    text: string,
    options: { msgId: string; expectLastSeq?: number; timeoutMs?: number; term?: number },
  ): Promise<{ seq: number; duplicate: boolean }> {
    const hdrs = headers();
    if (options.term !== undefined) hdrs.set('Fulcrum-Term', String(options.term));
    try {
      const ack = await this.js.publish(this.names.subject, text, {
        msgID: options.msgId,
        timeout: options.timeoutMs ?? 5_000,
        headers: hdrs,
        ...(options.expectLastSeq === undefined
          ? {}
          : { expect: { lastSequence: options.expectLastSeq } }),
      });
      return { seq: ack.seq, duplicate: ack.duplicate };
    } catch (error) {
      throw appendError(error);
    }
  }

  /** Publishes a state-hash report to the audit stream (deduplicated by `msgId`). */
  async appendAudit(subject: string, text: string, msgId: string): Promise<void> {
    await this.js.publish(subject, text, { msgID: msgId, timeout: 5_000 });
  }

  /** The stream's last sequence (0 when empty); throws `log_unavailable` when it cannot say. */
  async lastSeq(): Promise<number> {
    try {
      this.jsm ??= await this.connection.jetstreamManager({ timeout: 3_000 });
      const info = await this.jsm.streams.info(this.names.stream);
      return info.state.last_seq;
    } catch (error) {
      throw new ReplicationError('log_unavailable', `stream info: ${(error as Error).message}`);
    }
  }

  /** The stream's first sequence (1 until the log is trimmed). */
  async firstSeq(): Promise<number> {
    try {
      this.jsm ??= await this.connection.jetstreamManager({ timeout: 3_000 });
      const info = await this.jsm.streams.info(this.names.stream);
      return info.state.first_seq;
    } catch (error) {
      throw new ReplicationError('log_unavailable', `stream info: ${(error as Error).message}`);
    }
  }

  /**
   * Reads the log (or another of the shard's streams) in order from `fromSeq`, forever (an ordered consumer: gapless, recreated by
   * the client on a gap or a lost server). Ends when `signal` is aborted or the consumer fails;
   * the caller reopens from its next sequence.
   */
  async *read(
    fromSeq: number,
    signal: AbortSignal,
    stream: string = this.names.stream,
  ): AsyncGenerator<StoredEntry> {
    const consumer = await this.js.consumers.get(stream, { opt_start_seq: fromSeq });
    const messages = await consumer.consume({ max_messages: 512 });
    const stop = () => void messages.stop();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const message of messages) {
        if (signal.aborted) return;
        yield { seq: message.seq, subject: message.subject, text: message.string() };
      }
    } finally {
      signal.removeEventListener('abort', stop);
      messages.stop();
    }
  }
}

/** A publish failure as a replication error. */
export function appendError(error: unknown): ReplicationError {
  const message = error instanceof Error ? error.message : String(error);
  if (/wrong last sequence/i.test(message)) {
    return new ReplicationError('fenced', `the log moved on: ${message}`);
  }
  return new ReplicationError('log_unavailable', `the log did not acknowledge: ${message}`);
}
