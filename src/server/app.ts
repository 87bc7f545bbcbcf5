/**
 * The HTTP service: Fastify around one {@link EngineGateway} (a durable engine's, or a
 * replicated node's). Every route declares its schemas
 * (`schemas.ts`) and the roles that may call it (`routes.ts`); a request is authenticated and
 * rate-limited before its body is read, its body is parsed strictly (size, depth, repeated
 * keys), and every refusal is an answer with a stable code and a one-line reason (`errors.ts`),
 * never a change of state. docs/SERVER.md documents the routes, the roles and the codes.
 */
import type { DemoHolder } from './riskRoutes.js';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { DurableEngine } from '../store/durableEngine.js';
import type { Role, ServerConfig } from './config.js';
import { HttpError } from './errors.js';
import { type EngineGateway, Gateway } from './gateway.js';
import { addCors, parseBody, sendError, toHttpError } from './http.js';
import { IdempotencyCache } from './idempotency.js';
import { type ApiKey, KeyRing } from './keys.js';
import { createMetrics, type Metrics } from './metrics.js';
import { RateLimiter } from './rateLimit.js';
import { registerRoutes } from './routes.js';
import { registerStream } from './stream.js';
import { StreamHub } from './streamHub.js';
import { type NatsQuotes, startNatsQuotes } from './nats.js';
import { type SignatureHeaders, SignatureChecker } from './signing.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKey | null;
    /** A signing key's signature headers, checked against the body once it is read. */
    signature: SignatureHeaders | null;
    /** The body as received (for signatures). */
    rawBody: string | null;
  }
  interface FastifyContextConfig {
    /** Roles that may call the route; absent: a public route (no key needed). */
    access?: readonly Role[];
  }
}

export interface ServiceOptions {
  readonly config: ServerConfig;
  readonly durable: DurableEngine;
  /**
   * The gateway, made with the service's metrics; default a {@link Gateway} on `durable` (a
   * replicated node gives its `ReplicatedGateway`, whose journal is `durable`).
   */
  readonly gateway?: (metrics: Metrics) => EngineGateway;
  /** Fastify's logger (pino): false for none; default a JSON logger at the config's level. */
  readonly logger?: boolean;
  /** The clock rate limits read (milliseconds); default `Date.now`. */
  readonly now?: () => number;
  /** The demo's replay, controlled by `/v1/demo/replay` (`fulcrum serve --demo`). */
  readonly demo?: DemoHolder;
}

export interface Service {
  readonly app: FastifyInstance;
  readonly gateway: EngineGateway;
  readonly metrics: Metrics;
  /** The WebSocket streams' source (`/v1/stream`). */
  readonly streams: StreamHub;
  /** The NATS quote subscriber, when `natsUrl` is set. */
  readonly nats: NatsQuotes | null;
  /** The idempotency keys' memory. */
  readonly idempotency: IdempotencyCache;
}

/** Fastify with the configuration's limits: body, timeouts, connections, framework errors. */
function createApp(config: ServerConfig, logger: boolean | undefined, metrics: Metrics) {
  const app = Fastify({
    logger: logger === false ? false : { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    return503OnClosing: true,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false },
    },
    // Errors Fastify answers before a route runs (a bad URL encoding, a bad content type)
    // are answered in the service's form too.
    frameworkErrors: (error, request, reply) => {
      void sendError(reply, toHttpError(error, request, config.bodyLimitBytes), metrics);
    },
  });
  app.server.maxConnections = config.maxConnections;
  return app;
}

/** Builds the service on an open durable engine (the caller closes both). */
export async function buildServer(options: ServiceOptions): Promise<Service> {
  const { config, durable } = options;
  const metrics = createMetrics();
  const gateway = options.gateway?.(metrics) ?? new Gateway(durable, metrics, config);
  const app = createApp(config, options.logger, metrics);
  app.decorateRequest('apiKey', null);
  app.decorateRequest('signature', null);
  app.decorateRequest('rawBody', null);
  // Bodies: JSON only, read strictly.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    request.rawBody = body as string;
    try {
      done(null, parseBody(body as string, config.jsonDepthMax));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.setErrorHandler((error, request, reply) =>
    sendError(reply, toHttpError(error, request, config.bodyLimitBytes), metrics),
  );
  app.setNotFoundHandler((request, reply) => {
    const error = new HttpError(404, 'not_found', `no route ${request.method} ${request.url}`);
    return sendError(reply, error, metrics);
  });
  const keys = new KeyRing(config.keys);
  const limiter = new RateLimiter(Math.max(1_000, keys.size * 2));
  const now = options.now ?? Date.now;
  const signatures = new SignatureChecker(config.signatureWindowSeconds, config.nonceStoreMax);
  app.addHook('onRequest', authenticate(keys, limiter, config, now, signatures));
  app.addHook('preValidation', async (request) => {
    const key = request.apiKey;
    if (key === null || request.signature === null) return;
    const { method, url } = request;
    signatures.verify(key, request.signature, { method, url, body: request.rawBody ?? '' }, now());
  });
  addResponseHooks(app, gateway, metrics);
  if (config.corsOrigins.length > 0) addCors(app, config.corsOrigins);
  await registerDocs(app);
  const idempotency = new IdempotencyCache(config.idempotencyKeysMax, config.idempotencyKeysPerKey);
  registerRoutes(app, { config, gateway, metrics, idempotency, now });
  (await import('./solvencyRoutes.js')).registerSolvencyRoutes(app, {
    directory: config.solvencyDir === '' ? undefined : config.solvencyDir,
  });
  await (
    await import('./console.js')
  ).registerConsole(app, { config, gateway, demo: options.demo });
  const streams = new StreamHub(gateway, config.streamRingEvents);
  await app.register(websocket, {
    options: { maxPayload: 16_384 },
    // On close, every stream is told the service is going away (1001).
    preClose: (done) => {
      streams.closeAll(1001, 'the service is stopping');
      for (const socket of app.websocketServer.clients)
        socket.close(1001, 'the service is stopping');
      done();
    },
  });
  registerStream(app, streams, {
    config,
    metrics,
    keys,
    limiter,
    now,
    signatures,
  });
  const nats = config.natsUrl === '' ? null : await natsQuotes(app, config, gateway, metrics, now);
  await app.ready();
  return { app, gateway, metrics, streams, nats, idempotency };
}

/** The NATS subscriber, closed (before the server) when the service closes. */
async function natsQuotes(
  app: FastifyInstance,
  config: ServerConfig,
  gateway: EngineGateway,
  metrics: Metrics,
  now: () => number,
): Promise<NatsQuotes> {
  const nats = await startNatsQuotes({
    url: config.natsUrl,
    subject: config.natsSubject,
    sources: config.natsSources,
    jsonDepthMax: config.jsonDepthMax,
    clockSkewSeconds: config.clockSkewSeconds,
    now,
    gateway,
    metrics,
    log: app.log,
  });
  app.addHook('preClose', async () => nats.close());
  return nats;
}

/**
 * The hook that authenticates a request to a route with an access rule, takes a token from its
 * key's bucket and checks its role, before the body is read.
 */
function authenticate(
  keys: KeyRing,
  limiter: RateLimiter,
  config: ServerConfig,
  now: () => number,
  signatures: SignatureChecker,
): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined) return;
    // The scheme's name is case-insensitive (RFC 7235).
    const match = /^Bearer +([A-Za-z0-9_-]{1,256})$/i.exec(request.headers.authorization ?? '');
    const key = match === null ? undefined : keys.find(match[1] as string);
    if (key === undefined) {
      const message =
        match === null
          ? 'give an API key: Authorization: Bearer <key>'
          : 'the API key is not one this service knows';
      throw new HttpError(401, 'unauthenticated', message);
    }
    const wait = limiter.take(key.id, key.rateLimit ?? config.rateLimit, now());
    if (wait > 0) {
      const message = `key ${key.id} is over its rate limit`;
      throw new HttpError(429, 'rate_limited', message, { retryAfter: wait });
    }
    if (key.verifier !== undefined) request.signature = signatures.headers(request.headers, now());
    if (!access.includes(key.role)) {
      const { method, url } = request.routeOptions;
      throw new HttpError(403, 'forbidden', `a ${key.role} key may not call ${method} ${url}`);
    }
    request.apiKey = key;
  };
}

function addResponseHooks(app: FastifyInstance, gateway: EngineGateway, metrics: Metrics): void {
  // While stopping, every answer closes its connection: a keep-alive connection that just had
  // its answer would otherwise keep the server from closing.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (gateway.stopping) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
  });
}

/** The OpenAPI document (from the routes' schemas) and its interactive page at /docs. */
async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Fulcrum',
        version: '0.1.0',
        description:
          'The margin and liquidation engine as a service: commands answered once durable, health reports, what-ifs, pools, prices, liquidatable sub-accounts and history. docs/SERVER.md has the roles and codes.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
