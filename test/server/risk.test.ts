/**
 * A sub-account's derivatives risk over HTTP: the engine's risk report (Greeks per position and
 * in all, each mode's margin, cross liquidation prices) as `fulcrum greeks --account` gives it,
 * read only by keys that may read the account.
 */
import { afterEach, expect, test } from 'vitest';
import { errorOf, get, KEY, post, startService, T0, type TestService, VENUE } from './helpers.js';

let service: TestService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

const PERP_VENUE = [
  ...VENUE,
  {
    type: 'list-instrument',
    time: T0,
    price: '2000',
    config: {
      kind: 'perpetual',
      symbol: 'ETH-PERP',
      underlying: 'ETH',
      initialMargin: '0.1',
      maintenanceMargin: '0.05',
      fundingIntervalSeconds: '3600',
    },
  },
  { type: 'deposit', time: T0, account: 'bob', asset: 'USDC', amount: '50000' },
  // Alice (10 ETH, owing 15,000 USDC) buys 2 ETH-PERP from Bob at the mark.
  {
    type: 'trade',
    time: T0,
    buyer: { account: 'alice', subAccount: 0 },
    seller: { account: 'bob', subAccount: 0 },
    instrument: 'ETH-PERP',
    size: '2',
    price: '2000',
  },
];

interface Risk {
  account: string;
  collateral: number;
  notional: number;
  greeks: { deltaQuote: number; gammaQuotePerPercent: number; vegaQuotePerVolPoint: number };
  positions: { symbol: string; size: number; deltaUnits: number; maintenance: number }[];
  margins: { mode: string; initial: number; maintenance: number }[];
}

test("a trader reads her own sub-account's Greeks and margins, valued on the engine's prices", async () => {
  service = await startService({}, PERP_VENUE);
  const reply = await get(service.app, '/v1/accounts/alice/sub-accounts/0/risk', KEY.alice);
  expect(reply.statusCode).toBe(200);
  const risk = reply.json() as Risk;
  expect(risk.account).toBe('alice');
  // Long 2 ETH-PERP at an index of 2,000: delta 2 units, 4,000 in quote; a perpetual has no
  // gamma or vega. Notional 2 × 2,000; maintenance 5% of it (no size premium at 2 units).
  expect(risk.positions).toHaveLength(1);
  expect(risk.positions[0]).toMatchObject({ symbol: 'ETH-PERP', size: 2, deltaUnits: 2 });
  expect(risk.greeks.deltaQuote).toBeCloseTo(4000, 9);
  expect(risk.greeks.gammaQuotePerPercent).toBe(0);
  expect(risk.greeks.vegaQuotePerVolPoint).toBe(0);
  expect(risk.notional).toBeCloseTo(4000, 9);
  expect(risk.positions[0]?.maintenance).toBeCloseTo(200, 9);
  // Collateral: 10 ETH at 2,000 less 15,000 USDC owed (no time has passed: no interest).
  expect(risk.collateral).toBeCloseTo(5000, 6);
  expect(risk.margins.map((m) => m.mode)).toEqual(['cross', 'isolated', 'portfolio']);
  // Bob's side: short 2, delta -4,000.
  const bob = (
    await get(service.app, '/v1/accounts/bob/sub-accounts/0/risk', KEY.bob)
  ).json() as Risk;
  expect(bob.greeks.deltaQuote).toBeCloseTo(-4000, 9);
});

test("another trader's risk is refused; a sub-account without positions is no_position", async () => {
  service = await startService({}, PERP_VENUE);
  const { app, durable } = service;
  const seq = durable.lastSeq;
  const denied = await get(app, '/v1/accounts/alice/sub-accounts/0/risk', KEY.bob);
  expect(denied.statusCode).toBe(403);
  expect(errorOf(denied).code).toBe('forbidden');
  const empty = await get(app, '/v1/accounts/alice/sub-accounts/1/risk', KEY.alice);
  expect(empty.statusCode).toBe(422);
  expect(errorOf(empty).code).toBe('no_position');
  const malformed = await get(app, '/v1/accounts/alice/sub-accounts/256/risk', KEY.alice);
  expect(malformed.statusCode).toBe(400);
  expect(durable.lastSeq).toBe(seq);
  // A read changes nothing; a deposit still goes through after them.
  const after = await post(app, '/v1/commands', KEY.alice, {
    type: 'deposit',
    time: T0 + 1,
    account: 'alice',
    asset: 'ETH',
    amount: '1',
  });
  expect(after.statusCode).toBe(200);
});

interface CloseReport {
  healthFactor: string | null;
  positions: Record<string, { amount: string }>;
}
interface CloseReply {
  close: { instrument: string; size: string; mark: string };
  before: CloseReport;
  after: CloseReport;
}

test('what if I close it: the position closed at the mark, answered by a draft, nothing changes', async () => {
  service = await startService({}, PERP_VENUE);
  const { app, durable } = service;
  // The mark falls: Alice's long loses 2 × 200.
  const mark = { type: 'set-price', time: T0 + 1, asset: 'ETH-PERP', price: '1800' };
  expect((await post(app, '/v1/commands', KEY.admin, mark)).statusCode).toBe(200);
  const hash = durable.engine.hash();
  const body = { close: { instrument: 'ETH-PERP' }, account: 'alice', subAccount: 0 };
  const reply = await post(app, '/v1/what-if', KEY.alice, body);
  expect(reply.statusCode).toBe(200);
  const answer = reply.json() as CloseReply;
  expect(answer.close).toEqual({ instrument: 'ETH-PERP', size: '2', mark: '1800' });
  // The loss of 2 × 200 is realized and settled into USDC: the debt grows by 400.
  const usdc = (r: CloseReport) => Number(r.positions.USDC?.amount);
  expect(usdc(answer.before)).toBeCloseTo(-15000, 4);
  expect(usdc(answer.after) - usdc(answer.before)).toBeCloseTo(-400, 4);
  // Closing releases the position's requirement: maintenance health rises (the loss was
  // already counted in full before the close).
  expect(Number(answer.after.healthFactor)).toBeGreaterThan(Number(answer.before.healthFactor));
  expect(durable.engine.hash()).toBe(hash);
  // Another trader may not ask about Alice; a sub-account without the position is refused.
  expect((await post(app, '/v1/what-if', KEY.bob, body)).statusCode).toBe(403);
  const none = await post(app, '/v1/what-if', KEY.alice, { ...body, subAccount: 1 });
  expect(errorOf(none).code).toBe('no_position');
  const both = await post(app, '/v1/what-if', KEY.alice, {
    ...body,
    shock: { asset: 'ETH', move: '-0.1' },
  });
  expect(errorOf(both).code).toBe('invalid_field');
});
