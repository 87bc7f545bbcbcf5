/**
 * An independent reference model of Fulcrum's lending engine, for the simulation test.
 *
 * Written from the documented rules with plain bigint arithmetic and nothing imported from
 * `src/`: it decodes the same JSON commands, keeps its own pools and scaled balances, and
 * decides margin with exact fractions over the product of the assets' 10^decimals (the engine
 * normalizes every asset to 10^30 instead). Every command runs on a copy of the state that
 * replaces the state only when the command is accepted.
 *
 * Rules (all divisions of non-negative numbers; "floor" and "ceil" say which way they round):
 * - accrual over dt seconds: growth = ceil(borrowIndex × rate × dt / RAY); interest =
 *   borrowScaled × growth; treasury = floor(interest × reserveFactor / 10^6); the supply index
 *   grows by floor((interest − treasury) / supplyScaled); the treasury is minted
 *   floor(treasuryShare / newSupplyIndex), treasuryShare being all interest when supplyScaled = 0.
 * - rate after each command that accrues a pool (all but listing and set-price): debt = ceil(borrowScaled × borrowIndex
 *   / RAY); u = ceil(debt × RAY / (cash + debt)); kinked curve rounded up; per second =
 *   ceil(annual / 31,536,000).
 * - supply amount = floor(scaled × supplyIndex / RAY), debt = ceil(scaled × borrowIndex / RAY).
 * - initial margin: Σ supply × min(oracle, stable) × assetWeight / 10^decimals >=
 *   Σ debt × max(oracle, stable) × liabilityWeight / 10^decimals, balances at the command time.
 */

export const RAY = 10n ** 27n;
const SECONDS_PER_YEAR = 31_536_000n;
const ONE_WEIGHT = 1_000_000n;
const LARGEST_AMOUNT = 2n ** 128n - 1n;
const LARGEST_PRICE = 10n ** 30n;
const LARGEST_TIME = 253_402_300_799;
const LARGEST_SUB_ACCOUNT = 255;
const MOST_POSITIONS = 16;
const FEWEST_POOL_DECIMALS = 6;
const MOST_ASSETS = 128;
const LONGEST_TEXT = 128;
const LONGEST_NUMBER_TEXT = 100;
const ACCOUNT_NAME = /^[A-Za-z0-9_.:@-]{1,64}$/;
const ACCOUNT_COMMAND_FIELDS = ['type', 'time', 'account', 'subAccount', 'asset', 'amount'];
const COMMAND_NAMES = [
  'list-asset',
  'set-price',
  'deposit',
  'withdraw',
  'borrow',
  'repay',
  'transfer',
  'accrue',
];

export interface ModelConfig {
  readonly symbol: string;
  readonly decimals: number;
  /** Initial-tier asset weight, parts per million. */
  readonly assetWeight: bigint;
  /** Initial-tier liability weight, parts per million. */
  readonly liabilityWeight: bigint;
  readonly reserveFactor: bigint;
  readonly baseRate: bigint;
  readonly slope1: bigint;
  readonly slope2: bigint;
  readonly kink: bigint;
  readonly supplyCap: bigint | null;
  readonly borrowCap: bigint | null;
  readonly borrowable: boolean;
}

export interface ModelPool {
  cash: bigint;
  supplyScaled: bigint;
  borrowScaled: bigint;
  treasuryScaled: bigint;
  supplyIndex: bigint;
  borrowIndex: bigint;
  ratePerSecond: bigint;
  accruedAt: number;
}

interface ModelAsset {
  readonly config: ModelConfig;
  oracle: bigint;
  stable: bigint;
  pool: ModelPool;
}

export interface Ref {
  readonly account: string;
  readonly subAccount: number;
}

interface ModelSubAccount {
  readonly ref: Ref;
  /** Asset index to signed scaled balance; zero balances are never kept. */
  readonly balances: Map<number, bigint>;
}

interface ModelState {
  time: number;
  sequence: number;
  assets: ModelAsset[];
  subAccounts: Map<string, ModelSubAccount>;
}

export type ModelResult = { readonly ok: true } | { readonly ok: false; readonly code: string };

type Json = Record<string, unknown>;
type Amount = bigint | 'all';

/** A refusal, with the engine's error code. */
export class Refused extends Error {
  readonly code: string;
  constructor(code: string) {
    super(code);
    this.code = code;
  }
}

export function refuse(code: string): never {
  throw new Refused(code);
}

// ---- arithmetic ---------------------------------------------------------------------------

export function floorOf(numerator: bigint, denominator: bigint): bigint {
  if (numerator < 0n || denominator <= 0n) throw new Error('model: negative division');
  return numerator / denominator;
}

export function ceilOf(numerator: bigint, denominator: bigint): bigint {
  if (numerator < 0n || denominator <= 0n) throw new Error('model: negative division');
  return (numerator + denominator - 1n) / denominator;
}

function lower(a: bigint, b: bigint): bigint {
  if (a < b) return a;
  return b;
}

function higher(a: bigint, b: bigint): bigint {
  if (a > b) return a;
  return b;
}

export function supplyOf(scaled: bigint, pool: ModelPool): bigint {
  return floorOf(scaled * pool.supplyIndex, RAY);
}

export function debtOf(scaled: bigint, pool: ModelPool): bigint {
  return ceilOf(scaled * pool.borrowIndex, RAY);
}

/** A pool's state accrued to `now` (a new object; the argument is not changed). */
export function accruedPool(pool: ModelPool, config: ModelConfig, now: number): ModelPool {
  if (now === pool.accruedAt) return { ...pool };
  if (now < pool.accruedAt) throw new Error('model: accrual backwards in time');
  if (pool.borrowScaled === 0n || pool.ratePerSecond === 0n) return { ...pool, accruedAt: now };
  const seconds = BigInt(now - pool.accruedAt);
  const growth = ceilOf(pool.borrowIndex * pool.ratePerSecond * seconds, RAY);
  const interest = pool.borrowScaled * growth;
  const treasury = floorOf(interest * config.reserveFactor, ONE_WEIGHT);
  let supplyIndex = pool.supplyIndex;
  let treasuryShare = interest;
  if (pool.supplyScaled > 0n) {
    supplyIndex = pool.supplyIndex + floorOf(interest - treasury, pool.supplyScaled);
    treasuryShare = treasury;
  }
  const minted = floorOf(treasuryShare, supplyIndex);
  return {
    ...pool,
    supplyScaled: pool.supplyScaled + minted,
    treasuryScaled: pool.treasuryScaled + minted,
    supplyIndex,
    borrowIndex: pool.borrowIndex + growth,
    accruedAt: now,
  };
}

/** Per-second borrow rate for the pool's current utilization. */
export function ratePerSecondOf(pool: ModelPool, config: ModelConfig): bigint {
  const debt = debtOf(pool.borrowScaled, pool);
  const utilization = debt === 0n ? 0n : ceilOf(debt * RAY, pool.cash + debt);
  let annual: bigint;
  if (utilization <= config.kink) {
    annual = config.baseRate + ceilOf(config.slope1 * utilization, config.kink);
  } else {
    annual =
      config.baseRate +
      config.slope1 +
      ceilOf(config.slope2 * (utilization - config.kink), RAY - config.kink);
  }
  return ceilOf(annual, SECONDS_PER_YEAR);
}

// ---- decoding -----------------------------------------------------------------------------

export function asObject(input: unknown): Json {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    refuse('invalid_field');
  }
  return input as Json;
}

export function onlyFields(raw: Json, allowed: readonly string[]): void {
  for (const key of Object.keys(raw)) if (!allowed.includes(key)) refuse('invalid_field');
}

export function asText(input: unknown): string {
  if (typeof input !== 'string' || input.length === 0 || input.length > LONGEST_TEXT) {
    refuse('invalid_field');
  }
  return input;
}

export function asWholeNumber(input: unknown, low: number, high: number): number {
  if (typeof input !== 'number' || !Number.isSafeInteger(input)) refuse('invalid_field');
  if (input < low || input > high) refuse('invalid_number');
  return input;
}

/** A non-negative decimal text to an integer of `decimals` places, the engine's refusal codes. */
export function parseUnits(input: unknown, decimals: number, largest?: bigint): bigint {
  if (typeof input !== 'string' || input.length > LONGEST_NUMBER_TEXT) refuse('invalid_number');
  const match = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/.exec(input);
  if (match === null || match[1] === '-') refuse('invalid_number');
  const whole = match[2] ?? '0';
  let fraction = match[3] ?? '';
  while (fraction.length > decimals) {
    if (!fraction.endsWith('0')) refuse('too_many_decimals');
    fraction = fraction.slice(0, -1);
  }
  while (fraction.length < decimals) fraction += '0';
  const value = BigInt(whole + fraction);
  if (largest !== undefined && value > largest) refuse('invalid_number');
  return value;
}

function parseRef(raw: Json): Ref {
  const account = asText(raw.account);
  const subAccount =
    raw.subAccount === undefined ? 0 : asWholeNumber(raw.subAccount, 0, LARGEST_SUB_ACCOUNT);
  return { account, subAccount };
}

function parseConfig(input: unknown): ModelConfig {
  const raw = asObject(input);
  const weight = (name: string): bigint | undefined =>
    raw[name] === undefined ? undefined : parseUnits(raw[name], 6);
  const liabilityBoth = weight('liabilityWeight') ?? ONE_WEIGHT;
  const interest = raw.interest === undefined ? undefined : asObject(raw.interest);
  const rate = (name: string, fallback: bigint): bigint =>
    interest === undefined ? fallback : parseUnits(interest[name], 27);
  const cap = (value: unknown, decimals: number): bigint | null =>
    value === undefined || value === null ? null : parseUnits(value, decimals);
  const decimals = asWholeNumber(raw.decimals, 0, 30);
  const initialWeight = weight('initialWeight');
  if (initialWeight === undefined) throw new Error('model: initialWeight is required');
  // A liquidation at the threshold must improve the account: weight × (1 + penalty) < 1.
  const maintenance = weight('maintenanceWeight') ?? ONE_WEIGHT;
  const penalty = weight('liquidationPenalty') ?? 50_000n;
  if (maintenance * (ONE_WEIGHT + penalty) >= ONE_WEIGHT * ONE_WEIGHT) refuse('invalid_config');
  return {
    symbol: asText(raw.symbol),
    decimals,
    assetWeight: initialWeight,
    liabilityWeight: weight('initialLiabilityWeight') ?? liabilityBoth,
    reserveFactor: weight('reserveFactor') ?? 100_000n,
    baseRate: rate('baseRate', RAY / 400n),
    slope1: rate('slope1', (RAY * 3n) / 100n),
    slope2: rate('slope2', (RAY * 3n) / 4n),
    kink: rate('optimalUtilization', (RAY * 4n) / 5n),
    supplyCap: cap(raw.supplyCap, decimals),
    borrowCap: cap(raw.borrowCap, decimals),
    borrowable: raw.borrowable === undefined ? true : raw.borrowable === true,
  };
}

type Decoded =
  | { type: 'list-asset'; time: number; config: ModelConfig; price: bigint }
  | { type: 'set-price'; time: number; asset: number; price: bigint; stable: bigint }
  | { type: 'accrue'; time: number; asset: number }
  | { type: 'deposit' | 'borrow'; time: number; ref: Ref; asset: number; amount: bigint }
  | { type: 'withdraw' | 'repay'; time: number; ref: Ref; asset: number; amount: Amount }
  | { type: 'transfer'; time: number; from: Ref; to: Ref; asset: number; amount: Amount };

function parsePrice(input: unknown): bigint {
  if (input === undefined) refuse('invalid_field');
  const price = parseUnits(input, 18, LARGEST_PRICE);
  if (price === 0n) refuse('invalid_number');
  return price;
}

// ---- the model ----------------------------------------------------------------------------

function refKey(ref: Ref): string {
  return `${ref.subAccount}|${ref.account}`;
}

function copyState(state: ModelState): ModelState {
  const subAccounts = new Map<string, ModelSubAccount>();
  for (const [key, sub] of state.subAccounts) {
    subAccounts.set(key, { ref: sub.ref, balances: new Map(sub.balances) });
  }
  return {
    time: state.time,
    sequence: state.sequence,
    assets: state.assets.map((asset) => ({ ...asset, pool: { ...asset.pool } })),
    subAccounts,
  };
}

/** Sum of fractions kept as numerator / denominator, compared by cross-multiplication. */
interface Fraction {
  numerator: bigint;
  denominator: bigint;
}

function plus(sum: Fraction, numerator: bigint, denominator: bigint): Fraction {
  if (sum.denominator === denominator) {
    return { numerator: sum.numerator + numerator, denominator };
  }
  return {
    numerator: sum.numerator * denominator + numerator * sum.denominator,
    denominator: sum.denominator * denominator,
  };
}

export class ReferenceModel {
  private state: ModelState = { time: 0, sequence: 0, assets: [], subAccounts: new Map() };

  /** Applies one JSON command; the state changes only when it is accepted. */
  apply(input: unknown): ModelResult {
    const next = copyState(this.state);
    const result = run(next, input);
    if (result.ok) this.state = next;
    return result;
  }

  /** What `apply` would answer, without changing anything. */
  dryRun(input: unknown): ModelResult {
    return run(copyState(this.state), input);
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

  config(asset: number): ModelConfig {
    return this.asset(asset).config;
  }

  /** Oracle and stable price, 18 decimals. */
  prices(asset: number): { oracle: bigint; stable: bigint } {
    const { oracle, stable } = this.asset(asset);
    return { oracle, stable };
  }

  /** The stored pool (a copy). */
  pool(asset: number): ModelPool {
    return { ...this.asset(asset).pool };
  }

  /** The pool as it would stand at `time`, nothing stored. */
  poolAt(asset: number, time: number): ModelPool {
    const { pool, config } = this.asset(asset);
    return accruedPool(pool, config, Math.max(time, pool.accruedAt));
  }

  /** Signed scaled balance (0n when none). */
  scaled(ref: Ref, asset: number): bigint {
    return this.state.subAccounts.get(refKey(ref))?.balances.get(asset) ?? 0n;
  }

  /** Signed amount in base units at `time`: supply rounded down, debt rounded up. */
  amountAt(ref: Ref, asset: number, time: number): bigint {
    const scaled = this.scaled(ref, asset);
    const pool = this.poolAt(asset, time);
    return scaled >= 0n ? supplyOf(scaled, pool) : -debtOf(-scaled, pool);
  }

  /** Every sub-account holding something, with balances sorted by asset index. */
  subAccounts(): { ref: Ref; balances: [number, bigint][] }[] {
    return [...this.state.subAccounts.values()].map(({ ref, balances }) => ({
      ref,
      balances: [...balances.entries()].sort((a, b) => a[0] - b[0]),
    }));
  }

  private asset(index: number): ModelAsset {
    const asset = this.state.assets[index];
    if (asset === undefined) throw new Error(`model: no asset ${index}`);
    return asset;
  }
}

function run(state: ModelState, input: unknown): ModelResult {
  try {
    const command = decode(state, input);
    check(state, command);
    execute(state, command);
    state.time = command.time;
    state.sequence += 1;
    return { ok: true };
  } catch (error) {
    if (error instanceof Refused) return { ok: false, code: error.code };
    throw error;
  }
}

function assetNamed(state: ModelState, symbol: unknown): number {
  const text = asText(symbol);
  const index = state.assets.findIndex((asset) => asset.config.symbol === text);
  if (index < 0) refuse('unknown_asset');
  return index;
}

function decode(state: ModelState, input: unknown): Decoded {
  const raw = asObject(input);
  const type = asText(raw.type);
  if (!COMMAND_NAMES.includes(type)) refuse('unknown_command');
  const time = asWholeNumber(raw.time, 0, LARGEST_TIME);
  const amountIn = (asset: number, allowAll: boolean): Amount => {
    if (allowAll && raw.amount === 'all') return 'all';
    if (raw.amount === undefined) refuse('invalid_field');
    const config = state.assets[asset]?.config;
    const value = parseUnits(raw.amount, config?.decimals ?? 0, LARGEST_AMOUNT);
    if (value === 0n) refuse('zero_amount');
    return value;
  };
  switch (type) {
    case 'list-asset': {
      onlyFields(raw, ['type', 'time', 'config', 'price']);
      const config = parseConfig(raw.config);
      return { type, time, config, price: parsePrice(raw.price) };
    }
    case 'set-price': {
      onlyFields(raw, ['type', 'time', 'asset', 'price', 'stablePrice']);
      const asset = assetNamed(state, raw.asset);
      const price = parsePrice(raw.price);
      const stable = raw.stablePrice === undefined ? price : parsePrice(raw.stablePrice);
      return { type, time, asset, price, stable };
    }
    case 'accrue': {
      onlyFields(raw, ['type', 'time', 'asset']);
      return { type, time, asset: assetNamed(state, raw.asset) };
    }
    case 'deposit':
    case 'borrow': {
      onlyFields(raw, ACCOUNT_COMMAND_FIELDS);
      const asset = assetNamed(state, raw.asset);
      const ref = parseRef(raw);
      const amount = amountIn(asset, false);
      if (amount === 'all') throw new Error('model: unreachable');
      return { type, time, ref, asset, amount };
    }
    case 'withdraw':
    case 'repay': {
      onlyFields(raw, ACCOUNT_COMMAND_FIELDS);
      const asset = assetNamed(state, raw.asset);
      const ref = parseRef(raw);
      return { type, time, ref, asset, amount: amountIn(asset, true) };
    }
    default: {
      onlyFields(raw, ['type', 'time', 'from', 'to', 'asset', 'amount']);
      const asset = assetNamed(state, raw.asset);
      const fromRaw = asObject(raw.from);
      onlyFields(fromRaw, ['account', 'subAccount']);
      const from = parseRef(fromRaw);
      const toRaw = asObject(raw.to);
      onlyFields(toRaw, ['account', 'subAccount']);
      const to = parseRef(toRaw);
      return { type: 'transfer', time, from, to, asset, amount: amountIn(asset, true) };
    }
  }
}

/** Checks that need the state but not the command's effect: time and account names. */
function check(state: ModelState, command: Decoded): void {
  if (command.time < state.time) refuse('time_went_backwards');
  const refs =
    command.type === 'transfer'
      ? [command.from, command.to]
      : 'ref' in command
        ? [command.ref]
        : [];
  for (const ref of refs) if (!ACCOUNT_NAME.test(ref.account)) refuse('invalid_field');
}

function execute(state: ModelState, command: Decoded): void {
  switch (command.type) {
    case 'list-asset':
      listAsset(state, command.time, command.config, command.price);
      return;
    case 'set-price': {
      const asset = assetAt(state, command.asset);
      asset.oracle = command.price;
      asset.stable = command.stable;
      return;
    }
    case 'accrue':
      updateRate(accrueStored(state, command.asset, command.time));
      return;
    case 'deposit':
      deposit(state, command.time, command.ref, command.asset, command.amount);
      return;
    case 'withdraw':
      withdraw(state, command.time, command.ref, command.asset, command.amount);
      return;
    case 'borrow':
      borrow(state, command.time, command.ref, command.asset, command.amount);
      return;
    case 'repay':
      repay(state, command.time, command.ref, command.asset, command.amount);
      return;
    case 'transfer':
      transfer(state, command);
      return;
  }
}

function assetAt(state: ModelState, index: number): ModelAsset {
  const asset = state.assets[index];
  if (asset === undefined) throw new Error(`model: no asset ${index}`);
  return asset;
}

function listAsset(state: ModelState, time: number, config: ModelConfig, price: bigint): void {
  if (state.assets.some((asset) => asset.config.symbol === config.symbol)) {
    refuse('asset_already_listed');
  }
  if (state.assets.length >= MOST_ASSETS) refuse('limit_exceeded');
  if (config.decimals < FEWEST_POOL_DECIMALS) refuse('invalid_config');
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
  pool.ratePerSecond = ratePerSecondOf(pool, config);
  state.assets.push({ config, oracle: price, stable: price, pool });
}

/** Accrues the stored pool to `time` (the first step of every pool command). */
function accrueStored(state: ModelState, index: number, time: number): ModelAsset {
  const asset = assetAt(state, index);
  asset.pool = accruedPool(asset.pool, asset.config, time);
  return asset;
}

function balanceOf(state: ModelState, ref: Ref, asset: number): bigint {
  return state.subAccounts.get(refKey(ref))?.balances.get(asset) ?? 0n;
}

function setBalance(state: ModelState, ref: Ref, asset: number, scaled: bigint): void {
  const key = refKey(ref);
  const balances = new Map(state.subAccounts.get(key)?.balances ?? []);
  if (scaled === 0n) balances.delete(asset);
  else balances.set(asset, scaled);
  if (balances.size > MOST_POSITIONS) refuse('limit_exceeded');
  if (balances.size === 0) state.subAccounts.delete(key);
  else
    state.subAccounts.set(key, {
      ref: { account: ref.account, subAccount: ref.subAccount },
      balances,
    });
}

function updateRate(asset: ModelAsset): void {
  asset.pool.ratePerSecond = ratePerSecondOf(asset.pool, asset.config);
}

function deposit(state: ModelState, time: number, ref: Ref, index: number, amount: bigint): void {
  const asset = accrueStored(state, index, time);
  const { pool, config } = asset;
  const held = balanceOf(state, ref, index);
  if (held < 0n) refuse('asset_is_borrowed');
  const credit = floorOf(amount * RAY, pool.supplyIndex);
  if (credit === 0n) refuse('zero_amount');
  const supplyScaled = pool.supplyScaled + credit;
  if (config.supplyCap !== null && supplyOf(supplyScaled, pool) > config.supplyCap) {
    refuse('supply_cap_exceeded');
  }
  setBalance(state, ref, index, held + credit);
  pool.cash += amount;
  pool.supplyScaled = supplyScaled;
  updateRate(asset);
}

function withdraw(state: ModelState, time: number, ref: Ref, index: number, wanted: Amount): void {
  const asset = accrueStored(state, index, time);
  const { pool } = asset;
  const held = balanceOf(state, ref, index);
  const available = held > 0n ? supplyOf(held, pool) : 0n;
  const amount = wanted === 'all' ? available : wanted;
  if (amount === 0n || amount > available) refuse('insufficient_balance');
  if (amount > pool.cash) refuse('insufficient_liquidity');
  const debit = amount === available ? held : ceilOf(amount * RAY, pool.supplyIndex);
  setBalance(state, ref, index, held - debit);
  pool.cash -= amount;
  pool.supplyScaled -= debit;
  updateRate(asset);
  requireInitialMargin(state, ref, time);
}

function borrow(state: ModelState, time: number, ref: Ref, index: number, amount: bigint): void {
  const asset = accrueStored(state, index, time);
  const { pool, config } = asset;
  if (!config.borrowable) refuse('borrowing_disabled');
  const held = balanceOf(state, ref, index);
  if (held > 0n) refuse('asset_is_supplied');
  if (amount > pool.cash) refuse('insufficient_liquidity');
  const debt = ceilOf(amount * RAY, pool.borrowIndex);
  const borrowScaled = pool.borrowScaled + debt;
  if (config.borrowCap !== null && debtOf(borrowScaled, pool) > config.borrowCap) {
    refuse('borrow_cap_exceeded');
  }
  setBalance(state, ref, index, held - debt);
  pool.cash -= amount;
  pool.borrowScaled = borrowScaled;
  updateRate(asset);
  requireInitialMargin(state, ref, time);
}

function repay(state: ModelState, time: number, ref: Ref, index: number, wanted: Amount): void {
  const asset = accrueStored(state, index, time);
  const { pool } = asset;
  const held = balanceOf(state, ref, index);
  if (held >= 0n) refuse('no_debt');
  const owed = debtOf(-held, pool);
  const amount = wanted === 'all' ? owed : wanted;
  if (amount > owed) refuse('repay_exceeds_debt');
  const reduction = amount === owed ? -held : floorOf(amount * RAY, pool.borrowIndex);
  if (reduction === 0n) refuse('zero_amount');
  setBalance(state, ref, index, held + reduction);
  pool.cash += amount;
  pool.borrowScaled -= reduction;
  updateRate(asset);
}

function transfer(
  state: ModelState,
  command: { time: number; from: Ref; to: Ref; asset: number; amount: Amount },
): void {
  const { time, from, to, asset: index } = command;
  if (from.account === to.account && from.subAccount === to.subAccount) refuse('same_account');
  const asset = accrueStored(state, index, time);
  const { pool } = asset;
  const held = balanceOf(state, from, index);
  const available = held > 0n ? supplyOf(held, pool) : 0n;
  const amount = command.amount === 'all' ? available : command.amount;
  if (amount === 0n || amount > available) refuse('insufficient_balance');
  const moved = amount === available ? held : ceilOf(amount * RAY, pool.supplyIndex);
  const targetHeld = balanceOf(state, to, index);
  if (targetHeld < 0n) refuse('asset_is_borrowed');
  setBalance(state, from, index, held - moved);
  setBalance(state, to, index, targetHeld + moved);
  updateRate(asset);
  requireInitialMargin(state, from, time);
}

/**
 * Initial margin with exact fractions: collateral Σ supply × min(oracle, stable) × weight /
 * 10^decimals against liabilities Σ debt × max(oracle, stable) × weight / 10^decimals. Pools the
 * command did not touch are accrued to `time` in a copy.
 */
function requireInitialMargin(state: ModelState, ref: Ref, time: number): void {
  let collateral: Fraction = { numerator: 0n, denominator: 1n };
  let liabilities: Fraction = { numerator: 0n, denominator: 1n };
  const balances = state.subAccounts.get(refKey(ref))?.balances ?? new Map<number, bigint>();
  for (const [index, scaled] of balances) {
    const asset = assetAt(state, index);
    const pool = accruedPool(asset.pool, asset.config, time);
    const unit = 10n ** BigInt(asset.config.decimals);
    if (scaled > 0n) {
      const low = lower(asset.oracle, asset.stable);
      const amount = supplyOf(scaled, pool);
      collateral = plus(collateral, amount * low * asset.config.assetWeight, unit);
    } else {
      const high = higher(asset.oracle, asset.stable);
      const owed = debtOf(-scaled, pool);
      liabilities = plus(liabilities, owed * high * asset.config.liabilityWeight, unit);
    }
  }
  const enough =
    collateral.numerator * liabilities.denominator >=
    liabilities.numerator * collateral.denominator;
  if (!enough) refuse('insufficient_collateral');
}
