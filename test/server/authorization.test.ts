/**
 * The authorization matrix: every route × every role, own accounts and others', unknown and
 * missing keys. Each denial is asserted with its status and code, and leaves the state hash
 * and the journal as they were.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorOf, get, KEY, KEYS, post, startService, T0, type TestService } from './helpers.js';

type Who = keyof typeof KEY | 'unknown' | 'none';
const WHO: readonly Who[] = [
  'alice',
  'bob',
  'liquidator',
  'feed',
  'admin',
  'auditor',
  'aliceViewer',
  'unknown',
  'none',
];

interface Row {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly body?: unknown;
  /** The status each key gets; unknown and missing keys always get 401. */
  readonly allow: Partial<Record<Who, number>>;
}

const deposit = (account: string) => ({
  type: 'deposit',
  time: T0,
  account,
  asset: 'ETH',
  amount: '0.001',
});

const ROWS: readonly Row[] = [
  {
    name: 'deposit into alice',
    method: 'POST',
    url: '/v1/commands',
    body: deposit('alice'),
    allow: { alice: 200, admin: 200 },
  },
  {
    name: 'deposit into carol (no trader key holds it)',
    method: 'POST',
    url: '/v1/commands',
    body: deposit('carol'),
    allow: { admin: 200 },
  },
  {
    name: 'transfer from alice to bob',
    method: 'POST',
    url: '/v1/commands',
    body: {
      type: 'transfer',
      time: T0,
      from: { account: 'alice', subAccount: 0 },
      to: { account: 'bob', subAccount: 0 },
      asset: 'ETH',
      amount: '0.0001',
    },
    allow: { admin: 200 },
  },
  {
    name: 'set-price',
    method: 'POST',
    url: '/v1/commands',
    body: { type: 'set-price', time: T0, asset: 'ETH', price: '2000' },
    allow: { admin: 200 },
  },
  {
    name: 'accrue',
    method: 'POST',
    url: '/v1/commands',
    body: { type: 'accrue', time: T0, asset: 'ETH' },
    allow: { feed: 200, admin: 200 },
  },
  {
    name: 'configure-liquidation (admin only)',
    method: 'POST',
    url: '/v1/commands',
    body: { type: 'configure-liquidation', time: T0, config: {} },
    allow: { admin: 200 },
  },
  {
    name: 'liquidate alice from liq (she is healthy: refused by the engine)',
    method: 'POST',
    url: '/v1/commands',
    body: {
      type: 'liquidate',
      time: T0,
      liquidator: { account: 'liq', subAccount: 0 },
      target: { account: 'alice', subAccount: 0 },
      debtAsset: 'USDC',
      collateralAsset: 'ETH',
      amount: 'max',
    },
    allow: { liquidator: 422, admin: 422 },
  },
  {
    name: "liquidate from alice's account (not the liquidator's own)",
    method: 'POST',
    url: '/v1/commands',
    body: {
      type: 'liquidate',
      time: T0,
      liquidator: { account: 'alice', subAccount: 0 },
      target: { account: 'bob', subAccount: 0 },
      debtAsset: 'USDC',
      collateralAsset: 'ETH',
      amount: 'max',
    },
    allow: { admin: 422 },
  },
  {
    name: "alice's report",
    method: 'GET',
    url: '/v1/accounts/alice/sub-accounts/0',
    allow: { alice: 200, admin: 200, auditor: 200, aliceViewer: 200 },
  },
  {
    name: "bob's report",
    method: 'GET',
    url: '/v1/accounts/bob/sub-accounts/3',
    allow: { bob: 200, admin: 200, auditor: 200 },
  },
  {
    name: "alice's derivatives risk (she holds no position: 422 to those who may read it)",
    method: 'GET',
    url: '/v1/accounts/alice/sub-accounts/0/risk',
    allow: { alice: 422, admin: 422, auditor: 422, aliceViewer: 422 },
  },
  {
    name: 'what-if: a deposit into alice',
    method: 'POST',
    url: '/v1/what-if',
    body: { command: deposit('alice') },
    allow: { alice: 200, admin: 200 },
  },
  {
    name: 'what-if: a deposit into bob',
    method: 'POST',
    url: '/v1/what-if',
    body: { command: deposit('bob') },
    allow: { bob: 200, admin: 200 },
  },
  {
    name: "what-if: a shock on alice's sub-account",
    method: 'POST',
    url: '/v1/what-if',
    body: { shock: { asset: 'ETH', move: '-0.2' }, account: 'alice', subAccount: 0 },
    allow: { alice: 200, admin: 200, auditor: 200, aliceViewer: 200 },
  },
  {
    name: 'what-if: a venue-wide shock',
    method: 'POST',
    url: '/v1/what-if',
    body: { shock: { asset: 'ETH', move: '-0.2' } },
    allow: { admin: 200, auditor: 200 },
  },
  {
    name: 'pools',
    method: 'GET',
    url: '/v1/pools',
    allow: {
      alice: 200,
      bob: 200,
      liquidator: 200,
      feed: 200,
      admin: 200,
      auditor: 200,
      aliceViewer: 200,
    },
  },
  {
    name: 'prices',
    method: 'GET',
    url: '/v1/prices',
    allow: {
      alice: 200,
      bob: 200,
      liquidator: 200,
      feed: 200,
      admin: 200,
      auditor: 200,
      aliceViewer: 200,
    },
  },
  {
    name: 'liquidatable',
    method: 'GET',
    url: '/v1/liquidatable',
    allow: { liquidator: 200, admin: 200, auditor: 200 },
  },
  {
    name: "alice's history",
    method: 'GET',
    url: '/v1/history?account=alice',
    allow: { alice: 200, admin: 200, auditor: 200, aliceViewer: 200 },
  },
  {
    name: "liq's history",
    method: 'GET',
    url: '/v1/history?account=liq',
    allow: { liquidator: 200, admin: 200, auditor: 200 },
  },
  {
    name: 'every account history',
    method: 'GET',
    url: '/v1/history',
    allow: { admin: 200, auditor: 200 },
  },
  {
    name: 'quotes',
    method: 'POST',
    url: '/v1/quotes',
    body: { time: T0, quotes: [{ asset: 'ETH', price: '2000' }] },
    allow: { feed: 200, admin: 200 },
  },
  {
    name: 'metrics',
    method: 'GET',
    url: '/metrics',
    allow: { admin: 200, auditor: 200, aliceViewer: 200 },
  },
];

let service: TestService;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service.close();
});

function send(row: Row, who: Who) {
  const key = who === 'none' ? null : who === 'unknown' ? 'fk_not-a-configured-key' : KEY[who];
  return row.method === 'GET'
    ? get(service.app, row.url, key)
    : post(service.app, row.url, key, row.body);
}

describe('every route × every key', () => {
  for (const row of ROWS) {
    for (const who of WHO) {
      const expected = row.allow[who] ?? (who === 'unknown' || who === 'none' ? 401 : 403);
      test(`${row.name} as ${who}: ${expected}`, async () => {
        const hash = service.durable.engine.hash();
        const seq = service.durable.lastSeq;
        const reply = await send(row, who);
        expect(reply.statusCode, reply.body).toBe(expected);
        if (expected === 401 || expected === 403) {
          expect(errorOf(reply).code).toBe(expected === 401 ? 'unauthenticated' : 'forbidden');
          expect(service.durable.engine.hash()).toBe(hash);
          expect(service.durable.lastSeq).toBe(seq);
        }
        if (expected === 401) expect(reply.headers['www-authenticate']).toBe('Bearer');
      });
    }
  }
});

test('a trader never sees another trader in a command what-if or a liquidation list', async () => {
  // Alice's dry run of a transfer to herself shows her sub-accounts only.
  const reply = await post(service.app, '/v1/what-if', KEY.alice, {
    command: {
      type: 'transfer',
      time: T0,
      from: { account: 'alice', subAccount: 0 },
      to: { account: 'alice', subAccount: 1 },
      asset: 'ETH',
      amount: '0.001',
    },
  });
  expect(reply.statusCode).toBe(200);
  const health = (reply.json() as { health: { account: string }[] }).health;
  expect(health.map((h) => h.account)).toEqual(['alice', 'alice']);
  expect(errorOf(await get(service.app, '/v1/liquidatable', KEY.bob)).code).toBe('forbidden');
});

test('public routes need no key; malformed Authorization headers are 401', async () => {
  for (const url of ['/healthz', '/readyz', '/openapi.json']) {
    expect((await get(service.app, url, null)).statusCode).toBe(200);
  }
  for (const header of [
    'Bearer',
    'Basic abc',
    `Bearer ${KEY.alice} extra`,
    `Bearer\t${KEY.alice}`,
  ]) {
    const reply = await service.app.inject({
      method: 'GET',
      url: '/v1/pools',
      headers: { authorization: header },
    });
    expect(reply.statusCode).toBe(401);
    expect(errorOf(reply).code).toBe('unauthenticated');
  }
});

test('the OpenAPI document names every route with its security', async () => {
  const doc = (await get(service.app, '/openapi.json', null)).json() as {
    paths: Record<string, Record<string, { security?: unknown }>>;
  };
  for (const path of [
    '/v1/commands',
    '/v1/accounts/{account}/sub-accounts/{n}',
    '/v1/accounts/{account}/sub-accounts/{n}/risk',
    '/v1/what-if',
    '/v1/pools',
    '/v1/prices',
    '/v1/liquidatable',
    '/v1/history',
    '/v1/quotes',
  ]) {
    expect(doc.paths[path], path).toBeDefined();
    const operation = Object.values(doc.paths[path] ?? {})[0];
    expect(operation?.security).toEqual([{ bearer: [] }]);
  }
  const docs = await get(service.app, '/docs', null);
  expect([200, 302]).toContain(docs.statusCode);
});

test('a rate limit per key: 429 with Retry-After, other keys unaffected', async () => {
  const limited = await startService(
    {
      keys: KEYS.map((k) =>
        k.id === 'bob' ? { ...k, rateLimit: { perSecond: 0.01, burst: 2 } } : k,
      ),
    },
    [],
  );
  try {
    expect((await get(limited.app, '/v1/pools', KEY.bob)).statusCode).toBe(200);
    expect((await get(limited.app, '/v1/pools', KEY.bob)).statusCode).toBe(200);
    const refused = await get(limited.app, '/v1/pools', KEY.bob);
    expect(refused.statusCode).toBe(429);
    expect(errorOf(refused).code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await get(limited.app, '/v1/pools', KEY.alice)).statusCode).toBe(200);
  } finally {
    await limited.close();
  }
});
