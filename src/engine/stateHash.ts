/**
 * A canonical text form of the whole state and its SHA-256. Two engines that applied the same
 * commands have the same hash, on any machine: everything is written in a fixed order (assets
 * by index, accounts by identifier in code-unit order, sub-accounts by number, positions by
 * asset) with exact integers only.
 */
import type { AssetConfig } from '../domain/asset.js';
import { sha256Hex } from '../math/sha256.js';
import type { AssetState, ChainState, EngineState } from './state.js';

/**
 * Version of the canonical form; a change of form must change this. 2 added the venue's rules;
 * 3 the oracle's agreement, frozen-source, delay-price and confidence-widening fields and state
 * (the delay window, and the volatility reference price beside the stable price).
 */
export const STATE_FORMAT_VERSION = 4;

/**
 * The state's account identifiers in code-unit order, the order its canonical text and its
 * snapshot text list accounts in (one sort can serve both: a million take about half a second).
 */
export function sortedAccountIds(state: EngineState): string[] {
  // The default order of `sort` is code-unit order, compared natively: faster than a comparator.
  return [...state.accounts.keys()].sort();
}

/** The canonical text of the state. */
export function canonicalState(state: EngineState): string {
  return canonicalStateSorted(state, sortedAccountIds(state));
}

/** {@link canonicalState}, given `ids`: {@link sortedAccountIds} of the state, already sorted. */
export function canonicalStateSorted(state: EngineState, ids: readonly string[]): string {
  const lines = [
    `fulcrum-state ${STATE_FORMAT_VERSION}`,
    `time ${state.time} sequence ${state.sequence} quote ${state.quote}`,
    `liquidation ${canonicalJson(state.liquidationConfig)}`,
    `venue ${canonicalJson(state.venueConfig)}`,
    `throttle ${state.liquidationThrottle.window} ${state.liquidationThrottle.globalValue} ${[
      ...state.liquidationThrottle.accountValues,
    ]
      .sort(([a], [b]) => compareCodeUnits(a, b))
      .map(([key, value]) => `${key}=${value}`)
      .join(' ')}`,
  ];
  for (const asset of state.assets) lines.push(assetLine(asset));
  for (const [asset, ppm] of [...state.volatilities].sort(([a], [b]) => a - b)) {
    lines.push(`volatility ${asset} ${ppm}`);
  }
  for (const instrument of state.instruments) {
    lines.push(`instrument ${instrument.index} ${canonicalJson(instrument)}`);
  }
  for (const chain of [...state.chains.values()].sort((a, b) =>
    compareCodeUnits(a.chain, b.chain),
  )) {
    lines.push(chainLine(chain));
  }
  for (const id of ids) {
    const account = state.accounts.get(id);
    if (account === undefined) continue;
    for (const { number, positions, derivatives } of account.subAccounts) {
      const held = positions.map((p) => `${p.asset}:${p.scaled}`).join(' ');
      lines.push(`account ${id} ${number} ${held}`);
      if (derivatives === undefined) continue;
      const open = derivatives.positions
        .map((p) => `${p.instrument}:${p.size}:${p.quote}:${p.funding}`)
        .join(' ');
      lines.push(`book ${derivatives.mode} ${derivatives.unsettled} ${open}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * SHA-256 of {@link canonicalState}, in hex.
 *
 * @example
 * stateHash(createState()); // same 64 hex digits on every machine
 */
export function stateHash(state: EngineState): string {
  return sha256Hex(canonicalState(state));
}

function assetLine({ index, config, risk, pool, oracle }: AssetState): string {
  return [
    `asset ${index} ${configText(config)}`,
    `price ${risk.oraclePrice} ${risk.stablePrice}`,
    `pool ${pool.cash} ${pool.supplyScaled} ${pool.borrowScaled} ${pool.treasuryScaled}`,
    `${pool.supplyIndexRay} ${pool.borrowIndexRay} ${pool.accruedAt}`,
    oracle === null ? 'oracle -' : `oracle ${canonicalJson(oracle)}`,
  ].join(' ');
}

function chainLine(c: ChainState): string {
  const pending = [...c.pending.values()]
    .sort((a, b) => a.nonce - b.nonce)
    .map(
      (p) =>
        `${p.nonce}:${p.account}:${p.subAccount}:${p.asset}:${p.amount}:${p.recipient}:${p.expiry}`,
    );
  const held = [...c.heldWeights].sort(([a], [b]) => a - b).map(([a, w]) => `${a}:${w}`);
  return [
    `chain ${c.chain} ${c.status} ttl ${c.withdrawalTtl} cursor ${c.cursorBlock} ${c.cursorLog}`,
    `nonce ${c.nextNonce} pending ${pending.join(' ')} held ${held.join(' ')}`,
  ].join(' ');
}

function configText(c: AssetConfig): string {
  const a = c.assetWeight;
  const l = c.liabilityWeight;
  const r = c.interest;
  return [
    c.symbol,
    c.decimals,
    `aw ${a.initial} ${a.liquidationEnd} ${a.maintenance}`,
    `lw ${l.initial} ${l.liquidationEnd} ${l.maintenance}`,
    `ir ${r.baseRateRay} ${r.slope1Ray} ${r.slope2Ray} ${r.optimalUtilizationRay}`,
    `rf ${c.reserveFactor} caps ${c.supplyCap ?? '-'} ${c.borrowCap ?? '-'} ${c.borrowable ? 1 : 0}`,
    `liq ${c.liquidationPenalty} ${c.insuranceShare}`,
    c.oracle === null ? 'no-oracle' : canonicalJson(c.oracle),
    ...(c.location === undefined ? [] : [`at ${c.location.chain} ${c.location.asset}`]),
  ].join(' ');
}

/** JSON with object keys sorted at every depth and bigints as text: one text per value. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const entries = Object.entries(v).sort(([a], [b]) => compareCodeUnits(a, b));
    return Object.fromEntries(entries);
  });
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
