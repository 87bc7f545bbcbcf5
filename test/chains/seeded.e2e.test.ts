/**
 * Seeded random stories on two local chains and the real engine: deposits, blocks, reorganizations
 * of blocks not yet final, withdrawals executed or left to expire, pauses, polls in any order.
 * After every poll, conservation; at the end, every sub-account's balance plus what it withdrew
 * (paid or pending) equals what it deposited in the final history of each chain, exactly.
 */
import { describe, expect, it } from 'vitest';
import type { Hex } from 'viem';
import { SeededRandom } from '../../src/math/random.js';
import { fulcrumVaultAbi } from '../../src/chains/artifacts.js';
import { Engine } from '../../src/engine/engine.js';
import { memoryEnginePort } from '../../src/chains/enginePort.js';
import { prepareDeposit, send, sendDeposit, setVaultPaused } from '../../src/chains/deploy.js';
import { signWithdrawal, withdrawCall } from '../../src/chains/withdrawals.js';
import type { ChainWatcher } from '../../src/chains/watcher.js';
import type { EnginePort } from '../../src/chains/port.js';
import {
  chainTime,
  differences,
  E18,
  E6,
  TestClock,
  vaultChain,
  venueKey,
  watcherConfig,
  watcherFor,
  type VaultChain,
} from './fixture.js';

const ACCOUNTS = ['ann', 'ben', 'cy'];

interface Authorization {
  readonly chain: string;
  readonly nonce: number;
  readonly account: string;
  readonly asset: string;
  readonly amount: bigint;
}

interface Story {
  readonly rng: SeededRandom;
  readonly chains: VaultChain[];
  readonly watchers: Map<string, ChainWatcher>;
  readonly engine: Engine;
  readonly port: EnginePort;
  readonly clock: TestClock;
  readonly authorizations: Authorization[];
  readonly snapshots: Map<string, { id: Hex; height: number }>;
  readonly paused: Set<string>;
}

function balance(engine: Engine, account: string, asset: string): bigint {
  const index = engine.state.assetIndex.get(asset);
  const position = engine.state.accounts
    .get(account)
    ?.subAccounts[0]?.positions.find((p) => p.asset === index);
  return position?.scaled ?? 0n;
}

async function setup(seed: number): Promise<Story> {
  const chains = [await vaultChain('arb', 42_161), await vaultChain('base', 8_453)];
  const clock = new TestClock(Math.max(...(await Promise.all(chains.map(chainTime)))));
  const engine = new Engine();
  const time = clock.now();
  const commands: Record<string, unknown>[] = [
    {
      type: 'list-asset',
      time,
      config: { symbol: 'USDC', decimals: 6, initialWeight: '0.85', maintenanceWeight: '0.875' },
      price: '1',
    },
    {
      type: 'list-asset',
      time,
      config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
      price: '2000',
    },
  ];
  for (const vc of chains) {
    const chain = vc.chain.name;
    const located = (symbol: string, asset: string, decimals: number) => ({
      symbol,
      decimals,
      initialWeight: '0.7',
      maintenanceWeight: '0.75',
      borrowable: false,
      location: { chain, asset },
    });
    commands.push({ type: 'list-chain', time, chain, withdrawalTtl: 600 });
    commands.push({ type: 'list-asset', time, config: located(vc.eth, 'ETH', 18), price: '1' });
    commands.push({ type: 'list-asset', time, config: located(vc.usd, 'USDC', 6), price: '1' });
  }
  for (const command of commands) expect(engine.applyJson(command)).toMatchObject({ ok: true });
  const port = memoryEnginePort(engine);
  const watchers = new Map(
    chains.map((vc, i) => [
      vc.chain.name,
      watcherFor(vc, port, clock, {
        finality: { kind: 'confirmations', confirmations: 2 + i },
        haltAfterSeconds: 86_400,
      }),
    ]),
  );
  const story = {
    rng: new SeededRandom(seed),
    chains,
    watchers,
    engine,
    port,
    clock,
    authorizations: [],
    snapshots: new Map(),
    paused: new Set<string>(),
  };
  for (const vc of chains) {
    for (let from = 1; from <= 3; from++) {
      for (const token of [vc.weth, vc.usdc])
        await prepareDeposit(vc.chain, vc.deployed, {
          from,
          token,
          amount: 10n ** 30n,
          account: 'x',
          subAccount: 0,
        });
    }
  }
  return story;
}

async function deposit(story: Story, vc: VaultChain): Promise<void> {
  const { rng } = story;
  const eth = rng.chance(0.5);
  const amount = eth
    ? BigInt(rng.integer(1, 50)) * (E18 / 10n)
    : BigInt(rng.integer(1, 5_000)) * E6;
  const account = ACCOUNTS[rng.integer(0, ACCOUNTS.length - 1)] as string;
  const request = {
    from: rng.integer(1, 3),
    token: eth ? vc.weth : vc.usdc,
    amount,
    account,
    subAccount: 0,
  };
  if (story.paused.has(vc.chain.name)) return;
  await sendDeposit(vc.chain, vc.deployed, request);
}

async function poll(story: Story, vc: VaultChain): Promise<void> {
  const watcher = story.watchers.get(vc.chain.name) as ChainWatcher;
  const report = await watcher.poll();
  expect({ outcome: report.outcome, error: report.error }).toEqual({ outcome: 'ok', error: null });
  for (const difference of Object.values(await differences(vc, story.port)))
    expect(difference).toBe(0n);
  // A fork point kept while every block after it is still after the cursor (not yet final).
  const kept = story.snapshots.get(vc.chain.name);
  const cursor = story.port.chain(vc.chain.name)?.cursor.block ?? -1;
  if (kept === undefined || cursor > kept.height) {
    story.snapshots.set(vc.chain.name, {
      id: await vc.chain.snapshot(),
      height: await vc.chain.blockNumber(),
    });
  }
}

/** Reverts to the chain's snapshot when every block it replaces is after the engine's cursor. */
async function reorg(story: Story, vc: VaultChain): Promise<void> {
  const snapshot = story.snapshots.get(vc.chain.name);
  const cursor = story.port.chain(vc.chain.name)?.cursor.block ?? -1;
  if (snapshot === undefined || cursor > snapshot.height) return;
  await vc.chain.revert(snapshot.id);
  story.snapshots.delete(vc.chain.name);
  // Pauses the revert undid are gone from the chain.
  const paused = await vc.chain.client.readContract({
    address: vc.deployed.vault,
    abi: fulcrumVaultAbi,
    functionName: 'paused',
  });
  if (paused) story.paused.add(vc.chain.name);
  else story.paused.delete(vc.chain.name);
  await vc.chain.mine(story.rng.integer(0, 2));
}

async function withdraw(story: Story, vc: VaultChain): Promise<void> {
  const { rng, engine } = story;
  const account = ACCOUNTS[rng.integer(0, ACCOUNTS.length - 1)] as string;
  const asset = rng.chance(0.5) ? vc.eth : vc.usd;
  const held = balance(engine, account, asset);
  if (held === 0n) return;
  const decimals = asset === vc.eth ? 18 : 6;
  const amount = held / 2n;
  if (amount === 0n) return;
  const whole = amount / 10n ** BigInt(decimals);
  const fraction = (amount % 10n ** BigInt(decimals)).toString().padStart(decimals, '0');
  const recipient = vc.chain.accounts[3]?.address as string;
  const command = {
    type: 'chain-withdraw',
    time: story.clock.advance(1),
    chain: vc.chain.name,
    account,
    asset,
    amount: `${whole}.${fraction}`,
    recipient,
  };
  const result = engine.applyJson(command);
  if (!result.ok) {
    expect(['chain_unavailable', 'insufficient_collateral']).toContain(result.error.code);
    return;
  }
  const event = result.events.find((e) => e.type === 'chain-withdrawal-authorized') as unknown as {
    nonce: number;
  };
  story.authorizations.push({ chain: vc.chain.name, nonce: event.nonce, account, asset, amount });
  if (rng.chance(0.6) && !story.paused.has(vc.chain.name)) {
    const domain = {
      chain: vc.chain.name,
      chainId: vc.chain.chain.id,
      vault: vc.deployed.vault,
      tokens: watcherConfig(vc).tokens,
    };
    await send(
      vc.chain,
      vc.chain.wallet(rng.integer(1, 3)),
      withdrawCall(vc.deployed.vault, await signWithdrawal(event, venueKey, domain)),
    );
  }
}

/** Moves the clock and each chain's time forward by up to the withdrawals' lifetime. */
async function later(story: Story): Promise<void> {
  story.clock.advance(story.rng.integer(60, 700));
  for (const vc of story.chains) {
    const latest = await chainTime(vc);
    if (latest >= story.clock.now()) story.clock.seconds = latest + 1;
    await vc.chain.mine(1, story.clock.now());
  }
}

async function step(story: Story): Promise<void> {
  const { rng } = story;
  const vc = story.chains[rng.integer(0, 1)] as VaultChain;
  const roll = rng.next();
  if (roll < 0.3) await deposit(story, vc);
  else if (roll < 0.45) await vc.chain.mine(rng.integer(1, 3));
  else if (roll < 0.6) await reorg(story, vc);
  else if (roll < 0.7) await withdraw(story, vc);
  else if (roll < 0.75) await later(story);
  else if (roll < 0.78) {
    const pause = !story.paused.has(vc.chain.name);
    await setVaultPaused(vc.chain, vc.deployed, pause);
    if (pause) story.paused.add(vc.chain.name);
    else story.paused.delete(vc.chain.name);
  } else await poll(story, vc);
}

/** Every account's balance + withdrawn (paid or pending) = its deposits in the final history. */
async function settleAndCheck(story: Story): Promise<void> {
  for (const vc of story.chains) {
    if (story.paused.has(vc.chain.name)) await setVaultPaused(vc.chain, vc.deployed, false);
    await vc.chain.mine(6);
    await poll(story, vc);
    await poll(story, vc);
    const watcher = story.watchers.get(vc.chain.name) as ChainWatcher;
    const events = await watcher.readEvents(vc.deployed.startBlock, await vc.chain.blockNumber());
    const view = story.port.chain(vc.chain.name);
    const pendingNonces = new Set(view?.pending.map((p) => p.nonce));
    const paidNonces = new Set(
      events.filter((e) => e.kind === 'payout').map((e) => e.command.nonce as number),
    );
    for (const account of ACCOUNTS) {
      for (const [asset, decimals] of [
        [vc.eth, 18],
        [vc.usd, 6],
      ] as const) {
        const deposited = events
          .filter(
            (e) =>
              e.kind === 'deposit' && e.command.account === account && e.command.asset === asset,
          )
          .reduce((sum, e) => sum + parseUnits(e.command.amount as string, decimals), 0n);
        const withdrawn = story.authorizations
          .filter((w) => w.chain === vc.chain.name && w.account === account && w.asset === asset)
          .filter((w) => pendingNonces.has(w.nonce) || paidNonces.has(w.nonce))
          .reduce((sum, w) => sum + w.amount, 0n);
        expect({
          account,
          asset,
          total: balance(story.engine, account, asset) + withdrawn,
        }).toEqual({ account, asset, total: deposited });
      }
    }
  }
}

function parseUnits(text: string, decimals: number): bigint {
  const [whole = '0', fraction = ''] = text.split('.');
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0');
}

describe('seeded stories', () => {
  it('seeds 1-5: conserved at every poll, exactly the final history credited', async () => {
    const totals = { delivered: 0, reorgs: 0, expired: 0, authorized: 0 };
    for (let seed = 1; seed <= 5; seed++) {
      const story = await setup(seed);
      for (let i = 0; i < 80; i++) await step(story);
      await settleAndCheck(story);
      for (const watcher of story.watchers.values()) {
        totals.delivered += watcher.stats.delivered;
        totals.reorgs += watcher.stats.reorgs;
        totals.expired += watcher.stats.expired;
      }
      totals.authorized += story.authorizations.length;
    }
    // The stories did what they are for: deliveries, reorganizations, withdrawals and expiries.
    expect(totals.delivered).toBeGreaterThan(20);
    expect(totals.reorgs).toBeGreaterThan(0);
    expect(totals.authorized).toBeGreaterThan(0);
    expect(totals.expired).toBeGreaterThan(0);
  });
});
