/**
 * Quotes through a real NATS server: FULCRUM_NATS_URL, or the one at 127.0.0.1:4222 (CI starts
 * one). Messages published on `<subject>.<source>` move the prices; bad ones are dropped and
 * counted; the service survives its NATS server's restart (a server of the test's own, when
 * `nats-server` is installed).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { connect, type NatsConnection } from 'nats';
import { afterEach, describe, expect, test } from 'vitest';
import { get, KEY, startService, T0, type TestService, VENUE } from './helpers.js';

const url = process.env.FULCRUM_NATS_URL ?? 'nats://127.0.0.1:4222';
const subject = `fulcrum.test${process.pid}.quotes`;

async function reachable(): Promise<string | null> {
  try {
    const nc = await connect({ servers: url, reconnect: false, timeout: 2_000 });
    await nc.close();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const unreachable = await reachable();
const BTC = {
  type: 'list-asset',
  time: T0,
  config: {
    ...(VENUE[1] as { config: object }).config,
    symbol: 'BTC',
    decimals: 8,
    oracle: { quorum: 1 },
  },
  price: '30000',
};

let service: TestService | null = null;
let publisher: NatsConnection | null = null;
let natsServer: ChildProcess | null = null;
afterEach(async () => {
  await publisher?.close();
  await service?.close();
  natsServer?.kill('SIGKILL');
  publisher = null;
  service = null;
  natsServer = null;
});

async function start(natsUrl: string, queueMax = 10_000): Promise<TestService> {
  const config = { natsUrl, natsSubject: subject, natsSources: ['feed'], queueMax };
  return startService(config, [...VENUE, BTC]);
}

function publish(nc: NatsConnection, source: string, body: unknown): void {
  nc.publish(`${subject}.${source}`, typeof body === 'string' ? body : JSON.stringify(body));
}

async function btcPrice(s: TestService): Promise<string | undefined> {
  const prices = (await get(s.app, '/v1/prices', KEY.auditor)).json() as {
    assets: { asset: string; price: string }[];
  };
  return prices.assets.find((a) => a.asset === 'BTC')?.price;
}

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function dropped(s: TestService, outcome: string): Promise<number> {
  const metric = await s.metrics.natsMessages.get();
  return metric.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

if (unreachable !== null && process.env.CI !== 'true') {
  describe('NATS quotes', () => {
    test.skip(`skipped: no NATS server at ${url} (${unreachable}); set FULCRUM_NATS_URL`, () => {});
  });
} else {
  if (unreachable !== null) throw new Error(`CI needs NATS at ${url}: ${unreachable}`);

  test('quotes published on NATS move the prices; bad messages are dropped and counted', async () => {
    service = await start(url);
    publisher = await connect({ servers: url });
    publish(publisher, 'feed', { time: T0 + 5, quotes: [{ asset: 'BTC', price: '31000' }] });
    await until(async () => (await btcPrice(service as TestService)) === '31000');
    // An unknown source, bad JSON, a body the schema refuses, another source's name in a quote.
    publish(publisher, 'mallory', { time: T0 + 6, quotes: [{ asset: 'BTC', price: '1' }] });
    publish(publisher, 'feed', '{"time": ');
    publish(publisher, 'feed', { time: T0 + 6, quotes: [] });
    publish(publisher, 'feed', {
      time: T0 + 6,
      quotes: [{ asset: 'BTC', price: '1', source: 'binance' }],
    });
    publish(publisher, 'feed', { time: T0 + 7, quotes: [{ asset: 'BTC', price: '32000' }] });
    await until(async () => (await btcPrice(service as TestService)) === '32000');
    expect(await dropped(service, 'unknown_source')).toBe(1);
    expect(await dropped(service, 'invalid')).toBe(3);
    expect(await dropped(service, 'applied')).toBe(2);
    const metrics = await get(service.app, '/metrics', KEY.auditor);
    expect(metrics.body).toContain('fulcrum_nats_messages_total{outcome="unknown_source"} 1');
  });

  test('a push dated ahead of the clock is dropped, and time does not jump', async () => {
    service = await start(url);
    publisher = await connect({ servers: url });
    const ahead = Math.floor(Date.now() / 1000) + 86_400;
    publish(publisher, 'feed', { time: ahead, quotes: [{ asset: 'BTC', price: '1' }] });
    publish(publisher, 'feed', { time: T0 + 5, quotes: [{ asset: 'BTC', price: '31000' }] });
    await until(async () => (await btcPrice(service as TestService)) === '31000');
    expect(await dropped(service, 'invalid')).toBe(1);
  });

  test('a message past the queue bound is dropped and counted', async () => {
    service = await start(url, 100);
    publisher = await connect({ servers: url });
    // 64 quotes a message, 100 in the queue at most: messages that find it full are dropped.
    const quotes = Array.from({ length: 64 }, () => ({ asset: 'BTC', price: '30500' }));
    for (let i = 0; i < 400; i++) publish(publisher, 'feed', { time: T0 + 10, quotes });
    await publisher.flush();
    await until(async () => {
      const s = service as TestService;
      return (await dropped(s, 'applied')) + (await dropped(s, 'queue_full')) === 400;
    });
    expect(await dropped(service, 'queue_full')).toBeGreaterThan(0);
    expect(service.gateway.ready).toBe(true);
  });

  const natsBinary = spawnSync('nats-server', ['--version']).status === 0;
  test.skipIf(!natsBinary)(
    'the service survives a restart of its NATS server',
    async () => {
      const port = await freePort();
      const own = `nats://127.0.0.1:${port}`;
      natsServer = await startNats(port);
      service = await start(own);
      publisher = await connect({ servers: own });
      publish(publisher, 'feed', { time: T0 + 5, quotes: [{ asset: 'BTC', price: '31000' }] });
      await until(async () => (await btcPrice(service as TestService)) === '31000');
      await publisher.close();
      natsServer.kill('SIGKILL');
      await new Promise((resolve) => natsServer?.once('exit', resolve));
      natsServer = await startNats(port);
      publisher = await connect({ servers: own });
      // The service's client reconnects by itself (every second); publish until a quote lands.
      let time = T0 + 6;
      await until(async () => {
        publish(publisher as NatsConnection, 'feed', {
          time: time++,
          quotes: [{ asset: 'BTC', price: '33000' }],
        });
        await new Promise((resolve) => setTimeout(resolve, 200));
        return (await btcPrice(service as TestService)) === '33000';
      }, 15_000);
    },
    30_000,
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
    server.on('error', reject);
  });
}

async function startNats(port: number): Promise<ChildProcess> {
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const own = `nats://127.0.0.1:${port}`;
  await until(async () => {
    try {
      await (await connect({ servers: own, reconnect: false, timeout: 500 })).close();
      return true;
    } catch {
      return false;
    }
  });
  return child;
}
