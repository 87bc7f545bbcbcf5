/**
 * An instrument as a venue lists it in the engine: its contract (`InstrumentSpec`: kind,
 * underlying, margins, size premium, funding or expiry) and the engine's rules for it: the
 * weights at which its positive profit counts in health, the penalty a liquidator earns taking
 * a position over and the insurance fund's share of it, and the oracle its mark comes through
 * (none: the mark is set with `set-price`).
 */
import { FulcrumError } from '../base/errors.js';
import type { Tier, TierWeights } from '../domain/asset.js';
import { expectObject } from '../domain/input.js';
import {
  type OracleConfig,
  parseOracleConfig,
  validateOracleConfig,
} from '../domain/oracleConfig.js';
import { parseDecimal } from '../math/decimal.js';
import { WEIGHT_DECIMALS, WEIGHT_SCALE } from '../math/fixed.js';
import { type InstrumentSpec, validateInstrument } from './instruments.js';
import { parseInstrument } from './report.js';

export interface InstrumentListing {
  readonly spec: InstrumentSpec;
  /** Positive profit counts at these weights, per tier (WEIGHT_SCALE). */
  readonly profitWeight: TierWeights;
  /** What a liquidator earns taking a position over: a share of its notional (WEIGHT_SCALE). */
  readonly liquidationPenalty: bigint;
  /** The insurance fund's part of that penalty (WEIGHT_SCALE). */
  readonly insuranceShare: bigint;
  /** The mark's oracle; null when the mark is set with `set-price`. */
  readonly oracle: OracleConfig | null;
}

/** Paper profit backs new risk at 90% and counts in full toward maintenance (Drift's defaults). */
export const DEFAULT_PROFIT_WEIGHT: TierWeights = {
  initial: 900_000n,
  liquidationEnd: 950_000n,
  maintenance: WEIGHT_SCALE,
};

/** 1% of notional to the liquidator, a fifth of it to the insurance fund. */
export const DEFAULT_POSITION_PENALTY = 10_000n;
export const DEFAULT_POSITION_INSURANCE_SHARE = 200_000n;

const ENGINE_FIELDS = ['profitWeight', 'liquidationPenalty', 'insuranceShare', 'oracle'];

/**
 * A listing from JSON: the contract's fields (as `fulcrum greeks` reads them) and, optionally,
 * `profitWeight` (the initial tier's; maintenance is 1, liquidation-end midway),
 * `liquidationPenalty`, `insuranceShare` and `oracle`.
 *
 * @example
 * parseInstrumentListing({ kind: 'perpetual', symbol: 'ETH-PERP', underlying: 'ETH',
 *   initialMargin: '0.1', maintenanceMargin: '0.05' }, 'config');
 */
export function parseInstrumentListing(input: unknown, field: string): InstrumentListing {
  const raw = expectObject(input, field);
  const contract: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(raw)) {
    if (!ENGINE_FIELDS.includes(key)) contract[key] = value;
  }
  const spec = parseInstrument({ ...contract }, field);
  const ratio = (name: string, fallback: bigint) =>
    raw[name] === undefined
      ? fallback
      : parseDecimal(raw[name], WEIGHT_DECIMALS, { field: `${field}.${name}`, max: WEIGHT_SCALE });
  const initial = ratio('profitWeight', DEFAULT_PROFIT_WEIGHT.initial);
  const listing: InstrumentListing = {
    spec,
    profitWeight: {
      initial,
      liquidationEnd: (initial + WEIGHT_SCALE) / 2n,
      maintenance: WEIGHT_SCALE,
    },
    liquidationPenalty: ratio('liquidationPenalty', DEFAULT_POSITION_PENALTY),
    insuranceShare: ratio('insuranceShare', DEFAULT_POSITION_INSURANCE_SHARE),
    oracle: raw.oracle === undefined ? null : parseOracleConfig(raw.oracle, `${field}.oracle`),
  };
  validateInstrumentListing(listing, field);
  return listing;
}

/** Checks a listing, parsed or built in code. Throws `invalid_config` naming the field. */
export function validateInstrumentListing(listing: InstrumentListing, field: string): void {
  const fail = (message: string, name: string): never => {
    throw new FulcrumError('invalid_config', message, `${field}.${name}`);
  };
  validateInstrument(listing.spec);
  const w = listing.profitWeight;
  const tiers: Tier[] = ['initial', 'liquidationEnd', 'maintenance'];
  for (const tier of tiers) {
    const value = w?.[tier];
    if (typeof value !== 'bigint' || value < 0n || value > WEIGHT_SCALE) {
      fail('profit weights must be from 0 to 1', 'profitWeight');
    }
  }
  if (!(w.initial <= w.liquidationEnd && w.liquidationEnd <= w.maintenance)) {
    fail('profit weights must satisfy initial <= liquidation-end <= maintenance', 'profitWeight');
  }
  // A takeover at the penalty must release more requirement than it costs, or liquidating a
  // position could never raise the account's health: the penalty stays below the maintenance
  // margin (as an asset's maintenance weight × (1 + penalty) stays below 1).
  const penalty = listing.liquidationPenalty;
  const maintenancePpm = BigInt(Math.round(listing.spec.maintenanceMargin * 1e6));
  if (typeof penalty !== 'bigint' || penalty < 0n || penalty >= maintenancePpm) {
    fail('liquidationPenalty must be from 0 to below the maintenance margin', 'liquidationPenalty');
  }
  const share = listing.insuranceShare;
  if (typeof share !== 'bigint' || share < 0n || share > WEIGHT_SCALE) {
    fail('insuranceShare must be from 0 to 1', 'insuranceShare');
  }
  if (listing.oracle !== null) validateOracleConfig(listing.oracle, `${field}.oracle`);
}
