/**
 * The streams' source (docs/SERVER.md, "Streams"): every journaled command's events, published
 * once durable, in journal order, to the connected clients; a bounded ring of the most recent
 * ones for resumes, the journal behind it for older ones; and the state the clients watch
 * (sub-account health, price grades), recomputed after each publication and pushed when it
 * changed.
 *
 * Only durable state is ever pushed. A command's events are published once its journal write is
 * durable (`whenDurable`), in order; state (health, grades) is computed only when the whole
 * state is durable (no command applied but not yet durable), else at the next publication.
 */
import type { Command } from '../engine/commands.js';
import { renderEventsJson } from '../engine/render.js';
import type { JournaledResult } from '../store/durableEngine.js';
import type { EngineGateway } from './gateway.js';
import { pricesOf } from './prices.js';

/** One journaled command as the streams carry it: its position, time and events (as JSON). */
export interface StreamRecord {
  readonly seq: number;
  readonly time: number;
  readonly events: readonly Record<string, unknown>[];
}

/** What a connected client is given by the hub. */
export interface StreamSink {
  /** A record now durable (seq ascending, each once). */
  record(record: StreamRecord): void;
  /** The whole state is durable at `seq`: recompute what the client watches. */
  state(seq: number, grades: readonly GradeState[]): void;
  /** The service is stopping or the journal failed: close with `code`. */
  close(code: number, reason: string): void;
}

export interface GradeState {
  readonly asset: string;
  readonly grade: string;
  readonly allows: { readonly newRisk: boolean; readonly liquidate: boolean };
  readonly breaker: { readonly trippedAt: number | null; readonly frozen: boolean } | null;
}

export class StreamHub {
  readonly gateway: EngineGateway;
  private readonly ringMax: number;
  private readonly ring: StreamRecord[] = [];
  private ringEvents = 0;
  /** Every record after this position is in the ring (those with events). */
  private coveredFrom: number;
  /** Every record up to this position has been published. */
  private published: number;
  /** Records applied, waiting to be durable (ascending). */
  private readonly pending: StreamRecord[] = [];
  private readonly sinks = new Set<StreamSink>();
  private stateDirty = true;
  /** The most unsent bytes any client's socket held after a send (tests check the bound). */
  peakBuffered = 0;
  private lastGrades = new Map<string, string>();

  constructor(gateway: EngineGateway, ringMax: number) {
    this.gateway = gateway;
    this.ringMax = ringMax;
    this.published = gateway.durable.durableSeq;
    this.coveredFrom = this.published;
    this.lastGrades = new Map(gradesOf(gateway).map((g) => [g.asset, JSON.stringify(g)]));
    gateway.onResult((result, command) => this.applied(result, command));
  }

  /** The last position published to clients. */
  get publishedSeq(): number {
    return this.published;
  }

  /** The position after which the ring holds every record. */
  get ringFrom(): number {
    return this.coveredFrom;
  }

  get clients(): number {
    return this.sinks.size;
  }

  add(sink: StreamSink): void {
    this.sinks.add(sink);
  }

  remove(sink: StreamSink): void {
    this.sinks.delete(sink);
  }

  /** The ring's records after `seq` (the caller checked that `seq >= ringFrom`). */
  recordsAfter(seq: number): readonly StreamRecord[] {
    let low = 0;
    let high = this.ring.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((this.ring[mid] as StreamRecord).seq <= seq) low = mid + 1;
      else high = mid;
    }
    return this.ring.slice(low);
  }

  /** Whether the engine's whole state is durable (nothing applied is waiting for the journal). */
  get stateDurable(): boolean {
    const { durable } = this.gateway;
    return durable.lastSeq === durable.durableSeq;
  }

  notePeak(bytes: number): void {
    if (bytes > this.peakBuffered) this.peakBuffered = bytes;
  }

  /** Closes every client with `code` (1001 when the service stops). */
  closeAll(code: number, reason: string): void {
    for (const sink of [...this.sinks]) sink.close(code, reason);
  }

  private applied(result: JournaledResult, command: Command): void {
    if (result.seq === null) return;
    const events = result.ok
      ? (JSON.parse(renderEventsJson(result.events)) as Record<string, unknown>[])
      : [];
    this.pending.push({ seq: result.seq, time: command.time, events });
    this.gateway.durable.whenDurable(result.seq).then(
      () => this.flush(),
      () => this.failed(),
    );
  }

  /** Publishes every pending record now durable, in order, then the state if it is durable. */
  private flush(): void {
    const durableSeq = this.gateway.durable.durableSeq;
    let count = 0;
    while (count < this.pending.length && (this.pending[count] as StreamRecord).seq <= durableSeq) {
      count += 1;
    }
    if (count === 0 && !this.stateDirty) return;
    for (const record of this.pending.splice(0, count)) {
      this.published = record.seq;
      if (record.events.length === 0) continue;
      this.keep(record);
      for (const sink of [...this.sinks]) sink.record(record);
    }
    if (count > 0) this.stateDirty = true;
    if (this.stateDirty && this.stateDurable) {
      this.stateDirty = false;
      const grades = this.changedGrades();
      for (const sink of [...this.sinks]) sink.state(this.published, grades);
    }
  }

  private keep(record: StreamRecord): void {
    this.ring.push(record);
    this.ringEvents += record.events.length;
    while (this.ringEvents > this.ringMax && this.ring.length > 1) {
      const dropped = this.ring.shift() as StreamRecord;
      this.ringEvents -= dropped.events.length;
      this.coveredFrom = dropped.seq;
    }
  }

  private changedGrades(): GradeState[] {
    const changed: GradeState[] = [];
    for (const grade of gradesOf(this.gateway)) {
      const text = JSON.stringify(grade);
      if (this.lastGrades.get(grade.asset) === text) continue;
      this.lastGrades.set(grade.asset, text);
      changed.push(grade);
    }
    return changed;
  }

  /** The journal failed: what was not durable never happened; every client is closed. */
  private failed(): void {
    this.pending.length = 0;
    this.closeAll(1011, 'the journal failed');
  }
}

/** Every asset's grade, what it allows and its breaker, now. */
export function gradesOf(gateway: EngineGateway): GradeState[] {
  return pricesOf(gateway.state).assets.map((a) => ({
    asset: a.asset,
    grade: a.grade,
    allows: a.allows,
    breaker: a.oracle === null ? null : a.oracle.breaker,
  }));
}
