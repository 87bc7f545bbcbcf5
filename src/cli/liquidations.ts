/**
 * `fulcrum liquidations FILE.jsonl`: runs a command file in memory with the liquidation monitor
 * beside the engine, and prints the story of its losses: each account as it falls below
 * maintenance (or recovers), every liquidation with its amounts, prices, penalty parts and
 * health before and after, every bad debt, and at the end the loss waterfall per asset
 * (deficits, what the insurance fund paid, what the lenders bore) and the insurance fund.
 */
import { FulcrumError } from '../base/errors.js';
import type { CommandResult } from '../engine/apply.js';
import { Engine } from '../engine/engine.js';
import type { BadDebtEvent, LiquidationEvent } from '../engine/events.js';
import { renderEvent } from '../engine/render.js';
import { INSURANCE_ACCOUNT, type SubAccountRef } from '../engine/state.js';
import { LiquidationMonitor } from '../liquidation/monitor.js';
import { formatDecimal } from '../math/decimal.js';
import { HEALTH_DECIMALS, pow10, PRICE_DECIMALS, RAY_DECIMALS } from '../math/fixed.js';
import { commandLines, describeError, lineTooLong, oneLine, parseJson, readInput } from './io.js';
import { shorten, table } from './table.js';

/** Per asset: the losses its lenders and the insurance fund took, and what the fund received. */
interface AssetLosses {
  decimals: number;
  deficit: bigint;
  insuranceDraw: bigint;
  socialized: bigint;
  /** The insurance fund's intake from penalties, base units of this (collateral) asset. */
  penaltyIntake: bigint;
  /** The supply index before the first write-off and after the last (RAY). */
  indexBefore: bigint | null;
  indexAfter: bigint | null;
}

/** Most sub-accounts the text's last line names; `--json` lists every one. */
const NAMES_LISTED_MAX = 100;

interface Totals {
  liquidations: number;
  byBackstop: number;
  /** Quote value (PRICE_SCALE) of debt repaid, collateral seized and the liquidators' bonus. */
  repaidValue: bigint;
  seizedValue: bigint;
  bonusValue: bigint;
}

export function liquidationsFile(
  path: string,
  json: boolean,
  write: (line: string) => void,
): number {
  const text = readInput(path);
  const engine = new Engine();
  const monitor = new LiquidationMonitor(engine.state);
  const losses = new Map<string, AssetLosses>();
  const totals: Totals = {
    liquidations: 0,
    byBackstop: 0,
    repaidValue: 0n,
    seizedValue: 0n,
    bonusValue: 0n,
  };
  let accepted = 0;
  let refused = 0;
  for (const { lineNumber, text: trimmed, tooLong } of commandLines(text)) {
    let result: CommandResult;
    try {
      if (tooLong) throw lineTooLong(lineNumber);
      result = engine.applyJson(parseJson(trimmed, `line ${lineNumber}`));
    } catch (error) {
      if (!(error instanceof FulcrumError)) throw error;
      result = { ok: false, error };
    }
    if (!result.ok) {
      refused++;
      write(
        json
          ? JSON.stringify({ line: lineNumber, ok: false, error: result.error.toJSON() })
          : `${at(lineNumber)}  refused       ${oneLine(describeError(result.error))}`,
      );
      continue;
    }
    accepted++;
    for (const event of result.events) {
      if (event.type === 'liquidation') {
        count(totals, losses, event);
        write(json ? jsonLine(lineNumber, event) : describeLiquidation(lineNumber, event));
      } else if (event.type === 'bad-debt') {
        record(losses, event);
        write(json ? jsonLine(lineNumber, event) : describeBadDebt(lineNumber, event));
      }
    }
    const scan = monitor.observe(result);
    for (const ref of scan.liquidatable) {
      const health = maintenanceHealth(engine, ref);
      write(
        json
          ? JSON.stringify({ line: lineNumber, type: 'below-maintenance', target: ref, health })
          : `${at(lineNumber)}  below maint.  ${name(ref)}: health ${shorten(health)}`,
      );
    }
    for (const ref of scan.recovered) {
      const health = maintenanceHealth(engine, ref);
      write(
        json
          ? JSON.stringify({ line: lineNumber, type: 'recovered', target: ref, health })
          : `${at(lineNumber)}  recovered     ${name(ref)}: health ${shorten(health)}`,
      );
    }
  }
  const stillLiquidatable = monitor
    .liquidatable()
    .map(name)
    .sort((a, b) => a.localeCompare(b));
  const fund = insuranceBalances(engine);
  if (json) {
    write(
      JSON.stringify({
        summary: {
          accepted,
          refused,
          liquidations: totals.liquidations,
          byBackstop: totals.byBackstop,
          repaidValue: formatDecimal(totals.repaidValue, PRICE_DECIMALS),
          seizedValue: formatDecimal(totals.seizedValue, PRICE_DECIMALS),
          liquidatorBonusValue: formatDecimal(totals.bonusValue, PRICE_DECIMALS),
          waterfall: Object.fromEntries(
            [...losses].map(([symbol, l]) => [symbol, renderLosses(l)]),
          ),
          insuranceFund: Object.fromEntries(fund),
          stillLiquidatable,
        },
      }),
    );
    return 0;
  }
  write('');
  write(
    `${accepted + refused} commands: ${accepted} accepted, ${refused} refused; ` +
      `${totals.liquidations} liquidations (${totals.byBackstop} by the backstop)`,
  );
  write(
    `debt repaid ${money(totals.repaidValue)}, collateral seized ${money(totals.seizedValue)}, ` +
      `liquidators' bonus ${money(totals.bonusValue)}`,
  );
  write('');
  write('Loss waterfall: bad debt, paid first by the insurance fund, then by the lenders');
  const rows = [...losses]
    .filter(([, l]) => l.deficit > 0n)
    .map(([symbol, l]) => [
      symbol,
      shorten(formatDecimal(l.deficit, l.decimals), 6),
      shorten(formatDecimal(l.insuranceDraw, l.decimals), 6),
      shorten(formatDecimal(l.socialized, l.decimals), 6),
      indexFall(l),
    ]);
  write(
    rows.length === 0
      ? '(no bad debt)'
      : table(
          ['asset', 'deficit', 'insurance fund paid', 'lenders bore', 'supply index fall %'],
          rows,
        ),
  );
  write('');
  write('Insurance fund');
  const fundRows = [...losses.keys(), ...fund.keys()]
    .filter((symbol, i, all) => all.indexOf(symbol) === i)
    .map((symbol) => {
      const l = losses.get(symbol);
      const decimals = l?.decimals ?? 18;
      return [
        symbol,
        shorten(formatDecimal(l?.penaltyIntake ?? 0n, decimals), 6),
        shorten(formatDecimal(l?.insuranceDraw ?? 0n, decimals), 6),
        shorten(fund.get(symbol) ?? '0', 6),
      ];
    });
  write(
    fundRows.length === 0
      ? '(empty)'
      : table(['asset', 'from penalties', 'paid for bad debt', 'balance'], fundRows),
  );
  write('');
  const listed = stillLiquidatable.slice(0, NAMES_LISTED_MAX);
  const more = stillLiquidatable.length - listed.length;
  write(
    stillLiquidatable.length === 0
      ? 'no account is below maintenance at the end'
      : `below maintenance at the end: ${listed.join(', ')}${more > 0 ? ` and ${more} more (--json lists every one)` : ''}`,
  );
  return 0;
}

function count(totals: Totals, losses: Map<string, AssetLosses>, event: LiquidationEvent): void {
  totals.liquidations++;
  if (event.liquidator.account === '@backstop') totals.byBackstop++;
  const repaid = valueOf(event.repaid, event.debtDecimals, event.debtPrice);
  totals.repaidValue += repaid;
  totals.seizedValue += valueOf(event.seized, event.collateralDecimals, event.collateralPrice);
  if (event.toLiquidator > 0n) {
    const received = valueOf(event.toLiquidator, event.collateralDecimals, event.collateralPrice);
    totals.bonusValue += received - repaid;
  }
  lossesOf(losses, event.collateralAsset, event.collateralDecimals).penaltyIntake +=
    event.toInsurance;
  lossesOf(losses, event.debtAsset, event.debtDecimals);
}

function record(losses: Map<string, AssetLosses>, event: BadDebtEvent): void {
  const l = lossesOf(losses, event.asset, event.decimals);
  l.deficit += event.deficit;
  l.insuranceDraw += event.insuranceDraw;
  l.socialized += event.socialized;
  l.indexBefore ??= event.supplyIndexBeforeRay;
  l.indexAfter = event.supplyIndexAfterRay;
}

function lossesOf(losses: Map<string, AssetLosses>, symbol: string, decimals: number): AssetLosses {
  let l = losses.get(symbol);
  if (l === undefined) {
    l = {
      decimals,
      deficit: 0n,
      insuranceDraw: 0n,
      socialized: 0n,
      penaltyIntake: 0n,
      indexBefore: null,
      indexAfter: null,
    };
    losses.set(symbol, l);
  }
  return l;
}

function renderLosses(l: AssetLosses) {
  return {
    deficit: formatDecimal(l.deficit, l.decimals),
    insuranceFundPaid: formatDecimal(l.insuranceDraw, l.decimals),
    lendersBore: formatDecimal(l.socialized, l.decimals),
    insuranceFundFromPenalties: formatDecimal(l.penaltyIntake, l.decimals),
    supplyIndexBefore: l.indexBefore === null ? null : formatDecimal(l.indexBefore, RAY_DECIMALS),
    supplyIndexAfter: l.indexAfter === null ? null : formatDecimal(l.indexAfter, RAY_DECIMALS),
  };
}

/** The fall of the supply index over the run's write-offs, in percent. */
function indexFall(l: AssetLosses): string {
  if (l.indexBefore === null || l.indexAfter === null) return '0';
  const fall = ((l.indexBefore - l.indexAfter) * pow10(8)) / l.indexBefore;
  return shorten(formatDecimal(fall, 6), 4);
}

/** The insurance fund's balances, in whole units, by symbol (a `Map`: a symbol is only a name). */
function insuranceBalances(engine: Engine): Map<string, string> {
  const report = engine.health({ account: INSURANCE_ACCOUNT, subAccount: 0 });
  const out = new Map<string, string>();
  for (const position of report.positions) {
    if (position.amount !== 0n) {
      out.set(position.symbol, formatDecimal(position.amount, position.decimals));
    }
  }
  return out;
}

function maintenanceHealth(engine: Engine, ref: SubAccountRef): string | null {
  const health = engine.health(ref).tiers.maintenance.healthFactor;
  return health === null ? null : formatDecimal(health, HEALTH_DECIMALS);
}

/** amount (base units) × price (PRICE_SCALE): a quote value in PRICE_SCALE, rounded down. */
function valueOf(amount: bigint, decimals: number, price: bigint): bigint {
  return (amount * price) / pow10(decimals);
}

function describeLiquidation(lineNumber: number, e: LiquidationEvent): string {
  const amount = (x: bigint, decimals: number) => shorten(formatDecimal(x, decimals), 6);
  const by = e.liquidator.account === '@backstop' ? 'the backstop' : name(e.liquidator);
  const parts = [
    `liquidator ${amount(e.toLiquidator, e.collateralDecimals)}`,
    `insurance ${amount(e.toInsurance, e.collateralDecimals)}`,
  ];
  if (e.soldToMarket > 0n) {
    parts.push(
      `sold ${amount(e.soldToMarket, e.collateralDecimals)} at ${percent(e.impactPpm)} impact`,
    );
  }
  const health = (h: bigint | null) =>
    h === null ? '-' : shorten(formatDecimal(h, HEALTH_DECIMALS));
  return [
    `${at(lineNumber)}  liquidation   ${name(e.target)} by ${by}${e.fullClose ? ' (full close)' : ''}:`,
    `repaid ${amount(e.repaid, e.debtDecimals)} ${e.debtAsset} @ ${shorten(formatDecimal(e.debtPrice, PRICE_DECIMALS))},`,
    `seized ${amount(e.seized, e.collateralDecimals)} ${e.collateralAsset} @ ${shorten(formatDecimal(e.collateralPrice, PRICE_DECIMALS))}`,
    `(${parts.join(', ')}); penalty ${percent(e.penaltyPpm)}${e.penaltyReduced ? ' (reduced)' : ''};`,
    `health ${health(e.healthBeforeWad)} -> ${health(e.healthAfterWad)} (end tier ${health(e.endHealthAfterWad)})`,
  ].join(' ');
}

function describeBadDebt(lineNumber: number, e: BadDebtEvent): string {
  const amount = (x: bigint) => shorten(formatDecimal(x, e.decimals), 6);
  return (
    `${at(lineNumber)}  bad debt      ${name(e.target)}: ${amount(e.deficit)} ${e.asset} written off; ` +
    `insurance fund paid ${amount(e.insuranceDraw)}, lenders bore ${amount(e.socialized)} ` +
    `(supply index ${shorten(formatDecimal(e.supplyIndexBeforeRay, RAY_DECIMALS), 8)} -> ` +
    `${shorten(formatDecimal(e.supplyIndexAfterRay, RAY_DECIMALS), 8)})`
  );
}

function jsonLine(lineNumber: number, event: LiquidationEvent | BadDebtEvent): string {
  return JSON.stringify({ line: lineNumber, ...renderEvent(event) });
}

function at(lineNumber: number): string {
  return `line ${String(lineNumber).padStart(4)}`;
}

function name(ref: SubAccountRef): string {
  return `${ref.account}/${ref.subAccount}`;
}

function percent(ppm: bigint): string {
  return `${shorten(formatDecimal(ppm * 100n, 6), 3)}%`;
}

function money(value: bigint): string {
  return `$${shorten(formatDecimal(value, PRICE_DECIMALS), 2)}`;
}
