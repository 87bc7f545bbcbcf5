import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type TierWeights } from '../domain/asset.js';
import { WEIGHT_SCALE } from '../math/fixed.js';
import { YEAR_SECONDS } from '../math/time.js';
import {
  DEFAULT_STRESS_MARGIN_CONFIG,
  MULTIPLIER_ONE_PPM,
  StressMargin,
  type StressDecision,
  type StressMarginConfig,
  stressedWeights,
  validateStressMarginConfig,
} from './stressMargin.js';
import { volatilityEstimates } from './volatility.js';
import { exampleBars } from '../../test/fixtures/priceFiles.js';

const HOUR = 3600;

describe('stressedWeights', () => {
  const base: TierWeights = { initial: 800_000n, liquidationEnd: 850_000n, maintenance: 900_000n };

  it('multiplies each haircut and rounds it up', () => {
    // Haircuts 0.2 / 0.15 / 0.1 times 1.5 = 0.3 / 0.225 / 0.15.
    expect(stressedWeights(base, 1_500_000n)).toEqual({
      initial: 700_000n,
      liquidationEnd: 775_000n,
      maintenance: 850_000n,
    });
    // Times 1.333333: 0.1 × 1.333333 = 0.1333333 → 133,334 ppm up → 0.866666, → 0.865 at the step.
    expect(stressedWeights(base, 1_333_333n).maintenance).toBe(866_666n);
    expect(stressedWeights(base, 1_333_333n, 5_000n).maintenance).toBe(865_000n);
    // Times 6: the initial haircut passes 100%, the weight stops at 0.
    expect(stressedWeights(base, 6_000_000n).initial).toBe(0n);
    expect(stressedWeights(base, MULTIPLIER_ONE_PPM)).toEqual(base);
  });

  it('refuses a negative multiplier, a bad step and weights outside [0, 1]', () => {
    expect(() => stressedWeights(base, -1n)).toThrow(
      expect.objectContaining({
        code: 'invalid_number',
        field: 'multiplierPpm',
      }) as unknown as Error,
    );
    expect(() => stressedWeights(base, MULTIPLIER_ONE_PPM, -5n)).toThrow(/step/);
    expect(() =>
      stressedWeights({ ...base, maintenance: WEIGHT_SCALE + 1n }, MULTIPLIER_ONE_PPM),
    ).toThrow(expect.objectContaining({ field: 'maintenance' }) as unknown as Error);
  });

  it('keeps the tier order, and a multiplier of at least 1 never loosens a weight', () => {
    const weight = fc.bigInt({ min: 0n, max: WEIGHT_SCALE });
    fc.assert(
      fc.property(
        fc.tuple(weight, weight, weight),
        fc.bigInt({ min: 0n, max: 20_000_000n }),
        fc.constantFrom(undefined, 0n, 1n, 5_000n, 10_000n, 250_000n),
        (ws, m, step) => {
          const [initial, liquidationEnd, maintenance] = [...ws].sort((a, b) =>
            a < b ? -1 : a > b ? 1 : 0,
          ) as [bigint, bigint, bigint];
          const w = stressedWeights({ initial, liquidationEnd, maintenance }, m, step);
          expect(0n <= w.initial && w.initial <= w.liquidationEnd).toBe(true);
          expect(w.liquidationEnd <= w.maintenance).toBe(true);
          if (m >= MULTIPLIER_ONE_PPM) {
            expect(w.initial <= initial && w.maintenance <= maintenance).toBe(true);
            expect(w.liquidationEnd <= liquidationEnd).toBe(true);
          }
          if (step !== undefined && step > 0n) expect(w.maintenance % step).toBe(0n);
        },
      ),
    );
  });
});

describe('validateStressMarginConfig', () => {
  it.each([
    [{ halfLifeSeconds: 0 }, 'halfLifeSeconds'],
    [{ enterRatio: 0.9 }, 'enterRatio'],
    [{ exitRatio: 0 }, 'exitRatio'],
    [{ exitRatio: 2.5 }, 'exitRatio'], // above the default enterRatio 2: no hysteresis left
    [{ sensitivity: -1 }, 'sensitivity'],
    [{ maxMultiplier: 0.5 }, 'maxMultiplier'],
    [{ maxMultiplier: Number.NaN }, 'maxMultiplier'],
    [{ updateSeconds: -1 }, 'updateSeconds'],
    [{ maxStepUp: 0 }, 'maxStepUp'],
    [{ relaxPerHour: Number.POSITIVE_INFINITY }, 'relaxPerHour'],
  ] as [Partial<StressMarginConfig>, string][])('refuses %j', (change, field) => {
    expect(() =>
      validateStressMarginConfig({ ...DEFAULT_STRESS_MARGIN_CONFIG, ...change }),
    ).toThrow(expect.objectContaining({ code: 'invalid_config', field }) as unknown as Error);
    expect(() => new StressMargin(change, 0.8)).toThrow(
      expect.objectContaining({ code: 'invalid_config', field }) as unknown as Error,
    );
  });

  it('accepts the defaults and refuses a baseline that is not positive', () => {
    expect(() => validateStressMarginConfig(DEFAULT_STRESS_MARGIN_CONFIG)).not.toThrow();
    expect(() => new StressMargin({}, 0)).toThrow(
      expect.objectContaining({
        code: 'invalid_config',
        field: 'baselineVolAnnual',
      }) as unknown as Error,
    );
  });
});

describe('StressMargin', () => {
  it('refuses time going back and prices that are not positive', () => {
    const stress = new StressMargin({}, 0.8);
    stress.observe(100, 10);
    expect(() => stress.observe(99, 10)).toThrow(
      expect.objectContaining({ code: 'time_went_backwards' }) as unknown as Error,
    );
    expect(() => stress.observe(200, 0)).toThrow(
      expect.objectContaining({ code: 'invalid_number', field: 'price' }) as unknown as Error,
    );
    expect(stress.observe(100, 20)).toBeNull(); // same time: ignored
  });

  it('stays at 1 while the price is still', () => {
    const stress = new StressMargin({}, 0.8);
    for (let t = 0; t < 48 * HOUR; t += 60) expect(stress.observe(t, 100)).toBeNull();
    expect(stress.multiplierPpm).toBe(MULTIPLIER_ONE_PPM);
    expect(stress.ratio).toBeLessThan(1e-6); // the EWMA decayed to nothing
  });

  it('enters at 2, leaves below 1.5, steps up by 0.25 and relaxes by 0.1 an hour (worked example)', () => {
    // A one-second half-life forgets everything within a 60 s step, so σ_short is the last
    // return's alone: |r| × sqrt(year / 60). With the baseline 0.001 × sqrt(year / 60) the ratio
    // is |r| / 0.001. Decisions at every observation (updateSeconds 0).
    const baseline = 0.001 * Math.sqrt(YEAR_SECONDS / 60);
    const stress = new StressMargin({ halfLifeSeconds: 1, updateSeconds: 0 }, baseline, 'ETH');
    let price = 100;
    let t = 0;
    stress.observe(t, price);
    const step = (ratio: number) => {
      price *= Math.exp(0.001 * ratio * (t % 120 === 0 ? 1 : -1));
      t += 60;
      return stress.observe(t, price);
    };
    expect(step(1.8)).toBeNull(); // calm: 1.8 < enterRatio 2
    expect(stress.regime).toBe('calm');
    expect(step(2.5)).toMatchObject({
      regime: 'stressed',
      previousPpm: 1_000_000n,
      multiplierPpm: 1_250_000n,
      asset: 'ETH',
    });
    expect(step(2.5)?.multiplierPpm).toBe(1_500_000n); // toward 2.5, 0.25 a step
    expect(step(1.8)?.multiplierPpm).toBe(1_750_000n); // still stressed (1.8 >= 1.5): target 1.8
    const at18 = step(1.8)?.multiplierPpm ?? 0n; // reaches the target, 1.8 (to a ppm)
    expect(Number(at18 - 1_800_000n)).toBeLessThanOrEqual(1);
    // Relaxing: 0.1 an hour over 60 s is 1,666 ppm a decision (rounded down).
    expect(step(1.6)?.multiplierPpm).toBe(at18 - 1_666n); // target 1.6, but slowly
    const calm = step(1); // below 1.5: calm again, target 1, still slowly
    expect(calm).toMatchObject({ regime: 'calm', multiplierPpm: at18 - 2n * 1_666n });
    expect(calm?.ratio).toBeCloseTo(1, 9);
    expect(step(1.8)?.multiplierPpm).toBe(at18 - 3n * 1_666n); // 1.8 does not re-enter
    expect(stress.regime).toBe('calm');
  });

  it('decides at most every updateSeconds', () => {
    const stress = new StressMargin({}, 0.5);
    const decisions: StressDecision[] = [];
    for (let i = 0; i < 600; i++) {
      const d = stress.observe(i * 7, 100 * Math.exp(0.01 * Math.sin(i)));
      if (d !== null) decisions.push(d);
    }
    expect(decisions.length).toBeGreaterThan(3);
    for (let i = 1; i < decisions.length; i++) {
      expect((decisions[i]?.time ?? 0) - (decisions[i - 1]?.time ?? 0)).toBeGreaterThanOrEqual(300);
    }
  });

  it('never jumps more than maxStepUp a decision nor relaxes faster than relaxPerHour; deterministic', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 1, max: 2 * HOUR }),
            fc.double({ min: -0.3, max: 0.3, noNaN: true }),
          ),
          { minLength: 1, maxLength: 300 },
        ),
        fc.record({
          halfLifeSeconds: fc.integer({ min: 60, max: 6 * HOUR }),
          updateSeconds: fc.integer({ min: 0, max: HOUR }),
          maxStepUp: fc.double({ min: 0.01, max: 1, noNaN: true }),
          relaxPerHour: fc.double({ min: 0.01, max: 1, noNaN: true }),
          maxMultiplier: fc.double({ min: 1, max: 10, noNaN: true }),
        }),
        fc.double({ min: 0.05, max: 3, noNaN: true }),
        (path, config, baseline) => {
          const run = () => {
            const stress = new StressMargin(config, baseline);
            const out: StressDecision[] = [];
            let t = 0;
            let price = 100;
            stress.observe(t, price);
            for (const [dt, r] of path) {
              t += dt;
              price *= Math.exp(r);
              const d = stress.observe(t, price);
              if (d !== null) out.push(d);
            }
            return out;
          };
          const decisions = run();
          expect(run()).toEqual(decisions);
          const stepUp = BigInt(Math.floor(config.maxStepUp * 1e6));
          const maxPpm = BigInt(Math.floor(config.maxMultiplier * 1e6));
          let lastTime = 0;
          for (const d of decisions) {
            expect(d.multiplierPpm).not.toBe(d.previousPpm);
            expect(d.multiplierPpm >= MULTIPLIER_ONE_PPM && d.multiplierPpm <= maxPpm).toBe(true);
            if (d.multiplierPpm > d.previousPpm) {
              expect(d.multiplierPpm - d.previousPpm <= stepUp).toBe(true);
              expect(d.regime).toBe('stressed');
            } else {
              const allowed = (config.relaxPerHour * 1e6 * (d.time - lastTime)) / HOUR;
              expect(Number(d.previousPpm - d.multiplierPpm)).toBeLessThanOrEqual(allowed);
            }
            lastTime = d.time;
          }
        },
      ),
    );
  });
});

describe('StressMargin on Black Thursday (ETH, Binance spot, hourly closes)', () => {
  const eth = exampleBars('binance-spot_ETHUSDT_1h.csv');
  const at = (iso: string) => Date.parse(iso) / 1000;
  // The calm baseline: 5-10 March, 114.4% a year (the larger of EWMA and Parkinson).
  const baseline = volatilityEstimates(eth.filter((b) => b.time < at('2020-03-11'))).chosen.annual;
  const stress = new StressMargin({}, baseline, 'ETH');
  const decisions: StressDecision[] = [];
  for (const bar of eth) {
    // Each close is observed at the bar's end.
    const d = stress.observe(bar.time + HOUR, Number(bar.close) / 1e18);
    if (d !== null) decisions.push(d);
  }
  const multiplierAt = (iso: string) =>
    decisions.filter((d) => d.time <= at(iso)).at(-1)?.multiplierPpm ?? MULTIPLIER_ONE_PPM;

  it('stays at 1 through the calm days and rises above 1 on 12 March', () => {
    expect(baseline).toBeCloseTo(1.144, 3);
    expect(decisions.filter((d) => d.time < at('2020-03-11T12:00:00Z'))).toEqual([]);
    const twelfth = decisions.filter(
      (d) => d.time >= at('2020-03-12T00:00:00Z') && d.time < at('2020-03-13T00:00:00Z'),
    );
    expect(twelfth.some((d) => d.multiplierPpm > MULTIPLIER_ONE_PPM)).toBe(true);
    // The fall from 167.97 to 132.91 in the hour to 11:00 UTC (−21%): σ_short 13.6 times the baseline.
    const crashHour = twelfth.find((d) => d.time === at('2020-03-12T11:00:00Z'));
    expect(crashHour?.ratio).toBeGreaterThan(13);
    // ... yet the multiplier climbs 0.25 an hour, reaching the cap of 3 at midnight.
    expect(multiplierAt('2020-03-12T15:00:00Z')).toBeGreaterThan(2_900_000n);
    expect(multiplierAt('2020-03-13T00:00:00Z')).toBe(3_000_000n);
  });

  it('relaxes slowly afterwards, calm or not', () => {
    // At 06:00 on 14 March σ_short is below the baseline and the regime calm, yet the
    // multiplier is still near 2; it is back to 1 only at 16:00.
    const six = decisions.find((d) => d.time === at('2020-03-14T06:00:00Z'));
    expect(six?.regime).toBe('calm');
    expect(six?.ratio).toBeLessThan(1);
    expect(Number(six?.multiplierPpm) / 1e6).toBeCloseTo(1.98, 2);
    expect(multiplierAt('2020-03-14T15:00:00Z')).toBeGreaterThan(MULTIPLIER_ONE_PPM);
    expect(multiplierAt('2020-03-14T16:00:00Z')).toBe(MULTIPLIER_ONE_PPM);
    for (let i = 1; i < decisions.length; i++) {
      const [a, b] = [decisions[i - 1], decisions[i]];
      if (a === undefined || b === undefined || b.multiplierPpm > b.previousPpm) continue;
      expect(Number(b.previousPpm - b.multiplierPpm)).toBeLessThanOrEqual(
        (100_000 * (b.time - a.time)) / HOUR,
      );
    }
  });
});
