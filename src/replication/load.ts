/**
 * A load of keyed commands against a replicated shard, for tests and the bench: `clients`
 * concurrent clients, each sending deposits of one unit of an asset to its own account, one at
 * a time, each retried with its key until answered (`ReplicaClient.submit`). It records every
 * answer's time, so that the stall of a failover (the longest gap between answers) can be
 * measured, and how many commands each client had acknowledged, so that the expected state can
 * be rebuilt. The clock is injected.
 */
import type { NatsConnection } from 'nats';
import { ReplicaClient } from './client.js';
import type { ReplicationError } from './errors.js';

export interface LoadOptions {
  readonly clients: number;
  readonly shard?: string;
  readonly asset: string;
  readonly time: number;
  readonly now: () => number;
  /** Key prefix, so two loads never share keys. */
  readonly prefix: string;
  readonly retryForMs?: number;
  /** Commands a client sends in one request (a gateway's batch). Default 1. */
  readonly perRequest?: number;
}

export class DepositLoad {
  /** Commands acknowledged per client (accepted: the test's expectation). */
  readonly acked: number[];
  /** Answers that were not `accepted` (must stay empty). */
  readonly unexpected: string[] = [];
  /** Failures given up on (the outcome unknown: `settle` retries them). */
  readonly failed: { client: number; n: number; error: ReplicationError }[] = [];
  /** Wall-clock times of answers, in order. */
  readonly answerTimes: number[] = [];
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly client: ReplicaClient;
  private readonly options: LoadOptions;
  private readonly next: number[];

  constructor(connection: NatsConnection, options: LoadOptions) {
    this.options = options;
    this.client = new ReplicaClient(connection, {
      shard: options.shard ?? 'main',
      now: options.now,
      retryForMs: options.retryForMs ?? 60_000,
    });
    this.acked = Array.from({ length: options.clients }, () => 0);
    this.next = Array.from({ length: options.clients }, () => 0);
  }

  get total(): number {
    return this.acked.reduce((a, b) => a + b, 0);
  }

  account(client: number): string {
    return `${this.options.prefix}${client}`;
  }

  command(client: number): unknown {
    const { asset, time } = this.options;
    return { type: 'deposit', time, account: this.account(client), asset, amount: '1' };
  }

  start(): void {
    this.running = true;
    for (let i = 0; i < this.options.clients; i++) this.loops.push(this.loop(i));
  }

  /** Stops sending; resolves once every client's last command is answered or given up. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Resolves once `count` more answers arrived (or `timeoutMs` passed: false). */
  async answers(count: number, timeoutMs: number): Promise<boolean> {
    const target = this.answerTimes.length + count;
    const until = this.options.now() + timeoutMs;
    while (this.answerTimes.length < target) {
      if (this.options.now() > until) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  /** Retries every command given up on, with its own key, until answered. */
  async settle(): Promise<void> {
    const failed = this.failed.splice(0);
    for (const { client, n } of failed) await this.send(client, n);
  }

  private async loop(client: number): Promise<void> {
    while (this.running) {
      const n = this.next[client] ?? 0;
      this.next[client] = n + 1;
      await this.send(client, n);
    }
  }

  private async send(client: number, n: number): Promise<void> {
    const key = `${this.options.prefix}${client}-${n}`;
    const perRequest = this.options.perRequest ?? 1;
    if (perRequest > 1) {
      await this.sendBatch(client, n, key, perRequest);
      return;
    }
    try {
      const answer = await this.client.submit(key, this.command(client));
      this.answerTimes.push(this.options.now());
      if (answer.status === 'accepted') this.acked[client] = (this.acked[client] ?? 0) + 1;
      else this.unexpected.push(`${key}: ${answer.status} ${answer.code ?? ''}`);
    } catch (error) {
      this.failed.push({ client, n, error: error as ReplicationError });
    }
  }

  private async sendBatch(client: number, n: number, key: string, count: number): Promise<void> {
    const items = Array.from({ length: count }, (_, i) => ({
      key: `${key}-${i}`,
      command: this.command(client),
    }));
    try {
      const outcomes = await this.client.submitBatch(items);
      this.answerTimes.push(this.options.now());
      for (const outcome of outcomes) {
        if (outcome.status === 'accepted') this.acked[client] = (this.acked[client] ?? 0) + 1;
        else this.unexpected.push(`${outcome.key}: ${outcome.status} ${outcome.code ?? ''}`);
      }
    } catch (error) {
      this.failed.push({ client, n, error: error as ReplicationError });
    }
  }
}

/** The longest gap between consecutive answers after `from` (ms): a failover's stall. */
export function stallAfter(times: readonly number[], from: number): number {
  let previous = from;
  let longest = 0;
  for (const time of times) {
    if (time < from) continue;
    longest = Math.max(longest, time - previous);
    previous = time;
  }
  return longest;
}
