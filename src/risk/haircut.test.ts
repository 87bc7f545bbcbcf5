import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAssetConfig } from '../domain/asset.js';
import { formatDecimal } from '../math/decimal.js';
import { WEIGHT_DECIMALS, WEIGHT_SCALE } from '../math/fixed.js';
import {
  DEFAULT_HAIRCUT_CONFIG,
  type HaircutConfig,
  meetsPenaltyRule,
  penaltyRuleMax,
  proposeWeights,
  tierHaircut,
} from './haircut.js';
import { dailyStats } from './liquidity.js';
import { exampleBars } from '../../test/fixtures/priceFiles.js';

const HOUR = 3600;
const DAY = 86_400;

describe('tierHaircut', () => {
  it('is z × σ × sqrt(horizon / year) plus the liquidity term, rounded up to a ppm', () => {
    // 99% over one hour at 80% a year: 2.3263479 × 0.8 × sqrt(3600 / 31,536,000)
    //   = 2.3263479 × 0.8 × 0.0106843 = 0.0198844
    const h = tierHaircut({ confidence: 0.99, horizonSeconds: HOUR }, 0.8, 0, 0);
    expect(h.z).toBeCloseTo(2.326348, 6);
    expect(h.volatilityTerm).toBeCloseTo(0.0198844, 7);
    expect(h.haircutPpm).toBe(19_885n); // 19,884.4 up
    // A liquidity term adds; a floor takes over when larger; the haircut stops at 100%.
    expect(tierHaircut({ confidence: 0.99, horizonSeconds: HOUR }, 0.8, 0.01, 0).haircut).toBe(
      h.volatilityTerm + 0.01,
    );
    expect(tierHaircut({ confidence: 0.99, horizonSeconds: HOUR }, 0.8, 0, 0.05).haircut).toBe(
      0.05,
    );
    const all = tierHaircut({ confidence: 0.999, horizonSeconds: 30 * DAY }, 20, 0, 0);
    expect([all.haircut, all.haircutPpm]).toEqual([1, WEIGHT_SCALE]);
  });
});

describe('proposeWeights', () => {
  it('turns 80% a year into 0.87 / 0.91 / 0.95 with the defaults (maintenance capped)', () => {
    // maintenance: 2.3263479 × 0.8 × sqrt(14,400 / 31,536,000) = 0.0397688 → 39,769 ppm
    //   → 0.960231 → 0.96 at the step → capped at 0.95
    // initial: 3.0902323 × 0.8 × sqrt(86,400 / 31,536,000) = 0.1294001 → 129,401 ppm
    //   → 0.870599 → 0.87
    // liquidation end: (0.87 + 0.95) / 2 = 0.91
    const p = proposeWeights({ volatilityAnnual: 0.8 });
    expect(p.maintenance.volatilityTerm).toBeCloseTo(0.0397688, 7);
    expect(p.initial.volatilityTerm).toBeCloseTo(0.1294001, 7);
    expect(p.weights).toEqual({
      initial: 870_000n,
      liquidationEnd: 910_000n,
      maintenance: 950_000n,
    });
    expect(p.weightsDecimal).toEqual({
      initial: '0.87',
      liquidationEnd: '0.91',
      maintenance: '0.95',
    });
    expect(p.adjustments).toEqual(['maintenance 0.96 capped at the largest weight, 0.95']);
  });

  it('adds the square-root liquidity term to both tiers', () => {
    // σ_daily 6% (σ_annual = 0.06 × sqrt(365)); $10M against $400M a day:
    // liquidity = 0.06 × sqrt(0.025) = 0.0094868
    // maintenance = 2.3263479 × 0.06 × sqrt(4 / 24) + 0.0094868 = 0.0569837 + 0.0094868
    //   = 0.0664705 → 66,471 ppm → 0.933529 → 0.93
    // initial = 3.0902323 × 0.06 + 0.0094868 = 0.1949007 → 194,901 ppm → 0.805099 → 0.805
    // liquidation end: (0.805 + 0.93) / 2 = 0.8675 → 0.865
    const p = proposeWeights({
      volatilityAnnual: 0.06 * Math.sqrt(365),
      sizeQuote: 1e7,
      dailyVolumeQuote: 4e8,
    });
    expect(p.volatilityDaily).toBeCloseTo(0.06, 12);
    expect(p.maintenance.liquidityTerm).toBeCloseTo(0.0094868, 7);
    expect(p.initial.liquidityTerm).toBe(p.maintenance.liquidityTerm);
    expect(p.maintenance.haircut).toBeCloseTo(0.0664705, 7);
    expect(p.weightsDecimal).toEqual({
      initial: '0.805',
      liquidationEnd: '0.865',
      maintenance: '0.93',
    });
    expect(p.adjustments).toEqual([]);
  });

  it('lowers maintenance to pass the penalty rule, and says so', () => {
    // With a 10% penalty the largest maintenance is ceil(10^12 / 1,100,000) − 1 = 909,090 ppm,
    // 0.905 at the step: 0.905 × 1.1 = 0.9955 < 1, while 0.91 × 1.1 = 1.001.
    expect(penaltyRuleMax(100_000n)).toBe(909_090n);
    const p = proposeWeights(
      { volatilityAnnual: 0.3 },
      { ...DEFAULT_HAIRCUT_CONFIG, liquidationPenalty: 100_000n },
    );
    expect(p.weights.maintenance).toBe(905_000n);
    expect(p.adjustments).toContain(
      'maintenance lowered from 0.95 to 0.905 so that maintenance × (1 + 0.1) < 1',
    );
  });

  it('keeps initial at or below maintenance when its horizon is the shorter one', () => {
    const p = proposeWeights(
      { volatilityAnnual: 1 },
      {
        ...DEFAULT_HAIRCUT_CONFIG,
        initial: { confidence: 0.9, horizonSeconds: HOUR },
        maintenance: { confidence: 0.999, horizonSeconds: DAY },
      },
    );
    expect(p.weights.initial).toBe(p.weights.maintenance);
    expect(p.adjustments.some((a) => /^initial .* lowered to maintenance/.test(a))).toBe(true);
  });

  it.each([
    [{ volatilityAnnual: -1 }, 'volatilityAnnual'],
    [{ volatilityAnnual: Number.NaN }, 'volatilityAnnual'],
    [{ volatilityAnnual: 1, sizeQuote: -5 }, 'size'],
  ])('refuses the input %j', (input, field) => {
    expect(() => proposeWeights(input)).toThrow(
      expect.objectContaining({ code: 'invalid_config', field }) as unknown as Error,
    );
  });

  it.each([
    [{ maintenance: { confidence: 0.5, horizonSeconds: HOUR } }, 'maintenance.confidence'],
    [{ initial: { confidence: 0.999, horizonSeconds: 0 } }, 'initial.horizonSeconds'],
    [{ maxWeight: 2_000_000n }, 'maxWeight'],
    [{ step: -1n }, 'step'],
  ] as [Partial<HaircutConfig>, string][])('refuses the config %s', (change, field) => {
    expect(() =>
      proposeWeights({ volatilityAnnual: 1 }, { ...DEFAULT_HAIRCUT_CONFIG, ...change }),
    ).toThrow(expect.objectContaining({ code: 'invalid_config', field }) as unknown as Error);
  });
});

describe('proposeWeights properties', () => {
  const sigma = fc.double({ min: 0, max: 10, noNaN: true });
  const confidence = fc.double({ min: 0.5001, max: 0.99999, noNaN: true });
  const horizon = fc.integer({ min: 60, max: 30 * DAY });
  const size = fc.double({ min: 0, max: 1e10, noNaN: true });
  const volume = fc.double({ min: 1e3, max: 1e11, noNaN: true });
  const penalty = fc.bigInt({ min: 0n, max: 300_000n });
  const config = fc.record({
    maintenance: fc.record({ confidence, horizonSeconds: horizon }),
    initial: fc.record({ confidence, horizonSeconds: horizon }),
    impactCoefficient: fc.double({ min: 0, max: 3, noNaN: true }),
    floor: fc.double({ min: 0, max: 0.5, noNaN: true }),
    step: fc.constantFrom(0n, 1n, 1_000n, 5_000n, 10_000n, 50_000n),
    maxWeight: fc.bigInt({ min: 0n, max: WEIGHT_SCALE }),
    liquidationPenalty: penalty,
  });

  it('never proposes weights the listing rules would refuse', () => {
    fc.assert(
      fc.property(
        sigma,
        size,
        volume,
        config,
        (volatilityAnnual, sizeQuote, dailyVolumeQuote, c) => {
          const p = proposeWeights({ volatilityAnnual, sizeQuote, dailyVolumeQuote }, c);
          const w = p.weights;
          expect(w.initial >= 0n).toBe(true);
          expect(w.initial <= w.liquidationEnd && w.liquidationEnd <= w.maintenance).toBe(true);
          expect(w.maintenance <= c.maxWeight).toBe(true);
          expect(meetsPenaltyRule(w.maintenance, c.liquidationPenalty)).toBe(true);
          if (c.step > 0n) {
            for (const v of Object.values(w)) expect(v % c.step).toBe(0n);
          }
          // And the listing parser itself accepts them.
          parseAssetConfig(
            {
              symbol: 'X',
              decimals: 18,
              initialWeight: p.weightsDecimal.initial,
              liquidationEndWeight: p.weightsDecimal.liquidationEnd,
              maintenanceWeight: p.weightsDecimal.maintenance,
              liquidationPenalty: formatDecimal(c.liquidationPenalty, WEIGHT_DECIMALS),
            },
            'asset',
          );
        },
      ),
    );
  });

  it('haircuts grow and weights fall with σ, confidence, horizon and size', () => {
    const base = {
      ...DEFAULT_HAIRCUT_CONFIG,
      step: 0n,
      maxWeight: WEIGHT_SCALE,
      liquidationPenalty: 0n,
    };
    fc.assert(
      fc.property(
        fc.tuple(sigma, sigma),
        fc.tuple(confidence, confidence),
        fc.tuple(horizon, horizon),
        fc.tuple(size, size),
        volume,
        (sigmas, confidences, horizons, sizes, dailyVolumeQuote) => {
          const [s0, s1] = [...sigmas].sort((a, b) => a - b) as [number, number];
          const [c0, c1] = [...confidences].sort((a, b) => a - b) as [number, number];
          const [h0, h1] = [...horizons].sort((a, b) => a - b) as [number, number];
          const [q0, q1] = [...sizes].sort((a, b) => a - b) as [number, number];
          const at = (s: number, c: number, h: number, q: number) => {
            const tier = { confidence: c, horizonSeconds: h };
            return proposeWeights(
              { volatilityAnnual: s, sizeQuote: q, dailyVolumeQuote },
              { ...base, maintenance: tier, initial: tier },
            );
          };
          const low = at(s0, c0, h0, q0);
          for (const high of [
            at(s1, c0, h0, q0),
            at(s0, c1, h0, q0),
            at(s0, c0, h1, q0),
            at(s0, c0, h0, q1),
          ]) {
            expect(high.maintenance.haircut).toBeGreaterThanOrEqual(low.maintenance.haircut);
            expect(high.weights.maintenance <= low.weights.maintenance).toBe(true);
          }
        },
      ),
    );
  });
});

describe('proposeWeights on Black Thursday (ETH, Binance spot, hourly)', () => {
  const eth = exampleBars('binance-spot_ETHUSDT_1h.csv');
  const window = (from: string, to: string) => {
    const stats = dailyStats(
      eth.filter((b) => b.time >= Date.parse(from) / 1000 && b.time < Date.parse(to) / 1000),
    );
    return proposeWeights({
      volatilityAnnual: stats.volatility.chosen.annual,
      sizeQuote: 1e6,
      dailyVolumeQuote: stats.averageDailyVolumeQuote,
    });
  };

  it('gives a higher maintenance weight from the calm days than from the crash', () => {
    const calm = window('2020-03-05', '2020-03-11');
    const crash = window('2020-03-12', '2020-03-14');
    // Calm: σ 114.4% a year (σ_daily 5.99%), $209.5M a day. Liquidity for $1M:
    //   0.0599 × sqrt(1 / 209.5) = 0.0041; maintenance 1 − (2.3263 × 1.144 × 0.02137 + 0.0041)
    //   = 1 − (0.0569 + 0.0041) = 0.939 → 0.935; initial 1 − (3.0902 × 1.144 × 0.05234 + 0.0041)
    //   = 1 − 0.1892 = 0.8108 → 0.81; end (0.81 + 0.935) / 2 = 0.8725 → 0.87.
    // Crash: σ 617% a year (σ_daily 32.3%), $550.8M a day: liquidity 0.323 × sqrt(1 / 550.8)
    //   = 0.0138; maintenance 1 − (2.3263 × 6.173 × 0.02137 + 0.0138) = 1 − 0.3207 → 0.675;
    //   the initial haircut passes 100% → 0; end 0.3375 → 0.335.
    expect(calm.weightsDecimal).toEqual({
      initial: '0.81',
      liquidationEnd: '0.87',
      maintenance: '0.935',
    });
    expect(crash.weightsDecimal).toEqual({
      initial: '0',
      liquidationEnd: '0.335',
      maintenance: '0.675',
    });
    expect(calm.weights.maintenance > crash.weights.maintenance).toBe(true);
  });
});
