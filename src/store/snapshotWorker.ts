/**
 * The snapshot follower's thread: a copy of the engine's state kept current by applying the
 * effects segments the durable engine writes (as recovery applies them), and serialized here
 * when the engine asks for a snapshot, so that the engine's own thread never stops to build
 * one (5 to 9 s for a million accounts). Loaded as a worker from the compiled package
 * (`dist/store/snapshotWorker.js`); see `snapshotFollower.ts` for the other side.
 *
 * Messages in (from the engine):   { kind: 'start', seq, state }    the state at `seq`
 *                                  { kind: 'effects', lastSeq, records, bytes, snapshot }
 * Messages out (on `workerData.replies`, a port the engine reads when it needs to, not when its
 * event loop gets to it):          { kind: 'started', seq }          once it holds the state
 *                                  { kind: 'applied', seq }          after each segment
 *               { kind: 'snapshot', snapshot }          a SnapshotRecord, when one was asked for
 *               { kind: 'failed', message }             then nothing more
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { applyEffects } from '../engine/effects.js';
import { deserializeState } from '../engine/snapshotCodec.js';
import type { EngineState } from '../engine/state.js';
import { snapshotOf } from './snapshots.js';

export type FollowerMessage =
  | { readonly kind: 'start'; readonly seq: number; readonly state: string }
  | {
      readonly kind: 'effects';
      readonly lastSeq: number;
      readonly records: number;
      readonly bytes: Uint8Array;
      /** Whether to snapshot the state once the segment is applied. */
      readonly snapshot: boolean;
    };

export type FollowerReply =
  | { readonly kind: 'started'; readonly seq: number }
  | { readonly kind: 'applied'; readonly seq: number }
  | {
      readonly kind: 'snapshot';
      readonly snapshot: {
        readonly seq: number;
        readonly stateHash: string;
        readonly state: string;
        readonly checksum: number;
      };
    }
  | { readonly kind: 'failed'; readonly message: string };

let state: EngineState | null = null;
let seq = 0;
let failed = false;

const replies = (workerData as { replies: MessagePort } | null)?.replies;

function reply(message: FollowerReply): void {
  replies?.postMessage(message);
}

function follow(message: FollowerMessage): void {
  if (message.kind === 'start') {
    state = deserializeState(message.state);
    seq = message.seq;
    reply({ kind: 'started', seq });
    return;
  }
  if (state === null) throw new Error('effects before the starting state');
  // Segments come in journal order, each right after the one before.
  if (message.lastSeq - message.records !== seq) {
    throw new Error(
      `effects of records ${message.lastSeq - message.records + 1} to ${message.lastSeq} after record ${seq}`,
    );
  }
  applyEffects(state, message.bytes, message.records);
  seq = message.lastSeq;
  reply({ kind: 'applied', seq });
  if (message.snapshot) {
    reply({ kind: 'snapshot', snapshot: snapshotOf(state, seq) });
  }
}

parentPort?.on('message', (message: FollowerMessage) => {
  if (failed) return;
  try {
    follow(message);
  } catch (error) {
    // The copy can no longer be trusted: say why and follow nothing more.
    failed = true;
    reply({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
});
