import { describe, expect, it } from 'vitest';
import { parseAssetConfig } from '../domain/asset.js';
import { PRICE_SCALE } from '../math/fixed.js';
import { assetRisk, NORM_DECIMALS } from './assetRisk.js';

/**
 * ETH (18 decimals; deposit weights 0.8 initial, 0.8125 liquidation-end (the midpoint), 0.825
 * maintenance; debt weights 1) whose oracle widens by `k` confidences.
 */
const eth = (k: string) =>
  parseAssetConfig(
    {
      symbol: 'ETH',
      decimals: 18,
      initialWeight: '0.8',
      maintenanceWeight: '0.825',
      oracle: { confidenceWidening: k },
    },
    'asset',
  );
const P = (n: number) => (BigInt(Math.round(n * 1e6)) * PRICE_SCALE) / 1_000_000n;
/** 10^(NORM_DECIMALS − 18): ETH's factor to the common denominator. */
const NORM = 10n ** BigInt(NORM_DECIMALS - 18);

describe('assetRisk: margin prices widened by confidence', () => {
  it.each([
    // k, oracle, stable, confidence,
    //   [initial collateral, maintenance collateral, initial debt, maintenance debt] prices
    // no widening: min / max of oracle and stable for initial, the oracle for maintenance
    ['0', 2000, 1900, 10, [1900, 2000, 2000, 2000]],
    // k = 2, confidence 10: 20 off each side; initial from min 1900 and max 2000
    ['2', 2000, 1900, 10, [1880, 1980, 2020, 2020]],
    // stable above the oracle: initial collateral from 2000, initial debt from 2100
    ['2', 2000, 2100, 10, [1980, 1980, 2120, 2020]],
    // a widening wider than the price leaves collateral worth nothing, never less
    ['10', 100, 100, 50, [0, 0, 600, 600]],
  ] as const)('k %s at %s (stable %s), confidence %s', (k, oracle, stable, c, prices) => {
    const risk = assetRisk(eth(k), P(oracle), P(stable), P(c));
    const [initialC, maintenanceC, initialL, maintenanceL] = prices.map(P);
    // factors are price × norm × weight (ppm); liquidation-end and maintenance share a price
    expect(risk.collateralPerUnit).toEqual([
      (initialC as bigint) * NORM * 800_000n,
      (maintenanceC as bigint) * NORM * 812_500n,
      (maintenanceC as bigint) * NORM * 825_000n,
    ]);
    expect(risk.liabilityPerUnit).toEqual([
      (initialL as bigint) * NORM * 1_000_000n,
      (maintenanceL as bigint) * NORM * 1_000_000n,
      (maintenanceL as bigint) * NORM * 1_000_000n,
    ]);
    // what a liquidation repays and seizes, and reports, stay at the oracle price
    expect(risk.valuePerUnit).toBe(P(oracle) * NORM);
  });

  it('rounds the widening up, against the account on both sides', () => {
    // 1.5 × 1 unit of confidence (10^-18) = 1.5 units, rounded up to 2
    const risk = assetRisk(eth('1.5'), P(2000), P(2000), 1n);
    expect(risk.widening).toBe(2n);
    expect(risk.collateralPerUnit[2]).toBe((P(2000) - 2n) * NORM * 825_000n);
    expect(risk.liabilityPerUnit[2]).toBe((P(2000) + 2n) * NORM * 1_000_000n);
  });

  it('an asset without an oracle is never widened', () => {
    const usdc = parseAssetConfig(
      { symbol: 'USDC', decimals: 6, initialWeight: '0.85', maintenanceWeight: '0.875' },
      'asset',
    );
    expect(assetRisk(usdc, P(1), P(1), P(0.5)).widening).toBe(0n);
  });
});
