/**
 * Test fixtures for the chain side: local chains with a vault, a WETH-like token (18 decimals)
 * and a USDC-like one (6), the venue's signing key, a clock the test moves, a watcher.
 */
import { privateKeyToAccount } from 'viem/accounts';
import {
  decodeErrorResult,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
} from 'viem';
import { fulcrumVaultAbi } from '../../src/chains/artifacts.js';
import { ChainWatcher } from '../../src/chains/watcher.js';
import type { WatcherConfig } from '../../src/chains/config.js';
import { deployVault, type DeployedVault } from '../../src/chains/deploy.js';
import { startLocalChain, testPrivateKey, type LocalChain } from '../../src/chains/localChain.js';
import type { EnginePort } from '../../src/chains/port.js';
import { conservation } from '../../src/chains/conservation.js';

export const E18 = 10n ** 18n;
export const E6 = 10n ** 6n;

/** The venue's withdrawal key: test key 31, never a funded account of the tests. */
export const venueKey: LocalAccount = privateKeyToAccount(testPrivateKey(31));

export interface VaultChain {
  readonly chain: LocalChain;
  readonly deployed: DeployedVault;
  readonly weth: Address;
  readonly usdc: Address;
  /** Asset symbols of the chain's listings: `ETH.<name>`, `USDC.<name>`. */
  readonly eth: string;
  readonly usd: string;
}

/** A local chain `name` with a vault and two tokens (caps: 1,000 WETH, 10,000,000 USDC). */
export async function vaultChain(name: string, chainId: number): Promise<VaultChain> {
  const chain = await startLocalChain({ name, chainId, accounts: 4 });
  const deployed = await deployVault(chain, {
    signer: venueKey.address,
    tokens: [
      { symbol: 'WETH', decimals: 18, cap: 1_000n * E18 },
      { symbol: 'USDC', decimals: 6, cap: 10_000_000n * E6 },
    ],
  });
  const [weth, usdc] = deployed.tokens;
  if (weth === undefined || usdc === undefined) throw new Error('tokens not deployed');
  return {
    chain,
    deployed,
    weth: weth.address,
    usdc: usdc.address,
    eth: `ETH.${name}`,
    usd: `USDC.${name}`,
  };
}

export function watcherConfig(
  vc: VaultChain,
  overrides: Partial<WatcherConfig> = {},
): WatcherConfig {
  return {
    chain: vc.chain.name,
    vault: vc.deployed.vault,
    tokens: [
      { address: vc.weth, asset: vc.eth, decimals: 18 },
      { address: vc.usdc, asset: vc.usd, decimals: 6 },
    ],
    finality: { kind: 'confirmations', confirmations: 3 },
    startBlock: vc.deployed.startBlock,
    haltAfterSeconds: 120,
    ...overrides,
  };
}

/** A clock the test moves by hand: nothing in these tests waits on the wall clock. */
export class TestClock {
  constructor(public seconds: number) {}
  readonly now = (): number => this.seconds;
  advance(seconds: number): number {
    this.seconds += seconds;
    return this.seconds;
  }
}

export function watcherFor(
  vc: VaultChain,
  engine: EnginePort,
  clock: TestClock,
  overrides: Partial<WatcherConfig> = {},
): ChainWatcher {
  return new ChainWatcher(watcherConfig(vc, overrides), {
    client: vc.chain.client as unknown as PublicClient,
    engine,
    now: clock.now,
  });
}

/** Conservation of every token of the chain, as rows with their difference (0n when it holds). */
export async function differences(
  vc: VaultChain,
  engine: EnginePort,
): Promise<Record<string, bigint>> {
  const view = engine.chain(vc.chain.name);
  if (view === undefined) throw new Error(`no chain ${vc.chain.name}`);
  const rows = await conservation(
    view,
    vc.chain.client as unknown as PublicClient,
    watcherConfig(vc),
  );
  return Object.fromEntries(rows.map((row) => [row.asset, row.difference]));
}

/** The latest block's timestamp. */
export async function chainTime(vc: VaultChain): Promise<number> {
  return Number((await vc.chain.client.getBlock({ blockTag: 'latest' })).timestamp);
}

/** The name of the vault's custom error a call reverted with (read from the node's answer). */
export async function revertName(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    const text =
      error instanceof Error
        ? `${error.message} ${String((error as { details?: unknown }).details)}`
        : String(error);
    const named =
      /reverted with custom error '([A-Za-z]+)\(/.exec(text) ?? /Error: ([A-Za-z]+)\(\)/.exec(text);
    if (named?.[1] !== undefined) return named[1];
    const data = /return data: (0x[0-9a-f]+)/.exec(text)?.[1];
    if (data !== undefined) {
      return decodeErrorResult({ abi: fulcrumVaultAbi, data: data as Hex }).errorName;
    }
    throw error;
  }
  throw new Error('the call did not revert');
}
