/**
 * Snapshot records of the engine's state, built the same way wherever they are built: on the
 * engine's thread (`durableEngine.ts`), by a follower thread (`snapshotWorker.ts`), and for the
 * hash recovery checks a loaded snapshot against (`recovery.ts`). The account identifiers are
 * sorted once for both the text and the hash.
 */
import { createHash } from 'node:crypto';
import { serializeStateSorted } from '../engine/snapshotCodec.js';
import type { EngineState } from '../engine/state.js';
import { canonicalStateSorted, sortedAccountIds } from '../engine/stateHash.js';
import { type SnapshotRecord, snapshotChecksum } from './journal.js';

/** `stateHash`, with Node's SHA-256 (the core's own is plain JavaScript): the same digits. */
export function hashOf(state: EngineState): string {
  return hashOfSorted(state, sortedAccountIds(state));
}

/** {@link hashOf}, given `ids`: `sortedAccountIds` of the state. */
function hashOfSorted(state: EngineState, ids: readonly string[]): string {
  return createHash('sha256').update(canonicalStateSorted(state, ids)).digest('hex');
}

/** The snapshot record of `state`, standing at journal position `seq`. */
export function snapshotOf(state: EngineState, seq: number): SnapshotRecord {
  const ids = sortedAccountIds(state);
  const snapshot = {
    seq,
    stateHash: hashOfSorted(state, ids),
    state: serializeStateSorted(state, ids),
  };
  return { ...snapshot, checksum: snapshotChecksum(snapshot) };
}
