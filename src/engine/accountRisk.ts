/**
 * The risk report of a sub-account (`fulcrum greeks --account`, the service's risk route): its
 * derivatives as a portfolio of `derivatives/report.ts`, valued on the engine's prices, so the
 * Greeks, each mode's margin and the cross liquidation prices are those of what it holds.
 * Analytics in floats over exact state; nothing changes.
 */
import { FulcrumError } from '../base/errors.js';
import type { ForwardPoint, SettlementPoint } from '../derivatives/forwards.js';
import { RATE_SCALE, SIZE_UNIT, VALUE_UNIT } from '../derivatives/position.js';
import { underlyingMarkets, type UnderlyingMarket } from '../derivatives/portfolioMargin.js';
import {
  type Portfolio,
  portfolioReport,
  type PortfolioReport,
  type ReportPosition,
} from '../derivatives/report.js';
import { flatSurface } from '../derivatives/volSurface.js';
import { formatDecimal } from '../math/decimal.js';
import { pow10, PRICE_DECIMALS } from '../math/fixed.js';
import { Draft } from './draft.js';
import { DEFAULT_VOLATILITY } from './portfolio.js';
import type { EngineState, SubAccountRef } from './state.js';

/** The risk report of a sub-account's derivatives; `no_position` when it holds none. */
export function subAccountRisk(state: EngineState, ref: SubAccountRef): PortfolioReport {
  return portfolioReport(accountPortfolio(state, ref));
}

/**
 * A sub-account of the engine as a portfolio of the risk report: its positions at their entry
 * prices; each underlying's index (its asset's oracle price) and a flat volatility (the venue's,
 * set with `set-volatility`, or the engine's default for portfolio margin); a future's mark as
 * the forward of its expiry, and its settlement price once captured; the collateral is the
 * sub-account's balances at their oracle prices, debts subtracted, and its unsettled profit.
 */
export function accountPortfolio(state: EngineState, ref: SubAccountRef): Portfolio {
  const draft = new Draft(state, state.time);
  const sub = draft.subAccount(ref);
  const book = sub.derivatives;
  if (book === undefined || book.positions.length === 0) {
    throw new FulcrumError(
      'no_position',
      `${ref.account}/${ref.subAccount} holds no derivatives position`,
      'account',
    );
  }
  // Through the decimal text: 1782 stays 1782, where a division of floats may not.
  const float = (price: bigint) => Number(formatDecimal(price, PRICE_DECIMALS));
  let collateral = Number(book.unsettled) / Number(VALUE_UNIT);
  for (const { asset, scaled } of sub.positions) {
    const { config, risk } = draft.asset(asset);
    const amount = draft.amountOf(asset, scaled);
    collateral += (Number(amount) / Number(pow10(config.decimals))) * float(risk.oraclePrice);
  }
  const carry = new Map<string, { forwards: ForwardPoint[]; settlements: SettlementPoint[] }>();
  const positions: ReportPosition[] = book.positions.map((position) => {
    const instrument = draft.instrument(position.instrument);
    const { spec } = instrument.listing;
    const curve = carry.get(spec.underlying) ?? { forwards: [], settlements: [] };
    carry.set(spec.underlying, curve);
    if (spec.kind === 'future') {
      if (spec.expiry > state.time) {
        if (!curve.forwards.some((f) => f.expiry === spec.expiry)) {
          curve.forwards.push({ expiry: spec.expiry, forward: float(instrument.mark) });
        }
      } else if (instrument.settlementPrice !== null) {
        if (!curve.settlements.some((f) => f.expiry === spec.expiry)) {
          curve.settlements.push({ expiry: spec.expiry, price: float(instrument.settlementPrice) });
        }
      }
    }
    const size = Number(position.size) / Number(SIZE_UNIT);
    // −quote / size: what was paid for each unit, PRICE_SCALE.
    const entryPrice = float(-position.quote / (position.size * RATE_SCALE));
    return { instrument: spec, size, entryPrice };
  });
  const markets = new Map<string, UnderlyingMarket>();
  for (const position of book.positions) {
    const instrument = draft.instrument(position.instrument);
    const asset = draft.asset(instrument.underlying);
    const name = instrument.listing.spec.underlying;
    if (markets.has(name)) continue;
    const curve = carry.get(name);
    markets.set(name, {
      index: float(asset.risk.oraclePrice),
      surface: flatSurface(draft.volatility(asset.index) ?? DEFAULT_VOLATILITY),
      ...(curve === undefined || curve.forwards.length === 0
        ? {}
        : { forwards: [...curve.forwards].sort((a, b) => a.expiry - b.expiry) }),
      ...(curve === undefined || curve.settlements.length === 0
        ? {}
        : { settlements: [...curve.settlements].sort((a, b) => a.expiry - b.expiry) }),
    });
  }
  return {
    time: state.time,
    collateral,
    market: { time: state.time, underlyings: underlyingMarkets(markets) },
    positions,
  };
}
