/**
 * The engine as a chain watcher sees it: commands submitted as JSON (to the in-memory `Engine`
 * or to a `DurableEngine`, whose journal carries the cursor), and its chain's entry of
 * `chainReport` read from the state.
 */
import { chainReport, type ChainReport } from '../engine/chains.js';
import type { CommandResult } from '../engine/apply.js';
import { decodeJson, type Engine } from '../engine/engine.js';
import type { Command } from '../engine/commands.js';
import { FulcrumError } from '../base/errors.js';
import type { EngineState } from '../engine/state.js';
import { BLOCK_END, type ChainView, type EnginePort, type SubmitResult } from './port.js';

/** The chain's entry of the engine's chain report, as a watcher reads it. */
export function chainView(state: EngineState, chain: string): ChainView | undefined {
  const report = chainReport(state).find((entry) => entry.chain === chain);
  return report === undefined ? undefined : viewOf(report);
}

function viewOf(report: ChainReport): ChainView {
  return {
    chain: report.chain,
    status: report.status,
    cursor: { block: report.cursor.block, logIndex: report.cursor.logIndex ?? BLOCK_END },
    nextNonce: report.nextNonce,
    pending: report.pending.map((withdrawal) => ({ ...withdrawal })),
    credited: new Map(report.assets.map((asset) => [asset.asset, asset.credited])),
  };
}

function answer(result: CommandResult): SubmitResult {
  return result.ok
    ? { ok: true }
    : { ok: false, error: { code: result.error.code, message: result.error.message } };
}

/**
 * The in-memory engine as a watcher's port (tests, simulations).
 *
 * @example
 * const watcher = new ChainWatcher(config, { client, engine: memoryEnginePort(engine), now });
 */
export function memoryEnginePort(engine: Engine): EnginePort {
  return {
    submit: (command) => Promise.resolve(answer(engine.applyJson(command))),
    chain: (name) => chainView(engine.state, name),
  };
}

/** What the port needs of a `DurableEngine` (`fulcrum/store`): kept structural. */
export interface DurableEngineLike {
  readonly engine: Engine;
  submitJson(input: unknown): Promise<CommandResult>;
  submitPipelined(command: Command): CommandResult & { readonly seq: number | null };
  whenDurable(seq: number): Promise<void>;
}

/**
 * A durable engine as a watcher's port: a watcher started on the recovered engine resumes from
 * the journaled cursor.
 *
 * Pipelined (the default), each command is applied at once and its result answered before its
 * record is durable; `flush()` (which the watcher awaits at the end of every poll, before it
 * reports anything) waits until every record so far is. That is safe here: the watcher only
 * uses a result to decide whether to send the next event, and if the journal fails, the engine
 * stops, recovery forgets what was not durable, and the restarted watcher sends it again. Not
 * pipelined, every command waits for its own write (one write per event: slower).
 *
 * @example
 * const watcher = new ChainWatcher(config, { client, engine: durableEnginePort(durable), now });
 */
export function durableEnginePort(
  durable: DurableEngineLike,
  options: { readonly pipelined?: boolean } = {},
): EnginePort {
  const chain = (name: string): ChainView | undefined => chainView(durable.engine.state, name);
  if (options.pipelined === false) {
    return { submit: async (command) => answer(await durable.submitJson(command)), chain };
  }
  let last = 0;
  return {
    submit: (command) => {
      const decoded = decodeJson(command, durable.engine.state);
      if (decoded instanceof FulcrumError)
        return Promise.resolve(answer({ ok: false, error: decoded }));
      const result = durable.submitPipelined(decoded);
      if (result.seq !== null && result.seq > last) last = result.seq;
      return Promise.resolve(answer(result));
    },
    flush: () => durable.whenDurable(last),
    chain,
  };
}
