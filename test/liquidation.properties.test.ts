/**
 * Properties of the liquidation engine (fast-check, seeded) over random portfolios: 2 to 4 assets
 * with random weights, penalties and decimals that satisfy the listing rules, a target that
 * deposits some of them and borrows others close to its initial margin, time that passes (so
 * indices are not 1 and every rounding shows), a price move that leaves it anywhere from healthy
 * to bankrupt, random liquidation rules (close factor, full-close thresholds, dust, caps, the
 * backstop's market) and a few liquidation or backstop requests, asking 'max' or a random amount.
 *
 * After every request, accepted or not:
 * - a refusal changes nothing (state hash);
 * - each pool's exact surplus never falls, its scaled totals equal its accounts' balances, and
 *   each asset's total balance across all accounts moves only by what the pool's cash moved,
 *   which is nothing for a liquidator's liquidation and exactly the backstop's sale and repay;
 * - a liquidation moves value only between the target, the liquidator and the insurance fund,
 *   each part within a base unit of rounding of the event's figures;
 * - it never lowers maintenance health unless the account was bankrupt;
 * - it repays no more than the close factor allows unless full close applies (small or deeply
 *   unhealthy account) or the dust rule took a leftover whole, seizes exactly
 *   min(repay × price ratio × (1 + penalty) rounded down, held), and charges at most the listed
 *   penalty (less only where the guard's limit says so);
 * - it leaves the account at the liquidation-end target, fully closed, or clipped by a named
 *   limit (requested amount, close factor, the debt, collateral, throttle), and never repays
 *   more than the target needs; it leaves no dust behind that it could have taken;
 * - the throttle's counts never exceed the caps; the backstop acts only where it is needed and
 *   its sale raises no more than it repays.
 *
 * Replay a failure with the seed fast-check prints: `FC_SEED=... npx vitest run
 * test/liquidation.properties.test.ts`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AssetState,
  type BadDebtEvent,
  debtAmount,
  divCeil,
  divFloor,
  Engine,
  type EngineEvent,
  formatDecimal,
  type HealthSnapshot,
  INSURANCE_ACCOUNT,
  type LiquidationEvent,
  poolSurplusRayUnits,
  RAY,
  type SubAccountRef,
  supplyAmount,
  WEIGHT_SCALE,
} from '../src/index.js';
import { Draft } from '../src/engine/draft.js';
import { checkConserved } from './scenarioRunner.js';

const W = WEIGHT_SCALE;
/** Values (VALUE_SCALE) times this are value numerators: amount × valuePerUnit. */
const VALUE_DENOMINATOR = 10n ** 30n;
const SEED = Number(process.env.FC_SEED ?? 20_240_601);
const RUNS = Number(process.env.FC_RUNS ?? 1000);

const TARGET: SubAccountRef = { account: 'tina', subAccount: 0 };
const LIQUIDATOR: SubAccountRef = { account: 'liz', subAccount: 0 };
const LENDER: SubAccountRef = { account: 'lena', subAccount: 0 };
const BORROWER = 'bo';
const INSURANCE: SubAccountRef = { account: INSURANCE_ACCOUNT, subAccount: 0 };

// ---- random markets and portfolios ---------------------------------------------------------

type Infer<A> = A extends fc.Arbitrary<infer T> ? T : never;

/** Listing numbers in parts per million, chosen inside the listing rules. */
const assetArbitrary = fc.record({
  decimals: fc.constantFrom(6, 8, 18),
  /** Price in cents: one cent to $100,000. */
  priceCents: fc.oneof(
    fc.integer({ min: 1, max: 1_000 }),
    fc.integer({ min: 1_000, max: 10_000_000 }),
  ),
  maintenance: fc.integer({ min: 50_000, max: 950_000 }),
  /** Initial and liquidation-end weights as per-mille steps down from maintenance. */
  endStep: fc.integer({ min: 0, max: 1_000 }),
  initialStep: fc.integer({ min: 0, max: 1_000 }),
  /** Penalty as a per-mille share of the largest the listing rule allows (w × (1 + p) < 1). */
  penaltyShare: fc.integer({ min: 0, max: 1_000 }),
  insuranceShare: fc.constantFrom(0, 200_000, 500_000, 1_000_000),
  liabilityMaintenance: fc.constantFrom(1_000_000, 1_000_000, 1_100_000),
  liabilityStep: fc.constantFrom(0, 50_000, 250_000),
});

type AssetSpec = Infer<typeof assetArbitrary>;

function listing(symbol: string, spec: AssetSpec): Record<string, unknown> {
  const m = BigInt(spec.maintenance);
  const end = m - (m * BigInt(spec.endStep)) / 4_000n;
  const initial = end - (end * BigInt(spec.initialStep)) / 4_000n;
  // Largest penalty with m × (W + p) < W², capped at 25%.
  const largest = (W * W - 1n) / m - W;
  const cap = largest < 250_000n ? largest : 250_000n;
  const penalty = (cap * BigInt(spec.penaltyShare)) / 1_000n;
  const lm = BigInt(spec.liabilityMaintenance);
  const ls = BigInt(spec.liabilityStep);
  const ppm = (x: bigint) => formatDecimal(x, 6);
  return {
    symbol,
    decimals: spec.decimals,
    initialWeight: ppm(initial),
    liquidationEndWeight: ppm(end),
    maintenanceWeight: ppm(m),
    maintenanceLiabilityWeight: ppm(lm),
    liquidationEndLiabilityWeight: ppm(lm + ls),
    initialLiabilityWeight: ppm(lm + 2n * ls),
    liquidationPenalty: ppm(penalty),
    insuranceShare: ppm(BigInt(spec.insuranceShare)),
  };
}

const configArbitrary = fc.record({
  closeFactor: fc.constantFrom('0.5', '0.5', '0.25', '1', '0.000001'),
  fullCloseValue: fc.constantFrom('2000', '2000', '0', '1000000000'),
  fullCloseHealth: fc.constantFrom('0.95', '0.95', '0', '0.5'),
  dustValue: fc.constantFrom('100', '100', '0', '10000'),
  throttleWindowSeconds: fc.constant(60),
  accountCapValue: fc.oneof(
    fc.constant(null),
    fc.constant('1000000'),
    fc.integer({ min: 1, max: 50_000 }).map(String),
  ),
  globalCapValue: fc.oneof(
    fc.constant(null),
    fc.constant('25000000'),
    fc.integer({ min: 1, max: 80_000 }).map(String),
  ),
  backstopDepthValue: fc.constantFrom('1000000', '1000', '100000000'),
  backstopImpactMax: fc.constantFrom('0.5', '0.01', '0'),
});

const stepArbitrary = fc.record({
  kind: fc.constantFrom('liquidate', 'liquidate', 'liquidate', 'backstop'),
  /** Which debt and collateral (indexes into the target's, or any asset now and then). */
  debtPick: fc.nat(),
  collateralPick: fc.nat(),
  anyAsset: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))),
  /** 'max', one base unit, or a per-mille share of the debt (above 1000: more than owed). */
  amount: fc.oneof(
    fc.constant<'max'>('max'),
    fc.constant<'max'>('max'),
    fc.constant(0),
    fc.integer({ min: 1, max: 1_200 }),
  ),
  /** Seconds before the request: the same throttle window, or the next. */
  wait: fc.constantFrom(0, 0, 0, 61),
});

const scenarioArbitrary = fc.record({
  assets: fc.array(assetArbitrary, { minLength: 2, maxLength: 4 }),
  /** Role of each asset after the first two (0: collateral, 1: debt): 0 collateral, 1 debt, 2 none. */
  roles: fc.array(fc.constantFrom(0, 1, 2), { minLength: 2, maxLength: 2 }),
  depositDollars: fc.array(fc.integer({ min: 20, max: 3_000_000 }), {
    minLength: 4,
    maxLength: 4,
  }),
  /** Per-mille of the largest borrow the target may take, per debt. */
  borrowShare: fc.array(fc.integer({ min: 100, max: 1_000 }), { minLength: 4, maxLength: 4 }),
  elapsed: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 365 * 86_400 })),
  /** Maintenance health to move the target to (per mille), by scaling collateral prices. */
  healthAfterMove: fc.oneof(
    fc.integer({ min: 900, max: 1_000 }),
    fc.integer({ min: 900, max: 1_000 }),
    fc.integer({ min: 600, max: 950 }),
    fc.integer({ min: 200, max: 700 }),
    fc.integer({ min: 990, max: 1_050 }),
  ),
  /** Per-asset noise on the move (per mille). */
  jitter: fc.array(fc.integer({ min: 950, max: 1_050 }), { minLength: 4, maxLength: 4 }),
  config: configArbitrary,
  steps: fc.array(stepArbitrary, { minLength: 1, maxLength: 4 }),
});

type Scenario = Infer<typeof scenarioArbitrary>;

const SYMBOLS = ['A0', 'A1', 'A2', 'A3'];

function ok(engine: Engine, command: Record<string, unknown>): void {
  const result = engine.applyJson(command);
  if (!result.ok) {
    throw new Error(`setup refused ${JSON.stringify(command)}: ${result.error.message}`);
  }
}

/** Units of an asset worth `dollars` at `priceCents` (at least one). */
function unitsWorth(dollars: bigint, priceCents: number, decimals: number): bigint {
  const units = (dollars * 100n * 10n ** BigInt(decimals)) / BigInt(priceCents);
  return units > 0n ? units : 1n;
}

interface Market {
  readonly engine: Engine;
  readonly collaterals: string[];
  readonly debts: string[];
  time: number;
}

/** Lists the assets, funds the lender and the liquidator, builds the target and moves prices. */
function buildMarket(s: Scenario): Market | null {
  const engine = new Engine();
  const specs = s.assets;
  const roles = specs.map((_, i) => (i === 0 ? 0 : i === 1 ? 1 : (s.roles[i - 2] ?? 2)));
  specs.forEach((spec, i) => {
    const price = formatDecimal((BigInt(spec.priceCents) * 10n ** 18n) / 100n, 18);
    ok(engine, { type: 'list-asset', time: 0, config: listing(SYMBOLS[i] ?? '', spec), price });
  });
  specs.forEach((spec, i) => {
    const asset = SYMBOLS[i] ?? '';
    const deposit = (ref: SubAccountRef, dollars: bigint) =>
      ok(engine, {
        type: 'deposit',
        time: 0,
        ...ref,
        asset,
        amount: formatDecimal(unitsWorth(dollars, spec.priceCents, spec.decimals), spec.decimals),
      });
    deposit(LENDER, 5_000_000n);
    deposit(LIQUIDATOR, 10_000_000n);
    deposit({ account: BORROWER, subAccount: i % 2 }, 40_000_000n);
    if (roles[i] === 0) deposit(TARGET, BigInt(s.depositDollars[i] ?? 1_000));
  });
  // Another borrower owes every asset, so that every pool, collateral included, earns interest
  // and its supply index leaves 1: the ledger's rounding then shows. Best effort: a borrow
  // beyond its margin is simply refused.
  specs.forEach((spec, i) => {
    const amount = unitsWorth(1_000_000n, spec.priceCents, spec.decimals);
    const ref = { account: BORROWER, subAccount: 1 - (i % 2) };
    engine.apply({ type: 'borrow', time: 0, ...ref, asset: SYMBOLS[i] ?? '', amount });
  });
  const collaterals = SYMBOLS.filter((_, i) => roles[i] === 0);
  const debts: string[] = [];
  roles.forEach((role, i) => {
    if (role !== 1) return;
    const asset = SYMBOLS[i] ?? '';
    const max = engine.health(TARGET).positions.find((p) => p.symbol === asset)?.maxBorrow ?? 0n;
    const amount = (max * BigInt(s.borrowShare[i] ?? 1_000)) / 1_000n;
    if (amount <= 0n) return;
    const result = engine.apply({ type: 'borrow', time: 0, ...TARGET, asset, amount });
    if (result.ok) debts.push(asset);
  });
  if (debts.length === 0) return null;
  const market: Market = { engine, collaterals, debts, time: s.elapsed };
  accrueAll(market);
  // Scale every collateral price so that maintenance health lands near the chosen figure.
  const before = snapshot(engine, TARGET);
  const c = before.collateralNum('maintenance');
  const l = before.liabilityNum('maintenance');
  if (c === 0n || l === 0n) return null;
  engine.state.assets.forEach((asset, i) => {
    const noise = BigInt(s.jitter[i] ?? 1_000);
    const isCollateral = collaterals.includes(asset.config.symbol);
    const price = isCollateral
      ? (asset.risk.oraclePrice * BigInt(s.healthAfterMove) * l * noise) / (c * 1_000_000n)
      : (asset.risk.oraclePrice * noise) / 1_000n;
    const clamped = price < 1n ? 1n : price;
    ok(engine, {
      type: 'set-price',
      time: market.time,
      asset: asset.config.symbol,
      price: formatDecimal(clamped, 18),
    });
  });
  ok(engine, { type: 'configure-liquidation', time: market.time, config: s.config });
  return market;
}

/** Brings every pool to the market's time, so that a snapshot now is what a command sees. */
function accrueAll(market: Market): void {
  for (const asset of market.engine.state.assets) {
    ok(market.engine, { type: 'accrue', time: market.time, asset: asset.config.symbol });
  }
}

// ---- reading the state ---------------------------------------------------------------------

function snapshot(engine: Engine, ref: SubAccountRef): HealthSnapshot {
  return new Draft(engine.state, engine.state.time).health(ref);
}

function assetOf(engine: Engine, symbol: string): AssetState {
  const index = engine.state.assetIndex.get(symbol);
  const asset = index === undefined ? undefined : engine.state.assets[index];
  if (asset === undefined) throw new Error(`no asset ${symbol}`);
  return asset;
}

/** Signed balance of `ref` in `symbol`, base units (negative: owed). */
function balance(engine: Engine, ref: SubAccountRef, symbol: string): bigint {
  const asset = assetOf(engine, symbol);
  const sub = engine.state.accounts
    .get(ref.account)
    ?.subAccounts.find((s) => s.number === ref.subAccount);
  const scaled = sub?.positions.find((p) => p.asset === asset.index)?.scaled ?? 0n;
  return scaled >= 0n ? supplyAmount(scaled, asset.pool) : -debtAmount(-scaled, asset.pool);
}

/** Per asset: the sum of every account's signed balance and the treasury, the pool's cash and surplus, and how many balances there are. */
function books(engine: Engine) {
  return engine.state.assets.map((asset) => {
    let total = supplyAmount(asset.pool.treasuryScaled, asset.pool);
    let count = 1n;
    for (const account of engine.state.accounts.values()) {
      for (const sub of account.subAccounts) {
        for (const p of sub.positions) {
          if (p.asset !== asset.index) continue;
          total +=
            p.scaled > 0n ? supplyAmount(p.scaled, asset.pool) : -debtAmount(-p.scaled, asset.pool);
          count++;
        }
      }
    }
    return { total, count, cash: asset.pool.cash, surplus: poolSurplusRayUnits(asset.pool) };
  });
}

/** The throttle window of `time`, named by its start (unix seconds). */
function windowStart(time: number, length: number): number {
  return Math.floor(time / length) * length;
}

/** Debt value (VALUE_SCALE) the throttle still allows the target at `time`; null without caps. */
function throttleRoom(engine: Engine, time: number): bigint | null {
  const config = engine.state.liquidationConfig;
  const throttle = engine.state.liquidationThrottle;
  const fresh = throttle.window !== windowStart(time, config.throttleWindowSeconds);
  const used = (value: bigint | undefined) => (fresh ? 0n : (value ?? 0n));
  const rooms: bigint[] = [];
  if (config.accountCapValue !== null) {
    const key = `${TARGET.account}/${TARGET.subAccount}`;
    rooms.push(config.accountCapValue - used(throttle.accountValues.get(key)));
  }
  if (config.globalCapValue !== null) {
    rooms.push(config.globalCapValue - used(throttle.globalValue));
  }
  if (rooms.length === 0) return null;
  const room = rooms.reduce((a, b) => (a < b ? a : b));
  return room > 0n ? room : 0n;
}

/** The guard's largest penalty (as `penaltyLimit` documents it), from the listing and snapshot. */
function guardLimit(s: HealthSnapshot, debt: AssetState, collateral: AssetState): bigint | null {
  const w = collateral.config.assetWeight.maintenance;
  if (w === 0n) return null;
  const lw = debt.config.liabilityWeight.maintenance;
  return divFloor(lw * s.collateralNum('maintenance') * W, s.liabilityNum('maintenance') * w) - W;
}

// ---- what one request is checked against ---------------------------------------------------

interface Before {
  readonly hash: string;
  readonly snapshot: HealthSnapshot;
  readonly owed: bigint;
  readonly held: bigint;
  readonly debt: AssetState;
  readonly collateral: AssetState;
  readonly room: bigint | null;
  readonly books: ReturnType<typeof books>;
  readonly liquidatorDebt: bigint;
  readonly liquidatorCollateral: bigint;
  readonly insuranceCollateral: bigint;
}

/** Tallies of what the runs exercised, checked at the end so the properties are not vacuous. */
const seen = new Map<string, number>();
function tally(what: string): void {
  seen.set(what, (seen.get(what) ?? 0) + 1);
}

/** Allowed refusals of a well-formed liquidation or backstop request. */
const REFUSALS = new Set([
  'not_liquidatable',
  'liquidation_toxic',
  'liquidation_throttled',
  'liquidation_dust',
  'no_debt',
  'insufficient_balance',
  'backstop_not_needed',
  'insufficient_liquidity',
]);

function runStep(market: Market, step: Scenario['steps'][number]): void {
  const { engine } = market;
  if (step.wait > 0) {
    market.time += step.wait;
    accrueAll(market);
  }
  const pool = step.anyAsset ? SYMBOLS.slice(0, engine.state.assets.length) : undefined;
  const debtSymbol = (pool ?? market.debts)[step.debtPick % (pool ?? market.debts).length] ?? '';
  const collateralSymbol =
    (pool ?? market.collaterals)[step.collateralPick % (pool ?? market.collaterals).length] ?? '';
  const debt = assetOf(engine, debtSymbol);
  const collateral = assetOf(engine, collateralSymbol);
  const owedSigned = balance(engine, TARGET, debtSymbol);
  const heldSigned = balance(engine, TARGET, collateralSymbol);
  const before: Before = {
    hash: engine.hash(),
    snapshot: snapshot(engine, TARGET),
    owed: owedSigned < 0n ? -owedSigned : 0n,
    held: heldSigned > 0n ? heldSigned : 0n,
    debt,
    collateral,
    room: throttleRoom(engine, market.time),
    books: books(engine),
    liquidatorDebt: balance(engine, LIQUIDATOR, debtSymbol),
    liquidatorCollateral: balance(engine, LIQUIDATOR, collateralSymbol),
    insuranceCollateral: balance(engine, INSURANCE, collateralSymbol),
  };
  const amount =
    step.amount === 'max'
      ? ('max' as const)
      : step.amount === 0
        ? 1n
        : maxOne((before.owed * BigInt(step.amount)) / 1_000n);
  const common = {
    time: market.time,
    target: TARGET,
    debtAsset: debtSymbol,
    collateralAsset: collateralSymbol,
  };
  const result =
    step.kind === 'liquidate'
      ? engine.apply({ type: 'liquidate', liquidator: LIQUIDATOR, amount, ...common })
      : engine.apply({ type: 'backstop', ...common });
  if (!result.ok) {
    tally(`refused ${step.kind} ${result.error.code}`);
    expect(REFUSALS.has(result.error.code), result.error.code).toBe(true);
    expect(engine.hash(), 'a refusal changed the state').toBe(before.hash);
    return;
  }
  tally(`accepted ${step.kind}`);
  const event = result.events.find((e): e is LiquidationEvent => e.type === 'liquidation');
  expect(event).toBeDefined();
  if (event === undefined) return;
  const badDebts = result.events.filter((e): e is BadDebtEvent => e.type === 'bad-debt');
  if (badDebts.length > 0) tally('bad debt');
  checkBooks(engine, before, event, result.events);
  checkThrottle(engine, market.time);
  if (step.kind === 'liquidate') checkLiquidation(engine, before, event, amount, badDebts);
  else checkBackstop(engine, before, event);
}

/** Figures for a failure message. */
function show(figures: Record<string, unknown>): string {
  return JSON.stringify(figures, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function maxOne(x: bigint): bigint {
  return x > 0n ? x : 1n;
}

/**
 * Conservation: scaled totals, surpluses, cash moved only by the backstop's sale and repay, and
 * each asset's total across accounts moving with the cash up to one unit per balance rounded.
 */
function checkBooks(
  engine: Engine,
  before: Before,
  event: LiquidationEvent,
  events: readonly EngineEvent[],
): void {
  checkConserved(engine, 'after the liquidation');
  const after = books(engine);
  after.forEach((now, i) => {
    const was = before.books[i];
    if (was === undefined) return;
    expect(now.surplus >= was.surplus, 'a pool surplus fell').toBe(true);
    const symbol = engine.state.assets[i]?.config.symbol;
    const backstop = event.liquidator.account === '@backstop';
    let cashMove = 0n;
    if (symbol === event.debtAsset && backstop) cashMove += event.repaid;
    if (symbol === event.collateralAsset) cashMove -= event.soldToMarket;
    expect(now.cash - was.cash, `${symbol} cash`).toBe(cashMove);
    // Every signed balance is its exact share rounded toward the venue (by less than a unit),
    // and the exact total is cash − surplus: so the rounded total moves with the cash. A
    // write-off's index cut is rounded up, by less than a unit per RAY of scaled supply.
    const writtenOff = events.some((e) => e.type === 'bad-debt' && e.asset === symbol);
    const pool = engine.state.assets[i]?.pool;
    const cutSlack = writtenOff && pool !== undefined ? pool.supplyScaled / RAY + 1n : 0n;
    const slack = now.count + was.count + 1n + cutSlack;
    const drift = now.total - was.total - cashMove;
    expect(drift <= slack && drift >= -slack, `${symbol} total moved by ${drift}`).toBe(true);
  });
  // Write-offs bring the written-off debt to zero: the fund's draw and the lenders' loss.
  for (const e of events) {
    if (e.type !== 'bad-debt') continue;
    expect(e.insuranceDraw + e.socialized >= e.deficit).toBe(true);
    expect(e.insuranceDraw + e.socialized <= e.deficit + 1n).toBe(true);
    expect(e.supplyIndexAfterRay <= e.supplyIndexBeforeRay).toBe(true);
  }
}

function checkThrottle(engine: Engine, time: number): void {
  const config = engine.state.liquidationConfig;
  const throttle = engine.state.liquidationThrottle;
  expect(throttle.window).toBe(windowStart(time, config.throttleWindowSeconds));
  if (config.globalCapValue !== null) {
    expect(throttle.globalValue <= config.globalCapValue, 'global cap exceeded').toBe(true);
  }
  if (config.accountCapValue !== null) {
    for (const value of throttle.accountValues.values()) {
      expect(value <= config.accountCapValue, 'account cap exceeded').toBe(true);
    }
  }
}

function checkLiquidation(
  engine: Engine,
  before: Before,
  event: LiquidationEvent,
  requested: bigint | 'max',
  badDebts: readonly BadDebtEvent[],
): void {
  const { owed, held, debt, collateral, snapshot: s } = before;
  const config = engine.state.liquidationConfig;
  const vD = debt.risk.valuePerUnit;
  const vC = collateral.risk.valuePerUnit;
  const repay = event.repaid;
  const seized = event.seized;
  const p = event.penaltyPpm;
  const listed = collateral.config.liquidationPenalty;
  const after = snapshot(engine, TARGET);

  // The penalty: the listing's, or the guard's limit where that is lower.
  const limit = guardLimit(s, debt, collateral);
  expect(p <= listed, 'penalty above the listing').toBe(true);
  expect(p).toBe(limit === null || limit >= listed ? listed : limit);
  expect(event.penaltyReduced).toBe(p < listed);

  // Seizure: exactly the repay's worth plus the penalty, rounded down, and never beyond what is held.
  const seize = (x: bigint) => divFloor(x * vD * (W + p), vC * W);
  expect(repay > 0n && repay <= owed).toBe(true);
  expect(seized, 'seized').toBe(seize(repay) < held ? seize(repay) : held);
  const penaltyPart = divFloor(seized * p, W + p);
  expect(event.toInsurance).toBe(divFloor(penaltyPart * collateral.config.insuranceShare, W));
  expect(event.toLiquidator + event.toInsurance).toBe(seized);
  expect(event.soldToMarket).toBe(0n);

  // Every party moved by the event's figures, within a unit or two of rounding (index > 1).
  // The liquidator pays supply worth at least the debt removed (the whole debt's exact worth
  // may be a unit below its displayed amount, which rounds up), and carries the rounding.
  // A write-off of the debt asset that follows lowers the liquidator's supply too, as a lender.
  const paid = before.liquidatorDebt - balance(engine, LIQUIDATOR, debt.config.symbol);
  const borne = badDebts
    .filter((e) => e.asset === debt.config.symbol)
    .reduce((sum, e) => sum + e.socialized + 1n, 0n);
  expect(
    paid >= repay - 1n && paid <= repay + 3n + borne,
    `liquidator paid ${paid} for ${repay}`,
  ).toBe(true);
  const gained =
    balance(engine, LIQUIDATOR, collateral.config.symbol) - before.liquidatorCollateral;
  const funded = balance(engine, INSURANCE, collateral.config.symbol) - before.insuranceCollateral;
  // Each part within its rounding (the fund's scaled credit rounds down, the liquidator gets
  // the rest of what moved: up to a scaled unit's worth more, and when the whole balance moves,
  // the fraction of a unit the target's rounded-down reading hid), and together no more than
  // was seized.
  const parts = show({ gained, funded, event, held, owed });
  expect(funded <= event.toInsurance && funded >= event.toInsurance - 2n, parts).toBe(true);
  expect(gained <= event.toLiquidator + 2n && gained >= event.toLiquidator - 2n, parts).toBe(true);
  expect(gained + funded <= seized + 1n, `${gained} + ${funded} for ${seized}`).toBe(true);
  // The target's own rounding is in its favour: it loses at most the seizure (a unit or two
  // less, as balances read rounded down) and is left owing at most the debt less the repay.
  const heldAfter = balance(engine, TARGET, collateral.config.symbol);
  const lost = held - (heldAfter > 0n ? heldAfter : 0n);
  expect(lost <= seized && lost >= seized - 2n, `target lost ${lost} for ${seized}`).toBe(true);
  if (badDebts.length === 0) {
    const owedAfter = -balance(engine, TARGET, debt.config.symbol);
    const expected = owed - repay;
    expect(owedAfter <= expected && owedAfter >= expected - 2n, `left owing ${owedAfter}`).toBe(
      true,
    );
  }

  // Maintenance health never falls, unless the account was bankrupt (collateral < debt).
  const bankrupt = s.collateralValueNum < s.liabilityValueNum;
  if (!bankrupt && after.liabilityNum('maintenance') > 0n) {
    const lower =
      after.collateralNum('maintenance') * s.liabilityNum('maintenance') <
      s.collateralNum('maintenance') * after.liabilityNum('maintenance');
    expect(lower, 'maintenance health fell').toBe(false);
  }
  if (bankrupt) tally('bankrupt target');

  // The close factor, unless full close applies or the dust rule took a leftover whole.
  const closeCap = maxOne(divFloor(owed * config.closeFactor, W));
  const full =
    s.liabilityValue < config.fullCloseValue ||
    (s.healthFactor('maintenance') ?? 0n) < config.fullCloseHealth;
  const dust = config.dustValue * VALUE_DENOMINATOR;
  const debtDust = (owed - closeCap) * vD < dust;
  const collateralDust = (held - seize(closeCap)) * vC < dust;
  if (repay > closeCap) {
    expect(full || debtDust || collateralDust, 'repaid beyond the close factor').toBe(true);
    expect(event.fullClose).toBe(true);
    tally(full ? 'beyond close factor: full close' : 'beyond close factor: dust');
  }

  // Where it stops: at the end target, closed, or at a named limit, and then exactly at the
  // least of those limits (the dust rules aside, which take a debt or collateral whole).
  const byCollateral = divFloor(held * vC * W, vD * (W + p));
  const byThrottle = before.room === null ? null : divFloor(before.room * VALUE_DENOMINATOR, vD);
  const limits: [string, bigint | null][] = [
    ['requested', requested === 'max' ? null : requested],
    ['close factor', full ? null : closeCap],
    ['whole debt', owed],
    ['collateral', byCollateral],
    ['throttle', byThrottle],
  ];
  const least = limits.reduce((m, [, x]) => (x !== null && x < m ? x : m), owed);
  const clippedBy = limits.filter(([, x]) => x === repay).map(([name]) => name);
  if (seized === held) clippedBy.push('all collateral');
  const meetsEnd = after.collateralNum('liquidationEnd') >= after.liabilityNum('liquidationEnd');
  const closed = !after.hasDebt || after.collateralValueNum === 0n;
  if (!meetsEnd && !closed) {
    const figures = { owed, held, repay, seized, p, closeCap, byCollateral, byThrottle, requested };
    expect(clippedBy, `stopped short of the end target: ${show(figures)}`).not.toEqual([]);
    if (repay !== owed && seized !== held) {
      expect(repay, `not the least limit: ${show(figures)}`).toBe(least);
    }
    tally(`short of the end target: ${clippedBy.join(', ')}`);
  } else {
    tally(meetsEnd ? 'end target met' : 'closed');
  }
  if (repay > 0n && byThrottle !== null) {
    expect(repay <= byThrottle, 'beyond the throttle').toBe(true);
  }
  if (requested !== 'max') expect(repay <= requested, 'beyond the requested amount').toBe(true);

  // Never further than needed: short of the whole debt and collateral, the repay is at most the
  // least that restores liquidation-end health (rounded up).
  const shortfall = s.liabilityNum('liquidationEnd') - s.collateralNum('liquidationEnd');
  const gain =
    vD *
    (debt.config.liabilityWeight.liquidationEnd * W -
      (W + p) * collateral.config.assetWeight.liquidationEnd);
  if (repay < owed && seized < held && shortfall > 0n && gain > 0n) {
    expect(repay <= divCeil(shortfall * W, gain), 'repaid beyond the end target').toBe(true);
  }

  // Dust: a debt left worth less than the dust value, with the whole of it within the
  // collateral and the throttle, would have been taken whole (or the request refused).
  const left = owed - repay;
  const allFits = owed <= divFloor(held * vC * W, vD * (W + p)) && (byThrottle ?? owed) >= owed;
  if (left > 0n && left * vD < dust) {
    expect(allFits, `left ${left} of dust that could have been taken`).toBe(false);
    tally('debt dust left: collateral or throttle binds');
  }
  // Likewise collateral left worth less than the dust value, while debt remains: taking it all
  // (for its worth, or the whole debt if less) must have been beyond the throttle or the amount.
  const leftHeld = held - seized;
  if (leftHeld > 0n && leftHeld * vC < dust && repay < owed) {
    const forAll = minBig(owed, divCeil(held * vC * W, vD * (W + p)));
    const fits = forAll <= (byThrottle ?? forAll) && (requested === 'max' || forAll <= requested);
    expect(fits, `left ${leftHeld} of collateral dust that could have been taken`).toBe(false);
    tally('collateral dust left: throttle or amount binds');
  }
}

function checkBackstop(engine: Engine, before: Before, event: LiquidationEvent): void {
  const { owed, held, debt, collateral, snapshot: s } = before;
  const config = engine.state.liquidationConfig;
  const health = s.healthFactor('maintenance') ?? 0n;
  const limit = guardLimit(s, debt, collateral);
  expect(health < config.backstopHealth || (limit !== null && limit < 0n), 'not needed').toBe(true);
  expect(event.liquidator.account).toBe('@backstop');
  expect(event.toLiquidator).toBe(0n);
  expect(event.seized).toBe(event.soldToMarket + event.toInsurance);
  expect(event.seized <= held && event.repaid <= owed).toBe(true);
  expect(event.impactPpm <= config.backstopImpactMax).toBe(true);
  // What the sale raised at the impacted price covers the repay, and exceeds it by less than
  // one unit of collateral: the backstop sells no more of the target's collateral than it needs.
  const vD = debt.risk.valuePerUnit;
  const vC = collateral.risk.valuePerUnit;
  const raisedNum = event.soldToMarket * vC * (W - event.impactPpm);
  expect(raisedNum >= event.repaid * vD * W, 'repaid more than the sale raised').toBe(true);
  expect(
    raisedNum < (event.repaid + 1n) * vD * W + vC * W,
    `sold more than the repay needs: ${show({ owed, held, event, vC, vD })}`,
  ).toBe(true);
  // The fund takes the listed penalty on the repay, or (all collateral gone) what was left.
  const fullPenalty = divFloor(event.repaid * vD * collateral.config.liquidationPenalty, vC * W);
  if (event.seized < held) {
    expect(event.toInsurance, 'the backstop penalty').toBe(fullPenalty);
    expect(event.penaltyReduced).toBe(false);
  } else {
    expect(event.toInsurance <= fullPenalty, 'the backstop penalty').toBe(true);
  }
  if (event.soldToMarket === held) tally('backstop sold everything');
}

describe('liquidation properties over random portfolios', () => {
  it('liquidations and the backstop conserve value, respect every limit, refuse cleanly', () => {
    fc.assert(
      fc.property(scenarioArbitrary, (s) => {
        const market = buildMarket(s);
        fc.pre(market !== null);
        if (market === null) return;
        for (const step of s.steps) runStep(market, step);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // The runs reach the cases the properties are about, not only refusals.
    for (const what of [
      'accepted liquidate',
      'accepted backstop',
      'refused liquidate not_liquidatable',
      'refused liquidate liquidation_throttled',
      'refused backstop backstop_not_needed',
      'bad debt',
      'end target met',
      'beyond close factor: full close',
    ]) {
      expect(seen.get(what) ?? 0, what).toBeGreaterThanOrEqual(3);
    }
    const short = [...seen.keys()].filter((k) => k.startsWith('short of the end target'));
    expect(short.length, 'liquidations stopped by a limit').toBeGreaterThanOrEqual(2);
  });
});
