/**
 * Conservation between a chain's vault and the engine: for every token, what the engine has
 * credited on that chain (and not withdrawn) equals the vault's balance less the withdrawals
 * authorized and not yet paid, both read at the block the engine's cursor has taken whole.
 */
import type { Address, PublicClient } from 'viem';
import { FulcrumError } from '../base/errors.js';
import { testTokenAbi } from './artifacts.js';
import type { WatcherConfig } from './config.js';
import { BLOCK_END, creditedOf, type ChainView } from './port.js';

export interface ConservationRow {
  readonly chain: string;
  readonly asset: string;
  readonly token: Address;
  /** The block the balances were read at: the engine's cursor. */
  readonly block: number;
  /** Base units throughout. */
  readonly credited: bigint;
  readonly vaultBalance: bigint;
  readonly pending: bigint;
  /** credited − (vaultBalance − pending): zero when conserved. */
  readonly difference: bigint;
}

/**
 * One row per token of the watcher's configuration. Refuses (`invalid_field`) a cursor in the
 * middle of a block (the vault's balance at that block would count events not yet taken).
 *
 * @example
 * const rows = await conservation(chainView, arb.client, watcher.config);
 * rows.every((row) => row.difference === 0n); // true while the engine and the vault agree
 */
export async function conservation(
  view: ChainView,
  client: PublicClient,
  config: Pick<WatcherConfig, 'chain' | 'vault' | 'tokens' | 'startBlock'>,
): Promise<ConservationRow[]> {
  const { block, logIndex } = view.cursor;
  if (logIndex !== BLOCK_END) {
    throw new FulcrumError(
      'invalid_field',
      `the cursor of ${config.chain} is inside block ${block}`,
      'cursor',
    );
  }
  const rows: ConservationRow[] = [];
  for (const token of config.tokens) {
    const vaultBalance =
      block < config.startBlock
        ? 0n
        : await client.readContract({
            address: token.address,
            abi: testTokenAbi,
            functionName: 'balanceOf',
            args: [config.vault],
            blockNumber: BigInt(block),
          });
    const pending = view.pending
      .filter((withdrawal) => withdrawal.asset === token.asset)
      .reduce((sum, withdrawal) => sum + withdrawal.amount, 0n);
    const credited = creditedOf(view, token.asset);
    const difference = credited - (vaultBalance - pending);
    rows.push({
      chain: config.chain,
      asset: token.asset,
      token: token.address,
      block,
      credited,
      vaultBalance,
      pending,
      difference,
    });
  }
  return rows;
}
