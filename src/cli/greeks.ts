/**
 * `fulcrum greeks FILE`: the risk report of a derivatives portfolio (JSON): per position and
 * for the account, the Greeks in quote terms, notional, leverage, margin under each mode side
 * by side, and liquidation prices; as a readable table, or as JSON. Each Greek's header says
 * what it is (delta Δ·S in quote, gamma Γ·S²/100, vega per volatility point, theta per day),
 * and a legend under the table says it in words. Expired positions are listed apart: settled
 * (valued on their settlement price) or needing settlement (left out of every figure).
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
    r.positions.map((p) => [
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
  const settled = r.positions
    .filter((p) => p.expired && !p.needsSettlement)
    .map((p) => `${p.symbol} at ${price(p.settlementPrice)} (worth ${price(p.mark)} a unit)`);
  const expired = [
    ...(settled.length > 0 ? [`expired, settled: ${settled.join(', ')}`] : []),
    ...(r.needsSettlement.length > 0
      ? [
          `expired, needs settlement: ${r.needsSettlement.join(', ')} (no settlement price given: left out of equity, Greeks and margin)`,
        ]
      : []),
  ];
  return [
    positions,
    '',
    'delta Δ·S: the exposure in quote (∂V/∂index × index); gamma Γ·S²/100: how much Δ changes for a 1% move of the index, × index;',
    'vega: per volatility point (0.01); theta: the value change over one day (or the time left), forward, volatility and rate held',
    ...expired,
    '',
    `account: collateral ${money(r.collateral)}, equity ${money(r.equity)}, notional ${money(r.notional)}, leverage ${r.leverage === null ? '-' : r.leverage.toFixed(2)}x`,
    `greeks: delta Δ·S ${signed(r.greeks.deltaQuote)}, gamma Γ·S²/100 ${signed(r.greeks.gammaQuotePerPercent)} per 1% move, vega ${signed(r.greeks.vegaQuotePerVolPoint)} per vol point, theta ${signed(r.greeks.thetaQuotePerDay)} per day`,
    '',
    margins,
    '',
    `cross-margin liquidation (index, others held): ${liquidation === '' ? '-' : liquidation}`,
  ].join('\n');
}
