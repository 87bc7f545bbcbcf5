/**
 * The stored form of a typed command: JSON with every bigint written as a decimal integer string
 * in its own unit (base units for amounts, PRICE_SCALE for prices, WEIGHT_SCALE and RAY for
 * listing parameters). Unlike the JSON that people write (whole units, which need the asset's
 * decimals to read), it decodes without the state, exactly, and fast: journals and replays use it.
 */
import { FulcrumError } from '../domain/errors.js';
import type { Command } from './commands.js';

/** The fields, at any depth, whose values are bigints in a stored command. */
const BIGINT_FIELDS = new Set([
  'amount',
  'price',
  'stablePrice',
  'initial',
  'liquidationEnd',
  'maintenance',
  'reserveFactor',
  'supplyCap',
  'borrowCap',
  'baseRateRay',
  'slope1Ray',
  'slope2Ray',
  'optimalUtilizationRay',
]);

const INTEGER = /^-?[0-9]{1,80}$/;

/**
 * A typed command as stored JSON.
 *
 * @example
 * encodeCommand({ type: 'accrue', time: 5, asset: 'ETH' }); // '{"type":"accrue","time":5,"asset":"ETH"}'
 */
export function encodeCommand(command: Command): string {
  return JSON.stringify(command, (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
}

/**
 * A stored command back as a typed command. Only the shape of numbers is restored here; the
 * engine checks everything else when the command is applied, as it does for any typed command.
 */
export function decodeStoredCommand(text: string): Command {
  try {
    return JSON.parse(text, (key, value: unknown) =>
      BIGINT_FIELDS.has(key) && typeof value === 'string' && INTEGER.test(value)
        ? BigInt(value)
        : value,
    ) as Command;
  } catch {
    throw new FulcrumError('invalid_json', 'a stored command is not valid JSON');
  }
}
