/**
 * The journal's account index, which `history account` reads: every account a command names,
 * in every role (the account of a balance command, both sides of a transfer or a fill, a
 * liquidator and its target), and those a command reaches without naming them (the
 * counterparties of an auto-deleveraging, the holders an expiry settles). Refused commands are
 * indexed like accepted ones.
 */
import { describe, expect, it } from 'vitest';
import { accountHistory, DurableEngine, SqliteStore } from '../../src/store/index.js';
import { temporaryFolders } from '../fixtures/examples.js';

const folder = temporaryFolders('fulcrum-account-index-');
const T = 1_893_456_000;

const COMMANDS: Record<string, unknown>[] = [
  {
    type: 'list-asset',
    config: { symbol: 'USDC', decimals: 6, initialWeight: '0.9', maintenanceWeight: '0.95' },
    price: '1',
  },
  {
    type: 'list-asset',
    config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
    price: '2000',
  },
  {
    type: 'list-instrument',
    config: {
      kind: 'perpetual',
      symbol: 'ETH-PERP',
      underlying: 'ETH',
      initialMargin: '0.1',
      maintenanceMargin: '0.05',
    },
    price: '2000',
  },
  {
    type: 'list-instrument',
    config: {
      kind: 'future',
      symbol: 'ETH-F',
      underlying: 'ETH',
      expiry: T + 100,
      initialMargin: '0.1',
      maintenanceMargin: '0.05',
    },
    price: '2000',
  },
  { type: 'deposit', account: 'lena', asset: 'USDC', amount: '1000000' },
  { type: 'deposit', account: 'bob', asset: 'ETH', amount: '1' },
  { type: 'borrow', account: 'bob', asset: 'USDC', amount: '1500' },
  { type: 'deposit', account: 'ann', asset: 'USDC', amount: '10000' },
  { type: 'deposit', account: 'mm', asset: 'USDC', amount: '1000000' },
  { type: 'deposit', account: 'dan', subAccount: 2, asset: 'USDC', amount: '1000' },
  {
    type: 'transfer',
    from: { account: 'ann' },
    to: { account: 'cat' },
    asset: 'USDC',
    amount: '1',
  },
  {
    type: 'trade',
    buyer: { account: 'ann' },
    seller: { account: 'mm' },
    instrument: 'ETH-PERP',
    size: '40',
    price: '2000',
  },
  {
    type: 'trade',
    buyer: { account: 'mm' },
    seller: { account: 'dan', subAccount: 2 },
    instrument: 'ETH-F',
    size: '1',
    price: '2000',
  },
  { type: 'set-mode', account: 'cat', subAccount: 1, mode: 'isolated' },
  { type: 'settle-pnl', account: 'eve' },
  // The crash: bob's loan and ann's long below maintenance; at 1700 ann is bankrupt.
  { type: 'set-price', asset: 'ETH', price: '1500' },
  { type: 'set-price', asset: 'ETH-PERP', price: '1700' },
  {
    type: 'liquidate',
    liquidator: { account: 'lena' },
    target: { account: 'bob' },
    debtAsset: 'USDC',
    collateralAsset: 'ETH',
    amount: 'max',
  },
  { type: 'backstop', target: { account: 'bob' }, debtAsset: 'USDC', collateralAsset: 'ETH' },
  { type: 'resolve-bankruptcy', target: { account: 'bob' } },
  {
    type: 'liquidate-position',
    liquidator: { account: 'liz' },
    target: { account: 'ann' },
    instrument: 'ETH-PERP',
    amount: 'max',
  },
  { type: 'deleverage', target: { account: 'ann' }, instrument: 'ETH-PERP' },
  // The future expires at 1500: dan/2 pays, mm receives.
  { type: 'set-price', asset: 'ETH', price: '1500', time: T + 100 },
  { type: 'expire', instrument: 'ETH-F', time: T + 100 },
];

describe('the account index', () => {
  it('names every account a command touched, in every role', async () => {
    const dir = folder();
    const durable = await DurableEngine.open(new SqliteStore(dir));
    const outcomes: string[] = [];
    for (const command of COMMANDS) {
      const result = await durable.submitJson({ time: T, ...command });
      outcomes.push(result.ok ? 'ok' : result.error.code);
    }
    await durable.close();
    // A refused command is indexed too; one refused as it was read never reached the journal.
    expect(outcomes).toEqual([
      ...Array<string>(14).fill('ok'),
      'no_pnl',
      'ok',
      'ok',
      'ok', // the liquidation repays all of bob's debt
      'no_debt',
      'not_bankrupt',
      'insufficient_collateral', // liz holds nothing to take ann's long with
      'ok',
      'ok',
      'ok',
    ]);
    const store = new SqliteStore(dir, { readOnly: true });
    const types = async (account: string) =>
      (await accountHistory(store, account)).map(
        (e) => `${(e.command as { type: string }).type} ${e.outcome}`,
      );
    try {
      expect(await types('ann')).toEqual([
        'deposit ok',
        'transfer ok',
        'trade ok',
        'liquidate-position insufficient_collateral',
        'deleverage ok',
      ]);
      expect(await types('cat')).toEqual(['transfer ok', 'set-mode ok']);
      expect(await types('eve')).toEqual(['settle-pnl no_pnl']);
      expect(await types('liz')).toEqual(['liquidate-position insufficient_collateral']);
      expect(await types('lena')).toEqual(['deposit ok', 'liquidate ok']);
      expect(await types('bob')).toEqual([
        'deposit ok',
        'borrow ok',
        'liquidate ok',
        'backstop no_debt',
        'resolve-bankruptcy not_bankrupt',
      ]);
      // dan is named by its fill; mm by its fills, by no deleveraging or expiry, yet both
      // reached it: it took ann's long at the bankruptcy price and the expiry paid it.
      expect(await types('dan')).toEqual(['deposit ok', 'trade ok', 'expire ok']);
      expect(await types('mm')).toEqual([
        'deposit ok',
        'trade ok',
        'trade ok',
        'deleverage ok',
        'expire ok',
      ]);
    } finally {
      await store.close();
    }
  });
});
