import { describe, expect, it } from 'vitest';
import {
  POINTS_MAX,
  escapeHtml,
  formatCount,
  formatMoney,
  formatPercent,
  formatPrice,
  renderReport,
} from './report.js';
import type { HealthHistogram, PolicyRun, Sample, SimulationResult } from './result.js';

// ---------------------------------------------------------------------------------------------
// Fixture: a Black-Thursday-shaped day, ETH and BTC, five policies, 289 samples (24 h every
// 5 min, both ends included). Everything is computed from closed forms: no randomness.

/** 2020-03-12T00:00:00Z. */
const BLACK_THURSDAY = 1_583_971_200;
const SAMPLE_SECONDS = 300;
const SAMPLES_PER_DAY = 289;

/** Fraction of the full fall reached at u in [0, 1]: a slide, a crash to the bottom, a rebound. */
function crashShape(u: number): number {
  const wiggle = 0.015 * Math.sin(41 * u);
  if (u < 0.3) return Math.max(0, (0.15 * u) / 0.3 + wiggle);
  if (u < 0.55) return Math.min(1, 0.15 + 0.85 * ((u - 0.3) / 0.25) ** 2 + wiggle * (0.55 - u));
  return 1 - (0.4 * (u - 0.55)) / 0.45 + wiggle;
}

interface PolicySpec {
  readonly policy: string;
  readonly description: string;
  /** Extra fall of the realized price at the bottom, as a fraction of the exogenous price. */
  readonly impact: number;
  readonly liquidatedNotional: number;
  readonly badDebt: number;
  readonly insuranceFund: number;
  readonly dynamicMargin: boolean;
}

const FIVE_POLICIES: readonly PolicySpec[] = [
  {
    policy: 'partial',
    description: 'Close factor 50%, bonus 5%',
    impact: 0.04,
    liquidatedNotional: 38e6,
    badDebt: 1.2e6,
    insuranceFund: 0.5e6,
    dynamicMargin: false,
  },
  {
    policy: 'full',
    description: 'Close factor 100%',
    impact: 0.09,
    liquidatedNotional: 52e6,
    badDebt: 2.6e6,
    insuranceFund: 0.5e6,
    dynamicMargin: false,
  },
  {
    policy: 'dutch-auction',
    description: 'Bonus rises from 0 over 10 minutes',
    impact: 0.03,
    liquidatedNotional: 33e6,
    badDebt: 0.41e6,
    insuranceFund: 0.5e6,
    dynamicMargin: false,
  },
  {
    policy: 'throttled',
    description: 'At most $1M of collateral sold per asset per minute',
    impact: 0.012,
    liquidatedNotional: 29e6,
    badDebt: 0.9e6,
    insuranceFund: 0.5e6,
    dynamicMargin: false,
  },
  {
    policy: 'dynamic-margin',
    description: 'Haircuts widen with realized volatility',
    impact: 0.02,
    liquidatedNotional: 31e6,
    badDebt: 0.65e6,
    insuranceFund: 0.5e6,
    dynamicMargin: true,
  },
];

const ASSETS = [
  { symbol: 'ETH', start: 194.61, depth: 0.55 },
  { symbol: 'BTC', start: 7911.43, depth: 0.5 },
] as const;

const BOUNDS = [0.5, 0.8, 1, 1.1, 1.25, 1.5, 2, 3, null];
const HEALTH_BEFORE = [0, 0, 0, 40, 120, 260, 480, 600, 500];

function samplesOf(spec: PolicySpec, count: number): Sample[] {
  const samples: Sample[] = [];
  let deepest = 0;
  for (let i = 0; i < count; i++) {
    const u = count === 1 ? 0 : i / (count - 1);
    const shape = crashShape(u);
    deepest = Math.max(deepest, shape);
    const exogenous: Record<string, number> = {};
    const realized: Record<string, number> = {};
    const marginMultiplier: Record<string, number> = {};
    for (const asset of ASSETS) {
      exogenous[asset.symbol] = asset.start * (1 - asset.depth * shape);
      realized[asset.symbol] =
        asset.start * (1 - asset.depth * shape) * (1 - spec.impact * shape ** 2);
      marginMultiplier[asset.symbol] = spec.dynamicMargin ? 1 + asset.depth * shape : 1;
    }
    const badDebt = spec.badDebt * Math.max(0, (deepest - 0.7) / 0.3) ** 2;
    samples.push({
      time: BLACK_THURSDAY + i * SAMPLE_SECONDS,
      exogenous,
      realized,
      liquidatedNotional: spec.liquidatedNotional * deepest ** 1.5,
      accountsLiquidated: Math.round(700 * deepest ** 1.5),
      liquidatable: Math.round(150 * shape * (1 - spec.impact * 5)),
      badDebt,
      insuranceDraw: Math.min(badDebt, spec.insuranceFund),
      marginMultiplier,
    });
  }
  return samples;
}

/** The lowest value, by a loop: `Math.min(...)` overflows on long series. */
function lowestOf(values: readonly number[]): number {
  return values.reduce((low, v) => Math.min(low, v), Infinity);
}

function histogram(counts: readonly number[]): HealthHistogram {
  return { bounds: BOUNDS, counts };
}

function runOf(spec: PolicySpec, count: number): PolicyRun {
  const samples = samplesOf(spec, count);
  const last = samples[samples.length - 1];
  const lows = ASSETS.map((asset) => {
    const exogenousLow = lowestOf(samples.map((s) => s.exogenous[asset.symbol] ?? Infinity));
    const realizedLow = lowestOf(samples.map((s) => s.realized[asset.symbol] ?? Infinity));
    const fall = asset.start - exogenousLow;
    return {
      symbol: asset.symbol,
      exogenousLow,
      realizedLow,
      amplification: fall > 0 ? (asset.start - realizedLow) / fall - 1 : 0,
    };
  });
  // Liquidations move accounts from the low buckets to healthy ones, or leave them empty.
  const moved = Math.round(spec.impact * 2000);
  const after = [moved, 10, 30, 20, 90, 250, 470, 600, 530 - moved];
  return {
    policy: spec.policy,
    description: spec.description,
    metrics: {
      lows,
      amplification: Math.max(...lows.map((l) => l.amplification)),
      liquidatedNotional: last?.liquidatedNotional ?? 0,
      liquidations: Math.round((last?.accountsLiquidated ?? 0) * 1.7),
      backstopLiquidations: Math.round(spec.impact * 400),
      accountsLiquidated: last?.accountsLiquidated ?? 0,
      badDebt: last?.badDebt ?? 0,
      insuranceDraw: last?.insuranceDraw ?? 0,
      socialized: (last?.badDebt ?? 0) - (last?.insuranceDraw ?? 0),
      liquidatorBonus: (last?.liquidatedNotional ?? 0) * 0.05,
      marginChanges: spec.dynamicMargin ? 42 : 0,
      liquidatableAtEnd: last?.liquidatable ?? 0,
      commands: 12_000,
      refused: 310,
    },
    samples,
    healthBefore: histogram(HEALTH_BEFORE),
    healthAfter: histogram(after),
    wallMs: 1234,
  };
}

function blackThursdayResult(
  policies: readonly PolicySpec[] = FIVE_POLICIES,
  count = SAMPLES_PER_DAY,
): SimulationResult {
  const runs = policies.map((spec) => runOf(spec, count));
  const byBadDebt = [...runs].sort((a, b) => a.metrics.badDebt - b.metrics.badDebt)[0];
  const byAmplification = [...runs].sort(
    (a, b) => a.metrics.amplification - b.metrics.amplification,
  )[0];
  const firstSamples = runs[0]?.samples ?? [];
  return {
    scenario: 'black-thursday',
    description: 'ETH and BTC on 12 March 2020, 5-minute closes',
    seed: 7,
    start: BLACK_THURSDAY,
    end: BLACK_THURSDAY + (count - 1) * SAMPLE_SECONDS,
    stepSeconds: 60,
    steps: (count - 1) * 5 + 1,
    paths: ASSETS.map((asset) => ({
      symbol: asset.symbol,
      source: `${asset.symbol.toLowerCase()}-2020-03-12.csv`,
      start: asset.start,
      low: lowestOf(firstSamples.map((s) => s.exogenous[asset.symbol] ?? Infinity)),
      end: firstSamples[firstSamples.length - 1]?.exogenous[asset.symbol] ?? asset.start,
    })),
    population: {
      accounts: 2000,
      seed: 7,
      collateralValue: 412.5e6,
      debtValue: 233.1e6,
      collateral: [
        { symbol: 'ETH', accounts: 1400, value: 250.2e6 },
        { symbol: 'BTC', accounts: 900, value: 162.3e6 },
      ],
      size: { p50: 52_000, p90: 410_000, p99: 3.1e6, max: 18.4e6 },
      health: { p10: 1.12, p50: 1.6, p90: 2.9 },
    },
    market: {
      depthUsd: 2_000_000,
      impactExponent: 0.5,
      recovery: 'exponential',
      halfLifeSeconds: 900,
    },
    runs,
    verdict: {
      leastBadDebt: { policy: byBadDebt?.policy ?? '', badDebt: byBadDebt?.metrics.badDebt ?? 0 },
      leastAmplification: {
        policy: byAmplification?.policy ?? '',
        amplification: byAmplification?.metrics.amplification ?? 0,
      },
      text:
        byBadDebt === undefined || byAmplification === undefined
          ? 'No policy was run.'
          : `${byBadDebt.policy} leaves the least bad debt (${formatMoney(byBadDebt.metrics.badDebt)}); ` +
            `${byAmplification.policy} amplifies the fall least.`,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Reading the page back

/** The `<svg>` element of one chart. */
function chartSvg(html: string, id: string): string {
  const start = html.indexOf(`data-chart="${id}"`);
  expect(start, `chart ${id}`).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf('</svg>', start));
}

/** The `<figure>` holding one chart (its legend is HTML, outside the SVG). */
function figureOf(html: string, id: string): string {
  const at = html.indexOf(`data-chart="${id}"`);
  expect(at, `chart ${id}`).toBeGreaterThan(-1);
  return html.slice(html.lastIndexOf('<figure>', at), html.indexOf('</figure>', at));
}

interface DrawnSeries {
  readonly name: string;
  readonly points: number;
  readonly declared: number;
  readonly d: string;
}

function seriesIn(svg: string): DrawnSeries[] {
  return [...svg.matchAll(/<path class="series"[^>]*>/g)].map(([tag]) => {
    const d = /\sd="([^"]*)"/.exec(tag)?.[1] ?? '';
    return {
      name: /data-series="([^"]*)"/.exec(tag)?.[1] ?? '',
      declared: Number(/data-points="(\d+)"/.exec(tag)?.[1]),
      // One M, then one L per further point.
      points: (d.match(/[ML]/g) ?? []).length,
      d,
    };
  });
}

function legendNames(figure: string): string[] {
  return [...figure.matchAll(/<li data-legend="([^"]*)"/g)].map((m) => m[1] ?? '');
}

/** Policy of every comparison row whose cell in column `col` is highlighted. */
function highlighted(html: string, col: string): string[] {
  const rows = [...html.matchAll(/<tr data-policy="([^"]*)">(.*?)<\/tr>/g)];
  return rows
    .filter(([, , cells]) => new RegExp(`class="num best" data-col="${col}"`).test(cells ?? ''))
    .map(([, policy]) => policy ?? '');
}

function expectFiniteEverywhere(html: string): void {
  expect(html).not.toContain('NaN');
  expect(html).not.toContain('Infinity');
  expect(html).not.toContain('undefined');
}

// ---------------------------------------------------------------------------------------------

describe('renderReport', () => {
  const result = blackThursdayResult();
  const html = renderReport(result);
  const names = FIVE_POLICIES.map((p) => p.policy);

  it('is one self-contained document that loads nothing', () => {
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(html.endsWith('</html>\n')).toBe(true);
    expect(html.match(/<html/g)).toHaveLength(1);
    expect(html.match(/<body/g)).toHaveLength(1);
    for (const outside of [
      'http://',
      'https://',
      'src=',
      'href=',
      'url(',
      '@import',
      '<script',
      '<link',
      '<img',
    ]) {
      expect(html, outside).not.toContain(outside);
    }
    expectFiniteEverywhere(html);
  });

  it('is deterministic', () => {
    expect(renderReport(blackThursdayResult())).toBe(html);
  });

  it('puts the verdict first, then the comparison, charts, population and paths', () => {
    const order = [
      escapeHtml(result.verdict.text),
      '<table class="comparison">',
      'data-chart="glance"',
      'data-chart="price-ETH"',
      'data-chart="price-BTC"',
      'data-chart="liquidated"',
      'data-chart="bad-debt"',
      'data-chart="liquidatable"',
      'data-chart="health"',
      'data-chart="margin-ETH"',
      '<h2>Population</h2>',
      '<h2>Price paths</h2>',
    ].map((marker) => html.indexOf(marker));
    expect(order.every((at) => at > -1)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('states the window in UTC and the market model', () => {
    expect(html).toContain(
      'Window <time>2020-03-12T00:00:00Z</time> → <time>2020-03-13T00:00:00Z</time>',
    );
    expect(html).toContain('1,441 steps × 1 min');
    expect(html).toContain('<code>impactExponent=0.5</code>');
    expect(html).toContain('collateral $412.50M');
  });

  it('lists every policy in the table and in every per-policy legend', () => {
    const rows = [...html.matchAll(/<tr data-policy="([^"]*)">/g)].map((m) => m[1]);
    expect(rows).toEqual(names);
    for (const id of [
      'glance',
      'price-ETH',
      'price-BTC',
      'liquidated',
      'bad-debt',
      'liquidatable',
    ]) {
      expect(legendNames(figureOf(html, id)), id).toEqual(expect.arrayContaining(names));
    }
    expect(legendNames(figureOf(html, 'health'))).toEqual([
      'before (all policies)',
      ...names.map((n) => `${n} after`),
    ]);
  });

  it('highlights the lowest bad debt and the lowest amplification, and only those', () => {
    expect(highlighted(html, 'badDebt')).toEqual(['dutch-auction']);
    expect(highlighted(html, 'amplification')).toEqual(['throttled']);
    expect(result.verdict.leastBadDebt.policy).toBe('dutch-auction');
    expect(html).toContain('data-col="badDebt">★ $384.6k</td>');
  });

  it('shows each realized low against the exogenous low with the amplification', () => {
    const row = /<tr data-policy="full">(.*?)<\/tr>/.exec(html)?.[1] ?? '';
    const eth = result.runs[1]?.metrics.lows[0];
    expect(eth?.symbol).toBe('ETH');
    expect(row).toContain(
      `<b>ETH</b> ${formatPrice(eth?.realizedLow ?? 0)} <span class="muted">vs ${formatPrice(eth?.exogenousLow ?? 0)}</span> <span class="amp">(+${formatPercent(eth?.amplification ?? 0)})</span>`,
    );
  });

  it('writes the exogenous low and the deepest realized low under the latter', () => {
    const svg = chartSvg(html, 'price-ETH');
    const notes = [...svg.matchAll(/<text class="note"[^>]*>([^<]*)</g)].map((m) => m[1]);
    const full = result.runs[1]?.metrics.lows[0];
    expect(notes).toEqual([
      `exogenous low ${formatPrice(full?.exogenousLow ?? 0)}`,
      `realized low ${formatPrice(full?.realizedLow ?? 0)} (full)`,
    ]);
  });

  it('draws a collapse on a log axis', () => {
    // ETH falls from 80 to 0.00005, a LUNA-like collapse.
    const collapse = (price: number): number => 80 * 6e-7 ** ((194.61 - price) / (194.61 * 0.55));
    const runs = result.runs.map((run) => ({
      ...run,
      samples: run.samples.map((s) => ({
        ...s,
        exogenous: { ...s.exogenous, ETH: collapse(s.exogenous.ETH ?? 0) },
        realized: { ...s.realized, ETH: collapse(s.realized.ETH ?? 0) },
      })),
    }));
    const page = renderReport({ ...result, runs });
    const svg = chartSvg(page, 'price-ETH');
    const axis = svg.slice(svg.indexOf('<g class="axis y">'), svg.indexOf('<g class="axis x">'));
    const labels = [...axis.matchAll(/text-anchor="end">([^<]*)</g)].map((m) => m[1]);
    // One label per decade, with room under the low (about 1.7e-5) for its note.
    expect(labels).toEqual(['1e-6', '1e-5', '1e-4', '0.001', '0.01', '0.1', '1', '10', '100']);
    expect(seriesIn(svg).every((s) => s.points === SAMPLES_PER_DAY)).toBe(true);
    expectFiniteEverywhere(page);
  });

  it('draws one line per series with one point per sample', () => {
    for (const symbol of ['ETH', 'BTC']) {
      const series = seriesIn(chartSvg(html, `price-${symbol}`));
      expect(series.map((s) => s.name)).toEqual([...names, 'exogenous']);
      for (const s of series) {
        expect(s.points).toBe(SAMPLES_PER_DAY);
        expect(s.declared).toBe(SAMPLES_PER_DAY);
      }
      // Every line's low is marked.
      expect(chartSvg(html, `price-${symbol}`).match(/<circle class="low"/g)).toHaveLength(6);
    }
    for (const id of ['liquidated', 'liquidatable']) {
      const series = seriesIn(chartSvg(html, id));
      expect(series.map((s) => s.name)).toEqual(names);
      expect(series.every((s) => s.points === SAMPLES_PER_DAY)).toBe(true);
    }
    const badDebt = seriesIn(chartSvg(html, 'bad-debt'));
    expect(badDebt.map((s) => s.name)).toEqual(
      names.flatMap((n) => [`${n}: bad debt`, `${n}: insurance draw`]),
    );
  });

  it('keeps one colour per policy across charts', () => {
    const colourOf = (svg: string, name: string): string | undefined =>
      new RegExp(`data-series="${name}"[^>]*stroke="(#[0-9A-Fa-f]{6})"`).exec(svg)?.[1];
    for (const name of names) {
      const colours = new Set(
        ['price-ETH', 'price-BTC', 'liquidated', 'liquidatable'].map((id) =>
          colourOf(chartSvg(html, id), name),
        ),
      );
      expect(colours.size, name).toBe(1);
      expect([...colours][0]).toMatch(/^#/);
    }
  });

  it('labels the time axis in UTC hours and dates', () => {
    const svg = chartSvg(html, 'liquidated');
    const axis = svg.slice(svg.indexOf('<g class="axis x">'));
    const labels = [
      ...axis
        .slice(0, axis.indexOf('</g>'))
        .matchAll(/<text class="tick[^"]*"[^>]*text-anchor="[a-z]+">([^<]*)</g),
    ].map((m) => m[1]);
    expect(labels).toEqual([
      '00:00',
      '03-12',
      '03:00',
      '06:00',
      '09:00',
      '12:00',
      '15:00',
      '18:00',
      '21:00',
      '00:00',
      '03-13',
    ]);
  });

  it('labels the health buckets from their bounds, +∞ last', () => {
    const svg = chartSvg(html, 'health');
    const labels = [
      ...svg.matchAll(
        /<text class="tick(?: stagger)?" x="[^"]*" y="[^"]*" text-anchor="middle">([^<]*)</g,
      ),
    ].map((m) => m[1]);
    expect(labels).toEqual([
      '&lt;0.5',
      '0.5–0.8',
      '0.8–1',
      '1–1.1',
      '1.1–1.25',
      '1.25–1.5',
      '1.5–2',
      '2–3',
      '≥3',
    ]);
    // The grey "before" bars once, then one set per policy.
    expect(svg.match(/<rect class="bar"/g)).toHaveLength(9 * 6);
  });

  it('draws the margin multiplier only for the policy and assets that moved it', () => {
    for (const symbol of ['ETH', 'BTC']) {
      expect(seriesIn(chartSvg(html, `margin-${symbol}`)).map((s) => s.name)).toEqual([
        'dynamic-margin',
      ]);
    }
    const staticOnly = renderReport(blackThursdayResult(FIVE_POLICIES.slice(0, 4)));
    expect(staticOnly).not.toContain('data-chart="margin-');
    expectFiniteEverywhere(staticOnly);
  });

  it('escapes every string taken from the result', () => {
    const hostile: PolicySpec = {
      ...FIVE_POLICIES[0],
      policy: '<script>alert("x")</script>',
      description: '<img src=x onerror=alert(1)> & co',
    } as PolicySpec;
    const base = blackThursdayResult([hostile, ...FIVE_POLICIES.slice(1)]);
    const page = renderReport({
      ...base,
      scenario: '</title><script>alert(1)</script>',
      description: '"quoted" \'single\'',
      market: { '<b>': '<i>' },
      paths: base.paths.map((p) => ({ ...p, source: '<svg onload=alert(1)>' })),
      verdict: { ...base.verdict, text: '<style>body{display:none}</style>' },
    });
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<svg onload');
    expect(page).not.toContain('<b>=');
    expect(page.match(/<style>/g)).toHaveLength(1);
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; co');
    expect(page).toContain('&quot;quoted&quot; &#39;single&#39;');
    // The hostile name is still in the table and the legends, escaped.
    expect(page).toContain('<tr data-policy="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;">');
    expect(legendNames(figureOf(page, 'liquidated'))).toContain(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;',
    );
  });

  it(`downsamples a long series to at most ${POINTS_MAX} points, keeping its low`, () => {
    const long = renderReport(blackThursdayResult(FIVE_POLICIES.slice(0, 2), 5000));
    const svg = chartSvg(long, 'price-ETH');
    for (const s of seriesIn(svg)) {
      expect(s.points).toBeLessThanOrEqual(POINTS_MAX);
      expect(s.points).toBeGreaterThan(POINTS_MAX / 2);
      expect(s.declared).toBe(s.points);
      const low = new RegExp(`data-low="${s.name}" cx="([^"]*)" cy="([^"]*)"`).exec(svg);
      expect(s.d).toContain(`${low?.[1]},${low?.[2]}`);
    }
    expectFiniteEverywhere(long);
  });
});

describe('renderReport on degenerate results', () => {
  it('renders 200,000 samples per series (no argument-list overflow)', () => {
    const html = renderReport(blackThursdayResult(FIVE_POLICIES.slice(0, 1), 200_000));
    expectFiniteEverywhere(html);
    expect(seriesIn(chartSvg(html, 'liquidated'))[0]?.points).toBeLessThanOrEqual(POINTS_MAX);
  });

  it('renders a single sample as dots', () => {
    const html = renderReport(blackThursdayResult(FIVE_POLICIES, 1));
    expectFiniteEverywhere(html);
    const series = seriesIn(chartSvg(html, 'price-ETH'));
    expect(series.every((s) => s.points === 1)).toBe(true);
    expect(html).toContain(
      'Window <time>2020-03-12T00:00:00Z</time> → <time>2020-03-12T00:00:00Z</time>',
    );
  });

  it('renders zero bad debt everywhere without a winner or a NaN', () => {
    const clean = FIVE_POLICIES.map((p) => ({ ...p, badDebt: 0 }));
    const html = renderReport(blackThursdayResult(clean));
    expectFiniteEverywhere(html);
    expect(html).toContain('No run wrote off bad debt or drew on the insurance fund.');
    expect(highlighted(html, 'badDebt')).toEqual([]);
    expect(highlighted(html, 'amplification')).toEqual(['throttled']);
  });

  it('highlights every policy tied for the lowest bad debt', () => {
    const tied = FIVE_POLICIES.map((p) => (p.policy === 'full' ? { ...p, badDebt: 0.41e6 } : p));
    expect(highlighted(renderReport(blackThursdayResult(tied)), 'badDebt')).toEqual([
      'full',
      'dutch-auction',
    ]);
  });

  it('renders no runs, no paths and an empty book', () => {
    const base = blackThursdayResult([]);
    const html = renderReport({
      ...base,
      paths: [],
      market: {},
      population: {
        ...base.population,
        accounts: 0,
        collateralValue: 0,
        debtValue: 0,
        collateral: [],
      },
    });
    expectFiniteEverywhere(html);
    expect(html).toContain('No runs.');
    expect(html).not.toContain('data-chart="glance"');
    expect(html).not.toContain('data-chart="margin-');
  });

  it('shows non-finite figures as a dash', () => {
    const base = blackThursdayResult(FIVE_POLICIES.slice(0, 2));
    const [first, second] = base.runs;
    if (first === undefined || second === undefined) throw new Error('fixture');
    const broken: PolicyRun = {
      ...first,
      metrics: { ...first.metrics, badDebt: NaN, amplification: Infinity },
      samples: first.samples.map((s, i) => (i === 10 ? { ...s, badDebt: NaN, realized: {} } : s)),
    };
    const html = renderReport({ ...base, runs: [broken, second] });
    expectFiniteEverywhere(html);
    expect(html).toContain('data-col="badDebt">—</td>');
    expect(seriesIn(chartSvg(html, 'price-ETH'))[0]?.points).toBe(SAMPLES_PER_DAY - 1);
  });
});

describe('formatting', () => {
  it.each([
    [0, '$0.00'],
    [12.345, '$12.35'],
    [999.994, '$999.99'],
    [999.996, '$1.0k'],
    [456_700, '$456.7k'],
    [999_960, '$1.00M'],
    [1_234_567, '$1.23M'],
    [2.5e9, '$2.50B'],
    [-1500, '-$1.5k'],
    [NaN, '—'],
  ])('money %s → %s', (value, text) => {
    expect(formatMoney(value)).toBe(text);
  });

  it.each([
    [3782.41, '3,782'],
    [194.61, '194.6'],
    [86.1234, '86.12'],
    [1, '1'],
    [0.0000500012, '0.00005'],
    [0.000051234, '0.00005123'],
    [Infinity, '—'],
  ])('price %s → %s', (value, text) => {
    expect(formatPrice(value)).toBe(text);
  });

  it.each([
    [0.04321, '4.32%'],
    [0.25, '25.0%'],
    [-0.000001, '0.00%'],
    [0, '0.00%'],
  ])('percent %s → %s', (value, text) => {
    expect(formatPercent(value)).toBe(text);
  });

  it('groups counts', () => {
    expect(formatCount(1_234_567)).toBe('1,234,567');
    expect(formatCount(999)).toBe('999');
  });
});
