/**
 * Where a replica's commands go: an in-memory engine, or a durable engine whose local journal
 * (SQLite or PostgreSQL) keeps the history and snapshots of the replica's state.
 */
import type { Engine } from '../engine/engine.js';
import type { DurableEngine } from '../store/durableEngine.js';
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

/**
 * Commands journaled by the durable engine (pipelined: the local journal is the replica's
 * history, not its acknowledgement; the log's quorum is).
 */
export function durableTarget(durable: DurableEngine): ApplyTarget {
  return {
    state: durable.engine.state,
    apply(command) {
      const result = durable.submitPipelined(command);
      return result.ok
        ? { ok: true, sequence: result.sequence }
        : { ok: false, code: result.error.code };
    },
  };
}
