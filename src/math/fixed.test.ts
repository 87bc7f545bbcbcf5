import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../base/errors.js';
import { divCeil, divFloor, maxBig, minBig, mulDivCeil, mulDivFloor, pow10 } from './fixed.js';

describe('divFloor and divCeil', () => {
  it.each([
    // numerator, denominator, floor, ceil
    [7n, 2n, 3n, 4n],
    [-7n, 2n, -4n, -3n],
    [6n, 2n, 3n, 3n],
    [-6n, 2n, -3n, -3n],
    [0n, 5n, 0n, 0n],
    [1n, 10n ** 27n, 0n, 1n],
  ])('%s / %s', (n, d, floor, ceil) => {
    expect(divFloor(n, d)).toBe(floor);
    expect(divCeil(n, d)).toBe(ceil);
  });

  it('bracket the exact quotient: floor <= n/d <= ceil, ceil - floor <= 1', () => {
    fc.assert(
      fc.property(fc.bigInt(), fc.bigInt({ min: 1n }), (n, d) => {
        const floor = divFloor(n, d);
        const ceil = divCeil(n, d);
        expect(floor * d <= n).toBe(true);
        expect((floor + 1n) * d > n).toBe(true);
        expect(ceil * d >= n).toBe(true);
        expect((ceil - 1n) * d < n).toBe(true);
        expect(ceil - floor === (n % d === 0n ? 0n : 1n)).toBe(true);
      }),
    );
  });

  it('refuse a zero or negative denominator as a programmer error', () => {
    expect(() => divFloor(1n, 0n)).toThrow(AssertionError);
    expect(() => divCeil(1n, -1n)).toThrow(AssertionError);
  });

  it('mulDiv rounds the exact product', () => {
    expect(mulDivFloor(10n, 3n, 4n)).toBe(7n); // 30 / 4 = 7.5
    expect(mulDivCeil(10n, 3n, 4n)).toBe(8n);
  });
});

describe('helpers', () => {
  it('min, max and pow10', () => {
    expect(minBig(-1n, 2n)).toBe(-1n);
    expect(maxBig(-1n, 2n)).toBe(2n);
    expect(pow10(0)).toBe(1n);
    expect(pow10(30)).toBe(10n ** 30n);
    expect(() => pow10(-1)).toThrow(AssertionError);
  });
});
