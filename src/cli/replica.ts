/**
 * `fulcrum replica`: the engine as one replica of a shard whose command log is a NATS
 * JetStream stream replicated three ways (docs/REPLICATION.md).
 *
 *   fulcrum replica run --node ID --servers URL[,URL...] [--shard S] [--data DIR|postgres://...]
 *   fulcrum replica send --servers URL[,...] --key K COMMAND-JSON   one command, retried by key
 *   fulcrum replica status --servers URL[,...] [--shard S]          every replica's status
 *   fulcrum replica dev-cluster [--size N]                          a loopback NATS cluster
 *
 * `run` stays until SIGTERM or SIGINT (exit 0), or until the replica halts (a state hash that
 * disagrees with the others', a local journal that is not the log's: exit 3). This file also
 * runs on its own: `node dist/cli/replica.js run ...`.
 */
import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { EntryResult } from '../replication/applier.js';
import type { Engine } from '../engine/engine.js';
import { ReplicaClient } from '../replication/client.js';
import { NODE_ID_PATTERN } from '../replication/envelope.js';
import { ReplicationError } from '../replication/errors.js';
import { LocalCluster } from '../replication/localCluster.js';
import { connectCluster, shardNames } from '../replication/natsLog.js';
import { Replica } from '../replication/replica.js';
import { SnapshotStore, trimLog } from '../replication/snapshot.js';
import { DurableEngine } from '../store/durableEngine.js';
import { openStore } from '../store/index.js';

export const REPLICA_HELP = `usage:
  fulcrum replica run --node ID --servers URL[,URL...] [--shard S] [--data DIR|postgres://...]
                      [--replicas N] [--lease-ttl-ms MS] [--checkpoint-every N] [--batch-max N]
                      [--append-deadline-ms MS] [--snapshot-every N] [--log-trimmable]
      one engine replica: applies the shard's replicated log in order, publishes its state
      hash every N log entries and stops (exit 3) if it disagrees with a majority; contends
      for the leader lease, and while it leads takes commands on fulcrum.<shard>.submit;
      with --snapshot-every N (a multiple of --checkpoint-every) it stores a snapshot every N
      log entries once a majority agreed on its hash, and starts from its newest one;
      --log-trimmable creates the shard's log without deny_purge (fixed at creation)
  fulcrum replica send --servers URL[,...] --key KEY [--shard S] COMMAND-JSON
      send one command to the leader with an idempotency key, retried through failovers
  fulcrum replica status --servers URL[,...] [--shard S]
      each replica's role, term and applied log position, as JSON lines
  fulcrum replica trim --servers URL[,...] --nodes ID,ID,... [--shard S]
      purge the log below the oldest of the named replicas' newest verified snapshots (a log
      created with --log-trimmable); prints the first sequence the log keeps
  fulcrum replica dev-cluster [--size N]
      a NATS cluster of N servers (default 3) on loopback with JetStream, until Ctrl-C`;

/** Options of `fulcrum replica run`, parsed. */
export interface ReplicaRunOptions {
  readonly node: string;
  readonly servers: readonly string[];
  readonly shard: string;
  readonly data: string | undefined;
  readonly replicas: number;
  readonly leaseTtlMs: number;
  readonly checkpointEvery: number;
  readonly batchMax: number;
  readonly appendDeadlineMs: number;
  /** Stream sequences between snapshots; 0: none. */
  readonly snapshotEvery: number;
  /** Create the log without deny_purge, so that it may be trimmed. */
  readonly trimmable: boolean;
}

export class ReplicaUsageError extends Error {}

const RUN_OPTIONS = {
  node: { type: 'string' },
  servers: { type: 'string' },
  shard: { type: 'string' },
  data: { type: 'string' },
  replicas: { type: 'string' },
  'lease-ttl-ms': { type: 'string' },
  'checkpoint-every': { type: 'string' },
  'batch-max': { type: 'string' },
  'append-deadline-ms': { type: 'string' },
  'snapshot-every': { type: 'string' },
  'log-trimmable': { type: 'boolean' },
} as const;

function whole(text: string | undefined, name: string, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new ReplicaUsageError(`--${name} is a whole number from 1 to ${max}`);
  }
  return Number(text);
}

function serversOf(text: string | undefined): string[] {
  if (text === undefined || text === '') throw new ReplicaUsageError('--servers is required');
  const servers = text.split(',').map((s) => s.trim());
  if (servers.some((s) => !/^nats:\/\/[^\s,]+$/.test(s))) {
    throw new ReplicaUsageError('--servers is a comma-separated list of nats://host:port URLs');
  }
  return servers;
}

/** Parses `fulcrum replica run` arguments; a bad one is a `ReplicaUsageError`. */
export function parseReplicaRun(argv: readonly string[]): ReplicaRunOptions {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], strict: true, options: RUN_OPTIONS }));
  } catch (error) {
    throw new ReplicaUsageError((error as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  const node = values.node ?? '';
  if (!NODE_ID_PATTERN.test(node)) {
    throw new ReplicaUsageError('--node is 1-32 letters, digits, _ or -');
  }
  const shard = values.shard ?? 'main';
  if (!NODE_ID_PATTERN.test(shard))
    throw new ReplicaUsageError('--shard is 1-32 letters, digits, _ or -');
  const checkpointEvery = whole(values['checkpoint-every'], 'checkpoint-every', 1_000, 1e9);
  const snapshotEvery = whole(values['snapshot-every'], 'snapshot-every', 0, 1e9);
  if (snapshotEvery % checkpointEvery !== 0) {
    throw new ReplicaUsageError('--snapshot-every is a multiple of --checkpoint-every');
  }
  return {
    node,
    servers: serversOf(values.servers),
    shard,
    data: values.data,
    replicas: whole(values.replicas, 'replicas', 3, 5),
    leaseTtlMs: whole(values['lease-ttl-ms'], 'lease-ttl-ms', 2_000, 60_000),
    checkpointEvery,
    batchMax: whole(values['batch-max'], 'batch-max', 256, 1_024),
    appendDeadlineMs: whole(values['append-deadline-ms'], 'append-deadline-ms', 20_000, 600_000),
    snapshotEvery,
    trimmable: values['log-trimmable'] === true,
  };
}

export { connectCluster };

function logLine(node: string) {
  return (level: string, message: string, fields: object = {}) => {
    const line = { time: new Date().toISOString(), level, node, msg: message, ...fields };
    (level === 'error' ? process.stderr : process.stdout).write(`${JSON.stringify(line)}\n`);
  };
}

/** Hooks for tests and instrumentation. */
export interface ReplicaHooks {
  readonly afterEntry?: (result: EntryResult, engine: Engine) => void;
}

/** Runs one replica until SIGTERM/SIGINT (0) or a halt (3). */
export async function runReplicaNode(
  options: ReplicaRunOptions,
  hooks: ReplicaHooks = {},
): Promise<number> {
  const say = logLine(options.node);
  const connection = await connectCluster(options.servers, `fulcrum-replica-${options.node}`);
  const durable =
    options.data === undefined
      ? undefined
      : await DurableEngine.open(await openStore(options.data));
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (finish = resolve));
  const replica = new Replica({
    node: options.node,
    shard: options.shard,
    connection,
    now: () => Date.now(),
    replicaCount: options.replicas,
    replicas: options.replicas,
    leaseTtlMs: options.leaseTtlMs,
    checkpointEvery: options.checkpointEvery,
    batchMax: options.batchMax,
    appendDeadlineMs: options.appendDeadlineMs,
    snapshotEvery: options.snapshotEvery,
    trimmable: options.trimmable,
    ...(durable === undefined ? {} : { durable }),
    ...(hooks.afterEntry === undefined ? {} : { afterEntry: hooks.afterEntry }),
    log: say,
    onHalt: (error) => {
      process.stderr.write(`fulcrum replica ${options.node}: ${error.code}: ${error.message}\n`);
      finish(3);
    },
  });
  await replica.start();
  say('info', 'replica started', { shard: options.shard, servers: options.servers });
  const stop = () => finish(0);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const code = await done;
  await replica.close();
  await durable?.close().catch(() => undefined);
  await connection.close().catch(() => undefined);
  say('info', 'replica stopped', { code, applied: replica.appliedSeq });
  return code;
}

async function send(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: { servers: { type: 'string' }, shard: { type: 'string' }, key: { type: 'string' } },
  });
  if (values.key === undefined) throw new ReplicaUsageError('--key is required');
  const text = positionals[0];
  if (text === undefined) throw new ReplicaUsageError('give the command as JSON');
  let command: unknown;
  try {
    command = JSON.parse(text);
  } catch {
    throw new ReplicaUsageError('the command is not JSON');
  }
  const connection = await connectCluster(serversOf(values.servers), 'fulcrum-replica-send');
  try {
    const client = new ReplicaClient(connection, { shard: values.shard ?? 'main', now: Date.now });
    const answer = await client.submit(values.key, command);
    process.stdout.write(`${JSON.stringify(answer)}\n`);
    return answer.status === 'accepted' ? 0 : 1;
  } finally {
    await connection.close();
  }
}

async function status(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: { servers: { type: 'string' }, shard: { type: 'string' } },
  });
  const names = shardNames(values.shard ?? 'main');
  const connection = await connectCluster(serversOf(values.servers), 'fulcrum-replica-status');
  const seen = new Map<string, string>();
  const sub = connection.subscribe(`${names.statusPrefix}.*`, {
    callback: (_error, message) => seen.set(message.subject, message.string()),
  });
  await new Promise((resolve) => setTimeout(resolve, 700));
  sub.unsubscribe();
  await connection.close();
  for (const line of [...seen.values()].sort()) process.stdout.write(`${line}\n`);
  if (seen.size === 0) {
    process.stderr.write(
      `fulcrum: no replica of shard ${values.shard ?? 'main'} reported in 0.7 s\n`,
    );
  }
  return seen.size > 0 ? 0 : 1;
}

async function trim(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: { servers: { type: 'string' }, shard: { type: 'string' }, nodes: { type: 'string' } },
  });
  const nodes = (values.nodes ?? '').split(',').filter((node) => node !== '');
  if (nodes.length === 0 || nodes.some((node) => !NODE_ID_PATTERN.test(node))) {
    throw new ReplicaUsageError('--nodes names every replica of the shard: ID,ID,...');
  }
  const names = shardNames(values.shard ?? 'main');
  const connection = await connectCluster(serversOf(values.servers), 'fulcrum-replica-trim');
  try {
    const store = await SnapshotStore.open(connection, names, 1);
    const kept = await trimLog(await connection.jetstreamManager(), names, store, nodes);
    if (kept === null) {
      process.stderr.write(`fulcrum: a replica of ${nodes.join(', ')} has no snapshot yet\n`);
      return 1;
    }
    process.stdout.write(`${JSON.stringify({ shard: names.shard, firstSeq: kept })}\n`);
    return 0;
  } finally {
    await connection.close();
  }
}

async function devCluster(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: { size: { type: 'string' } },
  });
  const cluster = await LocalCluster.start(whole(values.size, 'size', 3, 7));
  process.stdout.write(
    `NATS cluster up: --servers ${cluster.servers.join(',')}\nCtrl-C stops it\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await cluster.stop();
  return 0;
}

/** Runs `fulcrum replica ARGS`; resolves with the exit status. */
export async function replicaCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === 'run') return await runReplicaNode(parseReplicaRun(rest));
    if (sub === 'send') return await send(rest);
    if (sub === 'status') return await status(rest);
    if (sub === 'trim') return await trim(rest);
    if (sub === 'dev-cluster') return await devCluster(rest);
    process.stdout.write(`${REPLICA_HELP}\n`);
    return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
  } catch (error) {
    if (
      error instanceof ReplicaUsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`fulcrum: ${(error as Error).message}; try fulcrum replica --help\n`);
      return 2;
    }
    if (error instanceof ReplicationError) {
      process.stderr.write(`fulcrum: ${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

/** Run on its own (`node dist/cli/replica.js ...`), as the bench's replicas are. */
function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  const self = fileURLToPath(import.meta.url);
  // A bundle that includes this module (a test's child script) is not this file.
  if (basename(self) !== 'replica.js') return false;
  try {
    return realpathSync(entry) === self;
  } catch {
    return false;
  }
}

if (isMain()) {
  process.exitCode = await replicaCommand(process.argv.slice(2));
  // Timers of the NATS client may linger: the status is final.
  process.exit();
}
