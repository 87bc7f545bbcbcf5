/**
 * `fulcrum run FILE.jsonl`: applies a file of commands, one JSON object a line, and prints each
 * result, then the pools, the accounts and the state hash. A refused command prints its error
 * and the run goes on.
 */
import { FulcrumError } from '../domain/errors.js';
import type { CommandResult } from '../engine/apply.js';
import { Engine } from '../engine/engine.js';
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
}

export interface RunOutcome {
  readonly engine: Engine;
  readonly accepted: number;
  readonly refused: number;
}

/** Applies every line of `text` to `engine`, reporting each result through `write`. */
export function runLines(
  engine: Engine,
  text: string,
  options: RunOptions,
  write: (line: string) => void,
): RunOutcome {
  let accepted = 0;
  let refused = 0;
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('//')) return;
    const lineNumber = index + 1;
    let input: unknown;
    let result: CommandResult;
    try {
      input = parseJson(trimmed, `line ${lineNumber}`);
      result = engine.applyJson(input);
    } catch (error) {
      if (!(error instanceof FulcrumError)) throw error;
      result = { ok: false, error };
    }
    if (result.ok) accepted++;
    else refused++;
    write(
      options.json
        ? JSON.stringify({ line: lineNumber, ...renderResult(result) })
        : describeLine(lineNumber, input, result),
    );
  });
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
      const status = report.liquidatable
        ? 'LIQUIDATABLE'
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

/** `fulcrum run`: reads the file and returns the text to print and the exit status. */
export function runFile(path: string, options: RunOptions, write: (line: string) => void): number {
  const text = readInput(path);
  const outcome = runLines(new Engine(), text, options, write);
  write(summary(outcome, options));
  return options.strict && outcome.refused > 0 ? 1 : 0;
}
