/**
 * Proof of solvency in the browser, end to end: `fulcrum prove` on a small journal (ten assets;
 * ann, who borrows, lena, the lender, bob and five more depositors), the built service serving
 * that proof directory (FULCRUM_SOLVENCY_DIR) beside its demo venue, and the trader view in
 * Debian's Chromium verifying ann's bundle with the solvency verifier bundled by Vite. The routes' access rules
 * without a browser. The browser's verify time is printed (measured, not asserted). Needs
 * `npm run build`; skipped like test/web/console.test.ts without /usr/bin/chromium outside CI.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, hashKey } from '../../src/server/keys.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const runs = existsSync(CHROMIUM) || process.env.CI === 'true';

const keys = { viewer: generateKey(), ann: generateKey(), bob: generateKey() };
let server: ChildProcess;
let base = '';
let browser: Browser;
let folder = '';

const asset = (symbol: string, decimals: number, weight: string, price: string) =>
  JSON.stringify({
    type: 'list-asset',
    time: 1_700_000_000,
    config: {
      symbol,
      decimals,
      initialWeight: weight,
      maintenanceWeight: weight,
      liabilityWeight: '1',
    },
    price,
  });
const move = (type: string, time: number, account: string, symbol: string, amount: string) =>
  JSON.stringify({ type, time, account, asset: symbol, amount });

/** Ten assets, as the bench's figures; eight accounts, so that the tree has depth 3. */
const JOURNAL = [
  asset('USDC', 6, '0.85', '1'),
  asset('ETH', 18, '0.8', '2000'),
  ...Array.from({ length: 8 }, (_, i) => asset(`T${i}`, [18, 8, 6][i % 3] as number, '0.5', '3')),
  move('deposit', 1_700_000_060, 'lena', 'USDC', '100000'),
  move('deposit', 1_700_000_120, 'ann', 'ETH', '3'),
  move('borrow', 1_700_000_180, 'ann', 'USDC', '2500'),
  move('deposit', 1_700_000_240, 'bob', 'ETH', '1'),
  ...Array.from({ length: 5 }, (_, i) => move('deposit', 1_700_000_300, `u${i}`, `T${i}`, '10')),
].join('\n');

function cli(args: string[], input = ''): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), ...args], {
    input,
    encoding: 'utf8',
    timeout: 300_000,
  });
  expect(result.status, result.stderr).toBe(0);
}

async function startServer(): Promise<string> {
  const config = join(folder, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      keys: [
        { id: 'viewer', hash: hashKey(keys.viewer), role: 'read-only', accounts: ['*'] },
        { id: 'ann-desk', hash: hashKey(keys.ann), role: 'trader', accounts: ['ann', 'tom'] },
        { id: 'bob-desk', hash: hashKey(keys.bob), role: 'trader', accounts: ['bob'] },
      ],
    }),
  );
  const args = ['dist/cli/main.js', 'serve', '--demo', '--speed', '1', '--port', '0'];
  server = spawn(process.execPath, [...args, '--config', config, '--data', join(folder, 'data')], {
    cwd: ROOT,
    env: { ...process.env, FULCRUM_SOLVENCY_DIR: join(folder, 'proof') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    server.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Fulcrum demo: (http:\/\/[^ ]+)\/docs/.exec(out);
      if (match !== null) resolve(match[1] as string);
    });
    server.once('exit', (code) => reject(new Error(`fulcrum serve exited with ${code}: ${out}`)));
  });
}

const get = (path: string, key: string) =>
  fetch(base + path, { headers: { authorization: `Bearer ${key}` } });

describe.skipIf(!runs)('proof of solvency in the browser', () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/web/index.html')))
      throw new Error('the console is not built: run npm run build before the browser tests');
    folder = mkdtempSync(join(tmpdir(), 'fulcrum-solvency-web-'));
    cli(['run', '-', '--data', join(folder, 'journal')], JOURNAL);
    const secret = join(folder, 'secret');
    writeFileSync(secret, new Uint8Array(32).fill(9));
    const proof = ['--out', join(folder, 'proof'), '--secret-file', secret];
    cli(['prove', '--data', join(folder, 'journal'), ...proof]);
    base = await startServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    if (server !== undefined && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    if (folder !== '') rmSync(folder, { recursive: true, force: true });
  });

  it('serves the root to any key and a bundle only to a key that may read the account', async () => {
    const root = await get('/v1/solvency/statement', keys.bob);
    expect(root.status).toBe(200);
    const json = (await root.json()) as Record<string, unknown>;
    expect(json.format).toBe('fulcrum-solvency-statement/2');
    expect(json.backend).toBe('bulletproofs');
    expect(json).not.toHaveProperty('leaves');
    expect((await get('/v1/solvency/accounts/ann', keys.ann)).status).toBe(200);
    expect((await get('/v1/solvency/accounts/ann', keys.viewer)).status).toBe(200);
    expect((await get('/v1/solvency/accounts/ann', keys.bob)).status).toBe(403);
    expect((await get('/v1/solvency/accounts/tom', keys.ann)).status).toBe(404);
    expect((await get('/v1/solvency/accounts/..%2Fstatement', keys.viewer)).status).toBe(404);
    expect((await get('/v1/solvency/statement', 'not-a-key')).status).toBe(401);
  });

  it("verifies ann's inclusion in the browser, with the verifier Vite bundled", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${base}/console/`);
    await page.getByLabel('API key').fill(keys.ann);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Verify my inclusion' }).click();
    const verdict = page.locator('#solvency-result [data-verified]');
    await verdict.waitFor({ timeout: 120_000 });
    expect(await verdict.getAttribute('data-verified')).toBe('true');
    const lines = await page.locator('#solvency-result li').allTextContents();
    expect(lines).toEqual(['ann/0: included, at or above maintenance.']);
    const ms = Number(await verdict.getAttribute('data-ms'));
    expect(ms).toBeGreaterThan(0);
    console.log(
      `test/web/solvency: ann's bundle (10 assets, depth 3) verified in Chromium in ${ms} ms`,
    );
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});
