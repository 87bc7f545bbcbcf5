import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CliError,
  COMMAND_LINE_LENGTH_MAX,
  commandLines,
  ensureFolder,
  oneLine,
  priceFileNames,
  readInput,
} from './io.js';

const dir = mkdtempSync(join(tmpdir(), 'fulcrum-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readInput', () => {
  it('reads a file whole, and refuses one past the limit naming it', () => {
    const path = join(dir, 'eleven.txt');
    writeFileSync(path, 'eleven char');
    expect(readInput(path, 11)).toBe('eleven char');
    expect(() => readInput(path, 10)).toThrow(
      expect.objectContaining({ code: 'limit_exceeded', field: path }) as unknown as Error,
    );
  });

  it('refuses a folder and a missing file in one line naming them', () => {
    expect(() => readInput(dir)).toThrow(`cannot read ${dir} (EISDIR)`);
    expect(() => readInput(join(dir, 'none'))).toThrow(/\(ENOENT\)$/);
    // A path with a line break is quoted on one line.
    expect(() => readInput(join(dir, 'a\nb'))).toThrow(/"[^\n]*a\\nb" \(ENOENT\)$/);
  });
});

describe('commandLines', () => {
  it('skips blank lines and comments, numbers lines from 1, and flags a line too long', () => {
    const long = `{"pad":"${'p'.repeat(COMMAND_LINE_LENGTH_MAX)}"}`;
    const text = `// a comment\n\n  {"a":1}  \r\n${long}\n{"b":2}`;
    expect([...commandLines(text)]).toEqual([
      { lineNumber: 3, text: '{"a":1}', tooLong: false },
      { lineNumber: 4, text: '', tooLong: true },
      { lineNumber: 5, text: '{"b":2}', tooLong: false },
    ]);
  });
});

describe('oneLine', () => {
  it('escapes line breaks and control characters, and cuts a long message with its length', () => {
    expect(oneLine('a\nb\tc\u0007')).toBe('a\\nb c\\u0007');
    const cut = oneLine('x'.repeat(5_000));
    expect(cut).toMatch(/^x{1000}… \(5000 characters\)$/);
  });
});

describe('ensureFolder', () => {
  it('creates a folder and its parents, and accepts one that is there', () => {
    const nested = join(dir, 'a', 'b', 'c');
    ensureFolder(nested, '--out');
    expect(statSync(nested).isDirectory()).toBe(true);
    ensureFolder(nested, '--out');
  });

  it('refuses a file, a place under a file and a place that cannot hold a folder', () => {
    const file = join(dir, 'file');
    writeFileSync(file, '');
    const refusal = (path: string) => {
      try {
        ensureFolder(path, '--out');
      } catch (error) {
        expect(error).toBeInstanceOf(CliError);
        expect((error as CliError).field).toBe('--out');
        return (error as CliError).message;
      }
      throw new Error(`${path} was accepted`);
    };
    expect(refusal(file)).toBe(`--out ${file}: it is not a folder`);
    expect(refusal(join(file, 'sub', 'deeper'))).toBe(
      `--out ${join(file, 'sub', 'deeper')}: ${file} is not a folder`,
    );
    expect(existsSync(join(file, 'sub'))).toBe(false);
    // mkdirSync with `recursive` loops forever here; each parent is tried once instead.
    if (process.platform === 'linux') {
      expect(refusal('/proc/nope/deeper')).toMatch(/^--out \/proc\/nope\/deeper: cannot create it/);
    }
  });
});

describe('priceFileNames', () => {
  it('gives the asset and source of a file name, and refuses a name that gives none', () => {
    expect(priceFileNames('data/binance-spot_ETHUSDT_1h.csv')).toEqual({
      asset: 'ETH',
      source: 'binance-spot',
    });
    expect(priceFileNames('x_toStringUSDT_1h.csv').asset).toBe('toString');
    expect(() => priceFileNames('x__1h.csv')).toThrow(/gives no asset symbol \(""\)/);
    expect(() => priceFileNames('a b_ETHUSDT.csv')).toThrow(/gives no source name/);
  });
});
