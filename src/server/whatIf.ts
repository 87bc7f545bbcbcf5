/**
 * What-ifs against the current state, changing nothing: a command's dry run (the engine's own
 * `dryRun`: its result, and the health of the sub-accounts it would touch), a price shock
 * ("what if ETH falls 20%?"): the asset's oracle and stable prices, its copies' held on other
 * chains, and the marks of the instruments on it, moved by the same fraction in a draft that is
 * never committed, and health read from that draft as the engine reads it; or a derivatives
 * position closed at its mark.
 */
import { FulcrumError } from '../base/errors.js';
import { dryRun } from '../engine/apply.js';
import type { Command } from '../engine/commands.js';
import { Draft } from '../engine/draft.js';
import { unweighted } from '../engine/portfolio.js';
import { renderResult } from '../engine/render.js';
import type { EngineState, SubAccountRef } from '../engine/state.js';
import { assetRisk } from '../margin/assetRisk.js';
import type { HealthSnapshot } from '../margin/health.js';
import { healthReport, renderHealthReport } from '../margin/report.js';
import { formatDecimal, parseDecimal } from '../math/decimal.js';
import { HEALTH_DECIMALS, PRICE_DECIMALS, VALUE_DECIMALS } from '../math/fixed.js';
import { SIZE_DECIMALS } from '../derivatives/instruments.js';
import { RATE_SCALE } from '../derivatives/position.js';
import { settleAll } from '../engine/settlement.js';
import { fill } from '../engine/trading.js';
import { compareRefs } from './liquidatable.js';

/** Moves are read to 18 decimals: -0.2 is a fall of 20%. */
const MOVE_DECIMALS = 18;
const ONE = 10n ** BigInt(MOVE_DECIMALS);

/** Most newly liquidatable sub-accounts a venue-wide shock lists. */
export const SHOCK_LIST_MAX = 100;

export interface Shock {
  readonly asset: string;
  /** The move as a signed fraction, above -1 and at most 10 ("-0.2": 20% down). */
  readonly move: string;
}

/** A health snapshot's figures as JSON. */
export function renderSnapshot(snapshot: HealthSnapshot) {
  const factor = (tier: 'initial' | 'liquidationEnd' | 'maintenance') => {
    const value = snapshot.healthFactor(tier);
    return value === null ? null : formatDecimal(value, HEALTH_DECIMALS);
  };
  return {
    healthFactor: factor('maintenance'),
    initialHealthFactor: factor('initial'),
    liquidationEndHealthFactor: factor('liquidationEnd'),
    liquidatable: !snapshot.meets('maintenance'),
    belowInitial: !snapshot.meets('initial'),
    collateralValue: formatDecimal(snapshot.collateralValue, VALUE_DECIMALS),
    liabilityValue: formatDecimal(snapshot.liabilityValue, VALUE_DECIMALS),
  };
}

/**
 * A command's dry run: its result as `POST /v1/commands` would answer it, and, when accepted,
 * the health each sub-account it touches would have (those `mayRead` allows).
 */
export function commandWhatIf(
  state: EngineState,
  command: Command,
  mayRead: (account: string) => boolean,
) {
  const { result, draft } = dryRun(state, command);
  const health =
    result.ok && draft !== undefined
      ? result.touched
          .filter((ref) => mayRead(ref.account))
          .map((ref) => ({ ...ref, ...renderSnapshot(draft.health(ref)) }))
      : [];
  return { result: renderResult(result), health };
}

/**
 * What `shock` changes, checked once: a function that writes it into a draft of `state` (never
 * committed). Refused (`invalid_number`, `unknown_asset`) when the shock is malformed.
 */
export function shockOf(state: EngineState, shock: Shock): (draft: Draft) => Draft {
  const move = parseDecimal(shock.move, MOVE_DECIMALS, {
    field: 'shock.move',
    signed: true,
    min: -ONE + 1n,
    max: 10n * ONE,
  });
  const asset = new Draft(state, state.time).findAsset(shock.asset, 'shock.asset');
  const moved = (price: bigint) => {
    const next = (price * (ONE + move)) / ONE;
    return next > 0n ? next : 1n;
  };
  const { risk } = asset;
  const shockedAsset = {
    ...asset,
    risk: assetRisk(
      asset.config,
      moved(risk.oraclePrice),
      moved(risk.stablePrice),
      risk.confidence,
    ),
  };
  // The same asset held in chains' vaults moves with it (chains.ts).
  const copies = state.assets
    .filter((a) => a.config.location?.asset === asset.config.symbol)
    .map((a) => ({
      ...a,
      risk: assetRisk(a.config, moved(a.risk.oraclePrice), moved(a.risk.stablePrice)),
    }));
  const instruments = (state.instrumentsByAsset.get(asset.index) ?? []).map((index) => {
    const instrument = state.instruments[index];
    if (instrument === undefined) throw new Error(`instrument ${index} is not listed`);
    return { ...instrument, mark: moved(instrument.mark) };
  });
  return (draft) => {
    draft.setAsset(shockedAsset);
    for (const copy of copies) draft.setAsset(copy);
    for (const instrument of instruments) draft.setInstrument(instrument);
    return draft;
  };
}

/**
 * "What if I close it?": the sub-account's position in `instrument` closed by a fill at the
 * mark, without fees (the fill is the venue's matching engine's; this is the price the engine
 * values it at), its profit or loss settled into the settlement asset as a fill settles: the
 * full report before and after, read from a draft that is never committed.
 */
export function closeWhatIf(state: EngineState, ref: SubAccountRef, symbol: string) {
  const draft = new Draft(state, state.time);
  const instrument = draft.findInstrument(symbol, 'close.instrument');
  const position = draft
    .subAccount(ref)
    .derivatives?.positions.find((p) => p.instrument === instrument.index);
  if (position === undefined) {
    const message = `${ref.account}/${ref.subAccount} holds no ${symbol} position`;
    throw new FulcrumError('no_position', message, 'close.instrument');
  }
  if (instrument.settled) {
    throw new FulcrumError('instrument_expired', `${symbol} has settled`, 'close.instrument');
  }
  const before = fullReport(new Draft(state, state.time), ref);
  const size = -position.size;
  fill(draft, ref, instrument, size, -size * instrument.mark * RATE_SCALE, 'close.instrument');
  settleAll(draft, [ref]);
  return {
    account: ref.account,
    subAccount: ref.subAccount,
    close: {
      instrument: symbol,
      size: formatDecimal(position.size, SIZE_DECIMALS),
      mark: formatDecimal(instrument.mark, PRICE_DECIMALS),
    },
    before,
    after: fullReport(draft, ref),
  };
}

/** One sub-account's full report before and after `shock`. */
export function subAccountShock(state: EngineState, ref: SubAccountRef, shock: Shock) {
  const apply = shockOf(state, shock);
  const before = new Draft(state, state.time);
  const after = apply(new Draft(state, state.time));
  return {
    account: ref.account,
    subAccount: ref.subAccount,
    shock,
    before: fullReport(before, ref),
    after: fullReport(after, ref),
  };
}

/** The health report of `ref` as `draft` sees it (margin figures, not narrowed by pool cash). */
function fullReport(draft: Draft, ref: SubAccountRef) {
  const sub = draft.subAccount(ref);
  const book = sub.derivatives;
  const positions = draft
    .positions(ref)
    .map((p) => (book?.mode === 'portfolio' ? { ...p, risk: unweighted(p.risk) } : p));
  const report = healthReport(
    positions,
    book === undefined ? null : draft.extraMargin(book, sub.positions),
  );
  return renderHealthReport(report);
}

/**
 * Every sub-account under `shock`: how many are liquidatable before and after, and the first
 * {@link SHOCK_LIST_MAX} that the shock would make liquidatable. Refused when the venue holds
 * more than `scanMax` sub-accounts (each is evaluated exactly).
 */
export function venueShock(
  state: EngineState,
  shock: Shock,
  isLiquidatable: (ref: SubAccountRef) => boolean,
  scanMax: number,
) {
  let count = 0;
  for (const account of state.accounts.values()) count += account.subAccounts.length;
  if (count > scanMax) {
    throw new FulcrumError(
      'limit_exceeded',
      `the venue holds ${count} sub-accounts, more than the ${scanMax} a venue-wide shock evaluates; name an account`,
      'shock',
    );
  }
  const apply = shockOf(state, shock);
  let before = 0;
  let after = 0;
  const newly: { account: string; subAccount: number; healthFactor: string | null }[] = [];
  for (const account of state.accounts.values()) {
    for (const sub of account.subAccounts) {
      const ref = { account: account.id, subAccount: sub.number };
      const was = isLiquidatable(ref);
      // A draft per account: a draft remembers what it reads.
      const snapshot = apply(new Draft(state, state.time)).health(ref);
      const is = !snapshot.meets('maintenance');
      if (was) before++;
      if (is) after++;
      if (is && !was) {
        const health = snapshot.healthFactor('maintenance');
        newly.push({
          ...ref,
          healthFactor: health === null ? null : formatDecimal(health, HEALTH_DECIMALS),
        });
      }
    }
  }
  newly.sort(compareRefs);
  return {
    shock,
    subAccounts: count,
    liquidatableBefore: before,
    liquidatableAfter: after,
    newlyLiquidatable: newly.slice(0, SHOCK_LIST_MAX),
    newlyLiquidatableCount: newly.length,
  };
}
