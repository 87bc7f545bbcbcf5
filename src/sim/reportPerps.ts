/**
 * The derivatives half of the HTML report (docs/SIMULATOR.md, "Perpetuals"), in a run with
 * perpetual traders: what each policy did in the derivatives book (position takeovers, funding,
 * ADL), bad debt by book and who bore it, the marks' paths and the cumulative takeovers, funding
 * and ADL, the traders as generated, the perpetuals listed and the pegged tokens' paths.
 * Nothing here without traders: a lending book's report is unchanged.
 */
import {
  escapeHtml,
  figure,
  formatCount,
  formatMoney,
  formatPercent,
  formatPrice,
  formatRatio,
  keyValues,
  perPolicyChart,
  policyLegend,
  priceChart,
  table,
  type TimeAxis,
} from './report.js';
import type { DerivativesMetrics, DerivativesSample, Sample, SimulationResult } from './result.js';

/** Whether the result has a derivatives book to show. */
function hasPerps(result: SimulationResult): boolean {
  return result.runs.some((r) => r.metrics.derivatives !== undefined);
}

function derivativesOf(run: SimulationResult['runs'][number]): DerivativesMetrics | undefined {
  return run.metrics.derivatives;
}

/**
 * "Derivatives book": per policy, the takeovers, funding and ADL; then bad debt by book and who
 * bore it. Empty without traders.
 */
export function derivativesSection(result: SimulationResult): string {
  if (!hasPerps(result)) return '';
  const activity = table(
    'Positions taken over, funding and auto-deleveraging, per policy',
    [
      'Policy',
      'Takeovers by liquidators',
      'Notional',
      'Takeovers by the fund',
      'Notional',
      'Traders taken over',
      'Funding paid (settlements)',
      'ADL commands / fills',
      'ADL notional',
      'Accounts deleveraged / counterparties',
      'Open interest start → end',
    ],
    result.runs.map((run) => {
      const d = derivativesOf(run);
      if (d === undefined) return [escapeHtml(run.policy), '—'];
      return [
        escapeHtml(run.policy),
        formatCount(d.positionLiquidations),
        formatMoney(d.takeoverNotional),
        formatCount(d.fundTakeovers),
        formatMoney(d.fundTakeoverNotional),
        formatCount(d.tradersLiquidated),
        `${formatMoney(d.fundingPaid)} (${formatCount(d.fundingSettlements)})`,
        `${formatCount(d.adlCount)} / ${formatCount(d.adlFills)}`,
        formatMoney(d.adlNotional),
        `${formatCount(d.accountsDeleveraged)} / ${formatCount(d.adlCounterparties)}`,
        `${formatMoney(d.openingNotional / 2)} → ${formatMoney(d.openInterestAtEnd)}`,
      ];
    }),
  );
  return (
    `<section id="derivatives"><h2>Derivatives book</h2>` +
    `<p class="note">Perpetual traders beside the borrowers, in the same engine and under the same ` +
    `health: liquidators take positions over (<code>liquidate-position</code>) and unwind them ` +
    `into the perpetual's market, the insurance fund takes over those below the backstop's ` +
    `health, and bankrupt positions the fund cannot cover are auto-deleveraged against the ` +
    `most profitable opposite positions. Funding pays the mark's premium over the index every ` +
    `interval. Open interest is one side's notional at the marks.</p>` +
    `${activity}${badDebtByBook(result)}</section>`
  );
}

/** Bad debt split between the lending book and the derivatives book, and who bore each part. */
function badDebtByBook(result: SimulationResult): string {
  return table(
    'Bad debt by book and who bore it',
    [
      'Policy',
      'Spot book: bad debt',
      'Insurance fund',
      'Lenders',
      'Derivatives book: bad debt',
      'Insurance fund',
      'Lenders',
      'ADL counterparties gave up',
      'Insurance fund start → end',
    ],
    result.runs.map((run) => {
      const m = run.metrics;
      const d = derivativesOf(run);
      if (d === undefined) return [escapeHtml(run.policy), '—'];
      return [
        escapeHtml(run.policy),
        formatMoney(m.badDebt - d.badDebt),
        formatMoney(m.insuranceDraw - d.badDebtInsuranceDraw),
        formatMoney(m.socialized - d.badDebtSocialized),
        formatMoney(d.badDebt),
        formatMoney(d.badDebtInsuranceDraw),
        formatMoney(d.badDebtSocialized),
        formatMoney(d.socializedLoss),
        `${formatMoney(d.insuranceFund.start)} → ${formatMoney(d.insuranceFund.end)}`,
      ];
    }),
  );
}

/** The derivatives charts: each mark's path, then cumulative takeovers, funding and ADL. */
export function derivativesCharts(result: SimulationResult, time: TimeAxis): string[] {
  if (!hasPerps(result)) return [];
  const pick = (f: (d: DerivativesSample) => number) => (s: Sample) =>
    s.derivatives === undefined ? Number.NaN : f(s.derivatives);
  const marks = (result.perpetuals ?? []).map((p) =>
    priceChart(result, p.symbol, time, {
      exogenous: (s) => s.derivatives?.exogenousMarks[p.symbol],
      realized: (s) => s.derivatives?.realizedMarks[p.symbol],
    }),
  );
  const cumulative = (
    id: string,
    title: string,
    caption: string,
    f: (d: DerivativesSample) => number,
  ): string =>
    figure(
      title,
      caption,
      policyLegend(result.runs),
      perPolicyChart(result, time, id, title, pick(f), (v) => formatMoney(v, true), false),
    );
  return [
    ...marks,
    cumulative(
      'takeovers',
      'Cumulative notional of positions taken over',
      'By liquidators and by the insurance fund, at the mark. Time in UTC.',
      (d) => d.takeoverNotional,
    ),
    cumulative(
      'funding',
      'Cumulative funding paid',
      'Moved between longs and shorts at each funding settlement. Time in UTC.',
      (d) => d.fundingPaid,
    ),
    cumulative(
      'adl',
      'Cumulative auto-deleveraged notional',
      'Bankrupt positions closed against opposite positions at the bankruptcy price. Time in UTC.',
      (d) => d.adlNotional,
    ),
    cumulative(
      'perps-bad-debt',
      'Cumulative bad debt of the derivatives book',
      'Written off on traders&#39; accounts (the rest of the run&#39;s bad debt is the borrowers&#39;). Time in UTC.',
      (d) => d.badDebt,
    ),
  ];
}

/** The traders as generated: collateral, perpetuals and sides, leverage. Empty without them. */
export function tradersSection(result: SimulationResult): string {
  const t = result.population.traders;
  if (t === undefined) return '';
  const share = (value: number): string =>
    t.collateralValue > 0 ? formatPercent(value / t.collateralValue) : '—';
  const summary = keyValues('The traders at the start', [
    ['Traders', formatCount(t.accounts)],
    ['Collateral value', formatMoney(t.collateralValue)],
    [
      'Leverage aimed at, p10 / p50 / p90',
      [t.leverage.p10, t.leverage.p50, t.leverage.p90]
        .map((x) => `${formatRatio(x, 1)}x`)
        .join(' / '),
    ],
  ]);
  const collateral = table(
    'Traders’ collateral',
    ['Symbol', 'Traders posting it', 'Value', 'Share'],
    t.collateral.map((c) => [
      escapeHtml(c.symbol),
      formatCount(c.accounts),
      formatMoney(c.value),
      share(c.value),
    ]),
  );
  const sides = table(
    'Perpetuals held (notional aimed at, before initial margin holds it)',
    ['Perpetual', 'Longs', 'Long notional', 'Shorts', 'Short notional'],
    t.instruments.map((p) => [
      escapeHtml(p.symbol),
      formatCount(p.longs),
      formatMoney(p.longNotional),
      formatCount(p.shorts),
      formatMoney(p.shortNotional),
    ]),
  );
  return `<section><h2>Perpetual traders</h2><div class="tables">${summary}${collateral}${sides}</div></section>`;
}

/** The perpetuals listed and the pegged tokens with how far they left their peg. */
export function instrumentsSection(result: SimulationResult): string {
  if (result.perpetuals === undefined) return '';
  const perps = table(
    'Perpetuals listed',
    [
      'Perpetual',
      'Basis from',
      'Initial margin',
      'Maintenance',
      'Takeover penalty',
      'Funding every',
    ],
    result.perpetuals.map((p) => [
      escapeHtml(p.symbol),
      escapeHtml(p.basisSource === 'none' ? 'none (mark = index)' : p.basisSource),
      formatPercent(p.initialMargin),
      formatPercent(p.maintenanceMargin),
      formatPercent(p.liquidationPenalty),
      `${formatRatio(p.fundingIntervalSeconds / 3600, 2)} h`,
    ]),
    2,
  );
  const pegged = table(
    'Pegged tokens (their price paths are charted above)',
    ['Token', 'Pegged to', 'Model depth', 'Lowest price / peg'],
    (result.pegged ?? []).map((p) => [
      escapeHtml(p.symbol),
      escapeHtml(p.peg),
      p.depth === null ? 'price file' : formatPercent(p.depth),
      p.lowRatio === undefined ? '—' : formatPrice(p.lowRatio),
    ]),
    3,
  );
  return `<section><h2>Perpetuals and pegged tokens</h2>${perps}${pegged}</section>`;
}
