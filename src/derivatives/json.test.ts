/** Ledger commands from JSON: whole units to base units, and strict refusals naming the field. */
import { describe, expect, it } from 'vitest';
import { FulcrumError } from '../domain/errors.js';
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
});
