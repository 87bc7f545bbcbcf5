/**
 * `GET /v1/stream`: the WebSocket streams (docs/SERVER.md, "Streams"). A client authenticates
 * with `Authorization: Bearer <key>` on the upgrade, or with a first message
 * `{"type": "auth", "key": ...}` (browsers cannot set headers); then sends one `subscribe`
 * message naming its channels, its sub-accounts and alert thresholds, and optionally `from`, the
 * last journal position it holds. It receives every event after `from` (from memory, or from the
 * journal when older), then live events as they become durable, and the health of its
 * sub-accounts when it changes.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { ServerConfig } from './config.js';
import { HttpError } from './errors.js';
import { type ApiKey, type KeyRing, mayRead, mayReadVenue } from './keys.js';
import type { SignatureChecker } from './signing.js';
import type { Metrics } from './metrics.js';
import type { RateLimiter } from './rateLimit.js';
import {
  type Channel,
  CHANNELS,
  CLOSE,
  StreamClient,
  StreamError,
  type Subscription,
} from './streamClient.js';
import type { StreamHub } from './streamHub.js';

/** Most sub-accounts and thresholds one subscription names. */
export const STREAM_ACCOUNTS_MAX = 100;
export const STREAM_THRESHOLDS_MAX = 16;
/** Milliseconds a connection has to authenticate and to subscribe. */
const HANDSHAKE_MS = 10_000;

const AuthMessage = Type.Object(
  { type: Type.Literal('auth'), key: Type.String({ maxLength: 256 }) },
  { additionalProperties: false },
);

const SubscribeMessage = Type.Object(
  {
    type: Type.Literal('subscribe'),
    channels: Type.Array(Type.Union(CHANNELS.map((c) => Type.Literal(c))), {
      minItems: 1,
      maxItems: CHANNELS.length,
      uniqueItems: true,
    }),
    accounts: Type.Optional(
      Type.Array(
        Type.Object(
          {
            account: Type.String({ minLength: 1, maxLength: 64 }),
            subAccount: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
          },
          { additionalProperties: false },
        ),
        { maxItems: STREAM_ACCOUNTS_MAX },
      ),
    ),
    thresholds: Type.Optional(
      Type.Array(Type.String({ pattern: '^\\d{1,6}(\\.\\d{1,18})?$' }), {
        maxItems: STREAM_THRESHOLDS_MAX,
      }),
    ),
    from: Type.Optional(Type.Integer({ minimum: 0 })),
    index: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
type SubscribeMessage = Static<typeof SubscribeMessage>;

export interface StreamContext {
  readonly config: ServerConfig;
  readonly metrics: Metrics;
  readonly keys: KeyRing;
  readonly limiter: RateLimiter;
  readonly now: () => number;
  readonly signatures: SignatureChecker;
}

/** Registers the route (after @fastify/websocket) on the hub. */
export function registerStream(app: FastifyInstance, hub: StreamHub, context: StreamContext): void {
  const { config, metrics } = context;
  const perKey = new Map<string, number>();
  let open = 0;
  app.get(
    '/v1/stream',
    {
      websocket: true,
      onRequest: upgradeAuthentication(context),
      schema: { summary: 'WebSocket streams (docs/SERVER.md, "Streams")', tags: ['streams'] },
    },
    (socket: WebSocket, request: FastifyRequest) => {
      open += 1;
      metrics.webSocketClients.set(open);
      let key: ApiKey | null = null;
      socket.once('close', () => {
        open -= 1;
        metrics.webSocketClients.set(open);
        if (key !== null) perKey.set(key.id, (perKey.get(key.id) ?? 1) - 1);
      });
      keepAlive(socket, config.streamPingSeconds * 1_000);
      if (open > config.streamClientsMax) {
        refuse(socket, 'streams_full', CLOSE.full, `${config.streamClientsMax} streams are open`);
        return;
      }
      void handshake(socket, request, context)
        .then((found) => {
          if (found === null) return;
          const count = (perKey.get(found.key.id) ?? 0) + 1;
          key = found.key;
          perKey.set(found.key.id, count);
          if (count > config.streamClientsPerKey) {
            const message = `key ${found.key.id} has ${config.streamClientsPerKey} streams open`;
            refuse(socket, 'too_many_streams', CLOSE.tooManyForKey, message);
            return;
          }
          subscribe(socket, hub, found.key, found.first, config);
        })
        .catch((error: unknown) => failed(socket, error));
    },
  );
}

/** On the upgrade request: a key in the Authorization header must be known (401 if not). */
function upgradeAuthentication({ keys, limiter, config, now, signatures }: StreamContext) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    if (header === undefined) return;
    const match = /^Bearer +([A-Za-z0-9_-]{1,256})$/i.exec(header);
    const key = match === null ? undefined : keys.find(match[1] as string);
    if (key === undefined) {
      throw new HttpError(401, 'unauthenticated', 'the API key is not one this service knows');
    }
    const wait = limiter.take(key.id, key.rateLimit ?? config.rateLimit, now());
    if (wait > 0) {
      throw new HttpError(429, 'rate_limited', `key ${key.id} is over its rate limit`, {
        retryAfter: wait,
      });
    }
    if (key.verifier !== undefined) {
      const signed = signatures.headers(request.headers, now());
      signatures.verify(key, signed, { method: 'GET', url: request.url, body: '' }, now());
    }
    request.apiKey = key;
  };
}

/** Pings every `intervalMs`; a connection that did not answer the last ping is ended. */
function keepAlive(socket: WebSocket, intervalMs: number): void {
  let alive = true;
  socket.on('pong', () => {
    alive = true;
  });
  const timer = setInterval(() => {
    if (!alive) {
      socket.terminate();
      return;
    }
    alive = false;
    socket.ping();
  }, intervalMs);
  timer.unref();
  socket.once('close', () => clearInterval(timer));
}

/** Messages a connection may send before its subscription is taken (auth, subscribe). */
const HANDSHAKE_MESSAGES_MAX = 2;

/**
 * The handshake's messages, in order: one listener from the connection's start, so that a
 * client sending `auth` and `subscribe` at once (one TCP read, two events in one tick) loses
 * neither. `next` resolves with the next one as JSON, null once the socket closed, or rejects
 * (not JSON, too many, none within the handshake's time).
 */
class Inbox {
  private readonly queue: (Buffer | null)[] = [];
  private waiter: ((data: Buffer | null) => void) | null = null;

  constructor(socket: WebSocket) {
    const put = (data: Buffer | null) => {
      const waiter = this.waiter;
      this.waiter = null;
      if (waiter !== null) waiter(data);
      else if (this.queue.length <= HANDSHAKE_MESSAGES_MAX) this.queue.push(data);
    };
    socket.on('message', (data: Buffer, binary: boolean) => put(binary ? Buffer.alloc(0) : data));
    socket.once('close', () => put(null));
  }

  async next(): Promise<unknown> {
    const data =
      this.queue.length > 0
        ? (this.queue.shift() as Buffer | null)
        : await new Promise<Buffer | null>((resolve, reject) => {
            const timer = setTimeout(() => {
              this.waiter = null;
              const message = 'no message in time: authenticate and subscribe first';
              reject(new StreamError('timeout', CLOSE.badMessage, message));
            }, HANDSHAKE_MS);
            this.waiter = (value) => {
              clearTimeout(timer);
              resolve(value);
            };
          });
    if (data === null) return null;
    try {
      return JSON.parse(data.toString('utf8')) as unknown;
    } catch {
      throw new StreamError('invalid_json', CLOSE.badMessage, 'a message is one JSON object');
    }
  }
}

/** The connection's key (from the upgrade, or its `auth` message) and its next message. */
async function handshake(
  socket: WebSocket,
  request: FastifyRequest,
  { keys }: StreamContext,
): Promise<{ key: ApiKey; first: unknown } | null> {
  const inbox = new Inbox(socket);
  let key = request.apiKey;
  let first = await inbox.next();
  if (first === null) return null;
  if (key === null) {
    if (!Value.Check(AuthMessage, first)) {
      const message = 'authenticate first: Authorization header or {"type":"auth","key":...}';
      throw new StreamError('unauthenticated', CLOSE.unauthenticated, message);
    }
    key = keys.find(first.key) ?? null;
    if (key === null) {
      const message = 'the API key is not one this service knows';
      throw new StreamError('unauthenticated', CLOSE.unauthenticated, message);
    }
    if (key.verifier !== undefined) {
      const message = 'this key signs its requests: sign the upgrade request instead';
      throw new StreamError('signature_required', CLOSE.unauthenticated, message);
    }
    socket.send(JSON.stringify({ type: 'authenticated', key: key.id }));
    first = await inbox.next();
    if (first === null) return null;
  }
  return { key, first };
}

/** Checks the subscription, then starts the client: its catch-up, then live. */
function subscribe(
  socket: WebSocket,
  hub: StreamHub,
  key: ApiKey,
  message: unknown,
  config: ServerConfig,
): void {
  const subscription = checkSubscription(key, message, hub);
  const client = new StreamClient(
    socket,
    hub,
    subscription.value,
    config.streamSendBufferBytes,
    () => hub.remove(client),
  );
  socket.once('close', () => hub.remove(client));
  socket.on('message', () =>
    client.close(CLOSE.badMessage, 'bad_message: one subscription a connection'),
  );
  hub.add(client);
  client.send({
    type: 'subscribed',
    channels: [...subscription.value.channels],
    accounts: subscription.value.accounts,
    seq: hub.publishedSeq,
  });
  client.start(subscription.from, subscription.index).catch((error: unknown) => {
    if (error instanceof StreamError) {
      client.send({ type: 'error', code: error.code, message: error.message });
      client.close(error.closeCode, error.code);
    } else {
      client.close(CLOSE.internal, 'internal');
    }
  });
}

function checkSubscription(
  key: ApiKey,
  message: unknown,
  hub: StreamHub,
): { value: Subscription; from: number | undefined; index: number | undefined } {
  const error = Value.Errors(SubscribeMessage, message).First();
  if (error !== undefined) {
    const at = error.path === '' ? '' : ` at ${error.path}`;
    throw new StreamError('bad_message', CLOSE.badMessage, `subscribe${at}: ${error.message}`);
  }
  const m = message as SubscribeMessage;
  const channels = new Set<Channel>(m.channels);
  const accounts = (m.accounts ?? defaultAccounts(key)).map((a) => ({
    account: a.account,
    subAccount: a.subAccount ?? 0,
  }));
  const forbid = (text: string) => new StreamError('forbidden', CLOSE.forbidden, text);
  if (channels.has('accounts')) {
    if (key.role === 'price-source') throw forbid('a price-source key reads no account');
    if (accounts.length === 0) {
      const text = 'subscribe: the accounts channel needs accounts to watch';
      throw new StreamError('bad_message', CLOSE.badMessage, text);
    }
    const denied = accounts.find((ref) => !mayRead(key, ref.account));
    if (denied !== undefined) {
      throw forbid(`key ${key.id} may not read account ${JSON.stringify(denied.account)}`);
    }
  }
  if (channels.has('liquidations') && key.role !== 'liquidator' && !mayReadVenue(key)) {
    throw forbid(`a ${key.role} key may not subscribe to liquidations`);
  }
  if (channels.has('events') && !mayReadVenue(key)) {
    throw forbid(`key ${key.id} may not subscribe to every event (risk-admin, read-only "*")`);
  }
  const lastSeq = hub.gateway.durable.lastSeq;
  if (m.from !== undefined && m.from > lastSeq) {
    const text = `from ${m.from} is past the journal's last position ${lastSeq}`;
    throw new StreamError('resume_ahead', CLOSE.resumeUnavailable, text);
  }
  const thresholds = (m.thresholds ?? []).map(Number);
  if (m.index !== undefined && m.from === undefined) {
    throw new StreamError('bad_message', CLOSE.badMessage, 'subscribe: index goes with from');
  }
  return { value: { channels, accounts, thresholds }, from: m.from, index: m.index };
}

/** A trader's or liquidator's own accounts (sub-account 0) when a subscription names none. */
function defaultAccounts(key: ApiKey): { account: string; subAccount?: number }[] {
  return [...key.accounts].slice(0, STREAM_ACCOUNTS_MAX).map((account) => ({ account }));
}

function refuse(socket: WebSocket, code: string, closeCode: number, message: string): void {
  socket.send(JSON.stringify({ type: 'error', code, message }));
  socket.close(closeCode, code);
}

function failed(socket: WebSocket, error: unknown): void {
  if (error instanceof StreamError) refuse(socket, error.code, error.closeCode, error.message);
  else refuse(socket, 'internal', CLOSE.internal, 'internal');
}
