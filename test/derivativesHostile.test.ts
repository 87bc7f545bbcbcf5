/**
 * `fulcrum derivatives` and `fulcrum greeks` given hostile input, as a user meets them: the
 * built program run as a child process (`npm test` builds first). Names that are properties of
 * every JavaScript object are names; sub-account names, expiries, numbers and limits are checked;
 * and a refusal is always one short line naming the field, never a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryFolders } from './fixtures/examples.js';

const root = join(import.meta.dirname, '..');
const main = join(root, 'dist', 'cli', 'main.js');
const folder = temporaryFolders('fulcrum-derivatives-hostile-');

function fulcrum(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [main, ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** No stack trace anywhere, and standard error empty or one line. */
function expectNoStackTrace(result: { stdout: string; stderr: string }): void {
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stdout).not.toMatch(/\n\s+at /);
  expect(result.stderr).not.toMatch(/TypeError|RangeError|SyntaxError|Node\.js v/);
  expect(result.stderr.trim().split('\n').filter(Boolean).length).toBeLessThanOrEqual(1);
}

/** The `refused` lines of a derivatives run, as `line N: code at field`. */
function refusals(stdout: string): string[] {
  return [...stdout.matchAll(/^line\s+(\d+)\s+refused\s+error (\w+)(?: at (\S+))?:/gm)].map(
    ([, line, code, field]) => `line ${line}: ${code}${field === undefined ? '' : ` at ${field}`}`,
  );
}

const T = '2030-01-01T00:00:00Z';
const HOUR_LATER = '2030-01-01T01:00:00Z';
const DAY_LATER = '2030-01-02T00:00:00Z';

/**
 * Every derivatives command with `name` as an instrument, an underlying and an account (and
 * `name/1` as an isolated sub-account), beside an ordinary ETH perpetual.
 */
function story(name: string): string {
  const fut = `F-${name}`;
  return [
    {
      type: 'list-instrument',
      time: T,
      instrument: {
        kind: 'perpetual',
        symbol: name,
        underlying: name,
        fundingIntervalSeconds: '3600',
      },
    },
    {
      type: 'list-instrument',
      time: T,
      instrument: { kind: 'future', symbol: fut, underlying: name, expiry: DAY_LATER },
    },
    {
      type: 'list-instrument',
      time: T,
      instrument: { kind: 'perpetual', symbol: 'ETH-PERP', underlying: 'ETH' },
    },
    { type: 'set-prices', time: T, index: { ETH: '2000' }, marks: { 'ETH-PERP': '2000' } },
    {
      type: 'set-prices',
      time: T,
      index: { [name]: '2000' },
      marks: { [name]: '2000', [fut]: '2000' },
      volatility: { [name]: '0.6' },
    },
    { type: 'deposit', time: T, account: name, amount: '100000' },
    { type: 'deposit', time: T, account: 'mm', amount: '1000000' },
    { type: 'set-mode', time: T, account: `${name}/1`, mode: 'isolated' },
    { type: 'transfer', time: T, from: name, to: `${name}/1`, amount: '1000' },
    {
      type: 'trade',
      time: T,
      buyer: name,
      seller: 'mm',
      instrument: name,
      size: '1',
      price: '2000',
    },
    {
      type: 'trade',
      time: T,
      buyer: name,
      seller: 'mm',
      instrument: 'ETH-PERP',
      size: '1',
      price: '2000',
    },
    {
      type: 'trade',
      time: T,
      buyer: `${name}/1`,
      seller: 'mm',
      instrument: 'ETH-PERP',
      size: '1',
      price: '2000',
    },
    // The marks left out: they stay what they were.
    { type: 'set-prices', time: T, index: { [name]: '2010' } },
    { type: 'set-prices', time: HOUR_LATER },
    { type: 'settle-funding', time: HOUR_LATER, instrument: name },
    { type: 'withdraw', time: HOUR_LATER, account: name, amount: '1' },
    { type: 'liquidate', time: HOUR_LATER, account: name },
    { type: 'set-prices', time: DAY_LATER, index: { [name]: '1990' } },
    { type: 'expire', time: DAY_LATER, instrument: fut },
  ]
    .map((c) => JSON.stringify(c))
    .join('\n');
}

/** A portfolio with `name` as an underlying and an instrument. */
function portfolio(name: string): string {
  return JSON.stringify({
    time: T,
    collateral: '10000',
    underlyings: { [name]: { index: '2000', volatility: '0.8' } },
    positions: [
      { instrument: { kind: 'perpetual', symbol: name, underlying: name }, size: '1' },
      {
        instrument: {
          kind: 'option',
          symbol: `C-${name}`,
          underlying: name,
          expiry: DAY_LATER,
          strike: '2000',
          right: 'call',
        },
        size: '-1',
      },
    ],
  });
}

const PROTOTYPE_NAMES = ['valueOf', 'toString', 'constructor', 'hasOwnProperty', '__proto__'];

describe.each(PROTOTYPE_NAMES)('the name %s', (name) => {
  // `__proto__` is no instrument or underlying name (they begin with a letter or a digit), so
  // every command on it is refused with a line naming the field; it is an account like any other.
  const instrumentRefusals =
    name === '__proto__'
      ? [
          'line 1: invalid_config at symbol',
          'line 2: invalid_config at underlying',
          'line 5: invalid_field at index.__proto__',
          'line 10: invalid_field at instrument',
          'line 13: invalid_field at index.__proto__',
          'line 15: invalid_field at instrument',
          'line 17: not_liquidatable at account',
          'line 18: invalid_field at index.__proto__',
          'line 19: unknown_instrument at instrument',
        ]
      : ['line 17: not_liquidatable at account'];

  it('runs every derivatives command in memory', () => {
    const result = fulcrum(['derivatives', '-'], story(name));
    expectNoStackTrace(result);
    expect(result.status).toBe(0);
    expect(refusals(result.stdout)).toEqual(instrumentRefusals);
    expect(result.stdout).toContain('conservation: cash + position balances');
    expect(result.stdout).toMatch(new RegExp(`^${name}/1\\s+isolated\\s`, 'm'));
    if (name !== '__proto__') expect(result.stdout).toMatch(/settled\s+F-\S+ at 1990/);
  });

  it('journals them, reads the journal back on every later run, and verifies it', () => {
    const dir = folder();
    const first = fulcrum(['derivatives', '-', '--data', dir, '--json'], story(name));
    expectNoStackTrace(first);
    expect(first.status).toBe(0);
    const summary = (text: string) => JSON.parse(text.trim().split('\n').at(-1) ?? '{}');
    const before = summary(first.stdout);
    for (let run = 0; run < 2; run++) {
      const again = fulcrum(['derivatives', '-', '--data', dir, '--json'], '');
      expectNoStackTrace(again);
      expect(again.status).toBe(0);
      expect(summary(again.stdout).accounts).toEqual(before.accounts);
    }
    const verified = fulcrum(['verify', '--data', dir]);
    expectNoStackTrace(verified);
    expect(verified.status).toBe(0);
    // Lines refused as they are read (names that are no names) never reach the journal.
    const journaled = name === '__proto__' ? 12 : 19;
    expect(verified.stdout).toMatch(
      new RegExp(`^derivatives journal: ${journaled} records in `, 'm'),
    );
    expect(verified.stdout).toMatch(/^ok: the hashes agree$/m);
    const history = fulcrum(['history', 'account', name, '--derivatives', '--data', dir]);
    expectNoStackTrace(history);
    expect(history.status).toBe(0);
    expect(history.stdout.trim().split('\n').length).toBeGreaterThan(3);
  });

  it('greeks reports a portfolio on it, or refuses it in one line', () => {
    const result = fulcrum(['greeks', '-', '--json'], portfolio(name));
    expectNoStackTrace(result);
    if (name === '__proto__') {
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/^fulcrum: error invalid_field at underlyings\.__proto__: /);
      return;
    }
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as {
      positions: { symbol: string }[];
      crossLiquidationPrices: Record<string, unknown>;
    };
    expect(report.positions.map((p) => p.symbol)).toEqual([name, `C-${name}`]);
    expect(Object.keys(report.crossLiquidationPrices)).toEqual([name]);
  });

  it('greeks refuses an instrument on it when the portfolio has no market for it', () => {
    const text = portfolio('ETH').replace(
      /"underlying":"ETH"/g,
      JSON.stringify({ underlying: name }).slice(1, -1),
    );
    const result = fulcrum(['greeks', '-'], text);
    expectNoStackTrace(result);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      name === '__proto__'
        ? /^fulcrum: error invalid_config at underlying: /
        : /^fulcrum: error unknown_asset at positions\.0\.instrument\.underlying: /,
    );
  });
});

describe('derivatives input that was silently accepted', () => {
  const lines = (...commands: unknown[]) => commands.map((c) => JSON.stringify(c)).join('\n');

  it.each([
    ['ann/256', 'account'],
    ['ann/01', 'account'],
    ['x/', 'account'],
  ])('sub-account %s is refused, naming the field', (account, field) => {
    const result = fulcrum(
      ['derivatives', '-'],
      lines({ type: 'deposit', time: T, account, amount: '1' }),
    );
    expectNoStackTrace(result);
    expect(refusals(result.stdout)).toEqual([`line 1: invalid_field at ${field}`]);
  });

  it('a future or an option listed with its expiry already past is refused', () => {
    const result = fulcrum(
      ['derivatives', '-'],
      lines(
        {
          type: 'list-instrument',
          time: DAY_LATER,
          instrument: { kind: 'future', symbol: 'F', underlying: 'ETH', expiry: T },
        },
        {
          type: 'list-instrument',
          time: DAY_LATER,
          instrument: {
            kind: 'option',
            symbol: 'O',
            underlying: 'ETH',
            expiry: DAY_LATER,
            strike: '2000',
            right: 'put',
          },
        },
      ),
    );
    expectNoStackTrace(result);
    expect(refusals(result.stdout)).toEqual([
      'line 1: invalid_config at expiry',
      'line 2: invalid_config at expiry',
    ]);
  });

  it.each(['0x10', ' 1', '1 ', '1e3', 'NaN', 'Infinity', '-1', '+1', '.5', '1.'])(
    'a size of %j is refused',
    (size) => {
      const result = fulcrum(
        ['derivatives', '-'],
        lines({
          type: 'trade',
          time: T,
          buyer: 'a',
          seller: 'b',
          instrument: 'P',
          size,
          price: '1',
        }),
      );
      expectNoStackTrace(result);
      expect(refusals(result.stdout)).toEqual(['line 1: invalid_number at size']);
    },
  );

  it('a repeated key is refused, not read as its last value', () => {
    const result = fulcrum(
      ['derivatives', '-'],
      '{"type":"deposit","time":1,"account":"ann","amount":"1","amount":"1000000"}',
    );
    expectNoStackTrace(result);
    expect(refusals(result.stdout)).toEqual(['line 1: invalid_json']);
  });
});

describe('greeks input that was silently accepted', () => {
  const base = JSON.parse(portfolio('ETH')) as Record<string, unknown>;

  it.each([
    [
      'a size in hexadecimal',
      {
        positions: [
          { instrument: { kind: 'perpetual', symbol: 'P', underlying: 'ETH' }, size: '0x10' },
        ],
      },
      'positions.0.size',
    ],
    ['a collateral with an exponent', { collateral: '1e6' }, 'collateral'],
    ['a negative collateral', { collateral: '-1' }, 'collateral'],
    [
      'an index of Infinity',
      { underlyings: { ETH: { index: 'Infinity', volatility: '1' } } },
      'underlyings.ETH.index',
    ],
    ['a date that does not exist', { time: '2030-02-30T00:00:00Z' }, 'time'],
    [
      'a symbol that is a list',
      {
        positions: [
          { instrument: { kind: 'perpetual', symbol: ['P'], underlying: 'ETH' }, size: '1' },
        ],
      },
      'positions.0.instrument.symbol',
    ],
  ])('%s is refused in one line naming the field', (_, change, field) => {
    const result = fulcrum(['greeks', '-'], JSON.stringify({ ...base, ...change }));
    expectNoStackTrace(result);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^fulcrum: error \\w+ at ${field.replace(/\./g, '\\.')}: `),
    );
  });
});

describe('messages quote input short, on one line', () => {
  const huge = 'K'.repeat(1_000_000);

  it('derivatives: a huge or multi-line key or name', () => {
    for (const command of [
      { type: 'set-prices', time: T, marks: { [huge]: '1' } },
      { type: 'set-prices', time: T, index: { 'a\nfulcrum: error forged': '1' } },
      { type: 'deposit', time: T, account: `ann\n${'x'.repeat(100)}`, amount: '1' },
      { type: 'trade', time: T, buyer: 'a', seller: 'b', instrument: huge, size: '1', price: '1' },
      { type: huge, time: T },
      {
        type: 'list-instrument',
        time: T,
        instrument: { kind: 'perpetual', symbol: huge, underlying: 'E' },
      },
    ]) {
      for (const json of [false, true]) {
        const result = fulcrum(
          ['derivatives', '-', ...(json ? ['--json'] : [])],
          JSON.stringify(command),
        );
        expectNoStackTrace(result);
        const [first, ...rest] = result.stdout.split('\n');
        expect(first?.length ?? 0).toBeLessThan(500);
        expect(first).toMatch(json ? /"ok":false/ : /refused/);
        expect(rest.join('\n')).not.toContain('forged');
      }
    }
  });

  it('greeks: a huge or multi-line underlying name', () => {
    for (const name of [huge, 'ETH\nfulcrum: error forged']) {
      const result = fulcrum(
        ['greeks', '-'],
        JSON.stringify({ time: T, underlyings: { [name]: { index: 'x' } }, positions: [] }),
      );
      expectNoStackTrace(result);
      expect(result.status).toBe(1);
      expect(result.stderr.length).toBeLessThan(500);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
