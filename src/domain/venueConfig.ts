/**
 * The venue's own rules for the engine as a whole, beside its liquidation rules: today, how far
 * ahead of the engine's time a command may be dated. Changed by `configure-venue`.
 */
import { FulcrumError } from '../base/errors.js';
import { DAY_SECONDS } from '../math/time.js';
import { expectInteger, expectObject, rejectUnknownFields } from './input.js';

/** The largest `timeJumpSecondsMax` a venue may set: ten years. */
export const TIME_JUMP_SECONDS_LIMIT = 3_650 * DAY_SECONDS;

export interface VenueConfig {
  /**
   * Farthest (seconds) a command's time may lie ahead of the engine's time: a command dated
   * further ahead is refused, since every later command would have to be dated after it. The
   * engine's first accepted command sets its time and is not bounded.
   */
  readonly timeJumpSecondsMax: number;
}

/**
 * A year and a day: more than any pause of a venue, or any gap a replay of history or a test of
 * a year's interest needs, and still a bound on the absurd (a command dated in the year 9999
 * would otherwise be accepted and refuse every later command for ever). A venue that wants a
 * tighter guard lowers it; one that paused longer raises it with `configure-venue` dated at the
 * engine's own time, which is always accepted.
 */
export const DEFAULT_VENUE_CONFIG: VenueConfig = {
  timeJumpSecondsMax: 366 * DAY_SECONDS,
};

const FIELDS = ['timeJumpSecondsMax'] as const;

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
  };
  validateVenueConfig(config, field);
  return config;
}

/** Checks a configuration, parsed or built in code. Throws `invalid_config`. */
export function validateVenueConfig(config: VenueConfig, field: string): void {
  const jump = config.timeJumpSecondsMax;
  if (!Number.isSafeInteger(jump) || jump < 1 || jump > TIME_JUMP_SECONDS_LIMIT) {
    throw new FulcrumError(
      'invalid_config',
      `timeJumpSecondsMax must be whole seconds from 1 to ${TIME_JUMP_SECONDS_LIMIT}`,
      `${field}.timeJumpSecondsMax`,
    );
  }
}
