/**
 * `fulcrum run FILE.jsonl`: applies a file of commands, one JSON object a line, and prints each
 * result, then the pools, the accounts and the state hash. A refused command prints its error
 * and the run goes on.
 */
import { FulcrumError } from '../domain/errors.js';
import type { CommandResult } from '../engine/apply.js';
import { Engine } from '../engine/engine.js';
import { DurableEngine } from '../store/durableEngine.js';
import { openStore } from '../store/index.js';
import { LIMITS } from '../engine/state.js';
import { renderResult } from '../engine/render.js';
import { renderHealthReport } from '../margin/report.js';
import { describeError, parseJson, readInput } from './io.js';
import { shorten, table } from './table.js';

export interface RunOptions {
  /** One JSON object per result line, then one summary object. */
  readonly json: boolean;
  /** Exit with status 1 when any command was refused. */
  readonly strict: boolean;
  /**
   * Where the journal lives (a folder for SQLite, or a `postgres://` URL): the run continues
   * from what is there and every result is printed once durable. Null runs in memory only.
   */
  readonly data: string | null;
}

export interface RunOutcome {
  readonly engine: Engine;
  readonly accepted: number;
  readonly refused: number;
}

/** What applies one parsed line: the in-memory engine, or the durable one (acknowledged later). */
type Applier = (input: unknown) => CommandResult | Promise<CommandResult>;

/**
 * Applies every line of `text`, reporting each result through `write` in order. With a durable
 * engine all lines are submitted at once, so that group commit batches them, and each result is
 * printed when its batch is durable.
 */
export async function runLines(
  engine: Engine,
  apply: Applier,
  text: string,
  options: Pick<RunOptions, 'json'>,
  write: (line: string) => void,
): Promise<RunOutcome> {
  const submitted: { lineNumber: number; input: unknown; result: ReturnType<Applier> }[] = [];
  text.split('\n').forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('//')) return;
    const lineNumber = index + 1;
    let input: unknown;
    let result: ReturnType<Applier>;
    try {
      input = parseJson(trimmed, `line ${lineNumber}`);
      result = apply(input);
    } catch (error) {
      if (!(error instanceof FulcrumError)) throw error;
      result = { ok: false, error };
    }
    // A store failure rejects every pending result at once: the first is reported (below),
    // the others must not surface as unhandled rejections.
    if (result instanceof Promise) result.catch(() => undefined);
    submitted.push({ lineNumber, input, result });
  });
  let accepted = 0;
  let refused = 0;
  for (const { lineNumber, input, result: pending } of submitted) {
    const result = await pending;
    if (result.ok) accepted++;
    else refused++;
    write(
      options.json
        ? JSON.stringify({ line: lineNumber, ...renderResult(result) })
        : describeLine(lineNumber, input, result),
    );
  }
  return { engine, accepted, refused };
}

/** The run's closing report: pools, accounts with their health, and the state hash. */
export function summary(outcome: RunOutcome, options: RunOptions): string {
  const { engine, accepted, refused } = outcome;
  const { state } = engine;
  const pools = engine.pools();
  const accounts = accountRows(engine);
  if (options.json) {
    return JSON.stringify({
      summary: {
        accepted,
        refused,
        time: state.time,
        sequence: state.sequence,
        pools,
        accounts: accounts.map((a) => a.json),
      },
      stateHash: engine.hash(),
    });
  }
  const poolTable = table(
    ['asset', 'price', 'cash', 'supply', 'debt', 'util %', 'borrow APR %', 'supply APR %'],
    pools.map((p) => [
      p.asset,
      shorten(p.price, 2),
      shorten(p.cash, 2),
      shorten(p.totalSupply, 2),
      shorten(p.totalDebt, 2),
      percent(p.utilization),
      percent(p.borrowRate),
      percent(p.supplyRate),
    ]),
  );
  const accountTable = table(
    ['sub-account', 'collateral', 'debt', 'initial HF', 'maint. HF', 'status'],
    accounts.map((a) => a.row),
  );
  return [
    '',
    `${accepted + refused} commands: ${accepted} accepted, ${refused} refused; engine time ${isoTime(state.time)}`,
    '',
    poolTable,
    '',
    accounts.length > 0 ? accountTable : '(no accounts)',
    '',
    `state hash ${engine.hash()}`,
    '',
  ].join('\n');
}

function accountRows(engine: Engine) {
  const rows: { row: string[]; json: Record<string, unknown> }[] = [];
  const ids = [...engine.state.accounts.keys()].sort();
  for (const id of ids) {
    const account = engine.state.accounts.get(id);
    for (const { number: subAccount } of account?.subAccounts ?? []) {
      const report = renderHealthReport(engine.health({ account: id, subAccount }));
      const liquidation = engine.liquidation({ account: id, subAccount });
      const blocked = liquidation.blockedBy.map((b) => `${b.asset} ${b.grade}`).join(', ');
      const status = liquidation.allowed
        ? 'LIQUIDATABLE'
        : liquidation.liquidatable
          ? `liquidatable, blocked: ${blocked}`
          : report.belowInitial
            ? 'below initial'
            : 'healthy';
      rows.push({
        row: [
          `${id}/${subAccount}`,
          shorten(report.collateralValue, 2),
          shorten(report.liabilityValue, 2),
          shorten(report.initialHealthFactor),
          shorten(report.healthFactor),
          status,
        ],
        json: { account: id, subAccount, ...report },
      });
    }
  }
  return rows;
}

function describeLine(lineNumber: number, input: unknown, result: CommandResult): string {
  const head = `${String(lineNumber).padStart(4)}  ${describeCommand(input)}`.padEnd(60);
  if (!result.ok) return `${head}  REFUSED ${describeError(result.error)}`;
  return `${head}  ok #${result.sequence}`;
}

function describeCommand(input: unknown): string {
  if (typeof input !== 'object' || input === null) return '(not a command)';
  const c = input as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '?');
  const who = (v: unknown) => {
    const r = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
    return `${text(r.account)}/${text(r.subAccount ?? 0)}`;
  };
  const iso = typeof c.time === 'number' ? isoTime(c.time) : '?';
  const time = iso === '?' ? iso : iso.slice(5, 16);
  const type = text(c.type);
  switch (c.type) {
    case 'list-asset': {
      const config = (typeof c.config === 'object' && c.config !== null ? c.config : {}) as Record<
        string,
        unknown
      >;
      return `${time}  ${type} ${text(config.symbol)} @ ${text(c.price)}`;
    }
    case 'set-price':
      return `${time}  ${type} ${text(c.asset)} ${text(c.price)}`;
    case 'accrue':
      return `${time}  ${type} ${text(c.asset)}`;
    case 'transfer':
      return `${time}  ${type} ${text(c.amount)} ${text(c.asset)} ${who(c.from)} -> ${who(c.to)}`;
    default:
      return `${time}  ${type} ${who(c)} ${text(c.amount)} ${text(c.asset)}`;
  }
}

function percent(fraction: string): string {
  return (Number(fraction) * 100).toFixed(2);
}

/** A command's time for display; `?` for anything that is not a time the engine accepts. */
function isoTime(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > LIMITS.timeMax) return '?';
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * `fulcrum run`: reads the file, applies it (durably when `options.data` is set) and returns the
 * exit status.
 */
export async function runFile(
  path: string,
  options: RunOptions,
  write: (line: string) => void,
): Promise<number> {
  const text = readInput(path);
  if (options.data === null) {
    const engine = new Engine();
    const outcome = await runLines(
      engine,
      (input) => engine.applyJson(input),
      text,
      options,
      write,
    );
    write(summary(outcome, options));
    return options.strict && outcome.refused > 0 ? 1 : 0;
  }
  const durable = await DurableEngine.open(await openStore(options.data));
  try {
    const { recovery } = durable;
    if (!options.json && recovery.seq > 0) {
      write(
        `continuing from ${recovery.location}: ${recovery.seq} journal records ` +
          `(snapshot at ${recovery.snapshotSeq ?? 'none'}, ${recovery.replayed} replayed)`,
      );
    }
    const outcome = await runLines(
      durable.engine,
      (input) => durable.submitJson(input),
      text,
      options,
      write,
    );
    await durable.flush();
    write(summary(outcome, options));
    if (!options.json) {
      write(`journal: ${durable.durableSeq} records, all durable, in ${durable.store.location}`);
    }
    return options.strict && outcome.refused > 0 ? 1 : 0;
  } finally {
    await durable.close().catch(() => undefined);
  }
}
