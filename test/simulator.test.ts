/**
 * The cascade simulator (`src/sim`): determinism, equivalence with the engine driven directly,
 * conservation through a run, price paths, populations and the command line's plan.
 *
 * Each run is given an engine of the test's own (`simulate`'s last argument) with a Vitest spy on
 * its `apply` that calls through: every command the run applies and its result. From that log
 * the tests read the setup commands (replayed into the reference engine) and the per-account
 * liquidation events; the engine itself serves `checkConserved` and the final state hash.
 *
 * The reference of the equivalence tests is written here from the rules the simulator documents:
 * at each step every price is set (the same `toPrice`), every account below maintenance (exact
 * health, judged after each price, kept in the order accounts fell) is acted on once, oldest
 * first: the backstop below its health threshold, otherwise one `liquidate` of 'max' against the
 * account's largest collateral by value (the backstop when that is toxic), and the liquidator
 * sells what it seized at the exogenous price. Without price impact and with one liquidator of
 * huge capital, no delay and no profit floor, nothing else can differ.
 *
 * Data: Black Thursday from the shipped Binance hourly bars (`examples/data`), walked minute by
 * minute; a handmade gap crash for the backstop, toxic liquidations and bad debt; synthetic paths
 * for the properties. Populations of 50-200 accounts keep the whole file to a few seconds.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { CliError, EXIT } from '../src/cli/io.js';
import {
  assemble,
  loadSeries,
  parsePolicies,
  planOf,
  type SimulateOptions,
} from '../src/cli/simulate.js';
import { FulcrumError } from '../src/base/errors.js';
import type { CommandResult } from '../src/engine/apply.js';
import type { Command } from '../src/engine/commands.js';
import { Draft } from '../src/engine/draft.js';
import { Engine } from '../src/engine/engine.js';
import { canonicalState } from '../src/engine/stateHash.js';
import type { BadDebtEvent, LiquidationEvent } from '../src/engine/events.js';
import { scaledBalance } from '../src/engine/positions.js';
import { type AssetState, findSubAccount, type SubAccountRef } from '../src/engine/state.js';
import { parseOhlcv } from '../src/feeds/ohlcv.js';
import { type Bar } from '../src/domain/bar.js';
import { HEALTH_SCALE, PRICE_SCALE } from '../src/math/fixed.js';
import { supplyAmount } from '../src/pools/pool.js';
import { DEFAULT_MARKET_MODEL, type MarketAsset, type MarketModel } from '../src/sim/market.js';
import {
  type BarSeries,
  pathFromBars,
  type PricePath,
  priceInBar,
  syntheticPath,
} from '../src/sim/path.js';
import { POLICIES, type Policy } from '../src/sim/policies.js';
import {
  type AccountSpec,
  DEFAULT_POPULATION,
  generatePopulation,
  parsePopulation,
  type PopulationSpec,
  validatePopulation,
} from '../src/sim/population.js';
import type { PolicyRun } from '../src/sim/result.js';
import { buildInput } from '../src/sim/scenarios.js';
import {
  DEBT_ASSET,
  defaultListing,
  type LiquidatorSpec,
  simulate,
  type SimulationInput,
  toPrice,
} from '../src/sim/simulator.js';
import { checkConserved } from './scenarioRunner.js';

const DATA = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'data');
const ETH_FILE = 'binance-spot_ETHUSDT_1h.csv';
const BTC_FILE = 'binance-spot_BTCUSDT_1h.csv';
const SEED = Number(process.env.FC_SEED ?? 20_200_312);

/** Unix seconds of an ISO-8601 UTC time. */
function seconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

function loadBars(symbol: string, file: string): BarSeries {
  return { symbol, source: file, bars: parseOhlcv(readFileSync(join(DATA, file), 'utf8'), file) };
}

const ETH = loadBars('ETH', ETH_FILE);
const BTC = loadBars('BTC', BTC_FILE);

function policy(name: string): Policy {
  const found = POLICIES.find((p) => p.name === name);
  if (found === undefined) throw new Error(`no policy ${name}`);
  return found;
}

/** The price of asset `i` at step `k` of a path. */
function priceAt(path: PricePath, i: number, k: number): number {
  return (path.prices[i] as Float64Array)[k] as number;
}

// ---- inputs ---------------------------------------------------------------------------------

/**
 * Black Thursday from 09:00 to 12:00 UTC on 12 March 2020, a step a minute: ETH 169.54 to a
 * low of 125 inside the 10:00 bar, BTC 7377.64 to 5550. 200 accounts, $100M of collateral,
 * median maintenance health 1.2 (most of the book is liquidated), the default liquidators.
 */
function blackThursday(options: Parameters<typeof blackThursdayBuild>[0] = {}): SimulationInput {
  return blackThursdayBuild(options).input;
}

function blackThursdayBuild(
  options: {
    seed?: number;
    accounts?: number;
    healthMedian?: number;
    marketModel?: MarketModel;
  } = {},
): ReturnType<typeof buildInput> {
  return buildInput([ETH, BTC], {
    start: seconds('2020-03-12T09:00:00Z'),
    end: seconds('2020-03-12T12:00:00Z'),
    stepSeconds: 60,
    population: {
      ...DEFAULT_POPULATION,
      accounts: options.accounts ?? 200,
      seed: options.seed ?? 7,
      bookValue: 100_000_000,
      healthMedian: options.healthMedian ?? 1.2,
      mix: { ETH: 0.6, BTC: 0.4 },
    },
    ...(options.marketModel === undefined ? {} : { marketModel: options.marketModel }),
  });
}

const NO_IMPACT: MarketModel = { ...DEFAULT_MARKET_MODEL, impact: 'none' };

/** One liquidator that takes every liquidation at once: no delay, no profit floor, no limit. */
const AMPLE: LiquidatorSpec = {
  id: 'ample',
  capital: 1e12,
  delaySeconds: 0,
  minProfit: -1,
  maxPerStep: 1_000_000,
};

/** An input the reference can follow: no price impact, one ample liquidator, a sample a step. */
function referenceable(input: SimulationInput): SimulationInput {
  return {
    ...input,
    marketModel: NO_IMPACT,
    liquidators: [AMPLE],
    sampleSeconds: input.path.stepSeconds,
  };
}

/** 2023-11-14T22:13:20Z, a whole minute. */
const T0 = 1_700_000_000 - (1_700_000_000 % 60);

/**
 * A handmade crash, 60 steps of a minute: ETH holds at 2000, slides to 1600 by step 24, then
 * gaps to 900 at step 30 (−44% in one step) and ends at 1000; BTC slides 0.4% a step from 40,000
 * and gaps to 24,000 at step 30. The slide is liquidated in order; the gap leaves accounts below
 * the backstop's threshold and under water (maintenance health below the weight: collateral worth
 * less than the debt), so the backstop, toxic liquidations and bad debt all happen.
 */
function gapCrashPath(): PricePath {
  const steps = 60;
  const times = Array.from({ length: steps }, (_, k) => T0 + k * 60);
  const eth = times.map((_, k) => {
    if (k < 5) return 2000;
    if (k < 25) return 2000 - 20 * (k - 4);
    if (k < 30) return 1600;
    return k < 45 ? 900 : 1000;
  });
  const btc = times.map((_, k) => (k < 30 ? 40_000 * (1 - 0.004 * k) : k < 45 ? 24_000 : 26_000));
  return {
    symbols: ['ETH', 'BTC'],
    times,
    prices: [Float64Array.from(eth), Float64Array.from(btc)],
    sources: ['handmade', 'handmade'],
    stepSeconds: 60,
  };
}

const MARKET: readonly MarketAsset[] = [
  { symbol: 'ETH', dailyVolatility: 0.05, dailyVolume: 5e8, depthPerPercent: 5e6 },
  { symbol: 'BTC', dailyVolatility: 0.04, dailyVolume: 1e9, depthPerPercent: 1e7 },
];

function gapCrash(insuranceCapital: number): SimulationInput {
  const path = gapCrashPath();
  const accounts = generatePopulation(
    {
      ...DEFAULT_POPULATION,
      accounts: 150,
      seed: 3,
      bookValue: 50_000_000,
      healthMedian: 1.25,
      healthSpread: 0.5,
      mix: { ETH: 0.6, BTC: 0.4 },
    },
    { ETH: 2000, BTC: 40_000 },
  );
  return {
    path,
    accounts,
    listings: {},
    market: MARKET,
    marketModel: NO_IMPACT,
    liquidators: [AMPLE],
    insuranceCapital,
    baselineVolatility: [0.8, 0.6],
    sampleSeconds: 60,
  };
}

/** A synthetic two-asset input for the properties: GBM with downward jumps. */
function syntheticInput(
  pathSeed: number,
  populationSeed: number,
  accounts: number,
  healthMedian: number,
  marketModel: MarketModel,
  liquidatorDelayScale: number,
): SimulationInput {
  const path = syntheticPath(
    [
      {
        symbol: 'ETH',
        startPrice: 2000,
        volatility: 1.5,
        jumpsPerDay: 24,
        jumpMean: -0.04,
        jumpSpread: 0.03,
      },
      { symbol: 'BTC', startPrice: 40_000, volatility: 1, jumpsPerDay: 12, jumpMean: -0.03 },
    ],
    T0,
    90,
    60,
    pathSeed,
  );
  const population = generatePopulation(
    {
      ...DEFAULT_POPULATION,
      accounts,
      seed: populationSeed,
      bookValue: 20_000_000,
      healthMedian,
      // Small books: the cap must leave room to fill them.
      largestShare: Math.max(DEFAULT_POPULATION.largestShare, 2 / accounts),
      mix: { ETH: 0.5, BTC: 0.5 },
    },
    { ETH: priceAt(path, 0, 0), BTC: priceAt(path, 1, 0) },
  );
  const liquidators: LiquidatorSpec[] = [
    { id: 'fast', capital: 200_000, delaySeconds: 0, minProfit: 0.005, maxPerStep: 5 },
    {
      id: 'slow',
      capital: 400_000,
      delaySeconds: Math.round(120 * liquidatorDelayScale),
      minProfit: 0.02,
      maxPerStep: 25,
    },
  ];
  return {
    path,
    accounts: population,
    listings: {},
    market: MARKET,
    marketModel,
    liquidators,
    insuranceCapital: 5_000,
    baselineVolatility: [0.8, 0.6],
    sampleSeconds: 300,
  };
}

// ---- watching the simulator's engine --------------------------------------------------------

interface Logged {
  readonly command: Command;
  readonly result: CommandResult;
}

interface Observed {
  readonly run: PolicyRun;
  /** The simulator's own engine, after the run. */
  readonly engine: Engine;
  /** Every command the run applied, in order, with its result. */
  readonly log: readonly Logged[];
}

/** Runs a policy on an engine of its own, with a spy on its `apply` that calls through. */
function observed(input: SimulationInput, chosen: Policy): Observed {
  const engine = new Engine();
  const spy = vi.spyOn(engine, 'apply');
  try {
    const run = simulate(input, chosen, undefined, engine);
    const log = spy.mock.calls.map(([command], i): Logged => {
      const outcome = spy.mock.results[i];
      if (outcome?.type !== 'return') throw new Error(`command ${i} did not return`);
      return { command, result: outcome.value };
    });
    return { run, engine, log };
  } finally {
    spy.mockRestore();
  }
}

function eventsOf<T extends 'liquidation' | 'bad-debt'>(
  log: readonly Logged[],
  type: T,
): (T extends 'liquidation' ? LiquidationEvent : BadDebtEvent)[] {
  const out: (T extends 'liquidation' ? LiquidationEvent : BadDebtEvent)[] = [];
  for (const { result } of log) {
    if (!result.ok) continue;
    for (const event of result.events) {
      if (event.type === type)
        out.push(event as T extends 'liquidation' ? LiquidationEvent : never);
    }
  }
  return out;
}

/** The commands before the first price of the first step: the run's setup. */
function setupOf(log: readonly Logged[]): Command[] {
  const first = log.findIndex((l) => l.command.type === 'set-price');
  expect(first).toBeGreaterThan(0);
  return log.slice(0, first).map((l) => l.command);
}

/** Per target account, its liquidations as (time, by, collateral, repaid, seized, penalty). */
function outcomes(events: readonly LiquidationEvent[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of events) {
    const line = `${e.target.account}@${e.liquidator.account} ${e.collateralAsset} repaid ${e.repaid} seized ${e.seized} penalty ${e.penaltyPpm}`;
    const list = out.get(e.target.account) ?? [];
    list.push(line);
    out.set(e.target.account, list);
  }
  return out;
}

function assetBySymbol(engine: Engine, symbol: string): AssetState {
  const asset = engine.state.assets.find((a) => a.config.symbol === symbol);
  if (asset === undefined) throw new Error(`no asset ${symbol}`);
  return asset;
}

function scaledOf(engine: Engine, ref: SubAccountRef, asset: AssetState): bigint {
  const sub = findSubAccount(engine.state.accounts.get(ref.account), ref.subAccount);
  return sub === undefined ? 0n : scaledBalance(sub, asset.index);
}

function belowMaintenance(engine: Engine, ref: SubAccountRef, t: number): boolean {
  return !new Draft(engine.state, t).health(ref).meets('maintenance');
}

// ---- the reference --------------------------------------------------------------------------

interface ReferenceRun {
  readonly engine: Engine;
  readonly liquidations: LiquidationEvent[];
  readonly badDebts: BadDebtEvent[];
  /** Per step: accounts liquidated so far, repaid so far (quote), accounts below maintenance. */
  readonly perStep: { accountsLiquidated: number; repaid: number; liquidatable: number }[];
}

/**
 * The engine driven directly on the same prices, as the simulator's rules say, for a run
 * without price impact and with one liquidator that never runs out of capital or patience.
 */
function referenceRun(
  input: SimulationInput,
  chosen: Policy,
  setup: readonly Command[],
): ReferenceRun {
  const engine = new Engine();
  for (const command of setup) expect(engine.apply(command).ok, command.type).toBe(true);
  const { path } = input;
  const [liquidator] = input.liquidators;
  expect(input.liquidators).toHaveLength(1);
  expect(input.marketModel.impact).toBe('none');
  if (liquidator === undefined) throw new Error('one liquidator');
  const liquidatorRef: SubAccountRef = { account: liquidator.id, subAccount: 0 };
  const refs: SubAccountRef[] = input.accounts.map((a) => ({ account: a.id, subAccount: 0 }));
  const liquidations: LiquidationEvent[] = [];
  const badDebts: BadDebtEvent[] = [];
  const liquidated = new Set<string>();
  let repaidTotal = 0;
  const apply = (command: Command): CommandResult => {
    const result = engine.apply(command);
    if (result.ok) {
      for (const event of result.events) {
        if (event.type === 'liquidation') {
          liquidations.push(event);
          liquidated.add(event.target.account);
          repaidTotal += Number(event.repaid) / 1e6;
        } else if (event.type === 'bad-debt') badDebts.push(event);
      }
    }
    return result;
  };
  // Accounts below maintenance, in the order they fell, with the time they fell.
  const fallen = new Map<string, { ref: SubAccountRef; since: number }>();
  const rescan = (t: number): void => {
    for (const ref of refs) {
      const below = belowMaintenance(engine, ref, t);
      if (below && !fallen.has(ref.account)) fallen.set(ref.account, { ref, since: t });
      else if (!below) fallen.delete(ref.account);
    }
  };
  const largestCollateral = (ref: SubAccountRef): string | null => {
    let best: string | null = null;
    let bestValue = 0n;
    for (const symbol of path.symbols) {
      const asset = assetBySymbol(engine, symbol);
      const scaled = scaledOf(engine, ref, asset);
      if (scaled <= 0n) continue;
      const value = supplyAmount(scaled, asset.pool) * asset.risk.valuePerUnit;
      if (value > bestValue) {
        bestValue = value;
        best = symbol;
      }
    }
    return best;
  };
  const act = (ref: SubAccountRef, since: number, t: number): void => {
    const collateral = largestCollateral(ref);
    if (collateral === null) {
      apply({ type: 'resolve-bankruptcy', time: t, target: ref });
      return;
    }
    const backstop = () =>
      apply({
        type: 'backstop',
        time: t,
        target: ref,
        debtAsset: DEBT_ASSET,
        collateralAsset: collateral,
      });
    const health = new Draft(engine.state, t).health(ref).healthFactor('maintenance') ?? 0n;
    if (health < engine.state.liquidationConfig.backstopHealth) {
      backstop();
      return;
    }
    let maxPenalty: bigint | undefined;
    if (chosen.auction !== undefined) {
      const listed = Number(assetBySymbol(engine, collateral).config.liquidationPenalty) / 1e6;
      const { startPremium, ratePerMinute } = chosen.auction;
      const discount = Math.min(listed, startPremium + (ratePerMinute * (t - since)) / 60);
      if (discount <= 0) return;
      maxPenalty = BigInt(Math.floor(discount * 1e6));
    }
    const result = apply({
      type: 'liquidate',
      time: t,
      liquidator: liquidatorRef,
      target: ref,
      debtAsset: DEBT_ASSET,
      collateralAsset: collateral,
      amount: 'max',
      ...(maxPenalty === undefined ? {} : { maxPenalty }),
    });
    if (!result.ok && result.error.code === 'liquidation_toxic') backstop();
  };
  // The liquidator sells what it seized at the exogenous price (no impact) and deposits it.
  const sell = (k: number, t: number): void => {
    let proceeds = 0;
    path.symbols.forEach((symbol, i) => {
      const asset = assetBySymbol(engine, symbol);
      const scaled = scaledOf(engine, liquidatorRef, asset);
      if (scaled <= 0n) return;
      const amount = supplyAmount(scaled, asset.pool);
      const result = apply({
        type: 'withdraw',
        time: t,
        ...liquidatorRef,
        asset: symbol,
        amount: 'all',
      });
      expect(result.ok).toBe(true);
      proceeds += (Number(amount) / 1e18) * priceAt(path, i, k);
    });
    if (proceeds > 0) {
      const amount = BigInt(Math.floor(proceeds * 1e6));
      expect(
        apply({ type: 'deposit', time: t, ...liquidatorRef, asset: DEBT_ASSET, amount }).ok,
      ).toBe(true);
    }
  };
  rescan(path.times[0] as number);
  const perStep: ReferenceRun['perStep'] = [];
  path.times.forEach((t, k) => {
    path.symbols.forEach((symbol, i) => {
      const price = toPrice(priceAt(path, i, k));
      expect(apply({ type: 'set-price', time: t, asset: symbol, price }).ok).toBe(true);
      rescan(t);
    });
    for (const [key, { ref, since }] of [...fallen]) {
      if (!belowMaintenance(engine, ref, t)) {
        fallen.delete(key);
        continue;
      }
      act(ref, since, t);
      if (!belowMaintenance(engine, ref, t)) fallen.delete(key);
    }
    sell(k, t);
    perStep.push({
      accountsLiquidated: liquidated.size,
      repaid: repaidTotal,
      liquidatable: fallen.size,
    });
  });
  return { engine, liquidations, badDebts, perStep };
}

function sumBig(xs: readonly bigint[]): bigint {
  return xs.reduce((a, b) => a + b, 0n);
}

/** Relative closeness for float sums taken in different orders. */
function expectClose(actual: number, expected: number, what: string): void {
  expect(Math.abs(actual - expected), what).toBeLessThanOrEqual(
    1e-9 * Math.max(1, Math.abs(expected)),
  );
}

// ---- 1. determinism -------------------------------------------------------------------------

describe('determinism', () => {
  const first = blackThursday();
  // Built again from the bars: the input itself is rebuilt the same.
  const second = blackThursday();

  it.each(['partial', 'dutch-auction', 'dynamic-margin'])(
    '%s: the same input gives the same run',
    (name) => {
      const a = simulate(first, policy(name));
      const b = simulate(second, policy(name));
      expect(b.metrics).toEqual(a.metrics);
      expect(b.samples).toEqual(a.samples);
      expect(b.healthBefore).toEqual(a.healthBefore);
      expect(b.healthAfter).toEqual(a.healthAfter);
      expect({ ...b, wallMs: 0 }).toEqual({ ...a, wallMs: 0 });
      // Not vacuous: the run did something, and the series moved.
      expect(a.metrics.liquidations).toBeGreaterThan(0);
      expect(a.metrics.amplification).toBeGreaterThan(0);
      if (name === 'dynamic-margin') expect(a.metrics.marginChanges).toBeGreaterThan(0);
    },
  );

  it('a different population seed gives a different run', () => {
    const a = simulate(first, policy('partial'));
    const b = simulate(blackThursday({ seed: 8 }), policy('partial'));
    expect(b.metrics).not.toEqual(a.metrics);
    expect(b.metrics.liquidatedNotional).not.toBe(a.metrics.liquidatedNotional);
    expect(b.samples).not.toEqual(a.samples);
  });

  it('synthetic runs are deterministic per path and population seed (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.constantFrom(...POLICIES),
        (pathSeed, populationSeed, chosen) => {
          const input = syntheticInput(pathSeed, populationSeed, 40, 1.3, DEFAULT_MARKET_MODEL, 1);
          const again = syntheticInput(pathSeed, populationSeed, 40, 1.3, DEFAULT_MARKET_MODEL, 1);
          const a = simulate(input, chosen);
          const b = simulate(again, chosen);
          expect(b.metrics).toEqual(a.metrics);
          expect(b.samples).toEqual(a.samples);
        },
      ),
      { seed: SEED, numRuns: 8 },
    );
  });
});

// ---- 2. equivalence with the engine driven directly -----------------------------------------

describe('reference equivalence (no impact, ample liquidators)', () => {
  interface Case {
    readonly label: string;
    readonly policy: string;
    readonly build: () => SimulationInput;
    /**
     * Whether the whole state must match. Within one step the simulator takes accounts in the
     * monitor's order, which the reference does not reproduce; accounts are independent then,
     * except that socializing one account's bad debt moves the supply index the next is
     * socialized against (by rounding): with a small fund only the population's books must match.
     */
    readonly wholeState: boolean;
  }
  const cases: Case[] = [
    ...['partial', 'full', 'dutch-auction', 'end-buffer'].map((name) => ({
      label: 'Black Thursday 09:00-12:00',
      policy: name,
      build: () => referenceable(blackThursday()),
      wholeState: true,
    })),
    ...['partial', 'full', 'dutch-auction'].map((name) => ({
      label: 'a gap crash, the fund covers the bad debt',
      policy: name,
      build: () => gapCrash(1e9),
      wholeState: true,
    })),
    ...['partial', 'full'].map((name) => ({
      label: 'a gap crash, lenders bear most bad debt',
      policy: name,
      build: () => gapCrash(20_000),
      wholeState: false,
    })),
  ];

  it.each(cases)('$label, $policy', ({ policy: name, build, wholeState }) => {
    const input = build();
    const chosen = policy(name);
    const { run, engine, log } = observed(input, chosen);
    const reference = referenceRun(input, chosen, setupOf(log));
    const simulated = eventsOf(log, 'liquidation');

    // Per account: the same liquidations, in the same order, of the same sizes.
    const mine = outcomes(simulated);
    const theirs = outcomes(reference.liquidations);
    expect([...mine.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [account, lines] of theirs) expect(mine.get(account), account).toEqual(lines);
    for (const account of input.accounts) {
      const of = (events: readonly LiquidationEvent[]) =>
        events.filter((e) => e.target.account === account.id);
      const a = of(simulated);
      const b = of(reference.liquidations);
      expect(sumBig(a.map((e) => e.repaid)), account.id).toBe(sumBig(b.map((e) => e.repaid)));
      expect(sumBig(a.map((e) => e.seized)), account.id).toBe(sumBig(b.map((e) => e.seized)));
      expect(a.length, account.id).toBe(b.length);
    }

    // Bad debt: the same write-offs, account by account, and the same draws in all.
    const badDebts = eventsOf(log, 'bad-debt');
    const deficits = (events: readonly BadDebtEvent[]) =>
      events.map((e) => `${e.target.account} ${e.deficit}`).sort();
    expect(deficits(badDebts)).toEqual(deficits(reference.badDebts));
    expect(sumBig(badDebts.map((e) => e.insuranceDraw))).toBe(
      sumBig(reference.badDebts.map((e) => e.insuranceDraw)),
    );

    // The run's metrics say the same.
    const m = run.metrics;
    expect(m.liquidations).toBe(reference.liquidations.length);
    expect(m.backstopLiquidations).toBe(
      reference.liquidations.filter((e) => e.liquidator.account === '@backstop').length,
    );
    expect(m.accountsLiquidated).toBe(
      new Set(reference.liquidations.map((e) => e.target.account)).size,
    );
    expectClose(
      m.liquidatedNotional,
      reference.liquidations.reduce((s, e) => s + Number(e.repaid) / 1e6, 0),
      'liquidated notional',
    );

    // Step by step (a sample a step): the same cumulative figures and the same waiting set.
    expect(run.samples).toHaveLength(input.path.times.length);
    run.samples.forEach((sample, k) => {
      const step = reference.perStep[k];
      if (step === undefined) throw new Error(`no reference step ${k}`);
      expect(sample.accountsLiquidated, `step ${k}`).toBe(step.accountsLiquidated);
      expect(sample.liquidatable, `step ${k}`).toBe(step.liquidatable);
      expectClose(sample.liquidatedNotional, step.repaid, `step ${k} repaid`);
    });

    // And the same books at the end.
    if (wholeState) expect(engine.hash()).toBe(reference.engine.hash());
    const population = new Set(input.accounts.map((a) => a.id));
    const books = (e: Engine) =>
      canonicalState(e.state)
        .split('\n')
        .filter(
          (line) =>
            (line.startsWith('asset ') && !line.startsWith('asset 0 ')) ||
            population.has(line.split(' ')[1] ?? ''),
        );
    expect(books(engine)).toEqual(books(reference.engine));

    // Not vacuous.
    expect(reference.liquidations.length).toBeGreaterThan(20);
    if (input.path.sources[0] === 'handmade') {
      expect(reference.badDebts.length).toBeGreaterThan(0);
      expect(m.backstopLiquidations).toBeGreaterThan(0);
    }
  });

  it('the gap crash reaches the backstop, toxic liquidations and bad debt', () => {
    const input = gapCrash(20_000);
    const { run, log } = observed(input, policy('partial'));
    expect(run.metrics.backstopLiquidations).toBeGreaterThan(0);
    expect(run.metrics.badDebt).toBeGreaterThan(0);
    expect(run.metrics.insuranceDraw).toBeGreaterThan(0);
    expect(run.metrics.socialized).toBeGreaterThan(0);
    // Toxic: backstop liquidations of accounts above the backstop's threshold.
    const threshold = (HEALTH_SCALE * 2n) / 3n;
    const toxic = eventsOf(log, 'liquidation').filter(
      (e) => e.liquidator.account === '@backstop' && (e.healthBeforeWad ?? 0n) >= threshold,
    );
    expect(toxic.length).toBeGreaterThan(0);
  });
});

// ---- 3. conservation and consistency through a run ------------------------------------------

/** Checks every consistency a run's report and its engine allow. */
function checkRun(input: SimulationInput, { run, engine, log }: Observed, where: string): void {
  checkConserved(engine, where);
  const m = run.metrics;
  const liquidations = eventsOf(log, 'liquidation');
  const badDebts = eventsOf(log, 'bad-debt');

  // The metrics are the events' sums.
  expect(m.commands, where).toBe(log.length);
  expect(m.refused, where).toBe(log.filter((l) => !l.result.ok).length);
  expect(m.liquidations, where).toBe(liquidations.length);
  expect(m.backstopLiquidations, where).toBe(
    liquidations.filter((e) => e.liquidator.account === '@backstop').length,
  );
  expect(m.accountsLiquidated, where).toBe(new Set(liquidations.map((e) => e.target.account)).size);
  expectClose(
    m.liquidatedNotional,
    liquidations.reduce((s, e) => s + Number(e.repaid) / 1e6, 0),
    where,
  );
  expectClose(
    m.badDebt,
    badDebts.reduce((s, e) => s + Number(e.deficit) / 1e6, 0),
    where,
  );
  // (a) bad debt is drawn from the fund or borne by lenders, event by event: the engine rounds
  // the lenders' part up (its scaled debt is what the fund's draw did not cover, rounded up), so
  // the two parts may exceed the deficit by one base unit, never fall short of it.
  for (const e of badDebts) {
    expect(e.insuranceDraw + e.socialized, where).toBeGreaterThanOrEqual(e.deficit);
    expect(e.insuranceDraw + e.socialized, where).toBeLessThanOrEqual(e.deficit + 1n);
  }
  const slack = badDebts.length * 1e-6;
  expect(m.insuranceDraw + m.socialized - m.badDebt, where).toBeGreaterThanOrEqual(
    -1e-9 * m.badDebt,
  );
  expect(m.insuranceDraw + m.socialized - m.badDebt, where).toBeLessThanOrEqual(
    slack + 1e-9 * m.badDebt,
  );

  // Accounts still below maintenance at the end: an exact scan of the population agrees.
  const end = input.path.times.at(-1) as number;
  const below = input.accounts.filter((a) =>
    belowMaintenance(engine, { account: a.id, subAccount: 0 }, end),
  ).length;
  expect(m.liquidatableAtEnd, where).toBe(below);

  // (e) counts and series.
  expect(m.accountsLiquidated, where).toBeLessThanOrEqual(input.accounts.length);
  expect(m.liquidatableAtEnd, where).toBeGreaterThanOrEqual(0);
  const total = (counts: readonly number[]) => counts.reduce((a, b) => a + b, 0);
  expect(total(run.healthBefore.counts), where).toBe(input.accounts.length);
  // The histogram after counts every account; those the run emptied (nothing held, nothing
  // owed) owe nothing and go to the last, unbounded bucket with every account without debt.
  expect(total(run.healthAfter.counts), where).toBe(input.accounts.length);
  const emptied = input.accounts.filter(
    (a) => findSubAccount(engine.state.accounts.get(a.id), 0) === undefined,
  ).length;
  expect(run.healthAfter.counts.at(-1) ?? 0, where).toBeGreaterThanOrEqual(emptied);
  const last = run.samples.at(-1);
  expect(last?.time, where).toBe(end);
  expect(last?.liquidatedNotional, where).toBe(m.liquidatedNotional);
  expect(last?.badDebt, where).toBe(m.badDebt);
  expect(last?.insuranceDraw, where).toBe(m.insuranceDraw);
  expect(last?.accountsLiquidated, where).toBe(m.accountsLiquidated);
  expect(last?.liquidatable, where).toBe(m.liquidatableAtEnd);
  run.samples.forEach((s, n) => {
    const before = run.samples[n - 1];
    if (before === undefined) return;
    expect(s.time, where).toBeGreaterThan(before.time);
    expect(s.liquidatedNotional, where).toBeGreaterThanOrEqual(before.liquidatedNotional);
    expect(s.accountsLiquidated, where).toBeGreaterThanOrEqual(before.accountsLiquidated);
    expect(s.badDebt, where).toBeGreaterThanOrEqual(before.badDebt);
    expect(s.insuranceDraw, where).toBeGreaterThanOrEqual(before.insuranceDraw);
  });

  // (c), (d): the oracle's price is never above the exogenous one; without impact it is it.
  const none = input.marketModel.impact === 'none';
  for (const low of m.lows) {
    if (none) {
      expect(low.realizedLow, where).toBe(low.exogenousLow);
      expect(low.amplification, where).toBe(0);
    } else {
      expect(low.realizedLow, where).toBeLessThanOrEqual(low.exogenousLow);
      expect(low.amplification, where).toBeGreaterThanOrEqual(0);
    }
  }
  expect(m.amplification, where).toBeGreaterThanOrEqual(0);
  for (const s of run.samples) {
    for (const symbol of input.path.symbols) {
      const realized = s.realized[symbol] as number;
      const exogenous = s.exogenous[symbol] as number;
      if (none) expect(realized, where).toBe(exogenous);
      else expect(realized, where).toBeLessThanOrEqual(exogenous);
    }
  }
  if (none) expect(m.amplification, where).toBe(0);

  // A sample holds the lowest prices since the one before: together they hold the run's lows,
  // and each sample's exogenous low is the path's over its interval.
  let from = 0;
  for (const s of run.samples) {
    const k = input.path.times.indexOf(s.time);
    expect(k, where).toBeGreaterThanOrEqual(from);
    input.path.symbols.forEach((symbol, i) => {
      const xs = (input.path.prices[i] as Float64Array).subarray(from, k + 1);
      expect(s.exogenous[symbol], `${where} ${symbol} at ${s.time}`).toBe(Math.min(...xs));
    });
    from = k + 1;
  }
  expect(from, where).toBe(input.path.times.length);
  for (const low of m.lows) {
    const lowest = (key: 'exogenous' | 'realized') =>
      Math.min(...run.samples.map((s) => s[key][low.symbol] as number));
    expect(lowest('exogenous'), where).toBe(low.exogenousLow);
    expect(lowest('realized'), where).toBe(low.realizedLow);
  }
}

describe('conservation through a run', () => {
  it.each(POLICIES.map((p) => p.name))(
    'Black Thursday with impact, %s: the books balance and the report adds up',
    (name) => {
      const input = blackThursday();
      const watched = observed(input, policy(name));
      checkRun(input, watched, name);
      expect(watched.run.metrics.liquidations).toBeGreaterThan(0);
      // (d) the liquidations deepened the fall.
      expect(watched.run.metrics.amplification).toBeGreaterThan(0);
    },
  );

  it('the gap crash (bad debt, backstop) balances', () => {
    for (const chosen of POLICIES) {
      const input = gapCrash(20_000);
      const watched = observed(input, chosen);
      checkRun(input, watched, `gap crash, ${chosen.name}`);
      expect(watched.run.metrics.badDebt).toBeGreaterThan(0);
    }
  });

  it('simulate runs only on an empty engine', () => {
    const engine = new Engine();
    simulate(gapCrash(20_000), policy('partial'), undefined, engine);
    expect(() => simulate(gapCrash(20_000), policy('partial'), undefined, engine)).toThrow();
  });

  it('(b) a mild path leaves no bad debt', () => {
    const path = syntheticPath(
      [
        { symbol: 'ETH', startPrice: 2000, volatility: 0.3 },
        { symbol: 'BTC', startPrice: 40_000, volatility: 0.2 },
      ],
      T0,
      120,
      60,
      11,
    );
    const input: SimulationInput = {
      ...gapCrash(20_000),
      path,
      marketModel: DEFAULT_MARKET_MODEL,
      accounts: generatePopulation(
        {
          ...DEFAULT_POPULATION,
          accounts: 100,
          seed: 5,
          bookValue: 10_000_000,
          healthMedian: 1.1,
          healthSpread: 0.5,
          mix: { ETH: 0.5, BTC: 0.5 },
        },
        { ETH: priceAt(path, 0, 0), BTC: priceAt(path, 1, 0) },
      ),
    };
    // A 0.3 vol over two hours moves prices by well under the 10% a healthy account can lose.
    for (let i = 0; i < 2; i++) {
      const xs = path.prices[i] as Float64Array;
      expect(Math.min(...xs) / (xs[0] as number)).toBeGreaterThan(0.97);
    }
    for (const chosen of POLICIES) {
      const watched = observed(input, chosen);
      checkRun(input, watched, `mild, ${chosen.name}`);
      expect(watched.run.metrics.badDebt).toBe(0);
      expect(watched.run.metrics.insuranceDraw).toBe(0);
      expect(watched.run.metrics.backstopLiquidations).toBe(0);
    }
  });

  it('random synthetic runs balance (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.constantFrom(...POLICIES),
        fc.constantFrom<MarketModel['impact']>('sqrt', 'linear', 'none'),
        fc.double({ min: 1.02, max: 2, noNaN: true }),
        fc.constantFrom(0, 1, 5),
        (pathSeed, populationSeed, chosen, impact, healthMedian, delayScale) => {
          const model = { ...DEFAULT_MARKET_MODEL, impact, liquidityFactor: 0.05 };
          const input = syntheticInput(
            pathSeed,
            populationSeed,
            50,
            healthMedian,
            model,
            delayScale,
          );
          checkRun(input, observed(input, chosen), `${chosen.name} ${impact}`);
        },
      ),
      { seed: SEED, numRuns: 25 },
    );
  });

  it('setup borrows what each account aims at: maintenance health as asked, within initial margin', () => {
    // Median 1.05: accounts below 0.825 / 0.8 = 1.03125 aim above ETH's initial margin.
    const { input, population } = blackThursdayBuild({ healthMedian: 1.05 });
    const { log, run } = observed(input, policy('partial'));
    const setup = setupOf(log);
    // The population's reported debt is what the run borrows (each borrow floored to a cent's
    // ten-thousandth: a base unit of USDC).
    const borrows = setup.filter(
      (c): c is Extract<Command, { type: 'borrow' }> => c.type === 'borrow',
    );
    expect(borrows).toHaveLength(input.accounts.length);
    const borrowed = borrows.reduce((sum, c) => sum + Number(c.amount) / 1e6, 0);
    expect(Math.abs(population.debtValue - borrowed)).toBeLessThanOrEqual(
      input.accounts.length * 1e-6 + 1e-9 * borrowed,
    );
    const engine = new Engine();
    for (const command of setup) expect(engine.apply(command).ok).toBe(true);
    const t0 = input.path.times[0] as number;
    let capped = 0;
    input.accounts.forEach((account) => {
      let maintenance = 0;
      let initial = 0;
      for (const { symbol, units } of account.collateral) {
        const i = input.path.symbols.indexOf(symbol);
        const weights = defaultListing(symbol).assetWeight;
        const value = units * priceAt(input.path, i, 0);
        maintenance += (value * Number(weights.maintenance)) / 1e6;
        initial += (value * Number(weights.initial)) / 1e6;
      }
      const aimed = maintenance / account.health;
      const borrow = setup.find((c) => c.type === 'borrow' && c.account === account.id) as Extract<
        Command,
        { type: 'borrow' }
      >;
      const debt = Number(borrow.amount) / 1e6;
      expect(Math.abs(debt - Math.min(aimed, initial * 0.999_999))).toBeLessThan(
        1e-6 + debt * 1e-12,
      );
      const health = new Draft(engine.state, t0).health({ account: account.id, subAccount: 0 });
      expect(health.meets('initial'), account.id).toBe(true);
      if (aimed < initial * 0.999_999) {
        const factor = Number(health.healthFactor('maintenance')) / Number(HEALTH_SCALE);
        expect(Math.abs(factor / account.health - 1), account.id).toBeLessThan(1e-6);
      } else capped++;
    });
    // Some accounts aim above initial margin and are held to it; none starts liquidatable.
    expect(capped).toBeGreaterThan(0);
    expect(run.healthBefore.counts.slice(0, 4).reduce((a, b) => a + b, 0)).toBe(0);
    // Every collateral unit deposited to within 10^-12 of a unit.
    for (const account of input.accounts) {
      for (const { symbol, units } of account.collateral) {
        const deposit = setup.find(
          (c) => c.type === 'deposit' && c.account === account.id && c.asset === symbol,
        ) as Extract<Command, { type: 'deposit' }>;
        expect(Math.abs(Number(deposit.amount) / 1e18 - units)).toBeLessThan(
          1e-9 * Math.max(1, units),
        );
      }
    }
  });
});

describe('toPrice', () => {
  it('keeps nine significant digits and is never zero', () => {
    // 125 → 125 × 10^18; 0.000123456789012 → 1.23456789 × 10^-4 × 10^18 = 123456789 × 10^6;
    // 123456789012 → 123456789000 (nine digits) × 10^18.
    expect(toPrice(125)).toBe(125n * PRICE_SCALE);
    expect(toPrice(7377.64)).toBe(737_764n * 10n ** 16n);
    expect(toPrice(0.000_123_456_789_012)).toBe(123_456_789n * 10n ** 6n);
    expect(toPrice(123_456_789_012)).toBe(123_456_789_000n * PRICE_SCALE);
    expect(toPrice(0)).toBe(1n);
    expect(toPrice(Number.NaN)).toBe(1n);
    expect(toPrice(-5)).toBe(1n);
  });
});

// ---- 5. price paths -------------------------------------------------------------------------

function bar(time: number, open: number, high: number, low: number, close: number): Bar {
  const p = (x: number) => BigInt(Math.round(x * 100)) * (PRICE_SCALE / 100n);
  return { time, open: p(open), high: p(high), low: p(low), close: p(close), volume: 1 };
}

describe('price paths', () => {
  it('priceInBar walks open, low, high, close in a rising bar (knots at thirds)', () => {
    // 100 → 90 (low) → 120 (high) → 110 (close), 3,600 s: knots at 0, 1200, 2400, 3600.
    const rising = bar(0, 100, 120, 90, 110);
    expect(priceInBar(rising, 3600, 0)).toBe(100);
    expect(priceInBar(rising, 3600, 600)).toBeCloseTo(95, 12); // halfway 100 → 90
    expect(priceInBar(rising, 3600, 1200)).toBeCloseTo(90, 12);
    expect(priceInBar(rising, 3600, 1800)).toBeCloseTo(105, 12); // halfway 90 → 120
    expect(priceInBar(rising, 3600, 2400)).toBeCloseTo(120, 12);
    expect(priceInBar(rising, 3600, 3000)).toBeCloseTo(115, 12); // halfway 120 → 110
    expect(priceInBar(rising, 3600, 3600)).toBe(110);
    // Outside the bar: clamped to its ends.
    expect(priceInBar(rising, 3600, -60)).toBe(100);
    expect(priceInBar(rising, 3600, 7200)).toBe(110);
  });

  it('priceInBar walks open, high, low, close in a falling bar', () => {
    // 100 → 105 (high) → 80 (low) → 85 (close).
    const falling = bar(1000, 100, 105, 80, 85);
    expect(priceInBar(falling, 3600, 1000)).toBe(100);
    expect(priceInBar(falling, 3600, 1000 + 1200)).toBeCloseTo(105, 12);
    expect(priceInBar(falling, 3600, 1000 + 1800)).toBeCloseTo(92.5, 12); // halfway 105 → 80
    expect(priceInBar(falling, 3600, 1000 + 2400)).toBeCloseTo(80, 12);
    expect(priceInBar(falling, 3600, 1000 + 3600)).toBe(85);
  });

  it('pathFromBars reaches ETH 86.00 inside the 2020-03-13T02:00Z bar at 60 s steps', () => {
    const start = seconds('2020-03-13T00:00:00Z');
    const path = pathFromBars([ETH], start, start + 4 * 3600, 60);
    expect(path.times).toHaveLength(240);
    expect(path.stepSeconds).toBe(60);
    const prices = path.prices[0] as Float64Array;
    const low = Math.min(...prices);
    expect(low).toBeCloseTo(86, 9);
    // The 02:00 bar rises (96.62 → 111.12): its low is a third of the way in, at 02:20.
    const at = prices.indexOf(low);
    expect(path.times[at]).toBe(seconds('2020-03-13T02:20:00Z'));
    expect(prices[120]).toBeCloseTo(96.62, 9); // 02:00, the bar's open
    expect(prices[160]).toBeCloseTo(120.2, 9); // 02:40, its high
    expect(prices[180]).toBeCloseTo(111.12, 9); // 03:00, the next bar's open (this one's close)
    // Every other step of the window is above the low.
    prices.forEach((p, k) => {
      if (k !== at) expect(p).toBeGreaterThan(86);
    });
  });

  it('pathFromBars refuses a window the bars do not cover, a bad step, a window of one step', () => {
    const first = ETH.bars[0]?.time as number;
    const last = (ETH.bars.at(-1)?.time as number) + 3600;
    const refuses = (run: () => unknown, field: string) => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(FulcrumError);
        expect((error as FulcrumError).code).toBe('invalid_field');
        expect((error as FulcrumError).field).toBe(field);
        return;
      }
      throw new Error('not refused');
    };
    refuses(() => pathFromBars([ETH], first - 60, first + 3600, 60), 'window');
    refuses(() => pathFromBars([ETH], last - 3600, last + 60, 60), 'window');
    refuses(() => pathFromBars([ETH, BTC], first, last + 3600, 60), 'window');
    refuses(() => pathFromBars([ETH], first, first + 3600, 0), 'step');
    refuses(() => pathFromBars([ETH], first, first + 3600, 1.5), 'step');
    refuses(() => pathFromBars([ETH], first, first + 60, 60), 'window');
    // The whole file is fine: the last step falls inside the last bar.
    expect(pathFromBars([ETH], first, last, 60).times).toHaveLength((last - first) / 60);
  });

  it('syntheticPath is deterministic per seed', () => {
    const assets = [
      { symbol: 'ETH', startPrice: 2000, volatility: 0.9, jumpsPerDay: 10, jumpMean: -0.05 },
      { symbol: 'BTC', startPrice: 40_000, volatility: 0.7 },
    ];
    const a = syntheticPath(assets, T0, 500, 60, 42);
    const b = syntheticPath(assets, T0, 500, 60, 42);
    const c = syntheticPath(assets, T0, 500, 60, 43);
    expect(b).toEqual(a);
    expect(c.prices[0]).not.toEqual(a.prices[0]);
    expect(c.prices[1]).not.toEqual(a.prices[1]);
    expect(priceAt(a, 0, 0)).toBe(2000);
    expect(priceAt(a, 1, 0)).toBe(40_000);
    expect(a.times).toEqual(Array.from({ length: 500 }, (_, k) => T0 + 60 * k));
    for (const xs of a.prices) for (const x of xs) expect(x).toBeGreaterThan(0);
    expect(() => syntheticPath(assets, T0, 1, 60, 1)).toThrow(FulcrumError);
  });
});

// ---- 6. populations -------------------------------------------------------------------------

const PRICES = { ETH: 194.61, BTC: 7934.52, SOL: 12.5 };

function valueOf(account: AccountSpec, prices: Readonly<Record<string, number>>): number {
  return account.collateral.reduce((s, c) => s + c.units * (prices[c.symbol] as number), 0);
}

describe('populations', () => {
  const spec: PopulationSpec = {
    ...DEFAULT_POPULATION,
    accounts: 20_000,
    seed: 99,
    mix: { ETH: 0.6, BTC: 0.3, SOL: 0.1 },
  };
  const big = generatePopulation(spec, PRICES);

  it('is deterministic per seed', () => {
    expect(generatePopulation(spec, PRICES)).toEqual(big);
    const other = generatePopulation({ ...spec, seed: 100 }, PRICES);
    expect(other).not.toEqual(big);
    expect(new Set(big.map((a) => a.id)).size).toBe(big.length);
  });

  it('sizes sum to the book value when the cap does not bind', () => {
    const light = generatePopulation(
      { ...spec, accounts: 2_000, sizeTail: 3, largestShare: 1 },
      PRICES,
    );
    const total = light.reduce((s, a) => s + valueOf(a, PRICES), 0);
    expect(Math.abs(total / spec.bookValue - 1)).toBeLessThan(1e-6);
    // Also with the default tail and cap on this many accounts.
    const all = big.reduce((s, a) => s + valueOf(a, PRICES), 0);
    expect(Math.abs(all / spec.bookValue - 1)).toBeLessThan(1e-6);
  });

  // Where the cap binds, the accounts below it make up the rest (water-filling): the book is
  // still worth bookValue. Four rounds of scale-then-cap used to leave 0.9957 of it at 200
  // accounts and 0.958 at 60.
  it('sizes sum to the book value when the cap binds', () => {
    for (const accounts of [50, 60, 200]) {
      const population = generatePopulation({ ...spec, accounts, mix: { ETH: 1 } }, PRICES);
      const total = population.reduce((s, a) => s + valueOf(a, PRICES), 0);
      expect(Math.abs(total / spec.bookValue - 1), `${accounts} accounts`).toBeLessThan(1e-9);
      const largest = Math.max(...population.map((a) => valueOf(a, PRICES)));
      expect(largest).toBeLessThanOrEqual(spec.largestShare * spec.bookValue * (1 + 1e-9));
    }
    // Fewer accounts than the cap allows to fill the book: refused, naming the field.
    expect(() => generatePopulation({ ...spec, accounts: 10, mix: { ETH: 1 } }, PRICES)).toThrow(
      /largest share/,
    );
  });

  it('no account exceeds the largest share of the book', () => {
    for (const [accounts, largestShare, sizeTail] of [
      [20_000, 0.02, 1.3],
      [500, 0.01, 0.6],
      [60, 0.05, 1.16],
    ] as const) {
      const population = generatePopulation({ ...spec, accounts, largestShare, sizeTail }, PRICES);
      const cap = largestShare * spec.bookValue;
      const largest = Math.max(...population.map((a) => valueOf(a, PRICES)));
      expect(largest, `${accounts} accounts`).toBeLessThanOrEqual(cap * (1 + 1e-9));
    }
  });

  it('the mix, the second asset and health follow the spec over 20,000 accounts', () => {
    const share = (symbol: string) =>
      big.filter((a) => a.collateral[0]?.symbol === symbol).length / big.length;
    expect(Math.abs(share('ETH') - 0.6)).toBeLessThan(0.02);
    expect(Math.abs(share('BTC') - 0.3)).toBeLessThan(0.02);
    expect(Math.abs(share('SOL') - 0.1)).toBeLessThan(0.02);
    const two = big.filter((a) => a.collateral.length === 2);
    expect(Math.abs(two.length / big.length - spec.secondAssetShare)).toBeLessThan(0.02);
    for (const a of two) {
      const [main, second] = a.collateral;
      if (main === undefined || second === undefined) throw new Error('two assets');
      expect(second.symbol).not.toBe(main.symbol);
      const part =
        (second.units * (PRICES[second.symbol as keyof typeof PRICES] as number)) /
        valueOf(a, PRICES);
      expect(part).toBeGreaterThanOrEqual(0.2 - 1e-12);
      expect(part).toBeLessThanOrEqual(0.5 + 1e-12);
    }
    const healths = big.map((a) => a.health).sort((x, y) => x - y);
    for (const h of healths) expect(h).toBeGreaterThan(1);
    const median = healths[healths.length / 2] as number;
    expect(Math.abs(median - spec.healthMedian)).toBeLessThan(0.02);
  });

  it('refuses bad specs with invalid_field naming the field', () => {
    const bad: [keyof PopulationSpec, Partial<PopulationSpec>][] = [
      ['accounts', { accounts: 0 }],
      ['accounts', { accounts: 2_000_001 }],
      ['accounts', { accounts: 1.5 }],
      ['seed', { seed: -1 }],
      ['seed', { seed: 2 ** 32 }],
      ['bookValue', { bookValue: 999 }],
      ['bookValue', { bookValue: Number.NaN }],
      ['mix', { mix: {} }],
      ['mix', { mix: { ETH: 0 } }],
      ['mix', { mix: { ETH: -1, BTC: 2 } }],
      ['secondAssetShare', { secondAssetShare: 1.1 }],
      ['sizeTail', { sizeTail: 0.4 }],
      ['largestShare', { largestShare: 0 }],
      ['healthMedian', { healthMedian: 1 }],
      ['healthSpread', { healthSpread: -0.1 }],
    ];
    for (const [field, change] of bad) {
      const wrong = { ...spec, ...change };
      let caught: unknown;
      try {
        validatePopulation(wrong);
      } catch (error) {
        caught = error;
      }
      expect(caught, field).toBeInstanceOf(FulcrumError);
      expect((caught as FulcrumError).code, field).toBe('invalid_field');
      expect((caught as FulcrumError).field, JSON.stringify(change)).toBe(field);
      expect(() => generatePopulation(wrong, PRICES)).toThrow(FulcrumError);
    }
    expect(() => validatePopulation(spec)).not.toThrow();
    // A mix asset without a price.
    expect(() => generatePopulation({ ...spec, accounts: 60, mix: { DOGE: 1 } }, PRICES)).toThrow(
      expect.objectContaining({ code: 'unknown_asset' }),
    );
  });
});

// ---- 7. the command line's plan -------------------------------------------------------------

describe('population files', () => {
  const line = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      id: 'a1',
      collateral: [{ symbol: 'ETH', units: '12.5' }],
      health: '1.4',
      ...extra,
    });

  it('reads one account a line, blank lines skipped', () => {
    const text = `${line()}\n\n${line({
      id: 'b2',
      collateral: [
        { symbol: 'ETH', units: '1' },
        { symbol: 'BTC', units: '0.5' },
      ],
    })}\n`;
    expect(parsePopulation(text, 'book.jsonl')).toEqual([
      { id: 'a1', collateral: [{ symbol: 'ETH', units: 12.5 }], health: 1.4 },
      {
        id: 'b2',
        collateral: [
          { symbol: 'ETH', units: 1 },
          { symbol: 'BTC', units: 0.5 },
        ],
        health: 1.4,
      },
    ]);
  });

  it.each([
    ['null', 'null', 'invalid_field', 'book.jsonl:1'],
    [
      'a collateral of null',
      line({ collateral: [null] }),
      'invalid_field',
      'book.jsonl:1 collateral[0]',
    ],
    ['a repeated id', `${line()}\n${line()}`, 'invalid_field', 'book.jsonl:2 id'],
    ['an unknown field', line({ leverage: '3' }), 'invalid_field', 'book.jsonl:1.leverage'],
    [
      'units in hex',
      line({ collateral: [{ symbol: 'ETH', units: '0x10' }] }),
      'invalid_number',
      'book.jsonl:1 collateral[0].units',
    ],
    [
      'units with a space',
      line({ collateral: [{ symbol: 'ETH', units: ' 1' }] }),
      'invalid_number',
      'book.jsonl:1 collateral[0].units',
    ],
    [
      'units as a number',
      line({ collateral: [{ symbol: 'ETH', units: 1 }] }),
      'invalid_number',
      'book.jsonl:1 collateral[0].units',
    ],
    [
      'zero units',
      line({ collateral: [{ symbol: 'ETH', units: '0' }] }),
      'invalid_number',
      'book.jsonl:1 collateral[0].units',
    ],
    [
      '10^15 units',
      line({ collateral: [{ symbol: 'ETH', units: '1000000000000000' }] }),
      'invalid_number',
      'book.jsonl:1 collateral[0].units',
    ],
    [
      'a symbol twice',
      line({
        collateral: [
          { symbol: 'ETH', units: '1' },
          { symbol: 'ETH', units: '1' },
        ],
      }),
      'invalid_field',
      'book.jsonl:1 collateral[1].symbol',
    ],
    [
      'a symbol __proto__',
      line({ collateral: [{ symbol: '__proto__', units: '1' }] }),
      'invalid_field',
      'book.jsonl:1 collateral[0].symbol',
    ],
    ['a health of 1', line({ health: '1' }), 'invalid_number', 'book.jsonl:1 health'],
    ['a health of NaN', line({ health: 'NaN' }), 'invalid_number', 'book.jsonl:1 health'],
    ['an id __proto__', line({ id: '__proto__' }), 'invalid_field', 'book.jsonl:1 id'],
    ['no accounts', '\n\n', 'invalid_field', 'book.jsonl'],
  ])('refuses %s, naming the file, the line and the field', (_name, text, code, field) => {
    expect(() => parsePopulation(text, 'book.jsonl')).toThrow(
      expect.objectContaining({ name: 'FulcrumError', code, field }) as unknown as Error,
    );
  });
});

describe('user-given symbols and ids in a run', () => {
  const window = {
    start: seconds('2020-03-12T09:00:00Z'),
    end: seconds('2020-03-12T10:00:00Z'),
    stepSeconds: 60,
    population: { ...DEFAULT_POPULATION, accounts: 20, largestShare: 0.1 },
  };
  const renamed = (symbol: string): BarSeries => ({ ...ETH, symbol });

  it('an asset named toString, constructor or valueOf is only a name', () => {
    for (const symbol of ['toString', 'constructor', 'valueOf']) {
      expect(defaultListing(symbol).assetWeight).toEqual(defaultListing('XYZ').assetWeight);
      const { input } = buildInput([renamed(symbol)], window);
      const run = simulate(input, policy('partial'));
      expect(run.metrics.lows.map((l) => l.symbol)).toEqual([symbol]);
    }
  });

  it('refuses the debt asset, a file naming no asset, one asset twice, and the lender', () => {
    const refused = (series: BarSeries[], options = {}) => {
      let caught: unknown;
      try {
        buildInput(series, { ...window, ...options });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(FulcrumError);
      return caught as FulcrumError;
    };
    expect(refused([renamed(DEBT_ASSET)]).field).toBe('prices');
    expect(refused([renamed('')]).field).toBe('prices');
    expect(refused([ETH, renamed('ETH')]).field).toBe('prices');
    const lender = [{ id: 'lender', collateral: [{ symbol: 'ETH', units: 10 }], health: 1.5 }];
    expect(refused([ETH], { accounts: lender }).field).toBe('population');
    // Each account below 10^15 units, but more in all than a pool takes (2^127 base units).
    const whales = Array.from({ length: 100_001 }, (_, i) => ({
      id: `w${i}`,
      collateral: [{ symbol: 'ETH', units: 999_999_999_999_999 }],
      health: 1.5,
    }));
    const error = refused([ETH], { accounts: whales });
    expect([error.code, error.field]).toEqual(['limit_exceeded', 'population']);
  });

  it('refuses prices too small for the book rather than failing inside the run', () => {
    const tiny: BarSeries = {
      ...ETH,
      bars: ETH.bars.map((b) => ({
        ...b,
        open: 10_000n,
        high: 10_000n,
        low: 10_000n,
        close: 10_000n,
      })),
    };
    const error = (() => {
      try {
        buildInput([tiny], window);
      } catch (caught) {
        return caught as FulcrumError;
      }
      return undefined;
    })();
    expect(error?.code).toBe('invalid_number');
    expect(error?.field).toBe('bookValue');
    expect(error?.message).toMatch(/starts at a price too small for this book/);
  });
});

describe('planOf (fulcrum simulate)', () => {
  const ethFile = join(DATA, ETH_FILE);

  const usage = (options: SimulateOptions) => {
    let caught: unknown;
    try {
      planOf(options);
    } catch (error) {
      caught = error;
    }
    expect(caught, JSON.stringify(options)).toBeInstanceOf(CliError);
    expect((caught as CliError).exitCode).toBe(EXIT.usage);
  };

  it('refuses bad options with a usage error', () => {
    usage({});
    usage({ scenario: 'black-thursday', prices: [ethFile] });
    usage({ scenario: 'black-thursday', accounts: '0' });
    usage({ scenario: 'black-thursday', accounts: '-3' });
    usage({ scenario: 'black-thursday', accounts: '2000001' });
    usage({ scenario: 'black-thursday', impact: 'cubic' });
    usage({ scenario: 'black-thursday', liquidity: '0' });
    usage({ scenario: 'black-thursday', recovery: 'soon' });
    usage({ scenario: 'black-thursday', seed: '-1' });
    usage({ scenario: 'black-thursday', step: '0' });
    usage({ scenario: 'black-thursday', from: '12/03/2020' });
    usage({ scenario: 'black-thursday', healthMedian: '25' });
    usage({ prices: [ethFile, ethFile] });
    // Price files get the same population checks as a scenario.
    usage({ prices: [ethFile], accounts: '3000000' });
    usage({ prices: [ethFile], healthMedian: '25' });
    // Every number is read strictly, and every date must be a real one.
    usage({ scenario: 'black-thursday', accounts: '0x10' });
    usage({ scenario: 'black-thursday', accounts: ' 1' });
    usage({ scenario: 'black-thursday', liquidatorCapital: '1e300' });
    usage({ scenario: 'black-thursday', liquidatorCapital: '11' });
    usage({ scenario: 'black-thursday', liquidatorDelay: 'Infinity' });
    usage({ scenario: 'black-thursday', bookValue: '1e9' });
    usage({ scenario: 'black-thursday', from: '2021-02-30' });
    usage({ scenario: 'black-thursday', to: '2020-03-12T24:00:00Z' });
  });

  it('--policy names known policies, each once; an empty name is refused, not read as all', () => {
    expect(parsePolicies(undefined).map((p) => p.name)).toEqual(POLICIES.map((p) => p.name));
    expect(parsePolicies('full,partial').map((p) => p.name)).toEqual(['full', 'partial']);
    for (const text of [',', '', 'partial,', 'partial,partial', 'toString', 'all,partial']) {
      expect(() => parsePolicies(text), text).toThrow(
        expect.objectContaining({ exitCode: EXIT.usage, field: '--policy' }) as unknown as Error,
      );
    }
  });

  it('the synthetic scenario generates its bars from the path seed: same seed, same path', () => {
    const plan = planOf({ scenario: 'synthetic', pathSeed: '3', accounts: '60' });
    expect(plan.pathSeed).toBe(3);
    expect(plan.files).toEqual([]);
    const a = loadSeries(plan).series;
    const b = loadSeries(planOf({ scenario: 'synthetic', pathSeed: '3', accounts: '60' })).series;
    const c = loadSeries(planOf({ scenario: 'synthetic', pathSeed: '4', accounts: '60' })).series;
    expect(b).toEqual(a);
    expect(c[0]?.bars).not.toEqual(a[0]?.bars);
    // Two calm days and the window's day of one-minute bars, every bar well formed.
    expect(a.map((x) => x.symbol)).toEqual(['ETH', 'BTC']);
    expect(a[0]?.bars).toHaveLength(3 * 1440);
    for (const bar of a[0]?.bars ?? []) {
      expect(bar.low <= bar.open && bar.low <= bar.close).toBe(true);
      expect(bar.high >= bar.open && bar.high >= bar.close).toBe(true);
    }
    const { input } = buildInput(a, plan.build);
    expect(input.path.times).toHaveLength(1440);
    expect(input.path.times[0]).toBe(seconds('2030-01-03T00:00:00Z'));
    usage({ scenario: 'synthetic', pathSeed: '-1' });
  });

  it('refuses an unknown scenario', () => {
    expect(() => planOf({ scenario: 'tulip-mania' })).toThrow(
      expect.objectContaining({ code: 'invalid_field', field: 'scenario' }),
    );
  });

  it('a scenario gives its files, window, step and mix; options override them', () => {
    const plan = planOf({ scenario: 'black-thursday' });
    expect(plan.name).toBe('black-thursday');
    expect(plan.build.start).toBe(seconds('2020-03-12T00:00:00Z'));
    expect(plan.build.end).toBe(seconds('2020-03-14T00:00:00Z'));
    expect(plan.build.stepSeconds).toBe(60);
    expect(plan.build.population.mix).toEqual({ ETH: 0.6, BTC: 0.4 });
    expect(plan.files.map((f) => f.symbol)).toEqual(['ETH', 'BTC']);
    const custom = planOf({
      scenario: 'black-thursday',
      from: '2020-03-12T06:00:00Z',
      to: '2020-03-12T12:00:00Z',
      step: '300',
      accounts: '150',
      seed: '0',
      impact: 'none',
      liquidity: '0.25',
    });
    expect(custom.build.start).toBe(seconds('2020-03-12T06:00:00Z'));
    expect(custom.build.end).toBe(seconds('2020-03-12T12:00:00Z'));
    expect(custom.build.stepSeconds).toBe(300);
    expect(custom.build.population.accounts).toBe(150);
    expect(custom.build.population.seed).toBe(0);
    expect(custom.build.marketModel?.impact).toBe('none');
    expect(custom.build.marketModel?.liquidityFactor).toBe(0.25);
  });

  it('--prices with the shipped ETH file: the window starts a week after the first bar', () => {
    const plan = planOf({ prices: [ethFile] });
    // Bars from 2020-03-05T00:00Z to the one opening 2020-03-19T23:00Z: fifteen days, more
    // than nine, so the first week measures the market and the window is the rest.
    expect(plan.build.start).toBe(seconds('2020-03-05T00:00:00Z') + 7 * 86_400);
    expect(plan.build.end).toBe(seconds('2020-03-20T00:00:00Z'));
    expect(plan.build.stepSeconds).toBe(60);
    expect(plan.files).toEqual([{ symbol: 'ETH', path: ethFile }]);
    expect(plan.build.population.mix).toEqual({ ETH: 1 });
    // The plan builds: loadSeries reads the file, buildInput measures the week before.
    const { series } = loadSeries(plan);
    expect(series[0]?.bars).toHaveLength(360);
    const { input } = buildInput(series, {
      ...plan.build,
      end: plan.build.start + 3600,
      population: { ...plan.build.population, accounts: 60 },
    });
    expect(input.path.times[0]).toBe(seconds('2020-03-12T00:00:00Z'));
    expect(priceAt(input.path, 0, 0)).toBeCloseTo(194.61, 9);
  });

  it('assemble names the policies with the least bad debt and amplification', () => {
    const input = blackThursday({ accounts: 60 });
    const runs = ['partial', 'full', 'throttled'].map((name) => simulate(input, policy(name)));
    const plan = planOf({ scenario: 'black-thursday' });
    const result = assemble(
      plan,
      input.path,
      {
        accounts: 60,
        seed: 7,
        collateralValue: 0,
        debtValue: 0,
        collateral: [],
        size: { p50: 0, p90: 0, p99: 0, max: 0 },
        health: { p10: 0, p50: 0, p90: 0 },
      },
      runs,
    );
    const leastDebt = Math.min(...runs.map((r) => r.metrics.badDebt));
    const leastAmplification = Math.min(...runs.map((r) => r.metrics.amplification));
    expect(result.verdict.leastBadDebt.badDebt).toBe(leastDebt);
    expect(result.verdict.leastAmplification.amplification).toBe(leastAmplification);
    expect(result.steps).toBe(input.path.times.length);
    expect(result.paths[0]?.low).toBe(Math.min(...(input.path.prices[0] as Float64Array)));
    expect(result.verdict.text).toContain(result.verdict.leastAmplification.policy);
    expect(() => assemble(plan, input.path, result.population, [])).toThrow(CliError);
  });
});
