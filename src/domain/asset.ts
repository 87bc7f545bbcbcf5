/**
 * An asset's listing: its unit, its risk weights and its lending-pool parameters.
 *
 * Weights are fixed point in {@link WEIGHT_SCALE} (1_000_000 = 1.0); rates and utilization are
 * annual fractions in {@link RAY}; caps are in the asset's base units. A config is validated once,
 * when it is listed; every rule below is checked in a fixed order and the first failure returned.
 */
import { parseDecimal } from '../math/decimal.js';
import { type OracleConfig, parseOracleConfig, validateOracleConfig } from './oracleConfig.js';
import { AMOUNT_MAX, RAY, RAY_DECIMALS, WEIGHT_DECIMALS, WEIGHT_SCALE } from '../math/fixed.js';
import { FulcrumError } from '../base/errors.js';
import {
  expectInteger,
  expectObject,
  expectString,
  optionalField,
  rejectUnknownFields,
} from './input.js';

/** Largest number of decimals an asset may have: bounds the size of every value bigint. */
export const ASSET_DECIMALS_MAX = 30;

/** Symbols are short, upper-case-insensitive identifiers such as `ETH`, `USDC`, `wstETH`. */
export const SYMBOL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$/;

/** A liability weight above this is almost certainly a typo (it means 10x the debt). */
export const LIABILITY_WEIGHT_MAX = 10n * WEIGHT_SCALE;

/** Aave caps the total borrow rate at 1000% a year; so do we. */
export const BORROW_RATE_ANNUAL_MAX = 10n * RAY;

/**
 * The kinked interest-rate curve, all in RAY per year:
 * below the kink `base + slope1 * U / U*`, above it `base + slope1 + slope2 * (U - U*) / (1 - U*)`.
 */
export interface InterestRateCurve {
  readonly baseRateRay: bigint;
  readonly slope1Ray: bigint;
  readonly slope2Ray: bigint;
  readonly optimalUtilizationRay: bigint;
}

/** The three margin tiers, strictest first. */
export const TIERS = ['initial', 'liquidationEnd', 'maintenance'] as const;
export type Tier = (typeof TIERS)[number];

/** One weight per tier, in {@link WEIGHT_SCALE}. */
export type TierWeights = Readonly<Record<Tier, bigint>>;

export interface AssetConfig {
  readonly symbol: string;
  readonly decimals: number;
  /** Share of a deposit's value that counts as collateral, per tier (initial <= end <= maint). */
  readonly assetWeight: TierWeights;
  /** Multiple of a debt's value that counts as a liability, per tier (initial >= end >= maint >= 1). */
  readonly liabilityWeight: TierWeights;
  readonly interest: InterestRateCurve;
  /** Share of borrowers' interest that goes to the treasury, in {@link WEIGHT_SCALE}. */
  readonly reserveFactor: bigint;
  /**
   * What a liquidated account pays, as a share of the debt repaid, in this collateral (WEIGHT_SCALE):
   * seized collateral is worth the repaid debt times (1 + penalty).
   */
  readonly liquidationPenalty: bigint;
  /** The insurance fund's part of the penalty (WEIGHT_SCALE); the liquidator keeps the rest. */
  readonly insuranceShare: bigint;
  /** Largest total supply, in base units; null for no cap. */
  readonly supplyCap: bigint | null;
  /** Largest total borrows, in base units; null for no cap. */
  readonly borrowCap: bigint | null;
  readonly borrowable: boolean;
  /** How quotes become the asset's price; null for a price set directly (`set-price`). */
  readonly oracle: OracleConfig | null;
  /**
   * Where the asset is held when it sits in a vault on another chain (docs/CHAINS.md): such a
   * listing is that chain's copy of `location.asset`, priced by its oracle, with its own weights,
   * cap and status; only the chain's watcher credits it. Absent for an asset held by the venue.
   */
  readonly location?: AssetLocation;
}

/** A chain's vault holding a listed asset: `ETH.arb` is ETH in the vault on chain `arb`. */
export interface AssetLocation {
  /** The chain's identifier (`list-chain`). */
  readonly chain: string;
  /** The listed asset it is a copy of: its oracle prices this one. */
  readonly asset: string;
}

/** Chain identifiers: 1-16 lower-case letters, digits and `-`, starting with a letter or digit. */
export const CHAIN_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,15}$/;

/** Interest curve used when a listing gives none: Aave's example listing (U* 80%, 0.25% + 3% / 75%). */
export const DEFAULT_INTEREST_RATE_CURVE: InterestRateCurve = {
  baseRateRay: (RAY * 25n) / 10_000n,
  slope1Ray: (RAY * 3n) / 100n,
  slope2Ray: (RAY * 75n) / 100n,
  optimalUtilizationRay: (RAY * 80n) / 100n,
};

/** Penalty when a listing gives none: 5%, Aave's common bonus. */
export const DEFAULT_LIQUIDATION_PENALTY = (WEIGHT_SCALE * 5n) / 100n;

/** Insurance fund's part of the penalty when a listing gives none: a fifth (1% of a 5% penalty). */
export const DEFAULT_INSURANCE_SHARE = (WEIGHT_SCALE * 20n) / 100n;

/** Share of interest to the treasury when a listing gives none: 10%, as in Aave's example listing. */
export const DEFAULT_RESERVE_FACTOR = (WEIGHT_SCALE * 10n) / 100n;

/** Every field an asset listing may have. */
export const ASSET_CONFIG_FIELDS = [
  'symbol',
  'decimals',
  'initialWeight',
  'liquidationEndWeight',
  'maintenanceWeight',
  'liabilityWeight',
  'initialLiabilityWeight',
  'liquidationEndLiabilityWeight',
  'maintenanceLiabilityWeight',
  'interest',
  'reserveFactor',
  'liquidationPenalty',
  'insuranceShare',
  'supplyCap',
  'borrowCap',
  'borrowable',
  'oracle',
  'location',
] as const;

/**
 * Parses and validates an asset listing given as JSON (decimal strings for every number).
 *
 * `liabilityWeight` sets both tiers at once; `initialLiabilityWeight` and
 * `maintenanceLiabilityWeight` set them separately. The liquidation-end weights default to the
 * midpoint between initial and maintenance, rounded toward the stricter side.
 *
 * @example
 * parseAssetConfig({ symbol: 'ETH', decimals: 18, initialWeight: '0.8',
 *   maintenanceWeight: '0.825', liabilityWeight: '1' }, 'asset');
 */
export function parseAssetConfig(input: unknown, field: string): AssetConfig {
  const raw = expectObject(input, field);
  rejectUnknownFields(raw, ASSET_CONFIG_FIELDS, field);
  const symbol = expectString(raw.symbol, `${field}.symbol`);
  const decimals = expectInteger(raw.decimals, `${field}.decimals`, 0, ASSET_DECIMALS_MAX);
  const weight = (name: string): bigint | undefined =>
    raw[name] === undefined
      ? undefined
      : parseDecimal(raw[name], WEIGHT_DECIMALS, {
          field: `${field}.${name}`,
          max: LIABILITY_WEIGHT_MAX,
        });
  const initialWeight = required(weight('initialWeight'), `${field}.initialWeight`);
  const maintenanceWeight = required(weight('maintenanceWeight'), `${field}.maintenanceWeight`);
  const liabilityBoth = weight('liabilityWeight') ?? WEIGHT_SCALE;
  const initialLiability = weight('initialLiabilityWeight') ?? liabilityBoth;
  const maintenanceLiability = weight('maintenanceLiabilityWeight') ?? liabilityBoth;
  // Midpoints, rounded toward the stricter side: down for assets, up for liabilities.
  const endWeight = weight('liquidationEndWeight') ?? (initialWeight + maintenanceWeight) / 2n;
  const endLiability =
    weight('liquidationEndLiabilityWeight') ?? (initialLiability + maintenanceLiability + 1n) / 2n;
  const interestField = `${field}.interest`;
  const interest =
    raw.interest === undefined
      ? DEFAULT_INTEREST_RATE_CURVE
      : parseInterestRateCurve(raw.interest, interestField);
  const config: AssetConfig = {
    symbol,
    decimals,
    assetWeight: {
      initial: initialWeight,
      liquidationEnd: endWeight,
      maintenance: maintenanceWeight,
    },
    liabilityWeight: {
      initial: initialLiability,
      liquidationEnd: endLiability,
      maintenance: maintenanceLiability,
    },
    interest,
    reserveFactor:
      optionalField(
        raw,
        'reserveFactor',
        (v, f) => parseDecimal(v, WEIGHT_DECIMALS, { field: f, max: WEIGHT_SCALE }),
        field,
      ) ?? DEFAULT_RESERVE_FACTOR,
    liquidationPenalty:
      optionalField(
        raw,
        'liquidationPenalty',
        (v, f) => parseDecimal(v, WEIGHT_DECIMALS, { field: f, max: WEIGHT_SCALE }),
        field,
      ) ?? DEFAULT_LIQUIDATION_PENALTY,
    insuranceShare:
      optionalField(
        raw,
        'insuranceShare',
        (v, f) => parseDecimal(v, WEIGHT_DECIMALS, { field: f, max: WEIGHT_SCALE }),
        field,
      ) ?? DEFAULT_INSURANCE_SHARE,
    supplyCap: parseCap(raw.supplyCap, decimals, `${field}.supplyCap`),
    borrowCap: parseCap(raw.borrowCap, decimals, `${field}.borrowCap`),
    borrowable:
      raw.borrowable === undefined ? true : expectBoolean(raw.borrowable, `${field}.borrowable`),
    oracle: raw.oracle === undefined ? null : parseOracleConfig(raw.oracle, `${field}.oracle`),
    ...(raw.location === undefined
      ? {}
      : { location: parseLocation(raw.location, `${field}.location`) }),
  };
  validateAssetConfig(config, field);
  return config;
}

function parseLocation(input: unknown, field: string): AssetLocation {
  const raw = expectObject(input, field);
  rejectUnknownFields(raw, ['chain', 'asset'], field);
  return {
    chain: expectString(raw.chain, `${field}.chain`),
    asset: expectString(raw.asset, `${field}.asset`),
  };
}

function parseInterestRateCurve(input: unknown, field: string): InterestRateCurve {
  const raw = expectObject(input, field);
  rejectUnknownFields(raw, ['baseRate', 'slope1', 'slope2', 'optimalUtilization'], field);
  const rate = (name: string): bigint =>
    parseDecimal(raw[name], RAY_DECIMALS, {
      field: `${field}.${name}`,
      max: BORROW_RATE_ANNUAL_MAX,
    });
  return {
    baseRateRay: rate('baseRate'),
    slope1Ray: rate('slope1'),
    slope2Ray: rate('slope2'),
    optimalUtilizationRay: rate('optimalUtilization'),
  };
}

function parseCap(input: unknown, decimals: number, field: string): bigint | null {
  if (input === undefined || input === null) return null;
  return parseDecimal(input, decimals, { field, max: AMOUNT_MAX });
}

function expectBoolean(input: unknown, field: string): boolean {
  if (typeof input !== 'boolean') {
    throw new FulcrumError('invalid_field', `${field} must be true or false`, field);
  }
  return input;
}

function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new FulcrumError('invalid_field', `${field} is required`, field);
  return value;
}

/**
 * Checks the rules every listing must keep. Throws `invalid_config` naming the first broken rule.
 * The rules make the tier order hold for every portfolio: initial health <= liquidation-end
 * health <= maintenance health.
 */
export function validateAssetConfig(config: AssetConfig, field: string): void {
  validateAssetConfigTypes(config, field);
  validateTierWeights(config, field);
  validateShares(config, field);
  validateInterestCurve(config, field);
}

/** Throws `invalid_config` for the listing `config` at `field`, naming the broken rule's field. */
function failConfig(config: AssetConfig, field: string, message: string, name: string): never {
  throw new FulcrumError('invalid_config', `${config.symbol}: ${message}`, `${field}.${name}`);
}

/** The symbol and decimals, then every field of the right type (a config built in code too). */
function validateAssetConfigTypes(config: AssetConfig, field: string): void {
  if (typeof config.symbol !== 'string' || !SYMBOL_PATTERN.test(config.symbol)) {
    failConfig(
      config,
      field,
      'symbol must be 1-16 letters, digits, ".", "_" or "-", starting with a letter or digit',
      'symbol',
    );
  }
  const d = config.decimals;
  if (!Number.isSafeInteger(d) || d < 0 || d > ASSET_DECIMALS_MAX) {
    const message = `decimals must be a whole number from 0 to ${ASSET_DECIMALS_MAX}`;
    failConfig(config, field, message, 'decimals');
  }
  // A config built in code (not parsed from JSON) gets the same checks: every number a bigint.
  const numbers: [string, unknown][] = [
    ...TIERS.map((t): [string, unknown] => [`assetWeight.${t}`, config.assetWeight?.[t]]),
    ...TIERS.map((t): [string, unknown] => [`liabilityWeight.${t}`, config.liabilityWeight?.[t]]),
    ['reserveFactor', config.reserveFactor],
    ['liquidationPenalty', config.liquidationPenalty],
    ['insuranceShare', config.insuranceShare],
    ['interest.baseRate', config.interest?.baseRateRay],
    ['interest.slope1', config.interest?.slope1Ray],
    ['interest.slope2', config.interest?.slope2Ray],
    ['interest.optimalUtilization', config.interest?.optimalUtilizationRay],
  ];
  for (const [name, value] of numbers) {
    if (typeof value !== 'bigint') failConfig(config, field, `${name} must be a bigint`, name);
  }
  for (const cap of ['supplyCap', 'borrowCap'] as const) {
    if (config[cap] !== null && typeof config[cap] !== 'bigint') {
      failConfig(config, field, `${cap} must be a bigint or null`, cap);
    }
  }
  if (typeof config.borrowable !== 'boolean')
    failConfig(config, field, 'borrowable must be true or false', 'borrowable');
  if (config.oracle === undefined)
    failConfig(config, field, 'oracle must be a configuration or null', 'oracle');
  if (config.oracle !== null) validateOracleConfig(config.oracle, `${field}.oracle`);
  if (config.location !== undefined) validateLocation(config, field);
}

/**
 * A located listing: a chain and an asset by name, its price from that asset's oracle (so none
 * of its own), never lent out (a borrow would pay out tokens the vault must keep for withdrawals).
 */
function validateLocation(config: AssetConfig, field: string): void {
  const location = config.location as AssetLocation;
  if (typeof location !== 'object' || location === null) {
    failConfig(config, field, 'location must be { chain, asset }', 'location');
  }
  if (typeof location.chain !== 'string' || !CHAIN_ID_PATTERN.test(location.chain)) {
    const message = 'location.chain must be 1-16 lower-case letters, digits or "-"';
    failConfig(config, field, message, 'location.chain');
  }
  if (typeof location.asset !== 'string' || !SYMBOL_PATTERN.test(location.asset)) {
    failConfig(config, field, 'location.asset must be a symbol', 'location.asset');
  }
  if (config.oracle !== null) {
    const message = `an asset held on a chain is priced by ${location.asset}'s oracle: list it without one`;
    failConfig(config, field, message, 'oracle');
  }
  if (config.borrowable) {
    const message = 'an asset held on a chain cannot be borrowable (list it with borrowable false)';
    failConfig(config, field, message, 'borrowable');
  }
}

/**
 * The tier order of both weights: asset weights initial <= liquidationEnd <= maintenance <= 1,
 * liability weights 10 >= initial >= liquidationEnd >= maintenance >= 1.
 */
function validateTierWeights(config: AssetConfig, field: string): void {
  const a = config.assetWeight;
  if (a.initial < 0n)
    failConfig(config, field, 'initialWeight must not be negative', 'initialWeight');
  if (a.maintenance > WEIGHT_SCALE)
    failConfig(config, field, 'maintenanceWeight must be at most 1', 'maintenanceWeight');
  if (a.initial > a.liquidationEnd || a.liquidationEnd > a.maintenance) {
    const message = 'asset weights must satisfy initial <= liquidationEnd <= maintenance';
    failConfig(config, field, message, 'initialWeight');
  }
  const l = config.liabilityWeight;
  if (l.maintenance < WEIGHT_SCALE) {
    const message = 'maintenanceLiabilityWeight must be at least 1';
    failConfig(config, field, message, 'maintenanceLiabilityWeight');
  }
  if (l.initial > LIABILITY_WEIGHT_MAX) {
    const message = 'initialLiabilityWeight must be at most 10';
    failConfig(config, field, message, 'initialLiabilityWeight');
  }
  if (l.initial < l.liquidationEnd || l.liquidationEnd < l.maintenance) {
    const message = 'liability weights must satisfy initial >= liquidationEnd >= maintenance';
    failConfig(config, field, message, 'initialLiabilityWeight');
  }
}

/** The reserve factor, insurance share, liquidation penalty and caps in range. */
function validateShares(config: AssetConfig, field: string): void {
  if (config.reserveFactor < 0n || config.reserveFactor > WEIGHT_SCALE) {
    failConfig(config, field, 'reserveFactor must be between 0 and 1', 'reserveFactor');
  }
  if (config.insuranceShare < 0n || config.insuranceShare > WEIGHT_SCALE) {
    failConfig(config, field, 'insuranceShare must be between 0 and 1', 'insuranceShare');
  }
  // A liquidation at the maintenance threshold must leave the account healthier, not worse:
  // seizing (1 + penalty) of collateral weighted w for debt weighted at least 1 improves health
  // only if w × (1 + penalty) < 1 (Aave's LT × bonus <= 100%, strict here).
  const penalty = config.liquidationPenalty;
  const maintenance = config.assetWeight.maintenance;
  if (penalty < 0n || maintenance * (WEIGHT_SCALE + penalty) >= WEIGHT_SCALE * WEIGHT_SCALE) {
    failConfig(
      config,
      field,
      'maintenanceWeight × (1 + liquidationPenalty) must stay below 1, or liquidations would make accounts worse',
      'liquidationPenalty',
    );
  }
  for (const cap of ['supplyCap', 'borrowCap'] as const) {
    const value = config[cap];
    if (value !== null && (value < 0n || value > AMOUNT_MAX)) {
      failConfig(config, field, `${cap} is out of range`, cap);
    }
  }
}

/** The interest curve: rates not negative, the kink within 1%..99%, slopes in order, capped. */
function validateInterestCurve(config: AssetConfig, field: string): void {
  const curve = config.interest;
  if (curve.baseRateRay < 0n || curve.slope1Ray < 0n) {
    failConfig(config, field, 'interest rates must not be negative', 'interest');
  }
  if (
    curve.optimalUtilizationRay < RAY / 100n ||
    curve.optimalUtilizationRay > (RAY * 99n) / 100n
  ) {
    const message = 'interest.optimalUtilization must be between 0.01 and 0.99';
    failConfig(config, field, message, 'interest.optimalUtilization');
  }
  if (curve.slope1Ray > curve.slope2Ray) {
    const message = 'interest.slope1 must not exceed interest.slope2';
    failConfig(config, field, message, 'interest.slope1');
  }
  if (curve.baseRateRay + curve.slope1Ray + curve.slope2Ray > BORROW_RATE_ANNUAL_MAX) {
    const message = 'the largest borrow rate (base + slope1 + slope2) must be at most 10 (1000%)';
    failConfig(config, field, message, 'interest');
  }
}
