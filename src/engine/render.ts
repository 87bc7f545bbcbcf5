/**
 * Events and results as JSON: every bigint becomes an exact decimal string in its unit, by the
 * naming rule of `events.ts` (amounts in whole units of the event's asset, prices in quote
 * units, `*Ray` fractions as plain decimals, scaled balances as integers).
 */
import { formatDecimal } from '../math/decimal.js';
import { PRICE_DECIMALS, RAY_DECIMALS } from '../math/fixed.js';
import type { CommandResult } from './apply.js';
import type { EngineEvent } from './events.js';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const AMOUNT_FIELDS = new Set(['amount', 'interest']);
const PRICE_FIELDS = new Set(['price', 'stablePrice']);

function renderField(key: string, value: unknown, decimals: number): Json {
  if (typeof value === 'bigint') {
    if (AMOUNT_FIELDS.has(key)) return formatDecimal(value, decimals);
    if (PRICE_FIELDS.has(key)) return formatDecimal(value, PRICE_DECIMALS);
    if (key.endsWith('Ray')) return formatDecimal(value, RAY_DECIMALS);
    return value.toString();
  }
  if (typeof value === 'object' && value !== null) {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderField(k, v, decimals);
    return out;
  }
  return value as Json;
}

/**
 * One event as JSON.
 *
 * @example
 * renderEvent({ type: 'deposited', account: 'alice', subAccount: 0, asset: 'ETH', decimals: 18,
 *   amount: 10n ** 18n, scaledDelta: 10n ** 18n }); // { ..., amount: "1", scaledDelta: "1000000000000000000" }
 */
export function renderEvent(event: EngineEvent): { [key: string]: Json } {
  const decimals = 'decimals' in event ? event.decimals : 0;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(event)) out[key] = renderField(key, value, decimals);
  return out;
}

/** A command result as JSON: accepted with its sequence and events, or the error. */
export function renderResult(result: CommandResult): { [key: string]: Json } {
  if (!result.ok) return { ok: false, error: result.error.toJSON() };
  return {
    ok: true,
    sequence: result.sequence,
    time: result.time,
    events: result.events.map(renderEvent),
  };
}
