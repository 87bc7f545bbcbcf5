/**
 * Derivatives commands through `fulcrum run`, and `fulcrum greeks`, given hostile input as a
 * user meets them: the built program run as a child process (`npm test` builds first). Names
 * that are properties of every JavaScript object are names (as instrument symbols, underlyings
 * and accounts), in memory, journaled and read back; sizes, sub-accounts, expiries and numbers
 * are checked; a refusal is always one short line naming the field, never a stack trace.
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

type Json = Record<string, unknown>;

function jsonLines(stdout: string): Json[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Json);
}

/** The refusals of a `run --json`, as `line N: code at field`. */
function refusals(stdout: string): string[] {
  return jsonLines(stdout)
    .filter((l) => l.ok === false)
    .map((l) => {
      const error = l.error as { code: string; field?: string };
      return `line ${l.line}: ${error.code}${error.field === undefined ? '' : ` at ${error.field}`}`;
    });
}

const T = 1_893_456_000; // 2030-01-01T00:00:00Z
const HOUR_LATER = T + 3_600;
const DAY_LATER = T + 86_400;

const lines = (...commands: unknown[]) => commands.map((c) => JSON.stringify(c)).join('\n');

const PROTOTYPE_NAMES = ['valueOf', 'toString', 'constructor', 'hasOwnProperty', '__proto__'];

/**
 * The name the story gives the underlying asset beside the instrument `name` (assets and
 * instruments share one namespace): the next prototype name, so that each is both.
 */
function underlyingOf(name: string): string {
  if (name === '__proto__') return name;
  const names = PROTOTYPE_NAMES.filter((n) => n !== '__proto__');
  return names[(names.indexOf(name) + 1) % names.length] as string;
}

/**
 * Every derivatives command with `name` as a perpetual's symbol and as an account (with
 * `name`/1 isolated), and {@link underlyingOf} `name` as the asset under a future.
 */
function story(name: string): string {
  const underlying = underlyingOf(name);
  const fut = `F-${name}`;
  const me = { account: name };
  const isolated = { account: name, subAccount: 1 };
  const mm = { account: 'mm' };
  return lines(
    {
      type: 'list-asset',
      time: T,
      config: { symbol: 'USDC', decimals: 6, initialWeight: '0.9', maintenanceWeight: '0.95' },
      price: '1',
    },
    {
      type: 'list-asset',
      time: T,
      config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
      price: '2000',
    },
    {
      type: 'list-asset',
      time: T,
      config: { symbol: underlying, decimals: 18, initialWeight: '0.5', maintenanceWeight: '0.6' },
      price: '2000',
    },
    {
      type: 'list-instrument',
      time: T,
      config: {
        kind: 'perpetual',
        symbol: name,
        underlying: 'ETH',
        fundingIntervalSeconds: '3600',
        initialMargin: '0.1',
        maintenanceMargin: '0.05',
      },
      price: '2000',
    },
    {
      type: 'list-instrument',
      time: T,
      config: {
        kind: 'future',
        symbol: fut,
        underlying,
        expiry: '2030-01-02T00:00:00Z',
        initialMargin: '0.1',
        maintenanceMargin: '0.05',
      },
      price: '2000',
    },
    { type: 'set-volatility', time: T, asset: underlying, volatility: '0.6' },
    { type: 'deposit', time: T, account: name, asset: 'USDC', amount: '100000' },
    { type: 'deposit', time: T, account: 'mm', asset: 'USDC', amount: '1000000' },
    { type: 'set-mode', time: T, ...isolated, mode: 'isolated' },
    { type: 'transfer', time: T, from: me, to: isolated, asset: 'USDC', amount: '1000' },
    { type: 'trade', time: T, buyer: me, seller: mm, instrument: name, size: '1', price: '2000' },
    { type: 'trade', time: T, buyer: me, seller: mm, instrument: fut, size: '1', price: '2000' },
    {
      type: 'trade',
      time: T,
      buyer: isolated,
      seller: mm,
      instrument: name,
      size: '0.1',
      price: '2000',
    },
    // Line 14: the isolated sub-account holds one instrument.
    {
      type: 'trade',
      time: T,
      buyer: isolated,
      seller: mm,
      instrument: fut,
      size: '0.1',
      price: '2000',
    },
    { type: 'set-price', time: T, asset: name, price: '2010' },
    { type: 'settle-funding', time: HOUR_LATER, instrument: name },
    // Lines 17 to 19: nothing unsettled, healthy, not bankrupt.
    { type: 'settle-pnl', time: HOUR_LATER, account: name },
    {
      type: 'liquidate-position',
      time: HOUR_LATER,
      liquidator: mm,
      target: me,
      instrument: name,
      amount: 'max',
    },
    { type: 'deleverage', time: HOUR_LATER, target: me, instrument: name },
    { type: 'set-price', time: DAY_LATER, asset: underlying, price: '1990' },
    { type: 'expire', time: DAY_LATER, instrument: fut },
  );
}

describe.each(PROTOTYPE_NAMES)('the name %s', (name) => {
  // `__proto__` is no asset or instrument symbol (they begin with a letter or a digit), so every
  // command on it as one is refused naming the field; as an account it is an account like any
  // other.
  const expected =
    name === '__proto__'
      ? [
          'line 3: invalid_config at config.symbol',
          'line 4: invalid_config at config.symbol',
          'line 5: invalid_config at config.underlying',
          'line 6: unknown_asset at asset',
          'line 11: unknown_instrument at instrument',
          'line 12: unknown_instrument at instrument',
          'line 13: unknown_instrument at instrument',
          'line 14: unknown_instrument at instrument',
          'line 15: unknown_asset at asset',
          'line 16: unknown_instrument at instrument',
          'line 17: no_pnl at account',
          'line 18: unknown_instrument at instrument',
          'line 19: unknown_instrument at instrument',
          'line 20: unknown_asset at asset',
          'line 21: unknown_instrument at instrument',
        ]
      : [
          'line 14: isolated_one_instrument at instrument',
          'line 17: no_pnl at account',
          'line 18: not_liquidatable at target',
          'line 19: not_bankrupt at target',
        ];

  it('runs every derivatives command in memory', () => {
    const result = fulcrum(['run', '-', '--memory', '--json'], story(name));
    expectNoStackTrace(result);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(refusals(result.stdout)).toEqual(expected);
    const accounts = new Map(
      jsonLines(result.stdout)
        .filter((l) => 'account' in l)
        .map((l) => [`${l.account}/${l.subAccount}`, l]),
    );
    const book = (ref: string) => accounts.get(ref)?.derivatives as Json | undefined;
    expect(book(`${name}/1`)?.mode).toBe('isolated');
    if (name === '__proto__') {
      expect(book(`${name}/1`)?.positions).toEqual([]);
      return;
    }
    // The perpetual named `name` held in both sub-accounts; the future settled at 1990.
    expect((book(`${name}/0`)?.positions as Json[]).map((p) => [p.instrument, p.size])).toEqual([
      [name, '1'],
    ]);
    expect((book(`${name}/1`)?.positions as Json[]).map((p) => [p.instrument, p.size])).toEqual([
      [name, '0.1'],
    ]);
    const expired = jsonLines(result.stdout)
      .flatMap((l) => (l.events as Json[] | undefined) ?? [])
      .filter((e) => e.type === 'instrument-expired');
    expect(expired).toEqual([
      { type: 'instrument-expired', instrument: `F-${name}`, price: '1990', positions: 2 },
    ]);
    const text = fulcrum(['run', '-', '--memory'], story(name));
    expect(text.stdout).toMatch(new RegExp(`^${name}/1\\s+isolated\\s+${name}\\s+0\\.1\\s`, 'm'));
  });

  it('journals them, reads the journal back on every later run, and verifies it', () => {
    const dir = folder();
    const first = fulcrum(['run', '-', '--data', dir, '--json'], story(name));
    expectNoStackTrace(first);
    expect(first.status).toBe(0);
    const hash = (text: string) => (jsonLines(text).at(-1) as { stateHash: string }).stateHash;
    for (let run = 0; run < 2; run++) {
      const again = fulcrum(['run', '-', '--data', dir, '--json'], '');
      expectNoStackTrace(again);
      expect(again.status).toBe(0);
      expect(hash(again.stdout)).toBe(hash(first.stdout));
    }
    const verified = fulcrum(['verify', '--data', dir]);
    expectNoStackTrace(verified);
    expect(verified.status).toBe(0);
    // Lines refused as they are read (a name that is no symbol) never reach the journal.
    expect(verified.stdout).toMatch(/^journal: \d+ records in /m);
    expect(verified.stdout).toMatch(/^ok: the hashes agree$/m);
    const history = fulcrum(['history', 'account', name, '--data', dir]);
    expectNoStackTrace(history);
    expect(history.status).toBe(0);
    const types = jsonLines(history.stdout).map((e) => (e.command as Json).type);
    expect(types).toContain('set-mode');
    // A line naming an instrument that is not listed is refused as it is read, unjournaled.
    if (name !== '__proto__') expect(types).toContain('deleverage');
    const greeks = fulcrum(['greeks', '--account', name, '--data', dir, '--json']);
    expectNoStackTrace(greeks);
    if (name === '__proto__') {
      expect(greeks.status).toBe(1);
      expect(greeks.stderr).toMatch(/^fulcrum: error no_position at --account: /);
      return;
    }
    expect(greeks.status).toBe(0);
    const report = JSON.parse(greeks.stdout) as { positions: { symbol: string }[] };
    expect(report.positions.map((p) => p.symbol)).toEqual([name]);
  });

  it('greeks reports a portfolio file on it, or refuses it in one line', () => {
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
        ? /^fulcrum: error invalid_config at positions\.0\.instrument\.underlying: /
        : /^fulcrum: error unknown_asset at positions\.0\.instrument\.underlying: /,
    );
  });
});

/** A portfolio file with `name` as an underlying and an instrument. */
function portfolio(name: string): string {
  return JSON.stringify({
    time: '2030-01-01T00:00:00Z',
    collateral: '10000',
    underlyings: { [name]: { index: '2000', volatility: '0.8' } },
    positions: [
      { instrument: { kind: 'perpetual', symbol: name, underlying: name }, size: '1' },
      {
        instrument: {
          kind: 'option',
          symbol: `C-${name}`,
          underlying: name,
          expiry: '2030-01-02T00:00:00Z',
          strike: '2000',
          right: 'call',
        },
        size: '-1',
      },
    ],
  });
}

/** USDC, ETH, a perpetual on ETH, and two accounts with USDC: what the rows below act on. */
const MARKET = lines(
  {
    type: 'list-asset',
    time: T,
    config: { symbol: 'USDC', decimals: 6, initialWeight: '0.9', maintenanceWeight: '0.95' },
    price: '1',
  },
  {
    type: 'list-asset',
    time: T,
    config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
    price: '2000',
  },
  {
    type: 'list-instrument',
    time: T,
    config: { kind: 'perpetual', symbol: 'P', underlying: 'ETH' },
    price: '2000',
  },
  { type: 'deposit', time: T, account: 'a', asset: 'USDC', amount: '100000' },
  { type: 'deposit', time: T, account: 'b', asset: 'USDC', amount: '100000' },
);
const MARKET_LINES = 5;

/** `commands` after the market: their refusals, numbered from 1, and the run's state hash. */
function afterMarket(...commands: unknown[]) {
  const result = fulcrum(['run', '-', '--memory', '--json'], `${MARKET}\n${lines(...commands)}`);
  expectNoStackTrace(result);
  expect(result.status).toBe(0);
  const refused = refusals(result.stdout).map((r) =>
    r.replace(/^line (\d+)/, (_, n: string) => `line ${Number(n) - MARKET_LINES}`),
  );
  return { refused, hash: (jsonLines(result.stdout).at(-1) as { stateHash: string }).stateHash };
}

describe('derivatives input through fulcrum run', () => {
  const fill = (fields: Json) => ({
    type: 'trade',
    time: T,
    buyer: { account: 'a' },
    seller: { account: 'b' },
    instrument: 'P',
    size: '1',
    price: '2000',
    ...fields,
  });
  const unchanged = afterMarket().hash;

  it.each([
    [{ buyer: { account: 'a', subAccount: 256 } }, 'invalid_number at buyer.subAccount'],
    [{ buyer: { account: 'a', subAccount: '01' } }, 'invalid_field at buyer.subAccount'],
    [{ buyer: { account: 'a/1' } }, 'invalid_field at buyer.account'],
    [{ buyer: { account: '' } }, 'invalid_field at buyer.account'],
  ])('a sub-account %j is refused, naming the field', (change, refusal) => {
    const { refused, hash } = afterMarket(fill(change));
    expect(refused).toEqual([`line 1: ${refusal}`]);
    expect(hash).toBe(unchanged);
  });

  it('a future or an option listed with its expiry already past is refused', () => {
    const { refused, hash } = afterMarket(
      {
        type: 'list-instrument',
        time: DAY_LATER,
        config: { kind: 'future', symbol: 'F', underlying: 'ETH', expiry: T },
        price: '2000',
      },
      {
        type: 'list-instrument',
        time: DAY_LATER,
        config: {
          kind: 'option',
          symbol: 'O',
          underlying: 'ETH',
          expiry: DAY_LATER,
          strike: '2000',
          right: 'put',
        },
        price: '10',
      },
    );
    expect(refused).toEqual([
      'line 1: invalid_config at config.expiry',
      'line 2: invalid_config at config.expiry',
    ]);
    expect(hash).toBe(unchanged);
  });

  it.each(['0x10', ' 1', '1 ', '1e3', 'NaN', 'Infinity', '-1', '+1', '.5', '1.', 1, null])(
    'a size of %j is refused',
    (size) => {
      const { refused, hash } = afterMarket(fill({ size }));
      expect(refused).toEqual(['line 1: invalid_number at size']);
      expect(hash).toBe(unchanged);
    },
  );

  it.each([
    ['an absurd size', { size: '1'.repeat(13) }, 'invalid_number at size'],
    ['a size past the base unit', { size: '0.000000001' }, 'too_many_decimals at size'],
    ['an absurd price', { price: `1${'0'.repeat(20)}` }, 'invalid_number at price'],
    ['a negative fee', { sellerFee: '-1' }, 'invalid_number at sellerFee'],
    ['an unknown field', { valueOf: '1' }, 'invalid_field at valueOf'],
  ])('%s is refused', (_, change, refusal) => {
    const { refused, hash } = afterMarket(fill(change));
    expect(refused).toEqual([`line 1: ${refusal}`]);
    expect(hash).toBe(unchanged);
  });

  it('a repeated key is refused, not read as its last value', () => {
    const result = fulcrum(
      ['run', '-', '--memory', '--json'],
      `${MARKET}\n{"type":"trade","time":${T},"buyer":{"account":"a"},"seller":{"account":"b"},"instrument":"P","size":"1","size":"1000","price":"2000"}`,
    );
    expect(refusals(result.stdout)).toEqual([`line ${MARKET_LINES + 1}: invalid_json`]);
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

  it('run: a huge or multi-line name of an instrument, an underlying or an account', () => {
    for (const command of [
      { type: 'set-price', time: T, asset: huge, price: '1' },
      { type: 'set-volatility', time: T, asset: 'a\nfulcrum: error forged', volatility: '1' },
      {
        type: 'set-mode',
        time: T,
        account: `ann\nfulcrum: error forged${'x'.repeat(100)}`,
        mode: 'isolated',
      },
      {
        type: 'trade',
        time: T,
        buyer: { account: 'a' },
        seller: { account: 'b' },
        instrument: huge,
        size: '1',
        price: '1',
      },
      { type: huge, time: T },
      {
        type: 'list-instrument',
        time: T,
        config: { kind: 'perpetual', symbol: huge, underlying: 'ETH' },
        price: '1',
      },
      { type: 'expire', time: T, instrument: 'F\nfulcrum: error forged' },
    ]) {
      for (const json of [false, true]) {
        const result = fulcrum(
          ['run', '-', '--memory', ...(json ? ['--json'] : [])],
          `${MARKET}\n${JSON.stringify(command)}`,
        );
        expectNoStackTrace(result);
        expect(result.stderr).toBe('');
        const line = result.stdout.split('\n')[MARKET_LINES] ?? '';
        expect(line.length).toBeLessThan(500);
        expect(line).toMatch(json ? /"ok":false/ : /REFUSED/);
        expect(result.stdout).not.toMatch(/^fulcrum: error forged/m);
      }
    }
  });

  it('greeks: a huge or multi-line underlying name', () => {
    for (const name of [huge, 'ETH\nfulcrum: error forged']) {
      const result = fulcrum(
        ['greeks', '-'],
        JSON.stringify({
          time: '2030-01-01T00:00:00Z',
          underlyings: { [name]: { index: 'x' } },
          positions: [],
        }),
      );
      expectNoStackTrace(result);
      expect(result.status).toBe(1);
      expect(result.stderr.length).toBeLessThan(500);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
