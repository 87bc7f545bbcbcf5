/**
 * A price bar: one interval's open, high, low and close (OHLCV). Price files are read into bars
 * (`feeds/ohlcv.ts`), and the analytics (volatility, liquidity) and the simulator's paths take
 * them as plain numbers, without knowing where they came from.
 */

export interface Bar {
  /** Unix seconds of the bar's open. */
  readonly time: number;
  /** PRICE_SCALE. */
  readonly open: bigint;
  readonly high: bigint;
  readonly low: bigint;
  readonly close: bigint;
  /** Traded volume in the base asset (a float: it feeds analytics, never a balance). */
  readonly volume: number;
}
