/**
 * One stream connection once subscribed: which events it receives (its channels and accounts),
 * the position it has been given everything up to (`cursor`), its catch-up from the ring or the
 * journal on a resume, the health it watches with its alert thresholds, and its send buffer's
 * bound (a client that leaves more unread is dropped with close code 4413).
 */
import type { WebSocket } from 'ws';
import { Draft } from '../engine/draft.js';
import type { SubAccountRef } from '../engine/state.js';
import { formatDecimal } from '../math/decimal.js';
import { HEALTH_DECIMALS, VALUE_DECIMALS } from '../math/fixed.js';
import { isLiquidationEvent } from '../store/history.js';
import { recordIntact } from '../store/journal.js';
import type { GradeState, StreamHub, StreamRecord, StreamSink } from './streamHub.js';

export const CHANNELS = ['accounts', 'prices', 'liquidations', 'events'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Close codes (docs/SERVER.md, "Streams"). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  internal: 1011,
  badMessage: 4400,
  unauthenticated: 4401,
  forbidden: 4403,
  resumeUnavailable: 4410,
  slowClient: 4413,
  tooManyForKey: 4429,
  full: 4503,
} as const;

const PRICE_EVENTS = new Set(['price-set', 'price-aggregated', 'breaker-tripped', 'breaker-reset']);

/** Journal records read per page when a resume is older than the ring. */
const JOURNAL_PAGE = 500;

export interface Subscription {
  readonly channels: ReadonlySet<Channel>;
  readonly accounts: readonly SubAccountRef[];
  /** Maintenance health factors that raise an alert when crossed. */
  readonly thresholds: readonly number[];
}

export class StreamError extends Error {
  constructor(
    readonly code: string,
    readonly closeCode: number,
    message: string,
  ) {
    super(message);
  }
}

export class StreamClient implements StreamSink {
  private cursor = 0;
  private live = false;
  private closed = false;
  private readonly accountIds: ReadonlySet<string>;
  private readonly lastHealth = new Map<string, { text: string; factor: number }>();

  constructor(
    private readonly socket: WebSocket,
    private readonly hub: StreamHub,
    private readonly subscription: Subscription,
    private readonly bufferMax: number,
    private readonly onClose: () => void,
  ) {
    this.accountIds = new Set(subscription.accounts.map((ref) => ref.account));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends a message, or drops the client when its unsent bytes would pass the bound. */
  send(message: Record<string, unknown>): void {
    if (this.closed) return;
    const text = JSON.stringify(message);
    if (this.socket.bufferedAmount + text.length > this.bufferMax) {
      this.close(CLOSE.slowClient, 'slow_client: the send buffer is full');
      return;
    }
    this.socket.send(text);
    this.hub.notePeak(this.socket.bufferedAmount);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    this.socket.close(code, reason.slice(0, 120));
    // A client that reads nothing would never take the close frame: end it after a grace.
    setTimeout(() => this.socket.terminate(), 1_000).unref();
  }

  record(record: StreamRecord): void {
    if (this.live) this.deliver(record);
  }

  state(seq: number, grades: readonly GradeState[]): void {
    if (!this.live) return;
    if (this.subscription.channels.has('prices')) {
      for (const grade of grades) this.send({ type: 'grade', channel: 'prices', seq, ...grade });
    }
    this.pushHealth(seq);
  }

  /**
   * Sends every event after `from` (the ring's, or the journal's when older), then goes live.
   * Throws a {@link StreamError} when the journal no longer holds `from + 1`.
   */
  async start(from: number | undefined, index?: number): Promise<void> {
    this.cursor = from ?? this.hub.publishedSeq;
    if (from !== undefined && index !== undefined && from > 0) await this.finish(from, index);
    while (!this.closed) {
      if (this.cursor >= this.hub.ringFrom) {
        for (const record of this.hub.recordsAfter(this.cursor)) this.deliver(record);
        this.cursor = Math.max(this.cursor, this.hub.publishedSeq);
        this.live = true;
        this.send({ type: 'live', seq: this.cursor });
        if (this.hub.stateDurable) this.pushHealth(this.hub.publishedSeq);
        return;
      }
      await this.drained();
      await this.journalPage();
    }
  }

  /** Sends the events of record `seq` after `index` (a resume within a record). */
  private async finish(seq: number, index: number): Promise<void> {
    let record = seq > this.hub.ringFrom ? this.hub.recordsAfter(seq - 1)[0] : undefined;
    if (record?.seq !== seq) {
      const [stored] = await this.hub.gateway.durable.store.readRecords(seq - 1, 1);
      if (stored?.seq !== seq || !recordIntact(stored)) {
        const message = `the journal does not hold position ${seq}`;
        throw new StreamError('resume_unavailable', CLOSE.resumeUnavailable, message);
      }
      const events = JSON.parse(stored.events) as Record<string, unknown>[];
      record = { seq, time: stored.time, events };
    }
    this.sendEvents(record, index + 1);
  }

  private async journalPage(): Promise<void> {
    const until = this.hub.publishedSeq;
    const store = this.hub.gateway.durable.store;
    const records = await store.readRecords(
      this.cursor,
      Math.min(JOURNAL_PAGE, until - this.cursor),
    );
    const first = records[0];
    if (first === undefined || first.seq !== this.cursor + 1) {
      throw new StreamError(
        'resume_unavailable',
        CLOSE.resumeUnavailable,
        `the journal no longer holds position ${this.cursor + 1}: resume from a later one`,
      );
    }
    for (const record of records) {
      if (record.seq > until || this.closed) break;
      if (!recordIntact(record)) {
        throw new StreamError(
          'internal',
          CLOSE.internal,
          `journal record ${record.seq} is damaged`,
        );
      }
      const events = JSON.parse(record.events) as Record<string, unknown>[];
      this.deliver({ seq: record.seq, time: record.time, events });
    }
  }

  /** Waits until the socket's unsent bytes are below half the bound (a catch-up's pace). */
  private async drained(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!this.closed && this.socket.bufferedAmount > this.bufferMax / 2) {
      if (Date.now() > deadline) {
        this.close(CLOSE.slowClient, 'slow_client: the catch-up is not read');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Sends the record's events that concern the client, once each, and moves the cursor. */
  private deliver(record: StreamRecord): void {
    // Positions at or below the cursor were given already (or the client had them).
    if (record.seq <= this.cursor) return;
    this.cursor = record.seq;
    this.sendEvents(record, 0);
  }

  private sendEvents(record: StreamRecord, start: number): void {
    for (let index = start; index < record.events.length; index++) {
      const event = record.events[index] as Record<string, unknown>;
      const channels = this.channelsOf(event);
      if (channels.length === 0) continue;
      this.send({ type: 'event', channels, seq: record.seq, index, time: record.time, event });
    }
  }

  private channelsOf(event: Record<string, unknown>): Channel[] {
    const type = String(event.type);
    const out: Channel[] = [];
    const { channels } = this.subscription;
    if (channels.has('accounts') && this.touchesAccounts(event)) out.push('accounts');
    if (channels.has('prices') && PRICE_EVENTS.has(type)) out.push('prices');
    if (channels.has('liquidations') && isLiquidationEvent(type)) out.push('liquidations');
    if (channels.has('events')) out.push('events');
    return out;
  }

  /** Whether an event names one of the client's accounts (directly or one level down). */
  private touchesAccounts(event: Record<string, unknown>): boolean {
    for (const [key, value] of Object.entries(event)) {
      if (key === 'account' && typeof value === 'string' && this.accountIds.has(value)) return true;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        const account = (value as { account?: unknown }).account;
        if (typeof account === 'string' && this.accountIds.has(account)) return true;
      }
    }
    return false;
  }

  /** Sends each watched sub-account's health when it changed, and the thresholds it crossed. */
  private pushHealth(seq: number): void {
    if (!this.subscription.channels.has('accounts')) return;
    const state = this.hub.gateway.state;
    for (const ref of this.subscription.accounts) {
      const health = healthSummary(new Draft(state, state.time), ref);
      const text = JSON.stringify(health);
      const id = `${ref.account}/${ref.subAccount}`;
      const last = this.lastHealth.get(id);
      if (last?.text === text) continue;
      const factor = health.healthFactor === null ? Infinity : Number(health.healthFactor);
      this.lastHealth.set(id, { text, factor });
      this.send({ type: 'health', channel: 'accounts', seq, ...ref, time: state.time, health });
      if (last === undefined) continue;
      for (const threshold of this.subscription.thresholds) {
        const direction =
          last.factor >= threshold && factor < threshold
            ? 'below'
            : last.factor < threshold && factor >= threshold
              ? 'above'
              : null;
        if (direction === null) continue;
        const alert = {
          threshold: String(threshold),
          direction,
          healthFactor: health.healthFactor,
        };
        this.send({ type: 'alert', channel: 'accounts', seq, ...ref, ...alert });
      }
    }
  }
}

/** A sub-account's health in short: its factors, values and whether it is liquidatable. */
export function healthSummary(draft: Draft, ref: SubAccountRef) {
  const snapshot = draft.health(ref);
  const factor = (tier: 'maintenance' | 'initial') => {
    const value = snapshot.healthFactor(tier);
    return value === null ? null : formatDecimal(value, HEALTH_DECIMALS);
  };
  return {
    healthFactor: factor('maintenance'),
    initialHealthFactor: factor('initial'),
    liquidatable: !snapshot.meets('maintenance'),
    collateralValue: formatDecimal(snapshot.collateralValue, VALUE_DECIMALS),
    liabilityValue: formatDecimal(snapshot.liabilityValue, VALUE_DECIMALS),
  };
}
