/**
 * Quotes from NATS: a subscriber to `<natsSubject>.*`. Each message is one push, the JSON of
 * `POST /v1/quotes`, in the name of the source its subject's last token names, which must be one
 * of `natsSources` (ids of configured price-source keys). Its quotes enter the same bounded
 * queue as HTTP commands, in the order the messages arrive.
 *
 * NATS core has no acknowledgement: a message that cannot be taken is dropped, counted in
 * `fulcrum_nats_messages_total{outcome}` and logged in one line, never thrown: an unknown source
 * or a malformed body, or a push dated ahead of the clock (`unknown_source`, `invalid`), a full queue (`queue_full`), a stopping
 * service or a failed journal (`refused`). Reconnects are the client's (forever, every
 * `reconnectTimeWait`); the connection is drained and closed when the service stops.
 */
import { Value } from '@sinclair/typebox/value';
import { connect, type Msg, type NatsConnection } from 'nats';
import type { FastifyBaseLogger } from 'fastify';
import { FulcrumError } from '../base/errors.js';
import { checkCommandTime } from './clock.js';
import { HttpError } from './errors.js';
import type { EngineGateway } from './gateway.js';
import { parseBody } from './http.js';
import type { Metrics } from './metrics.js';
import { applyQuotes, decodeQuotes } from './quotes.js';
import { QuotesBody } from './schemas.js';

export interface NatsQuotesOptions {
  readonly url: string;
  /** Messages are read from `<subject>.<source>`. */
  readonly subject: string;
  readonly sources: readonly string[];
  readonly jsonDepthMax: number;
  /** How far ahead of `now` a push's time may be (a price source is never a risk-admin). */
  readonly clockSkewSeconds: number;
  /** The wall clock, in milliseconds. */
  readonly now: () => number;
  readonly gateway: EngineGateway;
  readonly metrics: Metrics;
  readonly log: FastifyBaseLogger;
  /** Milliseconds between reconnection attempts (default 1000). */
  readonly reconnectTimeWait?: number;
}

export interface NatsQuotes {
  readonly connection: NatsConnection;
  /** Takes no more messages (those taken go on to the journal) and closes the connection. */
  close(): Promise<void>;
}

/** Connects (refused at once when no NATS server answers) and subscribes. */
export async function startNatsQuotes(options: NatsQuotesOptions): Promise<NatsQuotes> {
  const connection = await connect({
    servers: options.url,
    name: 'fulcrum-serve',
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectTimeWait ?? 1_000,
  });
  const sources = new Set(options.sources);
  const prefix = `${options.subject}.`;
  const subscription = connection.subscribe(`${options.subject}.*`, {
    callback: (error, message) => {
      if (error !== null) {
        options.log.warn({ err: error }, 'nats subscription error');
        return;
      }
      takeMessage(options, sources, message.subject.slice(prefix.length), message);
    },
  });
  void watchStatus(connection, options.log);
  options.log.info({ url: options.url, subject: `${options.subject}.*` }, 'nats: subscribed');
  let closed: Promise<void> | null = null;
  return {
    connection,
    close() {
      closed ??= (async () => {
        subscription.unsubscribe();
        if (!connection.isClosed()) await connection.close();
      })();
      return closed;
    },
  };
}

/** Logs the connection's disconnects and reconnects, one line each. */
async function watchStatus(connection: NatsConnection, log: FastifyBaseLogger): Promise<void> {
  for await (const status of connection.status()) {
    if (status.type === 'disconnect' || status.type === 'reconnect') {
      log.warn({ server: status.data }, `nats: ${status.type}`);
    }
  }
}

/** One message: applied, or dropped and counted (never thrown). */
function takeMessage(
  options: NatsQuotesOptions,
  sources: ReadonlySet<string>,
  source: string,
  message: Msg,
): void {
  const { gateway, metrics, log } = options;
  const drop = (outcome: string, reason: string) => {
    metrics.natsMessages.inc({ outcome });
    log.warn({ subject: message.subject, outcome }, `nats: message dropped: ${reason}`);
  };
  if (!sources.has(source)) {
    drop('unknown_source', `${JSON.stringify(source)} is not a configured NATS source`);
    return;
  }
  let commands;
  try {
    const body = parseBody(message.string(), options.jsonDepthMax);
    const problem = Value.Errors(QuotesBody, body).First();
    if (problem !== undefined) throw new Error(`${problem.path || 'the body'} ${problem.message}`);
    const quotes = body as QuotesBody;
    if (quotes.quotes.some((q) => q.source !== undefined && q.source !== source)) {
      throw new Error(`the subject binds the source to ${source}`);
    }
    checkCommandTime('price-source', quotes.time, options.now(), options.clockSkewSeconds);
    commands = decodeQuotes(gateway, quotes, () => source);
  } catch (error) {
    drop('invalid', (error as Error).message.split('\n')[0]?.slice(0, 200) ?? 'invalid');
    return;
  }
  try {
    void applyQuotes(gateway, metrics, commands).then(
      (results) => {
        const refused = results.find((r) => !r.ok);
        if (refused !== undefined)
          log.info({ source, error: refused.error }, 'nats: quote refused');
      },
      (error: unknown) => log.error({ err: error }, 'nats: quotes not journaled'),
    );
    metrics.natsMessages.inc({ outcome: 'applied' });
  } catch (error) {
    if (!(error instanceof HttpError) && !(error instanceof FulcrumError)) throw error;
    drop(error.code === 'queue_full' ? 'queue_full' : 'refused', error.message);
  }
}
