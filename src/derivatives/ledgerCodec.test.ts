/**
 * The ledger's text read back: a snapshot must hold a state the ledger could have reached, every
 * value of its type and in its range, or it is refused (`invalid_json`) rather than restored.
 */
import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../test/fixtures/refusal.js';
import { listAt, perpetual, NOW } from '../../test/fixtures/derivatives.js';
import { DerivativesLedger } from './ledger.js';
import { ledgerHash, restoreLedger, serializeLedger } from './ledgerCodec.js';

const px = (x: number) => BigInt(x) * 10n ** 18n;

/** ETH-PERP at 2000, ann long 1 against mm, and a volatility for ETH. */
function ledger(): DerivativesLedger {
  const l = new DerivativesLedger();
  listAt(l, perpetual('ETH'), NOW, px(2000));
  l.apply({ type: 'set-prices', time: NOW, volatility: { ETH: 0.7 } });
  for (const to of ['ann', 'mm']) l.apply({ type: 'deposit', time: NOW, to, amount: 10n ** 10n });
  l.apply({
    type: 'trade',
    time: NOW,
    buyer: 'ann',
    seller: 'mm',
    instrument: 'ETH-PERP',
    size: 10n ** 8n,
    price: px(2000),
  });
  return l;
}

/** The ledger's text as JSON, changed by `edit`, and written back. */
function edited(edit: (state: Record<string, unknown[]>) => void): string {
  const state = JSON.parse(serializeLedger(ledger())) as Record<string, unknown[]>;
  edit(state);
  return JSON.stringify(state);
}

const instrument = (s: Record<string, unknown[]>) =>
  (s.instruments?.[0] as [string, Record<string, unknown>])[1];
const account = (s: Record<string, unknown[]>, i: number) =>
  (s.accounts?.[i] as [string, Record<string, unknown>])[1];

describe('restoreLedger', () => {
  it('reads a ledger back to the very same text', () => {
    const l = ledger();
    const back = restoreLedger(new DerivativesLedger(), serializeLedger(l));
    expect(serializeLedger(back)).toBe(serializeLedger(l));
    expect(ledgerHash(back)).toBe(ledgerHash(l));
  });

  it.each<[string, (s: Record<string, unknown[]>) => void]>([
    // What a mark that was a function left in a snapshot: no mark at all.
    ['an instrument without a mark', (s) => delete instrument(s).mark],
    ['a mark that is a number', (s) => (instrument(s).mark = 2000)],
    ['a negative index', (s) => (instrument(s).index = '#-1')],
    [
      'an instrument filed under another symbol',
      (s) => ((s.instruments?.[0] as unknown[])[0] = 'X'),
    ],
    [
      'an instrument with a field no perpetual has',
      (s) => {
        (instrument(s).spec as Record<string, unknown>).expiry = 1;
      },
    ],
    ['an instrument listed twice', (s) => s.instruments?.push(s.instruments[0])],
    ['a sub-account name that is no name', (s) => ((s.accounts?.[0] as unknown[])[0] = 'ann/256')],
    ['a sub-account listed twice', (s) => s.accounts?.push(s.accounts[0])],
    ['a margin mode that is none', (s) => (account(s, 0).mode = 'yolo')],
    ['cash that is a number', (s) => (account(s, 0).cash = 5)],
    [
      'a position on an unlisted instrument',
      (s) => {
        const positions = account(s, 0).positions as [string, unknown][];
        (positions[0] as [string, unknown])[0] = 'BTC-PERP';
      },
    ],
    [
      'a position of size 0',
      (s) => {
        const positions = account(s, 0).positions as [string, Record<string, unknown>][];
        (positions[0] as [string, Record<string, unknown>])[1].size = '#0';
      },
    ],
    ['cash that does not add up to the net deposits', (s) => (account(s, 0).cash = '#1')],
    ['a volatility for an underlying no instrument has', (s) => s.volatility?.push(['BTC', 0.5])],
    ['a volatility above 10', (s) => ((s.volatility?.[0] as unknown[])[1] = 11)],
    ['a time past the limit', (s) => ((s as Record<string, unknown>).time = 1e15)],
  ])('refuses %s', (_, edit) => {
    expectRefusal(() => restoreLedger(new DerivativesLedger(), edited(edit)), 'invalid_json');
  });
});
