/**
 * JSON text at the boundary. `JSON.parse` keeps the last of two equal keys without a word, so
 * `{"amount": "1", "amount": "1000000"}` would deposit a million; other readers keep the first.
 * Fulcrum refuses such text, so that the engine, its journal and an auditor can never read one
 * command two ways.
 */
import { FulcrumError } from '../base/errors.js';
import { quoteInput } from './quote.js';

/**
 * Parses JSON text, refusing malformed text and objects with a repeated key (`invalid_json`).
 *
 * @example
 * parseJsonText('{"a": 1}', 'line 3'); // { a: 1 }
 * parseJsonText('{"a": 1, "a": 2}', 'line 3'); // throws invalid_json: line 3 repeats the key "a"
 */
export function parseJsonText(text: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : 'malformed';
    throw new FulcrumError('invalid_json', `${what} is not valid JSON: ${detail}`);
  }
  const repeated = repeatedKey(text);
  if (repeated !== undefined) {
    throw new FulcrumError('invalid_json', `${what} repeats the key ${quoteInput(repeated)}`);
  }
  return value;
}

/**
 * The first key that appears twice in one object of `text`, which must be valid JSON. A single
 * pass over the text that tracks, for each open object, the keys seen so far.
 */
export function repeatedKey(text: string): string | undefined {
  const open: (Set<string> | null)[] = []; // a set of keys per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = i + 1;
      let escaped = false;
      while (text.charCodeAt(end) !== QUOTE) {
        if (text.charCodeAt(end) === BACKSLASH) {
          escaped = true;
          end++;
        }
        end++;
      }
      if (expectKey) {
        const literal = text.slice(i, end + 1);
        const key = escaped ? (JSON.parse(literal) as string) : literal.slice(1, -1);
        const keys = open.at(-1);
        if (keys?.has(key)) return key;
        keys?.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === OPEN_BRACE) {
      open.push(new Set());
      expectKey = true;
    } else if (c === OPEN_BRACKET) {
      open.push(null);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      open.pop();
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = open.at(-1) instanceof Set;
    }
  }
  return undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/**
 * Whether `object`'s enumerable keys are exactly `keys`, in order (the order `JSON.stringify`
 * writes them in), without building the list: the hand-written JSON forms of the journal check
 * with it that an object has the shape they write.
 */
export function hasKeys(object: object, keys: readonly string[]): boolean {
  let i = 0;
  for (const key in object) if (key !== keys[i++]) return false;
  return i === keys.length;
}

/**
 * `JSON.stringify(text)` for a string: the text in quotes as it is when nothing in it needs an
 * escape (no quote, backslash, control character or surrogate), which is what names and
 * identifiers hold; anything else goes to `JSON.stringify`. About half its cost on the short
 * strings the journal writes for every command.
 */
export function quoteJson(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === QUOTE || c === BACKSLASH || (c >= 0xd800 && c <= 0xdfff)) {
      return JSON.stringify(text);
    }
  }
  return `"${text}"`;
}
