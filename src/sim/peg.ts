/**
 * Tokens pegged to another asset that can lose their peg: a synthetic dollar pegged to USDC, a
 * staked ETH token pegged to ETH. Traders post them as collateral like any other asset; their
 * price is their peg's price times a peg ratio that falls during the crash.
 *
 * The depeg path: the peg ratio is 1 − depth × stress(t), where stress is the market's drawdown
 * at the step (the largest, over the path's other assets, of the fall from the highest price so
 * far) over {@link FULL_STRESS_DRAWDOWN}, at most 1. So the token trades at its peg while the
 * market is calm, slips as the market falls, is furthest below it (1 − depth) once the market
 * has fallen by half, and comes back toward it as the market recovers. A price file of the token
 * (`UST` in the `luna` scenario) replaces the model with the token's real path.
 */
import { FulcrumError } from '../base/errors.js';

/** A pegged token: its symbol, what it is pegged to, how far it loses its peg. */
export interface PeggedToken {
  readonly symbol: string;
  /** The asset it is pegged to: `USDC` (the quote) or an asset of the path. */
  readonly peg: string;
  /** Its peg ratio once the market has fallen by half is 1 − depth (0.03: 97% of its peg). */
  readonly depth: number;
}

/**
 * The pegged tokens of the derivatives mix: a staked ETH token (3% below ETH at the crash's
 * deepest, about what stETH lost against ETH in May 2022) and a synthetic dollar (2% below USDC).
 */
export const PEGGED_TOKENS: readonly PeggedToken[] = [
  { symbol: 'STETH', peg: 'ETH', depth: 0.03 },
  { symbol: 'SUSD', peg: 'USDC', depth: 0.02 },
];

/**
 * Tokens whose price file, given among the price files, makes them pegged tokens (their real
 * path replaces the model): what each is pegged to. A `Map`, so that a symbol read from a file
 * name (`toString`) is only a name.
 */
export const KNOWN_PEGS = new Map<string, string>([
  ['STETH', 'ETH'],
  ['SUSD', 'USDC'],
  ['UST', 'USDC'],
]);

/** Largest depeg depth: a token at 1% of its peg. */
export const DEPEG_DEPTH_MAX = 0.99;

/** Checks a depth; throws `invalid_field` naming `field`. */
export function validateDepth(depth: number, field: string): void {
  if (!(depth >= 0 && depth <= DEPEG_DEPTH_MAX)) {
    throw new FulcrumError(
      'invalid_field',
      `a depeg depth must be from 0 to ${DEPEG_DEPTH_MAX} (got ${depth})`,
      field,
    );
  }
}

/** The market's drawdown at which a pegged token is furthest from its peg: a fall by half. */
export const FULL_STRESS_DRAWDOWN = 0.5;

/**
 * The market's stress at each step, from 0 to 1: the deepest drawdown of any of `prices` from
 * its highest price so far, over {@link FULL_STRESS_DRAWDOWN}, at most 1.
 *
 * @example
 * crashStress([Float64Array.from([100, 80, 40, 75])]); // [0, 0.4, 1, 0.5]
 */
export function crashStress(prices: readonly Float64Array[]): Float64Array {
  const steps = prices[0]?.length ?? 0;
  const stress = new Float64Array(steps);
  const peaks = prices.map(() => 0);
  for (let k = 0; k < steps; k++) {
    let drawdown = 0;
    prices.forEach((series, i) => {
      const price = series[k] as number;
      const peak = Math.max(peaks[i] as number, price);
      peaks[i] = peak;
      if (peak > 0) drawdown = Math.max(drawdown, 1 - price / peak);
    });
    stress[k] = Math.min(1, drawdown / FULL_STRESS_DRAWDOWN);
  }
  return stress;
}

/**
 * A token's peg ratio at each step: 1 − depth × stress.
 *
 * @example
 * depegPath(0.05, Float64Array.from([0, 0.4, 1, 0.5])); // [1, 0.98, 0.95, 0.975]
 */
export function depegPath(depth: number, stress: Float64Array): Float64Array {
  validateDepth(depth, 'depeg');
  return stress.map((s) => 1 - depth * s);
}
