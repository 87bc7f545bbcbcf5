/**
 * The monitor's stress estimate (`LiquidationMonitor.stressEstimate`) against the exact heat map
 * (`shockOf` drafts of every sub-account) on random small books of balances, perpetuals and
 * options, some in portfolio mode; and the monitor's state unchanged by it.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../engine/engine.js';
import { SeededRandom } from '../math/random.js';
import { heatMap } from '../server/riskViews.js';
import { LiquidationMonitor, type MonitorScan } from './monitor.js';

type Json = Record<string, unknown>;

const ASSETS = [
  { symbol: 'USDC', decimals: 6, initialWeight: '0.85', maintenanceWeight: '0.875', price: 1 },
  { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825', price: 2000 },
  { symbol: 'BTC', decimals: 8, initialWeight: '0.75', maintenanceWeight: '0.8', price: 30000 },
];
const INSTRUMENTS = [
  {
    config: {
      kind: 'perpetual',
      symbol: 'ETH-PERP',
      underlying: 'ETH',
      initialMargin: '0.1',
      maintenanceMargin: '0.05',
      sizePremium: '0.002',
    },
    mark: 2000,
  },
  {
    config: {
      kind: 'perpetual',
      symbol: 'BTC-PERP',
      underlying: 'BTC',
      initialMargin: '0.2',
      maintenanceMargin: '0.1',
    },
    mark: 30000,
  },
  {
    config: {
      kind: 'option',
      symbol: 'ETH-C2000',
      underlying: 'ETH',
      expiry: 90 * 86_400,
      strike: '2000',
      right: 'call',
    },
    mark: 150,
  },
];
const MOVES = [-50, -40, -30, -25, -20, -15, -10, -5, -2, 0, 3, 10, 20, 35, 50, 100];

/** 40 borrowers on two sub-accounts, some of them trading, a few in portfolio mode. */
function randomBook(seed: number): Engine {
  const random = new SeededRandom(seed);
  const engine = new Engine();
  // Refusals (a trade past initial margin, a sub-account on both sides) are part of the draw.
  const run = (command: Json) => engine.applyJson(command);
  for (const { price, ...config } of ASSETS) {
    run({ type: 'list-asset', time: 0, config, price: String(price) });
    const amount = (10_000_000 / price).toFixed(4);
    run({ type: 'deposit', time: 0, account: 'lender', asset: config.symbol, amount });
  }
  for (const { config, mark } of INSTRUMENTS) {
    expect(run({ type: 'list-instrument', time: 0, config, price: String(mark) }).ok).toBe(true);
  }
  const accounts = Array.from({ length: 40 }, (_, i) => `b${i}`);
  for (const account of accounts) {
    for (const subAccount of [0, 1]) {
      const collateral = random.pick(ASSETS);
      const value = random.integer(1_000, 100_000);
      const amount = (value / collateral.price).toFixed(6);
      run({ type: 'deposit', time: 1, account, subAccount, asset: collateral.symbol, amount });
      const debt = random.pick(ASSETS.filter((a) => a !== collateral));
      const share = 0.2 + 0.6 * random.next();
      const owed = ((value * share * 0.7) / debt.price).toFixed(6);
      run({ type: 'borrow', time: 1, account, subAccount, asset: debt.symbol, amount: owed });
    }
  }
  for (const account of accounts.slice(0, 3)) {
    run({ type: 'set-mode', time: 1, account, subAccount: 1, mode: 'portfolio' });
  }
  for (let trade = 0; trade < 40; trade++) {
    const instrument = random.pick(INSTRUMENTS);
    const size = (random.integer(1, 40) / (instrument.mark > 10_000 ? 20 : 2)).toFixed(2);
    // The first three buyers are the sub-accounts in portfolio mode.
    const buyer =
      trade < 3
        ? { account: accounts[trade], subAccount: 1 }
        : { account: random.pick(accounts), subAccount: random.integer(0, 1) };
    run({
      type: 'trade',
      time: 3,
      buyer,
      seller: { account: random.pick(accounts), subAccount: random.integer(0, 1) },
      instrument: instrument.config.symbol,
      size,
      price: String(instrument.mark),
    });
  }
  return engine;
}

function sameScan(a: MonitorScan, b: MonitorScan): void {
  const names = (scan: MonitorScan) =>
    [...scan.liquidatable, ...scan.recovered].map((r) => `${r.account}/${r.subAccount}`);
  expect(names(a)).toEqual(names(b));
  expect([a.judged, a.confirmed, a.swept]).toEqual([b.judged, b.confirmed, b.swept]);
}

describe('LiquidationMonitor.stressEstimate', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`matches the exact heat map on a random book (seed ${seed})`, () => {
      const engine = randomBook(seed);
      const { state } = engine;
      const books = [...state.accounts.values()]
        .flatMap((a) => a.subAccounts)
        .filter((s) => (s.derivatives?.positions.length ?? 0) > 0);
      expect(books.length).toBeGreaterThan(10);
      expect(books.some((s) => s.derivatives?.mode === 'portfolio')).toBe(true);
      const monitor = new LiquidationMonitor(state);
      const exact = heatMap(state, MOVES, Number.MAX_SAFE_INTEGER);
      expect(exact.estimate).toBe(false);
      let falling = 0;
      state.assets.forEach(({ config, index }) => {
        const estimate = monitor.stressEstimate(
          index,
          MOVES.map((m) => m / 100),
        );
        const cells = exact.assets.find((a) => a.asset === config.symbol)?.cells ?? [];
        estimate.forEach((cell, i) => {
          const want = cells[i];
          const where = `seed ${seed} ${config.symbol} ${MOVES[i]}%`;
          expect(cell.liquidatable, where).toBe(want?.liquidatable);
          const debt = Number(want?.debtValue);
          // The exact debt rounds each amount up to a base unit (0.0003 to 0.0006 of BTC here).
          const slack = 1e-9 * debt + 0.001 * cell.liquidatable;
          expect(Math.abs(cell.debtValue - debt), where).toBeLessThanOrEqual(slack);
          falling += cell.liquidatable;
        });
      });
      expect(falling).toBeGreaterThan(20);
    });
  }

  it('changes nothing: the same set, estimates and later scans as an untouched monitor', () => {
    const engine = randomBook(5);
    const probed = new LiquidationMonitor(engine.state);
    const untouched = new LiquidationMonitor(engine.state);
    const estimates = (m: LiquidationMonitor) =>
      Array.from({ length: m.size }, (_, slot) => m.healthEstimate(slot));
    const before = { set: probed.liquidatable(), health: estimates(probed), count: probed.count };
    for (let asset = 0; asset < ASSETS.length; asset++) {
      probed.stressEstimate(asset, [-0.5, -0.2, 0.3]);
    }
    expect(probed.liquidatable()).toEqual(before.set);
    expect(probed.count).toBe(before.count);
    expect(estimates(probed)).toEqual(before.health);
    for (const command of [
      { type: 'set-price', time: 10, asset: 'ETH', price: '1500' },
      { type: 'set-price', time: 11, asset: 'ETH-PERP', price: '1500' },
      { type: 'set-price', time: 12, asset: 'BTC', price: '45000' },
    ]) {
      const result = engine.applyJson(command);
      expect(result.ok).toBe(true);
      sameScan(probed.observe(result), untouched.observe(result));
      expect(probed.liquidatable()).toEqual(untouched.liquidatable());
    }
  });
});
