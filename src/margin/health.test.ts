import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ETH_CONFIG, riskAt, USDC_CONFIG, units, WBTC_CONFIG } from '../../test/fixtures/assets.js';
import { TIERS } from '../domain/asset.js';
import { formatDecimal } from '../math/decimal.js';
import { HEALTH_SCALE, PRICE_SCALE, VALUE_SCALE } from '../math/fixed.js';
import { assetRisk } from './assetRisk.js';
import { evaluateHealth, type Position } from './health.js';
import {
  collateralLiquidationPrice,
  debtLiquidationPrice,
  maxBorrowByMargin,
  maxWithdrawByMargin,
} from './whatIf.js';

const eth = (amount: string, oracle = '2000', stable = oracle): Position => ({
  risk: riskAt(ETH_CONFIG, oracle, stable),
  amount: units(ETH_CONFIG, amount),
});
const usdc = (amount: string): Position => ({
  risk: riskAt(USDC_CONFIG, '1'),
  amount: units(USDC_CONFIG, amount),
});
const wbtc = (amount: string, oracle = '60000'): Position => ({
  risk: riskAt(WBTC_CONFIG, oracle),
  amount: units(WBTC_CONFIG, amount),
});
const hf = (value: bigint | null) => (value === null ? null : formatDecimal(value, 18));
const quote = (value: bigint) => formatDecimal(value, 18);

describe('evaluateHealth: worked examples', () => {
  it.each([
    {
      name: 'aliceDeposits10EthBorrows5000Usdc',
      positions: [eth('10'), usdc('-5000')],
      // maintenance: 10 × 2000 × 0.825 / 5000; initial: 10 × 2000 × 0.8 / 5000;
      // liquidation end: midpoint weight 0.8125 -> 16250 / 5000
      maintenance: '3.3',
      initial: '3.2',
      liquidationEnd: '3.25',
      collateral: '20000',
      debt: '5000',
    },
    {
      name: 'stablePriceBelowOracleTightensOnlyInitial',
      positions: [eth('10', '2000', '1800'), usdc('-5000')],
      // initial values ETH at min(2000, 1800): 10 × 1800 × 0.8 / 5000 = 2.88
      maintenance: '3.3',
      initial: '2.88',
      liquidationEnd: '3.25',
      collateral: '20000',
      debt: '5000',
    },
    {
      name: 'wbtcDebtWithLiabilityWeights',
      positions: [usdc('100000'), wbtc('-1')],
      // maintenance: 100000 × 0.875 / (60000 × 1.05); initial: 100000 × 0.85 / (60000 × 1.1)
      maintenance: formatDecimal((87_500n * HEALTH_SCALE) / 63_000n, 18),
      initial: formatDecimal((85_000n * HEALTH_SCALE) / 66_000n, 18),
      liquidationEnd: formatDecimal((86_250n * HEALTH_SCALE) / 64_500n, 18),
      collateral: '100000',
      debt: '60000',
    },
    {
      name: 'debtWithoutCollateralIsZeroHealth',
      positions: [usdc('-1')],
      maintenance: '0',
      initial: '0',
      liquidationEnd: '0',
      collateral: '0',
      debt: '1',
    },
    {
      name: 'noDebtHasNoHealthFactor',
      positions: [eth('1'), wbtc('0.5')],
      maintenance: null,
      initial: null,
      liquidationEnd: null,
      collateral: '32000',
      debt: '0',
    },
  ])('$name', ({ positions, maintenance, initial, liquidationEnd, collateral, debt }) => {
    const snapshot = evaluateHealth(positions);
    expect(hf(snapshot.healthFactor('maintenance'))).toBe(maintenance);
    expect(hf(snapshot.healthFactor('initial'))).toBe(initial);
    expect(hf(snapshot.healthFactor('liquidationEnd'))).toBe(liquidationEnd);
    expect(quote(snapshot.collateralValue)).toBe(collateral);
    expect(quote(snapshot.liabilityValue)).toBe(debt);
  });

  it('reports weighted figures and free collateral per tier', () => {
    const tier = evaluateHealth([eth('10'), usdc('-5000')]).tier('initial');
    expect(quote(tier.weightedCollateral)).toBe('16000'); // 10 × 2000 × 0.8
    expect(quote(tier.weightedLiabilities)).toBe('5000');
    expect(quote(tier.freeCollateral)).toBe('11000');
  });

  it('rounds figures in the venue favour: collateral down, debt up', () => {
    // 1 wei of ETH at $0.000000000000000001 per ETH is worth 1e-36: below the value scale.
    const dust = evaluateHealth([
      { risk: riskAt(ETH_CONFIG, '0.000000000000000001'), amount: 1n },
      { risk: riskAt(USDC_CONFIG, '0.000000000000000001'), amount: -1n },
    ]);
    expect(dust.collateralValue).toBe(0n);
    expect(dust.liabilityValue).toBe(1n); // 1e-24 rounds up to the smallest value unit
    expect(dust.tier('maintenance').freeCollateral).toBe(-1n);
  });
});

describe('what-if answers', () => {
  it('liquidation price of a collateral: 5000 / (10 × 0.825), rounded up', () => {
    const positions = [eth('10'), usdc('-5000')];
    const snapshot = evaluateHealth(positions);
    const liq = collateralLiquidationPrice(
      snapshot,
      positions[0]?.risk ?? fail(),
      units(ETH_CONFIG, '10'),
    );
    expect(liq === null ? null : formatDecimal(liq, 18)).toBe('606.060606060606060607');
  });

  it('liquidation price of a debt: 16500 / 5000 = 3.3', () => {
    const positions = [eth('10'), usdc('-5000')];
    const snapshot = evaluateHealth(positions);
    const liq = debtLiquidationPrice(
      snapshot,
      positions[1]?.risk ?? fail(),
      units(USDC_CONFIG, '5000'),
    );
    expect(liq).toBe((33n * PRICE_SCALE) / 10n);
  });

  it('no liquidation price without debt or when the rest of the account covers the debt', () => {
    const alone = [eth('10')];
    expect(
      collateralLiquidationPrice(evaluateHealth(alone), alone[0]?.risk ?? fail(), 10n),
    ).toBeNull();
    const covered = [eth('1'), wbtc('1'), usdc('-100')];
    const snapshot = evaluateHealth(covered);
    expect(
      collateralLiquidationPrice(snapshot, covered[0]?.risk ?? fail(), units(ETH_CONFIG, '1')),
    ).toBeNull();
  });

  it('max borrow and max withdraw of the worked example', () => {
    const positions = [eth('10'), usdc('-5000')];
    const snapshot = evaluateHealth(positions);
    // free initial collateral 11000 quote; one more USDC adds 1 × 1 × 1 liability
    expect(maxBorrowByMargin(snapshot, riskAt(USDC_CONFIG, '1'))).toBe(units(USDC_CONFIG, '11000'));
    // each ETH withdrawn removes 2000 × 0.8 = 1600: 11000 / 1600 = 6.875 ETH
    expect(
      maxWithdrawByMargin(snapshot, positions[0]?.risk ?? fail(), units(ETH_CONFIG, '10')),
    ).toBe(units(ETH_CONFIG, '6.875'));
  });
});

function fail(): never {
  throw new Error('missing position');
}

/** Random portfolios over three assets with random prices, stable prices and signed balances. */
const portfolio = fc
  .tuple(
    fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }),
    fc.bigInt({ min: -(10n ** 14n), max: 10n ** 14n }),
    fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
    fc.bigInt({ min: 1n, max: 10n ** 24n }),
    fc.bigInt({ min: 1n, max: 10n ** 24n }),
    fc.bigInt({ min: 1n, max: 10n ** 24n }),
  )
  .map(([e, u, b, pe, se, pb]): Position[] => [
    { risk: assetRisk(ETH_CONFIG, pe, se), amount: e },
    { risk: assetRisk(USDC_CONFIG, PRICE_SCALE, PRICE_SCALE), amount: u },
    { risk: assetRisk(WBTC_CONFIG, pb, pb), amount: b },
  ]);

describe('health properties', () => {
  it('tiers keep their order: initial <= liquidation end <= maintenance', () => {
    fc.assert(
      fc.property(portfolio, (positions) => {
        const s = evaluateHealth(positions);
        const [i, e, m] = TIERS.map((t) => s.healthFactor(t));
        if (i == null || e == null || m == null) return;
        expect(i <= e && e <= m).toBe(true);
        expect(s.meets('initial') ? s.meets('liquidationEnd') : true).toBe(true);
        expect(s.meets('liquidationEnd') ? s.meets('maintenance') : true).toBe(true);
      }),
    );
  });

  it('max borrow is exact: borrowing it passes the initial check, one unit more fails', () => {
    fc.assert(
      fc.property(portfolio, fc.nat(2), (positions, which) => {
        const target = positions[which] ?? fail();
        fc.pre(target.amount <= 0n);
        const max = maxBorrowByMargin(evaluateHealth(positions), target.risk);
        const borrowing = (extra: bigint) =>
          evaluateHealth(
            positions.map((p, i) => (i === which ? { ...p, amount: p.amount - extra } : p)),
          );
        if (max > 0n) expect(borrowing(max).meets('initial')).toBe(true);
        expect(borrowing(max + 1n).meets('initial')).toBe(false);
      }),
    );
  });

  it('max withdraw is exact: withdrawing it passes, one unit more fails unless all is out', () => {
    fc.assert(
      fc.property(portfolio, fc.nat(2), (positions, which) => {
        const target = positions[which] ?? fail();
        fc.pre(target.amount > 0n);
        const before = evaluateHealth(positions);
        const max = maxWithdrawByMargin(before, target.risk, target.amount);
        const withdrawing = (amount: bigint) =>
          evaluateHealth(
            positions.map((p, i) => (i === which ? { ...p, amount: p.amount - amount } : p)),
          );
        if (max > 0n) expect(withdrawing(max).meets('initial')).toBe(true);
        if (max < target.amount && before.hasDebt) {
          expect(withdrawing(max + 1n).meets('initial')).toBe(false);
        }
      }),
    );
  });

  it('liquidation price is exact: at it the account is safe, one price unit lower it is not', () => {
    fc.assert(
      fc.property(portfolio, (positions) => {
        const eth = positions[0] ?? fail();
        fc.pre(eth.amount > 0n);
        const liq = collateralLiquidationPrice(evaluateHealth(positions), eth.risk, eth.amount);
        fc.pre(liq !== null && liq > 1n);
        const at = (p: bigint) =>
          evaluateHealth([{ ...eth, risk: assetRisk(ETH_CONFIG, p, p) }, ...positions.slice(1)]);
        expect(at(liq ?? 0n).meets('maintenance')).toBe(true);
        expect(at((liq ?? 0n) - 1n).meets('maintenance')).toBe(false);
      }),
    );
  });

  it('value figures are the oracle value of deposits and debts, in quote', () => {
    const s = evaluateHealth([eth('2.5'), usdc('-1000.5')]);
    expect(s.collateralValue).toBe(5000n * VALUE_SCALE);
    expect(s.liabilityValue).toBe((10005n * VALUE_SCALE) / 10n);
  });
});
