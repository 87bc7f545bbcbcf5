/**
 * `fulcrum derivatives FILE.jsonl`: a file of derivatives-ledger commands (one JSON object a
 * line): each command's outcome and events, then every sub-account with its positions and
 * margin, and the ledger's conservation check. In memory, or with `--data DIR` journaled (in
 * `derivatives.sqlite` in the folder, beside the engine's journal, or in the schema
 * `fulcrum_derivatives` of a `postgres://` URL) and continued from it (the newest snapshot and
 * the journal after it are loaded first). Portfolio-mode
 * sub-accounts are margined with the scenario portfolio margin at the volatilities `set-prices`
 * gives.
 */
import { FulcrumError } from '../base/errors.js';
import { parseJsonText } from '../domain/json.js';
import { decodeLedgerJson } from '../derivatives/json.js';
import {
  DerivativesLedger,
  type LedgerCommand,
  type LedgerEvent,
  RATE_SCALE,
  scenarioRequirement,
  VALUE_UNIT,
} from '../derivatives/ledger.js';
import { portfolioMargin, underlyingMarkets } from '../derivatives/portfolioMargin.js';
import { flatSurface } from '../derivatives/volSurface.js';
import { PRICE_SCALE } from '../math/fixed.js';
import {
  applyLedgerCommand,
  DurableLedger,
  type LedgerOutcome,
  openLedgerStore,
} from '../store/durableLedger.js';
import { describeError, EXIT, readInput } from './io.js';
import { table } from './table.js';

/** Volatility of an underlying no `set-prices` has given one. */
const DEFAULT_VOLATILITY = 0.8;

/** A ledger whose portfolio mode uses the scenario margin at the ledger's own volatilities. */
export function ledgerWithPortfolioMargin(): DerivativesLedger {
  const ledger: DerivativesLedger = new DerivativesLedger(
    undefined,
    scenarioRequirement((positions, indices, time) =>
      portfolioMargin(positions, {
        time,
        underlyings: underlyingMarkets(
          [...indices].map(([u, index]) => [
            u,
            { index, surface: flatSurface(ledger.volatility.get(u) ?? DEFAULT_VOLATILITY) },
          ]),
        ),
      }),
    ),
  );
  return ledger;
}

export async function derivativesFile(
  path: string,
  options: { json: boolean; data: string | null },
  write: (text: string) => void,
): Promise<number> {
  const parsed: { line: number; command?: LedgerCommand; error?: FulcrumError }[] = [];
  readInput(path)
    .split(/\r?\n/)
    .forEach((text, i) => {
      const trimmed = text.trim();
      if (trimmed === '' || trimmed.startsWith('//')) return;
      try {
        parsed.push({
          line: i + 1,
          command: decodeLedgerJson(parseJsonText(trimmed, `${path}:${i + 1}`)),
        });
      } catch (error) {
        if (!(error instanceof FulcrumError)) throw error;
        parsed.push({ line: i + 1, error });
      }
    });
  let ledger: DerivativesLedger;
  let outcomes: LedgerOutcome[];
  let durable: DurableLedger | null = null;
  if (options.data !== null) {
    durable = await DurableLedger.open(
      await openLedgerStore(options.data),
      ledgerWithPortfolioMargin(),
      {
        warn: (message) => process.stderr.write(`fulcrum: warning: ${message}\n`),
      },
    );
    ledger = durable.ledger;
    const { snapshotSeq, replayed } = durable.recovery;
    if (!options.json) {
      const from = snapshotSeq === null ? '' : ` after the snapshot at record ${snapshotSeq}`;
      write(`journal ${options.data}: ${replayed} commands replayed${from}`);
    }
  } else {
    ledger = ledgerWithPortfolioMargin();
  }
  try {
    const commands = parsed.flatMap((p) => (p.command === undefined ? [] : [p.command]));
    outcomes =
      durable === null
        ? commands.map((c) => applyLedgerCommand(ledger, c))
        : await durable.submit(commands);
  } finally {
    await durable?.close();
  }
  let accepted = 0;
  let refused = 0;
  let next = 0;
  for (const p of parsed) {
    const outcome: LedgerOutcome =
      p.error !== undefined ? { ok: false, error: p.error } : (outcomes[next++] as LedgerOutcome);
    if (outcome.ok) {
      accepted++;
      if (options.json)
        write(JSON.stringify({ line: p.line, ok: true, events: outcome.events.map(plain) }));
      else
        for (const e of outcome.events) write(`line ${String(p.line).padStart(4)}  ${describe(e)}`);
    } else {
      refused++;
      const e = outcome.error;
      if (options.json)
        write(
          JSON.stringify({
            line: p.line,
            ok: false,
            code: e.code,
            field: e.field,
            message: e.message,
          }),
        );
      else write(`line ${String(p.line).padStart(4)}  refused      ${describeError(e)}`);
    }
  }
  return summarize(ledger, accepted, refused, options.json, write);
}

function summarize(
  ledger: DerivativesLedger,
  accepted: number,
  refused: number,
  json: boolean,
  write: (text: string) => void,
): number {
  let total = 0n;
  for (const sub of ledger.accounts.values()) {
    total += sub.cash;
    for (const p of sub.positions.values()) total += p.quote;
  }
  const conserved = total === ledger.netDeposits;
  const accounts = [...ledger.accounts.keys()].sort().map((account) => {
    const sub = ledger.sub(account);
    const m = ledger.margin(account, sub);
    const positions = [...sub.positions].map(([symbol, p]) => {
      const mark = ledger.instrument(symbol).mark;
      return {
        symbol,
        size: Number(p.size) / 1e8,
        entry: p.size === 0n ? 0 : Number(-p.quote / p.size / RATE_SCALE) / Number(PRICE_SCALE),
        mark: Number(mark) / Number(PRICE_SCALE),
        unrealized: quote(p.size * mark * RATE_SCALE + p.quote),
      };
    });
    let realized = 0n;
    for (const r of sub.realized.values()) realized += r;
    return {
      account,
      mode: sub.mode,
      cash: quote(sub.cash),
      equity: quote(m.equity),
      initial: quote(m.initial),
      maintenance: quote(m.maintenance),
      realized: quote(realized),
      liquidatable: ledger.liquidatable(account),
      positions,
    };
  });
  if (json) {
    write(JSON.stringify({ accepted, refused, conserved, accounts }));
  } else {
    write(`${accepted + refused} commands: ${accepted} accepted, ${refused} refused`);
    write(
      table(
        [
          'sub-account',
          'mode',
          'cash',
          'equity',
          'initial',
          'maintenance',
          'realized',
          'positions',
        ],
        accounts.map((a) => [
          a.account,
          a.mode,
          money(a.cash),
          money(a.equity),
          money(a.initial),
          money(a.maintenance),
          money(a.realized),
          a.positions
            .map((p) => `${p.symbol} ${p.size} @ ${p.entry} (${money(p.unrealized)})`)
            .join('; ') || '-',
        ]),
      ),
    );
    write(
      conserved
        ? 'conservation: cash + position balances = deposits − withdrawals, exactly'
        : 'conservation: VIOLATED',
    );
  }
  return conserved ? EXIT.ok : EXIT.badInput;
}

function quote(numerator: bigint): number {
  return Number(numerator / (VALUE_UNIT / 1_000_000n)) / 1e6;
}

function money(x: number): string {
  return x.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

function describe(e: LedgerEvent): string {
  switch (e.type) {
    case 'funding':
      return `funding      ${e.instrument}: ${(e.ratePpm / 1e4).toFixed(4)}% of the index (${money(quote(e.perUnit * 100_000_000n))} per unit, longs to shorts when positive)`;
    case 'settled':
      return `settled      ${e.instrument} at ${Number(e.price) / Number(PRICE_SCALE)}`;
    case 'liquidated':
      return `liquidated   ${e.account}${e.closedPpm < 1_000_000n ? ` (${Number(e.closedPpm) / 1e4}% of each position)` : ''}: equity ${money(quote(e.equity))} below maintenance ${money(quote(e.maintenance))}; fee ${money(quote(e.fee))} to the fund${e.fundPaid > 0n ? `, the fund paid a deficit of ${money(quote(e.fundPaid))}` : ''}`;
    case 'deleveraged':
      return `deleveraged  ${e.account} against ${e.counterparty}: ${Number(e.size) / 1e8} ${e.instrument} at the bankruptcy price ${Number(e.price) / Number(PRICE_SCALE)}`;
  }
}

function plain(e: LedgerEvent): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(e, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
  ) as Record<string, unknown>;
}
