/**
 * The chain watcher against real local chains (EDR, in process) and a recording stand-in for the
 * engine (test/chains/fakeEngine.ts). The end-to-end tests (engine.e2e.test.ts) run the same
 * stories on the real engine.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  depositsInOneBlock,
  depositToVault,
  prepareDeposit,
  send,
  sendDeposit,
  setVaultPaused,
} from '../../src/chains/deploy.js';
import { BLOCK_END } from '../../src/chains/port.js';
import { testTokenAbi } from '../../src/chains/artifacts.js';
import { ChainWatcher } from '../../src/chains/watcher.js';
import { FulcrumError } from '../../src/base/errors.js';
import { FakeEngine } from './fakeEngine.js';
import {
  chainTime,
  differences,
  E18,
  E6,
  revertName,
  TestClock,
  vaultChain,
  watcherConfig,
  watcherFor,
  type VaultChain,
} from './fixture.js';

let arb: VaultChain;
let engine: FakeEngine;
let clock: TestClock;

beforeEach(async () => {
  arb = await vaultChain('arb', 42_161);
  engine = new FakeEngine();
  engine.listChain('arb', 3_600, { [arb.eth]: 18, [arb.usd]: 6 });
  clock = new TestClock(await chainTime(arb));
});

async function conserved(vc: VaultChain = arb): Promise<void> {
  for (const difference of Object.values(await differences(vc, engine)))
    expect(difference).toBe(0n);
}

describe('deposits', () => {
  it('credits a deposit once it has the configured confirmations, exactly once', async () => {
    const watcher = watcherFor(arb, engine, clock);
    await watcher.poll();
    await conserved();
    const block = await depositToVault(arb.chain, arb.deployed, {
      from: 1,
      token: arb.weth,
      amount: (3n * E18) / 2n,
      account: 'alice',
      subAccount: 0,
    });
    // Seen, not final: observed, not credited (3 confirmations: final once block + 3 exists).
    let report = await watcher.poll();
    expect(report.delivered).toBe(0);
    expect(watcher.observed().map((event) => [event.kind, event.block])).toEqual([
      ['deposit', block],
    ]);
    expect(engine.balance('alice', arb.eth)).toBe(0n);
    await arb.chain.mine(2);
    report = await watcher.poll();
    expect(report.finalHead).toBe(block - 1);
    expect(engine.balance('alice', arb.eth)).toBe(0n);
    await arb.chain.mine(1);
    report = await watcher.poll();
    expect(report).toMatchObject({ outcome: 'ok', delivered: 1, finalHead: block });
    expect(engine.balance('alice', arb.eth)).toBe((3n * E18) / 2n);
    const deposit = engine.accepted.find((command) => command.type === 'chain-deposit');
    expect(deposit).toMatchObject({
      chain: 'arb',
      block,
      account: 'alice',
      subAccount: 0,
      asset: arb.eth,
      amount: '1.5',
    });
    expect(watcher.observed()).toEqual([]);
    await conserved();
    // Polling again delivers nothing more.
    await arb.chain.mine(5);
    report = await watcher.poll();
    expect(report.delivered).toBe(0);
    expect(engine.balance('alice', arb.eth)).toBe((3n * E18) / 2n);
    await conserved();
  });

  it('refuses a replayed event: a second delivery credits nothing', async () => {
    const watcher = watcherFor(arb, engine, clock);
    await depositToVault(arb.chain, arb.deployed, {
      from: 1,
      token: arb.usdc,
      amount: 250n * E6,
      account: 'bob',
      subAccount: 0,
    });
    await arb.chain.mine(3);
    expect((await watcher.poll()).delivered).toBe(1);
    const deposit = engine.accepted.find((command) => command.type === 'chain-deposit');
    if (deposit === undefined) throw new Error('no deposit delivered');
    // The same command again (a retried submission): refused as seen.
    expect(await engine.submit({ ...deposit, time: clock.now() })).toMatchObject({
      ok: false,
      error: { code: 'chain_event_seen' },
    });
    // A second watcher that remembers nothing reads the same events again.
    const second = watcherFor(arb, engine, clock);
    const report = await second.poll();
    expect(report).toMatchObject({ outcome: 'ok', delivered: 0 });
    expect(engine.balance('bob', arb.usd)).toBe(250n * E6);
    await conserved();
  });

  it('resumes from the engine cursor after a crash in the middle of a block', async () => {
    // Three deposits in one block.
    const deposits = [0, 1, 2].map((i) => ({
      from: 1 + i,
      token: arb.weth,
      amount: BigInt(i + 1) * E18,
      account: `u${i}`,
      subAccount: 0,
    }));
    const block = await depositsInOneBlock(arb.chain, arb.deployed, deposits);
    await arb.chain.mine(3);
    engine.crashAfter = 1;
    const first = watcherFor(arb, engine, clock);
    await expect(first.poll()).rejects.toThrow('crashed');
    const cursor = engine.chain('arb')?.cursor;
    // Crashed after the first of the block's three deposits.
    expect(cursor?.block).toBe(block);
    expect(cursor?.logIndex).not.toBe(BLOCK_END);
    expect(engine.balance('u0', arb.eth)).toBe(E18);
    expect(engine.balance('u1', arb.eth)).toBe(0n);
    engine.crashAfter = Infinity;
    const restarted = watcherFor(arb, engine, clock);
    const report = await restarted.poll();
    expect(report).toMatchObject({ outcome: 'ok', delivered: 2, duplicates: 0 });
    expect([
      engine.balance('u0', arb.eth),
      engine.balance('u1', arb.eth),
      engine.balance('u2', arb.eth),
    ]).toEqual([E18, 2n * E18, 3n * E18]);
    await conserved();
  });
});

describe('reorganizations', () => {
  it('never credits a deposit a reorg drops before finality, and rewinds on the parent hash', async () => {
    const alice = { from: 1, token: arb.weth, amount: 5n * E18, account: 'alice', subAccount: 0 };
    const bob = { from: 2, token: arb.weth, amount: 2n * E18, account: 'bob', subAccount: 0 };
    await prepareDeposit(arb.chain, arb.deployed, alice);
    await prepareDeposit(arb.chain, arb.deployed, bob);
    const watcher = watcherFor(arb, engine, clock);
    await watcher.poll();
    const fork = await arb.chain.snapshot();
    const aliceBlock = await sendDeposit(arb.chain, arb.deployed, alice);
    await arb.chain.mine(1);
    // One confirmation of three: observed only.
    expect((await watcher.poll()).delivered).toBe(0);
    expect(watcher.observed().map((event) => event.command.account)).toEqual(['alice']);
    // The chain reorganizes: back to the fork, then a different history, longer than the first.
    await arb.chain.revert(fork);
    const bobBlock = await sendDeposit(arb.chain, arb.deployed, bob);
    expect(bobBlock).toBe(aliceBlock);
    await arb.chain.mine(2);
    const report = await watcher.poll();
    expect(report).toMatchObject({ outcome: 'ok', delivered: 0, rewoundFrom: aliceBlock });
    expect(watcher.stats.reorgs).toBe(1);
    expect(watcher.observed().map((event) => event.command.account)).toEqual(['bob']);
    await arb.chain.mine(5);
    const final = await watcher.poll();
    expect(final).toMatchObject({ outcome: 'ok', delivered: 1 });
    expect(engine.balance('alice', arb.eth)).toBe(0n);
    expect(engine.balance('bob', arb.eth)).toBe(2n * E18);
    expect(
      engine.accepted
        .filter((command) => command.type === 'chain-deposit')
        .map((command) => command.block),
    ).toEqual([bobBlock]);
    await conserved();
  });

  it('halts the chain when a reorg replaces a block the engine took as final', async () => {
    const watcher = watcherFor(arb, engine, clock, {
      finality: { kind: 'confirmations', confirmations: 1 },
    });
    const fork = await arb.chain.snapshot();
    await depositToVault(arb.chain, arb.deployed, {
      from: 1,
      token: arb.weth,
      amount: E18,
      account: 'alice',
      subAccount: 0,
    });
    await arb.chain.mine(2);
    expect((await watcher.poll()).delivered).toBe(1);
    await arb.chain.revert(fork);
    await arb.chain.mine(6);
    const report = await watcher.poll();
    expect(report.outcome).toBe('finality-violated');
    expect(engine.chain('arb')?.status).toBe('halted');
    // It stays halted: nothing more is delivered on a chain whose finality failed.
    await arb.chain.mine(2);
    expect(await watcher.poll()).toMatchObject({ outcome: 'finality-violated', delivered: 0 });
  });
});

describe('halts and pauses', () => {
  it('trips a chain that stops producing blocks, and clears it when blocks come again', async () => {
    const watcher = watcherFor(arb, engine, clock, { haltAfterSeconds: 120 });
    await watcher.poll();
    clock.advance(119);
    expect((await watcher.poll()).status).toBe('active');
    clock.advance(1);
    expect((await watcher.poll()).status).toBe('halted');
    expect(engine.chain('arb')?.status).toBe('halted');
    expect(engine.accepted.at(-1)).toMatchObject({
      type: 'set-chain-status',
      status: 'halted',
      time: clock.now(),
    });
    await arb.chain.mine(1);
    expect((await watcher.poll()).status).toBe('active');
    expect(engine.chain('arb')?.status).toBe('active');
  });

  it('trips a chain that does not answer once the halt time passes', async () => {
    const watcher = watcherFor(arb, engine, clock, { haltAfterSeconds: 60 });
    await watcher.poll();
    const silent = new ChainWatcher(watcherConfig(arb, { haltAfterSeconds: 60 }), {
      client: {
        ...arb.chain.client,
        getBlock: () => Promise.reject(new Error('connection refused')),
      } as never,
      engine,
      now: clock.now,
    });
    expect(await silent.poll()).toMatchObject({
      outcome: 'unreachable',
      status: 'active',
      error: 'connection refused',
    });
    clock.advance(60);
    expect(await silent.poll()).toMatchObject({ outcome: 'unreachable', status: 'halted' });
    expect(engine.chain('arb')?.status).toBe('halted');
  });

  it('trips a chain whose vault is paused, and clears it when the vault resumes', async () => {
    const watcher = watcherFor(arb, engine, clock);
    await watcher.poll();
    await setVaultPaused(arb.chain, arb.deployed, true);
    expect((await watcher.poll()).status).toBe('paused');
    expect(engine.chain('arb')?.status).toBe('paused');
    // A paused vault takes no deposit.
    const deposit = { from: 1, token: arb.weth, amount: E18, account: 'alice', subAccount: 0 };
    await prepareDeposit(arb.chain, arb.deployed, deposit);
    expect(await revertName(sendDeposit(arb.chain, arb.deployed, deposit))).toBe('VaultPaused');
    await setVaultPaused(arb.chain, arb.deployed, false);
    expect((await watcher.poll()).status).toBe('active');
    await conserved();
  });
});

describe('configuration', () => {
  it('refuses a bad configuration with a typed error naming the field', () => {
    const make = (overrides: Parameters<typeof watcherConfig>[1]) => () =>
      watcherFor(arb, engine, clock, overrides);
    const field = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (error) {
        if (error instanceof FulcrumError) return `${error.code} ${error.field ?? ''}`;
      }
      return undefined;
    };
    expect(field(make({ chain: 'Arb!' }))).toBe('invalid_config chain');
    expect(field(make({ vault: '0x1234' }))).toBe('invalid_config vault');
    expect(field(make({ tokens: [] }))).toBe('invalid_config tokens');
    expect(field(make({ finality: { kind: 'confirmations', confirmations: 0 } }))).toBe(
      'invalid_config finality.confirmations',
    );
    expect(field(make({ haltAfterSeconds: 0 }))).toBe('invalid_config haltAfterSeconds');
    expect(field(make({ blocksPerPoll: 0 }))).toBe('invalid_config blocksPerPoll');
  });

  it('refuses to poll a chain the engine does not list', async () => {
    const watcher = watcherFor(arb, engine, clock, { chain: 'base' });
    await expect(watcher.poll()).rejects.toMatchObject({ code: 'invalid_config' });
  });

  it('catches up a long history in bounded polls', async () => {
    for (let i = 0; i < 4; i++) {
      await depositToVault(arb.chain, arb.deployed, {
        from: 1,
        token: arb.usdc,
        amount: 10n * E6,
        account: 'carol',
        subAccount: 0,
      });
    }
    await arb.chain.mine(3);
    const watcher = watcherFor(arb, engine, clock, { blocksPerPoll: 4 });
    const delivered: number[] = [];
    for (let poll = 0; poll < 10; poll++) delivered.push((await watcher.poll()).delivered);
    expect(delivered.reduce((a, b) => a + b, 0)).toBe(4);
    expect(delivered.filter((count) => count > 0).length).toBeGreaterThan(1);
    expect(engine.balance('carol', arb.usd)).toBe(40n * E6);
    await conserved();
  });
});

describe('status set by others, finality by tag, the loop, conservation failing', () => {
  it("leaves a status it did not set: an operator's halt stays until a person lifts it", async () => {
    const watcher = watcherFor(arb, engine, clock);
    await watcher.poll();
    expect(
      await engine.submit({
        type: 'set-chain-status',
        time: clock.now(),
        chain: 'arb',
        status: 'halted',
      }),
    ).toEqual({ ok: true });
    await arb.chain.mine(1);
    expect((await watcher.poll()).status).toBe('halted');
    expect(engine.chain('arb')?.status).toBe('halted');
    expect(engine.accepted.filter((command) => command.type === 'set-chain-status')).toHaveLength(
      1,
    );
  });

  it("takes the chain's finalized block as final with the finalized-tag rule", async () => {
    // A local chain finalizes its head at once.
    const watcher = watcherFor(arb, engine, clock, { finality: { kind: 'finalized-tag' } });
    const block = await depositToVault(arb.chain, arb.deployed, {
      from: 1,
      token: arb.weth,
      amount: E18,
      account: 'alice',
      subAccount: 0,
    });
    expect(await watcher.poll()).toMatchObject({ outcome: 'ok', delivered: 1, finalHead: block });
    expect(engine.balance('alice', arb.eth)).toBe(E18);
    await conserved();
  });

  it('polls in a loop until stopped', async () => {
    const watcher = watcherFor(arb, engine, clock);
    await depositToVault(arb.chain, arb.deployed, {
      from: 1,
      token: arb.weth,
      amount: E18,
      account: 'alice',
      subAccount: 0,
    });
    await arb.chain.mine(3);
    watcher.start(5);
    for (let i = 0; i < 2_000 && watcher.stats.delivered === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    await watcher.stop();
    const polls = watcher.stats.polls;
    expect(watcher.stats.delivered).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(watcher.stats.polls).toBe(polls); // stopped: no poll after stop()
  });

  it('shows tokens sent to the vault without a deposit as a difference', async () => {
    const watcher = watcherFor(arb, engine, clock);
    await depositToVault(arb.chain, arb.deployed, {
      from: 1,
      token: arb.weth,
      amount: E18,
      account: 'alice',
      subAccount: 0,
    });
    // A plain transfer: the vault holds it, nobody is credited.
    const wallet = arb.chain.wallet(2);
    await send(arb.chain, wallet, {
      address: arb.weth,
      abi: testTokenAbi,
      functionName: 'mint',
      args: [arb.deployed.vault, 5n],
    });
    await arb.chain.mine(3);
    await watcher.poll();
    expect(await differences(arb, engine)).toEqual({ [arb.eth]: -5n, [arb.usd]: 0n });
  });
});
