/**
 * Liquidation where a crash puts it to the test, each case a user's commands sent to the engine
 * as JSON (the path `fulcrum run` takes): a tripped circuit breaker, a too-uncertain price, a
 * venue of more collateral assets than a sub-account may hold, collateral dust, a liquidator's
 * bid, and a throttle window with tens of thousands of liquidations.
 */
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../src/domain/limits.js';
import { Engine, type EngineEvent, type LiquidationEvent } from '../src/index.js';

type Json = Record<string, unknown>;

const USDC = { symbol: 'USDC', decimals: 6, initialWeight: '0.9', maintenanceWeight: '0.95' };

function run(engine: Engine, commands: readonly Json[]): void {
  for (const command of commands) {
    const result = engine.applyJson(command);
    if (!result.ok) {
      throw new Error(`${JSON.stringify(command)} refused: ${result.error.message}`);
    }
  }
}

function liquidations(events: readonly EngineEvent[]): LiquidationEvent[] {
  return events.filter((e): e is LiquidationEvent => e.type === 'liquidation');
}

const victim = { account: 'victim', subAccount: 0 };
const liquidateVictim = (time: number, extra: Json = {}): Json => ({
  type: 'liquidate',
  time,
  liquidator: { account: 'liq' },
  target: { account: 'victim' },
  debtAsset: 'USDC',
  collateralAsset: 'ETH',
  amount: 'max',
  ...extra,
});

/**
 * The repro: ETH priced by sources a, b and c at 2000; a victim with 10 ETH borrows
 * 12,500 USDC (initial health 10 × 2000 × 0.8 / 12,500 = 1.28); a liquidator holds 1,000,000 USDC.
 */
function crashBook(oracle: Json = {}): Engine {
  const engine = new Engine();
  const quotes = (time: number, price: string) =>
    ['a', 'b', 'c'].map((source) => ({ type: 'quote', time, asset: 'ETH', source, price }));
  run(engine, [
    { type: 'list-asset', time: 1000, config: USDC, price: '1' },
    {
      type: 'list-asset',
      time: 1000,
      config: {
        symbol: 'ETH',
        decimals: 18,
        initialWeight: '0.8',
        maintenanceWeight: '0.825',
        oracle,
      },
      price: '2000',
    },
    ...quotes(1001, '2000'),
    { type: 'deposit', time: 1002, account: 'lender', asset: 'USDC', amount: '1000000' },
    { type: 'deposit', time: 1002, account: 'victim', asset: 'ETH', amount: '10' },
    { type: 'borrow', time: 1002, account: 'victim', asset: 'USDC', amount: '12500' },
    { type: 'deposit', time: 1002, account: 'liq', asset: 'USDC', amount: '1000000' },
  ]);
  return engine;
}

describe('liquidation goes on through a tripped circuit breaker', () => {
  it('the liquidate command is accepted while the breaker freezes new risk', () => {
    const engine = crashBook();
    // 2000 -> 1400 within the breaker's window: a 30% move trips it (breakerMove 25%).
    for (const source of ['a', 'b', 'c']) {
      run(engine, [{ type: 'quote', time: 1010, asset: 'ETH', source, price: '1400' }]);
    }
    // Maintenance health 10 × 1400 × 0.825 / 12,500 = 0.924: liquidatable, and allowed.
    expect(engine.liquidation(victim)).toMatchObject({ liquidatable: true, allowed: true });
    // New risk is frozen...
    const borrow = engine.applyJson({
      type: 'borrow',
      time: 1011,
      account: 'liq',
      asset: 'ETH',
      amount: '1',
    });
    expect(borrow.ok === false && borrow.error.code).toBe('circuit_breaker');
    // ...and the liquidation goes on.
    const result = engine.applyJson(liquidateVictim(1011));
    expect(result.ok, result.ok ? '' : result.error.message).toBe(true);
    if (!result.ok) return;
    const [event] = liquidations(result.events);
    expect(event?.repaid).toBeGreaterThan(0n);
    expect(event?.collateralPrice).toBe(1400n * 10n ** 18n);
    expect(engine.liquidation(victim).liquidatable).toBe(false);
  });

  /**
   * A liquidator that owes something: 20,000 USDC supplied and a WBTC debt (price set
   * directly). Liquidating 6,250 USDC of the victim's debt at ETH 1,400 pays 6,250 USDC
   * (weighted 0.9) for ETH worth 6,250 × 1.05 less the fund's fifth of the penalty: 6,500
   * (weighted 0.8). Its initial weighted collateral goes from 18,000 to 13,750 × 0.9 + 6,500 ×
   * 0.8 = 17,575.
   */
  function liquidatorOwing(wbtcDebt: string): Engine {
    const engine = crashBook();
    run(engine, [
      {
        type: 'list-asset',
        time: 1003,
        config: { symbol: 'WBTC', decimals: 8, initialWeight: '0.7', maintenanceWeight: '0.75' },
        price: '1',
      },
      { type: 'deposit', time: 1003, account: 'lender', asset: 'WBTC', amount: '100000' },
      { type: 'deposit', time: 1003, account: 'debtor', asset: 'USDC', amount: '20000' },
      { type: 'borrow', time: 1003, account: 'debtor', asset: 'WBTC', amount: wbtcDebt },
    ]);
    for (const source of ['a', 'b', 'c']) {
      run(engine, [{ type: 'quote', time: 1010, asset: 'ETH', source, price: '1400' }]);
    }
    return engine;
  }
  const byDebtor = {
    ...liquidateVictim(1011, { amount: '6250' }),
    liquidator: { account: 'debtor' },
  };

  it('a liquidator that owes something liquidates through the breaker above initial margin', () => {
    // WBTC debt 17,500: 17,575 / 17,500 = 1.004 after.
    const engine = liquidatorOwing('17500');
    const result = engine.applyJson(byDebtor);
    expect(result.ok, result.ok ? '' : result.error.message).toBe(true);
  });

  it('a liquidator that would fall below initial margin is refused, naming it, nothing changed', () => {
    // WBTC debt 17,700: 17,575 / 17,700 = 0.993 after.
    const engine = liquidatorOwing('17700');
    const hash = engine.hash();
    const result = engine.applyJson(byDebtor);
    expect(result.ok === false && result.error.code).toBe('insufficient_collateral');
    expect(result.ok === false && result.error.field).toBe('liquidator');
    expect(engine.hash()).toBe(hash);
  });

  it('a sub-account that owes nothing may withdraw through the breaker; one that owes may not', () => {
    const engine = crashBook();
    run(engine, [{ type: 'deposit', time: 1002, account: 'saver', asset: 'ETH', amount: '1' }]);
    for (const source of ['a', 'b', 'c']) {
      run(engine, [{ type: 'quote', time: 1010, asset: 'ETH', source, price: '1400' }]);
    }
    const withdraw = (account: string, asset: string, amount: string) =>
      engine.applyJson({ type: 'withdraw', time: 1011, account, asset, amount });
    // The saver owes nothing: taking its own ETH out is no risk to the venue.
    expect(withdraw('saver', 'ETH', '1').ok).toBe(true);
    expect(withdraw('liq', 'USDC', '1000').ok).toBe(true);
    // The victim owes USDC: its withdrawal rests on ETH's price, frozen by the breaker.
    const hash = engine.hash();
    const refused = withdraw('victim', 'ETH', '0.001');
    expect(refused.ok === false && refused.error.code).toBe('circuit_breaker');
    expect(engine.hash()).toBe(hash);
  });

  it('a too-uncertain price, which the default policy allows for liquidation, allows it', () => {
    const engine = crashBook();
    // Sources spread 1380 / 1400 / 1440: half the spread 30 is 2.1% of 1400, past maxConfidence
    // (2%): the price is too uncertain. New risk stops; liquidation may go on.
    run(engine, [
      { type: 'quote', time: 1010, asset: 'ETH', source: 'a', price: '1380' },
      { type: 'quote', time: 1010, asset: 'ETH', source: 'b', price: '1400' },
      { type: 'quote', time: 1010, asset: 'ETH', source: 'c', price: '1440' },
    ]);
    const status = engine.liquidation(victim);
    expect(status).toMatchObject({ liquidatable: true, allowed: true });
    const result = engine.applyJson(liquidateVictim(1011));
    expect(result.ok, result.ok ? '' : result.error.message).toBe(true);
  });

  it('a liquidator that owes is refused on its own price that forbids liquidation; one that owes nothing is not', () => {
    const engine = crashBook();
    // SOL, priced by its sources, quoted once at 1002: stale a minute later, and a stale price
    // allows no liquidation. The debtor holds SOL and owes WBTC; the saver only holds SOL.
    run(engine, [
      {
        type: 'list-asset',
        time: 1002,
        config: {
          symbol: 'SOL',
          decimals: 9,
          initialWeight: '0.6',
          maintenanceWeight: '0.7',
          oracle: {},
        },
        price: '100',
      },
      ...['a', 'b', 'c'].map((source) => ({
        type: 'quote',
        time: 1002,
        asset: 'SOL',
        source,
        price: '100',
      })),
      {
        type: 'list-asset',
        time: 1002,
        config: { symbol: 'WBTC', decimals: 8, initialWeight: '0.7', maintenanceWeight: '0.75' },
        price: '1',
      },
      { type: 'deposit', time: 1002, account: 'lender', asset: 'WBTC', amount: '100000' },
      { type: 'deposit', time: 1002, account: 'debtor', asset: 'USDC', amount: '20000' },
      { type: 'deposit', time: 1002, account: 'debtor', asset: 'SOL', amount: '10' },
      { type: 'borrow', time: 1002, account: 'debtor', asset: 'WBTC', amount: '100' },
      { type: 'deposit', time: 1002, account: 'saver', asset: 'USDC', amount: '20000' },
      { type: 'deposit', time: 1002, account: 'saver', asset: 'SOL', amount: '10' },
    ]);
    for (const source of ['a', 'b', 'c']) {
      run(engine, [{ type: 'quote', time: 1070, asset: 'ETH', source, price: '1400' }]);
    }
    const hash = engine.hash();
    const byDebtorStale = {
      ...liquidateVictim(1071, { amount: '1000' }),
      liquidator: { account: 'debtor' },
    };
    const refused = engine.applyJson(byDebtorStale);
    expect(refused.ok === false && refused.error.code).toBe('price_unusable');
    expect(refused.ok === false && refused.error.field).toBe('liquidator');
    expect(engine.hash()).toBe(hash);
    const bySaver = {
      ...liquidateVictim(1071, { amount: '1000' }),
      liquidator: { account: 'saver' },
    };
    const accepted = engine.applyJson(bySaver);
    expect(accepted.ok, accepted.ok ? '' : accepted.error.message).toBe(true);
  });

  it('a price whose grade forbids liquidation still blocks it, and changes nothing', () => {
    // After the crash only source a quotes: b and c age past 60 s, too few sources remain, and
    // the policy below allows nothing on such a price.
    const engine = crashBook({ policy: { insufficientSources: [] } });
    for (const source of ['a', 'b', 'c']) {
      run(engine, [{ type: 'quote', time: 1010, asset: 'ETH', source, price: '1400' }]);
    }
    run(engine, [{ type: 'quote', time: 1075, asset: 'ETH', source: 'a', price: '1400' }]);
    expect(engine.liquidation(victim, 1075)).toMatchObject({ liquidatable: true, allowed: false });
    const hash = engine.hash();
    const result = engine.applyJson(liquidateVictim(1075));
    expect(result.ok === false && result.error.code).toBe('price_unusable');
    expect(result.ok === false && result.error.field).toBe('target');
    expect(engine.hash()).toBe(hash);
  });
});

describe('the insurance fund never runs out of slots', () => {
  /** A venue of `count` collateral assets C0..C{count-1} at $10, and USDC. */
  function wideVenue(count: number): Engine {
    const engine = new Engine();
    const commands: Json[] = [
      { type: 'list-asset', time: 0, config: USDC, price: '1' },
      { type: 'deposit', time: 0, account: 'lender', asset: 'USDC', amount: '10000000' },
    ];
    for (let i = 0; i < count; i++) {
      const symbol = `C${i}`;
      commands.push(
        {
          type: 'list-asset',
          time: 0,
          config: { symbol, decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
          price: '10',
        },
        // Each borrower holds one asset: 1,000 × $10 × 0.8 = 8,000 of initial margin.
        { type: 'deposit', time: 0, account: `b${i}`, asset: symbol, amount: '1000' },
        { type: 'borrow', time: 0, account: `b${i}`, asset: 'USDC', amount: '7900' },
      );
    }
    run(engine, commands);
    return engine;
  }

  it(`the fund takes its share of a ${LIMITS.positionsPerSubAccount + 4}th collateral asset`, () => {
    const count = LIMITS.positionsPerSubAccount + 4;
    const engine = wideVenue(count);
    for (let i = 0; i < count; i++) {
      run(engine, [{ type: 'set-price', time: 1, asset: `C${i}`, price: '9' }]);
    }
    // Each liquidator sub-account holds USDC and the few assets it seized: a sub-account
    // per four borrowers keeps each under its own limit, as a liquidator would.
    for (let i = 0; i < count; i++) {
      const liquidator = { account: 'liq', subAccount: Math.floor(i / 4) };
      if (i % 4 === 0) {
        run(engine, [{ type: 'deposit', time: 1, ...liquidator, asset: 'USDC', amount: '100000' }]);
      }
      const result = engine.applyJson({
        type: 'liquidate',
        time: 1,
        liquidator,
        target: { account: `b${i}` },
        debtAsset: 'USDC',
        collateralAsset: `C${i}`,
        amount: 'max',
      });
      expect(result.ok, `liquidation ${i + 1}: ${result.ok ? '' : result.error.message}`).toBe(
        true,
      );
    }
    const fund = engine.state.accounts.get('@insurance')?.subAccounts[0];
    expect(fund?.positions.length).toBe(count);
  });

  it('anyone may pay any listed asset into the fund, beyond a trader sub-account limit', () => {
    const count = LIMITS.positionsPerSubAccount + 1;
    const engine = wideVenue(count);
    for (let i = 0; i < count; i++) {
      const deposit = {
        type: 'deposit',
        time: 2,
        account: '@insurance',
        asset: `C${i}`,
        amount: '1',
      };
      expect(engine.applyJson(deposit).ok).toBe(true);
    }
    // A trader's sub-account stays limited, and says so, naming the field.
    for (let i = 0; i < LIMITS.positionsPerSubAccount; i++) {
      run(engine, [{ type: 'deposit', time: 2, account: 'eve', asset: `C${i}`, amount: '1' }]);
    }
    const hash = engine.hash();
    const last = `C${LIMITS.positionsPerSubAccount}`;
    const refused = engine.applyJson({
      type: 'deposit',
      time: 2,
      account: 'eve',
      asset: last,
      amount: '1',
    });
    expect(refused.ok === false && refused.error.code).toBe('limit_exceeded');
    expect(refused.ok === false && refused.error.field).toBe('asset');
    expect(engine.hash()).toBe(hash);
  });

  it('a liquidator sub-account at its limit is refused naming the liquidator, and may use another', () => {
    const count = LIMITS.positionsPerSubAccount + 1;
    const engine = wideVenue(count);
    for (let i = 0; i < count; i++) {
      run(engine, [{ type: 'set-price', time: 1, asset: `C${i}`, price: '9' }]);
    }
    // liq/0 holds USDC and 15 other assets: 16.
    run(engine, [{ type: 'deposit', time: 1, account: 'liq', asset: 'USDC', amount: '100000' }]);
    for (let i = 0; i < LIMITS.positionsPerSubAccount - 1; i++) {
      run(engine, [{ type: 'deposit', time: 1, account: 'liq', asset: `C${i}`, amount: '1' }]);
    }
    const target = { account: `b${count - 1}` };
    const command = {
      type: 'liquidate',
      time: 1,
      liquidator: { account: 'liq' },
      target,
      debtAsset: 'USDC',
      collateralAsset: `C${count - 1}`,
      amount: 'max',
    };
    const hash = engine.hash();
    const refused = engine.applyJson(command);
    expect(refused.ok === false && refused.error.code).toBe('limit_exceeded');
    expect(refused.ok === false && refused.error.field).toBe('liquidator');
    expect(engine.hash()).toBe(hash);
    run(engine, [
      { type: 'deposit', time: 1, account: 'liq', subAccount: 1, asset: 'USDC', amount: '100000' },
      { ...command, liquidator: { account: 'liq', subAccount: 1 } },
    ]);
  });
});

describe('collateral dust', () => {
  /**
   * The repro: ETH (maintenance 0.825, penalty 5%) and LINK (0.75, 10%, $20); a borrower
   * with 10 ETH and 6 LINK borrows 15,900 USDC; ETH falls to 1,900: maintenance health
   * (10 × 1900 × 0.825 + 6 × 20 × 0.75) / 15,900 = 15,765 / 15,900 = 0.9915.
   */
  function dustBook(): Engine {
    const engine = new Engine();
    run(engine, [
      { type: 'list-asset', time: 0, config: USDC, price: '1' },
      {
        type: 'list-asset',
        time: 0,
        config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
        price: '2000',
      },
      {
        type: 'list-asset',
        time: 0,
        config: {
          symbol: 'LINK',
          decimals: 18,
          initialWeight: '0.7',
          maintenanceWeight: '0.75',
          liquidationPenalty: '0.1',
        },
        price: '20',
      },
      { type: 'deposit', time: 0, account: 'lender', asset: 'USDC', amount: '1000000' },
      { type: 'deposit', time: 0, account: 'liq', asset: 'USDC', amount: '100000' },
      { type: 'deposit', time: 0, account: 'victim', asset: 'ETH', amount: '10' },
      { type: 'deposit', time: 0, account: 'victim', asset: 'LINK', amount: '6' },
      { type: 'borrow', time: 0, account: 'victim', asset: 'USDC', amount: '15900' },
      { type: 'set-price', time: 1, asset: 'ETH', price: '1900' },
    ]);
    return engine;
  }
  const againstLink = (amount: string): Json => ({
    type: 'liquidate',
    time: 1,
    liquidator: { account: 'liq' },
    target: { account: 'victim' },
    debtAsset: 'USDC',
    collateralAsset: 'LINK',
    amount,
  });

  it('a liquidator whose amount would leave collateral dust is refused, nothing changed', () => {
    const engine = dustBook();
    expect(engine.liquidation(victim).liquidatable).toBe(true);
    const hash = engine.hash();
    // 100 USDC seizes 100 × 1.1 / 20 = 5.5 LINK and would leave 0.5 LINK ($10 < $100 dust).
    const refused = engine.applyJson(againstLink('100'));
    expect(refused.ok === false && refused.error.code).toBe('liquidation_dust');
    expect(refused.ok === false && refused.error.field).toBe('amount');
    // In whole units, as the command gives them: all 6 LINK for 6 × 20 / 1.1, rounded up.
    expect(refused.ok === false && refused.error.message).toMatch(
      /^repaying at most 100 USDC would leave LINK worth less than the dust value: repay 109\.09091 USDC to take all of it$/,
    );
    expect(engine.hash()).toBe(hash);
  });

  it('asking for the whole of it, or max, takes the collateral whole', () => {
    for (const amount of ['max', '109.090910']) {
      const engine = dustBook();
      const result = engine.applyJson(againstLink(amount));
      expect(result.ok, result.ok ? '' : result.error.message).toBe(true);
      if (!result.ok) continue;
      const [event] = liquidations(result.events);
      // All 6 LINK for 6 × 20 / 1.1 = 109.090909..., rounded up to 109.090910 USDC.
      expect(event?.seized).toBe(6n * 10n ** 18n);
      expect(event?.repaid).toBe(109_090_910n);
      expect(event?.fullClose).toBe(true);
      // No LINK is left at all, not even a remainder of the scaled balance.
      const link = engine.state.assetIndex.get('LINK');
      const held = engine.state.accounts.get('victim')?.subAccounts[0]?.positions;
      expect(held?.some((p) => p.asset === link)).toBe(false);
    }
  });
});

describe('penaltyReduced says the guard reduced the penalty, not that a liquidator bid lower', () => {
  /**
   * 10 ETH (maintenance weight 0.825, penalty 5%) against 15,900 USDC. At ETH p the maintenance
   * health is 10 × p × 0.825 / 15,900, and the guard's largest penalty, which keeps that health
   * from falling, is health / 0.825 − 1 = 10p / 15,900 − 1. All at one time: no interest.
   */
  function book(ethPrice: string): Engine {
    const engine = new Engine();
    run(engine, [
      { type: 'list-asset', time: 0, config: USDC, price: '1' },
      {
        type: 'list-asset',
        time: 0,
        config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
        price: '2000',
      },
      { type: 'deposit', time: 0, account: 'lender', asset: 'USDC', amount: '1000000' },
      { type: 'deposit', time: 0, account: 'liq', asset: 'USDC', amount: '100000' },
      { type: 'deposit', time: 0, account: 'victim', asset: 'ETH', amount: '10' },
      { type: 'borrow', time: 0, account: 'victim', asset: 'USDC', amount: '15900' },
      // The backstop is for deeper accounts only: none of these may reach it.
      { type: 'configure-liquidation', time: 0, config: { backstopHealth: '0.5' } },
      { type: 'set-price', time: 0, asset: 'ETH', price: ethPrice },
    ]);
    return engine;
  }
  const liquidate = (maxPenalty?: string): Json => ({
    type: 'liquidate',
    time: 0,
    liquidator: { account: 'liq' },
    target: { account: 'victim' },
    debtAsset: 'USDC',
    collateralAsset: 'ETH',
    amount: '1000',
    ...(maxPenalty === undefined ? {} : { maxPenalty }),
  });

  // [ETH price, bid, penalty charged (ppm), whether the guard reduced it].
  const table: [string, string | undefined, bigint, boolean][] = [
    // ETH 1,900: limit 19,000 / 15,900 − 1 = 19.5%: the listing's 5%, nothing reduced.
    ['1900', undefined, 50_000n, false],
    // A bid of 2% below that limit: the bid is charged, and a bid is not a reduction.
    ['1900', '0.02', 20_000n, false],
    // ETH 1,653.6: limit 16,536 / 15,900 − 1 = 4% exactly: the guard cuts 5% to 4%.
    ['1653.6', undefined, 40_000n, true],
    // A bid of 4.5% above that limit: cut to 4%, a reduction.
    ['1653.6', '0.045', 40_000n, true],
    // A bid of 3% below that limit: 3% charged, not a reduction.
    ['1653.6', '0.03', 30_000n, false],
  ];
  it.each(table)('ETH %s, bid %s: penalty %i ppm, reduced %s', (price, bid, penalty, reduced) => {
    const engine = book(price);
    const result = engine.applyJson(liquidate(bid));
    expect(result.ok, result.ok ? '' : result.error.message).toBe(true);
    if (!result.ok) return;
    const [event] = liquidations(result.events);
    expect(event?.penaltyPpm).toBe(penalty);
    expect(event?.penaltyReduced).toBe(reduced);
  });
});

describe('a throttle window full of liquidations', () => {
  it('a liquidation changes one entry of the window, never a copy of the map', () => {
    const engine = new Engine();
    const accounts = 50;
    const commands: Json[] = [
      { type: 'list-asset', time: 0, config: USDC, price: '1' },
      {
        type: 'list-asset',
        time: 0,
        config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
        price: '2000',
      },
      { type: 'deposit', time: 0, account: 'lender', asset: 'USDC', amount: '10000000' },
      { type: 'deposit', time: 0, account: 'liq', asset: 'USDC', amount: '10000000' },
    ];
    for (let i = 0; i < accounts; i++) {
      commands.push(
        { type: 'deposit', time: 0, account: `v${i}`, asset: 'ETH', amount: '1' },
        { type: 'borrow', time: 0, account: `v${i}`, asset: 'USDC', amount: '1500' },
      );
    }
    commands.push({ type: 'set-price', time: 1, asset: 'ETH', price: '1700' });
    run(engine, commands);
    const windowMap = () => engine.state.liquidationThrottle.accountValues;
    let map: ReadonlyMap<string, bigint> | undefined;
    for (let i = 0; i < accounts; i++) {
      const result = engine.applyJson({
        type: 'liquidate',
        time: 1,
        liquidator: { account: 'liq' },
        target: { account: `v${i}` },
        debtAsset: 'USDC',
        collateralAsset: 'ETH',
        amount: 'max',
      });
      expect(result.ok, result.ok ? '' : result.error.message).toBe(true);
      if (!result.ok) return;
      // The first liquidation of the window starts its map; every later one writes into it.
      map ??= windowMap();
      expect(windowMap()).toBe(map);
      expect(windowMap().size).toBe(i + 1);
      // Counted as the debt's value: base units of USDC (6 decimals) × 10^12 at $1.
      const [event] = liquidations(result.events);
      expect(windowMap().get(`v${i}/0`)).toBe((event?.repaid ?? 0n) * 10n ** 12n);
    }
    const total = [...windowMap().values()].reduce((a, b) => a + b, 0n);
    expect(engine.state.liquidationThrottle.globalValue).toBe(total);
    // A refused liquidation leaves the window exactly as it was.
    const refused = engine.applyJson({
      type: 'liquidate',
      time: 1,
      liquidator: { account: 'liq' },
      target: { account: 'v0' },
      debtAsset: 'USDC',
      collateralAsset: 'ETH',
      amount: 'max',
    });
    expect(refused.ok).toBe(false);
    expect(windowMap().size).toBe(accounts);
    expect(engine.state.liquidationThrottle.globalValue).toBe(total);
  });

  /**
   * Two accounts of 1 ETH owing 1,500 USDC each, ETH at 1,700 (maintenance health 0.935), and a
   * per-account cap of 100 (quote) a window: each liquidation repays at most $100.
   */
  function cappedBook(): Engine {
    const engine = new Engine();
    run(engine, [
      { type: 'list-asset', time: 0, config: USDC, price: '1' },
      {
        type: 'list-asset',
        time: 0,
        config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
        price: '2000',
      },
      { type: 'deposit', time: 0, account: 'lender', asset: 'USDC', amount: '1000000' },
      { type: 'deposit', time: 0, account: 'liq', asset: 'USDC', amount: '1000000' },
      ...['a', 'b'].flatMap((account) => [
        { type: 'deposit', time: 0, account, asset: 'ETH', amount: '1' },
        { type: 'borrow', time: 0, account, asset: 'USDC', amount: '1500' },
      ]),
      { type: 'set-price', time: 0, asset: 'ETH', price: '1700' },
      {
        type: 'configure-liquidation',
        time: 0,
        config: { accountCapValue: '100', throttleWindowSeconds: 60, dustValue: '0' },
      },
    ]);
    return engine;
  }
  const take = (engine: Engine, account: string, time: number) =>
    engine.applyJson({
      type: 'liquidate',
      time,
      liquidator: { account: 'liq' },
      target: { account },
      debtAsset: 'USDC',
      collateralAsset: 'ETH',
      amount: 'max',
    });
  const repaid = (result: ReturnType<Engine['applyJson']>) =>
    result.ok ? (liquidations(result.events)[0]?.repaid ?? 0n) : result.error.code;

  it('a new window starts with a new map and empty totals', () => {
    const engine = cappedBook();
    expect(repaid(take(engine, 'a', 130))).toBe(100_000_000n);
    const first = engine.state.liquidationThrottle.accountValues;
    expect(repaid(take(engine, 'a', 170))).toBe('liquidation_throttled');
    // 130 and 170 share the window 120-179; 180 starts the next.
    expect(repaid(take(engine, 'b', 180))).toBe(100_000_000n);
    const next = engine.state.liquidationThrottle;
    expect(next.accountValues).not.toBe(first);
    expect([...next.accountValues.keys()]).toEqual(['b/0']);
    expect(next.window).toBe(180);
  });

  it("a change of the window's length starts a fresh window, not an earlier period's totals", () => {
    const engine = cappedBook();
    expect(repaid(take(engine, 'a', 130))).toBe(100_000_000n);
    // 100-second windows: 250 falls in 200-299, a window that never counted the liquidation at
    // 130 (with 60-second windows both were window number 2).
    run(engine, [
      { type: 'configure-liquidation', time: 250, config: { throttleWindowSeconds: 100 } },
    ]);
    expect(repaid(take(engine, 'a', 250))).toBe(100_000_000n);
  });

  it('a per-account cap set within a window counts what came before it', () => {
    const engine = cappedBook();
    run(engine, [{ type: 'configure-liquidation', time: 130, config: { accountCapValue: null } }]);
    const uncapped = repaid(take(engine, 'a', 130));
    expect(typeof uncapped === 'bigint' && uncapped > 100_000_000n).toBe(true);
    // The liquidation restored it; ETH at 1,600 takes it below maintenance again (not so far
    // that no penalty could help), and the cap comes back within the same window.
    run(engine, [
      { type: 'set-price', time: 131, asset: 'ETH', price: '1600' },
      { type: 'configure-liquidation', time: 131, config: { accountCapValue: '100' } },
    ]);
    expect(engine.liquidation({ account: 'a', subAccount: 0 }).liquidatable).toBe(true);
    expect(repaid(take(engine, 'a', 131))).toBe('liquidation_throttled');
  });
});

describe('liquidation sizing at widened margin prices', () => {
  /**
   * ETH's oracle widens margin prices by its confidence (k = 1): three sources at 1400 each
   * giving ±14 put collateral at 1386 for margin, while a liquidation repays and seizes at 1400.
   * The victim: 10 ETH against 12,500 USDC. Liquidation-end: C = 10 × 1386 × 0.8125 = 11,261.25,
   * shortfall 1,238.75. Each USDC repaid seizes 1.05 / 1400 ETH, each removing 1386 × 0.8125 of
   * weighted collateral: a gain of 1 − 1.05 × 1386 × 0.8125 / 1400 = 0.15540625, so the repay that
   * restores health is 1,238.75 / 0.15540625 = 7,971.04..., not the 8,434.04 that the unwidened
   * gain (1 − 1.05 × 0.8125) would ask.
   */
  function widenedBook(): Engine {
    const engine = crashBook({ confidenceWidening: '1' });
    for (const source of ['a', 'b', 'c']) {
      run(engine, [
        { type: 'quote', time: 1010, asset: 'ETH', source, price: '1400', confidence: '14' },
      ]);
    }
    return engine;
  }

  it('repays exactly what restores liquidation-end health, not more', () => {
    const engine = widenedBook();
    const preview = engine.dryRun({
      type: 'liquidate',
      time: 1011,
      liquidator: { account: 'liq', subAccount: 0 },
      target: victim,
      debtAsset: 'USDC',
      collateralAsset: 'ETH',
      amount: 'max',
    });
    expect(preview.result.ok).toBe(true);
    const [event] = preview.result.ok ? liquidations(preview.result.events) : [];
    const repaid = event?.repaid ?? 0n;
    expect(repaid).toBeGreaterThan(7_971_040_000n);
    expect(repaid).toBeLessThan(7_971_050_000n);
    expect(preview.draft?.health(victim).meets('liquidationEnd')).toBe(true);
    // A base unit less would leave liquidation-end health short of 1: the repay is the least.
    const less = engine.dryRun({
      type: 'liquidate',
      time: 1011,
      liquidator: { account: 'liq', subAccount: 0 },
      target: victim,
      debtAsset: 'USDC',
      collateralAsset: 'ETH',
      amount: repaid - 1n,
    });
    expect(less.result.ok).toBe(true);
    expect(less.draft?.health(victim).meets('liquidationEnd')).toBe(false);
  });

  it('the guard keeps maintenance health from falling at widened prices', () => {
    const engine = widenedBook();
    const before = engine.health(victim).tiers.maintenance.healthFactor ?? 0n;
    const result = engine.applyJson(liquidateVictim(1011, { amount: '1000' }));
    expect(result.ok, result.ok ? '' : result.error.message).toBe(true);
    const after = engine.health(victim).tiers.maintenance.healthFactor ?? 0n;
    expect(after >= before).toBe(true);
  });
});
