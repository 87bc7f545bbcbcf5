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

export class Gateway {
  readonly durable: DurableEngine;
  readonly monitor: LiquidationMonitor;
  private readonly metrics: Metrics;
  private readonly options: GatewayOptions;
  private pending = 0;
  private accepting = true;
  /** The storage failure that stopped the engine, once one did. */
  private failure: StoreError | null = null;
  /** Called with each accepted or refused journaled result, after the monitor saw it. */
  private readonly listeners: ((result: JournaledResult, command: Command) => void)[] = [];

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
    return this.accepting && this.failure === null;
  }

  get stopping(): boolean {
    return !this.accepting;
  }

  onResult(listener: (result: JournaledResult, command: Command) => void): void {
    this.listeners.push(listener);
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
      throw this.storeFailed(error);
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
      throw this.storeFailed(error);
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
    if (this.failure !== null) {
      throw new HttpError(503, 'store_failed', `the journal failed: ${this.failure.message}`);
    }
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
    try {
      await this.durable.whenDurable(this.durable.lastSeq);
    } catch (error) {
      throw this.storeFailed(error);
    }
    return value;
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

  private storeFailed(error: unknown): unknown {
    if (!(error instanceof StoreError)) return error;
    this.failure = error;
    return new HttpError(503, 'store_failed', `the journal failed: ${error.message}`);
  }
}
