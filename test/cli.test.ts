/**
 * The command line as a user meets it: the built `fulcrum` program run as a child process.
 * `npm test` builds first, so `dist/` is current.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  createReadStream,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDecimal } from '../src/index.js';

const root = join(import.meta.dirname, '..');
const main = join(root, 'dist', 'cli', 'main.js');

function fulcrum(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [main, ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs `fulcrum args` with `input` on standard input and standard output into the file `out`
 * (a large output never sits in this process's memory); resolves with the status and stderr.
 */
function fulcrumToFile(
  args: string[],
  input: string,
  out: string,
): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const fd = openSync(out, 'w');
    const child = spawn(process.execPath, [main, ...args], {
      cwd: root,
      stdio: ['pipe', fd, 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin?.end(input);
    child.on('close', (status) => {
      closeSync(fd);
      resolve({ status, stderr });
    });
  });
}

/** Every line of a file, one at a time. */
async function* linesOf(path: string): AsyncGenerator<string> {
  yield* createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
}

/** A refusal is one line on standard error, never a stack trace. */
function expectOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('fulcrum health', () => {
  it('prints the health of the README portfolio', () => {
    const { status, stdout } = fulcrum(['health', 'examples/portfolio.json']);
    expect(status).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({
      healthFactor: '3.3', // 10 × 2000 × 0.825 / 5000
      initialHealthFactor: '3.2', // 10 × 2000 × 0.8 / 5000
      collateralValue: '20000',
      liabilityValue: '5000',
      initial: {
        weightedCollateral: '16000',
        weightedLiabilities: '5000',
        freeCollateral: '11000',
      },
      maintenance: {
        weightedCollateral: '16500',
        weightedLiabilities: '5000',
        freeCollateral: '11500',
      },
      liquidationPrices: { ETH: '606.060606060606060607' }, // 5000 / (10 × 0.825), rounded up
    });
  });

  it('reads standard input with -', () => {
    const portfolio = JSON.stringify({
      assets: {
        ETH: { price: '2000', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
      },
      balances: { ETH: '1' },
    });
    const { status, stdout } = fulcrum(['health', '-'], portfolio);
    expect(status).toBe(0);
    expect(JSON.parse(stdout).healthFactor).toBeNull();
  });

  it.each([
    [
      'malformed JSON',
      '{"assets": ',
      /^fulcrum: error invalid_json: standard input is not valid JSON/,
    ],
    [
      'a missing price',
      '{"assets": {"ETH": {"decimals": 18, "initialWeight": "0.8", "maintenanceWeight": "0.9"}}}',
      /invalid_field at assets\.ETH\.price/,
    ],
    [
      'a NaN price',
      '{"assets": {"ETH": {"price": "NaN", "decimals": 18, "initialWeight": "0.8", "maintenanceWeight": "0.9"}}}',
      /invalid_number at assets\.ETH\.price/,
    ],
    [
      'an unknown asset in balances',
      '{"assets": {}, "balances": {"DOGE": "1"}}',
      /unknown_asset at balances\.DOGE/,
    ],
    [
      'too many decimals',
      '{"assets": {"USDC": {"price": "1", "decimals": 6, "initialWeight": "0.8", "maintenanceWeight": "0.9"}}, "balances": {"USDC": "1.0000001"}}',
      /too_many_decimals at balances\.USDC/,
    ],
    [
      'a balance given as a number',
      '{"assets": {"USDC": {"price": "1", "decimals": 6, "initialWeight": "0.8", "maintenanceWeight": "0.9"}}, "balances": {"USDC": 5}}',
      /invalid_number at balances\.USDC/,
    ],
  ])('refuses %s in one line with status 1', (_name, input, pattern) => {
    const { status, stdout, stderr } = fulcrum(['health', '-'], input);
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expectOneLineError(stderr, pattern);
  });

  it('a missing file is one line and status 1', () => {
    const { status, stderr } = fulcrum(['health', 'no/such/file.json']);
    expect(status).toBe(1);
    expectOneLineError(stderr, /cannot read no\/such\/file\.json \(ENOENT\)/);
  });
});

describe('fulcrum run and demo', () => {
  it('runs the story: prints every result, the refusals, the pools and the state hash', () => {
    const { status, stdout } = fulcrum(['run', 'examples/lending-story.jsonl', '--memory']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/49 commands: 43 accepted, 6 refused/);
    expect(stdout).toMatch(/borrow alice\/0 16000 USDC\s+REFUSED error insufficient_collateral/);
    expect(stdout).toMatch(/deposit dave\/0 10\.1234567 USDC\s+REFUSED error too_many_decimals/);
    expect(stdout).toMatch(/alice\/0 .* LIQUIDATABLE/);
    expect(stdout).toMatch(/state hash [0-9a-f]{64}/);
  });

  it('gives the same state hash on every run, and demo runs the same story', () => {
    const hash = (out: string) => /state hash ([0-9a-f]{64})/.exec(out)?.[1];
    const first = hash(fulcrum(['run', 'examples/lending-story.jsonl', '--memory']).stdout);
    const second = hash(fulcrum(['run', 'examples/lending-story.jsonl', '--memory']).stdout);
    const demo = hash(fulcrum(['demo']).stdout);
    expect(first).toBeDefined();
    expect(second).toBe(first);
    expect(demo).toBe(first);
  });

  it('--json prints one JSON object a line, then the summary', () => {
    const { status, stdout } = fulcrum([
      'run',
      'examples/lending-story.jsonl',
      '--json',
      '--memory',
    ]);
    expect(status).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const results = lines.filter((l) => 'line' in l);
    expect(results).toHaveLength(49);
    expect(results.filter((r) => r.ok === false).map((r) => r.error.code)).toEqual([
      'insufficient_collateral',
      'unknown_asset',
      'too_many_decimals',
      'insufficient_collateral',
      'insufficient_collateral',
      'asset_is_borrowed',
    ]);
    const last = lines.at(-1);
    expect(last.stateHash).toMatch(/^[0-9a-f]{64}$/);
    expect(last.summary.accepted).toBe(43);
  });

  it('--strict exits 1 when a command was refused; a malformed line is refused and the run goes on', () => {
    const input =
      '{"type":"list-asset","time":0,"config":{"symbol":"X","decimals":6,"initialWeight":"0","maintenanceWeight":"0"},"price":"1"}\n{oops\n{"type":"accrue","time":1,"asset":"X"}\n';
    const loose = fulcrum(['run', '-', '--memory'], input);
    expect(loose.status).toBe(0);
    expect(loose.stdout).toMatch(/REFUSED error invalid_json/);
    expect(loose.stdout).toMatch(/3 commands: 2 accepted, 1 refused/);
    expect(fulcrum(['run', '-', '--strict', '--memory'], input).status).toBe(1);
  });

  it('shows every lending command readably: what it acts on, with no "?" for a field it has', () => {
    const line = (command: Record<string, unknown>) => JSON.stringify({ time: 60, ...command });
    const usdc = { symbol: 'USDC', decimals: 6, initialWeight: '0.9', maintenanceWeight: '0.95' };
    const sol = { ...usdc, symbol: 'SOL', decimals: 9, oracle: { quorum: 1 } };
    const commands = [
      line({ type: 'list-asset', config: usdc, price: '1' }),
      line({ type: 'list-asset', config: sol, price: '20' }),
      line({ type: 'quote', asset: 'SOL', source: 'cex', price: '21' }),
      line({ type: 'set-weights', asset: 'SOL', initialWeight: '0.5', maintenanceWeight: '0.6' }),
      line({ type: 'configure-liquidation', config: { closeFactor: '0.4', dustValue: '50' } }),
      line({ type: 'configure-venue', config: { timeJumpSecondsMax: 86400 } }),
      line({
        type: 'liquidate',
        liquidator: { account: 'liz' },
        target: { account: 'bob', subAccount: 2 },
        debtAsset: 'USDC',
        collateralAsset: 'SOL',
        amount: 'max',
      }),
      line({
        type: 'backstop',
        target: { account: 'bob' },
        debtAsset: 'USDC',
        collateralAsset: 'SOL',
      }),
      line({ type: 'resolve-bankruptcy', target: { account: 'bob' } }),
    ];
    const { stdout } = fulcrum(['run', '-', '--memory'], `${commands.join('\n')}\n`);
    const shown = stdout.split('\n').slice(0, commands.length);
    expect(shown.map((l) => l.slice(19).split(/ {2,}(?:ok #|REFUSED)/)[0])).toEqual([
      'list-asset USDC @ 1',
      'list-asset SOL @ 20',
      'quote SOL 21 from cex',
      'set-weights SOL 0.5 / 0.6',
      'configure-liquidation closeFactor, dustValue',
      'configure-venue timeJumpSecondsMax',
      'liquidate bob/2 by liz/0: max USDC for SOL',
      'backstop bob/0: USDC for SOL',
      'resolve-bankruptcy bob/0',
    ]);
    for (const l of shown) expect(l.split(/ {2}(ok #|REFUSED)/)[0]).not.toContain('?');
  });

  it('a time no engine accepts is refused in one line, not a stack trace', () => {
    const { status, stdout, stderr } = fulcrum(
      ['run', '-'],
      '{"type":"accrue","time":1e13,"asset":"ETH"}\n',
    );
    expect(status).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/\?\s+accrue ETH\s+REFUSED error invalid_number at time/);
  });

  it('a closed or full standard output ends without a stack trace', () => {
    const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${main}" demo | head -1`], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(piped.stdout.trim().split('\n')).toHaveLength(1);
    expect(piped.stderr).toBe('');
    const full = spawnSync('sh', ['-c', `"${process.execPath}" "${main}" demo > /dev/full`], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(full.status).toBe(1);
    expectOneLineError(full.stderr, /^fulcrum: cannot write output \(ENOSPC\)$/);
  });

  it('usage errors exit 2', () => {
    expect(fulcrum(['frobnicate']).status).toBe(2);
    expect(fulcrum(['run']).status).toBe(2);
    expect(fulcrum(['health', 'a', 'b']).status).toBe(2);
    expect(fulcrum(['run', 'x.jsonl', '--bogus']).status).toBe(2);
    expect(fulcrum([]).status).toBe(2);
    expect(fulcrum(['help']).status).toBe(0);
  });
});

describe('fulcrum with a journal (--data)', () => {
  const story = readFileSync(join(root, 'examples', 'lending-story.jsonl'), 'utf8').split('\n');
  const half = Math.floor(story.length / 2);

  it('continues from the journal: two runs of two halves end where one run of the whole does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fulcrum-cli-'));
    try {
      const first = fulcrum(['run', '-', '--data', dir], story.slice(0, half).join('\n'));
      expect(first.status, first.stderr).toBe(0);
      const second = fulcrum(['run', '-', '--data', dir], story.slice(half).join('\n'));
      expect(second.status, second.stderr).toBe(0);
      expect(second.stdout).toMatch(/^continuing from .*fulcrum\.sqlite: \d+ journal records/);
      expect(second.stdout).toMatch(/journal: 47 records, all durable/);
      const hash = (out: string) => /state hash ([0-9a-f]{64})/.exec(out)?.[1];
      const whole = fulcrum(['run', 'examples/lending-story.jsonl', '--memory']);
      expect(hash(second.stdout)).toBe(hash(whole.stdout));

      const verified = fulcrum(['verify', '--data', dir]);
      expect(verified.status).toBe(0);
      expect(verified.stdout).toMatch(/ok: the hashes agree/);
      expect(verified.stdout).toMatch(/^from effects: (\d+) of \1 records from their effects/m);

      const alice = fulcrum(['history', 'account', 'alice', '--data', dir]);
      const entries = alice.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(entries.length).toBeGreaterThan(3);
      expect(entries.every((e) => e.command.account === 'alice')).toBe(true);

      const events = fulcrum([
        'history',
        'events',
        '2020-03-12T00:00:00Z',
        '2020-03-12T00:10:00Z',
        '--data',
        dir,
      ]);
      expect(events.stdout).toMatch(/"type":"borrowed","account":"alice"/);
      const liquidations = fulcrum([
        'history',
        'events',
        '0',
        '9999999999',
        '--liquidations',
        '--data',
        dir,
      ]);
      expect(liquidations.status).toBe(0);
      expect(liquidations.stdout).toBe(''); // this engine release emits no liquidation events yet

      const beyond = fulcrum(['history', 'state', '48', '--data', dir]);
      expect(beyond.status).toBe(1);
      expectOneLineError(beyond.stderr, /the journal holds 47 records; there is no record 48/);
      const state = JSON.parse(fulcrum(['history', 'state', '5', '--data', dir]).stdout);
      expect(state.seq).toBe(5);
      expect(state.pools.map((p: { asset: string }) => p.asset)).toEqual(['USDC', 'ETH', 'WBTC']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a store that cannot be reached is one line and status 1', () => {
    const { status, stderr } = fulcrum(['verify', '--data', 'postgres://nobody@127.0.0.1:1/none']);
    expect(status).toBe(1);
    expectOneLineError(stderr, /^fulcrum: error store_unavailable: cannot open the journal/);
  });
});

describe('fulcrum run on a large book', () => {
  // 200,000 sub-accounts with a deposit each, and one borrower below maintenance whose name
  // sorts last: the summary must print, bounded, with the account in trouble listed.
  const book = [
    '{"type":"list-asset","time":0,"config":{"symbol":"USDC","decimals":6,"initialWeight":"0.85","maintenanceWeight":"0.875"},"price":"1"}',
    '{"type":"list-asset","time":0,"config":{"symbol":"ETH","decimals":18,"initialWeight":"0.8","maintenanceWeight":"0.825"},"price":"2000"}',
    ...Array.from(
      { length: 200_000 },
      (_, i) => `{"type":"deposit","time":1,"account":"a${i}","asset":"USDC","amount":"1"}`,
    ),
    '{"type":"deposit","time":1,"account":"zz","asset":"ETH","amount":"1"}',
    '{"type":"borrow","time":1,"account":"zz","asset":"USDC","amount":"1500"}',
    '{"type":"set-price","time":2,"asset":"ETH","price":"1500"}',
  ].join('\n');

  it('prints a bounded text summary and streams every sub-account in --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fulcrum-book-'));
    try {
      const [text, json] = await Promise.all([
        fulcrumToFile(['run', '-', '--memory'], book, join(dir, 'text')),
        fulcrumToFile(['run', '-', '--memory', '--json'], book, join(dir, 'json')),
      ]);
      expect(text.stderr).toBe('');
      expect(text.status).toBe(0);
      const tail: string[] = [];
      for await (const line of linesOf(join(dir, 'text'))) {
        if (/^\s*\d+ {2}/.test(line)) continue; // a command's result
        tail.push(line);
      }
      const summary = tail.join('\n');
      expect(summary).toMatch(/200005 commands: 200005 accepted, 0 refused/);
      // At most 100 sub-accounts listed, the one in trouble first, then a count of the rest.
      const rows = tail.filter((l) => /^(a\d+|zz)\/0 /.test(l));
      expect(rows).toHaveLength(100);
      expect(rows[0]).toMatch(/^zz\/0 .* LIQUIDATABLE$/);
      expect(summary).toMatch(
        /^\.\.\. and 199901 more sub-accounts not listed \(of 200001: 200000 healthy, 1 LIQUIDATABLE; --json lists every one\)$/m,
      );
      const hash = /state hash ([0-9a-f]{64})/.exec(summary)?.[1];
      expect(hash).toBeDefined();

      expect(json.stderr).toBe('');
      expect(json.status).toBe(0);
      let accounts = 0;
      let last = '';
      for await (const line of linesOf(join(dir, 'json'))) {
        if (line.startsWith('{"account":')) accounts++;
        last = line;
      }
      expect(accounts).toBe(200_001);
      const closing = JSON.parse(last) as { summary: { accounts: number }; stateHash: string };
      expect(closing.summary.accounts).toBe(200_001);
      expect(closing.stateHash).toBe(hash);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a failure to print after the commands were journaled says they were applied (status 3)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fulcrum-full-'));
    try {
      const full = spawnSync(
        'sh',
        [
          '-c',
          `"${process.execPath}" "${main}" run examples/lending-story.jsonl --data "${dir}" > /dev/full`,
        ],
        { cwd: root, encoding: 'utf8' },
      );
      expect(full.status).toBe(3);
      expectOneLineError(
        full.stderr,
        /^fulcrum: cannot write output \(ENOSPC\); the commands of this run were applied and are durable in .*fulcrum\.sqlite \(journal: (\d+) records\); do not apply them again$/,
      );
      // They were: every command is in the journal, and the state is the whole story's.
      const again = fulcrum(['run', '-', '--data', dir], '');
      expect(again.status).toBe(0);
      const records = /\(journal: (\d+) records\)/.exec(full.stderr)?.[1];
      expect(Number(records)).toBeGreaterThan(40);
      expect(again.stdout).toMatch(new RegExp(`journal: ${records} records, all durable`));
      const whole = fulcrum(['run', 'examples/lending-story.jsonl', '--memory']);
      const hash = (out: string) => /state hash ([0-9a-f]{64})/.exec(out)?.[1];
      expect(hash(again.stdout)).toBe(hash(whole.stdout));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a result line shows a command cut short, on one line, whatever it holds', () => {
    const { status, stdout } = fulcrum(
      ['run', '-', '--memory'],
      [
        JSON.stringify({
          type: 'deposit',
          time: 1,
          account: 'a'.repeat(1_000_000),
          asset: 'X',
          amount: '1',
        }),
        JSON.stringify({
          type: 'deposit',
          time: 1,
          account: 'line\nbreak',
          asset: 'X',
          amount: '9'.repeat(1_000),
        }),
      ].join('\n'),
    );
    expect(status).toBe(0);
    const results = stdout.split('\n').filter((l) => /^\s+[12] {2}/.test(l));
    expect(results).toHaveLength(2);
    for (const line of results) {
      expect(line.length).toBeLessThan(400);
      expect(line).toMatch(/REFUSED error/);
    }
    expect(results[1]).toContain('line\\nbreak/0 999999999999999999999999… X');
  });
});

describe('user-given names are only names', () => {
  it('an asset named toString in fulcrum liquidations and fulcrum run', () => {
    const story = readFileSync(join(root, 'examples', 'black-thursday-liquidations.jsonl'), 'utf8')
      .replaceAll('"USDC"', '"toString"')
      .split('\n')
      .filter((line) => !line.includes('"@insurance"'))
      .join('\n');
    const liquidations = fulcrum(['liquidations', '-'], story);
    expect(liquidations.stderr).toBe('');
    expect(liquidations.status).toBe(0);
    expect(liquidations.stdout).toMatch(/^toString\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+/m);
    const run = fulcrum(['run', '-', '--memory'], story);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^toString\s/m);
  });

  it('price files named x_toStringUSDT_1h.csv in simulate, calibrate and oracle replay', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fulcrum-names-'));
    try {
      const file = join(dir, 'x_toStringUSDT_1h.csv');
      copyFileSync(join(root, 'examples', 'data', 'gemini_ETHUSD_1h.csv'), file);
      const source = join(dir, 'constructor_ETHUSD_1h.csv');
      copyFileSync(join(root, 'examples', 'data', 'gemini_ETHUSD_1h.csv'), source);
      const simulate = fulcrum([
        'simulate',
        '--prices',
        file,
        '--from',
        '2020-03-12',
        '--to',
        '2020-03-13',
        '--step',
        '600',
        '--accounts',
        '30',
        '--policy',
        'partial',
        '--jobs',
        '1',
        '--quiet',
        '--json',
        '--out',
        dir,
      ]);
      expect(simulate.stderr).toBe('');
      expect(simulate.status).toBe(0);
      const result = JSON.parse(simulate.stdout) as { paths: { symbol: string }[] };
      expect(result.paths.map((p) => p.symbol)).toEqual(['toString']);
      const calibrate = fulcrum(['calibrate', file, '--json']);
      expect(calibrate.status, calibrate.stderr).toBe(0);
      expect((JSON.parse(calibrate.stdout) as { asset: string }).asset).toBe('toString');
      const replay = fulcrum(['oracle', 'replay', source, file]);
      expect(replay.status, replay.stderr).toBe(0);
      expect(replay.stdout).toMatch(/^constructor\s+\d+$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fulcrum oracle replay', () => {
  const eth = [
    'binance-spot_ETHUSDT_1h.csv',
    'binance-usdm_ETHUSDT_1h.csv',
    'gemini_ETHUSD_1h.csv',
  ].map((f) => `examples/data/${f}`);

  it('reports grades, outliers, breaker trips and the largest stable gap per asset', () => {
    const { status, stdout } = fulcrum(['oracle', 'replay', ...eth]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^ETH: 4320 quotes from binance-spot, binance-usdm, gemini/);
    expect(stdout).toMatch(/quotes rejected as outliers/);
    expect(stdout).toMatch(/breaker: tripped \d+ times/);
    expect(stdout).toMatch(/largest price\/stable gap: \d+\.\d+% at 2020-03-1\d/);
  });

  it('--json gives one object per asset; --oracle overrides the configuration', () => {
    const loose = JSON.parse(fulcrum(['oracle', 'replay', ...eth, '--json']).stdout);
    const strict = JSON.parse(
      fulcrum([
        'oracle',
        'replay',
        ...eth,
        '--json',
        '--oracle',
        '{"quorum":3,"maxDeviation":"0.01"}',
      ]).stdout,
    );
    expect(loose.asset).toBe('ETH');
    expect(loose.grades.valid).toBeGreaterThan(strict.grades.valid);
    expect(strict.grades.insufficientSources).toBeGreaterThan(loose.grades.insufficientSources);
  });

  it('a malformed price file is one line naming the line, status 1', () => {
    const { status, stderr } = fulcrum(['oracle', 'replay', 'examples/portfolio.json']);
    expect(status).toBe(1);
    expectOneLineError(
      stderr,
      /examples\/portfolio\.json:1: the first line must be "timestamp,open,high,low,close,volume"/,
    );
  });
});

describe('fulcrum liquidations', () => {
  const file = 'examples/black-thursday-liquidations.jsonl';

  it('prints each account below maintenance, every liquidation and bad debt, and the waterfall', () => {
    const { status, stdout } = fulcrum(['liquidations', file]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/below maint\. {2}ann\/0: health 0\.955/); // 100 × 173.8 × 0.825 / 15000
    expect(stdout).toMatch(/liquidation {3}ben\/0 by the backstop/);
    expect(stdout).toMatch(/refused {7}error liquidation_toxic/);
    expect(stdout).toMatch(/refused {7}error liquidation_throttled/);
    expect(stdout).toMatch(/bad debt {6}gus\/0: [0-9.]+ USDC written off/);
    expect(stdout).toMatch(/Loss waterfall/);
    expect(stdout).toMatch(/Insurance fund/);
  });

  it('--json: the waterfall adds up and matches the bad-debt events', () => {
    const { status, stdout } = fulcrum(['liquidations', file, '--json']);
    expect(status).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const badDebts = lines.filter((l) => l.type === 'bad-debt');
    const liquidations = lines.filter((l) => l.type === 'liquidation');
    const { summary } = lines.at(-1) as {
      summary: {
        liquidations: number;
        byBackstop: number;
        waterfall: Record<string, Record<string, string>>;
        insuranceFund: Record<string, string>;
      };
    };
    expect(badDebts.map((l) => (l.target as { account: string }).account)).toEqual(['ben', 'gus']);
    expect(summary.liquidations).toBe(liquidations.length);
    expect(summary.byBackstop).toBe(2);
    const units = (x: string | undefined) => parseDecimal(x, 6, { field: 'amount' });
    const usdc = summary.waterfall.USDC ?? {};
    // Every deficit is paid by the fund or borne by the lenders, to the base unit.
    expect(units(usdc.insuranceFundPaid) + units(usdc.lendersBore)).toBe(units(usdc.deficit));
    const sum = (field: string) =>
      badDebts.reduce((total, l) => total + units(String(l[field])), 0n);
    expect(units(usdc.deficit)).toBe(sum('deficit'));
    expect(units(usdc.lendersBore)).toBe(sum('socialized'));
    // The fund's USDC (the 500 seeded, with its interest) was spent first, down to nothing.
    expect(units(usdc.insuranceFundPaid)).toBeGreaterThan(500_000_000n);
    expect(summary.insuranceFund.USDC).toBeUndefined();
    // The fund kept its share of every penalty paid in ETH: a fifth of the 5% penalty part.
    expect(Number(summary.insuranceFund.ETH)).toBeGreaterThan(0);
  });

  it('a missing file is one line and status 1', () => {
    const { status, stderr } = fulcrum(['liquidations', 'no-such-file.jsonl']);
    expect(status).toBe(1);
    expectOneLineError(stderr, /cannot read no-such-file\.jsonl/);
  });
});

describe('fulcrum simulate', () => {
  it('runs policies in worker threads, prints the comparison, writes the JSON and the HTML report', () => {
    const out = mkdtempSync(join(tmpdir(), 'fulcrum-sim-'));
    try {
      const args = ['simulate', '--scenario', 'black-thursday', '--accounts', '300'];
      const window = ['--from', '2020-03-12T09:00:00Z', '--to', '2020-03-12T13:00:00Z'];
      const run = fulcrum([...args, ...window, '--policy', 'partial,full', '--out', out]);
      expect(run.status, run.stderr).toBe(0);
      // Progress on standard error (not a terminal: a line at each quarter), the table on out.
      expect(run.stderr).toMatch(/partial\s+\[#+\]\s+100%\s+step 240\/240/);
      expect(run.stdout).toMatch(/^policy\s+amplification/m);
      expect(run.stdout).toMatch(/^full\s+\d+\.\d\d%/m);
      const result = JSON.parse(
        readFileSync(join(out, 'simulation-black-thursday.json'), 'utf8'),
      ) as { runs: { policy: string; metrics: { liquidations: number } }[]; steps: number };
      expect(result.steps).toBe(240);
      expect(result.runs.map((r) => r.policy)).toEqual(['partial', 'full']);
      expect(result.runs.every((r) => r.metrics.liquidations > 0)).toBe(true);
      const html = readFileSync(join(out, 'simulation-black-thursday.html'), 'utf8');
      expect(html).toMatch(/^<!DOCTYPE html>/i);
      expect(html).toContain('<svg');
      expect(html).not.toMatch(/(src|href)="https?:/);
      // The same command in one thread gives the same figures (wall times aside).
      const again = fulcrum([
        ...args,
        ...window,
        '--policy',
        'partial,full',
        '--out',
        out,
        '--jobs',
        '1',
        '--json',
        '--quiet',
      ]);
      expect(again.status).toBe(0);
      const strip = (r: typeof result) => r.runs.map((x) => ({ ...x, wallMs: 0 }));
      expect(strip(JSON.parse(again.stdout) as typeof result)).toEqual(strip(result));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('--help lists scenarios, policies, population options and the seed', () => {
    const { status, stdout } = fulcrum(['simulate', '--help']);
    expect(status).toBe(0);
    for (const word of [
      'black-thursday',
      'ftx',
      'dutch-auction',
      'dynamic-margin',
      '--accounts',
      '--seed',
      '--population',
      '--prices',
      '--sweep',
    ]) {
      expect(stdout).toContain(word);
    }
  });

  it('wrong usage is one line and status 2', () => {
    const unknown = fulcrum(['simulate', '--scenario', 'tulips']);
    expect(unknown.status).toBe(1);
    expectOneLineError(unknown.stderr, /unknown scenario "tulips"/);
    const neither = fulcrum(['simulate']);
    expect(neither.status).toBe(2);
    expectOneLineError(neither.stderr, /--scenario NAME or --prices FILE/);
    const sweep = fulcrum(['simulate', '--scenario', 'black-thursday', '--sweep', 'gravity=1']);
    expect(sweep.status).toBe(2);
    expectOneLineError(sweep.stderr, /--sweep takes KEY=V1,V2/);
  });
});

describe('fulcrum calibrate', () => {
  it('proposes weights from the calm days of March 2020', () => {
    const { status, stdout } = fulcrum([
      'calibrate',
      'examples/data/binance-spot_ETHUSDT_1h.csv',
      '--to',
      '2020-03-11',
      '--json',
    ]);
    expect(status).toBe(0);
    const line = JSON.parse(stdout.trim().split('\n')[0] ?? '{}') as Record<string, unknown>;
    expect(JSON.stringify(line)).toContain('"maintenance"');
    expect(stdout).toContain('0.935');
  });

  it('a bad confidence is one line and status 2', () => {
    const { status, stderr } = fulcrum([
      'calibrate',
      'examples/data/binance-spot_ETHUSDT_1h.csv',
      '--confidence',
      'high',
    ]);
    expect(status).toBe(2);
    expectOneLineError(stderr, /confidence/);
  });
});

describe('fulcrum greeks', () => {
  it('prints the Greeks and the margin of each mode for the example portfolio', () => {
    const { status, stdout } = fulcrum(['greeks', 'examples/options-portfolio.json']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^ETH-20300131-2000-C\s+50\s/m);
    for (const mode of ['cross', 'isolated', 'portfolio'])
      expect(stdout).toMatch(new RegExp(`^${mode}\\s+[\\d,]+`, 'm'));
    const json = fulcrum(['greeks', 'examples/options-portfolio.json', '--json']);
    const report = JSON.parse(json.stdout) as { margins: { mode: string; initial: number }[] };
    expect(report.margins.map((m) => m.mode)).toEqual(['cross', 'isolated', 'portfolio']);
  });

  it('labels each Greek with what it is, in the headers, the legend and the JSON names', () => {
    const { stdout } = fulcrum(['greeks', 'examples/options-portfolio.json']);
    expect(stdout.split('\n')[0]).toMatch(
      /^position\s+size\s+forward\s+mark\s+vol\s+uPnL\s+notional\s+delta Δ·S\s+gamma Γ·S²\/100\s+vega \/vol pt\s+theta \/day\s/,
    );
    expect(stdout).toMatch(/^delta Δ·S: the exposure in quote/m);
    expect(stdout).toMatch(
      /^greeks: delta Δ·S [-\d,]+, gamma Γ·S²\/100 [-\d,]+ per 1% move, vega [-\d,]+ per vol point, theta [-\d,]+ per day$/m,
    );
    // The March future on its forward (BTC's 5% rate: 40000·e^{0.05·87.33/365} = 40481.4).
    expect(stdout).toMatch(/^BTC-20300329\s+3\s+40481\.4\s+40481\.4\s/m);
    // The put that expired in December, on its settlement price.
    expect(stdout).toMatch(/^expired, settled: ETH-20291228-2000-P at 1940 \(worth 60 a unit\)$/m);
    const json = JSON.parse(
      fulcrum(['greeks', 'examples/options-portfolio.json', '--json']).stdout,
    );
    expect(Object.keys(json.greeks)).toEqual([
      'deltaQuote',
      'gammaQuotePerPercent',
      'vegaQuotePerVolPoint',
      'thetaQuotePerDay',
    ]);
    for (const key of [
      'deltaUnits',
      'deltaQuote',
      'gammaQuotePerPercent',
      'vegaQuotePerVolPoint',
      'thetaQuotePerDay',
      'expired',
      'needsSettlement',
      'forward',
    ])
      expect(Object.keys(json.positions[0])).toContain(key);
  });

  it('an expired option without a settlement price is flagged and left out, never valued on the index', () => {
    const portfolio = {
      time: '2030-01-01T00:00:00Z',
      collateral: '1000',
      underlyings: { ETH: { index: '2000', volatility: '0.7' } },
      positions: [
        {
          instrument: {
            kind: 'option',
            symbol: 'ETH-DEC-1500-C',
            underlying: 'ETH',
            expiry: '2029-12-28T08:00:00Z',
            strike: '1500',
            right: 'call',
          },
          size: '-1',
          entryPrice: '100',
        },
      ],
    };
    const text = fulcrum(['greeks', '-'], JSON.stringify(portfolio));
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^ETH-DEC-1500-C\s+-1\s+-\s+expired\s/m);
    expect(text.stdout).toMatch(
      /^expired, needs settlement: ETH-DEC-1500-C \(no settlement price given: left out of equity, Greeks and margin\)$/m,
    );
    expect(text.stdout).toMatch(/equity 1,000,/);
    const json = JSON.parse(fulcrum(['greeks', '-', '--json'], JSON.stringify(portfolio)).stdout);
    expect(json.needsSettlement).toEqual(['ETH-DEC-1500-C']);
    expect(json.positions[0]).toMatchObject({
      expired: true,
      mark: null,
      unrealizedPnl: null,
      initial: 0,
    });
  });

  it('a malformed portfolio is one line naming the field, status 1', () => {
    const { status, stderr } = fulcrum(
      ['greeks', '-'],
      '{"time":"2030-01-01T00:00:00Z","underlyings":{},"positions":[],"leverage":"3"}',
    );
    expect(status).toBe(1);
    expectOneLineError(stderr, /leverage/);
  });
});
