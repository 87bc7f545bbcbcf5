/**
 * Exogenous price paths: what the market would have done without the venue's liquidations.
 *
 * From real bars: the simulator steps on a fixed grid (`stepSeconds`) and reads each asset's
 * price at every step from its bars. A bar longer than the step is walked through its own
 * extremes: open at its start, then the low and the high (for a rising bar; the high first for
 * a falling one, as the oracle replay walks bars), then the close at its end, linear in between; so an hourly bar's low is reached, as it was in the market, inside the hour. A bar no
 * longer than the step gives its close. Or synthetic: geometric Brownian motion with jumps.
 */
import { FulcrumError } from '../base/errors.js';
import type { Bar } from '../domain/bar.js';
import { simulateMarket } from '../feeds/simulated.js';
import { PRICE_SCALE } from '../math/fixed.js';
import { barSeconds, DAY_SECONDS } from '../math/time.js';

/** Every asset's exogenous price at every step, on one time grid. */
export interface PricePath {
  readonly symbols: readonly string[];
  /** Unix seconds of each step. */
  readonly times: readonly number[];
  /** Per asset (as `symbols`), the price at each step (quote per unit). */
  readonly prices: readonly Float64Array[];
  /** Where each asset's path came from. */
  readonly sources: readonly string[];
  readonly stepSeconds: number;
}

/** One asset's bars, and a name for reports. */
export interface BarSeries {
  readonly symbol: string;
  readonly source: string;
  readonly bars: readonly Bar[];
}

/** Longest simulation, in steps: a year of minutes. */
export const STEPS_MAX = 525_600;

const PRICE_FLOAT = Number(PRICE_SCALE);

/**
 * The common path of several assets between `start` and `end` (unix seconds, end exclusive),
 * every `stepSeconds`. Every asset's bars must cover the window.
 *
 * @example
 * pathFromBars([{ symbol: 'ETH', source: 'eth.csv', bars }], 1583971200, 1584144000, 60);
 */
export function pathFromBars(
  series: readonly BarSeries[],
  start: number,
  end: number,
  stepSeconds: number,
): PricePath {
  if (!Number.isSafeInteger(stepSeconds) || stepSeconds < 1) {
    throw new FulcrumError('invalid_field', 'the step must be a whole number of seconds', 'step');
  }
  const steps = Math.floor((end - start) / stepSeconds);
  if (steps < 2) {
    throw new FulcrumError('invalid_field', 'the window holds fewer than two steps', 'window');
  }
  if (steps > STEPS_MAX) {
    throw new FulcrumError('limit_exceeded', `at most ${STEPS_MAX} steps`, 'window');
  }
  const times: number[] = [];
  for (let k = 0; k < steps; k++) times.push(start + k * stepSeconds);
  const prices = series.map((s) => sample(s, times));
  return {
    symbols: series.map((s) => s.symbol),
    times,
    prices,
    sources: series.map((s) => s.source),
    stepSeconds,
  };
}

/** The bars' length, once checked that they cover every time; `invalid_field` otherwise. */
function coveringBarSeconds(series: BarSeries, times: readonly number[]): number {
  const { bars, symbol } = series;
  const length = barSeconds(bars);
  const first = bars[0];
  const last = bars.at(-1);
  const from = times[0] ?? 0;
  const to = times.at(-1) ?? 0;
  if (first === undefined || last === undefined || first.time > from || last.time + length <= to) {
    throw new FulcrumError(
      'invalid_field',
      `${symbol}: the bars of ${series.source} do not cover the window`,
      'window',
    );
  }
  return length;
}

/** One asset's price at each time, walking through each bar's extremes. */
function sample(series: BarSeries, times: readonly number[]): Float64Array {
  const { bars } = series;
  const length = coveringBarSeconds(series, times);
  const out = new Float64Array(times.length);
  let b = 0;
  for (let k = 0; k < times.length; k++) {
    const t = times[k] as number;
    while (b + 1 < bars.length && (bars[b + 1] as Bar).time <= t) b++;
    out[k] = priceInBar(bars[b] as Bar, length, t);
  }
  return out;
}

/** The price at time `t` inside a bar of `length` seconds: open, low, high, close (rising bar). */
export function priceInBar(bar: Bar, length: number, t: number): number {
  const open = Number(bar.open) / PRICE_FLOAT;
  const close = Number(bar.close) / PRICE_FLOAT;
  const high = Number(bar.high) / PRICE_FLOAT;
  const low = Number(bar.low) / PRICE_FLOAT;
  const x = Math.min(Math.max((t - bar.time) / length, 0), 1);
  const points = close >= open ? [open, low, high, close] : [open, high, low, close];
  // Knots at 0, 1/3, 2/3 and 1 of the bar.
  const at = Math.min(Math.floor(x * 3), 2);
  const u = x * 3 - at;
  const a = points[at] as number;
  const b = points[at + 1] as number;
  return a + (b - a) * u;
}

/** Options of a synthetic path: GBM with Merton jumps, per asset. */
export interface SyntheticAsset {
  readonly symbol: string;
  readonly startPrice: number;
  /** Annual volatility, e.g. 0.8. */
  readonly volatility: number;
  readonly drift?: number;
  readonly jumpsPerDay?: number;
  readonly jumpMean?: number;
  readonly jumpSpread?: number;
}

/**
 * A seeded synthetic path: each asset an independent GBM with jumps (its own seed derived from
 * `seed` and its position), so the same seed always gives the same path.
 */
export function syntheticPath(
  assets: readonly SyntheticAsset[],
  start: number,
  steps: number,
  stepSeconds: number,
  seed: number,
): PricePath {
  if (!Number.isSafeInteger(steps) || steps < 2 || steps > STEPS_MAX) {
    throw new FulcrumError('invalid_field', `steps must be from 2 to ${STEPS_MAX}`, 'steps');
  }
  const times: number[] = [];
  for (let k = 0; k < steps; k++) times.push(start + k * stepSeconds);
  const prices = assets.map((asset, i) => {
    const { truth } = simulateMarket({
      asset: asset.symbol,
      sources: [],
      startPrice: asset.startPrice,
      startTime: start,
      steps,
      stepSeconds,
      volatility: asset.volatility,
      drift: asset.drift ?? 0,
      jumpsPerDay: asset.jumpsPerDay ?? 0,
      jumpMean: asset.jumpMean ?? 0,
      jumpSpread: asset.jumpSpread ?? 0,
      seed: (seed * 7919 + i * 104_729) >>> 0,
    });
    return Float64Array.from(truth);
  });
  return {
    symbols: assets.map((a) => a.symbol),
    times,
    prices,
    sources: assets.map(
      (a) =>
        `synthetic (GBM ${(a.volatility * 100).toFixed(0)}% a year, ${a.jumpsPerDay ?? 0} jumps a day, seed ${seed})`,
    ),
    stepSeconds,
  };
}

/** A synthetic asset with the volume its market trades a day (quote), for bars. */
export interface SyntheticMarketAsset extends SyntheticAsset {
  readonly dailyVolume: number;
}

/**
 * One-minute OHLCV bars of a synthetic market: `calmDays` of GBM at the asset's volatility
 * without jumps (the calm the market model and the stress controller measure), then
 * `stressDays` at `stressFactor` times the volatility with the asset's jumps. Each bar's open,
 * high, low and close come from four 15-second steps; its volume is the daily volume spread
 * evenly. Seeded: the same arguments give the same bars.
 */
export function syntheticBars(
  asset: SyntheticMarketAsset,
  start: number,
  calmDays: number,
  stressDays: number,
  stressFactor: number,
  seed: number,
): Bar[] {
  const quarter = 15;
  const segment = (days: number, startPrice: number, stressed: boolean, segmentSeed: number) =>
    simulateMarket({
      asset: asset.symbol,
      sources: [],
      startPrice,
      startTime: 0,
      steps: Math.round((days * DAY_SECONDS) / quarter) + 1,
      stepSeconds: quarter,
      volatility: asset.volatility * (stressed ? stressFactor : 1),
      drift: asset.drift ?? 0,
      jumpsPerDay: stressed ? (asset.jumpsPerDay ?? 0) : 0,
      jumpMean: asset.jumpMean ?? 0,
      jumpSpread: asset.jumpSpread ?? 0,
      seed: segmentSeed >>> 0,
    }).truth;
  const calm = segment(calmDays, asset.startPrice, false, seed * 31 + 1);
  const stress = segment(stressDays, calm.at(-1) ?? asset.startPrice, true, seed * 31 + 2);
  const truth = [...calm.slice(0, -1), ...stress];
  const bars: Bar[] = [];
  const toScaled = (x: number) => BigInt(Math.max(1, Math.round(x * 1e9))) * 10n ** 9n;
  for (let b = 0; b + 4 < truth.length; b += 4) {
    const points = truth.slice(b, b + 5);
    const open = points[0] as number;
    const close = points[4] as number;
    const high = Math.max(...points);
    const low = Math.min(...points);
    bars.push({
      time: start + (b / 4) * 60,
      open: toScaled(open),
      high: toScaled(high),
      low: toScaled(low),
      close: toScaled(close),
      volume: asset.dailyVolume / 1440 / close,
    });
  }
  return bars;
}

/** The largest basis a mark file gives, either way: 5% of the index. */
export const BASIS_MAX = 0.05;

/**
 * A perpetual's basis over its index at each time, from the perpetual's bars and the index's: the
 * ratio of the two prices, less one, each read on the line from its bar's open to its close
 * (not through the bar's extremes), clamped to ±{@link BASIS_MAX}. A venue's mark price is built
 * to ignore a perpetual's wicks, so the basis does too: the ETH perpetual's hourly bar of 13 March
 * 2020 02:00 UTC reached 323 against a spot high of 120.2, a print that walking the bar would
 * hold for twenty minutes. With bars no longer than the step, the basis is the closes' ratio.
 *
 * @example
 * basisFromBars(ethPerpBars, ethSpotBars, path.times); // -0.009 at a close of 95.73 against 96.62
 */
export function basisFromBars(
  mark: BarSeries,
  index: BarSeries,
  times: readonly number[],
): Float64Array {
  const perp = openCloseLine(mark, times);
  const spot = openCloseLine(index, times);
  return perp.map((p, k) => {
    const s = spot[k] as number;
    const basis = s > 0 ? p / s - 1 : 0;
    return Math.min(BASIS_MAX, Math.max(-BASIS_MAX, basis));
  });
}

/** One series' price at each time on the line from each bar's open to its close. */
function openCloseLine(series: BarSeries, times: readonly number[]): Float64Array {
  const { bars } = series;
  const length = coveringBarSeconds(series, times);
  const out = new Float64Array(times.length);
  let b = 0;
  for (let k = 0; k < times.length; k++) {
    const t = times[k] as number;
    while (b + 1 < bars.length && (bars[b + 1] as Bar).time <= t) b++;
    const bar = bars[b] as Bar;
    const x = Math.min(Math.max((t - bar.time) / length, 0), 1);
    const open = Number(bar.open) / PRICE_FLOAT;
    out[k] = open + (Number(bar.close) / PRICE_FLOAT - open) * x;
  }
  return out;
}
