/**
 * A chain watcher: follows one chain's vault and turns what is final there into engine commands,
 * each exactly once.
 *
 * Every poll: read the head; bring the remembered block hashes in line with it (a reorganized
 * block is noticed by its parent hash and the watcher rewinds: see `headers.ts`); work out the
 * final block (a number of confirmations, or the chain's `finalized` block); deliver the vault's
 * events in final blocks after the engine's cursor, in (block, log index) order, then a
 * checkpoint for the last final block scanned; return withdrawals whose expiry a final block has
 * passed while the vault shows them unpaid; and set the chain's status: paused when the vault
 * is, halted when no new block (or no answer) came for `haltAfterSeconds` of the watcher's clock.
 *
 * The cursor lives in the engine's state, journaled with every command: a watcher (re)started
 * reads it from the engine and resumes there. A replayed event is refused by the engine
 * (`chain_event_seen`) and counted as a duplicate, never credited twice. Events in blocks not
 * yet final are only observed (`observed()`), never delivered: a deposit a reorganization drops
 * before finality is never credited. Command times come from the watcher's clock (`now`), never
 * from block timestamps, so the engine's time never goes backwards. A port that answers before
 * durability (a pipelined durable engine) is flushed at the end of every poll, before the poll
 * reports anything.
 */
import { getAddress, type Address, type PublicClient } from 'viem';
import { formatDecimal } from '../math/decimal.js';
import { fulcrumVaultAbi } from './artifacts.js';
import { validateWatcherConfig, type VaultToken, type WatcherConfig } from './config.js';
import { HeaderChain, type BlockHeader } from './headers.js';
import {
  BLOCK_END,
  type ChainStatusName,
  type ChainView,
  type EnginePort,
  type SubmitResult,
} from './port.js';
import { FulcrumError } from '../base/errors.js';

export interface WatcherDeps {
  /** Reads of the chain (viem). */
  readonly client: PublicClient;
  readonly engine: EnginePort;
  /** The watcher's clock, unix seconds: command times and the halt timer. */
  readonly now: () => number;
}

/** A vault event as the watcher reads it. */
export interface VaultEvent {
  readonly kind: 'deposit' | 'payout';
  readonly block: number;
  readonly logIndex: number;
  readonly blockHash: string;
  readonly tx: string;
  /** The engine command it becomes once final. */
  readonly command: Readonly<Record<string, unknown>>;
}

/** An event seen in a block not yet final, with the blocks built on it so far. */
export interface ObservedEvent extends VaultEvent {
  readonly confirmations: number;
}

export type PollOutcome =
  /** Everything final up to `finalHead` was taken (or a bounded part of it: more next poll). */
  | 'ok'
  /** The chain did not answer. */
  | 'unreachable'
  /** The chain changed while it was read: nothing was delivered from the changed part. */
  | 'moved'
  /** The engine refused an event or checkpoint for a reason other than having seen it. */
  | 'stuck'
  /** A reorganization replaced blocks the engine already took as final: the chain is halted. */
  | 'finality-violated';

export interface PollReport {
  readonly outcome: PollOutcome;
  readonly head: number | null;
  readonly finalHead: number | null;
  /** Events the engine accepted this poll. */
  readonly delivered: number;
  /** Events the engine had already taken (a replay): refused, not credited. */
  readonly duplicates: number;
  /** The first block a reorganization replaced, when this poll noticed one. */
  readonly rewoundFrom: number | null;
  /** Withdrawal nonces returned this poll. */
  readonly expired: readonly number[];
  readonly status: ChainStatusName | null;
  readonly error: string | null;
}

export interface WatcherStats {
  polls: number;
  delivered: number;
  duplicates: number;
  reorgs: number;
  expired: number;
}

/** The engine failed (threw) on a submission: not the chain's fault, so the poll rethrows it. */
class EngineFailure extends Error {
  constructor(readonly original: unknown) {
    super('the engine failed');
  }
}

/** Default blocks one poll scans. */
const BLOCKS_PER_POLL = 2_000;

interface PollState {
  outcome: PollOutcome;
  head: number | null;
  finalHead: number | null;
  delivered: number;
  duplicates: number;
  rewoundFrom: number | null;
  expired: number[];
  status: ChainStatusName | null;
  error: string | null;
}

export class ChainWatcher {
  readonly config: WatcherConfig;
  readonly stats: WatcherStats = { polls: 0, delivered: 0, duplicates: 0, reorgs: 0, expired: 0 };
  private readonly deps: WatcherDeps;
  private readonly headers: HeaderChain;
  private readonly tokens: Map<Address, VaultToken>;
  private readonly blocksPerPoll: number;
  private lastHead = -1;
  private lastProgressAt: number;
  private lastTime = 0;
  private violation: string | null = null;
  /** The status this watcher tripped the chain to, which it may clear. */
  private tripped: ChainStatusName | null = null;
  private observedEvents: ObservedEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  /**
   * @example
   * const watcher = new ChainWatcher(config, { client, engine: enginePort(durable), now });
   * const report = await watcher.poll(); // or watcher.start(1_000) ... await watcher.stop()
   */
  constructor(config: WatcherConfig, deps: WatcherDeps) {
    this.config = validateWatcherConfig(config);
    this.deps = deps;
    this.blocksPerPoll = config.blocksPerPoll ?? BLOCKS_PER_POLL;
    const depth = config.finality.kind === 'confirmations' ? config.finality.confirmations : 0;
    this.headers = new HeaderChain(this.blocksPerPoll + depth + 1);
    this.tokens = new Map(config.tokens.map((token) => [getAddress(token.address), token]));
    this.lastProgressAt = deps.now();
  }

  /** Events seen in blocks not yet final, as of the last poll (a reorg drops its own). */
  observed(): readonly ObservedEvent[] {
    return this.observedEvents;
  }

  /** Polls every `intervalMs` until {@link stop}. */
  start(intervalMs: number): void {
    if (this.timer !== undefined || this.running !== undefined) return;
    this.stopped = false;
    const tick = (): void => {
      this.running = this.poll()
        .catch(() => undefined)
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, intervalMs);
        });
    };
    tick();
  }

  /** Stops polling and waits for a poll in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    this.running = undefined;
  }

  /** One poll (see the module's comment). Never throws for the chain's or the engine's answers. */
  async poll(): Promise<PollReport> {
    const state: PollState = {
      outcome: 'ok',
      head: null,
      finalHead: null,
      delivered: 0,
      duplicates: 0,
      rewoundFrom: null,
      expired: [],
      status: null,
      error: null,
    };
    this.stats.polls += 1;
    this.view(); // refuses at once a chain the engine does not list
    try {
      await this.pollChain(state);
    } catch (error) {
      if (error instanceof FulcrumError) throw error;
      if (error instanceof EngineFailure) throw error.original;
      state.outcome = 'unreachable';
      state.error = error instanceof Error ? error.message : String(error);
      try {
        await this.settleStatus(state, null);
      } catch (failure) {
        throw failure instanceof EngineFailure ? failure.original : failure;
      }
    }
    // Nothing is reported (nor the next poll begun) before what this poll sent is durable.
    if (this.deps.engine.flush !== undefined) await this.deps.engine.flush();
    return { ...state, expired: [...state.expired] };
  }

  private async pollChain(state: PollState): Promise<void> {
    const head = await this.header('latest');
    state.head = head.number;
    if (head.number > this.lastHead) {
      this.lastHead = head.number;
      this.lastProgressAt = this.deps.now();
    }
    const synced = await this.headers.sync(head, (n) => this.header(n));
    if (synced.kind === 'moved') {
      state.outcome = 'moved';
      return this.settleStatus(state, await this.vaultPaused());
    }
    if (synced.kind === 'deep') {
      state.rewoundFrom = synced.below;
      this.stats.reorgs += 1;
      this.deepReorg(synced.below);
    }
    if (synced.kind === 'synced' && synced.rewoundFrom !== null) {
      state.rewoundFrom = synced.rewoundFrom;
      this.stats.reorgs += 1;
      this.checkRewind(synced.rewoundFrom);
    }
    if (this.violation !== null) {
      state.outcome = 'finality-violated';
      state.error = this.violation;
      return this.settleStatus(state, null);
    }
    await this.settleStatus(state, await this.vaultPaused());
    const finalHead = await this.finalHead(head);
    state.finalHead = finalHead;
    await this.observe(finalHead, head);
    const complete = await this.deliver(state, finalHead);
    if (complete && state.outcome === 'ok') await this.expire(state, finalHead);
    this.headers.pruneBelow(finalHead);
  }

  /** A reorg below every remembered block: it replaced final blocks if the engine took them. */
  private deepReorg(below: number): void {
    const cursor = this.view().cursor;
    if (below <= cursor.block) {
      this.violation = `a reorganization replaced block ${below} or earlier, which was final`;
    }
  }

  /** A rewind to a block the engine already took as final is a broken finality assumption. */
  private checkRewind(rewoundFrom: number): void {
    const cursor = this.view().cursor;
    if (rewoundFrom <= cursor.block) {
      this.violation = `a reorganization replaced block ${rewoundFrom}, which was final`;
    }
    this.observedEvents = this.observedEvents.filter((event) => event.block < rewoundFrom);
  }

  private async submit(command: Readonly<Record<string, unknown>>): Promise<SubmitResult> {
    try {
      return await this.deps.engine.submit(command);
    } catch (error) {
      throw new EngineFailure(error);
    }
  }

  private view(): ChainView {
    const view = this.deps.engine.chain(this.config.chain);
    if (view === undefined) {
      throw new FulcrumError('invalid_config', `the engine lists no chain ${this.config.chain}`);
    }
    return view;
  }

  private time(): number {
    this.lastTime = Math.max(this.lastTime, Math.floor(this.deps.now()));
    return this.lastTime;
  }

  private async header(tag: 'latest' | 'finalized' | number): Promise<BlockHeader> {
    const block =
      typeof tag === 'number'
        ? await this.deps.client.getBlock({ blockNumber: BigInt(tag) })
        : await this.deps.client.getBlock({ blockTag: tag });
    if (block.number === null || block.hash === null) {
      throw new Error(`the chain answered a pending block for ${String(tag)}`);
    }
    return {
      number: Number(block.number),
      hash: block.hash,
      parentHash: block.parentHash,
      timestamp: Number(block.timestamp),
    };
  }

  private async finalHead(head: BlockHeader): Promise<number> {
    const finality = this.config.finality;
    if (finality.kind === 'confirmations') return head.number - finality.confirmations;
    return Math.min(head.number, (await this.header('finalized')).number);
  }

  private vaultPaused(): Promise<boolean> {
    const { client } = this.deps;
    return client.readContract({
      address: this.config.vault,
      abi: fulcrumVaultAbi,
      functionName: 'paused',
    });
  }

  /**
   * Sets the chain's status when it should change: paused while the vault is, halted while the
   * chain is silent (or its finality was broken), active otherwise. `paused` null: not known
   * (the chain did not answer): only the halt timer decides. The watcher trips an active chain,
   * and clears only a trip it made itself: a status someone else set (an operator, or this
   * watcher before a restart) stays until a person changes it.
   */
  private async settleStatus(state: PollState, paused: boolean | null): Promise<void> {
    const view = this.view();
    const silent = this.deps.now() - this.lastProgressAt >= this.config.haltAfterSeconds;
    let wanted: ChainStatusName;
    if (this.violation !== null || silent) wanted = 'halted';
    else if (paused === null) wanted = view.status;
    else wanted = paused ? 'paused' : 'active';
    state.status = view.status;
    if (wanted === view.status) {
      if (view.status === 'active') this.tripped = null;
      return;
    }
    if (view.status !== 'active' && this.tripped !== view.status) return;
    const command = {
      type: 'set-chain-status',
      time: this.time(),
      chain: this.config.chain,
      status: wanted,
    };
    const result = await this.submit(command);
    if (result.ok) {
      state.status = wanted;
      this.tripped = wanted === 'active' ? null : wanted;
    } else {
      state.error = `set-chain-status refused: ${result.error.code}: ${result.error.message}`;
    }
  }

  /** Reads the vault's events in blocks `from` to `to`, in chain order, as commands. */
  async readEvents(from: number, to: number): Promise<VaultEvent[]> {
    const logs = await this.deps.client.getContractEvents({
      address: this.config.vault,
      abi: fulcrumVaultAbi,
      fromBlock: BigInt(from),
      toBlock: BigInt(to),
      strict: true,
    });
    const events: VaultEvent[] = [];
    for (const log of logs) {
      if (log.blockNumber === null || log.logIndex === null || log.blockHash === null) continue;
      const where = {
        block: Number(log.blockNumber),
        logIndex: log.logIndex,
        tx: log.transactionHash ?? '',
      };
      const seen = { ...where, blockHash: log.blockHash };
      if (log.eventName === 'Deposited') {
        events.push({ kind: 'deposit', ...seen, command: this.depositCommand(where, log.args) });
      } else if (log.eventName === 'Withdrawn') {
        events.push({
          kind: 'payout',
          ...seen,
          command: this.payoutCommand(where, log.args.nonce),
        });
      }
    }
    return events.sort((a, b) => a.block - b.block || a.logIndex - b.logIndex);
  }

  private depositCommand(
    where: { block: number; logIndex: number; tx: string },
    args: { token: Address; account: string; subAccount: number; amount: bigint },
  ): Record<string, unknown> {
    const token = this.tokens.get(getAddress(args.token));
    if (token === undefined) {
      // The vault took a token this watcher was not told about: a configuration error.
      throw new FulcrumError(
        'invalid_config',
        `the vault holds token ${args.token}, not configured`,
      );
    }
    return {
      type: 'chain-deposit',
      time: 0,
      chain: this.config.chain,
      ...where,
      account: args.account,
      subAccount: args.subAccount,
      asset: token.asset,
      amount: formatDecimal(args.amount, token.decimals),
    };
  }

  private payoutCommand(
    where: { block: number; logIndex: number; tx: string },
    nonce: bigint,
  ): Record<string, unknown> {
    if (nonce < 1n || nonce > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FulcrumError('invalid_config', `the vault paid nonce ${nonce}, never authorized`);
    }
    return {
      type: 'chain-withdrawal-paid',
      time: 0,
      chain: this.config.chain,
      nonce: Number(nonce),
      ...where,
    };
  }

  /** Events in blocks after `finalHead`, kept for `observed()`; never delivered. */
  private async observe(finalHead: number, head: BlockHeader): Promise<void> {
    const from = Math.max(
      finalHead + 1,
      this.config.startBlock,
      head.number - this.blocksPerPoll + 1,
    );
    const events = from > head.number ? [] : await this.readEvents(from, head.number);
    this.observedEvents = events
      .filter((event) => this.headers.get(event.block)?.hash === event.blockHash)
      .map((event) => ({ ...event, confirmations: head.number - event.block }));
  }

  /**
   * Delivers the events of final blocks after the engine's cursor, in order, then a checkpoint
   * for the last block scanned. Returns whether the scan reached `finalHead`.
   */
  private async deliver(state: PollState, finalHead: number): Promise<boolean> {
    const cursor = this.view().cursor;
    const first = cursor.logIndex === BLOCK_END ? cursor.block + 1 : cursor.block;
    const from = Math.max(first, this.config.startBlock);
    if (from > finalHead) return true;
    const to = Math.min(finalHead, from + this.blocksPerPoll - 1);
    for (const event of await this.readEvents(from, to)) {
      const taken =
        event.block < cursor.block ||
        (event.block === cursor.block && event.logIndex <= cursor.logIndex);
      if (taken) continue;
      const remembered = this.headers.get(event.block);
      if (remembered !== undefined && remembered.hash !== event.blockHash) {
        state.outcome = 'moved';
        return false;
      }
      if (!(await this.submitEvent(state, event))) return false;
    }
    const checkpoint = {
      type: 'chain-checkpoint',
      time: this.time(),
      chain: this.config.chain,
      block: to,
    };
    const result = await this.submit(checkpoint);
    if (!result.ok && this.view().cursor.block < to) {
      state.outcome = 'stuck';
      state.error = `checkpoint ${to} refused: ${result.error.code}: ${result.error.message}`;
      return false;
    }
    return to === finalHead;
  }

  private async submitEvent(state: PollState, event: VaultEvent): Promise<boolean> {
    const result = await this.submit({ ...event.command, time: this.time() });
    if (result.ok) {
      state.delivered += 1;
      this.stats.delivered += 1;
      return true;
    }
    if (result.error.code === 'chain_event_seen') {
      state.duplicates += 1;
      this.stats.duplicates += 1;
      return true;
    }
    state.outcome = 'stuck';
    state.error = `${event.kind} at ${event.block}/${event.logIndex} refused: ${result.error.code}: ${result.error.message}`;
    return false;
  }

  /**
   * Returns each pending withdrawal whose expiry the final block's timestamp has passed and
   * whose nonce the vault shows unused at that block: the vault refuses it from then on, in this
   * history and any later one, so it can never be paid.
   */
  private async expire(state: PollState, finalHead: number): Promise<void> {
    if (finalHead < this.config.startBlock) return;
    const pending = this.view().pending;
    if (pending.length === 0) return;
    const final = this.headers.get(finalHead) ?? (await this.header(finalHead));
    for (const withdrawal of pending) {
      if (withdrawal.expiry >= final.timestamp) continue;
      const used = await this.deps.client.readContract({
        address: this.config.vault,
        abi: fulcrumVaultAbi,
        functionName: 'usedNonces',
        args: [BigInt(withdrawal.nonce)],
        blockNumber: BigInt(finalHead),
      });
      if (used) continue;
      const command = {
        type: 'chain-withdrawal-expired',
        time: this.time(),
        chain: this.config.chain,
        nonce: withdrawal.nonce,
      };
      const result = await this.submit(command);
      if (result.ok) {
        state.expired.push(withdrawal.nonce);
        this.stats.expired += 1;
      } else {
        state.error = `expiry of ${withdrawal.nonce} refused: ${result.error.code}: ${result.error.message}`;
      }
    }
  }
}
