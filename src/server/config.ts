/**
 * The service's configuration: a JSON file (`--config FILE` or `FULCRUM_CONFIG`), then
 * `FULCRUM_*` environment variables over it, then command-line options over both. Every
 * setting, its default and its variable are documented in docs/SERVER.md; the file's schema
 * below is the one source of its shape (unknown keys are refused, so a misspelt setting never
 * passes for a default).
 */
import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ACCOUNT_ID_PATTERN, SOURCE_ID_PATTERN } from '../domain/limits.js';
import { publicKeyOf } from './signing.js';

export const ROLES = ['trader', 'liquidator', 'price-source', 'risk-admin', 'read-only'] as const;
export type Role = (typeof ROLES)[number];

/** A key's hash as the config holds it: `sha256:` and 64 hex digits. */
export const KEY_HASH_PATTERN = '^sha256:[0-9a-f]{64}$';

/** An ed25519 public key as the config holds it: `ed25519:` and 32 bytes in base64url. */
export const ED25519_KEY_PATTERN = '^ed25519:[A-Za-z0-9_-]{43}$';

/** A NATS subject prefix: tokens of letters, digits, `_` and `-`, separated by dots. */
const NATS_SUBJECT_PATTERN = '^[A-Za-z0-9_-]{1,64}(\\.[A-Za-z0-9_-]{1,64}){0,7}$';

/** A replica's node id or a shard name (they appear in NATS subjects). */
const NODE_PATTERN = '^[A-Za-z0-9_-]{1,32}$';

/** `fulcrum serve --replicate`: the node is one replica of a shard (docs/REPLICATION.md). */
const ReplicationSchema = Type.Object(
  {
    /** The NATS servers holding the shard's log (`--nats`). */
    servers: Type.Optional(
      Type.Array(Type.String({ pattern: '^nats://[^\\s,]+$' }), { minItems: 1, maxItems: 16 }),
    ),
    shard: Type.Optional(Type.String({ pattern: NODE_PATTERN })),
    /** This node's id among the shard's replicas (`--node`). */
    node: Type.Optional(Type.String({ pattern: NODE_PATTERN })),
    /** Replicas of the shard (the divergence check's electorate, the log's copies). */
    replicas: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
    leaseTtlMs: Type.Optional(Type.Integer({ minimum: 200, maximum: 60_000 })),
    checkpointEvery: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000 })),
    /** Log entries between snapshots (a multiple of checkpointEvery); 0: none. */
    snapshotEvery: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
    /** Create the shard's log without deny_purge, so it may be trimmed (at creation only). */
    logTrimmable: Type.Optional(Type.Boolean()),
    /** How long a command is retried through failovers before 503 `log_unavailable`. */
    retryForMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
    /** How long an answer waits for this node to apply its command's entry. */
    applyWaitMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
  },
  { additionalProperties: false },
);
export type ReplicationFile = Static<typeof ReplicationSchema>;

/** A replicated node's settings, defaults filled in. */
export interface ReplicationConfig {
  readonly servers: readonly string[];
  readonly shard: string;
  readonly node: string;
  readonly replicas: number;
  readonly leaseTtlMs: number;
  readonly checkpointEvery: number;
  readonly snapshotEvery: number;
  readonly logTrimmable: boolean;
  readonly retryForMs: number;
  readonly applyWaitMs: number;
}

const RateLimitSchema = Type.Object(
  {
    perSecond: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
    burst: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  },
  { additionalProperties: false },
);

export const KeyEntrySchema = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }),
    hash: Type.String({ pattern: KEY_HASH_PATTERN }),
    role: Type.Union(ROLES.map((role) => Type.Literal(role))),
    /** Account identifiers the key may touch, or `["*"]` (read-only and risk-admin only). */
    accounts: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 10_000 }),
    ),
    rateLimit: Type.Optional(RateLimitSchema),
    /**
     * `ed25519:` and the raw 32-byte public key in base64url: the key's requests must then be
     * signed (docs/SERVER.md, "Signed requests").
     */
    publicKey: Type.Optional(Type.String({ pattern: ED25519_KEY_PATTERN })),
  },
  { additionalProperties: false },
);
export type KeyEntry = Static<typeof KeyEntrySchema>;

export const ConfigFileSchema = Type.Object(
  {
    data: Type.Optional(Type.String({ minLength: 1 })),
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535 })),
    bodyLimitBytes: Type.Optional(Type.Integer({ minimum: 1_024, maximum: 16 * 1024 * 1024 })),
    jsonDepthMax: Type.Optional(Type.Integer({ minimum: 2, maximum: 64 })),
    queueMax: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    retryAfterSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_600 })),
    idempotencyKeysMax: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
    idempotencyKeysPerKey: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    clockSkewSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
    requestTimeoutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
    connectionTimeoutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
    maxConnections: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    historyDepthMax: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    rateLimit: Type.Optional(RateLimitSchema),
    corsOrigins: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 100 })),
    logLevel: Type.Optional(
      Type.Union(
        ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      ),
    ),
    shutdownTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
    whatIfScanMax: Type.Optional(Type.Integer({ minimum: 1, maximum: 50_000_000 })),
    streamRingEvents: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    streamClientsMax: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    streamClientsPerKey: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    streamSendBufferBytes: Type.Optional(Type.Integer({ minimum: 1_024, maximum: 1 << 30 })),
    streamPingSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_600 })),
    signatureWindowSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_600 })),
    nonceStoreMax: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    natsUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 1_000 })),
    solvencyDir: Type.Optional(Type.String({ minLength: 1, maxLength: 4_096 })),
    natsSubject: Type.Optional(Type.String({ pattern: NATS_SUBJECT_PATTERN })),
    natsSources: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$' }), { maxItems: 1_000 }),
    ),
    keys: Type.Optional(Type.Array(KeyEntrySchema, { maxItems: 100_000 })),
    replication: Type.Optional(ReplicationSchema),
  },
  { additionalProperties: false },
);
export type ConfigFile = Static<typeof ConfigFileSchema>;

export interface ServerConfig {
  /** The journal: a folder (SQLite) or a postgres:// URL. */
  readonly data: string;
  readonly host: string;
  readonly port: number;
  readonly bodyLimitBytes: number;
  /** Deepest nesting of arrays and objects a JSON body may have. */
  readonly jsonDepthMax: number;
  /** Commands applied but not yet durable, at most; past it, 503 with Retry-After. */
  readonly queueMax: number;
  readonly retryAfterSeconds: number;
  /** Idempotency keys remembered, at most (the oldest forgotten first); 0 turns them off. */
  readonly idempotencyKeysMax: number;
  /** Idempotency keys remembered for one API key, at most (its oldest forgotten first). */
  readonly idempotencyKeysPerKey: number;
  /**
   * How far ahead of the service's wall clock a command or quote time may be, in seconds, for
   * every key but a risk-admin's (past times are the engine's to refuse).
   */
  readonly clockSkewSeconds: number;
  /** Milliseconds a request may take to arrive whole (0: no limit). */
  readonly requestTimeoutMs: number;
  /** Milliseconds a connection may stay idle before it is closed (0: no limit). */
  readonly connectionTimeoutMs: number;
  /** Open connections, at most (HTTP and WebSocket together). */
  readonly maxConnections: number;
  /** How deep into one account's history a page may reach (records read per request). */
  readonly historyDepthMax: number;
  /** Default rate limit of a key: tokens a second and the bucket's size. */
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
  /** Origins allowed by CORS; empty: CORS off (no CORS header is ever sent). */
  readonly corsOrigins: readonly string[];
  readonly logLevel: string;
  readonly shutdownTimeoutMs: number;
  /** Most sub-accounts a venue-wide price-shock what-if may evaluate. */
  readonly whatIfScanMax: number;
  /** Events the stream keeps in memory for resumes; older resumes read the journal. */
  readonly streamRingEvents: number;
  /** Open stream connections, at most, in all and per key. */
  readonly streamClientsMax: number;
  readonly streamClientsPerKey: number;
  /** Bytes a stream client may leave unread before it is dropped (close code 4413). */
  readonly streamSendBufferBytes: number;
  /** Seconds between pings; a client that has not answered the last one is dropped. */
  readonly streamPingSeconds: number;
  /** How far a signed request's timestamp may be from the clock, either way, in seconds. */
  readonly signatureWindowSeconds: number;
  /** Nonces of signed requests remembered (each for the window), at most. */
  readonly nonceStoreMax: number;
  /** The NATS server quotes come from; empty: no NATS subscriber. */
  readonly natsUrl: string;
  /**
   * The folder `fulcrum prove --out` wrote: its statement and bundles are served at
   * `/v1/solvency/...` (docs/SOLVENCY.md); empty: no proof is served.
   */
  readonly solvencyDir: string;
  /** Quotes are read from `<natsSubject>.<source>`. */
  readonly natsSubject: string;
  /** The sources NATS may quote for: ids of configured price-source keys. */
  readonly natsSources: readonly string[];
  readonly keys: readonly KeyEntry[];
  /** A replicated node's settings; null: one durable engine, the single writer. */
  readonly replication: ReplicationConfig | null;
}

export const DEFAULT_CONFIG: ServerConfig = {
  data: 'fulcrum-data',
  host: '127.0.0.1',
  port: 8080,
  bodyLimitBytes: 65_536,
  jsonDepthMax: 8,
  queueMax: 10_000,
  retryAfterSeconds: 1,
  idempotencyKeysMax: 100_000,
  idempotencyKeysPerKey: 10_000,
  clockSkewSeconds: 60,
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 120_000,
  maxConnections: 10_000,
  historyDepthMax: 10_000,
  rateLimit: { perSecond: 200, burst: 400 },
  corsOrigins: [],
  logLevel: 'info',
  shutdownTimeoutMs: 30_000,
  whatIfScanMax: 100_000,
  streamRingEvents: 10_000,
  streamClientsMax: 1_000,
  streamClientsPerKey: 16,
  streamSendBufferBytes: 1 << 20,
  streamPingSeconds: 30,
  signatureWindowSeconds: 30,
  nonceStoreMax: 100_000,
  natsUrl: '',
  solvencyDir: '',
  natsSubject: 'fulcrum.quotes',
  natsSources: [],
  keys: [],
  replication: null,
};

/** A configuration that cannot be used: one line naming the setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Environment variables, each with the setting it sets and how it is read. */
const ENVIRONMENT: readonly (readonly [string, keyof ConfigFile, 'string' | 'int' | 'list'])[] = [
  ['FULCRUM_DATA', 'data', 'string'],
  ['FULCRUM_HOST', 'host', 'string'],
  ['FULCRUM_PORT', 'port', 'int'],
  ['FULCRUM_BODY_LIMIT_BYTES', 'bodyLimitBytes', 'int'],
  ['FULCRUM_JSON_DEPTH_MAX', 'jsonDepthMax', 'int'],
  ['FULCRUM_QUEUE_MAX', 'queueMax', 'int'],
  ['FULCRUM_RETRY_AFTER_SECONDS', 'retryAfterSeconds', 'int'],
  ['FULCRUM_IDEMPOTENCY_KEYS_MAX', 'idempotencyKeysMax', 'int'],
  ['FULCRUM_IDEMPOTENCY_KEYS_PER_KEY', 'idempotencyKeysPerKey', 'int'],
  ['FULCRUM_CLOCK_SKEW_SECONDS', 'clockSkewSeconds', 'int'],
  ['FULCRUM_REQUEST_TIMEOUT_MS', 'requestTimeoutMs', 'int'],
  ['FULCRUM_CONNECTION_TIMEOUT_MS', 'connectionTimeoutMs', 'int'],
  ['FULCRUM_MAX_CONNECTIONS', 'maxConnections', 'int'],
  ['FULCRUM_HISTORY_DEPTH_MAX', 'historyDepthMax', 'int'],
  ['FULCRUM_CORS_ORIGINS', 'corsOrigins', 'list'],
  ['FULCRUM_LOG_LEVEL', 'logLevel', 'string'],
  ['FULCRUM_SHUTDOWN_TIMEOUT_MS', 'shutdownTimeoutMs', 'int'],
  ['FULCRUM_WHAT_IF_SCAN_MAX', 'whatIfScanMax', 'int'],
  ['FULCRUM_STREAM_RING_EVENTS', 'streamRingEvents', 'int'],
  ['FULCRUM_STREAM_CLIENTS_MAX', 'streamClientsMax', 'int'],
  ['FULCRUM_STREAM_CLIENTS_PER_KEY', 'streamClientsPerKey', 'int'],
  ['FULCRUM_STREAM_SEND_BUFFER_BYTES', 'streamSendBufferBytes', 'int'],
  ['FULCRUM_STREAM_PING_SECONDS', 'streamPingSeconds', 'int'],
  ['FULCRUM_SIGNATURE_WINDOW_SECONDS', 'signatureWindowSeconds', 'int'],
  ['FULCRUM_NONCE_STORE_MAX', 'nonceStoreMax', 'int'],
  ['FULCRUM_NATS_URL', 'natsUrl', 'string'],
  ['FULCRUM_SOLVENCY_DIR', 'solvencyDir', 'string'],
  ['FULCRUM_NATS_SUBJECT', 'natsSubject', 'string'],
  ['FULCRUM_NATS_SOURCES', 'natsSources', 'list'],
];

/** The variables naming the default rate limit (both or neither). */
const RATE_VARIABLES = ['FULCRUM_RATE_PER_SECOND', 'FULCRUM_RATE_BURST'] as const;

/**
 * The configuration from `file` (if any), the environment and `overrides`, in that order of
 * precedence from lowest to highest; every value checked against the schema.
 */
export function loadConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
  overrides: ConfigFile = {},
  replication?: ReplicationFile,
): ServerConfig {
  const fromFile = file === undefined ? {} : readConfigFile(file);
  const fromEnv = environmentConfig(env);
  const merged: ConfigFile = { ...fromFile, ...fromEnv, ...overrides };
  // `--replicate`'s flags go over the file's replication settings, field by field.
  if (replication !== undefined) merged.replication = { ...merged.replication, ...replication };
  check(merged, 'configuration');
  return resolveConfig(merged);
}

/** A configuration file's settings, checked. */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`cannot read the configuration file ${JSON.stringify(path)} (${code})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `the configuration file is not valid JSON: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  check(value, 'the configuration file');
  return value as ConfigFile;
}

function environmentConfig(env: NodeJS.ProcessEnv): ConfigFile {
  const out: Record<string, unknown> = {};
  for (const [name, key, kind] of ENVIRONMENT) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    if (kind === 'string') out[key] = text;
    else if (kind === 'list') out[key] = text.split(',').map((s) => s.trim());
    else out[key] = plainInteger(text, name);
  }
  const [rate, burst] = RATE_VARIABLES.map((name) => env[name]);
  if ((rate ?? '') !== '' || (burst ?? '') !== '') {
    if ((rate ?? '') === '' || (burst ?? '') === '') {
      throw new ConfigError(`${RATE_VARIABLES.join(' and ')} are set together`);
    }
    const perSecond = Number(rate);
    if (!/^\d+(\.\d+)?$/.test(rate ?? '') || !(perSecond > 0)) {
      throw new ConfigError(`FULCRUM_RATE_PER_SECOND is not a positive decimal number`);
    }
    out.rateLimit = { perSecond, burst: plainInteger(burst ?? '', 'FULCRUM_RATE_BURST') };
  }
  return out as ConfigFile;
}

function plainInteger(text: string, name: string): number {
  if (!/^\d{1,15}$/.test(text)) {
    throw new ConfigError(`${name} is not a whole number: ${JSON.stringify(text.slice(0, 32))}`);
  }
  return Number(text);
}

function check(value: unknown, what: string): void {
  const error = Value.Errors(ConfigFileSchema, value).First();
  if (error !== undefined) {
    const at = error.path === '' ? '' : ` at ${error.path.slice(1).replace(/\//g, '.')}`;
    throw new ConfigError(`${what}${at}: ${error.message}`);
  }
}

function checkPublicKey(text: string, where: string): void {
  try {
    publicKeyOf(text);
  } catch {
    throw new ConfigError(`${where}: publicKey is not an ed25519 public key`);
  }
}

/** The NATS sources, each checked to be a configured price-source key's id. */
function natsSources(file: ConfigFile, keys: readonly KeyEntry[]): readonly string[] {
  const sources = file.natsSources ?? [];
  for (const source of sources) {
    if (!keys.some((key) => key.id === source && key.role === 'price-source')) {
      throw new ConfigError(
        `natsSources: ${source} is not the id of a configured price-source key`,
      );
    }
  }
  return sources;
}

/** The keys, checked for consistency (ids and hashes once, accounts, price sources' ids). */
function checkKeys(keys: readonly KeyEntry[]): void {
  const ids = new Set<string>();
  const hashes = new Set<string>();
  for (const [i, key] of keys.entries()) {
    const where = `keys.${i} (${key.id})`;
    if (ids.has(key.id)) throw new ConfigError(`${where}: the id is used twice`);
    if (hashes.has(key.hash)) throw new ConfigError(`${where}: the hash is used twice`);
    ids.add(key.id);
    hashes.add(key.hash);
    if (key.publicKey !== undefined) checkPublicKey(key.publicKey, where);
    if (key.role === 'price-source' && !SOURCE_ID_PATTERN.test(key.id)) {
      throw new ConfigError(
        `${where}: a price-source key's id is the source it quotes as: 1-32 letters, digits and _ . : -`,
      );
    }
    const accounts = key.accounts ?? [];
    const everyAccount = accounts.includes('*');
    if (everyAccount && key.role !== 'read-only' && key.role !== 'risk-admin') {
      throw new ConfigError(`${where}: only read-only and risk-admin keys may name "*"`);
    }
    for (const account of accounts) {
      if (account !== '*' && !ACCOUNT_ID_PATTERN.test(account)) {
        throw new ConfigError(`${where}: ${JSON.stringify(account)} is not an account id`);
      }
    }
    if ((key.role === 'trader' || key.role === 'liquidator') && accounts.length === 0) {
      throw new ConfigError(`${where}: a ${key.role} key names the accounts it may touch`);
    }
  }
}

/** Defaults filled in, keys checked for consistency. */
export function resolveConfig(file: ConfigFile): ServerConfig {
  const keys = file.keys ?? [];
  checkKeys(keys);
  return {
    data: file.data ?? DEFAULT_CONFIG.data,
    host: file.host ?? DEFAULT_CONFIG.host,
    port: file.port ?? DEFAULT_CONFIG.port,
    bodyLimitBytes: file.bodyLimitBytes ?? DEFAULT_CONFIG.bodyLimitBytes,
    jsonDepthMax: file.jsonDepthMax ?? DEFAULT_CONFIG.jsonDepthMax,
    queueMax: file.queueMax ?? DEFAULT_CONFIG.queueMax,
    retryAfterSeconds: file.retryAfterSeconds ?? DEFAULT_CONFIG.retryAfterSeconds,
    idempotencyKeysMax: file.idempotencyKeysMax ?? DEFAULT_CONFIG.idempotencyKeysMax,
    idempotencyKeysPerKey: file.idempotencyKeysPerKey ?? DEFAULT_CONFIG.idempotencyKeysPerKey,
    clockSkewSeconds: file.clockSkewSeconds ?? DEFAULT_CONFIG.clockSkewSeconds,
    requestTimeoutMs: file.requestTimeoutMs ?? DEFAULT_CONFIG.requestTimeoutMs,
    connectionTimeoutMs: file.connectionTimeoutMs ?? DEFAULT_CONFIG.connectionTimeoutMs,
    maxConnections: file.maxConnections ?? DEFAULT_CONFIG.maxConnections,
    historyDepthMax: file.historyDepthMax ?? DEFAULT_CONFIG.historyDepthMax,
    rateLimit: file.rateLimit ?? DEFAULT_CONFIG.rateLimit,
    corsOrigins: file.corsOrigins ?? DEFAULT_CONFIG.corsOrigins,
    logLevel: file.logLevel ?? DEFAULT_CONFIG.logLevel,
    shutdownTimeoutMs: file.shutdownTimeoutMs ?? DEFAULT_CONFIG.shutdownTimeoutMs,
    whatIfScanMax: file.whatIfScanMax ?? DEFAULT_CONFIG.whatIfScanMax,
    streamRingEvents: file.streamRingEvents ?? DEFAULT_CONFIG.streamRingEvents,
    streamClientsMax: file.streamClientsMax ?? DEFAULT_CONFIG.streamClientsMax,
    streamClientsPerKey: file.streamClientsPerKey ?? DEFAULT_CONFIG.streamClientsPerKey,
    streamSendBufferBytes: file.streamSendBufferBytes ?? DEFAULT_CONFIG.streamSendBufferBytes,
    streamPingSeconds: file.streamPingSeconds ?? DEFAULT_CONFIG.streamPingSeconds,
    signatureWindowSeconds: file.signatureWindowSeconds ?? DEFAULT_CONFIG.signatureWindowSeconds,
    nonceStoreMax: file.nonceStoreMax ?? DEFAULT_CONFIG.nonceStoreMax,
    natsUrl: file.natsUrl ?? DEFAULT_CONFIG.natsUrl,
    solvencyDir: file.solvencyDir ?? DEFAULT_CONFIG.solvencyDir,
    natsSubject: file.natsSubject ?? DEFAULT_CONFIG.natsSubject,
    natsSources: natsSources(file, keys),
    keys,
    replication: file.replication === undefined ? null : replicationConfig(file.replication),
  };
}

/** A replicated node's settings, checked and with their defaults. */
export function replicationConfig(file: ReplicationFile): ReplicationConfig {
  const checkpointEvery = file.checkpointEvery ?? 1_000;
  const snapshotEvery = file.snapshotEvery ?? 0;
  if (snapshotEvery % checkpointEvery !== 0) {
    throw new ConfigError('replication.snapshotEvery is a multiple of replication.checkpointEvery');
  }
  const { servers, node } = file;
  if (servers === undefined) throw new ConfigError('replication.servers is required (--nats)');
  if (node === undefined) throw new ConfigError('replication.node is required (--node)');
  return {
    servers,
    shard: file.shard ?? 'main',
    node,
    replicas: file.replicas ?? 3,
    leaseTtlMs: file.leaseTtlMs ?? 2_000,
    checkpointEvery,
    snapshotEvery,
    logTrimmable: file.logTrimmable ?? false,
    retryForMs: file.retryForMs ?? 10_000,
    applyWaitMs: file.applyWaitMs ?? 10_000,
  };
}
