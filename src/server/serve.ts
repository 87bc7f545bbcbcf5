/**
 * `fulcrum serve`: one process running the durable engine (the single writer) behind the HTTP
 * service, until SIGTERM or SIGINT; then it stops taking requests, answers those in flight
 * (each once its command is durable), makes the journal durable and closes it.
 * `fulcrum serve keygen` makes an API key and prints its configuration entry.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { openStore } from '../store/index.js';
import { DurableEngine } from '../store/durableEngine.js';
import { isPostgresUrl, postgresUrlProblem } from '../store/postgresStore.js';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './app.js';
import type { Gateway } from './gateway.js';
import { ConfigError, type ConfigFile, loadConfig, ROLES, type Role } from './config.js';
import { generateKey, hashKey } from './keys.js';

export const SERVE_HELP = `usage:
  fulcrum serve [--data DIR|postgres://...] [--config FILE] [--port N] [--host H]
      run the engine as an HTTP service (docs/SERVER.md): commands answered once durable,
      health reports, what-ifs, pools, prices, liquidatable sub-accounts, history, metrics;
      SIGTERM or SIGINT stops it gracefully
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

/** Runs an argument parser, its refusal as one usage line. */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? 'bad arguments';
    throw new UsageError(`${message.slice(0, 200)}; try fulcrum serve --help`);
  }
}

async function serve(argv: readonly string[]): Promise<number> {
  const { values } = parsed(() =>
    parseArgs({
      args: [...argv],
      strict: true,
      options: {
        data: { type: 'string' },
        config: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
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
  const configFile =
    typeof values.config === 'string' ? values.config : process.env.FULCRUM_CONFIG || undefined;
  const config = loadConfig(configFile, process.env, overrides);
  if (config.data === '') throw new UsageError('--data must name a folder or a postgres:// URL');
  const problem = isPostgresUrl(config.data) ? postgresUrlProblem(config.data) : null;
  if (problem !== null) throw new UsageError(`--data is not a usable PostgreSQL URL: ${problem}`);

  const durable = await DurableEngine.open(await openStore(config.data));
  const { app, gateway } = await buildServer({ config, durable });
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

  return untilStopped(app, gateway, config.shutdownTimeoutMs);
}

/**
 * Runs until SIGTERM or SIGINT, then stops: no new request, those in flight answered, the
 * journal made durable and closed. Resolves with the exit status; past `timeoutMs` the process
 * exits with status 1 (what was acknowledged is durable whatever happens).
 */
function untilStopped(app: FastifyInstance, gateway: Gateway, timeoutMs: number): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
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
