import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FulcrumError } from '../base/errors.js';
import { formatDecimal, parseDecimal } from './decimal.js';

const field = 'amount';

describe('parseDecimal', () => {
  it.each([
    // text, decimals, expected base units
    ['0', 6, 0n],
    ['1', 6, 1_000_000n],
    ['1.5', 6, 1_500_000n],
    ['0.000001', 6, 1n],
    ['123456789.123456', 6, 123_456_789_123_456n],
    ['10', 18, 10n * 10n ** 18n],
    ['1.50', 1, 15n], // trailing zeros past the scale lose nothing
    ['7', 0, 7n],
  ])('parses %s with %i decimals', (text, decimals, expected) => {
    expect(parseDecimal(text, decimals, { field })).toBe(expected);
  });

  it('parses negatives only when asked', () => {
    expect(parseDecimal('-2.5', 1, { field, signed: true })).toBe(-25n);
    expect(() => parseDecimal('-2.5', 1, { field })).toThrow(/must not be negative/);
  });

  it.each([
    ['', 'invalid_number'],
    ['.5', 'invalid_number'],
    ['5.', 'invalid_number'],
    ['+5', 'invalid_number'],
    ['1e5', 'invalid_number'],
    [' 5', 'invalid_number'],
    ['5 ', 'invalid_number'],
    ['05', 'invalid_number'],
    ['NaN', 'invalid_number'],
    ['Infinity', 'invalid_number'],
    ['-Infinity', 'invalid_number'],
    ['0x10', 'invalid_number'],
    ['1_000', 'invalid_number'],
    ['1,000', 'invalid_number'],
    ['--1', 'invalid_number'],
    ['1.0000001', 'too_many_decimals'],
    ['9'.repeat(101), 'invalid_number'],
  ])('refuses %j with %s', (text, code) => {
    expect(() => parseDecimal(text, 6, { field })).toThrow(
      expect.objectContaining({ code, field }) as unknown as Error,
    );
  });

  it.each([[1.5], [Number.NaN], [Number.POSITIVE_INFINITY], [null], [undefined], [10n], [{}]])(
    'refuses the non-string %s',
    (value) => {
      const attempt = () => parseDecimal(value, 6, { field });
      expect(attempt).toThrow(FulcrumError);
      expect(attempt).toThrow(/decimal string/);
    },
  );

  it('enforces min and max in scaled units', () => {
    expect(() => parseDecimal('2', 0, { field, max: 1n })).toThrow(/at most 1/);
    expect(() => parseDecimal('-3', 0, { field, signed: true, min: -2n })).toThrow(/at least -2/);
    expect(parseDecimal('1', 0, { field, max: 1n })).toBe(1n);
  });
});

describe('formatDecimal', () => {
  it.each([
    [0n, 6, '0'],
    [1n, 6, '0.000001'],
    [1_500_000n, 6, '1.5'],
    [-5n, 2, '-0.05'],
    [-100n, 2, '-1'],
    [42n, 0, '42'],
    [10n ** 30n, 27, '1000'],
  ])('formats %s with %i decimals as %s', (value, decimals, text) => {
    expect(formatDecimal(value, decimals)).toBe(text);
  });

  it('round-trips every bigint through parseDecimal', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), fc.nat(30), (v, d) => {
        const text = formatDecimal(v, d);
        expect(parseDecimal(text, d, { field, signed: true })).toBe(v);
      }),
    );
  });
});
