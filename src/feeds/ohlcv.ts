/**
 * OHLCV price files: the CSV format of historical market data that risk teams replay.
 *
 * ```
 * timestamp,open,high,low,close,volume
 * 2020-03-12T00:00:00Z,194.61,195.55,192.22,193.31,43682.11
 * ```
 *
 * `timestamp` is ISO-8601 UTC and the bar's open time; prices are plain decimals in the quote
 * unit; volume is in the base asset. Parsing is strict: the header, every number (prices at
 * most {@link PRICE_MAX}), times that name a real instant (`2021-02-30` and `T24:00:00Z` are
 * refused, not rolled over), strictly increasing times and `low <= open, close <= high` on every
 * bar. Every error names the file and the line (`eth.csv:12`).
 */
import { FulcrumError } from '../base/errors.js';
import type { Bar } from '../domain/bar.js';
import { PRICE_MAX } from '../domain/price.js';
import { fieldName } from '../domain/quote.js';
import { parseDecimal } from '../math/decimal.js';
import { PRICE_DECIMALS } from '../math/fixed.js';
import { isoUtcMillis } from '../math/time.js';

export const OHLCV_HEADER = 'timestamp,open,high,low,close,volume';

/** Longest file accepted, in bars: ten years of minutes. */
export const BARS_MAX = 5_300_000;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * Parses an OHLCV file. `name` is used in error messages (`file.csv:12`).
 *
 * @example
 * parseOhlcv('timestamp,open,high,low,close,volume\n2020-03-12T00:00:00Z,1,2,1,2,5\n', 'eth.csv');
 */
export function parseOhlcv(text: string, fileName: string): Bar[] {
  // The file's name as messages show it: cut and escaped when long or odd, one line always.
  const name = fieldName(fileName);
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== OHLCV_HEADER) {
    throw new FulcrumError(
      'invalid_field',
      `${name}:1: the first line must be "${OHLCV_HEADER}"`,
      `${name}:1`,
    );
  }
  const bars: Bar[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]?.trim() ?? '';
    if (line === '') continue;
    const where = `${name}:${i + 1}`;
    const cells = line.split(',');
    if (cells.length !== 6) {
      throw new FulcrumError(
        'invalid_field',
        `${where}: expected 6 fields, found ${cells.length}`,
        where,
      );
    }
    const [stamp = '', ...numbers] = cells;
    const ms = ISO_UTC.test(stamp) ? isoUtcMillis(stamp) : undefined;
    if (ms === undefined) {
      throw new FulcrumError(
        'invalid_field',
        `${where}: timestamp must be a real ISO-8601 UTC time like 2020-03-12T00:00:00Z`,
        `${where} timestamp`,
      );
    }
    const [open, high, low, close] = numbers.slice(0, 4).map((n, k) =>
      parseDecimal(n, PRICE_DECIMALS, {
        field: `${where} ${['open', 'high', 'low', 'close'][k]}`,
        max: PRICE_MAX,
      }),
    ) as [bigint, bigint, bigint, bigint];
    const volume = parseDecimal(numbers[4], PRICE_DECIMALS, { field: `${where} volume` });
    const bar = { time: ms / 1000, open, high, low, close, volume: Number(volume) / 1e18 };
    const lowest = open < close ? open : close;
    const highest = open > close ? open : close;
    if (low > lowest || highest > high || low <= 0n) {
      throw new FulcrumError(
        'invalid_number',
        `${where}: a bar needs 0 < low <= open, close <= high`,
        where,
      );
    }
    const previous = bars.at(-1);
    if (previous !== undefined && bar.time <= previous.time) {
      throw new FulcrumError('invalid_field', `${where}: timestamps must increase`, where);
    }
    if (bars.length >= BARS_MAX) {
      throw new FulcrumError('limit_exceeded', `${where}: more than ${BARS_MAX} bars`, where);
    }
    bars.push(bar);
  }
  if (bars.length === 0) throw new FulcrumError('invalid_field', `${name}: no bars`, name);
  return bars;
}
