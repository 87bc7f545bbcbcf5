/**
 * Hostile bodies and parameters: each is refused with a 4xx, a stable code and a one-line
 * reason, and leaves the state (its hash) as it was.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { errorOf, get, KEY, post, startService, T0, type TestService } from './helpers.js';

let service: TestService;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service.close();
});

const deposit = { type: 'deposit', time: T0, account: 'alice', asset: 'ETH', amount: '1' };
const json = (value: unknown) => JSON.stringify(value);

/** [name, url, body text, status, code] */
const CASES: readonly [string, string, string, number, string][] = [
  ['malformed JSON', '/v1/commands', '{"type":"deposit",', 400, 'invalid_json'],
  ['a trailing comma', '/v1/commands', '{"type":"deposit","time":1,}', 400, 'invalid_json'],
  ['an empty body', '/v1/commands', '', 400, 'invalid_json'],
  ['only spaces', '/v1/commands', '   ', 400, 'invalid_json'],
  ['an array', '/v1/commands', '[]', 400, 'invalid_field'],
  ['a string', '/v1/commands', '"deposit"', 400, 'invalid_field'],
  ['null', '/v1/commands', 'null', 400, 'invalid_field'],
  [
    'a repeated key',
    '/v1/commands',
    '{"type":"deposit","time":1700000000,"account":"alice","asset":"ETH","amount":"1","amount":"1000000"}',
    400,
    'invalid_json',
  ],
  [
    'an unknown command type',
    '/v1/commands',
    json({ ...deposit, type: 'mint' }),
    400,
    'invalid_field',
  ],
  ['no type', '/v1/commands', json({ time: T0 }), 400, 'invalid_field'],
  ['a negative time', '/v1/commands', json({ ...deposit, time: -1 }), 400, 'invalid_field'],
  [
    'a huge time',
    '/v1/commands',
    '{"type":"deposit","time":1e400,"account":"alice","asset":"ETH","amount":"1"}',
    400,
    'invalid_field',
  ],
  ['a fractional time', '/v1/commands', json({ ...deposit, time: 1.5 }), 400, 'invalid_field'],
  [
    'a time as text',
    '/v1/commands',
    json({ ...deposit, time: '1700000000' }),
    400,
    'invalid_field',
  ],
  ['an unknown field', '/v1/commands', json({ ...deposit, evil: true }), 400, 'invalid_field'],
  [
    'a __proto__ field',
    '/v1/commands',
    '{"type":"deposit","time":1700000000,"account":"alice","asset":"ETH","amount":"1","__proto__":{"admin":true}}',
    400,
    'invalid_field',
  ],
  ['an amount as a number', '/v1/commands', json({ ...deposit, amount: 1 }), 400, 'invalid_number'],
  [
    'a huge amount number',
    '/v1/commands',
    '{"type":"deposit","time":1700000000,"account":"alice","asset":"ETH","amount":1e308}',
    400,
    'invalid_number',
  ],
  [
    'a huge amount',
    '/v1/commands',
    json({ ...deposit, amount: '9'.repeat(99) }),
    400,
    'invalid_number',
  ],
  [
    'an amount of 200 digits',
    '/v1/commands',
    json({ ...deposit, amount: '9'.repeat(200) }),
    400,
    'invalid_number',
  ],
  ['NaN', '/v1/commands', json({ ...deposit, amount: 'NaN' }), 400, 'invalid_number'],
  ['Infinity', '/v1/commands', json({ ...deposit, amount: 'Infinity' }), 400, 'invalid_number'],
  ['-Infinity', '/v1/commands', json({ ...deposit, amount: '-Infinity' }), 400, 'invalid_number'],
  ['a negative amount', '/v1/commands', json({ ...deposit, amount: '-1' }), 400, 'invalid_number'],
  [
    'a hexadecimal amount',
    '/v1/commands',
    json({ ...deposit, amount: '0x10' }),
    400,
    'invalid_number',
  ],
  ['an exponent', '/v1/commands', json({ ...deposit, amount: '1e3' }), 400, 'invalid_number'],
  ['a padded amount', '/v1/commands', json({ ...deposit, amount: ' 1' }), 400, 'invalid_number'],
  [
    'too many decimals',
    '/v1/commands',
    json({ ...deposit, amount: '0.0000000000000000001' }),
    400,
    'too_many_decimals',
  ],
  [
    'a control character in an id',
    '/v1/commands',
    json({ ...deposit, account: 'al\nice' }),
    400,
    'invalid_field',
  ],
  [
    'a long account id',
    '/v1/commands',
    json({ ...deposit, account: 'a'.repeat(10_000) }),
    400,
    'invalid_field',
  ],
  [
    'deep nesting',
    '/v1/commands',
    `{"type":"deposit","x":${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
    400,
    'invalid_json',
  ],
  [
    'nesting past the limit',
    '/v1/commands',
    `${'{"a":'.repeat(9)}1${'}'.repeat(9)}`,
    400,
    'invalid_json',
  ],
  [
    'a what-if with an unknown field',
    '/v1/what-if',
    json({ shock: { asset: 'ETH', move: '-0.2' }, evil: 1 }),
    400,
    'invalid_field',
  ],
  [
    'a what-if with both',
    '/v1/what-if',
    json({ command: deposit, shock: { asset: 'ETH', move: '-0.2' } }),
    400,
    'invalid_field',
  ],
  ['a what-if with neither', '/v1/what-if', json({}), 400, 'invalid_field'],
  [
    'a shock of NaN',
    '/v1/what-if',
    json({ shock: { asset: 'ETH', move: 'NaN' } }),
    400,
    'invalid_number',
  ],
  [
    'a shock of -100%',
    '/v1/what-if',
    json({ shock: { asset: 'ETH', move: '-1' } }),
    400,
    'invalid_number',
  ],
  [
    'a shock of a huge move',
    '/v1/what-if',
    json({ shock: { asset: 'ETH', move: '1'.repeat(39) } }),
    400,
    'invalid_number',
  ],
  [
    'a shock on an unknown asset',
    '/v1/what-if',
    json({ shock: { asset: 'DOGE', move: '0.1' } }),
    422,
    'unknown_asset',
  ],
  [
    'a shock with a number move',
    '/v1/what-if',
    json({ shock: { asset: 'ETH', move: -0.2 } }),
    400,
    'invalid_field',
  ],
];

for (const [name, url, body, status, code] of CASES) {
  test(`${name}: ${status} ${code}`, async () => {
    const hash = service.durable.engine.hash();
    const reply = await post(service.app, url, KEY.admin, body);
    expect(reply.statusCode, reply.body).toBe(status);
    expect(errorOf(reply).code).toBe(code);
    expect(service.durable.engine.hash()).toBe(hash);
  });
}

test('an oversized body: 413, nothing read', async () => {
  const hash = service.durable.engine.hash();
  const seq = service.durable.lastSeq;
  const reply = await post(service.app, '/v1/commands', KEY.admin, {
    ...deposit,
    account: 'x'.repeat(70_000),
  });
  expect(reply.statusCode).toBe(413);
  expect(errorOf(reply).code).toBe('body_too_large');
  expect(service.durable.engine.hash()).toBe(hash);
  expect(service.durable.lastSeq).toBe(seq);
});

test('a body that is not JSON: 415', async () => {
  const reply = await service.app.inject({
    method: 'POST',
    url: '/v1/commands',
    headers: { authorization: `Bearer ${KEY.admin}`, 'content-type': 'text/plain' },
    payload: json(deposit),
  });
  expect(reply.statusCode).toBe(415);
  expect(errorOf(reply).code).toBe('unsupported_media_type');
});

test('an unauthenticated hostile body is refused before it is read: 401', async () => {
  const reply = await post(service.app, '/v1/commands', null, '{"type":');
  expect(reply.statusCode).toBe(401);
});

test('hostile parameters: 400 with a code', async () => {
  const cases: [string, string][] = [
    ['/v1/accounts/alice/sub-accounts/256', 'invalid_field'],
    ['/v1/accounts/alice/sub-accounts/x', 'invalid_field'],
    ['/v1/accounts/alice/sub-accounts/01', 'invalid_field'],
    [`/v1/accounts/${'a'.repeat(65)}/sub-accounts/0`, 'invalid_field'],
    ['/v1/accounts/al%0Aice/sub-accounts/0', 'invalid_field'],
    ['/v1/liquidatable?limit=0', 'invalid_field'],
    ['/v1/liquidatable?limit=1001', 'invalid_field'],
    ['/v1/liquidatable?limit=-1', 'invalid_field'],
    ['/v1/liquidatable?limit=1e3', 'invalid_field'],
    ['/v1/liquidatable?cursor=!!!', 'invalid_field'],
    ['/v1/liquidatable?cursor=eyJhIjoxfQ', 'invalid_field'],
    ['/v1/liquidatable?evil=1', 'invalid_field'],
    ['/v1/history?cursor=WzFd', 'invalid_field'],
    ['/v1/history?limit=100000', 'invalid_field'],
  ];
  for (const [url, code] of cases) {
    const reply = await get(service.app, url, KEY.admin);
    expect(reply.statusCode, url).toBe(400);
    expect(errorOf(reply).code, url).toBe(code);
  }
});

test('an unknown route: 404 with a code', async () => {
  const reply = await get(service.app, '/v1/nothing', KEY.admin);
  expect(reply.statusCode).toBe(404);
  expect(errorOf(reply).code).toBe('not_found');
});

test('a refusal by the engine is journaled as refused, and changes nothing', async () => {
  const hash = service.durable.engine.hash();
  const reply = await post(service.app, '/v1/commands', KEY.alice, {
    type: 'borrow',
    time: T0,
    account: 'alice',
    asset: 'USDC',
    amount: '1000000',
  });
  expect(reply.statusCode).toBe(422);
  const body = reply.json() as { ok: boolean; seq: number; error: { code: string } };
  expect(body.ok).toBe(false);
  expect(body.error.code).toBe('insufficient_collateral');
  expect(body.seq).toBe(service.durable.durableSeq);
  expect(service.durable.engine.hash()).toBe(hash);
});
