/**
 * The derivatives ledger's rules where money could leak: focused cases (each figure derived by
 * hand in the comments) for long option premiums, the risk-reducing exception, flips, expiry,
 * the insurance fund, open interest, the portfolio-mode hook, options before an index, and
 * auto-deleveraging; and random properties (fast-check) over sequences with flips, partial closes, several instruments
 * and underlyings, isolated and cross accounts, funding between trades and liquidations of
 * cross accounts holding several positions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FulcrumError } from '../base/errors.js';
import type { InstrumentSpec } from './instruments.js';
import { listAt } from '../../test/fixtures/derivatives.js';
import {
  DerivativesLedger,
  FUND,
  LEDGER_LIMITS,
  type LedgerCommand,
  type PortfolioRequirement,
  VALUE_UNIT,
} from './ledger.js';

const T0 = 1_900_000_000;
const HOUR = 3_600;
const units = (x: number) => BigInt(Math.round(x * 1e8));
const px = (x: number) => BigInt(Math.round(x * 1e6)) * 10n ** 12n;
const usdc = (x: number) => BigInt(Math.round(x * 1e6));
const quote = (numerator: bigint) => Number(numerator) / Number(VALUE_UNIT);
/** Whole quote units as a numerator, exact. */
const cash = (x: number) => usdc(x) * (VALUE_UNIT / 10n ** 6n);

const PERP: InstrumentSpec = {
  kind: 'perpetual',
  symbol: 'ETH-PERP',
  underlying: 'ETH',
  initialMargin: 0.05,
  maintenanceMargin: 0.03,
  sizePremium: 0,
  fundingIntervalSeconds: 8 * HOUR,
  fundingClamp: 0.0075,
};
const FUTURE: InstrumentSpec = {
  kind: 'future',
  symbol: 'ETH-FUT',
  underlying: 'ETH',
  initialMargin: 0.05,
  maintenanceMargin: 0.03,
  sizePremium: 0,
  expiry: T0 + 24 * HOUR,
};
const CALL: InstrumentSpec = {
  kind: 'option',
  symbol: 'ETH-2000-C',
  underlying: 'ETH',
  initialMargin: 0.1,
  maintenanceMargin: 0.075,
  sizePremium: 0,
  expiry: T0 + 24 * HOUR,
  strike: 2000,
  right: 'call',
};

function trade(
  l: DerivativesLedger,
  time: number,
  buyer: string,
  seller: string,
  instrument: string,
  size: bigint,
  price: bigint,
) {
  return l.apply({ type: 'trade', time, buyer, seller, instrument, size, price });
}

/** ETH-PERP, ETH-FUT and ETH-2000-C at ETH 2000 (call marked 50); alice, bob, carol 10,000. */
function ledger(at = 2000): DerivativesLedger {
  const l = new DerivativesLedger();
  for (const spec of [PERP, FUTURE, CALL]) l.apply({ type: 'list-instrument', time: T0, spec });
  l.apply({
    type: 'set-prices',
    time: T0,
    index: { ETH: px(at) },
    marks: { 'ETH-PERP': px(at), 'ETH-FUT': px(at), 'ETH-2000-C': px(50) },
  });
  for (const who of ['alice', 'bob', 'carol']) {
    l.apply({ type: 'deposit', time: T0, to: who, amount: usdc(10_000) });
  }
  return l;
}

function conserved(l: DerivativesLedger): void {
  let total = 0n;
  const sizes = new Map<string, bigint>();
  for (const sub of l.accounts.values()) {
    total += sub.cash;
    for (const [symbol, p] of sub.positions) {
      total += p.quote;
      sizes.set(symbol, (sizes.get(symbol) ?? 0n) + p.size);
    }
  }
  expect(total).toBe(l.netDeposits);
  for (const [symbol, size] of sizes) expect(size, `${symbol} longs = shorts`).toBe(0n);
}

function refusedWith(l: DerivativesLedger, command: LedgerCommand): string | undefined {
  try {
    l.apply(command);
    return undefined;
  } catch (error) {
    if (!(error instanceof FulcrumError)) throw error;
    return error.code;
  }
}

// ---------------------------------------------------------------------------------------------

describe('long options are not paid for', () => {
  it('buying 50,000 of call premium with 10,000 of cash is refused', () => {
    const l = ledger();
    l.apply({ type: 'deposit', time: T0, to: 'dealer', amount: usdc(1_000_000) });
    // alice (10,000 cash) buys 1,000 calls at their mark 50: a premium of 50,000. The premium is
    // never taken from cash (it sits in the position's quote), a long option requires nothing,
    // and the equity is 10,000 + 1,000 × 50 − 50,000 = 10,000 ≥ 0: accepted. A venue must refuse
    // it (the premium exceeds the cash; Deribit debits it at once).
    const code = refusedWith(l, {
      type: 'trade',
      time: T0,
      buyer: 'alice',
      seller: 'dealer',
      instrument: 'ETH-2000-C',
      size: units(1_000),
      price: px(50),
    });
    expect(code).toBe('insufficient_margin');
  });

  it('after spending all its cash on premium, an account cannot withdraw that cash', () => {
    const l = ledger();
    l.apply({ type: 'deposit', time: T0, to: 'dealer', amount: usdc(1_000_000) });
    // 200 calls at 50: a premium of exactly alice's 10,000.
    trade(l, T0, 'alice', 'dealer', 'ETH-2000-C', units(200), px(50));
    // Withdraw check: cash 10,000 + losses 0 ≥ initial 0, so all 10,000 may leave...
    const code = refusedWith(l, {
      type: 'withdraw',
      time: T0,
      from: 'alice',
      amount: usdc(10_000),
    });
    // ...after which the call marked at 0 leaves alice at 0 + 200 × 0 − 10,000 = −10,000, a
    // bankruptcy the fund or the dealer's profit pays. It is refused.
    expect(code).toBe('insufficient_margin');
  });
});

describe('the risk-reducing exception gives away unrealized profit', () => {
  it('a trade that takes an account from above maintenance to bankrupt is refused', () => {
    const l = ledger(1000);
    l.apply({ type: 'deposit', time: T0, to: 'mm', amount: usdc(1_000_000) });
    l.apply({ type: 'deposit', time: T0, to: 'x', amount: usdc(2_000) });
    l.apply({ type: 'deposit', time: T0, to: 'y', amount: usdc(1_000) });
    // x: long 10 ETH-PERP and short 10 ETH-FUT, both at 1000 (initial 2 × 5% × 10,000 = 1,000).
    trade(l, T0, 'x', 'mm', 'ETH-PERP', units(10), px(1000));
    trade(l, T0, 'mm', 'x', 'ETH-FUT', units(10), px(1000));
    l.apply({
      type: 'set-prices',
      time: T0 + 60,
      index: { ETH: px(2000) },
      marks: { 'ETH-PERP': px(2000), 'ETH-FUT': px(2000) },
    });
    // At 2000: equity 2,000 (+10,000 − 10,000), maintenance 2 × 3% × 20,000 = 1,200: healthy.
    const before = l.margin('x');
    expect(quote(before.equity)).toBe(2_000);
    expect(quote(before.maintenance)).toBe(1_200);
    // Margin equity: 2,000 − 10,000 + min(90% × 10,000, cash 2,000) = −6,000; initial 2,000;
    // surplus −8,000. x sells its profitable perpetual to y at 1100 (mark 2000): realized 1,000,
    // cash 3,000, equity 3,000 − 10,000 = −7,000, initial 1,000, surplus −8,000: "no worse", and
    // the requirement fell, so the exception accepts it. y (1,000 cash) gets 9,000 of profit.
    const code = refusedWith(l, {
      type: 'trade',
      time: T0 + 60,
      buyer: 'y',
      seller: 'x',
      instrument: 'ETH-PERP',
      size: units(10),
      price: px(1100),
    });
    // Refused: x would go from +2,000 (above maintenance) to −7,000 equity.
    expect(code, `x equity after: ${quote(l.margin('x').equity)}`).toBe('insufficient_margin');
  });

  it('a flip below initial margin opens a new position of nearly the same size', () => {
    const l = ledger();
    l.apply({ type: 'deposit', time: T0, to: 'z', amount: usdc(1_000) });
    trade(l, T0, 'z', 'bob', 'ETH-PERP', units(10), px(2000)); // initial 1,000: just met
    l.apply({ type: 'set-prices', time: T0 + 60, marks: { 'ETH-PERP': px(1980) } });
    // At 1980: equity 800 < initial 990 (≥ maintenance 594). z sells 19.8: closes 10 and opens a
    // 9.8 short at 1980, initial 5% × 9.8 × 1980 = 970.2 < 990, surplus −170.2 > −190: accepted
    // by the exception, though the new 9.8 short is opened below initial margin (800 < 970.2).
    const code = refusedWith(l, {
      type: 'trade',
      time: T0 + 60,
      buyer: 'bob',
      seller: 'z',
      instrument: 'ETH-PERP',
      size: units(19.8),
      price: px(1980),
    });
    expect(code).toBe('insufficient_margin');
  });
});

describe('expiry', () => {
  it('a trade after the expiry time (before the expire command) is refused', () => {
    const l = ledger();
    // One minute after expiry the index is 2150 and known to all. alice buys 10 ETH-FUT at 2000
    // from bob, then expire settles at 2150: alice +1,500 risk-free. It is refused.
    l.apply({ type: 'set-prices', time: T0 + 24 * HOUR + 60, index: { ETH: px(2150) } });
    const code = refusedWith(l, {
      type: 'trade',
      time: T0 + 24 * HOUR + 60,
      buyer: 'alice',
      seller: 'bob',
      instrument: 'ETH-FUT',
      size: units(10),
      price: px(2000),
    });
    expect(code).toBeDefined();
  });

  it('settles at the index at expiry, not at an index set after it', () => {
    const l = ledger();
    trade(l, T0, 'alice', 'bob', 'ETH-FUT', units(2), px(2000));
    l.apply({ type: 'set-prices', time: T0 + 24 * HOUR, index: { ETH: px(2000) } });
    // An hour after expiry the index moves to 2300; the expire command then settles there.
    l.apply({ type: 'set-prices', time: T0 + 25 * HOUR, index: { ETH: px(2300) } });
    const [event] = l.apply({ type: 'expire', time: T0 + 25 * HOUR, instrument: 'ETH-FUT' });
    // Settled at the index at expiry, 2000 (alice 0 profit), not 2300 (alice +600).
    expect(event).toMatchObject({ type: 'settled', price: px(2000) });
  });
});

describe('the insurance fund', () => {
  it('set-mode on the fund is refused', () => {
    const l = ledger();
    expect(refusedWith(l, { type: 'set-mode', time: T0, account: FUND, mode: 'isolated' })).toBe(
      'reserved_account',
    );
  });

  it('the fund cannot unwind at an off-market price that leaves its cash negative', () => {
    const l = ledger();
    l.apply({ type: 'set-mode', time: T0, account: 'alice/1', mode: 'isolated' });
    l.apply({ type: 'deposit', time: T0, to: 'alice/1', amount: usdc(1_000) });
    trade(l, T0, 'alice/1', 'bob', 'ETH-PERP', units(10), px(2000));
    l.apply({
      type: 'set-prices',
      time: T0 + 60,
      index: { ETH: px(1930) },
      marks: { 'ETH-PERP': px(1930) },
    });
    l.apply({ type: 'liquidate', time: T0 + 60, account: 'alice/1' });
    // The fund: long 10 at 1930, cash = fee 144.75. It "unwinds" by selling 10 to carol at 1:
    // no margin or price check applies to the fund, and its cash becomes
    // 144.75 + 10 × (1 − 1930) = −19,145.25; carol gains 19,290. It is refused.
    const code = refusedWith(l, {
      type: 'trade',
      time: T0 + 60,
      buyer: 'carol',
      seller: FUND,
      instrument: 'ETH-PERP',
      size: units(10),
      price: px(1),
    });
    expect(code, `fund cash after: ${quote(l.sub(FUND).cash)}`).toBeDefined();
  });
});

describe('open interest', () => {
  it('is the sum of long sizes after liquidations', () => {
    const l = ledger();
    for (const who of ['p', 'q'])
      l.apply({ type: 'deposit', time: T0, to: who, amount: usdc(1_000) });
    trade(l, T0, 'p', 'q', 'ETH-PERP', units(10), px(2000));
    // 2080: q (short) has 200 left < 624: liquidated, the fund is short 10.
    l.apply({ type: 'set-prices', time: T0 + 60, marks: { 'ETH-PERP': px(2080) } });
    l.apply({ type: 'liquidate', time: T0 + 60, account: 'q' });
    // 1900: p (long) has 0 left < 570: liquidated, the fund buys 10 and is flat. No longs remain.
    l.apply({ type: 'set-prices', time: T0 + 120, marks: { 'ETH-PERP': px(1900) } });
    l.apply({ type: 'liquidate', time: T0 + 120, account: 'p' });
    conserved(l);
    let longs = 0n;
    for (const sub of l.accounts.values()) {
      const p = sub.positions.get('ETH-PERP');
      if (p !== undefined && p.size > 0n) longs += p.size;
    }
    expect(longs).toBe(0n);
    expect(l.instrument('ETH-PERP').openInterest).toBe(longs);
  });
});

describe('portfolio-mode hook', () => {
  it('is evaluated at the time of the command being applied', () => {
    const seen: number[] = [];
    const hook: PortfolioRequirement = (_a, _s, ledger) => {
      seen.push(ledger.time);
      return { initial: 0n, maintenance: 0n };
    };
    const l = new DerivativesLedger(undefined, hook);
    listAt(l, PERP, T0, px(2000));
    for (const who of ['pm', 'mm'])
      l.apply({ type: 'deposit', time: T0, to: who, amount: usdc(10_000) });
    l.apply({ type: 'set-mode', time: T0, account: 'pm', mode: 'portfolio' });
    // A trade at T0 + 20 days: the scenario margin (time to expiry of options!) must use it.
    trade(l, T0 + 20 * 24 * HOUR, 'pm', 'mm', 'ETH-PERP', units(1), px(2000));
    expect(seen.length).toBeGreaterThan(0);
    expect(
      seen.every((t) => t === T0 + 20 * 24 * HOUR),
      `hook saw ${seen.join(',')}`,
    ).toBe(true);
  });
});

describe('short options before an index exists', () => {
  it('a short option trade without an index is refused (its margin depends on the index)', () => {
    const l = new DerivativesLedger();
    l.apply({ type: 'list-instrument', time: T0, spec: CALL });
    l.apply({ type: 'set-prices', time: T0, marks: { 'ETH-2000-C': px(50) } });
    for (const who of ['w', 'dealer'])
      l.apply({ type: 'deposit', time: T0, to: who, amount: usdc(10_000) });
    // Index 0: initial = 0.15 × 0 + mark = 50 per call, so 10,000 sells 200 calls (with the index
    // at 2000 it is 0.15 × 2000 + 50 = 350 per call: 28 calls). Once the index is set, w's
    // maintenance is 200 × (0.075 × 2000 + 50) = 40,000 against 10,000 of equity.
    const code = refusedWith(l, {
      type: 'trade',
      time: T0,
      buyer: 'dealer',
      seller: 'w',
      instrument: 'ETH-2000-C',
      size: units(200),
      price: px(50),
    });
    expect(code).toBe('no_price');
  });
});

describe('auto-deleveraging', () => {
  /** dan: long 50 at 2000 on 10,000 of cash; at 1700 his equity is −5,000. */
  function bankruptDan(l: DerivativesLedger): void {
    l.apply({ type: 'deposit', time: T0, to: 'dan', amount: usdc(10_000) });
    trade(l, T0, 'dan', 'bob', 'ETH-PERP', units(50), px(2000));
  }

  it('the fund is not a deleveraging counterparty ("the fund is not touched")', () => {
    const l = ledger();
    bankruptDan(l);
    l.apply({ type: 'deposit', time: T0, to: 'sam', amount: usdc(1_100) });
    trade(l, T0, 'alice', 'sam', 'ETH-PERP', units(10), px(2000));
    // 2080: sam's short has 300 left < 624; the fund takes it (short 10 at 2080), fee 156.
    l.apply({
      type: 'set-prices',
      time: T0 + 60,
      index: { ETH: px(2080) },
      marks: { 'ETH-PERP': px(2080) },
    });
    l.apply({ type: 'liquidate', time: T0 + 60, account: 'sam' });
    expect(quote(l.sub(FUND).cash)).toBe(156);
    // 1700: dan at −5,000, the fund's 156 cannot pay: ADL. Shorts: bob 50 (score 0.15 × 85,000 /
    // 25,000 = 0.51) and the fund 10 (score 380/2080 × 17,000 / 3,956 = 0.785): the fund first.
    l.apply({
      type: 'set-prices',
      time: T0 + 120,
      index: { ETH: px(1700) },
      marks: { 'ETH-PERP': px(1700) },
    });
    expect(l.ranking('ETH-PERP', -1n)).not.toContain(FUND);
    const events = l.apply({ type: 'liquidate', time: T0 + 120, account: 'dan' });
    // Were the fund a counterparty, it would close 10 at the bankruptcy price 1800 and pay 1,000.
    expect(events.map((e) => (e.type === 'deleveraged' ? e.counterparty : ''))).not.toContain(FUND);
  });

  it('a counterparty without profit is not bankrupted by deleveraging', () => {
    const l = ledger();
    bankruptDan(l);
    l.apply({
      type: 'set-prices',
      time: T0 + 60,
      index: { ETH: px(1700) },
      marks: { 'ETH-PERP': px(1700) },
    });
    // Before dan is liquidated, bob closes his short at 1700 against fay, who opens 50 short
    // there with 4,300 of cash (initial 5% × 85,000 = 4,250): fay has no profit at all.
    l.apply({ type: 'deposit', time: T0 + 60, to: 'fay', amount: usdc(4_300) });
    trade(l, T0 + 60, 'bob', 'fay', 'ETH-PERP', units(50), px(1700));
    // Bankruptcy price 1700 + 5,000 / 50 = 1800: closing there would cost fay 5,000 on 4,300 of
    // equity. A counterparty gives up at most its equity: fay can take 43 of the 50 and no one
    // else holds a short, so the deleveraging is refused (adl_failed) and nothing changes.
    expect(refusedWith(l, { type: 'liquidate', time: T0 + 60, account: 'dan' })).toBe('adl_failed');
    expect(quote(l.margin('fay').equity)).toBeGreaterThanOrEqual(0);
    conserved(l);
  });

  it('a bankruptcy with every mark at 0 is deleveraged to zero, not left negative', () => {
    const l = ledger();
    trade(l, T0, 'alice', 'bob', 'ETH-PERP', units(10), px(2000));
    // A mark of 0 is accepted by set-prices. alice: 10,000 − 10 × 2000 = −10,000; no fund.
    l.apply({ type: 'set-prices', time: T0 + 60, marks: { 'ETH-PERP': 0n } });
    const events = l.apply({ type: 'liquidate', time: T0 + 60, account: 'alice' });
    conserved(l);
    // With every mark at 0 the notional split would give every position a zero share (alice
    // closed out at 0 with −10,000 of cash): the deficit is split by size instead, so the
    // bankruptcy price is 0 + 10,000 / 10 = 1000 and alice ends at 0.
    expect(events[0]).toMatchObject({ type: 'deleveraged', price: px(1000) });
    expect(l.sub('alice').cash).toBe(0n);
  });

  it('ranks by profit share times leverage, as documented, not by mark/entry times leverage', () => {
    const l = ledger(1000);
    l.apply({ type: 'deposit', time: T0, to: 'mm', amount: usdc(1_000_000) });
    l.apply({ type: 'deposit', time: T0, to: 'A', amount: usdc(2_000) });
    l.apply({ type: 'deposit', time: T0, to: 'B', amount: usdc(3_000) });
    trade(l, T0, 'A', 'mm', 'ETH-PERP', units(10), px(1000));
    l.apply({ type: 'set-prices', time: T0, marks: { 'ETH-PERP': px(1090) } });
    trade(l, T0, 'B', 'mm', 'ETH-PERP', units(50), px(1090));
    l.apply({ type: 'set-prices', time: T0, marks: { 'ETH-PERP': px(1100) } });
    // A: mark/entry 1.1, equity 3,000, notional 11,000 (3.67x): published 4.03, code 0.1 × 3.67 = 0.37.
    // B: mark/entry 1.0092, equity 3,500, notional 55,000 (15.7x): published 15.9, code 0.0092 × 15.7 = 0.14.
    // Hyperliquid's published form would put B first; the ledger's documented form (profit as a
    // share of entry, times leverage: a position at a loss never ranks above one in profit) A.
    expect(l.ranking('ETH-PERP', 1n)).toEqual(['A', 'B']);
  });
});

describe('worked cases', () => {
  it('funding: a position opened after a funding event does not pay it; a partial close settles first', () => {
    const l = ledger();
    trade(l, T0, 'alice', 'bob', 'ETH-PERP', units(10), px(2000));
    l.apply({ type: 'set-prices', time: T0, marks: { 'ETH-PERP': px(2010) } });
    // 0.5% of 2000 = 10 per unit: alice pays 100 to bob.
    l.apply({ type: 'settle-funding', time: T0 + 8 * HOUR, instrument: 'ETH-PERP' });
    // carol opens 5 long after the event (from bob): nothing owed for the past.
    trade(l, T0 + 8 * HOUR, 'carol', 'bob', 'ETH-PERP', units(5), px(2010));
    expect(l.sub('carol').cash).toBe(cash(10_000));
    // alice closes 4 at 2010: realizes 4 × 10 = 40; 6 left.
    trade(l, T0 + 8 * HOUR, 'bob', 'alice', 'ETH-PERP', units(4), px(2010));
    expect(l.sub('alice').cash).toBe(cash(10_000 - 100 + 40));
    // Next interval, same premium: alice pays 6 × 10 = 60, carol 5 × 10 = 50, bob receives 110.
    const bob = l.sub('bob').cash;
    l.apply({ type: 'settle-funding', time: T0 + 16 * HOUR, instrument: 'ETH-PERP' });
    expect(l.sub('alice').cash).toBe(cash(10_000 - 100 + 40 - 60));
    expect(l.sub('carol').cash).toBe(cash(10_000 - 50));
    expect(l.sub('bob').cash - bob).toBe(cash(110));
    conserved(l);
  });

  it('zero and the largest prices and sizes: refusals are typed, value is conserved', () => {
    const l = ledger();
    const { cashMax, priceMax, sizeMax } = LEDGER_LIMITS;
    l.apply({ type: 'deposit', time: T0, to: 'big', amount: cashMax });
    l.apply({ type: 'deposit', time: T0, to: 'big2', amount: cashMax });
    l.apply({ type: 'set-prices', time: T0, marks: { 'ETH-PERP': priceMax } });
    trade(l, T0, 'big', 'big2', 'ETH-PERP', 1n, priceMax);
    expect(
      refusedWith(l, {
        type: 'trade',
        time: T0,
        buyer: 'big',
        seller: 'big2',
        instrument: 'ETH-PERP',
        size: sizeMax + 1n,
        price: 1n,
      }),
    ).toBe('invalid_number');
    expect(
      refusedWith(l, { type: 'set-prices', time: T0, marks: { 'ETH-PERP': priceMax + 1n } }),
    ).toBe('invalid_number');
    expect(refusedWith(l, { type: 'set-prices', time: T0, index: { ETH: -1n } })).toBe(
      'invalid_number',
    );
    // An index of 0 would read as no index at all: refused.
    expect(refusedWith(l, { type: 'set-prices', time: T0, index: { ETH: 0n } })).toBe(
      'invalid_number',
    );
    // Cash past the limit, by a deposit or a transfer in, is refused.
    expect(refusedWith(l, { type: 'deposit', time: T0, to: 'big', amount: 1n })).toBe(
      'limit_exceeded',
    );
    expect(refusedWith(l, { type: 'deposit', time: T0, to: 'alice', amount: cashMax + 1n })).toBe(
      'invalid_number',
    );
    // A mark of 0: big's long is worth 0 (equity still huge, maintenance 0).
    l.apply({ type: 'set-prices', time: T0, marks: { 'ETH-PERP': 0n } });
    expect(l.liquidatable('big')).toBe(false);
    expect(refusedWith(l, { type: 'deposit', time: T0 - 1, to: 'alice', amount: 1n })).toBe(
      'invalid_field',
    );
    conserved(l);
  });
});

// ---------------------------------------------------------------------------------------------
// Random properties.

const BTC_PERP: InstrumentSpec = {
  ...PERP,
  symbol: 'BTC-PERP',
  underlying: 'BTC',
  sizePremium: 0.0005,
};
const ETH_PERP: InstrumentSpec = { ...PERP, sizePremium: 0.001 };
const FUT_LONG: InstrumentSpec = { ...FUTURE, expiry: T0 + 1_000 * 24 * HOUR };
const PUT: InstrumentSpec = {
  ...CALL,
  symbol: 'ETH-2000-P',
  right: 'put',
  expiry: T0 + 1_000 * 24 * HOUR,
};
const CALL_LONG: InstrumentSpec = { ...CALL, expiry: T0 + 1_000 * 24 * HOUR };
const SPECS = [ETH_PERP, FUT_LONG, CALL_LONG, PUT, BTC_PERP];
const SYMBOLS = SPECS.map((s) => s.symbol);
const WHO = ['a', 'b', 'c', 'd', 'e', 'a/1', 'b/1', FUND];

type Step =
  | { k: 'trade'; buyer: number; seller: number; inst: number; size: number; off: number }
  | { k: 'move'; dt: number; eth: number; btc: number; basis: number }
  | { k: 'funding'; btc: boolean }
  | { k: 'liquidate'; who: number }
  | { k: 'withdraw'; who: number; amount: number }
  | { k: 'transfer'; from: number; to: number; amount: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('trade' as const),
      // Traders other than the fund (the fund only unwinds; tested on its own above); the seller
      // is a different account than the buyer.
      buyer: fc.nat(WHO.length - 2),
      seller: fc.nat(WHO.length - 3),
      inst: fc.nat(SPECS.length - 1),
      size: fc.integer({ min: 1, max: 200 }),
      // Mostly near the mark, sometimes far off it (up to ±30%).
      off: fc.oneof(fc.integer({ min: -20, max: 20 }), fc.integer({ min: -300, max: 300 })),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('move' as const),
      dt: fc.integer({ min: 0, max: 6 * HOUR }),
      eth: fc.integer({ min: -100, max: 100 }),
      btc: fc.integer({ min: -100, max: 100 }),
      basis: fc.integer({ min: -10, max: 10 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('funding' as const), btc: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant('liquidate' as const), who: fc.nat(WHO.length - 1) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('withdraw' as const),
      who: fc.nat(WHO.length - 1),
      amount: fc.integer({ min: 1, max: 3_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('transfer' as const),
      from: fc.nat(WHO.length - 1),
      to: fc.nat(WHO.length - 1),
      amount: fc.integer({ min: 1, max: 3_000 }),
    }),
  },
);

interface Violations {
  conservation: string[];
  sizes: string[];
  liquidatedHoldsPositions: string[];
  belowInitialNonReducing: string[];
  belowInitialExcludingFlips: string[];
  healthyToBelowMaintenance: string[];
  openInterest: string[];
  refusalChanged: string[];
  isolatedTwoInstruments: string[];
  liquidatedLeftNegativeOrMoreThanDust: string[];
  withdrawBelowInitial: string[];
}

/** Partial liquidation steps the random simulations went through (they must reach some). */
let partialSteps = 0;

function snapshot(l: DerivativesLedger): string {
  const accounts = [...l.accounts].map(([k, v]) => [
    k,
    v.mode,
    v.cash,
    [...v.positions],
    [...v.realized],
  ]);
  const instruments = [...l.instruments].map(([k, v]) => [k, { ...v, spec: undefined }]);
  return JSON.stringify([accounts, instruments, l.netDeposits, l.time], (_, v: unknown) =>
    typeof v === 'bigint' ? v.toString() : v,
  );
}

function simulate(steps: readonly Step[]): Violations {
  const v: Violations = {
    conservation: [],
    sizes: [],
    liquidatedHoldsPositions: [],
    belowInitialNonReducing: [],
    belowInitialExcludingFlips: [],
    healthyToBelowMaintenance: [],
    openInterest: [],
    refusalChanged: [],
    isolatedTwoInstruments: [],
    liquidatedLeftNegativeOrMoreThanDust: [],
    withdrawBelowInitial: [],
  };
  const l = new DerivativesLedger();
  for (const spec of SPECS) l.apply({ type: 'list-instrument', time: T0, spec });
  let eth = 2000;
  let btc = 60_000;
  let basis = 0;
  const prices = (): LedgerCommand & { type: 'set-prices' } => ({
    type: 'set-prices',
    time,
    index: { ETH: px(eth), BTC: px(btc) },
    marks: {
      'ETH-PERP': px(eth * (1 + basis / 1000)),
      'ETH-FUT': px(eth),
      'ETH-2000-C': px(Math.max(1, eth - 2000) + 40),
      'ETH-2000-P': px(Math.max(1, 2000 - eth) + 40),
      'BTC-PERP': px(btc * (1 - basis / 1000)),
    },
  });
  let time = T0;
  l.apply(prices());
  l.apply({ type: 'set-mode', time, account: 'a/1', mode: 'isolated' });
  l.apply({ type: 'set-mode', time, account: 'b/1', mode: 'isolated' });
  for (const w of WHO) {
    if (w !== FUND)
      l.apply({ type: 'deposit', time, to: w, amount: usdc(w.includes('/') ? 3_000 : 20_000) });
  }
  l.apply({ type: 'deposit', time, to: FUND, amount: usdc(300) });

  const check = (where: string) => {
    let total = 0n;
    const sizes = new Map<string, bigint>();
    for (const sub of l.accounts.values()) {
      total += sub.cash;
      for (const [symbol, p] of sub.positions) {
        total += p.quote;
        sizes.set(symbol, (sizes.get(symbol) ?? 0n) + p.size);
      }
    }
    if (total !== l.netDeposits) v.conservation.push(`${where}: ${total - l.netDeposits}`);
    for (const [symbol, size] of sizes)
      if (size !== 0n) v.sizes.push(`${where}: ${symbol} ${size}`);
    for (const w of ['a/1', 'b/1']) {
      if (l.sub(w).positions.size > 1) v.isolatedTwoInstruments.push(`${where}: ${w}`);
    }
    for (const symbol of SYMBOLS) {
      let longs = 0n;
      for (const sub of l.accounts.values()) {
        const p = sub.positions.get(symbol);
        if (p !== undefined && p.size > 0n) longs += p.size;
      }
      const oi = l.instrument(symbol).openInterest;
      if (oi !== longs) v.openInterest.push(`${where}: ${symbol} oi ${oi} longs ${longs}`);
    }
  };

  const run = (command: LedgerCommand, where: string): boolean => {
    const before = snapshot(l);
    try {
      l.apply(command);
      return true;
    } catch (error) {
      if (!(error instanceof FulcrumError)) throw error;
      if (snapshot(l) !== before) v.refusalChanged.push(where);
      return false;
    }
  };

  const liquidate = (who: string, where: string) => {
    let dust = 0n;
    for (const p of l.sub(who).positions.values()) dust += p.size < 0n ? -p.size : p.size;
    const sizesBefore = new Map([...l.sub(who).positions].map(([k, p]) => [k, p.size]));
    const before = snapshot(l);
    let events;
    try {
      events = l.apply({ type: 'liquidate', time, account: who });
    } catch (error) {
      if (!(error instanceof FulcrumError)) throw error;
      if (snapshot(l) !== before) v.refusalChanged.push(where);
      return;
    }
    const step = events.find((e) => e.type === 'liquidated' && e.closedPpm < 1_000_000n);
    if (step !== undefined && step.type === 'liquidated') {
      partialSteps += 1;
      // A partial step: every position less exactly its share (toward zero), equity kept >= 0,
      // and only for a solvent account above the threshold.
      for (const [symbol, size] of sizesBefore) {
        const expected = size - (size * step.closedPpm) / 1_000_000n;
        const now = l.sub(who).positions.get(symbol)?.size ?? 0n;
        if (now !== expected)
          v.liquidatedHoldsPositions.push(`${where}: ${symbol} ${now} not ${expected}`);
      }
      if (step.equity < 0n || l.margin(who).equity < 0n)
        v.liquidatedLeftNegativeOrMoreThanDust.push(`${where}: a partial step at negative equity`);
      return;
    }
    if (l.sub(who).positions.size > 0) v.liquidatedHoldsPositions.push(where);
    // Through the fund: what equity is left less the fee, or 0 after the fund paid (≥ 0).
    // Deleveraged: zero "to at most dust": the bankruptcy price per unit is rounded up, so at
    // most one numerator unit per size unit closed (allowing a few units below for the floors).
    const cash = l.sub(who).cash;
    const deleveraged = events.some((e) => e.type === 'deleveraged');
    if (deleveraged ? cash < -10n || cash > dust : cash < 0n) {
      v.liquidatedLeftNegativeOrMoreThanDust.push(`${where}: ${who} cash ${cash} (dust ${dust})`);
    }
  };

  steps.forEach((step, i) => {
    const where = `step ${i} ${JSON.stringify(step)}`;
    switch (step.k) {
      case 'trade': {
        const buyer = WHO[step.buyer] as string;
        const seller = WHO[(step.buyer + 1 + step.seller) % (WHO.length - 1)] as string;
        const symbol = SYMBOLS[step.inst] as string;
        const state = l.instrument(symbol);
        const mark = Number(state.mark) / 1e18;
        const price = Math.max(0.01, Math.round(mark * (1 + step.off / 1000) * 100) / 100);
        const size = units(step.size / 4);
        const sizeBefore = (w: string) => l.sub(w).positions.get(symbol)?.size ?? 0n;
        const before = new Map(
          [buyer, seller].map((w) => [w, { size: sizeBefore(w), m: l.margin(w) }]),
        );
        const ok = run(
          { type: 'trade', time, buyer, seller, instrument: symbol, size, price: px(price) },
          where,
        );
        if (ok) {
          for (const w of [buyer, seller]) {
            if (w === FUND) continue;
            const was = before.get(w);
            if (was === undefined) continue;
            const now = sizeBefore(w);
            const reducing =
              now === 0n ||
              (was.size !== 0n &&
                now > 0n === was.size > 0n &&
                (now < 0n ? -now : now) < (was.size < 0n ? -was.size : was.size));
            const flip = was.size !== 0n && now !== 0n && now > 0n !== was.size > 0n;
            const m = l.margin(w);
            if (!reducing && m.marginEquity < m.initial) {
              v.belowInitialNonReducing.push(
                `${where}: ${w} ${quote(m.marginEquity)} < ${quote(m.initial)}`,
              );
              if (!flip) v.belowInitialExcludingFlips.push(`${where}: ${w}`);
            }
            if (was.m.equity >= was.m.maintenance && m.equity < m.maintenance) {
              v.healthyToBelowMaintenance.push(
                `${where}: ${w} equity ${quote(was.m.equity)} -> ${quote(m.equity)} (maintenance ${quote(m.maintenance)})`,
              );
            }
          }
        }
        break;
      }
      case 'move':
        time += step.dt;
        eth = Math.max(50, Math.round(eth * (1 + step.eth / 1000) * 100) / 100);
        btc = Math.max(500, Math.round(btc * (1 + step.btc / 1000) * 100) / 100);
        basis = step.basis;
        run(prices(), where);
        break;
      case 'funding':
        time += 8 * HOUR;
        run(
          { type: 'settle-funding', time, instrument: step.btc ? 'BTC-PERP' : 'ETH-PERP' },
          where,
        );
        break;
      case 'liquidate':
        liquidate(WHO[step.who] as string, where);
        break;
      case 'withdraw':
      case 'transfer': {
        const from = WHO[step.k === 'withdraw' ? step.who : step.from] as string;
        const command: LedgerCommand =
          step.k === 'withdraw'
            ? { type: 'withdraw', time, from, amount: usdc(step.amount) }
            : {
                type: 'transfer',
                time,
                from,
                to: WHO[step.to] as string,
                amount: usdc(step.amount),
              };
        if (run(command, where) && l.sub(from).positions.size > 0) {
          const m = l.margin(from);
          if (m.marginEquity < m.initial || m.equity < m.initial)
            v.withdrawBelowInitial.push(`${where}: ${from}`);
        }
        break;
      }
    }
    check(where);
    for (const w of WHO) {
      if (w !== FUND && l.liquidatable(w)) {
        liquidate(w, `${where} (auto ${w})`);
        check(`${where} (auto ${w})`);
      }
    }
  });
  return v;
}

const RUNS = { numRuns: 300, seed: 20_300_101 };
const STEPS = fc.array(stepArb, { minLength: 20, maxLength: 200 });

describe('random properties', () => {
  it('Σ(cash + quote) = net deposits and Σ sizes = 0 after every command, accepted or refused', () => {
    fc.assert(
      fc.property(STEPS, (steps) => {
        const v = simulate(steps);
        expect(v.conservation).toEqual([]);
        expect(v.sizes).toEqual([]);
        expect(v.refusalChanged).toEqual([]);
        expect(v.isolatedTwoInstruments).toEqual([]);
        expect(v.withdrawBelowInitial).toEqual([]);
      }),
      RUNS,
    );
  });

  it('an accepted liquidation closes every position, or a step share of each of a solvent account', () => {
    fc.assert(
      fc.property(STEPS, (steps) => {
        const v = simulate(steps);
        expect(v.liquidatedHoldsPositions).toEqual([]);
        expect(v.liquidatedLeftNegativeOrMoreThanDust).toEqual([]);
      }),
      RUNS,
    );
    expect(partialSteps, 'no run reached a partial step').toBeGreaterThan(0);
  });

  it('no accepted trade leaves a non-reducing trader below initial margin (flips excluded)', () => {
    fc.assert(
      fc.property(STEPS, (steps) => {
        expect(simulate(steps).belowInitialExcludingFlips).toEqual([]);
      }),
      RUNS,
    );
  });

  it('no accepted trade leaves a non-reducing trader below initial margin (a flip is not reducing)', () => {
    fc.assert(
      fc.property(STEPS, (steps) => {
        expect(simulate(steps).belowInitialNonReducing).toEqual([]);
      }),
      RUNS,
    );
  });

  it('no accepted trade takes a trader from above maintenance to below it', () => {
    fc.assert(
      fc.property(STEPS, (steps) => {
        expect(simulate(steps).healthyToBelowMaintenance).toEqual([]);
      }),
      RUNS,
    );
  });

  it('open interest is the sum of long sizes', () => {
    fc.assert(
      fc.property(STEPS, (steps) => {
        expect(simulate(steps).openInterest).toEqual([]);
      }),
      RUNS,
    );
  });
});
