import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inverseNormalCdf, normalCdf, normalFromUniforms, normalPdf } from './normal.js';

// References: 0.5·math.erfc(−x/√2) in Python (glibc's erfc, correctly rounded to about 1 ulp).
const CDF_TABLE: readonly [number, number][] = [
  [-5.5, 1.8989562465887738e-8],
  [-5, 2.866515718791946e-7],
  [-4, 3.1671241833119965e-5],
  [-3, 0.0013498980316300957],
  [-2.5, 0.006209665325776139],
  [-2, 0.02275013194817922],
  [-1.96, 0.024997895148220435],
  [-1.5, 0.06680720126885809],
  [-1, 0.15865525393145707],
  [-0.75, 0.2266273523768682],
  [-0.5, 0.3085375387259869],
  [-0.4, 0.3445782583896758],
  [-0.25, 0.4012936743170763],
  [-0.1, 0.460172162722971],
  [0, 0.5],
  [0.1, 0.539827837277029],
  [0.25, 0.5987063256829237],
  [0.4, 0.6554217416103242],
  [0.5, 0.6914624612740131],
  [0.75, 0.7733726476231317],
  [1, 0.8413447460685429],
  [1.5, 0.9331927987311419],
  [1.96, 0.9750021048517795],
  [2, 0.9772498680518208],
  [2.5, 0.9937903346742238],
  [3, 0.9986501019683699],
  [4, 0.9999683287581669],
  [5, 0.9999997133484281],
  [5.5, 0.9999999810104375],
];

// Beyond |x| = 4√2 ≈ 5.657 (erfc's argument 4 and up: Cody's asymptotic range).
const CDF_TAIL_TABLE: readonly [number, number][] = [
  [-37, 5.725571222525139e-300],
  [-20, 2.7536241186063314e-89],
  [-10, 7.619853024160593e-24],
  [-8, 6.220960574271819e-16],
  [-7, 1.279812543885835e-12],
  [-6, 9.865876450377012e-10],
  [6, 0.9999999990134123],
  [7, 0.9999999999987201],
  [8, 0.9999999999999993],
];

describe('normalCdf', () => {
  it.each(CDF_TABLE)('N(%d) matches math.erfc to 1e-14 absolute', (x, expected) => {
    expect(Math.abs(normalCdf(x) - expected)).toBeLessThanOrEqual(1e-14);
  });

  it('is accurate relative to the value in the left tail up to −5.5 (1e-13)', () => {
    for (const [x, expected] of CDF_TABLE.filter(([x]) => x < 0))
      expect(Math.abs(normalCdf(x) / expected - 1)).toBeLessThanOrEqual(1e-13);
  });

  it('N(x) + N(−x) = 1 and the density is its derivative', () => {
    for (let x = -8; x <= 8; x += 0.37) {
      expect(normalCdf(x) + normalCdf(-x)).toBeCloseTo(1, 15);
      const h = 1e-5;
      expect((normalCdf(x + h) - normalCdf(x - h)) / (2 * h)).toBeCloseTo(normalPdf(x), 9);
    }
  });

  // erfc's third range (z >= 4) is Cody's rational function in t = 1/z² with six P and five Q
  // coefficients (CALERF). A version one degree short (without p5 = 6.58749161529837803e-4 and
  // q5 = 2.33520497626869185e-3) was off by up to 7.3e-12 at |x| = 4√2, about 0.1% of the tail,
  // and jumped at the range boundary, so that N decreased there: these guard against it.
  it.each(CDF_TAIL_TABLE)('N(%d) beyond |x| = 4√2 matches math.erfc', (x, expected) => {
    expect(Math.abs(normalCdf(x) - expected)).toBeLessThanOrEqual(1e-14);
    if (x < 0) expect(Math.abs(normalCdf(x) / expected - 1)).toBeLessThanOrEqual(1e-12);
  });

  it('does not decrease across x = −4√2, where erfc changes range', () => {
    const boundary = -4 * Math.SQRT2;
    // One degree short, N(b − 1e-9) was 7.716083e-9 > N(b + 1e-9) = 7.708629e-9.
    expect(normalCdf(boundary - 1e-9)).toBeLessThanOrEqual(normalCdf(boundary + 1e-9));
  });
});

describe('inverseNormalCdf (Wichura AS241)', () => {
  it.each([
    // p, z (tables; Python's statistics.NormalDist agrees to every digit shown)
    [0.5, 0],
    [0.975, 1.959964],
    [0.99, 2.326348],
    [0.999, 3.090232],
    [0.025, -1.959964],
    [1e-10, -6.361341], // the far tail, past the central region of the algorithm
    [1 - 1e-12, 7.034487],
  ])('z(%d) = %d', (p, z) => {
    expect(Math.abs(inverseNormalCdf(p) - z)).toBeLessThan(1e-6);
  });

  it('is increasing and odd about 0.5', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-12, max: 1 - 1e-12, noNaN: true }),
        fc.double({ min: 1e-12, max: 1 - 1e-12, noNaN: true }),
        (a, b) => {
          const [lo, hi] = a < b ? [a, b] : [b, a];
          expect(inverseNormalCdf(lo)).toBeLessThanOrEqual(inverseNormalCdf(hi));
          // 1 − a is exact enough only away from the ends.
          if (a > 1e-6 && a < 1 - 1e-6) {
            expect(inverseNormalCdf(a) + inverseNormalCdf(1 - a)).toBeCloseTo(0, 6);
          }
        },
      ),
    );
  });

  it.each([[0], [1], [-0.1], [1.5], [Number.NaN]])('refuses p = %d', (p) => {
    expect(() => inverseNormalCdf(p)).toThrow(
      expect.objectContaining({ code: 'invalid_number' }) as unknown as Error,
    );
  });
});

describe('normalFromUniforms (Box-Muller)', () => {
  it('is sqrt(−2 ln u) × cos(2πv)', () => {
    expect(normalFromUniforms(0.5, 0)).toBeCloseTo(Math.sqrt(2 * Math.LN2), 15);
    expect(normalFromUniforms(Math.exp(-2), 0.5)).toBeCloseTo(-2, 14);
    expect(normalFromUniforms(0.3, 0.25)).toBeCloseTo(0, 15);
  });

  it('stays finite for a uniform draw of 0', () => {
    expect(normalFromUniforms(0, 0)).toBe(Math.sqrt(-2 * Math.log(Number.EPSILON)));
  });
});
