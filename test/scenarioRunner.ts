/**
 * Runs a scenario file: a whole story in JSON lines. A line is either a command, with an
 * optional `"expect"` (`"ok"`, the default, or the error code it must be refused with), or a
 * check of the state:
 *
 * - `{"check": "health", "account", "subAccount"?, "tier"?, "equals" | "below" | "atLeast": "1.5" | null}`
 * - `{"check": "balance", "account", "subAccount"?, "asset", "equals" | "atLeast" | "atMost": "10"}`
 * - `{"check": "pool", "asset", "field": "cash" | "totalSupply" | ..., "equals": "..."}`
 * - `{"check": "liquidatable", "account", "subAccount"?, "equals": true}`
 * - `{"check": "liquidationPrice", "account", "subAccount"?, "asset", "equals": "606.06" | null}`
 * - `{"check": "maxBorrow" | "maxWithdraw", "account", "subAccount"?, "asset", "equals": "..."}`
 * - `{"check": "position", "account", "instrument", "equals"}`: a derivatives position's size
 *   (units of the underlying; "0" when there is none)
 * - `{"check": "conserved"}`: every pool solvent and its totals equal to its accounts' balances
 * - `{"check": "event", "type": "liquidation", "index"?: 0, "count"?: 1, "fields"?: {...}}`: among the
 *   events of the command just before (none if it was refused), those of `type`: `count` says how
 *   many there are, and the `index`-th (default the first) has every field of `fields` equal to
 *   its JSON form (`renderEvent`: amounts in whole units, `*Ray`, `*Wad`, `*Ppm` as plain
 *   fractions, sub-accounts as `{"account", "subAccount"}`)
 * - `{"raw": "text", "expect": ...}`: a line of text, read as the command line reads it
 *
 * Lines starting with `//` are comments: they carry the derivation of the expected figures.
 * Every refused command must also leave the state hash unchanged.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { parseJsonText } from '../src/domain/json.js';
import {
  Engine,
  FulcrumError,
  formatDecimal,
  parseDecimal,
  poolSurplusRayUnits,
  renderEvent,
  renderEventsJson,
  renderHealthReport,
} from '../src/index.js';

type Json = Record<string, unknown>;

export function runScenario(path: string): { commands: number; checks: number } {
  const engine = new Engine();
  let commands = 0;
  let checks = 0;
  // The events of the last command, as JSON; none after a refusal.
  let events: Json[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((text, index) => {
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('//')) return;
    const where = `${path}:${index + 1}`;
    const line = JSON.parse(trimmed) as Json;
    if (typeof line.check === 'string') {
      check(engine, line, where, events);
      checks++;
      return;
    }
    commands++;
    const { expect: expected = 'ok', raw, ...command } = line;
    const hash = engine.hash();
    let outcome: string;
    events = [];
    if (typeof raw === 'string') {
      // Raw text goes the way the command line takes it: strict JSON, then the engine.
      try {
        const result = engine.applyJson(parseJsonText(raw, where));
        outcome = result.ok ? 'ok' : result.error.code;
        if (result.ok) events = rendered(result.events);
      } catch (error) {
        if (!(error instanceof FulcrumError)) throw error;
        outcome = error.code;
      }
    } else {
      const result = engine.applyJson(command);
      outcome = result.ok ? 'ok' : result.error.code;
      if (result.ok) events = rendered(result.events);
    }
    expect(outcome, `${where}: ${trimmed}`).toBe(expected);
    if (outcome !== 'ok') expect(engine.hash(), `${where}: a refusal changed the state`).toBe(hash);
  });
  return { commands, checks };
}

/** The events as JSON, checking that the journal's direct text renders them the same. */
function rendered(events: Parameters<typeof renderEventsJson>[0]): Json[] {
  const json = events.map(renderEvent);
  expect(renderEventsJson(events)).toBe(JSON.stringify(json));
  return json;
}

function check(engine: Engine, line: Json, where: string, events: readonly Json[]): void {
  const ref = { account: String(line.account), subAccount: Number(line.subAccount ?? 0) };
  switch (line.check) {
    case 'health': {
      const report = engine.health(ref);
      const tier = (line.tier ?? 'maintenance') as 'initial' | 'liquidationEnd' | 'maintenance';
      const value = report.tiers[tier].healthFactor;
      compare(value === null ? null : formatDecimal(value, 18), line, where);
      return;
    }
    case 'balance': {
      const report = engine.health(ref);
      const position = report.positions.find((p) => p.symbol === line.asset);
      compare(formatDecimal(position?.amount ?? 0n, position?.decimals ?? 0), line, where);
      return;
    }
    case 'pool': {
      const pool = engine.pools().find((p) => p.asset === line.asset) as
        Record<string, string> | undefined;
      compare(pool?.[String(line.field)] ?? null, line, where);
      return;
    }
    case 'position': {
      const { derivatives } = renderHealthReport(engine.health(ref));
      const held = derivatives?.positions.find((p) => p.instrument === line.instrument);
      compare(held?.size ?? '0', line, where);
      return;
    }
    case 'liquidatable':
      expect(renderHealthReport(engine.health(ref)).liquidatable, where).toBe(line.equals);
      return;
    case 'liquidationPrice':
    case 'maxBorrow':
    case 'maxWithdraw': {
      const rendered = renderHealthReport(engine.health(ref)) as unknown as Record<
        string,
        Record<string, string | null>
      >;
      const table = line.check === 'liquidationPrice' ? 'liquidationPrices' : line.check;
      compare(rendered[table]?.[String(line.asset)] ?? null, line, where);
      return;
    }
    case 'conserved':
      checkConserved(engine, where);
      return;
    case 'event':
      checkEvent(events, line, where);
      return;
    default:
      throw new Error(`${where}: unknown check ${String(line.check)}`);
  }
}

/** The last command's events of one type: how many, and the fields of one of them. */
function checkEvent(events: readonly Json[], line: Json, where: string): void {
  const matching = events.filter((e) => e.type === line.type);
  if ('count' in line)
    expect(matching.length, `${where}: ${String(line.type)} events`).toBe(line.count);
  if (!('fields' in line)) return;
  const index = Number(line.index ?? 0);
  const event = matching[index];
  expect(event, `${where}: no ${String(line.type)} event #${index}`).toBeDefined();
  for (const [field, value] of Object.entries(line.fields as Json)) {
    expect(event?.[field], `${where}: ${String(line.type)}.${field}`).toEqual(value);
  }
}

/** Compares a decimal string (or null) with `equals`, `below`, `atLeast` or `atMost`. */
function compare(actual: string | null, line: Json, where: string): void {
  if ('equals' in line) {
    expect(actual, where).toBe(line.equals);
    return;
  }
  expect(actual, `${where}: no value`).not.toBeNull();
  const value = parseDecimal(actual, 30, { field: 'actual', signed: true });
  const bound = (name: string) => parseDecimal(line[name], 30, { field: name, signed: true });
  if ('below' in line)
    expect(value < bound('below'), `${where}: ${actual} < ${line.below}`).toBe(true);
  if ('atLeast' in line)
    expect(value >= bound('atLeast'), `${where}: ${actual} >= ${line.atLeast}`).toBe(true);
  if ('atMost' in line)
    expect(value <= bound('atMost'), `${where}: ${actual} <= ${line.atMost}`).toBe(true);
}

/** Every pool solvent; its scaled totals equal the sum of its accounts' balances and treasury. */
export function checkConserved(engine: Engine, where: string): void {
  for (const asset of engine.state.assets) {
    let supply = asset.pool.treasuryScaled;
    let borrow = 0n;
    for (const account of engine.state.accounts.values()) {
      for (const sub of account.subAccounts) {
        for (const p of sub.positions) {
          if (p.asset !== asset.index) continue;
          if (p.scaled > 0n) supply += p.scaled;
          else borrow -= p.scaled;
        }
      }
    }
    const symbol = asset.config.symbol;
    expect(asset.pool.supplyScaled, `${where}: ${symbol} supply`).toBe(supply);
    expect(asset.pool.borrowScaled, `${where}: ${symbol} borrows`).toBe(borrow);
    expect(poolSurplusRayUnits(asset.pool) >= 0n, `${where}: ${symbol} solvent`).toBe(true);
  }
}
