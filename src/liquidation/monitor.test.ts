import { describe, expect, it } from 'vitest';
import { Draft } from '../engine/draft.js';
import { Engine } from '../engine/engine.js';
import { formatDecimal } from '../math/decimal.js';
import { SeededRandom } from '../math/random.js';
import { liquidationStatus } from '../engine/queries.js';
import type { SubAccountRef } from '../engine/state.js';
import type { InstrumentSpec } from '../derivatives/instruments.js';
import { standardRequirement } from '../derivatives/requirement.js';
import {
  LiquidationMonitor,
  requirementCoefficients,
  SWEEP_THRESHOLD,
  VERSION_MASK,
  VERSION_SHIFT,
} from './monitor.js';

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

  it('finds an account a mark move makes liquidatable, confirming exactly at the threshold', () => {
    const engine = perpMarket();
    const monitor = new LiquidationMonitor(engine.state);
    const ann = { account: 'ann', subAccount: 0 };
    // ann, long 40 from 2000 on 10,000 USDC (0.95): 9,500 against a loss of 40 × (2000 − m) and
    // 5% of 40 m: liquidatable below m = 70,500 / 38 = 1855.263157894736...
    let scan = monitor.observe(
      apply(engine, { type: 'set-price', time: 1000, asset: 'ETH-PERP', price: '1855.2631579' }),
    );
    expect(scan.sweptInstruments).toBe(1);
    expect(scan.swept).toBe(0);
    expect(scan.liquidatable).toEqual([]);
    // 2 × 10^-7 of a quote unit above the threshold: inside the band, decided exactly.
    expect(scan.confirmed).toBeGreaterThan(0);
    expect(engine.liquidation(ann).liquidatable).toBe(false);
    scan = monitor.observe(
      apply(engine, { type: 'set-price', time: 1000, asset: 'ETH-PERP', price: '1855.2631578' }),
    );
    expect(keys(scan.liquidatable)).toEqual(['ann/0']);
    expect(engine.liquidation(ann).liquidatable).toBe(true);
    // The estimate includes the position: 9,500 / (80,000 − 38 × 1855.2631578).
    const estimate = monitor.healthEstimate(monitor.slotOfRef(ann));
    expect(estimate).toBeCloseTo(9500 / (80_000 - 38 * 1855.2631578), 12);
    expect(estimate).toBeLessThan(1);
    // The underlying's price alone moves nothing a perpetual's health reads.
    scan = monitor.observe(
      apply(engine, { type: 'set-price', time: 1000, asset: 'ETH', price: '3000' }),
    );
    expect(scan.sweptInstruments).toBe(0);
    expect(scan.judged).toBe(0);
    scan = monitor.observe(
      apply(engine, { type: 'set-price', time: 1000, asset: 'ETH-PERP', price: '2000' }),
    );
    expect(keys(scan.recovered)).toEqual(['ann/0']);
    expect(monitor.count).toBe(0);
  });

  it("follows a mark quoted through the instrument's oracle", () => {
    const engine = perpMarket({ quorum: 1 });
    const monitor = new LiquidationMonitor(engine.state);
    // One source is the quorum: its 1,800 is the mark. ann: 9,500 against 8,000 + 3,600.
    const result = apply(engine, {
      type: 'quote',
      time: 1001,
      asset: 'ETH-PERP',
      source: 'venue',
      price: '1800',
    });
    expect(result.ok && result.events.map((e) => e.type)).toEqual(['price-aggregated']);
    const scan = monitor.observe(result);
    expect(scan.sweptInstruments).toBe(1);
    expect(keys(scan.liquidatable)).toEqual(['ann/0']);
    expect(keys(monitor.liquidatable())).toEqual([...exactScan(engine)].sort());
  });

  it('finds an account that funding pushes below maintenance', () => {
    const engine = perpMarket();
    const monitor = new LiquidationMonitor(engine.state);
    // Mark 1900, index 1800: ann's loss 4,000 and maintenance 3,800 against 9,500. The premium,
    // 100 / 1800, is clamped to 5%: 90 per unit per hour, 3,600 owed by ann after one hour:
    // 11,400 against 9,500.
    for (const command of [
      { type: 'set-price', time: 1000, asset: 'ETH-PERP', price: '1900' },
      { type: 'set-price', time: 1000, asset: 'ETH', price: '1800' },
    ]) {
      expect(monitor.observe(apply(engine, command)).liquidatable).toEqual([]);
    }
    const result = apply(engine, { type: 'settle-funding', time: 4600, instrument: 'ETH-PERP' });
    expect(result.ok).toBe(true);
    const scan = monitor.observe(result);
    expect(scan.sweptInstruments).toBe(1);
    expect(keys(scan.liquidatable)).toEqual(['ann/0']);
    expect(engine.liquidation({ account: 'ann', subAccount: 0 }).liquidatable).toBe(true);
    expect(keys(monitor.liquidatable())).toEqual([...exactScan(engine)].sort());
  });

  it("finds a short option that its underlying's price alone makes liquidatable", () => {
    const engine = perpMarket();
    for (const command of [
      {
        type: 'list-instrument',
        time: 1000,
        config: {
          kind: 'option',
          symbol: 'ETH-C2000',
          underlying: 'ETH',
          expiry: 100_000,
          strike: '2000',
          right: 'call',
        },
        price: '150',
      },
      { type: 'deposit', time: 1000, account: 'cy', asset: 'USDC', amount: '10000' },
      { type: 'deposit', time: 1000, account: 'di', asset: 'USDC', amount: '10000' },
      {
        type: 'trade',
        time: 1000,
        buyer: { account: 'di' },
        seller: { account: 'cy' },
        instrument: 'ETH-C2000',
        size: '10',
        price: '150',
      },
    ]) {
      expect(apply(engine, command).ok).toBe(true);
    }
    const monitor = new LiquidationMonitor(engine.state);
    expect(monitor.count).toBe(0);
    // cy, short 10 calls sold at their mark: no loss; maintenance 0.075 × 10 × index plus the
    // mark value 1,500, against 9,500: liquidatable above an index of 10,666.67.
    let scan = monitor.observe(
      apply(engine, { type: 'set-price', time: 1000, asset: 'ETH', price: '10000' }),
    );
    expect(scan.sweptInstruments).toBe(1);
    expect(scan.liquidatable).toEqual([]);
    scan = monitor.observe(
      apply(engine, { type: 'set-price', time: 1000, asset: 'ETH', price: '11000' }),
    );
    expect(keys(scan.liquidatable)).toEqual(['cy/0']);
    expect(keys(monitor.liquidatable())).toEqual([...exactScan(engine)].sort());
  });

  it('follows a listing, fills, takeovers and expiry through the sub-accounts they touch', () => {
    const engine = perpMarket();
    const monitor = new LiquidationMonitor(engine.state);
    const check = (command: Json) => {
      const result = apply(engine, command);
      expect(result.ok, JSON.stringify(command)).toBe(true);
      const scan = monitor.observe(result);
      expect(keys(monitor.liquidatable())).toEqual([...exactScan(engine)].sort());
      return scan;
    };
    // A future listed after the monitor was built, and traded.
    for (const command of [
      {
        type: 'list-instrument',
        time: 1000,
        config: {
          kind: 'future',
          symbol: 'ETH-FUT',
          underlying: 'ETH',
          initialMargin: '0.1',
          maintenanceMargin: '0.05',
          expiry: 50_000,
        },
        price: '2000',
      },
      { type: 'deposit', time: 1000, account: 'cy', asset: 'USDC', amount: '10000' },
      { type: 'deposit', time: 1000, account: 'liz', asset: 'USDC', amount: '1000000' },
      {
        type: 'trade',
        time: 1000,
        buyer: { account: 'cy' },
        seller: { account: 'lena' },
        instrument: 'ETH-FUT',
        size: '40',
        price: '2000',
      },
    ]) {
      check(command);
    }
    let scan = check({ type: 'set-price', time: 1000, asset: 'ETH-PERP', price: '1800' });
    expect(keys(scan.liquidatable)).toEqual(['ann/0']);
    scan = check({
      type: 'liquidate-position',
      time: 1000,
      liquidator: { account: 'liz' },
      target: { account: 'ann' },
      instrument: 'ETH-PERP',
      amount: 'max',
    });
    expect(keys(scan.recovered)).toEqual(['ann/0']);
    // The future's mark falls too: cy, long 40 from 2000, is below maintenance.
    scan = check({ type: 'set-price', time: 1000, asset: 'ETH-FUT', price: '1800' });
    expect(keys(scan.liquidatable)).toEqual(['cy/0']);
    // Expiry settles at the underlying's first price after it: cy's loss is paid from her USDC
    // and she holds no position left.
    check({ type: 'set-price', time: 50_000, asset: 'ETH', price: '1900' });
    scan = check({ type: 'expire', time: 50_000, instrument: 'ETH-FUT' });
    expect(keys(scan.recovered)).toEqual(['cy/0']);
    expect(engine.state.accounts.get('cy')?.subAccounts[0]?.derivatives).toBeUndefined();
  });

  it('counts the unsettled profit of a sub-account that holds no position', () => {
    const engine = perpMarket();
    const bob = { account: 'bob', subAccount: 0 };
    for (const command of [
      { type: 'deposit', time: 1000, account: 'bob', asset: 'USDC', amount: '20000' },
      { type: 'deposit', time: 1000, account: 'lena', asset: 'ETH', amount: '100' },
      { type: 'deposit', time: 1000, account: 'cy', asset: 'USDC', amount: '20000' },
      { type: 'borrow', time: 1000, account: 'bob', asset: 'ETH', amount: '6' },
      { type: 'set-price', time: 1000, asset: 'ETH-PERP', price: '1900' },
      // bob closes his short against cy, who opens one: no loss is realized, so the reserve
      // cannot pay bob's 4,000 of profit yet; it stays unsettled.
      {
        type: 'trade',
        time: 1000,
        buyer: bob,
        seller: { account: 'cy' },
        instrument: 'ETH-PERP',
        size: '40',
        price: '1900',
      },
    ]) {
      expect(apply(engine, command).ok, JSON.stringify(command)).toBe(true);
    }
    const book = engine.state.accounts.get('bob')?.subAccounts[0]?.derivatives;
    expect(book?.positions).toEqual([]);
    expect(book?.unsettled).toBeGreaterThan(0n);
    const monitor = new LiquidationMonitor(engine.state);
    // bob: 30,000 USDC at 0.95 and 4,000 unsettled against 6 ETH owed: liquidatable above
    // 32,500 / 6 = 5,416.67 (above 28,500 / 6 = 4,750 without the profit).
    let scan = monitor.observe(
      apply(engine, { type: 'set-price', time: 1000, asset: 'ETH', price: '5000' }),
    );
    expect(scan.liquidatable).toEqual([]);
    expect(engine.liquidation(bob).liquidatable).toBe(false);
    scan = monitor.observe(
      apply(engine, { type: 'set-price', time: 1000, asset: 'ETH', price: '5500' }),
    );
    expect(keys(scan.liquidatable)).toEqual(['bob/0']);
    expect(keys(monitor.liquidatable())).toEqual([...exactScan(engine)].sort());
  });

  it("never takes an entry from a slot's earlier turn of versions for a current one", () => {
    const engine = oneBorrower();
    const monitor = new LiquidationMonitor(engine.state);
    const internals = monitor as unknown as {
      meta: Int32Array;
      columns: { slots: Int32Array; versions: Int32Array; length: number }[];
    };
    // carl holds 10 ETH, withdraws it (his ETH entry is stale), and deposits 1,000 USDC.
    for (const command of [
      { type: 'deposit', time: 0, account: 'carl', asset: 'ETH', amount: '10' },
      { type: 'withdraw', time: 0, account: 'carl', asset: 'ETH', amount: 'all' },
      { type: 'deposit', time: 0, account: 'carl', asset: 'USDC', amount: '1000' },
    ]) {
      monitor.observe(apply(engine, command));
    }
    const slot = monitor.slotOfRef({ account: 'carl', subAccount: 0 });
    const eth = internals.columns[1] as { slots: Int32Array; versions: Int32Array; length: number };
    const entry = Array.from(eth.slots.subarray(0, eth.length)).indexOf(slot);
    expect(entry).toBeGreaterThanOrEqual(0);
    // As after 2^25 readings: carl's version at its largest, the stale entry's the one it wraps
    // to at his next reading.
    internals.meta[slot] =
      (VERSION_MASK << VERSION_SHIFT) |
      ((internals.meta[slot] as number) & ((1 << VERSION_SHIFT) - 1));
    eth.versions[entry] = 0;
    // carl borrows 0.4 ETH: liquidatable above 875 / 0.4 = 2,187.5. A stale entry taken for
    // current would add 10 ETH times each move of ETH's factor to his collateral.
    for (const command of [
      { type: 'borrow', time: 0, account: 'carl', asset: 'ETH', amount: '0.4' },
      { type: 'set-price', time: 0, asset: 'ETH', price: '2100' },
      { type: 'set-price', time: 0, asset: 'ETH', price: '2200' },
    ]) {
      const result = apply(engine, command);
      expect(result.ok, JSON.stringify(command)).toBe(true);
      monitor.observe(result);
      expect(keys(monitor.liquidatable())).toEqual([...exactScan(engine)].sort());
    }
    expect(monitor.isLiquidatable({ account: 'carl', subAccount: 0 })).toBe(true);
  });

  it('judges sub-accounts in portfolio mode exactly, at every command', () => {
    const engine = perpMarket();
    for (const command of [
      { type: 'deposit', time: 1000, account: 'cy', asset: 'USDC', amount: '10000' },
      { type: 'set-mode', time: 1000, account: 'cy', mode: 'portfolio' },
      {
        type: 'trade',
        time: 1000,
        buyer: { account: 'cy' },
        seller: { account: 'lena' },
        instrument: 'ETH-PERP',
        size: '10',
        price: '2000',
      },
    ]) {
      expect(apply(engine, command).ok, JSON.stringify(command)).toBe(true);
    }
    const monitor = new LiquidationMonitor(engine.state);
    const scan = monitor.observe(
      apply(engine, { type: 'deposit', time: 1001, account: 'lena', asset: 'USDC', amount: '1' }),
    );
    // lena's deposit moves nothing cy holds, yet cy is judged exactly.
    expect(scan.confirmed).toBeGreaterThanOrEqual(1);
    expect(keys(monitor.liquidatable())).toEqual([...exactScan(engine)].sort());
  });

  it("splits each kind's maintenance requirement into parts linear in the mark and the index", () => {
    const random = new SeededRandom(7);
    const base = { underlying: 'ETH', initialMargin: 0.1, maintenanceMargin: 0.05 };
    const specs: InstrumentSpec[] = [
      {
        ...base,
        kind: 'perpetual',
        symbol: 'P',
        sizePremium: 0,
        fundingIntervalSeconds: 3600,
        fundingClamp: 0.01,
      },
      {
        ...base,
        kind: 'perpetual',
        symbol: 'Q',
        sizePremium: 0.003,
        fundingIntervalSeconds: 3600,
        fundingClamp: 0.01,
      },
      { ...base, kind: 'future', symbol: 'F', sizePremium: 0.001, expiry: 10_000 },
      {
        ...base,
        kind: 'option',
        symbol: 'C',
        sizePremium: 0.002,
        expiry: 10_000,
        strike: 2000,
        right: 'call',
      },
      {
        ...base,
        kind: 'option',
        symbol: 'U',
        sizePremium: 0,
        expiry: 10_000,
        strike: 1500,
        right: 'put',
      },
    ];
    let checked = 0;
    for (const spec of specs) {
      for (let n = 0; n < 200; n++) {
        const units = 10 ** (random.next() * 12 - 4) * (random.next() < 0.5 ? -1 : 1);
        const size = BigInt(Math.round(units * 1e8)) || 1n;
        const mark = BigInt(Math.round(10 ** (random.next() * 8 - 2) * 1e9)) * 10n ** 9n;
        const index = BigInt(Math.round(10 ** (random.next() * 8 - 2) * 1e9)) * 10n ** 9n;
        const [a, b] = requirementCoefficients(spec, size);
        const exact = Number(standardRequirement(spec, mark, index, size).maintenance);
        const s = Math.abs(Number(size)) / 1e8;
        const model = s * ((Number(mark) / 1e18) * a + (Number(index) / 1e18) * b) * 1e38;
        expect(
          Math.abs(model - exact) / exact,
          `${spec.symbol} ${size} ${mark} ${index}`,
        ).toBeLessThan(1e-12);
        checked++;
      }
    }
    expect(checked).toBe(1000);
  });

  describe('seeded random simulation against a full exact scan', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      it(`seed ${seed}`, () => simulate(seed, 600));
    }
    for (const seed of [7, 9]) {
      it(`seed ${seed}, with sub-accounts in portfolio mode`, () => simulate(seed, 600, true));
    }
  });
});

/**
 * ann long 40 ETH-PERP from bob at 2000, each on 10,000 USDC at 0.95 (as in
 * test/scenarios/perp-margin.jsonl); the perpetual's mark quoted through `oracle` when given.
 */
function perpMarket(oracle?: Json): Engine {
  const engine = new Engine();
  for (const command of [
    {
      type: 'list-asset',
      time: 1000,
      config: { ...USDC, maintenanceWeight: '0.95', initialWeight: '0.9' },
      price: '1',
    },
    { type: 'list-asset', time: 1000, config: ETH, price: '2000' },
    {
      type: 'list-instrument',
      time: 1000,
      config: {
        kind: 'perpetual',
        symbol: 'ETH-PERP',
        underlying: 'ETH',
        initialMargin: '0.1',
        maintenanceMargin: '0.05',
        fundingIntervalSeconds: '3600',
        fundingClamp: '0.05',
        ...(oracle === undefined ? {} : { oracle }),
      },
      price: '2000',
    },
    { type: 'deposit', time: 1000, account: 'lena', asset: 'USDC', amount: '1000000' },
    { type: 'deposit', time: 1000, account: 'ann', asset: 'USDC', amount: '10000' },
    { type: 'deposit', time: 1000, account: 'bob', asset: 'USDC', amount: '10000' },
    // A mark with an oracle takes new risk once a source has quoted it.
    ...(oracle === undefined
      ? []
      : [{ type: 'quote', time: 1000, asset: 'ETH-PERP', source: 'venue', price: '2000' }]),
    {
      type: 'trade',
      time: 1000,
      buyer: { account: 'ann' },
      seller: { account: 'bob' },
      instrument: 'ETH-PERP',
      size: '40',
      price: '2000',
    },
  ]) {
    expect(apply(engine, command).ok, JSON.stringify(command)).toBe(true);
  }
  return engine;
}

/**
 * A market of four assets and 30 borrowers on two sub-accounts (with `portfolio`, three of them
 * in portfolio mode), with a perpetual on ETH (size premium, hourly funding), one on BTC, a dated
 * future and a call on ETH, driven by large and
 * tiny moves of prices and marks (apart, and ETH with its perpetual together), marks set a hair
 * from some holder's threshold, time passing (interest), funding, borrowing, repaying,
 * withdrawing, trades between the borrowers, liquidations of debts and takeovers of positions,
 * and the future's and the option's expiry. After every command the monitor's set must equal an
 * exact scan of every account, and what it reports as new and recovered must be the difference
 * from the previous scan.
 */
function simulate(seed: number, steps: number, portfolio = false): void {
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
  const expiry = 20 * 86_400;
  const instruments = [
    {
      config: {
        kind: 'perpetual',
        symbol: 'ETH-PERP',
        underlying: 'ETH',
        initialMargin: '0.1',
        maintenanceMargin: '0.05',
        sizePremium: '0.002',
        fundingIntervalSeconds: '3600',
        fundingClamp: '0.01',
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
        liquidationPenalty: '0.02',
      },
      mark: 30000,
    },
    {
      config: {
        kind: 'future',
        symbol: 'ETH-FUT',
        underlying: 'ETH',
        initialMargin: '0.1',
        maintenanceMargin: '0.05',
        expiry,
      },
      mark: 2000,
    },
    {
      config: {
        kind: 'option',
        symbol: 'ETH-C2000',
        underlying: 'ETH',
        expiry: 2 * expiry + 3600,
        strike: '2000',
        right: 'call',
      },
      mark: 150,
    },
  ];
  let time = 0;
  for (const asset of assets) {
    apply(engine, { type: 'list-asset', time, config: asset.config, price: String(asset.price) });
    const amount = (5_000_000 / asset.price).toFixed(4);
    apply(engine, { type: 'deposit', time, account: 'lender', asset: asset.config.symbol, amount });
    apply(engine, { type: 'deposit', time, account: 'keeper', asset: asset.config.symbol, amount });
  }
  for (const instrument of instruments) {
    const result = apply(engine, {
      type: 'list-instrument',
      time,
      config: instrument.config,
      price: String(instrument.mark),
    });
    expect(result.ok).toBe(true);
  }
  // With `portfolio`, three sub-accounts margined on the scenario grid: judged exactly always.
  for (const account of portfolio ? ['b0', 'b1', 'b2'] : []) {
    const result = apply(engine, {
      type: 'set-mode',
      time,
      account,
      subAccount: 1,
      mode: 'portfolio',
    });
    expect(result.ok).toBe(true);
  }
  const monitor = new LiquidationMonitor(engine.state);
  let previous = exactScan(engine);
  const seen = {
    liquidatable: 0,
    liquidated: 0,
    accepted: 0,
    confirmed: 0,
    trades: 0,
    byMarks: 0,
    confirmedOnMarks: 0,
    portfolioHeld: 0,
    takeovers: 0,
    expired: 0,
  };
  const borrowers = Array.from({ length: 30 }, (_, i) => `b${i}`);
  const codes = new Map<string, number>();
  const assetOf = (symbol: string) => {
    const asset = assets.find((a) => a.config.symbol === symbol);
    if (asset === undefined) throw new Error(symbol);
    return asset;
  };
  const amountOf = (symbol: string, value: number) => {
    const asset = assetOf(symbol);
    return (value / asset.price).toFixed(Math.min(asset.decimals, 6));
  };
  const live = () =>
    instruments.filter((i) => i.config.kind === 'perpetual' || time < Number(i.config.expiry));
  /** Feeds the monitor one result and checks it against the exact scan: the set, what changed. */
  const check = (command: Json, result: ReturnType<typeof apply>, step: number) => {
    const scan = monitor.observe(result);
    const now = exactScan(engine);
    const where = `seed ${seed} step ${step}: ${JSON.stringify(command)}`;
    expect(keys(monitor.liquidatable()), where).toEqual([...now].sort());
    expect(keys(scan.liquidatable), where).toEqual([...now].filter((k) => !previous.has(k)).sort());
    expect(keys(scan.recovered), where).toEqual([...previous].filter((k) => !now.has(k)).sort());
    previous = now;
    seen.liquidatable += scan.liquidatable.length;
    seen.confirmed += scan.confirmed;
    if (process.env.SIM_STATS === '1') {
      const tag = `${String(command.type)}:${result.ok ? 'ok' : result.error.code}`;
      codes.set(tag, (codes.get(tag) ?? 0) + 1);
    }
    return scan;
  };
  const bookOf = (ref: SubAccountRef) =>
    engine.state.accounts.get(ref.account)?.subAccounts.find((s) => s.number === ref.subAccount)
      ?.derivatives;
  for (let step = 0; step < steps; step++) {
    const roll = random.next();
    const account = pick(borrowers);
    const subAccount = int(0, 1);
    const asset = pick(assets);
    const symbol = asset.config.symbol;
    let command: Json;
    if (roll < 0.2) {
      // Deposits, and borrows of a random share of what the account may borrow.
      const report = engine.health({ account, subAccount });
      const room = report.positions.find((p) => p.symbol === symbol)?.maxBorrow ?? 0n;
      const borrow = random.next() < 0.5 && room > 0n;
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
    } else if (roll < 0.27 && symbol !== 'USDC') {
      // A large move toward or away from the starting price, or a tick too small to sweep.
      const factor =
        random.next() < 0.6
          ? (1 + (random.next() - 0.5) * 0.3) * (asset.start / asset.price) ** 0.3
          : 1 + (random.next() - 0.5) * 1e-7;
      asset.price = asset.price * factor;
      command = { type: 'set-price', time, asset: symbol, price: asset.price.toPrecision(15) };
    } else if (roll < 0.3) {
      // A price set a hair from some borrower's liquidation price: the band's exact path.
      const report = engine.health({ account, subAccount });
      const edge = report.positions.find((p) => p.liquidationPrice !== null && p.symbol !== 'USDC');
      if (edge === undefined || edge.liquidationPrice === null) continue;
      const price = Number(formatDecimal(edge.liquidationPrice, 18));
      const moved = assets.find((a) => a.config.symbol === edge.symbol);
      if (moved === undefined) continue;
      moved.price = price * (1 + (random.next() - 0.5) * 1e-12);
      command = { type: 'set-price', time, asset: edge.symbol, price: moved.price.toPrecision(16) };
    } else if (roll < 0.36) {
      time += pick([1, 10, 600, 3600, 86_400, 10 * 86_400]);
      command = { type: 'deposit', time, account: 'lender', asset: symbol, amount: '1' };
    } else if (roll < 0.42) {
      command = {
        type: random.next() < 0.5 ? 'repay' : 'withdraw',
        time,
        account,
        subAccount,
        asset: symbol,
        amount: random.next() < 0.3 ? 'all' : amountOf(symbol, int(10, 5_000)),
      };
    } else if (roll < 0.56) {
      // A trade between two borrowers near the mark, sized against the free collateral of the
      // two sides (a share of the fills too large, refused).
      const instrument = pick(live());
      const buyer = { account, subAccount };
      const seller = { account: pick(borrowers), subAccount: int(0, 1) };
      if (seller.account === account && seller.subAccount === subAccount) continue;
      const draft = new Draft(engine.state, time);
      const free = (ref: SubAccountRef) => Number(draft.health(ref).freeNum('initial')) / 1e54;
      const room = Math.min(free(buyer), free(seller));
      if (!(room > 0)) continue;
      const underlying = assetOf(instrument.config.underlying).price;
      const perUnit =
        instrument.config.kind === 'option'
          ? 0.15 * underlying + instrument.mark
          : instrument.mark * Number(instrument.config.initialMargin);
      const size = (room / perUnit) * (0.05 + random.next() * 1.05);
      const price = instrument.mark * (1 + (random.next() - 0.5) * 0.02);
      const [long, short] = random.next() < 0.5 ? [buyer, seller] : [seller, buyer];
      command = {
        type: 'trade',
        time,
        buyer: long,
        seller: short,
        instrument: instrument.config.symbol,
        size: size.toFixed(8),
        price: price.toPrecision(12),
      };
    } else if (roll < 0.66) {
      // A mark moves: with its underlying's price, on its own, or by a tick too small to sweep.
      const instrument = pick(live());
      const underlying = assetOf(instrument.config.underlying);
      const kind = random.next();
      if (kind < 0.3 && instrument.config.kind !== 'option') {
        // The underlying and the mark together: two commands, the underlying's checked first.
        const factor = 1 + (random.next() - 0.5) * 0.2;
        underlying.price *= factor;
        instrument.mark = underlying.price * (1 + (random.next() - 0.5) * 0.01);
        const first = {
          type: 'set-price',
          time,
          asset: instrument.config.underlying,
          price: underlying.price.toPrecision(15),
        };
        check(first, apply(engine, first), step);
      } else if (kind < 0.85) {
        instrument.mark *= 1 + (random.next() - 0.5) * 0.25;
      } else {
        instrument.mark *= 1 + (random.next() - 0.5) * 1e-9;
      }
      command = {
        type: 'set-price',
        time,
        asset: instrument.config.symbol,
        price: instrument.mark.toPrecision(15),
      };
    } else if (roll < 0.7) {
      // A mark a hair from some holder's threshold: its maintenance free collateral is linear in
      // one mark (profit and losses both count in full at maintenance).
      const ref = { account, subAccount };
      const position = bookOf(ref)?.positions[0];
      if (position === undefined) continue;
      const state = engine.state.instruments[position.instrument];
      const instrument = instruments.find((i) => i.config.symbol === state?.listing.spec.symbol);
      if (state === undefined || instrument === undefined || state.settled) continue;
      const free = Number(new Draft(engine.state, time).health(ref).freeNum('maintenance')) / 1e54;
      const [a] = requirementCoefficients(state.listing.spec, position.size);
      const units = Number(position.size) / 1e8;
      const slope = units - Math.abs(units) * a;
      const mark = Number(state.mark) / 1e18 - free / slope;
      if (!(mark > 0) || Math.abs(mark / instrument.mark - 1) > 0.5) continue;
      instrument.mark = mark * (1 + (random.next() - 0.5) * 1e-12);
      command = {
        type: 'set-price',
        time,
        asset: instrument.config.symbol,
        price: instrument.mark.toPrecision(16),
      };
    } else if (roll < 0.74) {
      const instrument = pick(instruments.filter((i) => i.config.kind === 'perpetual'));
      command = { type: 'settle-funding', time, instrument: instrument.config.symbol };
    } else if (roll < 0.76) {
      const instrument = pick(instruments.filter((i) => i.config.kind !== 'perpetual'));
      command = { type: 'expire', time, instrument: instrument.config.symbol };
    } else {
      const targets = [...previous];
      if (targets.length === 0) continue;
      const [targetAccount, targetSub] = pick(targets).split('/');
      const target = { account: targetAccount as string, subAccount: Number(targetSub) };
      const held = bookOf(target)?.positions ?? [];
      if (held.length > 0 && random.next() < 0.6) {
        // Positions first (docs/MARGIN.md): a takeover by the keeper, whole or in part.
        const position = pick(held);
        const amount =
          random.next() < 0.7
            ? 'max'
            : (Math.abs(Number(position.size)) / 1e8 / int(2, 5)).toFixed(8);
        command = {
          type: 'liquidate-position',
          time,
          liquidator: { account: 'keeper' },
          target,
          instrument: engine.state.instruments[position.instrument]?.listing.spec.symbol,
          amount,
        };
      } else {
        const sub = engine.state.accounts.get(target.account);
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
    }
    const result = apply(engine, command);
    const scan = check(command, result, step);
    if (!result.ok) continue;
    seen.accepted++;
    if (command.type === 'liquidate') seen.liquidated++;
    if (command.type === 'trade') seen.trades++;
    if (command.type === 'liquidate-position') seen.takeovers++;
    if (command.type === 'expire') seen.expired++;
    if (scan.sweptInstruments > 0) {
      seen.byMarks += scan.liquidatable.length;
      seen.confirmedOnMarks += scan.confirmed;
    }
    for (const account of portfolio ? ['b0', 'b1', 'b2'] : []) {
      if ((bookOf({ account, subAccount: 1 })?.positions.length ?? 0) > 0) seen.portfolioHeld++;
    }
  }
  // The run must have exercised the monitor: accounts crossed the threshold both ways, some
  // verdicts needed the exact check, liquidations changed balances under it, positions were
  // traded, marks or funding made accounts liquidatable and brought some inside the band (the
  // marks set a hair from a threshold), positions were taken over and an instrument expired.
  const stats = `seed ${seed}: ${JSON.stringify(seen)}`;
  expect(seen.liquidatable, stats).toBeGreaterThan(0);
  expect(seen.confirmed, stats).toBeGreaterThan(0);
  expect(seen.liquidated, stats).toBeGreaterThan(0);
  expect(seen.trades, stats).toBeGreaterThan(0);
  expect(seen.byMarks, stats).toBeGreaterThan(0);
  // (Portfolio sub-accounts are confirmed at every command: the count says nothing then.)
  if (!portfolio) expect(seen.confirmedOnMarks, stats).toBeGreaterThan(0);
  if (portfolio) expect(seen.portfolioHeld, stats).toBeGreaterThan(0);
  expect(seen.takeovers, stats).toBeGreaterThan(0);
  expect(seen.expired, stats).toBeGreaterThan(0);
  if (process.env.SIM_STATS === '1') console.log(stats, [...codes].sort());
}
