/**
 * The risk console's further routes (docs/CONSOLE.md): the heat map of the venue against price
 * moves (`/v1/heat-map`; past `whatIfScanMax` sub-accounts the liquidation monitor's estimate), the parameters in force and their history (`/v1/parameters`,
 * `/v1/parameters/history`), and on a demo service the replay's control (`/v1/demo/replay`).
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { chainReport, renderChain } from '../engine/chains.js';
import type { Role, ServerConfig } from './config.js';
import type { DemoFeed } from './demo.js';
import { HttpError } from './errors.js';
import type { EngineGateway } from './gateway.js';
import { encodeCursor, numberCursor, pageLimit } from './http.js';
import { mayReadVenue } from './keys.js';
import { apiKeyOf } from './routes.js';
import { PageQuery, replies } from './schemas.js';
import {
  HEAT_MOVES,
  HEAT_MOVES_MAX,
  HeatMapCache,
  parameterHistory,
  parameters,
} from './riskViews.js';

const SECURITY = [{ bearer: [] }];
const VENUE_READERS: readonly Role[] = ['risk-admin', 'read-only'];

/** The demo's replay, once it runs (`fulcrum serve --demo`); null on any other service. */
export interface DemoHolder {
  feed: DemoFeed | null;
}

export interface RiskRouteContext {
  readonly config: ServerConfig;
  readonly gateway: EngineGateway;
  readonly demo?: DemoHolder | undefined;
}

function venueOnly(request: Parameters<typeof apiKeyOf>[0]): void {
  const key = apiKeyOf(request);
  if (!mayReadVenue(key)) {
    throw new HttpError(403, 'forbidden', `this reads every account: key ${key.id} may not`);
  }
}

const schema = (summary: string, reply: Parameters<typeof replies>[0], extra = {}) => ({
  summary,
  tags: ['console'],
  security: SECURITY,
  ...extra,
  response: replies(reply, [400, 401, 403, 404, 422, 429, 503]),
});

/** Registers the heat map, the parameters, their history and the demo's replay control. */
export function registerRiskRoutes(app: FastifyInstance, context: RiskRouteContext): void {
  heatMapRoute(app, context);
  parameterRoutes(app, context);
  chainsRoute(app, context);
  replayRoutes(app, context);
}

const HeatQuery = Type.Object(
  {
    moves: Type.Optional(
      Type.String({
        pattern: '^-?[0-9]{1,3}(,-?[0-9]{1,3}){0,20}$',
        description: 'moves in percent, comma-separated (default -50,-40,…,50)',
      }),
    ),
  },
  { additionalProperties: false },
);
const HeatReply = Type.Object({
  time: Type.Integer(),
  sequence: Type.Integer(),
  subAccounts: Type.Integer(),
  estimate: Type.Boolean({
    description:
      "true past whatIfScanMax sub-accounts: the liquidation monitor's estimate, not an exact evaluation of each",
  }),
  moves: Type.Array(Type.Number()),
  assets: Type.Array(
    Type.Object({
      asset: Type.String(),
      cells: Type.Array(
        Type.Object({
          move: Type.Number(),
          liquidatable: Type.Integer(),
          debtValue: Type.String(),
        }),
      ),
    }),
  ),
});

function heatMoves(text: string | undefined): number[] {
  if (text === undefined) return [...HEAT_MOVES];
  const moves = text.split(',').map(Number);
  const valid = moves.every((m) => m > -100 && m <= 500) && new Set(moves).size === moves.length;
  if (!valid || moves.length > HEAT_MOVES_MAX) {
    throw new HttpError(400, 'invalid_field', 'moves are distinct percentages above -100', {
      field: 'moves',
    });
  }
  return moves.sort((a, b) => a - b);
}

function heatMapRoute(app: FastifyInstance, { gateway, config }: RiskRouteContext): void {
  const cache = new HeatMapCache();
  app.get<{ Querystring: Static<typeof HeatQuery> }>(
    '/v1/heat-map',
    {
      config: { access: VENUE_READERS },
      schema: schema(
        'Per asset and price move: the sub-accounts below maintenance and the debt they owe',
        HeatReply,
        { querystring: HeatQuery },
      ),
    },
    async (request) => {
      venueOnly(request);
      const moves = heatMoves(request.query.moves);
      const map = cache.get(gateway.state, moves, config.whatIfScanMax, gateway.monitor);
      return gateway.settled(map);
    },
  );
}

const Free = Type.Unknown();
const ParametersReply = Type.Object({
  time: Type.Integer(),
  sequence: Type.Integer(),
  quote: Type.String(),
  assets: Type.Array(Free),
  instruments: Type.Array(Free),
  liquidation: Free,
  venue: Free,
});
const HistoryReply = Type.Object({
  items: Type.Array(
    Type.Object({
      seq: Type.Integer(),
      time: Type.Integer(),
      type: Type.String(),
      outcome: Type.String(),
      by: Type.Union([Type.String(), Type.Null()], {
        description: 'the id of the key that sent it; null when it named nobody',
      }),
      command: Free,
    }),
  ),
  scannedTo: Type.Integer(),
  next: Type.Union([Type.String(), Type.Null()]),
});

function parameterRoutes(app: FastifyInstance, { gateway }: RiskRouteContext): void {
  app.get(
    '/v1/parameters',
    {
      config: { access: VENUE_READERS },
      schema: schema('The listing, instrument, liquidation and venue parameters', ParametersReply),
    },
    async (request) => {
      venueOnly(request);
      return gateway.settled(parameters(gateway.state));
    },
  );
  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    '/v1/parameters/history',
    {
      config: { access: VENUE_READERS },
      schema: schema('The journaled commands that set parameters, oldest first', HistoryReply, {
        querystring: PageQuery,
      }),
    },
    async (request) => {
      venueOnly(request);
      const limit = pageLimit(request.query.limit, 50, 200);
      const after = request.query.cursor === undefined ? 0 : numberCursor(request.query.cursor);
      const page = await parameterHistory(gateway.durable.store, after, limit);
      // Only what is durable: the store holds durable records only.
      return { ...page, next: page.next === null ? null : encodeCursor(page.next) };
    },
  );
}

const ChainsReply = Type.Object({
  time: Type.Integer(),
  sequence: Type.Integer(),
  chains: Type.Array(Free, {
    description:
      'per chain: status, cursor, pending withdrawals, and per asset on it credited, pending and vaultHolds (credited + pending: what its vault must hold), weights and cap',
  }),
});

/** The chains whose vaults hold collateral (docs/CHAINS.md), as `fulcrum chains status`. */
function chainsRoute(app: FastifyInstance, { gateway }: RiskRouteContext): void {
  app.get(
    '/v1/chains',
    {
      config: { access: VENUE_READERS },
      schema: schema(
        'Collateral held on other chains: each chain and what its vault holds',
        ChainsReply,
      ),
    },
    async (request) => {
      venueOnly(request);
      const { state } = gateway;
      const chains = chainReport(state).map(renderChain);
      return gateway.settled({ time: state.time, sequence: state.sequence, chains });
    },
  );
}

const ReplayReply = Type.Object({
  playing: Type.Boolean(),
  ended: Type.Boolean(),
  speed: Type.Number(),
  time: Type.Union([Type.Integer(), Type.Null()]),
  pushes: Type.Integer(),
  total: Type.Integer(),
  from: Type.Integer(),
  to: Type.Integer(),
});
const ReplayBody = Type.Object(
  {
    playing: Type.Optional(Type.Boolean()),
    speed: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000_000 })),
  },
  { additionalProperties: false },
);

function replayRoutes(app: FastifyInstance, { demo }: RiskRouteContext): void {
  const feed = () => {
    const found = demo?.feed ?? null;
    if (found === null) {
      throw new HttpError(404, 'not_found', 'no replay runs here: this is not a demo service');
    }
    return found;
  };
  app.get(
    '/v1/demo/replay',
    {
      config: { access: VENUE_READERS },
      schema: schema("The demo replay's state: playing, speed, market time", ReplayReply),
    },
    async (request) => {
      venueOnly(request);
      return feed().state();
    },
  );
  app.post<{ Body: Static<typeof ReplayBody> }>(
    '/v1/demo/replay',
    {
      config: { access: ['risk-admin'] },
      schema: schema('Play or pause the demo replay, at a speed', ReplayReply, {
        body: ReplayBody,
      }),
    },
    async (request) => {
      const { playing, speed } = request.body;
      return feed().control({
        ...(playing === undefined ? {} : { playing }),
        ...(speed === undefined ? {} : { speed }),
      });
    },
  );
}
