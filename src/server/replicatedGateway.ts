/**
 * The engine behind a replicated node's service (`fulcrum serve --replicate`): the node runs one
 * replica of the shard (`Replica`: it applies the replicated log into its local journal and
 * contends for the lease like any other), and every node serves HTTP.
 *
 * - A command goes to the shard's leader, whichever node holds the lease, through a
 *   `ReplicaClient` with the request's idempotency key (its API key's id and its
 *   `Idempotency-Key`, hashed; a fresh random key when the request gives none), retried with the
 *   same key through failovers. It is answered with the leader's outcome once this node's own
 *   replica has applied the log entry that holds it, from this node's engine result at the
 *   command's journal position (the same on every replica): a client never reads a state older
 *   than its own acknowledged command, whichever node it reads from next.
 * - The log unavailable or no leader for `retryForMs` is 503 `log_unavailable` with Retry-After:
 *   nothing was acknowledged; a retry with the same Idempotency-Key is applied at most once.
 * - Reads come from the local replica's state, held until its local journal is durable, as a
 *   single engine's are; the liquidation monitor, the metrics and the streams are fed from the
 *   commands the local replica applies, whoever led.
 */
import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FulcrumError, type ErrorCode } from '../base/errors.js';
import { encodeCommand } from '../engine/commandCodec.js';
import type { Command } from '../engine/commands.js';
import type { EngineState } from '../engine/state.js';
import { LiquidationMonitor } from '../liquidation/monitor.js';
import type { ClientAnswer, ReplicaClient } from '../replication/client.js';
import { ReplicationError } from '../replication/errors.js';
import type { Replica } from '../replication/replica.js';
import type { DurableEngine, JournaledResult } from '../store/durableEngine.js';
import { historyEntry, isLiquidationEvent } from '../store/history.js';
import { HttpError } from './errors.js';
import {
  type EngineGateway,
  type GatewayResult,
  JournalFailure,
  type ResultListener,
  type SubmitRequest,
} from './gateway.js';
import type { Metrics } from './metrics.js';

export interface ReplicatedGatewayOptions {
  readonly queueMax: number;
  readonly retryAfterSeconds: number;
  /** How long an answer waits for the local replica to apply its command's entry, ms. */
  readonly applyWaitMs: number;
}

/** The parts of a replicated node the gateway drives (made by `fulcrum serve --replicate`). */
export interface ReplicatedNode {
  /** The local journal the node's replica applies the log into. */
  readonly durable: DurableEngine;
  /** Made with the observer of the local journal's commands. */
  readonly replica: (observe: ResultListener) => Replica;
  readonly client: ReplicaClient;
}

const conflict = () =>
  new HttpError(409, 'idempotency_conflict', 'this Idempotency-Key was used with another body');

/** Results kept in memory by journal position, to answer a command without reading the store. */
const RESULTS_KEPT = 65_536;

/** The log's key of a request's idempotency key: fixed length, in the log's alphabet. */
export function logKey(scopedKey: string | undefined): string {
  if (scopedKey === undefined) return `g-${randomUUID()}`;
  return `h-${createHash('sha256').update(scopedKey).digest('base64url')}`;
}

export class ReplicatedGateway implements EngineGateway {
  readonly durable: DurableEngine;
  readonly monitor: LiquidationMonitor;
  readonly replica: Replica;
  private readonly client: ReplicaClient;
  private readonly metrics: Metrics;
  private readonly options: ReplicatedGatewayOptions;
  private readonly listeners: ResultListener[] = [];
  private readonly results = new Map<number, { result: JournaledResult; command: Command }>();
  private pending = 0;
  private accepting = true;
  private readonly journal = new JournalFailure();

  constructor(node: ReplicatedNode, metrics: Metrics, options: ReplicatedGatewayOptions) {
    this.durable = node.durable;
    this.client = node.client;
    this.metrics = metrics;
    this.options = options;
    this.monitor = new LiquidationMonitor(node.durable.engine.state);
    metrics.liquidatable.set(this.monitor.count);
    this.replica = node.replica((result, command) => this.journaled(result, command));
  }

  get state(): EngineState {
    return this.durable.engine.state;
  }

  get queueDepth(): number {
    return this.pending;
  }

  get ready(): boolean {
    return this.accepting && !this.journal.failed && this.replica.journalReady;
  }

  get stopping(): boolean {
    return !this.accepting;
  }

  onResult(listener: ResultListener): void {
    this.listeners.push(listener);
  }

  unready(): HttpError {
    if (this.stopping) return new HttpError(503, 'shutting_down', 'the service is stopping');
    const failed = this.journal.refusal();
    if (failed !== null) return failed;
    if (this.replica.halted) {
      return new HttpError(503, 'replica_halted', 'the local replica has stopped (see its log)');
    }
    return new HttpError(503, 'replica_starting', 'the local replica is catching up the log', {
      retryAfter: this.options.retryAfterSeconds,
    });
  }

  /** A command the local replica applied into its journal, whoever led. */
  private journaled(result: JournaledResult, command: Command): void {
    this.monitor.observe(result);
    this.metrics.liquidatable.set(this.monitor.count);
    if (result.seq !== null) {
      this.results.set(result.seq, { result, command });
      if (this.results.size > RESULTS_KEPT) {
        const oldest = this.results.keys().next();
        if (oldest.done !== true) this.results.delete(oldest.value);
      }
    }
    if (result.ok) {
      for (const event of result.events) {
        if (isLiquidationEvent(event.type)) this.metrics.liquidations.inc({ kind: event.type });
      }
    }
    for (const listener of this.listeners) listener(result, command);
  }

  admit(count = 1): void {
    if (!this.ready) throw this.unready();
    if (this.pending + count > this.options.queueMax) {
      throw new HttpError(
        503,
        'queue_full',
        `${this.pending} commands wait for the log (the most is ${this.options.queueMax}): retry later`,
        { retryAfter: this.options.retryAfterSeconds },
      );
    }
  }

  /**
   * Sends the command to the leader (retried by key through failovers) and resolves with its
   * result on this node once the local replica applied it and its local journal is durable.
   */
  async submit(command: Command, request?: SubmitRequest): Promise<GatewayResult> {
    this.admit();
    if (request === undefined) throw new Error('a replicated node sends commands as JSON');
    this.pending += 1;
    this.metrics.queueDepth.set(this.pending);
    const start = performance.now();
    try {
      let answer: ClientAnswer;
      try {
        answer = await this.client.submit(logKey(request.key), request.input);
      } catch (error) {
        throw this.refusal(error);
      }
      const result = await this.localResult(answer, command);
      this.metrics.journalLatency.observe((performance.now() - start) / 1000);
      return result;
    } finally {
      this.pending -= 1;
      this.metrics.queueDepth.set(this.pending);
    }
  }

  /** The leader's outcome as this node's result, once the local replica holds it. */
  private async localResult(answer: ClientAnswer, command: Command): Promise<GatewayResult> {
    if (answer.status === 'invalid' || answer.position === undefined) {
      const code = (answer.code ?? 'invalid_field') as ErrorCode;
      const message = `the log's replicas could not decode the command (${code})`;
      return { ok: false, error: new FulcrumError(code, message), seq: null };
    }
    await this.appliedHere(answer.seq);
    const position = answer.position;
    try {
      await this.durable.whenDurable(position);
    } catch (error) {
      throw this.journal.record(error);
    }
    const kept = this.results.get(position);
    if (kept === undefined) return this.recorded(position, answer, command);
    if (answer.duplicate && encodeCommand(kept.command) !== encodeCommand(command)) {
      throw conflict();
    }
    return kept.result;
  }

  /** Waits (bounded) until the local replica applied stream sequence `seq`. */
  private async appliedHere(seq: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.options.applyWaitMs);
    });
    const done = await Promise.race([this.replica.appliedAtLeast(seq), late]);
    clearTimeout(timer);
    if (done === 'late' || !this.replica.journalReady) {
      throw new HttpError(
        503,
        'replica_behind',
        `the command is in the log at ${seq}, not yet applied on this node: retry with the same Idempotency-Key`,
        { retryAfter: this.options.retryAfterSeconds },
      );
    }
  }

  /**
   * The result of a command this node applied before it kept results in memory (a retry of an
   * old command): its journal record. A record of another command means the idempotency key
   * was used before with another body.
   */
  private async recorded(
    position: number,
    answer: ClientAnswer,
    command: Command,
  ): Promise<GatewayResult> {
    const [record] = await this.durable.store.readRecords(position - 1, 1);
    if (record === undefined || record.seq !== position) {
      throw new Error(`the local journal has no record at ${position}`);
    }
    const entry = historyEntry(record);
    if (record.command !== encodeCommand(command)) throw conflict();
    if (entry.outcome !== 'ok') {
      const code = entry.outcome as ErrorCode;
      const message = `refused by the engine (${code}; told from the journal)`;
      return { ok: false, error: new FulcrumError(code, message), seq: position };
    }
    const sequence = answer.sequence ?? 0;
    return { ok: true, seq: position, sequence, time: entry.time, renderedEvents: entry.events };
  }

  /** A replication failure as the service's refusal: retry later with the same key. */
  private refusal(error: unknown): unknown {
    if (!(error instanceof ReplicationError)) return error;
    if (error.code === 'invalid_request') {
      return new HttpError(400, 'invalid_field', error.message);
    }
    return new HttpError(
      503,
      'log_unavailable',
      `the replicated log did not take the command (${error.code}): retry with the same Idempotency-Key`,
      { retryAfter: this.options.retryAfterSeconds },
    );
  }

  /** Reads wait for the local journal; a halted replica's state is answered by no read. */
  async settled<T>(value: T): Promise<T> {
    if (this.replica.halted) throw this.unready();
    return this.journal.settled(this.durable, value);
  }

  stopAccepting(): void {
    this.accepting = false;
  }

  /** Stops the replica (a leader gives up its lease), then closes the local journal. */
  async close(): Promise<void> {
    this.accepting = false;
    await this.replica.close();
    await this.durable.close();
  }
}
