/**
 * `fulcrum simulate`: the cascade simulator from the command line. Reads the price files of a
 * shipped crash day (or the user's own), builds the population, runs every policy (in parallel
 * across the machine's cores, one worker thread per policy at a time), shows progress on
 * standard error, prints the comparison, and writes the JSON result and the HTML report.
 */
import { statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FulcrumError } from '../base/errors.js';
import { quoteInput } from '../domain/quote.js';
import { parseOhlcv } from '../feeds/ohlcv.js';
import { barSeconds, isoUtc } from '../math/time.js';
import { DEFAULT_MARKET_MODEL, type MarketModel, validateMarketModel } from '../sim/market.js';
import type { BarSeries } from '../sim/path.js';
import { POLICIES, type Policy } from '../sim/policies.js';
import {
  DEFAULT_POPULATION,
  parsePopulation,
  POPULATION_ACCOUNTS_MAX,
  type PopulationSpec,
  validatePopulation,
} from '../sim/population.js';
import { renderReport } from '../sim/report.js';
import type { PegInfo, PolicyRun, SimulationResult } from '../sim/result.js';
import {
  buildInput,
  DEFAULT_PERPS_SHARE,
  findScenario,
  SCENARIOS,
  syntheticSeries,
  type BuildOptions,
} from '../sim/scenarios.js';
import type { PerpsInput } from '../sim/perpDesk.js';
import { DEBT_ASSET, type SimulationInput } from '../sim/simulator.js';
import { simulate } from '../sim/simulator.js';
import {
  markSymbolOf,
  PERPS_HELP,
  type PerpsFlags,
  perpsOptions,
  perpsSummary,
} from './simulatePerps.js';
import { CliError, ensureFolder, EXIT, priceFileNames, readInput, showPath } from './io.js';
import { dateOption, optionalNumber } from './options.js';
import { table } from './table.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DATA = join(packageRoot, 'examples', 'data');

export const SIMULATE_HELP = `fulcrum simulate: replay a crash day against a population of leveraged accounts

usage:
  fulcrum simulate --scenario NAME [options]
  fulcrum simulate --prices FILE... [--from ISO] [--to ISO] [options]

scenarios (real crash days, shipped with Fulcrum):
${SCENARIOS.map((s) => `  ${s.name.padEnd(22)}${s.description}`).join('\n')}

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

${PERPS_HELP}

run:
  --step SECONDS         simulation step (default: the scenario's; 60 for --prices)
  --jobs N               worker threads (default: the machine's cores)
  --sweep KEY=V1,V2,...  a parameter sweep: every policy at every value of one of
                         liquidity, recovery, liquidator-capital, liquidator-delay,
                         health-median, perps, long-share (one run each, spread over the workers)
  --out DIR              where the JSON result and the HTML report go (default ./fulcrum-reports;
                         created if needed, checked before the runs start)
  --json                 print the result as JSON instead of the table
  --quiet                no progress on standard error`;

/** The options `fulcrum simulate` reads (strings as parsed from the command line). */
export interface SimulateOptions extends PerpsFlags {
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
  /** Perpetuals' mark files (`ETH-PERP`), read when the book has traders. */
  readonly marks?: readonly { readonly symbol: string; readonly path: string }[];
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
  const policies = parsePolicies(options.policy);
  const jobs = optionalNumber(
    options.jobs,
    'jobs',
    { min: 1, max: JOBS_MAX, whole: true },
    Math.min(JOBS_MAX, availableParallelism()),
  );
  const tasks = sweepTasks(options, plan, policies);
  const { input, population, pegged } = inOptionTerms(() => inputOf(plan));
  // Where the files go is checked before the runs, which may take minutes (and after the input,
  // so that refused input leaves nothing behind): a folder that cannot be made or written, or a
  // report's name taken by a folder, fails now, in one line.
  const out = resolve(options.out ?? 'fulcrum-reports');
  ensureFolder(out, '--out');
  const base = join(out, `simulation-${plan.name}`);
  for (const file of [`${base}.json`, `${base}.html`]) checkWritableFile(file);
  const progress = options.quiet === true ? null : new ProgressBoard(tasks.map((t) => t.label));
  const runs = await runAll(tasks, Math.min(jobs, tasks.length), progress);
  progress?.done();
  const result = assemble(plan, input.path, population, runs, { input, pegged });
  writeReport(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeReport(`${base}.html`, renderReport(result));
  if (options.json === true) write(JSON.stringify(result));
  else write(summary(result, `${base}.json`, `${base}.html`));
  return EXIT.ok;
}

/** Seeds are 32-bit. */
const SEED_MAX = 0xffff_ffff;

/** `--step`: one second to a day. */
const STEP_RANGE = { min: 1, max: 86_400, whole: true } as const;

/** Largest `--liquidator-capital`: ten times the book. */
const LIQUIDATOR_CAPITAL_MAX = 10;

/** Largest `--liquidator-delay` scale: a hundred times the profile's delays. */
const LIQUIDATOR_DELAY_MAX = 100;

/** Most worker threads `--jobs` may ask for. */
const JOBS_MAX = 64;

/** Most price files `--prices` takes: one per asset. */
const PRICE_FILES_MAX = 16;

/** Most names `--policy` takes (each policy once). */
const POLICY_NAMES_MAX = POLICIES.length;

/**
 * The policies `--policy` names, in the order given (`all`, or nothing, for every one): each a
 * known policy, named once; an empty name (`--policy ,`) is refused, not read as "all".
 */
export function parsePolicies(text: string | undefined): Policy[] {
  if (text === undefined || text === 'all') return [...POLICIES];
  const fail = (message: string): never => {
    throw new CliError(message, EXIT.usage, { code: 'invalid_field', field: '--policy' });
  };
  const names = text.split(',');
  if (names.length > POLICY_NAMES_MAX) {
    fail(
      `--policy names at most ${POLICY_NAMES_MAX} policies, each once (got ${quoteInput(text)})`,
    );
  }
  const byName = new Map(POLICIES.map((p) => [p.name, p]));
  const chosen: Policy[] = [];
  for (const name of names) {
    const policy = byName.get(name);
    if (policy === undefined) {
      fail(
        name === ''
          ? `--policy holds an empty name (got ${quoteInput(text)}); policies: ${POLICIES.map((p) => p.name).join(', ')}`
          : `unknown policy ${quoteInput(name)}; policies: ${POLICIES.map((p) => p.name).join(', ')}`,
      );
    }
    if (chosen.includes(policy as Policy)) fail(`--policy names ${quoteInput(name)} twice`);
    chosen.push(policy as Policy);
  }
  return chosen;
}

/** A report file may be written: nothing there yet, or a file (it is replaced). */
function checkWritableFile(path: string): void {
  let file: boolean;
  try {
    file = statSync(path).isFile();
  } catch {
    return; // Not there: the folder, checked writable, takes it.
  }
  if (!file) {
    throw new CliError(`--out: ${showPath(path)} exists and is not a file`, EXIT.badInput, {
      code: 'invalid_field',
      field: '--out',
    });
  }
}

/** Writes a report file, or fails in one line naming it. */
function writeReport(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'failed';
    throw new CliError(`cannot write ${showPath(path)} (${code})`, EXIT.badInput, {
      code: 'invalid_field',
      field: '--out',
    });
  }
}

/** The population options, a market model and the run options a plan's build shares. */
type CommonBuild = Pick<
  BuildOptions,
  'marketModel' | 'liquidatorCapitalShare' | 'liquidatorDelayScale' | 'accounts'
>;

/** The scenario, or the user's price files, and every option read and checked. */
export function planOf(options: SimulateOptions): Plan {
  const hasPrices = options.prices !== undefined && options.prices.length > 0;
  if ((options.scenario === undefined) === !hasPrices) {
    throw new CliError(
      'give --scenario NAME or --prices FILE... (one of them); fulcrum simulate --help lists the scenarios',
      EXIT.usage,
    );
  }
  const population = populationOptions(options);
  const marketModel = marketModelOptions(options);
  const loaded =
    options.population === undefined
      ? undefined
      : parsePopulation(readInput(options.population), options.population);
  const common: CommonBuild = {
    marketModel,
    liquidatorCapitalShare: optionalNumber(
      options.liquidatorCapital,
      'liquidator-capital',
      { min: 0, max: LIQUIDATOR_CAPITAL_MAX, above: true },
      0.02,
    ),
    liquidatorDelayScale: optionalNumber(
      options.liquidatorDelay,
      'liquidator-delay',
      { min: 0, max: LIQUIDATOR_DELAY_MAX },
      1,
    ),
    ...(loaded === undefined ? {} : { accounts: loaded }),
  };
  return options.scenario !== undefined
    ? scenarioPlan(options, options.scenario, population, common)
    : pricesPlan(options, population, common);
}

/** `--accounts`, `--seed`, `--book-value` and `--health-median` over the default population. */
function populationOptions(options: SimulateOptions): Omit<PopulationSpec, 'mix'> {
  const accounts = optionalNumber(
    options.accounts,
    'accounts',
    { min: 1, max: POPULATION_ACCOUNTS_MAX, whole: true },
    DEFAULT_POPULATION.accounts,
  );
  return {
    ...DEFAULT_POPULATION,
    accounts,
    // A small book cannot keep every account under 2% of it: the cap then leaves room to fill it.
    largestShare: Math.min(1, Math.max(DEFAULT_POPULATION.largestShare, 2 / accounts)),
    seed: optionalNumber(
      options.seed,
      'seed',
      { min: 0, max: SEED_MAX, whole: true },
      DEFAULT_POPULATION.seed,
    ),
    bookValue: optionalNumber(
      options.bookValue,
      'book-value',
      { min: 1_000, max: 1e13 },
      DEFAULT_POPULATION.bookValue,
    ),
    healthMedian: optionalNumber(
      options.healthMedian,
      'health-median',
      { min: 1, max: 20, above: true },
      DEFAULT_POPULATION.healthMedian,
    ),
  };
}

/** `--impact`, `--liquidity` and `--recovery` over the default market model, checked. */
function marketModelOptions(options: SimulateOptions): MarketModel {
  const impact = options.impact ?? DEFAULT_MARKET_MODEL.impact;
  if (impact !== 'sqrt' && impact !== 'linear' && impact !== 'none') {
    throw new CliError(
      `--impact must be sqrt, linear or none (got ${quoteInput(impact)})`,
      EXIT.usage,
      { code: 'invalid_field', field: '--impact' },
    );
  }
  const marketModel: MarketModel = {
    ...DEFAULT_MARKET_MODEL,
    impact,
    liquidityFactor: optionalNumber(
      options.liquidity,
      'liquidity',
      { min: 0, max: 100, above: true },
      DEFAULT_MARKET_MODEL.liquidityFactor,
    ),
    recoveryHalfLifeSeconds: optionalNumber(
      options.recovery,
      'recovery',
      { min: 1, max: 30 * 86_400 },
      DEFAULT_MARKET_MODEL.recoveryHalfLifeSeconds,
    ),
  };
  try {
    validateMarketModel(marketModel);
  } catch (error) {
    if (error instanceof FulcrumError) {
      throw new CliError(error.message, EXIT.usage, {
        code: error.code,
        field: optionOf(error.field),
      });
    }
    throw error;
  }
  return marketModel;
}

/** The plan of a shipped scenario: its files, its window unless `--from`/`--to`, its step. */
function scenarioPlan(
  options: SimulateOptions,
  name: string,
  population: Omit<PopulationSpec, 'mix'>,
  common: CommonBuild,
): Plan {
  const scenario = findScenario(name);
  const withMix = { ...population, mix: scenario.mix };
  checkPopulation(withMix);
  const start = dateOption(options.from ?? scenario.start, 'from');
  const end = dateOption(options.to ?? scenario.end, 'to');
  const perps = perpsOptions(options, scenario.perps ?? 0);
  return {
    name: scenario.name,
    description: scenario.description,
    files: Object.entries(scenario.files).map(([symbol, file]) => ({
      symbol,
      path: join(DATA, file),
    })),
    ...(perps === undefined || scenario.marks === undefined
      ? {}
      : {
          marks: Object.entries(scenario.marks).map(([symbol, file]) => ({
            symbol: `${symbol}-PERP`,
            path: join(DATA, file),
          })),
        }),
    ...(scenario.synthetic === undefined
      ? {}
      : {
          pathSeed: optionalNumber(
            options.pathSeed,
            'path-seed',
            { min: 0, max: SEED_MAX, whole: true },
            7,
          ),
        }),
    build: {
      start,
      end,
      stepSeconds: optionalNumber(options.step, 'step', STEP_RANGE, scenario.stepSeconds),
      population: withMix,
      ...common,
      ...(perps === undefined ? {} : { perps }),
    },
  };
}

/** The plan of the user's price files: one per asset, the population mixed evenly over them. */
function pricesPlan(
  options: SimulateOptions,
  population: Omit<PopulationSpec, 'mix'>,
  common: CommonBuild,
): Plan {
  if ((options.prices ?? []).length > PRICE_FILES_MAX) {
    throw new CliError(
      `--prices takes at most ${PRICE_FILES_MAX} files, one per asset`,
      EXIT.usage,
      {
        code: 'limit_exceeded',
        field: '--prices',
      },
    );
  }
  const { files, marks } = splitPriceFiles(options.prices ?? []);
  const symbols = files.map((f) => f.symbol);
  const perps = perpsOptions(options, marks.length > 0 ? DEFAULT_PERPS_SHARE : 0);
  if (perps === undefined && marks.length > 0) {
    throw new CliError(
      `${marks.map((m) => m.symbol).join(', ')}: mark files need perpetual traders (--perps above 0)`,
      EXIT.usage,
      { code: 'invalid_field', field: '--perps' },
    );
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
  const start = options.from === undefined ? first + lead : dateOption(options.from, 'from');
  const end = options.to === undefined ? last : dateOption(options.to, 'to');
  const mix = Object.fromEntries(symbols.map((s) => [s, 1 / symbols.length]));
  checkPopulation({ ...population, mix });
  return {
    name: 'prices',
    description: `Replay of ${[...files, ...marks].map((f) => f.path.split(/[\\/]/).at(-1)).join(', ')}`,
    files,
    ...(marks.length === 0 ? {} : { marks }),
    build: {
      start,
      end,
      stepSeconds: optionalNumber(options.step, 'step', STEP_RANGE, 60),
      population: { ...population, mix },
      ...common,
      ...(perps === undefined ? {} : { perps }),
    },
  };
}

/**
 * `--prices` files: spot price files (one per asset) and perpetuals' mark files (one per
 * perpetual), told apart by their names ({@link markSymbolOf}).
 */
function splitPriceFiles(paths: readonly string[]): {
  files: { symbol: string; path: string }[];
  marks: { symbol: string; path: string }[];
} {
  const files: { symbol: string; path: string }[] = [];
  const marks: { symbol: string; path: string }[] = [];
  for (const path of paths) {
    const mark = markSymbolOf(path);
    if (mark === null) files.push({ symbol: priceFileNames(path).asset, path });
    else marks.push({ symbol: mark, path });
  }
  for (const list of [files, marks]) {
    const symbols = list.map((f) => f.symbol);
    if (new Set(symbols).size !== symbols.length) {
      throw new CliError(
        `one price file per asset and one mark file per perpetual: ${symbols.map((s) => quoteInput(s)).join(', ')}`,
        EXIT.usage,
        { code: 'invalid_field', field: '--prices' },
      );
    }
  }
  if (files.length === 0) {
    throw new CliError(
      'the mark files need the price files of their underlyings among --prices',
      EXIT.usage,
      { code: 'invalid_field', field: '--prices' },
    );
  }
  return { files, marks };
}

/** A population the options describe, or a usage error naming what is wrong. */
function checkPopulation(spec: Parameters<typeof validatePopulation>[0]): void {
  try {
    validatePopulation(spec);
  } catch (error) {
    if (error instanceof FulcrumError) {
      throw new CliError(error.message, EXIT.usage, {
        code: error.code,
        field: optionOf(error.field),
      });
    }
    throw error;
  }
}

/** The option a population, market or input field comes from: `bookValue` is `--book-value`. */
const OPTION_OF_FIELD = new Map([
  ['accounts', '--accounts'],
  ['seed', '--seed'],
  ['bookValue', '--book-value'],
  ['healthMedian', '--health-median'],
  ['liquidityFactor', '--liquidity'],
  ['recoveryHalfLifeSeconds', '--recovery'],
  ['impact', '--impact'],
  ['population', '--population'],
  ['prices', '--prices'],
  ['window', '--from/--to'],
  ['step', '--step'],
  ['perps', '--perps'],
  ['depeg', '--depeg'],
  ['leverage', '--leverage'],
  ['longShare', '--long-share'],
  ['collateralMix', '--perps'],
]);

function optionOf(field: string | undefined): string {
  const name = (field ?? '').replace(/^market\./, '');
  return OPTION_OF_FIELD.get(name) ?? (name === '' ? 'options' : name);
}

/** Runs `build`, naming the option behind a refusal of the input it builds (exit status 1). */
function inOptionTerms<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof FulcrumError)) throw error;
    throw new CliError(error.message, EXIT.badInput, {
      code: error.code,
      field: optionOf(error.field),
    });
  }
}

/**
 * Reads and parses every price file of a plan (or generates a synthetic scenario's bars), and
 * its perpetuals' mark files.
 */
export function loadSeries(plan: Plan): { series: BarSeries[]; marks: BarSeries[] } {
  const read = ({ symbol, path }: { symbol: string; path: string }): BarSeries => ({
    symbol,
    source: path.split(/[\\/]/).at(-1) ?? path,
    bars: parseOhlcv(readInput(path), path),
  });
  const marks = (plan.marks ?? []).map(read);
  if (plan.pathSeed !== undefined) {
    return { series: syntheticSeries(findScenario(plan.name), plan.pathSeed), marks };
  }
  return { series: plan.files.map(read), marks };
}

/** A plan's run input: its files read, its population and traders built. */
export function inputOf(plan: Plan): ReturnType<typeof buildInput> {
  const { series, marks } = loadSeries(plan);
  const { perps } = plan.build;
  return buildInput(series, {
    ...plan.build,
    ...(perps === undefined ? {} : { perps: { ...perps, marks } }),
  });
}

/** One run to do: a policy on a plan (a sweep's variant of the command's plan). */
interface Task {
  readonly plan: Plan;
  readonly policy: Policy;
  /** The policy's name, and the swept value if any: `partial liquidity=0.25`. */
  readonly label: string;
}

/** Most values one `--sweep` may take. */
const SWEEP_VALUES_MAX = 32;

const SWEEPABLE = [
  'liquidity',
  'recovery',
  'liquidator-capital',
  'liquidator-delay',
  'health-median',
  'perps',
  'long-share',
] as const;

/** Every policy, at every value of the swept parameter (or once, without `--sweep`). */
function sweepTasks(options: SimulateOptions, plan: Plan, policies: readonly Policy[]): Task[] {
  if (options.sweep === undefined) {
    return policies.map((policy) => ({ plan, policy, label: policy.name }));
  }
  const equals = options.sweep.indexOf('=');
  const key = equals === -1 ? options.sweep : options.sweep.slice(0, equals);
  const list = equals === -1 ? '' : options.sweep.slice(equals + 1);
  const fail = (message: string): never => {
    throw new CliError(message, EXIT.usage, { code: 'invalid_field', field: '--sweep' });
  };
  if (!(SWEEPABLE as readonly string[]).includes(key) || list === '') {
    fail(
      `--sweep takes KEY=V1,V2,... with KEY one of ${SWEEPABLE.join(', ')} (got ${quoteInput(options.sweep)})`,
    );
  }
  const values = list.split(',');
  if (values.length > SWEEP_VALUES_MAX) fail(`--sweep takes at most ${SWEEP_VALUES_MAX} values`);
  if (new Set(values).size !== values.length) fail('--sweep names a value twice');
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
    case 'perps':
      return { perps: value };
    case 'long-share':
      return { longShare: value };
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
      const { input } = inputOf(task.plan);
      const started = performance.now();
      const run = simulate(input, task.policy, (done, total) =>
        progress?.update(task.label, done, total),
      );
      return label({ ...run, wallMs: performance.now() - started }, task);
    });
  }
  const runs: PolicyRun[] = new Array(tasks.length);
  const running = new Set<Worker>();
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < tasks.length && !failed) {
      const index = next++;
      const task = tasks[index] as Task;
      const run = await runInWorker(task.plan, task.policy.name, running, (done, total) =>
        progress?.update(task.label, done, total),
      );
      runs[index] = label(run, task);
    }
  };
  try {
    await Promise.all(Array.from({ length: jobs }, worker));
  } catch (error) {
    // One failed run fails the command at once: the others are stopped, not waited for.
    failed = true;
    await Promise.all([...running].map((w) => w.terminate()));
    throw error;
  }
  return runs;
}

/** One policy's run in a worker thread; `running` holds the worker while it runs. */
function runInWorker(
  plan: Plan,
  policy: string,
  running: Set<Worker>,
  onProgress: (done: number, total: number) => void,
): Promise<PolicyRun> {
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(new URL('./simulateWorker.js', import.meta.url), {
      workerData: { plan, policy },
    });
    running.add(worker);
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      running.delete(worker);
      outcome();
    };
    worker.on('message', (message: { progress?: [number, number]; run?: PolicyRun }) => {
      if (message.progress !== undefined) onProgress(...message.progress);
      if (message.run !== undefined) {
        const run = message.run;
        settle(() => resolvePromise(run));
      }
    });
    worker.on('error', (error) => settle(() => reject(fromWorker(error, policy))));
    worker.on('exit', (code) => {
      settle(() => reject(new Error(`the simulation of ${policy} stopped (exit code ${code})`)));
    });
  });
}

/**
 * An error thrown in a worker, as this thread reports it: a refusal keeps its code and field
 * (a structured clone keeps only an error's name and message), anything else stays a fault.
 */
function fromWorker(error: unknown, policy: string): Error {
  if (!(error instanceof Error)) return new Error(`the simulation of ${policy} failed`);
  const refusal = error as Error & { code?: unknown; field?: unknown };
  if (error.name === 'FulcrumError' && typeof refusal.code === 'string') {
    return new CliError(error.message, EXIT.badInput, {
      code: refusal.code as FulcrumError['code'],
      ...(typeof refusal.field === 'string' ? { field: refusal.field } : {}),
    });
  }
  return error;
}

/** The price path a result describes: the symbols, the times and each symbol's prices. */
interface ResultPath {
  symbols: readonly string[];
  times: readonly number[];
  prices: readonly Float64Array[];
  sources: readonly string[];
  stepSeconds: number;
}

/** The result: the runs, and which policy did best on bad debt and on amplification. */
export function assemble(
  plan: Plan,
  path: ResultPath,
  population: SimulationResult['population'],
  runs: readonly PolicyRun[],
  book: { input?: Pick<SimulationInput, 'perps'>; pegged?: readonly PegInfo[] } = {},
): SimulationResult {
  const byBadDebt = [...runs].sort((a, b) => a.metrics.badDebt - b.metrics.badDebt)[0];
  const byAmplification = [...runs].sort(
    (a, b) => a.metrics.amplification - b.metrics.amplification,
  )[0];
  if (byBadDebt === undefined || byAmplification === undefined) {
    throw new CliError('no policy was run', EXIT.usage);
  }
  return {
    scenario: plan.name,
    description: plan.description,
    seed: plan.build.population.seed,
    start: path.times[0] ?? 0,
    end: path.times.at(-1) ?? 0,
    stepSeconds: path.stepSeconds,
    steps: path.times.length,
    paths: pathSummaries(path),
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
    ...derivativesOf(path, book.input?.perps, book.pegged ?? []),
    runs,
    verdict: {
      leastBadDebt: { policy: byBadDebt.policy, badDebt: byBadDebt.metrics.badDebt },
      leastAmplification: {
        policy: byAmplification.policy,
        amplification: byAmplification.metrics.amplification,
      },
      text: verdictText(plan.name, runs, byBadDebt, byAmplification),
    },
  };
}

/** The perpetuals listed and the pegged tokens with their lowest ratio to their peg, if any. */
function derivativesOf(
  path: ResultPath,
  perps: PerpsInput | undefined,
  pegged: readonly PegInfo[],
): Pick<SimulationResult, 'perpetuals' | 'pegged'> {
  if (perps === undefined) return {};
  const perpetuals = perps.instruments.map(({ listing, basisSource }) => {
    const spec = listing.spec;
    return {
      symbol: spec.symbol,
      underlying: spec.underlying,
      initialMargin: spec.initialMargin,
      maintenanceMargin: spec.maintenanceMargin,
      liquidationPenalty: Number(listing.liquidationPenalty) / 1e6,
      fundingIntervalSeconds: spec.kind === 'perpetual' ? spec.fundingIntervalSeconds : 0,
      basisSource,
    };
  });
  const prices = (symbol: string): Float64Array | undefined =>
    path.prices[path.symbols.indexOf(symbol)];
  const withRatios = pegged.map((token) => {
    const own = prices(token.symbol);
    const peg = token.peg === DEBT_ASSET ? undefined : prices(token.peg);
    let low = Number.POSITIVE_INFINITY;
    own?.forEach((p, k) => {
      low = Math.min(low, p / (peg === undefined ? 1 : (peg[k] as number)));
    });
    return { ...token, lowRatio: low };
  });
  return { perpetuals, pegged: withRatios };
}

/** Each symbol of the path: its source, and its price at the start, its low and at the end. */
function pathSummaries(path: ResultPath): SimulationResult['paths'] {
  return path.symbols.map((symbol, i) => {
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
  });
}

/**
 * The verdict in a sentence: the policies that leave the least bad debt (ties, such as several
 * with none, named together), and the one that amplifies the crash least.
 */
function verdictText(
  scenario: string,
  runs: readonly PolicyRun[],
  byBadDebt: PolicyRun,
  byAmplification: PolicyRun,
): string {
  const leastDebt = runs.filter((r) => r.metrics.badDebt <= byBadDebt.metrics.badDebt + 0.005);
  const worstDebt = Math.max(...runs.map((r) => r.metrics.badDebt));
  const worstAmplification = Math.max(...runs.map((r) => r.metrics.amplification));
  const debtText =
    leastDebt.length === runs.length
      ? `every policy leaves the same bad debt (${dollars(byBadDebt.metrics.badDebt)})`
      : `${policyNames(leastDebt)} ${leastDebt.length === 1 ? 'leaves' : 'leave'} the least bad debt (${dollars(byBadDebt.metrics.badDebt)}, against ${dollars(worstDebt)} at worst)`;
  return (
    `On ${scenario}, ${debtText}, and ${byAmplification.policy} amplifies the crash least ` +
    `(its liquidations deepened the fall by ${percentText(byAmplification.metrics.amplification)}, ` +
    `against ${percentText(worstAmplification)} at worst).`
  );
}

/** Whole dollars with thousands separators. */
function dollars(x: number): string {
  return `$${Math.round(x).toLocaleString('en-US')}`;
}

/** A ratio as a percentage with two decimals. */
function percentText(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

/** The runs' policies as a list: `a`, `a and b`, `a, b and c`. */
function policyNames(runs: readonly PolicyRun[]): string {
  return runs.length === 1
    ? (runs[0] as PolicyRun).policy
    : `${runs
        .slice(0, -1)
        .map((r) => r.policy)
        .join(', ')} and ${(runs.at(-1) as PolicyRun).policy}`;
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
    `${result.steps} steps of ${result.stepSeconds} s from ${isoUtc(result.start)}; ${p.accounts} ${p.traders === undefined ? 'accounts' : `borrowers and ${p.traders.accounts} traders`} (seed ${p.seed}), ` +
      `collateral ${money(p.collateralValue + (p.traders?.collateralValue ?? 0))}; exogenous lows: ${result.paths.map((x) => `${x.symbol} ${sig(x.low)}`).join(', ')}`,
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
    ...perpsSummary(result, money),
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

/** A price to five significant digits. */
function sig(x: number): string {
  return Number(x.toPrecision(5)).toString();
}
