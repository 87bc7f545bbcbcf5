/**
 * The full health report of one account: every tier's figures, liquidation prices and how much
 * more may be borrowed or withdrawn, from one snapshot. `renderHealthReport` turns it into the
 * JSON the command line and the API print, with every number a decimal string.
 */
import { TIERS, type Tier } from '../domain/asset.js';
import { formatDecimal } from '../math/decimal.js';
import { divFloor, HEALTH_DECIMALS, PRICE_DECIMALS, VALUE_DECIMALS } from '../math/fixed.js';
import {
  evaluateHealth,
  type ExtraMargin,
  HEALTH_DENOMINATORS,
  type HealthSnapshot,
  type Position,
  type TierHealth,
} from './health.js';
import {
  collateralLiquidationPrice,
  debtLiquidationPrice,
  maxBorrowByMargin,
  maxWithdrawByMargin,
} from './whatIf.js';

export interface PositionReport {
  readonly symbol: string;
  readonly decimals: number;
  /** Signed amount in base units (negative = owed). */
  readonly amount: bigint;
  /** Value at the oracle price, VALUE_SCALE (negative for debts). */
  readonly value: bigint;
  /** Oracle price, PRICE_SCALE. */
  readonly price: bigint;
  /** Collateral: price at or below which the account becomes liquidatable; debt: at or above. */
  readonly liquidationPrice: bigint | null;
  /** Largest withdrawal (deposits) or further borrow (any asset) that keeps initial health >= 1. */
  readonly maxWithdraw: bigint;
  readonly maxBorrow: bigint;
}

/** A derivatives position as the report shows it (all figures in the quote unit). */
export interface DerivativeLine {
  readonly instrument: string;
  /** Signed size, units of the underlying (8 decimals), as text. */
  readonly size: string;
  readonly entryPrice: string | null;
  readonly mark: string;
  /** Unrealized profit (funding owed included). */
  readonly unrealized: string;
  readonly initialRequirement: string;
  readonly maintenanceRequirement: string;
}

export interface HealthReport {
  readonly snapshot: HealthSnapshot;
  readonly tiers: Readonly<Record<Tier, TierHealth>>;
  readonly positions: readonly PositionReport[];
  /** The sub-account's derivatives, when it holds any: mode, positions, unsettled profit. */
  readonly derivatives?: {
    readonly mode: string;
    readonly unsettled: string;
    readonly positions: readonly DerivativeLine[];
  };
}

/**
 * Evaluates and explains the health of a set of positions.
 *
 * @example
 * const report = healthReport(positions);
 * report.tiers.maintenance.healthFactor; // HEALTH_SCALE, or null without debt
 */
export function healthReport(
  positions: readonly Position[],
  extra: ExtraMargin | null = null,
): HealthReport {
  const snapshot = evaluateHealth(positions, extra);
  const tiers = {
    initial: snapshot.tier('initial'),
    liquidationEnd: snapshot.tier('liquidationEnd'),
    maintenance: snapshot.tier('maintenance'),
  };
  const reports = positions.map(({ risk, amount }): PositionReport => {
    const held = amount > 0n ? amount : 0n;
    const owed = amount < 0n ? -amount : 0n;
    return {
      symbol: risk.symbol,
      decimals: risk.decimals,
      amount,
      // Rounded down: deposits count a little less, debts a little more.
      value: divFloor(amount * risk.valuePerUnit, HEALTH_DENOMINATORS.value),
      price: risk.oraclePrice,
      liquidationPrice:
        amount >= 0n
          ? collateralLiquidationPrice(snapshot, risk, held)
          : debtLiquidationPrice(snapshot, risk, owed),
      maxWithdraw: maxWithdrawByMargin(snapshot, risk, held),
      maxBorrow: amount > 0n ? 0n : maxBorrowByMargin(snapshot, risk),
    };
  });
  return { snapshot, tiers, positions: reports };
}

/** JSON form of a tier: decimal strings in the quote unit and health as a plain ratio. */
function renderTier(tier: TierHealth) {
  return {
    weightedCollateral: formatDecimal(tier.weightedCollateral, VALUE_DECIMALS),
    weightedLiabilities: formatDecimal(tier.weightedLiabilities, VALUE_DECIMALS),
    freeCollateral: formatDecimal(tier.freeCollateral, VALUE_DECIMALS),
    healthFactor:
      tier.healthFactor === null ? null : formatDecimal(tier.healthFactor, HEALTH_DECIMALS),
  };
}

/** The report as JSON with decimal strings (documented in the README under `fulcrum health`). */
export function renderHealthReport(report: HealthReport) {
  const { snapshot, tiers } = report;
  const byAsset = <T>(pick: (p: PositionReport) => T | undefined): Record<string, T> => {
    const out: Record<string, T> = {};
    for (const position of report.positions) {
      const value = pick(position);
      if (value !== undefined) out[position.symbol] = value;
    }
    return out;
  };
  const price = (p: bigint | null) => (p === null ? null : formatDecimal(p, PRICE_DECIMALS));
  const tierJson = Object.fromEntries(TIERS.map((t) => [t, renderTier(tiers[t])]));
  return {
    healthFactor: tierJson.maintenance?.healthFactor ?? null,
    initialHealthFactor: tierJson.initial?.healthFactor ?? null,
    liquidationEndHealthFactor: tierJson.liquidationEnd?.healthFactor ?? null,
    liquidatable: !snapshot.meets('maintenance'),
    belowInitial: !snapshot.meets('initial'),
    collateralValue: formatDecimal(snapshot.collateralValue, VALUE_DECIMALS),
    liabilityValue: formatDecimal(snapshot.liabilityValue, VALUE_DECIMALS),
    initial: tierJson.initial,
    liquidationEnd: tierJson.liquidationEnd,
    maintenance: tierJson.maintenance,
    liquidationPrices: byAsset((p) => (p.amount > 0n ? price(p.liquidationPrice) : undefined)),
    debtLiquidationPrices: byAsset((p) => (p.amount < 0n ? price(p.liquidationPrice) : undefined)),
    maxWithdraw: byAsset((p) =>
      p.amount > 0n ? formatDecimal(p.maxWithdraw, p.decimals) : undefined,
    ),
    maxBorrow: byAsset((p) =>
      p.amount <= 0n ? formatDecimal(p.maxBorrow, p.decimals) : undefined,
    ),
    positions: byAsset((p) => ({
      amount: formatDecimal(p.amount, p.decimals),
      price: formatDecimal(p.price, PRICE_DECIMALS),
      value: formatDecimal(p.value, VALUE_DECIMALS),
    })),
    ...(report.derivatives === undefined ? {} : { derivatives: report.derivatives }),
  };
}
