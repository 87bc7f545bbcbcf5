/**
 * Inputs that could once break the engine for good, sent as a user sends them (JSON commands):
 * a command dated in the year 9999, a pool at the largest rate accrued for two centuries, pools
 * pushed to the largest amounts, and the venue's own account names taken by a user. Each is
 * refused or bounded, and the engine goes on.
 */
import { describe, expect, it } from 'vitest';
import { Engine, type EngineEvent, LiquidationMonitor } from '../src/index.js';
import { deserializeState, serializeState } from '../src/engine/snapshotCodec.js';
import { decodeStoredCommand } from '../src/engine/commandCodec.js';
import { AMOUNT_MAX, RAY } from '../src/math/fixed.js';
import {
  INDEX_MAX_RAY,
  POOL_VALUE_MAX,
  poolSurplusRayUnits,
  totalDebt,
  totalSupply,
} from '../src/pools/pool.js';
import { DEFAULT_VENUE_CONFIG } from '../src/domain/venueConfig.js';

type Json = Record<string, unknown>;

function run(engine: Engine, commands: readonly Json[]): EngineEvent[] {
  const events: EngineEvent[] = [];
  for (const command of commands) {
    const result = engine.applyJson(command);
    if (!result.ok) throw new Error(`${JSON.stringify(command)} refused: ${result.error.message}`);
    events.push(...result.events);
  }
  return events;
}

function refusal(engine: Engine, command: Json): { code: string; field: string | undefined } {
  const hash = engine.hash();
  const result = engine.applyJson(command);
  expect(result.ok, `${JSON.stringify(command)} was accepted`).toBe(false);
  expect(engine.hash(), 'a refusal changed the state').toBe(hash);
  return result.ok ? { code: '', field: undefined } : result.error;
}

const USDC = { symbol: 'USDC', decimals: 6, initialWeight: '0.85', maintenanceWeight: '0.875' };
const YEAR = 365 * 86_400;
const T0 = 1_583_971_200;

describe('how far ahead a command may be dated', () => {
  function engineAt(time: number): Engine {
    const engine = new Engine();
    run(engine, [{ type: 'list-asset', time, config: USDC, price: '1' }]);
    return engine;
  }

  it('the year 9999 is refused, and the engine goes on', () => {
    const engine = engineAt(T0);
    expect(refusal(engine, { type: 'accrue', time: 253_402_300_799, asset: 'USDC' })).toMatchObject(
      { code: 'time_jump_too_large', field: 'time' },
    );
    run(engine, [{ type: 'deposit', time: T0 + 60, account: 'alice', asset: 'USDC', amount: '1' }]);
    expect(engine.state.time).toBe(T0 + 60);
  });

  it.each([
    // [seconds ahead of the engine's time, accepted]
    [0, true],
    [DEFAULT_VENUE_CONFIG.timeJumpSecondsMax, true],
    [DEFAULT_VENUE_CONFIG.timeJumpSecondsMax + 1, false],
  ])('a command %i s ahead: accepted %s', (ahead, accepted) => {
    const engine = engineAt(T0);
    const result = engine.applyJson({ type: 'accrue', time: T0 + ahead, asset: 'USDC' });
    expect(result.ok).toBe(accepted);
  });

  it('the first command sets the time, however far from zero', () => {
    expect(engineAt(T0).state.time).toBe(T0);
  });

  it('configure-venue, dated at the engine time, changes the bound; bad values change nothing', () => {
    const engine = engineAt(T0);
    const ahead = { type: 'accrue', time: T0 + 3_600, asset: 'USDC' };
    run(engine, [{ type: 'configure-venue', time: T0, config: { timeJumpSecondsMax: 60 } }]);
    expect(refusal(engine, ahead).code).toBe('time_jump_too_large');
    // A venue that paused longer than its bound widens it at the engine's own time.
    run(engine, [{ type: 'configure-venue', time: T0, config: { timeJumpSecondsMax: 86_400 } }]);
    run(engine, [ahead]);
    for (const [config, code, field] of [
      [{ timeJumpSecondsMax: 0 }, 'invalid_number', 'config.timeJumpSecondsMax'],
      [{ timeJumpSecondsMax: -5 }, 'invalid_number', 'config.timeJumpSecondsMax'],
      [{ timeJumpSecondsMax: 1.5 }, 'invalid_field', 'config.timeJumpSecondsMax'],
      [{ timeJumpSecondsMax: '60' }, 'invalid_field', 'config.timeJumpSecondsMax'],
      [{ timeJumpSecondsMax: 1e12 }, 'invalid_number', 'config.timeJumpSecondsMax'],
      [{ valueOf: 1 }, 'invalid_field', 'config.valueOf'],
      [[], 'invalid_field', 'config'],
    ] as const) {
      expect(refusal(engine, { type: 'configure-venue', time: T0 + 3_600, config })).toMatchObject({
        code,
        field,
      });
    }
  });
});

describe('interest cannot take a pool past its bounds', () => {
  /**
   * A pool at the largest rate (base rate 1000% a year) with 500,000 of 1,000,000 lent, accrued
   * once a year for 200 years: unbounded, its debt would grow elevenfold a year to about 10^218
   * base units. The borrower's collateral is set directly and large, so nothing liquidates it.
   */
  it('two centuries at 1000% a year: interest stops at the index bound, the pool still works', () => {
    const engine = new Engine();
    const hot = {
      ...USDC,
      symbol: 'HOT',
      interest: { baseRate: '10', slope1: '0', slope2: '0', optimalUtilization: '0.8' },
    };
    const gold = { symbol: 'GOLD', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' };
    run(engine, [
      { type: 'list-asset', time: T0, config: hot, price: '1' },
      { type: 'list-asset', time: T0, config: gold, price: '1000000' },
      { type: 'deposit', time: T0, account: 'lender', asset: 'HOT', amount: '1000000' },
      { type: 'deposit', time: T0, account: 'bob', asset: 'GOLD', amount: '1000000' },
      { type: 'borrow', time: T0, account: 'bob', asset: 'HOT', amount: '500000' },
    ]);
    let capped = 0;
    for (let year = 1; year <= 200; year++) {
      const events = run(engine, [{ type: 'accrue', time: T0 + year * YEAR, asset: 'HOT' }]);
      if (events.some((e) => e.type === 'interest-capped')) capped++;
      const pool = engine.state.assets[0]?.pool;
      if (pool === undefined) throw new Error('no pool');
      expect(pool.borrowIndexRay <= INDEX_MAX_RAY && pool.supplyIndexRay <= INDEX_MAX_RAY).toBe(
        true,
      );
      expect(pool.cash + totalDebt(pool) <= POOL_VALUE_MAX).toBe(true);
      expect(totalSupply(pool) <= AMOUNT_MAX).toBe(true);
    }
    // 1 + 10 a year grows elevenfold: the billionfold index bound is met within ten years.
    expect(capped).toBeGreaterThan(190);
    const pool = engine.state.assets[0]?.pool;
    expect(pool?.borrowIndexRay).toBe(INDEX_MAX_RAY);
    // Deposits and repays still go through.
    const end = T0 + 200 * YEAR;
    run(engine, [
      { type: 'deposit', time: end, account: 'carol', asset: 'HOT', amount: '5000' },
      { type: 'repay', time: end, account: 'bob', asset: 'HOT', amount: '1000' },
    ]);
    expect(pool?.borrowIndexRay).toBe(INDEX_MAX_RAY);
    expect(pool !== undefined && pool.borrowIndexRay / RAY).toBe(10n ** 9n);
  });

  it('interest stops where cash plus debts would pass 2^127 base units, before any index bound', () => {
    // A quarter of the bound lent out at 1000% a year: a year would multiply the debt by 11.
    const engine = new Engine();
    const hot = {
      ...USDC,
      symbol: 'HOT',
      interest: { baseRate: '10', slope1: '0', slope2: '0', optimalUtilization: '0.8' },
    };
    const gold = { symbol: 'GOLD', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' };
    const quarter = POOL_VALUE_MAX / 4n;
    const whole = (baseUnits: bigint) =>
      `${baseUnits / 10n ** 6n}.${String(baseUnits % 10n ** 6n).padStart(6, '0')}`;
    run(engine, [
      { type: 'list-asset', time: T0, config: hot, price: '0.000001' },
      { type: 'list-asset', time: T0, config: gold, price: '1000000000000' },
      { type: 'deposit', time: T0, account: 'lender', asset: 'HOT', amount: whole(2n * quarter) },
      { type: 'deposit', time: T0, account: 'bob', asset: 'GOLD', amount: '100000000000000' },
      { type: 'borrow', time: T0, account: 'bob', asset: 'HOT', amount: whole(quarter) },
    ]);
    const events = run(engine, [{ type: 'accrue', time: T0 + YEAR, asset: 'HOT' }]);
    expect(events.map((e) => e.type)).toEqual(['interest-accrued', 'interest-capped']);
    const pool = engine.state.assets[0]?.pool;
    if (pool === undefined) throw new Error('no pool');
    // At the bound to within a unit of rounding, below it, with both indices far from theirs.
    const value = pool.cash + totalDebt(pool);
    expect(value <= POOL_VALUE_MAX && value >= POOL_VALUE_MAX - 1n).toBe(true);
    expect(pool.borrowIndexRay < 5n * RAY).toBe(true);
    expect(poolSurplusRayUnits(pool) >= 0n).toBe(true);
    // Repays still go through; a deposit of any size does not.
    run(engine, [{ type: 'repay', time: T0 + YEAR, account: 'bob', asset: 'HOT', amount: '1' }]);
    expect(
      refusal(engine, { type: 'deposit', time: T0 + YEAR, account: 'x', asset: 'HOT', amount: '1' })
        .code,
    ).toBe('limit_exceeded');
  });

  it("a pool's cash and debts stay within 2^127 base units: deposits and borrows past it are refused", () => {
    const engine = new Engine();
    const big = { ...USDC, symbol: 'BIG', decimals: 6 };
    const half = POOL_VALUE_MAX / 2n;
    const whole = (baseUnits: bigint) =>
      `${baseUnits / 10n ** 6n}.${String(baseUnits % 10n ** 6n).padStart(6, '0')}`;
    run(engine, [
      { type: 'list-asset', time: T0, config: big, price: '0.000001' },
      { type: 'deposit', time: T0, account: 'lender', asset: 'BIG', amount: whole(half) },
      { type: 'deposit', time: T0, account: 'lender2', asset: 'BIG', amount: whole(half) },
    ]);
    expect(
      refusal(engine, {
        type: 'deposit',
        time: T0,
        account: 'x',
        asset: 'BIG',
        amount: '0.000001',
      }),
    ).toMatchObject({ code: 'limit_exceeded', field: 'amount' });
    // Withdrawals and repays are never refused for it.
    run(engine, [
      { type: 'withdraw', time: T0, account: 'lender2', asset: 'BIG', amount: 'all' },
      { type: 'deposit', time: T0, account: 'x', asset: 'BIG', amount: '0.000001' },
    ]);
  });
});

describe("the venue's own account names", () => {
  function market(): Engine {
    const engine = new Engine();
    run(engine, [
      { type: 'list-asset', time: 0, config: USDC, price: '1' },
      { type: 'deposit', time: 0, account: 'alice', asset: 'USDC', amount: '100' },
    ]);
    return engine;
  }

  it.each([
    [
      'deposit as @backstop',
      { type: 'deposit', time: 0, account: '@backstop', asset: 'USDC', amount: '1' },
      'account',
    ],
    [
      'deposit as @venue',
      { type: 'deposit', time: 0, account: '@venue', asset: 'USDC', amount: '1' },
      'account',
    ],
    [
      'deposit into @insurance/5',
      {
        type: 'deposit',
        time: 0,
        account: '@insurance',
        subAccount: 5,
        asset: 'USDC',
        amount: '1',
      },
      'account',
    ],
    [
      'transfer to @backstop',
      {
        type: 'transfer',
        time: 0,
        from: { account: 'alice' },
        to: { account: '@backstop' },
        asset: 'USDC',
        amount: '1',
      },
      'to.account',
    ],
    [
      'liquidate by @backstop',
      {
        type: 'liquidate',
        time: 0,
        liquidator: { account: '@backstop' },
        target: { account: 'alice' },
        debtAsset: 'USDC',
        collateralAsset: 'USDC',
        amount: 'max',
      },
      'liquidator.account',
    ],
  ])('%s is refused, reserved_account, nothing changed', (_name, command, field) => {
    const engine = market();
    expect(refusal(engine, command)).toEqual(
      expect.objectContaining({ code: 'reserved_account', field }),
    );
  });

  it('anyone may still pay into the insurance fund', () => {
    const engine = market();
    run(engine, [
      { type: 'deposit', time: 0, account: '@insurance', asset: 'USDC', amount: '1' },
      {
        type: 'transfer',
        time: 0,
        from: { account: 'alice' },
        to: { account: '@insurance' },
        asset: 'USDC',
        amount: '1',
      },
    ]);
  });
});

describe('names that are properties of JavaScript objects are just names', () => {
  const names = ['toString', 'valueOf', 'constructor', 'hasOwnProperty', 'isPrototypeOf'];

  it('as assets and accounts: listed, lent, liquidated, snapshotted and monitored', () => {
    const engine = new Engine();
    const monitor = new LiquidationMonitor(engine.state);
    const apply = (command: Json) => {
      const result = engine.applyJson(command);
      if (!result.ok) throw new Error(`${JSON.stringify(command)}: ${result.error.message}`);
      monitor.observe(result);
    };
    const [debt, ...collaterals] = names;
    apply({ type: 'list-asset', time: 0, config: { ...USDC, symbol: debt }, price: '1' });
    apply({ type: 'deposit', time: 0, account: debt, asset: debt, amount: '1000000' });
    for (const name of collaterals) {
      const config = {
        symbol: name,
        decimals: 18,
        initialWeight: '0.8',
        maintenanceWeight: '0.825',
      };
      apply({ type: 'list-asset', time: 0, config, price: '10' });
      apply({ type: 'deposit', time: 0, account: name, asset: name, amount: '100' });
      apply({ type: 'borrow', time: 0, account: name, asset: debt, amount: '790' });
    }
    for (const name of collaterals) apply({ type: 'set-price', time: 1, asset: name, price: '9' });
    expect(
      monitor
        .liquidatable()
        .map((r) => r.account)
        .sort(),
    ).toEqual([...collaterals].sort());
    for (const name of collaterals) {
      apply({
        type: 'liquidate',
        time: 1,
        liquidator: { account: debt },
        target: { account: name },
        debtAsset: debt,
        collateralAsset: name,
        amount: 'max',
      });
    }
    expect(monitor.liquidatable()).toEqual([]);
    const copy = new Engine(deserializeState(serializeState(engine.state)));
    expect(copy.hash()).toBe(engine.hash());
    for (const name of names) {
      expect(typeof engine.state.accounts.get(name)?.id).toBe('string');
      expect(engine.state.assetIndex.get(name)).toBeTypeOf('number');
    }
  });
});

describe('stored commands', () => {
  it('a key __proto__ read back is a key, never the prototype', () => {
    const command = decodeStoredCommand(
      '{"type":"configure-liquidation","time":0,"config":{"__proto__":{"closeFactor":"1"}}}',
    ) as unknown as { config: object };
    expect(Object.getPrototypeOf(command.config)).toBe(Object.prototype);
    expect(Object.keys(command.config)).toEqual(['__proto__']);
    expect((command.config as { closeFactor?: unknown }).closeFactor).toBeUndefined();
  });
});
