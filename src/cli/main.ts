#!/usr/bin/env -S node --max-semi-space-size=64
/**
 * The `fulcrum` command line. Bad input ends in one line on standard error naming the field,
 * and a non-zero exit status; never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FulcrumError } from '../base/errors.js';
import { isPostgresUrl, postgresUrlProblem } from '../store/postgresStore.js';
import { StoreError } from '../store/store.js';
import { healthCommand } from './health.js';
import { historyAccount, historyEvents, historyState, verify } from './history.js';
import {
  appliedNote,
  CliError,
  describeError,
  EXIT,
  flushOut,
  oneLine,
  warn,
  writeOut,
} from './io.js';
import { liquidationsFile } from './liquidations.js';
import { oracleReplay } from './oracle.js';
import { runFile } from './run.js';
import { proveCommand, verifyProofParallel } from './prove.js';
import { calibrate } from './calibrate.js';
import { chainsStatus, chainsWatch } from './chains.js';
import { greeksCommand, greeksOfAccount } from './greeks.js';
import { numberOption } from './options.js';
import { quoteInput } from '../domain/quote.js';
import { SIMULATE_HELP, simulateCommand } from './simulate.js';

/** The data folder when `--data` is not given: in the working directory. */
export const DEFAULT_DATA = 'fulcrum-data';

const HELP = `fulcrum: margin and liquidation engine

usage:
  fulcrum simulate --scenario black-thursday [--policy P,...] [--accounts N] [--seed N] ...
      the cascade simulator: replay a real crash day against a population of leveraged
      accounts under each liquidation policy; progress, a comparison table, a JSON result and
      an HTML report (fulcrum simulate --help for scenarios, policies and options)
  fulcrum simulate --prices FILE... [--from ISO] [--to ISO] ...
      the same on your own price files (CSV: timestamp,open,high,low,close,volume)
  fulcrum calibrate FILE... [--from ISO] [--to ISO] [--confidence C[,C]] [--horizon H[,H]]
                    [--size QUOTE] [--penalty P] [--order-book FILE] [--min-bars N] [--json]
      propose an asset's weights from OHLCV price files (one asset each): volatility,
      haircuts (volatility + liquidity for --size), initial / liquidation-end / maintenance
      weights and the listing fields to paste (docs/RISK.md)
  fulcrum greeks FILE|- [--json]
      a derivatives portfolio (JSON: perpetuals, futures, options, an index and volatility per
      underlying): Greeks in quote terms, notional, leverage, the margin of the cross,
      isolated and portfolio modes side by side, liquidation prices
  fulcrum greeks --account ID[/N] [--data DIR] [--json]
      the same report for a sub-account of the journal: its positions, a future's mark as its
      forward, its underlyings' prices and volatilities (set-volatility, or 100%); read-only
  fulcrum demo [--json] [--data DIR]
      run the bundled lending story (examples/lending-story.jsonl), in memory unless --data
  fulcrum health FILE|-
      evaluate one portfolio (JSON: balances, and derivatives positions beside them) and print
      its health as JSON
  fulcrum run FILE.jsonl|- [--data DIR] [--memory] [--json] [--strict]
      apply a file of commands (lending and derivatives), one JSON object a line, continuing
      from the journal in DIR; print each result once durable, then the pools, the accounts
      with their derivatives and the state hash
  fulcrum history account ID [--limit N] [--data DIR]
      every journaled command that touched an account (named in it: its account, a side of a
      transfer or fill, a liquidator or target; or deleveraged or settled by it), one JSON
      object a line
  fulcrum history events FROM TO [--liquidations] [--data DIR]
      events of commands timed FROM..TO (unix seconds or ISO dates); --liquidations keeps
      liquidations, position takeovers, deleveraging and bad debt
  fulcrum history state SEQ [--data DIR]
      the state right after journal record SEQ (by replay), as JSON
  fulcrum liquidations FILE.jsonl|- [--json]
      run a command file in memory with the liquidation monitor: print each account as it
      falls below maintenance, every liquidation, position takeover, deleveraging and bad
      debt, then the loss waterfall
  fulcrum chains status [--data DIR] [--json]
      the chains whose vaults hold collateral: status, cursor, pending withdrawals, and per
      asset what the engine credits and what the vault must hold (docs/CHAINS.md); read-only
  fulcrum chains watch --config FILE --url URL --key-file F [--interval-ms N] [--once]
      a watcher per chain of FILE beside a running service: final vault deposits, payouts,
      expiries and halts sent with the operator's key (in F), from the service's cursor
  fulcrum verify [--data DIR]
      recover from the newest snapshot and check it against a full replay of the journal
  fulcrum prove --data DIR [--at SEQ] --out DIR [--secret-file F] [--backend B] [--workers N]
        [--shard-depth K]
      private solvency proof of the journal at record SEQ (the last by default): every trader
      sub-account at or above maintenance (balances and derivatives) and the per-asset totals,
      no balance revealed; writes DIR/statement.json (a manifest), DIR/shards/ (a file per
      subtree of K levels, default 10) and DIR/bundles/ACCOUNT.json
      (docs/SOLVENCY.md); read-only
  fulcrum verify-proof --statement FILE [--bundle FILE] [--workers N]
      the public audit of a statement (on worker threads), or one account's bundle checked
      against it
  fulcrum oracle replay FILE... [--oracle JSON] [--json]
      replay OHLCV price files (one source of one asset each, named source_PAIR_...csv)
      through the oracle; per asset: grades, outliers, breaker trips, largest stable gap
  fulcrum serve [--data DIR] [--config FILE] [--port N] [--host H]
      run the engine as an authenticated HTTP service (fulcrum serve --help, docs/SERVER.md)
  fulcrum serve --replicate --nats URL[,URL...] --node ID [--shard NAME] [--data DIR]
      the same service as one node of a replicated command log: commands go to the shard's
      leader by idempotency key, reads come from this node's replica (docs/REPLICATION.md)
  fulcrum feed --url URL --key KEY --prices FILE... [--speed N]
      play OHLCV price files into a running service as quotes (fulcrum feed --help)
  fulcrum replica run|send|status|dev-cluster ...
      the engine as replicas of a command log on NATS JetStream (R=3), a leader by lease,
      failover, divergence checks (fulcrum replica --help, docs/REPLICATION.md)
  fulcrum help | --version

options:
  --data DIR    the journal: a folder (SQLite, created if needed by run and demo; default
                ./${DEFAULT_DATA}) or a postgres:// URL; one writer at a time (store_locked);
                verify, history and greeks read it read-only and create nothing
  --memory      run without a journal (nothing is kept)
  --json        machine-readable output, one JSON object a line
  --account ID[/N]  greeks: a sub-account of the journal (N from 0 to 255, 0 by default)
  --strict      exit with status 1 if any command was refused
  --confidence C[,C]  calibrate: confidence of maintenance[,initial] (default 0.99,0.999)
  --horizon H[,H]     calibrate: horizon of maintenance[,initial]: 4h, 1d or seconds (default 4h,1d)
  --size QUOTE        calibrate: position to liquidate, quote unit (default 1000000)
  --penalty P         calibrate: the listing's liquidation penalty (default 0.05)
  --order-book FILE   calibrate: an order-book snapshot of one of the assets
  --min-bars N        calibrate: fewest bars in the window (default 24, a day of hourly bars)
  --at SEQ            prove: the journal position to prove (default the last)
  --out DIR           prove: a new or empty folder for the statement and bundles
  --secret-file F     prove: the prover secret (32 bytes or more); without it a fresh one is
                      drawn and written to DIR.prover-secret, beside the output
  --config FILE       chains watch: the chains, their RPC endpoints, vaults and tokens (JSON)
  --url URL           chains watch: the running service
  --key-file F        chains watch: the operator's API key (risk-admin), in a file
  --interval-ms N     chains watch: milliseconds between polls (default 1000)
  --once              chains watch: one poll of each chain, then exit
  --backend B         prove: the range proofs, bulletproofs (default) or reference
  --workers N         prove, verify-proof: worker threads (default one per core; 1: this thread)
  --statement FILE    verify-proof: the statement.json to check
  --bundle FILE       verify-proof: an account's bundle to check against the statement

Numbers are decimal strings everywhere ("10.5"); see the README for every field.`;

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const OPTIONS = {
  data: { type: 'string' },
  memory: { type: 'boolean' },
  json: { type: 'boolean' },
  strict: { type: 'boolean' },
  liquidations: { type: 'boolean' },
  oracle: { type: 'string' },
  limit: { type: 'string' },
  account: { type: 'string' },
  scenario: { type: 'string' },
  prices: { type: 'boolean' },
  from: { type: 'string' },
  to: { type: 'string' },
  policy: { type: 'string' },
  accounts: { type: 'string' },
  seed: { type: 'string' },
  'path-seed': { type: 'string' },
  'book-value': { type: 'string' },
  'health-median': { type: 'string' },
  population: { type: 'string' },
  impact: { type: 'string' },
  liquidity: { type: 'string' },
  recovery: { type: 'string' },
  'liquidator-capital': { type: 'string' },
  'liquidator-delay': { type: 'string' },
  perps: { type: 'string' },
  leverage: { type: 'string' },
  'long-share': { type: 'string' },
  depeg: { type: 'string' },
  step: { type: 'string' },
  jobs: { type: 'string' },
  sweep: { type: 'string' },
  out: { type: 'string' },
  quiet: { type: 'boolean' },
  confidence: { type: 'string' },
  horizon: { type: 'string' },
  size: { type: 'string' },
  penalty: { type: 'string' },
  'order-book': { type: 'string' },
  'min-bars': { type: 'string' },
  at: { type: 'string' },
  'secret-file': { type: 'string' },
  statement: { type: 'string' },
  bundle: { type: 'string' },
  backend: { type: 'string' },
  workers: { type: 'string' },
  'shard-depth': { type: 'string' },
  config: { type: 'string' },
  url: { type: 'string' },
  'key-file': { type: 'string' },
  'interval-ms': { type: 'string' },
  once: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parse>['values'];

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw argumentError(error);
  }
}

/**
 * What the argument parser refused, as one short line naming the option (the parser's own
 * messages run over three lines, and quote an unknown argument whole).
 */
function argumentError(error: unknown): CliError {
  const message = error instanceof Error ? error.message : String(error);
  const option = /^Option '(--[a-z-]+)/.exec(message)?.[1];
  const at = (field: string, text: string) =>
    new CliError(text, EXIT.usage, { code: 'invalid_field', field });
  if (option !== undefined && message.includes('argument is ambiguous')) {
    return at(
      option,
      `${option} takes a value; a value starting with "-" is written ${option}=VALUE`,
    );
  }
  if (option !== undefined && message.includes('argument missing')) {
    return at(option, `${option} takes a value`);
  }
  if (option !== undefined && message.includes('does not take an argument')) {
    return at(option, `${option} takes no value`);
  }
  const unknown = /^Unknown option '(.*?)'\. /s.exec(message);
  if (unknown !== null) {
    return new CliError(`unknown option ${quoteInput(unknown[1])}; try fulcrum help`, EXIT.usage);
  }
  return new CliError(message, EXIT.usage);
}

/** Writes a line to standard output; a promise when it asks to wait for the output to drain. */
type Write = (text: string) => Promise<void> | undefined;

/** A subcommand's arguments: its positionals, the options, the `--data` journal, the output. */
interface Invocation {
  readonly args: readonly string[];
  readonly values: Values;
  readonly data: string;
  readonly write: Write;
}

/** A subcommand: runs it and returns the exit status. */
type Handler = (call: Invocation) => number | Promise<number>;

async function main(argv: readonly string[]): Promise<number> {
  // The service reads its own options (docs/SERVER.md); loaded only when asked for.
  if (argv[0] === 'serve') return (await import('../server/serve.js')).serveCommand(argv.slice(1));
  if (argv[0] === 'feed') return (await import('../server/feed.js')).feedCommand(argv.slice(1));
  if (argv[0] === 'replica') {
    const status = await (await import('./replica.js')).replicaCommand(argv.slice(1));
    // Timers of the NATS client may linger: the status is final.
    process.exit(status);
  }
  const { values, positionals } = parse(argv);
  const [command, ...args] = positionals;
  // Waits for standard output to drain when it asks to (a long summary never piles up).
  const write = (text: string): Promise<void> | undefined =>
    text === '' ? undefined : writeOut(`${text}\n`);
  if (values.version === true) {
    write(JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version);
    return EXIT.ok;
  }
  if (values.data !== undefined) checkData(values.data);
  const data = values.data ?? DEFAULT_DATA;
  if (command === undefined) {
    write(HELP);
    return values.help === true ? EXIT.ok : EXIT.usage;
  }
  const handler = COMMANDS.get(command);
  if (handler === undefined) {
    throw new CliError(`unknown command ${quoteInput(command)}; try fulcrum help`, EXIT.usage);
  }
  return handler({ args, values, data, write });
}

function helpCommand({ write }: Invocation): number {
  write(HELP);
  return EXIT.ok;
}

function healthSubcommand({ args, values }: Invocation): number {
  allow(values, []);
  process.stdout.write(healthCommand(only(args, 1, 'health FILE|-')[0] ?? '-'));
  return EXIT.ok;
}

function runSubcommand({ args, values, data, write }: Invocation): Promise<number> {
  allow(values, ['data', 'memory', 'json', 'strict']);
  const [path = '-'] = only(args, 1, 'run FILE.jsonl');
  if (values.memory === true && values.data !== undefined) {
    throw new CliError(
      '--memory runs without a journal: give --memory or --data, not both',
      EXIT.usage,
    );
  }
  const store = values.memory === true ? null : data;
  return runFile(
    path,
    { json: values.json === true, strict: values.strict === true, data: store },
    write,
  );
}

function demoSubcommand({ args, values, write }: Invocation): Promise<number> {
  allow(values, ['data', 'json']);
  only(args, 0, 'demo');
  return runFile(
    join(packageRoot, 'examples', 'lending-story.jsonl'),
    { json: values.json === true, strict: false, data: values.data ?? null },
    write,
  );
}

async function greeksSubcommand({ args, values, data, write }: Invocation): Promise<number> {
  if (values.account !== undefined) {
    allow(values, ['json', 'data', 'account']);
    only(args, 0, 'greeks --account ID[/N] [--data DIR] (a sub-account, or a FILE: not both)');
    write(await greeksOfAccount(data, values.account, values.json === true));
    return EXIT.ok;
  }
  allow(values, ['json']);
  const [path = '-'] = only(args, 1, 'greeks FILE|- or fulcrum greeks --account ID[/N]');
  write(greeksCommand(path, values.json === true));
  return EXIT.ok;
}

function calibrateSubcommand({ args, values, write }: Invocation): number {
  allow(values, [
    'json',
    'confidence',
    'horizon',
    'size',
    'penalty',
    'order-book',
    'from',
    'to',
    'min-bars',
  ]);
  if (args.length === 0) {
    throw new CliError('usage: fulcrum calibrate FILE... (OHLCV price files)', EXIT.usage);
  }
  write(
    calibrate(args, {
      json: values.json === true,
      confidence: values.confidence,
      horizon: values.horizon,
      size: values.size,
      penalty: values.penalty,
      orderBook: values['order-book'],
      from: values.from,
      to: values.to,
      minBars: values['min-bars'],
    }),
  );
  return EXIT.ok;
}

/** The options `fulcrum simulate` takes. */
const SIMULATE_OPTIONS: readonly (keyof Values)[] = [
  'scenario',
  'prices',
  'from',
  'to',
  'policy',
  'accounts',
  'seed',
  'path-seed',
  'book-value',
  'health-median',
  'population',
  'impact',
  'liquidity',
  'recovery',
  'liquidator-capital',
  'liquidator-delay',
  'perps',
  'leverage',
  'long-share',
  'depeg',
  'step',
  'jobs',
  'sweep',
  'out',
  'json',
  'quiet',
];

function simulateSubcommand({ args, values, write }: Invocation): number | Promise<number> {
  if (values.help === true) {
    write(SIMULATE_HELP);
    return EXIT.ok;
  }
  allow(values, SIMULATE_OPTIONS);
  if (values.prices !== true && args.length > 0) {
    throw new CliError(
      'price files follow --prices: fulcrum simulate --prices FILE...',
      EXIT.usage,
    );
  }
  return simulateCommand(
    {
      scenario: values.scenario,
      prices: values.prices === true ? args : undefined,
      from: values.from,
      to: values.to,
      policy: values.policy,
      accounts: values.accounts,
      seed: values.seed,
      pathSeed: values['path-seed'],
      bookValue: values['book-value'],
      healthMedian: values['health-median'],
      population: values.population,
      impact: values.impact,
      liquidity: values.liquidity,
      recovery: values.recovery,
      liquidatorCapital: values['liquidator-capital'],
      liquidatorDelay: values['liquidator-delay'],
      perps: values.perps,
      leverage: values.leverage,
      longShare: values['long-share'],
      depeg: values.depeg,
      step: values.step,
      jobs: values.jobs,
      sweep: values.sweep,
      out: values.out,
      json: values.json,
      quiet: values.quiet,
    },
    write,
  );
}

function oracleSubcommand({ args, values, write }: Invocation): number {
  allow(values, ['json', 'oracle']);
  const [what, ...files] = args;
  if (what !== 'replay' || files.length === 0) {
    throw new CliError('usage: fulcrum oracle replay FILE... [--oracle JSON] [--json]', EXIT.usage);
  }
  write(oracleReplay(files, values.json === true, values.oracle));
  return EXIT.ok;
}

function liquidationsSubcommand({ args, values, write }: Invocation): number {
  allow(values, ['json']);
  const [path = '-'] = only(args, 1, 'liquidations FILE.jsonl');
  return liquidationsFile(path, values.json === true, write);
}

async function verifySubcommand({ args, values, data, write }: Invocation): Promise<number> {
  allow(values, ['data']);
  only(args, 0, 'verify');
  const { text, ok } = await verify(data, warn);
  write(text);
  return ok ? EXIT.ok : EXIT.badInput;
}

async function proveSubcommand({ args, values, data, write }: Invocation): Promise<number> {
  allow(values, ['data', 'at', 'out', 'secret-file', 'backend', 'workers', 'shard-depth']);
  only(args, 0, 'prove --data DIR [--at SEQ] --out DIR [--secret-file F]');
  // A proof is published: the journal is named, never the default folder by accident.
  if (values.data === undefined) {
    throw new CliError('prove needs --data DIR (the journal to prove)', EXIT.usage);
  }
  if (values.out === undefined || values.out === '') {
    throw new CliError('prove needs --out DIR (a new or empty folder)', EXIT.usage);
  }
  const options = {
    data,
    at: values.at,
    out: values.out,
    secretFile: values['secret-file'],
    backend: values.backend,
    workers: values.workers,
    shardDepth: values['shard-depth'],
  };
  write(await proveCommand(options, warn));
  return EXIT.ok;
}

async function chainsSubcommand({ args, values, data, write }: Invocation): Promise<number> {
  const usage = 'usage: fulcrum chains status | fulcrum chains watch --config FILE ...';
  const [what] = only(args, 1, 'chains status|watch');
  if (what === 'status') {
    allow(values, ['data', 'json']);
    write(await chainsStatus(data, values.json === true));
    return EXIT.ok;
  }
  if (what !== 'watch') throw new CliError(usage, EXIT.usage);
  allow(values, ['config', 'url', 'key-file', 'interval-ms', 'once']);
  const { config, url } = values;
  const keyFile = values['key-file'];
  if (config === undefined || url === undefined || keyFile === undefined) {
    throw new CliError('chains watch needs --config FILE, --url URL and --key-file F', EXIT.usage);
  }
  const interval = values['interval-ms'];
  const intervalMs =
    interval === undefined
      ? 1_000
      : numberOption(interval, 'interval-ms', { min: 10, max: 3_600_000, whole: true });
  return chainsWatch({ config, url, keyFile, intervalMs, once: values.once === true });
}

async function verifyProofSubcommand({ args, values, write }: Invocation): Promise<number> {
  allow(values, ['statement', 'bundle', 'workers']);
  only(args, 0, 'verify-proof --statement FILE [--bundle FILE] [--workers N]');
  if (values.statement === undefined) {
    throw new CliError('verify-proof needs --statement FILE', EXIT.usage);
  }
  const { statement, bundle, workers } = values;
  write(await verifyProofParallel({ statement, bundle, workers }));
  return EXIT.ok;
}

/** The subcommands by name (`serve` aside: it reads its own options). */
const COMMANDS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['help', helpCommand],
  ['health', healthSubcommand],
  ['run', runSubcommand],
  ['demo', demoSubcommand],
  ['history', ({ args, values, data, write }) => history(args, values, data, write)],
  ['greeks', greeksSubcommand],
  ['calibrate', calibrateSubcommand],
  ['simulate', simulateSubcommand],
  ['oracle', oracleSubcommand],
  ['liquidations', liquidationsSubcommand],
  ['verify', verifySubcommand],
  ['chains', chainsSubcommand],
  ['prove', proveSubcommand],
  ['verify-proof', verifyProofSubcommand],
]);

async function history(
  args: readonly string[],
  values: Values,
  data: string,
  write: (text: string) => void,
): Promise<number> {
  const [what, ...rest] = args;
  switch (what) {
    case 'account': {
      allow(values, ['data', 'limit']);
      const [id = ''] = only(rest, 1, 'history account ID');
      const limit =
        values.limit === undefined
          ? 1_000
          : numberOption(values.limit, 'limit', { min: 1, max: 1_000_000, whole: true });
      write(await historyAccount(data, id, limit));
      return EXIT.ok;
    }
    case 'events': {
      allow(values, ['data', 'liquidations']);
      const [from = '', to = ''] = only(rest, 2, 'history events FROM TO');
      write(await historyEvents(data, from, to, values.liquidations === true));
      return EXIT.ok;
    }
    case 'state': {
      allow(values, ['data']);
      const [seq = ''] = only(rest, 1, 'history state SEQ');
      write(await historyState(data, seq));
      return EXIT.ok;
    }
    default:
      throw new CliError('usage: fulcrum history account|events|state ...', EXIT.usage);
  }
}

/**
 * `--data` names a folder or a PostgreSQL URL with a host, a port of 1 to 65535 (if any) and a
 * database: anything else is refused here, in one line, before a journal is looked for.
 */
function checkData(data: string): void {
  if (data === '') throw new CliError('--data must name a folder or a postgres:// URL', EXIT.usage);
  const problem = isPostgresUrl(data) ? postgresUrlProblem(data) : null;
  if (problem !== null) {
    throw new CliError(`--data is not a usable PostgreSQL URL: ${problem}`, EXIT.usage);
  }
}

/** Exactly `count` positional arguments, or a usage error. */
function only(args: readonly string[], count: number, usage: string): readonly string[] {
  if (args.length !== count) throw new CliError(`usage: fulcrum ${usage}`, EXIT.usage);
  return args;
}

/** Refuses options the command does not take. */
function allow(values: Values, allowed: readonly (keyof Values)[]): void {
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && !allowed.includes(name as keyof Values)) {
      throw new CliError(`option --${name} does not apply here`, EXIT.usage);
    }
  }
}

// A closed or full standard output (`fulcrum demo | head`, a full disk) ends the program quietly
// or in one line, never with a stack trace. When commands were already applied to a journal, the
// program first lets them become durable, then says so with the status `outputIncomplete`: a
// failed print is not a failed run, and never leaves a run half applied.
process.stdout.once('error', (error: NodeJS.ErrnoException) => {
  void appliedNote().then((applied) => {
    if (error.code !== 'EPIPE' || applied !== null) {
      const note = applied === null ? '' : `; ${applied}`;
      process.stderr.write(`fulcrum: ${oneLine(`cannot write output (${error.code})${note}`)}\n`);
    }
    process.exit(
      applied !== null ? EXIT.outputIncomplete : error.code === 'EPIPE' ? EXIT.ok : EXIT.badInput,
    );
  });
});

main(process.argv.slice(2)).then(
  async (code) => {
    await flushOut();
    process.exitCode = code;
  },
  async (error: unknown) => {
    // What the command printed comes first; then the error, one line of bounded length,
    // whatever input it quotes.
    await flushOut();
    const say = (text: string) => process.stderr.write(`fulcrum: ${oneLine(text)}\n`);
    if (error instanceof FulcrumError) {
      say(describeError(error));
      process.exitCode = EXIT.badInput;
    } else if (error instanceof StoreError) {
      say(`error ${error.code}: ${error.message}`);
      process.exitCode = EXIT.badInput;
    } else if (error instanceof CliError) {
      say(error.code === undefined ? error.message : describeError(error));
      process.exitCode = error.exitCode;
    } else if (process.env.FULCRUM_DEBUG === '1') {
      throw error;
    } else {
      // A fault in Fulcrum, not in the input: one line, and the stack on request.
      const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      say(
        `internal error (a fault in Fulcrum, not in the input): ${what}; FULCRUM_DEBUG=1 shows where`,
      );
      process.exitCode = EXIT.internal;
    }
  },
);
