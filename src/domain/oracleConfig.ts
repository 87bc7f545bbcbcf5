/**
 * An asset's oracle configuration: how its sources' quotes become one price, how fresh they must
 * be, how its smoothed (stable) price follows, when its circuit breaker trips, and what each
 * grade allows. Ratios are fixed point in RAY (1e27 = 1.0); times in seconds.
 */
import { FulcrumError } from './errors.js';
import { expectInteger, expectObject, rejectUnknownFields } from './input.js';
import { parseDecimal } from '../math/decimal.js';
import { RAY, RAY_DECIMALS } from '../math/fixed.js';
import { DEFAULT_PRICE_POLICY, parsePricePolicy, type PricePolicy } from './priceGrade.js';

/** Most sources an asset's oracle may have. */
export const ORACLE_SOURCES_MAX = 16;

export interface OracleConfig {
  /** Fewest fresh, agreeing sources for a valid price. */
  readonly quorum: number;
  /** A quote older than this (seconds) no longer counts. */
  readonly maxStalenessSeconds: number;
  /** A source further than this from the median of all fresh sources is rejected (RAY). */
  readonly maxDeviationRay: bigint;
  /** A price whose confidence interval is wider than this share of it is too uncertain (RAY). */
  readonly maxConfidenceRay: bigint;
  /** A price further than this from the stable price is too volatile (RAY). */
  readonly maxStableGapRay: bigint;
  /** The stable price follows the price by at most this share per second (RAY). */
  readonly stableRatePerSecondRay: bigint;
  /** One stable-price step covers at most this many seconds (after a gap, it resumes slowly). */
  readonly stableStepSecondsMax: number;
  /** The breaker trips on a move larger than this share of the window's anchor price (RAY). */
  readonly breakerMoveRay: bigint;
  /** The breaker's window: the anchor price is renewed when it is this old (seconds). */
  readonly breakerWindowSeconds: number;
  /** After a trip, risk-increasing actions stay frozen for this long without a new trip. */
  readonly breakerCooldownSeconds: number;
  readonly policy: PricePolicy;
}

const pct = (n: bigint, d: bigint) => (RAY * n) / d;

/**
 * Defaults, drawn from the anchors: quorum 2 of the sources; 60 s staleness (Drift's margin
 * staleness); a source 5% from the median is an outlier; confidence at most 2% (Drift); a price
 * 50% from its stable price is too volatile; the stable price follows at 0.03% a second over
 * steps of at most 10 minutes (Mango); the breaker trips on a 25% move within 5 minutes and
 * freezes new risk for 10 minutes.
 */
export const DEFAULT_ORACLE_CONFIG: OracleConfig = {
  quorum: 2,
  maxStalenessSeconds: 60,
  maxDeviationRay: pct(5n, 100n),
  maxConfidenceRay: pct(2n, 100n),
  maxStableGapRay: pct(50n, 100n),
  stableRatePerSecondRay: pct(3n, 10_000n),
  stableStepSecondsMax: 600,
  breakerMoveRay: pct(25n, 100n),
  breakerWindowSeconds: 300,
  breakerCooldownSeconds: 600,
  policy: DEFAULT_PRICE_POLICY,
};

const FIELDS = [
  'quorum',
  'maxStalenessSeconds',
  'maxDeviation',
  'maxConfidence',
  'maxStableGap',
  'stableRatePerSecond',
  'stableStepSecondsMax',
  'breakerMove',
  'breakerWindowSeconds',
  'breakerCooldownSeconds',
  'policy',
] as const;

const DAY = 86_400;

/**
 * An oracle configuration from JSON; every field optional (defaults above).
 *
 * @example
 * parseOracleConfig({ quorum: 3, maxDeviation: '0.02' }, 'config.oracle');
 */
export function parseOracleConfig(input: unknown, field: string): OracleConfig {
  const raw = expectObject(input, field);
  rejectUnknownFields(raw, FIELDS, field);
  const d = DEFAULT_ORACLE_CONFIG;
  const ratio = (name: string, fallback: bigint, max = RAY) =>
    raw[name] === undefined
      ? fallback
      : parseDecimal(raw[name], RAY_DECIMALS, { field: `${field}.${name}`, max });
  const seconds = (name: string, fallback: number, min: number) =>
    raw[name] === undefined
      ? fallback
      : expectInteger(raw[name], `${field}.${name}`, min, 30 * DAY);
  const config: OracleConfig = {
    quorum:
      raw.quorum === undefined
        ? d.quorum
        : expectInteger(raw.quorum, `${field}.quorum`, 1, ORACLE_SOURCES_MAX),
    maxStalenessSeconds: seconds('maxStalenessSeconds', d.maxStalenessSeconds, 1),
    maxDeviationRay: ratio('maxDeviation', d.maxDeviationRay),
    maxConfidenceRay: ratio('maxConfidence', d.maxConfidenceRay),
    maxStableGapRay: ratio('maxStableGap', d.maxStableGapRay, 10n * RAY),
    stableRatePerSecondRay: ratio('stableRatePerSecond', d.stableRatePerSecondRay),
    stableStepSecondsMax: seconds('stableStepSecondsMax', d.stableStepSecondsMax, 1),
    breakerMoveRay: ratio('breakerMove', d.breakerMoveRay, 10n * RAY),
    breakerWindowSeconds: seconds('breakerWindowSeconds', d.breakerWindowSeconds, 1),
    breakerCooldownSeconds: seconds('breakerCooldownSeconds', d.breakerCooldownSeconds, 0),
    policy: raw.policy === undefined ? d.policy : parsePricePolicy(raw.policy, `${field}.policy`),
  };
  validateOracleConfig(config, field);
  return config;
}

/** Checks a configuration, parsed or built in code. Throws `invalid_config`. */
export function validateOracleConfig(config: OracleConfig, field: string): void {
  const fail = (message: string, name: string): never => {
    throw new FulcrumError('invalid_config', message, `${field}.${name}`);
  };
  if (
    !Number.isSafeInteger(config.quorum) ||
    config.quorum < 1 ||
    config.quorum > ORACLE_SOURCES_MAX
  ) {
    fail(`quorum must be 1 to ${ORACLE_SOURCES_MAX}`, 'quorum');
  }
  for (const name of [
    'maxDeviationRay',
    'maxConfidenceRay',
    'maxStableGapRay',
    'stableRatePerSecondRay',
    'breakerMoveRay',
  ] as const) {
    const value = config[name];
    if (typeof value !== 'bigint' || value <= 0n)
      fail(`${name.replace('Ray', '')} must be more than zero`, name);
  }
  for (const name of [
    'maxStalenessSeconds',
    'stableStepSecondsMax',
    'breakerWindowSeconds',
    'breakerCooldownSeconds',
  ] as const) {
    const value = config[name];
    if (!Number.isSafeInteger(value) || value < 0) fail(`${name} must be whole seconds`, name);
  }
}
