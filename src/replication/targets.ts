/**
 * Where a replica's commands go: an in-memory engine, or a durable engine whose local journal
 * (SQLite or PostgreSQL) keeps the history and snapshots of the replica's state.
 */
import type { Command } from '../engine/commands.js';
import type { Engine } from '../engine/engine.js';
import type { DurableEngine, JournaledResult } from '../store/durableEngine.js';
import type { ApplyTarget } from './applier.js';

export function memoryTarget(engine: Engine): ApplyTarget {
  return {
    state: engine.state,
    apply(command) {
      const result = engine.apply(command);
      return result.ok
        ? { ok: true, sequence: result.sequence }
        : { ok: false, code: result.error.code };
    },
  };
}

/** Told of each command the local journal took, with its result and journal position. */
export type JournalObserver = (result: JournaledResult, command: Command) => void;

/**
 * Commands journaled by the durable engine (pipelined: the local journal is the replica's
 * history, not its acknowledgement; the log's quorum is). `observe` sees each result (a
 * service's liquidation monitor and streams).
 */
export function durableTarget(durable: DurableEngine, observe?: JournalObserver): ApplyTarget {
  return {
    state: durable.engine.state,
    apply(command) {
      const result = durable.submitPipelined(command);
      observe?.(result, command);
      return result.ok
        ? { ok: true, sequence: result.sequence }
        : { ok: false, code: result.error.code };
    },
  };
}
