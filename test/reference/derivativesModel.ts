/**
 * An independent reference model of Fulcrum's one margin account (docs/MARGIN.md): the lending
 * pools of `referenceModel.ts` with derivatives instruments and positions held in the same
 * sub-accounts, under one health. For the simulation test `simulationDerivatives.test.ts`.
 *
 * Nothing is imported from `src/`. From the lending model it takes only its documented pool
 * arithmetic (`accruedPool`, `parseUnits`, `RAY`); the lending commands are written again here,
 * because their margin check now reads the sub-account's derivatives too. Every command runs on
 * a copy of the state that replaces the state only when the command is accepted.
 *
 * Units (all exact bigints):
 * - sizes in 10^-8 units of the underlying, prices in 10^-18 quote, funding rates in 10^-12;
 * - a derivatives value (a position's quote, its value, unsettled profit, funding owed) is a
 *   numerator over 10^38 per quote unit, the product of those three grains, so a fill, a funding
 *   payment and a settlement are exact products (docs/DERIVATIVES.md, "The ledger");
 * - health sums are numerators over 10^54 per quote unit: a balance's amount × price × weight
 *   (ppm) brought to 30 decimals, a derivatives value × weight (ppm) × 10^10.
 *
 * Rules, as the model reads them (docs/MARGIN.md, docs/DERIVATIVES.md, the perp-*.jsonl scenarios):
 * - a fill of s (signed, + bought) for quote q = −s × price × 10^12: the funding the position owes
 *   since its last settlement, size × (cumulative funding − its funding), is realized (paid); a
 *   fill that grows the position adds s and q; one that shrinks it realizes the closed part's
 *   result, the part left open keeping its share of the old quote, old quote × new size / old
 *   size, rounded toward zero (the realized part takes the remainder); one that flips it closes
 *   the old side and opens the new one at the fill's price: the new side's quote is q × new size
 *   / s, rounded toward zero. Realized profit goes to the sub-account's unsettled profit.
 * - fees, whole base units of the settlement asset, go from each side's unsettled profit to the
 *   venue's account `@venue`.
 * - a fill's price lies within the venue's band of the mark: |price − mark| ≤ mark × band,
 *   rounded down; the buyer and the seller differ; a dated instrument trades only before its
 *   expiry and never once settled.
 * - settlement (losses first, then profits, each in the order buyer, seller, venue): a loss is
 *   paid in at once, ceil(−unsettled / unit) base units: from the sub-account's deposit (the
 *   scaled supply moves to the reserve `@settlement`; all of it when the deposit is taken whole,
 *   else ceil(amount × RAY / supplyIndex)), the rest as a borrow, ceil(rest × RAY / borrowIndex)
 *   of scaled debt against floor(rest × RAY / supplyIndex) of scaled supply credited to the
 *   reserve (the two cancel in the pool's cash; no cap, cash or borrowable flag stops it). A
 *   profit is paid out from the reserve, floor(unsettled / unit) base units and at most what the
 *   reserve holds: first as a repayment of the sub-account's borrow (a repay's rounding: the
 *   whole debt clears the scaled debt, a part removes floor(amount × RAY / borrowIndex); the
 *   reserve gives ceil(amount × RAY / supplyIndex), or all it has when the amount is all it
 *   holds), then as a deposit of floor(rest × RAY / supplyIndex) scaled (at most what the
 *   reserve has left), worth floor(scaled × supplyIndex / RAY): that is what was paid. What is
 *   not paid stays unsettled.
 * - funding: rate = (mark − index) / index to 10^-12, rounded toward zero, clamped to ±clamp; for
 *   every whole interval since funding was last paid the cumulative funding per size unit grows
 *   by rate × index, and the funding time moves by those intervals.
 * - expiry: the settlement price is the underlying's first price set at or after expiry; every
 *   position's value at it goes to unsettled profit, then settles: positions of negative value
 *   first, then the others, each pass in the order of account names and sub-account numbers.
 * - health per tier t (initial, liquidation-end, maintenance): C_t = Σ deposits × price_t ×
 *   assetWeight_t + derivatives' positive profit × profitWeight_t (instrument's weight for
 *   positions, 0.9 / 0.95 / 1 for unsettled profit), the initial tier's profit capped at
 *   floor(profitCap × the balances' own initial C); L_t = Σ debts × price_t × liabilityWeight_t +
 *   losses in full + requirements. Initial prices: deposits at min(oracle, stable), debts at
 *   max; the other tiers at the oracle. A perpetual's or future's requirement: |size| × mark ×
 *   ratio, rounded up to the value grain, the ratio max(base, 0.8 × base + premium × √units),
 *   at most 1, rounded up to parts per million. A long option's: its value at the mark (paid in
 *   full); a short option's: |size| × index × ratio + its value at the mark, the ratio from
 *   max(0.15 − out-of-the-money share, 0.1) for initial and 0.075 for maintenance, each
 *   size-adjusted the same way. Liquidation-end: the mean of initial and maintenance, rounded
 *   up. An option settles at its intrinsic value on the settlement price (strike to 10^-9).
 * - a fill's margin: each side meets initial margin after it (C_initial ≥ L_initial), or its
 *   position only shrank (not flipped) and its initial free collateral C − L did not fall (the
 *   state before the command, at the command's time). The insurance fund only shrinks positions.
 *   Withdrawals, borrows and transfers out meet initial margin with the derivatives included.
 *
 * Not modelled (the simulation does not send them): portfolio margin, oracles and
 * quotes, liquidation, takeovers, deleveraging, set-weights, set-volatility.
 */
import {
  accruedPool,
  asObject,
  asText,
  asWholeNumber as asWhole,
  ceilOf as ceilDiv,
  debtOf,
  floorOf as floorDiv,
  type ModelConfig,
  type ModelPool,
  parseUnits as lendingParseUnits,
  RAY,
  onlyFields,
  ratePerSecondOf,
  type Ref,
  Refused,
  refuse,
  supplyOf,
} from './referenceModel.js';

export { RAY, type ModelPool, type Ref };

/** Numerator units of a derivatives value per quote unit. */
export const VALUE_ONE = 10n ** 38n;
/** Size base units per unit of the underlying. */
export const SIZE_ONE = 10n ** 8n;
const PRICE_ONE = 10n ** 18n;
const RATE_ONE = 10n ** 12n;
const PPM = 1_000_000n;
/** Health numerators are over 10^54 per quote unit; a value × weight (10^44) needs 10^10 more. */
const VALUE_TO_HEALTH = 10n ** 10n;
const NORM_DECIMALS = 30;
const LARGEST_SIZE = 10n ** 20n;
const LARGEST_AMOUNT = 2n ** 128n - 1n;
const LARGEST_PRICE = 10n ** 30n;
const LARGEST_TIME = 253_402_300_799;
const LARGEST_SUB_ACCOUNT = 255;
const MOST_BALANCES = 16;
const MOST_ASSETS = 128;
const MOST_INSTRUMENTS = 1024;
const MOST_DERIVATIVE_POSITIONS = 32;
const FEWEST_POOL_DECIMALS = 6;
const DAY = 86_400;
const ACCOUNT_NAME = /^[A-Za-z0-9_.:@-]{1,64}$/;
const SYMBOL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;
const UNDERLYING = /^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$/;
const ASSET_SYMBOL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$/;
/** Unsettled profit counts at the default profit weights (docs/MARGIN.md). */
const UNSETTLED_WEIGHTS: Triple = [900_000n, 950_000n, 1_000_000n];
export const INSURANCE = '@insurance';
export const RESERVE = '@settlement';
export const VENUE = '@venue';
const SYSTEM_ACCOUNTS = [INSURANCE, RESERVE, VENUE];

const COMMANDS = [
  'list-asset',
  'set-price',
  'deposit',
  'withdraw',
  'borrow',
  'repay',
  'transfer',
  'accrue',
  'configure-venue',
  'list-instrument',
  'trade',
  'settle-funding',
  'expire',
  'set-mode',
  'settle-pnl',
];
/** Commands of the engine the model does not implement: the simulation never sends them. */
const NOT_MODELLED = [
  'set-weights',
  'quote',
  'configure-liquidation',
  'liquidate',
  'backstop',
  'resolve-bankruptcy',
  'liquidate-position',
  'deleverage',
  'set-volatility',
];

export type Tier = 0 | 1 | 2;
type Triple = readonly [bigint, bigint, bigint];
type Json = Record<string, unknown>;
type Amount = bigint | 'all';

export type ModelResult = { readonly ok: true } | { readonly ok: false; readonly code: string };

interface AssetEntry {
  /** The lending model's view of the listing (for its accrual). */
  readonly lending: ModelConfig;
  readonly assetWeights: Triple;
  readonly liabilityWeights: Triple;
  oracle: bigint;
  stable: bigint;
  pool: ModelPool;
}

export interface InstrumentTerms {
  readonly kind: 'perpetual' | 'future' | 'option';
  readonly symbol: string;
  readonly underlying: string;
  readonly initialPpm: bigint;
  readonly maintenancePpm: bigint;
  readonly premiumPpm: bigint;
  /** Perpetuals: seconds between payments and the clamp per interval (10^-12). */
  readonly intervalSeconds: number;
  readonly clamp: bigint;
  /** Futures and options: unix seconds. */
  readonly expiry: number | null;
  /** Options: the strike (10^-18 quote, read to 10^-9) and the right. */
  readonly strike: bigint | null;
  readonly right: 'call' | 'put' | null;
  readonly profitWeights: Triple;
  readonly penaltyPpm: bigint;
  readonly insurancePpm: bigint;
}

export interface ModelInstrument {
  readonly terms: InstrumentTerms;
  readonly asset: number;
  mark: bigint;
  fundingIndex: bigint;
  fundingAt: number;
  openInterest: bigint;
  settlementPrice: bigint | null;
  settled: boolean;
}

export interface ModelPosition {
  readonly instrument: number;
  readonly size: bigint;
  readonly quote: bigint;
  readonly funding: bigint;
}

export type Mode = 'cross' | 'isolated';

interface Holder {
  readonly ref: Ref;
  /** Asset index to signed scaled balance; zero balances are never kept. */
  readonly balances: Map<number, bigint>;
  mode: Mode;
  /** Sorted by instrument index. */
  positions: ModelPosition[];
  unsettled: bigint;
}

interface VenueRules {
  readonly timeJump: number;
  readonly settlementAsset: string;
  readonly tradeBand: bigint;
  readonly profitCap: bigint;
}

interface State {
  time: number;
  sequence: number;
  assets: AssetEntry[];
  instruments: ModelInstrument[];
  holders: Map<string, Holder>;
  venue: VenueRules;
  /** Σ of every settlement's amount (base units; + paid out, − paid in): conservation. */
  settledTotal: bigint;
  /** How often a payout repaid part of a borrow whose scaled debt did not move (a statistic). */
  idleRepayments: number;
}

/** The health figures of one sub-account: numerators over 10^54 per quote unit, per tier. */
export interface ModelHealth {
  readonly collateral: Triple;
  readonly liabilities: Triple;
}

// ---- arithmetic ---------------------------------------------------------------------------

function magnitude(x: bigint): bigint {
  return x < 0n ? -x : x;
}

function least(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** The smallest r with r × r ≥ n (Newton's method from above, exact for any size). */
function ceilSqrt(n: bigint): bigint {
  if (n <= 0n) return 0n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const next = (x + n / x) / 2n;
    if (next >= x) break;
    x = next;
  }
  // x is the floor of the square root.
  return x * x === n ? x : x + 1n;
}

/**
 * A size-adjusted margin ratio in ppm, for a base ratio of `base` / `per` ppm (a fraction: a
 * short option's share of the index is one): max(base, 0.8 × base + premium × √units), at most
 * 1, rounded up. With units = size / 10^8 the second term is 0.8·b + P·√size / 10^4 ppm: the
 * least k above it has 10^4·k·per − 8000·base ≥ √(per²·P²·size), so k = ceil((8000·base + r) /
 * (10^4·per)) with r the square root rounded up (exact).
 */
export function marginRatioPpm(
  base: bigint,
  premiumPpm: bigint,
  absSize: bigint,
  per = 1n,
): bigint {
  let ratio = ceilDiv(base, per);
  if (premiumPpm > 0n) {
    const root = ceilSqrt(per * per * premiumPpm * premiumPpm * absSize);
    const premium = ceilDiv(8_000n * base + root, 10_000n * per);
    if (premium > ratio) ratio = premium;
  }
  return ratio > PPM ? PPM : ratio;
}
/** The pool with its rate brought in line with its balances. */
function withRate(pool: ModelPool, config: ModelConfig): ModelPool {
  return { ...pool, ratePerSecond: ratePerSecondOf(pool, config) };
}

/** Pools accrued in copies, by the pool accrued and the time (a pool accrued in place is a new object). */
const accruedCopies = new WeakMap<ModelPool, { time: number; fields: string; pool: ModelPool }>();

/** The pool accrued to `time` (the same object when it is up to date; never changed here). */
function poolAt(asset: AssetEntry, time: number): ModelPool {
  const { pool } = asset;
  if (time <= pool.accruedAt) return pool;
  const fields = `${pool.accruedAt} ${pool.cash} ${pool.supplyScaled} ${pool.borrowScaled}`;
  const kept = accruedCopies.get(pool);
  if (kept !== undefined && kept.time === time && kept.fields === fields) return kept.pool;
  const accrued = accruedPool(withRate(pool, asset.lending), asset.lending, time);
  accruedCopies.set(pool, { time, fields, pool: accrued });
  return accrued;
}

// ---- decoding -----------------------------------------------------------------------------

/**
 * The lending model's decimal parser, its refusals (its own error class, with a `code`) turned
 * into this model's.
 */
function parseUnits(input: unknown, decimals: number, largest?: bigint): bigint {
  try {
    return lendingParseUnits(input, decimals, largest);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') refuse(code);
    throw error;
  }
}

function asPrice(input: unknown): bigint {
  if (input === undefined) refuse('invalid_field');
  const price = parseUnits(input, 18, LARGEST_PRICE);
  if (price === 0n) refuse('invalid_number');
  return price;
}

function asRef(raw: Json): Ref {
  const account = asText(raw.account);
  const subAccount =
    raw.subAccount === undefined ? 0 : asWhole(raw.subAccount, 0, LARGEST_SUB_ACCOUNT);
  return { account, subAccount };
}

function nestedRef(input: unknown): Ref {
  const raw = asObject(input);
  onlyFields(raw, ['account', 'subAccount']);
  return asRef(raw);
}

/** A decimal text as ppm (weights, ratios); `largest` in ppm. */
function asPpm(input: unknown, largest: bigint): bigint {
  return parseUnits(input, 6, largest);
}

interface AssetListing {
  readonly lending: ModelConfig;
  readonly assetWeights: Triple;
  readonly liabilityWeights: Triple;
}

/** An asset listing (the fields the simulation sends, with the engine's defaults and rules). */
function asAssetListing(input: unknown): AssetListing {
  const raw = asObject(input);
  onlyFields(raw, [
    'symbol',
    'decimals',
    'initialWeight',
    'maintenanceWeight',
    'initialLiabilityWeight',
    'maintenanceLiabilityWeight',
    'interest',
    'reserveFactor',
    'supplyCap',
    'borrowCap',
    'borrowable',
  ]);
  const symbol = asText(raw.symbol);
  const decimals = asWhole(raw.decimals, 0, 30);
  const weight = (name: string): bigint | undefined =>
    raw[name] === undefined ? undefined : asPpm(raw[name], 10n * PPM);
  const initial = weight('initialWeight') ?? refuse('invalid_field');
  const maintenance = weight('maintenanceWeight') ?? refuse('invalid_field');
  const initialLiability = weight('initialLiabilityWeight') ?? PPM;
  const maintenanceLiability = weight('maintenanceLiabilityWeight') ?? PPM;
  const interest = raw.interest === undefined ? undefined : asObject(raw.interest);
  if (interest !== undefined) {
    onlyFields(interest, ['baseRate', 'slope1', 'slope2', 'optimalUtilization']);
  }
  const rate = (name: string, fallback: bigint): bigint =>
    interest === undefined ? fallback : parseUnits(interest[name], 27);
  const cap = (value: unknown): bigint | null =>
    value === undefined || value === null ? null : parseUnits(value, decimals, LARGEST_AMOUNT);
  const reserveFactor = raw.reserveFactor === undefined ? 100_000n : asPpm(raw.reserveFactor, PPM);
  const lending: ModelConfig = {
    symbol,
    decimals,
    assetWeight: initial,
    liabilityWeight: initialLiability,
    reserveFactor,
    baseRate: rate('baseRate', RAY / 400n),
    slope1: rate('slope1', (RAY * 3n) / 100n),
    slope2: rate('slope2', (RAY * 3n) / 4n),
    kink: rate('optimalUtilization', (RAY * 4n) / 5n),
    supplyCap: cap(raw.supplyCap),
    borrowCap: cap(raw.borrowCap),
    borrowable: raw.borrowable === undefined ? true : raw.borrowable === true,
  };
  if (raw.borrowable !== undefined && typeof raw.borrowable !== 'boolean') refuse('invalid_field');
  const assetWeights: Triple = [initial, (initial + maintenance) / 2n, maintenance];
  const liabilityWeights: Triple = [
    initialLiability,
    (initialLiability + maintenanceLiability + 1n) / 2n,
    maintenanceLiability,
  ];
  if (!ASSET_SYMBOL.test(symbol)) refuse('invalid_config');
  if (maintenance > PPM || initial > assetWeights[1]) refuse('invalid_config');
  if (maintenanceLiability < PPM || initialLiability > 10n * PPM) refuse('invalid_config');
  if (initialLiability < maintenanceLiability) refuse('invalid_config');
  // A liquidation at the threshold must improve the account: weight × (1 + 5% penalty) < 1.
  if (maintenance * (PPM + 50_000n) >= PPM * PPM) refuse('invalid_config');
  return { lending, assetWeights, liabilityWeights };
}

interface InstrumentListing {
  readonly terms: InstrumentTerms;
}

/** A decimal text of at most `decimals` places as an integer of that many (a listing number). */
function asListingNumber(input: unknown, decimals: number): bigint {
  if (typeof input !== 'string' || input.length > 40) refuse('invalid_number');
  const match = /^(-?)(0|[1-9]\d*)(?:\.(\d+))?$/.exec(input);
  if (match === null) refuse('invalid_number');
  const negative = match[1] === '-';
  const fraction = match[3] ?? '';
  if (fraction.length > decimals)
    throw new Error(`model: ${input} has more than ${decimals} places`);
  const value = BigInt((match[2] ?? '0') + fraction.padEnd(decimals, '0'));
  return negative ? -value : value;
}

/** An instrument listing: a perpetual, a future or a European option. */
function asInstrumentListing(input: unknown): InstrumentListing {
  const raw = asObject(input);
  const kind = raw.kind;
  const common = [
    'kind',
    'symbol',
    'underlying',
    'initialMargin',
    'maintenanceMargin',
    'sizePremium',
    'profitWeight',
    'liquidationPenalty',
    'insuranceShare',
  ];
  if (typeof raw.symbol !== 'string' || typeof raw.underlying !== 'string') refuse('invalid_field');
  const symbol = raw.symbol;
  const underlying = raw.underlying;
  const initialPpm = asListingNumber(raw.initialMargin ?? '0.05', 6);
  const maintenancePpm = asListingNumber(raw.maintenanceMargin ?? '0.03', 6);
  const premiumPpm = asListingNumber(raw.sizePremium ?? '0', 6);
  let intervalSeconds = 0;
  let clamp = 0n;
  let expiry: number | null = null;
  let strike: bigint | null = null;
  let right: 'call' | 'put' | null = null;
  const expiryOf = (value: unknown): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) refuse('invalid_field');
    if (value < 0 || value > LARGEST_TIME) refuse('invalid_field');
    return value;
  };
  if (kind === 'perpetual') {
    onlyFields(raw, [...common, 'fundingIntervalSeconds', 'fundingClamp']);
    intervalSeconds = Number(asListingNumber(raw.fundingIntervalSeconds ?? '28800', 0));
    clamp = asListingNumber(raw.fundingClamp ?? '0.0075', 12);
  } else if (kind === 'future') {
    onlyFields(raw, [...common, 'expiry']);
    expiry = expiryOf(raw.expiry);
  } else if (kind === 'option') {
    onlyFields(raw, [...common, 'expiry', 'strike', 'right']);
    expiry = expiryOf(raw.expiry);
    // A strike has at most 9 decimals (options settle on it to 10^-9) and is above 0.
    if (typeof raw.strike === 'string' && /\.\d{10,}$/.test(raw.strike)) {
      refuse('too_many_decimals');
    }
    strike = asListingNumber(raw.strike, 9) * 10n ** 9n;
    if (strike <= 0n) refuse('invalid_number');
    if (raw.right !== 'call' && raw.right !== 'put') refuse('invalid_field');
    right = raw.right;
  } else {
    refuse('invalid_field');
  }
  // The contract's rules, then the engine's (weights, penalty).
  if (!SYMBOL.test(symbol) || !UNDERLYING.test(underlying)) refuse('invalid_config');
  if (!(maintenancePpm > 0n && maintenancePpm <= initialPpm && initialPpm <= PPM)) {
    refuse('invalid_config');
  }
  if (premiumPpm < 0n || premiumPpm > PPM) refuse('invalid_config');
  if (kind === 'perpetual') {
    if (intervalSeconds < 60 || intervalSeconds > DAY) refuse('invalid_config');
    if (clamp <= 0n || clamp > RATE_ONE / 10n) refuse('invalid_config');
  } else if (expiry === null || expiry <= 0) {
    refuse('invalid_config');
  }
  if (strike !== null && strike > 10n ** 33n) refuse('invalid_config');
  const ratio = (name: string, fallback: bigint): bigint =>
    raw[name] === undefined ? fallback : asPpm(raw[name], PPM);
  const profitInitial = ratio('profitWeight', 900_000n);
  const penaltyPpm = ratio('liquidationPenalty', 10_000n);
  const insurancePpm = ratio('insuranceShare', 200_000n);
  if (penaltyPpm >= maintenancePpm) refuse('invalid_config');
  return {
    terms: {
      kind,
      symbol,
      underlying,
      initialPpm,
      maintenancePpm,
      premiumPpm,
      intervalSeconds,
      clamp,
      expiry,
      strike,
      right,
      profitWeights: [profitInitial, (profitInitial + PPM) / 2n, PPM],
      penaltyPpm,
      insurancePpm,
    },
  };
}

type Decoded =
  | { type: 'list-asset'; time: number; listing: AssetListing; price: bigint }
  | { type: 'set-price'; time: number; symbol: string; price: bigint; stable: bigint | null }
  | { type: 'accrue'; time: number; asset: number }
  | { type: 'deposit' | 'borrow'; time: number; ref: Ref; asset: number; amount: bigint }
  | { type: 'withdraw' | 'repay'; time: number; ref: Ref; asset: number; amount: Amount }
  | { type: 'transfer'; time: number; from: Ref; to: Ref; asset: number; amount: Amount }
  | { type: 'configure-venue'; time: number; venue: VenueRules }
  | { type: 'list-instrument'; time: number; listing: InstrumentListing; price: bigint }
  | {
      type: 'trade';
      time: number;
      buyer: Ref;
      seller: Ref;
      instrument: number;
      size: bigint;
      price: bigint;
      fees: readonly [bigint, bigint];
    }
  | { type: 'settle-funding' | 'expire'; time: number; instrument: number }
  | { type: 'set-mode'; time: number; ref: Ref; mode: Mode }
  | { type: 'settle-pnl'; time: number; ref: Ref };

function assetNamed(state: State, symbol: unknown): number {
  const text = asText(symbol);
  const index = state.assets.findIndex((asset) => asset.lending.symbol === text);
  if (index < 0) refuse('unknown_asset');
  return index;
}

function instrumentNamed(state: State, symbol: unknown): number {
  const text = asText(symbol);
  const index = state.instruments.findIndex((i) => i.terms.symbol === text);
  if (index < 0) refuse('unknown_instrument');
  return index;
}

function settlementIndex(state: State): number {
  const index = state.assets.findIndex((a) => a.lending.symbol === state.venue.settlementAsset);
  if (index < 0) refuse('unknown_asset');
  return index;
}

function decode(state: State, input: unknown): Decoded {
  const raw = asObject(input);
  const type = asText(raw.type);
  if (NOT_MODELLED.includes(type)) throw new Error(`model: ${type} is not modelled`);
  if (!COMMANDS.includes(type)) refuse('unknown_command');
  const time = asWhole(raw.time, 0, LARGEST_TIME);
  const amountOf = (asset: number, allowAll: boolean): Amount => {
    if (allowAll && raw.amount === 'all') return 'all';
    if (raw.amount === undefined) refuse('invalid_field');
    const decimals = state.assets[asset]?.lending.decimals ?? 0;
    const value = parseUnits(raw.amount, decimals, LARGEST_AMOUNT);
    if (value === 0n) refuse('zero_amount');
    return value;
  };
  switch (type) {
    case 'list-asset':
      onlyFields(raw, ['type', 'time', 'config', 'price']);
      return { type, time, listing: asAssetListing(raw.config), price: asPrice(raw.price) };
    case 'set-price': {
      onlyFields(raw, ['type', 'time', 'asset', 'price', 'stablePrice']);
      const symbol = asText(raw.asset);
      if (!state.instruments.some((i) => i.terms.symbol === symbol)) assetNamed(state, symbol);
      const price = asPrice(raw.price);
      const stable = raw.stablePrice === undefined ? null : asPrice(raw.stablePrice);
      return { type, time, symbol, price, stable };
    }
    case 'accrue':
      onlyFields(raw, ['type', 'time', 'asset']);
      return { type, time, asset: assetNamed(state, raw.asset) };
    case 'deposit':
    case 'borrow': {
      onlyFields(raw, ['type', 'time', 'account', 'subAccount', 'asset', 'amount']);
      const asset = assetNamed(state, raw.asset);
      const ref = asRef(raw);
      const amount = amountOf(asset, false);
      if (amount === 'all') throw new Error('model: unreachable');
      return { type, time, ref, asset, amount };
    }
    case 'withdraw':
    case 'repay': {
      onlyFields(raw, ['type', 'time', 'account', 'subAccount', 'asset', 'amount']);
      const asset = assetNamed(state, raw.asset);
      const ref = asRef(raw);
      return { type, time, ref, asset, amount: amountOf(asset, true) };
    }
    case 'transfer': {
      onlyFields(raw, ['type', 'time', 'from', 'to', 'asset', 'amount']);
      const asset = assetNamed(state, raw.asset);
      const from = nestedRef(raw.from);
      const to = nestedRef(raw.to);
      return { type, time, from, to, asset, amount: amountOf(asset, true) };
    }
    case 'configure-venue': {
      onlyFields(raw, ['type', 'time', 'config']);
      const config = asObject(raw.config);
      onlyFields(config, ['timeJumpSecondsMax', 'settlementAsset', 'tradeBand', 'profitCap']);
      const base = state.venue;
      const venue: VenueRules = {
        timeJump:
          config.timeJumpSecondsMax === undefined
            ? base.timeJump
            : asWhole(config.timeJumpSecondsMax, 1, 3_650 * DAY),
        settlementAsset:
          config.settlementAsset === undefined
            ? base.settlementAsset
            : asText(config.settlementAsset),
        tradeBand: config.tradeBand === undefined ? base.tradeBand : asPpm(config.tradeBand, PPM),
        profitCap:
          config.profitCap === undefined ? base.profitCap : asPpm(config.profitCap, 10n * PPM),
      };
      if (!SYMBOL.test(venue.settlementAsset) || venue.tradeBand <= 0n) refuse('invalid_config');
      return { type, time, venue };
    }
    case 'list-instrument':
      onlyFields(raw, ['type', 'time', 'config', 'price']);
      return {
        type,
        time,
        listing: asInstrumentListing(raw.config),
        price: asPrice(raw.price),
      };
    case 'trade': {
      onlyFields(raw, [
        'type',
        'time',
        'buyer',
        'seller',
        'instrument',
        'size',
        'price',
        'buyerFee',
        'sellerFee',
      ]);
      const buyer = nestedRef(raw.buyer);
      const seller = nestedRef(raw.seller);
      const instrument = instrumentNamed(state, raw.instrument);
      const size = parseUnits(raw.size, 8, LARGEST_SIZE);
      const price = asPrice(raw.price);
      const fee = (value: unknown): bigint => {
        if (value === undefined) return 0n;
        const asset = state.assets[settlementIndex(state)];
        return parseUnits(value, asset?.lending.decimals ?? 0, LARGEST_AMOUNT);
      };
      const fees = [fee(raw.buyerFee), fee(raw.sellerFee)] as const;
      return { type, time, buyer, seller, instrument, size, price, fees };
    }
    case 'settle-funding':
    case 'expire':
      onlyFields(raw, ['type', 'time', 'instrument']);
      return { type, time, instrument: instrumentNamed(state, raw.instrument) };
    case 'set-mode': {
      onlyFields(raw, ['type', 'time', 'account', 'subAccount', 'mode']);
      const mode = asText(raw.mode);
      if (mode === 'portfolio') throw new Error('model: portfolio margin is not modelled');
      if (mode !== 'cross' && mode !== 'isolated') refuse('invalid_field');
      return { type, time, ref: asRef(raw), mode };
    }
    default:
      onlyFields(raw, ['type', 'time', 'account', 'subAccount']);
      return { type: 'settle-pnl', time, ref: asRef(raw) };
  }
}

/** A sub-account named by a command: its name's shape, and the venue's own accounts. */
function checkRef(ref: Ref): void {
  if (!ACCOUNT_NAME.test(ref.account)) refuse('invalid_field');
  if (ref.account.startsWith('@') && (ref.account !== INSURANCE || ref.subAccount !== 0)) {
    refuse('reserved_account');
  }
}

/** Checks of the command's own fields against the state's time and the account names. */
function check(state: State, command: Decoded): void {
  if (command.time < state.time) refuse('time_went_backwards');
  if (state.sequence > 0 && command.time - state.time > state.venue.timeJump) {
    refuse('time_jump_too_large');
  }
  switch (command.type) {
    case 'transfer':
      checkRef(command.from);
      checkRef(command.to);
      return;
    case 'trade':
      checkRef(command.buyer);
      checkRef(command.seller);
      if (command.size === 0n) refuse('invalid_number');
      return;
    case 'deposit':
    case 'borrow':
    case 'withdraw':
    case 'repay':
    case 'set-mode':
    case 'settle-pnl':
      checkRef(command.ref);
      return;
    default:
      return;
  }
}

// ---- state --------------------------------------------------------------------------------

function keyOf(ref: Ref): string {
  return `${ref.account}/${ref.subAccount}`;
}

function copyState(state: State): State {
  const holders = new Map<string, Holder>();
  for (const [key, h] of state.holders) {
    holders.set(key, {
      ref: h.ref,
      balances: new Map(h.balances),
      mode: h.mode,
      positions: [...h.positions],
      unsettled: h.unsettled,
    });
  }
  return {
    ...state,
    assets: state.assets.map((a) => ({ ...a, pool: { ...a.pool } })),
    instruments: state.instruments.map((i) => ({ ...i })),
    holders,
  };
}

/** The sub-account, created empty in the state if it holds nothing (removed when emptied). */
function holder(state: State, ref: Ref): Holder {
  const key = keyOf(ref);
  let found = state.holders.get(key);
  if (found === undefined) {
    found = {
      ref: { account: ref.account, subAccount: ref.subAccount },
      balances: new Map(),
      mode: 'cross',
      positions: [],
      unsettled: 0n,
    };
    state.holders.set(key, found);
  }
  return found;
}

/** Drops sub-accounts that hold nothing: no balance, no position, nothing unsettled, cross. */
function prune(state: State): void {
  for (const [key, h] of state.holders) {
    const bookEmpty = h.positions.length === 0 && h.unsettled === 0n && h.mode === 'cross';
    if (h.balances.size === 0 && bookEmpty) state.holders.delete(key);
  }
}

function scaledOf(state: State, ref: Ref, asset: number): bigint {
  return state.holders.get(keyOf(ref))?.balances.get(asset) ?? 0n;
}

function setScaled(state: State, ref: Ref, asset: number, scaled: bigint): void {
  const h = holder(state, ref);
  const had = h.balances.size;
  if (scaled === 0n) h.balances.delete(asset);
  else h.balances.set(asset, scaled);
  const system = ref.subAccount === 0 && SYSTEM_ACCOUNTS.includes(ref.account);
  const most = system ? MOST_ASSETS : MOST_BALANCES;
  if (h.balances.size > most && h.balances.size > had) refuse('limit_exceeded');
}

function assetAt(state: State, index: number): AssetEntry {
  const asset = state.assets[index];
  if (asset === undefined) throw new Error(`model: no asset ${index}`);
  return asset;
}

function instrumentAt(state: State, index: number): ModelInstrument {
  const instrument = state.instruments[index];
  if (instrument === undefined) throw new Error(`model: no instrument ${index}`);
  return instrument;
}

/** Accrues the stored pool to `time` (the first step of every pool operation). */
function accrue(state: State, index: number, time: number): AssetEntry {
  const asset = assetAt(state, index);
  asset.pool = { ...poolAt(asset, time) };
  return asset;
}

// ---- health -------------------------------------------------------------------------------

/** A position's value at its instrument's mark less the funding it owes (numerator). */
function valueOf(position: ModelPosition, instrument: ModelInstrument): bigint {
  const owed = position.size * (instrument.fundingIndex - position.funding);
  return position.size * instrument.mark * RATE_ONE + position.quote - owed;
}

/**
 * A position's requirements [initial, liquidation-end, maintenance] (numerators). A perpetual or
 * future: |size| × mark × its size-adjusted ratio, rounded up. A long option: its own value at
 * the mark (paid in full). A short option: |size| × index × ratio, rounded up, plus its value at
 * the mark; the initial ratio from max(0.15 − out-of-the-money share, 0.1) of the index (the
 * share (strike − index) / index for a call, (index − strike) / index for a put, when positive),
 * the maintenance ratio from 0.075, each size-adjusted. Liquidation-end: the mean, rounded up.
 */
function requirementsOf(
  position: ModelPosition,
  instrument: ModelInstrument,
  index: bigint,
): Triple {
  const { terms } = instrument;
  const absSize = magnitude(position.size);
  const markValue = absSize * instrument.mark * RATE_ONE;
  let initial: bigint;
  let maintenance: bigint;
  if (terms.kind !== 'option') {
    const initialRatio = marginRatioPpm(terms.initialPpm, terms.premiumPpm, absSize);
    const maintenanceRatio = marginRatioPpm(terms.maintenancePpm, terms.premiumPpm, absSize);
    initial = ceilDiv(markValue * initialRatio, PPM);
    maintenance = ceilDiv(markValue * maintenanceRatio, PPM);
  } else if (position.size > 0n) {
    initial = markValue;
    maintenance = markValue;
  } else {
    const strike = terms.strike ?? 0n;
    const beyond = terms.right === 'call' ? strike - index : index - strike;
    // In ppm of the index, over `index`: 150,000 − 10^6 × beyond / index, at least 100,000.
    let base = 150_000n * index - (beyond > 0n ? PPM * beyond : 0n);
    if (base < 100_000n * index) base = 100_000n * index;
    const indexValue = absSize * index * RATE_ONE;
    const initialRatio = marginRatioPpm(base, terms.premiumPpm, absSize, index);
    const maintenanceRatio = marginRatioPpm(75_000n, terms.premiumPpm, absSize);
    initial = ceilDiv(indexValue * initialRatio, PPM) + markValue;
    maintenance = ceilDiv(indexValue * maintenanceRatio, PPM) + markValue;
  }
  return [initial, ceilDiv(initial + maintenance, 2n), maintenance];
}

/** The three tiers of a sub-account's health at `time` (pools accrued in copies). */
function healthOf(state: State, ref: Ref, time: number): ModelHealth {
  const collateral: [bigint, bigint, bigint] = [0n, 0n, 0n];
  const liabilities: [bigint, bigint, bigint] = [0n, 0n, 0n];
  const h = state.holders.get(keyOf(ref));
  if (h === undefined) return { collateral: [0n, 0n, 0n], liabilities: [0n, 0n, 0n] };
  for (const [index, scaled] of h.balances) {
    const asset = assetAt(state, index);
    const pool = poolAt(asset, time);
    const norm = 10n ** BigInt(NORM_DECIMALS - asset.lending.decimals);
    if (scaled > 0n) {
      const amount = supplyOf(scaled, pool) * norm;
      const low = asset.oracle < asset.stable ? asset.oracle : asset.stable;
      collateral[0] += amount * low * asset.assetWeights[0];
      collateral[1] += amount * asset.oracle * asset.assetWeights[1];
      collateral[2] += amount * asset.oracle * asset.assetWeights[2];
    } else {
      const owed = debtOf(-scaled, pool) * norm;
      const high = asset.oracle > asset.stable ? asset.oracle : asset.stable;
      liabilities[0] += owed * high * asset.liabilityWeights[0];
      liabilities[1] += owed * asset.oracle * asset.liabilityWeights[1];
      liabilities[2] += owed * asset.oracle * asset.liabilityWeights[2];
    }
  }
  const profit: [bigint, bigint, bigint] = [0n, 0n, 0n];
  const owedValue: [bigint, bigint, bigint] = [0n, 0n, 0n];
  const gains = (value: bigint, weights: Triple) => {
    for (const t of [0, 1, 2] as const) {
      if (value > 0n) profit[t] += value * weights[t];
      else owedValue[t] -= value * PPM;
    }
  };
  gains(h.unsettled, UNSETTLED_WEIGHTS);
  for (const position of h.positions) {
    const instrument = instrumentAt(state, position.instrument);
    gains(valueOf(position, instrument), instrument.terms.profitWeights);
    const required = requirementsOf(position, instrument, assetAt(state, instrument.asset).oracle);
    for (const t of [0, 1, 2] as const) owedValue[t] += required[t] * PPM;
  }
  const cap = (collateral[0] * state.venue.profitCap) / PPM;
  for (const t of [0, 1, 2] as const) {
    let counted = profit[t] * VALUE_TO_HEALTH;
    if (t === 0 && counted > cap) counted = cap;
    collateral[t] += counted;
    liabilities[t] += owedValue[t] * VALUE_TO_HEALTH;
  }
  return { collateral, liabilities };
}

function freeInitial(health: ModelHealth): bigint {
  return health.collateral[0] - health.liabilities[0];
}

function requireInitialMargin(state: State, ref: Ref, time: number): void {
  if (freeInitial(healthOf(state, ref, time)) < 0n) refuse('insufficient_collateral');
}

// ---- settlement into the pools ------------------------------------------------------------

function unitValue(state: State, asset: number): bigint {
  return VALUE_ONE / 10n ** BigInt(assetAt(state, asset).lending.decimals);
}

/** Pays `amount` base units of the settlement asset from `ref` into the reserve. */
function payIn(state: State, ref: Ref, index: number, amount: bigint): void {
  const pool = assetAt(state, index).pool;
  let balance = scaledOf(state, ref, index);
  let rest = amount;
  let toReserve = 0n;
  if (balance > 0n) {
    const available = supplyOf(balance, pool);
    const taken = least(rest, available);
    const debit = taken === available ? balance : ceilDiv(taken * RAY, pool.supplyIndex);
    balance -= debit;
    toReserve += debit;
    rest -= taken;
  }
  if (rest > 0n) {
    const debt = ceilDiv(rest * RAY, pool.borrowIndex);
    const credit = floorDiv(rest * RAY, pool.supplyIndex);
    balance -= debt;
    pool.borrowScaled += debt;
    pool.supplyScaled += credit;
    toReserve += credit;
  }
  setScaled(state, ref, index, balance);
  if (toReserve !== 0n) {
    const reserve = { account: RESERVE, subAccount: 0 };
    setScaled(state, reserve, index, scaledOf(state, reserve, index) + toReserve);
  }
}

/** Pays up to `wanted` base units from the reserve to `ref`; returns what it paid. */
function payOut(state: State, ref: Ref, index: number, wanted: bigint): bigint {
  const reserve = { account: RESERVE, subAccount: 0 };
  const pool = assetAt(state, index).pool;
  const reserveScaled = scaledOf(state, reserve, index);
  if (reserveScaled <= 0n || wanted <= 0n) return 0n;
  const holds = supplyOf(reserveScaled, pool);
  const amount = least(wanted, holds);
  if (amount === 0n) return 0n;
  let balance = scaledOf(state, ref, index);
  let taken = 0n;
  let rest = amount;
  let paid = 0n;
  if (balance < 0n) {
    const owed = debtOf(-balance, pool);
    const repaid = least(rest, owed);
    const reduction = repaid === owed ? -balance : floorDiv(repaid * RAY, pool.borrowIndex);
    if (reduction === 0n) state.idleRepayments += 1;
    const debit = repaid === holds ? reserveScaled : ceilDiv(repaid * RAY, pool.supplyIndex);
    balance += reduction;
    pool.borrowScaled -= reduction;
    pool.supplyScaled -= debit;
    taken += debit;
    rest -= repaid;
    paid += repaid;
  }
  if (rest > 0n && balance >= 0n) {
    const credit = least(floorDiv(rest * RAY, pool.supplyIndex), reserveScaled - taken);
    balance += credit;
    taken += credit;
    paid += supplyOf(credit, pool);
  }
  if (taken === 0n) return 0n;
  setScaled(state, ref, index, balance);
  setScaled(state, reserve, index, reserveScaled - taken);
  return paid;
}

/**
 * Settles `ref`'s unsettled profit: a loss in full (rounded up), a profit as far as the reserve
 * holds (rounded down). The settlement pool is accrued first. Returns the amount settled (base
 * units; negative when paid in).
 */
function settle(state: State, ref: Ref, time: number): bigint {
  const h = state.holders.get(keyOf(ref));
  if (h === undefined || h.unsettled === 0n) return 0n;
  const index = settlementIndex(state);
  accrue(state, index, time);
  const unit = unitValue(state, index);
  let amount: bigint;
  if (h.unsettled < 0n) {
    const paid = ceilDiv(-h.unsettled, unit);
    payIn(state, ref, index, paid);
    amount = -paid;
  } else {
    amount = payOut(state, ref, index, h.unsettled / unit);
  }
  if (amount !== 0n) {
    holder(state, ref).unsettled -= amount * unit;
    state.settledTotal += amount;
  }
  return amount;
}

// ---- commands -----------------------------------------------------------------------------

/** Runs a command on `state` (a copy of `before`, which is left as it was). */
function run(state: State, input: unknown, before: State): ModelResult {
  try {
    const command = decode(state, input);
    check(state, command);
    execute(state, command, before);
    prune(state);
    state.time = command.time;
    state.sequence += 1;
    return { ok: true };
  } catch (error) {
    if (error instanceof Refused) return { ok: false, code: error.code };
    throw error;
  }
}

function execute(state: State, command: Decoded, before: State): void {
  const { time } = command;
  switch (command.type) {
    case 'list-asset':
      listAsset(state, command.listing, command.price, time);
      return;
    case 'set-price':
      setPrice(state, command.symbol, command.price, command.stable, time);
      return;
    case 'accrue':
      accrue(state, command.asset, time);
      return;
    case 'deposit':
      deposit(state, command.ref, command.asset, command.amount, time);
      return;
    case 'withdraw':
      withdraw(state, command.ref, command.asset, command.amount, time);
      return;
    case 'borrow':
      borrow(state, command.ref, command.asset, command.amount, time);
      return;
    case 'repay':
      repay(state, command.ref, command.asset, command.amount, time);
      return;
    case 'transfer':
      transfer(state, command.from, command.to, command.asset, command.amount, time);
      return;
    case 'configure-venue':
      state.venue = command.venue;
      return;
    case 'list-instrument':
      listInstrument(state, command.listing, command.price, time);
      return;
    case 'trade':
      trade(state, before, command);
      return;
    case 'settle-funding':
      settleFunding(state, command.instrument, time);
      return;
    case 'expire':
      expire(state, command.instrument, time);
      return;
    case 'set-mode': {
      if (command.ref.account === INSURANCE) refuse('reserved_account');
      const h = holder(state, command.ref);
      if (h.positions.length > 0) refuse('has_positions');
      h.mode = command.mode;
      return;
    }
    case 'settle-pnl': {
      const h = state.holders.get(keyOf(command.ref));
      if (h === undefined || h.unsettled === 0n) refuse('no_pnl');
      if (settle(state, command.ref, time) === 0n) refuse('no_pnl');
      return;
    }
  }
}

function listAsset(state: State, listing: AssetListing, price: bigint, time: number): void {
  const { symbol } = listing.lending;
  const taken =
    state.assets.some((a) => a.lending.symbol === symbol) ||
    state.instruments.some((i) => i.terms.symbol === symbol);
  if (taken) refuse('asset_already_listed');
  if (state.assets.length >= MOST_ASSETS) refuse('limit_exceeded');
  if (listing.lending.decimals < FEWEST_POOL_DECIMALS) refuse('invalid_config');
  const pool: ModelPool = {
    cash: 0n,
    supplyScaled: 0n,
    borrowScaled: 0n,
    treasuryScaled: 0n,
    supplyIndex: RAY,
    borrowIndex: RAY,
    ratePerSecond: 0n,
    accruedAt: time,
  };
  state.assets.push({
    lending: listing.lending,
    assetWeights: listing.assetWeights,
    liabilityWeights: listing.liabilityWeights,
    oracle: price,
    stable: price,
    pool: withRate(pool, listing.lending),
  });
}

function setPrice(
  state: State,
  symbol: string,
  price: bigint,
  stable: bigint | null,
  time: number,
): void {
  const instrument = state.instruments.find((i) => i.terms.symbol === symbol);
  if (instrument !== undefined) {
    // A mark has no stable price.
    if (stable !== null) refuse('invalid_field');
    instrument.mark = price;
    return;
  }
  const index = assetNamed(state, symbol);
  const asset = assetAt(state, index);
  asset.oracle = price;
  asset.stable = stable ?? price;
  // A dated instrument on it that reached its expiry takes its first price at or after it.
  for (const dated of state.instruments) {
    const { expiry } = dated.terms;
    if (dated.asset !== index || expiry === null || dated.settlementPrice !== null) continue;
    if (time >= expiry) dated.settlementPrice = settlementPriceOf(dated.terms, price);
  }
}

/** What a dated instrument settles at: a future at the index, an option at its intrinsic value. */
function settlementPriceOf(terms: InstrumentTerms, index: bigint): bigint {
  if (terms.kind !== 'option' || terms.strike === null) return index;
  const intrinsic = terms.right === 'call' ? index - terms.strike : terms.strike - index;
  return intrinsic > 0n ? intrinsic : 0n;
}

function deposit(state: State, ref: Ref, index: number, amount: bigint, time: number): void {
  const asset = accrue(state, index, time);
  const { pool, lending } = asset;
  const held = scaledOf(state, ref, index);
  if (held < 0n) refuse('asset_is_borrowed');
  const credit = floorDiv(amount * RAY, pool.supplyIndex);
  if (credit === 0n) refuse('zero_amount');
  const supplyScaled = pool.supplyScaled + credit;
  if (lending.supplyCap !== null && supplyOf(supplyScaled, pool) > lending.supplyCap) {
    refuse('supply_cap_exceeded');
  }
  setScaled(state, ref, index, held + credit);
  pool.cash += amount;
  pool.supplyScaled = supplyScaled;
}

function withdraw(state: State, ref: Ref, index: number, wanted: Amount, time: number): void {
  if (ref.account === INSURANCE) refuse('reserved_account');
  const { pool } = accrue(state, index, time);
  const held = scaledOf(state, ref, index);
  const available = held > 0n ? supplyOf(held, pool) : 0n;
  const amount = wanted === 'all' ? available : wanted;
  if (amount === 0n || amount > available) refuse('insufficient_balance');
  if (amount > pool.cash) refuse('insufficient_liquidity');
  const debit = amount === available ? held : ceilDiv(amount * RAY, pool.supplyIndex);
  setScaled(state, ref, index, held - debit);
  pool.cash -= amount;
  pool.supplyScaled -= debit;
  requireInitialMargin(state, ref, time);
}

function borrow(state: State, ref: Ref, index: number, amount: bigint, time: number): void {
  if (ref.account === INSURANCE) refuse('reserved_account');
  const { pool, lending } = accrue(state, index, time);
  if (!lending.borrowable) refuse('borrowing_disabled');
  const held = scaledOf(state, ref, index);
  if (held > 0n) refuse('asset_is_supplied');
  if (amount > pool.cash) refuse('insufficient_liquidity');
  const debt = ceilDiv(amount * RAY, pool.borrowIndex);
  const borrowScaled = pool.borrowScaled + debt;
  if (lending.borrowCap !== null && debtOf(borrowScaled, pool) > lending.borrowCap) {
    refuse('borrow_cap_exceeded');
  }
  setScaled(state, ref, index, held - debt);
  pool.cash -= amount;
  pool.borrowScaled = borrowScaled;
  requireInitialMargin(state, ref, time);
}

function repay(state: State, ref: Ref, index: number, wanted: Amount, time: number): void {
  const { pool } = accrue(state, index, time);
  const held = scaledOf(state, ref, index);
  if (held >= 0n) refuse('no_debt');
  const owed = debtOf(-held, pool);
  const amount = wanted === 'all' ? owed : wanted;
  if (amount > owed) refuse('repay_exceeds_debt');
  const reduction = amount === owed ? -held : floorDiv(amount * RAY, pool.borrowIndex);
  if (reduction === 0n) refuse('zero_amount');
  setScaled(state, ref, index, held + reduction);
  pool.cash += amount;
  pool.borrowScaled -= reduction;
}

function transfer(
  state: State,
  from: Ref,
  to: Ref,
  index: number,
  wanted: Amount,
  time: number,
): void {
  if (from.account === INSURANCE) refuse('reserved_account');
  if (from.account === to.account && from.subAccount === to.subAccount) refuse('same_account');
  const { pool } = accrue(state, index, time);
  const held = scaledOf(state, from, index);
  const available = held > 0n ? supplyOf(held, pool) : 0n;
  const amount = wanted === 'all' ? available : wanted;
  if (amount === 0n || amount > available) refuse('insufficient_balance');
  const moved = amount === available ? held : ceilDiv(amount * RAY, pool.supplyIndex);
  const targetHeld = scaledOf(state, to, index);
  if (targetHeld < 0n) refuse('asset_is_borrowed');
  setScaled(state, from, index, held - moved);
  setScaled(state, to, index, targetHeld + moved);
  requireInitialMargin(state, from, time);
}

function listInstrument(
  state: State,
  listing: InstrumentListing,
  price: bigint,
  time: number,
): void {
  const { terms } = listing;
  if (state.instruments.some((i) => i.terms.symbol === terms.symbol)) refuse('already_listed');
  if (state.assets.some((a) => a.lending.symbol === terms.symbol)) refuse('asset_already_listed');
  if (state.instruments.length >= MOST_INSTRUMENTS) refuse('limit_exceeded');
  const asset = assetNamed(state, terms.underlying);
  if (terms.expiry !== null && terms.expiry <= time) refuse('invalid_config');
  state.instruments.push({
    terms,
    asset,
    mark: price,
    fundingIndex: 0n,
    fundingAt: time,
    openInterest: 0n,
    settlementPrice: null,
    settled: false,
  });
}

/** What a fill did to one side. */
interface SideFill {
  readonly before: bigint;
  readonly after: bigint;
}

/**
 * Books a fill of `size` (signed) for `quote` (signed numerator) on `ref`'s position in
 * `index`, its realized profit (the closed part's, and the funding owed) to unsettled.
 */
function fillSide(state: State, ref: Ref, index: number, size: bigint, quote: bigint): SideFill {
  const instrument = instrumentAt(state, index);
  const h = holder(state, ref);
  if (h.mode === 'isolated' && h.positions.some((p) => p.instrument !== index)) {
    refuse('isolated_one_instrument');
  }
  const held = h.positions.find((p) => p.instrument === index);
  const oldSize = held?.size ?? 0n;
  const oldQuote = held?.quote ?? 0n;
  const fundingIndex = instrument.fundingIndex;
  let realized = held === undefined ? 0n : -(oldSize * (fundingIndex - held.funding));
  const newSize = oldSize + size;
  let newQuote: bigint;
  if (oldSize === 0n || oldSize > 0n === size > 0n) {
    newQuote = oldQuote + quote;
  } else if (newSize === 0n) {
    newQuote = 0n;
    realized += oldQuote + quote;
  } else if (newSize > 0n === oldSize > 0n) {
    // Shrunk: the part left keeps its share of the old quote (bigint division: toward zero).
    newQuote = (oldQuote * newSize) / oldSize;
    realized += oldQuote + quote - newQuote;
  } else {
    // Flipped: the new side is what the fill paid for the part beyond the old size.
    newQuote = (quote * newSize) / size;
    realized += oldQuote + quote - newQuote;
  }
  const system = ref.account === INSURANCE;
  if (!system) {
    if (held === undefined && h.positions.length >= MOST_DERIVATIVE_POSITIONS) {
      refuse('limit_exceeded');
    }
    if (magnitude(newSize) > LARGEST_SIZE && magnitude(newSize) > magnitude(oldSize)) {
      refuse('limit_exceeded');
    }
  }
  const others = h.positions.filter((p) => p.instrument !== index);
  if (newSize !== 0n) {
    others.push({ instrument: index, size: newSize, quote: newQuote, funding: fundingIndex });
    others.sort((a, b) => a.instrument - b.instrument);
  }
  h.positions = others;
  h.unsettled += realized;
  return { before: oldSize, after: newSize };
}

function trade(state: State, before: State, command: Extract<Decoded, { type: 'trade' }>): void {
  const { time, buyer, seller, size, price } = command;
  const instrument = instrumentAt(state, command.instrument);
  const { expiry } = instrument.terms;
  if (instrument.settled || (expiry !== null && time >= expiry)) refuse('instrument_expired');
  if (buyer.account === seller.account && buyer.subAccount === seller.subAccount) {
    refuse('same_account');
  }
  const band = (instrument.mark * state.venue.tradeBand) / PPM;
  if (magnitude(price - instrument.mark) > band) refuse('price_out_of_band');
  const settlement = settlementIndex(state);
  accrue(state, settlement, time);
  const unit = unitValue(state, settlement);
  const paid = size * price * RATE_ONE;
  const fills = [
    fillSide(state, buyer, command.instrument, size, -paid),
    fillSide(state, seller, command.instrument, -size, paid),
  ] as const;
  const [buyerFee, sellerFee] = command.fees;
  const venue = { account: VENUE, subAccount: 0 };
  if (buyerFee > 0n) holder(state, buyer).unsettled -= buyerFee * unit;
  if (sellerFee > 0n) holder(state, seller).unsettled -= sellerFee * unit;
  if (buyerFee + sellerFee > 0n) holder(state, venue).unsettled += (buyerFee + sellerFee) * unit;
  const longs = (s: bigint) => (s > 0n ? s : 0n);
  for (const side of fills) instrument.openInterest += longs(side.after) - longs(side.before);
  const parties = buyerFee + sellerFee > 0n ? [buyer, seller, venue] : [buyer, seller];
  const unsettled = (ref: Ref) => state.holders.get(keyOf(ref))?.unsettled ?? 0n;
  for (const ref of parties) if (unsettled(ref) < 0n) settle(state, ref, time);
  for (const ref of parties) if (unsettled(ref) > 0n) settle(state, ref, time);
  requireFillMargin(state, before, buyer, fills[0], time);
  requireFillMargin(state, before, seller, fills[1], time);
}

/** A side after a fill: initial margin, or a position that only shrank with free collateral kept. */
function requireFillMargin(
  state: State,
  before: State,
  ref: Ref,
  side: SideFill,
  time: number,
): void {
  const shrank =
    side.before !== 0n &&
    (side.after === 0n ||
      (side.after > 0n === side.before > 0n && magnitude(side.after) < magnitude(side.before)));
  if (ref.account === INSURANCE && !shrank) refuse('reserved_account');
  const after = freeInitial(healthOf(state, ref, time));
  if (after >= 0n) return;
  if (shrank && after >= freeInitial(healthOf(before, ref, time))) return;
  refuse('insufficient_collateral');
}

function settleFunding(state: State, index: number, time: number): void {
  const instrument = instrumentAt(state, index);
  const { terms } = instrument;
  if (terms.kind !== 'perpetual') refuse('not_perpetual');
  if (time < instrument.fundingAt + terms.intervalSeconds) refuse('funding_not_due');
  const spot = assetAt(state, instrument.asset).oracle;
  // Rounded toward zero (bigint division), then clamped.
  let rate = ((instrument.mark - spot) * RATE_ONE) / spot;
  if (rate > terms.clamp) rate = terms.clamp;
  if (rate < -terms.clamp) rate = -terms.clamp;
  const intervals = Math.floor((time - instrument.fundingAt) / terms.intervalSeconds);
  instrument.fundingIndex += rate * spot * BigInt(intervals);
  instrument.fundingAt += intervals * terms.intervalSeconds;
}

function expire(state: State, index: number, time: number): void {
  const instrument = instrumentAt(state, index);
  const { expiry } = instrument.terms;
  if (expiry === null) refuse('not_expiring');
  if (time < expiry) refuse('not_expired');
  if (instrument.settled) refuse('instrument_settled');
  const price = instrument.settlementPrice;
  if (price === null) refuse('no_price');
  const holders = [...state.holders.values()]
    .filter((h) => h.positions.some((p) => p.instrument === index))
    .sort((a, b) =>
      a.ref.account === b.ref.account
        ? a.ref.subAccount - b.ref.subAccount
        : a.ref.account < b.ref.account
          ? -1
          : 1,
    );
  const closed = holders.map((h) => {
    const position = h.positions.find((p) => p.instrument === index);
    if (position === undefined) throw new Error('model: unreachable');
    const value = position.size * price * RATE_ONE + position.quote;
    h.positions = h.positions.filter((p) => p !== position);
    h.unsettled += value;
    return { ref: h.ref, value };
  });
  for (const { ref, value } of closed) if (value < 0n) settle(state, ref, time);
  for (const { ref, value } of closed) if (value >= 0n) settle(state, ref, time);
  instrument.mark = price;
  instrument.settled = true;
  instrument.openInterest = 0n;
}

// ---- the model ----------------------------------------------------------------------------

export interface ModelHolding {
  readonly ref: Ref;
  /** Asset index and signed scaled balance, sorted by asset. */
  readonly balances: readonly (readonly [number, bigint])[];
  readonly mode: Mode;
  readonly positions: readonly ModelPosition[];
  readonly unsettled: bigint;
}

export class DerivativesModel {
  private state: State = {
    time: 0,
    sequence: 0,
    assets: [],
    instruments: [],
    holders: new Map(),
    venue: {
      timeJump: 366 * DAY,
      settlementAsset: 'USDC',
      tradeBand: 100_000n,
      profitCap: PPM,
    },
    settledTotal: 0n,
    idleRepayments: 0,
  };

  /** Applies one JSON command; the state changes only when it is accepted. */
  apply(input: unknown): ModelResult {
    const next = copyState(this.state);
    const result = run(next, input, this.state);
    if (result.ok) this.state = next;
    return result;
  }

  /** What `apply` would answer, nothing changed. */
  dryRun(input: unknown): ModelResult {
    return run(copyState(this.state), input, this.state);
  }

  get time(): number {
    return this.state.time;
  }

  get sequence(): number {
    return this.state.sequence;
  }

  get assetCount(): number {
    return this.state.assets.length;
  }

  get instrumentCount(): number {
    return this.state.instruments.length;
  }

  get tradeBand(): bigint {
    return this.state.venue.tradeBand;
  }

  get idleRepayments(): number {
    return this.state.idleRepayments;
  }

  assetSymbol(index: number): string {
    return assetAt(this.state, index).lending.symbol;
  }

  decimals(index: number): number {
    return assetAt(this.state, index).lending.decimals;
  }

  assetConfig(index: number): ModelConfig {
    return assetAt(this.state, index).lending;
  }

  prices(index: number): { oracle: bigint; stable: bigint } {
    const { oracle, stable } = assetAt(this.state, index);
    return { oracle, stable };
  }

  /** The stored pool with its rate per second (which follows its balances). */
  pool(index: number): ModelPool {
    const asset = assetAt(this.state, index);
    return withRate(asset.pool, asset.lending);
  }

  /** An instrument as the model holds it (a copy). */
  instrument(index: number): ModelInstrument {
    return { ...instrumentAt(this.state, index) };
  }

  scaled(ref: Ref, asset: number): bigint {
    return scaledOf(this.state, ref, asset);
  }

  /** Signed amount in base units at `time`: supply rounded down, debt rounded up. */
  amountAt(ref: Ref, index: number, time: number): bigint {
    const scaled = this.scaled(ref, index);
    const pool = poolAt(assetAt(this.state, index), time);
    return scaled >= 0n ? supplyOf(scaled, pool) : -debtOf(-scaled, pool);
  }

  position(ref: Ref, instrument: number): ModelPosition | undefined {
    return this.state.holders.get(keyOf(ref))?.positions.find((p) => p.instrument === instrument);
  }

  mode(ref: Ref): Mode {
    return this.state.holders.get(keyOf(ref))?.mode ?? 'cross';
  }

  /** Every sub-account that holds something. */
  holdings(): ModelHolding[] {
    return [...this.state.holders.values()].map((h) => ({
      ref: h.ref,
      balances: [...h.balances.entries()].sort((a, b) => a[0] - b[0]),
      mode: h.mode,
      positions: h.positions,
      unsettled: h.unsettled,
    }));
  }

  /** The three tiers of a sub-account's health at the model's time. */
  health(ref: Ref): ModelHealth {
    return healthOf(this.state, ref, this.state.time);
  }

  /**
   * The model's own conservation, as lines (none when it holds): every instrument's sizes sum to
   * zero with its open interest their longs; Σ (quote + size × funding at last settlement) over
   * all positions + Σ unsettled + unit × Σ settled = 0 (value moves, it is never made); each
   * pool's scaled balances add up, the reserve never owes, and no pool's claims exceed its cash
   * and debts.
   */
  conservation(): string[] {
    const out: string[] = [];
    const { state } = this;
    let value = 0n;
    state.instruments.forEach((instrument, index) => {
      let sum = 0n;
      let longs = 0n;
      for (const h of state.holders.values()) {
        for (const p of h.positions) {
          if (p.instrument !== index) continue;
          sum += p.size;
          if (p.size > 0n) longs += p.size;
        }
      }
      if (sum !== 0n) out.push(`${instrument.terms.symbol}: sizes sum to ${sum}`);
      if (longs !== instrument.openInterest) {
        out.push(
          `${instrument.terms.symbol}: open interest ${instrument.openInterest}, longs ${longs}`,
        );
      }
    });
    for (const h of state.holders.values()) {
      value += h.unsettled;
      for (const p of h.positions) value += p.quote + p.size * p.funding;
    }
    const settlement = state.assets.findIndex(
      (a) => a.lending.symbol === state.venue.settlementAsset,
    );
    if (settlement >= 0) value += state.settledTotal * unitValue(state, settlement);
    if (value !== 0n) out.push(`derivatives value not conserved: ${value} (10^-38 quote)`);
    state.assets.forEach((asset, index) => {
      const { pool } = asset;
      let supplied = 0n;
      let owed = 0n;
      for (const h of state.holders.values()) {
        const scaled = h.balances.get(index) ?? 0n;
        if (scaled > 0n) supplied += scaled;
        else owed -= scaled;
      }
      const symbol = asset.lending.symbol;
      if (pool.supplyScaled !== supplied + pool.treasuryScaled) {
        out.push(`${symbol}: supplyScaled ${pool.supplyScaled} != ${supplied} + treasury`);
      }
      if (pool.borrowScaled !== owed)
        out.push(`${symbol}: borrowScaled ${pool.borrowScaled} != ${owed}`);
      const backing = pool.cash * RAY + pool.borrowScaled * pool.borrowIndex;
      if (backing < pool.supplyScaled * pool.supplyIndex) out.push(`${symbol}: pool insolvent`);
      if (scaledOf(state, { account: RESERVE, subAccount: 0 }, index) < 0n) {
        out.push(`${symbol}: the settlement reserve owes`);
      }
    });
    return out;
  }
}

/** A derivatives value (numerator over 10^38) in quote units, for messages. */
export function quoteUnits(value: bigint): number {
  return Number(value) / Number(VALUE_ONE);
}

/** A price as a decimal number, for messages. */
export function priceUnits(price: bigint): number {
  return Number(price) / Number(PRICE_ONE);
}

/** Size base units per unit. */
export const SIZE_UNIT = SIZE_ONE;
