/**
 * One chart style for the simulator's HTML report (`report.ts`) and the browser console
 * (`web/src/chart.ts`, `web/src/heatMap.ts`, which import this file by relative path): the
 * palette, the type and the axes. Constants only: no import, no I/O, safe in a browser.
 */

/**
 * Series colours: the Okabe-Ito palette (safe for the common colour-vision deficiencies) without
 * its yellow and black, which are too faint on white or reserved for the exogenous price, then
 * two of Paul Tol's muted colours. A series keeps its colour in every chart.
 */
export const SERIES_COLORS = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#882255',
  '#44AA99',
] as const;

export const CHART_STYLE = {
  /** Body text: 17:1 on white. */
  ink: '#1a1a1a',
  /** Secondary text: 8:1 on white. */
  muted: '#4d4d4d',
  /** Table rules and tick marks. */
  rule: '#d0d0d0',
  /** Grid lines behind a chart. */
  grid: '#e6e6e6',
  /** Axis lines and their labels. */
  axis: '#444444',
  /** The exogenous (market) price, drawn dashed in black. */
  exogenous: '#1a1a1a',
  /** What stood before (a histogram's "before"). */
  before: '#9a9a9a',
  /** A band of danger behind a chart (health below 1). */
  danger: '#fbe9e7',
  /** The font family of every chart and page. */
  fontFamily: 'system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif',
  /** Chart text, in CSS pixels. */
  fontSize: 13,
  /** Line width of a series. */
  lineWidth: 2,
} as const;

/**
 * A sequential ramp for heat maps, light to dark (Okabe-Ito vermilion's tints): the first is
 * "none", each next one more. Text on the last three is drawn white (contrast at least 4.5:1).
 */
export const HEAT_RAMP: readonly string[] = [
  '#ffffff',
  '#fde0cf',
  '#f9b994',
  '#ef8a55',
  '#d55e00',
  '#a44400',
  '#6e2c00',
];

/** How many of {@link HEAT_RAMP}'s darkest steps take white text. */
export const HEAT_DARK_STEPS = 3;
