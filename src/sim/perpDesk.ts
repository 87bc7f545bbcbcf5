/**
 * The derivatives side of a cascade simulation: perpetuals listed in the engine beside the
 * lending pools, traders' positions opened at the start against a market maker, marks that follow
 * the impacted index with a basis, funding every interval, and the liquidation of positions in
 * the order of docs/MARGIN.md: liquidators take positions over (`liquidate-position`), the
 * insurance fund takes over those below the backstop's health, bankrupt positions the fund cannot
 * cover are deleveraged (`deleverage`), and whoever took a position over unwinds it into the
 * perpetual's own market, which moves the mark.
 *
 * The mark of a perpetual at each step (docs/SIMULATOR.md):
 *
 *   mark = index × (1 + basis) × (1 − D)
 *
 * with index the underlying's price the oracle sees (after the spot market's liquidation
 * impact), basis the exogenous basis (from a mark file, zero without one) and D the signed
 * displacement of the perpetual's market (`SignedMarket`): unwinds of liquidated longs sell and
 * push the mark down, unwinds of shorts buy and push it up; the market absorbs the flow with the
 * same half-life as the spot markets. Funding then pays the premium of mark over index, longs to
 * shorts when positive, as the engine computes it.
 *
 * Everything that moves value is an engine command; the desk decides only who acts, when and for
 * how much. Floats appear in the market and the decisions, never in a balance.
 */
import type { CommandResult } from '../engine/apply.js';
import type { Command } from '../engine/commands.js';
import { equityOf } from '../engine/deleverage.js';
import { Draft } from '../engine/draft.js';
import type { Engine } from '../engine/engine.js';
import type { EngineEvent } from '../engine/events.js';
import { scaledBalance } from '../engine/positions.js';
import {
  findSubAccount,
  INSURANCE_ACCOUNT,
  type InstrumentState,
  type SubAccountRef,
} from '../engine/state.js';
import { type InstrumentSpec, sizeAdjusted } from '../derivatives/instruments.js';
import { type InstrumentListing, parseInstrumentListing } from '../derivatives/listing.js';
import { SIZE_UNIT, VALUE_UNIT } from '../derivatives/position.js';
import { supplyAmount } from '../pools/pool.js';
import { type MarketAsset, type MarketModel, SignedMarket } from './market.js';
import type { DerivativesMetrics, DerivativesSample } from './result.js';
import type { LiquidatorSpec } from './simulator.js';
import type { TraderSpec } from './traders.js';
import { priceFloat, toPrice, units18, units6 } from './units.js';

/** A perpetual's symbol is its underlying's and this: `ETH-PERP`. */
export const PERP_SUFFIX = '-PERP';

/** The market maker: the other side of every opening trade and of every unwind. */
export const MAKER_ACCOUNT = 'maker';

/** Seconds between funding payments of the simulator's perpetuals: eight hours (Binance's). */
export const FUNDING_INTERVAL_SECONDS = 28_800;

/** Notional (quote, at the start price) from which the size premium raises margins. */
export const SIZE_PREMIUM_NOTIONAL = 1_000_000;

/**
 * The listing of the perpetual on `underlying` the simulator uses: initial margin 1.5% (66x at
 * most), maintenance 0.75%; a size premium (Drift's form, max(base, 0.8 · base + premium ·
 * √size)) set so that initial margin reaches 2% (50x) at a notional of $1M at `startPrice` and
 * keeps rising with the square root of the size (about 27x at $10M, 11x at $100M: the risk tiers
 * venues impose on large positions); a takeover's penalty 0.5% of notional, a fifth of it to the
 * insurance fund; funding every `fundingIntervalSeconds` (eight hours by default), the premium
 * of mark over index for the interval, at most 0.75% (the engine's rule, Binance's clamp).
 */
export function perpListing(
  underlying: string,
  startPrice: number,
  fundingIntervalSeconds: number = FUNDING_INTERVAL_SECONDS,
): InstrumentListing {
  const premium = 0.008 / Math.sqrt(SIZE_PREMIUM_NOTIONAL / startPrice);
  return parseInstrumentListing(
    {
      kind: 'perpetual',
      symbol: `${underlying}${PERP_SUFFIX}`,
      underlying,
      initialMargin: '0.015',
      maintenanceMargin: '0.0075',
      sizePremium: Math.min(1, premium)
        .toFixed(12)
        .replace(/\.?0+$/, ''),
      fundingIntervalSeconds: String(fundingIntervalSeconds),
      fundingClamp: '0.0075',
      liquidationPenalty: '0.005',
      insuranceShare: '0.2',
    },
    'listing',
  );
}

/** One perpetual of a run. */
export interface PerpInput {
  readonly listing: InstrumentListing;
  /** The exogenous basis at each step of the path: the mark over the index, less one. */
  readonly basis: Float64Array;
  /** Where the basis comes from: a mark file's name, or `none` (zero). */
  readonly basisSource: string;
  /** The perpetual's own market, which unwinds trade into (its volume and volatility). */
  readonly market: MarketAsset;
}

/** The derivatives of a run: its perpetuals, its traders and the agents' parameters. */
export interface PerpsInput {
  readonly instruments: readonly PerpInput[];
  readonly traders: readonly TraderSpec[];
  /** The market maker's capital in USDC, as a share of the traders' opening notional. */
  readonly makerCapitalShare: number;
  /** Most notional a liquidator takes over in one step, as a multiple of its capital. */
  readonly takeoverLeverage: number;
  /**
   * Half-life (seconds) of a perpetual's own displacement: arbitrageurs buy the discounted
   * perpetual and sell its underlying (or the reverse), carrying the flow into the spot market.
   */
  readonly arbitrageHalfLifeSeconds: number;
}

/** A liquidator during a run: its spec, its account, and what it did in the current step. */
export interface Agent {
  readonly spec: LiquidatorSpec;
  readonly ref: SubAccountRef;
  /** Liquidations and takeovers sent in this step. */
  used: number;
  /** Notional taken over in this step (quote). */
  taken: number;
}

/** What the desk needs of its run. */
export interface DeskContext {
  readonly engine: Engine;
  /** Applies a command during the run (counted, followed by the monitor). */
  apply(command: Command): CommandResult;
  /** Applies a setup command that must succeed. */
  must(command: Command): void;
  /** The liquidation throttle refused: no liquidator acts until the next step. */
  throttle(): void;
  /** The USDC capital of an agent: its supply of the debt asset (base units). */
  capitalOf(agent: Agent): bigint;
  /**
   * Arbitrage carries `notional` (quote; positive: a sale, negative: a purchase) of a
   * perpetual's flow into its underlying's spot market (by position in the path).
   */
  arbitrage(pathIndex: number, notional: number): void;
}

const INSURANCE: SubAccountRef = { account: INSURANCE_ACCOUNT, subAccount: 0 };

/**
 * The most an insurance fund's unwind may cost in a step, as a share of what it sells: beyond it
 * the fund carries the position to a later step rather than crash the mark (at least a sixtieth
 * of it still goes each step, so that it is out within an hour of minute steps).
 */
export const FUND_UNWIND_COST = 0.01;
const MAKER: SubAccountRef = { account: MAKER_ACCOUNT, subAccount: 0 };
const SIZE_FLOAT = Number(SIZE_UNIT);
const VALUE_FLOAT = Number(VALUE_UNIT);

/** A position as the desk sees it: the perpetual (by position in the input), its signed size. */
interface Held {
  readonly perp: number;
  readonly symbol: string;
  readonly size: bigint;
}

/**
 * The perpetuals of one run. `setup` lists them and opens the book; each step `marks` sets the
 * marks and settles funding when due, `liquidate`-time calls take positions over, and `unwind`
 * closes what liquidators and the fund took; `observe` counts every event.
 */
export class PerpDesk {
  private readonly market: SignedMarket;
  private readonly symbols: readonly string[];
  /** Position of each perpetual's underlying in the path. */
  private readonly underlying: readonly number[];
  private readonly bySymbol = new Map<string, number>();
  private readonly exogenousLow: number[];
  private readonly realizedLow: number[];
  private readonly sampleExogenousLow: number[];
  private readonly sampleRealizedLow: number[];
  private readonly startMark: number[];
  /** Per perpetual: the flow taken over in this step, to be unwound at its end (signed, quote). */
  private readonly queued: number[];
  /** Each perpetual's index in the engine's list of instruments, once listed. */
  private engineIndex: readonly number[] = [];
  private band = 0.099;
  // Metrics.
  private positionLiquidations = 0;
  private fundTakeovers = 0;
  private takeoverNotional = 0;
  private fundTakeoverNotional = 0;
  private readonly tradersLiquidated = new Set<string>();
  private adlCount = 0;
  private adlEvents = 0;
  private adlNotional = 0;
  private readonly adlTargets = new Set<string>();
  private readonly adlCounterparties = new Set<string>();
  private socializedLoss = 0;
  private fundingPaid = 0;
  private fundingSettlements = 0;
  private unwoundNotional = 0;
  private openingNotional = 0;
  /** Bad debt written off on traders' accounts, and who bore it (quote). */
  private badDebt = 0;
  private badDebtInsurance = 0;
  private badDebtLenders = 0;
  /** The insurance fund's equity after setup and at the last step seen (quote). */
  private fundStart = 0;
  private time = 0;
  private readonly traderIds: ReadonlySet<string>;

  constructor(
    private readonly ctx: DeskContext,
    private readonly input: PerpsInput,
    pathSymbols: readonly string[],
    model: MarketModel,
  ) {
    this.symbols = input.instruments.map((p) => p.listing.spec.symbol);
    this.symbols.forEach((symbol, j) => this.bySymbol.set(symbol, j));
    this.underlying = input.instruments.map((p) => pathSymbols.indexOf(p.listing.spec.underlying));
    this.market = new SignedMarket(
      input.instruments.map((p) => p.market),
      { ...model, recoveryHalfLifeSeconds: input.arbitrageHalfLifeSeconds },
    );
    const infinite = () => this.symbols.map(() => Number.POSITIVE_INFINITY);
    this.exogenousLow = infinite();
    this.realizedLow = infinite();
    this.sampleExogenousLow = infinite();
    this.sampleRealizedLow = infinite();
    this.startMark = this.symbols.map(() => 0);
    this.queued = this.symbols.map(() => 0);
    this.traderIds = new Set(input.traders.map((t) => t.id));
  }

  /** Whether an account is one of the desk's traders. */
  isTrader(account: string): boolean {
    return this.traderIds.has(account);
  }

  /**
   * Bad debt written off on a trader's account (quote): the deficit, the insurance fund's draw
   * and what the lenders bore (the run sees the engine's `bad-debt` events and passes them on).
   */
  noteBadDebt(deficit: number, insuranceDraw: number, socialized: number): void {
    this.badDebt += deficit;
    this.badDebtInsurance += insuranceDraw;
    this.badDebtLenders += socialized;
  }

  /** The insurance fund's equity now (quote): its deposits less debts, plus its positions. */
  private fundEquity(): number {
    const draft = new Draft(this.ctx.engine.state, this.time);
    return Number(equityOf(draft, INSURANCE)) / VALUE_FLOAT;
  }

  /** Traders' collateral value at the start prices (quote), for the book's size. */
  static collateralValue(input: PerpsInput, priceOf: (symbol: string) => number): number {
    let total = 0;
    for (const t of input.traders) total += t.collateral.units * priceOf(t.collateral.symbol);
    return total;
  }

  /**
   * Lists the perpetuals at their first marks (the index times the first basis), deposits the
   * maker's capital and every trader's collateral, and opens each trader's position against the
   * maker at the first mark: its aimed leverage, held a hair inside initial margin.
   */
  setup(t0: number, index: (pathIndex: number) => number): void {
    const { engine } = this.ctx;
    this.time = t0;
    this.band = (Number(engine.state.venueConfig.tradeBand) / 1e6) * 0.99;
    const marks = this.input.instruments.map((p, j) => {
      const mark = index(this.underlying[j] as number) * (1 + (p.basis[0] ?? 0));
      this.startMark[j] = mark;
      this.ctx.must({ type: 'list-instrument', time: t0, config: p.listing, price: toPrice(mark) });
      return mark;
    });
    this.engineIndex = this.symbols.map((symbol) => engine.state.instrumentIndex.get(symbol) ?? -1);
    const trades = this.input.traders.map((trader) => {
      const j = this.bySymbol.get(trader.instrument);
      if (j === undefined) throw new Error(`no perpetual ${trader.instrument}`);
      const asset = engine.state.assets.find((a) => a.config.symbol === trader.collateral.symbol);
      if (asset === undefined) throw new Error(`no asset ${trader.collateral.symbol}`);
      const price = priceFloat(asset.risk.oraclePrice);
      const value = trader.collateral.units * price;
      const spec = this.input.instruments[j]?.listing.spec;
      const weight = Number(asset.config.assetWeight.initial) / 1e6;
      const mark = priceFloat(toPrice(marks[j] as number));
      const most = spec === undefined ? 0 : largestNotional(spec, value * weight, mark);
      const notional = Math.min(trader.leverage * value, most * 0.999_999);
      return { trader, j, size: BigInt(Math.floor((notional / mark) * SIZE_FLOAT)), mark };
    });
    for (const { size, mark } of trades) this.openingNotional += (Number(size) / SIZE_FLOAT) * mark;
    this.ctx.must({
      type: 'deposit',
      time: t0,
      ...MAKER,
      asset: 'USDC',
      amount: units6(this.openingNotional * this.input.makerCapitalShare) + 1_000_000n,
    });
    for (const { trader, j, size } of trades) {
      const ref = { account: trader.id, subAccount: 0 };
      const { symbol, units } = trader.collateral;
      const amount = symbol === 'USDC' ? units6(units) : units18(units);
      this.ctx.must({ type: 'deposit', time: t0, ...ref, asset: symbol, amount });
      if (size <= 0n) continue;
      const long = trader.side > 0;
      this.ctx.must({
        type: 'trade',
        time: t0,
        buyer: long ? ref : MAKER,
        seller: long ? MAKER : ref,
        instrument: this.symbols[j] as string,
        size,
        price: toPrice(marks[j] as number),
      });
    }
    this.fundStart = this.fundEquity();
  }

  /**
   * Lets `seconds` pass in the perpetuals' markets: what arbitrage took out of each perpetual's
   * displacement goes into its underlying's spot market, the same way (a perpetual sold below
   * its index is bought against a sale of the underlying).
   */
  advance(seconds: number): void {
    const gone = this.market.advance(seconds);
    gone.forEach((notional, j) => {
      if (notional !== 0) this.ctx.arbitrage(this.underlying[j] as number, notional);
    });
  }

  /**
   * Sets every mark at step `k` (`set-price` on the perpetual), from the underlying's exogenous
   * and realized index; then settles funding where an interval has passed.
   */
  marks(
    k: number,
    t: number,
    exogenous: (pathIndex: number) => number,
    realized: (pathIndex: number) => number,
  ): void {
    this.time = t;
    this.input.instruments.forEach((p, j) => {
      const i = this.underlying[j] as number;
      const basis = 1 + (p.basis[k] ?? 0);
      const exogenousMark = exogenous(i) * basis;
      const mark = realized(i) * basis * (1 - this.market.displacement(j));
      this.exogenousLow[j] = Math.min(this.exogenousLow[j] as number, exogenousMark);
      this.realizedLow[j] = Math.min(this.realizedLow[j] as number, mark);
      this.sampleExogenousLow[j] = Math.min(this.sampleExogenousLow[j] as number, exogenousMark);
      this.sampleRealizedLow[j] = Math.min(this.sampleRealizedLow[j] as number, mark);
      this.ctx.apply({
        type: 'set-price',
        time: t,
        asset: this.symbols[j] as string,
        price: toPrice(mark),
      });
    });
    this.input.instruments.forEach((p, j) => {
      const state = this.instrument(j);
      const spec = p.listing.spec;
      if (state === undefined || spec.kind !== 'perpetual') return;
      if (t < state.fundingAt + spec.fundingIntervalSeconds) return;
      this.ctx.apply({ type: 'settle-funding', time: t, instrument: this.symbols[j] as string });
    });
  }

  /** Whether a sub-account holds any derivatives position. */
  holdsPositions(ref: SubAccountRef): boolean {
    return this.positionsOf(ref).length > 0;
  }

  /**
   * An account below the backstop's health: if it is bankrupt (equity below zero) and the
   * insurance fund cannot cover its deficit, each of its positions is deleveraged against the
   * opposite positions; otherwise the fund takes its positions over, largest first, for as long
   * as the account stays below the threshold.
   */
  backstop(ref: SubAccountRef, t: number): void {
    const positions = this.positionsOf(ref);
    const equity = equityOf(new Draft(this.ctx.engine.state, t), ref);
    if (equity < 0n && this.fundValue() < -equity) {
      for (const p of positions) {
        const result = this.ctx.apply({
          type: 'deleverage',
          time: t,
          target: ref,
          instrument: p.symbol,
        });
        if (result.ok) this.adlCount++;
        // The opposite side cannot absorb it, or the fund covers what is left: the fund takes it.
        else this.takeOverByFund(ref, p.symbol, t);
      }
      return;
    }
    for (const p of positions) {
      if (!this.takeOverByFund(ref, p.symbol, t).ok) break;
    }
  }

  private takeOverByFund(ref: SubAccountRef, instrument: string, t: number): CommandResult {
    const result = this.ctx.apply({
      type: 'liquidate-position',
      time: t,
      liquidator: INSURANCE,
      target: ref,
      instrument,
      amount: 'max',
    });
    if (!result.ok && result.error.code === 'liquidation_throttled') this.ctx.throttle();
    return result;
  }

  /**
   * The first liquidator able and willing takes over the account's largest position, or the
   * part of it that pays: one whose reaction delay has passed since the account fell, with room
   * in this step, takes the most notional for which the penalty it keeps pays the cost of
   * unwinding it into the perpetual's market (as the model predicts it now) and its least profit.
   * Whether one did.
   */
  byLiquidator(ref: SubAccountRef, since: number, t: number, agents: readonly Agent[]): boolean {
    const [position] = this.positionsOf(ref);
    if (position === undefined) return false;
    const { perp, symbol } = position;
    const state = this.instrument(perp);
    const listing = this.input.instruments[perp]?.listing;
    if (state === undefined || listing === undefined) return false;
    const mark = priceFloat(state.mark);
    const held = position.size < 0n ? -position.size : position.size;
    // The liquidator unwinds the opposite way of its new position: it sells a long it took.
    const side = position.size > 0n ? 1 : -1;
    const kept =
      (Number(listing.liquidationPenalty) / 1e6) * (1 - Number(listing.insuranceShare) / 1e6);
    for (const agent of agents) {
      const { spec } = agent;
      if (t - since < spec.delaySeconds || agent.used >= spec.maxPerStep) continue;
      const capital = Number(this.ctx.capitalOf(agent)) / 1e6;
      const room = Math.min(
        capital * this.input.takeoverLeverage - agent.taken,
        (Number(held) / SIZE_FLOAT) * mark,
      );
      const floor = spec.minTakeoverProfit ?? spec.minProfit / 10;
      const notional = this.payingNotional(perp, side, room, kept - floor);
      const most = BigInt(Math.floor((notional / mark) * SIZE_FLOAT));
      if (!(mark > 0) || most <= 0n) continue;
      const command: Command = {
        type: 'liquidate-position',
        time: t,
        liquidator: agent.ref,
        target: ref,
        instrument: symbol,
        amount: most >= held ? 'max' : most,
      };
      const trial = this.ctx.engine.dryRun(command).result;
      if (!trial.ok) {
        if (trial.error.code === 'liquidation_throttled') {
          this.ctx.throttle();
          return false;
        }
        continue;
      }
      const event = trial.events.find((e) => e.type === 'position-liquidated');
      if (event === undefined || event.type !== 'position-liquidated') continue;
      const units = Math.abs(Number(event.size)) / SIZE_FLOAT;
      const taken = units * mark;
      const penalty =
        units * Math.abs(priceFloat(event.mark) - priceFloat(event.price)) -
        Number(event.toInsuranceValue) / VALUE_FLOAT;
      const ahead = this.queued[perp] as number;
      const cost = Math.abs(this.market.cost(perp, side * taken, ahead)) * taken;
      if (penalty - cost < floor * taken) continue;
      if (!this.ctx.apply(command).ok) continue;
      agent.used++;
      agent.taken += taken;
      this.queued[perp] = ahead + side * taken;
      return true;
    }
    return false;
  }

  /**
   * The most notional, up to `room`, whose unwind into perpetual `perp`'s market (a sale for
   * `side` +1), after what this step's takeovers already queued, costs at most `share` of it: the
   * cost grows with the size, so a bisection finds it.
   */
  private payingNotional(perp: number, side: number, room: number, share: number): number {
    if (!(room > 0) || !(share > 0)) return 0;
    const ahead = this.queued[perp] as number;
    const pays = (n: number) => Math.abs(this.market.cost(perp, side * n, ahead)) <= share;
    if (pays(room)) return room;
    let low = 0;
    let high = room;
    for (let i = 0; i < 30 && high - low > room * 1e-6; i++) {
      const middle = (low + high) / 2;
      if (pays(middle)) low = middle;
      else high = middle;
    }
    return low;
  }

  /**
   * Liquidators and the insurance fund close what they took over: each position traded with the
   * maker at the mark moved by the trade's own impact (within the venue's band), which then
   * stays in the perpetual's market. A liquidator closes all it took (it sized its takeovers to
   * pay their unwind); the fund closes each step what costs at most {@link FUND_UNWIND_COST} of
   * it, at least a sixtieth of the position, and carries the rest. A trade its margin refuses is
   * tried at half the size, a few times; what is left waits for the next step.
   */
  unwind(t: number, agents: readonly Agent[]): void {
    this.queued.fill(0);
    for (const agent of agents) {
      for (const position of this.positionsOf(agent.ref)) this.close(agent.ref, position, t, 1);
    }
    for (const position of this.positionsOf(INSURANCE)) {
      const state = this.instrument(position.perp);
      if (state === undefined) continue;
      const held = position.size < 0n ? -position.size : position.size;
      const notional = (Number(held) / SIZE_FLOAT) * priceFloat(state.mark);
      const side = position.size > 0n ? 1 : -1;
      const paying = this.payingNotional(position.perp, side, notional, FUND_UNWIND_COST);
      this.close(INSURANCE, position, t, Math.max(1 / 60, paying / notional));
    }
  }

  /** Closes `share` of a position (all of it at 1) against the maker. */
  private close(ref: SubAccountRef, position: Held, t: number, share: number): void {
    const state = this.instrument(position.perp);
    if (state === undefined) return;
    const mark = priceFloat(state.mark);
    const long = position.size > 0n;
    const held = long ? position.size : -position.size;
    let size = share >= 1 ? held : BigInt(Math.min(Number(held), Math.ceil(Number(held) * share)));
    for (let attempt = 0; attempt < 4 && size > 0n; attempt++) {
      const notional = (Number(size) / SIZE_FLOAT) * mark;
      const flow = long ? notional : -notional;
      const cost = Math.min(this.band, Math.max(-this.band, this.market.cost(position.perp, flow)));
      const result = this.ctx.apply({
        type: 'trade',
        time: t,
        buyer: long ? MAKER : ref,
        seller: long ? ref : MAKER,
        instrument: position.symbol,
        size,
        price: toPrice(mark * (1 - cost)),
      });
      if (result.ok) {
        this.market.trade(position.perp, flow);
        this.unwoundNotional += notional;
        return;
      }
      if (result.error.code !== 'insufficient_collateral') return;
      size /= 2n;
    }
  }

  /** Counts the derivatives events of an accepted command. */
  observe(events: readonly EngineEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'position-liquidated': {
          const notional = (Math.abs(Number(event.size)) / SIZE_FLOAT) * priceFloat(event.mark);
          if (event.liquidator.account === INSURANCE_ACCOUNT) {
            this.fundTakeovers++;
            this.fundTakeoverNotional += notional;
          } else {
            this.positionLiquidations++;
            this.takeoverNotional += notional;
          }
          this.tradersLiquidated.add(key(event.target));
          break;
        }
        case 'deleveraged': {
          const units = Math.abs(Number(event.size)) / SIZE_FLOAT;
          const j = this.bySymbol.get(event.instrument);
          const state = j === undefined ? undefined : this.instrument(j);
          const mark = state === undefined ? 0 : priceFloat(state.mark);
          const price = priceFloat(event.price);
          this.adlEvents++;
          this.adlNotional += units * price;
          this.socializedLoss += units * Math.abs(mark - price);
          this.adlTargets.add(key(event.target));
          this.adlCounterparties.add(key(event.counterparty));
          break;
        }
        case 'funding-paid': {
          const j = this.bySymbol.get(event.instrument);
          const state = j === undefined ? undefined : this.instrument(j);
          const perUnit = Math.abs(Number(event.perUnitValue));
          this.fundingPaid += (perUnit * Number(state?.openInterest ?? 0n)) / VALUE_FLOAT;
          this.fundingSettlements++;
          break;
        }
        default:
          break;
      }
    }
  }

  /** The sample's derivatives figures; the marks' lows since the last sample. */
  sample(): DerivativesSample {
    const exogenousMarks: Record<string, number> = {};
    const realizedMarks: Record<string, number> = {};
    this.symbols.forEach((symbol, j) => {
      exogenousMarks[symbol] = this.sampleExogenousLow[j] as number;
      realizedMarks[symbol] = this.sampleRealizedLow[j] as number;
      this.sampleExogenousLow[j] = Number.POSITIVE_INFINITY;
      this.sampleRealizedLow[j] = Number.POSITIVE_INFINITY;
    });
    return {
      exogenousMarks,
      realizedMarks,
      takeoverNotional: this.takeoverNotional + this.fundTakeoverNotional,
      adlNotional: this.adlNotional,
      fundingPaid: this.fundingPaid,
      socializedLoss: this.socializedLoss,
      openInterest: this.openInterest(),
      badDebt: this.badDebt,
    };
  }

  metrics(): DerivativesMetrics {
    const marks = this.symbols.map((symbol, j) => {
      const start = this.startMark[j] as number;
      const exogenousLow = this.exogenousLow[j] as number;
      const realizedLow = this.realizedLow[j] as number;
      const fall = start - exogenousLow;
      const amplification =
        fall > start * 1e-9 ? (start - realizedLow) / fall - 1 : realizedLow < start ? 1 : 0;
      return { symbol, exogenousLow, realizedLow, amplification };
    });
    return {
      marks,
      openingNotional: this.openingNotional,
      openInterestAtEnd: this.openInterest(),
      positionLiquidations: this.positionLiquidations,
      fundTakeovers: this.fundTakeovers,
      takeoverNotional: this.takeoverNotional,
      fundTakeoverNotional: this.fundTakeoverNotional,
      tradersLiquidated: this.tradersLiquidated.size,
      adlCount: this.adlCount,
      adlFills: this.adlEvents,
      adlNotional: this.adlNotional,
      accountsDeleveraged: this.adlTargets.size,
      adlCounterparties: this.adlCounterparties.size,
      socializedLoss: this.socializedLoss,
      fundingPaid: this.fundingPaid,
      fundingSettlements: this.fundingSettlements,
      unwoundNotional: this.unwoundNotional,
      badDebt: this.badDebt,
      badDebtInsuranceDraw: this.badDebtInsurance,
      badDebtSocialized: this.badDebtLenders,
      insuranceFund: { start: this.fundStart, end: this.fundEquity() },
    };
  }

  /** The long open interest of every perpetual at its mark (quote). */
  private openInterest(): number {
    let total = 0;
    for (let j = 0; j < this.symbols.length; j++) {
      const state = this.instrument(j);
      if (state === undefined) continue;
      total += (Number(state.openInterest) / SIZE_FLOAT) * priceFloat(state.mark);
    }
    return total;
  }

  /** The engine's state of perpetual `j` (by position in the input). */
  private instrument(j: number): InstrumentState | undefined {
    return this.ctx.engine.state.instruments[this.engineIndex[j] ?? -1];
  }

  /** A sub-account's positions on the desk's perpetuals, largest notional first. */
  private positionsOf(ref: SubAccountRef): Held[] {
    const { state } = this.ctx.engine;
    const sub = findSubAccount(state.accounts.get(ref.account), ref.subAccount);
    const book = sub?.derivatives;
    if (book === undefined || book.positions.length === 0) return [];
    const held: (Held & { notional: number })[] = [];
    for (const p of book.positions) {
      const instrument = state.instruments[p.instrument];
      if (instrument === undefined) continue;
      const symbol = instrument.listing.spec.symbol;
      const perp = this.bySymbol.get(symbol);
      if (perp === undefined) continue;
      const notional = Math.abs(Number(p.size)) * priceFloat(instrument.mark);
      held.push({ perp, symbol, size: p.size, notional });
    }
    return held.sort((a, b) => b.notional - a.notional || a.perp - b.perp);
  }

  /** The insurance fund's supply of USDC, as a derivatives value numerator (VALUE_UNIT). */
  private fundValue(): bigint {
    const { state } = this.ctx.engine;
    const index = state.assetIndex.get('USDC');
    const asset = index === undefined ? undefined : state.assets[index];
    const sub = findSubAccount(state.accounts.get(INSURANCE_ACCOUNT), 0);
    if (asset === undefined || sub === undefined) return 0n;
    const scaled = scaledBalance(sub, asset.index);
    return scaled > 0n ? supplyAmount(scaled, asset.pool) * (VALUE_UNIT / 10n ** 6n) : 0n;
  }
}

/**
 * The largest notional (quote) whose initial requirement at `mark`, size premium included, is
 * at most `collateral` (initial weighted collateral, quote), its ratio rounded up to a millionth
 * as the engine rounds it: the requirement grows with the size, so a bisection finds it.
 */
export function largestNotional(spec: InstrumentSpec, collateral: number, mark: number): number {
  // The engine rounds the ratio up to a millionth (`ppmUp`), and so does this.
  const needs = (n: number) =>
    (n * Math.ceil(sizeAdjusted(spec.initialMargin, spec.sizePremium, n / mark) * 1e6)) / 1e6;
  let low = 0;
  let high = collateral / spec.initialMargin;
  if (needs(high) <= collateral) return high;
  for (let i = 0; i < 60 && high - low > high * 1e-12; i++) {
    const middle = (low + high) / 2;
    if (needs(middle) <= collateral) low = middle;
    else high = middle;
  }
  return low;
}

function key(ref: SubAccountRef): string {
  return `${ref.account}/${ref.subAccount}`;
}
