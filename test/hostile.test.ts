/**
 * The hostile-input sweep: every command of the command line fed malformed and extreme input
 * (malformed JSON, unknown assets, negative or absurd amounts, NaN, Infinity, exponents, too
 * many decimals, huge keys, deep nesting, prototype names, impossible dates, missing files,
 * folders where files belong, unwritable places). For every row: the exit status, exactly one
 * line on standard error naming the field or option, no stack trace, no hang, and nothing
 * changed (a journal's state hash, a report folder that must not appear).
 *
 * The built program runs as a child process (`npm test` builds first). Rows run a few at a time
 * and each is stopped after {@link HANG_MS}: a row that hangs fails as one, quickly.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const main = join(root, 'dist', 'cli', 'main.js');
const DATA = join(root, 'examples', 'data');
const ETH = join(DATA, 'binance-spot_ETHUSDT_1h.csv');

/** A row that runs longer than this has hung. */
const HANG_MS = 20_000;
/** Rows run at once. */
const PARALLEL = 4;
/** Longest error line accepted: input is quoted cut short, never whole. */
const LINE_MAX = 1_500;

interface Outcome {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Runs `fulcrum args` with `input` on standard input, stopped after {@link HANG_MS}. */
function fulcrum(args: readonly string[], input = ''): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], { cwd: dir });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, HANG_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, timedOut });
    });
  });
}

/** Runs every job, {@link PARALLEL} at a time. */
async function pool<T>(jobs: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await (jobs[index] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return results;
}

/** The one line on standard error, checked: no stack trace, bounded, naming `names`. */
function expectOneLine(outcome: Outcome, names: string | RegExp): void {
  expect(outcome.timedOut, 'hung').toBe(false);
  expect(outcome.stderr).not.toMatch(/\n\s+at /);
  expect(outcome.stderr).not.toMatch(/node:internal|triggerUncaughtException/);
  const lines = outcome.stderr.split('\n');
  expect(lines.at(-1), 'ends with a line break').toBe('');
  expect(lines.slice(0, -1), outcome.stderr.slice(0, 400)).toHaveLength(1);
  const line = lines[0] ?? '';
  expect(line.startsWith('fulcrum: ')).toBe(true);
  expect(line.length).toBeLessThan(LINE_MAX);
  if (typeof names === 'string') expect(line).toContain(names);
  else expect(line).toMatch(names);
}

// ---- Fixtures ---------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'fulcrum-hostile-'));
const at = (name: string) => join(dir, name);
const HEADER = 'timestamp,open,high,low,close,volume';
const huge = 'k'.repeat(1_000_000);
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

/** `count` hourly bars from 2020-03-01 at `price` (flat), as CSV lines. */
function bars(count: number, price = '100', start = Date.UTC(2020, 2, 1)): string[] {
  return Array.from({ length: count }, (_, i) => {
    const time = new Date(start + i * 3_600_000).toISOString().replace('.000Z', 'Z');
    return `${time},${price},${price},${price},${price},10`;
  });
}

/** A price file: the header, then the lines. */
function csv(name: string, lines: readonly string[]): string {
  writeFileSync(at(name), `${[HEADER, ...lines].join('\n')}\n`);
  return at(name);
}

/** A population file: the lines as given. */
function population(name: string, lines: readonly string[]): string {
  writeFileSync(at(name), `${lines.join('\n')}\n`);
  return at(name);
}

const account = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'a1',
    collateral: [{ symbol: 'ETH', units: '10' }],
    health: '1.5',
    ...extra,
  });

const files = {
  folder: at('a-folder'),
  file: at('a-file'),
  missing: at('no-such-file.csv'),
  tenBars: at('x_ETHUSDT_1h.csv'),
  twoFlatBars: at('flat_ETHUSDT_1h.csv'),
  impossibleDate: at('feb30_ETHUSDT_1h.csv'),
  hour24: at('h24_ETHUSDT_1h.csv'),
  nanPrice: at('nan_ETHUSDT_1h.csv'),
  infinityPrice: at('inf_ETHUSDT_1h.csv'),
  exponentPrice: at('exp_ETHUSDT_1h.csv'),
  negativePrice: at('neg_ETHUSDT_1h.csv'),
  manyDecimals: at('dec_ETHUSDT_1h.csv'),
  absurdPrice: at('absurd_ETHUSDT_1h.csv'),
  hugeCell: at('huge_ETHUSDT_1h.csv'),
  sevenFields: at('seven_ETHUSDT_1h.csv'),
  backwards: at('back_ETHUSDT_1h.csv'),
  noHeader: at('nohead_ETHUSDT_1h.csv'),
  tinyPrices: at('tiny_PEPEUSDT_1h.csv'),
  debtAsset: at('x_USDCUSDT_1h.csv'),
  noSymbol: at('x__1h.csv'),
  secondEth: at('other_ETHUSDT_1h.csv'),
  badBook: at('x_BTCUSDT_depth.csv'),
};

const populations = {
  nullLine: at('pop-null.jsonl'),
  nullCollateral: at('pop-null-collateral.jsonl'),
  duplicate: at('pop-duplicate.jsonl'),
  unknownField: at('pop-unknown-field.jsonl'),
  hexUnits: at('pop-hex-units.jsonl'),
  exponentUnits: at('pop-exponent-units.jsonl'),
  negativeUnits: at('pop-negative-units.jsonl'),
  numberUnits: at('pop-number-units.jsonl'),
  manyDecimals: at('pop-many-decimals.jsonl'),
  absurdUnits: at('pop-absurd-units.jsonl'),
  nanHealth: at('pop-nan-health.jsonl'),
  lowHealth: at('pop-low-health.jsonl'),
  protoId: at('pop-proto-id.jsonl'),
  hugeId: at('pop-huge-id.jsonl'),
  hugeKey: at('pop-huge-key.jsonl'),
  deep: at('pop-deep.jsonl'),
  lender: at('pop-lender.jsonl'),
  unknownSymbol: at('pop-unknown-symbol.jsonl'),
  tooMany: at('pop-too-many.jsonl'),
  empty: at('pop-empty.jsonl'),
  malformed: at('pop-malformed.jsonl'),
};

function writeFixtures(): void {
  mkdirSync(files.folder);
  writeFileSync(files.file, 'not a folder\n');
  csv('x_ETHUSDT_1h.csv', bars(10));
  csv('flat_ETHUSDT_1h.csv', bars(2));
  const good = bars(30);
  const replace = (name: string, line: string) => csv(name, [...good.slice(0, 5), line]);
  replace('feb30_ETHUSDT_1h.csv', '2021-02-30T00:00:00Z,1,1,1,1,1');
  replace('h24_ETHUSDT_1h.csv', '2020-03-02T24:00:00Z,1,1,1,1,1');
  replace('nan_ETHUSDT_1h.csv', '2020-03-02T05:00:00Z,NaN,1,1,1,1');
  replace('inf_ETHUSDT_1h.csv', '2020-03-02T05:00:00Z,1,Infinity,1,1,1');
  replace('exp_ETHUSDT_1h.csv', '2020-03-02T05:00:00Z,1e2,1,1,1,1');
  replace('neg_ETHUSDT_1h.csv', '2020-03-02T05:00:00Z,1,1,-1,1,1');
  replace('dec_ETHUSDT_1h.csv', `2020-03-02T05:00:00Z,1.${'1'.repeat(19)},2,1,1,1`);
  replace('absurd_ETHUSDT_1h.csv', `2020-03-02T05:00:00Z,1${'0'.repeat(20)},1,1,1,1`);
  replace('huge_ETHUSDT_1h.csv', `2020-03-02T05:00:00Z,${'9'.repeat(2_000_000)},1,1,1,1`);
  replace('seven_ETHUSDT_1h.csv', '2020-03-02T05:00:00Z,1,1,1,1,1,1');
  replace('back_ETHUSDT_1h.csv', '2020-03-01T00:00:00Z,1,1,1,1,1');
  writeFileSync(files.noHeader, `${good.join('\n')}\n`);
  csv('tiny_PEPEUSDT_1h.csv', bars(24 * 10, '0.00000000000001'));
  csv('x_USDCUSDT_1h.csv', bars(24 * 10, '1'));
  csv('x__1h.csv', bars(24 * 10, '1'));
  csv('other_ETHUSDT_1h.csv', bars(24 * 10, '1'));
  writeFileSync(
    files.badBook,
    'timestamp,timestamp_ms,side,level,price,qty\n2021-02-30T23:49:39.146Z,1614728979146,bid,1,20377,1\n',
  );
  const pop = (file: string, lines: readonly string[]) =>
    population(file.slice(dir.length + 1), lines);
  pop(populations.nullLine, ['null']);
  pop(populations.nullCollateral, [account({ collateral: [null] })]);
  pop(populations.duplicate, [account(), account()]);
  pop(populations.unknownField, [account({ leverage: '3' })]);
  pop(populations.hexUnits, [account({ collateral: [{ symbol: 'ETH', units: '0x10' }] })]);
  pop(populations.exponentUnits, [account({ collateral: [{ symbol: 'ETH', units: '1e3' }] })]);
  pop(populations.negativeUnits, [account({ collateral: [{ symbol: 'ETH', units: '-1' }] })]);
  pop(populations.numberUnits, [account({ collateral: [{ symbol: 'ETH', units: 12.5 }] })]);
  pop(populations.manyDecimals, [
    account({ collateral: [{ symbol: 'ETH', units: `1.${'1'.repeat(19)}` }] }),
  ]);
  pop(populations.absurdUnits, [
    account({ collateral: [{ symbol: 'ETH', units: '1' + '0'.repeat(40) }] }),
  ]);
  pop(populations.nanHealth, [account({ health: 'NaN' })]);
  pop(populations.lowHealth, [account({ health: '0.5' })]);
  pop(populations.protoId, [account({ id: '__proto__' })]);
  pop(populations.hugeId, [account({ id: huge })]);
  pop(populations.hugeKey, [`{"id":"a1","${huge}":1}`]);
  pop(populations.deep, [`{"id":"a1","collateral":${deep(100_000)},"health":"1.5"}`]);
  pop(populations.lender, [account({ id: 'lender' })]);
  pop(populations.unknownSymbol, [account({ collateral: [{ symbol: 'toString', units: '1' }] })]);
  pop(populations.tooMany, [
    account({
      collateral: Array.from({ length: 9 }, (_, i) => ({ symbol: `A${i}`, units: '1' })),
    }),
  ]);
  pop(populations.empty, ['', '']);
  pop(populations.malformed, ['{"id":']);
  copyFileSync(ETH, at('copy_ETHUSDT_1h.csv'));
}

// ---- Rows -------------------------------------------------------------------------------------

/** One hostile call: its arguments, standard input, the status and what the line must name. */
interface Row {
  readonly name: string;
  readonly args: readonly string[];
  readonly input?: string;
  readonly status: number;
  readonly names: string | RegExp;
  /** Paths that must not exist afterwards (nothing written for refused input). */
  readonly absent?: readonly string[];
}

const portfolio = (assets: string, balances = '{}') =>
  `{"assets":${assets},"balances":${balances}}`;
const ethAsset = (price: string) =>
  `{"ETH":{"price":${price},"decimals":18,"initialWeight":"0.8","maintenanceWeight":"0.825"}}`;

const HEALTH: Row[] = [
  {
    name: 'malformed JSON',
    args: ['health', '-'],
    input: '{"assets": ',
    status: 1,
    names: 'standard input is not valid JSON',
  },
  {
    name: 'JSON over three lines',
    args: ['health', '-'],
    input: '{\n"assets": oops\n}',
    status: 1,
    names: 'invalid_json',
  },
  {
    name: 'a repeated key',
    args: ['health', '-'],
    input: '{"assets":{},"assets":{}}',
    status: 1,
    names: 'repeats the key',
  },
  {
    name: 'a NaN price',
    args: ['health', '-'],
    input: portfolio(ethAsset('"NaN"')),
    status: 1,
    names: 'at assets.ETH.price',
  },
  {
    name: 'Infinity',
    args: ['health', '-'],
    input: portfolio(ethAsset('Infinity')),
    status: 1,
    names: 'invalid_json',
  },
  {
    name: 'an exponent',
    args: ['health', '-'],
    input: portfolio(ethAsset('"1e3"')),
    status: 1,
    names: 'at assets.ETH.price',
  },
  {
    name: 'a number past JSON range',
    args: ['health', '-'],
    input: portfolio(ethAsset('1e400')),
    status: 1,
    names: 'at assets.ETH.price',
  },
  {
    name: 'a negative amount',
    args: ['health', '-'],
    input: portfolio(ethAsset('"2000"'), '{"ETH":"-1e2"}'),
    status: 1,
    names: 'at balances.ETH',
  },
  {
    name: 'an absurd amount',
    args: ['health', '-'],
    input: portfolio(ethAsset('"2000"'), `{"ETH":"${'9'.repeat(95)}"}`),
    status: 1,
    names: 'at balances.ETH',
  },
  {
    name: 'too many decimals',
    args: ['health', '-'],
    input: portfolio(ethAsset('"2000"'), `{"ETH":"1.${'1'.repeat(19)}"}`),
    status: 1,
    names: 'too_many_decimals at balances.ETH',
  },
  {
    name: 'an unknown asset',
    args: ['health', '-'],
    input: portfolio('{}', '{"DOGE":"1"}'),
    status: 1,
    names: 'unknown_asset at balances.DOGE',
  },
  {
    name: 'a prototype name as an asset',
    args: ['health', '-'],
    input: portfolio('{}', '{"__proto__":"1"}'),
    status: 1,
    names: 'at balances.__proto__',
  },
  {
    name: 'toString as an asset',
    args: ['health', '-'],
    input: portfolio('{}', '{"toString":"1"}'),
    status: 1,
    names: 'at balances.toString',
  },
  {
    name: 'a huge key',
    args: ['health', '-'],
    input: portfolio(`{"${huge}":{}}`),
    status: 1,
    names: /at assets\."k+…" \(1000000 characters\)/,
  },
  {
    name: 'deep nesting',
    args: ['health', '-'],
    input: portfolio(deep(100_000)),
    status: 1,
    names: 'at assets',
  },
  { name: 'a missing file', args: ['health', files.missing], status: 1, names: 'cannot read' },
  { name: 'a folder', args: ['health', files.folder], status: 1, names: 'EISDIR' },
  { name: 'two files', args: ['health', 'a', 'b'], status: 2, names: 'usage: fulcrum health' },
];

const CALIBRATE: Row[] = [
  ...(
    [
      ['from', '2021-02-30'],
      ['from', '2020-03-11T24:00:00Z'],
      ['to', '2020-13-01'],
      ['to', '20200311'],
      ['size', '0x10'],
      ['size', ' 1'],
      ['size', '1e6'],
      ['size', 'NaN'],
      ['size', 'Infinity'],
      ['size', '-5'],
      ['size', '1' + '0'.repeat(300)],
      ['confidence', '1'],
      ['confidence', '0.99,0.999,0.9'],
      ['horizon', '0'],
      ['horizon', '99999d'],
      ['penalty', '1'],
      ['min-bars', '1'],
      ['min-bars', '0x10'],
    ] as const
  ).map(([option, value]): Row => ({
    name: `--${option} ${value.slice(0, 24)}`,
    args: ['calibrate', ETH, `--${option}`, value],
    status: 2,
    names: `at --${option}`,
  })),
  {
    name: '--from after --to',
    args: ['calibrate', ETH, '--from', '2020-03-12', '--to', '2020-03-11'],
    status: 2,
    names: '--from must be before --to',
  },
  {
    name: 'two flat bars (no sample)',
    args: ['calibrate', files.twoFlatBars],
    status: 1,
    names: 'fewer than the 24',
  },
  {
    name: 'ten bars, under the minimum',
    args: ['calibrate', files.tenBars],
    status: 1,
    names: 'x_ETHUSDT_1h.csv',
  },
  {
    name: 'an impossible date in a file',
    args: ['calibrate', files.impossibleDate],
    status: 1,
    names: 'feb30_ETHUSDT_1h.csv:7',
  },
  {
    name: 'hour 24 in a file',
    args: ['calibrate', files.hour24],
    status: 1,
    names: 'h24_ETHUSDT_1h.csv:7',
  },
  {
    name: 'NaN in a file',
    args: ['calibrate', files.nanPrice],
    status: 1,
    names: 'nan_ETHUSDT_1h.csv:7 open',
  },
  {
    name: 'Infinity in a file',
    args: ['calibrate', files.infinityPrice],
    status: 1,
    names: 'inf_ETHUSDT_1h.csv:7 high',
  },
  {
    name: 'an exponent in a file',
    args: ['calibrate', files.exponentPrice],
    status: 1,
    names: 'exp_ETHUSDT_1h.csv:7 open',
  },
  {
    name: 'a negative price in a file',
    args: ['calibrate', files.negativePrice],
    status: 1,
    names: 'neg_ETHUSDT_1h.csv:7 low',
  },
  {
    name: 'too many decimals in a file',
    args: ['calibrate', files.manyDecimals],
    status: 1,
    names: 'dec_ETHUSDT_1h.csv:7 open',
  },
  {
    name: 'an absurd price in a file',
    args: ['calibrate', files.absurdPrice],
    status: 1,
    names: 'absurd_ETHUSDT_1h.csv:7 open',
  },
  {
    name: 'a two-million-digit cell',
    args: ['calibrate', files.hugeCell],
    status: 1,
    names: 'huge_ETHUSDT_1h.csv:7 open',
  },
  {
    name: 'seven fields',
    args: ['calibrate', files.sevenFields],
    status: 1,
    names: 'seven_ETHUSDT_1h.csv:7',
  },
  {
    name: 'times going back',
    args: ['calibrate', files.backwards],
    status: 1,
    names: 'back_ETHUSDT_1h.csv:7',
  },
  {
    name: 'no header',
    args: ['calibrate', files.noHeader],
    status: 1,
    names: 'nohead_ETHUSDT_1h.csv:1',
  },
  {
    name: 'a file naming no asset',
    args: ['calibrate', files.noSymbol],
    status: 1,
    names: "x__1h.csv: the file's name gives no asset symbol",
  },
  { name: 'a missing file', args: ['calibrate', files.missing], status: 1, names: 'cannot read' },
  { name: 'a folder', args: ['calibrate', files.folder], status: 1, names: 'EISDIR' },
  {
    name: 'a folder as the order book',
    args: ['calibrate', ETH, '--order-book', files.folder],
    status: 1,
    names: 'EISDIR',
  },
  {
    name: 'an impossible date in the order book',
    args: ['calibrate', ETH, '--order-book', files.badBook],
    status: 1,
    names: 'x_BTCUSDT_depth.csv:2',
  },
  { name: 'no file', args: ['calibrate'], status: 2, names: 'usage: fulcrum calibrate' },
];

const ORACLE: Row[] = [
  ...(
    [
      ['[]', '--oracle'],
      ['null', '--oracle'],
      ['1', '--oracle'],
      ['"quorum"', '--oracle'],
      ['{', '--oracle is not valid JSON'],
      ['{"quorum":0}', 'at --oracle.quorum'],
      ['{"quorum":1e400}', 'at --oracle.quorum'],
      ['{"maxDeviation":"NaN"}', 'at --oracle.maxDeviation'],
      ['{"maxDeviation":"1e-2"}', 'at --oracle.maxDeviation'],
      ['{"bogus":1}', 'at --oracle.bogus'],
      ['{"__proto__":{"quorum":3}}', 'at --oracle.__proto__'],
      ['{"quorum":1,"quorum":2}', 'repeats the key'],
      [`{"${'q'.repeat(100_000)}":1}`, /at --oracle\."q+…"/],
      [`{"policy":${deep(10_000)}}`, 'at --oracle.policy'],
    ] as const
  ).map(([oracle, names]): Row => ({
    name: `--oracle ${oracle.slice(0, 30)}`,
    args: ['oracle', 'replay', ETH, '--oracle', oracle],
    status: 1,
    names,
  })),
  {
    name: 'a file naming no asset',
    args: ['oracle', 'replay', files.noSymbol],
    status: 1,
    names: "x__1h.csv: the file's name gives no asset symbol",
  },
  {
    name: 'an impossible date in a file',
    args: ['oracle', 'replay', files.impossibleDate],
    status: 1,
    names: 'feb30_ETHUSDT_1h.csv:7',
  },
  {
    name: 'a missing file',
    args: ['oracle', 'replay', files.missing],
    status: 1,
    names: 'cannot read',
  },
  { name: 'a folder', args: ['oracle', 'replay', files.folder], status: 1, names: 'EISDIR' },
  { name: 'no file', args: ['oracle', 'replay'], status: 2, names: 'usage: fulcrum oracle replay' },
  {
    name: 'not replay',
    args: ['oracle', 'toString', ETH],
    status: 2,
    names: 'usage: fulcrum oracle replay',
  },
];

/** Every simulate row writes (if anything) into its own folder, which must not appear. */
let simulateRow = 0;
function simulate(
  name: string,
  args: readonly string[],
  status: number,
  names: string | RegExp,
): Row {
  const out = at(`sim-out-${++simulateRow}`);
  return {
    name,
    args: ['simulate', ...args, '--quiet', '--out', out],
    status,
    names,
    absent: [out],
  };
}

const SCENARIO = ['--scenario', 'black-thursday'];
const NUMERIC_OPTIONS = [
  'accounts',
  'seed',
  'book-value',
  'health-median',
  'liquidity',
  'recovery',
  'liquidator-capital',
  'liquidator-delay',
  'step',
  'jobs',
] as const;
const BAD_NUMBERS = ['0x10', ' 1', '1e3', 'NaN', 'Infinity', '-1', '1' + '0'.repeat(300)] as const;

const SIMULATE: Row[] = [
  // Every option gets two of the malformed numbers, every malformed number several options (one
  // parser reads them all; src/cli/options.test.ts tries each number against it).
  ...NUMERIC_OPTIONS.flatMap((option, i) =>
    [BAD_NUMBERS[i % BAD_NUMBERS.length], BAD_NUMBERS[(i + 3) % BAD_NUMBERS.length]].map(
      (value = '') =>
        simulate(
          `--${option} ${value.slice(0, 12)}`,
          [...SCENARIO, `--${option}`, value],
          2,
          `at --${option}`,
        ),
    ),
  ),
  ...BAD_NUMBERS.map((value) =>
    simulate(
      `--path-seed ${value.slice(0, 12)}`,
      ['--scenario', 'synthetic', '--path-seed', value],
      2,
      'at --path-seed',
    ),
  ),
  simulate(
    '--liquidator-capital 1e300',
    [...SCENARIO, '--liquidator-capital', '1e300'],
    2,
    'at --liquidator-capital',
  ),
  simulate(
    '--liquidator-capital past its range',
    [...SCENARIO, '--liquidator-capital', '1000'],
    2,
    'at --liquidator-capital',
  ),
  simulate('--accounts 0', [...SCENARIO, '--accounts', '0'], 2, 'at --accounts'),
  simulate('--from 2021-02-30', [...SCENARIO, '--from', '2021-02-30'], 2, 'at --from'),
  simulate('--to T24:00:00Z', [...SCENARIO, '--to', '2020-03-12T24:00:00Z'], 2, 'at --to'),
  simulate('--from in year 0', [...SCENARIO, '--from', '0000-01-01'], 2, 'at --from'),
  simulate('--policy ,', [...SCENARIO, '--policy', ','], 2, 'at --policy'),
  simulate('--policy empty', [...SCENARIO, '--policy', ''], 2, 'at --policy'),
  simulate('--policy twice', [...SCENARIO, '--policy', 'partial,partial'], 2, 'at --policy'),
  simulate('--policy toString', [...SCENARIO, '--policy', 'toString'], 2, 'at --policy'),
  simulate('--policy huge', [...SCENARIO, '--policy', 'p'.repeat(100_000)], 2, 'at --policy'),
  simulate('--sweep of nothing known', [...SCENARIO, '--sweep', 'gravity=1'], 2, 'at --sweep'),
  simulate(
    '--sweep of a hex value',
    [...SCENARIO, '--sweep', 'liquidity=0x10'],
    2,
    'at --liquidity',
  ),
  simulate('--impact cubic', [...SCENARIO, '--impact', 'cubic'], 2, 'at --impact'),
  simulate('--scenario toString', ['--scenario', 'toString'], 1, 'at scenario'),
  simulate('--scenario huge', ['--scenario', 's'.repeat(100_000)], 1, /unknown scenario "s+…"/),
  simulate('files without --prices', [...SCENARIO, ETH], 2, '--prices'),
  simulate('neither --scenario nor --prices', [], 2, '--scenario NAME or --prices FILE'),
  simulate(
    'population: null',
    [...SCENARIO, '--population', populations.nullLine],
    1,
    'pop-null.jsonl:1',
  ),
  simulate(
    'population: [null]',
    [...SCENARIO, '--population', populations.nullCollateral],
    1,
    'pop-null-collateral.jsonl:1 collateral[0]',
  ),
  simulate(
    'population: a repeated id',
    [...SCENARIO, '--population', populations.duplicate],
    1,
    'pop-duplicate.jsonl:2 id',
  ),
  simulate(
    'population: an unknown field',
    [...SCENARIO, '--population', populations.unknownField],
    1,
    'leverage',
  ),
  simulate(
    'population: hex units',
    [...SCENARIO, '--population', populations.hexUnits],
    1,
    'collateral[0].units',
  ),
  simulate(
    'population: an exponent',
    [...SCENARIO, '--population', populations.exponentUnits],
    1,
    'collateral[0].units',
  ),
  simulate(
    'population: negative units',
    [...SCENARIO, '--population', populations.negativeUnits],
    1,
    'collateral[0].units',
  ),
  simulate(
    'population: units as a number',
    [...SCENARIO, '--population', populations.numberUnits],
    1,
    'collateral[0].units',
  ),
  simulate(
    'population: too many decimals',
    [...SCENARIO, '--population', populations.manyDecimals],
    1,
    'collateral[0].units',
  ),
  simulate(
    'population: absurd units',
    [...SCENARIO, '--population', populations.absurdUnits],
    1,
    'collateral[0].units',
  ),
  simulate(
    'population: NaN health',
    [...SCENARIO, '--population', populations.nanHealth],
    1,
    'pop-nan-health.jsonl:1 health',
  ),
  simulate(
    'population: health below 1',
    [...SCENARIO, '--population', populations.lowHealth],
    1,
    'pop-low-health.jsonl:1 health',
  ),
  simulate(
    'population: id __proto__',
    [...SCENARIO, '--population', populations.protoId],
    1,
    'pop-proto-id.jsonl:1 id',
  ),
  simulate(
    'population: a huge id',
    [...SCENARIO, '--population', populations.hugeId],
    1,
    'pop-huge-id.jsonl:1 id',
  ),
  simulate(
    'population: a huge key',
    [...SCENARIO, '--population', populations.hugeKey],
    1,
    /pop-huge-key\.jsonl:1\."k+…"/,
  ),
  simulate(
    'population: deep nesting',
    [...SCENARIO, '--population', populations.deep],
    1,
    'pop-deep.jsonl:1 collateral',
  ),
  simulate(
    "population: the simulator's own account",
    [...SCENARIO, '--population', populations.lender],
    1,
    'at --population',
  ),
  simulate(
    'population: an asset without prices',
    [...SCENARIO, '--population', populations.unknownSymbol],
    1,
    'at --population',
  ),
  simulate(
    'population: nine assets',
    [...SCENARIO, '--population', populations.tooMany],
    1,
    'pop-too-many.jsonl:1 collateral',
  ),
  simulate(
    'population: no accounts',
    [...SCENARIO, '--population', populations.empty],
    1,
    'pop-empty.jsonl',
  ),
  simulate(
    'population: malformed JSON',
    [...SCENARIO, '--population', populations.malformed],
    1,
    'pop-malformed.jsonl:1',
  ),
  simulate(
    'population: a missing file',
    [...SCENARIO, '--population', files.missing],
    1,
    'cannot read',
  ),
  simulate('population: a folder', [...SCENARIO, '--population', files.folder], 1, 'EISDIR'),
  simulate(
    'prices near 1e-14',
    ['--prices', files.tinyPrices, '--accounts', '20'],
    1,
    'at --book-value',
  ),
  simulate(
    'prices of the debt asset',
    ['--prices', files.debtAsset, '--accounts', '20'],
    1,
    'at --prices',
  ),
  simulate(
    'a file naming no asset',
    ['--prices', files.noSymbol, '--accounts', '20'],
    1,
    "x__1h.csv: the file's name gives no asset symbol",
  ),
  simulate('two files of one asset', ['--prices', ETH, files.secondEth], 2, 'at --prices'),
  simulate(
    'an impossible date in a file',
    ['--prices', files.impossibleDate],
    1,
    'feb30_ETHUSDT_1h.csv:7',
  ),
  simulate('a missing price file', ['--prices', files.missing], 1, 'cannot read'),
  simulate('a folder as a price file', ['--prices', files.folder], 1, 'EISDIR'),
  simulate(
    'seventeen price files',
    ['--prices', ...Array.from({ length: 17 }, (_, i) => `${i}_ETHUSDT.csv`)],
    2,
    'at --prices',
  ),
  {
    name: '--out naming an existing file',
    args: ['simulate', ...SCENARIO, '--accounts', '20', '--quiet', '--out', files.file],
    status: 1,
    names: 'at --out',
  },
  {
    name: '--out inside a file',
    args: [
      'simulate',
      ...SCENARIO,
      '--accounts',
      '20',
      '--quiet',
      '--out',
      join(files.file, 'sub'),
    ],
    status: 1,
    names: 'at --out',
  },
  {
    name: '--out /proc/nope (a place that cannot hold a folder)',
    args: ['simulate', ...SCENARIO, '--accounts', '20', '--quiet', '--out', '/proc/nope'],
    status: 1,
    names: 'at --out',
  },
];

const journal = at('journal');
const story = at('story.jsonl');
const hostileLines = at('hostile.jsonl');

const RUN: Row[] = [
  {
    name: 'a missing file (no journal made)',
    args: ['run', files.missing, '--data', at('run-new')],
    status: 1,
    names: 'cannot read',
    absent: [at('run-new')],
  },
  {
    name: 'a folder as the file',
    args: ['run', files.folder, '--memory'],
    status: 1,
    names: 'EISDIR',
  },
  {
    name: '--data naming a file',
    args: ['run', '-', '--data', files.file],
    status: 1,
    names: files.file,
  },
  {
    name: '--data /proc/nope',
    args: ['run', '-', '--data', '/proc/nope'],
    status: 1,
    names: '/proc/nope',
  },
  { name: '--data without a value', args: ['run', '-', '--data'], status: 2, names: '--data' },
  {
    name: '--memory with --data',
    args: ['run', '-', '--memory', '--data', journal],
    status: 2,
    names: '--memory',
  },
  { name: 'two files', args: ['run', 'a', 'b'], status: 2, names: 'usage: fulcrum run' },
  {
    name: 'an option of another command',
    args: ['run', '-', '--policy', 'all'],
    status: 2,
    names: '--policy',
  },
  {
    name: 'demo with an argument',
    args: ['demo', 'extra'],
    status: 2,
    names: 'usage: fulcrum demo',
  },
  {
    name: 'demo --data naming a file',
    args: ['demo', '--data', files.file],
    status: 1,
    names: files.file,
  },
  {
    name: 'liquidations: a missing file',
    args: ['liquidations', files.missing],
    status: 1,
    names: 'cannot read',
  },
  {
    name: 'liquidations: a folder',
    args: ['liquidations', files.folder],
    status: 1,
    names: 'EISDIR',
  },
  {
    name: 'liquidations: --data',
    args: ['liquidations', story, '--data', journal],
    status: 2,
    names: '--data',
  },
  {
    name: 'an unknown command',
    args: ['toString'],
    status: 2,
    names: 'unknown command "toString"',
  },
  {
    name: 'a huge unknown command',
    args: ['c'.repeat(100_000)],
    status: 2,
    names: /unknown command "c+…"/,
  },
  {
    name: 'a huge unknown option',
    args: ['run', `--${'o'.repeat(100_000)}`],
    status: 2,
    names: /unknown option "--o+…"/,
  },
];

const HISTORY: Row[] = [
  ...['0x10', ' 1', '0', '1e3', '-1', 'NaN', '1' + '0'.repeat(30)].map((limit): Row => ({
    name: `history account --limit ${limit.slice(0, 12)}`,
    args: ['history', 'account', 'alice', '--limit', limit, '--data', journal],
    status: 2,
    names: 'at --limit',
  })),
  {
    name: 'history events 2021-02-30',
    args: ['history', 'events', '2021-02-30', '2021-03-01', '--data', journal],
    status: 2,
    names: 'FROM',
  },
  {
    name: 'history events T24:00:00Z',
    args: ['history', 'events', '0', '2020-03-12T24:00:00Z', '--data', journal],
    status: 2,
    names: 'TO',
  },
  {
    name: 'history events of a huge time',
    args: ['history', 'events', '0', '9'.repeat(100_000), '--data', journal],
    status: 2,
    names: 'TO',
  },
  {
    name: 'history state -1',
    args: ['history', 'state', '-1', '--data', journal],
    status: 2,
    names: 'unknown option "-1"',
  },
  {
    name: 'history state 1e3',
    args: ['history', 'state', '1e3', '--data', journal],
    status: 2,
    names: 'SEQ',
  },
  {
    name: 'history state past the journal',
    args: ['history', 'state', '999999', '--data', journal],
    status: 1,
    names: 'no record 999999',
  },
  {
    name: 'history of no journal (none made)',
    args: ['history', 'account', 'alice', '--data', at('history-none')],
    status: 1,
    names: 'history-none',
    absent: [at('history-none')],
  },
  {
    name: 'history without a question',
    args: ['history'],
    status: 2,
    names: 'usage: fulcrum history',
  },
  {
    name: 'verify --data naming a file',
    args: ['verify', '--data', files.file],
    status: 1,
    names: files.file,
  },
  {
    name: 'verify of no journal (none made)',
    args: ['verify', '--data', at('verify-none')],
    status: 1,
    names: 'verify-none',
    absent: [at('verify-none')],
  },
  {
    name: 'verify --data /proc/nope',
    args: ['verify', '--data', '/proc/nope'],
    status: 1,
    names: '/proc/nope',
  },
  {
    name: 'verify with an argument',
    args: ['verify', 'extra'],
    status: 2,
    names: 'usage: fulcrum verify',
  },
];

const DERIVATIVES: Row[] = [
  {
    name: 'greeks: malformed JSON',
    args: ['greeks', '-'],
    input: '{"time":',
    status: 1,
    names: 'invalid_json',
  },
  {
    name: 'greeks: an impossible date',
    args: ['greeks', '-'],
    input: '{"time":"2021-02-30T00:00:00Z","underlyings":{},"positions":[]}',
    status: 1,
    names: 'at time',
  },
  {
    name: 'greeks: a NaN index',
    args: ['greeks', '-'],
    input:
      '{"time":"2030-01-01T00:00:00Z","underlyings":{"ETH":{"index":"NaN","volatility":"0.5"}},"positions":[]}',
    status: 1,
    names: 'at underlyings.ETH.index',
  },
  {
    name: 'greeks: toString as an underlying',
    args: ['greeks', '-'],
    input:
      '{"time":"2030-01-01T00:00:00Z","underlyings":{"toString":{"index":"NaN","volatility":"0.5"}},"positions":[]}',
    status: 1,
    names: 'at underlyings.toString',
  },
  {
    name: 'greeks: a huge key',
    args: ['greeks', '-'],
    input: `{"time":"2030-01-01T00:00:00Z","${huge}":1}`,
    status: 1,
    names: /"k+…"/,
  },
  {
    name: 'greeks: a missing file',
    args: ['greeks', files.missing],
    status: 1,
    names: 'cannot read',
  },
  {
    name: 'greeks: two files',
    args: ['greeks', 'a', 'b'],
    status: 2,
    names: 'usage: fulcrum greeks',
  },
  {
    name: 'greeks --account: a malformed sub-account',
    args: ['greeks', '--account', 'ann/01', '--data', journal],
    status: 2,
    names: 'at --account',
  },
  {
    name: 'greeks --account: sub-account 256',
    args: ['greeks', '--account', 'ann/256', '--data', journal],
    status: 2,
    names: 'at --account',
  },
  {
    name: 'greeks --account: a huge name',
    args: ['greeks', '--account', 'k'.repeat(100_000), '--data', journal],
    status: 2,
    names: /at --account: .*"k+…" \(100000 characters\)/,
  },
  {
    name: 'greeks --account: a sub-account without positions',
    args: ['greeks', '--account', 'toString', '--data', journal],
    status: 1,
    names: 'no_position at --account',
  },
  {
    name: 'greeks --account: no journal (none made)',
    args: ['greeks', '--account', 'dan', '--data', at('greeks-none')],
    status: 1,
    names: 'greeks-none',
    absent: [at('greeks-none')],
  },
  {
    name: 'greeks --account with a file',
    args: ['greeks', 'a', '--account', 'dan'],
    status: 2,
    names: 'usage: fulcrum greeks',
  },
  {
    name: 'greeks: --data without --account',
    args: ['greeks', '-', '--data', journal],
    status: 2,
    names: 'option --data does not apply here',
  },
  {
    name: 'derivatives: no such command',
    args: ['derivatives', '-'],
    status: 2,
    names: 'unknown command "derivatives"',
  },
  {
    name: 'history --derivatives: no such option',
    args: ['history', 'account', 'ann', '--derivatives', '--data', journal],
    status: 2,
    names: 'unknown option "--derivatives"',
  },
];

// ---- Engine commands through `fulcrum run --data`: refused lines leave the state as it was ---

const T = 1060;
const command = (fields: Record<string, unknown>) => JSON.stringify({ time: T, ...fields });
const alice = { account: 'alice', subAccount: 0 };
const bob = { account: 'bob', subAccount: 0 };

/** A journal with three pools (SOL priced by its oracle), lenders, alice healthy, bob liquidatable. */
const STORY = [
  '{"type":"list-asset","time":1000,"config":{"symbol":"USDC","decimals":6,"initialWeight":"0.85","maintenanceWeight":"0.875"},"price":"1"}',
  '{"type":"list-asset","time":1000,"config":{"symbol":"ETH","decimals":18,"initialWeight":"0.8","maintenanceWeight":"0.825"},"price":"2000"}',
  '{"type":"list-asset","time":1000,"config":{"symbol":"SOL","decimals":9,"initialWeight":"0.5","maintenanceWeight":"0.6","oracle":{"quorum":1}},"price":"20"}',
  '{"type":"deposit","time":1000,"account":"lena","asset":"USDC","amount":"1000000"}',
  '{"type":"deposit","time":1000,"account":"lena","asset":"ETH","amount":"100"}',
  '{"type":"deposit","time":1000,"account":"@insurance","asset":"USDC","amount":"1000"}',
  '{"type":"deposit","time":1000,"account":"alice","asset":"ETH","amount":"10"}',
  '{"type":"borrow","time":1000,"account":"alice","asset":"USDC","amount":"10000"}',
  '{"type":"deposit","time":1000,"account":"bob","asset":"ETH","amount":"1"}',
  '{"type":"borrow","time":1000,"account":"bob","asset":"USDC","amount":"1500"}',
  '{"type":"quote","time":1000,"asset":"SOL","source":"cex","price":"20"}',
  // Derivatives: a perpetual, a dated future and a call on ETH, a perpetual on SOL whose mark
  // comes through its oracle; dan long 1 from eve; eve/1 isolated, long 0.1.
  '{"type":"list-instrument","time":1000,"config":{"kind":"perpetual","symbol":"ETH-PERP","underlying":"ETH","initialMargin":"0.1","maintenanceMargin":"0.05"},"price":"2000"}',
  '{"type":"list-instrument","time":1000,"config":{"kind":"future","symbol":"ETH-F","underlying":"ETH","expiry":2000000000,"initialMargin":"0.1","maintenanceMargin":"0.05"},"price":"2000"}',
  '{"type":"list-instrument","time":1000,"config":{"kind":"option","symbol":"ETH-C","underlying":"ETH","expiry":2000000000,"strike":"2000","right":"call"},"price":"100"}',
  '{"type":"list-instrument","time":1000,"config":{"kind":"perpetual","symbol":"SOL-PERP","underlying":"SOL","oracle":{"quorum":1}},"price":"20"}',
  '{"type":"deposit","time":1000,"account":"dan","asset":"USDC","amount":"10000"}',
  '{"type":"deposit","time":1000,"account":"eve","asset":"USDC","amount":"10000"}',
  '{"type":"trade","time":1000,"buyer":{"account":"dan"},"seller":{"account":"eve"},"instrument":"ETH-PERP","size":"1","price":"2000"}',
  '{"type":"set-mode","time":1000,"account":"eve","subAccount":1,"mode":"isolated"}',
  '{"type":"deposit","time":1000,"account":"eve","subAccount":1,"asset":"USDC","amount":"1000"}',
  '{"type":"trade","time":1000,"buyer":{"account":"eve","subAccount":1},"seller":{"account":"dan"},"instrument":"ETH-PERP","size":"0.1","price":"2000"}',
  '{"type":"set-price","time":1060,"asset":"ETH","price":"1500"}',
];

const listing = (config: Record<string, unknown>, price = '1') =>
  command({
    type: 'list-asset',
    price,
    config: {
      symbol: 'DOGE',
      decimals: 18,
      initialWeight: '0.5',
      maintenanceWeight: '0.6',
      ...config,
    },
  });

const instrument = (config: Record<string, unknown>, price = '2000') =>
  command({
    type: 'list-instrument',
    price,
    config: {
      kind: 'perpetual',
      symbol: 'NEW-PERP',
      underlying: 'ETH',
      initialMargin: '0.1',
      maintenanceMargin: '0.05',
      ...config,
    },
  });

const trade = (fields: Record<string, unknown>) =>
  command({
    type: 'trade',
    buyer: { account: 'dan' },
    seller: { account: 'eve' },
    instrument: 'ETH-PERP',
    size: '1',
    price: '2000',
    ...fields,
  });

const takeover = (fields: Record<string, unknown>) =>
  command({
    type: 'liquidate-position',
    liquidator: { account: 'lena' },
    target: { account: 'dan' },
    instrument: 'ETH-PERP',
    amount: 'max',
    ...fields,
  });

/** [what, the line, the refusal's code, its field]. */
const ENGINE_LINES: readonly (readonly [
  string,
  string,
  string | RegExp,
  string | RegExp | undefined,
])[] = [
  ['malformed JSON', '{"type":"deposit",', 'invalid_json', undefined],
  ['null', 'null', 'invalid_field', 'command'],
  ['an array', '[]', 'invalid_field', 'command'],
  ['a number past JSON range', '1e400', 'invalid_field', 'command'],
  ['Infinity', `{"type":"accrue","time":Infinity,"asset":"ETH"}`, 'invalid_json', undefined],
  [
    'a repeated key',
    `{"type":"accrue","time":${T},"asset":"ETH","asset":"USDC"}`,
    'invalid_json',
    undefined,
  ],
  ['an unknown type', command({ type: 'mint' }), 'unknown_command', 'type'],
  ['toString as the type', command({ type: 'toString' }), 'unknown_command', 'type'],
  ['__proto__ as the type', command({ type: '__proto__' }), 'unknown_command', 'type'],
  ['no type', command({}), 'invalid_field', 'type'],
  [
    'a time before the engine',
    JSON.stringify({ type: 'accrue', time: 5, asset: 'ETH' }),
    'time_went_backwards',
    'time',
  ],
  [
    'a negative time',
    JSON.stringify({ type: 'accrue', time: -1, asset: 'ETH' }),
    'invalid_number',
    'time',
  ],
  [
    'a time past the year 9999',
    JSON.stringify({ type: 'accrue', time: 1e13, asset: 'ETH' }),
    'invalid_number',
    'time',
  ],
  [
    'the year 9999, within the range of times',
    JSON.stringify({ type: 'accrue', time: 253_402_300_799, asset: 'ETH' }),
    'time_jump_too_large',
    'time',
  ],
  [
    'configure-venue: a bound of zero',
    command({ type: 'configure-venue', config: { timeJumpSecondsMax: 0 } }),
    'invalid_number',
    'config.timeJumpSecondsMax',
  ],
  [
    'configure-venue: an unknown field',
    command({ type: 'configure-venue', config: { valueOf: 1 } }),
    'invalid_field',
    'config.valueOf',
  ],
  [
    'deposit: the account @backstop',
    command({ type: 'deposit', account: '@backstop', asset: 'USDC', amount: '1' }),
    'reserved_account',
    'account',
  ],
  [
    'a time as a string',
    JSON.stringify({ type: 'accrue', time: '1060', asset: 'ETH' }),
    'invalid_field',
    'time',
  ],
  [
    'a huge key',
    `{"type":"deposit","time":${T},"${huge}":1}`,
    'invalid_field',
    /^"k+…" \(1000000 characters\)$/,
  ],
  [
    'deep nesting',
    `{"type":"deposit","time":${T},"account":${deep(100_000)},"asset":"USDC","amount":"1"}`,
    'invalid_field',
    'account',
  ],
  [
    'a line over 1 MiB',
    `{"type":"deposit","time":${T},"account":"alice","asset":"USDC","amount":"1","pad":"${'p'.repeat(1_100_000)}"}`,
    'limit_exceeded',
    /^line \d+$/,
  ],
  ['list-asset: no config', command({ type: 'list-asset', price: '1' }), 'invalid_field', 'config'],
  [
    'list-asset: already listed',
    listing({ symbol: 'ETH' }),
    'asset_already_listed',
    'config.symbol',
  ],
  [
    'list-asset: decimals as a string',
    listing({ decimals: '18' }),
    'invalid_field',
    'config.decimals',
  ],
  ['list-asset: decimals 1000', listing({ decimals: 1000 }), 'invalid_number', 'config.decimals'],
  [
    'list-asset: a NaN weight',
    listing({ initialWeight: 'NaN' }),
    'invalid_number',
    'config.initialWeight',
  ],
  [
    'list-asset: a weight above 1',
    listing({ maintenanceWeight: '2' }),
    /^invalid_(number|config)$/,
    'config.maintenanceWeight',
  ],
  [
    'list-asset: symbol __proto__',
    listing({ symbol: '__proto__' }),
    /^invalid_(field|config)$/,
    'config.symbol',
  ],
  ['list-asset: a negative price', listing({}, '-1'), 'invalid_number', 'price'],
  ['list-asset: an exponent', listing({}, '1e3'), 'invalid_number', 'price'],
  [
    'list-asset: constructor as a field',
    listing({ constructor: 1 }),
    'invalid_field',
    'config.constructor',
  ],
  [
    'set-price: toString as the asset',
    command({ type: 'set-price', asset: 'toString', price: '1' }),
    'unknown_asset',
    'asset',
  ],
  [
    'set-price: zero',
    command({ type: 'set-price', asset: 'ETH', price: '0' }),
    'invalid_number',
    'price',
  ],
  [
    'set-price: absurd',
    command({ type: 'set-price', asset: 'ETH', price: `1${'0'.repeat(20)}` }),
    'invalid_number',
    'price',
  ],
  [
    'set-price: too many decimals',
    command({ type: 'set-price', asset: 'ETH', price: `1.${'1'.repeat(19)}` }),
    'too_many_decimals',
    'price',
  ],
  [
    'set-price: a number',
    command({ type: 'set-price', asset: 'ETH', price: 1500 }),
    'invalid_number',
    'price',
  ],
  [
    'set-price: an oracle asset',
    command({ type: 'set-price', asset: 'SOL', price: '20' }),
    'oracle_managed',
    'asset',
  ],
  [
    'set-weights: constructor as the asset',
    command({
      type: 'set-weights',
      asset: 'constructor',
      initialWeight: '0.5',
      maintenanceWeight: '0.6',
    }),
    'unknown_asset',
    'asset',
  ],
  [
    'set-weights: out of order',
    command({ type: 'set-weights', asset: 'ETH', initialWeight: '0.9', maintenanceWeight: '0.6' }),
    'invalid_config',
    /Weight/,
  ],
  [
    'set-weights: NaN',
    command({ type: 'set-weights', asset: 'ETH', initialWeight: 'NaN', maintenanceWeight: '0.6' }),
    'invalid_number',
    'initialWeight',
  ],
  [
    'quote: an asset without an oracle',
    command({ type: 'quote', asset: 'ETH', source: 'cex', price: '1500' }),
    'no_oracle',
    'asset',
  ],
  [
    'quote: a source with a line break',
    command({ type: 'quote', asset: 'SOL', source: 'a b\nc', price: '20' }),
    'invalid_field',
    'source',
  ],
  [
    'quote: a huge source',
    command({ type: 'quote', asset: 'SOL', source: 's'.repeat(100_000), price: '20' }),
    'invalid_field',
    'source',
  ],
  [
    'quote: Infinity',
    command({ type: 'quote', asset: 'SOL', source: 'cex', price: 'Infinity' }),
    'invalid_number',
    'price',
  ],
  [
    'quote: a negative confidence',
    command({ type: 'quote', asset: 'SOL', source: 'cex', price: '20', confidence: '-1' }),
    'invalid_number',
    'confidence',
  ],
  [
    'deposit: NaN',
    command({ type: 'deposit', ...alice, asset: 'ETH', amount: 'NaN' }),
    'invalid_number',
    'amount',
  ],
  [
    'deposit: an exponent',
    command({ type: 'deposit', ...alice, asset: 'ETH', amount: '1e5' }),
    'invalid_number',
    'amount',
  ],
  [
    'deposit: negative',
    command({ type: 'deposit', ...alice, asset: 'ETH', amount: '-1' }),
    'invalid_number',
    'amount',
  ],
  [
    'deposit: too many decimals',
    command({ type: 'deposit', account: 'carl', asset: 'USDC', amount: '1.0000001' }),
    'too_many_decimals',
    'amount',
  ],
  [
    'deposit: absurd',
    command({ type: 'deposit', ...alice, asset: 'ETH', amount: '9'.repeat(90) }),
    'invalid_number',
    'amount',
  ],
  [
    'deposit: zero',
    command({ type: 'deposit', ...alice, asset: 'ETH', amount: '0' }),
    'zero_amount',
    'amount',
  ],
  [
    'deposit: hasOwnProperty as the asset',
    command({ type: 'deposit', ...alice, asset: 'hasOwnProperty', amount: '1' }),
    'unknown_asset',
    'asset',
  ],
  [
    'deposit: sub-account 256',
    command({ type: 'deposit', account: 'alice', subAccount: 256, asset: 'ETH', amount: '1' }),
    'invalid_number',
    'subAccount',
  ],
  [
    'deposit: sub-account 1.5',
    command({ type: 'deposit', account: 'alice', subAccount: 1.5, asset: 'ETH', amount: '1' }),
    'invalid_field',
    'subAccount',
  ],
  [
    'deposit: a malformed account',
    command({ type: 'deposit', account: 'al ice', asset: 'ETH', amount: '1' }),
    'invalid_field',
    'account',
  ],
  [
    'deposit: an asset the account owes',
    command({ type: 'deposit', ...alice, asset: 'USDC', amount: '1' }),
    'asset_is_borrowed',
    'asset',
  ],
  [
    'withdraw: more than held',
    command({ type: 'withdraw', ...alice, asset: 'ETH', amount: '11' }),
    'insufficient_balance',
    'amount',
  ],
  [
    'withdraw: what backs the debt',
    command({ type: 'withdraw', ...alice, asset: 'ETH', amount: '9' }),
    'insufficient_collateral',
    'amount',
  ],
  [
    'withdraw: Infinity',
    command({ type: 'withdraw', ...alice, asset: 'ETH', amount: 'Infinity' }),
    'invalid_number',
    'amount',
  ],
  [
    'borrow: more than the collateral allows',
    command({ type: 'borrow', ...alice, asset: 'USDC', amount: '100000' }),
    'insufficient_collateral',
    'amount',
  ],
  [
    'borrow: an asset the account supplies',
    command({ type: 'borrow', ...alice, asset: 'ETH', amount: '1' }),
    'asset_is_supplied',
    'asset',
  ],
  [
    'borrow: without collateral',
    command({ type: 'borrow', account: 'carl', asset: 'USDC', amount: '1' }),
    'insufficient_collateral',
    'amount',
  ],
  [
    'repay: no debt',
    command({ type: 'repay', ...alice, asset: 'ETH', amount: '1' }),
    'no_debt',
    'asset',
  ],
  [
    'repay: more than the debt',
    command({ type: 'repay', ...alice, asset: 'USDC', amount: '20000' }),
    'repay_exceeds_debt',
    'amount',
  ],
  [
    'transfer: to itself',
    command({ type: 'transfer', from: alice, to: alice, asset: 'ETH', amount: '1' }),
    'same_account',
    'to',
  ],
  [
    'transfer: valueOf in from',
    command({
      type: 'transfer',
      from: { ...alice, valueOf: 1 },
      to: bob,
      asset: 'ETH',
      amount: '1',
    }),
    'invalid_field',
    'from.valueOf',
  ],
  [
    'transfer: too many decimals',
    command({ type: 'transfer', from: alice, to: bob, asset: 'USDC', amount: '0.0000001' }),
    'too_many_decimals',
    'amount',
  ],
  [
    'accrue: an unknown asset',
    command({ type: 'accrue', asset: 'DOGE' }),
    'unknown_asset',
    'asset',
  ],
  ['accrue: an asset as a number', command({ type: 'accrue', asset: 5 }), 'invalid_field', 'asset'],
  [
    'configure-liquidation: close factor 2',
    command({ type: 'configure-liquidation', config: { closeFactor: '2' } }),
    'invalid_number',
    'config.closeFactor',
  ],
  [
    'configure-liquidation: an unknown field',
    command({ type: 'configure-liquidation', config: { closeFactors: '0.5' } }),
    'invalid_field',
    'config.closeFactors',
  ],
  [
    'configure-liquidation: a negative cap',
    command({ type: 'configure-liquidation', config: { accountCapValue: '-1' } }),
    'invalid_number',
    'config.accountCapValue',
  ],
  [
    'liquidate: a healthy account',
    command({
      type: 'liquidate',
      liquidator: { account: 'lena' },
      target: alice,
      debtAsset: 'USDC',
      collateralAsset: 'ETH',
      amount: 'max',
    }),
    'not_liquidatable',
    'target',
  ],
  [
    'liquidate: toString as the debt asset',
    command({
      type: 'liquidate',
      liquidator: { account: 'lena' },
      target: bob,
      debtAsset: 'toString',
      collateralAsset: 'ETH',
      amount: 'max',
    }),
    'unknown_asset',
    'debtAsset',
  ],
  [
    'liquidate: a penalty bid of 2',
    command({
      type: 'liquidate',
      liquidator: { account: 'lena' },
      target: bob,
      debtAsset: 'USDC',
      collateralAsset: 'ETH',
      amount: 'max',
      maxPenalty: '2',
    }),
    'invalid_number',
    'maxPenalty',
  ],
  [
    'liquidate: NaN',
    command({
      type: 'liquidate',
      liquidator: { account: 'lena' },
      target: bob,
      debtAsset: 'USDC',
      collateralAsset: 'ETH',
      amount: 'NaN',
    }),
    'invalid_number',
    'amount',
  ],
  [
    'backstop: a healthy account',
    command({ type: 'backstop', target: alice, debtAsset: 'USDC', collateralAsset: 'ETH' }),
    /^(not_liquidatable|backstop_not_needed)$/,
    'target',
  ],
  [
    'backstop: valueOf as the collateral',
    command({ type: 'backstop', target: bob, debtAsset: 'USDC', collateralAsset: 'valueOf' }),
    'unknown_asset',
    'collateralAsset',
  ],
  [
    'resolve-bankruptcy: collateral left',
    command({ type: 'resolve-bankruptcy', target: bob }),
    'not_bankrupt',
    'target',
  ],
  [
    'resolve-bankruptcy: a string as the target',
    command({ type: 'resolve-bankruptcy', target: 'bob' }),
    'invalid_field',
    'target',
  ],
  // Derivatives: every command type, malformed, on names that are no instrument (prototype
  // names among them), with absurd sizes, NaN, and against the rules.
  [
    'list-instrument: no config',
    command({ type: 'list-instrument', price: '1' }),
    'invalid_field',
    'config',
  ],
  [
    'list-instrument: already listed',
    instrument({ symbol: 'ETH-PERP' }),
    'already_listed',
    'config.symbol',
  ],
  [
    'list-instrument: the symbol of an asset',
    instrument({ symbol: 'SOL' }),
    'asset_already_listed',
    'config.symbol',
  ],
  [
    'list-instrument: symbol __proto__',
    instrument({ symbol: '__proto__' }),
    /^invalid_(field|config)$/,
    'config.symbol',
  ],
  [
    'list-instrument: constructor as the underlying',
    instrument({ underlying: 'constructor' }),
    'unknown_asset',
    'config.underlying',
  ],
  [
    'list-instrument: an unknown kind',
    instrument({ kind: 'swap' }),
    /^invalid_(field|config)$/,
    'config.kind',
  ],
  [
    'list-instrument: a NaN margin',
    instrument({ initialMargin: 'NaN' }),
    'invalid_number',
    'config.initialMargin',
  ],
  [
    'list-instrument: a penalty at the maintenance margin',
    instrument({ maintenanceMargin: '0.02', liquidationPenalty: '0.02' }),
    'invalid_config',
    'config.liquidationPenalty',
  ],
  [
    'list-instrument: hasOwnProperty as a field',
    instrument({ hasOwnProperty: '1' }),
    'invalid_field',
    'config.hasOwnProperty',
  ],
  [
    'list-instrument: an expiry in the past',
    instrument({ kind: 'future', symbol: 'OLD-F', expiry: 999 }),
    'invalid_config',
    'config.expiry',
  ],
  [
    'list-instrument: an impossible expiry date',
    instrument({ kind: 'future', symbol: 'BAD-F', expiry: '2031-02-30T00:00:00Z' }),
    /^invalid_(field|number)$/,
    'config.expiry',
  ],
  [
    'list-instrument: a negative price',
    instrument({ symbol: 'NEG-PERP' }, '-1'),
    'invalid_number',
    'price',
  ],
  [
    'trade: toString as the instrument',
    trade({ instrument: 'toString' }),
    'unknown_instrument',
    'instrument',
  ],
  [
    'trade: __proto__ as the instrument',
    trade({ instrument: '__proto__' }),
    'unknown_instrument',
    'instrument',
  ],
  ['trade: an instrument as a number', trade({ instrument: 5 }), 'invalid_field', 'instrument'],
  ['trade: a NaN size', trade({ size: 'NaN' }), 'invalid_number', 'size'],
  ['trade: a size with an exponent', trade({ size: '1e3' }), 'invalid_number', 'size'],
  ['trade: a hexadecimal size', trade({ size: '0x10' }), 'invalid_number', 'size'],
  ['trade: a negative size', trade({ size: '-1' }), 'invalid_number', 'size'],
  ['trade: a size of zero', trade({ size: '0' }), /^(invalid_number|zero_amount)$/, 'size'],
  ['trade: an absurd size', trade({ size: '1'.repeat(30) }), 'invalid_number', 'size'],
  ['trade: too many decimals', trade({ size: '0.000000001' }), 'too_many_decimals', 'size'],
  ['trade: a NaN price', trade({ price: 'NaN' }), 'invalid_number', 'price'],
  ['trade: far from the mark', trade({ price: '2300' }), 'price_out_of_band', 'price'],
  ['trade: with itself', trade({ seller: { account: 'dan' } }), 'same_account', 'seller'],
  ['trade: a buyer as a string', trade({ buyer: 'eve' }), 'invalid_field', 'buyer'],
  [
    'trade: valueOf in the buyer',
    trade({ buyer: { account: 'eve', valueOf: 1 } }),
    'invalid_field',
    'buyer.valueOf',
  ],
  [
    'trade: the buyer @backstop',
    trade({ buyer: { account: '@backstop' } }),
    'reserved_account',
    'buyer.account',
  ],
  [
    'trade: new risk for the insurance fund',
    trade({ buyer: { account: '@insurance' } }),
    'reserved_account',
    'buyer',
  ],
  [
    'trade: an account named constructor, with nothing',
    trade({ buyer: { account: 'constructor' } }),
    'insufficient_collateral',
    'buyer',
  ],
  ['trade: beyond the buyer margin', trade({ size: '100' }), 'insufficient_collateral', 'buyer'],
  ['trade: a NaN fee', trade({ buyerFee: 'NaN' }), 'invalid_number', 'buyerFee'],
  [
    'trade: a second instrument in an isolated sub-account',
    trade({
      buyer: { account: 'eve', subAccount: 1 },
      seller: { account: 'dan' },
      instrument: 'ETH-F',
    }),
    'isolated_one_instrument',
    'instrument',
  ],
  ['trade: an unknown field', trade({ leverage: '10' }), 'invalid_field', 'leverage'],
  [
    'settle-funding: not due',
    command({ type: 'settle-funding', instrument: 'ETH-PERP' }),
    'funding_not_due',
    'time',
  ],
  [
    'settle-funding: a future',
    command({ type: 'settle-funding', instrument: 'ETH-F' }),
    'not_perpetual',
    'instrument',
  ],
  [
    'settle-funding: hasOwnProperty',
    command({ type: 'settle-funding', instrument: 'hasOwnProperty' }),
    'unknown_instrument',
    'instrument',
  ],
  [
    'expire: before the expiry',
    command({ type: 'expire', instrument: 'ETH-F' }),
    'not_expired',
    'time',
  ],
  [
    'expire: a perpetual',
    command({ type: 'expire', instrument: 'ETH-PERP' }),
    'not_expiring',
    'instrument',
  ],
  [
    'expire: valueOf',
    command({ type: 'expire', instrument: 'valueOf' }),
    'unknown_instrument',
    'instrument',
  ],
  [
    'set-mode: an unknown mode',
    command({ type: 'set-mode', account: 'carl', mode: 'leveraged' }),
    'invalid_field',
    'mode',
  ],
  [
    'set-mode: a mode as a number',
    command({ type: 'set-mode', account: 'carl', mode: 1 }),
    'invalid_field',
    'mode',
  ],
  [
    'set-mode: with positions',
    command({ type: 'set-mode', account: 'dan', mode: 'portfolio' }),
    'has_positions',
    'mode',
  ],
  [
    'set-mode: the insurance fund',
    command({ type: 'set-mode', account: '@insurance', mode: 'isolated' }),
    'reserved_account',
    'account',
  ],
  [
    'settle-pnl: nothing to settle',
    command({ type: 'settle-pnl', account: 'dan' }),
    'no_pnl',
    'account',
  ],
  [
    'settle-pnl: an account named toString',
    command({ type: 'settle-pnl', account: 'toString' }),
    'no_pnl',
    'account',
  ],
  [
    'settle-pnl: sub-account 256',
    command({ type: 'settle-pnl', account: 'dan', subAccount: 256 }),
    'invalid_number',
    'subAccount',
  ],
  ['liquidate-position: a healthy account', takeover({}), 'not_liquidatable', 'target'],
  ['liquidate-position: no position', takeover({ target: alice }), 'no_position', 'instrument'],
  [
    'liquidate-position: constructor as the instrument',
    takeover({ instrument: 'constructor' }),
    'unknown_instrument',
    'instrument',
  ],
  ['liquidate-position: a NaN amount', takeover({ amount: 'NaN' }), 'invalid_number', 'amount'],
  [
    'liquidate-position: an absurd amount',
    takeover({ amount: '9'.repeat(40) }),
    'invalid_number',
    'amount',
  ],
  [
    'liquidate-position: itself',
    takeover({ liquidator: { account: 'dan' } }),
    'same_account',
    'liquidator',
  ],
  [
    'liquidate-position: the insurance fund as the target',
    takeover({ target: { account: '@insurance' } }),
    'reserved_account',
    'target',
  ],
  [
    'deleverage: not bankrupt',
    command({ type: 'deleverage', target: { account: 'dan' }, instrument: 'ETH-PERP' }),
    'not_bankrupt',
    'target',
  ],
  [
    'deleverage: no position',
    command({ type: 'deleverage', target: alice, instrument: 'ETH-PERP' }),
    'no_position',
    'instrument',
  ],
  [
    'deleverage: valueOf as the instrument',
    command({ type: 'deleverage', target: { account: 'dan' }, instrument: 'valueOf' }),
    'unknown_instrument',
    'instrument',
  ],
  [
    'deleverage: a target as a string',
    command({ type: 'deleverage', target: 'dan', instrument: 'ETH-PERP' }),
    'invalid_field',
    'target',
  ],
  [
    'set-volatility: zero',
    command({ type: 'set-volatility', asset: 'ETH', volatility: '0' }),
    'invalid_number',
    'volatility',
  ],
  [
    'set-volatility: NaN',
    command({ type: 'set-volatility', asset: 'ETH', volatility: 'NaN' }),
    'invalid_number',
    'volatility',
  ],
  [
    'set-volatility: 1001%',
    command({ type: 'set-volatility', asset: 'ETH', volatility: '10.01' }),
    'invalid_number',
    'volatility',
  ],
  [
    'set-volatility: toString as the asset',
    command({ type: 'set-volatility', asset: 'toString', volatility: '0.5' }),
    'unknown_asset',
    'asset',
  ],
  [
    'set-volatility: an instrument',
    command({ type: 'set-volatility', asset: 'ETH-PERP', volatility: '0.5' }),
    'unknown_asset',
    'asset',
  ],
  [
    'set-price: a mark with a stable price',
    command({ type: 'set-price', asset: 'ETH-PERP', price: '2000', stablePrice: '2000' }),
    'invalid_field',
    'stablePrice',
  ],
  [
    'set-price: a mark from an oracle',
    command({ type: 'set-price', asset: 'SOL-PERP', price: '20' }),
    'oracle_managed',
    'asset',
  ],
  [
    'set-price: a NaN mark',
    command({ type: 'set-price', asset: 'ETH-PERP', price: 'NaN' }),
    'invalid_number',
    'price',
  ],
  [
    'quote: a mark without an oracle',
    command({ type: 'quote', asset: 'ETH-PERP', source: 'cex', price: '2000' }),
    'no_oracle',
    'asset',
  ],
  [
    'quote: an Infinity mark',
    command({ type: 'quote', asset: 'SOL-PERP', source: 'cex', price: 'Infinity' }),
    'invalid_number',
    'price',
  ],
  [
    'configure-venue: a trade band of 2',
    command({ type: 'configure-venue', config: { tradeBand: '2' } }),
    'invalid_number',
    'config.tradeBand',
  ],
];

interface ResultLine {
  readonly line: number;
  readonly ok: boolean;
  readonly error?: { readonly code: string; readonly field?: string; readonly message: string };
}

const results = new Map<string, Outcome>();
let before = '';
let engineRun: Outcome | undefined;
let liquidationsRun: Outcome | undefined;
let strictRun: Outcome | undefined;
let verifyRun: Outcome | undefined;

const ALL: readonly (readonly [string, readonly Row[]])[] = [
  ['health', HEALTH],
  ['calibrate', CALIBRATE],
  ['oracle replay', ORACLE],
  ['simulate', SIMULATE],
  ['run, demo, liquidations and the command line itself', RUN],
  ['history and verify', HISTORY],
  ['greeks', DERIVATIVES],
];

beforeAll(async () => {
  writeFixtures();
  writeFileSync(story, `${STORY.join('\n')}\n`);
  writeFileSync(hostileLines, `${ENGINE_LINES.map((l) => l[1]).join('\n')}\n`);
  const setup = await fulcrum(['run', story, '--data', journal, '--json']);
  before = (JSON.parse(setup.stdout.trim().split('\n').at(-1) ?? '{}') as { stateHash: string })
    .stateHash;
  // The journal's rows run after the hostile lines: they read a journal the lines were refused in.
  engineRun = await fulcrum(['run', hostileLines, '--data', journal, '--json']);
  const rows = ALL.flatMap(([, list]) => list);
  const outcomes = await pool([
    ...rows.map((row) => () => fulcrum(row.args, row.input)),
    () =>
      fulcrum(
        ['liquidations', '-', '--json'],
        `${STORY.join('\n')}\n${ENGINE_LINES.map((l) => l[1]).join('\n')}\n`,
      ),
    () =>
      fulcrum(
        ['run', '-', '--memory', '--strict'],
        `${STORY.join('\n')}\n${ENGINE_LINES[7]?.[1]}\n`,
      ),
    () => fulcrum(['verify', '--data', journal]),
  ]);
  rows.forEach((row, i) => results.set(row.name + row.args.join(' '), outcomes[i] as Outcome));
  [liquidationsRun, strictRun, verifyRun] = outcomes.slice(rows.length);
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

for (const [command, rows] of ALL) {
  describe(`fulcrum ${command}: hostile input`, () => {
    it.each(rows.map((row) => [row.name, row] as const))('%s', (_name, row) => {
      const outcome = results.get(row.name + row.args.join(' '));
      if (outcome === undefined) throw new Error('the row did not run');
      expectOneLine(outcome, row.names);
      expect(outcome.status).toBe(row.status);
      for (const path of row.absent ?? []) expect(existsSync(path), path).toBe(false);
    });
  });
}

describe('every engine command through fulcrum run --data: refused, the state unchanged', () => {
  const lines = () => {
    const outcome = engineRun as Outcome;
    return outcome.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ResultLine & { stateHash?: string });
  };

  it('runs without a word on standard error, and ends at the state it began from', () => {
    const outcome = engineRun as Outcome;
    expect(outcome.timedOut).toBe(false);
    expect(outcome.stderr).toBe('');
    expect(outcome.status).toBe(0);
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(lines().at(-1)?.stateHash).toBe(before);
    // The journal still checks out: recovery, its effects and a full replay agree.
    expect(verifyRun?.status, verifyRun?.stderr).toBe(0);
    expect(verifyRun?.stdout).toMatch(/ok: the hashes agree/);
  });

  it('a refused command makes --strict exit 1, still without a word on standard error', () => {
    expect(strictRun?.status).toBe(1);
    expect(strictRun?.stderr).toBe('');
    expect(strictRun?.stdout).toMatch(/REFUSED error/);
  });

  it.each(ENGINE_LINES.map((l, i) => [l[0], i] as const))('%s', (_name, index) => {
    const [, , code, field] = ENGINE_LINES[index] as (typeof ENGINE_LINES)[number];
    const results = lines().filter((l) => 'line' in l);
    expect(results).toHaveLength(ENGINE_LINES.length);
    const result = results[index] as ResultLine;
    expect(result.line).toBe(index + 1);
    expect(result.ok).toBe(false);
    if (typeof code === 'string') expect(result.error?.code).toBe(code);
    else expect(result.error?.code).toMatch(code);
    if (field === undefined) expect(result.error?.field).toBeUndefined();
    else if (typeof field === 'string') expect(result.error?.field).toBe(field);
    else expect(result.error?.field).toMatch(field);
    expect(result.error?.message.length).toBeLessThan(LINE_MAX);
    // The same line in `fulcrum liquidations` is refused the same way.
    const story = (liquidationsRun as Outcome).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ResultLine)
      .filter((l) => l.line === STORY.length + index + 1);
    expect(story[0]?.ok).toBe(false);
    expect(story[0]?.error?.code).toBe(result.error?.code);
  });
});
