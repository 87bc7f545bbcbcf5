/**
 * The whole engine state as text and back, for snapshots: JSON with bigints as decimal integer
 * strings, accounts in code-unit order of their identifiers, so that the same state always
 * gives the same text. Risk factors are not stored; they are rebuilt from listings and prices.
 */
import { type AssetConfig, validateAssetConfig } from '../domain/asset.js';
import { assert, FulcrumError } from '../base/errors.js';
import { quoteInput } from '../domain/quote.js';
import { assetRisk } from '../margin/assetRisk.js';
import type { OracleConfig } from '../domain/oracleConfig.js';
import { type LiquidationConfig, validateLiquidationConfig } from '../domain/liquidationConfig.js';
import type { Grade } from '../domain/priceGrade.js';
import { type VenueConfig, validateVenueConfig } from '../domain/venueConfig.js';
import type { OracleState } from '../oracle/oracle.js';
import type { PoolState } from '../pools/pool.js';
import type { InstrumentSpec } from '../derivatives/instruments.js';
import { type InstrumentListing, validateInstrumentListing } from '../derivatives/listing.js';
import type {
  AccountState,
  AssetState,
  ChainState,
  ChainStatus,
  PendingWithdrawal,
  DerivativesBook,
  EngineState,
  InstrumentState,
  MarginMode,
  SubAccountState,
} from './state.js';
import { sortedAccountIds } from './stateHash.js';

/**
 * Version of the snapshot text; a change of form must change it. 2 added the venue's rules; 3
 * the oracle's agreement, frozen-source, delay-price and confidence-widening fields and state
 * (the delay window, and the volatility reference price beside the stable price).
 * A snapshot of another version is not read: recovery passes over it and replays the journal.
 */
export const SNAPSHOT_FORMAT_VERSION = 4;

type Text = string;

interface SnapshotJson {
  readonly format: number;
  readonly time: number;
  readonly sequence: number;
  readonly quote: string;
  readonly assets: readonly {
    readonly config: Record<string, unknown>;
    readonly oraclePrice: Text;
    readonly stablePrice: Text;
    readonly pool: Record<keyof PoolState, Text | number>;
    /** The oracle's state, bigints as text; null for prices set directly. */
    readonly oracle: Record<string, unknown> | null;
  }[];
  readonly liquidationConfig: Record<string, unknown>;
  /** The throttle window: [window, global value, [[sub-account key, value], ...]], bigints as text. */
  readonly liquidationThrottle: [number, Text, [string, Text][]];
  readonly venueConfig: Record<string, unknown>;
  /** [account id, [[sub-account number, [[asset index, scaled balance], ...]], ...]] */
  /**
   * [account id, [[sub-account number, [[asset index, scaled balance], ...], book?], ...]]; a
   * book is [mode, unsettled, [[instrument, size, quote, funding], ...]].
   */
  readonly accounts: readonly [string, readonly SubAccountJson[]][];
  /** Volatility per asset index, millionths (format 4 on). */
  readonly volatilities?: readonly [number, Text][];
  /** Listed instruments (format 4 on). */
  readonly instruments?: readonly InstrumentJson[];
  /** Chains whose vaults hold collateral; absent when none is listed. */
  readonly chains?: readonly ChainJson[];
}

/** A chain: its record, pending withdrawals [nonce, account, sub, asset, amount, to, expiry]. */
interface ChainJson {
  readonly chain: string;
  readonly status: ChainStatus;
  readonly withdrawalTtl: number;
  readonly cursor: [number, number];
  readonly nextNonce: number;
  readonly pending: [number, string, number, number, Text, string, number][];
  readonly heldWeights: [number, Text][];
}

type BookJson = [MarginMode, Text, [number, Text, Text, Text][]];
type SubAccountJson = [number, [number, Text][]] | [number, [number, Text][], BookJson];

interface InstrumentJson {
  readonly listing: Record<string, unknown>;
  readonly underlying: number;
  readonly mark: Text;
  readonly oracle: Record<string, unknown> | null;
  readonly fundingIndex: Text;
  readonly fundingAt: number;
  readonly openInterest: Text;
  readonly settlementPrice: Text | null;
  readonly settled: boolean;
}

const POOL_FIELDS = [
  'cash',
  'supplyScaled',
  'borrowScaled',
  'treasuryScaled',
  'supplyIndexRay',
  'borrowIndexRay',
] as const;

/** The state as snapshot text. */
export function serializeState(state: EngineState): string {
  return serializeStateSorted(state, sortedAccountIds(state));
}

/** {@link serializeState}, given `ids`: `sortedAccountIds` of the state, already sorted. */
export function serializeStateSorted(state: EngineState, ids: readonly string[]): string {
  const snapshot: SnapshotJson = {
    format: SNAPSHOT_FORMAT_VERSION,
    time: state.time,
    sequence: state.sequence,
    quote: state.quote,
    assets: state.assets.map(({ config, risk, pool, oracle }) => ({
      config: JSON.parse(stringify(config)) as Record<string, unknown>,
      oraclePrice: risk.oraclePrice.toString(),
      stablePrice: risk.stablePrice.toString(),
      pool: {
        ...(Object.fromEntries(POOL_FIELDS.map((f) => [f, pool[f].toString()])) as Record<
          (typeof POOL_FIELDS)[number],
          Text
        >),
        accruedAt: pool.accruedAt,
      },
      oracle: oracle === null ? null : (JSON.parse(stringify(oracle)) as Record<string, unknown>),
    })),
    liquidationConfig: JSON.parse(stringify(state.liquidationConfig)) as Record<string, unknown>,
    liquidationThrottle: [
      state.liquidationThrottle.window,
      state.liquidationThrottle.globalValue.toString(),
      [...state.liquidationThrottle.accountValues]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, value]): [string, Text] => [key, value.toString()]),
    ],
    venueConfig: JSON.parse(stringify(state.venueConfig)) as Record<string, unknown>,
    accounts: ids.map((id) => {
      const account = state.accounts.get(id) as AccountState;
      return [id, account.subAccounts.map(subAccountJson)];
    }),
    volatilities: [...state.volatilities]
      .sort(([a], [b]) => a - b)
      .map(([asset, ppm]): [number, Text] => [asset, ppm.toString()]),
    instruments: state.instruments.map((i): InstrumentJson => ({
      listing: JSON.parse(stringify(i.listing)) as Record<string, unknown>,
      underlying: i.underlying,
      mark: i.mark.toString(),
      oracle:
        i.oracle === null ? null : (JSON.parse(stringify(i.oracle)) as Record<string, unknown>),
      fundingIndex: i.fundingIndex.toString(),
      fundingAt: i.fundingAt,
      openInterest: i.openInterest.toString(),
      settlementPrice: i.settlementPrice === null ? null : i.settlementPrice.toString(),
      settled: i.settled,
    })),
  };
  const chains = [...state.chains.values()].sort((a, b) => (a.chain < b.chain ? -1 : 1));
  if (chains.length === 0) return JSON.stringify(snapshot);
  return JSON.stringify({ ...snapshot, chains: chains.map(chainJson) });
}

function chainJson(chain: ChainState): ChainJson {
  return {
    chain: chain.chain,
    status: chain.status,
    withdrawalTtl: chain.withdrawalTtl,
    cursor: [chain.cursorBlock, chain.cursorLog],
    nextNonce: chain.nextNonce,
    pending: [...chain.pending.values()]
      .sort((a, b) => a.nonce - b.nonce)
      .map((p) => [
        p.nonce,
        p.account,
        p.subAccount,
        p.asset,
        p.amount.toString(),
        p.recipient,
        p.expiry,
      ]),
    heldWeights: [...chain.heldWeights]
      .sort(([a], [b]) => a - b)
      .map(([asset, weight]): [number, Text] => [asset, weight.toString()]),
  };
}

function chainFromJson(raw: ChainJson): ChainState {
  const pending = raw.pending.map(
    ([nonce, account, subAccount, asset, amount, recipient, expiry]): PendingWithdrawal => ({
      nonce,
      account,
      subAccount,
      asset,
      amount: BigInt(amount),
      recipient,
      expiry,
    }),
  );
  return {
    chain: raw.chain,
    status: raw.status,
    withdrawalTtl: raw.withdrawalTtl,
    cursorBlock: raw.cursor[0],
    cursorLog: raw.cursor[1],
    nextNonce: raw.nextNonce,
    pending: new Map(pending.map((p) => [p.nonce, p])),
    heldWeights: new Map(raw.heldWeights.map(([asset, weight]) => [asset, BigInt(weight)])),
  };
}

/** Snapshot text back as a state. Refuses text that is not a snapshot of this format. */
export function deserializeState(text: string): EngineState {
  let raw: SnapshotJson;
  try {
    raw = JSON.parse(text) as SnapshotJson;
  } catch {
    throw new FulcrumError('invalid_json', 'the snapshot is not valid JSON');
  }
  if (raw.format !== SNAPSHOT_FORMAT_VERSION) {
    throw new FulcrumError(
      'invalid_field',
      `snapshot format ${quoteInput(raw.format)}, not this Fulcrum's ${SNAPSHOT_FORMAT_VERSION}`,
    );
  }
  const assets: AssetState[] = raw.assets.map((entry, index) => {
    const config = configFromJson(entry.config);
    validateAssetConfig(config, `snapshot.assets.${index}.config`);
    const pool = Object.fromEntries(
      POOL_FIELDS.map((f) => [f, BigInt(entry.pool[f] as string)]),
    ) as Omit<PoolState, 'accruedAt'>;
    const oracle = entry.oracle === null ? null : oracleFromJson(entry.oracle);
    const prices = [BigInt(entry.oraclePrice), BigInt(entry.stablePrice)] as const;
    return {
      index,
      config,
      risk: assetRisk(config, ...prices, oracle?.confidence ?? 0n),
      pool: { ...pool, accruedAt: Number(entry.pool.accruedAt) },
      oracle,
    };
  });
  const accounts = new Map<string, AccountState>();
  for (const [id, subs] of raw.accounts) {
    const subAccounts: SubAccountState[] = subs.map(([number, positions, book]) => {
      const sub = {
        number,
        positions: positions.map(([asset, scaled]) => ({ asset, scaled: BigInt(scaled) })),
      };
      return book === undefined ? sub : { ...sub, derivatives: bookFromJson(book) };
    });
    accounts.set(id, { id, subAccounts });
  }
  const instruments = (raw.instruments ?? []).map((entry, index) =>
    instrumentFromJson(entry, index, assets.length),
  );
  const instrumentIndex = new Map(instruments.map((i) => [i.listing.spec.symbol, i.index]));
  const instrumentsByAsset = new Map<number, number[]>();
  for (const instrument of instruments) {
    const list = instrumentsByAsset.get(instrument.underlying) ?? [];
    list.push(instrument.index);
    instrumentsByAsset.set(instrument.underlying, list);
  }
  const assetIndex = new Map(assets.map((a) => [a.config.symbol, a.index]));
  assert(assetIndex.size === assets.length, 'snapshot lists an asset twice');
  return {
    time: raw.time,
    sequence: raw.sequence,
    quote: raw.quote,
    assets,
    assetIndex,
    accounts,
    liquidationConfig: liquidationConfigFromJson(raw.liquidationConfig),
    liquidationThrottle: {
      window: raw.liquidationThrottle[0],
      globalValue: BigInt(raw.liquidationThrottle[1]),
      accountValues: new Map(
        raw.liquidationThrottle[2].map(([key, value]) => [key, BigInt(value)]),
      ),
    },
    venueConfig: venueConfigFromJson(raw.venueConfig),
    instruments,
    instrumentIndex,
    instrumentsByAsset,
    volatilities: new Map((raw.volatilities ?? []).map(([asset, ppm]) => [asset, BigInt(ppm)])),
    chains: new Map((raw.chains ?? []).map((c) => [c.chain, chainFromJson(c)])),
  };
}

function liquidationConfigFromJson(raw: Record<string, unknown>): LiquidationConfig {
  const big = (v: unknown) => BigInt(v as string);
  const cap = (v: unknown) => (v === null ? null : big(v));
  const config: LiquidationConfig = {
    closeFactor: big(raw.closeFactor),
    fullCloseValue: big(raw.fullCloseValue),
    fullCloseHealth: big(raw.fullCloseHealth),
    dustValue: big(raw.dustValue),
    throttleWindowSeconds: raw.throttleWindowSeconds as number,
    accountCapValue: cap(raw.accountCapValue),
    globalCapValue: cap(raw.globalCapValue),
    backstopHealth: big(raw.backstopHealth),
    backstopDepthValue: big(raw.backstopDepthValue),
    backstopImpactMax: big(raw.backstopImpactMax),
  };
  validateLiquidationConfig(config, 'snapshot.liquidationConfig');
  return config;
}

function subAccountJson({ number, positions, derivatives }: SubAccountState): SubAccountJson {
  const balances = positions.map(({ asset, scaled }): [number, Text] => [asset, scaled.toString()]);
  if (derivatives === undefined) return [number, balances];
  return [
    number,
    balances,
    [
      derivatives.mode,
      derivatives.unsettled.toString(),
      derivatives.positions.map((p): [number, Text, Text, Text] => [
        p.instrument,
        p.size.toString(),
        p.quote.toString(),
        p.funding.toString(),
      ]),
    ],
  ];
}

function bookFromJson([mode, unsettled, positions]: BookJson): DerivativesBook {
  assert(
    mode === 'cross' || mode === 'isolated' || mode === 'portfolio',
    'snapshot: a margin mode',
  );
  return {
    mode,
    unsettled: BigInt(unsettled),
    positions: positions.map(([instrument, size, quote, funding]) => ({
      instrument,
      size: BigInt(size),
      quote: BigInt(quote),
      funding: BigInt(funding),
    })),
  };
}

function instrumentFromJson(entry: InstrumentJson, index: number, assets: number): InstrumentState {
  const raw = entry.listing;
  const big = (v: unknown) => BigInt(v as string);
  const weights = raw.profitWeight as Record<string, unknown>;
  const listing: InstrumentListing = {
    spec: raw.spec as InstrumentSpec,
    profitWeight: {
      initial: big(weights.initial),
      liquidationEnd: big(weights.liquidationEnd),
      maintenance: big(weights.maintenance),
    },
    liquidationPenalty: big(raw.liquidationPenalty),
    insuranceShare: big(raw.insuranceShare),
    oracle:
      raw.oracle === null ? null : oracleConfigFromJson(raw.oracle as Record<string, unknown>),
  };
  validateInstrumentListing(listing, `snapshot.instruments.${index}`);
  assert(entry.underlying >= 0 && entry.underlying < assets, 'snapshot: an underlying asset');
  return {
    index,
    listing,
    underlying: entry.underlying,
    mark: big(entry.mark),
    oracle: entry.oracle === null ? null : oracleFromJson(entry.oracle),
    fundingIndex: big(entry.fundingIndex),
    fundingAt: entry.fundingAt,
    openInterest: big(entry.openInterest),
    settlementPrice: entry.settlementPrice === null ? null : big(entry.settlementPrice),
    settled: entry.settled,
  };
}

function venueConfigFromJson(raw: Record<string, unknown>): VenueConfig {
  const config: VenueConfig = {
    timeJumpSecondsMax: raw.timeJumpSecondsMax as number,
    settlementAsset: raw.settlementAsset as string,
    tradeBand: BigInt(raw.tradeBand as string),
    profitCap: BigInt(raw.profitCap as string),
  };
  validateVenueConfig(config, 'snapshot.venueConfig');
  return config;
}

function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function configFromJson(raw: Record<string, unknown>): AssetConfig {
  const big = (v: unknown) => BigInt(v as string);
  const tiers = (v: unknown) => {
    const t = v as Record<string, unknown>;
    return {
      initial: big(t.initial),
      liquidationEnd: big(t.liquidationEnd),
      maintenance: big(t.maintenance),
    };
  };
  const curve = raw.interest as Record<string, unknown>;
  return {
    symbol: raw.symbol as string,
    decimals: raw.decimals as number,
    assetWeight: tiers(raw.assetWeight),
    liabilityWeight: tiers(raw.liabilityWeight),
    interest: {
      baseRateRay: big(curve.baseRateRay),
      slope1Ray: big(curve.slope1Ray),
      slope2Ray: big(curve.slope2Ray),
      optimalUtilizationRay: big(curve.optimalUtilizationRay),
    },
    reserveFactor: big(raw.reserveFactor),
    liquidationPenalty: big(raw.liquidationPenalty),
    insuranceShare: big(raw.insuranceShare),
    supplyCap: raw.supplyCap === null ? null : big(raw.supplyCap),
    borrowCap: raw.borrowCap === null ? null : big(raw.borrowCap),
    borrowable: raw.borrowable as boolean,
    oracle:
      raw.oracle === null ? null : oracleConfigFromJson(raw.oracle as Record<string, unknown>),
    ...(raw.location === undefined
      ? {}
      : { location: raw.location as { chain: string; asset: string } }),
  };
}

function oracleConfigFromJson(raw: Record<string, unknown>): OracleConfig {
  const big = (v: unknown) => BigInt(v as string);
  return {
    quorum: raw.quorum as number,
    maxStalenessSeconds: raw.maxStalenessSeconds as number,
    maxDeviationRay: big(raw.maxDeviationRay),
    maxSpreadRay: raw.maxSpreadRay === null ? null : big(raw.maxSpreadRay),
    maxUnchangedSeconds: raw.maxUnchangedSeconds as number,
    maxConfidenceRay: big(raw.maxConfidenceRay),
    confidenceWideningRay: big(raw.confidenceWideningRay),
    maxStableGapRay: big(raw.maxStableGapRay),
    stableRatePerSecondRay: big(raw.stableRatePerSecondRay),
    stableStepSecondsMax: raw.stableStepSecondsMax as number,
    delayIntervals: raw.delayIntervals as number,
    delayIntervalSeconds: raw.delayIntervalSeconds as number,
    delayGrowthMaxRay: big(raw.delayGrowthMaxRay),
    breakerMoveRay: big(raw.breakerMoveRay),
    breakerWindowSeconds: raw.breakerWindowSeconds as number,
    breakerCooldownSeconds: raw.breakerCooldownSeconds as number,
    policy: raw.policy as OracleConfig['policy'],
  };
}

function oracleFromJson(raw: Record<string, unknown>): OracleState {
  const big = (v: unknown) => BigInt(v as string);
  const quotes = raw.quotes as {
    source: string;
    price: string;
    confidence: string | null;
    observedAt: number;
    unchangedSince: number;
  }[];
  return {
    quotes: quotes.map((q) => ({
      source: q.source,
      price: big(q.price),
      confidence: q.confidence === null ? null : big(q.confidence),
      observedAt: q.observedAt,
      unchangedSince: q.unchangedSince,
    })),
    grade: raw.grade as Grade,
    price: big(raw.price),
    confidence: big(raw.confidence),
    freshUntil: raw.freshUntil as number,
    stablePrice: big(raw.stablePrice),
    volatilityReferencePrice: big(raw.volatilityReferencePrice),
    stableAt: raw.stableAt as number,
    delayPrices: (raw.delayPrices as string[]).map(big),
    delayInterval: raw.delayInterval as number,
    delaySum: big(raw.delaySum),
    delaySeconds: raw.delaySeconds as number,
    anchorPrice: big(raw.anchorPrice),
    anchorAt: raw.anchorAt as number,
    trippedAt: raw.trippedAt as number | null,
  };
}
