/**
 * End to end: two local EVM chains (EDR, in process), a vault on each, the real engine (in
 * memory, or durable on SQLite for restarts), a watcher per chain. Conservation (the engine's
 * credited total per chain and asset equals the vault's balance less pending withdrawals, read at
 * the cursor's block) is checked after every step.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { DurableEngine, SqliteStore } from '../../src/store/index.js';
import {
  depositToVault,
  prepareDeposit,
  send,
  sendDeposit,
  setVaultPaused,
} from '../../src/chains/deploy.js';
import { durableEnginePort, memoryEnginePort } from '../../src/chains/enginePort.js';
import type { EnginePort } from '../../src/chains/port.js';
import { signWithdrawal, withdrawCall, type VaultDomain } from '../../src/chains/withdrawals.js';
import type { ChainWatcher } from '../../src/chains/watcher.js';
import { testTokenAbi } from '../../src/chains/artifacts.js';
import {
  chainTime,
  differences,
  E18,
  E6,
  revertName,
  TestClock,
  vaultChain,
  venueKey,
  watcherConfig,
  watcherFor,
  type VaultChain,
} from './fixture.js';

const USDC = { symbol: 'USDC', decimals: 6, initialWeight: '0.85', maintenanceWeight: '0.875' };
const ETH = { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' };

function located(symbol: string, chain: string, asset: string, decimals: number) {
  return {
    symbol,
    decimals,
    initialWeight: '0.7',
    maintenanceWeight: '0.75',
    borrowable: false,
    location: { chain, asset },
  };
}

/** The venue: USDC and ETH it holds, chains arb and base, their WETH and USDC, a USDC lender. */
function listings(time: number, chains: readonly VaultChain[]): Record<string, unknown>[] {
  const commands: Record<string, unknown>[] = [
    { type: 'list-asset', time, config: USDC, price: '1' },
    { type: 'list-asset', time, config: ETH, price: '2000' },
    { type: 'deposit', time, account: 'lender', asset: 'USDC', amount: '1000000' },
  ];
  for (const vc of chains) {
    const name = vc.chain.name;
    commands.push({ type: 'list-chain', time, chain: name, withdrawalTtl: 3_600 });
    commands.push({
      type: 'list-asset',
      time,
      config: located(vc.eth, name, 'ETH', 18),
      price: '1',
    });
    commands.push({
      type: 'list-asset',
      time,
      config: located(vc.usd, name, 'USDC', 6),
      price: '1',
    });
  }
  return commands;
}

let arb: VaultChain;
let base: VaultChain;
let clock: TestClock;

beforeEach(async () => {
  arb = await vaultChain('arb', 42_161);
  base = await vaultChain('base', 8_453);
  clock = new TestClock(Math.max(await chainTime(arb), await chainTime(base)));
});

function memoryEngine(): { engine: Engine; port: EnginePort } {
  const engine = new Engine();
  for (const command of listings(clock.now(), [arb, base])) {
    expect(engine.applyJson(command)).toMatchObject({ ok: true });
  }
  return { engine, port: memoryEnginePort(engine) };
}

function balance(engine: Engine, account: string, asset: string): bigint {
  const index = engine.state.assetIndex.get(asset);
  const position = engine.state.accounts
    .get(account)
    ?.subAccounts[0]?.positions.find((p) => p.asset === index);
  return position?.scaled ?? 0n;
}

async function conserved(port: EnginePort): Promise<void> {
  for (const vc of [arb, base]) {
    for (const [asset, difference] of Object.entries(await differences(vc, port))) {
      expect({ asset, difference }).toEqual({ asset, difference: 0n });
    }
  }
}

/** Polls every watcher, then checks conservation. */
async function step(port: EnginePort, ...watchers: ChainWatcher[]): Promise<void> {
  for (const watcher of watchers) {
    const { outcome, error } = await watcher.poll();
    expect({ outcome, error }).toEqual({ outcome: 'ok', error: null });
  }
  await conserved(port);
}

function domain(vc: VaultChain): VaultDomain {
  return {
    chain: vc.chain.name,
    chainId: vc.chain.chain.id,
    vault: vc.deployed.vault,
    tokens: watcherConfig(vc).tokens,
  };
}

describe('deposits end to end', () => {
  it('credits deposits on two chains once final, exactly once', async () => {
    const { engine, port } = memoryEngine();
    const arbWatcher = watcherFor(arb, port, clock);
    const baseWatcher = watcherFor(base, port, clock, {
      finality: { kind: 'confirmations', confirmations: 5 },
    });
    await step(port, arbWatcher, baseWatcher);
    await depositToVault(arb.chain, arb.deployed, {
      from: 1,
      token: arb.weth,
      amount: (3n * E18) / 2n,
      account: 'alice',
      subAccount: 0,
    });
    await depositToVault(base.chain, base.deployed, {
      from: 1,
      token: base.usdc,
      amount: 2_500n * E6,
      account: 'alice',
      subAccount: 0,
    });
    await arb.chain.mine(3);
    await base.chain.mine(3);
    await step(port, arbWatcher, baseWatcher);
    expect(balance(engine, 'alice', arb.eth)).toBe((3n * E18) / 2n);
    expect(balance(engine, 'alice', base.usd)).toBe(0n); // 3 of 5 confirmations
    await base.chain.mine(2);
    await step(port, arbWatcher, baseWatcher);
    expect(balance(engine, 'alice', base.usd)).toBe(2_500n * E6);
    // Replayed: the same command again, and a second watcher reading everything again.
    const seen = engine.applyJson({
      type: 'chain-deposit',
      time: clock.now(),
      chain: 'arb',
      block: (
        await arbWatcher.readEvents(arb.deployed.startBlock, await arb.chain.blockNumber())
      )[0]?.block,
      logIndex: 0,
      tx: `0x${'00'.repeat(32)}`,
      account: 'alice',
      asset: arb.eth,
      amount: '1.5',
    });
    expect(seen).toMatchObject({ ok: false, error: { code: 'chain_event_seen' } });
    const again = watcherFor(arb, port, clock);
    expect(await again.poll()).toMatchObject({ outcome: 'ok', delivered: 0 });
    expect(balance(engine, 'alice', arb.eth)).toBe((3n * E18) / 2n);
    await conserved(port);
  });

  it('never credits a deposit a reorg drops before finality', async () => {
    const { engine, port } = memoryEngine();
    const watcher = watcherFor(arb, port, clock);
    const alice = { from: 1, token: arb.weth, amount: 5n * E18, account: 'alice', subAccount: 0 };
    const bob = { from: 2, token: arb.weth, amount: 2n * E18, account: 'bob', subAccount: 0 };
    await prepareDeposit(arb.chain, arb.deployed, alice);
    await prepareDeposit(arb.chain, arb.deployed, bob);
    await step(port, watcher);
    const fork = await arb.chain.snapshot();
    await sendDeposit(arb.chain, arb.deployed, alice);
    await arb.chain.mine(1);
    await step(port, watcher);
    expect(watcher.observed()).toHaveLength(1);
    await arb.chain.revert(fork);
    await sendDeposit(arb.chain, arb.deployed, bob);
    await arb.chain.mine(2);
    await step(port, watcher);
    expect(watcher.stats.reorgs).toBe(1);
    await arb.chain.mine(5);
    await step(port, watcher);
    expect(balance(engine, 'alice', arb.eth)).toBe(0n);
    expect(balance(engine, 'bob', arb.eth)).toBe(2n * E18);
  });
});

describe('restart', () => {
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'fulcrum-chains-'));
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it.each([true, false])(
    'resumes from the journaled cursor after a crash mid-stream, crediting each deposit once (pipelined %s)',
    async (pipelined) => {
      let durable = await DurableEngine.open(new SqliteStore(folder));
      for (const command of listings(clock.now(), [arb, base])) {
        expect(await durable.submitJson(command)).toMatchObject({ ok: true });
      }
      for (let i = 0; i < 5; i++) {
        await depositToVault(arb.chain, arb.deployed, {
          from: 1 + (i % 3),
          token: arb.usdc,
          amount: BigInt(100 + i) * E6,
          account: `u${i}`,
          subAccount: 0,
        });
      }
      await arb.chain.mine(3);
      // The engine stops after two more commands: a crash between two deliveries.
      let submitted = 0;
      const inner = durableEnginePort(durable, { pipelined });
      const crashing: EnginePort = {
        chain: inner.chain,
        submit: (command) => {
          submitted += 1;
          if (submitted > 2) return Promise.reject(new Error('crash'));
          return inner.submit(command);
        },
      };
      await expect(watcherFor(arb, crashing, clock).poll()).rejects.toThrow('crash');
      await durable.close();
      durable = await DurableEngine.open(new SqliteStore(folder));
      const port = durableEnginePort(durable, { pipelined });
      expect(port.chain('arb')?.cursor.block).toBeGreaterThan(arb.deployed.startBlock);
      const restarted = watcherFor(arb, port, clock);
      expect(await restarted.poll()).toMatchObject({ outcome: 'ok', delivered: 3, duplicates: 0 });
      for (let i = 0; i < 5; i++)
        expect(balance(durable.engine, `u${i}`, arb.usd)).toBe(BigInt(100 + i) * E6);
      await conserved(port);
      await durable.close();
    },
  );
});

describe('halts', () => {
  it('a halted chain backs no new risk until blocks come again', async () => {
    const { engine, port } = memoryEngine();
    const watcher = watcherFor(arb, port, clock, { haltAfterSeconds: 60 });
    await depositToVault(arb.chain, arb.deployed, {
      from: 1,
      token: arb.weth,
      amount: 5n * E18,
      account: 'alice',
      subAccount: 0,
    });
    await arb.chain.mine(3);
    await step(port, watcher);
    clock.advance(61);
    await step(port, watcher);
    expect(port.chain('arb')?.status).toBe('halted');
    const borrow = {
      type: 'borrow',
      time: clock.now(),
      account: 'alice',
      asset: 'USDC',
      amount: '100',
    };
    expect(engine.applyJson(borrow)).toMatchObject({
      ok: false,
      error: { code: 'insufficient_collateral' },
    });
    await arb.chain.mine(1);
    await step(port, watcher);
    expect(port.chain('arb')?.status).toBe('active');
    expect(engine.applyJson({ ...borrow, time: clock.now() })).toMatchObject({ ok: true });
  });
  it('a paused vault trips its chain: no new risk, no withdrawal, until it resumes', async () => {
    const { engine, port } = memoryEngine();
    const watcher = watcherFor(arb, port, clock);
    await depositToVault(arb.chain, arb.deployed, {
      from: 1,
      token: arb.weth,
      amount: 5n * E18,
      account: 'alice',
      subAccount: 0,
    });
    await arb.chain.mine(3);
    await step(port, watcher);
    await setVaultPaused(arb.chain, arb.deployed, true);
    await step(port, watcher);
    expect(port.chain('arb')?.status).toBe('paused');
    const borrow = {
      type: 'borrow',
      time: clock.advance(1),
      account: 'alice',
      asset: 'USDC',
      amount: '100',
    };
    expect(engine.applyJson(borrow)).toMatchObject({
      ok: false,
      error: { code: 'insufficient_collateral' },
    });
    const out = {
      type: 'chain-withdraw',
      time: clock.now(),
      chain: 'arb',
      account: 'alice',
      asset: arb.eth,
      amount: '1',
      recipient: `0x${'b2'.repeat(20)}`,
    };
    expect(engine.applyJson(out)).toMatchObject({
      ok: false,
      error: { code: 'chain_unavailable' },
    });
    await setVaultPaused(arb.chain, arb.deployed, false);
    await step(port, watcher);
    expect(port.chain('arb')?.status).toBe('active');
    expect(engine.applyJson({ ...borrow, time: clock.advance(1) })).toMatchObject({ ok: true });
  });
});

describe('withdrawals end to end', () => {
  it('signed, executed, replayed (refused), confirmed; another expired and returned', async () => {
    const { engine, port } = memoryEngine();
    const watcher = watcherFor(arb, port, clock);
    await depositToVault(arb.chain, arb.deployed, {
      from: 1,
      token: arb.weth,
      amount: 10n * E18,
      account: 'alice',
      subAccount: 0,
    });
    await arb.chain.mine(3);
    await step(port, watcher);
    const recipient = arb.chain.accounts[3]?.address as `0x${string}`;
    const withdraw = (amount: string) =>
      engine.applyJson({
        type: 'chain-withdraw',
        time: clock.advance(5),
        chain: 'arb',
        account: 'alice',
        asset: arb.eth,
        amount,
        recipient,
      });
    const first = withdraw('3');
    expect(first).toMatchObject({ ok: true });
    const authorized = first.ok
      ? first.events.find((event) => event.type === 'chain-withdrawal-authorized')
      : undefined;
    expect(authorized).toMatchObject({ nonce: 1, expiry: clock.now() + 3_600 });
    await step(port, watcher);
    const signed = await signWithdrawal(authorized, venueKey, domain(arb));
    const relayer = arb.chain.wallet(2);
    // Altered (a larger amount): refused; then paid once; then replayed: refused.
    expect(
      await revertName(
        send(arb.chain, relayer, withdrawCall(arb.deployed.vault, { ...signed, amount: 4n * E18 })),
      ),
    ).toBe('BadSignature');
    await send(arb.chain, relayer, withdrawCall(arb.deployed.vault, signed));
    expect(
      await revertName(send(arb.chain, relayer, withdrawCall(arb.deployed.vault, signed))),
    ).toBe('NonceUsed');
    await step(port, watcher);
    expect(port.chain('arb')?.pending.map((p) => p.nonce)).toEqual([1]);
    await arb.chain.mine(3);
    await step(port, watcher);
    expect(port.chain('arb')?.pending).toEqual([]);
    const paid = await arb.chain.client.readContract({
      address: arb.weth,
      abi: testTokenAbi,
      functionName: 'balanceOf',
      args: [recipient],
    });
    expect(paid).toBe(3n * E18);
    // A second withdrawal nobody executes: returned once a final block is past its expiry.
    const second = withdraw('2');
    const event = second.ok
      ? second.events.find((e) => e.type === 'chain-withdrawal-authorized')
      : undefined;
    const late = await signWithdrawal(event, venueKey, domain(arb));
    expect(balance(engine, 'alice', arb.eth)).toBe(5n * E18);
    const expiry = Number(late.expiry);
    clock.seconds = expiry + 10;
    await arb.chain.mine(1, expiry + 1);
    await arb.chain.mine(3);
    const report = await watcher.poll();
    expect(report.expired).toEqual([2]);
    await conserved(port);
    expect(balance(engine, 'alice', arb.eth)).toBe(7n * E18);
    expect(await revertName(send(arb.chain, relayer, withdrawCall(arb.deployed.vault, late)))).toBe(
      'Expired',
    );
    await step(port, watcher);
  });
});

describe('liquidation of cross-chain collateral', () => {
  it('seizes ETH held on arb; the liquidator withdraws it from the vault', async () => {
    const { engine, port } = memoryEngine();
    const watcher = watcherFor(arb, port, clock);
    await depositToVault(arb.chain, arb.deployed, {
      from: 1,
      token: arb.weth,
      amount: 5n * E18,
      account: 'alice',
      subAccount: 0,
    });
    await arb.chain.mine(3);
    await step(port, watcher);
    // 5 ETH at 2000 with initial weight 0.7: up to 7000 USDC.
    expect(
      engine.applyJson({
        type: 'borrow',
        time: clock.advance(1),
        account: 'alice',
        asset: 'USDC',
        amount: '6900',
      }),
    ).toMatchObject({ ok: true });
    expect(
      engine.applyJson({
        type: 'deposit',
        time: clock.now(),
        account: 'liq',
        asset: 'USDC',
        amount: '10000',
      }),
    ).toMatchObject({ ok: true });
    expect(
      engine.applyJson({ type: 'set-price', time: clock.advance(1), asset: 'ETH', price: '1800' }),
    ).toMatchObject({ ok: true });
    expect(engine.liquidation({ account: 'alice', subAccount: 0 }).liquidatable).toBe(true);
    const liquidated = engine.applyJson({
      type: 'liquidate',
      time: clock.advance(1),
      liquidator: { account: 'liq', subAccount: 0 },
      target: { account: 'alice', subAccount: 0 },
      debtAsset: 'USDC',
      collateralAsset: arb.eth,
      amount: 'max',
    });
    expect(liquidated).toMatchObject({ ok: true });
    const seized = balance(engine, 'liq', arb.eth);
    expect(seized).toBeGreaterThan(0n);
    // Every claim on the vault's 5 ETH, the insurance fund's share of the penalty included.
    const claims = [...engine.state.accounts.keys()].reduce(
      (sum, id) => sum + balance(engine, id, arb.eth),
      0n,
    );
    expect(claims).toBe(5n * E18);
    expect(balance(engine, 'alice', arb.eth)).toBeLessThan(5n * E18 - seized + 1n);
    await step(port, watcher);
    const recipient = arb.chain.accounts[2]?.address as `0x${string}`;
    const out = engine.applyJson({
      type: 'chain-withdraw',
      time: clock.advance(1),
      chain: 'arb',
      account: 'liq',
      asset: arb.eth,
      amount: 'all',
      recipient,
    });
    expect(out).toMatchObject({ ok: true });
    const event = out.ok
      ? out.events.find((e) => e.type === 'chain-withdrawal-authorized')
      : undefined;
    await step(port, watcher);
    await send(
      arb.chain,
      arb.chain.wallet(2),
      withdrawCall(arb.deployed.vault, await signWithdrawal(event, venueKey, domain(arb))),
    );
    await arb.chain.mine(3);
    await step(port, watcher);
    const received = await arb.chain.client.readContract({
      address: arb.weth,
      abi: testTokenAbi,
      functionName: 'balanceOf',
      args: [recipient],
    });
    expect(received).toBe(seized);
    expect(port.chain('arb')?.pending).toEqual([]);
  });
});
