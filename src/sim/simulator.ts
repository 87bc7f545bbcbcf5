/**
 * The cascade simulator: a population of leveraged accounts on the real engine, an exogenous
 * price path, a market in which liquidation sales move the price the oracle sees, liquidators
 * with finite capital and reaction delays, and the protocol's backstop.
 *
 * Every step (in time order, `stepSeconds` apart):
 * 1. the market absorbs part of the earlier sales (`Market.advance`);
 * 2. each asset's oracle price becomes its exogenous price less the liquidation impact
 *    (`set-price`), and the liquidation monitor finds the accounts that fell below maintenance;
 * 3. with dynamic margin, each asset's stress controller sees the price and may change its
 *    weights (`set-weights`);
 * 4. the backstop closes accounts below its health threshold at once; liquidators take the others,
 *    each once its reaction delay has passed since the account fell, if it has the capital and
 *    the discount covers what selling the collateral would cost it;
 * 5. liquidators sell what they seized into the market (a `withdraw`, and the proceeds
 *    deposited back as capital), and so do the backstop's sales: the price falls further, and the
 *    next step's oracle price finds more accounts below maintenance.
 *
 * The engine does all the accounting: every balance, penalty, write-off and insurance draw is
 * the engine's. The simulator only decides who acts and when, and moves the market. It is
 * deterministic: the same inputs give the same run. Floats appear only in the market and the
 * agents' decisions, never in a balance.
 */
import { type AssetConfig, parseAssetConfig } from '../domain/asset.js';
import type { LiquidationConfig } from '../domain/liquidationConfig.js';
import { DEFAULT_LIQUIDATION_CONFIG } from '../domain/liquidationConfig.js';
import type { CommandResult } from '../engine/apply.js';
import type { Command } from '../engine/commands.js';
import { Draft } from '../engine/draft.js';
import { Engine } from '../engine/engine.js';
import type { LiquidationEvent } from '../engine/events.js';
import { scaledBalance } from '../engine/positions.js';
import { findSubAccount, INSURANCE_ACCOUNT, type SubAccountRef } from '../engine/state.js';
import { LiquidationMonitor } from '../liquidation/monitor.js';
import { HEALTH_SCALE, PRICE_SCALE, VALUE_SCALE, WEIGHT_SCALE } from '../math/fixed.js';
import { supplyAmount } from '../pools/pool.js';
import { StressMargin, stressedWeights, type StressMarginConfig } from '../risk/stressMargin.js';
import { Market, type MarketAsset, type MarketModel } from './market.js';
import type { PricePath } from './path.js';
import type { Policy } from './policies.js';
import type { AccountSpec } from './population.js';
import type { HealthHistogram, PolicyRun, RunMetrics, Sample } from './result.js';
import { toPrice, units18, units6, USDC_UNIT } from './units.js';
import { type Agent, PerpDesk, type PerpsInput } from './perpDesk.js';

export { toPrice };

/** The quote asset every account borrows. */
export const DEBT_ASSET = 'USDC';

/** A liquidator: its capital (quote), how long it takes to react, and the profit it needs. */
export interface LiquidatorSpec {
  readonly id: string;
  readonly capital: number;
  readonly delaySeconds: number;
  /** Least profit, as a share of the debt it repays, after the cost of selling the collateral. */
  readonly minProfit: number;
  /** Most liquidations it can send in one step. */
  readonly maxPerStep: number;
  /**
   * Least profit of a takeover of a perpetual position, as a share of its notional, after the
   * cost of unwinding it; a tenth of `minProfit` if not given (a position's penalty is a share of
   * notional, about a tenth of a loan's bonus on its debt).
   */
  readonly minTakeoverProfit?: number;
}

/** Everything a run needs; the same input gives the same run. */
export interface SimulationInput {
  readonly path: PricePath;
  readonly accounts: readonly AccountSpec[];
  /** Listing of each collateral asset (by symbol, in the path's order). */
  readonly listings: Readonly<Record<string, AssetConfig>>;
  readonly market: readonly MarketAsset[];
  readonly marketModel: MarketModel;
  readonly liquidators: readonly LiquidatorSpec[];
  /** The insurance fund's starting capital in the debt asset (quote). */
  readonly insuranceCapital: number;
  /** Calm annualized volatility of each asset, for the stress controller. */
  readonly baselineVolatility: readonly number[];
  readonly stressMargin?: Partial<StressMarginConfig>;
  /** Samples of the time series every this many seconds (and the last step). */
  readonly sampleSeconds: number;
  /**
   * Tokens pegged to another asset of the path whose price is its peg's times a depeg path
   * (`peg.ts`): token symbol to its peg's symbol. Their oracle price follows the peg's realized
   * price (after its liquidation impact) and their own.
   */
  readonly peggedTo?: Readonly<Record<string, string>>;
  /** Perpetuals and their traders; none: a lending book. */
  readonly perps?: PerpsInput;
}

/** Health histogram buckets (upper bounds). */
const HEALTH_BOUNDS: readonly (number | null)[] = [0.5, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 2, 3, null];

/** The account that lends the debt asset to the population (no population id may take it). */
export const LENDER_ACCOUNT = 'lender';
const LENDER: SubAccountRef = { account: LENDER_ACCOUNT, subAccount: 0 };
const INSURANCE: SubAccountRef = { account: INSURANCE_ACCOUNT, subAccount: 0 };
const PRICE_FLOAT = Number(PRICE_SCALE);

/**
 * [initial, maintenance, penalty] of the assets the shipped scenarios use (Aave v2 mainnet-like).
 * A `Map`, so that a symbol read from a file name (`toString`) is only a name.
 */
const KNOWN_LISTINGS = new Map<string, readonly [string, string, string]>([
  ['ETH', ['0.8', '0.825', '0.05']],
  ['BTC', ['0.7', '0.75', '0.065']],
  ['SOL', ['0.5', '0.6', '0.1']],
  ['LUNA', ['0.5', '0.6', '0.1']],
  ['FTT', ['0.4', '0.5', '0.1']],
  ['UST', ['0.75', '0.8', '0.05']],
  ['STETH', ['0.7', '0.75', '0.075']],
  ['SUSD', ['0.75', '0.8', '0.05']],
]);

/** Listings for the assets the shipped scenarios use; others get a default. */
export function defaultListing(symbol: string): AssetConfig {
  const [initial, maintenance, penalty] = KNOWN_LISTINGS.get(symbol) ?? ['0.6', '0.7', '0.075'];
  return parseAssetConfig(
    {
      symbol,
      decimals: 18,
      initialWeight: initial,
      maintenanceWeight: maintenance,
      liquidationPenalty: penalty,
      insuranceShare: '0.2',
      borrowable: false,
    },
    'listing',
  );
}

/** Progress callback: steps done of all. */
export type Progress = (done: number, total: number) => void;

/**
 * Runs one policy over the path and population. `engine` (empty) is the engine to run on, for
 * a caller that wants to inspect its books afterwards; a new one by default.
 *
 * @example
 * const run = simulate(input, POLICIES[0], (done, total) => {});
 */
export function simulate(
  input: SimulationInput,
  policy: Policy,
  progress?: Progress,
  engine: Engine = new Engine(),
): PolicyRun {
  if (engine.state.sequence !== 0) throw new Error('simulate needs an empty engine');
  return new Run(input, policy, engine).execute(progress);
}

interface Waiting {
  readonly ref: SubAccountRef;
  readonly key: string;
  readonly since: number;
  /** The monitor's slot, for its float health estimate. */
  readonly slot: number;
}

class Run {
  private monitor!: LiquidationMonitor;
  private readonly market: Market;
  private readonly symbols: readonly string[];
  private readonly waiting = new Map<string, Waiting>();
  private readonly liquidated = new Set<string>();
  private readonly liquidators: Agent[];
  /** The derivatives book, in a run with perpetuals. */
  private readonly desk: PerpDesk | null;
  /** Per asset of the path: the position of the asset it is pegged to in the path, or -1. */
  private readonly pegOf: readonly number[];
  /** Each asset's oracle price at the current step (after impact). */
  private readonly realizedNow: number[];
  private readonly stress: (StressMargin | null)[];
  private readonly baseWeights: AssetConfig['assetWeight'][] = [];
  private time = 0;
  private bookValue = 0;
  /** A liquidation was refused by the throttle in this step: liquidators wait for the next. */
  private throttled = false;
  /** Each collateral's listing (by position in the path). */
  private readonly listings: AssetConfig[];
  // Metrics.
  private commands = 0;
  private refused = 0;
  private liquidations = 0;
  private backstops = 0;
  private liquidatedNotional = 0;
  private badDebt = 0;
  private insuranceDraw = 0;
  private socialized = 0;
  private liquidatorBonus = 0;
  private marginChanges = 0;
  private readonly multipliers: number[];
  private readonly realizedLow: number[];
  private readonly exogenousLow: number[];
  /** The lowest prices since the last sample (a sample shows the interval's low). */
  private readonly sampleExogenousLow: number[];
  private readonly sampleRealizedLow: number[];

  constructor(
    private readonly input: SimulationInput,
    private readonly policy: Policy,
    private readonly engine: Engine,
  ) {
    this.symbols = input.path.symbols;
    this.market = new Market(input.market, input.marketModel);
    this.liquidators = input.liquidators.map((spec) => ({
      spec,
      ref: { account: spec.id, subAccount: 0 },
      used: 0,
      taken: 0,
    }));
    const pegs = new Map(Object.entries(input.peggedTo ?? {}));
    this.pegOf = this.symbols.map((symbol) => this.symbols.indexOf(pegs.get(symbol) ?? ''));
    this.realizedNow = this.symbols.map(() => 0);
    this.desk =
      input.perps === undefined
        ? null
        : new PerpDesk(
            {
              engine,
              apply: (command) => this.apply(command),
              must: (command) => this.must(command),
              throttle: () => {
                this.throttled = true;
              },
              capitalOf: (agent) => this.capitalOf(agent),
              arbitrage: (i, notional) => {
                if (notional > 0) this.market.sell(i, notional);
                else this.market.buy(i, -notional);
              },
            },
            input.perps,
            this.symbols,
            input.marketModel,
          );
    this.stress = this.symbols.map((_, i) =>
      policy.dynamicMargin === true
        ? new StressMargin(input.stressMargin ?? {}, input.baselineVolatility[i] as number)
        : null,
    );
    this.multipliers = this.symbols.map(() => 1);
    this.listings = this.symbols.map((symbol) =>
      Object.hasOwn(input.listings, symbol)
        ? (input.listings[symbol] as AssetConfig)
        : defaultListing(symbol),
    );
    this.realizedLow = this.symbols.map(() => Number.POSITIVE_INFINITY);
    this.exogenousLow = this.symbols.map(() => Number.POSITIVE_INFINITY);
    this.sampleExogenousLow = this.symbols.map(() => Number.POSITIVE_INFINITY);
    this.sampleRealizedLow = this.symbols.map(() => Number.POSITIVE_INFINITY);
  }

  execute(progress?: Progress): PolicyRun {
    const { path } = this.input;
    this.setup();
    const healthBefore = this.histogram();
    const samples: Sample[] = [];
    const steps = path.times.length;
    let nextSample = path.times[0] as number;
    const every = Math.max(1, Math.floor(steps / 100));
    for (let k = 0; k < steps; k++) {
      this.step(k);
      const t = path.times[k] as number;
      if (t >= nextSample || k === steps - 1) {
        samples.push(this.sample(k));
        nextSample = t + this.input.sampleSeconds;
      }
      if (progress !== undefined && (k % every === 0 || k === steps - 1)) progress(k + 1, steps);
    }
    const healthAfter = this.histogram();
    return {
      policy: this.policy.name,
      description: this.policy.description,
      metrics: this.metrics(),
      samples,
      healthBefore,
      healthAfter,
      wallMs: 0,
    };
  }

  /** The engine's market, the lender, the liquidators, the fund and every account. */
  private setup(): void {
    const input = this.input;
    const { path, accounts } = input;
    const t0 = path.times[0] as number;
    this.time = t0;
    this.must({
      type: 'list-asset',
      time: t0,
      config: parseAssetConfig(
        {
          symbol: DEBT_ASSET,
          decimals: 6,
          initialWeight: '0.85',
          maintenanceWeight: '0.875',
          supplyCap: null,
          borrowCap: null,
        },
        'listing',
      ),
      price: PRICE_SCALE,
    });
    this.symbols.forEach((_, i) => {
      const config = this.listings[i] as AssetConfig;
      this.baseWeights.push(config.assetWeight);
      this.must({ type: 'list-asset', time: t0, config, price: toPrice(price(path, i, 0)) });
    });
    // Each account borrows for its aimed health, within initial margin (a hair below it, for
    // rounding); the lender supplies all of it and a quarter more.
    const debts = accounts.map((account) => {
      let maintenance = 0;
      let initial = 0;
      for (const { symbol, units } of account.collateral) {
        const i = this.symbols.indexOf(symbol);
        const weights = (this.listings[i] as AssetConfig).assetWeight;
        const value = units * price(path, i, 0);
        this.bookValue += value;
        maintenance += value * (Number(weights.maintenance) / 1e6);
        initial += value * (Number(weights.initial) / 1e6);
      }
      return units6(Math.min(maintenance / account.health, initial * 0.999_999));
    });
    const borrowed = debts.reduce((sum, d) => sum + d, 0n);
    this.must(deposit(LENDER, DEBT_ASSET, borrowed + borrowed / 4n + 1_000_000_000n, t0));
    for (const l of this.liquidators) {
      this.must(deposit(l.ref, DEBT_ASSET, units6(l.spec.capital), t0));
    }
    if (this.input.insuranceCapital > 0) {
      this.must(deposit(INSURANCE, DEBT_ASSET, units6(this.input.insuranceCapital), t0));
    }
    accounts.forEach((account, n) => {
      const ref = { account: account.id, subAccount: 0 };
      for (const { symbol, units } of account.collateral) {
        this.must(deposit(ref, symbol, units18(units), t0));
      }
      const amount = debts[n] as bigint;
      if (amount > 0n) this.must({ type: 'borrow', time: t0, ...ref, asset: DEBT_ASSET, amount });
    });
    if (this.desk !== null && input.perps !== undefined) {
      this.bookValue += PerpDesk.collateralValue(input.perps, (symbol) =>
        symbol === DEBT_ASSET ? 1 : price(path, this.symbols.indexOf(symbol), 0),
      );
      this.desk.setup(t0, (i) => price(path, i, 0));
    }
    // The policy's rules.
    this.must({ type: 'configure-liquidation', time: t0, config: this.liquidationConfig() });
    if (this.policy.endBuffer !== undefined) {
      this.symbols.forEach((symbol, i) => {
        const w = this.baseWeights[i] as AssetConfig['assetWeight'];
        const buffer = BigInt(Math.round((this.policy.endBuffer as number) * 1e6));
        const target = (w.maintenance * (WEIGHT_SCALE - buffer)) / WEIGHT_SCALE;
        const end = target < w.liquidationEnd ? target : w.liquidationEnd;
        const initial = w.initial < end ? w.initial : end;
        const weights = { initial, liquidationEnd: end, maintenance: w.maintenance };
        this.baseWeights[i] = weights;
        this.must({ type: 'set-weights', time: t0, asset: symbol, assetWeight: weights });
      });
    }
    this.monitor = new LiquidationMonitor(this.engine.state, t0);
    for (const ref of this.monitor.liquidatable()) this.wait(ref, t0);
  }

  private liquidationConfig(): LiquidationConfig {
    const p = this.policy;
    const share = (x: number | undefined, fallback: bigint | null): bigint | null =>
      x === undefined ? fallback : BigInt(Math.round(this.bookValue * x)) * VALUE_SCALE;
    const ratio = (x: number | undefined, fallback: bigint, scale: bigint): bigint =>
      x === undefined ? fallback : (BigInt(Math.round(x * 1e6)) * scale) / 1_000_000n;
    // The backstop's linear depth: the square-root market's impact at a sale of 1% of a day's
    // volume, read as a slope, for the most fragile asset.
    let depth = Number.POSITIVE_INFINITY;
    for (const a of this.input.market) {
      const q = a.dailyVolume * this.input.marketModel.liquidityFactor * 0.01;
      const impact = this.input.marketModel.coefficient * a.dailyVolatility * 0.1;
      if (impact > 0) depth = Math.min(depth, (q * 0.01) / impact);
    }
    const backstopDepthValue = Number.isFinite(depth)
      ? BigInt(Math.max(1, Math.round(depth))) * VALUE_SCALE
      : DEFAULT_LIQUIDATION_CONFIG.backstopDepthValue;
    return {
      ...DEFAULT_LIQUIDATION_CONFIG,
      closeFactor: ratio(p.closeFactor, DEFAULT_LIQUIDATION_CONFIG.closeFactor, WEIGHT_SCALE),
      fullCloseHealth: ratio(
        p.fullCloseHealth,
        DEFAULT_LIQUIDATION_CONFIG.fullCloseHealth,
        HEALTH_SCALE,
      ),
      accountCapValue: share(p.accountCapShare, null),
      globalCapValue: share(p.globalCapShare, null),
      backstopDepthValue,
    };
  }

  private step(k: number): void {
    const { path } = this.input;
    const t = path.times[k] as number;
    const dt = t - this.time;
    this.time = t;
    if (dt > 0) {
      this.market.advance(dt);
      this.desk?.advance(dt);
    }
    for (let i = 0; i < this.symbols.length; i++) {
      const exogenous = price(path, i, k);
      const realized = this.market.realized(i, exogenous) * this.pegFactor(i, k);
      this.realizedNow[i] = realized;
      this.exogenousLow[i] = Math.min(this.exogenousLow[i] as number, exogenous);
      this.realizedLow[i] = Math.min(this.realizedLow[i] as number, realized);
      this.sampleExogenousLow[i] = Math.min(this.sampleExogenousLow[i] as number, exogenous);
      this.sampleRealizedLow[i] = Math.min(this.sampleRealizedLow[i] as number, realized);
      this.apply({
        type: 'set-price',
        time: t,
        asset: this.symbols[i] as string,
        price: toPrice(realized),
      });
      const stress = this.stress[i];
      if (stress !== null && stress !== undefined) {
        const decision = stress.observe(t, realized);
        if (decision !== null) {
          const weights = stressedWeights(
            this.baseWeights[i] as AssetConfig['assetWeight'],
            BigInt(decision.multiplierPpm),
          );
          const result = this.apply({
            type: 'set-weights',
            time: t,
            asset: this.symbols[i] as string,
            assetWeight: weights,
          });
          if (result.ok) {
            this.marginChanges++;
            this.multipliers[i] = Number(decision.multiplierPpm) / 1e6;
          }
        }
      }
    }
    this.desk?.marks(
      k,
      t,
      (i) => price(path, i, k),
      (i) => this.realizedNow[i] as number,
    );
    this.liquidate(t);
    this.sell(t);
    this.desk?.unwind(t, this.liquidators);
  }

  /**
   * A token pegged to an asset of the path follows that asset's realized price: its price before
   * its own impact is its exogenous price times the peg's realized over exogenous price (1 for
   * any other asset, and exactly so: it multiplies nothing).
   */
  private pegFactor(i: number, k: number): number {
    const peg = this.pegOf[i] as number;
    if (peg < 0) return 1;
    return (this.realizedNow[peg] as number) / price(this.input.path, peg, k);
  }

  /** The price at which asset `i` trades at step `k` before the sale at hand moves it. */
  private marketPrice(i: number, k: number): number {
    return price(this.input.path, i, k) * this.pegFactor(i, k);
  }

  /**
   * The backstop and the liquidators act on the accounts waiting, oldest first (the waiting map
   * keeps the order in which accounts fell). Every waiting account is screened for the backstop
   * on the monitor's float health, confirmed exactly before it acts; liquidators take accounts
   * until none of them has capital or room left in this step.
   */
  private liquidate(t: number): void {
    for (const l of this.liquidators) {
      l.used = 0;
      l.taken = 0;
    }
    const backstopHealth = this.engine.state.liquidationConfig.backstopHealth;
    const screen = (Number(backstopHealth) / Number(HEALTH_SCALE)) * (1 + 1e-6);
    this.throttled = false;
    // The shortest reaction delay among liquidators with capital and room in this step.
    const delay = (): number => {
      let least = Number.POSITIVE_INFINITY;
      for (const l of this.liquidators) {
        if (l.used < l.spec.maxPerStep && this.capitalOf(l) > 0n) {
          least = Math.min(least, l.spec.delaySeconds);
        }
      }
      return least;
    };
    let ready = delay();
    // Deleting while iterating a Map is safe; accounts added meanwhile are visited too.
    for (const waiting of this.waiting.values()) {
      const { ref, since, slot } = waiting;
      // Positions first (docs/MARGIN.md): an account's debts are liquidated once it holds none.
      const positions = this.desk?.holdsPositions(ref) === true;
      if (this.monitor.healthEstimate(slot) < screen) {
        const health = new Draft(this.engine.state, t).health(ref);
        if ((health.healthFactor('maintenance') ?? 0n) < backstopHealth) {
          if (positions) {
            this.desk?.backstop(ref, t);
            continue;
          }
          const collateral = this.largestCollateral(ref);
          if (collateral === null) this.apply({ type: 'resolve-bankruptcy', time: t, target: ref });
          else this.backstop(ref, collateral, t);
          continue;
        }
      }
      if (this.throttled || t - since < ready) continue;
      if (!this.monitor.isLiquidatable(ref)) {
        this.waiting.delete(waiting.key);
        continue;
      }
      if (positions) {
        if (this.desk?.byLiquidator(ref, since, t, this.liquidators) === true) ready = delay();
        continue;
      }
      const collateral = this.largestCollateral(ref);
      if (collateral === null) {
        this.apply({ type: 'resolve-bankruptcy', time: t, target: ref });
        continue;
      }
      if (this.byLiquidator(ref, since, collateral, t)) ready = delay();
    }
  }

  private backstop(ref: SubAccountRef, collateral: number, t: number): void {
    const result = this.apply({
      type: 'backstop',
      time: t,
      target: ref,
      debtAsset: DEBT_ASSET,
      collateralAsset: this.symbols[collateral] as string,
    });
    if (!result.ok) return;
    for (const event of result.events) {
      if (event.type !== 'liquidation') continue;
      const sold = Number(event.soldToMarket) / 1e18;
      this.market.sell(collateral, sold * this.marketPrice(collateral, this.stepIndex(t)));
    }
  }

  /** The first liquidator able and willing takes the account; whether one did. */
  private byLiquidator(ref: SubAccountRef, since: number, collateral: number, t: number): boolean {
    const symbol = this.symbols[collateral] as string;
    const listed = Number((this.listings[collateral] as AssetConfig).liquidationPenalty);
    const auction = this.policy.auction;
    let maxPenalty: bigint | undefined;
    if (auction !== undefined) {
      const discount = Math.min(
        listed / 1e6,
        auction.startPremium + (auction.ratePerMinute * (t - since)) / 60,
      );
      if (discount <= 0) return false;
      maxPenalty = BigInt(Math.floor(discount * 1e6));
    }
    for (const l of this.liquidators) {
      if (t - since < l.spec.delaySeconds || l.used >= l.spec.maxPerStep) continue;
      const command: Command = {
        type: 'liquidate',
        time: t,
        liquidator: l.ref,
        target: ref,
        debtAsset: DEBT_ASSET,
        collateralAsset: symbol,
        amount: this.capitalOf(l),
        ...(maxPenalty === undefined ? {} : { maxPenalty }),
      };
      if (command.amount === 0n) continue;
      const trial = this.engine.dryRun(command).result;
      if (!trial.ok) {
        if (trial.error.code === 'liquidation_toxic') {
          this.backstop(ref, collateral, t);
          return false;
        }
        if (trial.error.code === 'liquidation_throttled') {
          this.throttled = true;
          return false;
        }
        continue;
      }
      const event = trial.events.find((e): e is LiquidationEvent => e.type === 'liquidation');
      if (event === undefined) continue;
      const repaid = Number(event.repaid) / USDC_UNIT;
      const got = Number(event.toLiquidator) / 1e18;
      const oracle = Number(event.collateralPrice) / PRICE_FLOAT;
      const cost = this.market.slippage(collateral, got * oracle);
      const profit = got * oracle * (1 - cost) - repaid;
      if (profit < l.spec.minProfit * repaid) continue;
      const result = this.apply(command);
      if (!result.ok) continue;
      l.used++;
      return true;
    }
    return false;
  }

  /** Liquidators sell what they seized; their proceeds come back as capital. */
  private sell(t: number): void {
    const k = this.stepIndex(t);
    for (const l of this.liquidators) {
      let proceeds = 0;
      for (let i = 0; i < this.symbols.length; i++) {
        const asset = this.engine.state.assets[i + 1];
        const scaled = this.scaled(l.ref, i + 1);
        if (asset === undefined || scaled <= 0n) continue;
        const amount = supplyAmount(scaled, asset.pool);
        if (amount <= 0n) continue;
        const result = this.apply({
          type: 'withdraw',
          time: t,
          ...l.ref,
          asset: this.symbols[i] as string,
          amount: 'all',
        });
        if (!result.ok) continue;
        const units = Number(amount) / 1e18;
        const before = this.marketPrice(i, k);
        const discount = this.market.sell(i, units * before);
        proceeds += units * before * (1 - discount);
      }
      if (proceeds > 0) this.apply(deposit(l.ref, DEBT_ASSET, units6(proceeds), t));
    }
  }

  /** What a liquidator can repay: its supply of the debt asset. */
  private capitalOf(l: Agent): bigint {
    const asset = this.engine.state.assets[0];
    const scaled = this.scaled(l.ref, 0);
    if (asset === undefined || scaled <= 0n) return 0n;
    return supplyAmount(scaled, asset.pool);
  }

  /** The collateral asset (index in the path) the account holds most value of; null if none. */
  private largestCollateral(ref: SubAccountRef): number | null {
    let best: number | null = null;
    let bestValue = 0n;
    for (let i = 0; i < this.symbols.length; i++) {
      const asset = this.engine.state.assets[i + 1];
      const scaled = this.scaled(ref, i + 1);
      if (asset === undefined || scaled <= 0n) continue;
      const value = supplyAmount(scaled, asset.pool) * asset.risk.valuePerUnit;
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    return best;
  }

  /** A sub-account's scaled balance of one asset (by engine index); zero when it has none. */
  private scaled(ref: SubAccountRef, asset: number): bigint {
    const sub = findSubAccount(this.engine.state.accounts.get(ref.account), ref.subAccount);
    return sub === undefined ? 0n : scaledBalance(sub, asset);
  }

  private stepIndex(t: number): number {
    const { path } = this.input;
    return Math.min(
      path.times.length - 1,
      Math.max(0, Math.round((t - (path.times[0] as number)) / path.stepSeconds)),
    );
  }

  /** Applies a command that must succeed (setup). */
  private must(command: Command): void {
    const result = this.engine.apply(command);
    this.commands++;
    if (!result.ok) {
      throw new Error(`simulation setup: ${command.type} refused: ${result.error.message}`);
    }
  }

  /** Applies a command during the run: counts it, follows its events, feeds the monitor. */
  private apply(command: Command): CommandResult {
    const result = this.engine.apply(command);
    this.commands++;
    if (!result.ok) {
      this.refused++;
      return result;
    }
    for (const event of result.events) {
      if (event.type === 'liquidation') {
        const repaid = Number(event.repaid) / USDC_UNIT;
        this.liquidations++;
        this.liquidatedNotional += repaid;
        this.liquidated.add(key(event.target));
        if (event.liquidator.account === '@backstop') this.backstops++;
        else {
          const price = Number(event.collateralPrice) / PRICE_FLOAT;
          this.liquidatorBonus += (Number(event.toLiquidator) / 1e18) * price - repaid;
        }
      } else if (event.type === 'bad-debt') {
        const scale = 10 ** event.decimals;
        const deficit = Number(event.deficit) / scale;
        const draw = Number(event.insuranceDraw) / scale;
        const socialized = Number(event.socialized) / scale;
        this.badDebt += deficit;
        this.insuranceDraw += draw;
        this.socialized += socialized;
        if (this.desk?.isTrader(event.target.account) === true) {
          this.desk.noteBadDebt(deficit, draw, socialized);
        }
      }
    }
    this.desk?.observe(result.events);
    if (this.monitor !== undefined) {
      const scan = this.monitor.observe(result);
      for (const ref of scan.liquidatable) this.wait(ref, command.time);
      for (const ref of scan.recovered) this.waiting.delete(key(ref));
    }
    return result;
  }

  private wait(ref: SubAccountRef, since: number): void {
    if (ref.account === INSURANCE_ACCOUNT || this.isLiquidator(ref)) return;
    const k = key(ref);
    if (!this.waiting.has(k)) {
      this.waiting.set(k, { ref, key: k, since, slot: this.monitor.slotOfRef(ref) });
    }
  }

  private isLiquidator(ref: SubAccountRef): boolean {
    return this.liquidators.some((l) => l.ref.account === ref.account);
  }

  private sample(k: number): Sample {
    const { path } = this.input;
    const exogenous: Record<string, number> = {};
    const realized: Record<string, number> = {};
    const marginMultiplier: Record<string, number> = {};
    this.symbols.forEach((symbol, i) => {
      exogenous[symbol] = this.sampleExogenousLow[i] as number;
      realized[symbol] = this.sampleRealizedLow[i] as number;
      this.sampleExogenousLow[i] = Number.POSITIVE_INFINITY;
      this.sampleRealizedLow[i] = Number.POSITIVE_INFINITY;
      marginMultiplier[symbol] = this.multipliers[i] as number;
    });
    return {
      time: path.times[k] as number,
      exogenous,
      realized,
      liquidatedNotional: this.liquidatedNotional,
      accountsLiquidated: this.liquidated.size,
      liquidatable: this.waiting.size,
      badDebt: this.badDebt,
      insuranceDraw: this.insuranceDraw,
      marginMultiplier,
      ...(this.desk === null ? {} : { derivatives: this.desk.sample() }),
    };
  }

  private metrics(): RunMetrics {
    const { path } = this.input;
    const lows = this.symbols.map((symbol, i) => {
      const start = price(path, i, 0);
      const exogenousLow = this.exogenousLow[i] as number;
      const realizedLow = this.realizedLow[i] as number;
      const fall = start - exogenousLow;
      const amplification =
        fall > start * 1e-9 ? (start - realizedLow) / fall - 1 : realizedLow < start ? 1 : 0;
      return { symbol, exogenousLow, realizedLow, amplification };
    });
    return {
      lows,
      amplification: Math.max(0, ...lows.map((l) => l.amplification)),
      liquidatedNotional: this.liquidatedNotional,
      liquidations: this.liquidations,
      backstopLiquidations: this.backstops,
      accountsLiquidated: this.liquidated.size,
      badDebt: this.badDebt,
      insuranceDraw: this.insuranceDraw,
      socialized: this.socialized,
      liquidatorBonus: this.liquidatorBonus,
      marginChanges: this.marginChanges,
      liquidatableAtEnd: this.monitor.count,
      commands: this.commands,
      refused: this.refused,
      ...(this.desk === null ? {} : { derivatives: this.desk.metrics() }),
    };
  }

  /** Maintenance health of every account of the population, bucketed. */
  private histogram(): HealthHistogram {
    const counts = HEALTH_BOUNDS.map(() => 0);
    const ids = [
      ...this.input.accounts.map((a) => a.id),
      ...(this.input.perps?.traders ?? []).map((t) => t.id),
    ];
    for (const id of ids) {
      const ref = { account: id, subAccount: 0 };
      // An account the run emptied (nothing held, nothing owed) owes nothing: its health is
      // unbounded, like any account without debt. A draft per account: a draft remembers
      // every sub-account it reads.
      const hf =
        findSubAccount(this.engine.state.accounts.get(ref.account), 0) === undefined
          ? null
          : new Draft(this.engine.state, this.time).health(ref).healthFactor('maintenance');
      const h = hf === null ? Number.POSITIVE_INFINITY : Number(hf) / Number(HEALTH_SCALE);
      const bucket = HEALTH_BOUNDS.findIndex((b) => b === null || h < b);
      counts[bucket] = (counts[bucket] ?? 0) + 1;
    }
    return { bounds: HEALTH_BOUNDS, counts };
  }
}

function price(path: PricePath, asset: number, step: number): number {
  return (path.prices[asset] as Float64Array)[step] as number;
}

function deposit(ref: SubAccountRef, asset: string, amount: bigint, time: number): Command {
  return { type: 'deposit', time, ...ref, asset, amount };
}

function key(ref: SubAccountRef): string {
  return `${ref.account}/${ref.subAccount}`;
}
