import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FulcrumError } from './errors.js';
import { parseJsonText, repeatedKey } from './json.js';

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
