/**
 * `fulcrum calibrate`, called as a function on the shipped price files and order book.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calibrate, type CalibrateOptions } from '../src/cli/calibrate.js';
import { CliError, EXIT } from '../src/cli/io.js';
import { CALIBRATION_BARS_MIN } from '../src/risk/volatility.js';

const root = join(import.meta.dirname, '..');
const ETH = join(root, 'examples', 'data', 'binance-spot_ETHUSDT_1h.csv');
const BTC_2020 = join(root, 'examples', 'data', 'binance-spot_BTCUSDT_1h.csv');
const GEMINI_ETH = join(root, 'examples', 'data', 'gemini_ETHUSD_1h.csv');
const BTC_FTX = join(root, 'examples', 'data', 'ftx', 'binance-spot_BTCUSDT_1h.csv');
const BOOK = join(
  root,
  'examples',
  'data',
  'orderbook',
  'binance-usdm_BTCUSDT_depth-snapshot-bids_2022-11-01T23-49-39Z.csv',
);

interface TierJson {
  confidence: number;
  z: number;
  horizonSeconds: number;
  volatilityTerm: number;
  liquidityTerm: number;
  haircut: number;
}
interface CalibrationJson {
  asset: string;
  bars: number;
  from: string;
  to: string;
  volatilityAnnual: { ewma: number; parkinson: number; chosen: number; chosenMethod: string };
  volatilityDaily: number;
  dailyVolumeQuote: number;
  maintenance: TierJson;
  initial: TierJson;
  listing: Record<string, string>;
  adjustments: string[];
  orderBook?: { quotePerPercent: number; linearImpact: number; squareRootImpact: number };
}

function json(paths: string[], options: Omit<CalibrateOptions, 'json'> = {}): CalibrationJson[] {
  return calibrate(paths, { json: true, ...options })
    .split('\n')
    .map((line) => JSON.parse(line) as CalibrationJson);
}

function one(paths: string[], options: Omit<CalibrateOptions, 'json'> = {}): CalibrationJson {
  const [first] = json(paths, options);
  if (first === undefined) throw new Error('no output');
  return first;
}

describe('fulcrum calibrate on Black Thursday', () => {
  it('prints the report and the listing line for the calm days (5-10 March 2020)', () => {
    const text = calibrate([ETH], { json: false, to: '2020-03-11' });
    expect(text).toContain('144 bars of 1h, 2020-03-05T00:00Z to 2020-03-11T00:00Z (6 days)');
    expect(text).toMatch(/EWMA \(half-life 1d\) +1\.222% +114\.4%/);
    expect(text).toMatch(/chosen \(EWMA\) +1\.222% +114\.4%/);
    expect(text).toContain('daily: σ 5.99%, volume 209,509,965 quote');
    // 2.3263 × 114.4% × sqrt(4h / year) = 5.69%, plus 0.41% for $1M: 6.10% → 0.935
    expect(text).toMatch(/maintenance +99\.0% +4h +2\.3263 +5\.69% +0\.41% +6\.10% +0\.935/);
    expect(text).toMatch(/initial +99\.9% +1d +3\.0902 +18\.50% +0\.41% +18\.92% +0\.81/);
    expect(text.trimEnd().split('\n').at(-1)).toBe(
      'ETH  "initialWeight":"0.81","liquidationEndWeight":"0.87","maintenanceWeight":"0.935","liquidationPenalty":"0.05"',
    );
  });

  it('proposes a lower maintenance weight from the crash days (12-13 March)', () => {
    const calm = one([ETH], { to: '2020-03-11' });
    const crash = one([ETH], { from: '2020-03-12', to: '2020-03-14' });
    expect(crash.bars).toBe(48);
    expect([crash.from, crash.to]).toEqual(['2020-03-12T00:00Z', '2020-03-14T00:00Z']);
    expect(crash.volatilityAnnual.chosenMethod).toBe('parkinson');
    expect(crash.volatilityAnnual.chosen).toBeCloseTo(6.1728, 3);
    expect(crash.listing).toEqual({
      initialWeight: '0',
      liquidationEndWeight: '0.335',
      maintenanceWeight: '0.675',
      liquidationPenalty: '0.05',
    });
    expect(Number(calm.listing.maintenanceWeight)).toBeGreaterThan(
      Number(crash.listing.maintenanceWeight),
    );
  });

  it('reads every file as its own asset', () => {
    const [eth, btc] = json([ETH, BTC_2020], { to: '2020-03-11' });
    expect([eth?.asset, btc?.asset]).toEqual(['ETH', 'BTC']);
    // BTC's 82.7% (EWMA) makes its maintenance haircut 4.29%: 0.955, capped at 0.95.
    expect(btc?.volatilityAnnual.chosen).toBeCloseTo(0.8273, 4);
    expect(btc?.listing.maintenanceWeight).toBe('0.95');
    expect(btc?.adjustments).toEqual(['maintenance 0.955 capped at the largest weight, 0.95']);
    expect(btc?.listing.initialWeight).toBe('0.86');
  });
});

describe('fulcrum calibrate options', () => {
  const calm = { to: '2020-03-11' };

  it('--confidence and --horizon set maintenance, and initial after a comma', () => {
    const base = one([ETH], calm);
    const strict = one([ETH], { ...calm, confidence: '0.999', horizon: '1h' });
    // 3.0902 × 1.1440 × sqrt(3600 / 31,536,000) = 0.037773
    expect(strict.maintenance.z).toBeCloseTo(3.090232, 6);
    expect(strict.maintenance.horizonSeconds).toBe(3600);
    expect(strict.maintenance.volatilityTerm).toBeCloseTo(0.037773, 5);
    expect(strict.initial).toEqual(base.initial);
    const both = one([ETH], { ...calm, confidence: '0.99,0.995', horizon: '2h,86400' });
    expect(both.initial.confidence).toBe(0.995);
    expect(both.initial.horizonSeconds).toBe(86_400);
    expect(both.maintenance.horizonSeconds).toBe(7200);
  });

  it('--size grows the liquidity term by the square root', () => {
    const none = one([ETH], { ...calm, size: '0' });
    const million = one([ETH], calm);
    const hundred = one([ETH], { ...calm, size: '100000000' });
    expect(none.maintenance.liquidityTerm).toBe(0);
    // 0.059881 × sqrt(1,000,000 / 209,509,965) = 0.004137; 100 times the size, 10 times that.
    expect(million.maintenance.liquidityTerm).toBeCloseTo(0.004137, 6);
    expect(hundred.maintenance.liquidityTerm).toBeCloseTo(0.04137, 5);
    expect(Number(hundred.listing.maintenanceWeight)).toBeLessThan(
      Number(million.listing.maintenanceWeight),
    );
  });

  it('--penalty lowers maintenance to pass the listing rule', () => {
    const btc = one([BTC_2020], { ...calm, penalty: '0.1' });
    expect(btc.listing.maintenanceWeight).toBe('0.905'); // 0.905 × 1.1 < 1 <= 0.91 × 1.1
    expect(btc.listing.liquidationPenalty).toBe('0.1');
    expect(btc.adjustments).toContain(
      'maintenance lowered from 0.95 to 0.905 so that maintenance × (1 + 0.1) < 1',
    );
  });

  it('--order-book adds the fitted depth and both impacts', () => {
    const btc = one([BTC_FTX], { to: '2022-11-06', orderBook: BOOK });
    // 100 bids from 20,377 to 20,365.9: $3.6M within 0.0545%, $59.72M per 1% on a straight line.
    expect((btc.orderBook?.quotePerPercent ?? 0) / 1e6).toBeCloseTo(59.72, 2);
    expect(btc.orderBook?.linearImpact).toBeCloseTo(1e6 / 5_972_344_067.5, 7); // 0.0167%
    expect(btc.orderBook?.squareRootImpact).toBeCloseTo(btc.maintenance.liquidityTerm, 6);
    const text = calibrate([BTC_FTX], { json: false, to: '2022-11-06', orderBook: BOOK });
    expect(text).toContain('59,723,441 quote per 1% (R² 0.989)');
    expect(text).toContain('extrapolates 18.4 times beyond the levels in the file');
    // With two files, the book goes to the one of its asset.
    const [eth, btc2020] = json([ETH, BTC_2020], { ...calm, orderBook: BOOK });
    expect(eth?.orderBook).toBeUndefined();
    expect(btc2020?.orderBook).toBeDefined();
  });

  it.each([
    [[ETH], { confidence: 'high' }, /--confidence must be a plain decimal/],
    [[ETH], { confidence: '1' }, /between 0.5 and 1/],
    [[ETH], { confidence: '0.5' }, /between 0.5 and 1/],
    [[ETH], { confidence: '0.3' }, /between 0.5 and 1/],
    [[ETH], { confidence: '-0.99' }, /must not be negative/],
    [[ETH], { confidence: '0.99,0.999,0.9999' }, /one value or two/],
    [[ETH], { horizon: '0' }, /--horizon must be a positive duration/],
    [[ETH], { horizon: '4 hours' }, /--horizon must be a positive duration/],
    [[ETH], { size: '-5' }, /--size must not be negative/],
    [[ETH], { size: '1e6' }, /--size must be a plain decimal/],
    [[ETH], { penalty: '1' }, /--penalty must be at least 0 and below 1/],
    [[ETH], { from: 'March 2020' }, /--from must be an ISO date/],
    [[ETH], { from: '2020-03-12', to: '2020-03-11' }, /--from must be before --to/],
    [[ETH, GEMINI_ETH], { orderBook: BOOK }, /book of "BTC", but no price file of it/],
    [[], {}, /usage: fulcrum calibrate/],
  ] as [string[], Omit<CalibrateOptions, 'json'>, RegExp][])(
    'refuses %j with %j',
    (paths, options, message) => {
      const attempt = () => calibrate(paths, { json: false, ...options });
      expect(attempt).toThrow(CliError);
      expect(attempt).toThrow(message);
      expect(attempt).toThrow(
        expect.objectContaining({ exitCode: EXIT.usage }) as unknown as Error,
      );
    },
  );

  it('refuses a window without two bars, and a malformed order book with a typed error', () => {
    expect(() => calibrate([ETH], { json: false, from: '2021-01-01' })).toThrow(
      expect.objectContaining({ name: 'FulcrumError', code: 'invalid_field' }) as unknown as Error,
    );
    const dir = mkdtempSync(join(tmpdir(), 'fulcrum-calibrate-'));
    try {
      const bad = join(dir, 'binance-usdm_BTCUSDT_depth.csv');
      writeFileSync(
        bad,
        'timestamp,timestamp_ms,side,level,price,qty\n2022-11-01T23:49:39.146Z,1667346579146,bid,1,20377,-1\n',
      );
      expect(() => calibrate([BTC_FTX], { json: false, orderBook: bad })).toThrow(
        expect.objectContaining({
          name: 'FulcrumError',
          code: 'invalid_number',
          field: `${bad}:2 qty`,
        }) as unknown as Error,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fulcrum calibrate: a sample large enough to measure', () => {
  /** A file of `count` hourly bars at one price: no volatility at all. */
  function flatFile(dir: string, count: number): string {
    const path = join(dir, 'flat_ETHUSDT_1h.csv');
    const lines = Array.from({ length: count }, (_, i) => {
      const time = new Date(Date.UTC(2020, 2, 1, i)).toISOString().replace('.000Z', 'Z');
      return `${time},100,100,100,100,10`;
    });
    writeFileSync(path, `timestamp,open,high,low,close,volume\n${lines.join('\n')}\n`);
    return path;
  }

  it(`refuses fewer than ${CALIBRATION_BARS_MIN} bars unless --min-bars asks for fewer`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'fulcrum-calibrate-'));
    try {
      // Two flat bars measure no volatility: without a minimum they would propose the largest
      // weight the rules allow.
      const two = flatFile(dir, 2);
      expect(() => calibrate([two], { json: false })).toThrow(
        expect.objectContaining({
          name: 'FulcrumError',
          code: 'invalid_field',
          field: two,
          message: `${two}: 2 bars in the window, fewer than the 24 a calibration needs`,
        }) as unknown as Error,
      );
      expect(one([two], { minBars: '2' }).listing.maintenanceWeight).toBe('0.95');
      const day = flatFile(dir, CALIBRATION_BARS_MIN);
      expect(one([day]).bars).toBe(CALIBRATION_BARS_MIN);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--min-bars counts the bars in the window: the 48 of the crash days pass 48, not 49', () => {
    const crash = { from: '2020-03-12', to: '2020-03-14' };
    expect(one([ETH], { ...crash, minBars: '48' }).bars).toBe(48);
    expect(() => calibrate([ETH], { json: false, ...crash, minBars: '49' })).toThrow(
      /48 bars in the window, fewer than the 49/,
    );
  });

  it.each([
    [{ minBars: '1' }, /--min-bars must be a whole number from 2/],
    [{ minBars: '0x10' }, /--min-bars must be a whole number \(got "0x10"\)/],
    [{ size: '0x10' }, /--size must be a plain decimal number/],
    [{ size: ' 1' }, /--size must be a plain decimal number/],
    [{ penalty: '5e-2' }, /--penalty must be a plain decimal number/],
    [{ confidence: '0.99 ' }, /--confidence must be a plain decimal number/],
    [{ horizon: '0x10h' }, /--horizon must be a positive duration/],
    [{ from: '2020-02-30' }, /--from must be an ISO date .* \(got "2020-02-30"\)/],
    [{ to: '2020-03-11T24:00:00Z' }, /--to must be an ISO date/],
  ] as [Omit<CalibrateOptions, 'json'>, RegExp][])(
    'refuses %j as a usage error naming the option',
    (options, message) => {
      const attempt = () => calibrate([ETH], { json: false, ...options });
      expect(attempt).toThrow(message);
      expect(attempt).toThrow(
        expect.objectContaining({ exitCode: EXIT.usage }) as unknown as Error,
      );
    },
  );
});
