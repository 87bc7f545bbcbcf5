/**
 * An asset's oracle configuration: how its sources' quotes become one price (how fresh, how far
 * apart, how long unchanged they may be), how its smoothed (stable) price and the delayed average
 * behind it follow, how far its confidence widens the prices margin uses, when its circuit
 * breaker trips, and what each grade allows. Ratios are fixed point in RAY (1e27 = 1.0); times
 * in seconds.
 */
import { FulcrumError } from '../base/errors.js';
import { expectInteger, expectObject, rejectUnknownFields } from './input.js';
import { parseDecimal } from '../math/decimal.js';
import { RAY, RAY_DECIMALS } from '../math/fixed.js';
import { DAY_SECONDS } from '../math/time.js';
import { DEFAULT_PRICE_POLICY, parsePricePolicy, type PricePolicy } from './priceGrade.js';

/** Most sources an asset's oracle may have. */
export const ORACLE_SOURCES_MAX = 16;
/** Most intervals the delay price's window may hold (each a stored average). */
export const DELAY_INTERVALS_MAX = 48;

export interface OracleConfig {
  /** Fewest fresh, agreeing sources for a valid price. */
  readonly quorum: number;
  /** A quote older than this (seconds) no longer counts. */
  readonly maxStalenessSeconds: number;
  /** A source further than this from the median of all fresh sources is rejected (RAY). */
  readonly maxDeviationRay: bigint;
  /**
   * The sources a price is taken from must agree: the highest at most this share above the
   * lowest, and more than half of the fresh sources (RAY). Null: no agreement rule (every
   * source within `maxDeviation` counts, as oracles listed before the rule behave).
   */
  readonly maxSpreadRay: bigint | null;
  /**
   * A fresh source whose price has not changed for longer than this (seconds), while more than
   * half of the fresh sources changed theirs within it, is frozen and left out. 0: off.
   */
  readonly maxUnchangedSeconds: number;
  /** A price whose confidence interval is wider than this share of it is too uncertain (RAY). */
  readonly maxConfidenceRay: bigint;
  /**
   * A price further than this from the volatility reference price (the stable price's rule
   * without the delay price's slowing) is too volatile (RAY).
   */
  readonly maxStableGapRay: bigint;
  /**
   * The stable price and the volatility reference price follow the price by at most this share
   * per second (RAY); the stable price, slowed by the delay price, by less.
   */
  readonly stableRatePerSecondRay: bigint;
  /** One stable-price step covers at most this many seconds (after a gap, it resumes slowly). */
  readonly stableStepSecondsMax: number;
  /**
   * Intervals in the delay price's window: the time-weighted average of the price over the last
   * `delayIntervals` whole intervals of `delayIntervalSeconds`. 0: no delay price (the stable
   * price is a plain rate limiter).
   */
  readonly delayIntervals: number;
  readonly delayIntervalSeconds: number;
  /** One interval's average may differ from the one before by at most this share of it (RAY). */
  readonly delayGrowthMaxRay: bigint;
  /**
   * Margin values a deposit at its price less this multiple of the price's confidence, and a
   * debt at its price plus it (RAY; 0: prices are not widened).
   */
  readonly confidenceWideningRay: bigint;
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
 * staleness); a source 5% from the median is an outlier; the sources a price comes from agree
 * within 2% and are more than half of the fresh ones; a source unchanged for 5 minutes while
 * most others moved is frozen; confidence at most 2% (Drift), not widening prices; a price 50%
 * from its volatility reference price is too volatile; that price follows at 0.03% a second over
 * steps of at most 10 minutes, and so does the stable price, slowed as it parts from the delay
 * price, a 24-hour average of hourly averages each within 6% of the one before (Mango); the
 * breaker trips on a 25% move within 5 minutes and freezes new risk for 10 minutes.
 */
export const DEFAULT_ORACLE_CONFIG: OracleConfig = {
  quorum: 2,
  maxStalenessSeconds: 60,
  maxDeviationRay: pct(5n, 100n),
  maxSpreadRay: pct(2n, 100n),
  maxUnchangedSeconds: 300,
  maxConfidenceRay: pct(2n, 100n),
  maxStableGapRay: pct(50n, 100n),
  stableRatePerSecondRay: pct(3n, 10_000n),
  stableStepSecondsMax: 600,
  delayIntervals: 24,
  delayIntervalSeconds: 3600,
  delayGrowthMaxRay: pct(6n, 100n),
  confidenceWideningRay: 0n,
  breakerMoveRay: pct(25n, 100n),
  breakerWindowSeconds: 300,
  breakerCooldownSeconds: 600,
  policy: DEFAULT_PRICE_POLICY,
};

/**
 * The fields added after the first stored form, with the values that make an oracle behave as
 * it did before them: no agreement rule, no frozen sources, no delay price, no widening. A
 * listing stored without them (a journal written by an earlier version) is read with these
 * ({@link withLegacyOracleFields}), so that replaying it gives the prices it gave.
 */
export const LEGACY_ORACLE_FIELDS: Pick<
  OracleConfig,
  | 'maxSpreadRay'
  | 'maxUnchangedSeconds'
  | 'delayIntervals'
  | 'delayIntervalSeconds'
  | 'delayGrowthMaxRay'
  | 'confidenceWideningRay'
> = {
  maxSpreadRay: null,
  maxUnchangedSeconds: 0,
  delayIntervals: 0,
  delayIntervalSeconds: DEFAULT_ORACLE_CONFIG.delayIntervalSeconds,
  delayGrowthMaxRay: DEFAULT_ORACLE_CONFIG.delayGrowthMaxRay,
  confidenceWideningRay: 0n,
};

/**
 * A stored oracle configuration with {@link LEGACY_ORACLE_FIELDS} for the fields it lacks.
 *
 * @example
 * withLegacyOracleFields({ quorum: 2, ... }).delayIntervals; // 0
 */
export function withLegacyOracleFields(stored: Record<string, unknown>): Record<string, unknown> {
  return { ...LEGACY_ORACLE_FIELDS, ...stored };
}

const FIELDS = [
  'quorum',
  'maxStalenessSeconds',
  'maxDeviation',
  'maxSpread',
  'maxUnchangedSeconds',
  'maxConfidence',
  'confidenceWidening',
  'maxStableGap',
  'stableRatePerSecond',
  'stableStepSecondsMax',
  'delayIntervals',
  'delayIntervalSeconds',
  'delayGrowthMax',
  'breakerMove',
  'breakerWindowSeconds',
  'breakerCooldownSeconds',
  'policy',
] as const;

/** Largest confidence widening: ten times the confidence. */
const CONFIDENCE_WIDENING_MAX = 10n * RAY;

/**
 * An oracle configuration from JSON; every field optional (defaults above). `maxSpread` may be
 * null (no agreement rule); `maxUnchangedSeconds` and `delayIntervals` may be 0 or null (off).
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
      : expectInteger(raw[name], `${field}.${name}`, min, 30 * DAY_SECONDS);
  // Off switches: null and 0 both mean off.
  const offOr = (name: string, read: () => number) => (raw[name] === null ? 0 : read());
  const config: OracleConfig = {
    quorum:
      raw.quorum === undefined
        ? d.quorum
        : expectInteger(raw.quorum, `${field}.quorum`, 1, ORACLE_SOURCES_MAX),
    maxStalenessSeconds: seconds('maxStalenessSeconds', d.maxStalenessSeconds, 1),
    maxDeviationRay: ratio('maxDeviation', d.maxDeviationRay),
    maxSpreadRay: raw.maxSpread === null ? null : ratio('maxSpread', d.maxSpreadRay ?? RAY),
    maxUnchangedSeconds: offOr('maxUnchangedSeconds', () =>
      seconds('maxUnchangedSeconds', d.maxUnchangedSeconds, 0),
    ),
    maxConfidenceRay: ratio('maxConfidence', d.maxConfidenceRay),
    confidenceWideningRay:
      raw.confidenceWidening === undefined
        ? d.confidenceWideningRay
        : parseDecimal(raw.confidenceWidening, RAY_DECIMALS, {
            field: `${field}.confidenceWidening`,
            max: CONFIDENCE_WIDENING_MAX,
          }),
    maxStableGapRay: ratio('maxStableGap', d.maxStableGapRay, 10n * RAY),
    stableRatePerSecondRay: ratio('stableRatePerSecond', d.stableRatePerSecondRay),
    stableStepSecondsMax: seconds('stableStepSecondsMax', d.stableStepSecondsMax, 1),
    delayIntervals: offOr('delayIntervals', () =>
      raw.delayIntervals === undefined
        ? d.delayIntervals
        : expectInteger(raw.delayIntervals, `${field}.delayIntervals`, 0, DELAY_INTERVALS_MAX),
    ),
    delayIntervalSeconds: seconds('delayIntervalSeconds', d.delayIntervalSeconds, 1),
    delayGrowthMaxRay: ratio('delayGrowthMax', d.delayGrowthMaxRay, 10n * RAY),
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
    'delayGrowthMaxRay',
    'breakerMoveRay',
  ] as const) {
    const value = config[name];
    if (typeof value !== 'bigint' || value <= 0n)
      fail(`${name.replace('Ray', '')} must be more than zero`, name);
  }
  const spread = config.maxSpreadRay;
  if (spread !== null && (typeof spread !== 'bigint' || spread <= 0n || spread > RAY)) {
    fail('maxSpread must be more than zero and at most 1, or null', 'maxSpreadRay');
  }
  const widening = config.confidenceWideningRay;
  if (typeof widening !== 'bigint' || widening < 0n || widening > CONFIDENCE_WIDENING_MAX) {
    fail('confidenceWidening must be 0 to 10', 'confidenceWideningRay');
  }
  for (const name of [
    'maxStalenessSeconds',
    'maxUnchangedSeconds',
    'stableStepSecondsMax',
    'breakerWindowSeconds',
    'breakerCooldownSeconds',
  ] as const) {
    const value = config[name];
    if (!Number.isSafeInteger(value) || value < 0) fail(`${name} must be whole seconds`, name);
  }
  const intervals = config.delayIntervals;
  if (!Number.isSafeInteger(intervals) || intervals < 0 || intervals > DELAY_INTERVALS_MAX) {
    fail(`delayIntervals must be 0 to ${DELAY_INTERVALS_MAX}`, 'delayIntervals');
  }
  const length = config.delayIntervalSeconds;
  if (!Number.isSafeInteger(length) || length < 1 || length > 30 * DAY_SECONDS) {
    fail('delayIntervalSeconds must be 1 second to 30 days', 'delayIntervalSeconds');
  }
}
