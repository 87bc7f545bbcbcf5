/**
 * The cascade simulator's speed: a population of leveraged accounts over one real day of
 * minute bars (LUNA on 9 May 2022, 64.27 to 30.00: most of the book is liquidated), with the
 * default policy, at growing population sizes. The baseline is a naive step: set the price and
 * check every account's exact health, the work a simulator without the liquidation monitor
 * would do every step before liquidating anyone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Draft } from '../src/engine/draft.js';
import { parseOhlcv } from '../src/feeds/ohlcv.js';
import { isoUtcMillis } from '../src/math/time.js';
import { DEFAULT_MARKET_MODEL } from '../src/sim/market.js';
import { POLICIES } from '../src/sim/policies.js';
import { DEFAULT_POPULATION } from '../src/sim/population.js';
import { buildInput, findScenario } from '../src/sim/scenarios.js';
import { simulate, toPrice } from '../src/sim/simulator.js';
import { Engine } from '../src/engine/engine.js';
import type { Measurement } from './harness.js';

export interface SimulationBenchResult {
  readonly measurements: Measurement[];
  readonly note: string;
}

/** Accounts of each measured run; the last is the 100,000. */
const SIZES = [10_000, 30_000, 100_000];

export function simulationBenchmarks(largest: number): SimulationBenchResult {
  const scenario = findScenario('luna-day');
  const series = Object.entries(scenario.files).map(([symbol, file]) => {
    const path = join(process.cwd(), 'examples', 'data', file);
    return { symbol, source: file, bars: parseOhlcv(readFileSync(path, 'utf8'), file) };
  });
  const start = (isoUtcMillis(scenario.start) ?? Number.NaN) / 1000;
  const end = (isoUtcMillis(scenario.end) ?? Number.NaN) / 1000;
  const partial = POLICIES[0];
  if (partial === undefined) throw new Error('no policy');
  const measurements: Measurement[] = [];
  const notes: string[] = [];
  let baselineEngine: Engine | null = null;
  let baselineAccounts: readonly { id: string }[] = [];
  // A small run first, so that the measured runs find the code compiled.
  const sizes = [2_000, ...SIZES.filter((n) => n < largest), largest];
  for (const [index, accounts] of sizes.entries()) {
    const buildStart = performance.now();
    const { input } = buildInput(series, {
      start,
      end,
      stepSeconds: scenario.stepSeconds,
      population: { ...DEFAULT_POPULATION, accounts, mix: scenario.mix },
      marketModel: DEFAULT_MARKET_MODEL,
    });
    const buildMs = performance.now() - buildStart;
    let setupMs = 0;
    const runStart = performance.now();
    const run = simulate(input, partial, (done) => {
      if (done === 1) setupMs = performance.now() - runStart;
    });
    const totalMs = performance.now() - runStart;
    const steps = input.path.times.length;
    const stepMs = (totalMs - setupMs) / steps;
    if (index === 0) continue;
    measurements.push({
      name: `simulate ${accounts.toLocaleString('en')} accounts, ${steps} minute steps: ${((totalMs - setupMs) / 1000).toFixed(2)} s (steps/s)`,
      perSecond: 1000 / stepMs,
      nsPerOp: stepMs * 1e6,
      rounds: 1,
    });
    notes.push(
      `${accounts.toLocaleString('en')} accounts: population ${buildMs.toFixed(0)} ms, engine setup ${(setupMs / 1000).toFixed(2)} s, ` +
        `day ${((totalMs - setupMs) / 1000).toFixed(2)} s (${(stepMs * 1000).toFixed(0)} µs a step), ` +
        `${run.metrics.liquidations} liquidations of ${run.metrics.accountsLiquidated} accounts, ` +
        `${run.metrics.backstopLiquidations} by the backstop`,
    );
    if (accounts === largest) {
      // The naive step's engine: the same book, set up the same way (a run's setup, no steps).
      baselineEngine = new Engine();
      baselineAccounts = input.accounts;
      setupBook(baselineEngine, input);
    }
  }
  if (baselineEngine !== null) {
    const engine = baselineEngine;
    const path = buildInput(series, {
      start,
      end,
      stepSeconds: scenario.stepSeconds,
      population: { ...DEFAULT_POPULATION, accounts: 100, mix: scenario.mix },
    }).input.path;
    const prices = path.prices[0] as Float64Array;
    const steps = 20;
    const t0 = performance.now();
    let below = 0;
    for (let k = 0; k < steps; k++) {
      const time = path.times[k] as number;
      engine.apply({ type: 'set-price', time, asset: 'LUNA', price: toPrice(prices[k] as number) });
      for (const a of baselineAccounts) {
        const health = new Draft(engine.state, time).health({ account: a.id, subAccount: 0 });
        if (!health.meets('maintenance')) below++;
      }
    }
    const stepMs = (performance.now() - t0) / steps;
    measurements.push({
      name: `naive step: set the price, exact health of all ${largest.toLocaleString('en')} accounts (baseline)`,
      perSecond: 1000 / stepMs,
      nsPerOp: stepMs * 1e6,
      rounds: 1,
    });
    notes.push(
      `naive step ${stepMs.toFixed(1)} ms (${below} account-steps below maintenance in ${steps} steps); a day of them: ${((stepMs * path.times.length) / 1000).toFixed(1)} s before any liquidation`,
    );
  }
  return { measurements, note: notes.join('; ') };
}

/** The book of a run without its steps: the simulator's own setup, by running zero steps. */
function setupBook(engine: Engine, input: Parameters<typeof simulate>[0]): void {
  const oneStep = {
    ...input,
    path: {
      ...input.path,
      times: input.path.times.slice(0, 1),
      prices: input.path.prices.map((p) => p.slice(0, 1)),
    },
  };
  simulate(oneStep, POLICIES[0] as (typeof POLICIES)[number], undefined, engine);
}
