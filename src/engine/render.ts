/**
 * Events and results as JSON: every bigint becomes an exact decimal string in its unit, by the
 * naming rule of `events.ts`.
 */
import { hasKeys, quoteJson } from '../domain/json.js';
import { formatDecimal } from '../math/decimal.js';
import { HEALTH_DECIMALS, PRICE_DECIMALS, RAY_DECIMALS, WEIGHT_DECIMALS } from '../math/fixed.js';
import type { CommandResult } from './apply.js';
import { SIZE_DECIMALS } from '../derivatives/instruments.js';

/** Decimals of a derivatives value numerator: VALUE_UNIT is 10^38 per quote unit. */
const VALUE_UNIT_DECIMALS = 38;
import type { EngineEvent } from './events.js';
import type { SubAccountRef } from './state.js';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Amount fields, each with the event field that holds its asset's decimals. */
const AMOUNT_FIELDS: Readonly<Record<string, string>> = {
  amount: 'decimals',
  interest: 'decimals',
  deficit: 'decimals',
  insuranceDraw: 'decimals',
  socialized: 'decimals',
  repaid: 'debtDecimals',
  seized: 'collateralDecimals',
  toLiquidator: 'collateralDecimals',
  toInsurance: 'collateralDecimals',
  soldToMarket: 'collateralDecimals',
  buyerFee: 'feeDecimals',
  sellerFee: 'feeDecimals',
};

/** Decimals of a bigint field by its name's ending, for fields that are not amounts. */
const SUFFIX_DECIMALS: readonly [string, number][] = [
  // Derivatives: sizes in 10^-8 units of the underlying, values over VALUE_UNIT (10^38) per
  // quote unit, funding rates in 10^-12.
  ['size', SIZE_DECIMALS],
  ['Value', VALUE_UNIT_DECIMALS],
  ['rate', 12],
  ['mark', PRICE_DECIMALS],
  ['Ray', RAY_DECIMALS],
  ['Wad', HEALTH_DECIMALS],
  ['Ppm', WEIGHT_DECIMALS],
  ['Price', PRICE_DECIMALS],
  ['price', PRICE_DECIMALS],
  ['confidence', PRICE_DECIMALS],
];

function renderField(key: string, value: unknown, event: Readonly<Record<string, unknown>>): Json {
  if (typeof value === 'bigint') {
    const decimalsField = AMOUNT_FIELDS[key];
    if (decimalsField !== undefined) return formatDecimal(value, Number(event[decimalsField] ?? 0));
    const suffix = SUFFIX_DECIMALS.find(([end]) => key.endsWith(end) || key === end);
    return suffix === undefined ? value.toString() : formatDecimal(value, suffix[1]);
  }
  if (Array.isArray(value)) return value.map((v) => renderField('', v, event));
  if (typeof value === 'object' && value !== null) {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderField(k, v, event);
    return out;
  }
  return value as Json;
}

/**
 * One event as JSON: amounts in whole units of their asset, prices in quote units, `*Ray`
 * fractions, `*Wad` health factors, `*Ppm` shares as plain decimals, scaled balances as integers.
 *
 * @example
 * renderEvent({ type: 'deposited', account: 'alice', subAccount: 0, asset: 'ETH', decimals: 18,
 *   amount: 10n ** 18n, scaledDelta: 10n ** 18n }); // { ..., amount: "1", scaledDelta: "1000000000000000000" }
 */
export function renderEvent(event: EngineEvent): { [key: string]: Json } {
  const fields = event as unknown as Readonly<Record<string, unknown>>;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(fields)) out[key] = renderField(key, value, fields);
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

/**
 * The events of a command as JSON text: exactly `JSON.stringify(events.map(renderEvent))`,
 * written directly for the events most commands emit (balance changes, prices, interest), which
 * the journal stores for every command; any other event goes through {@link renderEvent}.
 */
export function renderEventsJson(events: readonly EngineEvent[]): string {
  if (events.length === 0) return '[]';
  let text = '[';
  for (let i = 0; i < events.length; i++) {
    if (i > 0) text += ',';
    text += renderEventJson(events[i] as EngineEvent);
  }
  return `${text}]`;
}

/**
 * One event as JSON: the common kinds written directly when they have exactly the keys, in the
 * order, the engine builds them with (an event grown a field takes the general path until its
 * form is updated; a test compares both paths over every event the scenarios and a random
 * simulation emit).
 */
function renderEventJson(event: EngineEvent): string {
  switch (event.type) {
    case 'deposited':
    case 'withdrawn':
    case 'borrowed':
    case 'repaid':
      if (hasKeys(event, BALANCE_KEYS)) {
        return `{"type":"${event.type}","account":${quoteJson(event.account)},"subAccount":${event.subAccount},"asset":${quoteJson(event.asset)},"decimals":${event.decimals},"amount":"${formatDecimal(event.amount, event.decimals)}","scaledDelta":"${event.scaledDelta}"}`;
      }
      break;
    case 'price-set':
      if (hasKeys(event, PRICE_KEYS)) {
        return `{"type":"price-set","asset":${quoteJson(event.asset)},"price":"${formatDecimal(event.price, PRICE_DECIMALS)}","stablePrice":"${formatDecimal(event.stablePrice, PRICE_DECIMALS)}"}`;
      }
      break;
    case 'interest-accrued':
      if (hasKeys(event, INTEREST_KEYS)) {
        return `{"type":"interest-accrued","asset":${quoteJson(event.asset)},"decimals":${event.decimals},"seconds":${event.seconds},"interest":"${formatDecimal(event.interest, event.decimals)}","treasuryMintedScaled":"${event.treasuryMintedScaled}","supplyIndexRay":"${formatDecimal(event.supplyIndexRay, RAY_DECIMALS)}","borrowIndexRay":"${formatDecimal(event.borrowIndexRay, RAY_DECIMALS)}","utilizationRay":"${formatDecimal(event.utilizationRay, RAY_DECIMALS)}","borrowRateRay":"${formatDecimal(event.borrowRateRay, RAY_DECIMALS)}"}`;
      }
      break;
    case 'transferred':
      if (hasKeys(event, TRANSFER_KEYS)) {
        const from = refJson(event.from);
        const to = refJson(event.to);
        if (from === undefined || to === undefined) break;
        return `{"type":"transferred","from":${from},"to":${to},"asset":${quoteJson(event.asset)},"decimals":${event.decimals},"amount":"${formatDecimal(event.amount, event.decimals)}","scaled":"${event.scaled}"}`;
      }
      break;
    default:
      break;
  }
  return JSON.stringify(renderEvent(event));
}

const BALANCE_KEYS = [
  'type',
  'account',
  'subAccount',
  'asset',
  'decimals',
  'amount',
  'scaledDelta',
];
const PRICE_KEYS = ['type', 'asset', 'price', 'stablePrice'];
const TRANSFER_KEYS = ['type', 'from', 'to', 'asset', 'decimals', 'amount', 'scaled'];
const INTEREST_KEYS = [
  'type',
  'asset',
  'decimals',
  'seconds',
  'interest',
  'treasuryMintedScaled',
  'supplyIndexRay',
  'borrowIndexRay',
  'utilizationRay',
  'borrowRateRay',
];

const REF_KEYS = ['account', 'subAccount'];

/**
 * A sub-account reference as JSON, written directly; undefined when it has another shape (the
 * stored commands and the events take their general path then).
 */
export function refJson(ref: SubAccountRef): string | undefined {
  if (
    typeof ref !== 'object' ||
    ref === null ||
    typeof ref.account !== 'string' ||
    !Number.isSafeInteger(ref.subAccount) ||
    !hasKeys(ref, REF_KEYS)
  ) {
    return undefined;
  }
  return `{"account":${quoteJson(ref.account)},"subAccount":${ref.subAccount}}`;
}
