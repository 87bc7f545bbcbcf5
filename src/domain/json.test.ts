import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FulcrumError } from '../base/errors.js';
import { hasKeys, parseJsonText, quoteJson, repeatedKey } from './json.js';

describe('parseJsonText', () => {
  it.each([
    ['{"a":1,"a":2}', 'a'],
    ['{"type":"deposit","amount":"1","amount":"1000000"}', 'amount'],
    ['{"x":{"b":1,"b":2}}', 'b'],
    ['[{"k":1},{"k":2,"k":3}]', 'k'],
    ['{"a":1,"\\u0061":2}', 'a'], // the same key written with an escape
    ['{"s":"a,\\"b\\":1","s":2}', 's'],
  ])('finds the repeated key in %s', (text, key) => {
    expect(repeatedKey(text)).toBe(key);
    expect(() => parseJsonText(text, 'line 1')).toThrow(FulcrumError);
    expect(() => parseJsonText(text, 'line 1')).toThrow(`repeats the key ${JSON.stringify(key)}`);
  });

  it.each([
    '{"a":1,"b":{"a":2}}',
    '[{"k":1},{"k":2}]',
    '{"text":"{\\"a\\":1,\\"a\\":2}"}',
    '{"a":[1,2,{"a":3}],"b":"x"}',
    '"just a string"',
    '42',
  ])('accepts %s', (text) => {
    expect(repeatedKey(text)).toBeUndefined();
    expect(parseJsonText(text, 'line 1')).toEqual(JSON.parse(text));
  });

  it('quotes a long repeated key cut short, on one line', () => {
    const key = `${'k'.repeat(1_000_000)}\n`;
    const text = `{${JSON.stringify(key)}:1,${JSON.stringify(key)}:2}`;
    let message = '';
    try {
      parseJsonText(text, 'line 1');
    } catch (error) {
      message = (error as FulcrumError).message;
    }
    expect(message).toMatch(/repeats the key "k{64}…" \(1000001 characters\)$/);
    expect(message.length).toBeLessThan(200);
  });

  it('refuses malformed text with invalid_json', () => {
    expect(() => parseJsonText('{"a":', 'line 7')).toThrow(/line 7 is not valid JSON/);
  });

  it('never reports a repeated key in JSON.stringify output, which has none', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(repeatedKey(JSON.stringify(value))).toBeUndefined();
      }),
    );
  });
});

describe('quoteJson', () => {
  it.each([
    ['alice', '"alice"'],
    ['', '""'],
    ['x.y:z@w-1', '"x.y:z@w-1"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ['tab\there', '"tab\\there"'],
    ['\u0000', '"\\u0000"'],
    ['\ud800', '"\\ud800"'], // a lone surrogate is escaped, as JSON.stringify does
    ['\ud83d\ude00', '"\ud83d\ude00"'], // a pair is not
    ['\u2028', '"\u2028"'],
  ])('writes %j as %s', (text, quoted) => {
    expect(quoteJson(text)).toBe(quoted);
    expect(quoteJson(text)).toBe(JSON.stringify(text));
  });

  it('is JSON.stringify of any string, any UTF-16 code unit included', () => {
    const units = fc
      .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 24 })
      .map((codes) => String.fromCharCode(...codes));
    fc.assert(
      fc.property(fc.oneof(units, fc.string(), fc.string({ unit: 'binary' })), (text) => {
        expect(quoteJson(text)).toBe(JSON.stringify(text));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('hasKeys', () => {
  const inherited = Object.assign(Object.create({ c: 3 }) as object, { a: 1, b: 2 });
  it.each([
    [{ a: 1, b: 2 }, ['a', 'b'], true],
    [{ a: 1 }, ['a', 'b'], false], // a key missing at the end
    [{ b: 2 }, ['a', 'b'], false],
    [{ a: 1, b: 2, c: 3 }, ['a', 'b'], false], // one more
    [{ b: 2, a: 1 }, ['a', 'b'], false], // another order
    [inherited, ['a', 'b'], false], // an inherited enumerable key counts, as for..in sees it
    [{}, [], true],
  ])('%o has exactly the keys %o: %s', (object, keys, expected) => {
    expect(hasKeys(object, keys)).toBe(expected);
  });
});
