/**
 * The venue's own rules for the engine as a whole, beside its liquidation rules: how far ahead
 * of the engine's time a command may be dated, and the rules of the one margin account's
 * derivatives (the settlement asset, the band a fill's price must keep to the mark, the cap on
 * paper profit backing new risk). Changed by `configure-venue`.
 */
import { FulcrumError } from '../base/errors.js';
import { parseDecimal } from '../math/decimal.js';
import { WEIGHT_DECIMALS, WEIGHT_SCALE } from '../math/fixed.js';
import { DAY_SECONDS } from '../math/time.js';
import { SYMBOL_PATTERN } from './asset.js';
import { expectInteger, expectObject, expectString, rejectUnknownFields } from './input.js';

/** The largest `timeJumpSecondsMax` a venue may set: ten years. */
export const TIME_JUMP_SECONDS_LIMIT = 3_650 * DAY_SECONDS;

export interface VenueConfig {
  /**
   * Farthest (seconds) a command's time may lie ahead of the engine's time: a command dated
   * further ahead is refused, since every later command would have to be dated after it. The
   * engine's first accepted command sets its time and is not bounded.
   */
  readonly timeJumpSecondsMax: number;
  /** The listed asset that derivatives' profit and loss settle into. */
  readonly settlementAsset: string;
  /** A fill's price may differ from the mark by at most this share of it (WEIGHT_SCALE). */
  readonly tradeBand: bigint;
  /**
   * Positive derivatives profit counted toward initial margin is capped at this share of the
   * sub-account's own initial weighted collateral (WEIGHT_SCALE): paper profit alone backs no
   * new position.
   */
  readonly profitCap: bigint;
}

/**
 * A year and a day: more than any pause of a venue, or any gap a replay of history or a test of
 * a year's interest needs, and still a bound on the absurd (a command dated in the year 9999
 * would otherwise be accepted and refuse every later command for ever). A venue that wants a
 * tighter guard lowers it; one that paused longer raises it with `configure-venue` dated at the
 * engine's own time, which is always accepted. Settlement in USDC; fills within 10% of the mark
 * (Hyperliquid's and Drift's oracle bands are of that order); profit capped at the collateral.
 */
export const DEFAULT_VENUE_CONFIG: VenueConfig = {
  timeJumpSecondsMax: 366 * DAY_SECONDS,
  settlementAsset: 'USDC',
  tradeBand: WEIGHT_SCALE / 10n,
  profitCap: WEIGHT_SCALE,
};

const FIELDS = ['timeJumpSecondsMax', 'settlementAsset', 'tradeBand', 'profitCap'] as const;

/**
 * Venue rules from JSON; fields not given keep their value in `base` (the defaults unless said).
 *
 * @example
 * parseVenueConfig({ timeJumpSecondsMax: 2_592_000 }, 'config'); // thirty days
 */
export function parseVenueConfig(
  input: unknown,
  field: string,
  base: VenueConfig = DEFAULT_VENUE_CONFIG,
): VenueConfig {
  const raw = expectObject(input, field);
  rejectUnknownFields(raw, FIELDS, field);
  const ratio = (name: 'tradeBand' | 'profitCap', max: bigint) =>
    raw[name] === undefined
      ? base[name]
      : parseDecimal(raw[name], WEIGHT_DECIMALS, { field: `${field}.${name}`, max });
  const config: VenueConfig = {
    timeJumpSecondsMax:
      raw.timeJumpSecondsMax === undefined
        ? base.timeJumpSecondsMax
        : expectInteger(
            raw.timeJumpSecondsMax,
            `${field}.timeJumpSecondsMax`,
            1,
            TIME_JUMP_SECONDS_LIMIT,
          ),
    settlementAsset:
      raw.settlementAsset === undefined
        ? base.settlementAsset
        : expectString(raw.settlementAsset, `${field}.settlementAsset`),
    tradeBand: ratio('tradeBand', WEIGHT_SCALE),
    profitCap: ratio('profitCap', 10n * WEIGHT_SCALE),
  };
  validateVenueConfig(config, field);
  return config;
}

/** Checks a configuration, parsed or built in code. Throws `invalid_config`. */
export function validateVenueConfig(config: VenueConfig, field: string): void {
  const fail = (message: string, name: string): never => {
    throw new FulcrumError('invalid_config', message, `${field}.${name}`);
  };
  const jump = config.timeJumpSecondsMax;
  if (!Number.isSafeInteger(jump) || jump < 1 || jump > TIME_JUMP_SECONDS_LIMIT) {
    fail(
      `timeJumpSecondsMax must be whole seconds from 1 to ${TIME_JUMP_SECONDS_LIMIT}`,
      'timeJumpSecondsMax',
    );
  }
  if (typeof config.settlementAsset !== 'string' || !SYMBOL_PATTERN.test(config.settlementAsset)) {
    fail('settlementAsset must be an asset symbol', 'settlementAsset');
  }
  if (
    typeof config.tradeBand !== 'bigint' ||
    config.tradeBand <= 0n ||
    config.tradeBand > WEIGHT_SCALE
  ) {
    fail('tradeBand must be above 0 and at most 1', 'tradeBand');
  }
  if (
    typeof config.profitCap !== 'bigint' ||
    config.profitCap < 0n ||
    config.profitCap > 10n * WEIGHT_SCALE
  ) {
    fail('profitCap must be from 0 to 10', 'profitCap');
  }
}
