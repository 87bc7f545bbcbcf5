/**
 * A service on a real temporary SQLite journal, with one API key per role (and a few more for
 * cross-account checks), and a small venue: USDC and ETH listed, a lender, Alice borrowing
 * against ETH, a liquidator funded in USDC.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildServer, type Service } from '../../src/server/app.js';
import { type ConfigFile, type KeyEntry, resolveConfig } from '../../src/server/config.js';
import { hashKey } from '../../src/server/keys.js';
import { DurableEngine } from '../../src/store/durableEngine.js';
import { SqliteStore } from '../../src/store/sqliteStore.js';

/** Test keys by name: the key text is the name, padded (tests only; real keys are random). */
export const KEY = {
  alice: 'test-key-trader-alice-0000000000000000',
  bob: 'test-key-trader-bob-00000000000000000000',
  liquidator: 'test-key-liquidator-00000000000000000000',
  feed: 'test-key-price-source-000000000000000000',
  admin: 'test-key-risk-admin-000000000000000000000',
  auditor: 'test-key-read-only-all-000000000000000000',
  aliceViewer: 'test-key-read-only-alice-0000000000000000',
} as const;

export const KEYS: KeyEntry[] = [
  { id: 'alice', hash: hashKey(KEY.alice), role: 'trader', accounts: ['alice'] },
  { id: 'bob', hash: hashKey(KEY.bob), role: 'trader', accounts: ['bob'] },
  { id: 'liq', hash: hashKey(KEY.liquidator), role: 'liquidator', accounts: ['liq'] },
  { id: 'feed', hash: hashKey(KEY.feed), role: 'price-source' },
  { id: 'admin', hash: hashKey(KEY.admin), role: 'risk-admin', accounts: ['*'] },
  { id: 'auditor', hash: hashKey(KEY.auditor), role: 'read-only', accounts: ['*'] },
  { id: 'alice-viewer', hash: hashKey(KEY.aliceViewer), role: 'read-only', accounts: ['alice'] },
];

export const T0 = 1_700_000_000;

export const VENUE: readonly Record<string, unknown>[] = [
  {
    type: 'list-asset',
    time: T0,
    config: {
      symbol: 'USDC',
      decimals: 6,
      initialWeight: '0.85',
      maintenanceWeight: '0.875',
      liabilityWeight: '1',
      interest: { baseRate: '0', slope1: '0.055', slope2: '0.35', optimalUtilization: '0.92' },
      reserveFactor: '0.1',
    },
    price: '1',
  },
  {
    type: 'list-asset',
    time: T0,
    config: {
      symbol: 'ETH',
      decimals: 18,
      initialWeight: '0.8',
      maintenanceWeight: '0.825',
      liabilityWeight: '1',
      interest: { baseRate: '0', slope1: '0.027', slope2: '0.8', optimalUtilization: '0.9' },
      reserveFactor: '0.15',
    },
    price: '2000',
  },
  { type: 'deposit', time: T0, account: 'lena', asset: 'USDC', amount: '1000000' },
  { type: 'deposit', time: T0, account: 'alice', asset: 'ETH', amount: '10' },
  { type: 'borrow', time: T0, account: 'alice', asset: 'USDC', amount: '15000' },
  { type: 'deposit', time: T0, account: 'liq', asset: 'USDC', amount: '100000' },
];

export interface TestService extends Service {
  readonly dir: string;
  readonly durable: DurableEngine;
  close(): Promise<void>;
}

/** A service on a fresh journal; `venue` commands are applied first (through the service). */
export async function startService(
  overrides: ConfigFile = {},
  venue: readonly Record<string, unknown>[] = VENUE,
): Promise<TestService> {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-server-'));
  const durable = await DurableEngine.open(new SqliteStore(dir), { snapshotWorker: null });
  const config = resolveConfig({ keys: KEYS, ...overrides });
  const service = await buildServer({ config, durable, logger: false });
  for (const command of venue) {
    const reply = await post(service.app, '/v1/commands', KEY.admin, command);
    if (reply.statusCode !== 200) throw new Error(`venue command failed: ${reply.body}`);
  }
  return {
    ...service,
    dir,
    durable,
    async close() {
      await service.app.close();
      await durable.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function post(
  app: FastifyInstance,
  url: string,
  key: string | null,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/json',
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...headers,
    },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export function get(
  app: FastifyInstance,
  url: string,
  key: string | null,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'GET',
    url,
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
  });
}

/** The reply's error, checked to be one line with a stable code. */
export function errorOf(reply: LightMyRequestResponse): { code: string; message: string } {
  const body = reply.json() as { error?: { code: string; message: string } };
  if (body.error === undefined) throw new Error(`no error in ${reply.body}`);
  if (!/^[a-z_]+$/.test(body.error.code)) throw new Error(`bad code ${body.error.code}`);
  if (body.error.message.includes('\n') || body.error.message.length > 300) {
    throw new Error(`the reason is not one short line: ${body.error.message}`);
  }
  return body.error;
}
