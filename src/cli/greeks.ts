/**
 * `fulcrum greeks FILE`: the risk report of a derivatives portfolio (JSON): per position and
 * for the account, the Greeks in quote terms, notional, leverage, margin under each mode side
 * by side, and liquidation prices; as a readable table, or as JSON. Each Greek's header says
 * what it is (delta Δ·S in quote, gamma Γ·S²/100, vega per volatility point, theta per day),
 * and a legend under the table says it in words. Expired positions are listed apart: settled
 * (valued on their settlement price) or needing settlement (left out of every figure).
 *
 * `fulcrum greeks --account ID[/N]` reports a sub-account of the journal in `--data` the same
 * way, read as `history` reads it (recovered read-only, nothing changed).
 */
import { parsePortfolio, portfolioReport, type PortfolioReport } from '../derivatives/report.js';
import { FulcrumError } from '../base/errors.js';
import { ACCOUNT_ID_PATTERN } from '../domain/limits.js';
import { quoteInput } from '../domain/quote.js';
import { subAccountRisk } from '../engine/accountRisk.js';
import type { EngineState, SubAccountRef } from '../engine/state.js';
import { recover } from '../store/recovery.js';
import { withStore } from './history.js';
import { CliError, EXIT, parseJson, readInput } from './io.js';
import { table } from './table.js';

export function greeksCommand(path: string, json: boolean): string {
  const report = portfolioReport(parsePortfolio(parseJson(readInput(path), path)));
  return json ? JSON.stringify(report, null, 2) : render(report);
}

/**
 * `greeks --account ID[/N] --data DIR`: the report of a sub-account of the journal, recovered
 * read-only at its last record.
 */
export function greeksOfAccount(data: string, account: string, json: boolean): Promise<string> {
  // A malformed name is refused before any journal is looked for.
  const ref = subAccountOption(account);
  return withStore(data, async (store) => {
    const { state } = await recover(store);
    const report = riskOfAccount(state, ref);
    return json ? JSON.stringify(report, null, 2) : render(report);
  });
}

/** The engine's risk report, a sub-account without positions named as the option that chose it. */
function riskOfAccount(state: EngineState, ref: SubAccountRef): PortfolioReport {
  try {
    return subAccountRisk(state, ref);
  } catch (error) {
    if (error instanceof FulcrumError && error.code === 'no_position') {
      throw new FulcrumError('no_position', error.message, '--account');
    }
    throw error;
  }
}

/** `--account`: an account id, optionally `/` and a sub-account number (0 to 255, as written). */
export function subAccountOption(text: string): SubAccountRef {
  const slash = text.lastIndexOf('/');
  const id = slash < 0 ? text : text.slice(0, slash);
  const number = slash < 0 ? '0' : text.slice(slash + 1);
  if (
    !ACCOUNT_ID_PATTERN.test(id) ||
    !/^(0|[1-9][0-9]{0,2})$/.test(number) ||
    Number(number) > 255
  ) {
    throw new CliError(
      `--account names a sub-account as ID or ID/N (N from 0 to 255), not ${quoteInput(text)}`,
      EXIT.usage,
      { code: 'invalid_field', field: '--account' },
    );
  }
  return { account: id, subAccount: Number(number) };
}

function render(r: PortfolioReport): string {
  const margins = table(
    ['mode', 'initial', 'maintenance', 'collateral needed', 'excess'],
    r.margins.map((m) => [
      m.mode,
      money(m.initial),
      money(m.maintenance),
      money(m.collateralNeeded),
      signed(m.excess),
    ]),
  );
  const liquidation = Object.entries(r.crossLiquidationPrices)
    .map(([u, p]) => `${u} ${price(p)}`)
    .join(', ');
  return [
    positionsTable(r.positions),
    '',
    'delta Δ·S: the exposure in quote (∂V/∂index × index); gamma Γ·S²/100: how much Δ changes for a 1% move of the index, × index;',
    'vega: per volatility point (0.01); theta: the value change over one day (or the time left), forward, volatility and rate held',
    ...expiredLines(r),
    '',
    `account: collateral ${money(r.collateral)}, equity ${money(r.equity)}, notional ${money(r.notional)}, leverage ${r.leverage === null ? '-' : r.leverage.toFixed(2)}x`,
    `greeks: delta Δ·S ${signed(r.greeks.deltaQuote)}, gamma Γ·S²/100 ${signed(r.greeks.gammaQuotePerPercent)} per 1% move, vega ${signed(r.greeks.vegaQuotePerVolPoint)} per vol point, theta ${signed(r.greeks.thetaQuotePerDay)} per day`,
    '',
    margins,
    '',
    `cross-margin liquidation (index, others held): ${liquidation === '' ? '-' : liquidation}`,
  ].join('\n');
}

/** The positions table: one row per position, its Greeks in quote and its margin. */
function positionsTable(positions: PortfolioReport['positions']): string {
  return table(
    [
      'position',
      'size',
      'forward',
      'mark',
      'vol',
      'uPnL',
      'notional',
      'delta Δ·S',
      'gamma Γ·S²/100',
      'vega /vol pt',
      'theta /day',
      'initial',
      'maint.',
      'IM/MM %',
      'lev.',
      'isolated liq.',
    ],
    positions.map((p) => [
      p.symbol,
      String(p.size),
      price(p.forward),
      p.needsSettlement ? 'expired' : price(p.mark),
      p.volatility === null ? '-' : `${(p.volatility * 100).toFixed(1)}%`,
      p.unrealizedPnl === null ? '-' : signed(p.unrealizedPnl),
      money(p.notional),
      signed(p.deltaQuote),
      signed(p.gammaQuotePerPercent),
      signed(p.vegaQuotePerVolPoint),
      signed(p.thetaQuotePerDay),
      money(p.initial),
      money(p.maintenance),
      p.initialRatio === null || p.maintenanceRatio === null
        ? '-'
        : `${percent(p.initialRatio)}/${percent(p.maintenanceRatio)}`,
      p.leverage === null ? '-' : `${p.leverage.toFixed(1)}x`,
      price(p.isolatedLiquidationPrice),
    ]),
  );
}

/** The lines under the legend for expired positions: those settled, those needing settlement. */
function expiredLines(r: PortfolioReport): string[] {
  const settled = r.positions
    .filter((p) => p.expired && !p.needsSettlement)
    .map((p) => `${p.symbol} at ${price(p.settlementPrice)} (worth ${price(p.mark)} a unit)`);
  return [
    ...(settled.length > 0 ? [`expired, settled: ${settled.join(', ')}`] : []),
    ...(r.needsSettlement.length > 0
      ? [
          `expired, needs settlement: ${r.needsSettlement.join(', ')} (no settlement price given: left out of equity, Greeks and margin)`,
        ]
      : []),
  ];
}

/** Whole quote units, with thousands separators. */
function money(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

/** A signed number with `digits` decimals and thousands separators. */
function signed(x: number, digits = 0): string {
  return `${x >= 0 ? '' : '-'}${Math.abs(x).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })}`;
}

/** A ratio as a percentage with one decimal, without the sign. */
function percent(x: number): string {
  return (x * 100).toFixed(1);
}

/** A price to 6 significant digits, `-` when there is none. */
function price(x: number | null): string {
  return x === null ? '-' : Number(x.toPrecision(6)).toString();
}
