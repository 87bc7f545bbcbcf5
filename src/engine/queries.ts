/**
 * Read-only questions about the state: a sub-account's health report narrowed by what the pools
 * can give, and each pool's figures. Interest is projected to the asked time without changing
 * the state.
 */

import type { Position } from '../margin/health.js';
import { type DerivativeLine, type HealthReport, healthReport } from '../margin/report.js';
import { SIZE_DECIMALS } from '../derivatives/instruments.js';
import { positionValue, RATE_SCALE, VALUE_UNIT } from '../derivatives/position.js';
import { standardRequirement } from '../derivatives/requirement.js';
import { gradeAllows, type Grade } from '../domain/priceGrade.js';
import { formatDecimal } from '../math/decimal.js';
import { gradeAt } from '../oracle/oracle.js';
import {
  minBig,
  PRICE_DECIMALS,
  PRICE_SCALE,
  RAY_DECIMALS,
  VALUE_DECIMALS,
  VALUE_SCALE,
} from '../math/fixed.js';
import { borrowRateAnnualRay, supplyRateAnnualRay } from '../pools/interestRateCurve.js';
import {
  poolUtilizationRay,
  scaledCreditForDeposit,
  scaledDebtForBorrow,
  supplyAmount,
  totalDebt,
  totalSupply,
} from '../pools/pool.js';
import { dryRun } from './apply.js';
import { Draft } from './draft.js';
import { unweighted } from './portfolio.js';
import { scaledBalance } from './positions.js';
import type { DerivativesBook, EngineState, ScaledPosition, SubAccountRef } from './state.js';

/**
 * Health report of one sub-account at `time` (default: the state's time). Lists every asset, so
 * that `maxBorrow` answers for assets not yet held. `maxBorrow` and `maxWithdraw` are what the
 * engine would accept: the margin figures are an upper bound (a command moves scaled balances,
 * which round against the user by up to a unit), narrowed by pool cash and the borrow cap, then
 * confirmed with dry runs of the very commands.
 */
export function subAccountReport(
  state: EngineState,
  ref: SubAccountRef,
  time: number = state.time,
): HealthReport {
  const at = Math.max(time, state.time);
  const draft = new Draft(state, at);
  const sub = draft.subAccount(ref);
  const positions: Position[] = state.assets.map((asset) => {
    const amount = draft.amountOf(asset.index, scaledBalance(sub, asset.index));
    return { risk: asset.risk, amount };
  });
  const book = sub.derivatives;
  const report = {
    ...healthReport(
      book?.mode === 'portfolio'
        ? positions.map((p) => ({ ...p, risk: unweighted(p.risk) }))
        : positions,
      book === undefined ? null : draft.extraMargin(book, sub.positions),
    ),
    ...(book === undefined ? {} : { derivatives: derivativesReport(draft, book) }),
  };
  const narrowed = report.positions.map((position, index) => {
    const asset = state.assets[index];
    if (asset === undefined) return position;
    const pool = draft.currentPool(index);
    const capRoom =
      asset.config.borrowCap === null ? pool.cash : asset.config.borrowCap - totalDebt(pool);
    const borrowBound = asset.config.borrowable
      ? minBig(position.maxBorrow, minBig(pool.cash, capRoom > 0n ? capRoom : 0n))
      : 0n;
    const withdrawBound = minBig(position.maxWithdraw, pool.cash);
    const accepts = (type: 'borrow' | 'withdraw') => (amount: bigint) =>
      dryRun(state, { type, time: at, ...ref, asset: asset.config.symbol, amount }).result.ok;
    return {
      ...position,
      maxBorrow: largestAccepted(borrowBound, accepts('borrow')),
      maxWithdraw: largestAccepted(withdrawBound, accepts('withdraw')),
    };
  });
  return { ...report, positions: narrowed };
}

/**
 * The health report of a holding no account holds, at the state's prices and time: `amounts`
 * are signed balances per asset index (base units; negative owed), `book` its derivatives (its
 * positions' instruments listed in the state). Health as the engine computes it for a
 * sub-account holding exactly these; `maxBorrow` and `maxWithdraw` are the margin's figures, not
 * narrowed by what the pools hold. What `fulcrum health` reports for a portfolio file.
 */
export function holdingReport(
  state: EngineState,
  amounts: readonly bigint[],
  book: DerivativesBook | undefined,
): HealthReport {
  const draft = new Draft(state, state.time);
  const portfolio = book?.mode === 'portfolio';
  const positions: Position[] = state.assets.map((asset) => {
    const amount = amounts[asset.index] ?? 0n;
    return { risk: portfolio ? unweighted(asset.risk) : asset.risk, amount };
  });
  const balances: ScaledPosition[] = [];
  for (const asset of state.assets) {
    const amount = amounts[asset.index] ?? 0n;
    if (amount === 0n) continue;
    const pool = draft.currentPool(asset.index);
    const scaled =
      amount > 0n ? scaledCreditForDeposit(amount, pool) : -scaledDebtForBorrow(-amount, pool);
    balances.push({ asset: asset.index, scaled });
  }
  if (book === undefined) return healthReport(positions);
  return {
    ...healthReport(positions, draft.extraMargin(book, balances)),
    derivatives: derivativesReport(draft, book),
  };
}

/** A book's positions as the report shows them, in the quote unit. */
function derivativesReport(draft: Draft, book: DerivativesBook) {
  const quote = (numerator: bigint) => formatDecimal(numerator / QUOTE_TO_VALUE, VALUE_DECIMALS);
  return {
    mode: book.mode,
    unsettled: quote(book.unsettled),
    positions: book.positions.map((position): DerivativeLine => {
      const prices = draft.instrumentPrices(position.instrument);
      const requirement = standardRequirement(
        prices.spec,
        prices.mark,
        prices.index,
        position.size,
      );
      return {
        instrument: prices.spec.symbol,
        size: formatDecimal(position.size, SIZE_DECIMALS),
        entryPrice: formatDecimal(
          (-position.quote * PRICE_SCALE) / (position.size * PRICE_SCALE * RATE_SCALE),
          PRICE_DECIMALS,
        ),
        mark: formatDecimal(prices.mark, PRICE_DECIMALS),
        unrealized: quote(positionValue(position, prices.mark, prices.fundingIndex)),
        initialRequirement: quote(requirement.initial),
        maintenanceRequirement: quote(requirement.maintenance),
      };
    }),
  };
}

/** VALUE_UNIT numerators per VALUE_SCALE unit. */
const QUOTE_TO_VALUE = VALUE_UNIT / VALUE_SCALE;

/**
 * The largest amount in [0, bound] that `accepts`, given that acceptance only gets harder as the
 * amount grows. The answer is almost always the bound or a unit or two below it: those are tried
 * first, then a binary search.
 */
function largestAccepted(bound: bigint, accepts: (amount: bigint) => boolean): bigint {
  for (let step = 0n; step < 3n; step++) {
    const amount = bound - step;
    if (amount <= 0n) return 0n;
    if (accepts(amount)) return amount;
  }
  let low = 0n; // accepted, or zero
  let high = bound - 2n; // refused
  while (high - low > 1n) {
    const middle = (low + high) / 2n;
    if (accepts(middle)) low = middle;
    else high = middle;
  }
  return low;
}

/** Figures of every pool at the state's time, as JSON decimal strings. */
export function poolSummaries(state: EngineState) {
  return state.assets.map(({ config, pool, risk }) => {
    const u = poolUtilizationRay(pool);
    const borrowRate = borrowRateAnnualRay(config.interest, u);
    const d = config.decimals;
    return {
      asset: config.symbol,
      price: formatDecimal(risk.oraclePrice, PRICE_DECIMALS),
      cash: formatDecimal(pool.cash, d),
      totalSupply: formatDecimal(totalSupply(pool), d),
      totalDebt: formatDecimal(totalDebt(pool), d),
      treasury: formatDecimal(supplyAmount(pool.treasuryScaled, pool), d),
      utilization: formatDecimal(u, RAY_DECIMALS),
      borrowRate: formatDecimal(borrowRate, RAY_DECIMALS),
      supplyRate: formatDecimal(
        supplyRateAnnualRay(borrowRate, u, config.reserveFactor),
        RAY_DECIMALS,
      ),
      supplyIndex: formatDecimal(pool.supplyIndexRay, RAY_DECIMALS),
      borrowIndex: formatDecimal(pool.borrowIndexRay, RAY_DECIMALS),
    };
  });
}

export interface LiquidationStatus {
  /** Maintenance health is below 1. */
  readonly liquidatable: boolean;
  /** Liquidatable, and every price it rests on allows liquidation now. */
  readonly allowed: boolean;
  /** The assets whose price grade forbids liquidating now, with their grades. */
  readonly blockedBy: readonly { readonly asset: string; readonly grade: Grade }[];
}

/**
 * Whether a sub-account may be liquidated at `time`: its maintenance health is below 1 and
 * every price it rests on has a grade that allows liquidation. Liquidating on a stale, too
 * volatile or non-positive price would punish a trader for the oracle's fault.
 */
export function liquidationStatus(
  state: EngineState,
  ref: SubAccountRef,
  time: number = state.time,
): LiquidationStatus {
  const draft = new Draft(state, Math.max(time, state.time));
  const liquidatable = !draft.health(ref).meets('maintenance');
  const blockedBy = draft.subAccount(ref).positions.flatMap(({ asset }) => {
    const { oracle, config } = draft.asset(asset);
    if (oracle === null || config.oracle === null) return [];
    const grade = gradeAt(oracle, draft.time);
    return gradeAllows(config.oracle.policy, grade, 'liquidate')
      ? []
      : [{ asset: config.symbol, grade }];
  });
  return { liquidatable, allowed: liquidatable && blockedBy.length === 0, blockedBy };
}
