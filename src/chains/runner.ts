/**
 * Watchers at work beside a running service (`fulcrum chains watch`): one per configured chain,
 * each reading its chain over JSON-RPC (viem's HTTP transport) and sending what is final to the
 * service through {@link httpEnginePort}. A poll that fails (the chain or the service did not
 * answer) is logged and retried at the next interval; nothing is lost, since the cursor is the
 * engine's.
 */
import { createPublicClient, http, type PublicClient } from 'viem';
import { FulcrumError } from '../base/errors.js';
import { validateWatcherConfig, type WatcherConfig } from './config.js';
import type { HttpEnginePort } from './httpPort.js';
import { ChainWatcher, type PollReport } from './watcher.js';

/** A chain of the watchers' configuration file: the watcher's configuration and its endpoint. */
export interface WatchedChain {
  readonly watcher: WatcherConfig;
  /** The chain's JSON-RPC endpoint (http or https). */
  readonly rpcUrl: string;
}

/** Most chains one file may configure. */
const CHAINS_MAX = 16;

/**
 * The watchers' configuration file: `{"chains": [{"chain", "rpcUrl", "vault", "startBlock",
 * "confirmations" | "finalizedTag": true, "haltAfterSeconds", "blocksPerPoll"?, "tokens":
 * [{"address", "asset", "decimals"}]}]}` (docs/CHAINS.md).
 */
export function parseWatchFile(input: unknown): WatchedChain[] {
  const fail = (message: string): never => {
    throw new FulcrumError('invalid_config', `chains file: ${message}`);
  };
  const chains = (input as { chains?: unknown } | null)?.chains;
  if (!Array.isArray(chains) || chains.length === 0 || chains.length > CHAINS_MAX) {
    return fail(`"chains" must list 1 to ${CHAINS_MAX} chains`);
  }
  return chains.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null) return fail(`chains[${i}] is not an object`);
    const raw = entry as Record<string, unknown>;
    if (typeof raw.rpcUrl !== 'string' || !/^https?:\/\/\S+$/.test(raw.rpcUrl)) {
      return fail(`chains[${i}].rpcUrl must be an http(s) URL`);
    }
    const finality =
      raw.finalizedTag === true
        ? ({ kind: 'finalized-tag' } as const)
        : ({ kind: 'confirmations', confirmations: raw.confirmations as number } as const);
    const watcher = validateWatcherConfig({
      chain: raw.chain as string,
      vault: raw.vault as WatcherConfig['vault'],
      tokens: raw.tokens as WatcherConfig['tokens'],
      finality,
      startBlock: raw.startBlock as number,
      haltAfterSeconds: raw.haltAfterSeconds as number,
      ...(raw.blocksPerPoll === undefined ? {} : { blocksPerPoll: raw.blocksPerPoll as number }),
    });
    return { watcher, rpcUrl: raw.rpcUrl };
  });
}

export interface RunnerOptions {
  readonly port: HttpEnginePort;
  /** A client per chain; by default one over HTTP to its `rpcUrl`. */
  readonly clientOf?: (chain: WatchedChain) => PublicClient;
  /** The watchers' clock, unix seconds: command times and halt timers. */
  readonly now: () => number;
  /** Called with each poll's report (a line of the log). */
  readonly report: (chain: string, report: PollReport | { error: string }) => void;
}

/** Watchers polling in turns, every `intervalMs`, until `stop()`. */
export class WatcherRunner {
  readonly watchers: readonly ChainWatcher[];
  private readonly options: RunnerOptions;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(chains: readonly WatchedChain[], options: RunnerOptions) {
    this.options = options;
    const clientOf =
      options.clientOf ??
      ((c: WatchedChain) => createPublicClient({ transport: http(c.rpcUrl) }) as PublicClient);
    this.watchers = chains.map(
      (c) =>
        new ChainWatcher(c.watcher, {
          client: clientOf(c),
          engine: options.port,
          now: options.now,
        }),
    );
  }

  /** One round: the service's report read, then each chain polled once. */
  async round(): Promise<void> {
    try {
      await this.options.port.refresh();
    } catch (error) {
      for (const w of this.watchers) this.options.report(w.config.chain, { error: message(error) });
      return;
    }
    for (const watcher of this.watchers) {
      try {
        this.options.report(watcher.config.chain, await watcher.poll());
      } catch (error) {
        this.options.report(watcher.config.chain, { error: message(error) });
      }
    }
  }

  /** Rounds every `intervalMs` until {@link stop}. */
  async run(intervalMs: number): Promise<void> {
    while (!this.stopped) {
      await this.round();
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
