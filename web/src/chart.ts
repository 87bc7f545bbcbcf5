/**
 * Lines drawn with uPlot in the chart style the simulator's report shares
 * (`src/sim/chartStyle.ts`): points arrive from the stream and are drawn at most a few times a
 * second.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { CHART_STYLE, SERIES_COLORS as SHARED_COLORS } from '../../src/sim/chartStyle.js';
import { throttle } from './dom.js';

/** Most points a chart keeps (the oldest dropped first). */
const POINTS_MAX = 5_000;
const HEIGHT = 140;
export const SERIES_COLORS = SHARED_COLORS;

/** An axis in the shared style: muted labels, light grid, the charts' font. */
export function axis(extra: uPlot.Axis = {}): uPlot.Axis {
  return {
    stroke: CHART_STYLE.muted,
    grid: { stroke: CHART_STYLE.grid },
    ticks: { stroke: CHART_STYLE.rule },
    font: `${CHART_STYLE.fontSize}px ${CHART_STYLE.fontFamily}`,
    ...extra,
  };
}

export class PriceChart {
  private readonly times: number[] = [];
  private readonly prices: number[] = [];
  private readonly plot: uPlot;
  private readonly redraw: () => void;

  constructor(container: HTMLElement, label: string, color: string) {
    this.plot = new uPlot(
      {
        width: Math.max(240, container.clientWidth),
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [axis(), axis({ size: 60 })],
        series: [{}, { label, stroke: color, width: CHART_STYLE.lineWidth }],
      },
      [[], []],
      container,
    );
    this.redraw = throttle(() => this.plot.setData([this.times, this.prices]), 250);
    follow(container, this.plot, HEIGHT);
  }

  /** Adds a point (unix seconds, price); a point at the same time replaces the last. */
  add(time: number, price: number): void {
    if (this.times.at(-1) === time) this.prices[this.prices.length - 1] = price;
    else if (this.times.length === 0 || time > (this.times.at(-1) as number)) {
      this.times.push(time);
      this.prices.push(price);
    }
    if (this.times.length > POINTS_MAX) {
      this.times.shift();
      this.prices.shift();
    }
    this.redraw();
  }

  get points(): number {
    return this.times.length;
  }
}

/** The chart follows its container's width. */
export function follow(container: HTMLElement, plot: uPlot, height: number): void {
  new ResizeObserver(() => {
    const width = Math.max(240, container.clientWidth);
    if (width !== plot.width) plot.setSize({ width, height });
  }).observe(container);
}
