/** Ledger commands from JSON: whole units to base units, and strict refusals naming the field. */
import { describe, expect, it } from 'vitest';
import { FulcrumError } from '../base/errors.js';
import { decodeLedgerJson } from './json.js';

describe('decodeLedgerJson', () => {
  it('reads whole units: cash to 10^-6, sizes to 10^-8, prices to 10^-18; ISO times', () => {
    expect(
      decodeLedgerJson({
        type: 'trade',
        time: '2030-01-01T00:01:00Z',
        buyer: 'ann',
        seller: 'mm',
        instrument: 'ETH-PERP',
        size: '1.5',
        price: '2000.25',
      }),
    ).toEqual({
      type: 'trade',
      time: 1_893_456_060,
      buyer: 'ann',
      seller: 'mm',
      instrument: 'ETH-PERP',
      size: 150_000_000n,
      price: 200_025n * 10n ** 16n,
    });
    expect(
      decodeLedgerJson({ type: 'deposit', time: 5, account: 'ann/1', amount: '10.5' }),
    ).toEqual({
      type: 'deposit',
      time: 5,
      to: 'ann/1',
      amount: 10_500_000n,
    });
    const prices = decodeLedgerJson({
      type: 'set-prices',
      time: 5,
      index: { ETH: '1800' },
      volatility: { ETH: '0.65' },
    });
    expect(prices).toMatchObject({ type: 'set-prices', volatility: { ETH: 0.65 } });
  });

  const bad: [string, Record<string, unknown>, string, string][] = [
    ['an unknown type', { type: 'swap', time: 1 }, 'unknown_command', 'type'],
    [
      'an unknown field',
      { type: 'liquidate', time: 1, account: 'a', force: true },
      'invalid_field',
      'force',
    ],
    ['a bad time', { type: 'liquidate', time: 'noon', account: 'a' }, 'invalid_field', 'time'],
    [
      'too many decimals of cash',
      { type: 'deposit', time: 1, account: 'a', amount: '1.0000001' },
      'too_many_decimals',
      'amount',
    ],
    [
      'a negative amount',
      { type: 'deposit', time: 1, account: 'a', amount: '-1' },
      'invalid_number',
      'amount',
    ],
    [
      'NaN as a size',
      { type: 'trade', time: 1, buyer: 'a', seller: 'b', instrument: 'X', size: 'NaN', price: '1' },
      'invalid_number',
      'size',
    ],
    [
      'a bad mode',
      { type: 'set-mode', time: 1, account: 'a', mode: 'yolo' },
      'invalid_field',
      'mode',
    ],
    [
      'a zero volatility',
      { type: 'set-prices', time: 1, volatility: { ETH: '0' } },
      'invalid_number',
      'volatility.ETH',
    ],
    [
      'a bad account name',
      { type: 'liquidate', time: 1, account: 'a b' },
      'invalid_field',
      'account',
    ],
    [
      'a sub-account number past 255',
      { type: 'deposit', time: 1, account: 'ann/256', amount: '1' },
      'invalid_field',
      'account',
    ],
    [
      'a sub-account number with a leading zero',
      { type: 'deposit', time: 1, account: 'ann/01', amount: '1' },
      'invalid_field',
      'account',
    ],
    [
      'a slash without a number',
      { type: 'transfer', time: 1, from: 'ann', to: 'x/', amount: '1' },
      'invalid_field',
      'to',
    ],
    [
      'a size in hexadecimal',
      {
        type: 'trade',
        time: 1,
        buyer: 'a',
        seller: 'b',
        instrument: 'X',
        size: '0x10',
        price: '1',
      },
      'invalid_number',
      'size',
    ],
    [
      'a price with spaces',
      { type: 'trade', time: 1, buyer: 'a', seller: 'b', instrument: 'X', size: '1', price: ' 1 ' },
      'invalid_number',
      'price',
    ],
    [
      'a price with an exponent',
      { type: 'trade', time: 1, buyer: 'a', seller: 'b', instrument: 'X', size: '1', price: '1e3' },
      'invalid_number',
      'price',
    ],
    [
      'a price past the price limit',
      {
        type: 'trade',
        time: 1,
        buyer: 'a',
        seller: 'b',
        instrument: 'X',
        size: '1',
        price: '1000000000001',
      },
      'invalid_number',
      'price',
    ],
    [
      'a size past the size limit',
      {
        type: 'trade',
        time: 1,
        buyer: 'a',
        seller: 'b',
        instrument: 'X',
        size: '1000000000000.00000001',
        price: '1',
      },
      'invalid_number',
      'size',
    ],
    [
      'a negative size',
      { type: 'trade', time: 1, buyer: 'a', seller: 'b', instrument: 'X', size: '-1', price: '1' },
      'invalid_number',
      'size',
    ],
    [
      'Infinity as an amount',
      { type: 'deposit', time: 1, account: 'a', amount: 'Infinity' },
      'invalid_number',
      'amount',
    ],
    [
      'an amount past the cash limit',
      { type: 'deposit', time: 1, account: 'a', amount: '1000000000000000.000001' },
      'invalid_number',
      'amount',
    ],
    [
      'an instrument that is no symbol',
      { type: 'expire', time: 1, instrument: 'ETH PERP' },
      'invalid_field',
      'instrument',
    ],
    [
      'a mark for a name that is no symbol',
      { type: 'set-prices', time: 1, marks: { '__proto__ ': '1' } },
      'invalid_field',
      'marks.__proto__ ',
    ],
    [
      'an index for a name that is no underlying',
      { type: 'set-prices', time: 1, index: { 'ETH\n': '1' } },
      'invalid_field',
      'index."ETH\\n"',
    ],
    [
      'a volatility above 10',
      { type: 'set-prices', time: 1, volatility: { ETH: '10.000001' } },
      'invalid_number',
      'volatility.ETH',
    ],
    [
      'a date that does not exist',
      { type: 'liquidate', time: '2030-02-30T00:00:00Z', account: 'a' },
      'invalid_field',
      'time',
    ],
    [
      'an hour of 24',
      { type: 'liquidate', time: '2030-01-01T24:00:00Z', account: 'a' },
      'invalid_field',
      'time',
    ],
    [
      'a time past the year 9999',
      { type: 'liquidate', time: 253_402_300_800, account: 'a' },
      'invalid_field',
      'time',
    ],
    [
      'a future listed without an expiry',
      {
        type: 'list-instrument',
        time: 1,
        instrument: { kind: 'future', symbol: 'F', underlying: 'ETH' },
      },
      'invalid_field',
      'instrument.expiry',
    ],
    [
      'an instrument symbol that is not a string',
      {
        type: 'list-instrument',
        time: 1,
        instrument: { kind: 'perpetual', symbol: ['ETH-PERP'], underlying: 'ETH' },
      },
      'invalid_field',
      'instrument.symbol',
    ],
    [
      'a strike with more than 9 decimals',
      {
        type: 'list-instrument',
        time: 1,
        instrument: {
          kind: 'option',
          symbol: 'O',
          underlying: 'ETH',
          expiry: 10,
          strike: '2000.0000000001',
          right: 'call',
        },
      },
      'too_many_decimals',
      'instrument.strike',
    ],
  ];
  it.each(bad)('refuses %s', (_, input, code, field) => {
    let caught: unknown;
    try {
      decodeLedgerJson(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FulcrumError);
    expect((caught as FulcrumError).code).toBe(code);
    expect((caught as FulcrumError).field).toBe(field);
  });

  it('reads names to values into objects without a prototype: valueOf is a name', () => {
    const command = decodeLedgerJson(
      JSON.parse(
        '{"type": "set-prices", "time": 1, "index": {"valueOf": "2000"}, "marks": {"toString": "3"}, "volatility": {"constructor": "0.5"}}',
      ),
    );
    if (command.type !== 'set-prices') throw new Error('not set-prices');
    expect(Object.getPrototypeOf(command.index)).toBeNull();
    expect(Object.getPrototypeOf(command.marks)).toBeNull();
    expect(Object.getPrototypeOf(command.volatility)).toBeNull();
    expect(command.index?.valueOf).toBe(2000n * 10n ** 18n);
    expect(command.marks?.toString).toBe(3n * 10n ** 18n);
    expect(command.volatility?.constructor).toBe(0.5);
    // Leaving a name out leaves it out: nothing is found on a prototype.
    const empty = decodeLedgerJson({ type: 'set-prices', time: 1 });
    if (empty.type !== 'set-prices') throw new Error('not set-prices');
    expect(empty.marks?.valueOf).toBeUndefined();
  });

  it('quotes a long or multi-line input short, on one line', () => {
    for (const input of [
      { type: 'x'.repeat(100), time: 1 },
      { type: 'deposit', time: 1, account: `a\n${'b'.repeat(120)}`, amount: '1' },
      { type: 'set-prices', time: 1, marks: { ['K'.repeat(1_000_000)]: '1' } },
      { type: 'set-prices', time: 1, marks: { 'a\nb': '1' } },
      { type: 'liquidate', time: 'T'.repeat(1_000_000), account: 'a' },
    ]) {
      let caught: unknown;
      try {
        decodeLedgerJson(input);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(FulcrumError);
      const { message, field } = caught as FulcrumError;
      expect(message.length).toBeLessThan(400);
      expect(`${message} ${field}`).not.toMatch(/\n/);
      expect(String(field).length).toBeLessThan(100);
    }
  });
});
