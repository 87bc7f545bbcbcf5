import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseOhlcv } from '../feeds/ohlcv.js';
import { type Bar } from '../domain/bar.js';
import {
  annualize,
  closeToCloseVolatility,
  ewmaVolatility,
  garmanKlassVolatility,
  logReturns,
  overHorizon,
  parkinsonVolatility,
  volatilityEstimates,
} from './volatility.js';
import { exampleBars } from '../../test/fixtures/priceFiles.js';

const HEADER = 'timestamp,open,high,low,close,volume';
const HOUR = 3600;
const START = 1_583_971_200; // 2020-03-12T00:00:00Z

/** Bars from rows of [seconds after START, open, high, low, close], through the real parser. */
function bars(rows: readonly (readonly [number, number, number, number, number])[]): Bar[] {
  const lines = rows.map(([t, o, h, l, c]) => {
    const stamp = new Date((START + t) * 1000).toISOString().replace('.000Z', 'Z');
    return `${stamp},${o},${h},${l},${c},1`;
  });
  return parseOhlcv([HEADER, ...lines].join('\n'), 'test.csv');
}

/** Hourly bars that open at the previous close and close at each of `closes`. */
function hourlyCloses(closes: readonly number[]): Bar[] {
  return bars(
    closes.map((c, i) => {
      const open = closes[i - 1] ?? c;
      return [i * HOUR, open, Math.max(open, c), Math.min(open, c), c] as const;
    }),
  );
}

/** Black Thursday, ETH on Binance spot, hourly, 5-20 March 2020. */
const eth = exampleBars('binance-spot_ETHUSDT_1h.csv');
const between = (from: string, to: string) =>
  eth.filter((b) => b.time >= Date.parse(from) / 1000 && b.time < Date.parse(to) / 1000);

describe('log returns and close-to-close volatility', () => {
  it('take ln(close / previous close) and scale a gap back to one bar', () => {
    // Closes 100, 110, 99: r1 = ln 1.1 = 0.0953102, r2 = ln 0.9 = -0.1053605.
    const series = hourlyCloses([100, 110, 99]);
    const returns = logReturns(series);
    expect(returns.map((r) => r.value)).toEqual([Math.log(1.1), Math.log(99 / 110)]);
    expect(returns.map((r) => r.seconds)).toEqual([HOUR, HOUR]);
    // sqrt((0.0090840 + 0.0111008) / 2) = 0.1004611
    expect(closeToCloseVolatility(series)).toBeCloseTo(0.1004611, 6);
    // The same closes with the third bar two hours late: r2² counts for half (3600 / 7200):
    // sqrt((0.0090840 + 0.0111008 / 2) / 2) = 0.0855408
    const gap = bars([
      [0, 100, 100, 100, 100],
      [HOUR, 100, 110, 100, 110],
      [3 * HOUR, 110, 110, 99, 99],
    ]);
    expect(closeToCloseVolatility(gap)).toBeCloseTo(0.0855408, 6);
  });

  it('needs two bars', () => {
    expect(() => closeToCloseVolatility(hourlyCloses([100]))).toThrow(
      expect.objectContaining({ code: 'invalid_field' }) as unknown as Error,
    );
    expect(() => ewmaVolatility(hourlyCloses([100]))).toThrow(/at least two bars/);
  });
});

describe('EWMA volatility', () => {
  it('follows the recursion from the equal-weighted seed (worked example)', () => {
    // Closes 100, 110, 99, half-life one bar so d = 0.5.
    // seed  = (0.0090840 + 0.0111008) / 2             = 0.0100924
    // after r1: 0.5 × 0.0100924 + 0.5 × 0.0090840     = 0.0095882
    // after r2: 0.5 × 0.0095882 + 0.5 × 0.0111008     = 0.0103445, σ = 0.1017081
    const series = hourlyCloses([100, 110, 99]);
    expect(ewmaVolatility(series, { halfLifeSeconds: HOUR })).toBeCloseTo(0.1017081, 6);
  });

  it('matches the closed form Σ weights × r² of a direct reference loop', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 2, maxLength: 60 }),
        fc.integer({ min: 600, max: 30 * 86_400 }),
        (cents, halfLife) => {
          const series = hourlyCloses(cents.map((c) => c / 100));
          const r = logReturns(series).map((x) => x.value);
          const lambda = 0.5 ** (HOUR / halfLife);
          // σ²ₙ = λⁿ σ²₀ + (1 − λ) Σₖ λ^(n−k) rₖ², σ²₀ = mean r²
          const seed = r.reduce((s, x) => s + x * x, 0) / r.length;
          let variance = lambda ** r.length * seed;
          r.forEach((x, k) => {
            variance += (1 - lambda) * lambda ** (r.length - 1 - k) * x * x;
          });
          const got = ewmaVolatility(series, { halfLifeSeconds: halfLife });
          expect(Math.abs(got - Math.sqrt(variance))).toBeLessThanOrEqual(
            1e-9 * Math.sqrt(variance) + 1e-15,
          );
        },
      ),
    );
  });

  it('refuses a half-life that is not positive', () => {
    expect(() => ewmaVolatility(hourlyCloses([1, 2]), { halfLifeSeconds: 0 })).toThrow(
      expect.objectContaining({
        code: 'invalid_config',
        field: 'halfLifeSeconds',
      }) as unknown as Error,
    );
  });
});

describe('range estimators', () => {
  // Two bars: H/L = 102/100 and 105/100.
  const series = bars([
    [0, 100, 102, 100, 101],
    [HOUR, 101, 105, 100, 104],
  ]);

  it('Parkinson: σ² = mean(ln(H/L)²) / (4 ln 2)', () => {
    // ln(1.02)² = 0.00039214, ln(1.05)² = 0.00238048, mean 0.00138631,
    // / 2.77258872 = 0.00050001, σ = 0.0223608
    expect(parkinsonVolatility(series)).toBeCloseTo(0.0223608, 6);
  });

  it('Garman-Klass: σ² = mean(½ ln(H/L)² − (2 ln 2 − 1) ln(C/O)²)', () => {
    // ln(101/100)² = 0.00009901, ln(104/101)² = 0.00085676, 2 ln 2 − 1 = 0.38629436:
    // (0.00019607 − 0.00003825 + 0.00119024 − 0.00033096) / 2 = 0.00050855, σ = 0.0225511
    expect(garmanKlassVolatility(series)).toBeCloseTo(0.0225511, 6);
  });

  it('Parkinson is zero for bars with no range, and needs a bar', () => {
    expect(parkinsonVolatility(bars([[0, 5, 5, 5, 5]]))).toBe(0);
    expect(() => parkinsonVolatility([])).toThrow(/no bars/);
  });
});

describe('annualization', () => {
  it('scales by the square root of time over a 365-day year', () => {
    expect(annualize(0.01, HOUR)).toBeCloseTo(0.9359487, 6); // 0.01 × sqrt(8760)
    expect(annualize(0.01, 86_400)).toBeCloseTo(0.1910497, 6); // 0.01 × sqrt(365)
    expect(overHorizon(annualize(0.01, HOUR), HOUR)).toBeCloseTo(0.01, 12);
  });
});

describe('volatilityEstimates on Black Thursday (ETH, Binance spot, hourly)', () => {
  const calm = volatilityEstimates(between('2020-03-05', '2020-03-11'));
  const crash = volatilityEstimates(between('2020-03-12', '2020-03-14'));

  it('reads about 114% a year on 5-10 March and over 600% on 12-13 March', () => {
    expect(calm.bars).toBe(144);
    expect(calm.barSeconds).toBe(HOUR);
    expect(calm.ewma.annual).toBeCloseTo(1.144, 3);
    expect(calm.parkinson.annual).toBeCloseTo(1.1339, 3);
    expect(calm.chosen).toEqual({ ...calm.ewma, method: 'ewma' });
    expect(crash.bars).toBe(48);
    expect(crash.parkinson.annual).toBeCloseTo(6.1728, 3);
    expect(crash.chosen.method).toBe('parkinson');
    expect(crash.chosen.annual / calm.chosen.annual).toBeGreaterThan(5);
  });

  it('chooses the larger of EWMA and Parkinson', () => {
    for (const e of [calm, crash, volatilityEstimates(eth)]) {
      expect(e.chosen.perBar).toBe(Math.max(e.ewma.perBar, e.parkinson.perBar));
      expect(e.chosen.annual).toBeCloseTo(annualize(e.chosen.perBar, HOUR), 12);
    }
  });
});
