/**
 * The derivatives ledger: worked examples (every figure derived in the comments), the margin
 * modes, funding, expiry, liquidation through the fund, auto-deleveraging, refusals that change
 * nothing, and a seeded random simulation checking conservation after every command.
 */
import { describe, expect, it } from 'vitest';
import { FulcrumError } from '../base/errors.js';
import { SeededRandom } from '../math/random.js';
import type { InstrumentSpec } from './instruments.js';
import { portfolioMargin, underlyingMarkets } from './portfolioMargin.js';
import { flatSurface } from './volSurface.js';
import {
  DerivativesLedger,
  FUND,
  type LedgerCommand,
  type LedgerEvent,
  RATE_SCALE,
  scenarioRequirement,
  standardRequirement,
  VALUE_UNIT,
} from './ledger.js';

const T0 = 1_900_000_000;
const HOUR = 3_600;
/** Units of the underlying as a size (10^-8). */
const units = (x: number) => BigInt(Math.round(x * 1e8));
/** A price in PRICE_SCALE. */
const px = (x: number) => BigInt(Math.round(x * 1e6)) * 10n ** 12n;
/** USDC base units. */
const usdc = (x: number) => BigInt(Math.round(x * 1e6));
/** A position's average entry price, PRICE_SCALE: −quote / size, exact. */
const entry = (p: { size: bigint; quote: bigint } | undefined) =>
  p === undefined ? undefined : -p.quote / (p.size * RATE_SCALE);
/** A numerator as quote units (exact enough for the worked examples). */
const quote = (numerator: bigint) => Number(numerator) / Number(VALUE_UNIT);

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

/** A trade: `buyer` buys `size` of `instrument` from `seller` at `price`. */
function trade(
  l: DerivativesLedger,
  time: number,
  buyer: string,
  seller: string,
  instrument: string,
  size: bigint,
  price: bigint,
): LedgerEvent[] {
  return l.apply({ type: 'trade', time, buyer, seller, instrument, size, price });
}

function ledger(): DerivativesLedger {
  const l = new DerivativesLedger();
  for (const spec of [PERP, FUTURE, CALL]) l.apply({ type: 'list-instrument', time: T0, spec });
  l.apply({
    type: 'set-prices',
    time: T0,
    index: { ETH: px(2000) },
    marks: { 'ETH-PERP': px(2000), 'ETH-FUT': px(2000), 'ETH-2000-C': px(50) },
  });
  for (const who of ['alice', 'bob', 'carol']) {
    l.apply({ type: 'deposit', time: T0, to: who, amount: usdc(10_000) });
  }
  return l;
}

/** Σ cash + Σ quote over every sub-account: always the net deposits. */
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

function snapshot(l: DerivativesLedger): string {
  const accounts = [...l.accounts].map(([k, v]) => [k, v.mode, v.cash, [...v.positions]]);
  const instruments = [...l.instruments].map(([k, v]) => [k, { ...v, spec: undefined }]);
  return JSON.stringify([accounts, instruments, l.netDeposits, l.time], (_, v: unknown) =>
    typeof v === 'bigint' ? v.toString() : v,
  );
}

function refused(l: DerivativesLedger, command: LedgerCommand, code: string): void {
  const before = snapshot(l);
  let caught: unknown;
  try {
    l.apply(command);
  } catch (error) {
    caught = error;
  }
  expect(
    caught,
    JSON.stringify(command, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
  ).toBeInstanceOf(FulcrumError);
  expect((caught as FulcrumError).code).toBe(code);
  expect(snapshot(l), 'a refusal changed the ledger').toBe(before);
}

describe('trades, entry prices and realized profit', () => {
  it('a long from 2000, marked at 2100, half closed at 2200', () => {
    const l = ledger();
    // alice buys 10 ETH-PERP from bob at 2000: notional 20,000, initial 5% = 1,000.
    trade(l, T0, 'alice', 'bob', 'ETH-PERP', units(10), px(2000));
    const m = l.margin('alice');
    expect(quote(m.equity)).toBe(10_000);
    expect(quote(m.initial)).toBe(1_000);
    expect(quote(m.maintenance)).toBe(600);
    // Average entry: −quote / size = 2000.
    const position = l.sub('alice').positions.get('ETH-PERP');
    expect(position?.size).toBe(units(10));
    expect(entry(position)).toBe(px(2000));
    // Marked at 2100: alice +1,000, bob −1,000; positive profit counts at 90% in margin.
    l.apply({ type: 'set-prices', time: T0 + 60, marks: { 'ETH-PERP': px(2100) } });
    expect(quote(l.margin('alice').equity)).toBe(11_000);
    expect(quote(l.margin('alice').marginEquity)).toBe(10_900);
    expect(quote(l.margin('bob').equity)).toBe(9_000);
    // alice sells 5 to carol at 2200: she realizes 5 × (2200 − 2000) = 1,000 into cash; the 5
    // left keep the entry 2000.
    trade(l, T0 + 120, 'carol', 'alice', 'ETH-PERP', units(5), px(2200));
    expect(quote(l.sub('alice').cash)).toBe(11_000);
    const left = l.sub('alice').positions.get('ETH-PERP');
    expect(left?.size).toBe(units(5));
    expect(entry(left)).toBe(px(2000));
    // Flip: alice sells 8 more at 2150: closes 5 (realizing 5 × 150 = 750) and opens 3 short at 2150.
    trade(l, T0 + 180, 'carol', 'alice', 'ETH-PERP', units(8), px(2150));
    expect(quote(l.sub('alice').cash)).toBe(11_750);
    // Realized so far on ETH-PERP: 1,000 + 750; bob's and carol's positions are still open.
    expect(quote(l.sub('alice').realized.get('ETH-PERP') ?? 0n)).toBe(1_750);
    const short = l.sub('alice').positions.get('ETH-PERP');
    expect(short?.size).toBe(-units(3));
    expect(entry(short)).toBe(px(2150));
    conserved(l);
  });

  it('refuses what initial margin does not allow, and bad input, changing nothing', () => {
    const l = ledger();
    // 10,000 of cash allows 200,000 of notional at 5%: 100 ETH at 2000; 101 is too much.
    refused(
      l,
      {
        type: 'trade',
        time: T0,
        buyer: 'alice',
        seller: 'bob',
        instrument: 'ETH-PERP',
        size: units(101),
        price: px(2000),
      },
      'insufficient_margin',
    );
    trade(l, T0, 'alice', 'bob', 'ETH-PERP', units(100), px(2000));
    refused(
      l,
      {
        type: 'trade',
        time: T0,
        buyer: 'alice',
        seller: 'bob',
        instrument: 'DOGE-PERP',
        size: units(1),
        price: px(1),
      },
      'unknown_instrument',
    );
    refused(
      l,
      {
        type: 'trade',
        time: T0,
        buyer: 'alice',
        seller: 'alice',
        instrument: 'ETH-PERP',
        size: units(1),
        price: px(2000),
      },
      'same_account',
    );
    refused(
      l,
      {
        type: 'trade',
        time: T0,
        buyer: 'carol',
        seller: 'bob',
        instrument: 'ETH-PERP',
        size: 0n,
        price: px(2000),
      },
      'invalid_number',
    );
    refused(
      l,
      {
        type: 'trade',
        time: T0,
        buyer: 'carol',
        seller: 'bob',
        instrument: 'ETH-PERP',
        size: units(1),
        price: -1n,
      },
      'invalid_number',
    );
    refused(l, { type: 'deposit', time: T0, to: 'carol', amount: -5n }, 'invalid_number');
    refused(l, { type: 'deposit', time: T0 - 1, to: 'carol', amount: 5n }, 'invalid_field');
    // Withdrawals keep initial margin, and unrealized profit cannot leave before it is realized.
    refused(
      l,
      { type: 'withdraw', time: T0, from: 'alice', amount: usdc(1) },
      'insufficient_margin',
    );
    l.apply({ type: 'set-prices', time: T0, marks: { 'ETH-PERP': px(2100) } });
    // alice is up 10,000 but her cash (10,000) still only just covers initial (5% of 210,000 = 10,500): no.
    refused(
      l,
      { type: 'withdraw', time: T0, from: 'alice', amount: usdc(1) },
      'insufficient_margin',
    );
    refused(l, { type: 'withdraw', time: T0, from: 'bob', amount: usdc(1) }, 'insufficient_margin');
    refused(l, { type: 'withdraw', time: T0, from: FUND, amount: usdc(1) }, 'reserved_account');
    // A reducing trade is allowed below initial margin: bob (down 10,000) buys back 10.
    expect(l.margin('bob').marginEquity < l.margin('bob').initial).toBe(true);
    trade(l, T0, 'bob', 'carol', 'ETH-PERP', units(10), px(2100));
    conserved(l);
  });
});

describe('funding', () => {
  it('pays the clamped premium of mark over index, longs to shorts, and conserves value', () => {
    const l = ledger();
    trade(l, T0, 'alice', 'bob', 'ETH-PERP', units(10), px(2000));
    l.apply({ type: 'set-prices', time: T0, marks: { 'ETH-PERP': px(2010) } });
    refused(
      l,
      { type: 'settle-funding', time: T0 + HOUR, instrument: 'ETH-PERP' },
      'funding_not_due',
    );
    refused(
      l,
      { type: 'settle-funding', time: T0 + 8 * HOUR, instrument: 'ETH-FUT' },
      'not_perpetual',
    );
    // Premium (2010 − 2000) / 2000 = 0.5%, inside the 0.75% clamp: 10 per ETH, 100 for 10 ETH.
    const [event] = l.apply({
      type: 'settle-funding',
      time: T0 + 8 * HOUR,
      instrument: 'ETH-PERP',
    });
    expect(event).toMatchObject({ type: 'funding', ratePpm: 5_000 });
    expect(quote(l.sub('alice').cash)).toBe(9_900);
    expect(quote(l.sub('bob').cash)).toBe(10_100);
    // 2% premium: clamped to 0.75%, 15 per ETH.
    l.apply({ type: 'set-prices', time: T0 + 8 * HOUR, marks: { 'ETH-PERP': px(2040) } });
    l.apply({ type: 'settle-funding', time: T0 + 16 * HOUR, instrument: 'ETH-PERP' });
    expect(quote(l.sub('alice').cash)).toBe(9_750);
    expect(quote(l.sub('bob').cash)).toBe(10_250);
    // Below the index: shorts pay longs.
    l.apply({ type: 'set-prices', time: T0 + 16 * HOUR, marks: { 'ETH-PERP': px(1990) } });
    l.apply({ type: 'settle-funding', time: T0 + 24 * HOUR, instrument: 'ETH-PERP' });
    expect(quote(l.sub('alice').cash)).toBe(9_850);
    conserved(l);
  });
});

describe('expiry', () => {
  it('settles a future at the index and an option at its intrinsic value', () => {
    const l = ledger();
    trade(l, T0, 'alice', 'bob', 'ETH-FUT', units(2), px(2000));
    // carol buys 4 calls at 50 from bob: she pays 200 in premium (it sits in her position's quote).
    trade(l, T0, 'carol', 'bob', 'ETH-2000-C', units(4), px(50));
    refused(l, { type: 'expire', time: T0 + HOUR, instrument: 'ETH-FUT' }, 'not_expired');
    refused(l, { type: 'expire', time: T0 + 24 * HOUR, instrument: 'ETH-PERP' }, 'not_expiring');
    l.apply({ type: 'set-prices', time: T0 + 24 * HOUR, index: { ETH: px(2150) } });
    l.apply({ type: 'expire', time: T0 + 24 * HOUR, instrument: 'ETH-FUT' });
    l.apply({ type: 'expire', time: T0 + 24 * HOUR, instrument: 'ETH-2000-C' });
    // Future: alice +2 × 150 = 300; option: 4 × (2150 − 2000) = 600 for a premium of 200.
    expect(quote(l.sub('alice').cash)).toBe(10_300);
    expect(quote(l.sub('carol').cash)).toBe(10_400);
    expect(quote(l.sub('bob').cash)).toBe(10_000 - 300 + 200 - 600);
    expect(l.sub('alice').positions.size + l.sub('carol').positions.size).toBe(0);
    refused(
      l,
      {
        type: 'trade',
        time: T0 + 24 * HOUR,
        buyer: 'alice',
        seller: 'bob',
        instrument: 'ETH-FUT',
        size: units(1),
        price: px(2150),
      },
      'instrument_settled',
    );
    conserved(l);
  });
});

/** The ledger with `alice/1` isolated, given `cash` by `alice`, long 10 ETH-PERP from bob at 2000. */
function isolatedLong(cash: number): DerivativesLedger {
  const l = ledger();
  l.apply({ type: 'set-mode', time: T0, account: 'alice/1', mode: 'isolated' });
  l.apply({ type: 'transfer', time: T0, from: 'alice', to: 'alice/1', amount: usdc(cash) });
  trade(l, T0, 'alice/1', 'bob', 'ETH-PERP', units(10), px(2000));
  return l;
}

describe('margin modes', () => {
  it('an isolated sub-account holds one instrument, and its liquidation leaves the rest unchanged', () => {
    // 1,000 isolated allows 20,000 of notional: 10 ETH at 2000.
    const l = isolatedLong(1_000);
    refused(
      l,
      {
        type: 'trade',
        time: T0,
        buyer: 'alice/1',
        seller: 'bob',
        instrument: 'ETH-FUT',
        size: units(1),
        price: px(2000),
      },
      'isolated_one_instrument',
    );
    refused(l, { type: 'set-mode', time: T0, account: 'alice/1', mode: 'cross' }, 'has_positions');
    trade(l, T0, 'alice', 'carol', 'ETH-FUT', units(10), px(2000));
    const crossBefore = l.sub('alice');
    // ETH 1930: the isolated long has lost 700 of its 1,000: equity 300 < 3% of 19,300 = 579.
    l.apply({
      type: 'set-prices',
      time: T0 + 60,
      index: { ETH: px(1930) },
      marks: { 'ETH-PERP': px(1930), 'ETH-FUT': px(1930) },
    });
    expect(l.liquidatable('alice/1')).toBe(true);
    expect(l.liquidatable('alice')).toBe(false);
    const [event] = l.apply({ type: 'liquidate', time: T0 + 60, account: 'alice/1' });
    // The fund takes the position at 1930; its fee is 0.75% of 19,300 = 144.75, out of the 300 left.
    expect(event).toMatchObject({ type: 'liquidated', account: 'alice/1', fundPaid: 0n });
    expect(quote((event as Extract<LedgerEvent, { type: 'liquidated' }>).fee)).toBe(144.75);
    expect(quote(l.sub('alice/1').cash)).toBe(155.25);
    expect(l.sub('alice/1').positions.size).toBe(0);
    expect(l.sub(FUND).positions.get('ETH-PERP')?.size).toBe(units(10));
    expect(l.sub('alice')).toBe(crossBefore);
    conserved(l);
  });

  it('cross margin offsets a gain against a loss; unrealized profit counts at a haircut and a cap', () => {
    const l = ledger();
    // carol: long 10 perp, short 10 future: hedged. Moves cancel in equity.
    trade(l, T0, 'carol', 'alice', 'ETH-PERP', units(10), px(2000));
    trade(l, T0, 'bob', 'carol', 'ETH-FUT', units(10), px(2000));
    l.apply({ type: 'set-prices', time: T0, marks: { 'ETH-PERP': px(2500), 'ETH-FUT': px(2500) } });
    const m = l.margin('carol');
    // Equity 10,000 (+5,000 − 5,000); the 5,000 profit counts at 90% (4,500): margin equity 9,500.
    expect(quote(m.equity)).toBe(10_000);
    expect(quote(m.marginEquity)).toBe(9_500);
    // Requirements: 5% of 25,000 twice.
    expect(quote(m.initial)).toBe(2_500);
    expect(l.liquidatable('carol')).toBe(false);
    conserved(l);
  });

  it('a larger position needs a larger margin ratio (the size premium)', () => {
    const l = new DerivativesLedger();
    l.apply({ type: 'list-instrument', time: T0, spec: { ...PERP, sizePremium: 0.001 } });
    l.apply({
      type: 'set-prices',
      time: T0,
      index: { ETH: px(2000) },
      marks: { 'ETH-PERP': px(2000) },
    });
    l.apply({ type: 'deposit', time: T0, to: 'whale', amount: usdc(10_000_000) });
    l.apply({ type: 'deposit', time: T0, to: 'mm', amount: usdc(10_000_000) });
    // 100 ETH: max(5%, 4% + 0.1% × 10) = 5%; 10,000 ETH: max(5%, 4% + 0.1% × 100) = 14%.
    trade(l, T0, 'whale', 'mm', 'ETH-PERP', units(100), px(2000));
    expect(quote(l.margin('whale').initial)).toBe(10_000);
    trade(l, T0, 'whale', 'mm', 'ETH-PERP', units(9_900), px(2000));
    expect(quote(l.margin('whale').initial)).toBeCloseTo(0.14 * 20_000_000, 6);
    conserved(l);
  });
});

describe('margin rules, one example each', () => {
  it('a transfer out of a sub-account is checked against initial margin', () => {
    // 10 ETH at 2000 needs 1,000 initial: of 1,500, 500 may leave, 500.01 may not.
    const l = isolatedLong(1_500);
    refused(
      l,
      { type: 'transfer', time: T0, from: 'alice/1', to: 'alice', amount: usdc(500.01) },
      'insufficient_margin',
    );
    l.apply({ type: 'transfer', time: T0, from: 'alice/1', to: 'alice', amount: usdc(500) });
    expect(quote(l.sub('alice/1').cash)).toBe(1_000);
    expect(quote(l.sub('alice').cash)).toBe(9_000);
    conserved(l);
  });

  it('a sub-account name outside the pattern is refused, and nothing changes', () => {
    const l = ledger();
    refused(l, { type: 'deposit', time: T0, to: 'a b', amount: usdc(1) }, 'invalid_field');
    refused(
      l,
      { type: 'transfer', time: T0, from: 'alice', to: '', amount: usdc(1) },
      'invalid_field',
    );
    refused(
      l,
      {
        type: 'trade',
        time: T0,
        buyer: 'alice',
        seller: '#bob',
        instrument: 'ETH-PERP',
        size: units(1),
        price: px(2000),
      },
      'invalid_field',
    );
  });

  it('unrealized profit counts at most up to the cash (the cap)', () => {
    const l = ledger();
    trade(l, T0, 'alice', 'bob', 'ETH-PERP', units(10), px(2000));
    l.apply({ type: 'set-prices', time: T0, marks: { 'ETH-PERP': px(5000) } });
    const m = l.margin('alice');
    // Profit 30,000: 90% is 27,000, capped at the cash, 10,000. Margin equity 40,000 − 30,000 + 10,000.
    expect(quote(m.equity)).toBe(40_000);
    expect(quote(m.marginEquity)).toBe(20_000);
    // What the profit allows: 10 more ETH at 5000 needs 2,500 more initial (5%): allowed...
    trade(l, T0, 'alice', 'carol', 'ETH-PERP', units(10), px(5000));
    // ...but not 150 more (37,500 of initial more than the 20,000 − 5,000 margin equity left).
    refused(
      l,
      {
        type: 'trade',
        time: T0,
        buyer: 'alice',
        seller: 'carol',
        instrument: 'ETH-PERP',
        size: units(150),
        price: px(5000),
      },
      'insufficient_margin',
    );
  });

  it("the size premium grows a short option's shares of the index too", () => {
    const state = {
      spec: { ...CALL, sizePremium: 0.001 },
      index: px(2000),
      mark: px(50),
      funding: 0n,
      lastFunding: 0,
      settled: false,
      settlementIndex: 0n,
      openInterest: 0n,
    };
    // At the money: 100 short: max(15%, 12% + 0.1% × 10) = 15% of 200,000 + 5,000 of mark value.
    const small = standardRequirement(state, -units(100));
    expect(quote(small.initial)).toBe(0.15 * 200_000 + 5_000);
    expect(quote(small.maintenance)).toBe(0.075 * 200_000 + 5_000);
    // 10,000 short: max(15%, 12% + 0.1% × 100) = 22%; maintenance max(7.5%, 6% + 10%) = 16%.
    const large = standardRequirement(state, -units(10_000));
    expect(quote(large.initial)).toBeCloseTo(0.22 * 20_000_000 + 500_000, 4);
    expect(quote(large.maintenance)).toBeCloseTo(0.16 * 20_000_000 + 500_000, 4);
  });
});

describe('partial liquidation', () => {
  it('a large solvent account loses 20% of each position a step, then the rest once small', () => {
    const l = ledger();
    l.apply({ type: 'deposit', time: T0, to: 'whale', amount: usdc(20_000) });
    l.apply({ type: 'deposit', time: T0, to: 'mm', amount: usdc(1_000_000) });
    // 100 ETH long at 2000: 200,000 of notional, 10,000 initial (5%).
    trade(l, T0, 'whale', 'mm', 'ETH-PERP', units(100), px(2000));
    const mark = (price: number) =>
      l.apply({
        type: 'set-prices',
        time: T0,
        index: { ETH: px(price) },
        marks: { 'ETH-PERP': px(price) },
      });
    // At 1855: equity 20,000 − 14,500 = 5,500 below 3% of 185,500 = 5,565.
    mark(1855);
    expect(l.liquidatable('whale')).toBe(true);
    const [step] = l.apply({ type: 'liquidate', time: T0, account: 'whale' });
    // 185,500 > 100,000: the fund takes 20 ETH at 1855; the fee is 0.75% of 37,100 = 278.25.
    expect(step).toMatchObject({ type: 'liquidated', closedPpm: 200_000n, fundPaid: 0n });
    expect(quote((step as Extract<LedgerEvent, { type: 'liquidated' }>).fee)).toBe(278.25);
    expect(l.sub('whale').positions.get('ETH-PERP')?.size).toBe(units(80));
    expect(l.sub(FUND).positions.get('ETH-PERP')?.size).toBe(units(20));
    // Equity 5,500 − 278.25 = 5,221.75 against 3% of 148,400 = 4,452: it stands.
    expect(quote(l.margin('whale').equity)).toBe(5_221.75);
    expect(l.liquidatable('whale')).toBe(false);
    conserved(l);
    // At 1800 it falls again: steps while above 100,000 of notional, then the rest at once.
    mark(1800);
    const shares: bigint[] = [];
    while (l.liquidatable('whale')) {
      for (const e of l.apply({ type: 'liquidate', time: T0, account: 'whale' }))
        if (e.type === 'liquidated') shares.push(e.closedPpm);
    }
    // 80 ETH (144,000) → 64 (115,200) → 51.2 (92,160), then the whole.
    expect(shares).toEqual([200_000n, 200_000n, 1_000_000n]);
    expect(l.sub('whale').positions.size).toBe(0);
    expect(l.sub('whale').cash).toBeGreaterThanOrEqual(0n);
    conserved(l);
  });

  it('a bankrupt account is liquidated whole, however large', () => {
    const l = ledger();
    l.apply({ type: 'deposit', time: T0, to: 'whale', amount: usdc(20_000) });
    l.apply({ type: 'deposit', time: T0, to: 'mm', amount: usdc(1_000_000) });
    l.apply({ type: 'deposit', time: T0, to: FUND, amount: usdc(100_000) });
    trade(l, T0, 'whale', 'mm', 'ETH-PERP', units(100), px(2000));
    // At 1700: equity 20,000 − 30,000 = −10,000: the fund takes everything and pays the deficit.
    l.apply({
      type: 'set-prices',
      time: T0,
      index: { ETH: px(1700) },
      marks: { 'ETH-PERP': px(1700) },
    });
    const [event] = l.apply({ type: 'liquidate', time: T0, account: 'whale' });
    expect(event).toMatchObject({ type: 'liquidated', closedPpm: 1_000_000n, fee: 0n });
    expect(quote((event as Extract<LedgerEvent, { type: 'liquidated' }>).fundPaid)).toBe(10_000);
    expect(l.sub('whale').positions.size).toBe(0);
    conserved(l);
  });
});

describe('bankruptcy', () => {
  function bankrupt(fund: number) {
    const l = ledger();
    for (const who of ['dan', 'erin'])
      l.apply({ type: 'deposit', time: T0, to: who, amount: usdc(10_000) });
    if (fund > 0) l.apply({ type: 'deposit', time: T0, to: FUND, amount: usdc(fund) });
    // Shorts: bob 20 ETH (from alice), erin 10 (from carol); dan long 50 at 10,000 of cash (5x).
    trade(l, T0, 'alice', 'bob', 'ETH-PERP', units(20), px(2000));
    trade(l, T0, 'carol', 'erin', 'ETH-PERP', units(10), px(2000));
    trade(l, T0, 'dan', 'bob', 'ETH-PERP', units(30), px(2000));
    trade(l, T0, 'dan', 'erin', 'ETH-PERP', units(20), px(2000));
    // ETH 1700: dan has lost 50 × 300 = 15,000 of his 10,000: equity −5,000.
    l.apply({
      type: 'set-prices',
      time: T0 + 60,
      index: { ETH: px(1700) },
      marks: { 'ETH-PERP': px(1700) },
    });
    return l;
  }

  it('the insurance fund pays a bankruptcy it can cover', () => {
    const l = bankrupt(8_000);
    expect(quote(l.margin('dan').equity)).toBe(-5_000);
    const [event] = l.apply({ type: 'liquidate', time: T0 + 60, account: 'dan' });
    expect(event).toMatchObject({ type: 'liquidated', fee: 0n });
    expect(quote((event as Extract<LedgerEvent, { type: 'liquidated' }>).fundPaid)).toBe(5_000);
    expect(quote(l.sub('dan').cash)).toBe(0);
    expect(quote(l.sub(FUND).cash)).toBe(3_000);
    conserved(l);
  });

  it('without a fund, the most profitable and leveraged shorts are deleveraged at the bankruptcy price', () => {
    const l = bankrupt(0);
    // Shorts: bob 50 (from 2000, +15,000 on 10,000 of cash: leverage 85,000/25,000 = 3.4),
    // erin 30 (+9,000 on 10,000: leverage 51,000/19,000 = 2.68); profit share 15% each: bob first.
    expect(l.ranking('ETH-PERP', -1n)).toEqual(['bob', 'erin']);
    const events = l.apply({ type: 'liquidate', time: T0 + 60, account: 'dan' });
    // Bankruptcy price: 1700 + 5,000 / 50 = 1800. bob takes all 50 at 1800: he closes his short
    // at 1800 instead of 1700, giving up 5,000 of his profit; dan ends at zero.
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'deleveraged',
      account: 'dan',
      counterparty: 'bob',
      size: units(50),
      price: px(1800),
    });
    expect(quote(l.margin('dan').equity)).toBe(0);
    expect(l.sub('dan').positions.size).toBe(0);
    expect(l.sub('bob').positions.size).toBe(0);
    expect(quote(l.sub('bob').cash)).toBe(10_000 + 50 * 200);
    expect(l.sub(FUND).positions.size).toBe(0);
    conserved(l);
  });

  it('a sub-account that meets maintenance is not liquidated', () => {
    const l = ledger();
    refused(l, { type: 'liquidate', time: T0, account: 'alice' }, 'not_liquidatable');
    trade(l, T0, 'alice', 'bob', 'ETH-PERP', units(10), px(2000));
    refused(l, { type: 'liquidate', time: T0, account: 'alice' }, 'not_liquidatable');
    refused(l, { type: 'liquidate', time: T0, account: FUND }, 'reserved_account');
  });
});

describe('seeded random simulation', () => {
  it('conserves value and keeps longs equal to shorts after every command, accepted or refused', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = new SeededRandom(seed);
      const l = ledger();
      const who = ['alice', 'bob', 'carol', 'dan', 'erin', 'fay', 'alice/1', 'bob/1'];
      l.apply({ type: 'set-mode', time: T0, account: 'alice/1', mode: 'isolated' });
      l.apply({ type: 'set-mode', time: T0, account: 'bob/1', mode: 'isolated' });
      for (const w of who) l.apply({ type: 'deposit', time: T0, to: w, amount: usdc(5_000) });
      l.apply({ type: 'deposit', time: T0, to: FUND, amount: usdc(2_000) });
      let time = T0;
      let price = 2000;
      let accepted = 0;
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(random.next() * xs.length)] as T;
      for (let step = 0; step < 400; step++) {
        const roll = random.next();
        let command: LedgerCommand;
        if (roll < 0.45) {
          const instrument = pick(['ETH-PERP', 'ETH-FUT', 'ETH-2000-C']);
          const buyer = pick(who);
          const seller = pick(who);
          const p =
            instrument === 'ETH-2000-C'
              ? Math.max(1, price - 2000 + 40)
              : price * (1 + (random.next() - 0.5) * 0.01);
          command = {
            type: 'trade',
            time,
            buyer,
            seller,
            instrument,
            size: units(Math.ceil(random.next() * 30) / 4),
            price: px(Math.round(p * 100) / 100),
          };
        } else if (roll < 0.7) {
          time += Math.floor(random.next() * 1_800);
          price *= Math.exp((random.next() - 0.52) * 0.06);
          const mark = price * (1 + (random.next() - 0.5) * 0.01);
          command = {
            type: 'set-prices',
            time,
            index: { ETH: px(Math.round(price * 100) / 100) },
            marks: {
              'ETH-PERP': px(Math.round(mark * 100) / 100),
              'ETH-FUT': px(Math.round(price * 100) / 100),
              'ETH-2000-C': px(Math.round(Math.max(1, price - 2000 + 40) * 100) / 100),
            },
          };
        } else if (roll < 0.8) {
          time += 8 * HOUR;
          command = { type: 'settle-funding', time, instrument: 'ETH-PERP' };
        } else if (roll < 0.95) {
          command = { type: 'liquidate', time, account: pick(who) };
        } else {
          command = {
            type: 'withdraw',
            time,
            from: pick(who),
            amount: usdc(Math.ceil(random.next() * 2_000)),
          };
        }
        const before = snapshot(l);
        try {
          l.apply(command);
          accepted++;
        } catch (error) {
          if (!(error instanceof FulcrumError)) throw error;
          expect(snapshot(l), `${seed}/${step}: a refusal changed the ledger`).toBe(before);
        }
        conserved(l);
        // Nobody is left below maintenance for long: liquidate whoever is.
        for (const w of who) {
          if (!l.liquidatable(w)) continue;
          try {
            l.apply({ type: 'liquidate', time, account: w });
          } catch (error) {
            if (!(error instanceof FulcrumError) || error.code !== 'adl_failed') throw error;
          }
          conserved(l);
        }
      }
      expect(accepted, `seed ${seed}`).toBeGreaterThan(100);
    }
  });
});

describe('portfolio margin mode', () => {
  it('a short straddle needs less in portfolio mode than in cross mode', () => {
    const requirement = scenarioRequirement((positions, indices, time) =>
      portfolioMargin(positions, {
        time,
        underlyings: underlyingMarkets(
          [...indices].map(([u, index]) => [u, { index, surface: flatSurface(0.7) }]),
        ),
      }),
    );
    const l = new DerivativesLedger(undefined, requirement);
    const PUT: InstrumentSpec = { ...CALL, symbol: 'ETH-2000-P', right: 'put' };
    for (const spec of [PERP, CALL, PUT]) l.apply({ type: 'list-instrument', time: T0, spec });
    l.apply({
      type: 'set-prices',
      time: T0,
      index: { ETH: px(2000) },
      marks: { 'ETH-PERP': px(2000), 'ETH-2000-C': px(50), 'ETH-2000-P': px(50) },
    });
    for (const who of ['cross', 'pm', 'dealer'])
      l.apply({ type: 'deposit', time: T0, to: who, amount: usdc(100_000) });
    l.apply({ type: 'set-mode', time: T0, account: 'pm', mode: 'portfolio' });
    // Both sell 20 at-the-money straddles (a call and a put each): their deltas nearly cancel.
    for (const who of ['cross', 'pm']) {
      for (const instrument of ['ETH-2000-C', 'ETH-2000-P']) {
        l.apply({
          type: 'trade',
          time: T0,
          buyer: 'dealer',
          seller: who,
          instrument,
          size: units(20),
          price: px(50),
        });
      }
    }
    const cross = l.margin('cross');
    const pm = l.margin('pm');
    expect(pm.initial > 0n).toBe(true);
    expect(pm.initial < cross.initial).toBe(true);
    // Maintenance is 80% of initial in portfolio mode.
    expect(quote(pm.maintenance)).toBeCloseTo(0.8 * quote(pm.initial), 4);
    conserved(l);
  });
});
