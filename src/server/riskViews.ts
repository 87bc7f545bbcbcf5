/**
 * More of what the risk console reads, changing nothing: a heat map of the venue against price
 * moves (per asset and move, the sub-accounts below maintenance and the debt they owe, by the
 * same `shockOf` drafts as `POST /v1/what-if`, or past `whatIfScanMax` sub-accounts by the
 * liquidation monitor's estimate), the listing and venue parameters as they stand,
 * and the journal's history of the commands that set them.
 */
import { FulcrumError } from '../base/errors.js';
import { ATTRIBUTED_COMMANDS } from '../engine/commands.js';
import { Draft } from '../engine/draft.js';
import type { EngineState } from '../engine/state.js';
import type { LiquidationMonitor } from '../liquidation/monitor.js';
import { formatDecimal } from '../math/decimal.js';
import { HEALTH_DECIMALS, RAY_DECIMALS, VALUE_DECIMALS, WEIGHT_DECIMALS } from '../math/fixed.js';
import { recordIntact } from '../store/journal.js';
import { type JournalStore, StoreError } from '../store/store.js';
import { type Shock, shockOf } from './whatIf.js';

/** The heat map's moves, in percent, when none are asked for: -50% to +50% by tens. */
export const HEAT_MOVES = [-50, -40, -30, -20, -10, 0, 10, 20, 30, 40, 50] as const;
/** Most moves one heat map evaluates. */
export const HEAT_MOVES_MAX = 21;

export interface HeatCell {
  readonly move: number;
  /** Sub-accounts below maintenance after the move. */
  readonly liquidatable: number;
  /** What they owe in full (unweighted liabilities), in the quote unit. */
  readonly debtValue: string;
}

export interface HeatMap {
  readonly time: number;
  readonly sequence: number;
  readonly subAccounts: number;
  /**
   * True when the cells are the liquidation monitor's estimate (past `whatIfScanMax`
   * sub-accounts): counts by its float model, confirmed exactly near the threshold, and the debt
   * a float sum to the cent; false when every sub-account was evaluated exactly.
   */
  readonly estimate: boolean;
  readonly moves: readonly number[];
  readonly assets: readonly { asset: string; cells: readonly HeatCell[] }[];
}

/**
 * Every sub-account; past `scanMax` (each exact cell evaluates each one) refused without a
 * monitor to estimate from.
 */
function countSubAccounts(state: EngineState, scanMax: number, estimable: boolean): number {
  let count = 0;
  for (const account of state.accounts.values()) count += account.subAccounts.length;
  if (count > scanMax && !estimable) {
    throw new FulcrumError(
      'limit_exceeded',
      `the venue holds ${count} sub-accounts, more than the ${scanMax} a heat map evaluates (whatIfScanMax)`,
      'moves',
    );
  }
  return count;
}

/**
 * For each asset and each move (percent), how many sub-accounts the move alone would leave
 * below maintenance and the debt they owe: assets × moves × sub-accounts exact health reads, or
 * past `scanMax` sub-accounts, with `monitor` (which must follow `state`), its estimate
 * ({@link LiquidationMonitor.stressEstimate}: one pass over each asset's holders per move).
 */
export function heatMap(
  state: EngineState,
  moves: readonly number[],
  scanMax: number,
  monitor?: LiquidationMonitor,
): HeatMap {
  const subAccounts = countSubAccounts(state, scanMax, monitor !== undefined);
  if (subAccounts > scanMax && monitor !== undefined) {
    return estimatedHeatMap(state, moves, subAccounts, monitor);
  }
  const refs = [...state.accounts.values()].flatMap((account) =>
    account.subAccounts.map((sub) => ({ account: account.id, subAccount: sub.number })),
  );
  const assets = state.assets.map(({ config }) => {
    const cells = moves.map((move): HeatCell => {
      const shock: Shock = { asset: config.symbol, move: (move / 100).toFixed(4) };
      const apply = shockOf(state, shock);
      let liquidatable = 0;
      let debt = 0n;
      for (const ref of refs) {
        // A draft per sub-account: a draft remembers what it reads.
        const snapshot = apply(new Draft(state, state.time)).health(ref);
        if (snapshot.meets('maintenance')) continue;
        liquidatable++;
        debt += snapshot.liabilityValue;
      }
      return { move, liquidatable, debtValue: formatDecimal(debt, VALUE_DECIMALS) };
    });
    return { asset: config.symbol, cells };
  });
  return {
    time: state.time,
    sequence: state.sequence,
    subAccounts,
    estimate: false,
    moves,
    assets,
  };
}

/** The heat map by the monitor's estimate: per asset, one pass over its holders per move. */
function estimatedHeatMap(
  state: EngineState,
  moves: readonly number[],
  subAccounts: number,
  monitor: LiquidationMonitor,
): HeatMap {
  const relative = moves.map((move) => move / 100);
  const assets = state.assets.map(({ config, index }) => {
    const cells = monitor.stressEstimate(index, relative).map((cell, i): HeatCell => ({
      move: moves[i] as number,
      liquidatable: cell.liquidatable,
      debtValue: formatDecimal(BigInt(Math.round(cell.debtValue * 100)), 2),
    }));
    return { asset: config.symbol, cells };
  });
  return { time: state.time, sequence: state.sequence, subAccounts, estimate: true, moves, assets };
}

/** One heat map kept per journal position and moves: a second look at the same state is free. */
export class HeatMapCache {
  private key = '';
  private value: HeatMap | null = null;

  get(
    state: EngineState,
    moves: readonly number[],
    scanMax: number,
    monitor?: LiquidationMonitor,
  ): HeatMap {
    const key = `${state.sequence}:${state.time}:${moves.join(',')}`;
    if (this.value === null || key !== this.key) {
      this.value = heatMap(state, moves, scanMax, monitor);
      this.key = key;
    }
    return this.value;
  }
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * A configuration as JSON for people: `…Ray` fields as decimals (named without the suffix),
 * weights and shares (`weightFields`), `…Value` (quote) and `…Health` fields as decimals,
 * other integers in their stored units.
 */
function readable(value: unknown, weightFields: ReadonlySet<string>, field = ''): Json {
  if (typeof value === 'bigint') {
    if (field.endsWith('Ray')) return formatDecimal(value, RAY_DECIMALS);
    if (weightFields.has(field)) return formatDecimal(value, WEIGHT_DECIMALS);
    if (field.endsWith('Value')) return formatDecimal(value, VALUE_DECIMALS);
    if (field.endsWith('Health')) return formatDecimal(value, HEALTH_DECIMALS);
    return value.toString();
  }
  if (Array.isArray(value)) return value.map((item) => readable(item, weightFields, field));
  if (value instanceof Map) return readable(Object.fromEntries(value), weightFields, field);
  if (typeof value === 'object' && value !== null) {
    const out: { [key: string]: Json } = {};
    for (const [key, inner] of Object.entries(value)) {
      const name = key.endsWith('Ray') ? key.slice(0, -3) : key;
      const weight = weightFields.has(field) ? field : key;
      out[name] = readable(inner, weightFields, key.endsWith('Ray') ? key : weight);
    }
    return out;
  }
  return value as Json;
}

const ASSET_WEIGHTS = new Set([
  'assetWeight',
  'liabilityWeight',
  'reserveFactor',
  'liquidationPenalty',
  'insuranceShare',
]);

/** The parameters in force: each listing's, each instrument's, the liquidation and venue rules. */
export function parameters(state: EngineState) {
  const assets = state.assets.map(({ config }) => {
    const scale = (cap: bigint | null) =>
      cap === null ? null : formatDecimal(cap, config.decimals);
    const volatility = state.volatilities.get(state.assetIndex.get(config.symbol) ?? -1);
    return {
      ...(readable(config, ASSET_WEIGHTS) as Record<string, Json>),
      supplyCap: scale(config.supplyCap),
      borrowCap: scale(config.borrowCap),
      volatility: volatility === undefined ? null : formatDecimal(volatility, 6),
    };
  });
  const none = new Set<string>();
  const rules = new Set(['closeFactor', 'backstopImpactMax', 'tradeBand', 'profitCap']);
  return {
    time: state.time,
    sequence: state.sequence,
    quote: state.quote,
    assets,
    instruments: state.instruments.map((i) => readable(i.listing, none)),
    liquidation: readable(state.liquidationConfig, rules),
    venue: readable(state.venueConfig, rules),
  };
}

/** The commands that set parameters: listings, weights, rules, volatilities and chains. */
export const PARAMETER_COMMANDS: ReadonlySet<string> = ATTRIBUTED_COMMANDS;

/** Journal records one parameter-history page reads at most (it may end short of `limit`). */
export const PARAMETER_SCAN_MAX = 50_000;
const SCAN_CHUNK = 2_000;

export interface ParameterChange {
  readonly seq: number;
  readonly time: number;
  readonly type: string;
  readonly outcome: string;
  /** Who sent it: the key's id the service journaled; null when it named nobody. */
  readonly by: string | null;
  readonly command: unknown;
}

/**
 * The parameter commands journaled after position `after`, oldest first, at most `limit`; a
 * page reads at most {@link PARAMETER_SCAN_MAX} records (`next` then says where to go on, even
 * with fewer than `limit` items). A command's type is matched in its stored text before parse.
 */
export async function parameterHistory(
  store: JournalStore,
  after: number,
  limit: number,
): Promise<{ items: ParameterChange[]; next: number | null; scannedTo: number }> {
  const items: ParameterChange[] = [];
  let position = after;
  let scanned = 0;
  while (items.length < limit && scanned < PARAMETER_SCAN_MAX) {
    const records = await store.readRecords(position, SCAN_CHUNK);
    for (const record of records) {
      position = record.seq;
      scanned++;
      const type = /^\{"type":"([a-z-]+)"/.exec(record.command)?.[1] ?? '';
      if (!PARAMETER_COMMANDS.has(type)) continue;
      if (!recordIntact(record)) {
        throw new StoreError('store_corrupt', `journal record ${record.seq} is damaged`);
      }
      const { seq, time, outcome } = record;
      const command = JSON.parse(record.command) as { by?: unknown };
      const by = typeof command.by === 'string' ? command.by : null;
      items.push({ seq, time, type, outcome, by, command });
      if (items.length === limit) break;
    }
    if (records.length < SCAN_CHUNK && items.length < limit) {
      return { items, next: null, scannedTo: position };
    }
  }
  return { items, next: position, scannedTo: position };
}
