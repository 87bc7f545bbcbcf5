/**
 * The snapshot follower, from the durable engine's side: a worker thread (`snapshotWorker.ts`)
 * that keeps its own copy of the state by applying each batch's effects segment, and builds
 * the snapshots the engine asks for. The engine's thread only copies each segment's bytes
 * (a few hundred kilobytes a batch) and, later, writes the finished snapshot with a batch.
 *
 * The follower never holds up the engine: a snapshot that is not ready waits for a later
 * batch, and a follower that fails, exits or falls too far behind is dropped with a warning;
 * the engine then builds snapshots itself again.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from 'node:worker_threads';
import type { SnapshotRecord } from './journal.js';
import type { FollowerMessage, FollowerReply } from './snapshotWorker.js';

/** How often a starting follower is asked whether it holds the state. */
const START_POLL_MS = 5;

/**
 * Records a follower may have been sent and not yet applied, by default: beyond this it is
 * dropped rather than queue without bound (its queue holds the effects: 33 bytes a record over
 * the bench's lending mix, some 130 MB; 103 over a derivatives venue's). Counted in records, not
 * segments: when the engine is not busy, batches are a few records each, and hundreds of them
 * arrive while a large snapshot is built.
 */
export const FOLLOWER_LAG_LIMIT = 4_000_000;

/** Cores below which a follower is not started by default: see {@link defaultSnapshotWorker}. */
export const FOLLOWER_MIN_CORES = 4;

/** The compiled snapshot worker beside this module, or null when running from source. */
export function snapshotWorkerScript(): URL | null {
  const url = new URL('./snapshotWorker.js', import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : null;
}

/**
 * The durable engine's default: {@link snapshotWorkerScript} on a machine with cores to spare
 * for a follower, otherwise null (snapshots on the engine's thread). The engine's thread and the
 * store's writer keep two cores busy under load; on two, the follower's work (applying every
 * effects segment, and the snapshots themselves) competes with them: in `npm run bench -- --only
 * snapshots` on two cores it cut the longest pause at 110,000 accounts from 430-520 ms to
 * 140-190 ms, but journaling ran from 11% faster to 15% slower, run to run. A venue on two cores
 * that would rather not pause passes `snapshotWorker: snapshotWorkerScript()`.
 */
export function defaultSnapshotWorker(): URL | null {
  return availableParallelism() < FOLLOWER_MIN_CORES ? null : snapshotWorkerScript();
}

/** How long {@link SnapshotFollower.start} waits for a new follower to hold the state. */
export const FOLLOWER_START_MS = 30_000;

export interface FollowerOptions {
  /** Where warnings go: a follower that fails, lags or cannot start says so here, once. */
  readonly warn: (message: string) => void;
  /** Records it may fall behind before it is dropped. Default {@link FOLLOWER_LAG_LIMIT}. */
  readonly lagLimit?: number;
  /** How long it may take to hold the state. Default {@link FOLLOWER_START_MS}. */
  readonly startMs?: number;
}

export class SnapshotFollower {
  /** The worker, or null when it could not even be created. */
  private readonly worker: Worker | null = null;
  /**
   * Where the follower's replies arrive, read synchronously as the engine writes batches: an
   * engine kept busy between its store's replies may not reach a worker's message events.
   */
  private readonly replies: MessagePort;
  private readonly warn: (message: string) => void;
  private readonly lagLimit: number;
  /** Position of the last segment sent, and of the last the follower applied. */
  private sent: number;
  private applied: number;
  /** Whether a snapshot was asked for and has not arrived. */
  private asked = false;
  private ready: SnapshotRecord | undefined;
  private started = false;
  private stopped = false;

  /**
   * Starts a follower from `stateText` (`serializeState` of the engine's state at journal
   * position `seq`) and resolves once it holds that state (a new thread loads its modules first:
   * about 60 ms here), so that it keeps up from the first batch. A follower that fails to start,
   * or takes longer than `options.startMs`, resolves stopped, with a warning.
   */
  static async start(
    script: URL,
    seq: number,
    stateText: string,
    options: FollowerOptions,
  ): Promise<SnapshotFollower> {
    const follower = new SnapshotFollower(script, seq, stateText, options);
    const startMs = options.startMs ?? FOLLOWER_START_MS;
    for (let waited = 0; !follower.started && follower.active; waited += START_POLL_MS) {
      if (waited >= startMs) {
        follower.stop(`did not start within ${startMs / 1000} s`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, START_POLL_MS));
      follower.receive();
    }
    return follower;
  }

  /** Use {@link start}: a follower is of use once it holds the state. */
  constructor(script: URL, seq: number, stateText: string, options: FollowerOptions) {
    this.warn = options.warn;
    this.lagLimit = options.lagLimit ?? FOLLOWER_LAG_LIMIT;
    this.sent = seq;
    this.applied = seq;
    const channel = new MessageChannel();
    this.replies = channel.port1;
    try {
      this.worker = new Worker(script, {
        workerData: { replies: channel.port2 },
        transferList: [channel.port2],
      });
    } catch (error) {
      // A script that is no file, or a thread that cannot be made: no follower, as for a failure.
      this.stop(`could not start: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    // The follower keeps nothing that must outlive the engine: it never holds the process open.
    this.worker.unref();
    this.worker.on('error', (error) => this.stop(`failed: ${error.message}`));
    this.worker.on('exit', (code) => this.stop(`exited with code ${code}`));
    this.worker.postMessage({ kind: 'start', seq, state: stateText } satisfies FollowerMessage);
  }

  /** Whether the follower is still following (false once it failed, lagged or was closed). */
  get active(): boolean {
    return !this.stopped;
  }

  /** Whether a snapshot was asked for and has not arrived yet (replies in are read first). */
  get building(): boolean {
    this.receive();
    return this.asked;
  }

  /**
   * Sends a copy of the effects segment of records `lastSeq - records + 1` to `lastSeq`;
   * `snapshot`: snapshot the state after it. Segments must come in journal order, each
   * starting right after the last. Returns whether the follower took it (false once stopped,
   * or when it has fallen more than its lag limit behind, which stops it).
   */
  follow(lastSeq: number, records: number, bytes: Uint8Array, snapshot: boolean): boolean {
    this.receive();
    if (this.stopped || this.worker === null) return false;
    if (lastSeq - this.applied > this.lagLimit) {
      this.stop(`fell ${(lastSeq - this.applied).toLocaleString('en')} records behind`);
      return false;
    }
    this.sent = lastSeq;
    if (snapshot) this.asked = true;
    // Posting copies the bytes at once: the engine then moves the segment's own to the writer.
    this.worker.postMessage({
      kind: 'effects',
      lastSeq,
      records,
      bytes,
      snapshot,
    } satisfies FollowerMessage);
    return true;
  }

  /**
   * The newest snapshot the follower finished that nobody took yet; one finished before the
   * follower stopped is still handed out (it is the state at its position all the same).
   */
  take(): SnapshotRecord | undefined {
    this.receive();
    const snapshot = this.ready;
    this.ready = undefined;
    return snapshot;
  }

  /** Stops the follower; a snapshot it was building is dropped. */
  async close(): Promise<void> {
    this.stopped = true;
    this.replies.close();
    await this.worker?.terminate();
  }

  /** Reads the replies that arrived. */
  private receive(): void {
    if (this.stopped) return;
    for (;;) {
      const received = receiveMessageOnPort(this.replies);
      if (received === undefined) return;
      this.received(received.message as FollowerReply);
    }
  }

  private received(reply: FollowerReply): void {
    if (this.stopped) return;
    switch (reply.kind) {
      case 'started':
        this.started = true;
        break;
      case 'applied':
        this.applied = reply.seq;
        break;
      case 'snapshot':
        this.ready = reply.snapshot;
        this.asked = false;
        break;
      case 'failed':
        this.stop(`failed: ${reply.message}`);
        break;
    }
  }

  private stop(why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.asked = false;
    try {
      this.warn(
        `the snapshot follower ${why} (after journal record ${this.applied} of ${this.sent}); snapshots are built on the engine's thread from now on`,
      );
    } catch {
      // A warning that cannot be given must not stop the engine, or the process.
    }
    this.replies.close();
    void this.worker?.terminate();
  }
}
