/**
 * The schemas of every request and answer of the service (TypeBox): one source for validation
 * (Fastify's Ajv), the handlers' types (`Static`) and the OpenAPI document at /openapi.json.
 * Numbers of money are decimal strings, as everywhere in Fulcrum. Bodies refuse unknown fields;
 * a command's own fields are checked by the engine's decoder, which refuses unknown ones too.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { COMMAND_TYPES } from '../engine/commands.js';
import { LIMITS } from '../domain/limits.js';
import { ROLES } from './config.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Decimal = Type.String({ description: 'a decimal number as text', maxLength: 100 });

export const AccountId = Type.String({
  pattern: '^[A-Za-z0-9_.:@-]{1,64}$',
  description: 'an account identifier: 1-64 letters, digits and _ . : @ -',
});

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'stable code (docs/SERVER.md lists them)' }),
    message: Type.String({ description: 'one line for people; may be reworded' }),
    field: Type.Optional(Type.String({ description: 'the input field at fault, dotted' })),
  },
  { additionalProperties: false },
);

export const ErrorReply = Type.Object(
  {
    ok: Type.Optional(Type.Literal(false)),
    seq: Type.Optional(
      Nullable(Type.Integer({ description: 'journal position of a refused command' })),
    ),
    error: ErrorBody,
  },
  { additionalProperties: false },
);

/** Any JSON value inside a command; the engine's decoder checks each field of its type. */
const CommandField = Type.Unknown();

export const CommandBody = Type.Object(
  {
    type: Type.Union(
      COMMAND_TYPES.map((t) => Type.Literal(t)),
      { description: 'the command type (README, "Commands")' },
    ),
    time: Type.Integer({
      minimum: 0,
      maximum: LIMITS.timeMax,
      description: 'the command time, unix seconds',
    }),
  },
  {
    additionalProperties: CommandField,
    description:
      'an engine command as JSON, exactly as `fulcrum run` reads it: amounts and prices as decimal strings',
    examples: [
      { type: 'deposit', time: 1700000000, account: 'alice', asset: 'ETH', amount: '10' },
      {
        type: 'liquidate',
        time: 1700000100,
        liquidator: { account: 'liq', subAccount: 0 },
        target: { account: 'bob', subAccount: 0 },
        debtAsset: 'USDC',
        collateralAsset: 'ETH',
        amount: 'max',
      },
    ],
  },
);
export type CommandBody = Static<typeof CommandBody>;

export const CommandReply = Type.Object(
  {
    ok: Type.Literal(true),
    seq: Type.Integer({ description: 'journal position (durable when answered)' }),
    sequence: Type.Integer({ description: 'the engine sequence: accepted commands so far' }),
    time: Type.Integer(),
    events: Type.Array(Type.Unknown(), { description: 'the events, amounts as decimal strings' }),
  },
  { additionalProperties: false },
);

const Tier = Type.Object(
  {
    weightedCollateral: Decimal,
    weightedLiabilities: Decimal,
    freeCollateral: Decimal,
    healthFactor: Nullable(Decimal),
  },
  { additionalProperties: false },
);

const DerivativeLine = Type.Object(
  {
    instrument: Type.String(),
    size: Decimal,
    entryPrice: Nullable(Decimal),
    mark: Decimal,
    unrealized: Decimal,
    initialRequirement: Decimal,
    maintenanceRequirement: Decimal,
  },
  { additionalProperties: false },
);

/** `renderHealthReport`'s figures (README, `fulcrum health`). */
const HealthFigures = {
  healthFactor: Nullable(Decimal),
  initialHealthFactor: Nullable(Decimal),
  liquidationEndHealthFactor: Nullable(Decimal),
  liquidatable: Type.Boolean(),
  belowInitial: Type.Boolean(),
  collateralValue: Decimal,
  liabilityValue: Decimal,
  initial: Tier,
  liquidationEnd: Tier,
  maintenance: Tier,
  liquidationPrices: Type.Record(Type.String(), Nullable(Decimal)),
  debtLiquidationPrices: Type.Record(Type.String(), Nullable(Decimal)),
  maxWithdraw: Type.Record(Type.String(), Decimal),
  maxBorrow: Type.Record(Type.String(), Decimal),
  positions: Type.Record(
    Type.String(),
    Type.Object(
      { amount: Decimal, price: Decimal, value: Decimal },
      { additionalProperties: false },
    ),
  ),
  derivatives: Type.Optional(
    Type.Object(
      { mode: Type.String(), unsettled: Decimal, positions: Type.Array(DerivativeLine) },
      { additionalProperties: false },
    ),
  ),
};

export const HealthReportSchema = Type.Object(HealthFigures, { additionalProperties: false });

export const SubAccountReply = Type.Object(
  {
    account: Type.String(),
    subAccount: Type.Integer(),
    time: Type.Integer({ description: 'the state time the report is at' }),
    ...HealthFigures,
    liquidation: Type.Object(
      {
        allowed: Type.Boolean({ description: 'liquidatable and every price allows it now' }),
        blockedBy: Type.Array(Type.Object({ asset: Type.String(), grade: Type.String() }), {
          description: 'assets whose price grade forbids liquidating now',
        }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

const Greeks = {
  deltaQuote: Type.Number({ description: 'Δ·S: the exposure in quote' }),
  gammaQuotePerPercent: Type.Number({
    description: 'Γ·S²/100: delta change for a 1% move, in quote',
  }),
  vegaQuotePerVolPoint: Type.Number({ description: 'value change for one volatility point' }),
  thetaQuotePerDay: Type.Number({ description: 'value change over one day (or the time left)' }),
};

const RiskPosition = Type.Object(
  {
    symbol: Type.String(),
    kind: Type.Union([Type.Literal('perpetual'), Type.Literal('future'), Type.Literal('option')]),
    underlying: Type.String(),
    size: Type.Number(),
    expired: Type.Boolean(),
    needsSettlement: Type.Boolean(),
    settlementPrice: Nullable(Type.Number()),
    forward: Nullable(Type.Number()),
    mark: Nullable(Type.Number()),
    volatility: Nullable(Type.Number()),
    entryPrice: Nullable(Type.Number()),
    unrealizedPnl: Nullable(Type.Number()),
    notional: Type.Number(),
    deltaUnits: Type.Number({ description: '∂V/∂S, units of the underlying' }),
    ...Greeks,
    initial: Type.Number(),
    maintenance: Type.Number(),
    initialRatio: Nullable(Type.Number()),
    maintenanceRatio: Nullable(Type.Number()),
    leverage: Nullable(Type.Number()),
    isolatedLiquidationPrice: Nullable(Type.Number()),
  },
  { additionalProperties: false },
);

/** `derivatives/report.ts`'s PortfolioReport of a sub-account: analytics in floats. */
export const SubAccountRiskReply = Type.Object(
  {
    account: Type.String(),
    subAccount: Type.Integer(),
    time: Type.Integer({ description: 'the state time the report is at' }),
    collateral: Type.Number({
      description: 'balances at oracle value, debts subtracted, plus unsettled',
    }),
    equity: Type.Number(),
    notional: Type.Number(),
    leverage: Nullable(Type.Number()),
    greeks: Type.Object(Greeks, { additionalProperties: false }),
    positions: Type.Array(RiskPosition),
    needsSettlement: Type.Array(Type.String()),
    margins: Type.Array(
      Type.Object(
        {
          mode: Type.Union([
            Type.Literal('cross'),
            Type.Literal('isolated'),
            Type.Literal('portfolio'),
          ]),
          initial: Type.Number(),
          maintenance: Type.Number(),
          collateralNeeded: Type.Number(),
          excess: Type.Number(),
        },
        { additionalProperties: false },
      ),
    ),
    crossLiquidationPrices: Type.Record(Type.String(), Nullable(Type.Number())),
  },
  { additionalProperties: false },
);

export const SubAccountParams = Type.Object(
  {
    account: AccountId,
    n: Type.String({ pattern: '^(0|[1-9][0-9]{0,2})$', description: 'sub-account, 0 to 255' }),
  },
  { additionalProperties: false },
);

const Snapshot = Type.Object(
  {
    healthFactor: Nullable(Decimal),
    initialHealthFactor: Nullable(Decimal),
    liquidationEndHealthFactor: Nullable(Decimal),
    liquidatable: Type.Boolean(),
    belowInitial: Type.Boolean(),
    collateralValue: Decimal,
    liabilityValue: Decimal,
  },
  { additionalProperties: false },
);

export const Shock = Type.Object(
  {
    asset: Type.String({ minLength: 1, maxLength: 64 }),
    move: Type.String({
      maxLength: 40,
      description: 'a signed fraction above -1 and at most 10: "-0.2" is a fall of 20%',
    }),
  },
  { additionalProperties: false },
);

export const WhatIfBody = Type.Object(
  {
    command: Type.Optional(CommandBody),
    shock: Type.Optional(Shock),
    close: Type.Optional(
      Type.Object(
        { instrument: Type.String({ minLength: 1, maxLength: 16 }) },
        { additionalProperties: false },
      ),
    ),
    account: Type.Optional(AccountId),
    subAccount: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
  },
  {
    additionalProperties: false,
    description:
      "a command to dry-run; a price shock, for one sub-account (account, subAccount) or venue-wide; or closing the sub-account's position in an instrument at its mark (no fee)",
  },
);
export type WhatIfBody = Static<typeof WhatIfBody>;

export const WhatIfReply = Type.Object(
  {
    result: Type.Optional(Type.Unknown({ description: 'the command result, as /v1/commands' })),
    health: Type.Optional(
      Type.Array(
        Type.Object(
          { account: Type.String(), subAccount: Type.Integer(), ...Snapshot.properties },
          { additionalProperties: false },
        ),
      ),
    ),
    shock: Type.Optional(Shock),
    close: Type.Optional(
      Type.Object(
        { instrument: Type.String(), size: Decimal, mark: Decimal },
        { additionalProperties: false },
      ),
    ),
    account: Type.Optional(Type.String()),
    subAccount: Type.Optional(Type.Integer()),
    before: Type.Optional(HealthReportSchema),
    after: Type.Optional(HealthReportSchema),
    subAccounts: Type.Optional(Type.Integer()),
    liquidatableBefore: Type.Optional(Type.Integer()),
    liquidatableAfter: Type.Optional(Type.Integer()),
    newlyLiquidatable: Type.Optional(
      Type.Array(
        Type.Object(
          { account: Type.String(), subAccount: Type.Integer(), healthFactor: Nullable(Decimal) },
          { additionalProperties: false },
        ),
      ),
    ),
    newlyLiquidatableCount: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

export const PoolsReply = Type.Object(
  {
    time: Type.Integer(),
    pools: Type.Array(
      Type.Object(
        {
          asset: Type.String(),
          price: Decimal,
          cash: Decimal,
          totalSupply: Decimal,
          totalDebt: Decimal,
          treasury: Decimal,
          utilization: Decimal,
          borrowRate: Decimal,
          supplyRate: Decimal,
          supplyIndex: Decimal,
          borrowIndex: Decimal,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const PricesReply = Type.Object(
  {
    time: Type.Integer(),
    assets: Type.Array(
      Type.Object(
        {
          asset: Type.String(),
          price: Decimal,
          stablePrice: Decimal,
          confidence: Decimal,
          grade: Type.String({ description: 'valid, insufficientSources, stale, ...' }),
          allows: Type.Object(
            { newRisk: Type.Boolean(), liquidate: Type.Boolean() },
            { additionalProperties: false },
          ),
          oracle: Nullable(
            Type.Object(
              {
                sources: Type.Integer(),
                freshUntil: Type.Integer(),
                breaker: Type.Object(
                  {
                    trippedAt: Nullable(Type.Integer()),
                    frozen: Type.Boolean({ description: 'risk-increasing actions frozen now' }),
                  },
                  { additionalProperties: false },
                ),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    instruments: Type.Array(
      Type.Object(
        {
          instrument: Type.String(),
          underlying: Type.String(),
          mark: Decimal,
          index: Decimal,
          settled: Type.Boolean(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$', description: '1 to 1000' })),
    cursor: Type.Optional(
      Type.String({ maxLength: 200, description: 'the `next` of the page before' }),
    ),
  },
  { additionalProperties: false },
);

export const HistoryQuery = Type.Object(
  {
    ...PageQuery.properties,
    account: Type.Optional(AccountId),
  },
  { additionalProperties: false },
);

const Lending = Type.Object(
  {
    debtAsset: Type.String(),
    collateralAsset: Type.String(),
    repay: Decimal,
    seize: Decimal,
    toLiquidator: Decimal,
    toInsurance: Decimal,
    penalty: Decimal,
    bonusValue: Decimal,
    fullClose: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const LiquidatableReply = Type.Object(
  {
    time: Type.Integer(),
    total: Type.Integer({ description: 'sub-accounts below maintenance now' }),
    items: Type.Array(
      Type.Object(
        {
          account: Type.String(),
          subAccount: Type.Integer(),
          healthFactor: Nullable(Decimal),
          allowed: Type.Boolean(),
          blockedBy: Type.Array(Type.Object({ asset: Type.String(), grade: Type.String() })),
          best: Nullable(Lending),
          positions: Type.Array(
            Type.Object(
              { instrument: Type.String(), size: Decimal, mark: Decimal, penalty: Decimal },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    next: Nullable(Type.String()),
  },
  { additionalProperties: false },
);

export const HistoryReply = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          seq: Type.Integer(),
          time: Type.Integer(),
          outcome: Type.String({ description: 'ok, or the refusal code' }),
          command: Type.Unknown({ description: 'the command in stored form' }),
          events: Type.Array(Type.Unknown()),
        },
        { additionalProperties: false },
      ),
    ),
    next: Nullable(Type.String()),
  },
  { additionalProperties: false },
);

/** Most quotes one push carries. */
export const QUOTES_MAX = 64;

export const QuotesBody = Type.Object(
  {
    time: Type.Integer({ minimum: 0, maximum: LIMITS.timeMax, description: 'unix seconds' }),
    quotes: Type.Array(
      Type.Object(
        {
          asset: Type.String({ minLength: 1, maxLength: 64 }),
          price: Decimal,
          confidence: Type.Optional(Decimal),
          observedAt: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.timeMax })),
          source: Type.Optional(
            Type.String({
              pattern: '^[A-Za-z0-9_.:-]{1,32}$',
              description: "risk-admin only; a price-source key quotes as its key's id",
            }),
          ),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: QUOTES_MAX },
    ),
  },
  {
    additionalProperties: false,
    description: 'quotes of one source, each a `quote` command, applied in order',
  },
);
export type QuotesBody = Static<typeof QuotesBody>;

export const QuotesReply = Type.Object(
  {
    results: Type.Array(
      Type.Object(
        {
          ok: Type.Boolean(),
          seq: Nullable(Type.Integer()),
          error: Type.Optional(ErrorBody),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const StatusReply = Type.Object(
  { status: Type.String(), seq: Type.Optional(Type.Integer()) },
  { additionalProperties: false },
);

export const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));

/** The answers a route may give: its own, and the error replies every route shares. */
export function replies(ok: TSchema, codes: readonly number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = { 200: ok };
  for (const code of codes) out[code] = ErrorReply;
  return out;
}
