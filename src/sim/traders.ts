/**
 * The perpetual traders of a population: who posts what collateral, on which perpetual, long or
 * short, at what leverage, drawn from a described distribution with a seed.
 *
 * Sizes (collateral value) follow the borrowers' Pareto law (`paretoSizes`). Each trader posts
 * one collateral asset, drawn by `collateralMix` (USDC, the path's assets, pegged tokens), holds
 * one perpetual, drawn by `instrumentMix`, long with probability `longShare`, and aims at a
 * leverage (notional over collateral value at the start) drawn log-uniformly between
 * `leverageMin` and `leverageMax`: as many traders at 2-5x as at 20-50x, the median at
 * sqrt(min × max) (10x for 2-50x). The simulator holds each to what initial margin allows.
 */
import { FulcrumError } from '../base/errors.js';
import { SeededRandom } from '../math/random.js';
import { paretoSizes } from './population.js';

/** One trader: its collateral, its perpetual, its side and the leverage it aims at. */
export interface TraderSpec {
  readonly id: string;
  /** Units (not base units) of one collateral asset (USDC allowed). */
  readonly collateral: { readonly symbol: string; readonly units: number };
  /** The perpetual's symbol, such as `ETH-PERP`. */
  readonly instrument: string;
  /** +1 long, −1 short. */
  readonly side: 1 | -1;
  /** Notional over the collateral's value at the start prices. */
  readonly leverage: number;
}

export interface TraderPopulationSpec {
  readonly accounts: number;
  readonly seed: number;
  /** Total collateral value of the traders at the start prices (quote). */
  readonly bookValue: number;
  readonly sizeTail: number;
  readonly largestShare: number;
  /** Relative share of traders posting each collateral asset, by symbol. */
  readonly collateralMix: Readonly<Record<string, number>>;
  /** Relative share of traders holding each perpetual, by symbol. */
  readonly instrumentMix: Readonly<Record<string, number>>;
  /** Probability that a trader is long. */
  readonly longShare: number;
  readonly leverageMin: number;
  readonly leverageMax: number;
}

/** Longs and shorts alike; leverage 2x to 50x, log-uniform (median 10x). */
export const DEFAULT_TRADERS = { longShare: 0.5, leverageMin: 2, leverageMax: 50 } as const;

/** Highest leverage a trader may aim at (the simulator holds it to initial margin anyway). */
export const LEVERAGE_MAX = 100;

/** Checks a specification; throws `invalid_field` naming the field. */
export function validateTraders(spec: TraderPopulationSpec): void {
  const fail = (field: string, message: string): never => {
    throw new FulcrumError('invalid_field', message, field);
  };
  if (!Number.isSafeInteger(spec.accounts) || spec.accounts < 1 || spec.accounts > 2_000_000)
    fail('accounts', 'traders must be a whole number from 1 to 2,000,000');
  if (!(spec.bookValue > 0 && spec.bookValue <= 1e13))
    fail('bookValue', 'the traders’ collateral value must be above 0 and at most 10^13');
  for (const [field, mix] of [
    ['collateralMix', spec.collateralMix],
    ['instrumentMix', spec.instrumentMix],
  ] as const) {
    const weights = Object.values(mix);
    if (weights.length === 0 || weights.some((w) => !(w >= 0)) || !weights.some((w) => w > 0))
      fail(field, `the traders’ ${field} needs at least one positive share`);
  }
  if (!(spec.longShare >= 0 && spec.longShare <= 1))
    fail('longShare', 'the share of longs must be in [0, 1]');
  if (
    !(spec.leverageMin >= 1 && spec.leverageMin <= spec.leverageMax) ||
    !(spec.leverageMax <= LEVERAGE_MAX)
  )
    fail('leverage', `leverage must satisfy 1 <= min <= max <= ${LEVERAGE_MAX}`);
  if (spec.accounts * spec.largestShare < 1)
    fail('largestShare', 'traders × largest share must be at least 1');
}

/**
 * Draws the traders, ids `t1`, `t2`, ... (zero-padded). Deterministic: the same spec and prices
 * give the same traders.
 *
 * @example
 * generateTraders({ accounts: 100, seed: 1, bookValue: 1e7, sizeTail: 1.3, largestShare: 0.05,
 *   collateralMix: { USDC: 1 }, instrumentMix: { 'ETH-PERP': 1 }, ...DEFAULT_TRADERS }, { USDC: 1 });
 */
export function generateTraders(
  spec: TraderPopulationSpec,
  prices: Readonly<Record<string, number>>,
): TraderSpec[] {
  validateTraders(spec);
  const collateral = picker(spec.collateralMix);
  const instrument = picker(spec.instrumentMix);
  for (const symbol of collateral.symbols) {
    const price = Object.hasOwn(prices, symbol) ? prices[symbol] : undefined;
    if (price === undefined || !(price > 0)) {
      throw new FulcrumError('unknown_asset', `no price for ${symbol}`, 'collateralMix');
    }
  }
  // A stream of its own, so that adding traders leaves the borrowers' draws as they were.
  const random = new SeededRandom((spec.seed * 2_654_435_761 + 0x7f4a_7c15) >>> 0);
  const sizes = paretoSizes(spec, random);
  const width = String(spec.accounts).length;
  const ratio = spec.leverageMax / spec.leverageMin;
  const traders: TraderSpec[] = [];
  for (let i = 0; i < spec.accounts; i++) {
    const symbol = collateral.pick(random.next());
    const perp = instrument.pick(random.next());
    const side = random.next() < spec.longShare ? 1 : -1;
    const leverage = spec.leverageMin * ratio ** random.next();
    traders.push({
      id: `t${String(i + 1).padStart(width, '0')}`,
      collateral: { symbol, units: (sizes[i] as number) / (prices[symbol] as number) },
      instrument: perp,
      side,
      leverage,
    });
  }
  return traders;
}

/** Picks a symbol of a mix from a uniform draw in [0, 1). */
function picker(mix: Readonly<Record<string, number>>) {
  const symbols = Object.keys(mix).filter((s) => (mix[s] ?? 0) > 0);
  const total = symbols.reduce((sum, s) => sum + (mix[s] ?? 0), 0);
  return {
    symbols,
    pick(u: number): string {
      let acc = 0;
      for (const s of symbols) {
        acc += (mix[s] ?? 0) / total;
        if (u < acc) return s;
      }
      return symbols.at(-1) as string;
    },
  };
}
