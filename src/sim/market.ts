/**
 * The market the venue's liquidations sell into: each sale pushes the price down, and the
 * market's liquidity absorbs the push over time.
 *
 * Per asset the model keeps the sold notional the market has not absorbed yet, Q (quote), which
 * decays with a half-life (liquidity returning: arbitrageurs and market makers refill the
 * book). The price the oracle sees is the exogenous price times (1 − D(Q)), where D is
 *
 * - square root (the default): D = Y · σ_day · sqrt(Q / V_day), the square-root law of market
 *   impact, with the asset's daily volatility σ_day and daily volume V_day (quote) measured on
 *   the days before the window, and Y of order one;
 * - linear: D = Q / depth × 1%, with `depth` the quote notional that moves the price by 1% (an
 *   order book's depth, fitted from a snapshot).
 *
 * D is capped (`maxImpact`). A seller gets the average of D before and after its own sale.
 */
import { FulcrumError } from '../base/errors.js';

export interface MarketAsset {
  readonly symbol: string;
  /** Daily volatility (fraction) and daily traded volume (quote) before the window. */
  readonly dailyVolatility: number;
  readonly dailyVolume: number;
  /** Quote notional that moves the price by 1%, for the linear model. */
  readonly depthPerPercent: number;
}

export interface MarketModel {
  readonly impact: 'sqrt' | 'linear' | 'none';
  /** Y in the square-root law. */
  readonly coefficient: number;
  /** Seconds for half of the unabsorbed notional to be absorbed. */
  readonly recoveryHalfLifeSeconds: number;
  /** Share of the measured volume (or depth) available in the crash: below 1 for thin markets. */
  readonly liquidityFactor: number;
  /** The price never falls more than this share below the exogenous price. */
  readonly maxImpact: number;
}

export const DEFAULT_MARKET_MODEL: MarketModel = {
  impact: 'sqrt',
  coefficient: 1,
  recoveryHalfLifeSeconds: 3_600,
  liquidityFactor: 0.5,
  maxImpact: 0.5,
};

/** Checks a market model's numbers; throws `invalid_config` naming the field. */
export function validateMarketModel(model: MarketModel): void {
  const fail = (field: string, message: string): never => {
    throw new FulcrumError('invalid_config', message, `market.${field}`);
  };
  if (!['sqrt', 'linear', 'none'].includes(model.impact))
    fail('impact', 'impact must be sqrt, linear or none');
  if (!(model.coefficient >= 0 && model.coefficient <= 100))
    fail('coefficient', 'coefficient must be from 0 to 100');
  if (!(model.recoveryHalfLifeSeconds > 0 && model.recoveryHalfLifeSeconds <= 30 * 86_400))
    fail('recoveryHalfLifeSeconds', 'the recovery half-life must be from 1 second to 30 days');
  if (!(model.liquidityFactor > 0 && model.liquidityFactor <= 100))
    fail('liquidityFactor', 'the liquidity factor must be above 0 and at most 100');
  if (!(model.maxImpact >= 0 && model.maxImpact < 1))
    fail('maxImpact', 'the largest impact must be in [0, 1)');
}

/** The impact state of every asset during one run. */
export class Market {
  private readonly pending: Float64Array;

  constructor(
    private readonly assets: readonly MarketAsset[],
    private readonly model: MarketModel,
  ) {
    validateMarketModel(model);
    this.pending = new Float64Array(assets.length);
  }

  /** Lets `seconds` pass: the unabsorbed notional decays. */
  advance(seconds: number): void {
    const keep = 0.5 ** (seconds / this.model.recoveryHalfLifeSeconds);
    for (let i = 0; i < this.pending.length; i++)
      this.pending[i] = (this.pending[i] as number) * keep;
  }

  /** The current discount D of asset `i` below its exogenous price. */
  displacement(i: number): number {
    return this.impactOf(i, this.pending[i] as number);
  }

  /** The price of asset `i` the oracle sees, given its exogenous price. */
  realized(i: number, exogenous: number): number {
    return exogenous * (1 - this.displacement(i));
  }

  /** What selling `notional` (quote) would cost on average, as a fraction, without selling. */
  slippage(i: number, notional: number): number {
    const q = this.pending[i] as number;
    return (this.impactOf(i, q + notional) + this.impactOf(i, q)) / 2 - this.impactOf(i, q);
  }

  /**
   * Sells `notional` (quote, at the exogenous price) of asset `i`; returns the average discount
   * the seller got below the exogenous price.
   */
  sell(i: number, notional: number): number {
    if (!(notional > 0)) return this.displacement(i);
    const before = this.displacement(i);
    this.pending[i] = (this.pending[i] as number) + notional;
    return (before + this.displacement(i)) / 2;
  }

  /**
   * Buys `notional` (quote) of asset `i`: the purchase offsets unabsorbed sales, never more (the
   * price the oracle sees stays at or below the exogenous price).
   */
  buy(i: number, notional: number): void {
    if (!(notional > 0)) return;
    this.pending[i] = Math.max(0, (this.pending[i] as number) - notional);
  }

  /** Unabsorbed notional of asset `i` (quote). */
  unabsorbed(i: number): number {
    return this.pending[i] as number;
  }

  private impactOf(i: number, q: number): number {
    return impactOf(this.assets[i] as MarketAsset, this.model, q);
  }
}

/** D of `q` (quote, not negative) unabsorbed in `asset`'s market, capped at `maxImpact`. */
function impactOf(asset: MarketAsset, model: MarketModel, q: number): number {
  let d: number;
  switch (model.impact) {
    case 'none':
      return 0;
    case 'linear':
      d = (q / (asset.depthPerPercent * model.liquidityFactor)) * 0.01;
      break;
    case 'sqrt':
      d =
        model.coefficient *
        asset.dailyVolatility *
        Math.sqrt(q / (asset.dailyVolume * model.liquidityFactor));
      break;
  }
  return Number.isFinite(d) ? Math.min(d, model.maxImpact) : model.maxImpact;
}

/**
 * The market a perpetual's unwinds trade into: the same model, but the unabsorbed flow Q is
 * signed, sales positive and purchases negative, and so is the displacement, D(Q) = sign(Q) ×
 * D(|Q|): liquidated longs sold push the mark below the index, liquidated shorts bought back
 * push it above. A trade gets the average of the price before and after it. The flow decays
 * with the model's half-life; `advance` says how much of it went, for the caller to pass on (the
 * simulator's arbitrageurs carry it into the underlying's spot market).
 */
export class SignedMarket {
  private readonly pending: Float64Array;

  constructor(
    private readonly assets: readonly MarketAsset[],
    private readonly model: MarketModel,
  ) {
    validateMarketModel(model);
    this.pending = new Float64Array(assets.length);
  }

  /** Lets `seconds` pass: the unabsorbed flow decays toward zero; returns what went, per market. */
  advance(seconds: number): number[] {
    const keep = 0.5 ** (seconds / this.model.recoveryHalfLifeSeconds);
    const gone: number[] = [];
    for (let i = 0; i < this.pending.length; i++) {
      const before = this.pending[i] as number;
      this.pending[i] = before * keep;
      gone.push(before - (this.pending[i] as number));
    }
    return gone;
  }

  /** The signed displacement of market `i`: its price is the undisturbed one times (1 − D). */
  displacement(i: number): number {
    return this.signedImpact(i, this.pending[i] as number);
  }

  /**
   * What a trade of `notional` (quote; positive: a sale, negative: a purchase) would get, as a
   * fraction below the current price (negative: above it), without trading; after `ahead` of
   * flow that trades before it (default none).
   */
  cost(i: number, notional: number, ahead = 0): number {
    const q = this.pending[i] as number;
    const now = this.signedImpact(i, q);
    const from = this.signedImpact(i, q + ahead);
    const average = (from + this.signedImpact(i, q + ahead + notional)) / 2;
    return 1 - (1 - average) / (1 - now);
  }

  /** Trades `notional` (signed as in {@link cost}); returns the fraction it got, as `cost`. */
  trade(i: number, notional: number): number {
    const cost = this.cost(i, notional);
    if (Number.isFinite(notional)) this.pending[i] = (this.pending[i] as number) + notional;
    return cost;
  }

  /** Unabsorbed signed flow of market `i` (quote). */
  unabsorbed(i: number): number {
    return this.pending[i] as number;
  }

  private signedImpact(i: number, q: number): number {
    const d = impactOf(this.assets[i] as MarketAsset, this.model, Math.abs(q));
    return q < 0 ? -d : d;
  }
}
