/**
 * The browser console end to end: the built service (`npm run build`) with a demo venue on a
 * temporary folder, driven in Debian's Chromium by playwright-core. Skipped, with a message, when
 * /usr/bin/chromium is missing outside CI; under CI=true it must run (.ci/run installs it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, hashKey } from '../../src/server/keys.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const IMAGES = join(ROOT, 'docs/images');
const runs = existsSync(CHROMIUM) || process.env.CI === 'true';
if (!runs) {
  console.log(
    `test/web: ${CHROMIUM} is missing (apt-get install -y chromium): the browser tests are skipped; under CI=true they run`,
  );
}

const keys = {
  viewer: generateKey(),
  admin: generateKey(),
  ann: generateKey(),
};
const SOURCES = ['binance-spot', 'binance-usdm', 'gemini'];

let server: ChildProcess;
let base = '';
let browser: Browser;
let folder = '';

async function startServer(): Promise<string> {
  if (!existsSync(join(ROOT, 'dist/web/index.html'))) {
    throw new Error('the console is not built: run npm run build before the browser tests');
  }
  folder = mkdtempSync(join(tmpdir(), 'fulcrum-web-'));
  const config = join(folder, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      keys: [
        { id: 'viewer', hash: hashKey(keys.viewer), role: 'read-only', accounts: ['*'] },
        { id: 'ops', hash: hashKey(keys.admin), role: 'risk-admin' },
        { id: 'ann-desk', hash: hashKey(keys.ann), role: 'trader', accounts: ['ann', 'tom'] },
      ],
    }),
  );
  // Speed 1: the replay stands still (its next quote is an hour away); the test moves prices.
  const args = ['dist/cli/main.js', 'serve', '--demo', '--speed', '1', '--port', '0'];
  server = spawn(process.execPath, [...args, '--config', config, '--data', join(folder, 'data')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    server.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Fulcrum demo: (http:\/\/[^ ]+)\/docs/.exec(out);
      if (match !== null) resolve(match[1] as string);
    });
    server.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    server.once('exit', (code) => reject(new Error(`fulcrum serve exited with ${code}: ${out}`)));
  });
}

async function rest<T>(path: string, key: string, body?: unknown): Promise<T> {
  const response = await fetch(base + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.status, `${path}: ${response.status}`).toBe(200);
  return (await response.json()) as T;
}

/** Every price source quotes ETH at `factor` times its price, a minute after the venue's time. */
async function moveEth(factor: number): Promise<string> {
  const prices = await rest<{ time: number; assets: { asset: string; price: string }[] }>(
    '/v1/prices',
    keys.admin,
  );
  const eth = Number(prices.assets.find((a) => a.asset === 'ETH')?.price);
  const price = (eth * factor).toFixed(2);
  const quotes = SOURCES.map((source) => ({ asset: 'ETH', price, source }));
  await rest('/v1/quotes', keys.admin, { time: prices.time + 60, quotes });
  return price;
}

/** A page whose script errors and console errors (a refused policy among them) are kept. */
async function newPage(width: number, height: number): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    // The refusals a test asks for (a wrong key, another trader's account) are not errors.
    const refused = /status of 40[13] /.test(message.text());
    if (message.type() === 'error' && !refused) errors.push(message.text());
  });
  return { page, errors };
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${base}/console/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.status[data-status="live"]').waitFor();
}

/** Inputs and selects without a label (by `for`, wrapping or aria-label). */
const UNLABELLED = `[...document.querySelectorAll('input, select')]
  .filter((e) => e.labels.length === 0 && !e.getAttribute('aria-label'))
  .map((e) => e.id || e.outerHTML)`;

/** The WCAG contrast ratio of an element's text against the page's background. */
const CONTRAST = (selector: string) => `(() => {
  const rgb = (text) => text.match(/[0-9.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const fg = lum(rgb(getComputedStyle(document.querySelector(${JSON.stringify(selector)})).color));
  const bg = lum(rgb(getComputedStyle(document.body).backgroundColor));
  return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
})()`;

const FOCUS = `(() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  return { id: e.id, tag: e.tagName, outline: style.outlineStyle, width: parseFloat(style.outlineWidth) };
})()`;

describe.skipIf(!runs)('the console in Chromium', () => {
  beforeAll(async () => {
    base = await startServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    mkdirSync(IMAGES, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    if (server !== undefined && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      // The demo's replay sleeps until its next quote (an hour at speed 1) before it sees the
      // stop: the journal is closed by then, so the process is ended.
      const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    if (folder !== '') rmSync(folder, { recursive: true, force: true });
  });

  it('signs in by keyboard, with labels, visible focus and readable text; refuses a wrong key', async () => {
    const { page, errors } = await newPage(1280, 800);
    await page.goto(`${base}/console/`);
    expect(await page.evaluate(UNLABELLED)).toEqual([]);
    // The key field has the focus; Tab goes on to the button, the focus drawn.
    expect(await page.evaluate(FOCUS)).toMatchObject({ id: 'key', outline: 'solid' });
    await page.keyboard.type('fk_not-a-key-this-service-knows');
    await page.keyboard.press('Tab');
    const focus = (await page.evaluate(FOCUS)) as { tag: string; outline: string; width: number };
    expect(focus).toMatchObject({ tag: 'BUTTON', outline: 'solid' });
    expect(focus.width).toBeGreaterThanOrEqual(2);
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('does not know this key');
    expect(await page.evaluate(CONTRAST('body'))).toBeGreaterThanOrEqual(7);
    expect(await page.evaluate(CONTRAST('#key-help'))).toBeGreaterThanOrEqual(4.5);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows the venue live: a quote moves the price and the health on screen', async () => {
    const { page, errors } = await newPage(1400, 1000);
    await signIn(page, keys.viewer);
    const ethPrice = page.locator('[data-price="ETH"]');
    await ethPrice.waitFor();
    const annHealth = page.locator('#near tbody tr', { hasText: 'ann/0' }).locator('td').first();
    await annHealth.waitFor();
    const before = { price: await ethPrice.textContent(), health: await annHealth.textContent() };
    expect(await page.locator('#total-collateral').textContent()).toMatch(/^\$[0-9,]+$/);
    const price = await moveEth(0.9);
    await expect.poll(() => ethPrice.textContent()).toBe(Number(price).toFixed(2));
    await expect.poll(() => annHealth.textContent()).not.toBe(before.health);
    expect(await page.evaluate(UNLABELLED)).toEqual([]);
    expect(await page.evaluate(CONTRAST('#near tbody td'))).toBeGreaterThanOrEqual(7);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('runs a stress test and pages the near-liquidation list, by keyboard', async () => {
    const { page, errors } = await newPage(1400, 1000);
    await signIn(page, keys.viewer);
    await page.getByLabel('ETH move (%)').fill('-40');
    await page.getByLabel('BTC move (%)').fill('-30');
    await page.getByRole('button', { name: 'Run stress test' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#stress-liquidatable').textContent()).toMatch(/→/);
    expect(Number(await page.locator('#stress-newly').textContent())).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#stress tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('#stress-bad-debt').textContent()).toMatch(/\$[0-9,]+ → \$[0-9,]+/);

    const first = await page.locator('#near tbody tr').first().textContent();
    await expect.poll(() => page.locator('#near-page').textContent()).toMatch(/^Page 1 of 2/);
    await page.locator('#near-next').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#near-page').textContent()).toMatch(/^Page 2 of 2/);
    expect(await page.locator('#near tbody tr').first().textContent()).not.toBe(first);
    expect(await page.locator('#near-next').isDisabled()).toBe(true);
    await page.locator('#near-prev').click();
    await expect.poll(() => page.locator('#near-page').textContent()).toMatch(/^Page 1 of 2/);

    // ETH falls again; ann is liquidated by liz, and the feed shows it from the stream.
    const low = await moveEth(0.9);
    const { time } = await rest<{ time: number }>('/v1/prices', keys.admin);
    await rest('/v1/commands', keys.admin, {
      type: 'liquidate',
      time: time + 60,
      liquidator: { account: 'liz' },
      target: { account: 'ann' },
      debtAsset: 'USDC',
      collateralAsset: 'ETH',
      amount: 'max',
    });
    await expect
      .poll(() => page.locator('#feed li').first().textContent())
      .toMatch(/ann\/0: repaid/);
    const eth = page.locator('[data-price="ETH"]');
    await expect.poll(() => eth.textContent()).toBe(Number(low).toFixed(2));
    // The panels refresh at most twice a second: the last refresh, then the picture.
    await page.waitForTimeout(1_000);
    await page.screenshot({ path: join(IMAGES, 'console.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws the heat map with its table, and the parameters with their history', async () => {
    const { page, errors } = await newPage(1400, 1000);
    await signIn(page, keys.viewer);
    // The heat map: a canvas for the eye, a table with the same figures for screen readers.
    const ethRow = page.locator('#heat-values tbody tr', { hasText: 'ETH' });
    await ethRow.waitFor({ state: 'attached' });
    const cells = await ethRow.locator('td').allTextContents();
    expect(cells).toHaveLength(11);
    const counts = cells.map((c) => Number(c.split(' ')[0]));
    // Down 50% leaves more sub-accounts below maintenance than up 50%.
    expect(counts[0]).toBeGreaterThan(counts[10] as number);
    expect(await page.locator('#heat-canvas').getAttribute('aria-hidden')).toBe('true');
    expect(await page.locator('#heat-canvas').boundingBox()).toMatchObject({});
    expect(await page.locator('#heat-values caption').textContent()).toMatch(/Heat map/);
    // The parameters in force and the commands that set them, paged by the service.
    const ethParams = page
      .locator('#params-current table')
      .first()
      .locator('tbody tr', { hasText: 'ETH' });
    await ethParams.waitFor();
    expect(await ethParams.locator('td').first().textContent()).toBe('0.8');
    await expect
      .poll(() => page.locator('#params tbody tr', { hasText: 'list-asset' }).count())
      .toBe(4);
    // Collateral on another chain: USDC in the vault on base, what the engine credits and the
    // vault must hold.
    const base = page.locator('#chains tbody tr', { hasText: 'USDC.base' });
    await base.waitFor();
    expect(await base.locator('td').allTextContents()).toEqual(
      expect.arrayContaining(['base', 'active', '20,000']),
    );
    expect(await page.locator('#params tbody tr', { hasText: 'list-instrument' }).count()).toBe(1);
    expect(await page.locator('#params-liquidation dt').count()).toBeGreaterThan(3);
    // The replay is the risk-admin's to control: a read-only key sees it, its controls disabled.
    await page.locator('#replay').waitFor();
    expect(await page.locator('#replay-play').isDisabled()).toBe(true);
    expect(await page.evaluate(UNLABELLED)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a trader their sub-accounts live, answers a what-if, refuses another account', async () => {
    const { page, errors } = await newPage(1400, 900);
    await signIn(page, keys.ann);
    const health = page.locator('[data-account="ann/0"] [data-health="maintenance"]');
    await health.waitFor();
    const before = await health.textContent();
    await moveEth(0.95);
    await expect.poll(() => health.textContent()).not.toBe(before);
    expect(await page.locator('[data-account="tom/0"] table').count()).toBeGreaterThan(0);

    // The what-if slider, moved by keyboard: ETH 15% down.
    await page.getByLabel('Asset', { exact: true }).selectOption('ETH');
    await page.getByLabel('Price move', { exact: true }).focus();
    for (let i = 0; i < 15; i++) await page.keyboard.press('ArrowLeft');
    await expect.poll(() => page.locator('#whatif-verdict').textContent()).toMatch(/^ETH -15%/);
    expect(await page.locator('#whatif-result tbody tr').count()).toBe(3);

    // Greeks beside tom's perpetual, from the sub-account's risk report.
    const tom = page.locator('[data-account="tom/0"]');
    await expect.poll(() => tom.locator('th', { hasText: 'Delta' }).count()).toBe(1);
    const perp = tom.locator('tbody tr', { hasText: 'ETH-PERP' }).locator('td');
    expect(Number((await perp.nth(4).textContent())?.replace(/,/g, ''))).toBeGreaterThan(0);
    // Borrow more, and close a position: the engine's dry runs.
    await page.locator('#cmd-account').selectOption('ann/0');
    await page.getByLabel('Borrow', { exact: true }).selectOption('USDC');
    await page.getByLabel('Amount', { exact: true }).fill('1000');
    await page.getByRole('button', { name: 'What if I borrow?' }).click();
    await expect
      .poll(() => page.locator('#cmd-verdict').textContent())
      .toMatch(/^Borrow 1000 USDC: the engine would (accept it|refuse it)/);
    await expect.poll(() => page.locator('#close-position option').count()).toBeGreaterThan(0);
    await page.locator('#close-position').selectOption({ index: 0 });
    await page.getByRole('button', { name: 'What if I close it?' }).click();
    await expect
      .poll(() => page.locator('#cmd-verdict').textContent())
      .toMatch(/^Close [A-Z]+ \((repay|withdraw) all\): the engine would/);
    // Tom's perpetual closed at its mark: a fill the engine values, no fee.
    await page.locator('#cmd-account').selectOption('tom/0');
    await expect
      .poll(() => page.locator('#close-position option', { hasText: 'ETH-PERP' }).count())
      .toBe(1);
    const perpOption = page.locator('#close-position option', { hasText: 'ETH-PERP' });
    await page
      .locator('#close-position')
      .selectOption((await perpOption.getAttribute('value')) ?? '');
    await page.getByRole('button', { name: 'What if I close it?' }).click();
    await expect
      .poll(() => page.locator('#cmd-verdict').textContent())
      .toMatch(/^Close [\d.]+ ETH-PERP at the mark [\d.]+: the engine would accept it/);
    expect(await page.locator('#cmd-result tbody tr').count()).toBe(3);

    await page.getByLabel('Account', { exact: true }).fill('ben');
    await page.getByRole('button', { name: 'Look up' }).click();
    await expect
      .poll(() => page.locator('#lookup-result [role="alert"]').textContent())
      .toMatch(/Refused \(403 forbidden\).*ben/);
    expect(await page.evaluate(UNLABELLED)).toEqual([]);
    await page.screenshot({ path: join(IMAGES, 'trader.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('plays and pauses the crash replay, prices and liquidations moving with it', async () => {
    const { page, errors } = await newPage(1400, 1000);
    await signIn(page, keys.admin);
    const state = page.locator('#replay-state');
    await expect.poll(() => state.textContent()).toMatch(/^playing/);
    const pushes = async () => Number(/(\d+) of/.exec((await state.textContent()) ?? '')?.[1]);
    const start = await pushes();
    const eth = await page.locator('[data-price="ETH"]').textContent();
    await page.getByLabel('Speed').selectOption('86400');
    await page.getByRole('button', { name: 'Play' }).click();
    await expect.poll(pushes, { timeout: 20_000 }).toBeGreaterThan(start + 20);
    await expect.poll(() => page.locator('[data-price="ETH"]').textContent()).not.toBe(eth);
    await page.getByRole('button', { name: 'Pause' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#replay').getAttribute('data-mode')).toBe('paused');
    // A push already on its way when the pause came lands; after it, nothing moves.
    await page.waitForTimeout(500);
    type Replay = { playing: boolean; speed: number; pushes: number };
    const held = await rest<Replay>('/v1/demo/replay', keys.viewer);
    expect(held).toMatchObject({ playing: false, speed: 86_400 });
    await page.waitForTimeout(1_500);
    expect((await rest<Replay>('/v1/demo/replay', keys.viewer)).pushes).toBe(held.pushes);
    await expect.poll(pushes).toBe(held.pushes);
    await page.locator('#replay').screenshot({ path: join(IMAGES, 'replay.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
