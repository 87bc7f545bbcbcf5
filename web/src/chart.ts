/**
 * A price line drawn with uPlot, in the simulator report's palette (Okabe-Ito blue first):
 * points arrive from the stream and are drawn at most a few times a second.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { throttle } from './dom.js';

/** Most points a chart keeps (the oldest dropped first). */
const POINTS_MAX = 5_000;
const HEIGHT = 140;
export const SERIES_COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00'];

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
        axes: [
          { stroke: '#4d4d4d', grid: { stroke: '#e6e6e6' }, ticks: { stroke: '#d0d0d0' } },
          {
            stroke: '#4d4d4d',
            grid: { stroke: '#e6e6e6' },
            ticks: { stroke: '#d0d0d0' },
            size: 60,
          },
        ],
        series: [{}, { label, stroke: color, width: 2 }],
      },
      [[], []],
      container,
    );
    this.redraw = throttle(() => this.plot.setData([this.times, this.prices]), 250);
    // The chart follows its container's width.
    new ResizeObserver(() => {
      const width = Math.max(240, container.clientWidth);
      if (width !== this.plot.width) this.plot.setSize({ width, height: HEIGHT });
    }).observe(container);
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
