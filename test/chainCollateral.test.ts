/**
 * Collateral held on other chains, as the engine keeps it: located listings priced by the asset
 * they copy, the chain's cursor (exactly-once credit), withdrawals authorized, paid and returned,
 * a tripped chain backing no new risk, liquidation of located collateral, and conservation
 * (credited + pending = what the vault took in less what it paid) after every step. The chain
 * side (vault contracts, watcher, reorgs) is tested in test/chains/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Command, Engine } from '../src/index.js';
import { chainReport } from '../src/engine/chains.js';
import { deserializeState, serializeState } from '../src/engine/snapshotCodec.js';
import { stateHash } from '../src/engine/stateHash.js';
import { DurableEngine, SqliteStore } from '../src/store/index.js';
import { ETH_LISTING, T0, USDC_LISTING } from './fixtures/market.js';

const TX = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const ALICE_WALLET = `0x${'a1'.repeat(20)}`;
const ETH_ARB = {
  symbol: 'ETH.arb',
  decimals: 18,
  initialWeight: '0.7',
  maintenanceWeight: '0.75',
  borrowable: false,
  supplyCap: '1000',
  location: { chain: 'arb', asset: 'ETH' },
};

/** USDC and ETH held by the venue, chain `arb` and ETH on it, a lender of USDC. */
function setup(): Engine {
  const engine = new Engine();
  const commands = [
    { type: 'list-asset', time: T0, config: USDC_LISTING, price: '1' },
    { type: 'list-asset', time: T0, config: ETH_LISTING, price: '2000' },
    { type: 'list-chain', time: T0, chain: 'arb', withdrawalTtl: 600 },
    { type: 'list-asset', time: T0, config: ETH_ARB, price: '1' },
    { type: 'deposit', time: T0, account: 'lender', asset: 'USDC', amount: '1000000' },
  ];
  for (const command of commands) expect(engine.applyJson(command)).toMatchObject({ ok: true });
  return engine;
}

function deposit(block: number, logIndex: number, amount: string, account = 'alice') {
  return {
    type: 'chain-deposit',
    time: T0 + block,
    chain: 'arb',
    block,
    logIndex,
    tx: TX(block * 100 + logIndex),
    account,
    asset: 'ETH.arb',
    amount,
  };
}

/** The vault's ledger as the test keeps it: what it took in and paid out, in base units. */
class Vault {
  balance = 0n;
  take(amount: string): void {
    const [whole = '0', fraction = ''] = amount.split('.');
    this.balance += BigInt(whole) * 10n ** 18n + BigInt(fraction.padEnd(18, '0'));
  }
}

function expectConservation(engine: Engine, vaultBalance: bigint): void {
  const [arb] = chainReport(engine.state);
  const eth = arb?.assets.find((a) => a.asset === 'ETH.arb');
  expect(eth).toBeDefined();
  expect((eth?.credited ?? 0n) + (eth?.pending ?? 0n)).toBe(vaultBalance);
}

const ETH = 10n ** 18n;

describe('located listings', () => {
  it('take the price of the asset they copy, now and on every move', () => {
    const engine = setup();
    const price = (symbol: string) =>
      engine.state.assets[engine.state.assetIndex.get(symbol) ?? -1]?.risk.oraclePrice;
    // Listed at 1 in the command: the copy's price is ETH's, not the command's.
    expect(price('ETH.arb')).toBe(price('ETH'));
    expect(
      engine.applyJson({ type: 'set-price', time: T0 + 1, asset: 'ETH', price: '1500' }),
    ).toMatchObject({ ok: true });
    expect(price('ETH.arb')).toBe(1500n * 10n ** 18n);
    const own = engine.applyJson({ type: 'set-price', time: T0 + 1, asset: 'ETH.arb', price: '9' });
    expect(own).toMatchObject({ ok: false, error: { code: 'oracle_managed' } });
  });

  it.each([
    [
      'an unlisted chain',
      { ...ETH_ARB, symbol: 'ETH.op', location: { chain: 'op', asset: 'ETH' } },
      'unknown_chain',
    ],
    [
      'an unlisted asset',
      { ...ETH_ARB, symbol: 'SOL.arb', location: { chain: 'arb', asset: 'SOL' } },
      'unknown_asset',
    ],
    [
      'a copy of a copy',
      { ...ETH_ARB, symbol: 'X.arb', location: { chain: 'arb', asset: 'ETH.arb' } },
      'unknown_asset',
    ],
    ['a borrowable copy', { ...ETH_ARB, symbol: 'ETH.b', borrowable: true }, 'invalid_config'],
    [
      'a bad chain name',
      { ...ETH_ARB, symbol: 'ETH.c', location: { chain: 'Arb!', asset: 'ETH' } },
      'invalid_config',
    ],
    [
      'an unknown location field',
      { ...ETH_ARB, symbol: 'ETH.d', location: { chain: 'arb', asset: 'ETH', x: 1 } },
      'invalid_field',
    ],
  ])('refuse %s and change nothing', (_name, config, code) => {
    const engine = setup();
    const before = engine.hash();
    const result = engine.applyJson({ type: 'list-asset', time: T0 + 1, config, price: '2000' });
    expect(result).toMatchObject({ ok: false, error: { code } });
    expect(engine.hash()).toBe(before);
  });

  it('move in and out only through the vault', () => {
    const engine = setup();
    expect(engine.applyJson(deposit(10, 0, '2'))).toMatchObject({ ok: true });
    const before = engine.hash();
    for (const type of ['deposit', 'withdraw']) {
      const command = { type, time: T0 + 20, account: 'alice', asset: 'ETH.arb', amount: '1' };
      expect(engine.applyJson(command)).toMatchObject({
        ok: false,
        error: { code: 'chain_asset' },
      });
    }
    const borrow = { type: 'borrow', time: T0 + 20, account: 'bob', asset: 'ETH.arb', amount: '1' };
    expect(engine.applyJson(borrow)).toMatchObject({
      ok: false,
      error: { code: 'borrowing_disabled' },
    });
    expect(engine.hash()).toBe(before);
  });
});

describe('the chain cursor', () => {
  it('credits each vault event once, in chain order, whatever is re-delivered', () => {
    const engine = setup();
    const vault = new Vault();
    const events: [number, number, string][] = [
      [10, 0, '1.5'],
      [10, 3, '0.25'],
      [12, 1, '2'],
    ];
    for (const [block, log, amount] of events) {
      expect(engine.applyJson(deposit(block, log, amount))).toMatchObject({ ok: true });
      vault.take(amount);
      expectConservation(engine, vault.balance);
    }
    const before = engine.hash();
    // A restarted watcher delivers everything again, and an older event out of order.
    for (const [block, log, amount] of [...events, [11, 5, '9'] as const]) {
      const again = engine.applyJson({ ...deposit(block, log, amount), time: T0 + 100 });
      expect(again).toMatchObject({ ok: false, error: { code: 'chain_event_seen' } });
    }
    expect(engine.hash()).toBe(before);
    expect(chainReport(engine.state)[0]?.cursor).toEqual({ block: 12, logIndex: 1 });
    const { tiers } = engine.health({ account: 'alice', subAccount: 0 });
    // 3.75 ETH.arb at 2000, maintenance weight 0.75, counted once.
    const once = engine.health({ account: 'alice', subAccount: 0 }).tiers.maintenance;
    expect(tiers.maintenance.weightedCollateral).toBe(once.weightedCollateral);
    expect(tiers.maintenance.weightedCollateral).toBeGreaterThan(0n);
  });

  it('moves to the end of a scanned block, never back', () => {
    const engine = setup();
    const checkpoint = (block: number) => ({
      type: 'chain-checkpoint',
      time: T0 + 1,
      chain: 'arb',
      block,
    });
    expect(engine.applyJson(checkpoint(50))).toMatchObject({ ok: true });
    expect(chainReport(engine.state)[0]?.cursor).toEqual({ block: 50, logIndex: null });
    expect(engine.applyJson(deposit(50, 7, '1'))).toMatchObject({
      ok: false,
      error: { code: 'chain_event_seen' },
    });
    expect(engine.applyJson(checkpoint(49))).toMatchObject({
      ok: false,
      error: { code: 'chain_event_seen' },
    });
    expect(engine.applyJson(deposit(51, 0, '1'))).toMatchObject({ ok: true });
  });

  it.each([
    ['an unlisted chain', { ...deposit(1, 0, '1'), chain: 'op' }, 'unknown_chain'],
    ['an asset of another chain', { ...deposit(1, 0, '1'), asset: 'ETH' }, 'wrong_chain'],
    ['a malformed transaction', { ...deposit(1, 0, '1'), tx: '0x12' }, 'invalid_field'],
    ['a negative block', { ...deposit(1, 0, '1'), block: -1 }, 'invalid_number'],
    ['a fractional log index', { ...deposit(1, 0, '1'), logIndex: 1.5 }, 'invalid_field'],
    ['a zero amount', deposit(1, 0, '0'), 'zero_amount'],
    ['too many decimals', deposit(1, 0, '0.0000000000000000001'), 'too_many_decimals'],
    ['an unknown field', { ...deposit(1, 0, '1'), memo: 'x' }, 'invalid_field'],
  ])('refuses %s and changes nothing', (_name, command, code) => {
    const engine = setup();
    const before = engine.hash();
    expect(engine.applyJson(command)).toMatchObject({ ok: false, error: { code } });
    expect(engine.hash()).toBe(before);
  });
});

describe('withdrawals', () => {
  function funded(): { engine: Engine; vault: Vault } {
    const engine = setup();
    const vault = new Vault();
    expect(engine.applyJson(deposit(10, 0, '5'))).toMatchObject({ ok: true });
    vault.take('5');
    return { engine, vault };
  }
  const withdraw = (amount: string, time = T0 + 100) => ({
    type: 'chain-withdraw',
    time,
    chain: 'arb',
    account: 'alice',
    asset: 'ETH.arb',
    amount,
    recipient: ALICE_WALLET,
  });

  it('debit, authorize with a nonce and an expiry, and end when paid', () => {
    const { engine, vault } = funded();
    const result = engine.applyJson(withdraw('2'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const authorized = result.events.find((e) => e.type === 'chain-withdrawal-authorized');
    expect(authorized).toMatchObject({
      nonce: 1,
      baseUnits: 2n * ETH,
      recipient: ALICE_WALLET,
      expiry: T0 + 100 + 600,
    });
    expectConservation(engine, vault.balance);
    const paid = {
      type: 'chain-withdrawal-paid',
      time: T0 + 120,
      chain: 'arb',
      nonce: 1,
      block: 20,
      logIndex: 0,
      tx: TX(2000),
    };
    expect(engine.applyJson(paid)).toMatchObject({ ok: true });
    vault.balance -= 2n * ETH;
    expectConservation(engine, vault.balance);
    expect(engine.applyJson({ ...paid, block: 21 })).toMatchObject({
      ok: false,
      error: { code: 'unknown_withdrawal' },
    });
    expect(engine.applyJson(withdraw('1', T0 + 130))).toMatchObject({ ok: true });
    expect(chainReport(engine.state)[0]?.nextNonce).toBe(3);
  });

  it('return an unpaid withdrawal after its expiry, never before', () => {
    const { engine, vault } = funded();
    expect(engine.applyJson(withdraw('all'))).toMatchObject({ ok: true });
    const expired = (time: number) => ({
      type: 'chain-withdrawal-expired',
      time,
      chain: 'arb',
      nonce: 1,
    });
    const before = engine.hash();
    expect(engine.applyJson(expired(T0 + 700))).toMatchObject({
      ok: false,
      error: { code: 'withdrawal_not_expired' },
    });
    expect(engine.hash()).toBe(before);
    expect(engine.applyJson(expired(T0 + 701))).toMatchObject({ ok: true });
    expectConservation(engine, vault.balance);
    const report = chainReport(engine.state)[0];
    expect(report?.pending).toEqual([]);
    expect(report?.assets[0]?.credited).toBe(5n * ETH);
    expect(engine.applyJson(expired(T0 + 702))).toMatchObject({
      ok: false,
      error: { code: 'unknown_withdrawal' },
    });
  });

  it('are checked against initial margin like any withdrawal', () => {
    const { engine } = funded();
    // 5 ETH.arb at 2000, initial weight 0.7: 7,000 of collateral; borrow 6,000 USDC.
    const borrow = {
      type: 'borrow',
      time: T0 + 50,
      account: 'alice',
      asset: 'USDC',
      amount: '6000',
    };
    expect(engine.applyJson(borrow)).toMatchObject({ ok: true });
    const before = engine.hash();
    expect(engine.applyJson(withdraw('1'))).toMatchObject({
      ok: false,
      error: { code: 'insufficient_collateral' },
    });
    expect(engine.hash()).toBe(before);
  });

  it.each([
    ['a malformed recipient', { recipient: '0x1234' }, 'invalid_field'],
    ['more than held', { amount: '6' }, 'insufficient_balance'],
    ['an asset the venue holds', { asset: 'ETH' }, 'wrong_chain'],
    ['the insurance fund', { account: '@insurance' }, 'reserved_account'],
  ])('refuse %s and change nothing', (_name, change, code) => {
    const { engine } = funded();
    const before = engine.hash();
    expect(engine.applyJson({ ...withdraw('1'), ...change })).toMatchObject({
      ok: false,
      error: { code },
    });
    expect(engine.hash()).toBe(before);
  });
});

describe('a tripped chain', () => {
  it('backs no new risk, liquidates nobody by itself, and recovers its weight', () => {
    const engine = setup();
    expect(engine.applyJson(deposit(10, 0, '5'))).toMatchObject({ ok: true });
    const borrow = (amount: string, time: number) => ({
      type: 'borrow',
      time,
      account: 'alice',
      asset: 'USDC',
      amount,
    });
    expect(engine.applyJson(borrow('3000', T0 + 20))).toMatchObject({ ok: true });
    const status = (value: string, time: number) => ({
      type: 'set-chain-status',
      time,
      chain: 'arb',
      status: value,
    });
    expect(engine.applyJson(status('halted', T0 + 30))).toMatchObject({ ok: true });
    expect(engine.applyJson(borrow('1', T0 + 31))).toMatchObject({
      ok: false,
      error: { code: 'insufficient_collateral' },
    });
    const health = engine.health({ account: 'alice', subAccount: 0 });
    expect(engine.liquidation({ account: 'alice', subAccount: 0 }).liquidatable).toBe(false);
    // Nothing counts for new risk; maintenance keeps counting it.
    expect(health.tiers.initial.weightedCollateral).toBe(0n);
    expect(health.tiers.maintenance.weightedCollateral).toBeGreaterThan(0n);
    const withdraw = { ...deposit(0, 0, '1'), type: 'chain-withdraw', recipient: ALICE_WALLET };
    delete (withdraw as Record<string, unknown>).block;
    delete (withdraw as Record<string, unknown>).logIndex;
    delete (withdraw as Record<string, unknown>).tx;
    expect(engine.applyJson({ ...withdraw, time: T0 + 32 })).toMatchObject({
      ok: false,
      error: { code: 'chain_unavailable' },
    });
    // The stress controller may lower weights meanwhile: the initial one is held.
    const weights = {
      type: 'set-weights',
      time: T0 + 33,
      asset: 'ETH.arb',
      initialWeight: '0.6',
      maintenanceWeight: '0.7',
    };
    expect(engine.applyJson(weights)).toMatchObject({ ok: true });
    const initial = () =>
      engine.state.assets[engine.state.assetIndex.get('ETH.arb') ?? -1]?.config.assetWeight.initial;
    expect(initial()).toBe(0n);
    expect(engine.applyJson(status('halted', T0 + 34))).toMatchObject({
      ok: false,
      error: { code: 'chain_status_unchanged' },
    });
    expect(engine.applyJson(status('active', T0 + 35))).toMatchObject({ ok: true });
    expect(initial()).toBe(600_000n);
    expect(engine.applyJson(borrow('100', T0 + 36))).toMatchObject({ ok: true });
  });
});

describe('liquidation', () => {
  it('seizes located collateral where it sits: the liquidator holds a claim on the vault', () => {
    const engine = setup();
    expect(engine.applyJson(deposit(10, 0, '5'))).toMatchObject({ ok: true });
    const borrow = {
      type: 'borrow',
      time: T0 + 20,
      account: 'alice',
      asset: 'USDC',
      amount: '6900',
    };
    expect(engine.applyJson(borrow)).toMatchObject({ ok: true });
    const liquidatorFunds = {
      type: 'deposit',
      time: T0 + 20,
      account: 'liq',
      asset: 'USDC',
      amount: '10000',
    };
    expect(engine.applyJson(liquidatorFunds)).toMatchObject({ ok: true });
    expect(
      engine.applyJson({ type: 'set-price', time: T0 + 30, asset: 'ETH', price: '1800' }),
    ).toMatchObject({ ok: true });
    expect(engine.liquidation({ account: 'alice', subAccount: 0 }).liquidatable).toBe(true);
    const result = engine.applyJson({
      type: 'liquidate',
      time: T0 + 31,
      liquidator: { account: 'liq', subAccount: 0 },
      target: { account: 'alice', subAccount: 0 },
      debtAsset: 'USDC',
      collateralAsset: 'ETH.arb',
      amount: 'max',
    });
    expect(result).toMatchObject({ ok: true });
    const arb = engine.state.assetIndex.get('ETH.arb');
    const liq = engine.state.accounts
      .get('liq')
      ?.subAccounts[0]?.positions.find((p) => p.asset === arb);
    expect(liq?.scaled ?? 0n).toBeGreaterThan(0n);
    // What the vault holds is unchanged: the claim moved between accounts.
    expectConservation(engine, 5n * ETH);
    // The liquidator takes it out on that chain.
    const out = {
      type: 'chain-withdraw',
      time: T0 + 40,
      chain: 'arb',
      account: 'liq',
      asset: 'ETH.arb',
      amount: 'all',
      recipient: `0x${'b2'.repeat(20)}`,
    };
    expect(engine.applyJson(out)).toMatchObject({ ok: true });
    expectConservation(engine, 5n * ETH);
  });
});

describe('durability', () => {
  function story(engine: { applyJson(c: unknown): { ok: boolean } }): void {
    const commands = [
      deposit(10, 0, '5'),
      { type: 'set-price', time: T0 + 15, asset: 'ETH', price: '2100' },
      {
        type: 'chain-withdraw',
        time: T0 + 20,
        chain: 'arb',
        account: 'alice',
        asset: 'ETH.arb',
        amount: '1',
        recipient: ALICE_WALLET,
      },
      { type: 'set-chain-status', time: T0 + 21, chain: 'arb', status: 'paused' },
      { type: 'chain-checkpoint', time: T0 + 22, chain: 'arb', block: 15 },
    ];
    for (const command of commands) expect(engine.applyJson(command)).toMatchObject({ ok: true });
  }

  it('keeps chains, cursors and pending withdrawals through a snapshot', () => {
    const engine = setup();
    story(engine);
    const restored = deserializeState(serializeState(engine.state));
    expect(stateHash(restored)).toBe(engine.hash());
    expect(chainReport(restored)).toEqual(chainReport(engine.state));
  });

  it('recovers the same state from the journal', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'fulcrum-chains-'));
    try {
      const durable = await DurableEngine.open(new SqliteStore(folder));
      const reference = setup();
      story(reference);
      const commands = [
        { type: 'list-asset', time: T0, config: USDC_LISTING, price: '1' },
        { type: 'list-asset', time: T0, config: ETH_LISTING, price: '2000' },
        { type: 'list-chain', time: T0, chain: 'arb', withdrawalTtl: 600 },
        { type: 'list-asset', time: T0, config: ETH_ARB, price: '1' },
        { type: 'deposit', time: T0, account: 'lender', asset: 'USDC', amount: '1000000' },
      ];
      for (const command of commands) await durable.submitJson(command);
      const pending: Promise<unknown>[] = [];
      story({
        applyJson: (c) => {
          pending.push(durable.submitJson(c));
          return { ok: true };
        },
      });
      await Promise.all(pending);
      expect(durable.engine.hash()).toBe(reference.hash());
      await durable.close();
      const reopened = await DurableEngine.open(new SqliteStore(folder));
      expect(reopened.engine.hash()).toBe(reference.hash());
      expect(chainReport(reopened.engine.state)[0]?.cursor).toEqual({ block: 15, logIndex: null });
      await reopened.close();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('chain commands refused', () => {
  const paid = {
    type: 'chain-withdrawal-paid',
    time: T0 + 1,
    chain: 'arb',
    nonce: 1,
    block: 5,
    logIndex: 0,
    tx: TX(5),
  };
  it.each([
    [
      'a chain listed twice',
      { type: 'list-chain', time: T0 + 1, chain: 'arb' },
      'chain_already_listed',
    ],
    [
      'an authorization shorter than a minute',
      { type: 'list-chain', time: T0 + 1, chain: 'op', withdrawalTtl: 59 },
      'invalid_number',
    ],
    [
      'a status of no kind',
      { type: 'set-chain-status', time: T0 + 1, chain: 'arb', status: 'broken' },
      'invalid_field',
    ],
    [
      'the status of an unlisted chain',
      { type: 'set-chain-status', time: T0 + 1, chain: 'op', status: 'halted' },
      'unknown_chain',
    ],
    ['a payout of no pending withdrawal', paid, 'unknown_withdrawal'],
    [
      'an expiry of no pending withdrawal',
      { type: 'chain-withdrawal-expired', time: T0 + 1, chain: 'arb', nonce: 3 },
      'unknown_withdrawal',
    ],
    [
      'a checkpoint of an unlisted chain',
      { type: 'chain-checkpoint', time: T0 + 1, chain: 'op', block: 1 },
      'unknown_chain',
    ],
  ])('%s, changing nothing', (_name, command, code) => {
    const engine = setup();
    const before = engine.hash();
    expect(engine.applyJson(command)).toMatchObject({ ok: false, error: { code } });
    expect(engine.hash()).toBe(before);
  });

  it('refuses a typed command of a library caller with a malformed field', () => {
    const engine = setup();
    const before = engine.hash();
    const typed = { ...paid, tx: '0x1' } as unknown as Command;
    expect(engine.apply(typed)).toMatchObject({
      ok: false,
      error: { code: 'invalid_field', field: 'tx' },
    });
    const chain = {
      type: 'chain-checkpoint',
      time: T0 + 1,
      chain: 'Arb',
      block: 1,
    } as unknown as Command;
    expect(engine.apply(chain)).toMatchObject({
      ok: false,
      error: { code: 'invalid_field', field: 'chain' },
    });
    expect(engine.hash()).toBe(before);
  });
});
