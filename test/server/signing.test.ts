/**
 * ed25519-signed requests: a key configured with a public key must sign; valid, expired,
 * replayed, tampered and wrongly keyed requests, each refusal with its code and nothing applied.
 */
import {
  createHash,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { afterEach, expect, test } from 'vitest';
import { hashKey } from '../../src/server/keys.js';
import { publicKeyOf, signedText } from '../../src/server/signing.js';
import { errorOf, KEYS, startService, T0, type TestService } from './helpers.js';

const SIGNER = 'test-key-signing-admin-00000000000000000';
const pair = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const raw = (key: KeyObject) => key.export({ format: 'jwk' }).x as string;

let service: TestService | null = null;
afterEach(async () => {
  await service?.close();
  service = null;
});

async function start(): Promise<TestService> {
  const entry = {
    id: 'signer',
    hash: hashKey(SIGNER),
    role: 'risk-admin' as const,
    accounts: ['*'],
    publicKey: `ed25519:${raw(pair.publicKey)}`,
  };
  return startService({ keys: [...KEYS, entry], signatureWindowSeconds: 30 });
}

interface Signed {
  readonly body?: string;
  readonly timestamp?: number;
  readonly nonce?: string;
  readonly key?: KeyObject;
  /** The body actually sent, when it differs from the one signed. */
  readonly sent?: string;
}

function headers(method: string, path: string, o: Signed): Record<string, string> {
  const timestamp = String(o.timestamp ?? Math.floor(Date.now() / 1_000));
  const nonce = o.nonce ?? randomBytes(16).toString('base64url');
  const text = signedText(method, path, timestamp, nonce, o.body ?? '');
  const signature = sign(null, Buffer.from(text), o.key ?? pair.privateKey).toString('base64');
  return {
    authorization: `Bearer ${SIGNER}`,
    'x-fulcrum-timestamp': timestamp,
    'x-fulcrum-nonce': nonce,
    'x-fulcrum-signature': signature,
  };
}

const deposit = (amount: string) =>
  JSON.stringify({ type: 'deposit', time: T0, account: 'carol', asset: 'USDC', amount });

async function send(s: TestService, o: Signed) {
  return s.app.inject({
    method: 'POST',
    url: '/v1/commands',
    headers: { 'content-type': 'application/json', ...headers('POST', '/v1/commands', o) },
    payload: o.sent ?? o.body ?? '',
  });
}

test('a signed request is taken; expired, replayed, tampered, wrong-key and unsigned ones are not', async () => {
  service = await start();
  const s = service;
  const body = deposit('10');
  const nonce = randomBytes(18).toString('base64url');
  const ok = await send(s, { body, nonce });
  expect(ok.statusCode, ok.body).toBe(200);
  const hash = () => s.durable.engine.hash();
  const before = hash();
  const cases: [string, Signed | null, number, string][] = [
    ['replayed', { body, nonce }, 401, 'replayed'],
    ['expired', { body, timestamp: Math.floor(Date.now() / 1_000) - 31 }, 401, 'signature_expired'],
    ['future', { body, timestamp: Math.floor(Date.now() / 1_000) + 31 }, 401, 'signature_expired'],
    ['tampered body', { body, sent: deposit('1000') }, 401, 'invalid_signature'],
    ['wrong key', { body, key: other.privateKey }, 401, 'invalid_signature'],
    ['bad nonce', { body, nonce: 'short' }, 401, 'invalid_signature'],
  ];
  for (const [name, o, status, code] of cases) {
    const reply = await send(s, o as Signed);
    expect(reply.statusCode, name).toBe(status);
    expect(errorOf(reply).code, name).toBe(code);
  }
  const unsigned = await s.app.inject({
    method: 'POST',
    url: '/v1/commands',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SIGNER}` },
    payload: body,
  });
  expect(unsigned.statusCode).toBe(401);
  expect(errorOf(unsigned).code).toBe('signature_required');
  expect(hash()).toBe(before);
  // A GET signs the path with its query and an empty body; a signature for another path fails.
  const path = '/v1/history?limit=1';
  const read = await s.app.inject({ method: 'GET', url: path, headers: headers('GET', path, {}) });
  expect(read.statusCode, read.body).toBe(200);
  const elsewhere = await s.app.inject({
    method: 'GET',
    url: '/v1/history?limit=2',
    headers: headers('GET', path, {}),
  });
  expect(errorOf(elsewhere).code).toBe('invalid_signature');
});

test("docs/SERVER.md's worked example verifies", () => {
  const body =
    '{"type":"deposit","time":1700000000,"account":"alice","asset":"USDC","amount":"100"}';
  const digest = createHash('sha256').update(body).digest('hex');
  expect(digest).toBe('2d1f508717c4980ced4c3888c72f5171984a3c621bcb76762402fb1ccc8d4438');
  const text = signedText('POST', '/v1/commands', '1700000000', 'q7Jc1xv0aT3mN8pLw2Rz', body);
  expect(text).toBe(`POST\n/v1/commands\n1700000000\nq7Jc1xv0aT3mN8pLw2Rz\n${digest}`);
  const key = publicKeyOf('ed25519:6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw');
  const signature =
    'GYpS5FnONQLWWjIn+V1UGxjvROZiugXsboZzp46lMUgN7VM714IOHL8Xp3oy/cUjzCts3mmo/+EI0raWeEfcCA==';
  expect(verify(null, Buffer.from(text), key, Buffer.from(signature, 'base64'))).toBe(true);
});
