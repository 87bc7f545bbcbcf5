/**
 * `fulcrum simulate`: the cascade simulator from the command line. Reads the price files of a
 * shipped crash day (or the user's own), builds the population, runs every policy (in parallel
 * across the machine's cores, one worker thread per policy at a time), shows progress on
 * standard error, prints the comparison, and writes the JSON result and the HTML report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FulcrumError } from '../domain/errors.js';
import { barSeconds, parseOhlcv } from '../feeds/ohlcv.js';
import { describeFile } from '../feeds/replay.js';
import { DEFAULT_MARKET_MODEL, type MarketModel, validateMarketModel } from '../sim/market.js';
import type { BarSeries } from '../sim/path.js';
import { POLICIES, type Policy, selectPolicies } from '../sim/policies.js';
import { DEFAULT_POPULATION, type AccountSpec, validatePopulation } from '../sim/population.js';
import { renderReport } from '../sim/report.js';
import type { PolicyRun, SimulationResult } from '../sim/result.js';
import {
  buildInput,
  findScenario,
  SCENARIOS,
  syntheticSeries,
  type BuildOptions,
} from '../sim/scenarios.js';
import { simulate } from '../sim/simulator.js';
import { CliError, EXIT, parseJson, readInput } from './io.js';
import { table } from './table.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DATA = join(packageRoot, 'examples', 'data');

export const SIMULATE_HELP = `fulcrum simulate: replay a crash day against a population of leveraged accounts

usage:
  fulcrum simulate --scenario NAME [options]
  fulcrum simulate --prices FILE... [--from ISO] [--to ISO] [options]

scenarios (real crash days, shipped with Fulcrum):
${SCENARIOS.map((s) => `  ${s.name.padEnd(16)}${s.description}`).join('\n')}

policies (--policy a,b,...; default all):
${POLICIES.map((p) => `  ${p.name.padEnd(16)}${p.description}`).join('\n')}

population:
  --accounts N           accounts to generate (default ${DEFAULT_POPULATION.accounts})
  --seed N               seed of the population (default ${DEFAULT_POPULATION.seed}); same seed, same result
  --path-seed N          seed of the synthetic scenario's price path (default 7)
  --book-value USD       collateral value of the whole book (default ${DEFAULT_POPULATION.bookValue})
  --health-median H      median maintenance health at the start (default ${DEFAULT_POPULATION.healthMedian})
  --population FILE      accounts from a file instead, one JSON object a line:
                         {"id":"a1","collateral":[{"symbol":"ETH","units":"12.5"}],"health":"1.4"}

market and agents:
  --impact MODEL         sqrt (default), linear or none: how liquidation sales move the price
  --liquidity F          share of the pre-crash volume available in the crash (default ${DEFAULT_MARKET_MODEL.liquidityFactor})
  --recovery SECONDS     half-life of the market's recovery after a sale (default ${DEFAULT_MARKET_MODEL.recoveryHalfLifeSeconds})
  --liquidator-capital F liquidators' capital as a share of the book (default 0.02)
  --liquidator-delay F   scale of the liquidators' reaction delays (default 1)

run:
  --step SECONDS         simulation step (default: the scenario's; 60 for --prices)
  --jobs N               worker threads (default: the machine's cores)
  --sweep KEY=V1,V2,...  a parameter sweep: every policy at every value of one of
                         liquidity, recovery, liquidator-capital, liquidator-delay,
                         health-median (one run each, spread over the workers)
  --out DIR              where the JSON result and the HTML report go (default ./fulcrum-reports)
  --json                 print the result as JSON instead of the table
  --quiet                no progress on standard error`;

/** The options `fulcrum simulate` reads (strings as parsed from the command line). */
export interface SimulateOptions {
  readonly scenario?: string | undefined;
  readonly prices?: readonly string[] | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly policy?: string | undefined;
  readonly accounts?: string | undefined;
  readonly seed?: string | undefined;
  readonly pathSeed?: string | undefined;
  readonly bookValue?: string | undefined;
  readonly healthMedian?: string | undefined;
  readonly population?: string | undefined;
  readonly impact?: string | undefined;
  readonly liquidity?: string | undefined;
  readonly recovery?: string | undefined;
  readonly liquidatorCapital?: string | undefined;
  readonly liquidatorDelay?: string | undefined;
  readonly step?: string | undefined;
  readonly jobs?: string | undefined;
  readonly sweep?: string | undefined;
  readonly out?: string | undefined;
  readonly json?: boolean | undefined;
  readonly quiet?: boolean | undefined;
}

/** What a worker needs to rebuild the same input: plain data. */
export interface Plan {
  readonly name: string;
  readonly description: string;
  readonly files: readonly { readonly symbol: string; readonly path: string }[];
  /** For a synthetic scenario: the path's seed (its bars are generated, not read). */
  readonly pathSeed?: number;
  readonly build: BuildOptions;
}

/** Runs the simulation; returns the exit status. */
export async function simulateCommand(
  options: SimulateOptions,
  write: (text: string) => void,
): Promise<number> {
  const plan = planOf(options);
  const policies = selectPolicies((options.policy ?? 'all').split(',').filter((p) => p !== ''));
  const jobs = positiveInt(options.jobs, 'jobs', availableParallelism());
  const tasks = sweepTasks(options, plan, policies);
  const { series } = loadSeries(plan);
  const { input, population } = buildInput(series, plan.build);
  const progress = options.quiet === true ? null : new ProgressBoard(tasks.map((t) => t.label));
  const runs = await runAll(tasks, Math.min(jobs, tasks.length), progress);
  progress?.done();
  const result = assemble(plan, input.path, population, runs);
  const out = resolve(options.out ?? 'fulcrum-reports');
  mkdirSync(out, { recursive: true });
  const base = join(out, `simulation-${plan.name}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${base}.html`, renderReport(result));
  if (options.json === true) write(JSON.stringify(result));
  else write(summary(result, `${base}.json`, `${base}.html`));
  return EXIT.ok;
}

/** The scenario, or the user's price files, and every option read and checked. */
export function planOf(options: SimulateOptions): Plan {
  const hasPrices = options.prices !== undefined && options.prices.length > 0;
  if ((options.scenario === undefined) === !hasPrices) {
    throw new CliError(
      'give --scenario NAME or --prices FILE... (one of them); fulcrum simulate --help lists the scenarios',
      EXIT.usage,
    );
  }
  const accounts = positiveInt(options.accounts, 'accounts', DEFAULT_POPULATION.accounts);
  const population = {
    ...DEFAULT_POPULATION,
    accounts,
    // A small book cannot keep every account under 2% of it: the cap then leaves room to fill it.
    largestShare: Math.min(1, Math.max(DEFAULT_POPULATION.largestShare, 2 / accounts)),
    seed: nonNegativeInt(options.seed, 'seed', DEFAULT_POPULATION.seed),
    bookValue: positiveNumber(options.bookValue, 'book-value', DEFAULT_POPULATION.bookValue),
    healthMedian: positiveNumber(
      options.healthMedian,
      'health-median',
      DEFAULT_POPULATION.healthMedian,
    ),
  };
  const impact = options.impact ?? DEFAULT_MARKET_MODEL.impact;
  if (impact !== 'sqrt' && impact !== 'linear' && impact !== 'none') {
    throw new CliError('--impact must be sqrt, linear or none', EXIT.usage);
  }
  const marketModel: MarketModel = {
    ...DEFAULT_MARKET_MODEL,
    impact,
    liquidityFactor: positiveNumber(
      options.liquidity,
      'liquidity',
      DEFAULT_MARKET_MODEL.liquidityFactor,
    ),
    recoveryHalfLifeSeconds: positiveNumber(
      options.recovery,
      'recovery',
      DEFAULT_MARKET_MODEL.recoveryHalfLifeSeconds,
    ),
  };
  try {
    validateMarketModel(marketModel);
  } catch (error) {
    if (error instanceof FulcrumError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
  const loaded = options.population === undefined ? undefined : loadPopulation(options.population);
  const common = {
    marketModel,
    liquidatorCapitalShare: positiveNumber(options.liquidatorCapital, 'liquidator-capital', 0.02),
    liquidatorDelayScale: nonNegativeNumber(options.liquidatorDelay, 'liquidator-delay', 1),
    ...(loaded === undefined ? {} : { accounts: loaded }),
  };
  if (options.scenario !== undefined) {
    const scenario = findScenario(options.scenario);
    const population2 = { ...population, mix: scenario.mix };
    checkPopulation(population2);
    const start =
      options.from === undefined
        ? isoSeconds(scenario.start, 'scenario')
        : isoSeconds(options.from, 'from');
    const end =
      options.to === undefined
        ? isoSeconds(scenario.end, 'scenario')
        : isoSeconds(options.to, 'to');
    return {
      name: scenario.name,
      description: scenario.description,
      files: Object.entries(scenario.files).map(([symbol, file]) => ({
        symbol,
        path: join(DATA, file),
      })),
      ...(scenario.synthetic === undefined
        ? {}
        : { pathSeed: nonNegativeInt(options.pathSeed, 'path-seed', 7) }),
      build: {
        start,
        end,
        stepSeconds: positiveInt(options.step, 'step', scenario.stepSeconds),
        population: population2,
        ...common,
      },
    };
  }
  const files = (options.prices ?? []).map((path) => ({ symbol: describeFile(path).asset, path }));
  const symbols = files.map((f) => f.symbol);
  if (new Set(symbols).size !== symbols.length) {
    throw new CliError(`one price file per asset: ${symbols.join(', ')}`, EXIT.usage);
  }
  // The window: as given, or from a week (a day, for short files) after the first bar to the end.
  const { series } = loadSeries({
    name: 'prices',
    description: '',
    files,
    build: { start: 0, end: 0, stepSeconds: 60, population },
  });
  const first = Math.max(...series.map((s) => s.bars[0]?.time ?? 0));
  const last = Math.min(...series.map((s) => (s.bars.at(-1)?.time ?? 0) + barSeconds(s.bars)));
  const lead = last - first > 9 * 86_400 ? 7 * 86_400 : 86_400;
  const start = options.from === undefined ? first + lead : isoSeconds(options.from, 'from');
  const end = options.to === undefined ? last : isoSeconds(options.to, 'to');
  const mix = Object.fromEntries(symbols.map((s) => [s, 1 / symbols.length]));
  checkPopulation({ ...population, mix });
  return {
    name: 'prices',
    description: `Replay of ${files.map((f) => f.path.split(/[\\/]/).at(-1)).join(', ')}`,
    files,
    build: {
      start,
      end,
      stepSeconds: positiveInt(options.step, 'step', 60),
      population: { ...population, mix },
      ...common,
    },
  };
}

/** A population the options describe, or a usage error naming what is wrong. */
function checkPopulation(spec: Parameters<typeof validatePopulation>[0]): void {
  try {
    validatePopulation(spec);
  } catch (error) {
    if (error instanceof FulcrumError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
}

/** Reads and parses every price file of a plan (or generates a synthetic scenario's bars). */
export function loadSeries(plan: Plan): { series: BarSeries[] } {
  if (plan.pathSeed !== undefined) {
    return { series: syntheticSeries(findScenario(plan.name), plan.pathSeed) };
  }
  return {
    series: plan.files.map(({ symbol, path }) => ({
      symbol,
      source: path.split(/[\\/]/).at(-1) ?? path,
      bars: parseOhlcv(readInput(path), path.split(/[\\/]/).at(-1) ?? path),
    })),
  };
}

/** One run to do: a policy on a plan (a sweep's variant of the command's plan). */
interface Task {
  readonly plan: Plan;
  readonly policy: Policy;
  /** The policy's name, and the swept value if any: `partial liquidity=0.25`. */
  readonly label: string;
}

const SWEEPABLE = [
  'liquidity',
  'recovery',
  'liquidator-capital',
  'liquidator-delay',
  'health-median',
] as const;

/** Every policy, at every value of the swept parameter (or once, without `--sweep`). */
function sweepTasks(options: SimulateOptions, plan: Plan, policies: readonly Policy[]): Task[] {
  if (options.sweep === undefined) {
    return policies.map((policy) => ({ plan, policy, label: policy.name }));
  }
  const [key = '', list = ''] = options.sweep.split('=');
  if (!(SWEEPABLE as readonly string[]).includes(key) || list === '') {
    throw new CliError(
      `--sweep takes KEY=V1,V2,... with KEY one of ${SWEEPABLE.join(', ')}`,
      EXIT.usage,
    );
  }
  const values = list.split(',');
  if (values.length > 32) throw new CliError('--sweep takes at most 32 values', EXIT.usage);
  const tasks: Task[] = [];
  for (const value of values) {
    const variant = planOf({ ...options, ...sweptOption(key, value) });
    for (const policy of policies) {
      tasks.push({ plan: variant, policy, label: `${policy.name} ${key}=${value}` });
    }
  }
  return tasks;
}

function sweptOption(key: string, value: string): Partial<SimulateOptions> {
  switch (key) {
    case 'liquidity':
      return { liquidity: value };
    case 'recovery':
      return { recovery: value };
    case 'liquidator-capital':
      return { liquidatorCapital: value };
    case 'liquidator-delay':
      return { liquidatorDelay: value };
    default:
      return { healthMedian: value };
  }
}

/** Every task, `jobs` at a time, in worker threads (or here, for one job). */
async function runAll(
  tasks: readonly Task[],
  jobs: number,
  progress: ProgressBoard | null,
): Promise<PolicyRun[]> {
  const label = (run: PolicyRun, task: Task): PolicyRun =>
    task.label === run.policy ? run : { ...run, policy: task.label };
  if (jobs <= 1) {
    return tasks.map((task) => {
      const { series } = loadSeries(task.plan);
      const { input } = buildInput(series, task.plan.build);
      const started = performance.now();
      const run = simulate(input, task.policy, (done, total) =>
        progress?.update(task.label, done, total),
      );
      return label({ ...run, wallMs: performance.now() - started }, task);
    });
  }
  const runs: PolicyRun[] = new Array(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      const task = tasks[index] as Task;
      const run = await runInWorker(task.plan, task.policy.name, (done, total) =>
        progress?.update(task.label, done, total),
      );
      runs[index] = label(run, task);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return runs;
}

function runInWorker(
  plan: Plan,
  policy: string,
  onProgress: (done: number, total: number) => void,
): Promise<PolicyRun> {
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(new URL('./simulateWorker.js', import.meta.url), {
      workerData: { plan, policy },
    });
    worker.on('message', (message: { progress?: [number, number]; run?: PolicyRun }) => {
      if (message.progress !== undefined) onProgress(...message.progress);
      if (message.run !== undefined) resolvePromise(message.run);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (code !== 0) reject(new Error(`simulation worker for ${policy} exited with ${code}`));
    });
  });
}

/** The result: the runs, and which policy did best on bad debt and on amplification. */
export function assemble(
  plan: Plan,
  path: {
    symbols: readonly string[];
    times: readonly number[];
    prices: readonly Float64Array[];
    sources: readonly string[];
    stepSeconds: number;
  },
  population: SimulationResult['population'],
  runs: readonly PolicyRun[],
): SimulationResult {
  const byBadDebt = [...runs].sort((a, b) => a.metrics.badDebt - b.metrics.badDebt)[0];
  const byAmplification = [...runs].sort(
    (a, b) => a.metrics.amplification - b.metrics.amplification,
  )[0];
  if (byBadDebt === undefined || byAmplification === undefined) {
    throw new CliError('no policy was run', EXIT.usage);
  }
  const money = (x: number) => `$${Math.round(x).toLocaleString('en-US')}`;
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const names = (xs: readonly PolicyRun[]) =>
    xs.length === 1
      ? (xs[0] as PolicyRun).policy
      : `${xs
          .slice(0, -1)
          .map((r) => r.policy)
          .join(', ')} and ${(xs.at(-1) as PolicyRun).policy}`;
  // Ties (several policies with no bad debt, say) are named together.
  const leastDebt = runs.filter((r) => r.metrics.badDebt <= byBadDebt.metrics.badDebt + 0.005);
  const worstDebt = Math.max(...runs.map((r) => r.metrics.badDebt));
  const worstAmplification = Math.max(...runs.map((r) => r.metrics.amplification));
  const debtText =
    leastDebt.length === runs.length
      ? `every policy leaves the same bad debt (${money(byBadDebt.metrics.badDebt)})`
      : `${names(leastDebt)} ${leastDebt.length === 1 ? 'leaves' : 'leave'} the least bad debt (${money(byBadDebt.metrics.badDebt)}, against ${money(worstDebt)} at worst)`;
  const text =
    `On ${plan.name}, ${debtText}, and ${byAmplification.policy} amplifies the crash least ` +
    `(its liquidations deepened the fall by ${pct(byAmplification.metrics.amplification)}, ` +
    `against ${pct(worstAmplification)} at worst).`;
  return {
    scenario: plan.name,
    description: plan.description,
    seed: plan.build.population.seed,
    start: path.times[0] ?? 0,
    end: path.times.at(-1) ?? 0,
    stepSeconds: path.stepSeconds,
    steps: path.times.length,
    paths: path.symbols.map((symbol, i) => {
      const prices = path.prices[i] as Float64Array;
      let low = Number.POSITIVE_INFINITY;
      for (const p of prices) low = Math.min(low, p);
      return {
        symbol,
        source: path.sources[i] ?? '',
        start: prices[0] ?? 0,
        low,
        end: prices.at(-1) ?? 0,
      };
    }),
    population,
    market: {
      impact: plan.build.marketModel?.impact ?? DEFAULT_MARKET_MODEL.impact,
      coefficient: plan.build.marketModel?.coefficient ?? DEFAULT_MARKET_MODEL.coefficient,
      liquidityFactor:
        plan.build.marketModel?.liquidityFactor ?? DEFAULT_MARKET_MODEL.liquidityFactor,
      recoveryHalfLifeSeconds:
        plan.build.marketModel?.recoveryHalfLifeSeconds ??
        DEFAULT_MARKET_MODEL.recoveryHalfLifeSeconds,
      maxImpact: plan.build.marketModel?.maxImpact ?? DEFAULT_MARKET_MODEL.maxImpact,
      liquidatorCapitalShare: plan.build.liquidatorCapitalShare ?? 0.02,
      liquidatorDelayScale: plan.build.liquidatorDelayScale ?? 1,
    },
    runs,
    verdict: {
      leastBadDebt: { policy: byBadDebt.policy, badDebt: byBadDebt.metrics.badDebt },
      leastAmplification: {
        policy: byAmplification.policy,
        amplification: byAmplification.metrics.amplification,
      },
      text,
    },
  };
}

/** The comparison table and where the files went. */
function summary(result: SimulationResult, json: string, html: string): string {
  const money = (x: number) =>
    Math.abs(x) >= 1e6 ? `$${(x / 1e6).toFixed(2)}M` : `$${(x / 1e3).toFixed(1)}k`;
  const rows = result.runs.map((r) => {
    const m = r.metrics;
    return [
      r.policy,
      `${(m.amplification * 100).toFixed(2)}%`,
      m.lows.map((l) => `${l.symbol} ${sig(l.realizedLow)}`).join(' '),
      money(m.liquidatedNotional),
      `${m.liquidations} (${m.backstopLiquidations})`,
      String(m.accountsLiquidated),
      money(m.badDebt),
      money(m.insuranceDraw),
      money(m.socialized),
      String(m.marginChanges),
      `${(r.wallMs / 1000).toFixed(1)} s`,
    ];
  });
  const p = result.population;
  return [
    `${result.scenario}: ${result.description}`,
    `${result.steps} steps of ${result.stepSeconds} s from ${iso(result.start)}; ${p.accounts} accounts (seed ${p.seed}), ` +
      `collateral ${money(p.collateralValue)}; exogenous lows: ${result.paths.map((x) => `${x.symbol} ${sig(x.low)}`).join(', ')}`,
    '',
    table(
      [
        'policy',
        'amplification',
        'realized lows',
        'liquidated',
        'liquidations (backstop)',
        'accounts',
        'bad debt',
        'insurance paid',
        'lenders bore',
        'margin changes',
        'time',
      ],
      rows,
    ),
    '',
    result.verdict.text,
    '',
    `result: ${json}`,
    `report: ${html}`,
  ].join('\n');
}

/** Progress of every policy on standard error: one line each, redrawn on a terminal. */
class ProgressBoard {
  private readonly state = new Map<string, [number, number]>();
  private readonly tty = process.stderr.isTTY === true;
  private drawn = 0;
  private lastPrinted = new Map<string, number>();

  constructor(private readonly labels: readonly string[]) {
    for (const label of labels) this.state.set(label, [0, 1]);
  }

  update(policy: string, done: number, total: number): void {
    this.state.set(policy, [done, total]);
    if (this.tty) {
      this.draw();
      return;
    }
    // Not a terminal: a line at each quarter.
    const quarter = Math.floor((done / total) * 4);
    if (quarter > (this.lastPrinted.get(policy) ?? -1)) {
      this.lastPrinted.set(policy, quarter);
      process.stderr.write(`${this.line(policy)}\n`);
    }
  }

  done(): void {
    if (this.tty) this.draw();
  }

  private line(policy: string): string {
    const [done, total] = this.state.get(policy) ?? [0, 1];
    const width = 30;
    const filled = Math.round((done / total) * width);
    return `  ${policy.padEnd(24)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor((done / total) * 100)).padStart(3)}%  step ${done}/${total}`;
  }

  private draw(): void {
    if (this.drawn > 0) process.stderr.write(`\x1b[${this.drawn}A`);
    for (const label of this.labels) process.stderr.write(`\x1b[2K${this.line(label)}\n`);
    this.drawn = this.labels.length;
  }
}

function loadPopulation(path: string): AccountSpec[] {
  const lines = readInput(path).split(/\r?\n/);
  const accounts: AccountSpec[] = [];
  lines.forEach((text, i) => {
    if (text.trim() === '') return;
    const where = `${path}:${i + 1}`;
    const raw = parseJson(text, where) as Record<string, unknown>;
    const id = raw.id;
    const collateral = raw.collateral;
    const health = Number(raw.health);
    if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id)) {
      throw new CliError(
        `${where}: id must be 1-64 letters, digits, ".", "_" or "-"`,
        EXIT.badInput,
      );
    }
    if (!Array.isArray(collateral) || collateral.length === 0 || collateral.length > 8) {
      throw new CliError(`${where}: collateral must list 1 to 8 assets`, EXIT.badInput);
    }
    if (!(health > 1 && health <= 100)) {
      throw new CliError(
        `${where}: health must be a number above 1 and at most 100`,
        EXIT.badInput,
      );
    }
    accounts.push({
      id,
      health,
      collateral: collateral.map((c: unknown) => {
        const entry = c as Record<string, unknown>;
        const units = Number(entry.units);
        if (typeof entry.symbol !== 'string' || !(units > 0 && units < 1e15)) {
          throw new CliError(
            `${where}: each collateral needs a symbol and units above 0`,
            EXIT.badInput,
          );
        }
        return { symbol: entry.symbol, units };
      }),
    });
  });
  if (accounts.length === 0) throw new CliError(`${path}: no accounts`, EXIT.badInput);
  return accounts;
}

function isoSeconds(text: string, option: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?Z)?$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) {
    throw new CliError(
      `--${option} must be an ISO date like 2020-03-12 or 2020-03-12T06:00:00Z`,
      EXIT.usage,
    );
  }
  return ms / 1000;
}

function positiveInt(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new CliError(`--${option} must be a positive whole number`, EXIT.usage);
  }
  return n;
}

function nonNegativeInt(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new CliError(`--${option} must be a whole number`, EXIT.usage);
  }
  return n;
}

function positiveNumber(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+(\.\d+)?(e\d+)?$/.test(text) || !(n > 0) || !Number.isFinite(n)) {
    throw new CliError(`--${option} must be a positive number`, EXIT.usage);
  }
  return n;
}

function nonNegativeNumber(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(n)) {
    throw new CliError(`--${option} must be a number of at least 0`, EXIT.usage);
  }
  return n;
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** A price to five significant digits. */
function sig(x: number): string {
  return Number(x.toPrecision(5)).toString();
}
