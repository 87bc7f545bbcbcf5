/**
 * Historical price files as oracle quotes. Each file is one source of one asset: its name says
 * which (`binance-spot_ETHUSDT_1h.csv`: source `binance-spot`, asset `ETH`). Each bar becomes four
 * quotes through the bar: the open at its start, the low and the high in between (the low first
 * when the bar closed up, as a price that ends up has more likely dipped first), the close at
 * its end. Files of one asset are merged in time order, so that the oracle sees its sources as
 * they came.
 */
import { type Bar } from '../domain/bar.js';
import { formatDecimal } from '../math/decimal.js';
import { PRICE_DECIMALS } from '../math/fixed.js';
import { barSeconds } from '../math/time.js';

export interface SourceSeries {
  readonly asset: string;
  readonly source: string;
  readonly bars: readonly Bar[];
}

/** A quote command as JSON, as the engine takes it. */
export interface QuoteJson {
  readonly type: 'quote';
  readonly time: number;
  readonly asset: string;
  readonly source: string;
  readonly price: string;
}

const QUOTE_UNITS = ['USDT', 'BUSD', 'USDC', 'USD'];

/**
 * The asset and source a file name names: `<source>_<BASE><QUOTE>_<interval>...csv`.
 *
 * @example
 * describeFile('data/gemini_BTCUSD_1h.csv'); // { asset: 'BTC', source: 'gemini' }
 */
export function describeFile(path: string): { asset: string; source: string } {
  const name = path.split(/[\\/]/).at(-1) ?? path;
  const [source = name, pair = name] = name.replace(/\.csv$/i, '').split('_');
  const unit = QUOTE_UNITS.find((u) => pair.endsWith(u) && pair.length > u.length);
  return { asset: unit === undefined ? pair : pair.slice(0, -unit.length), source };
}

/** The four quotes of one bar, at times within it. */
function barQuotes(bar: Bar, seconds: number): [number, bigint][] {
  const third = Math.max(1, Math.floor(seconds / 3));
  const [first, second] = bar.close >= bar.open ? [bar.low, bar.high] : [bar.high, bar.low];
  return [
    [bar.time, bar.open],
    [bar.time + third, first],
    [bar.time + 2 * third, second],
    [bar.time + seconds - 1, bar.close],
  ];
}

/** Every quote of the given series, in time order (ties keep the series' order). */
export function replayQuotes(series: readonly SourceSeries[]): QuoteJson[] {
  const quotes: QuoteJson[] = [];
  for (const { asset, source, bars } of series) {
    const seconds = barSeconds(bars);
    for (const bar of bars) {
      for (const [time, price] of barQuotes(bar, seconds)) {
        quotes.push({
          type: 'quote',
          time,
          asset,
          source,
          price: formatDecimal(price, PRICE_DECIMALS),
        });
      }
    }
  }
  return quotes.sort((a, b) => a.time - b.time);
}
