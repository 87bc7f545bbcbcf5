/**
 * `fulcrum liquidations FILE.jsonl`: runs a command file in memory with the liquidation monitor
 * beside the engine, and prints the story of its losses, in both books: each account as it
 * falls below maintenance (or recovers); every liquidation of a debt with its amounts, prices,
 * penalty parts and health before and after; every takeover of a derivatives position (size,
 * mark, the price after the penalty, the insurance fund's part); every auto-deleveraging fill
 * at its bankruptcy price, with what the counterparty gave up against the mark; the realized
 * losses bankrupt accounts paid into the settlement asset; every bad debt. At the end the
 * totals and the loss waterfall: per asset, what the insurance fund paid and the lenders bore;
 * per instrument, what deleveraging took from the opposite positions; and the insurance fund.
 */
import { FulcrumError } from '../base/errors.js';
import type { CommandResult } from '../engine/apply.js';
import { Engine } from '../engine/engine.js';
import type {
  BadDebtEvent,
  DeleveragedEvent,
  EngineEvent,
  LiquidationEvent,
  PnlSettledEvent,
  PositionLiquidatedEvent,
} from '../engine/events.js';
import { renderEvent } from '../engine/render.js';
import { INSURANCE_ACCOUNT, type SubAccountRef } from '../engine/state.js';
import { LiquidationMonitor, type MonitorScan } from '../liquidation/monitor.js';
import { formatDecimal } from '../math/decimal.js';
import { SIZE_DECIMALS } from '../derivatives/instruments.js';
import { SIZE_UNIT, VALUE_UNIT } from '../derivatives/position.js';
import {
  HEALTH_DECIMALS,
  pow10,
  PRICE_DECIMALS,
  PRICE_SCALE,
  RAY_DECIMALS,
} from '../math/fixed.js';
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
  /** Derivatives positions taken over, and those the insurance fund took (the backstop). */
  takeovers: number;
  byInsuranceFund: number;
  /** Quote value (PRICE_SCALE): notional taken over at the mark, penalties, the fund's part. */
  takenOverValue: bigint;
  penaltyValue: bigint;
  toInsuranceValue: bigint;
}

/** Per instrument: auto-deleveraging fills, and what the counterparties gave up (PRICE_SCALE). */
interface Deleveraging {
  fills: number;
  gaveUpValue: bigint;
}

/** Realized losses bankrupt accounts paid into the settlement asset, per asset (base units). */
interface PaidIn {
  decimals: number;
  amount: bigint;
}

/** What the run added up: the commands, the liquidations and takeovers, the losses. */
interface Tally {
  accepted: number;
  refused: number;
  readonly totals: Totals;
  readonly losses: Map<string, AssetLosses>;
  readonly deleveraging: Map<string, Deleveraging>;
  readonly paidIn: Map<string, PaidIn>;
}

export function liquidationsFile(
  path: string,
  json: boolean,
  write: (line: string) => void,
): number {
  const text = readInput(path);
  const engine = new Engine();
  const monitor = new LiquidationMonitor(engine.state);
  const tally: Tally = {
    accepted: 0,
    refused: 0,
    totals: {
      liquidations: 0,
      byBackstop: 0,
      repaidValue: 0n,
      seizedValue: 0n,
      bonusValue: 0n,
      takeovers: 0,
      byInsuranceFund: 0,
      takenOverValue: 0n,
      penaltyValue: 0n,
      toInsuranceValue: 0n,
    },
    losses: new Map(),
    deleveraging: new Map(),
    paidIn: new Map(),
  };
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
      tally.refused++;
      write(
        json
          ? JSON.stringify({ line: lineNumber, ok: false, error: result.error.toJSON() })
          : `${at(lineNumber)}  refused       ${oneLine(describeError(result.error))}`,
      );
      continue;
    }
    tally.accepted++;
    tellEvents(engine, tally, lineNumber, result.events, json, write);
    tellScan(engine, monitor.observe(result), lineNumber, json, write);
  }
  const stillLiquidatable = monitor
    .liquidatable()
    .map(name)
    .sort((a, b) => a.localeCompare(b));
  const fund = insuranceBalances(engine);
  if (json) {
    write(JSON.stringify({ summary: summaryJson(tally, fund, stillLiquidatable) }));
    return 0;
  }
  write('');
  writeTotals(tally, write);
  write('');
  writeWaterfall(tally, write);
  write('');
  writeInsuranceFund(tally.losses, fund, write);
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

/**
 * Tells and counts the events of one accepted command: liquidations, bad debts, takeovers,
 * deleveraging fills, and the realized losses of the sub-accounts it found bankrupt.
 */
function tellEvents(
  engine: Engine,
  tally: Tally,
  lineNumber: number,
  events: readonly EngineEvent[],
  json: boolean,
  write: (line: string) => void,
): void {
  const { totals, losses } = tally;
  // Sub-accounts this command found bankrupt: deleveraged, or with a debt written off.
  const bankrupt = new Set<string>();
  for (const event of events) {
    if (event.type === 'deleveraged' || event.type === 'bad-debt') bankrupt.add(name(event.target));
  }
  // A bankrupt account's realized loss is told after the takeover or deleveraging that
  // realized it, and before the bad debt it left.
  const pending: string[] = [];
  for (const event of events) {
    if (event.type === 'liquidation') {
      count(totals, losses, event);
      write(json ? jsonLine(lineNumber, event) : describeLiquidation(lineNumber, event));
    } else if (event.type === 'bad-debt') {
      for (const line of pending.splice(0)) write(line);
      record(losses, event);
      write(json ? jsonLine(lineNumber, event) : describeBadDebt(lineNumber, event));
    } else if (event.type === 'position-liquidated') {
      countTakeover(totals, losses, engine, event);
      write(json ? jsonLine(lineNumber, event) : describeTakeover(lineNumber, event));
    } else if (event.type === 'deleveraged') {
      const mark = markOf(engine, event.instrument);
      const gaveUp = countDeleveraged(tally.deleveraging, event, mark);
      write(
        json
          ? jsonLine(lineNumber, event, { mark, gaveUpValue: gaveUp })
          : describeDeleveraged(lineNumber, event, mark, gaveUp),
      );
    } else if (event.type === 'pnl-settled' && event.amount < 0n && bankrupt.has(name(event))) {
      const p = tally.paidIn.get(event.asset) ?? { decimals: event.decimals, amount: 0n };
      p.amount -= event.amount;
      tally.paidIn.set(event.asset, p);
      pending.push(json ? jsonLine(lineNumber, event) : describePaidIn(lineNumber, event));
    }
  }
  for (const line of pending.splice(0)) write(line);
}

/** Counts a deleveraging fill; returns what the counterparty gave up against the mark. */
function countDeleveraged(
  deleveraging: Map<string, Deleveraging>,
  event: DeleveragedEvent,
  mark: bigint,
): bigint {
  const gaveUp = (abs(event.size) * abs(event.price - mark)) / SIZE_UNIT;
  const d = deleveraging.get(event.instrument) ?? { fills: 0, gaveUpValue: 0n };
  d.fills++;
  d.gaveUpValue += gaveUp;
  deleveraging.set(event.instrument, d);
  return gaveUp;
}

/** Tells the sub-accounts the monitor found below maintenance after a command, or recovered. */
function tellScan(
  engine: Engine,
  scan: MonitorScan,
  lineNumber: number,
  json: boolean,
  write: (line: string) => void,
): void {
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

/** The `--json` summary: the totals, the waterfall and the insurance fund, amounts as decimals. */
function summaryJson(tally: Tally, fund: Map<string, string>, stillLiquidatable: string[]) {
  const { totals, losses, deleveraging, paidIn } = tally;
  return {
    accepted: tally.accepted,
    refused: tally.refused,
    liquidations: totals.liquidations,
    byBackstop: totals.byBackstop,
    repaidValue: formatDecimal(totals.repaidValue, PRICE_DECIMALS),
    seizedValue: formatDecimal(totals.seizedValue, PRICE_DECIMALS),
    liquidatorBonusValue: formatDecimal(totals.bonusValue, PRICE_DECIMALS),
    positionTakeovers: totals.takeovers,
    byInsuranceFund: totals.byInsuranceFund,
    takenOverValue: formatDecimal(totals.takenOverValue, PRICE_DECIMALS),
    takeoverPenaltyValue: formatDecimal(totals.penaltyValue, PRICE_DECIMALS),
    takeoverToInsuranceValue: formatDecimal(totals.toInsuranceValue, PRICE_DECIMALS),
    waterfall: Object.fromEntries([...losses].map(([symbol, l]) => [symbol, renderLosses(l)])),
    deleveraging: Object.fromEntries(
      [...deleveraging].map(([symbol, d]) => [
        symbol,
        { fills: d.fills, gaveUpValue: formatDecimal(d.gaveUpValue, PRICE_DECIMALS) },
      ]),
    ),
    lossesPaidInByBankrupt: Object.fromEntries(
      [...paidIn].map(([symbol, p]) => [symbol, formatDecimal(p.amount, p.decimals)]),
    ),
    insuranceFund: Object.fromEntries(fund),
    stillLiquidatable,
  };
}

/** The text summary's first lines: commands, liquidations, takeovers, losses paid in. */
function writeTotals(tally: Tally, write: (line: string) => void): void {
  const { totals, accepted, refused } = tally;
  write(
    `${accepted + refused} commands: ${accepted} accepted, ${refused} refused; ` +
      `${totals.liquidations} liquidations (${totals.byBackstop} by the backstop)`,
  );
  write(
    `debt repaid ${money(totals.repaidValue)}, collateral seized ${money(totals.seizedValue)}, ` +
      `liquidators' bonus ${money(totals.bonusValue)}`,
  );
  const fills = [...tally.deleveraging.values()].reduce((n, d) => n + d.fills, 0);
  write(
    `${totals.takeovers} positions taken over (${totals.byInsuranceFund} by the insurance fund): ` +
      `notional ${money(totals.takenOverValue)} at the mark, penalties ${money(totals.penaltyValue)} ` +
      `(insurance fund ${money(totals.toInsuranceValue)}); ${fills} deleveraging fills`,
  );
  const paid = [...tally.paidIn].map(
    ([symbol, p]) => `${shorten(formatDecimal(p.amount, p.decimals), 6)} ${symbol}`,
  );
  if (paid.length > 0) {
    write(`realized losses paid in by bankrupt accounts: ${paid.join(', ')}`);
  }
}

/** The loss waterfall table: per asset with a deficit, then per instrument deleveraged. */
function writeWaterfall(tally: Tally, write: (line: string) => void): void {
  write(
    'Loss waterfall: what an account could not pay, paid first by the insurance fund, then (a ' +
      'derivatives loss) by deleveraging the opposite positions, then by the lenders',
  );
  const rows = [
    ...[...tally.losses]
      .filter(([, l]) => l.deficit > 0n)
      .map(([symbol, l]) => [
        symbol,
        shorten(formatDecimal(l.deficit, l.decimals), 6),
        shorten(formatDecimal(l.insuranceDraw, l.decimals), 6),
        '0',
        shorten(formatDecimal(l.socialized, l.decimals), 6),
        indexFall(l),
      ]),
    ...[...tally.deleveraging].map(([symbol, d]) => [
      symbol,
      shorten(formatDecimal(d.gaveUpValue, PRICE_DECIMALS), 6),
      '0',
      shorten(formatDecimal(d.gaveUpValue, PRICE_DECIMALS), 6),
      '0',
      '-',
    ]),
  ];
  write(
    rows.length === 0
      ? '(no bad debt)'
      : table(
          [
            'asset or instrument',
            'deficit',
            'insurance fund paid',
            'deleveraging',
            'lenders bore',
            'supply index fall %',
          ],
          rows,
        ),
  );
}

/** The insurance fund table: per asset, its intake from penalties, its draws, its balance. */
function writeInsuranceFund(
  losses: Map<string, AssetLosses>,
  fund: Map<string, string>,
  write: (line: string) => void,
): void {
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

/**
 * A takeover of a derivatives position: its notional at the mark, the penalty (the distance of
 * its price from the mark), and the insurance fund's part, which reaches the fund in the
 * settlement asset.
 */
function countTakeover(
  totals: Totals,
  losses: Map<string, AssetLosses>,
  engine: Engine,
  event: PositionLiquidatedEvent,
): void {
  totals.takeovers++;
  if (event.liquidator.account === INSURANCE_ACCOUNT) totals.byInsuranceFund++;
  const size = abs(event.size);
  totals.takenOverValue += (size * event.mark) / SIZE_UNIT;
  totals.penaltyValue += (size * abs(event.mark - event.price)) / SIZE_UNIT;
  totals.toInsuranceValue += event.toInsuranceValue / VALUE_TO_PRICE;
  const symbol = engine.state.venueConfig.settlementAsset;
  const index = engine.state.assetIndex.get(symbol);
  const decimals = index === undefined ? 6 : (engine.state.assets[index]?.config.decimals ?? 6);
  lossesOf(losses, symbol, decimals).penaltyIntake +=
    event.toInsuranceValue / (VALUE_UNIT / pow10(decimals));
}

/** Derivatives value numerators (VALUE_UNIT a quote unit) per PRICE_SCALE unit. */
const VALUE_TO_PRICE = VALUE_UNIT / PRICE_SCALE;

/** An instrument's mark now (PRICE_SCALE); 0 for a symbol that is not listed. */
function markOf(engine: Engine, symbol: string): bigint {
  const index = engine.state.instrumentIndex.get(symbol);
  return index === undefined ? 0n : (engine.state.instruments[index]?.mark ?? 0n);
}

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
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

function describeTakeover(lineNumber: number, e: PositionLiquidatedEvent): string {
  const size = abs(e.size);
  const side = e.size > 0n ? 'long' : 'short';
  const by = e.liquidator.account === INSURANCE_ACCOUNT ? 'the insurance fund' : name(e.liquidator);
  const health = (h: bigint | null) =>
    h === null ? '-' : shorten(formatDecimal(h, HEALTH_DECIMALS));
  const penalty = (size * abs(e.mark - e.price)) / SIZE_UNIT;
  return [
    `${at(lineNumber)}  takeover      ${name(e.target)} by ${by}:`,
    `${shorten(formatDecimal(size, SIZE_DECIMALS), 8)} ${e.instrument} (${side}) @ ${price(e.price)}, mark ${price(e.mark)};`,
    `penalty ${money(penalty)} (insurance fund ${money(e.toInsuranceValue / VALUE_TO_PRICE)});`,
    `health ${health(e.healthBeforeWad)} -> ${health(e.healthAfterWad)}`,
  ].join(' ');
}

function describeDeleveraged(
  lineNumber: number,
  e: DeleveragedEvent,
  mark: bigint,
  gaveUp: bigint,
): string {
  const size = shorten(formatDecimal(abs(e.size), SIZE_DECIMALS), 8);
  const side = e.size > 0n ? 'long' : 'short';
  return (
    `${at(lineNumber)}  deleveraged   ${name(e.target)} (${side}) against ${name(e.counterparty)}: ` +
    `${size} ${e.instrument} at the bankruptcy price ${price(e.price)}, mark ${price(mark)}; ` +
    `the counterparty gave up ${money(gaveUp)}`
  );
}

function describePaidIn(lineNumber: number, e: PnlSettledEvent): string {
  return (
    `${at(lineNumber)}  loss paid in  ${name(e)}, bankrupt: ` +
    `${shorten(formatDecimal(-e.amount, e.decimals), 6)} ${e.asset} of realized loss paid into ` +
    `the settlement reserve (from its deposit, then as a debt)`
  );
}

function jsonLine(
  lineNumber: number,
  event: EngineEvent,
  extra: Readonly<Record<string, bigint>> = {},
): string {
  const added = Object.fromEntries(
    Object.entries(extra).map(([key, value]) => [key, formatDecimal(value, PRICE_DECIMALS)]),
  );
  return JSON.stringify({ line: lineNumber, ...renderEvent(event), ...added });
}

function price(x: bigint): string {
  return shorten(formatDecimal(x, PRICE_DECIMALS));
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
