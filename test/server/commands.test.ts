/**
 * Commands through the service: answered once durable, idempotency keys, the bounded queue
 * (503 with Retry-After, nothing applied), and the queries that follow a command: what-ifs,
 * the liquidatable list with the best liquidation, history pages.
 */
import { afterEach, expect, test } from 'vitest';
import type { SqliteStore } from '../../src/store/sqliteStore.js';
import { errorOf, get, KEY, post, startService, T0, type TestService } from './helpers.js';

let service: TestService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

const deposit = (amount: string, time = T0 + 10) => ({
  type: 'deposit',
  time,
  account: 'alice',
  asset: 'ETH',
  amount,
});

test('a command is answered once durable, with its events', async () => {
  service = await startService();
  const reply = await post(service.app, '/v1/commands', KEY.alice, deposit('1'));
  expect(reply.statusCode).toBe(200);
  const body = reply.json() as {
    ok: true;
    seq: number;
    events: { type: string; amount: string }[];
  };
  expect(body.ok).toBe(true);
  expect(body.seq).toBeLessThanOrEqual(service.durable.durableSeq);
  expect(body.events[0]).toMatchObject({ type: 'deposited', amount: '1' });
});

test('an idempotency key: the same body answers the first answer, another body 409', async () => {
  service = await startService();
  const { app, durable } = service;
  const headers = { 'idempotency-key': 'order-1' };
  const first = await post(app, '/v1/commands', KEY.alice, deposit('1'), headers);
  const seq = durable.lastSeq;
  // The same body, keys in another order: the first answer again, nothing applied.
  const reordered = { amount: '1', asset: 'ETH', account: 'alice', time: T0 + 10, type: 'deposit' };
  const again = await post(app, '/v1/commands', KEY.alice, reordered, headers);
  expect(again.statusCode).toBe(200);
  expect(again.body).toBe(first.body);
  expect(durable.lastSeq).toBe(seq);
  // Another body under the same key: refused, nothing applied.
  const other = await post(app, '/v1/commands', KEY.alice, deposit('2'), headers);
  expect(other.statusCode).toBe(409);
  expect(errorOf(other).code).toBe('idempotency_conflict');
  expect(durable.lastSeq).toBe(seq);
  // Keys are the API key's own: Bob's "order-1" is another key.
  const bobs = await post(
    app,
    '/v1/commands',
    KEY.bob,
    { ...deposit('1'), account: 'bob' },
    headers,
  );
  expect(bobs.statusCode).toBe(200);
  expect(durable.lastSeq).toBe(seq + 1);
  // A refusal is remembered too: the same refused body answers the same refusal.
  const borrow = { type: 'borrow', time: T0 + 10, account: 'alice', asset: 'USDC', amount: '1e9' };
  const refused = await post(app, '/v1/commands', KEY.alice, borrow, { 'idempotency-key': 'b' });
  const refusedAgain = await post(app, '/v1/commands', KEY.alice, borrow, {
    'idempotency-key': 'b',
  });
  expect(refused.statusCode).toBe(400);
  expect(refusedAgain.body).toBe(refused.body);
});

test('concurrent requests with one idempotency key apply the command once', async () => {
  service = await startService();
  const { app, durable } = service;
  const seq = durable.lastSeq;
  const replies = await Promise.all(
    Array.from({ length: 5 }, () =>
      post(app, '/v1/commands', KEY.alice, deposit('1'), { 'idempotency-key': 'same' }),
    ),
  );
  expect(new Set(replies.map((r) => r.body)).size).toBe(1);
  expect(replies.every((r) => r.statusCode === 200)).toBe(true);
  expect(durable.lastSeq).toBe(seq + 1);
});

test('idempotency keys are bounded: the oldest is forgotten first', async () => {
  service = await startService({ idempotencyKeysMax: 2 });
  const { app, durable } = service;
  for (const key of ['k1', 'k2', 'k3']) {
    await post(app, '/v1/commands', KEY.alice, deposit('1'), { 'idempotency-key': key });
  }
  const seq = durable.lastSeq;
  await post(app, '/v1/commands', KEY.alice, deposit('1'), { 'idempotency-key': 'k3' });
  expect(durable.lastSeq).toBe(seq); // remembered
  await post(app, '/v1/commands', KEY.alice, deposit('1'), { 'idempotency-key': 'k1' });
  expect(durable.lastSeq).toBe(seq + 1); // forgotten: applied again
  const bad = await post(app, '/v1/commands', KEY.alice, deposit('1'), {
    'idempotency-key': 'x'.repeat(129),
  });
  expect(bad.statusCode).toBe(400);
  expect(errorOf(bad).code).toBe('invalid_field');
});

/** Holds every journal write until `release` is called. */
function holdWrites(service: TestService): () => void {
  const store = service.durable.store as SqliteStore;
  const append = store.append.bind(store);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  store.append = async (...args: Parameters<SqliteStore['append']>) => {
    await gate;
    return append(...args);
  };
  return release;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  expect(condition()).toBe(true);
}

test('a full queue: 503 with Retry-After, nothing applied; the command goes through later', async () => {
  service = await startService({ queueMax: 2, retryAfterSeconds: 3 });
  const { app, durable, gateway } = service;
  const release = holdWrites(service);
  const waiting = [
    post(app, '/v1/commands', KEY.alice, deposit('1')),
    post(app, '/v1/commands', KEY.alice, deposit('2')),
  ];
  await until(() => gateway.queueDepth === 2);
  const hash = durable.engine.hash();
  const seq = durable.lastSeq;
  const headers = { 'idempotency-key': 'later' };
  const refused = await post(app, '/v1/commands', KEY.alice, deposit('3'), headers);
  expect(refused.statusCode).toBe(503);
  expect(errorOf(refused).code).toBe('queue_full');
  expect(refused.headers['retry-after']).toBe('3');
  expect(durable.engine.hash()).toBe(hash);
  expect(durable.lastSeq).toBe(seq);
  // Reads wait for the journal too: nothing not durable is ever shown.
  let read = false;
  const report = get(app, '/v1/accounts/alice/sub-accounts/0', KEY.alice).then((r) => {
    read = true;
    return r;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(read).toBe(false);
  release();
  for (const reply of await Promise.all(waiting)) expect(reply.statusCode).toBe(200);
  expect((await report).statusCode).toBe(200);
  // The refusal was not remembered under its idempotency key: the retry applies the command.
  const retried = await post(app, '/v1/commands', KEY.alice, deposit('3'), headers);
  expect(retried.statusCode).toBe(200);
  const metrics = (await get(app, '/metrics', KEY.admin)).body;
  expect(metrics).toMatch(/fulcrum_refusals_total\{code="queue_full"\} 1/);
  expect(metrics).toMatch(/fulcrum_commands_total\{type="deposit",outcome="ok"\} \d+/);
});

test('after a fall: the liquidatable list, the best liquidation, and the liquidation', async () => {
  service = await startService();
  const { app } = service;
  // A what-if first: nothing changes.
  const shock = await post(app, '/v1/what-if', KEY.alice, {
    shock: { asset: 'ETH', move: '-0.2' },
    account: 'alice',
  });
  expect(shock.statusCode).toBe(200);
  const { before, after } = shock.json() as {
    before: { healthFactor: string; liquidatable: boolean };
    after: { healthFactor: string; liquidatable: boolean };
  };
  // 10 ETH at 2000 × 0.825 against 15,000 USDC: 1.1; at 1600: 0.88.
  expect(before).toMatchObject({ healthFactor: '1.1', liquidatable: false });
  expect(after).toMatchObject({ healthFactor: '0.88', liquidatable: true });
  expect((await get(app, '/v1/liquidatable', KEY.liquidator)).json()).toMatchObject({ total: 0 });

  const fall = await post(app, '/v1/commands', KEY.admin, {
    type: 'set-price',
    time: T0 + 60,
    asset: 'ETH',
    price: '1600',
  });
  expect(fall.statusCode).toBe(200);
  const list = (await get(app, '/v1/liquidatable', KEY.liquidator)).json() as {
    total: number;
    items: {
      account: string;
      healthFactor: string;
      allowed: boolean;
      best: { debtAsset: string; collateralAsset: string; repay: string; bonusValue: string };
    }[];
  };
  expect(list.total).toBe(1);
  const [entry] = list.items;
  expect(entry).toMatchObject({ account: 'alice', allowed: true });
  // 0.88 less a minute of interest on the debt.
  expect(Number(entry?.healthFactor)).toBeCloseTo(0.88, 6);
  expect(entry?.best).toMatchObject({ debtAsset: 'USDC', collateralAsset: 'ETH' });
  expect(Number(entry?.best.bonusValue)).toBeGreaterThan(0);

  // The dry run of the liquidation repays what the list said.
  const command = {
    type: 'liquidate',
    time: T0 + 61,
    liquidator: { account: 'liq', subAccount: 0 },
    target: { account: 'alice', subAccount: 0 },
    debtAsset: 'USDC',
    collateralAsset: 'ETH',
    amount: 'max',
  };
  const dry = (await post(app, '/v1/what-if', KEY.liquidator, { command })).json() as {
    result: { ok: boolean; events: { type: string; repaid: string }[] };
    health: { account: string }[];
  };
  expect(dry.result.ok).toBe(true);
  const planned = dry.result.events.find((e) => e.type === 'liquidation');
  expect(planned?.repaid).toBe(entry?.best.repay);
  // The liquidator sees its own sub-account's health, not the target's.
  expect(dry.health.map((h) => h.account)).toEqual(['liq']);

  const done = await post(app, '/v1/commands', KEY.liquidator, command);
  expect(done.statusCode).toBe(200);
  const metrics = (await get(app, '/metrics', KEY.auditor)).body;
  expect(metrics).toMatch(/fulcrum_liquidations_total\{kind="liquidation"\} 1/);
});

test('pages: the liquidatable list and history follow their cursors without gaps', async () => {
  const venue = [
    ...(await import('./helpers.js')).VENUE.slice(0, 3),
    ...['a', 'b', 'c', 'd', 'e'].flatMap((id) => [
      { type: 'deposit', time: T0, account: id, asset: 'ETH', amount: '1' },
      { type: 'borrow', time: T0, account: id, asset: 'USDC', amount: '1500' },
    ]),
    { type: 'set-price', time: T0 + 1, asset: 'ETH', price: '1500' },
  ];
  service = await startService({}, venue);
  const { app } = service;
  const seen: string[] = [];
  let url = '/v1/liquidatable?limit=2';
  for (let page = 0; page < 10; page++) {
    const body = (await get(app, url, KEY.admin)).json() as {
      items: { account: string }[];
      next: string | null;
    };
    seen.push(...body.items.map((i) => i.account));
    if (body.next === null) break;
    url = `/v1/liquidatable?limit=2&cursor=${body.next}`;
  }
  expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);

  const seqs: number[] = [];
  url = '/v1/history?limit=3';
  for (let page = 0; page < 20; page++) {
    const body = (await get(app, url, KEY.auditor)).json() as {
      items: { seq: number }[];
      next: string | null;
    };
    seqs.push(...body.items.map((i) => i.seq));
    if (body.next === null) break;
    url = `/v1/history?limit=3&cursor=${body.next}`;
  }
  expect(seqs).toEqual(Array.from({ length: venue.length }, (_, i) => i + 1));

  const mine: number[] = [];
  url = '/v1/history?account=c&limit=1';
  for (let page = 0; page < 5; page++) {
    const body = (await get(app, url, KEY.admin)).json() as {
      items: { seq: number; command: { account: string } }[];
      next: string | null;
    };
    mine.push(...body.items.map((i) => i.seq));
    if (body.next === null) break;
    url = `/v1/history?account=c&limit=1&cursor=${body.next}`;
  }
  expect(mine).toHaveLength(2);
});

test('pools, prices and readiness', async () => {
  service = await startService();
  const { app, gateway } = service;
  const pools = (await get(app, '/v1/pools', KEY.bob)).json() as { pools: { asset: string }[] };
  expect(pools.pools.map((p) => p.asset)).toEqual(['USDC', 'ETH']);
  const prices = (await get(app, '/v1/prices', KEY.feed)).json() as {
    assets: { asset: string; price: string; grade: string }[];
  };
  expect(prices.assets[1]).toMatchObject({ asset: 'ETH', price: '2000', grade: 'valid' });
  expect((await get(app, '/readyz', null)).statusCode).toBe(200);
  gateway.stopAccepting();
  const ready = await get(app, '/readyz', null);
  expect(ready.statusCode).toBe(503);
  expect(errorOf(ready).code).toBe('shutting_down');
  const refused = await post(app, '/v1/commands', KEY.alice, deposit('1'));
  expect(refused.statusCode).toBe(503);
  expect(errorOf(refused).code).toBe('shutting_down');
});

test('a price source pushes quotes in its own name; the oracle grades them', async () => {
  service = await startService();
  const { app } = service;
  const listing = (await import('./helpers.js')).VENUE[1] as { config: object };
  const listed = await post(app, '/v1/commands', KEY.admin, {
    type: 'list-asset',
    time: T0,
    config: { ...listing.config, symbol: 'BTC', decimals: 8, oracle: {} },
    price: '30000',
  });
  expect(listed.statusCode, listed.body).toBe(200);
  const push = await post(app, '/v1/quotes', KEY.feed, {
    time: T0 + 5,
    quotes: [
      { asset: 'BTC', price: '30100' },
      { asset: 'DOGE', price: '1' },
    ],
  });
  expect(push.statusCode, push.body).toBe(200);
  const { results } = push.json() as {
    results: { ok: boolean; seq: number | null; error?: { code: string } }[];
  };
  expect(results[0]).toMatchObject({ ok: true });
  expect(results[1]).toMatchObject({ ok: false, seq: null, error: { code: 'unknown_asset' } });
  // A price source quotes as itself only; the risk admin may name any source.
  const other = await post(app, '/v1/quotes', KEY.feed, {
    time: T0 + 6,
    quotes: [{ asset: 'BTC', price: '30100', source: 'binance' }],
  });
  expect(other.statusCode).toBe(403);
  expect(errorOf(other).code).toBe('forbidden');
  const asCommand = await post(app, '/v1/commands', KEY.feed, {
    type: 'quote',
    time: T0 + 6,
    asset: 'BTC',
    source: 'binance',
    price: '30100',
  });
  expect(asCommand.statusCode).toBe(403);
  const admin = await post(app, '/v1/quotes', KEY.admin, {
    time: T0 + 6,
    quotes: [{ asset: 'BTC', price: '30100', source: 'binance' }],
  });
  expect(admin.statusCode).toBe(200);
  expect((await post(app, '/v1/quotes', KEY.alice, { time: T0, quotes: [] })).statusCode).toBe(403);
  const prices = (await get(app, '/v1/prices', KEY.bob)).json() as {
    assets: { asset: string; oracle: { sources: number } | null; grade: string }[];
  };
  const btc = prices.assets.find((a) => a.asset === 'BTC');
  expect(btc?.oracle?.sources).toBe(2);
});
