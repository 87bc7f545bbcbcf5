/**
 * A client of a replicated shard: sends a command with its idempotency key to whichever replica
 * leads (NATS request to the shard's submit subject, which only the leader listens on), and
 * retries with the same key through a failover (no responders, a timeout, `not_leader`,
 * `fenced`, `log_unavailable`, `queue_full`), so a command is applied once however often it is
 * sent. Gives up after `retryForMs` with the last error.
 */
import type { NatsConnection } from 'nats';
import type { CommandOutcome } from './applier.js';
import { ReplicationError, type ReplicationErrorCode } from './errors.js';
import { shardNames } from './natsLog.js';

export type ClientAnswer = CommandOutcome & { readonly node: string };

export interface ClientOptions {
  readonly shard?: string;
  /** One request's wait, ms (a leader that died leaves its requests unanswered). Default 1,000. */
  readonly requestTimeoutMs?: number;
  /** How long to keep retrying, ms. Default 60,000. */
  readonly retryForMs?: number;
  /** The wall clock, ms. */
  readonly now: () => number;
  /** Called with each retried failure (for measuring stalls). */
  readonly onRetry?: (error: ReplicationError) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ReplicaClient {
  private readonly connection: NatsConnection;
  private readonly subject: string;
  private readonly options: ClientOptions;

  constructor(connection: NatsConnection, options: ClientOptions) {
    this.connection = connection;
    this.subject = shardNames(options.shard ?? 'main').submitSubject;
    this.options = options;
  }

  /** One attempt: the leader's answer, or the error (a `ReplicationError`). */
  async once(key: string, command: unknown): Promise<ClientAnswer> {
    return (await this.ask(JSON.stringify({ key, command }))) as ClientAnswer;
  }

  /** One request; its answer's body, or its error thrown as a `ReplicationError`. */
  private async ask(request: string): Promise<unknown> {
    let text: string;
    try {
      const reply = await this.connection.request(this.subject, request, {
        timeout: this.options.requestTimeoutMs ?? 1_000,
      });
      text = reply.string();
    } catch (error) {
      const code = (error as { code?: string }).code;
      const reason = code === '503' ? 'no leader listens' : (error as Error).message;
      throw new ReplicationError('timeout', `no answer: ${reason}`);
    }
    const body = JSON.parse(text) as { error?: { code: string; message: string } };
    if (body.error !== undefined) {
      throw new ReplicationError(body.error.code as ReplicationErrorCode, body.error.message);
    }
    return body;
  }

  /**
   * Several keyed commands in one request (a gateway's batch), sent until answered like
   * {@link submit}: the outcomes in order. A retry after a failover resends the whole batch;
   * the commands the log already holds come back as duplicates, applied once.
   */
  async submitBatch(items: readonly { key: string; command: unknown }[]): Promise<ClientAnswer[]> {
    const started = this.options.now();
    const limit = this.options.retryForMs ?? 60_000;
    for (;;) {
      try {
        const body = await this.ask(JSON.stringify({ commands: items }));
        return (body as { outcomes: ClientAnswer[] }).outcomes;
      } catch (error) {
        const failure = asFailure(error);
        if (!failure.retry || this.options.now() - started > limit) throw failure;
        this.options.onRetry?.(failure);
        await sleep(failure.code === 'timeout' ? 50 : 100);
      }
    }
  }

  /**
   * Sends until answered: retryable failures are retried with the same key (at most every 100
   * ms) for `retryForMs`; an `invalid_request` or the last failure is thrown.
   */
  async submit(key: string, command: unknown): Promise<ClientAnswer> {
    const started = this.options.now();
    const limit = this.options.retryForMs ?? 60_000;
    for (;;) {
      try {
        return await this.once(key, command);
      } catch (error) {
        const failure = asFailure(error);
        if (!failure.retry || this.options.now() - started > limit) throw failure;
        this.options.onRetry?.(failure);
        await sleep(failure.code === 'timeout' ? 50 : 100);
      }
    }
  }
}

function asFailure(error: unknown): ReplicationError {
  return error instanceof ReplicationError
    ? error
    : new ReplicationError('timeout', (error as Error).message);
}
