/**
 * Volatility estimators on OHLCV bars, for calibrating risk weights.
 *
 * Analytics, not ledger arithmetic: everything here is float64. Returns are logarithmic and
 * assumed to have zero mean (RiskMetrics): over hours and days the drift is noise next to the
 * volatility, and leaving it out can only make an estimate larger. Annual figures use a 365-day
 * year, because digital assets trade around the clock, every day.
 *
 * Bars may come at any spacing. A return over a gap longer than the bar is scaled back to one
 * bar's length (its square times `barSeconds / gap`), so a missing bar does not pass for a jump.
 */
import { FulcrumError } from '../base/errors.js';
import type { Bar } from '../domain/bar.js';
import { barSeconds, DAY_SECONDS, YEAR_SECONDS } from '../math/time.js';

/**
 * Default EWMA half-life: one day. RiskMetrics' λ = 0.94 on daily returns is a half-life of
 * ln 0.5 / ln 0.94 ≈ 11.2 days, chosen for a year of daily closes; the files a risk team
 * calibrates on span days or weeks of hourly or minute bars, over which an 11-day half-life
 * would weigh every bar almost equally. One day lets the estimate follow a change of regime
 * within a day while still averaging 24 hourly or 1,440 minute returns.
 */
export const DEFAULT_EWMA_HALF_LIFE_SECONDS = DAY_SECONDS;

/** One log return: from the close of the bar before to the close of the bar at `time`. */
export interface LogReturn {
  /** Unix seconds of the later bar's open. */
  readonly time: number;
  /** ln(close / previous close). */
  readonly value: number;
  /** Seconds between the two bars' opens. */
  readonly seconds: number;
}

/** A volatility figure per bar and annualized. */
export interface Volatility {
  /** Standard deviation of one bar's log return. */
  readonly perBar: number;
  /** The same over a 365-day year. */
  readonly annual: number;
}

/** Every estimate for one series of bars, and the one chosen for risk. */
export interface VolatilityEstimates {
  readonly bars: number;
  readonly barSeconds: number;
  /** Unix seconds of the first and last bar's open. */
  readonly firstTime: number;
  readonly lastTime: number;
  /** Equal-weighted close-to-close (zero mean). */
  readonly closeToClose: Volatility;
  /** Exponentially weighted close-to-close, as of the last bar. */
  readonly ewma: Volatility;
  readonly ewmaHalfLifeSeconds: number;
  /** Parkinson's high-low range estimator. */
  readonly parkinson: Volatility;
  /** Garman and Klass's open-high-low-close estimator. */
  readonly garmanKlass: Volatility;
  /** The larger of EWMA and Parkinson: the conservative figure that weights are built on. */
  readonly chosen: Volatility & { readonly method: 'ewma' | 'parkinson' };
}

/** A price in PRICE_SCALE as a float. Only ratios of these are used, so the scale cancels. */
function float(price: bigint): number {
  return Number(price);
}

/**
 * Close-to-close log returns, one per bar after the first.
 *
 * @example
 * logReturns(bars).map((r) => r.value); // [ln(c1/c0), ln(c2/c1), ...]
 */
export function logReturns(bars: readonly Bar[]): LogReturn[] {
  const returns: LogReturn[] = [];
  for (let i = 1; i < bars.length; i++) {
    const previous = bars[i - 1];
    const bar = bars[i];
    if (previous === undefined || bar === undefined) continue;
    returns.push({
      time: bar.time,
      value: Math.log(float(bar.close) / float(previous.close)),
      seconds: bar.time - previous.time,
    });
  }
  return returns;
}

/** A return's square, scaled to one bar of `step` seconds (a gap's variance spread over it). */
function squaredPerBar(r: LogReturn, step: number): number {
  return (r.value * r.value * step) / r.seconds;
}

function requireReturns(bars: readonly Bar[], what: string): LogReturn[] {
  if (bars.length < 2) {
    throw new FulcrumError('invalid_field', `${what} needs at least two bars`, 'bars');
  }
  return logReturns(bars);
}

/**
 * Equal-weighted close-to-close volatility per bar: sqrt(mean(r²)), returns taken as zero-mean.
 * Needs at least two bars.
 */
export function closeToCloseVolatility(bars: readonly Bar[]): number {
  const returns = requireReturns(bars, 'close-to-close volatility');
  const step = barSeconds(bars);
  let sum = 0;
  for (const r of returns) sum += squaredPerBar(r, step);
  return Math.sqrt(sum / returns.length);
}

/**
 * Exponentially weighted volatility per bar, as of the last bar (RiskMetrics' recursion with
 * its weight set by time rather than by count):
 *
 *   σ²ₖ = d σ²ₖ₋₁ + (1 − d) rₖ²,  d = 0.5^(Δtₖ / halfLifeSeconds)
 *
 * For bars of equal length d is the familiar λ: 0.5^(3600/86400) ≈ 0.9715 for hourly bars and
 * the default one-day half-life. The recursion starts from the equal-weighted variance of the
 * whole series, so the first returns are not judged against an arbitrary seed. Needs at least
 * two bars.
 *
 * @example
 * ewmaVolatility(bars, { halfLifeSeconds: 6 * 3600 }); // per-bar σ
 */
export function ewmaVolatility(
  bars: readonly Bar[],
  options: { readonly halfLifeSeconds?: number } = {},
): number {
  const halfLife = options.halfLifeSeconds ?? DEFAULT_EWMA_HALF_LIFE_SECONDS;
  if (!(halfLife > 0) || !Number.isFinite(halfLife)) {
    throw new FulcrumError(
      'invalid_config',
      'halfLifeSeconds must be a positive number',
      'halfLifeSeconds',
    );
  }
  const returns = requireReturns(bars, 'EWMA volatility');
  const step = barSeconds(bars);
  let variance = 0;
  for (const r of returns) variance += squaredPerBar(r, step);
  variance /= returns.length;
  for (const r of returns) {
    const decay = 0.5 ** (r.seconds / halfLife);
    variance = decay * variance + (1 - decay) * squaredPerBar(r, step);
  }
  return Math.sqrt(variance);
}

/**
 * Parkinson's range estimator per bar: σ² = mean(ln(H/L)²) / (4 ln 2).
 *
 * It uses each bar's whole range, so it needs about five times fewer bars than close-to-close
 * for the same precision. It assumes continuous trading without drift; sampled prices miss the
 * true extremes, so it tends to read low, which is one reason risk takes the larger of it and
 * the EWMA. Needs at least one bar.
 *
 * @example
 * // One bar with H/L = e^0.02: σ² = 0.0004 / (4 ln 2) = 0.000144270, σ = 0.012011
 * parkinsonVolatility(bars);
 */
export function parkinsonVolatility(bars: readonly Bar[]): number {
  if (bars.length === 0) throw new FulcrumError('invalid_field', 'no bars', 'bars');
  let sum = 0;
  for (const bar of bars) {
    const range = Math.log(float(bar.high) / float(bar.low));
    sum += range * range;
  }
  return Math.sqrt(sum / bars.length / (4 * Math.LN2));
}

/**
 * Garman and Klass's estimator per bar: σ² = mean(½ ln(H/L)² − (2 ln 2 − 1) ln(C/O)²).
 * More efficient than Parkinson when opens and closes are clean; shown for comparison.
 */
export function garmanKlassVolatility(bars: readonly Bar[]): number {
  if (bars.length === 0) throw new FulcrumError('invalid_field', 'no bars', 'bars');
  let sum = 0;
  for (const bar of bars) {
    const range = Math.log(float(bar.high) / float(bar.low));
    const body = Math.log(float(bar.close) / float(bar.open));
    sum += 0.5 * range * range - (2 * Math.LN2 - 1) * body * body;
  }
  return Math.sqrt(Math.max(0, sum / bars.length));
}

/**
 * A per-bar volatility over a 365-day year: σ × sqrt(YEAR_SECONDS / barSeconds).
 *
 * @example
 * annualize(0.01, 3600); // 0.01 × sqrt(8760) ≈ 0.9359
 */
export function annualize(perBarSigma: number, seconds: number): number {
  return perBarSigma * Math.sqrt(YEAR_SECONDS / seconds);
}

/**
 * A volatility over a horizon from its annual figure: σ × sqrt(horizonSeconds / YEAR_SECONDS).
 *
 * @example
 * overHorizon(0.8, 86_400); // 0.8 / sqrt(365) ≈ 0.04187
 */
export function overHorizon(annualSigma: number, horizonSeconds: number): number {
  return annualSigma * Math.sqrt(horizonSeconds / YEAR_SECONDS);
}

/**
 * Every estimator on one series, per bar and annualized, and the conservative choice: the larger
 * of EWMA and Parkinson. Needs at least two bars.
 */
export function volatilityEstimates(
  bars: readonly Bar[],
  options: { readonly halfLifeSeconds?: number } = {},
): VolatilityEstimates {
  const seconds = barSeconds(bars);
  const halfLifeSeconds = options.halfLifeSeconds ?? DEFAULT_EWMA_HALF_LIFE_SECONDS;
  const pair = (perBar: number): Volatility => ({ perBar, annual: annualize(perBar, seconds) });
  const ewma = pair(ewmaVolatility(bars, { halfLifeSeconds }));
  const parkinson = pair(parkinsonVolatility(bars));
  const chosen =
    ewma.perBar >= parkinson.perBar
      ? { ...ewma, method: 'ewma' as const }
      : { ...parkinson, method: 'parkinson' as const };
  return {
    bars: bars.length,
    barSeconds: seconds,
    firstTime: bars[0]?.time ?? 0,
    lastTime: bars.at(-1)?.time ?? 0,
    closeToClose: pair(closeToCloseVolatility(bars)),
    ewma,
    ewmaHalfLifeSeconds: halfLifeSeconds,
    parkinson,
    garmanKlass: pair(garmanKlassVolatility(bars)),
    chosen,
  };
}

/**
 * Fewest bars a calibration proposes weights from unless told otherwise: a day of hourly bars.
 * Fewer say too little about volatility (two flat bars measure none, and would propose the
 * largest weight); 24 bars give 23 returns, which know σ to within about 15% (1/√(2n)).
 */
export const CALIBRATION_BARS_MIN = 24;

/**
 * Refuses a sample of fewer than `minBars` bars (`invalid_field` at `field`), so that weights are
 * never proposed from a volatility measured on almost nothing.
 *
 * @example
 * requireSample(bars, CALIBRATION_BARS_MIN, 'eth.csv'); // throws for 23 bars or fewer
 */
export function requireSample(bars: readonly Bar[], minBars: number, field: string): void {
  if (bars.length < Math.max(2, minBars)) {
    throw new FulcrumError(
      'invalid_field',
      `${field}: ${bars.length} bars in the window, fewer than the ${Math.max(2, minBars)} a calibration needs`,
      field,
    );
  }
}
