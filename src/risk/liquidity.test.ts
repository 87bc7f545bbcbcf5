import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseOhlcv } from '../feeds/ohlcv.js';
import { PRICE_SCALE } from '../math/fixed.js';
import {
  type BookLevel,
  dailyStats,
  depthCurve,
  fitLinearDepth,
  linearDepthImpact,
  ORDER_BOOK_HEADER,
  parseOrderBook,
  squareRootImpact,
} from './liquidity.js';
import { exampleBars } from '../../test/fixtures/priceFiles.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BOOK_FILE = 'binance-usdm_BTCUSDT_depth-snapshot-bids_2022-11-01T23-49-39Z.csv';
const STAMP = '2022-11-01T23:49:39.146Z,1667346579146';

const level = (price: number, quantity: number): BookLevel => ({
  price: BigInt(price) * PRICE_SCALE,
  quantity,
});

describe('parseOrderBook', () => {
  it('reads the shipped Binance snapshot: 100 bids from 20,377.0 to 20,365.9, 176.96 BTC', () => {
    const book = parseOrderBook(
      readFileSync(join(ROOT, 'examples', 'data', 'orderbook', BOOK_FILE), 'utf8'),
      BOOK_FILE,
    );
    expect(book.time).toBe(1_667_346_579.146);
    expect(book.asks).toEqual([]);
    expect(book.bids).toHaveLength(100);
    expect(book.bids[0]).toEqual({ price: 20_377n * PRICE_SCALE, quantity: 1.77 });
    expect(book.bids.at(-1)?.price).toBe(203_659n * (PRICE_SCALE / 10n));
    expect(book.bids.reduce((s, l) => s + l.quantity, 0)).toBeCloseTo(176.96, 9);
  });

  it('reads both sides', () => {
    const book = parseOrderBook(
      [
        ORDER_BOOK_HEADER,
        `${STAMP},ask,1,101,2`,
        `${STAMP},bid,1,100,1`,
        `${STAMP},bid,2,99.5,3`,
        `${STAMP},ask,2,102,4`,
      ].join('\n'),
      'book.csv',
    );
    expect(book.bids.map((l) => l.quantity)).toEqual([1, 3]);
    expect(book.asks.map((l) => l.quantity)).toEqual([2, 4]);
  });

  it.each([
    ['a wrong header', 'timestamp,side,price,qty\n', 'invalid_field', 'book.csv:1'],
    ['no levels', `${ORDER_BOOK_HEADER}\n`, 'invalid_field', 'book.csv'],
    ['a missing field', `${STAMP},bid,1,100`, 'invalid_field', 'book.csv:2'],
    [
      'a local timestamp',
      '2022-11-01 23:49:39,1667346579000,bid,1,100,1',
      'invalid_field',
      'book.csv:2',
    ],
    [
      'milliseconds that disagree',
      '2022-11-01T23:49:39.146Z,1667346579000,bid,1,100,1',
      'invalid_field',
      'book.csv:2',
    ],
    ['a side named buy', `${STAMP},buy,1,100,1`, 'invalid_field', 'book.csv:2'],
    ['a level that does not start at 1', `${STAMP},bid,2,100,1`, 'invalid_field', 'book.csv:2'],
    ['a price in exponent form', `${STAMP},bid,1,1e2,1`, 'invalid_number', 'book.csv:2 price'],
    ['a zero price', `${STAMP},bid,1,0,1`, 'invalid_number', 'book.csv:2 price'],
    ['a zero quantity', `${STAMP},bid,1,100,0`, 'invalid_number', 'book.csv:2 qty'],
    ['a negative quantity', `${STAMP},bid,1,100,-1`, 'invalid_number', 'book.csv:2 qty'],
    [
      'a quantity that is not a number',
      `${STAMP},bid,1,100,abc`,
      'invalid_number',
      'book.csv:2 qty',
    ],
    [
      'bids that rise',
      `${STAMP},bid,1,100,1\n${STAMP},bid,2,100.5,1`,
      'invalid_field',
      'book.csv:3',
    ],
    ['asks that fall', `${STAMP},ask,1,100,1\n${STAMP},ask,2,99,1`, 'invalid_field', 'book.csv:3'],
    [
      'two snapshots',
      `${STAMP},bid,1,100,1\n2022-11-01T23:49:40.146Z,1667346580146,bid,2,99,1`,
      'invalid_field',
      'book.csv:3',
    ],
    ['a crossed book', `${STAMP},bid,1,100,1\n${STAMP},ask,1,100,1`, 'invalid_field', 'book.csv'],
  ])('refuses %s', (_, body, code, field) => {
    const text = body.startsWith('timestamp') ? body : `${ORDER_BOOK_HEADER}\n${body}\n`;
    expect(() => parseOrderBook(text, 'book.csv')).toThrow(
      expect.objectContaining({ code, field }) as unknown as Error,
    );
  });
});

describe('depth curve and linear fit', () => {
  // Bids 100 × 1, 99 × 2, 98 × 3:
  //   distances 0, 0.01, 0.02; cumulative quote 100, 100 + 198 = 298, 298 + 294 = 592.
  const bids = [level(100, 1), level(99, 2), level(98, 3)];

  it('accumulates quote notional away from the best price', () => {
    const curve = depthCurve(bids);
    expect(curve.map((p) => p.distance)).toEqual([0, 0.01, 0.02]);
    expect(curve.map((p) => p.cumulativeQuote)).toEqual([100, 298, 592]);
    expect(depthCurve([])).toEqual([]);
  });

  it('fits a line through the origin by least squares', () => {
    // k = (0.01 × 298 + 0.02 × 592) / (0.01² + 0.02²) = 14.82 / 0.0005 = 29,640 per unit,
    // 296.4 per 1%. Residuals 100, 1.6, −0.8: R² = 1 − 10,003.2 / 449,268 = 0.9777344.
    const fit = fitLinearDepth(bids);
    expect(fit.quotePerUnit).toBeCloseTo(29_640, 6);
    expect(fit.quotePerPercent).toBeCloseTo(296.4, 8);
    expect(fit.maxDistance).toBe(0.02);
    expect(fit.totalQuote).toBe(592);
    expect(fit.rSquared).toBeCloseTo(0.9777344, 7);
    // Selling 592 down this line moves the price 592 / 29,640 = 1.997%.
    expect(linearDepthImpact(592, fit)).toBeCloseTo(0.019973, 6);
  });

  it('needs two prices', () => {
    expect(() => fitLinearDepth([level(100, 1)])).toThrow(/at least two price levels/);
  });

  it('gives about $59.7M per 1% on the shipped snapshot, from data that stop at 0.054%', () => {
    const book = parseOrderBook(
      readFileSync(join(ROOT, 'examples', 'data', 'orderbook', BOOK_FILE), 'utf8'),
      BOOK_FILE,
    );
    const fit = fitLinearDepth(book.bids);
    expect(fit.totalQuote).toBeCloseTo(3_604_824.96, 2);
    expect(fit.maxDistance).toBeCloseTo(0.000544732, 9); // (20,377 − 20,365.9) / 20,377
    expect(fit.quotePerPercent / 1e6).toBeCloseTo(59.72, 2);
    expect(fit.rSquared).toBeGreaterThan(0.98);
  });
});

describe('square-root impact', () => {
  it('is Y σ_daily sqrt(Q / V)', () => {
    // $10M against $400M a day at 4% a day: 0.04 × sqrt(0.025) = 0.0063246
    expect(
      squareRootImpact({ notional: 1e7, dailyVolumeQuote: 4e8, dailyVolatility: 0.04 }),
    ).toBeCloseTo(0.0063246, 7);
    expect(
      squareRootImpact({
        notional: 1e7,
        dailyVolumeQuote: 4e8,
        dailyVolatility: 0.04,
        coefficient: 0.5,
      }),
    ).toBeCloseTo(0.0031623, 7);
    expect(squareRootImpact({ notional: 0, dailyVolumeQuote: 0, dailyVolatility: 0.04 })).toBe(0);
    expect(squareRootImpact({ notional: 1, dailyVolumeQuote: 0, dailyVolatility: 0.04 })).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it('grows with size, doubling for four times the notional', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 1e9, noNaN: true }),
        fc.double({ min: 1e3, max: 1e11, noNaN: true }),
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        (notional, dailyVolumeQuote, dailyVolatility) => {
          const one = squareRootImpact({ notional, dailyVolumeQuote, dailyVolatility });
          const four = squareRootImpact({
            notional: 4 * notional,
            dailyVolumeQuote,
            dailyVolatility,
          });
          expect(four / one).toBeCloseTo(2, 9);
        },
      ),
    );
  });
});

describe('dailyStats', () => {
  it('sums volume × close over the days covered', () => {
    // 48 hourly bars; the 24 that close at 100 trade 10 units each, the others none:
    // 24 × 10 × 100 = $24,000 over 2 days = $12,000 a day.
    const rows = Array.from({ length: 48 }, (_, i) => {
      const stamp = new Date((1_583_971_200 + i * 3600) * 1000).toISOString().replace('.000Z', 'Z');
      const close = i % 2 === 0 ? 100 : 101;
      return `${stamp},${close},101,100,${close},${close === 100 ? 10 : 0}`;
    });
    const stats = dailyStats(
      parseOhlcv(['timestamp,open,high,low,close,volume', ...rows].join('\n'), 'x.csv'),
    );
    expect(stats.days).toBe(2);
    expect(stats.totalVolumeQuote).toBeCloseTo(24 * 10 * 100, 6);
    expect(stats.averageDailyVolumeQuote).toBeCloseTo(12_000, 6);
    expect(stats.dailyVolatility).toBeCloseTo(stats.volatility.chosen.annual / Math.sqrt(365), 12);
  });

  it('reads about $210M a day of ETH on Binance spot on 5-10 March 2020', () => {
    const eth = exampleBars('binance-spot_ETHUSDT_1h.csv');
    const calm = eth.filter((b) => b.time < Date.parse('2020-03-11') / 1000);
    const stats = dailyStats(calm);
    expect(stats.days).toBe(6);
    expect(stats.averageDailyVolumeQuote / 1e6).toBeCloseTo(209.5, 1);
    expect(stats.dailyVolatility).toBeCloseTo(0.0599, 4);
  });
});
