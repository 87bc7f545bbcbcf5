/**
 * Collateral held on other chains (docs/CHAINS.md). A chain's vault holds tokens; the engine
 * holds each (asset, chain) as its own listing (`ETH.arb`, with a `location`) priced by the
 * asset it is a copy of, with its own weights, cap and status. The chain's watcher, outside the
 * core, sends what the vault did once it is final, in chain order:
 *
 * - `chain-deposit` credits a sub-account; the chain's cursor (block, log index) moves past it,
 *   and an event at or before the cursor is refused (`chain_event_seen`): a replayed or
 *   re-delivered event never credits twice, and a restarted watcher resumes from the cursor;
 * - `chain-withdraw` debits a sub-account (initial margin checked) and authorizes the vault to
 *   pay: a nonce and an expiry, which the venue's key signs outside the core;
 * - `chain-withdrawal-paid` ends a pending withdrawal; `chain-withdrawal-expired` returns one
 *   the vault can no longer pay;
 * - `set-chain-status` trips a chain that stopped producing blocks (`halted`) or whose vault was
 *   paused (`paused`): its assets' initial weights are held at zero, so its collateral backs no
 *   new risk, until it is `active` again. Maintenance weights stay: a trip liquidates nobody by
 *   itself; the stress controller lowers them gradually with `set-weights`.
 *
 * The engine's credited total of a located asset (its pool's supply: it is never lent, so its
 * index stays 1) equals the vault's balance less the pending withdrawals.
 */
import { FulcrumError } from '../base/errors.js';
import type { AssetConfig } from '../domain/asset.js';
import { LIMITS } from '../domain/limits.js';
import { assetRisk } from '../margin/assetRisk.js';
import { formatDecimal } from '../math/decimal.js';
import { WEIGHT_DECIMALS } from '../math/fixed.js';
import { totalSupply } from '../pools/pool.js';
import type {
  ChainCheckpointCommand,
  ChainDepositCommand,
  ChainWithdrawalExpiredCommand,
  ChainWithdrawalPaidCommand,
  ChainWithdrawCommand,
  ListChainCommand,
  SetChainStatusCommand,
} from './commands.js';
import type { Draft } from './draft.js';
import { credit, debit } from './lending.js';
import {
  type AssetState,
  BLOCK_END,
  type ChainState,
  type EngineState,
  type PendingWithdrawal,
} from './state.js';

export function listChain(draft: Draft, command: ListChainCommand): void {
  if (draft.chain(command.chain) !== undefined) {
    const message = `chain ${command.chain} is already listed`;
    throw new FulcrumError('chain_already_listed', message, 'chain');
  }
  if (draft.chainCount >= LIMITS.chains) {
    throw new FulcrumError('limit_exceeded', `at most ${LIMITS.chains} chains`, 'chain');
  }
  draft.setChain({
    chain: command.chain,
    status: 'active',
    withdrawalTtl: command.withdrawalTtl,
    cursorBlock: -1,
    cursorLog: BLOCK_END,
    nextNonce: 1,
    pending: new Map(),
    heldWeights: new Map(),
  });
  draft.emit({ type: 'chain-listed', chain: command.chain, withdrawalTtl: command.withdrawalTtl });
}

export function chainDeposit(draft: Draft, command: ChainDepositCommand): void {
  const chain = findChain(draft, command.chain);
  requireAfterCursor(chain, command.block, command.logIndex);
  const asset = locatedAsset(draft, command.asset, chain.chain);
  credit(draft, command, asset.index, command.amount, false);
  draft.setChain({ ...chain, cursorBlock: command.block, cursorLog: command.logIndex });
  draft.emit({
    type: 'chain-deposited',
    chain: chain.chain,
    block: command.block,
    logIndex: command.logIndex,
    tx: command.tx,
    account: command.account,
    subAccount: command.subAccount,
    asset: asset.config.symbol,
    decimals: asset.config.decimals,
    amount: command.amount,
  });
}

export function chainCheckpoint(draft: Draft, command: ChainCheckpointCommand): void {
  const chain = findChain(draft, command.chain);
  if (command.block < chain.cursorBlock) {
    throw new FulcrumError(
      'chain_event_seen',
      `chain ${chain.chain} was taken up to block ${chain.cursorBlock} already`,
      'block',
    );
  }
  draft.setChain({ ...chain, cursorBlock: command.block, cursorLog: BLOCK_END });
  draft.emit({ type: 'chain-checkpoint', chain: chain.chain, block: command.block });
}

export function chainWithdraw(draft: Draft, command: ChainWithdrawCommand): void {
  const chain = findChain(draft, command.chain);
  if (chain.status !== 'active') {
    const message = `chain ${chain.chain} is ${chain.status}: its vault cannot pay now`;
    throw new FulcrumError('chain_unavailable', message, 'chain');
  }
  if (chain.pending.size >= LIMITS.pendingWithdrawalsPerChain) {
    const message = `chain ${chain.chain} has ${chain.pending.size} withdrawals pending`;
    throw new FulcrumError('limit_exceeded', message, 'chain');
  }
  const asset = locatedAsset(draft, command.asset, chain.chain);
  const amount = debit(draft, command, asset.index, command.amount);
  const withdrawal: PendingWithdrawal = {
    nonce: chain.nextNonce,
    account: command.account,
    subAccount: command.subAccount,
    asset: asset.index,
    amount,
    recipient: command.recipient.toLowerCase(),
    expiry: draft.time + chain.withdrawalTtl,
  };
  const pending = new Map(chain.pending).set(withdrawal.nonce, withdrawal);
  draft.setChain({ ...chain, nextNonce: chain.nextNonce + 1, pending });
  const { symbol, decimals } = asset.config;
  draft.emit({
    type: 'chain-withdrawal-authorized',
    chain: chain.chain,
    account: command.account,
    subAccount: command.subAccount,
    asset: symbol,
    decimals,
    amount,
    baseUnits: amount,
    nonce: withdrawal.nonce,
    recipient: withdrawal.recipient,
    expiry: withdrawal.expiry,
  });
}

export function chainWithdrawalPaid(draft: Draft, command: ChainWithdrawalPaidCommand): void {
  const chain = findChain(draft, command.chain);
  requireAfterCursor(chain, command.block, command.logIndex);
  const withdrawal = pendingWithdrawal(chain, command.nonce);
  const pending = new Map(chain.pending);
  pending.delete(command.nonce);
  draft.setChain({ ...chain, pending, cursorBlock: command.block, cursorLog: command.logIndex });
  draft.emit({
    type: 'chain-withdrawal-paid',
    chain: chain.chain,
    nonce: command.nonce,
    account: withdrawal.account,
    subAccount: withdrawal.subAccount,
    block: command.block,
    logIndex: command.logIndex,
    tx: command.tx,
  });
}

export function chainWithdrawalExpired(draft: Draft, command: ChainWithdrawalExpiredCommand): void {
  const chain = findChain(draft, command.chain);
  const withdrawal = pendingWithdrawal(chain, command.nonce);
  if (draft.time <= withdrawal.expiry) {
    throw new FulcrumError(
      'withdrawal_not_expired',
      `withdrawal ${command.nonce} on chain ${chain.chain} is valid until ${withdrawal.expiry}`,
      'nonce',
    );
  }
  credit(draft, withdrawal, withdrawal.asset, withdrawal.amount, false);
  const pending = new Map(chain.pending);
  pending.delete(command.nonce);
  draft.setChain({ ...chain, pending });
  const { symbol, decimals } = draft.asset(withdrawal.asset).config;
  draft.emit({
    type: 'chain-withdrawal-returned',
    chain: chain.chain,
    nonce: command.nonce,
    account: withdrawal.account,
    subAccount: withdrawal.subAccount,
    asset: symbol,
    decimals,
    amount: withdrawal.amount,
  });
}

/**
 * A chain's status. Tripping it (from `active`) holds the initial weight of every asset on it
 * at zero, remembering the listed one; making it `active` again restores that weight (no higher
 * than the liquidation-end weight, which the stress controller may have lowered meanwhile).
 */
export function setChainStatus(draft: Draft, command: SetChainStatusCommand): void {
  const chain = findChain(draft, command.chain);
  if (chain.status === command.status) {
    const message = `chain ${chain.chain} is ${chain.status} already`;
    throw new FulcrumError('chain_status_unchanged', message, 'status');
  }
  let heldWeights = chain.heldWeights;
  if (chain.status === 'active') {
    const held = new Map<number, bigint>();
    for (const asset of assetsOn(draft, chain.chain)) {
      held.set(asset.index, asset.config.assetWeight.initial);
      setInitialWeight(draft, asset, 0n);
    }
    heldWeights = held;
  } else if (command.status === 'active') {
    for (const asset of assetsOn(draft, chain.chain)) {
      const listed = heldWeights.get(asset.index) ?? asset.config.assetWeight.initial;
      const end = asset.config.assetWeight.liquidationEnd;
      setInitialWeight(draft, asset, listed < end ? listed : end);
    }
    heldWeights = new Map();
  }
  draft.setChain({ ...chain, status: command.status, heldWeights });
  draft.emit({
    type: 'chain-status-set',
    chain: chain.chain,
    status: command.status,
    previous: chain.status,
  });
}

/**
 * `set-weights` on an asset held on a tripped chain: the weights are taken, but the initial one
 * is held (remembered for when the chain is active again) and zero is used meanwhile.
 */
export function heldInitialWeight(draft: Draft, asset: AssetState, initial: bigint): bigint {
  const location = asset.config.location;
  if (location === undefined) return initial;
  const chain = draft.chain(location.chain);
  if (chain === undefined || chain.status === 'active') return initial;
  draft.setChain({ ...chain, heldWeights: new Map(chain.heldWeights).set(asset.index, initial) });
  return 0n;
}

/** Listing a located asset: its chain listed, the asset it copies listed and held by the venue. */
export function checkLocation(draft: Draft, asset: AssetConfig): void {
  const { location } = asset;
  if (location === undefined) return;
  findChain(draft, location.chain, 'config.location.chain');
  const index = draft.base.assetIndex.get(location.asset);
  const copied = index === undefined ? undefined : draft.asset(index);
  if (copied === undefined || copied.config.location !== undefined) {
    throw new FulcrumError(
      'unknown_asset',
      `${asset.symbol} copies ${location.asset}, which is not listed as an asset the venue holds`,
      'config.location.asset',
    );
  }
}

/**
 * After the price of asset `index` moved: the same prices for every asset held on a chain that
 * copies it. A no-op on a venue without chains.
 */
export function mirrorPrices(draft: Draft, index: number): void {
  if (draft.base.chains.size === 0) return;
  const source = draft.asset(index);
  const { oraclePrice, stablePrice } = source.risk;
  for (const asset of draft.base.assets) {
    if (asset.config.location?.asset !== source.config.symbol) continue;
    const current = draft.asset(asset.index);
    const risk = assetRisk(current.config, oraclePrice, stablePrice);
    draft.setAsset({ ...current, risk });
  }
}

/** What a chain holds, as `fulcrum chains status` and the service show it. */
export interface ChainReport {
  readonly chain: string;
  readonly status: ChainState['status'];
  readonly withdrawalTtl: number;
  readonly cursor: { readonly block: number; readonly logIndex: number | null };
  readonly nextNonce: number;
  /** Withdrawals authorized and not yet paid nor returned, by nonce. */
  readonly pending: readonly (Omit<PendingWithdrawal, 'asset'> & { readonly asset: string })[];
  /** Per located asset on the chain: what the engine credits (base units) and what is pending. */
  readonly assets: readonly {
    readonly asset: string;
    readonly copies: string;
    readonly decimals: number;
    readonly credited: bigint;
    readonly pending: bigint;
    readonly initialWeight: bigint;
    readonly maintenanceWeight: bigint;
    readonly supplyCap: bigint | null;
  }[];
}

/**
 * Every listed chain, its cursor, pending withdrawals and credited totals. The conservation
 * rule: for each asset, `credited + pending` equals the vault's balance of its token.
 *
 * @example
 * chainReport(engine.state)[0]?.cursor; // { block: 120, logIndex: 3 }
 */
export function chainReport(state: EngineState): ChainReport[] {
  return [...state.chains.values()]
    .sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0))
    .map((chain) => {
      const pending = [...chain.pending.values()].sort((a, b) => a.nonce - b.nonce);
      const assets = state.assets
        .filter((a) => a.config.location?.chain === chain.chain)
        .map(({ index, config, pool }) => ({
          asset: config.symbol,
          copies: config.location?.asset ?? config.symbol,
          decimals: config.decimals,
          credited: totalSupply(pool),
          pending: pending.filter((p) => p.asset === index).reduce((t, p) => t + p.amount, 0n),
          initialWeight: config.assetWeight.initial,
          maintenanceWeight: config.assetWeight.maintenance,
          supplyCap: config.supplyCap,
        }));
      return {
        chain: chain.chain,
        status: chain.status,
        withdrawalTtl: chain.withdrawalTtl,
        cursor: {
          block: chain.cursorBlock,
          logIndex: chain.cursorLog === BLOCK_END ? null : chain.cursorLog,
        },
        nextNonce: chain.nextNonce,
        pending: pending.map((p) => ({ ...p, asset: state.assets[p.asset]?.config.symbol ?? '?' })),
        assets,
      };
    });
}

/** A chain's report as JSON: amounts in whole units of their asset, weights as decimals. */
export function renderChain(report: ChainReport) {
  const decimals = new Map(report.assets.map((a) => [a.asset, a.decimals]));
  return {
    ...report,
    pending: report.pending.map((p) => ({
      ...p,
      amount: formatDecimal(p.amount, decimals.get(p.asset) ?? 0),
    })),
    assets: report.assets.map((a) => ({
      ...a,
      credited: formatDecimal(a.credited, a.decimals),
      pending: formatDecimal(a.pending, a.decimals),
      vaultHolds: formatDecimal(a.credited + a.pending, a.decimals),
      initialWeight: formatDecimal(a.initialWeight, WEIGHT_DECIMALS),
      maintenanceWeight: formatDecimal(a.maintenanceWeight, WEIGHT_DECIMALS),
      supplyCap: a.supplyCap === null ? null : formatDecimal(a.supplyCap, a.decimals),
    })),
  };
}

function findChain(draft: Draft, id: string, field = 'chain'): ChainState {
  const chain = draft.chain(id);
  if (chain === undefined) {
    throw new FulcrumError('unknown_chain', `chain ${JSON.stringify(id)} is not listed`, field);
  }
  return chain;
}

function requireAfterCursor(chain: ChainState, block: number, logIndex: number): void {
  const after =
    block > chain.cursorBlock || (block === chain.cursorBlock && logIndex > chain.cursorLog);
  if (!after) {
    const at =
      chain.cursorLog === BLOCK_END
        ? `the end of block ${chain.cursorBlock}`
        : `block ${chain.cursorBlock} log ${chain.cursorLog}`;
    throw new FulcrumError(
      'chain_event_seen',
      `chain ${chain.chain} was taken up to ${at}: block ${block} log ${logIndex} is not after it`,
      'block',
    );
  }
}

function locatedAsset(draft: Draft, symbol: string, chain: string): AssetState {
  const asset = draft.findAsset(symbol, 'asset');
  if (asset.config.location?.chain !== chain) {
    throw new FulcrumError('wrong_chain', `${symbol} is not held on chain ${chain}`, 'asset');
  }
  return asset;
}

function pendingWithdrawal(chain: ChainState, nonce: number): PendingWithdrawal {
  const withdrawal = chain.pending.get(nonce);
  if (withdrawal === undefined) {
    const message = `no withdrawal ${nonce} is pending on chain ${chain.chain}`;
    throw new FulcrumError('unknown_withdrawal', message, 'nonce');
  }
  return withdrawal;
}

function assetsOn(draft: Draft, chain: string): AssetState[] {
  const found: AssetState[] = [];
  for (const { index } of draft.base.assets) {
    const asset = draft.asset(index);
    if (asset.config.location?.chain === chain) found.push(asset);
  }
  return found;
}

function setInitialWeight(draft: Draft, asset: AssetState, initial: bigint): void {
  const config = { ...asset.config, assetWeight: { ...asset.config.assetWeight, initial } };
  const { oraclePrice, stablePrice, confidence } = asset.risk;
  draft.setAsset({
    ...asset,
    config,
    risk: assetRisk(config, oraclePrice, stablePrice, confidence),
  });
}
