/**
 * Maintenance health equals Aave's health factor: with liability weight 1 and the maintenance
 * weight set to Aave's liquidation threshold, Fulcrum's maintenance health on a portfolio must
 * equal what `@aave/math-utils` `formatUserSummary` computes for the same portfolio.
 *
 * Aave rounds its average liquidation threshold to 20 decimals before multiplying, so its figure
 * agrees with the exact ratio within 1e-20 + 1e-18 × HF (measured: at most 4.1e-19 relative for
 * HF between 0.01 and 1000). Fulcrum's exact ratio is compared at 30 decimals.
 */
import BigNumber from 'bignumber.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assetRisk, type Position, parseAssetConfig, parseDecimal } from '../../src/index.js';
import { evaluateHealth } from '../../src/margin/health.js';
import { aaveHealth, prepareAave, type SimpleAsset } from './aaveAdapter.js';

const PRICE_DECIMALS_AAVE = 8;

interface RandomAsset extends SimpleAsset {
  readonly supplied: bigint;
  readonly borrowed: bigint;
}

/** Fulcrum positions for the same assets: weights from basis points, liability weight 1. */
function fulcrumPositions(assets: readonly RandomAsset[]): Position[] {
  return assets.flatMap((a) => {
    const bps = (n: number) => (n / 10_000).toString();
    const config = parseAssetConfig(
      {
        symbol: a.symbol,
        decimals: a.decimals,
        initialWeight: bps(a.ltvBps),
        maintenanceWeight: bps(a.liquidationThresholdBps),
        liabilityWeight: '1',
      },
      'asset',
    );
    const price = parseDecimal(a.priceUsd, 18, { field: 'price' });
    const risk = assetRisk(config, price, price);
    const out: Position[] = [];
    if (a.supplied > 0n) out.push({ risk, amount: a.supplied });
    if (a.borrowed > 0n) out.push({ risk, amount: -a.borrowed });
    return out;
  });
}

/** Fulcrum's exact maintenance ratio C/L as a BigNumber with 30 decimals (no debt: null). */
function fulcrumExactHealth(positions: readonly Position[]): BigNumber | null {
  const snapshot = evaluateHealth(positions);
  const c = snapshot.collateralNum('maintenance');
  const l = snapshot.liabilityNum('maintenance');
  if (l === 0n) return null;
  return new BigNumber(((c * 10n ** 30n) / l).toString()).shiftedBy(-30);
}

const assetArbitrary = (symbol: string, decimals: number) =>
  fc
    .record({
      priceUnits: fc.bigInt({ min: 1n, max: 10n ** 14n }), // up to $1,000,000 in 1e-8 steps
      ltv: fc.integer({ min: 0, max: 9000 }),
      extra: fc.integer({ min: 0, max: 800 }),
      side: fc.constantFrom('supplied', 'borrowed', 'none', 'both'),
      amount: fc.bigInt({ min: 1n, max: 10n ** BigInt(decimals + 9) }),
    })
    .map(({ priceUnits, ltv, extra, side, amount }): RandomAsset => {
      const threshold = Math.min(ltv + extra, 9500);
      // Fulcrum keeps one signed balance per asset, so "both" nets the two sides.
      const supplied = side === 'supplied' || side === 'both' ? amount : 0n;
      const borrowed = side === 'borrowed' ? amount : 0n;
      return {
        symbol,
        decimals,
        priceUsd: new BigNumber(priceUnits.toString()).shiftedBy(-PRICE_DECIMALS_AAVE).toFixed(),
        ltvBps: ltv,
        liquidationThresholdBps: ltv === 0 && extra === 0 ? 0 : threshold,
        supplied,
        borrowed,
      };
    });

const portfolioArbitrary = fc.tuple(
  assetArbitrary('WETH', 18),
  assetArbitrary('USDC', 6),
  assetArbitrary('WBTC', 8),
  assetArbitrary('DAI', 18),
  assetArbitrary('LOW', 2),
);

describe('maintenance health equals Aave health factor', () => {
  it('on the worked example: 10 ETH at $2000, LT 82.5%, 5000 USDC owed -> 3.3', () => {
    const assets: RandomAsset[] = [
      {
        symbol: 'WETH',
        decimals: 18,
        priceUsd: '2000',
        ltvBps: 8000,
        liquidationThresholdBps: 8250,
        supplied: 10n * 10n ** 18n,
        borrowed: 0n,
      },
      {
        symbol: 'USDC',
        decimals: 6,
        priceUsd: '1',
        ltvBps: 7500,
        liquidationThresholdBps: 7800,
        supplied: 0n,
        borrowed: 5000n * 10n ** 6n,
      },
    ];
    const aave = aaveHealth(prepareAave(assets), assets);
    expect(aave.healthFactor).toBe('3.3');
    expect(fulcrumExactHealth(fulcrumPositions(assets))?.toFixed()).toBe('3.3');
  });

  it('on random portfolios of five assets with 2 to 18 decimals', () => {
    let compared = 0;
    fc.assert(
      fc.property(portfolioArbitrary, (assets) => {
        const aave = aaveHealth(prepareAave(assets), assets);
        const ours = fulcrumExactHealth(fulcrumPositions(assets));
        if (ours === null) {
          expect(aave.healthFactor).toBe('-1');
          return;
        }
        compared++;
        const theirs = new BigNumber(aave.healthFactor);
        const tolerance = new BigNumber('1e-20').plus(ours.times('1e-18'));
        const gap = ours.minus(theirs).abs();
        expect(gap.lte(tolerance), `ours ${ours.toFixed()} aave ${theirs.toFixed()}`).toBe(true);
      }),
      { numRuns: 600, seed: 20200312 },
    );
    expect(compared).toBeGreaterThan(300);
  });

  it('agrees on total collateral and debt value when every deposit counts as collateral', () => {
    fc.assert(
      fc.property(portfolioArbitrary, (assets) => {
        fc.pre(assets.every((a) => a.liquidationThresholdBps > 0));
        const aave = aaveHealth(prepareAave(assets), assets);
        const snapshot = evaluateHealth(fulcrumPositions(assets));
        const exact = (numerator: bigint) =>
          new BigNumber(numerator.toString()).shiftedBy(-30 - 18);
        expect(exact(snapshot.collateralValueNum).eq(aave.totalCollateralUSD)).toBe(true);
        expect(exact(snapshot.liabilityValueNum).eq(aave.totalBorrowsUSD)).toBe(true);
      }),
      { numRuns: 200, seed: 20210519 },
    );
  });
});
