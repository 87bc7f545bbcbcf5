/**
 * What `npm start` runs (`fulcrum serve --demo`, the built CLI): it boots on a fresh temporary
 * journal with the demo venue, prints the /docs URL and a read-only key, serves prices and
 * streams while the Black Thursday quotes replay, and stops with exit status 0 on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, expect, test } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

let child: ChildProcess | undefined;
afterEach(() => {
  if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

test('the demo boots, serves prices as the crash replays, and stops with SIGTERM', async () => {
  const demo = spawn(
    process.execPath,
    ['dist/cli/main.js', 'serve', '--demo', '--port', '0', '--speed', '36000'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child = demo;
  let errors = '';
  demo.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const lines: string[] = [];
  const reader = createInterface({ input: demo.stdout as NodeJS.ReadableStream });
  const ready = new Promise<{ docs: string; key: string }>((resolve, reject) => {
    let docs: string | undefined;
    reader.on('line', (line) => {
      lines.push(line);
      docs ??= /(http:\/\/\S+\/docs)/.exec(line)?.[1];
      const key = /read-only demo key: (fk_\S+)/.exec(line)?.[1];
      if (docs !== undefined && key !== undefined) resolve({ docs, key });
    });
    reader.on('close', () => reject(new Error(`stopped before it was ready: ${lines.join('\n')}`)));
  });
  const { docs, key } = await ready;
  const base = docs.slice(0, -'/docs'.length);
  expect((await fetch(docs)).status).toBe(200);
  const auth = { authorization: `Bearer ${key}` };
  // The replay moves prices through the quote path: wait for a day line, then read them.
  const deadline = Date.now() + 30_000;
  while (!lines.some((line) => line.startsWith('2020-03-06')) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const prices = (await (await fetch(`${base}/v1/prices`, { headers: auth })).json()) as {
    assets: { asset: string; grade: string; oracle: { sources: number } | null }[];
    instruments: { instrument: string }[];
  };
  expect(prices.assets.map((a) => a.asset)).toEqual(['USDC', 'ETH', 'BTC', 'USDC.base']);
  expect(prices.assets.find((a) => a.asset === 'ETH')?.oracle?.sources).toBe(3);
  expect(prices.instruments.map((i) => i.instrument)).toEqual(['ETH-PERP']);
  const folder = /the journal is in (\S+)\)/.exec(lines[0] ?? '')?.[1] ?? '';
  expect(existsSync(folder)).toBe(true);
  demo.kill('SIGTERM');
  const [code] = (await once(demo, 'exit')) as [number | null];
  expect(code, errors).toBe(0);
  // The temporary journal is removed when the demo stops.
  expect(existsSync(folder)).toBe(false);
}, 60_000);

test('a slow replay stops at once on SIGTERM: the wait for the next quote ends with it', async () => {
  // At speed 1 the next push is an hour of market time away; the stop may not wait for it.
  const demo = spawn(
    process.execPath,
    ['dist/cli/main.js', 'serve', '--demo', '--port', '0', '--speed', '1'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child = demo;
  const lines: string[] = [];
  const reader = createInterface({ input: demo.stdout as NodeJS.ReadableStream });
  await new Promise<void>((resolve, reject) => {
    reader.on('line', (line) => {
      lines.push(line);
      if (line.startsWith('replaying Black Thursday')) resolve();
    });
    reader.on('close', () => reject(new Error(`stopped before it was ready: ${lines.join('\n')}`)));
  });
  expect(lines.some((line) => /console: http:\/\/\S+\/console\//.test(line))).toBe(true);
  // Let the first pushes go, so the feed is waiting for the next one.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const stoppedAt = Date.now();
  demo.kill('SIGTERM');
  const [code] = (await once(demo, 'exit')) as [number | null];
  expect(code).toBe(0);
  expect(Date.now() - stoppedAt).toBeLessThan(10_000);
}, 60_000);
