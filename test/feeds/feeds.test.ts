import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, FulcrumError } from '../../src/index.js';
import { LiveFeed } from '../../src/feeds/live.js';
import { parseOhlcv } from '../../src/feeds/ohlcv.js';
import { describeFile, replayQuotes } from '../../src/feeds/replay.js';
import { replayReport } from '../../src/feeds/replayReport.js';
import { simulateMarket } from '../../src/feeds/simulated.js';

const DATA = join(import.meta.dirname, '..', '..', 'examples', 'data');
const HEADER = 'timestamp,open,high,low,close,volume';

describe('OHLCV files', () => {
  it('parse bars with their times in unix seconds', () => {
    const bars = parseOhlcv(
      `${HEADER}\n2020-03-12T00:00:00Z,194.61,195.55,192.22,193.31,43682.11\n`,
      'eth.csv',
    );
    expect(bars).toHaveLength(1);
    expect(bars[0]?.time).toBe(1_583_971_200);
    expect(bars[0]?.low).toBe(192_220_000_000_000_000_000n);
  });

  it.each([
    ['a wrong header', 'time,o,h,l,c,v\n', /first line must be/],
    ['a missing field', `${HEADER}\n2020-03-12T00:00:00Z,1,2,1,2\n`, /expected 6 fields/],
    ['a local timestamp', `${HEADER}\n2020-03-12 00:00:00,1,2,1,2,5\n`, /ISO-8601 UTC/],
    [
      'a price in exponent form',
      `${HEADER}\n2020-03-12T00:00:00Z,1e3,2,1,2,5\n`,
      /not a plain decimal/,
    ],
    [
      'a low above the open',
      `${HEADER}\n2020-03-12T00:00:00Z,1,2,1.5,2,5\n`,
      /low <= open, close <= high/,
    ],
    [
      'times that go back',
      `${HEADER}\n2020-03-12T01:00:00Z,1,2,1,2,5\n2020-03-12T00:00:00Z,1,2,1,2,5\n`,
      /must increase/,
    ],
    ['no bars', `${HEADER}\n`, /no bars/],
  ])('refuse %s, naming the line', (_name, text, message) => {
    expect(() => parseOhlcv(text, 'x.csv')).toThrow(FulcrumError);
    expect(() => parseOhlcv(text, 'x.csv')).toThrow(message);
  });

  it('every shipped file parses', () => {
    for (const file of [
      'binance-spot_ETHUSDT_1h.csv',
      'binance-usdm_ETHUSDT_1h.csv',
      'gemini_ETHUSD_1h.csv',
    ]) {
      expect(parseOhlcv(readFileSync(join(DATA, file), 'utf8'), file)).toHaveLength(360);
    }
  });
});

describe('replay', () => {
  it('names asset and source from the file name', () => {
    expect(describeFile('a/b/gemini_BTCUSD_1h.csv')).toEqual({ asset: 'BTC', source: 'gemini' });
    expect(describeFile('binance-usdm_ETHUSDT_1h.csv')).toEqual({
      asset: 'ETH',
      source: 'binance-usdm',
    });
  });

  it('quotes each bar four times: open, low, high (a bar that closed up), close, in time order', () => {
    const bars = parseOhlcv(
      `${HEADER}\n2020-03-12T00:00:00Z,10,13,9,12,1\n2020-03-12T01:00:00Z,12,12.5,8,8.5,1\n`,
      'x.csv',
    );
    const quotes = replayQuotes([{ asset: 'X', source: 's', bars }]);
    expect(quotes.map((q) => [q.time - 1_583_971_200, q.price])).toEqual([
      [0, '10'],
      [1200, '9'],
      [2400, '13'],
      [3599, '12'],
      [3600, '12'],
      [4800, '12.5'],
      [6000, '8'],
      [7199, '8.5'],
    ]);
  });

  it('on Black Thursday, the ETH perpetual wick to 323 is rejected and the breaker trips', () => {
    const series = [
      'binance-spot_ETHUSDT_1h.csv',
      'binance-usdm_ETHUSDT_1h.csv',
      'gemini_ETHUSD_1h.csv',
    ].map((file) => ({
      ...describeFile(file),
      bars: parseOhlcv(readFileSync(join(DATA, file), 'utf8'), file),
    }));
    const [eth] = replayReport(series);
    expect(eth?.quotes).toBe(3 * 360 * 4);
    expect(eth?.rejected['binance-usdm']).toBeGreaterThan(0);
    expect(eth?.breakerTrips.length).toBeGreaterThan(0);
    expect((eth?.grades.valid ?? 0) / (eth?.quotes ?? 1)).toBeGreaterThan(0.9);
    // the perpetual's 323.00 wick was quoted, and rejected: the oracle's highest price stayed at
    // the spot venues' highs (Binance 253.8, Gemini 253.72 in the window), its lowest near 90
    expect(replayQuotes(series).filter((q) => q.price === '323')).toHaveLength(1);
    expect(Number(eth?.highestPrice)).toBeLessThan(254);
    expect(Number(eth?.lowestPrice)).toBeGreaterThan(84.23);
  });
});

describe('replay: frozen sources', () => {
  /** Six hourly bars from 2020-03-12T00:00Z, each `bar(k)` = [open, high, low, close]. */
  function file(bar: (k: number) => [number, number, number, number]): string {
    const rows = Array.from({ length: 6 }, (_, k) => {
      const hour = String(k).padStart(2, '0');
      return `2020-03-12T${hour}:00:00Z,${bar(k).join(',')},1`;
    });
    return `${HEADER}\n${rows.join('\n')}\n`;
  }

  it('counts a source frozen once unchanged for two bars while the others moved', () => {
    // a never moves; b and c climb 0.1 a bar (0.1%), so they agree with a within 2%
    const series = [
      {
        source: 'a',
        bars: parseOhlcv(
          file(() => [100, 100, 100, 100]),
          'a.csv',
        ),
      },
      {
        source: 'b',
        bars: parseOhlcv(
          file((k) => [100 + k / 10, 100.1 + k / 10, 100 + k / 10, 100.1 + k / 10]),
          'b.csv',
        ),
      },
      {
        source: 'c',
        bars: parseOhlcv(
          file((k) => [100.01 + k / 10, 100.11 + k / 10, 100.01 + k / 10, 100.11 + k / 10]),
          'c.csv',
        ),
      },
    ].map((s) => ({ asset: 'X', ...s }));
    const [x] = replayReport(series);
    // a quote at 0, 1200, 2400 and 3599 s into each bar, three sources each time. a is frozen
    // once unchanged for more than two bars (7200 s): from 8400 s on, 3 times in bar 2 and
    // 4 in each of bars 3 to 5, 15 times, each seen by 3 aggregations
    expect(x?.frozen).toEqual({ a: 45, b: 0, c: 0 });
    // and every aggregation has a price but the first (a alone, below the quorum of two)
    expect(x?.grades).toMatchObject({ valid: 3 * 6 * 4 - 1, insufficientSources: 1 });
  });
});

describe('simulated market', () => {
  const market = {
    asset: 'ETH',
    sources: ['a', 'b', 'c'],
    startPrice: 2000,
    startTime: 0,
    steps: 20_000,
    stepSeconds: 60,
    volatility: 0.8,
    seed: 7,
  };

  it('gives the same quotes for the same seed, others for another', () => {
    expect(simulateMarket(market).quotes).toEqual(simulateMarket(market).quotes);
    expect(simulateMarket({ ...market, seed: 8 }).quotes).not.toEqual(
      simulateMarket(market).quotes,
    );
  });

  it('has the volatility it was given (log returns, within 5%)', () => {
    const { truth } = simulateMarket(market);
    const returns = truth.slice(1).map((p, i) => Math.log(p / (truth[i] ?? p)));
    const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
    const variance = returns.reduce((a, r) => a + (r - mean) ** 2, 0) / (returns.length - 1);
    const annualized = Math.sqrt((variance * 31_536_000) / 60);
    expect(Math.abs(annualized - 0.8) / 0.8).toBeLessThan(0.05);
  });

  it('jumps show up as large one-step moves', () => {
    const { truth } = simulateMarket({
      ...market,
      jumpsPerDay: 4,
      jumpMean: -0.1,
      jumpSpread: 0.02,
    });
    const big = truth.slice(1).filter((p, i) => Math.abs(Math.log(p / (truth[i] ?? p))) > 0.05);
    expect(big.length).toBeGreaterThan(20); // 20,000 minutes is about 14 days: about 55 jumps
  });

  it('its quotes drive an engine oracle to valid prices near the truth', () => {
    const engine = new Engine();
    const short = simulateMarket({ ...market, steps: 200, stepSeconds: 10, sourceNoise: 0.0005 });
    engine.applyJson({
      type: 'list-asset',
      time: 0,
      price: '2000',
      config: {
        symbol: 'ETH',
        decimals: 18,
        initialWeight: '0.8',
        maintenanceWeight: '0.85',
        oracle: {},
      },
    });
    let valid = 0;
    for (const quote of short.quotes) {
      const result = engine.applyJson(quote);
      if (
        result.ok &&
        result.events[0]?.type === 'price-aggregated' &&
        result.events[0].grade === 'valid'
      )
        valid++;
    }
    expect(valid / short.quotes.length).toBeGreaterThan(0.6);
    const price = Number(engine.pools()[0]?.price);
    expect(Math.abs(price / (short.truth.at(-1) ?? price) - 1)).toBeLessThan(0.002);
  });
});

describe('live feed', () => {
  it('stamps quotes with the clock, never going back, and clamps observation times', () => {
    const sent: Record<string, unknown>[] = [];
    let now = 100.7;
    const feed = new LiveFeed(
      (c) => sent.push(c),
      () => now,
    );
    feed.push({ asset: 'ETH', source: 'a', price: '2000' });
    now = 90; // the clock stepped back
    feed.push({ asset: 'ETH', source: 'b', price: '2001', confidence: '0.5', observedAt: 150 });
    expect(sent).toEqual([
      { type: 'quote', time: 100, asset: 'ETH', source: 'a', price: '2000' },
      {
        type: 'quote',
        time: 100,
        asset: 'ETH',
        source: 'b',
        price: '2001',
        confidence: '0.5',
        observedAt: 100,
      },
    ]);
  });

  it('feeds an engine', () => {
    const engine = new Engine();
    engine.applyJson({
      type: 'list-asset',
      time: 0,
      price: '2000',
      config: {
        symbol: 'ETH',
        decimals: 18,
        initialWeight: '0.8',
        maintenanceWeight: '0.85',
        oracle: {},
      },
    });
    const feed = new LiveFeed(
      (c) => engine.applyJson(c),
      () => 5,
    );
    expect(feed.push({ asset: 'ETH', source: 'a', price: '2010' }).ok).toBe(true);
    const second = feed.push({ asset: 'ETH', source: 'b', price: '2012' });
    expect(second.ok && second.events[0]).toMatchObject({
      type: 'price-aggregated',
      grade: 'valid',
    });
  });
});
