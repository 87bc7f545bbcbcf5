/**
 * The WebSocket streams with real clients (`ws`) on a listening service: health pushed on
 * change with alerts at thresholds, authorization, resume after a dropped connection without
 * gap or duplicate (from memory and from the journal), and a slow client dropped at its bound.
 */
import { afterEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { ConfigFile } from '../../src/server/config.js';
import { CLOSE } from '../../src/server/streamClient.js';
import { KEY, post, startService, T0, type TestService, VENUE } from './helpers.js';

let service: TestService | undefined;
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const socket of clients.splice(0)) socket.terminate();
  await service?.close();
  service = undefined;
});

type Message = Record<string, unknown> & { type: string; seq?: number; index?: number };

/** A connected client recording every message; `closed` resolves with the close code. */
class Client {
  readonly messages: Message[] = [];
  readonly socket: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(url: string, key: string | null) {
    this.socket = new WebSocket(url, {
      headers: key === null ? {} : { authorization: `Bearer ${key}` },
    });
    clients.push(this.socket);
    this.socket.on('message', (data: Buffer) => {
      this.messages.push(JSON.parse(data.toString('utf8')) as Message);
    });
    this.closed = new Promise((resolve) => {
      this.socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  async waitFor(check: (m: Message) => boolean, what = 'a message'): Promise<Message> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = this.messages.find(check);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no ${what} in ${JSON.stringify(this.messages)}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  events(): Message[] {
    return this.messages.filter((m) => m.type === 'event');
  }
}

async function listening(overrides: ConfigFile = {}): Promise<string> {
  service = await startService(overrides);
  await service.app.listen({ port: 0, host: '127.0.0.1' });
  const address = service.app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return `ws://127.0.0.1:${address.port}/v1/stream`;
}

async function subscribed(url: string, key: string, subscribe: Record<string, unknown>) {
  const client = new Client(url, key);
  await client.opened;
  client.send({ type: 'subscribe', ...subscribe });
  await client.waitFor((m) => m.type === 'live', 'live');
  return client;
}

async function command(body: Record<string, unknown>): Promise<number> {
  const reply = await post((service as TestService).app, '/v1/commands', KEY.admin, body);
  expect(reply.statusCode, reply.body).toBe(200);
  return (reply.json() as { seq: number }).seq;
}

const deposit = (i: number) => ({
  type: 'deposit',
  time: T0 + i,
  account: 'lena',
  asset: 'USDC',
  amount: '1',
});

/** (seq, index) pairs of a list of event messages, as text. */
const positions = (messages: readonly Message[]) => messages.map((m) => `${m.seq}:${m.index}`);

test('health is pushed when it changes, with an alert at a threshold the trader set', async () => {
  const url = await listening();
  const alice = await subscribed(url, KEY.alice, {
    channels: ['accounts'],
    accounts: [{ account: 'alice', subAccount: 0 }],
    thresholds: ['1.05'],
  });
  // 10 ETH at 2000 (maintenance weight 0.825) against 15,000 USDC: 16,500 / 15,000.
  const first = await alice.waitFor((m) => m.type === 'health', 'health');
  expect(first).toMatchObject({ account: 'alice', subAccount: 0, channel: 'accounts' });
  expect((first.health as { healthFactor: string }).healthFactor).toMatch(/^1\.1/);
  // Another trader's deposit at the same time does not change Alice's health: nothing is pushed.
  await command({ type: 'deposit', time: T0, account: 'bob', asset: 'USDC', amount: '5' });
  const seq = await command({ type: 'set-price', time: T0 + 2, asset: 'ETH', price: '1900' });
  const alert = await alice.waitFor((m) => m.type === 'alert', 'alert');
  expect(alert).toMatchObject({ seq, threshold: '1.05', direction: 'below', account: 'alice' });
  const healths = alice.messages.filter((m) => m.type === 'health');
  expect(healths).toHaveLength(2);
  expect((healths[1]?.health as { healthFactor: string }).healthFactor).toMatch(/^1\.04/);
  // Alice's own events reach her accounts channel; Bob's do not.
  await command({ type: 'deposit', time: T0 + 3, account: 'alice', asset: 'ETH', amount: '1' });
  const event = await alice.waitFor((m) => m.type === 'event', 'event');
  expect(event.event).toMatchObject({ type: 'deposited', account: 'alice' });
  expect(alice.events().every((m) => (m.event as { account: string }).account === 'alice')).toBe(
    true,
  );
});

test('authorization: own accounts only, venue channels by role, unknown keys refused', async () => {
  const url = await listening();
  const refused = async (key: string, subscribe: Record<string, unknown>) => {
    const client = new Client(url, key);
    await client.opened;
    client.send({ type: 'subscribe', ...subscribe });
    const { code } = await client.closed;
    const error = client.messages.find((m) => m.type === 'error');
    return { code, error: error?.code };
  };
  const other = { channels: ['accounts'], accounts: [{ account: 'bob' }] };
  expect(await refused(KEY.alice, other)).toEqual({ code: CLOSE.forbidden, error: 'forbidden' });
  expect(await refused(KEY.aliceViewer, other)).toMatchObject({ code: CLOSE.forbidden });
  expect(await refused(KEY.alice, { channels: ['events'] })).toMatchObject({ code: 4403 });
  expect(await refused(KEY.bob, { channels: ['liquidations'] })).toMatchObject({ code: 4403 });
  expect(await refused(KEY.feed, { channels: ['accounts'] })).toMatchObject({ code: 4403 });
  expect(await refused(KEY.alice, { channels: ['nope'] })).toEqual({
    code: CLOSE.badMessage,
    error: 'bad_message',
  });
  // A read-only key with "*" may watch anyone; a liquidator sees liquidations.
  await subscribed(url, KEY.auditor, { channels: ['accounts'], accounts: [{ account: 'bob' }] });
  await subscribed(url, KEY.liquidator, { channels: ['liquidations', 'prices'] });
  // An unknown key in the header is refused before the upgrade.
  const unknown = new Client(url, 'test-key-nobody-000000000000000000000000');
  await expect(unknown.opened).rejects.toThrow(/401/);
  // Or in an auth message: closed with 4401; a known one is taken.
  const byMessage = new Client(url, null);
  await byMessage.opened;
  byMessage.send({ type: 'auth', key: 'test-key-nobody-000000000000000000000000' });
  expect((await byMessage.closed).code).toBe(CLOSE.unauthenticated);
  const noAuth = new Client(url, null);
  await noAuth.opened;
  noAuth.send({ type: 'subscribe', channels: ['prices'] });
  expect((await noAuth.closed).code).toBe(CLOSE.unauthenticated);
  const good = new Client(url, null);
  await good.opened;
  // Sent at once, in one write: neither is lost.
  good.send({ type: 'auth', key: KEY.auditor });
  good.send({ type: 'subscribe', channels: ['events'] });
  await good.waitFor((m) => m.type === 'authenticated');
  await good.waitFor((m) => m.type === 'live');
  // The gauge counts the open connections.
  const metrics = await (service as TestService).metrics.registry.getSingleMetricAsString(
    'fulcrum_websocket_clients',
  );
  expect(metrics).toMatch(/fulcrum_websocket_clients [1-9]/);
});

test('a dropped connection resumes from its last position: no gap, no duplicate', async () => {
  const url = await listening();
  const witness = await subscribed(url, KEY.admin, { channels: ['events'] });
  const first = await subscribed(url, KEY.auditor, { channels: ['events'] });
  let last = 0;
  const running = (async () => {
    for (let i = 1; i <= 60; i++) last = await command(deposit(i));
  })();
  await first.waitFor((m) => m.type === 'event' && (m.seq ?? 0) > 10, 'seq 10');
  first.socket.terminate();
  await first.closed;
  const held = first.events();
  const end = held.at(-1) as Message;
  // Commands went on meanwhile; resume from the last event held.
  const second = await subscribed(url, KEY.auditor, {
    channels: ['events'],
    from: end.seq,
    index: end.index,
  });
  await running;
  await second.waitFor((m) => m.type === 'event' && m.seq === last, `seq ${last}`);
  await witness.waitFor((m) => m.type === 'event' && m.seq === last, `witness ${last}`);
  const joined = [...positions(held), ...positions(second.events())];
  expect(new Set(joined).size).toBe(joined.length);
  expect(joined).toEqual(positions(witness.events()));
});

test('a resume older than the ring is served from the journal; a future one is refused', async () => {
  const url = await listening({ streamRingEvents: 4 });
  for (let i = 1; i <= 20; i++) await command(deposit(i));
  const hub = (service as TestService).streams;
  expect(hub.ringFrom).toBeGreaterThan(10);
  const resumed = await subscribed(url, KEY.auditor, { channels: ['events'], from: 3 });
  const seqs = [...new Set(resumed.events().map((m) => m.seq as number))];
  const lastSeq = (service as TestService).durable.lastSeq;
  // Every record after 3 has events (the venue's last three, then the twenty deposits).
  expect(seqs).toEqual(Array.from({ length: lastSeq - 3 }, (_, i) => i + 4));
  // The same events, in the same order, as a client that was there all along would have.
  const history = await (service as TestService).durable.store.readRecords(3, 1_000);
  const expected = history.flatMap((r) =>
    (JSON.parse(r.events) as unknown[]).map((_, index) => `${r.seq}:${index}`),
  );
  expect(positions(resumed.events())).toEqual(expected);
  const ahead = new Client(url, KEY.auditor);
  await ahead.opened;
  ahead.send({ type: 'subscribe', channels: ['events'], from: lastSeq + 5 });
  expect((await ahead.closed).code).toBe(CLOSE.resumeUnavailable);
  expect(ahead.messages.find((m) => m.type === 'error')?.code).toBe('resume_ahead');
  // A journal that no longer holds the resume point (as one pruned before 10 would be).
  const store = (service as TestService).durable.store;
  const readRecords = store.readRecords.bind(store);
  store.readRecords = (after, limit) => readRecords(Math.max(after, 10), limit);
  const gone = new Client(url, KEY.auditor);
  await gone.opened;
  gone.send({ type: 'subscribe', channels: ['events'], from: 3 });
  expect((await gone.closed).code).toBe(CLOSE.resumeUnavailable);
  const error = gone.messages.find((m) => m.type === 'error');
  expect(error).toMatchObject({ code: 'resume_unavailable' });
  expect(gone.events()).toEqual([]);
});

test('a client that does not read is dropped with 4413; the server stays within its bound', async () => {
  const bound = 16_384;
  const url = await listening({ streamSendBufferBytes: bound });
  const slow = await subscribed(url, KEY.auditor, { channels: ['events'] });
  const fast = await subscribed(url, KEY.admin, { channels: ['events'] });
  // The slow client stops reading: its kernel buffers fill, then the server's send buffer.
  (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
  const hub = (service as TestService).streams;
  const listing = { ...(VENUE[1] as { config: object }).config, symbol: 'BTC', decimals: 8 };
  await command({
    type: 'list-asset',
    time: T0,
    config: { ...listing, oracle: { quorum: 1 } },
    price: '30000',
  });
  const quotes = Array.from({ length: 64 }, (_, i) => ({ asset: 'BTC', price: `${30000 + i}` }));
  let time = T0 + 1;
  while (hub.clients > 1 && time < T0 + 3_000) {
    const reply = await post((service as TestService).app, '/v1/quotes', KEY.admin, {
      time: time++,
      quotes: quotes.map((q) => ({ ...q, source: 'bench' })),
    });
    expect(reply.statusCode, reply.body).toBe(200);
  }
  expect(hub.clients).toBe(1);
  (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
  const { code } = await slow.closed;
  expect(code).toBe(CLOSE.slowClient);
  expect(hub.peakBuffered).toBeLessThanOrEqual(bound);
  // The reading client is still served.
  await fast.waitFor(
    (m) => m.type === 'event' && m.seq === (service as TestService).durable.lastSeq,
  );
}, 60_000);

test('connections are bounded per key and in all', async () => {
  const url = await listening({ streamClientsPerKey: 1, streamClientsMax: 2 });
  await subscribed(url, KEY.auditor, { channels: ['prices'] });
  const second = new Client(url, KEY.auditor);
  await second.opened;
  second.send({ type: 'subscribe', channels: ['prices'] });
  expect((await second.closed).code).toBe(CLOSE.tooManyForKey);
  await subscribed(url, KEY.admin, { channels: ['prices'] });
  const third = new Client(url, KEY.bob);
  await third.opened;
  expect((await third.closed).code).toBe(CLOSE.full);
  expect(third.messages[0]).toMatchObject({ type: 'error', code: 'streams_full' });
});
