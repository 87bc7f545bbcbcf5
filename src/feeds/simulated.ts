/**
 * A simulated market for oracle tests and stress runs: a true price that follows geometric
 * Brownian motion with jumps (Merton's model), and sources that each quote it with their own
 * small noise. Seeded: the same options give the same quotes, every time.
 */
import { SeededRandom } from '../math/random.js';
import { DAY_SECONDS, YEAR_SECONDS } from '../math/time.js';
import type { QuoteJson } from './replay.js';

export interface SimulatedMarket {
  readonly asset: string;
  readonly sources: readonly string[];
  /** The true price at `startTime`. */
  readonly startPrice: number;
  readonly startTime: number;
  readonly steps: number;
  readonly stepSeconds: number;
  /** Annual volatility of the diffusion, e.g. 0.8. */
  readonly volatility: number;
  /** Annual drift, e.g. 0. */
  readonly drift?: number;
  /** Expected jumps a day, and the mean and spread of a jump's log size. */
  readonly jumpsPerDay?: number;
  readonly jumpMean?: number;
  readonly jumpSpread?: number;
  /** Each source's relative noise around the true price (standard deviation), e.g. 0.0005. */
  readonly sourceNoise?: number;
  readonly seed: number;
}

/**
 * The quotes of every source at every step, in time order, and the true path behind them.
 *
 * @example
 * const { quotes } = simulateMarket({ asset: 'ETH', sources: ['a', 'b', 'c'], startPrice: 2000,
 *   startTime: 0, steps: 100, stepSeconds: 10, volatility: 0.8, seed: 7 });
 */
export function simulateMarket(market: SimulatedMarket): { quotes: QuoteJson[]; truth: number[] } {
  const random = new SeededRandom(market.seed);
  const dt = market.stepSeconds / YEAR_SECONDS;
  const sigma = market.volatility;
  const jumpChance = ((market.jumpsPerDay ?? 0) * market.stepSeconds) / DAY_SECONDS;
  const quotes: QuoteJson[] = [];
  const truth: number[] = [];
  let price = market.startPrice;
  for (let step = 0; step < market.steps; step++) {
    const time = market.startTime + step * market.stepSeconds;
    if (step > 0) {
      const diffusion =
        ((market.drift ?? 0) - (sigma * sigma) / 2) * dt + sigma * Math.sqrt(dt) * random.normal();
      const jump =
        random.next() < jumpChance
          ? (market.jumpMean ?? 0) + (market.jumpSpread ?? 0) * random.normal()
          : 0;
      price *= Math.exp(diffusion + jump);
    }
    truth.push(price);
    for (const source of market.sources) {
      const quoted = price * (1 + (market.sourceNoise ?? 0) * random.normal());
      quotes.push({ type: 'quote', time, asset: market.asset, source, price: quoted.toFixed(8) });
    }
  }
  return { quotes, truth };
}
