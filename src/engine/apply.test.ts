import { describe, expect, it } from 'vitest';
import { marketWithLenderAndAlice, T0 } from '../../test/fixtures/market.js';
import { AssertionError } from '../base/errors.js';
import { AMOUNT_MAX } from '../math/fixed.js';
import { emptyPool, type PoolState } from '../pools/pool.js';
import { applyCommand, dryRun } from './apply.js';
import type { Command } from './commands.js';
import { writePool } from './draft.js';
import { Engine } from './engine.js';
import { renderEvent } from './render.js';
import { stateHash } from './stateHash.js';

const ETH = 10n ** 18n;
const USDC = 10n ** 6n;

describe('applyCommand: accepted commands', () => {
  it('a borrow moves cash out of the pool, records the debt and emits its events', () => {
    const engine = marketWithLenderAndAlice();
    const result = engine.applyJson({
      type: 'borrow',
      time: T0 + 60,
      account: 'alice',
      asset: 'USDC',
      amount: '12000',
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.sequence).toBe(7);
    const events = result.events.map(renderEvent);
    expect(events.map((e) => e.type)).toEqual(['borrowed']);
    expect(events[0]).toEqual({
      type: 'borrowed',
      account: 'alice',
      subAccount: 0,
      asset: 'USDC',
      decimals: 6,
      amount: '12000',
      scaledDelta: '-12000000000',
    });
    // 12000 of 1,000,000 lent: 1.2% utilization, 0.04 × 1.2/80 = 0.06% a year
    const pool = engine.pools()[0];
    expect(pool).toMatchObject({ cash: '988000', totalDebt: '12000', totalSupply: '1000000' });
    expect(pool).toMatchObject({ utilization: '0.012', borrowRate: '0.0006' });
    const health = engine.health({ account: 'alice', subAccount: 0 });
    // 10 ETH × 2000 × 0.825 / 12000
    expect(health.tiers.maintenance.healthFactor).toBe((16_500n * 10n ** 18n) / 12_000n);
  });

  it('interest accrues by the second at every interaction', () => {
    const engine = marketWithLenderAndAlice();
    engine.apply({
      type: 'borrow',
      time: T0,
      account: 'alice',
      subAccount: 0,
      asset: 'USDC',
      amount: 12_000n * USDC,
    });
    const year = 31_536_000;
    const result = engine.apply({ type: 'accrue', time: T0 + year, asset: 'USDC' });
    const accrued = result.ok ? renderEvent(result.events[0] ?? fail()) : {};
    // the year ran at the rate of 1.2% utilization: 0.06%
    expect(accrued).toMatchObject({
      type: 'interest-accrued',
      utilizationRay: '0.012',
      borrowRateRay: '0.0006',
      seconds: year,
    });
    const debt = engine.health({ account: 'alice', subAccount: 0 }).positions[0]?.amount ?? 0n;
    // a year at 0.06% on 12000 owes 7.2 USDC (plus the round-up of each step)
    expect(-debt - 12_000n * USDC).toBeGreaterThanOrEqual(7_200_000n);
    expect(-debt - 12_000n * USDC).toBeLessThan(7_200_010n);
  });

  it('a transfer moves scaled supply between sub-accounts and leaves the pool as it was', () => {
    const engine = marketWithLenderAndAlice();
    const before = engine.pools();
    const result = engine.applyJson({
      type: 'transfer',
      time: T0,
      from: { account: 'alice', subAccount: 0 },
      to: { account: 'alice', subAccount: 3 },
      asset: 'ETH',
      amount: '2.5',
    });
    expect(result.ok).toBe(true);
    expect(engine.pools()).toEqual(before);
    const moved = engine.health({ account: 'alice', subAccount: 3 }).positions[1]?.amount;
    expect(moved).toBe((25n * ETH) / 10n);
  });

  it('repay and withdraw of "all" close the positions completely', () => {
    const engine = marketWithLenderAndAlice();
    const alice = { account: 'alice', subAccount: 0 };
    engine.apply({ type: 'borrow', time: T0, ...alice, asset: 'USDC', amount: 1_000n * USDC });
    expect(
      engine.apply({ type: 'repay', time: T0 + 86_400, ...alice, asset: 'USDC', amount: 'all' }).ok,
    ).toBe(true);
    expect(
      engine.apply({ type: 'withdraw', time: T0 + 86_400, ...alice, asset: 'ETH', amount: 'all' })
        .ok,
    ).toBe(true);
    expect(engine.state.accounts.has('alice')).toBe(false);
  });
});

/** A balance command from `account`'s sub-account 0 (or `subAccount`) at T0. */
function balance(
  type: 'deposit' | 'withdraw' | 'borrow' | 'repay',
  account: string,
  asset: string,
  amount: bigint | 'all',
  subAccount = 0,
): Command {
  return { type, time: T0, account, subAccount, asset, amount } as Command;
}

/** Commands that must be refused against the fixture market: name, code, command. */
const refusals: [string, string, Command][] = [
  [
    'borrow beyond initial margin',
    'insufficient_collateral',
    balance('borrow', 'alice', 'USDC', 16_001n * USDC),
  ],
  [
    'withdraw beyond the balance',
    'insufficient_balance',
    balance('withdraw', 'alice', 'ETH', 11n * ETH),
  ],
  [
    'withdraw from an empty sub-account',
    'insufficient_balance',
    balance('withdraw', 'alice', 'ETH', 'all', 1),
  ],
  [
    'borrow more than the pool holds',
    'insufficient_liquidity',
    balance('borrow', 'bob', 'ETH', 111n * ETH),
  ],
  [
    'borrow an asset the account supplies',
    'asset_is_supplied',
    balance('borrow', 'alice', 'ETH', 1n),
  ],
  ['repay without debt', 'no_debt', balance('repay', 'alice', 'USDC', 1n)],
  [
    'deposit over the supply cap of 10 WBTC',
    'supply_cap_exceeded',
    balance('deposit', 'alice', 'WBTC', 10n ** 9n + 1n),
  ],
  ['unknown asset', 'unknown_asset', balance('deposit', 'alice', 'DOGE', 1n)],
  ['zero amount', 'zero_amount', balance('deposit', 'alice', 'ETH', 0n)],
  ['negative amount', 'invalid_number', balance('deposit', 'alice', 'ETH', -1n)],
  ['absurd amount', 'invalid_number', balance('deposit', 'alice', 'ETH', AMOUNT_MAX + 1n)],
  ['bad account id', 'invalid_field', balance('deposit', 'al ice', 'ETH', 1n)],
  ['sub-account out of range', 'invalid_number', balance('deposit', 'alice', 'ETH', 1n, 256)],
  [
    'time before the state',
    'time_went_backwards',
    { ...balance('deposit', 'alice', 'ETH', 1n), time: T0 - 1 },
  ],
  ['NaN time', 'invalid_number', { type: 'accrue', time: Number.NaN, asset: 'ETH' }],
  [
    'transfer to itself',
    'same_account',
    {
      type: 'transfer',
      time: T0,
      asset: 'ETH',
      amount: 1n,
      from: { account: 'alice', subAccount: 0 },
      to: { account: 'alice', subAccount: 0 },
    },
  ],
  [
    'transfer of an unknown asset',
    'unknown_asset',
    {
      type: 'transfer',
      time: T0,
      asset: 'DOGE',
      amount: 1n,
      from: { account: 'lender', subAccount: 0 },
      to: { account: 'bob', subAccount: 0 },
    },
  ],
  ['zero price', 'invalid_number', { type: 'set-price', time: T0, asset: 'ETH', price: 0n }],
  [
    'price above the maximum',
    'invalid_number',
    { type: 'set-price', time: T0, asset: 'ETH', price: 10n ** 30n + 1n },
  ],
  ['unknown command', 'unknown_command', { type: 'mint', time: T0 } as unknown as Command],
];

describe('applyCommand: refused commands change nothing', () => {
  it.each(refusals)('%s: %s', (_name, code, command) => {
    const engine = marketWithLenderAndAlice();
    const hash = stateHash(engine.state);
    const { sequence, time } = engine.state;
    const result = applyCommand(engine.state, command);
    expect(result.ok ? 'accepted' : result.error.code).toBe(code);
    expect(stateHash(engine.state)).toBe(hash);
    expect([engine.state.sequence, engine.state.time]).toEqual([sequence, time]);
  });

  it('a withdrawal that would uncover a debt is refused after the fact', () => {
    const engine = marketWithLenderAndAlice();
    const alice = { account: 'alice', subAccount: 0 } as const;
    engine.apply({ type: 'borrow', time: T0, ...alice, asset: 'USDC', amount: 10_000n * USDC });
    const hash = engine.hash();
    // 10,000 owed needs 10000 / (2000 × 0.8) = 6.25 ETH at initial weight: 3.75 ETH may go.
    const tooMuch = engine.apply({
      type: 'withdraw',
      time: T0,
      ...alice,
      asset: 'ETH',
      amount: (376n * ETH) / 100n,
    });
    expect(tooMuch.ok ? 'accepted' : tooMuch.error.code).toBe('insufficient_collateral');
    expect(engine.hash()).toBe(hash);
    expect(
      engine.apply({
        type: 'withdraw',
        time: T0,
        ...alice,
        asset: 'ETH',
        amount: (375n * ETH) / 100n,
      }).ok,
    ).toBe(true);
  });
});

describe('dryRun and the state hash', () => {
  it('a dry run answers like apply and changes nothing', () => {
    const engine = marketWithLenderAndAlice();
    const command: Command = {
      type: 'borrow',
      time: T0 + 5,
      account: 'alice',
      subAccount: 0,
      asset: 'USDC',
      amount: 5_000n * USDC,
    };
    const hash = engine.hash();
    const { result, draft } = dryRun(engine.state, command);
    expect(engine.hash()).toBe(hash);
    const after = draft?.health({ account: 'alice', subAccount: 0 });
    expect(after?.healthFactor('maintenance')).toBe((16_500n * 10n ** 18n) / 5_000n);
    const applied = engine.apply(command);
    expect(applied).toEqual(result);
    expect(engine.hash()).not.toBe(hash);
  });

  it('a dry run draft may not be used once the state has moved on', () => {
    const engine = marketWithLenderAndAlice();
    const alice = { account: 'alice', subAccount: 0 };
    const { draft } = engine.dryRun({
      type: 'deposit',
      time: T0,
      ...alice,
      asset: 'ETH',
      amount: ETH,
    });
    engine.apply({ type: 'borrow', time: T0, ...alice, asset: 'USDC', amount: 5_000n * USDC });
    expect(() => draft?.health(alice)).toThrow(AssertionError);
    expect(() => draft?.commit()).toThrow(AssertionError);
  });

  it('two engines fed the same commands agree on the hash; one more command changes it', () => {
    const a = marketWithLenderAndAlice();
    const b = marketWithLenderAndAlice();
    expect(a.hash()).toBe(b.hash());
    b.apply({ type: 'accrue', time: T0 + 1, asset: 'ETH' });
    expect(a.hash()).not.toBe(b.hash());
  });

  it('the hash of an empty engine is fixed', () => {
    expect(new Engine().hash()).toMatch(/^[0-9a-f]{64}$/);
    expect(new Engine().hash()).toBe(new Engine().hash());
  });
});

function fail(): never {
  throw new Error('missing event');
}

describe('writePool', () => {
  it('writes every field of a pool into the committed one', () => {
    const fields = Object.keys(emptyPool(0)) as (keyof PoolState)[];
    // Every field different from the empty pool's and from each other.
    const source = Object.fromEntries(
      fields.map((key, i) => [key, typeof emptyPool(0)[key] === 'bigint' ? BigInt(i + 7) : i + 7]),
    ) as unknown as PoolState;
    const target = emptyPool(0);
    writePool(target, source);
    expect(target).toEqual(source);
  });
});
