/**
 * The browser console (`web/`, built into `dist/web` by `npm run build`), served at `/console/`,
 * and the routes it reads beside the service's own: who the key is (`/v1/session`), the venue's
 * totals (`/v1/venue`), the sub-accounts nearest liquidation (`/v1/near-liquidation`) and a
 * stress test of several price moves (`/v1/stress`). docs/CONSOLE.md describes them.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Role, ServerConfig } from './config.js';
import { HttpError } from './errors.js';
import type { EngineGateway } from './gateway.js';
import { pageLimit } from './http.js';
import { mayReadVenue } from './keys.js';
import { ALL_ROLES, apiKeyOf } from './routes.js';
import { type DemoHolder, registerRiskRoutes } from './riskRoutes.js';
import { PageQuery, replies } from './schemas.js';
import {
  type NearCursor,
  nearLiquidation,
  STRESS_MOVES_MAX,
  stressTest,
  venueTotals,
} from './venue.js';

/** The built console, beside `dist/server` (or, from `src/server`, the build's). */
export const CONSOLE_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));
const SECURITY = [{ bearer: [] }];
const VENUE_READERS: readonly Role[] = ['risk-admin', 'read-only'];
/** Most sub-accounts a key's session lists. */
const SESSION_SUB_ACCOUNTS_MAX = 100;

/**
 * Served with every console file: scripts and styles from the service only, no framing, and
 * connections (fetch, the WebSocket) back to the service only.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export interface ConsoleContext {
  readonly config: ServerConfig;
  readonly gateway: EngineGateway;
  readonly demo?: DemoHolder | undefined;
}

/** Registers the console's files at `/console/` (when built) and its routes. */
export async function registerConsole(app: FastifyInstance, context: ConsoleContext) {
  sessionRoute(app, context);
  venueRoutes(app, context);
  stressRoute(app, context);
  registerRiskRoutes(app, context);
  if (!existsSync(CONSOLE_ROOT)) {
    app.get('/console/', { schema: { hide: true } }, async () => {
      throw new HttpError(404, 'not_found', 'the console is not built: run npm run build');
    });
    return;
  }
  await app.register(fastifyStatic, {
    root: CONSOLE_ROOT,
    prefix: '/console/',
    index: ['index.html'],
    redirect: true,
    schemaHide: true,
    setHeaders: (reply) => {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
    },
  });
}

const SessionReply = Type.Object({
  id: Type.String(),
  role: Type.String(),
  everyAccount: Type.Boolean(),
  accounts: Type.Array(Type.String()),
  subAccounts: Type.Array(Type.Object({ account: Type.String(), subAccount: Type.Integer() })),
});

function sessionRoute(app: FastifyInstance, { gateway }: ConsoleContext): void {
  app.get(
    '/v1/session',
    {
      config: { access: ALL_ROLES },
      schema: {
        summary: "The key's id, role and accounts, with their sub-accounts",
        tags: ['console'],
        security: SECURITY,
        response: replies(SessionReply, [401, 429]),
      },
    },
    async (request) => {
      const key = apiKeyOf(request);
      const accounts = [...key.accounts].filter((a) => a !== '*').sort();
      const subAccounts = accounts.flatMap((account) => {
        const found = gateway.state.accounts.get(account)?.subAccounts ?? [];
        const numbers = found.length === 0 ? [0] : found.map((sub) => sub.number);
        return numbers.map((subAccount) => ({ account, subAccount }));
      });
      return {
        id: key.id,
        role: key.role,
        everyAccount: key.everyAccount,
        accounts,
        subAccounts: subAccounts.slice(0, SESSION_SUB_ACCOUNTS_MAX),
      };
    },
  );
}

function venueOnly(request: Parameters<typeof apiKeyOf>[0]): void {
  const key = apiKeyOf(request);
  if (!mayReadVenue(key)) {
    throw new HttpError(403, 'forbidden', `this reads every account: key ${key.id} may not`);
  }
}

const Value = Type.String({ description: 'a value in the quote unit' });
const VenueReply = Type.Object({
  time: Type.Integer(),
  subAccounts: Type.Integer(),
  liquidatable: Type.Integer(),
  collateralValue: Value,
  debtValue: Value,
  openInterestValue: Value,
  insuranceFundValue: Value,
  badDebtValue: Value,
  badDebtComplete: Type.Boolean(),
  assets: Type.Array(
    Type.Object({ asset: Type.String(), suppliedValue: Value, borrowedValue: Value }),
  ),
});
const Health = Type.Union([Type.String(), Type.Null()]);
const NearReply = Type.Object({
  time: Type.Integer(),
  total: Type.Integer(),
  items: Type.Array(
    Type.Object({
      account: Type.String(),
      subAccount: Type.Integer(),
      estimate: Type.Number(),
      healthFactor: Health,
      initialHealthFactor: Health,
      liquidatable: Type.Boolean(),
      collateralValue: Value,
      liabilityValue: Value,
    }),
  ),
  next: Type.Union([Type.String(), Type.Null()]),
});

function nearCursor(text: string | undefined): NearCursor | null {
  if (text === undefined) return null;
  const match = /^(\d{1,10})~([0-9.eE+-]{1,40})$/.exec(text);
  const estimate = match === null ? NaN : Number(match[2]);
  if (match === null || !Number.isFinite(estimate)) {
    throw new HttpError(400, 'invalid_field', 'cursor is not one this service gave', {
      field: 'cursor',
    });
  }
  return { slot: Number(match[1]), estimate };
}

function venueRoutes(app: FastifyInstance, { gateway }: ConsoleContext): void {
  const schema = (summary: string, reply: Parameters<typeof replies>[0], query = false) => ({
    summary,
    tags: ['console'],
    security: SECURITY,
    ...(query ? { querystring: PageQuery } : {}),
    response: replies(reply, [400, 401, 403, 429, 503]),
  });
  app.get(
    '/v1/venue',
    {
      config: { access: VENUE_READERS },
      schema: schema(
        'Venue totals: collateral, debt, open interest, insurance, bad debt',
        VenueReply,
      ),
    },
    async (request) => {
      venueOnly(request);
      return gateway.settled(venueTotals(gateway.state, gateway.monitor));
    },
  );
  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    '/v1/near-liquidation',
    {
      config: { access: VENUE_READERS },
      schema: schema('Sub-accounts with debt, lowest health first, paged', NearReply, true),
    },
    async (request) => {
      venueOnly(request);
      const limit = pageLimit(request.query.limit, 20, 200);
      const page = nearLiquidation(
        gateway.state,
        gateway.monitor,
        nearCursor(request.query.cursor),
        limit,
      );
      const next = page.next === null ? null : `${page.next.slot}~${page.next.estimate}`;
      return gateway.settled({ ...page, next });
    },
  );
}

const StressBody = Type.Object(
  {
    moves: Type.Array(
      Type.Object(
        {
          asset: Type.String({ minLength: 1, maxLength: 32 }),
          move: Type.String({ pattern: '^-?[0-9]{1,3}(\\.[0-9]{1,18})?$' }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: STRESS_MOVES_MAX },
    ),
  },
  { additionalProperties: false },
);
const StressReply = Type.Object({
  time: Type.Integer(),
  moves: Type.Array(Type.Object({ asset: Type.String(), move: Type.String() })),
  subAccounts: Type.Integer(),
  liquidatableBefore: Type.Integer(),
  liquidatableAfter: Type.Integer(),
  liquidatableDebtValue: Value,
  badDebtBeforeValue: Value,
  badDebtAfterValue: Value,
  newlyLiquidatableCount: Type.Integer(),
  newlyLiquidatable: Type.Array(
    Type.Object({
      account: Type.String(),
      subAccount: Type.Integer(),
      healthBefore: Health,
      healthAfter: Health,
      liabilityValue: Value,
      shortfallValue: Value,
    }),
  ),
});

function stressRoute(app: FastifyInstance, { gateway, config }: ConsoleContext): void {
  app.post<{ Body: Static<typeof StressBody> }>(
    '/v1/stress',
    {
      config: { access: VENUE_READERS },
      schema: {
        summary: 'Move several prices at once: who falls, the debt at stake, the bad debt left',
        tags: ['console'],
        security: SECURITY,
        body: StressBody,
        response: replies(StressReply, [400, 401, 403, 413, 415, 422, 429, 503]),
      },
    },
    async (request) => {
      venueOnly(request);
      const { moves } = request.body;
      const assets = new Set(moves.map((m) => m.asset));
      if (assets.size !== moves.length) {
        throw new HttpError(400, 'invalid_field', 'each asset moves once', { field: 'moves' });
      }
      const result = stressTest(gateway.state, gateway.monitor, moves, config.whatIfScanMax);
      return gateway.settled(result);
    },
  );
}
