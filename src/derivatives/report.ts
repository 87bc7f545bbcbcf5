/**
 * The risk report of a derivatives portfolio: per position and for the account, the Greeks in
 * quote terms, notional, leverage, the margin of each mode side by side (cross, isolated,
 * portfolio), and liquidation prices. Read from a JSON portfolio (decimal strings, ISO times),
 * checked strictly; computed with Black-76 on each expiry's forward (`forwards.ts`), the
 * engine's standard requirements (`requirement.ts`) and the scenario portfolio margin.
 *
 * The Greeks, all against the index S with the basis held as a ratio (∂F/∂S = F/S), say their
 * units in their names: `deltaUnits` (∂V/∂S, units of the underlying), `deltaQuote` (∂V/∂S·S,
 * the quote value of the exposure: a 1% move changes the value by about 1% of it),
 * `gammaQuotePerPercent` (Γ·S²/100: how much deltaUnits changes for a 1% move of the index,
 * valued at the index), `vegaQuotePerVolPoint` (the value change for a volatility point, 0.01)
 * and `thetaQuotePerDay` (the value change over one calendar day, or the time left if less, the
 * forward, volatility and rate held: in the last day, minus the time value left, never the
 * instantaneous rate that grows without bound at expiry).
 *
 * A future or option at or past its expiry at the portfolio's time is `expired`: it is valued
 * on its expiry's settlement price if the portfolio gives one (a future at it, an option at its
 * intrinsic value on it), with no Greeks and no requirement; without one it `needsSettlement`,
 * is not valued at all (mark and profit null) and is left out of equity, Greeks and margin. It
 * is never valued on today's index.
 */
import { FulcrumError } from '../base/errors.js';
import { expectObject, rejectUnknownFields } from '../domain/input.js';
import { LIMITS } from '../domain/limits.js';
import { DEFAULT_VENUE_CONFIG } from '../domain/venueConfig.js';
import { fieldName, quoteInput } from '../domain/quote.js';
import { PRICE_SCALE } from '../math/fixed.js';
import { isoUtcMillis } from '../math/time.js';
import { black76, thetaPerDay } from './black76.js';
import {
  carryAt,
  EXPIRY_POINTS_MAX,
  type ForwardPoint,
  RATE_MAX,
  type SettlementPoint,
  settledValue,
  settlementAt,
  withIndex,
} from './forwards.js';
import {
  type InstrumentSpec,
  sizeAdjusted,
  UNDERLYING_PATTERN,
  validateInstrument,
} from './instruments.js';
import { VALUE_UNIT } from './position.js';
import { standardRequirement } from './requirement.js';
import {
  PORTFOLIO_INDEX_MAX,
  PORTFOLIO_POSITIONS_MAX,
  PORTFOLIO_SIZE_MAX,
  type PortfolioMarket,
  portfolioMargin,
  type PortfolioPosition,
  underlyingMarket,
  type UnderlyingMarket,
  underlyingMarkets,
} from './portfolioMargin.js';
import {
  flatSurface,
  SURFACE_EXPIRIES_MAX,
  SURFACE_STRIKES_MAX,
  volatilityAt,
  volSurface,
} from './volSurface.js';

/** Underlyings a portfolio file may describe: the engine's limit on assets. */
export const PORTFOLIO_UNDERLYINGS_MAX = LIMITS.assets;

export interface ReportPosition {
  readonly instrument: InstrumentSpec;
  readonly size: number;
  /** Average entry price; the mark when not given (no profit or loss yet). */
  readonly entryPrice?: number;
}

export interface Portfolio {
  readonly time: number;
  /** Quote cash. */
  readonly collateral: number;
  readonly market: PortfolioMarket;
  readonly positions: readonly ReportPosition[];
}

export interface PositionReport {
  readonly symbol: string;
  readonly kind: InstrumentSpec['kind'];
  readonly underlying: string;
  readonly size: number;
  /** A future or option at or past its expiry at the portfolio's time. */
  readonly expired: boolean;
  /** Expired with no settlement price given: not valued, out of equity, Greeks and margin. */
  readonly needsSettlement: boolean;
  /** The settlement price of its expiry when expired and given, else null. */
  readonly settlementPrice: number | null;
  /** The forward of its expiry (futures and options not expired), else null. */
  readonly forward: number | null;
  /**
   * The mark: the index for a perpetual, the forward for a future, Black-76 on the forward at
   * the surface's volatility for an option; expired, the settlement value; null if it needs
   * settlement.
   */
  readonly mark: number | null;
  readonly volatility: number | null;
  /** The entry price given; the mark when not given; null if neither. */
  readonly entryPrice: number | null;
  /** size × (mark − entry); null if it needs settlement. */
  readonly unrealizedPnl: number | null;
  /** |size| × index (a future: × its forward); 0 once expired. */
  readonly notional: number;
  /** ∂V/∂S: units of the underlying. */
  readonly deltaUnits: number;
  /** deltaUnits × S: the exposure in quote. */
  readonly deltaQuote: number;
  /** Γ·S²/100: the change of deltaUnits for a 1% move of the index, × the index (quote). */
  readonly gammaQuotePerPercent: number;
  /** Value change for one volatility point (0.01). */
  readonly vegaQuotePerVolPoint: number;
  /** Value change over one calendar day (or the time left), forward, volatility, rate held. */
  readonly thetaQuotePerDay: number;
  /** Standard requirements of the position alone (the cross and isolated modes' terms). */
  readonly initial: number;
  readonly maintenance: number;
  /**
   * The shares those requirements charge, after the size premium: of notional for perpetuals
   * and futures, of the index value beyond the option's own value for short options; null for
   * long options (paid in full) and expired positions.
   */
  readonly initialRatio: number | null;
  readonly maintenanceRatio: number | null;
  /** |deltaQuote| / initial: the exposure the position carries per unit of its own margin. */
  readonly leverage: number | null;
  /**
   * Isolated (perpetuals and futures not expired): funded with its initial margin, the price at
   * which it reaches maintenance at the size-adjusted ratio the engine liquidates at.
   */
  readonly isolatedLiquidationPrice: number | null;
}

export interface ModeMargin {
  readonly mode: 'cross' | 'isolated' | 'portfolio';
  readonly initial: number;
  readonly maintenance: number;
  /** Collateral the mode needs beyond the positions' own profit and loss. */
  readonly collateralNeeded: number;
  /** collateral − collateralNeeded. */
  readonly excess: number;
}

export interface PortfolioReport {
  readonly time: number;
  readonly collateral: number;
  readonly equity: number;
  readonly notional: number;
  /** notional / equity (null without equity). */
  readonly leverage: number | null;
  /** Σ over positions, each as in {@link PositionReport}. */
  readonly greeks: {
    readonly deltaQuote: number;
    readonly gammaQuotePerPercent: number;
    readonly vegaQuotePerVolPoint: number;
    readonly thetaQuotePerDay: number;
  };
  readonly positions: readonly PositionReport[];
  /**
   * Symbols of expired positions without a settlement price, in order of position: left out of
   * equity, Greeks and margin, so those figures are incomplete until it is given.
   */
  readonly needsSettlement: readonly string[];
  readonly margins: readonly ModeMargin[];
  /**
   * Cross mode: per underlying, the index at which the account's equity falls to its
   * maintenance requirement (other underlyings held), or null if none between 1% and 10× of it.
   */
  readonly crossLiquidationPrices: Readonly<Record<string, number | null>>;
}

/** The report of a portfolio. */
export function portfolioReport(portfolio: Portfolio): PortfolioReport {
  const { market, positions } = portfolio;
  const reports = positions.map((p) => positionReport(p, market));
  const pnl = reports.reduce((s, r) => s + (r.unrealizedPnl ?? 0), 0);
  const profit = reports.reduce((s, r) => s + Math.max(0, r.unrealizedPnl ?? 0), 0);
  const equity = portfolio.collateral + pnl;
  const notional = reports.reduce((s, r) => s + r.notional, 0);
  const initial = reports.reduce((s, r) => s + r.initial, 0);
  const maintenance = reports.reduce((s, r) => s + r.maintenance, 0);
  const crossNeeded = collateralNeeded(initial, pnl - profit, profit);
  const isolatedNeeded = reports.reduce(
    (s, r) =>
      s +
      collateralNeeded(
        r.initial,
        Math.min(0, r.unrealizedPnl ?? 0),
        Math.max(0, r.unrealizedPnl ?? 0),
      ),
    0,
  );
  // Portfolio mode counts profit as cross mode does.
  const portfolioNeeded = (pmInitial: number) => collateralNeeded(pmInitial, pnl - profit, profit);
  const pm = portfolioMargin(
    positions.map((p): PortfolioPosition => ({ instrument: p.instrument, size: p.size })),
    market,
  );
  const margins: ModeMargin[] = [
    {
      mode: 'cross',
      initial,
      maintenance,
      collateralNeeded: crossNeeded,
      excess: portfolio.collateral - crossNeeded,
    },
    {
      mode: 'isolated',
      initial,
      maintenance,
      collateralNeeded: isolatedNeeded,
      excess: portfolio.collateral - isolatedNeeded,
    },
    {
      mode: 'portfolio',
      initial: pm.initial,
      maintenance: pm.maintenance,
      collateralNeeded: portfolioNeeded(pm.initial),
      excess: portfolio.collateral - portfolioNeeded(pm.initial),
    },
  ];
  // Keyed by underlying names: an object without a prototype, where a name is only a key.
  const crossLiquidationPrices = Object.create(null) as Record<string, number | null>;
  const held = new Set(positions.map((p) => p.instrument.underlying));
  for (const underlying of Object.keys(market.underlyings).sort()) {
    if (!held.has(underlying) || underlyingMarket(market, underlying) === undefined) continue;
    crossLiquidationPrices[underlying] = crossLiquidationPrice(portfolio, underlying);
  }
  const sum = (f: (r: PositionReport) => number) => reports.reduce((s, r) => s + f(r), 0);
  return {
    time: portfolio.time,
    collateral: portfolio.collateral,
    equity,
    notional,
    leverage: equity > 0 ? notional / equity : null,
    greeks: {
      deltaQuote: sum((r) => r.deltaQuote),
      gammaQuotePerPercent: sum((r) => r.gammaQuotePerPercent),
      vegaQuotePerVolPoint: sum((r) => r.vegaQuotePerVolPoint),
      thetaQuotePerDay: sum((r) => r.thetaQuotePerDay),
    },
    positions: reports,
    needsSettlement: reports.filter((r) => r.needsSettlement).map((r) => r.symbol),
    margins,
    crossLiquidationPrices,
  };
}

/**
 * One position at the market's index, forwards and surface, or, expired, at its expiry's
 * settlement price (if given).
 */
export function positionReport(position: ReportPosition, market: PortfolioMarket): PositionReport {
  const { instrument, size } = position;
  const state = underlyingMarket(market, instrument.underlying);
  if (state === undefined) {
    throw new FulcrumError(
      'unknown_asset',
      `no market for ${quoteInput(instrument.underlying)}`,
      `underlyings.${fieldName(String(instrument.underlying))}`,
    );
  }
  const v = value(instrument, state, market.time);
  const { index } = state;
  const live = !v.expired;
  const requirement =
    live && v.mark !== null
      ? requirementOf(instrument, size, index, v.mark)
      : { initial: 0, maintenance: 0 };
  const notional = live
    ? Math.abs(size) * (instrument.kind === 'future' ? (v.mark ?? 0) : index)
    : 0;
  const ratios = live
    ? appliedRatios(instrument, size, index, v.mark ?? 0, requirement)
    : { initial: null, maintenance: null };
  const entry = position.entryPrice ?? v.mark;
  const isolated =
    instrument.kind === 'option' || !live || entry === null
      ? null
      : isolatedLiquidationPrice(
          size,
          entry,
          requirement.initial,
          // The engine's ratio: size-adjusted, rounded up to parts per million.
          Math.ceil(
            sizeAdjusted(instrument.maintenanceMargin, instrument.sizePremium, size) * 1e6 - 1e-9,
          ) / 1e6,
        );
  // `+ 0`: a short's zero Greeks are 0, not −0.
  const deltaUnits = size * v.delta + 0;
  const deltaQuote = deltaUnits * index;
  return {
    symbol: instrument.symbol,
    kind: instrument.kind,
    underlying: instrument.underlying,
    size,
    expired: v.expired,
    needsSettlement: v.expired && v.mark === null,
    settlementPrice: v.settlement,
    forward: v.forward,
    mark: v.mark,
    volatility: v.volatility,
    entryPrice: entry,
    unrealizedPnl: v.mark === null || entry === null ? null : size * (v.mark - entry),
    notional,
    deltaUnits,
    deltaQuote,
    gammaQuotePerPercent: (size * v.gamma * index * index) / 100 + 0,
    vegaQuotePerVolPoint: (size * v.vega) / 100 + 0,
    thetaQuotePerDay: size * v.thetaPerDay + 0,
    initial: requirement.initial,
    maintenance: requirement.maintenance,
    initialRatio: ratios.initial,
    maintenanceRatio: ratios.maintenance,
    leverage: requirement.initial > 0 ? Math.abs(deltaQuote) / requirement.initial : null,
    isolatedLiquidationPrice: isolated,
  };
}

/**
 * Paper profit counts toward initial margin at this weight (an instrument listing's default
 * initial `profitWeight`, `listing.ts`), and at most up to this share of the collateral (the
 * venue's default `profitCap`).
 */
export const INITIAL_PROFIT_WEIGHT = 0.9;
const PROFIT_CAP = Number(DEFAULT_VENUE_CONFIG.profitCap) / 1e6;

/**
 * The collateral a mode needs so that its margin equity reaches `initial`, counting profit as
 * the engine does by default: margin equity = collateral + loss + min(weight × profit, cap × collateral),
 * with `loss` (at most 0) and `profit` (at least 0) the positions' unrealized results. The
 * margin equity grows with the collateral, so the least collateral is one of two cases: the
 * cap binds (collateral × (1 + cap) = initial − loss) or it does not.
 */
export function collateralNeeded(initial: number, loss: number, profit: number): number {
  const weight = INITIAL_PROFIT_WEIGHT;
  const cap = PROFIT_CAP;
  const capped = (initial - loss) / (1 + cap);
  const needed = cap * capped <= weight * profit ? capped : initial - loss - weight * profit;
  return Math.max(0, needed);
}

/** The shares of notional (or index value, short options) that a requirement charges. */
function appliedRatios(
  instrument: InstrumentSpec,
  size: number,
  index: number,
  mark: number,
  requirement: { initial: number; maintenance: number },
): { initial: number | null; maintenance: number | null } {
  // Perpetuals and futures are margined on their notional at the mark (a future's forward).
  const exposure = Math.abs(size) * (instrument.kind === 'option' ? index : mark);
  if (exposure === 0) return { initial: null, maintenance: null };
  if (instrument.kind !== 'option') {
    return {
      initial: requirement.initial / exposure,
      maintenance: requirement.maintenance / exposure,
    };
  }
  if (size > 0) return { initial: null, maintenance: null };
  const own = Math.abs(size) * mark;
  return {
    initial: (requirement.initial - own) / exposure,
    maintenance: (requirement.maintenance - own) / exposure,
  };
}

/** Mark and per-unit Greeks (against the index) of an instrument. */
interface Valuation {
  readonly expired: boolean;
  /** Expired: the settlement price given, else null. */
  readonly settlement: number | null;
  /** Not expired, futures and options: the forward of its expiry. */
  readonly forward: number | null;
  /** Null: expired without a settlement price. */
  readonly mark: number | null;
  readonly volatility: number | null;
  readonly delta: number;
  readonly gamma: number;
  readonly vega: number;
  readonly thetaPerDay: number;
}

const NO_GREEKS = { delta: 0, gamma: 0, vega: 0, thetaPerDay: 0 } as const;

/**
 * An instrument's valuation at `time` on its underlying's market: a perpetual on the index, a
 * future on its expiry's forward, an option by Black-76 on that forward (Greeks against the
 * index: Δ·F/S, Γ·(F/S)²), an expired one on its settlement price or not at all.
 */
function value(instrument: InstrumentSpec, market: UnderlyingMarket, time: number): Valuation {
  if (instrument.kind === 'perpetual') {
    return {
      expired: false,
      settlement: null,
      forward: null,
      mark: market.index,
      volatility: null,
      ...NO_GREEKS,
      delta: 1,
    };
  }
  if (instrument.expiry <= time) {
    const settlement = settlementAt(market, instrument.expiry) ?? null;
    const mark = settlement === null ? null : settledValue(instrument, settlement);
    return { expired: true, settlement, forward: null, mark, volatility: null, ...NO_GREEKS };
  }
  const carry = carryAt(
    market,
    instrument.expiry,
    time,
    `underlyings.${fieldName(instrument.underlying)}`,
  );
  if (instrument.kind === 'future') {
    return {
      expired: false,
      settlement: null,
      forward: carry.forward,
      mark: carry.forward,
      volatility: null,
      ...NO_GREEKS,
      delta: carry.ratio,
    };
  }
  const volatility = volatilityAt(market.surface, instrument.strike, instrument.expiry, time);
  const input = {
    forward: carry.forward,
    strike: instrument.strike,
    time: carry.years,
    volatility,
    right: instrument.right,
    rate: carry.rate,
  };
  const r = black76(input);
  return {
    expired: false,
    settlement: null,
    forward: carry.forward,
    mark: r.price,
    volatility,
    delta: r.delta * carry.ratio,
    gamma: r.gamma * carry.ratio * carry.ratio,
    vega: r.vega,
    thetaPerDay: thetaPerDay(input),
  };
}

/** The engine's standard requirement of one position, in quote units. */
function requirementOf(
  instrument: InstrumentSpec,
  size: number,
  index: number,
  mark: number,
): { initial: number; maintenance: number } {
  const toPrice = (x: number) => BigInt(Math.round(x * 1e9)) * (PRICE_SCALE / 1_000_000_000n);
  const r = standardRequirement(
    instrument,
    toPrice(mark),
    toPrice(index),
    BigInt(Math.round(size * 1e8)),
  );
  const quote = (n: bigint) => Number(n / (VALUE_UNIT / 1_000_000n)) / 1e6;
  return { initial: quote(r.initial), maintenance: quote(r.maintenance) };
}

/**
 * Where an isolated perpetual or future position funded with `collateral` is liquidated: the
 * price p at which collateral + size·(p − entry) = maintenance ratio × |size| × p.
 */
export function isolatedLiquidationPrice(
  size: number,
  entry: number,
  collateral: number,
  maintenanceRatio: number,
): number | null {
  if (size === 0) return null;
  const p =
    size > 0
      ? (entry - collateral / size) / (1 - maintenanceRatio)
      : (entry + collateral / -size) / (1 + maintenanceRatio);
  return p > 0 ? p : null;
}

/**
 * Cross mode: the index of `underlying` (others held) at which equity equals the standard
 * maintenance requirement, found by bisection on the index between 1% and 10× of it, on the
 * side where the account loses. Null if the account stays above maintenance throughout.
 */
function crossLiquidationPrice(portfolio: Portfolio, underlying: string): number | null {
  const base = underlyingMarket(portfolio.market, underlying);
  if (base === undefined) return null;
  // Entries not given are the marks at the portfolio's own market.
  const entries = portfolio.positions.map((p) => {
    if (p.entryPrice !== undefined) return p.entryPrice;
    const state = underlyingMarket(portfolio.market, p.instrument.underlying);
    return state === undefined ? null : value(p.instrument, state, portfolio.time).mark;
  });
  const surplus = (index: number): number => {
    const market: PortfolioMarket = {
      ...portfolio.market,
      underlyings: underlyingMarkets([
        ...Object.entries(portfolio.market.underlyings),
        [underlying, withIndex(base, index)],
      ]),
    };
    let equity = portfolio.collateral;
    let maintenance = 0;
    portfolio.positions.forEach((p, i) => {
      const state = underlyingMarket(market, p.instrument.underlying);
      const entry = entries[i] ?? null;
      if (state === undefined) return;
      const v = value(p.instrument, state, market.time);
      // Expired without a settlement price: left out, as everywhere in the report.
      if (v.mark === null || entry === null) return;
      equity += p.size * (v.mark - entry);
      if (!v.expired)
        maintenance += requirementOf(p.instrument, p.size, state.index, v.mark).maintenance;
    });
    return equity - maintenance;
  };
  const now = surplus(base.index);
  if (now < 0) return base.index;
  // Search downward and upward for the nearest index where the surplus turns negative.
  let best: number | null = null;
  for (const [from, to] of [
    [base.index, base.index * 0.01],
    [base.index, base.index * 10],
  ] as const) {
    const steps = 200;
    let previous = from;
    for (let i = 1; i <= steps; i++) {
      const x = from + ((to - from) * i) / steps;
      if (surplus(x) < 0) {
        let lo = previous;
        let hi = x;
        for (let k = 0; k < 60; k++) {
          const mid = (lo + hi) / 2;
          if (surplus(mid) < 0) hi = mid;
          else lo = mid;
        }
        if (best === null || Math.abs(hi - base.index) < Math.abs(best - base.index)) best = hi;
        break;
      }
      previous = x;
    }
  }
  return best;
}

// ---- reading a portfolio ---------------------------------------------------------------

/**
 * A portfolio from JSON: decimal strings for numbers, ISO-8601 UTC times (or unix seconds).
 *
 * ```json
 * { "time": "2030-01-01T00:00:00Z", "collateral": "100000",
 *   "underlyings": { "ETH": { "index": "2000", "volatility": "0.8" } },
 *   "positions": [
 *     { "instrument": { "kind": "option", "symbol": "ETH-C-2000", "underlying": "ETH",
 *         "expiry": "2030-01-31T08:00:00Z", "strike": "2000", "right": "call" },
 *       "size": "-10", "entryPrice": "120" } ] }
 * ```
 * Instruments' margins default to 5% initial, 3% maintenance and no size premium; perpetuals'
 * funding to 8 hours and a 0.75% clamp. A surface is `{ "expiries": [...], "strikes": [...],
 * "vols": [[...]] }` instead of `volatility`. An underlying may also give `forwards` and
 * `settlements`, each an object from an expiry (ISO time or unix seconds) to a price, and a
 * `rate` (`forwards.ts`); a settlement is for an expiry at or before `time`.
 */
export function parsePortfolio(input: unknown): Portfolio {
  const raw = expectObject(input, 'portfolio');
  rejectUnknownFields(raw, ['time', 'collateral', 'underlyings', 'positions'], '');
  const time = parseTime(raw.time, 'time');
  const collateral = parseNumber(raw.collateral ?? '0', 'collateral', { min: 0 });
  const underlyingsRaw = Object.entries(expectObject(raw.underlyings, 'underlyings'));
  if (underlyingsRaw.length > PORTFOLIO_UNDERLYINGS_MAX) {
    throw new FulcrumError(
      'limit_exceeded',
      `at most ${PORTFOLIO_UNDERLYINGS_MAX} underlyings`,
      'underlyings',
    );
  }
  const markets = new Map<string, UnderlyingMarket>();
  for (const [name, value] of underlyingsRaw) {
    const field = `underlyings.${fieldName(name)}`;
    if (!UNDERLYING_PATTERN.test(name)) {
      throw new FulcrumError(
        'invalid_field',
        `${quoteInput(name)} is not an underlying: 1-16 letters, digits, ".", "_" or "-", starting with a letter or digit`,
        field,
      );
    }
    markets.set(name, parseUnderlying(value, field, time));
  }
  const rawPositions = list(raw.positions, 'positions', PORTFOLIO_POSITIONS_MAX);
  const positions = rawPositions.map((p, i) => {
    const field = `positions.${i}`;
    const o = expectObject(p, field);
    rejectUnknownFields(o, ['instrument', 'size', 'entryPrice'], field);
    const instrument = parseInstrument(o.instrument, `${field}.instrument`);
    const market = markets.get(instrument.underlying);
    if (market === undefined) {
      throw new FulcrumError(
        'unknown_asset',
        `no market for ${instrument.underlying}`,
        `${field}.instrument.underlying`,
      );
    }
    const size = parseNumber(o.size, `${field}.size`, { max: PORTFOLIO_SIZE_MAX });
    if (size === 0)
      throw new FulcrumError('invalid_number', 'size must not be zero', `${field}.size`);
    // Not given: the mark now (none for an expired position that needs settlement).
    const entryPrice =
      o.entryPrice === undefined
        ? (value(instrument, market, time).mark ?? undefined)
        : parseNumber(o.entryPrice, `${field}.entryPrice`, { min: 0 });
    return entryPrice === undefined ? { instrument, size } : { instrument, size, entryPrice };
  });
  return {
    time,
    collateral,
    market: { time, underlyings: underlyingMarkets(markets) },
    positions,
  };
}

/**
 * One underlying's market from JSON: an index, a volatility or a surface, and optionally
 * forwards, a rate and settlements.
 */
function parseUnderlying(input: unknown, field: string, time: number): UnderlyingMarket {
  const u = expectObject(input, field);
  rejectUnknownFields(
    u,
    ['index', 'volatility', 'surface', 'forwards', 'rate', 'settlements'],
    field,
  );
  const index = parseNumber(u.index, `${field}.index`, {
    min: 0,
    exclusive: true,
    max: PORTFOLIO_INDEX_MAX,
  });
  const price = { min: 0, exclusive: true, max: PORTFOLIO_INDEX_MAX } as const;
  const carry: { forwards?: ForwardPoint[]; rate?: number; settlements?: SettlementPoint[] } = {};
  if (u.forwards !== undefined) {
    carry.forwards = expiryMap(u.forwards, `${field}.forwards`, price).map(([expiry, forward]) => ({
      expiry,
      forward,
    }));
  }
  if (u.settlements !== undefined) {
    carry.settlements = expiryMap(u.settlements, `${field}.settlements`, price).map(
      ([expiry, settled, at]) => {
        if (expiry > time) {
          throw new FulcrumError(
            'invalid_field',
            `a settlement is for an expiry at or before the portfolio's time, not after it`,
            at,
          );
        }
        return { expiry, price: settled };
      },
    );
  }
  if (u.rate !== undefined) carry.rate = parseNumber(u.rate, `${field}.rate`, { max: RATE_MAX });
  const positive = { min: 0, exclusive: true } as const;
  if (u.surface === undefined) {
    if (u.volatility === undefined) {
      throw new FulcrumError(
        'invalid_field',
        `${field} needs a volatility or a surface`,
        `${field}.volatility`,
      );
    }
    return {
      index,
      surface: flatSurface(parseNumber(u.volatility, `${field}.volatility`, positive)),
      ...carry,
    };
  }
  if (u.volatility !== undefined) {
    throw new FulcrumError(
      'invalid_field',
      `${field} has a volatility and a surface: give one`,
      `${field}.volatility`,
    );
  }
  const s = expectObject(u.surface, `${field}.surface`);
  rejectUnknownFields(s, ['expiries', 'strikes', 'vols'], `${field}.surface`);
  const at = `${field}.surface`;
  const expiries = list(s.expiries, `${at}.expiries`, SURFACE_EXPIRIES_MAX);
  const strikes = list(s.strikes, `${at}.strikes`, SURFACE_STRIKES_MAX);
  const vols = list(s.vols, `${at}.vols`, SURFACE_EXPIRIES_MAX);
  return {
    index,
    surface: volSurface({
      expiries: expiries.map((e, i) => parseTime(e, `${at}.expiries.${i}`)),
      strikes: strikes.map((x, i) => parseNumber(x, `${at}.strikes.${i}`, positive)),
      vols: vols.map((row, i) =>
        list(row, `${at}.vols.${i}`, SURFACE_STRIKES_MAX).map((v, j) =>
          parseNumber(v, `${at}.vols.${i}.${j}`, positive),
        ),
      ),
    }),
    ...carry,
  };
}

/**
 * An object from expiries (ISO-8601 UTC or unix seconds, as keys) to decimal prices in `range`,
 * as [expiry, price, field] in order of expiry: at most {@link EXPIRY_POINTS_MAX}, each expiry
 * once (`2030-01-01T00:00:00Z` and `1893456000` are the same one).
 */
function expiryMap(
  input: unknown,
  field: string,
  range: { min: number; exclusive: boolean; max: number },
): [number, number, string][] {
  const entries = Object.entries(expectObject(input, field));
  if (entries.length > EXPIRY_POINTS_MAX) {
    throw new FulcrumError(
      'limit_exceeded',
      `${field} holds at most ${EXPIRY_POINTS_MAX} expiries`,
      field,
    );
  }
  const seen = new Set<number>();
  const out = entries.map(([key, raw]): [number, number, string] => {
    const at = `${field}.${fieldName(key)}`;
    const expiry = parseTime(/^\d{1,16}$/.test(key) ? Number(key) : key, at);
    if (seen.has(expiry)) {
      throw new FulcrumError('invalid_field', `the expiry ${expiry} is given twice`, at);
    }
    seen.add(expiry);
    return [expiry, parseNumber(raw, at, range), at];
  });
  return out.sort((a, b) => a[0] - b[0]);
}

/**
 * An instrument from JSON (decimal strings, ISO times): margins default to 5% initial, 3%
 * maintenance and no size premium; a perpetual's funding to 8 hours and a 0.75% clamp.
 */
export function parseInstrument(input: unknown, field: string): InstrumentSpec {
  const o = expectObject(input, field);
  const kind = o.kind;
  const common = {
    symbol: nameField(o.symbol, `${field}.symbol`),
    underlying: nameField(o.underlying, `${field}.underlying`),
    initialMargin: parseNumber(o.initialMargin ?? '0.05', `${field}.initialMargin`, {}),
    maintenanceMargin: parseNumber(o.maintenanceMargin ?? '0.03', `${field}.maintenanceMargin`, {}),
    sizePremium: parseNumber(o.sizePremium ?? '0', `${field}.sizePremium`, {}),
  };
  const base = [
    'kind',
    'symbol',
    'underlying',
    'initialMargin',
    'maintenanceMargin',
    'sizePremium',
  ];
  let spec: InstrumentSpec;
  switch (kind) {
    case 'perpetual':
      rejectUnknownFields(o, [...base, 'fundingIntervalSeconds', 'fundingClamp'], field);
      spec = {
        kind,
        ...common,
        fundingIntervalSeconds: parseNumber(
          o.fundingIntervalSeconds ?? '28800',
          `${field}.fundingIntervalSeconds`,
          {},
        ),
        fundingClamp: parseNumber(o.fundingClamp ?? '0.0075', `${field}.fundingClamp`, {}),
      };
      break;
    case 'future':
      rejectUnknownFields(o, [...base, 'expiry'], field);
      spec = { kind, ...common, expiry: parseTime(o.expiry, `${field}.expiry`) };
      break;
    case 'option':
      rejectUnknownFields(o, [...base, 'expiry', 'strike', 'right'], field);
      spec = {
        kind,
        ...common,
        expiry: parseTime(o.expiry, `${field}.expiry`),
        strike: parseNumber(o.strike, `${field}.strike`, {
          min: 0,
          exclusive: true,
          decimals: STRIKE_DECIMALS,
        }),
        right: o.right === 'put' ? 'put' : o.right === 'call' ? 'call' : (undefined as never),
      };
      if (o.right !== 'call' && o.right !== 'put') {
        throw new FulcrumError('invalid_field', 'right must be "call" or "put"', `${field}.right`);
      }
      break;
    default:
      throw new FulcrumError(
        'invalid_field',
        'kind must be "perpetual", "future" or "option"',
        `${field}.kind`,
      );
  }
  try {
    validateInstrument(spec);
  } catch (error) {
    // The check names the instrument's own field: named here from where the instrument is.
    if (error instanceof FulcrumError && error.field !== undefined) {
      throw new FulcrumError(error.code, error.message, `${field}.${error.field}`);
    }
    throw error;
  }
  return spec;
}

const DECIMAL = /^-?(0|[1-9]\d*)(\.(\d+))?$/;
/** The engine settles options on the strike to 10^-9: a strike has at most 9 decimals. */
const STRIKE_DECIMALS = 9;
/** The largest magnitude of a number in a portfolio file. */
const NUMBER_MAX = 1e15;

/**
 * A decimal string as a number, within `range`: at least `min` (above it when `exclusive`), at
 * most `max` in magnitude (10^15 by default) and with at most `decimals` fractional digits.
 */
function parseNumber(
  input: unknown,
  field: string,
  range: { min?: number; exclusive?: boolean; max?: number; decimals?: number },
): number {
  const match = typeof input === 'string' && input.length <= 40 ? DECIMAL.exec(input) : null;
  if (match === null) {
    throw new FulcrumError(
      'invalid_number',
      `${field} must be a plain decimal string like "12.5" (got ${quoteInput(input)})`,
      field,
    );
  }
  if (range.decimals !== undefined && (match[3] ?? '').length > range.decimals) {
    throw new FulcrumError(
      'too_many_decimals',
      `${field} has more than ${range.decimals} decimal places`,
      field,
    );
  }
  const x = Number(input);
  const max = range.max ?? NUMBER_MAX;
  if (!Number.isFinite(x) || Math.abs(x) > max) {
    throw new FulcrumError('invalid_number', `${field} must be at most ${max} either way`, field);
  }
  if (range.min !== undefined && (x < range.min || (range.exclusive === true && x === range.min))) {
    throw new FulcrumError(
      'invalid_number',
      `${field} must be ${range.exclusive === true ? 'above' : 'at least'} ${range.min}`,
      field,
    );
  }
  return x;
}

/** A symbol or underlying name from JSON: a string (checked by the instrument's rules). */
function nameField(input: unknown, field: string): string {
  if (typeof input !== 'string') {
    throw new FulcrumError('invalid_field', `${field} must be a string`, field);
  }
  return input;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * A time from JSON: unix seconds, or ISO-8601 UTC to the second, from 1970 to the engine's
 * latest time. A calendar date that does not exist (`2030-02-30`, hour 24) is refused, not
 * carried into the next day.
 */
export function parseTime(input: unknown, field: string): number {
  let seconds: number | undefined;
  if (typeof input === 'number' && Number.isSafeInteger(input)) seconds = input;
  else if (typeof input === 'string' && ISO_TIME.test(input)) {
    const ms = isoUtcMillis(input);
    if (ms !== undefined) seconds = ms / 1000;
  }
  if (seconds === undefined || seconds < 0 || seconds > LIMITS.timeMax) {
    throw new FulcrumError(
      'invalid_field',
      `${field} must be an ISO-8601 UTC time like 2030-01-31T08:00:00Z, or unix seconds from 0 to ${LIMITS.timeMax} (got ${quoteInput(input)})`,
      field,
    );
  }
  return seconds;
}

function list(input: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(input))
    throw new FulcrumError('invalid_field', `${field} must be a list`, field);
  if (input.length > max)
    throw new FulcrumError('limit_exceeded', `${field} holds at most ${max} entries`, field);
  return input;
}
