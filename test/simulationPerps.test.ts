/**
 * The cascade simulator's derivatives book (docs/SIMULATOR.md, "Perpetuals"): perpetual traders
 * beside the borrowers in the one engine, a maker, funding, takeovers by liquidators and by the
 * insurance fund, ADL, pegged tokens that lose their peg.
 *
 * - Black Thursday with 30% of the book in perpetual traders (real ETH-PERP and BTC-PERP marks
 *   from Binance USDⓈ-M): the same input twice gives the same run and the same engine state; the
 *   books balance (pools, and Σ positions' value + unsettled + settled = 0 exactly, sizes sum to
 *   zero); the traders are long and short, 2x to 50x, on USDC, ETH, BTC and pegged collateral;
 *   funding is paid; the metrics are the events' sums; bad debt on traders' accounts is counted
 *   in the derivatives book and borne by the fund or the lenders; ADL happens where the fund
 *   cannot cover a bankrupt position (the throttled policy) and never where it can.
 * - A worked case by hand: one long 20x trader on ETH collateral taken over in a 3.4% fall.
 * - The command line's flags, valid and hostile, and the report's derivatives sections.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { CliError, EXIT } from '../src/cli/io.js';
import { planOf, type SimulateOptions } from '../src/cli/simulate.js';
import { markSymbolOf, parseDepeg, parseLeverage } from '../src/cli/simulatePerps.js';
import type { CommandResult } from '../src/engine/apply.js';
import type { Command } from '../src/engine/commands.js';
import { Engine } from '../src/engine/engine.js';
import type { EngineEvent } from '../src/engine/events.js';
import { parseOhlcv } from '../src/feeds/ohlcv.js';
import { VALUE_UNIT } from '../src/derivatives/position.js';
import { DEFAULT_MARKET_MODEL } from '../src/sim/market.js';
import type { BarSeries } from '../src/sim/path.js';
import { perpListing, type PerpsInput } from '../src/sim/perpDesk.js';
import { POLICIES } from '../src/sim/policies.js';
import { DEFAULT_POPULATION } from '../src/sim/population.js';
import { renderReport } from '../src/sim/report.js';
import type { PolicyRun } from '../src/sim/result.js';
import { buildInput } from '../src/sim/scenarios.js';
import { simulate, type SimulationInput } from '../src/sim/simulator.js';
import { checkConserved } from './scenarioRunner.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = join(root, 'examples', 'data');
const main = join(root, 'dist', 'cli', 'main.js');

function load(symbol: string, file: string): BarSeries {
  return { symbol, source: file, bars: parseOhlcv(readFileSync(join(DATA, file), 'utf8'), file) };
}

const SPOT = [
  load('ETH', 'binance-spot_ETHUSDT_1h.csv'),
  load('BTC', 'binance-spot_BTCUSDT_1h.csv'),
];
const MARKS = [
  load('ETH-PERP', 'binance-usdm_ETHUSDT_1h.csv'),
  load('BTC-PERP', 'binance-usdm_BTCUSDT_1h.csv'),
];
const START = Date.parse('2020-03-12T00:00:00Z') / 1000;
const END = Date.parse('2020-03-14T00:00:00Z') / 1000;

/** Black Thursday, 48 hours minute by minute, 60 accounts of which 30% perpetual traders. */
function blackThursdayPerps() {
  const accounts = 60;
  return buildInput(SPOT, {
    start: START,
    end: END,
    stepSeconds: 60,
    population: {
      ...DEFAULT_POPULATION,
      accounts,
      largestShare: 2 / accounts,
      mix: { ETH: 0.6, BTC: 0.4 },
    },
    perps: { share: 0.3, marks: MARKS },
  });
}

interface Observed {
  readonly run: PolicyRun;
  readonly engine: Engine;
  readonly events: EngineEvent[];
  /** Σ of every `pnl-settled` amount (USDC base units): what left the books for the pools. */
  readonly settled: bigint;
}

function observed(input: SimulationInput, name: string): Observed {
  const engine = new Engine();
  const events: EngineEvent[] = [];
  let settled = 0n;
  const apply = engine.apply.bind(engine);
  vi.spyOn(engine, 'apply').mockImplementation((command: Command): CommandResult => {
    const result = apply(command);
    if (result.ok) {
      for (const e of result.events) {
        events.push(e);
        if (e.type === 'pnl-settled') settled += e.amount;
      }
    }
    return result;
  });
  const policy = POLICIES.find((p) => p.name === name);
  if (policy === undefined) throw new Error(name);
  return { run: simulate(input, policy, undefined, engine), engine, events, settled };
}

/** Σ over positions of (quote − funding owed) + Σ unsettled: what the books hold, exactly. */
function heldValue(engine: Engine): bigint {
  let total = 0n;
  for (const account of engine.state.accounts.values()) {
    for (const sub of account.subAccounts) {
      const book = sub.derivatives;
      if (book === undefined) continue;
      total += book.unsettled;
      for (const p of book.positions) {
        const fundingIndex = engine.state.instruments[p.instrument]?.fundingIndex ?? 0n;
        total += p.quote - p.size * (fundingIndex - p.funding);
      }
    }
  }
  return total;
}

function checkBooks({ run, engine, events, settled }: Observed, where: string): void {
  checkConserved(engine, where);
  expect(heldValue(engine) + settled * (VALUE_UNIT / 10n ** 6n), where).toBe(0n);
  for (const instrument of engine.state.instruments) {
    let sum = 0n;
    let longs = 0n;
    for (const account of engine.state.accounts.values()) {
      for (const sub of account.subAccounts) {
        const p = sub.derivatives?.positions.find((x) => x.instrument === instrument.index);
        sum += p?.size ?? 0n;
        if (p !== undefined && p.size > 0n) longs += p.size;
      }
    }
    expect(sum, `${where}: ${instrument.listing.spec.symbol} sizes`).toBe(0n);
    expect(instrument.openInterest, where).toBe(longs);
  }
  // The derivatives metrics are the events' sums.
  const d = run.metrics.derivatives;
  if (d === undefined) throw new Error('no derivatives metrics');
  const of = <T extends EngineEvent['type']>(type: T) =>
    events.filter((e): e is Extract<EngineEvent, { type: T }> => e.type === type);
  const takeovers = of('position-liquidated');
  expect(d.positionLiquidations + d.fundTakeovers, where).toBe(takeovers.length);
  expect(d.fundTakeovers, where).toBe(
    takeovers.filter((e) => e.liquidator.account === '@insurance').length,
  );
  expect(d.adlFills, where).toBe(of('deleveraged').length);
  expect(d.fundingSettlements, where).toBe(of('funding-paid').length);
  // Bad debt on traders' accounts is the derivatives book's; the fund and the lenders bore it.
  const traderDebt = of('bad-debt').filter((e) => /^t[0-9]+$/.test(e.target.account));
  const sum = (xs: readonly bigint[]) => xs.reduce((a, b) => a + Number(b) / 1e6, 0);
  expect(d.badDebt, where).toBeCloseTo(sum(traderDebt.map((e) => e.deficit)), 4);
  expect(d.badDebtInsuranceDraw, where).toBeCloseTo(sum(traderDebt.map((e) => e.insuranceDraw)), 4);
  expect(d.badDebtSocialized, where).toBeCloseTo(sum(traderDebt.map((e) => e.socialized)), 4);
  expect(d.badDebtInsuranceDraw + d.badDebtSocialized - d.badDebt, where).toBeLessThan(1e-4);
  expect(d.badDebt, where).toBeLessThanOrEqual(run.metrics.badDebt + 1e-9);
  expect(run.samples.at(-1)?.derivatives?.badDebt, where).toBe(d.badDebt);
}

describe('Black Thursday through both books', () => {
  const built = blackThursdayPerps();

  it('draws long and short traders at 2x-50x on USDC, ETH, BTC and pegged collateral', () => {
    const traders = built.population.traders;
    expect(traders?.accounts).toBe(18);
    expect(built.population.accounts).toBe(42);
    const symbols = traders?.collateral.map((c) => c.symbol).sort();
    expect(symbols).toEqual(['BTC', 'ETH', 'STETH', 'SUSD', 'USDC']);
    for (const t of built.input.perps?.traders ?? []) {
      expect(t.leverage).toBeGreaterThanOrEqual(2);
      expect(t.leverage).toBeLessThanOrEqual(50);
    }
    const sides = new Set(built.input.perps?.traders.map((t) => t.side));
    expect(sides).toEqual(new Set([1, -1]));
    expect(built.input.perps?.instruments.map((p) => p.basisSource)).toEqual([
      'binance-usdm_ETHUSDT_1h.csv',
      'binance-usdm_BTCUSDT_1h.csv',
    ]);
    // The pegged tokens' paths: their peg's times a ratio down to 97% (STETH) and 98% (SUSD).
    expect(built.pegged.map((p) => [p.symbol, p.peg, p.depth])).toEqual([
      ['STETH', 'ETH', 0.03],
      ['SUSD', 'USDC', 0.02],
    ]);
    const susd = built.input.path.prices[built.input.path.symbols.indexOf('SUSD')];
    expect(Math.min(...(susd ?? []))).toBeCloseTo(0.98, 10);
  });

  it('partial: deterministic, the books balance, funding paid, takeovers and no ADL', () => {
    const first = observed(built.input, 'partial');
    const second = observed(blackThursdayPerps().input, 'partial');
    expect(JSON.stringify(second.run)).toBe(JSON.stringify(first.run));
    expect(second.engine.hash()).toBe(first.engine.hash());
    checkBooks(first, 'partial');
    const d = first.run.metrics.derivatives;
    expect(d?.fundingPaid).toBeGreaterThan(0);
    expect(d?.fundingSettlements).toBe(10); // 2 perpetuals × 5 eight-hour intervals in 48 h
    expect(d?.positionLiquidations).toBeGreaterThan(0);
    expect(d?.tradersLiquidated).toBeGreaterThan(0);
    // The fund covers what went bankrupt: nothing is deleveraged.
    expect(d?.adlCount).toBe(0);
  });

  it('throttled: the fund cannot keep up, bankrupt positions are deleveraged', () => {
    const watched = observed(built.input, 'throttled');
    checkBooks(watched, 'throttled');
    const d = watched.run.metrics.derivatives;
    expect(d?.adlCount).toBeGreaterThan(0);
    expect(d?.adlNotional).toBeGreaterThan(0);
    expect(d?.socializedLoss).toBeGreaterThan(0);
    expect(d?.badDebt).toBeGreaterThan(0);
  });
});

/**
 * The worked case: one trader, 10 ETH of collateral at $200 ($2,000), long ETH-PERP at 20x:
 * notional 20 × 2,000 = $40,000, size 40,000 / 200 = 200 ETH-PERP, bought from the maker at 200.
 * ETH then falls 3.4% to 193.2; no impact (the market model's `none`), no basis, no funding
 * interval passes, one liquidator with ample capital, no delay and no profit floor.
 *
 * Margins of `perpListing('ETH', 200)`: the size premium is 0.008 / √(10^6 / 200) = 0.00011314
 * per √unit; at 200 units maintenance is max(0.75%, 0.8 × 0.75% + 0.00011314 × √200) =
 * max(0.75%, 0.6% + 0.16%) = 0.76% of notional, initial max(1.5%, 1.2% + 0.16%) = 1.5% (so 20x
 * opens: 40,000 × 1.5% = $600 against 0.8 × 2,000 = $1,600 of initial collateral).
 *
 * At P the trader's maintenance collateral is 10 × P × 0.825 (ETH's weight) against the loss in
 * full, 200 × (200 − P), and 0.76% of 200 × P: it is below when 206.73 P < 40,000, P < 193.49.
 * At 193.2: 1,593.90 against 1,360 + 293.66 = 1,653.66, liquidatable; its equity 1,932 − 1,360 =
 * $572 is positive and its health 0.96 above the backstop's 2/3: a liquidator takes it over.
 *
 * The takeover is at the mark less the 0.5% penalty, 193.2 × 0.995 = 192.234, and the engine takes
 * the least size s that brings the liquidation-end health to 1 (ETH at the mid weight (0.8 +
 * 0.825) / 2 = 0.8125; the position's requirement midway between initial and maintenance, 1.5%
 * and 0.75% for the few units left: 1.125%):
 *
 *   10 × 193.2 × 0.8125 = 1,569.75 ≥ s × (200 − 192.234) + (200 − s) × (200 − 193.2)
 *                                    + 1.125% × 193.2 × (200 − s)
 *                                  = 7.766 s + 1,360 − 6.8 s + 434.70 − 2.1735 s
 *   ⇒ 1.2075 s ≥ 224.95, s = 186.29399586 (to the 10^-8 unit), 13.70600414 left.
 *
 * Taken over: 186.29399586 × 193.2 = $35,992.00 of notional. The trader realizes 186.29399586 ×
 * (192.234 − 200) = −$1,446.76, settled into USDC as a borrow. The penalty 186.29399586 × 0.966 =
 * $179.96: 20% to the fund ($35.99), $143.97 to the liquidator, which unwinds its 186.29 ETH-PERP
 * into the maker at the mark. The trader keeps 13.71 ETH-PERP ($2,648 of open interest at the
 * end) and is no longer liquidatable: maintenance 1,593.90 against 1,446.76 + 13.706 × 6.8 +
 * 0.75% × 2,648 = 1,559.82, health 1.0219. No bad debt, no spot liquidation; the fund ends at
 * $1,000 + $35.99.
 */
describe('a worked case: a long 20x trader on ETH collateral taken over', () => {
  const T0 = START;
  const prices = Float64Array.from([200, 193.2, 193.2, 193.2]);
  const market = {
    symbol: 'ETH',
    dailyVolatility: 0.05,
    dailyVolume: 1e9,
    depthPerPercent: 1e7,
  };
  const perps: PerpsInput = {
    instruments: [
      {
        listing: perpListing('ETH', 200),
        basis: new Float64Array(prices.length),
        basisSource: 'none',
        market: { ...market, symbol: 'ETH-PERP' },
      },
    ],
    traders: [
      {
        id: 't1',
        collateral: { symbol: 'ETH', units: 10 },
        instrument: 'ETH-PERP',
        side: 1,
        leverage: 20,
      },
    ],
    makerCapitalShare: 0.5,
    takeoverLeverage: 10,
    arbitrageHalfLifeSeconds: 600,
  };
  const input: SimulationInput = {
    path: {
      symbols: ['ETH'],
      times: [T0, T0 + 60, T0 + 120, T0 + 180],
      prices: [prices],
      sources: ['by hand'],
      stepSeconds: 60,
    },
    accounts: [],
    listings: {},
    market: [market],
    marketModel: { ...DEFAULT_MARKET_MODEL, impact: 'none' },
    liquidators: [
      {
        id: 'liquidator1',
        capital: 1_000_000,
        delaySeconds: 0,
        minProfit: 0,
        minTakeoverProfit: 0,
        maxPerStep: 10,
      },
    ],
    insuranceCapital: 1_000,
    baselineVolatility: [0.8],
    sampleSeconds: 60,
    perps,
  };

  it('gives the figures derived by hand', () => {
    const watched = observed(input, 'partial');
    checkBooks(watched, 'worked case');
    const trade = watched.events.find((e) => e.type === 'traded');
    expect(trade?.type === 'traded' && trade.size).toBe(200n * 10n ** 8n);
    const takeovers = watched.events.filter((e) => e.type === 'position-liquidated');
    expect(takeovers).toHaveLength(1);
    const [takeover] = takeovers;
    if (takeover?.type !== 'position-liquidated') throw new Error('no takeover');
    const float = (x: bigint | null) => Number(x) / 1e18;
    expect(takeover.target.account).toBe('t1');
    expect(takeover.liquidator.account).toBe('liquidator1');
    expect(takeover.size).toBe(18_629_399_586n);
    expect(float(takeover.mark)).toBe(193.2);
    expect(float(takeover.price)).toBeCloseTo(192.234, 9);
    expect(float(takeover.healthBeforeWad)).toBeCloseTo(1593.9 / 1653.66, 3);
    expect(float(takeover.healthAfterWad)).toBeCloseTo(1593.9 / 1559.82, 3);
    expect(Number(takeover.toInsuranceValue) / Number(VALUE_UNIT)).toBeCloseTo(35.992, 5);
    // The trader's loss settled into the USDC pool: −$1,446.76.
    const settled = watched.events.flatMap((e) =>
      e.type === 'pnl-settled' && e.account === 't1' ? [Number(e.amount) / 1e6] : [],
    );
    expect(settled.reduce((a, b) => a + b, 0)).toBeCloseTo(-186.29399586 * 7.766, 5);
    const d = watched.run.metrics.derivatives;
    expect(d?.positionLiquidations).toBe(1);
    expect(d?.tradersLiquidated).toBe(1);
    expect(d?.takeoverNotional).toBeCloseTo(35_992, 5);
    expect(d?.unwoundNotional).toBeCloseTo(35_992, 5);
    expect(d?.openInterestAtEnd).toBeCloseTo(2_648, 5);
    expect(d?.fundingPaid).toBe(0);
    expect(d?.adlCount).toBe(0);
    expect(d?.badDebt).toBe(0);
    expect(watched.run.metrics.badDebt).toBe(0);
    expect(watched.run.metrics.liquidations).toBe(0);
    expect(watched.run.metrics.liquidatableAtEnd).toBe(0);
    expect(d?.insuranceFund.start).toBeCloseTo(1_000, 9);
    expect(d?.insuranceFund.end).toBeCloseTo(1_035.992, 5);
  });
});

// ---- the command line ----------------------------------------------------------------------

function refusal(options: SimulateOptions): CliError {
  let caught: unknown;
  try {
    planOf(options);
  } catch (error) {
    caught = error;
  }
  expect(caught, JSON.stringify(options)).toBeInstanceOf(CliError);
  return caught as CliError;
}

describe('fulcrum simulate: the derivatives flags', () => {
  const scenario = 'black-thursday';

  it('reads --perps, --leverage, --long-share and --depeg into the plan', () => {
    const plan = planOf({
      scenario,
      perps: '0.25',
      leverage: '3-30',
      longShare: '0.7',
      depeg: 'STETH=0.1,SUSD=0.05',
    });
    expect(plan.build.perps).toEqual({
      share: 0.25,
      leverageMin: 3,
      leverageMax: 30,
      longShare: 0.7,
      depeg: { STETH: 0.1, SUSD: 0.05 },
    });
    expect(plan.marks?.map((m) => m.symbol)).toEqual(['ETH-PERP', 'BTC-PERP']);
    // A lending book without --perps; the two-book scenario has them on, --perps 0 turns them off.
    expect(planOf({ scenario }).build.perps).toBeUndefined();
    expect(planOf({ scenario: 'black-thursday-perps' }).build.perps).toEqual({ share: 0.3 });
    expect(planOf({ scenario: 'black-thursday-perps', perps: '0' }).build.perps).toBeUndefined();
    expect(parseLeverage('10')).toEqual([10, 10]);
    expect(parseDepeg('SUSD=0')).toEqual({ SUSD: 0 });
  });

  it('--prices takes perpetual marks beside the spot files, and turns the traders on', () => {
    expect(markSymbolOf('x/binance-usdm_ETHUSDT_1h.csv')).toBe('ETH-PERP');
    expect(markSymbolOf('x/mine_BTC-PERP_1h.csv')).toBe('BTC-PERP');
    expect(markSymbolOf('x/binance-spot_ETHUSDT_1h.csv')).toBeNull();
    const files = ['binance-spot_ETHUSDT_1h.csv', 'binance-usdm_ETHUSDT_1h.csv'].map((f) =>
      join(DATA, f),
    );
    const plan = planOf({ prices: files });
    expect(plan.files.map((f) => f.symbol)).toEqual(['ETH']);
    expect(plan.marks?.map((m) => m.symbol)).toEqual(['ETH-PERP']);
    expect(plan.build.perps?.share).toBe(0.3);
  });

  it('refuses hostile values with typed errors naming the flag', () => {
    const cases: [SimulateOptions, string, string][] = [
      [{ scenario, perps: '1.5' }, 'invalid_number', '--perps'],
      [{ scenario, perps: '-0.1' }, 'invalid_number', '--perps'],
      [{ scenario, perps: '0x1' }, 'invalid_number', '--perps'],
      [{ scenario, perps: 'NaN' }, 'invalid_number', '--perps'],
      [{ scenario, perps: '0.3', leverage: '50-2' }, 'invalid_field', '--leverage'],
      [{ scenario, perps: '0.3', leverage: '2-500' }, 'invalid_number', '--leverage'],
      [{ scenario, perps: '0.3', leverage: '0.5-2' }, 'invalid_number', '--leverage'],
      [{ scenario, perps: '0.3', leverage: '2-5-10' }, 'invalid_field', '--leverage'],
      [{ scenario, perps: '0.3', leverage: '-5' }, 'invalid_field', '--leverage'],
      [{ scenario, perps: '0.3', leverage: '1e3' }, 'invalid_number', '--leverage'],
      [{ scenario, perps: '0.3', longShare: '1.01' }, 'invalid_number', '--long-share'],
      [{ scenario, perps: '0.3', depeg: 'STETH' }, 'invalid_field', '--depeg'],
      [{ scenario, perps: '0.3', depeg: 'toString=0.1' }, 'invalid_field', '--depeg'],
      [{ scenario, perps: '0.3', depeg: 'STETH=1' }, 'invalid_number', '--depeg'],
      [{ scenario, perps: '0.3', depeg: 'STETH=0.1,STETH=0.2' }, 'invalid_field', '--depeg'],
      [{ scenario, leverage: '2-50' }, 'invalid_field', '--leverage'],
      [{ scenario, longShare: '0.5' }, 'invalid_field', '--long-share'],
      [{ scenario, depeg: 'SUSD=0.1' }, 'invalid_field', '--depeg'],
      [{ prices: [join(DATA, 'binance-usdm_ETHUSDT_1h.csv')] }, 'invalid_field', '--prices'],
      [
        {
          prices: [
            join(DATA, 'binance-spot_ETHUSDT_1h.csv'),
            join(DATA, 'binance-usdm_ETHUSDT_1h.csv'),
          ],
          perps: '0',
        },
        'invalid_field',
        '--perps',
      ],
    ];
    for (const [options, code, field] of cases) {
      const error = refusal(options);
      expect(error.exitCode, JSON.stringify(options)).toBe(EXIT.usage);
      expect([error.code, error.field], JSON.stringify(options)).toEqual([code, field]);
    }
  });

  function fulcrum(args: string[]) {
    const result = spawnSync(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8' });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it('runs the two-book scenario and writes both books into the table, the JSON and the report', () => {
    const out = mkdtempSync(join(tmpdir(), 'fulcrum-perps-'));
    try {
      const run = fulcrum([
        'simulate',
        '--scenario',
        'black-thursday-perps',
        '--accounts',
        '40',
        '--from',
        '2020-03-12T20:00:00Z',
        '--to',
        '2020-03-13T05:00:00Z',
        '--policy',
        'partial,throttled',
        '--leverage',
        '5-50',
        '--depeg',
        'STETH=0.08',
        '--jobs',
        '1',
        '--quiet',
        '--out',
        out,
      ]);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/borrowers and 12 traders/);
      expect(run.stdout).toMatch(/^policy\s+takeovers \(fund\)\s+taken over/m);
      expect(run.stdout).toMatch(/ETH-PERP \(basis: binance-usdm_ETHUSDT_1h\.csv\)/);
      const result = JSON.parse(
        readFileSync(join(out, 'simulation-black-thursday-perps.json'), 'utf8'),
      ) as {
        perpetuals: { symbol: string }[];
        pegged: { symbol: string; depth: number; lowRatio: number }[];
        runs: { metrics: { derivatives: { fundingSettlements: number } } }[];
      };
      expect(result.perpetuals.map((p) => p.symbol)).toEqual(['ETH-PERP', 'BTC-PERP']);
      const steth = result.pegged.find((p) => p.symbol === 'STETH');
      expect(steth?.depth).toBe(0.08);
      expect(steth?.lowRatio).toBeLessThan(0.95);
      expect(result.runs[0]?.metrics.derivatives.fundingSettlements).toBeGreaterThan(0);
      const html = readFileSync(join(out, 'simulation-black-thursday-perps.html'), 'utf8');
      for (const part of [
        '<h2>Derivatives book</h2>',
        'Bad debt by book and who bore it',
        'ADL counterparties gave up',
        '<h2>Perpetual traders</h2>',
        '<h2>Perpetuals and pegged tokens</h2>',
        'data-chart="price-ETH-PERP"',
        'data-chart="price-STETH"',
        'data-chart="funding"',
        'data-chart="adl"',
        'data-chart="takeovers"',
      ]) {
        expect(html).toContain(part);
      }
      expect(html).not.toMatch(/(src|href)="https?:/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('refuses a hostile flag on the command line in one line, status 2', () => {
    const run = fulcrum(['simulate', '--scenario', 'black-thursday', '--perps', '2', '--quiet']);
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/--perps/);
  });
});

describe('the report of a lending book', () => {
  it('has no derivatives sections', () => {
    const html = renderReport({
      scenario: 'x',
      description: 'x',
      seed: 1,
      start: START,
      end: START + 60,
      stepSeconds: 60,
      steps: 2,
      paths: [],
      population: {
        accounts: 0,
        seed: 1,
        collateralValue: 0,
        debtValue: 0,
        collateral: [],
        size: { p50: 0, p90: 0, p99: 0, max: 0 },
        health: { p10: 0, p50: 0, p90: 0 },
      },
      market: {},
      runs: [],
      verdict: {
        leastBadDebt: { policy: 'partial', badDebt: 0 },
        leastAmplification: { policy: 'partial', amplification: 0 },
        text: '',
      },
    });
    expect(html).not.toContain('Derivatives book');
    expect(html).not.toContain('Perpetual traders');
  });
});
