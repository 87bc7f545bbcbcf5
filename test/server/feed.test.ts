/**
 * `fulcrum feed`: price files played into a listening service over HTTP at a chosen speed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { feed, feedCommand } from '../../src/server/feed.js';
import { get, KEY, startService, type TestService } from './helpers.js';

const BARS = 12;
const FIRST = Date.parse('2020-03-05T00:00:00Z') / 1_000;

let service: TestService | null = null;
let dir = '';
afterEach(async () => {
  await service?.close();
  service = null;
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** The first BARS hours of two of examples/data's ETH files, under their own names. */
function priceFiles(): string[] {
  dir = mkdtempSync(join(tmpdir(), 'fulcrum-feed-'));
  return ['binance-spot_ETHUSDT_1h.csv', 'gemini_ETHUSD_1h.csv'].map((name) => {
    const text = readFileSync(new URL(`../../examples/data/${name}`, import.meta.url), 'utf8');
    const path = join(dir, name);
    writeFileSync(
      path,
      `${text
        .split('\n')
        .slice(0, BARS + 1)
        .join('\n')}\n`,
    );
    return path;
  });
}

const ETH = {
  type: 'list-asset',
  time: FIRST - 60,
  config: {
    symbol: 'ETH',
    decimals: 18,
    initialWeight: '0.8',
    maintenanceWeight: '0.825',
    liabilityWeight: '1',
    oracle: { quorum: 2, maxStalenessSeconds: 3_600, maxDeviation: '0.1' },
  },
  price: '224',
};

test('fulcrum feed plays price files into a running service at the chosen speed', async () => {
  service = await startService({}, [ETH]);
  const address = await service.app.listen({ port: 0, host: '127.0.0.1' });
  const files = priceFiles();
  const speed = BARS * 3_600 * 1.5; // the window in about 0.7 s
  const start = Date.now();
  const summary = await feed({ url: address, key: KEY.admin, files, speed });
  const elapsed = Date.now() - start;
  expect(summary).toEqual({ pushes: 2 * BARS * 4, quotesAccepted: 2 * BARS * 4, quotesRefused: 0 });
  // Paced: the last push is (BARS hours - 1 s) of market time after the first.
  expect(elapsed).toBeGreaterThanOrEqual((((BARS * 3_600 - 1) * 1_000) / speed) * 0.9);
  const prices = (await get(service.app, '/v1/prices', KEY.auditor)).json() as {
    assets: { asset: string; price: string; oracle: { sources: number } | null }[];
  };
  const eth = prices.assets.find((a) => a.asset === 'ETH');
  expect(eth?.oracle?.sources).toBe(2);
  expect(eth?.price).not.toBe('224');
  // The command line: a price-source key that is not the files' source is refused (exit 1).
  const lines: string[] = [];
  const bad = feedCommand(['--url', address, '--key', KEY.feed, '--prices', files[0] as string]);
  expect(await bad).toBe(1);
  expect(await feedCommand(['--help'], (line) => lines.push(line))).toBe(0);
  expect(lines[0]).toContain('fulcrum feed');
});
