/**
 * The cascade simulation's report: one self-contained HTML page written from a
 * `SimulationResult`, for a risk team deciding between liquidation policies. The answer comes
 * first (the verdict and the comparison table), then the charts that show why, then the inputs
 * (population and price paths).
 *
 * The page loads nothing: no script, font, image or style sheet from anywhere. The charts are
 * inline SVG drawn here, scaled by their viewBox; legends are HTML so that they wrap on a narrow
 * screen. The output is a pure function of the result: no clock, no randomness, and every string
 * taken from the result is escaped. Times are shown in UTC, computed without `Date` so that the
 * core stays free of clocks.
 */
import { DAY_SECONDS, isoUtc, utcFields } from '../math/time.js';
import type { HealthHistogram, PolicyRun, Sample, SimulationResult } from './result.js';
import { CHART_STYLE, SERIES_COLORS } from './chartStyle.js';
import {
  derivativesCharts,
  derivativesSection,
  instrumentsSection,
  tradersSection,
} from './reportPerps.js';

// ---------------------------------------------------------------------------------------------
// Formatting

/**
 * Escapes text for HTML element content and quoted attribute values.
 *
 * @example
 * escapeHtml('<b>"A&B"</b>'); // '&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;'
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** What a formatter shows for a value that is not a finite number. */
const MISSING = '—';

/** Money units, smallest first: divisor, suffix, decimals. */
const MONEY_UNITS: readonly (readonly [number, string, number])[] = [
  [1, '', 2],
  [1e3, 'k', 1],
  [1e6, 'M', 2],
  [1e9, 'B', 2],
];

/**
 * Formats an amount of the quote unit compactly. `trim` drops trailing zeros (axis ticks).
 *
 * @example
 * formatMoney(1_234_567); // '$1.23M'
 * formatMoney(456_700); // '$456.7k'
 * formatMoney(12.345); // '$12.35'
 */
export function formatMoney(value: number, trim = false): string {
  if (!Number.isFinite(value)) return MISSING;
  const sign = value < 0 ? '-' : '';
  const magnitude = Math.abs(value);
  let text = '';
  for (const [divisor, suffix, decimals] of MONEY_UNITS) {
    // The next unit takes over once the rounded figure reaches 1,000: $999.99, then $1.0k.
    text = `${trimZeros((magnitude / divisor).toFixed(decimals), trim)}${suffix}`;
    if (Number((magnitude / divisor).toFixed(decimals)) < 1000) break;
  }
  return `${sign}$${text}`;
}

/**
 * Formats a fraction as a percentage: two decimals below 10%, one above.
 *
 * @example
 * formatPercent(0.04321); // '4.32%'
 * formatPercent(0.25); // '25.0%'
 */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return MISSING;
  const percent = fraction * 100;
  const text = percent.toFixed(Math.abs(percent) < 10 ? 2 : 1);
  // Rounding can leave a negative zero's sign behind ('-0.00').
  return `${Number(text) === 0 ? text.replace('-', '') : text}%`;
}

/**
 * Formats a price with `digits` significant digits (whole numbers from 1,000 up), without
 * trailing zeros, so that BTC and a collapsed token both read naturally.
 *
 * @example
 * formatPrice(3782.41); // '3,782'
 * formatPrice(86.1234); // '86.12'
 * formatPrice(0.0000500012); // '0.00005'
 */
export function formatPrice(price: number, digits = 4): string {
  if (!Number.isFinite(price)) return MISSING;
  if (Math.abs(price) >= 1000) return groupThousands(Math.round(price));
  if (price === 0) return '0';
  const decimals = digits - 1 - Math.floor(Math.log10(Math.abs(price)));
  return trimZeros(price.toFixed(Math.min(20, Math.max(0, decimals))), true);
}

/**
 * Formats a count with thousands separators.
 *
 * @example
 * formatCount(12345); // '12,345'
 */
export function formatCount(count: number): string {
  if (!Number.isFinite(count)) return MISSING;
  return groupThousands(Math.round(count));
}

/** A plain decimal with at most `decimals` decimals and no trailing zeros (health, multipliers). */
export function formatRatio(value: number, decimals = 2): string {
  if (!Number.isFinite(value)) return MISSING;
  return trimZeros(value.toFixed(decimals), true);
}

function groupThousands(integer: number): string {
  const text = Math.abs(integer).toFixed(0);
  return (integer < 0 ? '-' : '') + text.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function trimZeros(text: string, trim: boolean): string {
  if (!trim || !text.includes('.')) return text;
  return text.replace(/0+$/, '').replace(/\.$/, '');
}

interface UtcParts {
  readonly date: string;
  readonly monthDay: string;
  readonly year: string;
  readonly hourMinute: string;
}

function utcParts(seconds: number): UtcParts {
  const t = utcFields(seconds);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const monthDay = `${pad(t.month)}-${pad(t.day)}`;
  return {
    date: `${String(t.year).padStart(4, '0')}-${monthDay}`,
    monthDay,
    year: String(t.year),
    hourMinute: `${pad(t.hour)}:${pad(t.minute)}`,
  };
}

/** A time as ISO-8601 UTC, to the second; a dash when there is none. */
function timeText(seconds: number): string {
  return Number.isFinite(seconds) ? isoUtc(seconds) : MISSING;
}

/** A duration in seconds as the largest whole unit that divides it (`60 s` reads `1 min`). */
function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return MISSING;
  if (seconds > 0 && seconds % 3600 === 0) return `${formatCount(seconds / 3600)} h`;
  if (seconds > 0 && seconds % 60 === 0) return `${formatCount(seconds / 60)} min`;
  return `${formatCount(seconds)} s`;
}

// ---------------------------------------------------------------------------------------------
// Colours and series

/** Policy colours: the shared chart style's series (`chartStyle.ts`, the console's too). */
const POLICY_COLORS = SERIES_COLORS;
const EXOGENOUS_COLOR = CHART_STYLE.exogenous;
const BEFORE_COLOR = CHART_STYLE.before;
const DASH_EXOGENOUS = '7 5';
const DASH_SECONDARY = '5 4';

export function policyColor(index: number): string {
  return POLICY_COLORS[index % POLICY_COLORS.length] ?? EXOGENOUS_COLOR;
}

/** A point of a time series: Unix seconds and a value. */
type Point = readonly [number, number];

/**
 * Most points drawn per line. A longer series keeps its first and last points and, from each of
 * `(POINTS_MAX - 2) / 2` equal runs of samples, the lowest and the highest in time order, so
 * that lows and spikes survive; the line then has at most `POINTS_MAX` points.
 */
export const POINTS_MAX = 600;

function downsample(points: readonly Point[]): readonly Point[] {
  if (points.length <= POINTS_MAX) return points;
  const buckets = (POINTS_MAX - 2) / 2;
  const kept = new Set<number>([0, points.length - 1]);
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * points.length) / buckets);
    const to = Math.floor(((b + 1) * points.length) / buckets);
    let low = from;
    let high = from;
    for (let i = from + 1; i < to; i++) {
      const value = points[i]?.[1] ?? 0;
      if (value < (points[low]?.[1] ?? 0)) low = i;
      if (value > (points[high]?.[1] ?? 0)) high = i;
    }
    kept.add(low).add(high);
  }
  return [...kept]
    .sort((a, b) => a - b)
    .flatMap((i) => {
      const point = points[i];
      return point === undefined ? [] : [point];
    });
}

/** The samples' values of one quantity; missing and non-finite values are left out. */
export function seriesOf(
  samples: readonly Sample[],
  pick: (sample: Sample) => number | undefined,
): Point[] {
  const points: Point[] = [];
  for (const sample of samples) {
    const value = pick(sample);
    if (value !== undefined && Number.isFinite(value) && Number.isFinite(sample.time)) {
      points.push([sample.time, value]);
    }
  }
  return points;
}

/** The first point with the lowest value, or undefined for an empty series. */
function lowest(points: readonly Point[]): Point | undefined {
  let low: Point | undefined;
  for (const point of points) if (low === undefined || point[1] < low[1]) low = point;
  return low;
}

// ---------------------------------------------------------------------------------------------
// Scales

/** The SVG coordinate system of every time chart (user units; the page scales it). */
const WIDTH = 760;
const HEIGHT = 320;
/**
 * The plot area. The left margin holds y labels of up to seven characters at the narrow-screen
 * font (22 units, about 12 units a character), so that every time chart lines up with the others.
 */
const PLOT = { left: 84, right: WIDTH - 22, top: 16, bottom: HEIGHT - 56 } as const;

interface Scale {
  readonly map: (value: number) => number;
  readonly ticks: readonly number[];
}

/** A coordinate as SVG text: one decimal, and never NaN (which would break the whole path). */
function coord(value: number): string {
  if (!Number.isFinite(value)) return '0';
  return String(Math.round(Math.min(1e5, Math.max(-1e5, value)) * 10) / 10);
}

function linearMap(
  domain: readonly [number, number],
  range: readonly [number, number],
): (v: number) => number {
  const span = domain[1] - domain[0];
  return (v) => range[0] + ((v - domain[0]) / (span === 0 ? 1 : span)) * (range[1] - range[0]);
}

/**
 * The lowest and highest of `values`, or `empty` when there are none. A loop, not `Math.min(...)`:
 * a long run's samples would overflow the argument list.
 */
function extent(values: readonly number[], empty: readonly [number, number]): [number, number] {
  if (values.length === 0) return [...empty];
  let lo = Infinity;
  let hi = -Infinity;
  for (const value of values) {
    if (value < lo) lo = value;
    if (value > hi) hi = value;
  }
  return [lo, hi];
}

/** A tick step for whole counts: at least 1, and 2 rather than 2.5. */
function integerStep(step: number): number {
  return step < 1 ? 1 : step === 2.5 ? 2 : Math.round(step);
}

/** 1, 2, 2.5 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const multiple =
    fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  return multiple * power;
}

interface YOptions {
  /** Values the axis must show (0 for cumulative counts, 1 for multipliers). */
  readonly include: readonly number[];
  readonly integer: boolean;
  /** Use a log axis when the values span more than LOG_RATIO_MIN (prices of a collapse). */
  readonly allowLog: boolean;
  /** Room left under the lowest value, as a fraction of the span (for the low's label). */
  readonly padBottom: number;
}

const LOG_RATIO_MIN = 30;
const Y_TICKS = 5;

/** A y scale for data spanning `data` (undefined when there is none). */
function yScale(
  data: readonly [number, number] | undefined,
  options: YOptions,
): Scale & { readonly log: boolean } {
  let [lo, hi] = extent(
    data === undefined ? options.include : [...data, ...options.include],
    [0, 1],
  );
  const range = [PLOT.bottom, PLOT.top] as const;
  if (options.allowLog && lo > 0 && hi / lo >= LOG_RATIO_MIN) return logScale(lo, hi, options);
  if (hi - lo <= 0) {
    const pad = Math.abs(hi) * 0.05 || 1;
    hi += pad;
    lo = lo === 0 ? 0 : lo - pad;
  }
  const floor = lo >= 0 ? 0 : -Infinity;
  lo = Math.max(floor, lo - (hi - lo) * options.padBottom);
  let step = niceStep((hi - lo) / Y_TICKS);
  if (options.integer) step = integerStep(step);
  const first = Math.floor(lo / step) * step;
  const last = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let i = 0; first + i * step <= last + step / 2; i++) {
    ticks.push(Number((first + i * step).toPrecision(12)));
  }
  return { map: linearMap([first, last], range), ticks, log: false };
}

function logScale(lo: number, hi: number, options: YOptions): Scale & { readonly log: true } {
  const logHi = Math.log10(hi) + 0.02 * Math.log10(hi / lo);
  const logLo = Math.log10(lo) - options.padBottom * Math.log10(hi / lo);
  const map = linearMap([logLo, logHi], [PLOT.bottom, PLOT.top]);
  const decades: number[] = [];
  for (let k = Math.ceil(logLo - 1); k <= Math.floor(logHi); k++) decades.push(k);
  // With few decades on the axis, 2× and 5× steps between them keep it readable.
  const multiples = decades.length <= 3 ? [1, 2, 5] : [1];
  const ticks = decades
    .flatMap((k) => multiples.map((m) => Number((m * 10 ** k).toPrecision(6))))
    .filter((t) => Math.log10(t) >= logLo && Math.log10(t) <= logHi);
  return { map: (v) => map(Math.log10(v)), ticks, log: true };
}

/** Tick steps for a time axis, in seconds. */
const TIME_STEPS = [
  60, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800,
];
const TIME_TICKS_MAX = 8;

export interface TimeAxis {
  readonly domain: readonly [number, number];
  readonly map: (seconds: number) => number;
  readonly ticks: readonly TimeTick[];
}

interface TimeTick {
  readonly at: number;
  /** The time, then the date where it changes (or the date, then the year). */
  readonly lines: readonly string[];
  /** Off the grid of twice the step: its time label is hidden on a narrow screen. */
  readonly minor: boolean;
}

export function timeAxis(domain: readonly [number, number]): TimeAxis {
  const span = domain[1] - domain[0];
  const step =
    TIME_STEPS.find((s) => span / s <= TIME_TICKS_MAX) ??
    Math.ceil(span / TIME_TICKS_MAX / DAY_SECONDS) * DAY_SECONDS;
  const ticks: TimeTick[] = [];
  let previous: UtcParts | undefined;
  for (let at = Math.ceil(domain[0] / step) * step; at <= domain[1]; at += step) {
    const parts = utcParts(at);
    // The date is written under the first tick and wherever it changes; the year likewise.
    const lines =
      step < DAY_SECONDS
        ? [parts.hourMinute, previous?.date === parts.date ? '' : parts.monthDay]
        : [parts.monthDay, previous?.year === parts.year ? '' : parts.year];
    ticks.push({ at, lines, minor: at % (2 * step) !== 0 });
    previous = parts;
  }
  return { domain, map: linearMap(domain, [PLOT.left, PLOT.right]), ticks };
}

/** The time span shown: the result's window and every sample, never empty. */
export function timeDomain(result: SimulationResult): readonly [number, number] {
  let from = Infinity;
  let to = -Infinity;
  const widen = (time: number): void => {
    if (!Number.isFinite(time)) return;
    from = Math.min(from, time);
    to = Math.max(to, time);
  };
  widen(result.start);
  widen(result.end);
  for (const run of result.runs) for (const sample of run.samples) widen(sample.time);
  if (from > to) [from, to] = [0, 1];
  if (to <= from) {
    const half = Math.max(60, Number.isFinite(result.stepSeconds) ? result.stepSeconds : 0);
    from -= half;
    to += half;
  }
  return [from, to];
}

// ---------------------------------------------------------------------------------------------
// SVG charts

interface LineSeries {
  /** Series name, written on the path as `data-series`. */
  readonly name: string;
  readonly color: string;
  readonly points: readonly Point[];
  readonly dash?: string;
  readonly width?: number;
  /** Mark the series' lowest point. */
  readonly markLow?: boolean;
}

/** Text lines written under a point (the lows of a price chart). */
interface Note {
  readonly at: Point;
  readonly lines: readonly { readonly text: string; readonly color: string }[];
}

interface LineChart {
  /** Written as `data-chart`, to tell the charts apart. */
  readonly id: string;
  readonly label: string;
  readonly series: readonly LineSeries[];
  readonly time: TimeAxis;
  readonly yFormat: (value: number) => string;
  readonly y: YOptions;
  readonly note?: Note;
}

function svgOpen(id: string, label: string, height: number): string {
  return (
    `<svg class="chart" data-chart="${escapeHtml(id)}" viewBox="0 0 ${WIDTH} ${height}" ` +
    `role="img" aria-label="${escapeHtml(label)}" preserveAspectRatio="xMidYMid meet">` +
    `<title>${escapeHtml(label)}</title>`
  );
}

/** The lowest and highest value over all series, or undefined when they have no points. */
function seriesExtent(series: readonly LineSeries[]): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    for (const point of s.points) {
      if (point[1] < lo) lo = point[1];
      if (point[1] > hi) hi = point[1];
    }
  }
  return lo <= hi ? [lo, hi] : undefined;
}

export function renderLineChart(chart: LineChart): string {
  const data = seriesExtent(chart.series);
  const y = yScale(data, chart.y);
  // A log axis cannot show zero or less; such points are left out of the line.
  const drawn = chart.series.map((s) => ({
    ...s,
    points: y.log ? s.points.filter((p) => p[1] > 0) : s.points,
  }));
  const x = chart.time.map;
  const lines = drawn.map((s) => seriesPath(s, x, y.map)).join('');
  const lows = drawn
    .filter((s) => s.markLow === true)
    .map((s) => lowMarker(s, x, y.map))
    .join('');
  const note = chart.note === undefined ? '' : noteText(chart.note, x, y.map);
  const empty =
    data === undefined
      ? `<text class="empty" x="${(PLOT.left + PLOT.right) / 2}" y="${(PLOT.top + PLOT.bottom) / 2}" text-anchor="middle">No samples</text>`
      : '';
  return (
    svgOpen(chart.id, chart.label, HEIGHT) +
    yAxis(y, chart.yFormat) +
    xAxis(chart.time) +
    `<g>${lines}${lows}</g>${note}${empty}</svg>`
  );
}

function seriesPath(
  series: LineSeries,
  x: (t: number) => number,
  y: (v: number) => number,
): string {
  const points = downsample(series.points);
  if (points.length === 0) return '';
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${coord(x(p[0]))},${coord(y(p[1]))}`);
  const dash = series.dash === undefined ? '' : ` stroke-dasharray="${series.dash}"`;
  const attributes =
    `data-series="${escapeHtml(series.name)}" data-points="${points.length}" ` +
    `stroke="${series.color}" stroke-width="${series.width ?? 2}"${dash}`;
  // A single sample has no line to draw: a dot shows where it is.
  const first = points[0];
  const dot =
    points.length === 1 && first !== undefined
      ? `<circle cx="${coord(x(first[0]))}" cy="${coord(y(first[1]))}" r="3" fill="${series.color}"/>`
      : '';
  return `<path class="series" fill="none" ${attributes} d="${d.join('')}"/>${dot}`;
}

function lowMarker(series: LineSeries, x: (t: number) => number, y: (v: number) => number): string {
  const low = lowest(series.points);
  if (low === undefined) return '';
  return (
    `<circle class="low" data-low="${escapeHtml(series.name)}" cx="${coord(x(low[0]))}" ` +
    `cy="${coord(y(low[1]))}" r="4" fill="${series.color}" stroke="#fff" stroke-width="1.5"/>`
  );
}

/** Line spacing of stacked labels, room for the narrow-screen font. */
const LINE_HEIGHT = 23;
/** Width of one character of a note at the narrow-screen font (user units), to keep it inside. */
const NOTE_CHAR_WIDTH = 10.5;

function noteText(note: Note, x: (t: number) => number, y: (v: number) => number): string {
  const px = x(note.at[0]);
  const py = y(note.at[1]);
  // Below the low is where the lines are not; above only when the frame ends first.
  const below = py + 20 + (note.lines.length - 1) * LINE_HEIGHT + 6 <= PLOT.bottom;
  const top = below ? py + 20 : py - 10 - (note.lines.length - 1) * LINE_HEIGHT;
  const half = (Math.max(...note.lines.map((l) => l.text.length)) * NOTE_CHAR_WIDTH) / 2;
  const [anchor, tx] =
    px > PLOT.right - half
      ? ['end', px - 4]
      : px < PLOT.left + half
        ? ['start', px + 4]
        : ['middle', px];
  return note.lines
    .map(
      (line, i) =>
        `<text class="note" x="${coord(tx)}" y="${coord(top + i * LINE_HEIGHT)}" ` +
        `text-anchor="${anchor}" fill="${line.color}">${escapeHtml(line.text)}</text>`,
    )
    .join('');
}

function yAxis(y: Scale, format: (v: number) => string): string {
  const parts = y.ticks.map((tick) => {
    const py = coord(y.map(tick));
    return (
      `<line class="grid" x1="${PLOT.left}" x2="${PLOT.right}" y1="${py}" y2="${py}"/>` +
      `<text class="tick" x="${PLOT.left - 8}" y="${py}" dy="0.32em" text-anchor="end">` +
      `${escapeHtml(format(tick))}</text>`
    );
  });
  return `<g class="axis y">${parts.join('')}</g>`;
}

/** Distance from the frame's ends (user units) within which a time label leans inward. */
const EDGE = 36;

function xAxis(time: TimeAxis): string {
  const base = `<line class="axis-line" x1="${PLOT.left}" x2="${PLOT.right}" y1="${PLOT.bottom}" y2="${PLOT.bottom}"/>`;
  const parts = time.ticks.map((tick) => {
    const x = time.map(tick.at);
    const px = coord(x);
    // Labels at the ends lean inward: clear of the lowest y label, and inside the frame.
    const [anchor, lx] =
      x - PLOT.left < EDGE
        ? ['start', x - 4]
        : PLOT.right - x < EDGE
          ? ['end', x + 4]
          : ['middle', x];
    const labels = tick.lines
      .map((line, i) =>
        line === ''
          ? ''
          : `<text class="tick${i > 0 ? ' sub' : tick.minor ? ' minor' : ''}" x="${coord(lx)}" y="${PLOT.bottom + 20 + i * LINE_HEIGHT}" text-anchor="${anchor}">${escapeHtml(line)}</text>`,
      )
      .join('');
    return `<line class="tick-mark" x1="${px}" x2="${px}" y1="${PLOT.bottom}" y2="${PLOT.bottom + 5}"/>${labels}`;
  });
  return `<g class="axis x">${base}${parts.join('')}</g>`;
}

// ---------------------------------------------------------------------------------------------
// Legends and figures (HTML, so that they wrap)

interface LegendItem {
  readonly name: string;
  readonly color: string;
  readonly dash?: string;
  readonly width?: number;
  readonly box?: boolean;
}

function legend(items: readonly LegendItem[]): string {
  const entries = items.map((item) => {
    const swatch =
      item.box === true
        ? `<rect x="2" y="3" width="22" height="10" fill="${item.color}"/>`
        : `<line x1="1" x2="25" y1="8" y2="8" stroke="${item.color}" stroke-width="${item.width ?? 2.5}"` +
          `${item.dash === undefined ? '' : ` stroke-dasharray="${item.dash}"`}/>`;
    return (
      `<li data-legend="${escapeHtml(item.name)}"><svg class="swatch" viewBox="0 0 26 16" ` +
      `aria-hidden="true">${swatch}</svg>${escapeHtml(item.name)}</li>`
    );
  });
  return `<ul class="legend">${entries.join('')}</ul>`;
}

export function figure(
  title: string,
  caption: string,
  items: readonly LegendItem[],
  svg: string,
): string {
  return (
    `<figure><figcaption><h3>${escapeHtml(title)}</h3><p>${caption}</p></figcaption>` +
    `${legend(items)}${svg}</figure>`
  );
}

export function policyLegend(runs: readonly PolicyRun[]): LegendItem[] {
  return runs.map((run, i) => ({ name: run.policy, color: policyColor(i) }));
}

// ---------------------------------------------------------------------------------------------
// The charts of the report

function assetSymbols(result: SimulationResult): string[] {
  const symbols = result.paths.map((p) => p.symbol);
  for (const run of result.runs) for (const low of run.metrics.lows) symbols.push(low.symbol);
  // Every sample of a run prices the same assets: the first one says which.
  for (const run of result.runs) symbols.push(...Object.keys(run.samples[0]?.exogenous ?? {}));
  return [...new Set(symbols)];
}

export function priceChart(
  result: SimulationResult,
  symbol: string,
  time: TimeAxis,
  pick: {
    readonly exogenous: (s: Sample) => number | undefined;
    readonly realized: (s: Sample) => number | undefined;
  } = { exogenous: (s) => s.exogenous[symbol], realized: (s) => s.realized[symbol] },
): string {
  const exogenous = seriesOf(result.runs[0]?.samples ?? [], pick.exogenous);
  const realized = result.runs.map((run, i) => ({
    name: run.policy,
    color: policyColor(i),
    points: seriesOf(run.samples, pick.realized),
    markLow: true,
  }));
  const note = lowsNote(exogenous, realized);
  const series: LineSeries[] = [
    ...realized,
    // Drawn last, so that it stays visible over realized lines that coincide with it.
    {
      name: 'exogenous',
      color: EXOGENOUS_COLOR,
      points: exogenous,
      dash: DASH_EXOGENOUS,
      width: 1.6,
      markLow: true,
    },
  ];
  const svg = renderLineChart({
    id: `price-${symbol}`,
    label: `${symbol}: exogenous and realized price`,
    series,
    time,
    yFormat: priceTick,
    y: { include: [], integer: false, allowLog: true, padBottom: 0.3 },
    ...(note === undefined ? {} : { note }),
  });
  return figure(
    `${symbol}: exogenous versus realized price`,
    'Dashed: the exogenous path replayed; coloured: the price each policy realized after the ' +
      'impact of its own liquidations. Dots mark each line&#39;s low. Time in UTC.',
    [
      { name: 'exogenous', color: EXOGENOUS_COLOR, dash: DASH_EXOGENOUS, width: 1.6 },
      ...policyLegend(result.runs),
    ],
    svg,
  );
}

/** The exogenous low and the deepest realized low (with its policy), written under the latter. */
function lowsNote(exogenous: readonly Point[], realized: readonly LineSeries[]): Note | undefined {
  const exogenousLow = lowest(exogenous);
  let deepest: { series: LineSeries; low: Point } | undefined;
  for (const series of realized) {
    const low = lowest(series.points);
    if (low !== undefined && (deepest === undefined || low[1] < deepest.low[1])) {
      deepest = { series, low };
    }
  }
  const lines: { text: string; color: string }[] = [];
  if (exogenousLow !== undefined) {
    lines.push({ text: `exogenous low ${formatPrice(exogenousLow[1])}`, color: EXOGENOUS_COLOR });
  }
  if (deepest !== undefined) {
    lines.push({
      text: `realized low ${formatPrice(deepest.low[1])} (${clip(deepest.series.name, 24)})`,
      color: deepest.series.color,
    });
  }
  const at = deepest?.low ?? exogenousLow;
  return at === undefined ? undefined : { at, lines };
}

/** A price axis label: three significant digits, in exponent form below 0.001 (`5e-5`). */
function priceTick(price: number): string {
  if (price !== 0 && Math.abs(price) < 1e-3) {
    return price
      .toExponential(2)
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e');
  }
  return formatPrice(price, 3);
}

function clip(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

/** A chart of one cumulative or count quantity per policy. */
export function perPolicyChart(
  result: SimulationResult,
  time: TimeAxis,
  id: string,
  label: string,
  pick: (s: Sample) => number,
  yFormat: (v: number) => string,
  integer: boolean,
): string {
  return renderLineChart({
    id,
    label,
    series: result.runs.map((run, i) => ({
      name: run.policy,
      color: policyColor(i),
      points: seriesOf(run.samples, pick),
    })),
    time,
    yFormat,
    y: { include: [0], integer, allowLog: false, padBottom: 0 },
  });
}

function liquidatedChart(result: SimulationResult, time: TimeAxis): string {
  const svg = perPolicyChart(
    result,
    time,
    'liquidated',
    'Cumulative liquidated notional',
    (s) => s.liquidatedNotional,
    (v) => formatMoney(v, true),
    false,
  );
  return figure(
    'Cumulative liquidated notional',
    'Debt repaid by liquidations and the backstop so far, in the quote unit. Time in UTC.',
    policyLegend(result.runs),
    svg,
  );
}

function badDebtChart(result: SimulationResult, time: TimeAxis): string {
  const series = result.runs.flatMap((run, i) => [
    {
      name: `${run.policy}: bad debt`,
      color: policyColor(i),
      points: seriesOf(run.samples, (s) => s.badDebt),
      width: 2.5,
    },
    {
      name: `${run.policy}: insurance draw`,
      color: policyColor(i),
      points: seriesOf(run.samples, (s) => s.insuranceDraw),
      dash: DASH_SECONDARY,
      width: 1.4,
    },
  ]);
  const none = result.runs.every((r) =>
    r.samples.every((s) => s.badDebt === 0 && s.insuranceDraw === 0),
  );
  const svg = renderLineChart({
    id: 'bad-debt',
    label: 'Cumulative bad debt and insurance draw',
    series,
    time,
    yFormat: (v) => formatMoney(v, true),
    y: { include: [0], integer: false, allowLog: false, padBottom: 0 },
  });
  return figure(
    'Cumulative bad debt and insurance-fund draw',
    (none ? '<strong>No run wrote off bad debt or drew on the insurance fund.</strong> ' : '') +
      'Thick solid: bad debt written off; thin dashed: draw on the insurance fund. Time in UTC.',
    [
      ...policyLegend(result.runs),
      { name: 'bad debt', color: '#555', width: 3 },
      { name: 'insurance draw', color: '#555', dash: DASH_SECONDARY, width: 1.5 },
    ],
    svg,
  );
}

function liquidatableChart(result: SimulationResult, time: TimeAxis): string {
  const svg = perPolicyChart(
    result,
    time,
    'liquidatable',
    'Accounts below maintenance',
    (s) => s.liquidatable,
    formatCount,
    true,
  );
  return figure(
    'Accounts below maintenance, waiting for a liquidator',
    'Accounts liquidatable at each sample. Time in UTC.',
    policyLegend(result.runs),
    svg,
  );
}

const MULTIPLIER_EPSILON = 1e-9;

/** One chart per asset whose haircut multiplier moved in some run, with the runs that moved it. */
function marginCharts(result: SimulationResult, time: TimeAxis): string[] {
  return assetSymbols(result).flatMap((symbol) => {
    const moved = result.runs
      .map((run, i) => ({ run, color: policyColor(i) }))
      .filter(({ run }) =>
        run.samples.some(
          (s) => Math.abs((s.marginMultiplier[symbol] ?? 1) - 1) > MULTIPLIER_EPSILON,
        ),
      );
    if (moved.length === 0) return [];
    const svg = renderLineChart({
      id: `margin-${symbol}`,
      label: `${symbol}: haircut stress multiplier`,
      series: moved.map(({ run, color }) => ({
        name: run.policy,
        color,
        points: seriesOf(run.samples, (s) => s.marginMultiplier[symbol] ?? 1),
      })),
      time,
      yFormat: (v) => `${formatRatio(v)}×`,
      y: { include: [1], integer: false, allowLog: false, padBottom: 0 },
    });
    return [
      figure(
        `${symbol}: margin multiplier (dynamic margin)`,
        'The stress multiplier applied to the asset&#39;s haircuts; the other policies hold it ' +
          'at 1×. Time in UTC.',
        moved.map(({ run, color }) => ({ name: run.policy, color })),
        svg,
      ),
    ];
  });
}

// ---------------------------------------------------------------------------------------------
// Bar charts

/** Bucket labels from upper bounds: `<0.5`, `0.5–0.8`, …, `≥3` (null is +∞). */
function bucketLabels(bounds: readonly (number | null)[]): string[] {
  return bounds.map((bound, i) => {
    const previous = i === 0 ? undefined : bounds[i - 1];
    if (previous === undefined || previous === null) {
      return bound === null ? 'all' : `<${formatRatio(bound)}`;
    }
    return bound === null
      ? `≥${formatRatio(previous)}`
      : `${formatRatio(previous)}–${formatRatio(bound)}`;
  });
}

const BAR_HEIGHT = 300;
const BAR_PLOT = { left: 64, right: WIDTH - 12, top: 16, bottom: BAR_HEIGHT - 56 } as const;

interface BarGroup {
  readonly name: string;
  readonly color: string;
  readonly histogram: HealthHistogram;
}

function healthChart(result: SimulationResult): string {
  const first = result.runs[0];
  if (first === undefined) return '';
  const groups: BarGroup[] = [
    { name: 'before (all policies)', color: BEFORE_COLOR, histogram: first.healthBefore },
    ...result.runs.map((run, i) => ({
      name: `${run.policy} after`,
      color: policyColor(i),
      histogram: run.healthAfter,
    })),
  ];
  const bounds = first.healthBefore.bounds;
  const mismatch = result.runs.some(
    (run) =>
      !sameBounds(run.healthBefore.bounds, bounds) || !sameBounds(run.healthAfter.bounds, bounds),
  );
  return figure(
    'Maintenance health: before and after',
    'Accounts per health bucket (maintenance health; below 1 is liquidatable, shaded). Grey: the ' +
      'book before the crash, the same for every policy; coloured: after each run.' +
      (mismatch
        ? ' <strong>Runs used different buckets; the first run&#39;s are shown.</strong>'
        : ''),
    groups.map((g) => ({ name: g.name, color: g.color, box: true })),
    healthSvg(groups, bounds),
  );
}

/** Grouped bars: one group per bucket of `bounds`, one bar per histogram in it. */
function healthSvg(groups: readonly BarGroup[], bounds: readonly (number | null)[]): string {
  const labels = bucketLabels(bounds);
  const slot = (BAR_PLOT.right - BAR_PLOT.left) / Math.max(1, labels.length);
  const barWidth = (slot * 0.84) / Math.max(1, groups.length);
  const countOf = (group: BarGroup, b: number): number => {
    const count = group.histogram.counts[b] ?? 0;
    return Number.isFinite(count) ? count : 0;
  };
  const y = barScale(
    groups.flatMap((g) => labels.map((_, b) => countOf(g, b))),
    BAR_PLOT,
  );
  const shading = bounds.map((bound, b) =>
    bound !== null && bound <= 1
      ? `<rect class="danger" x="${coord(BAR_PLOT.left + b * slot)}" y="${BAR_PLOT.top}" ` +
        `width="${coord(slot)}" height="${BAR_PLOT.bottom - BAR_PLOT.top}"/>`
      : '',
  );
  const bars = groups.flatMap((group, g) =>
    labels.map((label, b) => {
      const value = countOf(group, b);
      const top = y.map(value);
      const x = BAR_PLOT.left + b * slot + slot * 0.08 + g * barWidth;
      return (
        `<rect class="bar" data-group="${escapeHtml(group.name)}" x="${coord(x)}" y="${coord(top)}" ` +
        `width="${coord(Math.max(1, barWidth - 1))}" height="${coord(BAR_PLOT.bottom - top)}" ` +
        `fill="${group.color}"><title>` +
        `${escapeHtml(`${group.name}, health ${label}: ${formatCount(value)}`)}</title></rect>`
      );
    }),
  );
  // On a narrow screen the labels grow; every other one then drops a line (CSS).
  const xLabels = labels.map(
    (label, b) =>
      `<text class="tick${b % 2 === 1 ? ' stagger' : ''}" ` +
      `x="${coord(BAR_PLOT.left + (b + 0.5) * slot)}" y="${BAR_PLOT.bottom + 20}" ` +
      `text-anchor="middle">${escapeHtml(label)}</text>`,
  );
  return (
    svgOpen('health', 'Maintenance health distribution before and after', BAR_HEIGHT) +
    shading.join('') +
    barYAxis(y, BAR_PLOT) +
    bars.join('') +
    `<line class="axis-line" x1="${BAR_PLOT.left}" x2="${BAR_PLOT.right}" ` +
    `y1="${BAR_PLOT.bottom}" y2="${BAR_PLOT.bottom}"/>` +
    xLabels.join('') +
    '</svg>'
  );
}

function sameBounds(a: readonly (number | null)[], b: readonly (number | null)[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function barScale(
  values: readonly number[],
  plot: { readonly top: number; readonly bottom: number },
): Scale {
  const max = Math.max(0, extent(values, [0, 0])[1]);
  const step = integerStep(niceStep((max || 1) / Y_TICKS));
  const last = Math.max(step, Math.ceil(max / step) * step);
  const ticks: number[] = [];
  for (let t = 0; t <= last; t += step) ticks.push(t);
  return { map: linearMap([0, last], [plot.bottom, plot.top]), ticks };
}

function barYAxis(y: Scale, plot: { readonly left: number; readonly right: number }): string {
  return y.ticks
    .map((tick) => {
      const py = coord(y.map(tick));
      return (
        `<line class="grid" x1="${plot.left}" x2="${plot.right}" y1="${py}" y2="${py}"/>` +
        `<text class="tick" x="${plot.left - 8}" y="${py}" dy="0.32em" text-anchor="end">${formatCount(tick)}</text>`
      );
    })
    .join('');
}

/** The comparison at a glance: bad debt and amplification per policy, side by side. */
function glanceChart(result: SimulationResult): string {
  const runs = result.runs;
  if (runs.length === 0) return '';
  const names = runs.map(
    (run, i) =>
      `<text class="tick" x="${GLANCE.labelRight}" y="${GLANCE.top + (i + 0.5) * GLANCE.row}" ` +
      `dy="0.32em" text-anchor="end">${escapeHtml(clip(run.policy, 14))}` +
      `<title>${escapeHtml(run.policy)}</title></text>`,
  );
  const svg =
    svgOpen(
      'glance',
      'Bad debt and amplification per policy',
      GLANCE.top + runs.length * GLANCE.row + 10,
    ) +
    names.join('') +
    glancePanel(
      runs,
      'Bad debt',
      GLANCE.labelRight + 12,
      462,
      (r) => r.metrics.badDebt,
      (v) => formatMoney(v),
    ) +
    glancePanel(
      runs,
      'Amplification',
      492,
      WIDTH - 12,
      (r) => r.metrics.amplification,
      formatPercent,
    ) +
    '</svg>';
  return figure(
    'At a glance: bad debt and amplification',
    'The two figures the verdict weighs, per policy; ★ marks the lowest.',
    policyLegend(runs),
    svg,
  );
}

/** The glance chart's rows; the names' column has room for fourteen narrow-screen characters. */
const GLANCE = { row: 34, top: 38, labelRight: 182 } as const;

/** One panel of horizontal bars between `x0` and `x1`, ★ on the lowest. */
function glancePanel(
  runs: readonly PolicyRun[],
  title: string,
  x0: number,
  x1: number,
  valueOf: (run: PolicyRun) => number,
  format: (value: number) => string,
): string {
  const values = runs.map(valueOf);
  const best = bestIndices(values);
  const max = Math.max(0, extent(values.filter(Number.isFinite), [0, 0])[1]);
  // Room is left after the longest bar for its value label at the narrow-screen font.
  const usable = x1 - x0 - 120;
  const bars = runs.map((run, i) => {
    const value = values[i] ?? 0;
    const length = max > 0 && Number.isFinite(value) ? (Math.max(0, value) / max) * usable : 0;
    const y = GLANCE.top + i * GLANCE.row;
    const isBest = best.has(i);
    return (
      `<rect class="bar${isBest ? ' best' : ''}" data-policy="${escapeHtml(run.policy)}" ` +
      `x="${x0}" y="${y + 6}" width="${coord(length)}" height="${GLANCE.row - 12}" ` +
      `fill="${policyColor(i)}"/><text class="value${isBest ? ' best' : ''}" ` +
      `x="${coord(x0 + length + 6)}" y="${y + GLANCE.row / 2}" dy="0.32em">` +
      `${escapeHtml(format(value))}${isBest ? ' ★' : ''}</text>`
    );
  });
  return (
    `<text class="panel-title" x="${x0}" y="22">${title}</text>` +
    `<line class="axis-line" x1="${x0}" x2="${x0}" y1="${GLANCE.top}" ` +
    `y2="${GLANCE.top + runs.length * GLANCE.row}"/>` +
    bars.join('')
  );
}

/** Indices holding the lowest finite value, unless every value is the same (nothing stands out). */
function bestIndices(values: readonly number[]): Set<number> {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return new Set();
  const min = Math.min(...finite);
  const best = values.flatMap((v, i) => (v === min ? [i] : []));
  return best.length === values.length && values.length > 1 ? new Set() : new Set(best);
}

// ---------------------------------------------------------------------------------------------
// Sections

function headerSection(result: SimulationResult): string {
  const population = result.population;
  const market = Object.entries(result.market)
    .map(([key, value]) => `<code>${escapeHtml(key)}=${escapeHtml(marketValue(value))}</code>`)
    .join(' ');
  const { leastBadDebt, leastAmplification } = result.verdict;
  return (
    `<header><p class="kicker">Fulcrum cascade simulation</p>` +
    `<h1>${escapeHtml(result.scenario)}</h1><p class="description">${escapeHtml(result.description)}</p></header>` +
    `<section class="verdict" aria-label="Verdict"><p>${escapeHtml(result.verdict.text)}</p>` +
    `<p class="answer"><span>Least bad debt: <strong>${escapeHtml(leastBadDebt.policy)}</strong> ` +
    `${formatMoney(leastBadDebt.badDebt)}</span><span>Least amplification: ` +
    `<strong>${escapeHtml(leastAmplification.policy)}</strong> ${formatPercent(leastAmplification.amplification)}</span></p></section>` +
    `<p class="facts"><span>Window <time>${timeText(result.start)}</time> → <time>${timeText(result.end)}</time></span>` +
    `<span>${formatCount(result.steps)} steps × ${formatDuration(result.stepSeconds)}</span>` +
    `<span>seed ${escapeHtml(String(result.seed))}</span>` +
    `<span>${formatCount(population.accounts)} ${population.traders === undefined ? 'accounts' : 'borrowers'}</span>` +
    (population.traders === undefined
      ? ''
      : `<span>${formatCount(population.traders.accounts)} perpetual traders (collateral ${formatMoney(population.traders.collateralValue)})</span>`) +
    `<span>collateral ${formatMoney(population.collateralValue)}</span>` +
    `<span>debt ${formatMoney(population.debtValue)}</span></p>` +
    (market === '' ? '' : `<p class="facts market">Market model: ${market}</p>`)
  );
}

function marketValue(value: string | number): string {
  return typeof value === 'number' ? (Number.isFinite(value) ? String(value) : MISSING) : value;
}

function comparisonSection(result: SimulationResult): string {
  const runs = result.runs;
  const bestBadDebt = bestIndices(runs.map((r) => r.metrics.badDebt));
  const bestAmplification = bestIndices(runs.map((r) => r.metrics.amplification));
  const rows = runs.map((run, i) => {
    const m = run.metrics;
    const cell = (col: string, text: string, best = false): string =>
      `<td class="num${best ? ' best' : ''}" data-col="${col}">${best ? '★ ' : ''}${text}</td>`;
    return (
      `<tr data-policy="${escapeHtml(run.policy)}"><th scope="row"><span class="pname"><span class="dot" style="background:${policyColor(i)}"></span>` +
      `${escapeHtml(run.policy)}</span><div class="muted">${escapeHtml(run.description)}</div></th>` +
      cell('amplification', formatPercent(m.amplification), bestAmplification.has(i)) +
      `<td class="lows" data-col="lows">${lowsCell(run)}</td>` +
      cell('liquidatedNotional', formatMoney(m.liquidatedNotional)) +
      cell(
        'liquidations',
        `${formatCount(m.liquidations)} (${formatCount(m.backstopLiquidations)})`,
      ) +
      cell('accountsLiquidated', formatCount(m.accountsLiquidated)) +
      cell('badDebt', formatMoney(m.badDebt), bestBadDebt.has(i)) +
      cell('insuranceDraw', formatMoney(m.insuranceDraw)) +
      cell('socialized', formatMoney(m.socialized)) +
      cell('marginChanges', formatCount(m.marginChanges)) +
      cell('liquidatableAtEnd', formatCount(m.liquidatableAtEnd)) +
      '</tr>'
    );
  });
  const head = [
    'Policy',
    'Amplification',
    'Realized low vs exogenous low',
    'Liquidated notional',
    'Liquidations (backstop)',
    'Accounts liquidated',
    'Bad debt',
    'Insurance draw',
    'Socialized',
    'Margin changes',
    'Liquidatable at end',
  ]
    .map((h) => `<th scope="col">${h}</th>`)
    .join('');
  return (
    `<section><h2>Policy comparison</h2>` +
    `<p class="note">One run per policy on the same price path and population. ★ and shading mark ` +
    `the lowest bad debt and the lowest amplification (the largest over the assets of how much ` +
    `liquidations deepened the fall).</p>` +
    `<div class="table-wrap"><table class="comparison"><thead><tr>${head}</tr></thead>` +
    `<tbody>${rows.join('') || '<tr><td colspan="11">No runs.</td></tr>'}</tbody></table></div></section>`
  );
}

function lowsCell(run: PolicyRun): string {
  return run.metrics.lows
    .map(
      (low) =>
        `<div><b>${escapeHtml(low.symbol)}</b> ${formatPrice(low.realizedLow)} ` +
        `<span class="muted">vs ${formatPrice(low.exogenousLow)}</span> ` +
        `<span class="amp">(${signedPercent(low.amplification)})</span></div>`,
    )
    .join('');
}

/** A percentage with its sign, for a change: `+4.32%`, `-0.50%`, `0.00%`. */
function signedPercent(fraction: number): string {
  const text = formatPercent(fraction);
  return fraction > 0 && text !== MISSING && text !== formatPercent(0) ? `+${text}` : text;
}

function chartsSection(result: SimulationResult): string {
  const time = timeAxis(timeDomain(result));
  const figures = [
    glanceChart(result),
    ...assetSymbols(result).map((symbol) => priceChart(result, symbol, time)),
    liquidatedChart(result, time),
    badDebtChart(result, time),
    liquidatableChart(result, time),
    healthChart(result),
    ...marginCharts(result, time),
    ...derivativesCharts(result, time),
  ];
  return `<section><h2>Charts</h2>${figures.join('')}</section>`;
}

/**
 * A table whose first column names the row; the next `textColumns - 1` columns are text and the
 * rest figures (right-aligned). Cells arrive as HTML, already escaped.
 */
export function table(
  caption: string,
  head: readonly string[],
  rows: readonly (readonly string[])[],
  textColumns = 1,
): string {
  const th = head.map(
    (h, i) => `<th scope="col"${i < textColumns ? '' : ' class="num"'}>${h}</th>`,
  );
  const body = rows.map((cells) => {
    const tds = cells.map((c, i) =>
      i === 0
        ? `<th scope="row">${c}</th>`
        : `<td${i < textColumns ? '' : ' class="num"'}>${c}</td>`,
    );
    return `<tr>${tds.join('')}</tr>`;
  });
  return (
    `<div class="table-wrap"><table><caption>${caption}</caption><thead><tr>${th.join('')}</tr></thead>` +
    `<tbody>${body.join('')}</tbody></table></div>`
  );
}

/** A two-column table of named figures. */
export function keyValues(caption: string, rows: readonly (readonly [string, string])[]): string {
  const body = rows.map(
    ([key, value]) => `<tr><th scope="row">${key}</th><td class="num">${value}</td></tr>`,
  );
  return `<div class="table-wrap"><table><caption>${caption}</caption><tbody>${body.join('')}</tbody></table></div>`;
}

function populationSection(result: SimulationResult): string {
  const p = result.population;
  const share = (value: number): string =>
    p.collateralValue > 0 ? formatPercent(value / p.collateralValue) : MISSING;
  const summary = keyValues('The book at the start', [
    ['Accounts', formatCount(p.accounts)],
    ['Seed', escapeHtml(String(p.seed))],
    ['Collateral value', formatMoney(p.collateralValue)],
    ['Debt value', formatMoney(p.debtValue)],
    ['Debt / collateral', share(p.debtValue)],
  ]);
  const collateral = table(
    'Collateral held',
    ['Symbol', 'Accounts holding it', 'Value', 'Share of collateral'],
    p.collateral.map((c) => [
      escapeHtml(c.symbol),
      formatCount(c.accounts),
      formatMoney(c.value),
      share(c.value),
    ]),
  );
  const size = table(
    'Account size (collateral value), percentiles',
    ['', 'p50', 'p90', 'p99', 'max'],
    [
      [
        'Collateral value',
        ...[p.size.p50, p.size.p90, p.size.p99, p.size.max].map((v) => formatMoney(v)),
      ],
    ],
  );
  const health = table(
    'Initial maintenance health, percentiles',
    ['', 'p10', 'p50', 'p90'],
    [['Health', ...[p.health.p10, p.health.p50, p.health.p90].map((v) => formatRatio(v))]],
  );
  const activity = table(
    'Engine activity per run',
    ['Policy', 'Liquidator bonus', 'Commands applied', 'Refused (failed attempts)'],
    result.runs.map((run) => [
      escapeHtml(run.policy),
      formatMoney(run.metrics.liquidatorBonus),
      formatCount(run.metrics.commands),
      formatCount(run.metrics.refused),
    ]),
  );
  return (
    `<section><h2>Population</h2><div class="tables">${summary}${collateral}${size}${health}</div>` +
    `${activity}</section>`
  );
}

function pathsSection(result: SimulationResult): string {
  const paths = table(
    'Exogenous price paths replayed',
    ['Symbol', 'Source', 'Start', 'Low', 'End', 'Start to low'],
    result.paths.map((path) => [
      escapeHtml(path.symbol),
      escapeHtml(path.source),
      formatPrice(path.start),
      formatPrice(path.low),
      formatPrice(path.end),
      path.start > 0 ? formatPercent(path.low / path.start - 1) : MISSING,
    ]),
    2,
  );
  return `<section><h2>Price paths</h2>${paths}</section>`;
}

// ---------------------------------------------------------------------------------------------
// The page

/**
 * The page's style: a light theme with dark ink. Chart text is sized in SVG user units; on a
 * narrow screen the chart shrinks to fit, so its text is drawn larger there (the layout leaves
 * room for it) and every other histogram label drops a line.
 */
const STYLE = `
:root{color-scheme:light;--ink:${CHART_STYLE.ink};--muted:${CHART_STYLE.muted};--rule:${CHART_STYLE.rule};--best:#dff3e6;--best-ink:#0b5d2a}
*{box-sizing:border-box}
body{margin:0;background:#fff;color:var(--ink);font:15px/1.5 ${CHART_STYLE.fontFamily}}
main{max-width:1240px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:1.7rem;margin:0 0 4px}
h2{font-size:1.3rem;margin:36px 0 10px;border-bottom:2px solid var(--ink);padding-bottom:4px}
h3{font-size:1.05rem;margin:0}
.kicker{margin:0;color:var(--muted);text-transform:uppercase;letter-spacing:.06em;font-size:.8rem}
.description{margin:4px 0 16px;color:var(--muted)}
.verdict{border-left:5px solid #0072B2;background:#f1f6fb;padding:12px 16px;margin:0 0 12px}
.verdict p{margin:0 0 6px;font-size:1.08rem}
.verdict p.answer{display:flex;flex-wrap:wrap;gap:6px 28px;font-size:.98rem;margin:0}
.facts{display:flex;flex-wrap:wrap;gap:4px 18px;margin:0 0 4px;font-size:.88rem;color:var(--muted)}
.facts time{white-space:nowrap}
.facts code{font-size:.85rem;background:#f3f3f3;padding:0 4px;border-radius:3px;color:var(--ink)}
.note{color:var(--muted);font-size:.9rem;margin:0 0 8px}
.table-wrap{overflow-x:auto;margin:0 0 16px}
.tables{display:flex;flex-wrap:wrap;gap:0 32px;align-items:flex-start}
table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border-bottom:1px solid var(--rule);padding:5px 6px;vertical-align:top;text-align:left}
thead th{border-bottom:2px solid var(--ink);font-weight:600;vertical-align:bottom}
th.num,td.num{text-align:right;white-space:nowrap}
td.lows{white-space:nowrap}
table.comparison{font-size:.82rem}
table.comparison th,table.comparison td{padding:5px 5px}
tbody th{font-weight:600;white-space:nowrap}
.pname{white-space:nowrap}
.muted{color:var(--muted);font-weight:400}
tbody th .muted{font-size:.78rem;max-width:200px;white-space:normal}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px}
td.best{background:var(--best);color:var(--best-ink);font-weight:700}
figure{margin:24px 0 32px;break-inside:avoid;page-break-inside:avoid}
figcaption p{margin:2px 0 6px;color:var(--muted);font-size:.88rem}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 16px;margin:0 0 6px;padding:0;font-size:.88rem}
.legend li{display:flex;align-items:center;gap:6px}
.swatch{width:26px;height:16px;flex:none}
svg.chart{display:block;width:100%;max-width:980px;height:auto}
svg.chart text{font-size:${CHART_STYLE.fontSize}px;fill:#333;font-family:${CHART_STYLE.fontFamily}}
svg.chart text.sub{fill:#555;font-size:12px}
svg.chart text.note{font-size:13px;font-weight:600;paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}
svg.chart text.panel-title{font-weight:700;fill:${CHART_STYLE.ink}}
svg.chart text.value.best{font-weight:700;fill:var(--best-ink)}
svg.chart text.empty{fill:#666;font-size:16px}
svg.chart .grid{stroke:${CHART_STYLE.grid};stroke-width:1}
svg.chart .axis-line,svg.chart .tick-mark{stroke:${CHART_STYLE.axis};stroke-width:1}
svg.chart .danger{fill:${CHART_STYLE.danger}}
svg.chart path.series{stroke-linejoin:round;stroke-linecap:round;vector-effect:non-scaling-stroke}
@media (max-width:640px){
main{padding:16px 10px 32px}body{font-size:14px}h1{font-size:1.35rem}
svg.chart text,svg.chart text.panel-title{font-size:22px}
svg.chart text.sub,svg.chart text.note{font-size:20px}
svg.chart text.stagger{transform:translateY(23px)}
svg.chart text.minor{display:none}}
@media print{body{font-size:11px}main{max-width:none;padding:0}h2{break-after:avoid}
.table-wrap{overflow:visible}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
`;

/**
 * Renders a simulation result as one self-contained HTML page: the verdict and the policy
 * comparison first, then the charts (bad debt and amplification per policy, exogenous against
 * realized prices, liquidated notional, bad debt and insurance draw, accounts waiting, the
 * health distribution before and after, the margin multiplier when dynamic margin moved it),
 * then the population and the price paths. Pure and deterministic: the same result gives the
 * same bytes. Run wall times are left out, since they differ between identical runs.
 *
 * @example
 * const html = renderReport(result); // '<!doctype html>…'
 */
export function renderReport(result: SimulationResult): string {
  const body = [
    headerSection(result),
    comparisonSection(result),
    derivativesSection(result),
    chartsSection(result),
    populationSection(result),
    tradersSection(result),
    pathsSection(result),
    instrumentsSection(result),
  ]
    .filter((part) => part !== '')
    .join('\n');
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(`Fulcrum cascade simulation: ${result.scenario}`)}</title>` +
    `<style>${STYLE}</style></head><body><main>\n${body}\n</main></body></html>\n`
  );
}
