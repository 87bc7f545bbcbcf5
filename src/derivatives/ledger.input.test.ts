/**
 * What the ledger takes in: names that are properties of every JavaScript object (`valueOf`,
 * `constructor`, `__proto__`) are names and nothing more; sub-account names follow the engine's
 * account ids with a sub-account number from 0 to 255 written canonically; an instrument is
 * listed only before its expiry; every collection and amount is bounded; every value that
 * enters the ledger's state is checked; and messages quote what they were given short, on one
 * line. Each refusal leaves the state hash as it was.
 */
import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../test/fixtures/refusal.js';
import { FulcrumError } from '../base/errors.js';
import type { InstrumentSpec } from './instruments.js';
import {
  DerivativesLedger,
  isSubAccountName,
  LEDGER_LIMITS,
  type LedgerCommand,
  type SubAccount,
  VALUE_UNIT,
} from './ledger.js';
import { ledgerHash, restoreLedger, serializeLedger } from './ledgerCodec.js';

const T0 = 1_900_000_000;
const DAY = 86_400;
const px = (x: number) => BigInt(Math.round(x * 1e6)) * 10n ** 12n;
const units = (x: number) => BigInt(Math.round(x * 1e8));
const usdc = (x: number) => BigInt(Math.round(x * 1e6));

/** Names every JavaScript object answers to through its prototype. */
const PROTOTYPE_NAMES = ['valueOf', 'toString', 'constructor', 'hasOwnProperty', '__proto__'];

function perpetual(symbol: string, underlying: string): InstrumentSpec {
  return {
    kind: 'perpetual',
    symbol,
    underlying,
    initialMargin: 0.1,
    maintenanceMargin: 0.05,
    sizePremium: 0,
    fundingIntervalSeconds: 3_600,
    fundingClamp: 0.01,
  };
}

function future(symbol: string, underlying: string, expiry: number): InstrumentSpec {
  return {
    kind: 'future',
    symbol,
    underlying,
    initialMargin: 0.1,
    maintenanceMargin: 0.05,
    sizePremium: 0,
    expiry,
  };
}

/** Applies `command`, which must be refused with `code` (at `field`), changing nothing. */
function refused(l: DerivativesLedger, command: unknown, code: string, field?: string): string {
  const before = ledgerHash(l);
  let message = '';
  expectRefusal(
    () => {
      try {
        l.apply(command as LedgerCommand);
      } catch (error) {
        if (error instanceof FulcrumError) message = error.message;
        throw error;
      }
    },
    code,
    field,
  );
  expect(ledgerHash(l)).toBe(before);
  return message;
}

function conserved(l: DerivativesLedger): void {
  let total = 0n;
  for (const sub of l.accounts.values()) {
    total += sub.cash;
    for (const p of sub.positions.values()) total += p.quote;
  }
  expect(total).toBe(l.netDeposits);
}

describe('names that are properties of every object are only names', () => {
  const valid = PROTOTYPE_NAMES.filter((name) => name !== '__proto__');

  it.each(valid)('an instrument and an underlying named %s: every command', (name) => {
    const l = new DerivativesLedger();
    const fut = `${name}-F`;
    l.apply({ type: 'list-instrument', time: T0, spec: perpetual(name, name) });
    l.apply({ type: 'list-instrument', time: T0, spec: future(fut, name, T0 + DAY) });
    l.apply({
      type: 'set-prices',
      time: T0,
      index: { [name]: px(2000) },
      marks: { [name]: px(2000), [fut]: px(2000) },
      volatility: { [name]: 0.6 },
    });
    for (const who of [name, 'mm']) {
      l.apply({ type: 'deposit', time: T0, to: who, amount: usdc(100_000) });
    }
    l.apply({
      type: 'trade',
      time: T0,
      buyer: name,
      seller: 'mm',
      instrument: name,
      size: units(10),
      price: px(2000),
    });
    // A set-prices that leaves the mark out keeps the mark: a bigint, never Object.prototype's
    // function of that name.
    l.apply({ type: 'set-prices', time: T0 + 1, index: { [name]: px(2010) } });
    l.apply({ type: 'set-prices', time: T0 + 2 });
    expect(l.instrument(name).mark).toBe(px(2000));
    expect(l.instrument(name).index).toBe(px(2010));
    expect(l.volatility.get(name)).toBe(0.6);
    l.apply({ type: 'settle-funding', time: T0 + 3_600, instrument: name });
    l.apply({ type: 'withdraw', time: T0 + 3_600, from: name, amount: usdc(1) });
    l.apply({ type: 'transfer', time: T0 + 3_600, from: name, to: `${name}/1`, amount: usdc(1) });
    l.apply({ type: 'set-mode', time: T0 + 3_600, account: `${name}/1`, mode: 'isolated' });
    refused(l, { type: 'liquidate', time: T0 + 3_600, account: name }, 'not_liquidatable');
    // The future settles at the first index set at or after its expiry.
    l.apply({ type: 'set-prices', time: T0 + DAY, index: { [name]: px(1990) } });
    expect(l.apply({ type: 'expire', time: T0 + DAY, instrument: fut })).toEqual([
      { type: 'settled', instrument: fut, price: px(1990) },
    ]);
    const margin = l.margin(name);
    expect(typeof margin.equity).toBe('bigint');
    conserved(l);
    // The state reads back to itself.
    const back = restoreLedger(new DerivativesLedger(), serializeLedger(l));
    expect(ledgerHash(back)).toBe(ledgerHash(l));
  });

  it.each(valid)(
    'set-prices naming an unlisted %s is refused, not read from the prototype',
    (name) => {
      const l = new DerivativesLedger();
      l.apply({ type: 'list-instrument', time: T0, spec: perpetual('ETH-PERP', 'ETH') });
      refused(
        l,
        { type: 'set-prices', time: T0, marks: { [name]: px(1) } },
        'unknown_instrument',
        `marks.${name}`,
      );
      refused(
        l,
        { type: 'set-prices', time: T0, index: { [name]: px(1) } },
        'unknown_asset',
        `index.${name}`,
      );
      refused(
        l,
        { type: 'set-prices', time: T0, volatility: { [name]: 0.5 } },
        'unknown_asset',
        `volatility.${name}`,
      );
      refused(l, { type: 'settle-funding', time: T0, instrument: name }, 'unknown_instrument');
      refused(l, { type: 'expire', time: T0, instrument: name }, 'unknown_instrument');
    },
  );

  it('__proto__ is an account like any other, and never an instrument or an underlying', () => {
    const l = new DerivativesLedger();
    l.apply({ type: 'list-instrument', time: T0, spec: perpetual('ETH-PERP', 'ETH') });
    l.apply({
      type: 'set-prices',
      time: T0,
      index: { ETH: px(2000) },
      marks: { 'ETH-PERP': px(2000) },
    });
    for (const who of ['__proto__', 'constructor', 'mm']) {
      l.apply({ type: 'deposit', time: T0, to: who, amount: usdc(100_000) });
    }
    l.apply({
      type: 'trade',
      time: T0,
      buyer: '__proto__',
      seller: 'constructor',
      instrument: 'ETH-PERP',
      size: units(1),
      price: px(2000),
    });
    expect(l.sub('__proto__').positions.get('ETH-PERP')?.size).toBe(units(1));
    expect(l.sub('constructor').positions.get('ETH-PERP')?.size).toBe(units(-1));
    l.apply({ type: 'set-mode', time: T0, account: '__proto__/2', mode: 'isolated' });
    conserved(l);
    refused(
      l,
      { type: 'list-instrument', time: T0, spec: perpetual('__proto__', 'ETH') },
      'invalid_config',
      'symbol',
    );
    refused(
      l,
      { type: 'list-instrument', time: T0, spec: perpetual('X', '__proto__') },
      'invalid_config',
      'underlying',
    );
    // An own `__proto__` key (as JSON.parse makes one) is a name the ledger does not list.
    const marks = Object.defineProperty({}, '__proto__', { value: px(1), enumerable: true });
    refused(l, { type: 'set-prices', time: T0, marks }, 'unknown_instrument', 'marks.__proto__');
    const back = restoreLedger(new DerivativesLedger(), serializeLedger(l));
    expect(serializeLedger(back)).toBe(serializeLedger(l));
    expect(back.sub('__proto__').cash).toBe(l.sub('__proto__').cash);
  });
});

describe('every value that enters the state is checked', () => {
  function listed(): DerivativesLedger {
    const l = new DerivativesLedger();
    l.apply({ type: 'list-instrument', time: T0, spec: perpetual('ETH-PERP', 'ETH') });
    l.apply({
      type: 'set-prices',
      time: T0,
      index: { ETH: px(2000) },
      marks: { 'ETH-PERP': px(2000) },
    });
    return l;
  }

  it.each([
    ['a function', () => 1n],
    ['undefined', undefined],
    ['a number', 2000],
    ['a string', '2000'],
    ['null', null],
  ])('a mark that is %s is refused', (_, mark) => {
    refused(
      listed(),
      { type: 'set-prices', time: T0, marks: { 'ETH-PERP': mark } },
      'invalid_number',
      'marks.ETH-PERP',
    );
  });

  it.each([
    ['an index of 0 (it would read as no index)', { index: { ETH: 0n } }, 'index.ETH'],
    ['a negative index', { index: { ETH: -1n } }, 'index.ETH'],
    ['an index past the price limit', { index: { ETH: LEDGER_LIMITS.priceMax + 1n } }, 'index.ETH'],
    ['a volatility given as text', { volatility: { ETH: '0.5' } }, 'volatility.ETH'],
    ['a volatility of NaN', { volatility: { ETH: Number.NaN } }, 'volatility.ETH'],
    ['a volatility above 10', { volatility: { ETH: 10.5 } }, 'volatility.ETH'],
  ])('%s is refused', (_, prices, field) => {
    refused(listed(), { type: 'set-prices', time: T0, ...prices }, 'invalid_number', field);
  });

  it('price maps must be objects; a command of an unknown type is refused, not ignored', () => {
    const l = listed();
    refused(l, { type: 'set-prices', time: T0, marks: [px(1)] }, 'invalid_field', 'marks');
    refused(l, { type: 'set-prices', time: T0, index: 'ETH' }, 'invalid_field', 'index');
    refused(l, { type: 'mint', time: T0 }, 'unknown_command', 'type');
    refused(l, null, 'invalid_field', 'command');
  });

  it.each([
    ['a margin given as text', { initialMargin: '0.1' }, 'initialMargin'],
    ['a size premium given as text', { sizePremium: '0' }, 'sizePremium'],
    ['a funding clamp of NaN', { fundingClamp: Number.NaN }, 'fundingClamp'],
    ['a field no perpetual has', { expiry: T0 + DAY }, 'expiry'],
    ['a field no instrument has', { toJSON: () => ({}) }, 'toJSON'],
  ])('an instrument with %s is refused', (_, change, field) => {
    const spec = { ...perpetual('ETH-PERP', 'ETH'), ...change } as unknown as InstrumentSpec;
    refused(
      new DerivativesLedger(),
      { type: 'list-instrument', time: T0, spec },
      'invalid_config',
      field,
    );
  });

  it('what the ledger keeps of an instrument is a copy the caller cannot change', () => {
    const l = new DerivativesLedger();
    const spec = { ...perpetual('ETH-PERP', 'ETH') };
    l.apply({ type: 'list-instrument', time: T0, spec });
    const hash = ledgerHash(l);
    (spec as { initialMargin: number }).initialMargin = 0.5;
    expect(ledgerHash(l)).toBe(hash);
    expect(l.instrument('ETH-PERP').spec.initialMargin).toBe(0.1);
  });

  it.each([
    ['a time that is not a whole number', T0 + 0.5],
    ['a time past the limit', LEDGER_LIMITS.timeMax + 1],
    ['a time given as text', String(T0)],
  ])('%s is refused', (_, time) => {
    refused(
      new DerivativesLedger(),
      { type: 'deposit', time, to: 'ann', amount: 1n },
      'invalid_field',
      'time',
    );
  });
});

describe('sub-account names', () => {
  it.each(['ann', 'ann/0', 'ann/1', 'ann/255', '__proto__/7', '_x.y:z@w-1', 'a'.repeat(64) + '/9'])(
    'accepts %s',
    (name) => {
      expect(isSubAccountName(name)).toBe(true);
      const l = new DerivativesLedger();
      l.apply({ type: 'deposit', time: T0, to: name, amount: 1n });
      expect(l.sub(name).cash).toBe(VALUE_UNIT / 10n ** 6n);
    },
  );

  it.each([
    'ann/256',
    'ann/01',
    'ann/00',
    'x/',
    '/1',
    'ann/1/2',
    'ann/-1',
    'ann/+1',
    'ann/ 1',
    'ann /1',
    'ann/1e1',
    'ann/0x1',
    'a b',
    '',
    'a'.repeat(65),
    'ann\n',
  ])('refuses %j', (name) => {
    expect(isSubAccountName(name)).toBe(false);
    const l = new DerivativesLedger();
    l.apply({ type: 'deposit', time: T0, to: 'ok', amount: 1n });
    refused(l, { type: 'deposit', time: T0, to: name, amount: 1n }, 'invalid_field', 'to');
    refused(
      l,
      { type: 'transfer', time: T0, from: 'ok', to: name, amount: 1n },
      'invalid_field',
      'to',
    );
    refused(l, { type: 'liquidate', time: T0, account: name }, 'invalid_field', 'account');
  });
});

describe('listing relative to the command time', () => {
  it.each([
    ['a future whose expiry has passed', future('F', 'ETH', T0 - 1)],
    ['a future expiring at the listing time', future('F', 'ETH', T0)],
    [
      'an option whose expiry has passed',
      {
        ...future('O', 'ETH', T0 - DAY),
        kind: 'option',
        strike: 2000,
        right: 'call',
      } as InstrumentSpec,
    ],
  ])('%s is refused', (_, spec) => {
    refused(
      new DerivativesLedger(),
      { type: 'list-instrument', time: T0, spec },
      'invalid_config',
      'expiry',
    );
  });

  it('a future expiring a second after the listing is listed; one past the time limit is not', () => {
    const l = new DerivativesLedger();
    l.apply({ type: 'list-instrument', time: T0, spec: future('F', 'ETH', T0 + 1) });
    expect(l.instruments.has('F')).toBe(true);
    refused(
      l,
      { type: 'list-instrument', time: T0, spec: future('G', 'ETH', LEDGER_LIMITS.timeMax + 1) },
      'invalid_config',
      'expiry',
    );
  });
});

describe('limits', () => {
  it(`lists at most ${LEDGER_LIMITS.instruments} instruments on at most ${LEDGER_LIMITS.underlyings} underlyings`, () => {
    const l = new DerivativesLedger();
    for (let i = 0; i < LEDGER_LIMITS.underlyings; i++) {
      l.apply({ type: 'list-instrument', time: T0, spec: perpetual(`U${i}-PERP`, `U${i}`) });
    }
    refused(
      l,
      { type: 'list-instrument', time: T0, spec: perpetual('NEW-PERP', 'NEW') },
      'limit_exceeded',
      'underlying',
    );
    for (let i = LEDGER_LIMITS.underlyings; i < LEDGER_LIMITS.instruments; i++) {
      l.apply({ type: 'list-instrument', time: T0, spec: perpetual(`U0-${i}`, 'U0') });
    }
    refused(
      l,
      { type: 'list-instrument', time: T0, spec: perpetual('U0-LAST', 'U0') },
      'limit_exceeded',
      'symbol',
    );
  });

  it(`holds at most ${LEDGER_LIMITS.subAccounts} sub-accounts (the fund aside)`, () => {
    const l = new DerivativesLedger();
    const empty: SubAccount = {
      mode: 'cross',
      cash: 0n,
      positions: new Map(),
      realized: new Map(),
    };
    for (let i = 0; i < LEDGER_LIMITS.subAccounts; i++) l.accounts.set(`a${i}`, empty);
    l.apply({ type: 'deposit', time: T0, to: 'a0', amount: 1n });
    l.apply({ type: 'deposit', time: T0, to: 'fund', amount: 1n });
    // (Refusals checked by the count and the new name: hashing a million accounts is slow.)
    const size = l.accounts.size;
    expectRefusal(
      () => l.apply({ type: 'deposit', time: T0, to: 'one-more', amount: 1n }),
      'limit_exceeded',
      'account',
    );
    expectRefusal(
      () => l.apply({ type: 'set-mode', time: T0, account: 'one-more', mode: 'isolated' }),
      'limit_exceeded',
      'account',
    );
    expect(l.accounts.size).toBe(size);
    expect(l.accounts.has('one-more')).toBe(false);
  });

  it(`a sub-account holds at most ${LEDGER_LIMITS.positionsPerSubAccount} positions`, () => {
    const l = new DerivativesLedger();
    const count = LEDGER_LIMITS.positionsPerSubAccount + 1;
    const marks: Record<string, bigint> = {};
    for (let i = 0; i < count; i++) {
      l.apply({ type: 'list-instrument', time: T0, spec: perpetual(`P${i}`, 'ETH') });
      marks[`P${i}`] = px(1);
    }
    l.apply({ type: 'set-prices', time: T0, index: { ETH: px(1) }, marks });
    for (const who of ['ann', 'mm'])
      l.apply({ type: 'deposit', time: T0, to: who, amount: usdc(1_000) });
    const buy = (i: number, buyer = 'ann') =>
      ({
        type: 'trade',
        time: T0,
        buyer,
        seller: 'mm',
        instrument: `P${i}`,
        size: units(1),
        price: px(1),
      }) as const;
    for (let i = 0; i < count - 1; i++) l.apply(buy(i));
    // Both sides would hold a 257th position: refused.
    refused(l, buy(count - 1), 'limit_exceeded', 'instrument');
    // Adding to a position held is not a new one.
    l.apply(buy(0));
    expect(l.sub('ann').positions.size).toBe(count - 1);
  });

  it('a position grows to the largest size and no further; it may always shrink', () => {
    const l = new DerivativesLedger();
    l.apply({ type: 'list-instrument', time: T0, spec: perpetual('P', 'ETH') });
    l.apply({ type: 'set-prices', time: T0, index: { ETH: 1n }, marks: { P: 1n } });
    for (const who of ['ann', 'mm'])
      l.apply({ type: 'deposit', time: T0, to: who, amount: usdc(1_000) });
    const trade = (buyer: string, seller: string, size: bigint) =>
      ({ type: 'trade', time: T0, buyer, seller, instrument: 'P', size, price: 1n }) as const;
    l.apply(trade('ann', 'mm', LEDGER_LIMITS.sizeMax));
    refused(l, trade('ann', 'mm', 1n), 'limit_exceeded', 'size');
    refused(l, trade('ann', 'mm', LEDGER_LIMITS.sizeMax + 1n), 'invalid_number', 'size');
    l.apply(trade('mm', 'ann', 1n));
    expect(l.sub('ann').positions.get('P')?.size).toBe(LEDGER_LIMITS.sizeMax - 1n);
    conserved(l);
  });
});

describe('messages quote what they were given short and on one line', () => {
  it.each([
    ['a long symbol', 'X'.repeat(100_000)],
    ['a symbol with a newline', 'ETH\nfulcrum: error forged'],
  ])('%s', (_, symbol) => {
    const l = new DerivativesLedger();
    l.apply({ type: 'list-instrument', time: T0, spec: perpetual('ETH-PERP', 'ETH') });
    for (const command of [
      { type: 'expire', time: T0, instrument: symbol },
      { type: 'set-prices', time: T0, marks: { [symbol]: px(1) } },
      { type: 'set-prices', time: T0, index: { [symbol]: px(1) } },
      { type: 'list-instrument', time: T0, spec: perpetual(symbol, 'ETH') },
      { type: 'deposit', time: T0, to: symbol, amount: 1n },
    ]) {
      let caught: unknown;
      try {
        l.apply(command as LedgerCommand);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(FulcrumError);
      const { message, field } = caught as FulcrumError;
      expect(message.length).toBeLessThan(400);
      expect(message).not.toMatch(/\n/);
      expect(String(field).length).toBeLessThan(100);
      expect(String(field)).not.toMatch(/\n/);
    }
  });
});
