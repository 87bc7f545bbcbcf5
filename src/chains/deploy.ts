/**
 * Deploys a vault and its test tokens on a local chain, and the calls tests and the bench make
 * on them (deposit, pause). For local chains only: production deployments are not done here.
 */
import type { Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from 'viem';
import { FulcrumError } from '../base/errors.js';
import {
  fulcrumVaultAbi,
  fulcrumVaultBytecode,
  testTokenAbi,
  testTokenBytecode,
} from './artifacts.js';
import type { LocalChain } from './localChain.js';

export interface TokenSpec {
  /** The token's symbol on the chain (`WETH`). */
  readonly symbol: string;
  readonly decimals: number;
  /** The vault's deposit cap for it, base units. */
  readonly cap: bigint;
}

export interface DeployedVault {
  readonly vault: Address;
  readonly tokens: readonly {
    readonly address: Address;
    readonly symbol: string;
    readonly decimals: number;
  }[];
  /** The block its setup (tokens, caps) was done in: the watcher's `startBlock`. */
  readonly startBlock: number;
}

type Wallet = WalletClient<Transport, Chain, Account>;

async function mined(
  client: PublicClient<Transport, Chain>,
  hash: Hex,
): Promise<{ block: number; address: Address | null }> {
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 5 });
  if (receipt.status !== 'success')
    throw new FulcrumError('invalid_config', `transaction ${hash} reverted`);
  return { block: Number(receipt.blockNumber), address: receipt.contractAddress ?? null };
}

/**
 * Deploys the vault (owner: test account 0, withdrawals signed by `signer`) and one test token
 * per spec, with its cap set. The chain must mine on demand (automine).
 *
 * @example
 * const { vault, tokens } = await deployVault(arb, { signer: venue.address, tokens: [weth] });
 */
export async function deployVault(
  chain: LocalChain,
  options: { readonly signer: Address; readonly tokens: readonly TokenSpec[] },
): Promise<DeployedVault> {
  const owner = chain.wallet(0);
  const vaultHash = await owner.deployContract({
    abi: fulcrumVaultAbi,
    bytecode: fulcrumVaultBytecode,
    args: [options.signer],
  });
  const deployed = await mined(chain.client, vaultHash);
  const vault = deployed.address as Address;
  const tokens = [];
  let startBlock = deployed.block;
  for (const spec of options.tokens) {
    const hash = await owner.deployContract({
      abi: testTokenAbi,
      bytecode: testTokenBytecode,
      args: [spec.symbol, spec.symbol, spec.decimals],
    });
    const address = (await mined(chain.client, hash)).address as Address;
    startBlock = await send(chain, owner, {
      address: vault,
      abi: fulcrumVaultAbi,
      functionName: 'setDepositCap',
      args: [address, spec.cap],
    });
    tokens.push({ address, symbol: spec.symbol, decimals: spec.decimals });
  }
  return { vault, tokens, startBlock };
}

/** Sends a contract call and waits for it to be mined; a revert is an error. Returns the block. */
export async function send(
  chain: LocalChain,
  wallet: Wallet,
  call: Parameters<Wallet['writeContract']>[0],
): Promise<number> {
  const hash = await wallet.writeContract(call);
  return (await mined(chain.client, hash)).block;
}

/** Mints `amount` of `token` to test account `from` and approves the vault for it. */
export async function prepareDeposit(
  chain: LocalChain,
  deployed: DeployedVault,
  deposit: VaultDeposit,
): Promise<void> {
  const wallet = chain.wallet(deposit.from);
  const holder = wallet.account.address;
  await send(chain, wallet, {
    address: deposit.token,
    abi: testTokenAbi,
    functionName: 'mint',
    args: [holder, deposit.amount],
  });
  await send(chain, wallet, {
    address: deposit.token,
    abi: testTokenAbi,
    functionName: 'approve',
    args: [deployed.vault, 2n ** 256n - 1n],
  });
}

/** The deposit itself (tokens prepared): one transaction, one block. Returns its block. */
export function sendDeposit(
  chain: LocalChain,
  deployed: DeployedVault,
  deposit: VaultDeposit,
): Promise<number> {
  return send(chain, chain.wallet(deposit.from), {
    address: deployed.vault,
    abi: fulcrumVaultAbi,
    functionName: 'deposit',
    args: [deposit.token, deposit.amount, deposit.account, deposit.subAccount],
  });
}

/**
 * Mints `amount` of `token` to test account `from`, approves the vault and deposits it for
 * `account`/`subAccount`: three transactions, three blocks. Returns the deposit's block.
 */
export async function depositToVault(
  chain: LocalChain,
  deployed: DeployedVault,
  deposit: VaultDeposit,
): Promise<number> {
  await prepareDeposit(chain, deployed, deposit);
  return sendDeposit(chain, deployed, deposit);
}

/** Pauses or resumes the vault (as its owner, test account 0). */
export function setVaultPaused(
  chain: LocalChain,
  deployed: DeployedVault,
  paused: boolean,
): Promise<number> {
  return send(chain, chain.wallet(0), {
    address: deployed.vault,
    abi: fulcrumVaultAbi,
    functionName: 'setPaused',
    args: [paused],
  });
}

/** The vault's balance of `token` at `block` (default latest), base units. */
export function vaultBalance(
  chain: LocalChain,
  deployed: DeployedVault,
  token: Address,
  block?: number,
): Promise<bigint> {
  return chain.client.readContract({
    address: token,
    abi: testTokenAbi,
    functionName: 'balanceOf',
    args: [deployed.vault],
    ...(block === undefined ? {} : { blockNumber: BigInt(block) }),
  });
}

export interface VaultDeposit {
  /** The test account that deposits. */
  readonly from: number;
  readonly token: Address;
  readonly amount: bigint;
  readonly account: string;
  readonly subAccount: number;
}

/**
 * Several deposits in one block, in the order given (their log indexes): each depositor's tokens
 * are minted and approved first, then the deposits wait in the mempool for one block. Returns
 * that block.
 */
export async function depositsInOneBlock(
  chain: LocalChain,
  deployed: DeployedVault,
  deposits: readonly VaultDeposit[],
): Promise<number> {
  for (const deposit of deposits) await prepareDeposit(chain, deployed, deposit);
  const nonces = new Map<number, number>();
  const hashes: Hex[] = [];
  await chain.setAutomine(false);
  try {
    for (const deposit of deposits) {
      const wallet = chain.wallet(deposit.from);
      const nonce =
        nonces.get(deposit.from) ??
        (await chain.client.getTransactionCount({ address: wallet.account.address }));
      nonces.set(deposit.from, nonce + 1);
      hashes.push(
        await wallet.writeContract({
          address: deployed.vault,
          abi: fulcrumVaultAbi,
          functionName: 'deposit',
          args: [deposit.token, deposit.amount, deposit.account, deposit.subAccount],
          nonce,
          gas: 200_000n,
        }),
      );
    }
    await chain.mine(1);
  } finally {
    await chain.setAutomine(true);
  }
  let block = -1;
  for (const hash of hashes) block = (await mined(chain.client, hash)).block;
  return block;
}
