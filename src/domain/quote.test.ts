import { describe, expect, it } from 'vitest';
import { fieldName, quoteInput, QUOTED_INPUT_MAX } from './quote.js';

describe('quoteInput', () => {
  it.each([
    ['valueOf', '"valueOf"'],
    ['a\nb', '"a\\nb"'],
    ['say "hi"', '"say \\"hi\\""'],
    [12.5, '12.5'],
    [null, 'null'],
    [undefined, 'nothing'],
    [[1, 2], 'an array of 2'],
    [{ a: 1 }, 'an object'],
    [10n ** 70n, `"${'1'.padEnd(64, '0')}…" (71 characters)`],
  ])('case %#: quoted as %s', (value, quoted) => {
    expect(quoteInput(value)).toBe(quoted);
  });

  it('cuts a long string at the bound, on one line, saying how long it was', () => {
    const quoted = quoteInput(`${'x'.repeat(10_000_000)}\n`);
    expect(quoted).toBe(`"${'x'.repeat(QUOTED_INPUT_MAX)}…" (10000001 characters)`);
    expect(quoted).not.toContain('\n');
  });
});

describe('fieldName', () => {
  it('keeps a short plain key as it is, and quotes and cuts anything else', () => {
    expect(fieldName('assets.ETH.price')).toBe('assets.ETH.price');
    expect(fieldName('a\nb')).toBe('"a\\nb"');
    expect(fieldName('k'.repeat(100))).toBe(`"${'k'.repeat(64)}…" (100 characters)`);
  });
});
