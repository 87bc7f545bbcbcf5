import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../test/fixtures/refusal.js';
import { ETH_LISTING, marketWithLenderAndAlice, T0 } from '../../test/fixtures/market.js';
import { decodeCommand } from './decode.js';
import { decodeStoredCommand, encodeCommand } from './commandCodec.js';
import type { Command } from './commands.js';
import { Engine } from './engine.js';
import { LIMITS } from '../domain/limits.js';

const deposit = { type: 'deposit', time: T0, account: 'alice', asset: 'ETH', amount: '1' };

describe('decodeCommand', () => {
  it('decodes amounts in whole units of the asset and defaults the sub-account to 0', () => {
    const engine = marketWithLenderAndAlice();
    expect(decodeCommand({ ...deposit, amount: '1.5' }, engine.state)).toEqual({
      type: 'deposit',
      time: T0,
      account: 'alice',
      subAccount: 0,
      asset: 'ETH',
      amount: 1_500_000_000_000_000_000n,
    });
    expect(decodeCommand({ ...deposit, type: 'repay', amount: 'all' }, engine.state)).toMatchObject(
      {
        amount: 'all',
      },
    );
  });

  it.each([
    ['not an object', [1, 2], 'invalid_field', 'command'],
    ['no type', { time: T0 }, 'invalid_field', 'type'],
    ['unknown type', { ...deposit, type: 'mint' }, 'unknown_command', 'type'],
    ['time as a string', { ...deposit, time: '5' }, 'invalid_field', 'time'],
    ['fractional time', { ...deposit, time: 1.5 }, 'invalid_field', 'time'],
    ['negative time', { ...deposit, time: -1 }, 'invalid_number', 'time'],
    ['missing amount', { ...deposit, amount: undefined }, 'invalid_field', 'amount'],
    ['amount as a JSON number', { ...deposit, amount: 1 }, 'invalid_number', 'amount'],
    ['amount in exponent form', { ...deposit, amount: '1e3' }, 'invalid_number', 'amount'],
    ['negative amount', { ...deposit, amount: '-1' }, 'invalid_number', 'amount'],
    ['zero amount', { ...deposit, amount: '0' }, 'zero_amount', 'amount'],
    [
      'too many decimals',
      { ...deposit, amount: '0.0000000000000000001' },
      'too_many_decimals',
      'amount',
    ],
    [
      'amount beyond 2^128',
      { ...deposit, amount: '1'.padEnd(40, '0') },
      'invalid_number',
      'amount',
    ],
    ['unknown asset', { ...deposit, asset: 'DOGE' }, 'unknown_asset', 'asset'],
    ['unknown field', { ...deposit, memo: 'hi' }, 'invalid_field', 'memo'],
    ['sub-account as a string', { ...deposit, subAccount: '1' }, 'invalid_field', 'subAccount'],
    [
      'price NaN',
      { type: 'set-price', time: T0, asset: 'ETH', price: 'NaN' },
      'invalid_number',
      'price',
    ],
    [
      'price negative',
      { type: 'set-price', time: T0, asset: 'ETH', price: '-5' },
      'invalid_number',
      'price',
    ],
    [
      'price zero',
      { type: 'set-price', time: T0, asset: 'ETH', price: '0' },
      'invalid_number',
      'price',
    ],
    [
      'transfer without to',
      { type: 'transfer', time: T0, from: { account: 'a' }, asset: 'ETH', amount: '1' },
      'invalid_field',
      'to',
    ],
    [
      'transfer with a stray field',
      {
        type: 'transfer',
        time: T0,
        from: { account: 'a', x: 1 },
        to: { account: 'b' },
        asset: 'ETH',
        amount: '1',
      },
      'invalid_field',
      'from.x',
    ],
    [
      'listing with inverted weights',
      {
        type: 'list-asset',
        time: T0,
        price: '1',
        config: { ...ETH_LISTING, symbol: 'X', initialWeight: '0.9' },
      },
      'invalid_config',
      'config.initialWeight',
    ],
  ])('refuses %s', (_name, input, code, field) => {
    const engine = marketWithLenderAndAlice();
    expectRefusal(() => decodeCommand(input, engine.state), code, field);
  });

  it('a refusal through Engine.applyJson leaves the state as it was', () => {
    const engine = marketWithLenderAndAlice();
    const hash = engine.hash();
    const result = engine.applyJson({ ...deposit, amount: '1.0000000000000000001' });
    expect(result.ok ? 'accepted' : result.error.code).toBe('too_many_decimals');
    expect(engine.hash()).toBe(hash);
  });
});

describe('limits', () => {
  it(`a sub-account holds at most ${LIMITS.positionsPerSubAccount} assets`, () => {
    const engine = new Engine();
    const count = LIMITS.positionsPerSubAccount + 1;
    for (let i = 0; i < count; i++) {
      const config = { ...ETH_LISTING, symbol: `T${i}` };
      expect(engine.applyJson({ type: 'list-asset', time: T0, config, price: '1' }).ok).toBe(true);
    }
    for (let i = 0; i < count - 1; i++) {
      expect(engine.applyJson({ ...deposit, asset: `T${i}` }).ok).toBe(true);
    }
    const hash = engine.hash();
    const one = engine.applyJson({ ...deposit, asset: `T${count - 1}` });
    expect(one.ok ? 'accepted' : one.error.code).toBe('limit_exceeded');
    expect(engine.hash()).toBe(hash);
  });

  it('an asset can be listed once', () => {
    const engine = marketWithLenderAndAlice();
    const again = engine.applyJson({
      type: 'list-asset',
      time: T0,
      config: ETH_LISTING,
      price: '1',
    });
    expect(again.ok ? 'accepted' : again.error.code).toBe('asset_already_listed');
  });
});

describe('who changed a parameter (by)', () => {
  const weights = {
    type: 'set-weights',
    time: T0 + 1,
    asset: 'ETH',
    initialWeight: '0.75',
    maintenanceWeight: '0.825',
  };

  it('is kept on a parameter command, through the stored form and the journal', () => {
    const engine = marketWithLenderAndAlice();
    const command = decodeCommand({ ...weights, by: 'risk-desk@venue' }, engine.state);
    expect(command).toMatchObject({ type: 'set-weights', by: 'risk-desk@venue' });
    const stored = encodeCommand(command);
    expect(decodeStoredCommand(stored)).toEqual(command);
    const before = engine.hash();
    expect(engine.apply(command)).toMatchObject({ ok: true });
    // It decides nothing: the same change without it leaves the same state.
    const other = marketWithLenderAndAlice();
    expect(other.hash()).toBe(before);
    expect(other.applyJson(weights)).toMatchObject({ ok: true });
    expect(other.hash()).toBe(engine.hash());
  });

  it.each([
    ['on a balance command', { ...deposit, by: 'alice' }],
    ['with a space', { ...weights, by: 'risk desk' }],
    ['too long', { ...weights, by: 'x'.repeat(65) }],
    ['as a number', { ...weights, by: 7 }],
  ])('is refused %s, and nothing changes', (_name, input) => {
    const engine = marketWithLenderAndAlice();
    const before = engine.hash();
    expect(engine.applyJson(input)).toMatchObject({
      ok: false,
      error: { code: 'invalid_field', field: 'by' },
    });
    expect(engine.hash()).toBe(before);
  });

  it('is refused on a typed command that takes none', () => {
    const engine = marketWithLenderAndAlice();
    const typed = { ...decodeCommand(deposit, engine.state), by: 'alice' } as Command;
    expect(engine.apply(typed)).toMatchObject({
      ok: false,
      error: { code: 'invalid_field', field: 'by' },
    });
  });
});
