/**
 * The service's routes, each with its schemas and the roles that may call it (the `access`
 * of its config; the authentication hook in `app.ts` enforces it before the body is read).
 * Checks on accounts (a trader's own, a venue-wide read) are made here, per request.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FulcrumError } from '../base/errors.js';
import { ATTRIBUTED_COMMANDS, type Attributed, type Command } from '../engine/commands.js';
import { decodeJson } from '../engine/engine.js';
import { subAccountRisk } from '../engine/accountRisk.js';
import type { SubAccountRef } from '../engine/state.js';
import { liquidationStatus, poolSummaries, subAccountReport } from '../engine/queries.js';
import { renderEvent } from '../engine/render.js';
import { renderHealthReport } from '../margin/report.js';
import { checkCommandTime } from './clock.js';
import type { Role, ServerConfig } from './config.js';
import { HttpError, statusOfEngineCode } from './errors.js';
import type { EngineGateway } from './gateway.js';
import { readHistory, visibleEntry } from './history.js';
import { encodeCursor, numberCursor, pageLimit, refCursor, subAccountRef } from './http.js';
import {
  type Answer,
  bodyDigest,
  IDEMPOTENCY_KEY_PATTERN,
  type IdempotencyCache,
} from './idempotency.js';
import { type ApiKey, forbiddenTarget, mayCommand, mayRead, mayReadVenue } from './keys.js';
import { LIQUIDATABLE_PAGE_MAX, liquidatablePage } from './liquidatable.js';
import type { Metrics } from './metrics.js';
import { pricesOf } from './prices.js';
import { applyQuotes, decodeQuotes } from './quotes.js';
import {
  type CommandBody,
  CommandBody as CommandBodySchema,
  CommandReply,
  HistoryQuery,
  HistoryReply,
  LiquidatableReply,
  PageQuery,
  PoolsReply,
  PricesReply,
  QuotesBody,
  QuotesReply,
  replies,
  StatusReply,
  SubAccountParams,
  SubAccountReply,
  SubAccountRiskReply,
  WhatIfBody,
  WhatIfReply,
} from './schemas.js';
import { closeWhatIf, commandWhatIf, subAccountShock, venueShock } from './whatIf.js';

/** What the routes share. */
export interface RouteContext {
  readonly config: ServerConfig;
  readonly gateway: EngineGateway;
  readonly metrics: Metrics;
  readonly idempotency: IdempotencyCache;
  /** The service's wall clock, in milliseconds (command times are checked against it). */
  readonly now: () => number;
}

export const ALL_ROLES: readonly Role[] = [
  'trader',
  'liquidator',
  'price-source',
  'risk-admin',
  'read-only',
];
const WRITERS: readonly Role[] = ['trader', 'liquidator', 'price-source', 'risk-admin'];
const ACCOUNT_READERS: readonly Role[] = ['trader', 'liquidator', 'risk-admin', 'read-only'];
const SECURITY = [{ bearer: [] }];

export function apiKeyOf(request: FastifyRequest): ApiKey {
  if (request.apiKey === null) throw new Error('a route without an access rule reads a key');
  return request.apiKey;
}

const forbidden = (message: string) => new HttpError(403, 'forbidden', message);

export function registerRoutes(app: FastifyInstance, context: RouteContext): void {
  commandRoute(app, context);
  accountRoute(app, context);
  accountRiskRoute(app, context);
  whatIfRoute(app, context);
  marketRoutes(app, context);
  liquidatableRoute(app, context);
  historyRoute(app, context);
  quotesRoute(app, context);
  operationRoutes(app, context);
}

/** The answer to a command, as the idempotency cache keeps it: never thrown, always an answer. */
export async function answerCommand(
  { gateway, metrics }: RouteContext,
  key: ApiKey,
  body: CommandBody,
  idempotencyKey?: string,
): Promise<Answer> {
  try {
    gateway.admit();
    const command = decodeJson(body, gateway.state);
    if (command instanceof FulcrumError) {
      metrics.commands.inc({ type: body.type, outcome: command.code });
      metrics.refusals.inc({ code: command.code });
      const status = statusOfEngineCode(command.code);
      return { status, body: { ok: false, seq: null, error: command.toJSON() } };
    }
    const denied = forbiddenTarget(key, command);
    if (denied !== undefined) throw forbidden(denied);
    const sent = attributed(command, key);
    const input = sent === command ? body : { ...body, by: key.id };
    const scoped = idempotencyKey === undefined ? {} : { key: `${key.id}\n${idempotencyKey}` };
    const result = await gateway.submit(sent, { input, ...scoped });
    metrics.commands.inc({ type: command.type, outcome: result.ok ? 'ok' : result.error.code });
    if (!result.ok) {
      metrics.refusals.inc({ code: result.error.code });
      const status = statusOfEngineCode(result.error.code);
      const body = { ok: false, seq: result.seq, error: result.error.toJSON() };
      return { journaled: true, status, body };
    }
    const { seq, sequence, time } = result;
    const events =
      'renderedEvents' in result ? result.renderedEvents : result.events.map(renderEvent);
    return { journaled: true, status: 200, body: { ok: true, seq, sequence, time, events } };
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    metrics.refusals.inc({ code: error.code });
    const retry = error.retryAfter === undefined ? {} : { retryAfter: error.retryAfter };
    return { status: error.statusCode, body: { error: error.toJSON() }, ...retry };
  }
}

function commandRoute(app: FastifyInstance, context: RouteContext): void {
  app.post<{ Body: CommandBody }>(
    '/v1/commands',
    {
      config: { access: WRITERS },
      schema: {
        summary: 'Send a command; answered once it is durable',
        tags: ['commands'],
        security: SECURITY,
        headers: {
          type: 'object',
          properties: {
            'idempotency-key': {
              type: 'string',
              pattern: IDEMPOTENCY_KEY_PATTERN.source,
              description: 'a repeated key with the same body returns the first answer',
            },
          },
        },
        body: CommandBodySchema,
        response: replies(CommandReply, [400, 401, 403, 409, 413, 415, 422, 429, 503]),
      },
    },
    async (request, reply) => {
      const key = apiKeyOf(request);
      const body = request.body;
      if (!mayCommand(key, body.type)) {
        throw forbidden(`a ${key.role} key may not send ${body.type}`);
      }
      checkCommandTime(key.role, body.time, context.now(), context.config.clockSkewSeconds);
      const idempotencyKey = request.headers['idempotency-key'];
      const run = () =>
        answerCommand(
          context,
          key,
          body,
          typeof idempotencyKey === 'string' ? idempotencyKey : undefined,
        );
      const answer =
        typeof idempotencyKey === 'string'
          ? await context.idempotency.answer(key.id, idempotencyKey, bodyDigest(body), run)
          : await run();
      if (answer === 'conflict') {
        const message = 'this Idempotency-Key was used with another body';
        throw new HttpError(409, 'idempotency_conflict', message);
      }
      if (answer.retryAfter !== undefined) reply.header('retry-after', String(answer.retryAfter));
      return reply.code(answer.status).send(answer.body);
    },
  );
}

/**
 * A parameter command as journaled: `by` is the id of the key that sent it, so the parameters'
 * history says who changed what. A body may name that key itself, never another.
 */
function attributed(command: Command, key: ApiKey): Command {
  if (!ATTRIBUTED_COMMANDS.has(command.type)) return command;
  const { by } = command as Attributed;
  if (by !== undefined && by !== key.id) {
    throw new HttpError(400, 'invalid_field', `by must be the sending key's id (${key.id})`, {
      field: 'by',
    });
  }
  return { ...command, by: key.id } as Command;
}

/** The sub-account a route's path names, once the request's key may read its account. */
function readableSubAccount(
  request: FastifyRequest<{ Params: { account: string; n: string } }>,
): SubAccountRef {
  const key = apiKeyOf(request);
  const ref = subAccountRef(request.params.account, request.params.n);
  if (!mayRead(key, ref.account)) {
    throw forbidden(`key ${key.id} may not read account ${JSON.stringify(ref.account)}`);
  }
  return ref;
}

function accountRoute(app: FastifyInstance, { gateway }: RouteContext): void {
  app.get<{ Params: { account: string; n: string } }>(
    '/v1/accounts/:account/sub-accounts/:n',
    {
      config: { access: ACCOUNT_READERS },
      schema: {
        summary: "A sub-account's health: every tier, liquidation prices, max borrow and withdraw",
        tags: ['accounts'],
        security: SECURITY,
        params: SubAccountParams,
        response: replies(SubAccountReply, [400, 401, 403, 429, 503]),
      },
    },
    async (request) => {
      const ref = readableSubAccount(request);
      const { state } = gateway;
      const status = liquidationStatus(state, ref);
      return gateway.settled({
        account: ref.account,
        subAccount: ref.subAccount,
        time: state.time,
        ...renderHealthReport(subAccountReport(state, ref)),
        liquidation: { allowed: status.allowed, blockedBy: status.blockedBy },
      });
    },
  );
}

function accountRiskRoute(app: FastifyInstance, { gateway }: RouteContext): void {
  app.get<{ Params: { account: string; n: string } }>(
    '/v1/accounts/:account/sub-accounts/:n/risk',
    {
      config: { access: ACCOUNT_READERS },
      schema: {
        summary:
          "A sub-account's derivatives risk: Greeks per position and in all, margin in each mode, cross liquidation prices",
        tags: ['accounts'],
        security: SECURITY,
        params: SubAccountParams,
        response: replies(SubAccountRiskReply, [400, 401, 403, 422, 429, 503]),
      },
    },
    async (request) => {
      const ref = readableSubAccount(request);
      const { state } = gateway;
      const report = subAccountRisk(state, ref);
      return gateway.settled({ account: ref.account, subAccount: ref.subAccount, ...report });
    },
  );
}

function whatIfRoute(app: FastifyInstance, { gateway, config }: RouteContext): void {
  app.post<{ Body: WhatIfBody }>(
    '/v1/what-if',
    {
      config: { access: ALL_ROLES },
      schema: {
        summary:
          'Dry-run a command, a price shock, or closing a derivatives position at the mark, against the current state; nothing changes',
        tags: ['queries'],
        security: SECURITY,
        body: WhatIfBody,
        response: replies(WhatIfReply, [400, 401, 403, 413, 415, 422, 429, 503]),
      },
    },
    async (request) => {
      const key = apiKeyOf(request);
      const { command, shock, close } = request.body;
      const given = [command, shock, close].filter((x) => x !== undefined).length;
      if (given !== 1) throw invalidField('give one of command, shock or close', 'command');
      if (command !== undefined) return commandWhatIfAnswer(key, request.body, gateway);
      if (close !== undefined) return closeWhatIfAnswer(key, request.body, gateway);
      return shockWhatIfAnswer(key, request.body, gateway, config.whatIfScanMax);
    },
  );
}

function invalidField(message: string, field: string): HttpError {
  return new HttpError(400, 'invalid_field', message, { field });
}

/** A command's dry run, for a key that may send it. */
function commandWhatIfAnswer(key: ApiKey, body: WhatIfBody, gateway: EngineGateway) {
  const { command, account, subAccount } = body;
  if (command === undefined) throw new Error('unreachable: a command was checked for');
  if (account !== undefined || subAccount !== undefined) {
    throw invalidField('account and subAccount go with a shock or a close', 'account');
  }
  if (!mayCommand(key, command.type)) {
    throw forbidden(`a ${key.role} key may not send ${command.type}`);
  }
  const { state } = gateway;
  const decoded = decodeJson(command, state);
  if (decoded instanceof FulcrumError) throw decoded;
  const denied = forbiddenTarget(key, decoded);
  if (denied !== undefined) throw forbidden(denied);
  refuseBlindLiquidation(key, decoded, gateway);
  return gateway.settled(commandWhatIf(state, decoded, (a) => mayRead(key, a)));
}

/** A derivatives position closed at the mark, for a key that may read its account. */
function closeWhatIfAnswer(key: ApiKey, body: WhatIfBody, gateway: EngineGateway) {
  const { close, account, subAccount } = body;
  if (close === undefined) throw new Error('unreachable: a close was checked for');
  if (account === undefined) throw invalidField('a close names its account', 'account');
  if (!mayRead(key, account)) {
    throw forbidden(`key ${key.id} may not read account ${JSON.stringify(account)}`);
  }
  const ref = { account, subAccount: subAccount ?? 0 };
  return gateway.settled(closeWhatIf(gateway.state, ref, close.instrument));
}

/** A price shock on one sub-account, or venue-wide for a key that reads every account. */
function shockWhatIfAnswer(key: ApiKey, body: WhatIfBody, gateway: EngineGateway, scanMax: number) {
  const { shock, account, subAccount } = body;
  if (shock === undefined) throw new Error('unreachable: a shock was checked for');
  const { state } = gateway;
  if (account !== undefined) {
    if (!mayRead(key, account)) {
      throw forbidden(`key ${key.id} may not read account ${JSON.stringify(account)}`);
    }
    return gateway.settled(subAccountShock(state, { account, subAccount: subAccount ?? 0 }, shock));
  }
  if (subAccount !== undefined) throw invalidField('subAccount goes with an account', 'subAccount');
  if (!mayReadVenue(key)) {
    throw forbidden(
      `a venue-wide shock reads every account: key ${key.id} may not; name an account`,
    );
  }
  const isLiquidatable = gateway.monitor.isLiquidatable.bind(gateway.monitor);
  return gateway.settled(venueShock(state, shock, isLiquidatable, scanMax));
}

/**
 * A liquidator's what-if liquidation of a target it may not read is answered only when the
 * target is liquidatable (as `GET /v1/liquidatable` lists it): otherwise its dry run would tell
 * what the target owes and how far it is from maintenance.
 */
function refuseBlindLiquidation(key: ApiKey, command: Command, gateway: EngineGateway): void {
  if (command.type !== 'liquidate' && command.type !== 'liquidate-position') return;
  if (mayRead(key, command.target.account)) return;
  if (gateway.monitor.isLiquidatable(command.target)) return;
  throw new HttpError(422, 'not_liquidatable', 'the target is not liquidatable');
}

function marketRoutes(app: FastifyInstance, { gateway }: RouteContext): void {
  const schema = (summary: string, reply: Parameters<typeof replies>[0]) => ({
    summary,
    tags: ['market'],
    security: SECURITY,
    response: replies(reply, [401, 403, 429, 503]),
  });
  app.get(
    '/v1/pools',
    { config: { access: ALL_ROLES }, schema: schema("Every lending pool's figures", PoolsReply) },
    async () => gateway.settled({ time: gateway.state.time, pools: poolSummaries(gateway.state) }),
  );
  app.get(
    '/v1/prices',
    {
      config: { access: ALL_ROLES },
      schema: schema(
        'Every price with its grade and breaker state, and instrument marks',
        PricesReply,
      ),
    },
    async () => gateway.settled(pricesOf(gateway.state)),
  );
}

function liquidatableRoute(app: FastifyInstance, { gateway }: RouteContext): void {
  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    '/v1/liquidatable',
    {
      config: { access: ['liquidator', 'risk-admin', 'read-only'] },
      schema: {
        summary: 'Sub-accounts below maintenance, with the best liquidation each allows',
        tags: ['liquidation'],
        security: SECURITY,
        querystring: PageQuery,
        response: replies(LiquidatableReply, [400, 401, 403, 429, 503]),
      },
    },
    async (request) => {
      const key = apiKeyOf(request);
      if (key.role === 'read-only' && !mayReadVenue(key)) {
        throw forbidden(`the liquidatable list reads every account: key ${key.id} may not`);
      }
      const limit = pageLimit(request.query.limit, 100, LIQUIDATABLE_PAGE_MAX);
      const after = request.query.cursor === undefined ? null : refCursor(request.query.cursor);
      const page = liquidatablePage(gateway.state, gateway.monitor, after, limit);
      return gateway.settled({
        time: gateway.state.time,
        total: page.total,
        items: page.items,
        next: page.next === null ? null : encodeCursor([page.next.account, page.next.subAccount]),
      });
    },
  );
}

function historyRoute(app: FastifyInstance, { gateway, config }: RouteContext): void {
  app.get<{ Querystring: { limit?: string; cursor?: string; account?: string } }>(
    '/v1/history',
    {
      config: { access: ACCOUNT_READERS },
      schema: {
        summary: "Journaled commands: one account's, or every one (oldest first)",
        tags: ['history'],
        security: SECURITY,
        querystring: HistoryQuery,
        response: replies(HistoryReply, [400, 401, 403, 422, 429, 503]),
      },
    },
    async (request) => {
      const key = apiKeyOf(request);
      const { account, cursor } = request.query;
      if (account === undefined ? !mayReadVenue(key) : !mayRead(key, account)) {
        throw forbidden(
          account === undefined
            ? `key ${key.id} may not read every account's history: name an account`
            : `key ${key.id} may not read account ${JSON.stringify(account)}`,
        );
      }
      const limit = pageLimit(request.query.limit, 100, 1_000);
      const position = cursor === undefined ? 0 : numberCursor(cursor);
      const { store } = gateway.durable;
      const page = await readHistory(store, account, position, limit, config.historyDepthMax);
      const items = mayReadVenue(key)
        ? page.items
        : page.items.map((item) => visibleEntry(item, (id) => mayRead(key, id)));
      return { items, next: page.next === null ? null : encodeCursor(page.next) };
    },
  );
}

/**
 * A price source's push: its quotes as `quote` commands, in order, answered once all are
 * durable. The whole push is admitted to the queue or refused (503) before any is applied; each
 * quote's own refusal is its result.
 */
function quotesRoute(app: FastifyInstance, { gateway, metrics, config, now }: RouteContext): void {
  app.post<{ Body: QuotesBody }>(
    '/v1/quotes',
    {
      config: { access: ['price-source', 'risk-admin'] },
      schema: {
        summary: "Push a source's quotes (price sources)",
        tags: ['market'],
        security: SECURITY,
        body: QuotesBody,
        response: replies(QuotesReply, [400, 401, 403, 413, 415, 422, 429, 503]),
      },
    },
    async (request) => {
      const key = apiKeyOf(request);
      checkCommandTime(key.role, request.body.time, now(), config.clockSkewSeconds);
      const commands = decodeQuotes(
        gateway,
        request.body,
        (quote) => quote.source ?? key.id,
        (command) => {
          const denied = forbiddenTarget(key, command);
          if (denied !== undefined) throw forbidden(denied);
        },
      );
      return { results: await applyQuotes(gateway, metrics, commands) };
    },
  );
}

function operationRoutes(app: FastifyInstance, { gateway, metrics }: RouteContext): void {
  const tags = ['operations'];
  app.get(
    '/healthz',
    { schema: { summary: 'The process is up', tags, response: { 200: StatusReply } } },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'The service takes commands (not stopping, journal writable)',
        tags,
        response: replies(StatusReply, [503]),
      },
    },
    async () => {
      if (gateway.stopping || !gateway.ready) throw gateway.unready();
      return { status: 'ready', seq: gateway.durable.durableSeq };
    },
  );
  app.get(
    '/metrics',
    {
      config: { access: ['risk-admin', 'read-only'] },
      schema: { summary: 'Prometheus metrics', tags, security: SECURITY },
    },
    async (_request, reply) => {
      metrics.queueDepth.set(gateway.queueDepth);
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
