/**
 * What the browser console reads about the whole venue, computed from the engine state and the
 * liquidation monitor, changing nothing: the venue's totals, the sub-accounts nearest
 * liquidation (a bounded selection over the monitor's float health estimates, never a sort of
 * every account), and a stress test (several price moves at once, the same `shockOf` drafts as
 * `POST /v1/what-if`): who falls, the debt they owe and the bad debt left.
 */
import { FulcrumError } from '../base/errors.js';
import { Draft } from '../engine/draft.js';
import { type EngineState, INSURANCE_ACCOUNT, type SubAccountRef } from '../engine/state.js';
import type { LiquidationMonitor } from '../liquidation/monitor.js';
import type { HealthSnapshot } from '../margin/health.js';
import { formatDecimal } from '../math/decimal.js';
import { HEALTH_DECIMALS, PRICE_DECIMALS, VALUE_DECIMALS } from '../math/fixed.js';
import { SIZE_DECIMALS } from '../derivatives/instruments.js';
import { totalDebt, totalSupply } from '../pools/pool.js';
import { type Shock, shockOf } from './whatIf.js';

/** Most sub-accounts whose shortfall the venue totals add up (the liquidatable ones). */
export const BAD_DEBT_SCAN_MAX = 10_000;
/** Most sub-accounts a stress test lists. */
export const STRESS_LIST_MAX = 100;
/** Most moves one stress test applies. */
export const STRESS_MOVES_MAX = 16;

const value = (v: bigint) => formatDecimal(v, VALUE_DECIMALS);
const health = (v: bigint | null) => (v === null ? null : formatDecimal(v, HEALTH_DECIMALS));

/** Unweighted liabilities beyond unweighted collateral: what a sub-account cannot pay. */
function shortfall(snapshot: HealthSnapshot): bigint {
  const gap = snapshot.liabilityValue - snapshot.collateralValue;
  return gap > 0n ? gap : 0n;
}

/**
 * The venue's totals: supplied and borrowed value over every pool, open interest at the marks,
 * the insurance fund's net value, and the bad debt outstanding (the shortfall of liquidatable
 * sub-accounts: one that is not liquidatable has collateral above its debts), bounded by
 * {@link BAD_DEBT_SCAN_MAX} sub-accounts (`badDebtComplete` false past it).
 */
export function venueTotals(state: EngineState, monitor: LiquidationMonitor) {
  let supplied = 0n;
  let borrowed = 0n;
  const assets = state.assets.map(({ config, pool, risk }) => {
    const scale = 10n ** BigInt(config.decimals);
    const s = (totalSupply(pool) * risk.oraclePrice) / scale;
    const b = (totalDebt(pool) * risk.oraclePrice) / scale;
    supplied += s;
    borrowed += b;
    const price = (v: bigint) => formatDecimal(v, PRICE_DECIMALS);
    return { asset: config.symbol, suppliedValue: price(s), borrowedValue: price(b) };
  });
  let openInterest = 0n;
  for (const instrument of state.instruments) {
    openInterest += (instrument.openInterest * instrument.mark) / 10n ** BigInt(SIZE_DECIMALS);
  }
  const draft = new Draft(state, state.time);
  const fund = draft.health({ account: INSURANCE_ACCOUNT, subAccount: 0 });
  const liquidatable = monitor.liquidatable();
  let badDebt = 0n;
  for (const ref of liquidatable.slice(0, BAD_DEBT_SCAN_MAX)) {
    badDebt += shortfall(new Draft(state, state.time).health(ref));
  }
  return {
    time: state.time,
    subAccounts: monitor.size,
    liquidatable: monitor.count,
    collateralValue: formatDecimal(supplied, PRICE_DECIMALS),
    debtValue: formatDecimal(borrowed, PRICE_DECIMALS),
    openInterestValue: formatDecimal(openInterest, PRICE_DECIMALS),
    insuranceFundValue: value(fund.collateralValue - fund.liabilityValue),
    badDebtValue: value(badDebt),
    badDebtComplete: liquidatable.length <= BAD_DEBT_SCAN_MAX,
    assets,
  };
}

/** Where a near-liquidation page starts: after this estimate and slot. */
export interface NearCursor {
  readonly estimate: number;
  readonly slot: number;
}

const before = (a: NearCursor, b: NearCursor) =>
  a.estimate < b.estimate || (a.estimate === b.estimate && a.slot < b.slot);

/**
 * The `limit` sub-accounts with debt whose estimated maintenance health is lowest, after
 * `after`: one pass over the monitor's slots (a few float reads each) keeping the best
 * `limit + 1` in a bounded max-heap, O(n log limit); then each listed sub-account's exact health.
 */
export function nearLiquidation(
  state: EngineState,
  monitor: LiquidationMonitor,
  after: NearCursor | null,
  limit: number,
) {
  const heap: NearCursor[] = [];
  let withDebt = 0;
  for (let slot = 0; slot < monitor.size; slot++) {
    const estimate = monitor.healthEstimate(slot);
    if (estimate === Number.POSITIVE_INFINITY) continue;
    withDebt++;
    const entry = { estimate, slot };
    if (after !== null && !before(after, entry)) continue;
    if (heap.length <= limit) heapPush(heap, entry);
    else if (before(entry, heap[0] as NearCursor)) heapReplaceTop(heap, entry);
  }
  const sorted = heap.sort((a, b) => (before(a, b) ? -1 : 1));
  const page = sorted.slice(0, limit);
  const last = page.at(-1);
  return {
    time: state.time,
    total: withDebt,
    items: page.map(({ slot, estimate }) => nearEntry(state, monitor.refOfSlot(slot), estimate)),
    next: sorted.length > limit && last !== undefined ? last : null,
  };
}

function nearEntry(state: EngineState, ref: SubAccountRef, estimate: number) {
  const snapshot = new Draft(state, state.time).health(ref);
  return {
    account: ref.account,
    subAccount: ref.subAccount,
    estimate,
    healthFactor: health(snapshot.healthFactor('maintenance')),
    initialHealthFactor: health(snapshot.healthFactor('initial')),
    liquidatable: !snapshot.meets('maintenance'),
    collateralValue: value(snapshot.collateralValue),
    liabilityValue: value(snapshot.liabilityValue),
  };
}

/** A max-heap on {@link before}: the root is the entry that sorts last. */
function heapPush(heap: NearCursor[], entry: NearCursor): void {
  heap.push(entry);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[parent] as NearCursor, heap[i] as NearCursor)) break;
    [heap[parent], heap[i]] = [heap[i] as NearCursor, heap[parent] as NearCursor];
    i = parent;
  }
}

function heapReplaceTop(heap: NearCursor[], entry: NearCursor): void {
  heap[0] = entry;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let top = i;
    if (l < heap.length && before(heap[top] as NearCursor, heap[l] as NearCursor)) top = l;
    if (r < heap.length && before(heap[top] as NearCursor, heap[r] as NearCursor)) top = r;
    if (top === i) return;
    [heap[top], heap[i]] = [heap[i] as NearCursor, heap[top] as NearCursor];
    i = top;
  }
}

interface Fallen {
  readonly account: string;
  readonly subAccount: number;
  readonly healthBefore: string | null;
  readonly healthAfter: string | null;
  readonly liabilityValue: string;
  readonly shortfallValue: string;
  readonly order: bigint;
}

/**
 * Every sub-account under all `moves` at once (each asset moved as `POST /v1/what-if` moves it):
 * how many are liquidatable before and after, the debt the liquidatable ones owe (the most
 * liquidations could repay), the bad debt (shortfall) before and after, and the
 * {@link STRESS_LIST_MAX} sub-accounts the moves make liquidatable, lowest health first. Refused
 * past `scanMax` sub-accounts, like the venue-wide what-if.
 */
export function stressTest(
  state: EngineState,
  monitor: LiquidationMonitor,
  moves: readonly Shock[],
  scanMax: number,
) {
  if (monitor.size > scanMax) {
    throw new FulcrumError(
      'limit_exceeded',
      `the venue holds ${monitor.size} sub-accounts, more than the ${scanMax} a stress test evaluates`,
      'moves',
    );
  }
  const shocks = moves.map((move) => shockOf(state, move));
  const shocked = () => shocks.reduce((draft, apply) => apply(draft), new Draft(state, state.time));
  const totals = { before: 0, after: 0, debtAfter: 0n, badDebtBefore: 0n, badDebtAfter: 0n };
  const fallen: Fallen[] = [];
  for (let slot = 0; slot < monitor.size; slot++) {
    const ref = monitor.refOfSlot(slot);
    const was = monitor.isLiquidatable(ref);
    const now = shocked().health(ref);
    const is = !now.meets('maintenance');
    if (was) {
      totals.before++;
      totals.badDebtBefore += shortfall(new Draft(state, state.time).health(ref));
    }
    if (!is) continue;
    totals.after++;
    totals.debtAfter += now.liabilityValue;
    totals.badDebtAfter += shortfall(now);
    if (was) continue;
    const then = new Draft(state, state.time).health(ref).healthFactor('maintenance');
    const after = now.healthFactor('maintenance');
    fallen.push({
      ...ref,
      healthBefore: health(then),
      healthAfter: health(after),
      liabilityValue: value(now.liabilityValue),
      shortfallValue: value(shortfall(now)),
      order: after ?? 0n,
    });
  }
  fallen.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  return {
    time: state.time,
    moves,
    subAccounts: monitor.size,
    liquidatableBefore: totals.before,
    liquidatableAfter: totals.after,
    liquidatableDebtValue: value(totals.debtAfter),
    badDebtBeforeValue: value(totals.badDebtBefore),
    badDebtAfterValue: value(totals.badDebtAfter),
    newlyLiquidatableCount: fallen.length,
    newlyLiquidatable: fallen.slice(0, STRESS_LIST_MAX).map(({ order, ...rest }) => rest),
  };
}
