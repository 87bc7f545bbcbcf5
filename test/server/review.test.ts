/**
 * The security review's findings (docs/SERVER.md): the clock, the price-source role, history
 * visibility, idempotency bounds, connection limits, price-source ids, what-if liquidations,
 * framework errors and the Bearer scheme.
 */
import { afterEach, expect, test } from 'vitest';
import { loadConfig, resolveConfig } from '../../src/server/config.js';
import { hashKey } from '../../src/server/keys.js';
import { serveCommand } from '../../src/server/serve.js';
import {
  errorOf,
  get,
  KEY,
  KEYS,
  post,
  startService,
  T0,
  type TestService,
  VENUE,
} from './helpers.js';

let service: TestService | null = null;
afterEach(async () => {
  await service?.close();
  service = null;
});

const NOW = () => Math.floor(Date.now() / 1000);

test('1: a non-admin key may not date a command or a quote ahead of the clock', async () => {
  const base = NOW() - 600;
  service = await startService(
    { clockSkewSeconds: 60 },
    VENUE.map((command) => ({ ...command, time: base })),
  );
  const { app } = service;
  const deposit = (time: number) => ({
    type: 'deposit',
    time,
    account: 'bob',
    asset: 'USDC',
    amount: '1',
  });
  const ahead = await post(app, '/v1/commands', KEY.bob, deposit(base + 300 * 86_400));
  expect(ahead.statusCode).toBe(422);
  expect(errorOf(ahead).code).toBe('time_ahead');
  const liquidator = { ...deposit(NOW() + 3_600), account: 'liq' };
  expect((await post(app, '/v1/commands', KEY.liquidator, liquidator)).statusCode).toBe(422);
  const quote = { time: NOW() + 3_600, quotes: [{ asset: 'ETH', price: '2000' }] };
  const quoted = await post(app, '/v1/quotes', KEY.feed, quote);
  expect(quoted.statusCode).toBe(422);
  expect(errorOf(quoted).code).toBe('time_ahead');
  // Within the skew, and in the past (replayed market time), commands are taken.
  expect((await post(app, '/v1/commands', KEY.bob, deposit(NOW() + 30))).statusCode).toBe(200);
  // The engine's time did not jump: an honest command at the current time still goes through.
  expect((await post(app, '/v1/commands', KEY.bob, deposit(NOW() + 30))).statusCode).toBe(200);
  // A risk-admin may move time ahead (simulations, tests).
  const admin = await post(app, '/v1/commands', KEY.admin, deposit(NOW() + 86_400));
  expect(admin.statusCode).toBe(200);
});

test('2: a price-source key may not set prices or marks directly', async () => {
  service = await startService();
  const reply = await post(service.app, '/v1/commands', KEY.feed, {
    type: 'set-price',
    time: T0 + 60,
    asset: 'ETH',
    price: '1',
  });
  expect(reply.statusCode).toBe(403);
  expect(errorOf(reply).code).toBe('forbidden');
});

const ANN = 'test-key-trader-ann-00000000000000000000';
const EXPIRY = 1_700_092_800; // 2023-11-16T00:00:00Z
const DATED: Record<string, unknown>[] = [
  ...VENUE.slice(0, 2),
  {
    type: 'list-instrument',
    time: T0,
    config: {
      kind: 'future',
      symbol: 'ETH-20231116',
      underlying: 'ETH',
      expiry: '2023-11-16T00:00:00Z',
      initialMargin: '0.1',
      maintenanceMargin: '0.05',
    },
    price: '2000',
  },
  ...['mm', 'ann', 'bob'].map((account) => ({
    type: 'deposit',
    time: T0,
    account,
    asset: 'USDC',
    amount: '100000',
  })),
  ...['ann', 'bob'].map((buyer) => ({
    type: 'trade',
    time: T0 + 60,
    buyer: { account: buyer },
    seller: { account: 'mm' },
    instrument: 'ETH-20231116',
    size: '1',
    price: '2000',
  })),
  { type: 'set-price', time: EXPIRY, asset: 'ETH', price: '2100' },
  { type: 'expire', time: EXPIRY, instrument: 'ETH-20231116' },
];

test("3: an account's history shows only the accounts the key may read", async () => {
  const keys = [
    ...KEYS,
    { id: 'ann', hash: hashKey(ANN), role: 'trader' as const, accounts: ['ann'] },
  ];
  service = await startService({ keys }, DATED);
  const reply = await get(service.app, '/v1/history?account=ann', ANN);
  expect(reply.statusCode).toBe(200);
  const items = (reply.json() as { items: { command: { type: string }; events: object[] }[] })
    .items;
  const expire = items.find((item) => item.command.type === 'expire');
  expect(expire).toBeDefined();
  const named = JSON.stringify(expire?.events);
  expect(named).toContain('"ann"');
  expect(named).not.toContain('"mm"');
  expect(named).not.toContain('"bob"');
  // Every account's reader sees the whole record.
  const all = await get(service.app, '/v1/history?account=ann', KEY.admin);
  const whole = (all.json() as { items: { command: { type: string }; events: object[] }[] }).items;
  expect(JSON.stringify(whole.find((i) => i.command.type === 'expire')?.events)).toContain('"mm"');
});

test('5: one API key cannot push out the idempotency keys of another', async () => {
  service = await startService({ idempotencyKeysMax: 10, idempotencyKeysPerKey: 3 });
  const { app } = service;
  const withdraw = { type: 'withdraw', time: T0, account: 'alice', asset: 'ETH', amount: '0.1' };
  const first = await post(app, '/v1/commands', KEY.alice, withdraw, { 'idempotency-key': 'p1' });
  expect(first.statusCode).toBe(200);
  for (let i = 0; i < 20; i++) {
    // Bob's accepted deposits fill his own share; his forbidden requests are not remembered.
    const own = { type: 'deposit', time: T0, account: 'bob', asset: 'USDC', amount: '1' };
    await post(app, '/v1/commands', KEY.bob, own, { 'idempotency-key': `own-${i}` });
    const theirs = { ...own, account: 'alice' };
    const denied = await post(app, '/v1/commands', KEY.bob, theirs, {
      'idempotency-key': `x-${i}`,
    });
    expect(denied.statusCode).toBe(403);
  }
  expect(service.idempotency.size).toBeLessThanOrEqual(4);
  const retry = await post(app, '/v1/commands', KEY.alice, withdraw, { 'idempotency-key': 'p1' });
  expect(retry.json()).toEqual(first.json());
});

test('7: request and connection timeouts and a connection bound are set and configurable', async () => {
  const config = loadConfig(undefined, {
    FULCRUM_REQUEST_TIMEOUT_MS: '5000',
    FULCRUM_CONNECTION_TIMEOUT_MS: '70000',
    FULCRUM_MAX_CONNECTIONS: '77',
  });
  expect(config.requestTimeoutMs).toBe(5_000);
  service = await startService({
    requestTimeoutMs: 5_000,
    connectionTimeoutMs: 70_000,
    maxConnections: 77,
  });
  expect(service.app.server.requestTimeout).toBe(5_000);
  expect(service.app.server.timeout).toBe(70_000);
  expect(service.app.server.maxConnections).toBe(77);
});

test("8: a price-source key's id must be a source id, in the config and in keygen", async () => {
  const id = 'a'.repeat(40);
  const entry = { id, hash: hashKey('x'.repeat(40)), role: 'price-source' as const };
  expect(() => resolveConfig({ keys: [entry] })).toThrow(/price-source key's id/);
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = () => true;
  try {
    expect(await serveCommand(['keygen', '--role', 'price-source', '--id', id])).toBe(2);
  } finally {
    process.stderr.write = write;
  }
});

test('9a: a liquidator learns nothing of a target that is not liquidatable', async () => {
  service = await startService();
  const command = {
    type: 'liquidate',
    time: T0,
    liquidator: { account: 'liq' },
    target: { account: 'alice' },
    debtAsset: 'USDC',
    collateralAsset: 'ETH',
    amount: '100',
  };
  const reply = await post(service.app, '/v1/what-if', KEY.liquidator, { command });
  expect(reply.statusCode).toBe(422);
  expect(errorOf(reply).code).toBe('not_liquidatable');
  expect(reply.body).not.toMatch(/15000|health/i);
});

test("9b: framework errors are in the service's format; the Bearer scheme is case-insensitive", async () => {
  service = await startService();
  const bad = await get(service.app, '/v1/accounts/%E0%A4%A/sub-accounts/0', KEY.alice);
  expect(bad.statusCode).toBe(400);
  expect(errorOf(bad).code).toBe('invalid_field');
  const lower = await service.app.inject({
    method: 'GET',
    url: '/v1/pools',
    headers: { authorization: `bearer ${KEY.alice}` },
  });
  expect(lower.statusCode).toBe(200);
});

test("4: a page of one account's history reads at most historyDepthMax records", async () => {
  service = await startService({ historyDepthMax: 1 });
  const url = '/v1/history?account=alice&limit=1';
  const first = await get(service.app, url, KEY.alice);
  expect(first.statusCode).toBe(200);
  const { next } = first.json() as { next: string | null };
  expect(next).not.toBeNull();
  const deep = await get(service.app, `${url}&cursor=${next}`, KEY.alice);
  expect(deep.statusCode).toBe(422);
  expect(errorOf(deep).code).toBe('limit_exceeded');
});

test('5: a request still waiting for the journal is never forgotten (its retry waits)', async () => {
  service = await startService({ idempotencyKeysMax: 2, idempotencyKeysPerKey: 2 });
  const { app } = service;
  const withdraw = { type: 'withdraw', time: T0, account: 'alice', asset: 'ETH', amount: '0.1' };
  const send = (key: string) =>
    post(app, '/v1/commands', KEY.alice, withdraw, { 'idempotency-key': key });
  const replies = await Promise.all([send('k1'), send('k2'), send('k3'), send('k1')]);
  expect(replies.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
  expect(replies[3]?.json()).toEqual(replies[0]?.json());
  const seqs = new Set(replies.map((r) => (r.json() as { seq: number }).seq));
  expect(seqs.size).toBe(3);
});
