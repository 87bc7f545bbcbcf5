/**
 * The browser console against a service holding a million accounts (issue 18's figures):
 * - first render: from navigation (the key already in the tab) to the venue's totals, the
 *   prices and the first page of the sub-accounts nearest liquidation on screen;
 * - a price tick: from the moment the price is sent (`POST /v1/commands`, a `set-price`) to the
 *   new price drawn on screen.
 * The journal is seeded through the durable engine directly (HTTP would take far longer), a
 * snapshot taken, then the built service (`npm run build`: dist/cli and dist/web) started on
 * that folder as a child process and driven in Debian's Chromium by playwright-core.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { hashKey } from '../src/server/keys.js';
import { DurableEngine } from '../src/store/durableEngine.js';
import { SqliteStore } from '../src/store/sqliteStore.js';
import { type Measurement, median } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const CHROMIUM = '/usr/bin/chromium';
const ACCOUNTS = Number(process.env.BENCH_CONSOLE_ACCOUNTS ?? 1_000_000);
const RENDERS = 5;
const TICKS = 7;
const ADMIN = 'fk_bench-console-admin-00000000000000000000000';
const VIEWER = 'fk_bench-console-viewer-0000000000000000000000';
const T0 = 1_700_000_000;
const ETH = { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' };

/** The venue: USDC and ETH at 2000, a lender, and `accounts` accounts with 1 ETH, half borrowing. */
async function seed(dir: string, accounts: number): Promise<number> {
  const durable = await DurableEngine.open(new SqliteStore(dir), { snapshotWorker: null });
  const start = performance.now();
  try {
    const usdc = {
      ...ETH,
      symbol: 'USDC',
      decimals: 6,
      initialWeight: '0.9',
      maintenanceWeight: '0.95',
    };
    await durable.submitJson({ type: 'list-asset', time: T0, config: usdc, price: '1' });
    await durable.submitJson({ type: 'list-asset', time: T0, config: ETH, price: '2000' });
    const lend = {
      type: 'deposit',
      time: T0,
      account: 'lena',
      asset: 'USDC',
      amount: '1000000000000',
    };
    await durable.submitJson(lend);
    for (let i = 0; i < accounts; i++) {
      const account = `a${i}`;
      void durable.submitJson({ type: 'deposit', time: T0, account, asset: 'ETH', amount: '1' });
      if (i % 2 === 0) {
        // Debts of 1,000 to 1,599 USDC: maintenance health 1.03 to 1.65.
        const amount = String(1_000 + (i % 600));
        void durable.submitJson({ type: 'borrow', time: T0, account, asset: 'USDC', amount });
      }
      if (i % 1_000 === 999) await durable.backlogBelow(20_000);
    }
    await durable.flush();
    await durable.snapshot();
  } finally {
    await durable.close();
  }
  return (performance.now() - start) / 1_000;
}

async function serve(data: string, config: string): Promise<{ base: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--data', data, '--config', config], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FULCRUM_PORT: '0', FULCRUM_LOG_LEVEL: 'info' },
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const base = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const record = JSON.parse(line) as { msg?: string; port?: number };
      if (record.msg === 'serving') resolve(`http://127.0.0.1:${record.port}`);
    });
    lines.on('close', () => reject(new Error('the service stopped before it listened')));
  });
  return { base, child };
}

/** Milliseconds from navigation to the totals, the prices and the near-liquidation page. */
async function firstRender(browser: Browser, base: string): Promise<number> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.addInitScript(`sessionStorage.setItem('fulcrum.key', '${VIEWER}')`);
  const start = performance.now();
  await page.goto(`${base}/console/`);
  await page.locator('#total-collateral').waitFor();
  await page.locator('[data-price="ETH"]').waitFor();
  await page.locator('#near tbody tr:nth-child(10)').waitFor();
  const ms = performance.now() - start;
  await page.close();
  return ms;
}

/** Milliseconds from sending a price to the price on screen, for each of `TICKS` ticks. */
async function ticks(page: Page, base: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 1; i <= TICKS; i++) {
    const price = (2000 - i * 5).toFixed(2);
    const expected = JSON.stringify(
      Number(price).toLocaleString('en-US', { minimumFractionDigits: 2 }),
    );
    // In the page (a script, the bench has no DOM types): the moment the price cell shows it.
    await page.evaluate(`(() => {
      delete window.seenAt;
      const check = () => {
        const text = document.querySelector('[data-price="ETH"]')?.textContent;
        if (text === ${expected} && window.seenAt === undefined) window.seenAt = Date.now();
      };
      const target = document.querySelector('#prices tbody') ?? document.body;
      new MutationObserver(check).observe(target, { subtree: true, childList: true, characterData: true });
    })()`);
    const sent = Date.now();
    const reply = await fetch(`${base}/v1/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ type: 'set-price', time: T0 + 60 * i, asset: 'ETH', price }),
    });
    if (reply.status !== 200) throw new Error(`set-price refused: ${await reply.text()}`);
    // Polled with evaluate: a string predicate is compiled in the page, which the console's
    // policy (no 'unsafe-eval') refuses in Chromium 156.
    const seen = await seenAt(page);
    out.push(seen - sent);
    await page.waitForTimeout(1_500);
  }
  return out;
}

/** When the page saw the moved price (`window.seenAt`), polled every 5 ms for 30 s at most. */
async function seenAt(page: Page): Promise<number> {
  for (let waited = 0; waited < 30_000; waited += 5) {
    const seen = (await page.evaluate('window.seenAt')) as number | undefined;
    if (seen !== undefined) return seen;
    await page.waitForTimeout(5);
  }
  throw new Error('the moved price never reached the screen');
}

const figure = (name: string, ms: number): Measurement => ({
  name,
  perSecond: 1_000 / ms,
  nsPerOp: ms * 1e6,
  rounds: 1,
});

export async function consoleBenchmarks(): Promise<{ measurements: Measurement[]; note: string }> {
  if (!existsSync(CHROMIUM) || !existsSync(join(ROOT, 'dist/web/index.html'))) {
    return { measurements: [], note: `skipped: needs ${CHROMIUM} and npm run build (dist/web)` };
  }
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-console-bench-'));
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      keys: [
        { id: 'viewer', hash: hashKey(VIEWER), role: 'read-only', accounts: ['*'] },
        { id: 'ops', hash: hashKey(ADMIN), role: 'risk-admin' },
      ],
    }),
  );
  const seeded = await seed(join(dir, 'data'), ACCOUNTS);
  const bootStart = performance.now();
  const server = await serve(join(dir, 'data'), config);
  const boot = (performance.now() - bootStart) / 1_000;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const renders: number[] = [];
    for (let i = 0; i < RENDERS; i++) renders.push(await firstRender(browser, server.base));
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.addInitScript(`sessionStorage.setItem('fulcrum.key', '${VIEWER}')`);
    await page.goto(`${server.base}/console/`);
    await page.locator('.status[data-status="live"]').waitFor({ timeout: 60_000 });
    await page.locator('[data-price="ETH"]').waitFor();
    const tickMs = await ticks(page, server.base);
    const render = median(renders);
    const tick = median(tickMs);
    const fmt = (values: number[]) => values.map((v) => v.toFixed(0)).join(', ');
    const note = `${ACCOUNTS.toLocaleString('en')} accounts (${Math.ceil(ACCOUNTS / 2).toLocaleString('en')} with debt), seeded in ${seeded.toFixed(0)} s, service up in ${boot.toFixed(1)} s; first render ${render.toFixed(0)} ms median (each: ${fmt(renders)} ms; target 2,000 ms); price tick on screen ${tick.toFixed(0)} ms median, ${Math.max(...tickMs).toFixed(0)} ms worst (each: ${fmt(tickMs)} ms; target 500 ms)`;
    return {
      measurements: [
        figure('console first render, 1M accounts (1/ms)', render),
        figure('price tick to screen (1/ms)', tick),
      ],
      note,
    };
  } finally {
    await browser.close();
    server.child.kill('SIGTERM');
    await once(server.child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}
