/**
 * Liquidation commands on a draft: a liquidator's liquidation, the protocol backstop, the
 * bad-debt waterfall, and the venue's liquidation rules. Sizing is `liquidation/plan.ts`; here
 * the balances move: every collateral and debt unit goes somewhere recorded, scaled balances
 * move as they are, and the pools' solvency surplus never falls.
 */
import { FulcrumError } from '../base/errors.js';
import type { LiquidationConfig } from '../domain/liquidationConfig.js';
import { gradeAllows } from '../domain/priceGrade.js';
import { divCeil, divFloor, minBig, pow10, RAY, WEIGHT_SCALE } from '../math/fixed.js';
import { NORM_DECIMALS } from '../margin/assetRisk.js';
import { type LiquidationLeg, penaltyLimit, planLiquidation } from '../liquidation/plan.js';
import { gradeAt } from '../oracle/oracle.js';
import {
  debtAmount,
  scaledCreditForDeposit,
  scaledDebitForWithdraw,
  scaledDebtForRepay,
  supplyAmount,
  type PoolState,
} from '../pools/pool.js';
import type {
  BackstopCommand,
  ConfigureLiquidationCommand,
  LiquidateCommand,
  ResolveBankruptcyCommand,
} from './commands.js';
import type { Draft } from './draft.js';
import type { LiquidationEvent } from './events.js';
import { accountName, requireInitialMargin } from './lending.js';
import { scaledBalance, withScaledBalance } from './positions.js';
import {
  type AssetState,
  BACKSTOP_ACCOUNT,
  INSURANCE_ACCOUNT,
  positionLimit,
  type SubAccountRef,
} from './state.js';

const W = WEIGHT_SCALE;
const INSURANCE: SubAccountRef = { account: INSURANCE_ACCOUNT, subAccount: 0 };
const BACKSTOP: SubAccountRef = { account: BACKSTOP_ACCOUNT, subAccount: 0 };

export function configureLiquidation(draft: Draft, command: ConfigureLiquidationCommand): void {
  draft.setLiquidationConfig(command.config);
  draft.emit({ type: 'liquidation-configured' });
}

/** The target's legs and state, with every check a liquidation needs before it is sized. */
function prepare(
  draft: Draft,
  target: SubAccountRef,
  debtSymbol: string,
  collateralSymbol: string,
) {
  if (target.account === INSURANCE_ACCOUNT) {
    throw new FulcrumError('reserved_account', 'the insurance fund is not liquidated', 'target');
  }
  const debtAsset = draft.accruePool(draft.findAsset(debtSymbol, 'debtAsset').index);
  const collateralAsset = draft.accruePool(
    draft.findAsset(collateralSymbol, 'collateralAsset').index,
  );
  const sub = draft.subAccount(target);
  const debtScaled = scaledBalance(sub, debtAsset.index);
  const collateralScaled = scaledBalance(sub, collateralAsset.index);
  if (debtScaled >= 0n) {
    throw new FulcrumError('no_debt', `${accountName(target)} owes no ${debtSymbol}`, 'debtAsset');
  }
  if (collateralScaled <= 0n) {
    throw new FulcrumError(
      'insufficient_balance',
      `${accountName(target)} holds no ${collateralSymbol}`,
      'collateralAsset',
    );
  }
  requirePricesAllowLiquidation(draft, target, 'target');
  const debt: LiquidationLeg = {
    risk: debtAsset.risk,
    config: debtAsset.config,
    amount: debtAmount(-debtScaled, debtAsset.pool),
  };
  const collateral: LiquidationLeg = {
    risk: collateralAsset.risk,
    config: collateralAsset.config,
    amount: supplyAmount(collateralScaled, collateralAsset.pool),
  };
  return {
    debtAsset,
    collateralAsset,
    debtScaled,
    collateralScaled,
    debt,
    collateral,
    snapshot: draft.health(target),
  };
}

/** A liquidation's two legs and the target's state, as `prepare` checked them. */
type PreparedLeg = ReturnType<typeof prepare>;

/** Liquidation rests on every price of the account: each must have a grade that allows it. */
export function requirePricesAllowLiquidation(
  draft: Draft,
  ref: SubAccountRef,
  field: string,
): void {
  for (const { asset } of draft.subAccount(ref).positions) {
    const { oracle, config } = draft.asset(asset);
    if (oracle === null || config.oracle === null) continue;
    const grade = gradeAt(oracle, draft.time);
    if (!gradeAllows(config.oracle.policy, grade, 'liquidate')) {
      throw new FulcrumError(
        'price_unusable',
        `${config.symbol}'s price is ${grade}: no liquidation on it`,
        field,
      );
    }
  }
}

/**
 * The liquidator after a liquidation. It paid with its supply and received collateral worth
 * more, so it took on no debt; but one that owes something is checked against initial margin,
 * at prices whose grades allow liquidation. Neither the circuit breaker nor the grades that
 * stop new risk apply: a liquidation takes risk off the venue, and it must go on through the
 * very crash that trips the breaker. A liquidator that owes nothing needs no price at all.
 */
function requireLiquidatorMargin(draft: Draft, liquidator: SubAccountRef): void {
  if (!draft.subAccount(liquidator).positions.some((p) => p.scaled < 0n)) return;
  requirePricesAllowLiquidation(draft, liquidator, 'liquidator');
  requireInitialMargin(draft, liquidator, 'liquidator');
}

/** Debt value (VALUE_SCALE) the throttle window still allows for this target; null: no caps. */
export function throttleRoom(draft: Draft, target: SubAccountRef): bigint | null {
  const config = draft.liquidationConfig;
  const used = draft.throttleUsed(throttleKey(target));
  const rooms: bigint[] = [];
  if (config.accountCapValue !== null) rooms.push(config.accountCapValue - used.accountValue);
  if (config.globalCapValue !== null) rooms.push(config.globalCapValue - used.globalValue);
  if (rooms.length === 0) return null;
  const room = rooms.reduce(minBig);
  return room > 0n ? room : 0n;
}

/**
 * Counts a liquidation against the window's caps, across the venue and for the target, whether
 * or not a per-account cap is set now (one set later in the window sees what came before). The
 * draft changes one entry, it never copies the window's map, so a liquidation costs the same
 * however many came before it in the window.
 */
export function countThrottle(draft: Draft, target: SubAccountRef, value: bigint): void {
  draft.countThrottle(throttleKey(target), value);
}

function throttleKey(ref: SubAccountRef): string {
  return `${ref.account}/${ref.subAccount}`;
}

/**
 * A liquidator's liquidation: the liquidator's supply of the debt asset repays the target's
 * debt; the target's collateral goes to the liquidator (its bonus included) and the insurance
 * fund (its part of the penalty). Checked after: the liquidator's own margin and prices.
 */
export function liquidate(draft: Draft, command: LiquidateCommand): void {
  const { liquidator, target } = command;
  if (liquidator.account === target.account && liquidator.subAccount === target.subAccount) {
    throw new FulcrumError('same_account', 'an account cannot liquidate itself', 'liquidator');
  }
  if (liquidator.account === INSURANCE_ACCOUNT) {
    throw new FulcrumError(
      'reserved_account',
      'the insurance fund does not liquidate',
      'liquidator',
    );
  }
  const leg = prepare(draft, target, command.debtAsset, command.collateralAsset);
  const { debtAsset, collateralAsset, snapshot } = leg;
  const plan = planLiquidation({
    snapshot,
    debt: leg.debt,
    collateral: leg.collateral,
    requested: command.amount,
    config: draft.liquidationConfig,
    throttleRoom: throttleRoom(draft, target),
    ...(command.maxPenalty === undefined ? {} : { maxPenalty: command.maxPenalty }),
  });
  // The plan's figures are what the target gives and gets: its scaled debt falls by at least
  // the repay (rounded up, never past the whole debt) and its scaled collateral by at most the
  // seizure (rounded down), so that the liquidation-end target and the penalty guard hold on
  // the ledger as they do in the plan. The liquidator carries the rounding: it pays with
  // supply worth at least the debt removed, so the pool's surplus cannot fall.
  const debtPool = debtAsset.pool;
  const reduction =
    plan.repay === leg.debt.amount
      ? -leg.debtScaled
      : minBig(divCeil(plan.repay * RAY, debtPool.borrowIndexRay), -leg.debtScaled);
  const paid = divCeil(reduction * debtPool.borrowIndexRay, debtPool.supplyIndexRay);
  const paying = scaledBalance(draft.subAccount(liquidator), debtAsset.index);
  if (paying < paid) {
    const available = paying > 0n ? supplyAmount(paying, debtPool) : 0n;
    throw new FulcrumError(
      'insufficient_balance',
      `${accountName(liquidator)} supplies ${available} base units of ${debtAsset.config.symbol}; the liquidation repays ${plan.repay} (and up to a unit of rounding)`,
      'liquidator',
    );
  }
  draft.setSubAccount(
    liquidator,
    withScaledBalance(draft.subAccount(liquidator), debtAsset.index, paying - paid),
  );
  draft.setSubAccount(
    target,
    withScaledBalance(draft.subAccount(target), debtAsset.index, leg.debtScaled + reduction),
  );
  setPool(draft, debtAsset.index, (p) => ({
    ...p,
    supplyScaled: p.supplyScaled - paid,
    borrowScaled: p.borrowScaled - reduction,
  }));
  // The collateral moves as scaled supply: from the target to the liquidator and the fund.
  const taken = takeCollateral(
    draft,
    target,
    collateralAsset,
    plan.seized,
    leg.collateral.amount,
    'down',
  );
  const toInsurance = minBig(scaledCreditForDeposit(plan.toInsurance, collateralAsset.pool), taken);
  credit(draft, INSURANCE, collateralAsset, toInsurance);
  credit(draft, liquidator, collateralAsset, taken - toInsurance);
  countThrottle(draft, target, plan.repayValue);
  emitLiquidation(draft, command.target, liquidator, leg, plan, {
    toInsurance: plan.toInsurance,
    soldToMarket: 0n,
    impact: 0n,
    before: snapshot.healthFactor('maintenance'),
  });
  resolveIfBankrupt(draft, target);
  // Last: a bankruptcy may have cut the supply index of what the liquidator holds.
  requireLiquidatorMargin(draft, liquidator);
}

/**
 * The protocol backstop: for an account deep below maintenance (or one no penalty can help),
 * the engine sells the target's collateral into the market at a price with impact, repays the
 * debt with the proceeds, and gives the insurance fund the penalty. Whatever debt the
 * collateral cannot cover goes down the bad-debt waterfall.
 */
export function backstop(draft: Draft, command: BackstopCommand): void {
  const { target } = command;
  const leg = prepare(draft, target, command.debtAsset, command.collateralAsset);
  const { debtAsset, collateralAsset } = leg;
  const health = requireBackstopNeeded(leg, draft.liquidationConfig);
  const sale = sizeBackstopSale(leg, draft.liquidationConfig, throttleRoom(draft, target));
  const { repay, sold, toInsurance, fullPenalty } = sale;
  const cashOut = minBig(sold, collateralAsset.pool.cash);
  if (cashOut < sold) {
    throw new FulcrumError(
      'insufficient_liquidity',
      `the ${collateralAsset.config.symbol} pool has too little cash to sell ${sold} base units`,
      'collateralAsset',
    );
  }
  moveBackstopBalances(draft, target, leg, sale);
  const vD = debtAsset.risk.valuePerUnit;
  const vC = collateralAsset.risk.valuePerUnit;
  const penalty = collateralAsset.config.liquidationPenalty;
  countThrottle(draft, target, divCeil(repay * vD, pow10(NORM_DECIMALS)));
  emitLiquidation(
    draft,
    target,
    BACKSTOP,
    leg,
    {
      repay,
      seized: sold + toInsurance,
      // The fund's part is the penalty: the listing's, or what was left of the collateral.
      penalty:
        toInsurance === fullPenalty
          ? penalty
          : toInsurance === 0n
            ? 0n
            : divFloor(toInsurance * vC * W, repay * vD),
      penaltyReduced: toInsurance < fullPenalty,
      fullClose: repay === leg.debt.amount,
    },
    { toInsurance, soldToMarket: sold, impact: sale.impact, before: health },
  );
  resolveIfBankrupt(draft, target);
}

/**
 * Refuses a backstop the account does not need: one that meets maintenance, or one above the
 * backstop's health threshold that liquidators can still help. Returns the maintenance health.
 */
function requireBackstopNeeded(leg: PreparedLeg, config: LiquidationConfig): bigint {
  const { snapshot } = leg;
  const health = snapshot.healthFactor('maintenance') ?? 0n;
  const limit = penaltyLimit(snapshot, leg.debt, leg.collateral);
  if (snapshot.meets('maintenance')) {
    throw new FulcrumError('not_liquidatable', 'the account meets maintenance margin', 'target');
  }
  if (health >= config.backstopHealth && (limit === null || limit >= 0n)) {
    throw new FulcrumError(
      'backstop_not_needed',
      `maintenance health ${health} is above the backstop's threshold, and liquidators can act`,
      'target',
    );
  }
  return health;
}

/** What a backstop repays and sells, in base units; `impact` and penalties WEIGHT_SCALE. */
interface BackstopSale {
  readonly repay: bigint;
  readonly sold: bigint;
  readonly toInsurance: bigint;
  readonly impact: bigint;
  /** The listing's penalty on `repay` before any shortfall of collateral. */
  readonly fullPenalty: bigint;
}

/**
 * Sizes the backstop's sale: the whole debt or what the throttle's `room` (value) allows, the
 * collateral sold for it at a price with impact, and the insurance fund's penalty; when the
 * collateral runs short, all of it is sold and the repay shrinks to the proceeds.
 */
function sizeBackstopSale(
  leg: PreparedLeg,
  config: LiquidationConfig,
  room: bigint | null,
): BackstopSale {
  const { debtAsset, collateralAsset } = leg;
  const vD = debtAsset.risk.valuePerUnit;
  const vC = collateralAsset.risk.valuePerUnit;
  const denominator = pow10(NORM_DECIMALS);
  const owed = leg.debt.amount;
  const held = leg.collateral.amount;
  let repay = room === null ? owed : minBig(owed, divFloor(room * denominator, vD));
  if (repay <= 0n)
    throw new FulcrumError(
      'liquidation_throttled',
      'the liquidation caps for this window are used up',
      'target',
    );
  let impact = backstopImpact(repay, vD, config);
  const penalty = collateralAsset.config.liquidationPenalty;
  let sold = divCeil(repay * vD * W, vC * (W - impact));
  const fullPenalty = divFloor(repay * vD * penalty, vC * W);
  let toInsurance = fullPenalty;
  if (sold > held) {
    // Not enough collateral: all of it is sold, the fund forgoes its penalty, and what the
    // proceeds do not repay is bad debt. The proceeds are below the repay sized above (the
    // debt, or what the throttle allows), and never repay more than it.
    toInsurance = 0n;
    sold = held;
    impact = backstopImpact(divFloor(held * vC, vD), vD, config);
    repay = minBig(repay, divFloor(held * vC * (W - impact), vD * W));
  } else if (sold + toInsurance > held) {
    // The sale covers the repay but the rest does not cover the whole penalty: only what the
    // repay needs is sold, and the fund takes what is left.
    toInsurance = held - sold;
  }
  return { repay, sold, toInsurance, impact, fullPenalty };
}

/**
 * The backstop's price impact (WEIGHT_SCALE) for repaying `repay` of a debt worth `vD` per
 * unit: 1% per backstopDepthValue of debt value, capped.
 */
function backstopImpact(repay: bigint, vD: bigint, config: LiquidationConfig): bigint {
  return minBig(
    divCeil(repay * vD * (W / 100n), config.backstopDepthValue * pow10(NORM_DECIMALS)),
    config.backstopImpactMax,
  );
}

/**
 * Moves the balances of a sized backstop sale: the target's debt repaid into the debt pool, its
 * collateral taken, the fund's penalty credited, the sold collateral paid out of its pool.
 */
function moveBackstopBalances(
  draft: Draft,
  target: SubAccountRef,
  leg: PreparedLeg,
  sale: BackstopSale,
): void {
  const { debtAsset, collateralAsset } = leg;
  const { repay, sold, toInsurance } = sale;
  const reduction = repayDebt(draft, target, debtAsset, repay, leg.debt.amount);
  setPool(draft, debtAsset.index, (p) => ({
    ...p,
    cash: p.cash + repay,
    borrowScaled: p.borrowScaled - reduction,
  }));
  // The sold collateral leaves the pool: the target's scaled debit is rounded up, so that the
  // scaled supply removed is worth at least the tokens paid out.
  const held = leg.collateral.amount;
  const taken = takeCollateral(draft, target, collateralAsset, sold + toInsurance, held, 'up');
  const insuranceScaled = minBig(scaledCreditForDeposit(toInsurance, collateralAsset.pool), taken);
  credit(draft, INSURANCE, collateralAsset, insuranceScaled);
  // The sold collateral leaves the pool: its scaled supply is gone, its tokens paid out.
  setPool(draft, collateralAsset.index, (p) => ({
    ...p,
    cash: p.cash - sold,
    supplyScaled: p.supplyScaled - (taken - insuranceScaled),
  }));
}

/** `resolve-bankruptcy`: for an account with debts and no collateral left. */
export function resolveBankruptcy(draft: Draft, command: ResolveBankruptcyCommand): void {
  const sub = draft.subAccount(command.target);
  if (sub.positions.some((p) => p.scaled > 0n) || !sub.positions.some((p) => p.scaled < 0n)) {
    throw new FulcrumError(
      'not_bankrupt',
      `${accountName(command.target)} is not a bankrupt account`,
      'target',
    );
  }
  resolveIfBankrupt(draft, command.target);
}

/**
 * The loss waterfall for an account with debts and no collateral: each debt is paid first by
 * the insurance fund's supply of that asset, then written off against the asset's lenders by
 * lowering its supply index (every lender loses in proportion). Every step is an event.
 */
export function resolveIfBankrupt(draft: Draft, target: SubAccountRef): void {
  const { positions, derivatives } = draft.subAccount(target);
  if (positions.some((p) => p.scaled > 0n)) return;
  // Positions still open are something left to liquidate (or to deleverage).
  if (derivatives !== undefined && derivatives.positions.length > 0) return;
  for (const { asset: index, scaled } of positions) {
    if (scaled >= 0n) continue;
    const asset = draft.accruePool(index);
    const pool = asset.pool;
    const deficit = debtAmount(-scaled, pool);
    // 1. The insurance fund pays what it can from its supply of the asset.
    const fundScaled = scaledBalance(draft.subAccount(INSURANCE), index);
    const fund = fundScaled > 0n ? supplyAmount(fundScaled, pool) : 0n;
    const draw = minBig(fund, deficit);
    const fundDebit =
      draw === 0n ? 0n : draw === fund ? fundScaled : scaledDebitForWithdraw(draw, pool);
    const covered = draw === deficit ? -scaled : scaledDebtForRepay(draw, pool);
    if (fundDebit > 0n) {
      draft.setSubAccount(
        INSURANCE,
        withScaledBalance(draft.subAccount(INSURANCE), index, fundScaled - fundDebit),
      );
    }
    // 2. The rest is written off; the lenders bear it through the supply index.
    const leftScaled = -scaled - covered;
    const socialized = leftScaled === 0n ? 0n : debtAmount(leftScaled, pool);
    const supplyScaled = pool.supplyScaled - fundDebit;
    const cut =
      socialized === 0n || supplyScaled === 0n ? 0n : divCeil(socialized * RAY, supplyScaled);
    const supplyIndexRay = pool.supplyIndexRay - minBig(cut, pool.supplyIndexRay - 1n);
    draft.setSubAccount(target, withScaledBalance(draft.subAccount(target), index, 0n));
    draft.setAsset({
      ...asset,
      pool: { ...pool, supplyScaled, borrowScaled: pool.borrowScaled + scaled, supplyIndexRay },
    });
    draft.emit({
      type: 'bad-debt',
      target: { account: target.account, subAccount: target.subAccount },
      asset: asset.config.symbol,
      decimals: asset.config.decimals,
      deficit,
      insuranceDraw: draw,
      socialized,
      supplyIndexBeforeRay: pool.supplyIndexRay,
      supplyIndexAfterRay: supplyIndexRay,
    });
  }
}

/** Reduces the target's debt by `repay` (all of it when it is the whole debt); returns the scaled reduction. */
function repayDebt(
  draft: Draft,
  target: SubAccountRef,
  asset: AssetState,
  repay: bigint,
  owed: bigint,
): bigint {
  const scaled = scaledBalance(draft.subAccount(target), asset.index);
  const reduction = repay === owed ? -scaled : scaledDebtForRepay(repay, asset.pool);
  draft.setSubAccount(
    target,
    withScaledBalance(draft.subAccount(target), asset.index, scaled + reduction),
  );
  return reduction;
}

/**
 * Takes `amount` of collateral from the target (all of it when that is its whole balance);
 * returns the scaled debit, rounded `down` (in the target's favour: what it loses is worth at
 * most `amount`) or `up` (when the tokens leave the pool: the debit is worth at least them).
 */
function takeCollateral(
  draft: Draft,
  target: SubAccountRef,
  asset: AssetState,
  amount: bigint,
  held: bigint,
  round: 'down' | 'up',
): bigint {
  const scaled = scaledBalance(draft.subAccount(target), asset.index);
  const exact =
    round === 'up'
      ? scaledDebitForWithdraw(amount, asset.pool)
      : scaledCreditForDeposit(amount, asset.pool);
  const debit = amount >= held ? scaled : minBig(exact, scaled);
  draft.setSubAccount(
    target,
    withScaledBalance(draft.subAccount(target), asset.index, scaled - debit),
  );
  return debit;
}

/** Credits scaled supply of `asset` to `ref`. */
function credit(draft: Draft, ref: SubAccountRef, asset: AssetState, scaled: bigint): void {
  if (scaled === 0n) return;
  const sub = draft.subAccount(ref);
  const held = scaledBalance(sub, asset.index);
  if (held < 0n) {
    throw new FulcrumError(
      'asset_is_borrowed',
      `${accountName(ref)} owes ${asset.config.symbol}: it cannot receive it`,
      'liquidator',
    );
  }
  const limit = positionLimit(ref.account, ref.subAccount);
  draft.setSubAccount(ref, withScaledBalance(sub, asset.index, held + scaled, limit, 'liquidator'));
}

function setPool(draft: Draft, index: number, change: (pool: PoolState) => PoolState): void {
  const asset = draft.asset(index);
  draft.setAsset({ ...asset, pool: change(asset.pool) });
}

function emitLiquidation(
  draft: Draft,
  target: SubAccountRef,
  liquidator: SubAccountRef,
  leg: PreparedLeg,
  plan: {
    repay: bigint;
    seized: bigint;
    penalty: bigint;
    penaltyReduced: boolean;
    fullClose: boolean;
  },
  parts: { toInsurance: bigint; soldToMarket: bigint; impact: bigint; before: bigint | null },
): void {
  const after = draft.health(target);
  const event: LiquidationEvent = {
    type: 'liquidation',
    target: { account: target.account, subAccount: target.subAccount },
    liquidator: { account: liquidator.account, subAccount: liquidator.subAccount },
    debtAsset: leg.debtAsset.config.symbol,
    debtDecimals: leg.debtAsset.config.decimals,
    repaid: plan.repay,
    collateralAsset: leg.collateralAsset.config.symbol,
    collateralDecimals: leg.collateralAsset.config.decimals,
    seized: plan.seized,
    toLiquidator: plan.seized - parts.toInsurance - parts.soldToMarket,
    toInsurance: parts.toInsurance,
    soldToMarket: parts.soldToMarket,
    debtPrice: leg.debtAsset.risk.oraclePrice,
    collateralPrice: leg.collateralAsset.risk.oraclePrice,
    penaltyPpm: plan.penalty,
    penaltyReduced: plan.penaltyReduced,
    impactPpm: parts.impact,
    fullClose: plan.fullClose,
    healthBeforeWad: parts.before,
    healthAfterWad: after.healthFactor('maintenance'),
    endHealthAfterWad: after.healthFactor('liquidationEnd'),
  };
  draft.emit(event);
}
