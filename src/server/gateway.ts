/**
 * The engine behind the service: one durable engine (the single writer), the liquidation
 * monitor beside its state, and a bounded queue of commands applied but not yet durable.
 *
 * A command is applied at once (`submitPipelined`) and answered only when the journal write
 * that holds it is durable (group commit: every command applied while a write is made goes into
 * the next). When `queueMax` commands wait for the journal, a new one is refused with 503 and
 * Retry-After, before it is applied: the queue never grows without limit, and a refusal changes
 * nothing. Reads are answered once everything they saw is durable, so that no answer ever shows
 * a state the journal might not recover.
 */
import { performance } from 'node:perf_hooks';
import type { Command } from '../engine/commands.js';
import type { EngineState } from '../engine/state.js';
import { LiquidationMonitor } from '../liquidation/monitor.js';
import type { DurableEngine, JournaledResult } from '../store/durableEngine.js';
import { isLiquidationEvent } from '../store/history.js';
import { StoreError } from '../store/store.js';
import { HttpError } from './errors.js';
import type { Metrics } from './metrics.js';

export interface GatewayOptions {
  readonly queueMax: number;
  readonly retryAfterSeconds: number;
}

/** Told of each command the engine applied (accepted or refused), after the monitor saw it. */
export type ResultListener = (result: JournaledResult, command: Command) => void;

/**
 * An accepted command told from its journal record rather than from the engine's result (a
 * replicated node answering a retry of a command it applied before it kept the result in
 * memory): its events as the journal holds them, already rendered.
 */
export interface RecordedSuccess {
  readonly ok: true;
  readonly seq: number;
  readonly sequence: number;
  readonly time: number;
  readonly renderedEvents: readonly Record<string, unknown>[];
}

/** What a command came as: the JSON the client sent, and its idempotency key if any. */
export interface SubmitRequest {
  /** The command's JSON as the client sent it (with the service's `by`): what a log carries. */
  readonly input: unknown;
  /** The request's idempotency key, scoped to its API key. */
  readonly key?: string;
}

/** A command's result as a gateway answers it. */
export type GatewayResult = JournaledResult | RecordedSuccess;

/**
 * What the service's routes, streams and console need of the engine behind them: the state
 * they read, the liquidation monitor beside it, the journal that history and stream resumes
 * read, commands in, and the rule that reads are answered only from settled state. Two
 * implementations: {@link Gateway} (one durable engine, the single writer) and
 * `ReplicatedGateway` (a replica of a shard's replicated log; commands go to its leader).
 */
export interface EngineGateway {
  /** The state reads are answered from. */
  readonly state: EngineState;
  readonly monitor: LiquidationMonitor;
  /** The journal behind the state: history pages, stream resumes, journal positions. */
  readonly durable: DurableEngine;
  /** Commands taken and not yet answered. */
  readonly queueDepth: number;
  /** Whether new commands are taken now. */
  readonly ready: boolean;
  readonly stopping: boolean;
  onResult(listener: ResultListener): void;
  /**
   * Applies a decoded command and resolves with its result once it is settled (durable, or
   * stored by the replicated log and applied here). A replicated node sends `request.input`
   * to the log's leader with `request.key`.
   */
  submit(command: Command, request?: SubmitRequest): Promise<GatewayResult>;
  /** Throws the refusal `count` new commands get now, if any. */
  admit(count?: number): void;
  /** Resolves with `value` once the state it was read from is settled. */
  settled<T>(value: T): Promise<T>;
  /** The refusal `/readyz` answers with while not ready. */
  unready(): HttpError;
  /** Takes no new command from now on; those in flight go on to their answer. */
  stopAccepting(): void;
  close(): Promise<void>;
}

/**
 * The storage failure that stopped an engine, once one did: both gateways keep one, refuse every
 * command after it, and turn a journal's `StoreError` into the service's 503 `store_failed`.
 */
export class JournalFailure {
  private failure: StoreError | null = null;

  get failed(): boolean {
    return this.failure !== null;
  }

  /** The refusal every command gets once the journal failed; null while it has not. */
  refusal(): HttpError | null {
    if (this.failure === null) return null;
    return new HttpError(503, 'store_failed', `the journal failed: ${this.failure.message}`);
  }

  /** A store's failure remembered and answered as 503; any other error passed on as it is. */
  record(error: unknown): unknown {
    if (!(error instanceof StoreError)) return error;
    this.failure = error;
    return this.refusal();
  }

  /** Resolves with `value` once everything `durable` applied so far is durable. */
  async settled<T>(durable: DurableEngine, value: T): Promise<T> {
    try {
      await durable.whenDurable(durable.lastSeq);
    } catch (error) {
      throw this.record(error);
    }
    return value;
  }
}

export class Gateway implements EngineGateway {
  readonly durable: DurableEngine;
  readonly monitor: LiquidationMonitor;
  private readonly metrics: Metrics;
  private readonly options: GatewayOptions;
  private pending = 0;
  private accepting = true;
  private readonly journal = new JournalFailure();
  /** Called with each accepted or refused journaled result, after the monitor saw it. */
  private readonly listeners: ResultListener[] = [];

  constructor(durable: DurableEngine, metrics: Metrics, options: GatewayOptions) {
    this.durable = durable;
    this.metrics = metrics;
    this.options = options;
    this.monitor = new LiquidationMonitor(durable.engine.state);
    metrics.liquidatable.set(this.monitor.count);
  }

  get state(): EngineState {
    return this.durable.engine.state;
  }

  /** Commands applied and waiting for the journal. */
  get queueDepth(): number {
    return this.pending;
  }

  /** Whether new commands are taken: not while stopping, nor after the journal failed. */
  get ready(): boolean {
    return this.accepting && !this.journal.failed;
  }

  get stopping(): boolean {
    return !this.accepting;
  }

  onResult(listener: ResultListener): void {
    this.listeners.push(listener);
  }

  unready(): HttpError {
    if (this.stopping) return new HttpError(503, 'shutting_down', 'the service is stopping');
    return new HttpError(503, 'store_failed', 'the journal failed: the engine has stopped');
  }

  /**
   * Applies a decoded command and resolves with its result once it is durable. Refused before
   * it is applied when the service is stopping, the journal has failed or the queue is full.
   */
  async submit(command: Command): Promise<JournaledResult> {
    this.admit();
    let result: JournaledResult;
    try {
      result = this.durable.submitPipelined(command);
    } catch (error) {
      throw this.journal.record(error);
    }
    this.monitor.observe(result);
    this.metrics.liquidatable.set(this.monitor.count);
    for (const listener of this.listeners) listener(result, command);
    this.pending += 1;
    this.metrics.queueDepth.set(this.pending);
    const start = performance.now();
    try {
      await this.durable.whenDurable(result.seq ?? 0);
    } catch (error) {
      throw this.journal.record(error);
    } finally {
      this.pending -= 1;
      this.metrics.queueDepth.set(this.pending);
    }
    this.metrics.journalLatency.observe((performance.now() - start) / 1000);
    // Counted once durable: a liquidation the journal lost never happened.
    if (result.ok) {
      for (const event of result.events) {
        if (isLiquidationEvent(event.type)) this.metrics.liquidations.inc({ kind: event.type });
      }
    }
    return result;
  }

  /** Throws the refusal `count` new commands get now, if any. */
  admit(count = 1): void {
    if (!this.accepting) {
      throw new HttpError(503, 'shutting_down', 'the service is stopping: no new commands', {
        retryAfter: this.options.retryAfterSeconds,
      });
    }
    const failed = this.journal.refusal();
    if (failed !== null) throw failed;
    if (this.pending + count > this.options.queueMax) {
      throw new HttpError(
        503,
        'queue_full',
        `${this.pending} commands wait for the journal (the most is ${this.options.queueMax}): retry later`,
        { retryAfter: this.options.retryAfterSeconds },
      );
    }
  }

  /** Resolves with `value` once every command applied so far is durable. */
  async settled<T>(value: T): Promise<T> {
    return this.journal.settled(this.durable, value);
  }

  /** Takes no new command from now on; those in flight go on to their answer. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Makes everything durable and closes the journal. */
  async close(): Promise<void> {
    this.accepting = false;
    await this.durable.close();
  }
}
