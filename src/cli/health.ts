/**
 * `fulcrum health FILE|-`: evaluates one portfolio given as JSON and prints its report as JSON.
 *
 * Balances alone (`assets`, `balances`) are evaluated as they stand. With derivatives beside
 * them (`instruments`, `positions`, `mode`, `volatility`, `unsettled`, `time`), an engine state
 * is built from the file, the assets at their prices and the instruments at their marks, and
 * the holding's health is the engine's own for a sub-account holding exactly these balances
 * and positions: one health over both, in the sub-account's margin mode. The report then adds
 * a `derivatives` section (mode, unsettled profit, each position's size, entry, mark,
 * unrealized profit and requirements).
 *
 * ```json
 * {"time": "2030-01-01T00:00:00Z",
 *  "assets": {"USDC": {...}, "ETH": {...}}, "balances": {"USDC": "10000"},
 *  "instruments": {"ETH-PERP": {"kind": "perpetual", "underlying": "ETH",
 *    "initialMargin": "0.1", "maintenanceMargin": "0.05", "mark": "1900"}},
 *  "positions": {"ETH-PERP": {"size": "10", "entryPrice": "2000"}},
 *  "mode": "cross", "volatility": {"ETH": "0.7"}, "unsettled": "0"}
 * ```
 */
import { FulcrumError } from '../base/errors.js';
import { applyCommand } from '../engine/apply.js';
import type { Command } from '../engine/commands.js';
import { holdingReport } from '../engine/queries.js';
import { createState, type EngineState, type MarginMode } from '../engine/state.js';
import { SIZE_DECIMALS } from '../derivatives/instruments.js';
import { parseInstrumentListing } from '../derivatives/listing.js';
import { type DerivativePosition, RATE_SCALE, VALUE_UNIT } from '../derivatives/position.js';
import { parseTime } from '../derivatives/report.js';
import {
  expectObject,
  expectString,
  type JsonObject,
  rejectUnknownFields,
} from '../domain/input.js';
import { LIMITS } from '../domain/limits.js';
import { parsePrice } from '../domain/price.js';
import { fieldName } from '../domain/quote.js';
import { parsePortfolio, type Portfolio } from '../margin/portfolio.js';
import { type HealthReport, healthReport, renderHealthReport } from '../margin/report.js';
import { parseDecimal } from '../math/decimal.js';
import { VALUE_DECIMALS, VALUE_SCALE } from '../math/fixed.js';
import { emptyPool } from '../pools/pool.js';
import { parseJson, readInput } from './io.js';

/** The fields that bring derivatives into a portfolio file. */
const DERIVATIVES_FIELDS = ['time', 'instruments', 'positions', 'mode', 'volatility', 'unsettled'];

/** The largest unsettled profit or loss a file may give, in the quote unit. */
const UNSETTLED_MAX = 10n ** 15n * VALUE_SCALE;

export function healthCommand(path: string): string {
  const input = parseJson(readInput(path), path === '-' ? 'standard input' : path);
  const raw = expectObject(input, 'portfolio');
  // Without a prototype: a key such as `__proto__` is a key like any other, refused by name.
  const balancesPart = Object.create(null) as Record<string, unknown>;
  const derivativesPart = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(raw)) {
    if (DERIVATIVES_FIELDS.includes(key)) derivativesPart[key] = value;
    else balancesPart[key] = value;
  }
  const portfolio = parsePortfolio(balancesPart);
  const report =
    Object.keys(derivativesPart).length === 0
      ? healthReport(portfolio.positions)
      : holding(portfolio, derivativesPart);
  return `${JSON.stringify(renderHealthReport(report), null, 2)}\n`;
}

/**
 * The engine's report of the file's holding: an engine state with the file's assets (at their
 * prices, with empty pools) and instruments (at their marks), and the balances and the
 * derivatives book the file describes, evaluated as one sub-account.
 */
function holding(portfolio: Portfolio, raw: JsonObject): HealthReport {
  const { configs, positions } = portfolio;
  const time = raw.time === undefined ? 0 : parseTime(raw.time, 'time');
  const state = createState();
  state.time = time;
  // The assets as the file prices them (its stable prices and weights), each with a fresh pool.
  configs.forEach((config, index) => {
    const risk = (positions[index] as (typeof positions)[number]).risk;
    state.assets.push({ index, config, risk, pool: emptyPool(time), oracle: null });
    state.assetIndex.set(config.symbol, index);
  });
  listInstruments(state, raw, time);
  setVolatilities(state, raw, time);
  const mode = raw.mode === undefined ? 'cross' : marginMode(raw.mode);
  const book = derivativesBook(state, raw, mode);
  const unsettled =
    raw.unsettled === undefined
      ? 0n
      : parseDecimal(raw.unsettled, VALUE_DECIMALS, {
          field: 'unsettled',
          signed: true,
          min: -UNSETTLED_MAX,
          max: UNSETTLED_MAX,
        }) *
        (VALUE_UNIT / VALUE_SCALE);
  const amounts = positions.map((p) => p.amount);
  return holdingReport(state, amounts, { mode, positions: book, unsettled });
}

/** Applies a command of the file to `state`; a refusal names the file's field (`field`). */
function apply(
  state: EngineState,
  command: Command,
  field: (at: string | undefined) => string,
): void {
  const result = applyCommand(state, command);
  if (!result.ok) {
    const error = result.error;
    throw new FulcrumError(error.code, error.message, field(error.field));
  }
}

/** Lists the file's `instruments` (keyed by symbol, each at its `mark`) in `state`. */
function listInstruments(state: EngineState, raw: JsonObject, time: number): void {
  const instruments =
    raw.instruments === undefined ? {} : expectObject(raw.instruments, 'instruments');
  const names = Object.keys(instruments);
  if (names.length > LIMITS.instruments) {
    throw new FulcrumError(
      'limit_exceeded',
      `at most ${LIMITS.instruments} instruments`,
      'instruments',
    );
  }
  for (const name of names) {
    const field = `instruments.${fieldName(name)}`;
    const entry = expectObject(instruments[name], field);
    if (entry.symbol !== undefined) {
      throw new FulcrumError(
        'invalid_field',
        `${field}: the key names the instrument; give no symbol`,
        `${field}.symbol`,
      );
    }
    const contract = Object.create(null) as Record<string, unknown>;
    contract.symbol = name;
    for (const [key, value] of Object.entries(entry)) if (key !== 'mark') contract[key] = value;
    const config = parseInstrumentListing(contract, field);
    if (config.spec.kind !== 'perpetual' && raw.time === undefined) {
      throw new FulcrumError(
        'invalid_field',
        `${name} is dated: the portfolio needs its time ("time", unix seconds or ISO) to margin it`,
        'time',
      );
    }
    const price = parsePrice(entry.mark, `${field}.mark`);
    apply(state, { type: 'list-instrument', time, config, price }, (at) =>
      at === undefined || at === 'config.symbol'
        ? field
        : at.startsWith('config.')
          ? `${field}.${at.slice('config.'.length)}`
          : at === 'price'
            ? `${field}.mark`
            : `${field}.${at}`,
    );
  }
}

/** Sets the file's `volatility` of each asset it names (annual, 6 decimals) in `state`. */
function setVolatilities(state: EngineState, raw: JsonObject, time: number): void {
  const volatility = raw.volatility === undefined ? {} : expectObject(raw.volatility, 'volatility');
  for (const [name, value] of Object.entries(volatility)) {
    const field = `volatility.${fieldName(name)}`;
    if (!state.assetIndex.has(name)) {
      throw new FulcrumError('unknown_asset', `${field} names an asset missing from assets`, field);
    }
    const ppm = parseDecimal(value, 6, { field, max: 10_000_000n });
    apply(state, { type: 'set-volatility', time, asset: name, volatility: ppm }, () => field);
  }
}

/**
 * The file's `positions` as a derivatives book of listed instruments, by instrument index: at
 * most the limit of a sub-account, one in isolated mode, each with a size and an entry price.
 */
function derivativesBook(
  state: EngineState,
  raw: JsonObject,
  mode: MarginMode,
): DerivativePosition[] {
  const held = raw.positions === undefined ? {} : expectObject(raw.positions, 'positions');
  const entries = Object.entries(held);
  if (entries.length > LIMITS.derivativesPerSubAccount) {
    throw new FulcrumError(
      'limit_exceeded',
      `a sub-account holds at most ${LIMITS.derivativesPerSubAccount} derivatives positions`,
      'positions',
    );
  }
  if (mode === 'isolated' && entries.length > 1) {
    throw new FulcrumError(
      'isolated_one_instrument',
      'an isolated sub-account holds one instrument',
      'positions',
    );
  }
  const book = entries.map(([name, value]) => bookPosition(state, name, value));
  book.sort((a, b) => a.instrument - b.instrument);
  return book;
}

/** One position of the file, `positions.NAME`: its size (signed) and entry price. */
function bookPosition(state: EngineState, name: string, value: unknown): DerivativePosition {
  const field = `positions.${fieldName(name)}`;
  const index = state.instrumentIndex.get(name);
  if (index === undefined) {
    throw new FulcrumError(
      'unknown_instrument',
      `${field} names an instrument missing from instruments`,
      field,
    );
  }
  const position = expectObject(value, field);
  rejectUnknownFields(position, ['size', 'entryPrice'], field);
  const size = parseDecimal(position.size, SIZE_DECIMALS, {
    field: `${field}.size`,
    signed: true,
    min: -LIMITS.sizeMax,
    max: LIMITS.sizeMax,
  });
  if (size === 0n) {
    throw new FulcrumError('invalid_number', 'a position has a size', `${field}.size`);
  }
  const entry = parsePrice(position.entryPrice, `${field}.entryPrice`);
  const instrument = state.instruments[index];
  return {
    instrument: index,
    size,
    quote: -size * entry * RATE_SCALE,
    funding: instrument?.fundingIndex ?? 0n,
  };
}

function marginMode(input: unknown): MarginMode {
  const mode = expectString(input, 'mode');
  if (mode !== 'cross' && mode !== 'isolated' && mode !== 'portfolio') {
    throw new FulcrumError('invalid_field', 'mode must be cross, isolated or portfolio', 'mode');
  }
  return mode;
}
