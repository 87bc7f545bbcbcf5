/**
 * `fulcrum run FILE.jsonl`: applies a file of commands, one JSON object a line, and prints each
 * result, then the pools, the accounts and the state hash. A refused command prints its error
 * and the run goes on. The closing summary is written a line at a time and bounded in text
 * (at most {@link SUMMARY_ACCOUNTS_MAX} sub-accounts listed), so that a book of any size prints;
 * a failure to print it after the commands were journaled says that they were applied.
 */
import { FulcrumError } from '../base/errors.js';
import type { CommandResult } from '../engine/apply.js';
import { Engine } from '../engine/engine.js';
import { DurableEngine } from '../store/durableEngine.js';
import { formerDerivativesJournal, formerDerivativesNote } from '../store/formerJournal.js';
import { openStore } from '../store/index.js';
import { LIMITS } from '../domain/limits.js';
import { renderResult } from '../engine/render.js';
import { renderHealthReport } from '../margin/report.js';
import { isoUtc } from '../math/time.js';
import {
  CliError,
  commandLines,
  describeError,
  EXIT,
  lineTooLong,
  oneLine,
  parseJson,
  readInput,
  warn,
  whenOutputFails,
} from './io.js';
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

/** Where output lines go; a promise asks the caller to wait (standard output is draining). */
export type LineWriter = (line: string) => void | Promise<void>;

/** Most sub-accounts the text summary lists; `--json` lists every one. */
export const SUMMARY_ACCOUNTS_MAX = 100;

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
  write: LineWriter,
): Promise<RunOutcome> {
  const submitted: { lineNumber: number; input: unknown; result: ReturnType<Applier> }[] = [];
  for (const { lineNumber, text: trimmed, tooLong } of commandLines(text)) {
    let input: unknown;
    let result: ReturnType<Applier>;
    try {
      if (tooLong) throw lineTooLong(lineNumber);
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
  }
  let accepted = 0;
  let refused = 0;
  for (const { lineNumber, input, result: pending } of submitted) {
    const result = await pending;
    if (result.ok) accepted++;
    else refused++;
    await write(
      options.json
        ? JSON.stringify({ line: lineNumber, ...renderResult(result) })
        : describeLine(lineNumber, input, result),
    );
  }
  return { engine, accepted, refused };
}

/**
 * The run's closing report, written a line at a time: the pools, the sub-accounts with their
 * health, and the state hash. In text, at most {@link SUMMARY_ACCOUNTS_MAX} sub-accounts are
 * listed (all of them by name when they fit; otherwise those below maintenance or initial
 * margin first, then the others, by name) and a last line counts the rest by status. With
 * `json`, one line per sub-account and then one summary object, never one string of them all.
 */
export async function writeSummary(
  outcome: RunOutcome,
  options: Pick<RunOptions, 'json'>,
  write: LineWriter,
): Promise<void> {
  const { engine, accepted, refused } = outcome;
  const { state } = engine;
  const pools = engine.pools();
  if (options.json) {
    let count = 0;
    for (const sub of subAccounts(engine)) {
      await write(
        JSON.stringify({ account: sub.account, subAccount: sub.subAccount, ...sub.report }),
      );
      count++;
    }
    await write(
      JSON.stringify({
        summary: {
          accepted,
          refused,
          time: state.time,
          sequence: state.sequence,
          pools,
          accounts: count,
        },
        stateHash: engine.hash(),
      }),
    );
    return;
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
  // Blank lines ride inside the pieces: the writer skips an empty one.
  await write(
    `\n${accepted + refused} commands: ${accepted} accepted, ${refused} refused; engine time ${isoTime(state.time)}\n\n${poolTable}\n`,
  );
  const listed = listedSubAccounts(engine);
  const accountTable =
    listed.rows.length > 0
      ? table(
          ['sub-account', 'collateral', 'debt', 'initial HF', 'maint. HF', 'status'],
          listed.rows.map((row) => row.cells),
        )
      : '(no accounts)';
  const counts = [...listed.counts].map(([status, n]) => `${n} ${status}`).join(', ');
  await write(
    listed.total > listed.rows.length
      ? `${accountTable}\n... and ${listed.total - listed.rows.length} more sub-accounts not listed (of ${listed.total}: ${counts}; --json lists every one)`
      : accountTable,
  );
  const positions = listed.rows.flatMap((row) => row.derivatives);
  if (positions.length > 0) {
    await write(
      `\nderivatives of the sub-accounts listed (unrealized: profit at the mark, funding owed included; unsettled: realized, not yet paid into the settlement asset)\n${table(
        ['sub-account', 'mode', 'instrument', 'size', 'entry', 'mark', 'unrealized', 'unsettled'],
        positions,
      )}`,
    );
  }
  await write(`\nstate hash ${engine.hash()}\n`);
}

/** One sub-account as the summary shows it. */
interface SubAccountLine {
  readonly account: string;
  readonly subAccount: number;
  readonly report: ReturnType<typeof renderHealthReport>;
  readonly status: string;
}

/** Every sub-account, by account name and number, with its health and status; one at a time. */
function* subAccounts(engine: Engine): Generator<SubAccountLine> {
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
      yield { account: id, subAccount, report, status };
    }
  }
}

/** A sub-account's line in the text summary, with a line per derivatives position it holds. */
interface SummaryRow {
  readonly cells: readonly string[];
  readonly derivatives: readonly (readonly string[])[];
}

/**
 * The rows the text summary lists (see {@link writeSummary}), how many sub-accounts there are,
 * and how many of each status (blocked ones counted together). Holds at most three times
 * {@link SUMMARY_ACCOUNTS_MAX} rows, whatever the book's size.
 */
function listedSubAccounts(engine: Engine): {
  rows: SummaryRow[];
  total: number;
  counts: Map<string, number>;
} {
  const inOrder: SummaryRow[] = [];
  const troubled: SummaryRow[] = [];
  const healthy: SummaryRow[] = [];
  const counts = new Map<string, number>();
  let total = 0;
  for (const sub of subAccounts(engine)) {
    total++;
    const kind = sub.status.startsWith('liquidatable, blocked')
      ? 'liquidatable but blocked'
      : sub.status;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    const name = `${sub.account}/${sub.subAccount}`;
    const row: SummaryRow = {
      cells: [
        name,
        shorten(sub.report.collateralValue, 2),
        shorten(sub.report.liabilityValue, 2),
        shorten(sub.report.initialHealthFactor),
        shorten(sub.report.healthFactor),
        sub.status,
      ],
      derivatives: derivativesRows(name, sub.report.derivatives),
    };
    if (inOrder.length < SUMMARY_ACCOUNTS_MAX) inOrder.push(row);
    const bucket = sub.status === 'healthy' ? healthy : troubled;
    if (bucket.length < SUMMARY_ACCOUNTS_MAX) bucket.push(row);
  }
  const rows =
    total <= SUMMARY_ACCOUNTS_MAX
      ? inOrder
      : [...troubled, ...healthy].slice(0, SUMMARY_ACCOUNTS_MAX);
  return { rows, total, counts };
}

/**
 * A sub-account's derivatives as summary rows: one per position (mode and unsettled profit on
 * the first), or one for a book that holds none but has a mode or unsettled profit.
 */
function derivativesRows(
  name: string,
  book: ReturnType<typeof renderHealthReport>['derivatives'],
): string[][] {
  if (book === undefined) return [];
  const unsettled = shorten(book.unsettled, 2);
  if (book.positions.length === 0) {
    return book.mode === 'cross' && unsettled === '0'
      ? []
      : [[name, book.mode, '-', '-', '-', '-', '-', unsettled]];
  }
  return book.positions.map((p, i) => [
    i === 0 ? name : '',
    i === 0 ? book.mode : '',
    p.instrument,
    shorten(p.size, 8),
    shorten(p.entryPrice, 2),
    shorten(p.mark, 2),
    shorten(p.unrealized, 2),
    i === 0 ? unsettled : '',
  ]);
}

function describeLine(lineNumber: number, input: unknown, result: CommandResult): string {
  const head = `${String(lineNumber).padStart(4)}  ${describeCommand(input)}`.padEnd(60);
  if (!result.ok) return `${head}  REFUSED ${oneLine(describeError(result.error))}`;
  return `${head}  ok #${result.sequence}`;
}

/** Longest piece of a command's own text a result line shows. */
const SHOWN_TEXT_MAX = 24;

function describeCommand(input: unknown): string {
  if (typeof input !== 'object' || input === null) return '(not a command)';
  const c = input as Record<string, unknown>;
  // The command's values as written, cut short and on one line: a result is one line, whatever
  // the command holds (a value of a million characters, a name with a line break).
  const text = (v: unknown) => {
    const shown = typeof v === 'string' || typeof v === 'number' ? String(v) : '?';
    const cut = shown.length > SHOWN_TEXT_MAX ? `${shown.slice(0, SHOWN_TEXT_MAX)}…` : shown;
    return oneLine(cut);
  };
  const object = (v: unknown) =>
    (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {}) as Record<string, unknown>;
  const who = (v: unknown) => {
    const r = object(v);
    return `${text(r.account)}/${text(r.subAccount ?? 0)}`;
  };
  const iso = typeof c.time === 'number' ? isoTime(c.time) : '?';
  const time = iso === '?' ? iso : iso.slice(5, 16);
  const type = text(c.type);
  const what = (() => {
    switch (c.type) {
      case 'list-asset':
        return `${text(object(c.config).symbol)} @ ${text(c.price)}`;
      case 'list-instrument': {
        const config = object(c.config);
        return `${text(config.symbol)} (${text(config.kind)} on ${text(config.underlying)}) @ ${text(c.price)}`;
      }
      case 'set-price':
        return `${text(c.asset)} ${text(c.price)}`;
      case 'quote':
        return `${text(c.asset)} ${text(c.price)} from ${text(c.source)}`;
      case 'set-weights':
        return `${text(c.asset)} ${text(c.initialWeight)} / ${text(c.maintenanceWeight)}`;
      case 'set-volatility':
        return `${text(c.asset)} ${text(c.volatility)}`;
      case 'accrue':
        return text(c.asset);
      case 'configure-liquidation':
      case 'configure-venue': {
        const keys = Object.keys(object(c.config));
        return keys.length === 0 ? '(no change)' : text(keys.join(', '));
      }
      case 'transfer':
        return `${text(c.amount)} ${text(c.asset)} ${who(c.from)} -> ${who(c.to)}`;
      case 'liquidate':
        return `${who(c.target)} by ${who(c.liquidator)}: ${text(c.amount)} ${text(c.debtAsset)} for ${text(c.collateralAsset)}`;
      case 'backstop':
        return `${who(c.target)}: ${text(c.debtAsset)} for ${text(c.collateralAsset)}`;
      case 'resolve-bankruptcy':
        return who(c.target);
      case 'trade':
        return `${who(c.buyer)} buys ${text(c.size)} ${text(c.instrument)} @ ${text(c.price)} from ${who(c.seller)}`;
      case 'settle-funding':
      case 'expire':
        return text(c.instrument);
      case 'set-mode':
        return `${who(c)} ${text(c.mode)}`;
      case 'settle-pnl':
        return who(c);
      case 'liquidate-position':
        return `${who(c.target)} by ${who(c.liquidator)}: ${text(c.amount)} ${text(c.instrument)}`;
      case 'deleverage':
        return `${who(c.target)} ${text(c.instrument)}`;
      default:
        return describeChain(c, text, who) ?? `${who(c)} ${text(c.amount)} ${text(c.asset)}`;
    }
  })();
  return `${time}  ${type} ${what}`;
}

/** A chain command's line (docs/CHAINS.md); undefined for any other command. */
function describeChain(
  c: Record<string, unknown>,
  text: (v: unknown) => string,
  who: (v: unknown) => string,
): string | undefined {
  const at = `block ${text(c.block)} log ${text(c.logIndex)}`;
  switch (c.type) {
    case 'list-chain':
      return `${text(c.chain)} (authorizations live ${text(c.withdrawalTtl ?? 3600)} s)`;
    case 'chain-deposit':
      return `${who(c)} ${text(c.amount)} ${text(c.asset)} (${text(c.chain)} ${at})`;
    case 'chain-checkpoint':
      return `${text(c.chain)} to the end of block ${text(c.block)}`;
    case 'chain-withdraw':
      return `${who(c)} ${text(c.amount)} ${text(c.asset)} to ${text(c.recipient)}`;
    case 'chain-withdrawal-paid':
      return `${text(c.chain)} #${text(c.nonce)} (${at})`;
    case 'chain-withdrawal-expired':
      return `${text(c.chain)} #${text(c.nonce)}`;
    case 'set-chain-status':
      return `${text(c.chain)} ${text(c.status)}`;
    default:
      return undefined;
  }
}

function percent(fraction: string): string {
  return (Number(fraction) * 100).toFixed(2);
}

/** A command's time for display; `?` for anything that is not a time the engine accepts. */
function isoTime(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > LIMITS.timeMax) return '?';
  return isoUtc(seconds);
}

/**
 * `fulcrum run`: reads the file, applies it (durably when `options.data` is set) and returns the
 * exit status.
 */
export async function runFile(
  path: string,
  options: RunOptions,
  write: LineWriter,
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
    await writeSummary(outcome, options, write);
    return options.strict && outcome.refused > 0 ? 1 : 0;
  }
  const former = await formerDerivativesJournal(options.data);
  if (former !== null) warn(formerDerivativesNote(former));
  const durable = await DurableEngine.open(await openStore(options.data));
  try {
    const { recovery } = durable;
    if (!options.json && recovery.seq > 0) {
      write(
        `continuing from ${recovery.location}: ${recovery.seq} journal records ` +
          `(snapshot at ${recovery.snapshotSeq ?? 'none'}, ${recovery.replayed} replayed)`,
      );
    }
    // From here on, a failure to print must not pass for a failed run: the commands are let
    // become durable and the message says they were applied.
    const location = durable.store.location;
    const applied = () =>
      `the commands of this run were applied and are durable in ${location} ` +
      `(journal: ${durable.durableSeq} records); do not apply them again`;
    whenOutputFails(() =>
      durable.flush().then(applied, (error: unknown) => {
        const what = error instanceof Error ? error.message : String(error);
        return `some commands of this run may have been applied to the journal in ${location} (${what}): check it with fulcrum verify and fulcrum history before applying any again`;
      }),
    );
    const outcome = await runLines(
      durable.engine,
      (input) => durable.submitJson(input),
      text,
      options,
      write,
    );
    await durable.flush();
    try {
      await writeSummary(outcome, options, write);
      if (!options.json) {
        await write(`journal: ${durable.durableSeq} records, all durable, in ${location}`);
      }
    } catch (error) {
      const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new CliError(
        `the summary could not be printed (${what}); ${applied()}`,
        EXIT.outputIncomplete,
      );
    }
    return options.strict && outcome.refused > 0 ? 1 : 0;
  } finally {
    await durable.close().catch(() => undefined);
  }
}
