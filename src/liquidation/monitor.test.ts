import { describe, expect, it } from 'vitest';
import { Engine } from '../engine/engine.js';
import { formatDecimal } from '../math/decimal.js';
import { SeededRandom } from '../math/random.js';
import { liquidationStatus } from '../engine/queries.js';
import type { SubAccountRef } from '../engine/state.js';
import { LiquidationMonitor, SWEEP_THRESHOLD } from './monitor.js';

type Json = Record<string, unknown>;

/** Every sub-account the exact engine finds liquidatable: the full scan the monitor must match. */
function exactScan(engine: Engine): Set<string> {
  const found = new Set<string>();
  for (const account of engine.state.accounts.values()) {
    for (const sub of account.subAccounts) {
      const ref = { account: account.id, subAccount: sub.number };
      if (liquidationStatus(engine.state, ref).liquidatable) found.add(key(ref));
    }
  }
  return found;
}

function key(ref: SubAccountRef): string {
  return `${ref.account}/${ref.subAccount}`;
}

function keys(refs: readonly SubAccountRef[]): string[] {
  return refs.map(key).sort();
}

function apply(engine: Engine, command: Json): ReturnType<Engine['applyJson']> {
  return engine.applyJson(command);
}

const ETH = { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' };
const USDC = { symbol: 'USDC', decimals: 6, initialWeight: '0.85', maintenanceWeight: '0.875' };

/** alice: 1 ETH against 1600 USDC of debt, maintenance health 0.825 × price / 1600. */
function oneBorrower(): Engine {
  const engine = new Engine();
  for (const command of [
    { type: 'list-asset', time: 0, config: USDC, price: '1' },
    { type: 'list-asset', time: 0, config: ETH, price: '2000' },
    { type: 'deposit', time: 0, account: 'lena', asset: 'USDC', amount: '100000' },
    { type: 'deposit', time: 0, account: 'alice', asset: 'ETH', amount: '1' },
    { type: 'borrow', time: 0, account: 'alice', asset: 'USDC', amount: '1600' },
  ]) {
    expect(apply(engine, command).ok).toBe(true);
  }
  return engine;
}

describe('LiquidationMonitor', () => {
  it('finds an account a price move makes liquidatable, and sees it recover', () => {
    const engine = oneBorrower();
    const monitor = new LiquidationMonitor(engine.state);
    expect(monitor.size).toBe(2);
    expect(monitor.count).toBe(0);
    // 0.825 × 1900 = 1567.5 < 1600
    const down = monitor.observe(
      apply(engine, { type: 'set-price', time: 1, asset: 'ETH', price: '1900' }),
    );
    expect(keys(down.liquidatable)).toEqual(['alice/0']);
    expect(down.swept).toBe(1);
    expect(monitor.isLiquidatable({ account: 'alice', subAccount: 0 })).toBe(true);
    const up = monitor.observe(
      apply(engine, { type: 'set-price', time: 2, asset: 'ETH', price: '2000' }),
    );
    expect(keys(up.recovered)).toEqual(['alice/0']);
    expect(monitor.count).toBe(0);
  });

  it('catches a move too small to sweep when it crosses the threshold', () => {
    const engine = oneBorrower();
    // health = 0.825 × 1939.393941 / 1600 = 1.000000001...: just above the threshold.
    apply(engine, { type: 'set-price', time: 1, asset: 'ETH', price: '1939.393941' });
    const monitor = new LiquidationMonitor(engine.state);
    expect(monitor.count).toBe(0);
    // 1939.393938 is 1.5e-9 lower: below the sweep threshold, yet health drops below 1.
    const scan = monitor.observe(
      apply(engine, { type: 'set-price', time: 1, asset: 'ETH', price: '1939.393938' }),
    );
    expect(1 - 1939.393938 / 1939.393941).toBeLessThan(SWEEP_THRESHOLD);
    expect(scan.swept).toBe(0);
    expect(keys(scan.liquidatable)).toEqual(['alice/0']);
    expect(scan.confirmed).toBeGreaterThan(0);
  });

  it('finds accounts that interest alone pushes below maintenance', () => {
    const engine = oneBorrower();
    apply(engine, { type: 'set-price', time: 1, asset: 'ETH', price: '1939.393941' });
    const monitor = new LiquidationMonitor(engine.state);
    // Ten seconds of interest: a tiny move, deferred, but enough for an account this close.
    let scan = monitor.refresh(11);
    expect(scan.swept).toBe(0);
    expect(keys(scan.liquidatable)).toEqual(['alice/0']);
    expect(
      liquidationStatus(engine.state, { account: 'alice', subAccount: 0 }, 11).liquidatable,
    ).toBe(true);
    // A year later the move is large and swept.
    scan = monitor.refresh(11 + 365 * 86_400);
    expect(scan.swept).toBeGreaterThan(0);
    expect(monitor.count).toBe(1);
  });

  it('ignores refused commands', () => {
    const engine = oneBorrower();
    const monitor = new LiquidationMonitor(engine.state);
    const refused = apply(engine, { type: 'set-price', time: 1, asset: 'ETH', price: '-1' });
    expect(refused.ok).toBe(false);
    const scan = monitor.observe(refused);
    expect(scan.judged).toBe(0);
    expect(monitor.count).toBe(0);
  });

  describe('seeded random simulation against a full exact scan', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      it(`seed ${seed}`, () => simulate(seed, 400));
    }
  });
});

/**
 * A market of four assets and 30 borrowers on two sub-accounts, driven by large and tiny price
 * moves, time passing (interest), borrowing, repaying, withdrawing and liquidations. After every
 * command the monitor's set must equal an exact scan of every account, and what it reports as
 * new and recovered must be the difference from the previous scan.
 */
function simulate(seed: number, steps: number): void {
  const random = new SeededRandom(seed);
  const int = (low: number, high: number) => random.integer(low, high);
  const pick = <T>(items: readonly T[]): T => random.pick(items);
  const engine = new Engine();
  const assets = [
    { config: USDC, price: 1, start: 1, decimals: 6 },
    { config: ETH, price: 2000, start: 2000, decimals: 18 },
    {
      config: { symbol: 'BTC', decimals: 8, initialWeight: '0.75', maintenanceWeight: '0.8' },
      price: 30000,
      start: 30000,
      decimals: 8,
    },
    {
      config: { symbol: 'SOL', decimals: 9, initialWeight: '0.6', maintenanceWeight: '0.7' },
      price: 100,
      start: 100,
      decimals: 9,
    },
  ];
  let time = 0;
  for (const asset of assets) {
    apply(engine, { type: 'list-asset', time, config: asset.config, price: String(asset.price) });
    const amount = (5_000_000 / asset.price).toFixed(4);
    apply(engine, { type: 'deposit', time, account: 'lender', asset: asset.config.symbol, amount });
    apply(engine, { type: 'deposit', time, account: 'keeper', asset: asset.config.symbol, amount });
  }
  const monitor = new LiquidationMonitor(engine.state);
  let previous = exactScan(engine);
  const seen = { liquidatable: 0, liquidated: 0, accepted: 0, confirmed: 0 };
  const borrowers = Array.from({ length: 30 }, (_, i) => `b${i}`);
  const amountOf = (symbol: string, value: number) => {
    const asset = assets.find((a) => a.config.symbol === symbol);
    if (asset === undefined) throw new Error(symbol);
    return (value / asset.price).toFixed(Math.min(asset.decimals, 6));
  };
  for (let step = 0; step < steps; step++) {
    const roll = random.next();
    const account = pick(borrowers);
    const subAccount = int(0, 1);
    const asset = pick(assets);
    const symbol = asset.config.symbol;
    let command: Json;
    if (roll < 0.3) {
      // Deposits, and borrows of a random share of what the account may borrow.
      const report = engine.health({ account, subAccount });
      const room = report.positions.find((p) => p.symbol === symbol)?.maxBorrow ?? 0n;
      const borrow = random.next() < 0.6 && room > 0n;
      const share = BigInt(int(1, 1000));
      command = {
        type: borrow ? 'borrow' : 'deposit',
        time,
        account,
        subAccount,
        asset: symbol,
        amount: borrow
          ? formatDecimal((room * share) / 1000n + 1n, asset.decimals)
          : amountOf(symbol, int(50, 20_000)),
      };
    } else if (roll < 0.4 && symbol !== 'USDC') {
      // A large move toward or away from the starting price, or a tick too small to sweep.
      const factor =
        random.next() < 0.6
          ? (1 + (random.next() - 0.5) * 0.3) * (asset.start / asset.price) ** 0.3
          : 1 + (random.next() - 0.5) * 1e-7;
      asset.price = asset.price * factor;
      command = { type: 'set-price', time, asset: symbol, price: asset.price.toPrecision(15) };
    } else if (roll < 0.45) {
      // A price set a hair from some borrower's liquidation price: the band's exact path.
      const report = engine.health({ account, subAccount });
      const edge = report.positions.find((p) => p.liquidationPrice !== null && p.symbol !== 'USDC');
      if (edge === undefined || edge.liquidationPrice === null) continue;
      const price = Number(formatDecimal(edge.liquidationPrice, 18));
      const moved = assets.find((a) => a.config.symbol === edge.symbol);
      if (moved === undefined) continue;
      moved.price = price * (1 + (random.next() - 0.5) * 1e-12);
      command = { type: 'set-price', time, asset: edge.symbol, price: moved.price.toPrecision(16) };
    } else if (roll < 0.55) {
      time += pick([1, 10, 600, 86_400, 30 * 86_400]);
      command = { type: 'deposit', time, account: 'lender', asset: symbol, amount: '1' };
    } else if (roll < 0.65) {
      command = {
        type: random.next() < 0.5 ? 'repay' : 'withdraw',
        time,
        account,
        subAccount,
        asset: symbol,
        amount: random.next() < 0.3 ? 'all' : amountOf(symbol, int(10, 5_000)),
      };
    } else {
      const targets = [...previous];
      if (targets.length === 0) continue;
      const [targetAccount, targetSub] = pick(targets).split('/');
      const target = { account: targetAccount, subAccount: Number(targetSub) };
      const sub = engine.state.accounts.get(target.account as string);
      const positions =
        sub?.subAccounts.find((s) => s.number === target.subAccount)?.positions ?? [];
      const debt = positions.find((p) => p.scaled < 0n);
      const collateral = positions.find((p) => p.scaled > 0n);
      if (debt === undefined || collateral === undefined) continue;
      command = {
        type: 'liquidate',
        time,
        liquidator: { account: 'keeper' },
        target,
        debtAsset: engine.state.assets[debt.asset]?.config.symbol,
        collateralAsset: engine.state.assets[collateral.asset]?.config.symbol,
        amount: 'max',
      };
    }
    const result = apply(engine, command);
    const scan = monitor.observe(result);
    const now = exactScan(engine);
    const where = `seed ${seed} step ${step}: ${JSON.stringify(command)}`;
    expect(keys(monitor.liquidatable()), where).toEqual([...now].sort());
    expect(keys(scan.liquidatable), where).toEqual([...now].filter((k) => !previous.has(k)).sort());
    expect(keys(scan.recovered), where).toEqual([...previous].filter((k) => !now.has(k)).sort());
    previous = now;
    seen.liquidatable += scan.liquidatable.length;
    seen.confirmed += scan.confirmed;
    if (result.ok) seen.accepted++;
    if (result.ok && command.type === 'liquidate') seen.liquidated++;
  }
  // The run must have exercised the monitor: accounts crossed the threshold both ways, some
  // verdicts needed the exact check, and liquidations changed balances under it.
  expect(seen.liquidatable, `seed ${seed}`).toBeGreaterThan(0);
  expect(seen.confirmed, `seed ${seed}`).toBeGreaterThan(0);
  expect(seen.liquidated, `seed ${seed}`).toBeGreaterThan(0);
}
