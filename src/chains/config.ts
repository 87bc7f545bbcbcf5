/**
 * A chain watcher's configuration: which vault on which chain, which of its tokens are which
 * Fulcrum listing, what makes a block final, when a silent chain counts as halted.
 */
import { getAddress, isAddress, type Address } from 'viem';
import { FulcrumError } from '../base/errors.js';
// Chain identifiers and listed symbols as the engine's listings allow them.
import { CHAIN_ID_PATTERN, SYMBOL_PATTERN } from '../domain/asset.js';

/** Most blocks one poll scans, and most confirmations a chain may ask for. */
export const WATCHER_LIMITS = {
  blocksPerPoll: 10_000,
  confirmations: 10_000,
  tokens: 64,
  /** Seconds: a day. */
  haltAfterSeconds: 86_400,
} as const;

/**
 * When a block is final: `confirmations` blocks built on top of it (with 12, block N is final once
 * block N + 12 exists), or the chain's own `finalized` block.
 */
export type Finality =
  | { readonly kind: 'confirmations'; readonly confirmations: number }
  | { readonly kind: 'finalized-tag' };

export interface VaultToken {
  /** The token's contract on the chain. */
  readonly address: Address;
  /** The located Fulcrum listing it credits (`ETH.arb`), whose decimals are the token's. */
  readonly asset: string;
  readonly decimals: number;
}

export interface WatcherConfig {
  /** The chain's identifier in the engine (`arb`). */
  readonly chain: string;
  readonly vault: Address;
  readonly tokens: readonly VaultToken[];
  readonly finality: Finality;
  /** The vault's deployment block: nothing before it is scanned. */
  readonly startBlock: number;
  /** Seconds of the watcher's clock without a new block (or an answer) before the chain is halted. */
  readonly haltAfterSeconds: number;
  /** Most blocks one poll scans (default 2,000): a long catch-up takes several polls. */
  readonly blocksPerPoll?: number;
}

/** Checks a configuration, refusing it (`invalid_config`) with the field at fault. */
export function validateWatcherConfig(config: WatcherConfig): WatcherConfig {
  const fail = (field: string, message: string): never => {
    throw new FulcrumError('invalid_config', `watcher ${field}: ${message}`, field);
  };
  if (typeof config.chain !== 'string' || !CHAIN_ID_PATTERN.test(config.chain)) {
    fail('chain', 'must be 1-16 lower-case letters, digits or "-"');
  }
  if (!isAddress(config.vault, { strict: false })) fail('vault', 'must be an address');
  if (config.tokens.length === 0 || config.tokens.length > WATCHER_LIMITS.tokens) {
    fail('tokens', `must list 1 to ${WATCHER_LIMITS.tokens} tokens`);
  }
  const seen = new Set<string>();
  for (const token of config.tokens) {
    if (!isAddress(token.address, { strict: false })) fail('tokens.address', 'must be an address');
    if (!SYMBOL_PATTERN.test(token.asset)) fail('tokens.asset', 'must be a listed symbol');
    if (!Number.isInteger(token.decimals) || token.decimals < 0 || token.decimals > 36) {
      fail('tokens.decimals', 'must be 0 to 36');
    }
    const key = getAddress(token.address);
    if (seen.has(key) || seen.has(token.asset)) fail('tokens', 'a token or asset is listed twice');
    seen.add(key).add(token.asset);
  }
  validateFinality(config.finality, fail);
  if (!Number.isSafeInteger(config.startBlock) || config.startBlock < 0) {
    fail('startBlock', 'must be a block number');
  }
  const halt = config.haltAfterSeconds;
  if (!Number.isSafeInteger(halt) || halt < 1 || halt > WATCHER_LIMITS.haltAfterSeconds) {
    fail('haltAfterSeconds', `must be 1 to ${WATCHER_LIMITS.haltAfterSeconds}`);
  }
  const blocks = config.blocksPerPoll ?? 2_000;
  if (!Number.isSafeInteger(blocks) || blocks < 1 || blocks > WATCHER_LIMITS.blocksPerPoll) {
    fail('blocksPerPoll', `must be 1 to ${WATCHER_LIMITS.blocksPerPoll}`);
  }
  return config;
}

function validateFinality(
  finality: Finality,
  fail: (field: string, message: string) => never,
): void {
  if (finality.kind === 'finalized-tag') return;
  if (finality.kind !== 'confirmations') fail('finality', 'must be confirmations or finalized-tag');
  const count = finality.confirmations;
  if (!Number.isSafeInteger(count) || count < 1 || count > WATCHER_LIMITS.confirmations) {
    fail('finality.confirmations', `must be 1 to ${WATCHER_LIMITS.confirmations}`);
  }
}
