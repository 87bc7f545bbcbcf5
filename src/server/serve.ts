/**
 * `fulcrum serve`: one process running the durable engine (the single writer) behind the HTTP
 * service, until SIGTERM or SIGINT; then it stops taking requests, answers those in flight
 * (each once its command is durable), makes the journal durable and closes it.
 * `fulcrum serve keygen` makes an API key and prints its configuration entry.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../store/index.js';
import { DurableEngine } from '../store/durableEngine.js';
import { isPostgresUrl, postgresUrlProblem } from '../store/postgresStore.js';
import type { FastifyInstance } from 'fastify';
import type { NatsConnection } from 'nats';
import { ReplicaClient } from '../replication/client.js';
import { connectCluster } from '../replication/natsLog.js';
import { Replica } from '../replication/replica.js';
import type { Metrics } from './metrics.js';
import { ReplicatedGateway } from './replicatedGateway.js';
import type { ResultListener } from './gateway.js';
import { buildServer } from './app.js';
import type { EngineGateway } from './gateway.js';
import {
  ConfigError,
  type ConfigFile,
  loadConfig,
  type ReplicationConfig,
  type ReplicationFile,
  ROLES,
  type Role,
  type ServerConfig,
} from './config.js';
import { generateKey, hashKey } from './keys.js';
import { DEMO_SPEED, demoKeys, runDemoFeed, seedDemo } from './demo.js';
import type { DemoHolder } from './riskRoutes.js';

export const SERVE_HELP = `usage:
  fulcrum serve [--data DIR|postgres://...] [--config FILE] [--port N] [--host H]
      run the engine as an HTTP service (docs/SERVER.md): commands answered once durable,
      health reports, what-ifs, pools, prices, liquidatable sub-accounts, history, metrics;
      SIGTERM or SIGINT stops it gracefully
  fulcrum serve --replicate --nats URL[,URL...] --node ID [--shard NAME] [--data DIR] ...
      the same service on one replica of a shard's replicated log (docs/REPLICATION.md):
      commands go to the shard's leader (whichever node holds the lease), reads come from this
      node's replica, journaled into --data; every node serves HTTP
  fulcrum serve --demo [--speed N] [--port N] [--data DIR]
      what npm start runs: a demo venue on a fresh journal (a temporary folder unless --data),
      the Black Thursday price files replayed as quotes at N market seconds a second (default
      ${DEMO_SPEED}: an hour a second), a liquidator at work; prints the /docs URL and a
      read-only key
  fulcrum serve keygen --role ROLE [--accounts ID,...] [--id ID]
      make an API key: prints the key (give it to the client; it is stored nowhere) and the
      entry for the configuration's "keys" (its SHA-256 only)
      roles: ${ROLES.join(', ')}`;

/** Runs `fulcrum serve ARGS`; resolves with the exit status once the service has stopped. */
export async function serveCommand(argv: readonly string[]): Promise<number> {
  try {
    if (argv[0] === 'keygen') return keygen(argv.slice(1));
    return await serve(argv);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`fulcrum: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

class UsageError extends Error {}

/** A NATS server that does not answer at start, as one usage line. */
function natsUnreachable(error: unknown, url: string): unknown {
  const code = (error as { code?: unknown }).code;
  if (url === '' || typeof code !== 'string' || !/CONNECTION_REFUSED|TIMEOUT/.test(code)) {
    return error;
  }
  return new UsageError(`no NATS server answers at natsUrl ${url} (${code})`);
}

/** Runs an argument parser, its refusal as one usage line. */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? 'bad arguments';
    throw new UsageError(`${message.slice(0, 200)}; try fulcrum serve --help`);
  }
}

const SERVE_OPTIONS = {
  data: { type: 'string' },
  config: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  demo: { type: 'boolean' },
  speed: { type: 'string' },
  replicate: { type: 'boolean' },
  nats: { type: 'string' },
  shard: { type: 'string' },
  node: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function serve(argv: readonly string[]): Promise<number> {
  const { values } = parsed(() =>
    parseArgs({ args: [...argv], strict: true, options: SERVE_OPTIONS }),
  );
  if (values.help === true) {
    process.stdout.write(`${SERVE_HELP}\n`);
    return 0;
  }
  const overrides: ConfigFile = {};
  if (typeof values.data === 'string') overrides.data = values.data;
  if (typeof values.host === 'string') overrides.host = values.host;
  if (typeof values.port === 'string') {
    if (!/^\d{1,5}$/.test(values.port)) throw new UsageError('--port is a number, 0 to 65535');
    overrides.port = Number(values.port);
  }
  const demo = values.demo === true ? demoSetup(overrides, values.speed) : null;
  const configFile =
    typeof values.config === 'string' ? values.config : process.env.FULCRUM_CONFIG || undefined;
  const flags = replicationFlags(values);
  const loaded = loadConfig(configFile, process.env, overrides, flags);
  const config =
    demo === null ? loaded : { ...loaded, keys: [...loaded.keys, ...demo.keys.entries] };
  if (demo !== null && config.replication !== null) {
    throw new UsageError('--demo runs one engine: leave out --replicate');
  }
  if (config.data === '') throw new UsageError('--data must name a folder or a postgres:// URL');
  const problem = isPostgresUrl(config.data) ? postgresUrlProblem(config.data) : null;
  if (problem !== null) throw new UsageError(`--data is not a usable PostgreSQL URL: ${problem}`);

  const durable = await DurableEngine.open(await openStore(config.data));
  if (config.replication !== null) return serveReplicated(config, config.replication, durable);
  if (demo !== null && durable.lastSeq > 0) {
    await durable.close();
    throw new UsageError('--demo needs an empty journal: leave out --data, or name a new folder');
  }
  const replay: DemoHolder = { feed: null };
  let service;
  try {
    service = await buildServer({ config, durable, demo: replay });
  } catch (error) {
    await durable.close();
    throw natsUnreachable(error, config.natsUrl);
  }
  const { app, gateway } = service;
  if (demo !== null) await seedDemo(app, demo.keys);
  if (config.keys.length === 0) {
    app.log.warn('no API key is configured: every /v1 route refuses (fulcrum serve keygen)');
  }
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await durable.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  app.log.info({ port, seq: durable.durableSeq, store: durable.store.location }, 'serving');
  if (demo === null) return untilStopped(app, gateway, config.shutdownTimeoutMs);

  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`Fulcrum demo: ${url}/docs (the API and its page; the journal is in ${config.data})`);
  say(`console: ${url}/console/ (sign in with a key below)`);
  say(`read-only demo key: ${demo.keys.viewer}`);
  say(`  curl -H "Authorization: Bearer ${demo.keys.viewer}" ${url}/v1/prices`);
  say(`  streams: ws://${url.slice('http://'.length)}/v1/stream (docs/SERVER.md, "Streams")`);
  say(`replaying Black Thursday (5-20 March 2020) at ${demo.speed}x; Ctrl-C stops`);
  const feed = runDemoFeed(app, gateway, demo.keys, demo.speed, say);
  replay.feed = feed;
  const code = await untilStopped(app, gateway, config.shutdownTimeoutMs, () => feed.stop());
  await feed.done;
  if (demo.temporary) rmSync(config.data, { recursive: true, force: true });
  return code;
}

/**
 * `--replicate`: the service on one replica of the shard. The replica applies the log into the
 * local journal (`--data`) and contends for the lease; HTTP commands go to the leader.
 */
async function serveReplicated(
  config: ServerConfig,
  settings: ReplicationConfig,
  durable: DurableEngine,
): Promise<number> {
  let connection: NatsConnection;
  try {
    connection = await connectCluster(settings.servers, `fulcrum-serve-${settings.node}`);
  } catch (error) {
    await durable.close();
    const code = String((error as { code?: unknown }).code ?? (error as Error).message);
    throw new UsageError(
      `no NATS server answers at --nats ${settings.servers.join(',')} (${code})`,
    );
  }
  const logger: { log: ReplicaLog } = { log: () => {} };
  const client = new ReplicaClient(connection, {
    shard: settings.shard,
    now: Date.now,
    retryForMs: settings.retryForMs,
  });
  const replica = replicaMaker(settings, connection, durable, logger);
  const make = (metrics: Metrics) =>
    new ReplicatedGateway({ durable, replica, client }, metrics, {
      queueMax: config.queueMax,
      retryAfterSeconds: config.retryAfterSeconds,
      applyWaitMs: settings.applyWaitMs,
    });
  const closeAll = async () => {
    await durable.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
  };
  let service;
  try {
    service = await buildServer({ config, durable, gateway: make });
  } catch (error) {
    await closeAll();
    throw natsUnreachable(error, config.natsUrl);
  }
  const { app, gateway: node } = service;
  logger.log = (level, message, fields = {}) => app.log[level](fields, `replica: ${message}`);
  if (!(node instanceof ReplicatedGateway)) throw new Error('not a replicated gateway');
  try {
    await node.replica.start();
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await node.replica.close();
    await closeAll();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const { shard } = settings;
  app.log.info({ port, seq: durable.durableSeq, shard, node: settings.node }, 'serving');
  const closeConnection = () => connection.close().catch(() => undefined);
  return untilStopped(app, node, config.shutdownTimeoutMs, () => {}, closeConnection);
}

type ReplicaLog = (level: 'info' | 'warn' | 'error', message: string, fields?: object) => void;

/** The node's replica, made by the gateway with its observer of the local journal. */
function replicaMaker(
  settings: ReplicationConfig,
  connection: NatsConnection,
  durable: DurableEngine,
  logger: { log: ReplicaLog },
): (observe: ResultListener) => Replica {
  return (observe) =>
    new Replica({
      node: settings.node,
      shard: settings.shard,
      connection,
      now: Date.now,
      replicaCount: settings.replicas,
      replicas: settings.replicas,
      leaseTtlMs: settings.leaseTtlMs,
      checkpointEvery: settings.checkpointEvery,
      snapshotEvery: settings.snapshotEvery,
      trimmable: settings.logTrimmable,
      durable,
      onJournaled: observe,
      log: (level, message, fields) => logger.log(level, message, fields),
    });
}

/** `--replicate` and its flags, over the configuration file's `replication` settings. */
function replicationFlags(values: {
  replicate?: boolean;
  nats?: string;
  shard?: string;
  node?: string;
}): ReplicationFile | undefined {
  const given =
    values.nats !== undefined || values.shard !== undefined || values.node !== undefined;
  if (values.replicate !== true) {
    if (given) throw new UsageError('--nats, --shard and --node go with --replicate');
    return undefined;
  }
  const flags: ReplicationFile = {};
  if (values.nats !== undefined) flags.servers = values.nats.split(',').map((url) => url.trim());
  if (values.node !== undefined) flags.node = values.node;
  if (values.shard !== undefined) flags.shard = values.shard;
  return flags;
}

/** `--demo`: its keys, speed, and a fresh temporary journal unless `--data` names one. */
function demoSetup(overrides: ConfigFile, speedText: string | undefined) {
  const speed = speedText === undefined ? DEMO_SPEED : Number(speedText);
  if (!Number.isFinite(speed) || speed <= 0 || speed > 1e9) {
    throw new UsageError('--speed is market seconds a second, above 0');
  }
  const temporary = overrides.data === undefined;
  if (temporary) overrides.data = mkdtempSync(join(tmpdir(), 'fulcrum-demo-'));
  // The demo's own requests would fill the console at the info level.
  if (process.env.FULCRUM_LOG_LEVEL === undefined) overrides.logLevel ??= 'warn';
  return { keys: demoKeys(), speed, temporary };
}

/**
 * Runs until SIGTERM or SIGINT, then stops: no new request, those in flight answered, the
 * journal made durable and closed. Resolves with the exit status; past `timeoutMs` the process
 * exits with status 1 (what was acknowledged is durable whatever happens).
 */
function untilStopped(
  app: FastifyInstance,
  gateway: EngineGateway,
  timeoutMs: number,
  onStop: () => void = () => {},
  afterClose: () => Promise<unknown> = async () => {},
): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      onStop();
      app.log.info({ signal }, 'stopping: no new requests, draining');
      const timer = setTimeout(() => {
        app.log.error('shutdown timed out; the journal keeps what was acknowledged');
        process.exit(1);
      }, timeoutMs);
      timer.unref();
      gateway.stopAccepting();
      void (async () => {
        let code = 0;
        try {
          await app.close();
        } catch (error) {
          app.log.error({ err: error }, 'closing the server failed');
          code = 1;
        }
        app.log.info({ queued: gateway.queueDepth }, 'requests answered; closing the journal');
        try {
          await gateway.close();
          app.log.info(
            { seq: gateway.durable.durableSeq },
            'stopped: the journal is durable and closed',
          );
        } catch (error) {
          app.log.error({ err: error }, 'closing the journal failed');
          code = 1;
        }
        await afterClose();
        clearTimeout(timer);
        resolve(code);
      })();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

function keygen(argv: readonly string[]): number {
  const { values } = parsed(() =>
    parseArgs({
      args: [...argv],
      strict: true,
      options: {
        role: { type: 'string' },
        accounts: { type: 'string' },
        id: { type: 'string' },
      },
    }),
  );
  const role = values.role;
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    throw new UsageError(`keygen takes --role, one of ${ROLES.join(', ')}`);
  }
  const accounts =
    typeof values.accounts === 'string'
      ? values.accounts.split(',').map((a) => a.trim())
      : undefined;
  const id =
    typeof values.id === 'string' ? values.id : `${role}-${randomBytes(4).toString('hex')}`;
  const key = generateKey();
  const entry = {
    id,
    hash: hashKey(key),
    role: role as Role,
    ...(accounts === undefined ? {} : { accounts }),
  };
  // The entry is checked as the service will check it, so that a bad one fails now.
  loadConfig(undefined, {}, { keys: [entry] });
  process.stdout.write(`${key}\n${JSON.stringify(entry)}\n`);
  return 0;
}
