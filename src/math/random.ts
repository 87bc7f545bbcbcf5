/**
 * Fulcrum's one random generator: seeded, so that the same seed gives the same draws on every
 * machine, every time. The simulator's populations and markets, the seeded tests and the
 * benchmarks' workloads all draw from it. It is no source of secrets: nothing here reads the
 * machine's entropy.
 */
import { assert } from '../base/errors.js';
import { normalFromUniforms } from './normal.js';

/**
 * A small seeded generator (mulberry32: 32 bits of state, period 2^32) with the draws built on
 * it. Every draw is a fixed number of calls to {@link SeededRandom.next}, so a sequence of draws
 * is reproducible from the seed alone.
 *
 * @example
 * const random = new SeededRandom(7);
 * random.next(); // the same number in [0, 1) for seed 7, always
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** A standard normal draw (Box-Muller, two uniform draws). */
  normal(): number {
    return normalFromUniforms(this.next(), this.next());
  }

  /** An integer in [low, high], both included. */
  integer(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One of `items`, each as likely. */
  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** One of the keys of `weights`, with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    let roll = this.next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, weight] of entries) {
      roll -= weight;
      if (roll < 0) return key;
    }
    const last = entries.at(-1);
    assert(last !== undefined, 'a weighted draw needs weights');
    return last[0];
  }

  /**
   * A bigint in [0, bound), nearly uniform: 32 bits more than the bound holds, reduced modulo
   * the bound (a bias below 2^-32). 0 for a bound of 0 or less.
   */
  bigintBelow(bound: bigint): bigint {
    if (bound <= 0n) return 0n;
    let value = 0n;
    for (let bits = 0n; 1n << bits <= bound * 2n ** 32n; bits += 32n) {
      value = (value << 32n) | BigInt(Math.floor(this.next() * 4_294_967_296));
    }
    return value % bound;
  }

  /**
   * A bigint in [0, bound), log-uniform in size: a number of decimal digits drawn first, up to
   * the bound's, then the digits, so that small and huge amounts both appear.
   */
  bigintOfAnySizeBelow(bound: bigint): bigint {
    const digits = bound.toString().length;
    const take = this.integer(1, digits);
    let value = 0n;
    for (let i = 0; i < take; i++) value = value * 10n + BigInt(this.integer(0, 9));
    return value % bound;
  }
}
