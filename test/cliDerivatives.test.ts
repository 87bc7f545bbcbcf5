/**
 * Derivatives on the command line, in the one margin account: the example story through
 * `fulcrum run` and `fulcrum liquidations` with its figures, journaled and read back through
 * `history`, `greeks --account` and `verify`; `fulcrum health` of a portfolio with positions;
 * and a data folder holding the derivatives journal of an earlier release. The built program runs
 * as a child process (`npm test` builds first).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryFolders } from './fixtures/examples.js';

const root = join(import.meta.dirname, '..');
const main = join(root, 'dist', 'cli', 'main.js');
const STORY = 'examples/perp-story.jsonl';
const folder = temporaryFolders('fulcrum-cli-derivatives-');

function fulcrum(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [main, ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

type Json = Record<string, unknown>;

/** The JSON lines of an output. */
function jsonLines(stdout: string): Json[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Json);
}

/** The line number in the story of the first command line containing every piece of `text`. */
function storyLine(...pieces: string[]): number {
  const lines = readFileSync(join(root, STORY), 'utf8').split('\n');
  const index = lines.findIndex((l) => !l.startsWith('//') && pieces.every((p) => l.includes(p)));
  if (index < 0) throw new Error(`no line with ${pieces.join(', ')}`);
  return index + 1;
}

describe('the derivatives story through fulcrum run', () => {
  const text = fulcrum(['run', STORY, '--memory']);
  const json = fulcrum(['run', STORY, '--memory', '--json']);
  const results = jsonLines(json.stdout).filter((l) => 'line' in l);
  const events = (type: string): Json[] =>
    results.flatMap((r) =>
      ((r.events as Json[] | undefined) ?? [])
        .filter((e) => e.type === type)
        .map((e): Json => ({ ...e, line: r.line })),
    );

  it('runs without a word on standard error: 37 commands accepted, 10 refused', () => {
    expect(text.status, text.stderr).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/^47 commands: 37 accepted, 10 refused;/m);
  });

  it('refuses what it must, each naming its field', () => {
    const refused = results
      .filter((r) => r.ok === false)
      .map((r) => {
        const error = r.error as { code: string; field?: string };
        return `${error.code} at ${error.field}`;
      });
    expect(refused).toEqual([
      'insufficient_collateral at buyer', // 20 more for ben: 12,000 against his 9,000
      'price_out_of_band at price', // 2250, more than 10% from the mark 2000
      'isolated_one_instrument at instrument', // cat/1 holds ETH-PERP
      'reserved_account at buyer', // the insurance fund takes no new risk
      'funding_not_due at time', // a second before eight hours
      'not_liquidatable at target', // ann meets maintenance at 1800
      'backstop_not_needed at target', // cat/1 at 0.7125, above 2/3
      'not_bankrupt at target', // ben at 1500
      'instrument_expired at instrument', // the future trades no more at its expiry
      'no_price at instrument', // no price of ETH at or after the expiry yet
    ]);
  });

  it('shows every derivatives command readably, with no "?" for a field it has', () => {
    const shown = (line: number) =>
      text.stdout.split('\n').find((l) => l.startsWith(`${String(line).padStart(4)}  `)) ?? '';
    for (const [pieces, expected] of [
      [['list-instrument', '"ETH-PERP"'], /list-instrument ETH-PERP \(perpetual on ETH\) @ 2000 /],
      [['set-volatility'], /set-volatility ETH 0\.7 /],
      [['set-mode'], /set-mode cat\/1 isolated /],
      [
        ['"buyer":{"account":"ann"}', '"size":"50"'],
        /trade ann\/0 buys 50 ETH-PERP @ 2000 from mm\/0 /,
      ],
      [['settle-funding', '1893484800'], /settle-funding ETH-PERP /],
      [['set-price', '"ETH-PERP","price":"1800"'], /set-price ETH-PERP 1800 /],
      [
        ['liquidate-position', '"target":{"account":"ben"}'],
        /liquidate-position ben\/0 by liz\/0: max ETH-PERP /,
      ],
      [['deleverage', '"target":{"account":"ann"}'], /deleverage ann\/0 ETH-PERP /],
      [['expire', '2000-C'], /expire ETH-20300102-2000-C /],
    ] as const) {
      expect(shown(storyLine(...pieces))).toMatch(expected);
    }
    const commandLines = text.stdout.split('\n').filter((l) => /^\s*\d+ {2}\d\d-/.test(l));
    expect(commandLines).toHaveLength(47);
    for (const line of commandLines) expect(line.split('  ok #')[0]).not.toContain('?');
  });

  it('takes ben over in part and cat/1 whole, at 1782', () => {
    const takeovers = events('position-liquidated');
    expect(takeovers.map((e) => [e.target, e.size, e.mark, e.price])).toEqual([
      // 4,550 / 117 = 38.888..., rounded up to the size unit.
      [{ account: 'ben', subAccount: 0 }, '38.88888889', '1800', '1782'],
      [{ account: 'cat', subAccount: 1 }, '20', '1800', '1782'],
    ]);
    // ben's realized loss, 38.88888889 × 218 + 400 of funding, paid in rounded up.
    const ben = events('pnl-settled').find((e) => e.account === 'ben');
    expect(ben?.amount).toBe('-8877.777779');
    // cat/1's loss 4,560 takes her 4,500; the 60 left is bad debt the insurance fund pays.
    expect(
      events('bad-debt').map((e) => [e.target, e.deficit, e.insuranceDraw, e.socialized]),
    ).toEqual([[{ account: 'cat', subAccount: 1 }, '60', '60', '0']]);
  });

  it('deleverages ann against mm at the bankruptcy price 1610', () => {
    const fills = events('deleveraged');
    expect(fills.map((e) => [e.target, e.counterparty, e.size, e.price])).toEqual([
      [{ account: 'ann', subAccount: 0 }, { account: 'mm', subAccount: 0 }, '50', '1610'],
    ]);
    const settled = events('pnl-settled').filter((e) => e.line === fills[0]?.line);
    // ann pays in all her 20,000; mm receives 50 × 390 + 1,100 of funding.
    expect(settled.map((e) => [e.account, e.amount])).toEqual([
      ['ann', '-20000'],
      ['mm', '20600'],
    ]);
  });

  it('settles the future at 1520 and the call at nothing', () => {
    expect(events('instrument-expired').map((e) => [e.instrument, e.price, e.positions])).toEqual([
      ['ETH-20300102', '1520', 2],
      ['ETH-20300102-2000-C', '0', 2],
    ]);
  });

  it('ends with the figures the comments derive', () => {
    const accounts = new Map(
      jsonLines(json.stdout)
        .filter((l) => 'account' in l)
        .map((l) => [`${l.account}/${l.subAccount}`, l]),
    );
    const balance = (name: string, asset: string) =>
      ((accounts.get(name)?.positions as Record<string, { amount: string }>) ?? {})[asset]?.amount;
    expect(balance('mm/0', 'USDC')).toBe('1023400');
    expect(balance('ben/0', 'USDC')).toBe('1122.222221');
    expect(balance('dan/0', 'USDC')).toBe('600');
    expect(balance('cat/0', 'USDC')).toBe('-2400');
    expect(balance('cat/0', 'ETH')).toBe('5');
    expect(balance('@insurance/0', 'USDC')).toBe('1152');
    expect(accounts.has('ann/0')).toBe(false);
    expect(accounts.get('cat/0')?.healthFactor).toBe('2.6125');
    expect(accounts.get('mm/0')?.derivatives).toMatchObject({
      mode: 'cross',
      positions: [{ instrument: 'ETH-PERP', size: '-60', entryPrice: '2000', unrealized: '30000' }],
    });
    expect(accounts.get('cat/1')?.derivatives).toMatchObject({ mode: 'isolated', positions: [] });
    // The text summary lists them too, each position on its line.
    expect(text.stdout).toMatch(/^derivatives of the sub-accounts listed/m);
    expect(text.stdout).toMatch(
      /^liz\/0\s+cross\s+ETH-PERP\s+58\.88888889\s+1782\s+1500\s+-16606\.66\s+0$/m,
    );
    expect(text.stdout).toMatch(/^mm\/0\s+cross\s+ETH-PERP\s+-60\s+2000\s+1500\s+30000\s+0$/m);
    expect(text.stdout).toMatch(/^cat\/1\s+isolated\s+-/m);
    const hash = (jsonLines(json.stdout).at(-1) as { stateHash: string }).stateHash;
    expect(text.stdout).toContain(`state hash ${hash}`);
  });
});

describe('the derivatives story through fulcrum liquidations', () => {
  const text = fulcrum(['liquidations', STORY]);
  const json = fulcrum(['liquidations', STORY, '--json']);

  it('tells each takeover, the bad debt, the deleveraging and the losses paid in', () => {
    expect(text.status, text.stderr).toBe(0);
    const ben = storyLine('liquidate-position', '"target":{"account":"ben"}');
    const cat = storyLine('liquidate-position', '"liz"', '"subAccount":1');
    const ann = storyLine('deleverage', '"target":{"account":"ann"}');
    const at = (line: number) => `line ${String(line).padStart(4)}`;
    expect(text.stdout).toContain(
      `${at(ben)}  takeover      ben/0 by liz/0: 38.88888889 ETH-PERP (long) @ 1782, mark 1800; penalty $700 (insurance fund $140); health 0.7916 -> 3.3086`,
    );
    const catLines = text.stdout.split('\n').filter((l) => l.startsWith(at(cat)));
    expect(catLines.map((l) => l.slice(11, 24).trim())).toEqual([
      'takeover',
      'loss paid in',
      'bad debt',
      'recovered',
    ]);
    expect(text.stdout).toContain(
      `${at(ann)}  deleveraged   ann/0 (long) against mm/0: 50 ETH-PERP at the bankruptcy price 1610, mark 1500; the counterparty gave up $5500`,
    );
    expect(text.stdout).toMatch(
      /^2 positions taken over \(0 by the insurance fund\): notional \$106000 at the mark, penalties \$1060 \(insurance fund \$212\); 1 deleveraging fills$/m,
    );
    expect(text.stdout).toMatch(/^realized losses paid in by bankrupt accounts: 24560 USDC$/m);
    expect(text.stdout).toMatch(/^USDC\s+60\s+60\s+0\s+0\s+0$/m);
    expect(text.stdout).toMatch(/^ETH-PERP\s+5500\s+0\s+5500\s+0\s+-$/m);
    // The fund: 212 from penalties, 60 paid out: 1,000 + 212 − 60.
    expect(text.stdout).toMatch(/^USDC\s+212\s+60\s+1152$/m);
  });

  it('sums both books in its JSON summary', () => {
    expect(json.status).toBe(0);
    const { summary } = jsonLines(json.stdout).at(-1) as { summary: Json };
    expect(summary).toMatchObject({
      accepted: 37,
      refused: 10,
      liquidations: 0,
      positionTakeovers: 2,
      byInsuranceFund: 0,
      // 38.88888889 × 1800 + 20 × 1800.
      takenOverValue: '106000.000002',
      deleveraging: { 'ETH-PERP': { fills: 1, gaveUpValue: '5500' } },
      lossesPaidInByBankrupt: { USDC: '24560' },
      insuranceFund: { USDC: '1152' },
      stillLiquidatable: [],
    });
    expect((summary.waterfall as Json).USDC).toMatchObject({
      deficit: '60',
      insuranceFundPaid: '60',
      lendersBore: '0',
    });
    const types = jsonLines(json.stdout)
      .map((l) => l.type)
      .filter((t) => t !== undefined && t !== 'below-maintenance' && t !== 'recovered');
    expect(types).toEqual([
      'position-liquidated',
      'position-liquidated',
      'pnl-settled',
      'bad-debt',
      'deleveraged',
      'pnl-settled',
    ]);
  });
});

describe('the derivatives story journaled', () => {
  it('history, greeks and verify read it back', () => {
    const dir = folder();
    const run = fulcrum(['run', STORY, '--data', dir]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const history = (account: string) =>
      jsonLines(fulcrum(['history', 'account', account, '--data', dir]).stdout).map(
        (e) => (e.command as Json).type,
      );
    // ann: her deposit, her fill, the refused fill, the refused takeover, her deleveraging.
    expect(history('ann')).toEqual([
      'deposit',
      'trade',
      'trade',
      'liquidate-position',
      'deleverage',
    ]);
    // liz: her deposit and the two takeovers (the refused one on ann among them).
    expect(history('liz')).toEqual([
      'deposit',
      'liquidate-position',
      'liquidate-position',
      'liquidate-position',
    ]);
    // mm is named by no deleveraging or expiry, yet both reached it.
    const mm = history('mm');
    expect(mm.filter((t) => t === 'deleverage')).toHaveLength(1);
    expect(mm.filter((t) => t === 'expire')).toHaveLength(2);
    expect(history('cat')).toContain('set-mode');
    const liquidations = jsonLines(
      fulcrum(['history', 'events', '0', '2100-01-01', '--liquidations', '--data', dir]).stdout,
    ).map((e) => e.type);
    expect(liquidations).toEqual([
      'position-liquidated',
      'position-liquidated',
      'bad-debt',
      'deleveraged',
    ]);

    const greeks = fulcrum(['greeks', '--account', 'liz', '--data', dir, '--json']);
    expect(greeks.status, greeks.stderr).toBe(0);
    const report = JSON.parse(greeks.stdout) as {
      positions: { symbol: string; size: number; entryPrice: number; mark: number }[];
      margins: { mode: string }[];
    };
    expect(report.positions).toHaveLength(1);
    // A perpetual on its underlying's index, the last price of ETH: 1520.
    expect(report.positions[0]).toMatchObject({ symbol: 'ETH-PERP', entryPrice: 1782, mark: 1520 });
    expect(report.positions[0]?.size).toBeCloseTo(58.88888889, 8);
    expect(report.margins.map((m) => m.mode)).toEqual(['cross', 'isolated', 'portfolio']);
    const mmText = fulcrum(['greeks', '--account', 'mm/0', '--data', dir]);
    expect(mmText.status).toBe(0);
    expect(mmText.stdout).toMatch(/^ETH-PERP\s+-60\s/m);
    // cat/0's future is settled: nothing left to report, said in one line.
    const cat = fulcrum(['greeks', '--account', 'cat', '--data', dir]);
    expect(cat.status).toBe(1);
    expect(cat.stderr).toMatch(
      /^fulcrum: error no_position at --account: cat\/0 holds no derivatives position\n$/,
    );
    const bad = fulcrum(['greeks', '--account', 'cat/01', '--data', dir]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^fulcrum: error invalid_field at --account: /);

    const verified = fulcrum(['verify', '--data', dir]);
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^journal: 47 records in /m);
    expect(verified.stdout).toMatch(/^ok: the hashes agree$/m);
  });
});

describe('fulcrum greeks --account', () => {
  it("values a future on its mark as its expiry's forward, an option at the venue's volatility", () => {
    const dir = folder();
    const T = 1_893_456_000;
    const usdc = { symbol: 'USDC', decimals: 6, initialWeight: '0.9', maintenanceWeight: '0.95' };
    const eth = { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' };
    const expiry = '2030-03-01T00:00:00Z';
    const commands = [
      { type: 'list-asset', config: usdc, price: '1' },
      { type: 'list-asset', config: eth, price: '2000' },
      {
        type: 'list-instrument',
        config: { kind: 'future', symbol: 'ETH-MAR', underlying: 'ETH', expiry },
        price: '2000',
      },
      {
        type: 'list-instrument',
        config: {
          kind: 'option',
          symbol: 'ETH-MAR-2000-C',
          underlying: 'ETH',
          expiry,
          strike: '2000',
          right: 'call',
        },
        price: '150',
      },
      { type: 'set-volatility', asset: 'ETH', volatility: '0.6' },
      { type: 'deposit', account: 'ann', subAccount: 3, asset: 'USDC', amount: '100000' },
      { type: 'deposit', account: 'mm', asset: 'USDC', amount: '1000000' },
      {
        type: 'trade',
        buyer: { account: 'ann', subAccount: 3 },
        seller: { account: 'mm' },
        instrument: 'ETH-MAR',
        size: '2',
        price: '2000',
      },
      {
        type: 'trade',
        buyer: { account: 'mm' },
        seller: { account: 'ann', subAccount: 3 },
        instrument: 'ETH-MAR-2000-C',
        size: '1',
        price: '150',
      },
      { type: 'set-price', asset: 'ETH-MAR', price: '2040' },
    ].map((c) => JSON.stringify({ time: T, ...c }));
    const run = fulcrum(['run', '-', '--data', dir], commands.join('\n'));
    expect(run.status, run.stderr).toBe(0);
    const result = fulcrum(['greeks', '--account', 'ann/3', '--data', dir, '--json']);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      time: number;
      collateral: number;
      positions: Json[];
    };
    expect(report.time).toBe(T);
    expect(report.collateral).toBe(100_000);
    expect(report.positions.map((p) => [p.symbol, p.size, p.entryPrice])).toEqual([
      ['ETH-MAR', 2, 2000],
      ['ETH-MAR-2000-C', -1, 150],
    ]);
    // The future's forward is its mark; the call, on that forward, at 60%.
    expect(report.positions[0]).toMatchObject({ forward: 2040, mark: 2040, unrealizedPnl: 80 });
    expect(report.positions[1]).toMatchObject({ forward: 2040, volatility: 0.6 });
    // Without a volatility set, the engine's default for its scenarios: 100%.
    const noVolatility = folder();
    const withoutVolatility = commands.filter((c) => !c.includes('set-volatility')).join('\n');
    expect(fulcrum(['run', '-', '--data', noVolatility], withoutVolatility).status).toBe(0);
    const again = JSON.parse(
      fulcrum(['greeks', '--account', 'ann/3', '--data', noVolatility, '--json']).stdout,
    ) as { positions: Json[] };
    expect(again.positions[1]?.volatility).toBe(1);
  });
});

describe('a data folder with the derivatives journal of an earlier release', () => {
  it('is named in one warning, left as it is, and the engine journal goes on', () => {
    const dir = folder();
    const former = join(dir, 'derivatives.sqlite');
    writeFileSync(former, 'the earlier release wrote this');
    const before = statSync(former);
    const run = fulcrum(['run', STORY, '--data', dir]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe(
      `fulcrum: warning: ${former} holds the derivatives journal of an earlier release, which this release does not read: its commands are not applied (derivatives are commands of the engine's journal now) and it is left as it is\n`,
    );
    expect(run.stdout).toMatch(/^journal: 47 records, all durable/m);
    const verified = fulcrum(['verify', '--data', dir]);
    expect(verified.status).toBe(0);
    expect(verified.stderr.split('\n')).toHaveLength(2);
    expect(verified.stderr).toMatch(
      /^fulcrum: warning: .*derivatives\.sqlite holds the derivatives journal of an earlier release/,
    );
    expect(verified.stdout).toMatch(/^ok: the hashes agree$/m);
    expect(readFileSync(former, 'utf8')).toBe('the earlier release wrote this');
    expect(statSync(former).mtimeMs).toBe(before.mtimeMs);
  });

  it('alone in the folder, verify says there is no engine journal, and why', () => {
    const dir = folder();
    writeFileSync(join(dir, 'derivatives.sqlite'), 'x');
    const verified = fulcrum(['verify', '--data', dir]);
    expect(verified.status).toBe(1);
    expect(verified.stderr).toMatch(
      /^fulcrum: error store_not_found: there is no journal at .*fulcrum\.sqlite, only .*derivatives\.sqlite: the derivatives journal of an earlier release, which this release does not read\n$/,
    );
  });

  it('the derivatives subcommand and --derivatives are gone', () => {
    expect(fulcrum(['derivatives', STORY]).stderr).toMatch(
      /^fulcrum: unknown command "derivatives"/,
    );
    const flag = fulcrum(['history', 'account', 'ann', '--derivatives']);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/^fulcrum: unknown option "--derivatives"/);
  });
});

describe('fulcrum health with derivatives', () => {
  const health = (portfolio: unknown) => {
    const result = fulcrum(['health', '-'], JSON.stringify(portfolio));
    return { ...result, report: result.status === 0 ? (JSON.parse(result.stdout) as Json) : {} };
  };

  it('the example margin account: one health over balances and a perpetual', () => {
    const { status, stdout } = fulcrum(['health', 'examples/margin-account.json']);
    expect(status).toBe(0);
    const report = JSON.parse(stdout) as Json;
    expect(report).toMatchObject({
      // (10,000 × 0.95 + 2 × 1900 × 0.825) / (loss 20 × 100 + 5% of 38,000) = 12,635 / 3,900
      healthFactor: '3.239743589743589743',
      // (9,000 + 3,040) / (2,000 + 10% of 38,000) = 12,040 / 5,800
      initialHealthFactor: '2.075862068965517241',
      // (9,250 + 3,087.5) / (2,000 + 7.5% of 38,000)
      liquidationEndHealthFactor: '2.543814432989690721',
      // 6,240 of initial free collateral, 0.9 a USDC
      maxWithdraw: { USDC: '6933.333333', ETH: '2' },
      derivatives: {
        mode: 'cross',
        unsettled: '0',
        positions: [
          {
            instrument: 'ETH-PERP',
            size: '20',
            entryPrice: '2000',
            mark: '1900',
            unrealized: '-2000',
            initialRequirement: '3800',
            maintenanceRequirement: '1900',
          },
        ],
      },
    });
  });

  const assets = {
    USDC: { price: '1', decimals: 6, initialWeight: '0.9', maintenanceWeight: '0.95' },
    ETH: { price: '2000', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
  };
  const perp = {
    kind: 'perpetual',
    underlying: 'ETH',
    initialMargin: '0.1',
    maintenanceMargin: '0.05',
    mark: '2000',
  };

  it('a hedged book in portfolio mode: the minimum charge, 1% of the hedged 20,000', () => {
    const { report } = health({
      assets,
      balances: { ETH: '10' },
      instruments: { 'ETH-PERP': perp },
      positions: { 'ETH-PERP': { size: '-10', entryPrice: '2000' } },
      mode: 'portfolio',
      volatility: { ETH: '0.7' },
    });
    // 20,000 at the oracle value against 200, and 160 in maintenance.
    expect(report.initialHealthFactor).toBe('100');
    expect(report.healthFactor).toBe('125');
    // The same in cross margin: 10 × 2000 × 0.8 against 10% of 20,000.
    const cross = health({
      assets,
      balances: { ETH: '10' },
      instruments: { 'ETH-PERP': perp },
      positions: { 'ETH-PERP': { size: '-10', entryPrice: '2000' } },
    });
    expect(cross.report.initialHealthFactor).toBe('8');
  });

  it('unsettled profit counts at the profit weight, capped in the initial tier', () => {
    const { report } = health({
      assets,
      balances: { USDC: '1000' },
      instruments: { 'ETH-PERP': perp },
      positions: { 'ETH-PERP': { size: '1', entryPrice: '2000' } },
      unsettled: '5000',
    });
    // Initial: 900 + min(0.9 × 5,000, 900) = 1,800 against 200; maintenance 950 + 5,000
    // against 100.
    expect(report.initialHealthFactor).toBe('9');
    expect(report.healthFactor).toBe('59.5');
    expect((report.derivatives as Json).unsettled).toBe('5000');
  });

  it.each([
    [
      { positions: { 'ETH-PERP': { size: '1', entryPrice: '2000' } } },
      'unknown_instrument',
      'positions.ETH-PERP',
    ],
    [
      { instruments: { toString: { ...perp, underlying: 'valueOf' } } },
      'unknown_asset',
      'instruments.toString.underlying',
    ],
    [
      { instruments: { 'ETH-PERP': { ...perp, mark: 'NaN' } } },
      'invalid_number',
      'instruments.ETH-PERP.mark',
    ],
    [
      { instruments: { 'ETH-PERP': { ...perp, symbol: 'X' } } },
      'invalid_field',
      'instruments.ETH-PERP.symbol',
    ],
    [{ instruments: { ETH: perp } }, 'asset_already_listed', 'instruments.ETH'],
    [
      {
        instruments: { 'ETH-PERP': perp },
        positions: { 'ETH-PERP': { size: '0', entryPrice: '2000' } },
      },
      'invalid_number',
      'positions.ETH-PERP.size',
    ],
    [
      {
        instruments: { 'ETH-PERP': perp },
        positions: { 'ETH-PERP': { size: '1e3', entryPrice: '2000' } },
      },
      'invalid_number',
      'positions.ETH-PERP.size',
    ],
    [
      {
        instruments: { 'ETH-PERP': perp, 'ETH-PERP2': perp },
        positions: {
          'ETH-PERP': { size: '1', entryPrice: '2000' },
          'ETH-PERP2': { size: '1', entryPrice: '2000' },
        },
        mode: 'isolated',
      },
      'isolated_one_instrument',
      'positions',
    ],
    [{ mode: 'leveraged' }, 'invalid_field', 'mode'],
    [{ volatility: { constructor: '0.5' } }, 'unknown_asset', 'volatility.constructor'],
    [{ volatility: { ETH: '0' } }, 'invalid_number', 'volatility.ETH'],
    [{ unsettled: 'Infinity' }, 'invalid_number', 'unsettled'],
    [
      {
        instruments: {
          F: { kind: 'future', underlying: 'ETH', expiry: '2030-01-01T00:00:00Z', mark: '2000' },
        },
      },
      'invalid_field',
      'time',
    ],
    [
      {
        time: '2030-01-02T00:00:00Z',
        instruments: {
          F: { kind: 'future', underlying: 'ETH', expiry: '2030-01-01T00:00:00Z', mark: '2000' },
        },
      },
      'invalid_config',
      'instruments.F.expiry',
    ],
  ])('%j is refused: %s at %s', (extra, code, field) => {
    const result = health({ assets, balances: { USDC: '1000' }, ...extra });
    expect(result.status).toBe(1);
    const lines = result.stderr.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(`^fulcrum: error ${code} at ${field.replace(/\./g, '\\.')}: `),
    );
  });
});
