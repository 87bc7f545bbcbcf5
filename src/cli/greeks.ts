/**
 * `fulcrum greeks FILE`: the risk report of a derivatives portfolio (JSON): per position and
 * for the account, the Greeks in quote terms, notional, leverage, margin under each mode side
 * by side, and liquidation prices; as a readable table, or as JSON.
 */
import { parsePortfolio, portfolioReport, type PortfolioReport } from '../derivatives/report.js';
import { parseJson, readInput } from './io.js';
import { table } from './table.js';

export function greeksCommand(path: string, json: boolean): string {
  const report = portfolioReport(parsePortfolio(parseJson(readInput(path), path)));
  return json ? JSON.stringify(report, null, 2) : render(report);
}

function render(r: PortfolioReport): string {
  const money = (x: number) => Math.round(x).toLocaleString('en-US');
  const signed = (x: number, digits = 0) =>
    `${x >= 0 ? '' : '-'}${Math.abs(x).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })}`;
  const percent = (x: number) => (x * 100).toFixed(1);
  const price = (x: number | null) => (x === null ? '-' : Number(x.toPrecision(6)).toString());
  const positions = table(
    [
      'position',
      'size',
      'mark',
      'vol',
      'uPnL',
      'notional',
      'delta $',
      'gamma $/1%',
      'vega $/pt',
      'theta $/day',
      'initial',
      'maint.',
      'IM/MM %',
      'lev.',
      'isolated liq.',
    ],
    r.positions.map((p) => [
      p.symbol,
      String(p.size),
      price(p.mark),
      p.volatility === null ? '-' : `${(p.volatility * 100).toFixed(1)}%`,
      signed(p.unrealizedPnl),
      money(p.notional),
      signed(p.deltaQuote),
      signed(p.gammaQuote),
      signed(p.vegaQuote),
      signed(p.thetaQuote),
      money(p.initial),
      money(p.maintenance),
      p.initialRatio === null || p.maintenanceRatio === null
        ? '-'
        : `${percent(p.initialRatio)}/${percent(p.maintenanceRatio)}`,
      p.leverage === null ? '-' : `${p.leverage.toFixed(1)}x`,
      price(p.isolatedLiquidationPrice),
    ]),
  );
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
    positions,
    '',
    `account: collateral ${money(r.collateral)}, equity ${money(r.equity)}, notional ${money(r.notional)}, leverage ${r.leverage === null ? '-' : r.leverage.toFixed(2)}x`,
    `greeks: delta $${signed(r.greeks.deltaQuote)}, gamma $${signed(r.greeks.gammaQuote)} per 1%, vega $${signed(r.greeks.vegaQuote)} per vol point, theta $${signed(r.greeks.thetaQuote)} a day`,
    '',
    margins,
    '',
    `cross-margin liquidation (index, others held): ${liquidation === '' ? '-' : liquidation}`,
  ].join('\n');
}
