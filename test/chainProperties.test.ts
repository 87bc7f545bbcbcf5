/**
 * Collateral on other chains against a simple reference: a vault that takes deposits and pays
 * withdrawals, and a watcher that delivers its events in chain order but re-delivers from an
 * earlier point at random (a restart, a replayed subscription). Whatever the order of deliveries,
 * withdrawals, payouts and expiries, after every step: each account's credit is exactly what the
 * vault took in for it once, less what it withdrew, plus what came back; the engine's credited
 * total plus its pending withdrawals equals the vault's balance; a refused command changes
 * nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/index.js';
import { chainReport } from '../src/engine/chains.js';
import { ETH_LISTING, T0, USDC_LISTING } from './fixtures/market.js';

const ACCOUNTS = ['ann', 'ben', 'cat'] as const;
const UNIT = 10n ** 18n;

/** One step of the story. */
type Step =
  | { kind: 'deposit'; account: number; amount: number }
  | { kind: 'redeliver'; back: number }
  | { kind: 'withdraw'; account: number; amount: number }
  | { kind: 'pay'; pick: number }
  | { kind: 'expire'; pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('deposit' as const),
    account: fc.integer({ min: 0, max: 2 }),
    amount: fc.integer({ min: 1, max: 50 }),
  }),
  fc.record({ kind: fc.constant('redeliver' as const), back: fc.integer({ min: 1, max: 6 }) }),
  fc.record({
    kind: fc.constant('withdraw' as const),
    account: fc.integer({ min: 0, max: 2 }),
    amount: fc.integer({ min: 1, max: 30 }),
  }),
  fc.record({ kind: fc.constant('pay' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('expire' as const), pick: fc.nat() }),
);

/** The reference: the vault's balance and each account's due, in whole units of ETH. */
class Reference {
  vault = 0n;
  readonly due = new Map<string, bigint>(ACCOUNTS.map((a) => [a, 0n]));
  /** Pending withdrawals by nonce: account and amount (base units), expiry. */
  readonly pending = new Map<number, { account: string; amount: bigint; expiry: number }>();
}

function market(): Engine {
  const engine = new Engine();
  const commands = [
    { type: 'list-asset', time: T0, config: USDC_LISTING, price: '1' },
    { type: 'list-asset', time: T0, config: ETH_LISTING, price: '2000' },
    { type: 'list-chain', time: T0, chain: 'arb', withdrawalTtl: 600 },
    {
      type: 'list-asset',
      time: T0,
      price: '2000',
      config: {
        symbol: 'ETH.arb',
        decimals: 18,
        initialWeight: '0.7',
        maintenanceWeight: '0.75',
        borrowable: false,
        location: { chain: 'arb', asset: 'ETH' },
      },
    },
  ];
  for (const command of commands) expect(engine.applyJson(command)).toMatchObject({ ok: true });
  return engine;
}

/** What the engine credits an account in ETH.arb, base units. */
function credited(engine: Engine, account: string): bigint {
  const index = engine.state.assetIndex.get('ETH.arb');
  const sub = engine.state.accounts.get(account)?.subAccounts.find((s) => s.number === 0);
  return sub?.positions.find((p) => p.asset === index)?.scaled ?? 0n;
}

/** Runs a story, checking the engine against the reference after every step. */
function run(steps: readonly Step[]): void {
  const engine = market();
  const model = new Reference();
  const log: { block: number; account: string; amount: bigint }[] = [];
  let delivered = 0;
  let time = T0 + 1;
  let block = 100;
  const apply = (command: Record<string, unknown>) => {
    const before = engine.hash();
    const result = engine.applyJson({ ...command, time });
    if (!result.ok) expect(engine.hash()).toBe(before);
    return result;
  };
  // The watcher delivers every event of the log from position `from`, in order.
  const deliver = (from: number) => {
    for (let i = from; i < log.length; i++) {
      const event = log[i] as (typeof log)[number];
      const result = apply({
        type: 'chain-deposit',
        chain: 'arb',
        block: event.block,
        logIndex: 0,
        tx: `0x${event.block.toString(16).padStart(64, '0')}`,
        account: event.account,
        asset: 'ETH.arb',
        amount: String(event.amount / UNIT),
      });
      // Credited the first time only: a re-delivery is at or before the cursor.
      expect(result.ok).toBe(i >= delivered);
      if (i >= delivered) {
        model.due.set(event.account, (model.due.get(event.account) ?? 0n) + event.amount);
      }
    }
    delivered = Math.max(delivered, log.length);
  };
  for (const s of steps) {
    time += 60;
    if (s.kind === 'deposit') {
      const account = ACCOUNTS[s.account] as string;
      const amount = BigInt(s.amount) * UNIT;
      block += 1;
      model.vault += amount;
      log.push({ block, account, amount });
      deliver(delivered);
    } else if (s.kind === 'redeliver') {
      deliver(Math.max(0, log.length - s.back));
    } else if (s.kind === 'withdraw') {
      withdrawStep(s, apply, model, time);
    } else {
      settleStep(s, apply, model, time, () => (block += 1));
    }
    expectAgreement(engine, model);
  }
}

function withdrawStep(
  s: Extract<Step, { kind: 'withdraw' }>,
  apply: (c: Record<string, unknown>) => ReturnType<Engine['applyJson']>,
  model: Reference,
  time: number,
): void {
  const account = ACCOUNTS[s.account] as string;
  const amount = BigInt(s.amount) * UNIT;
  const result = apply({
    type: 'chain-withdraw',
    chain: 'arb',
    account,
    asset: 'ETH.arb',
    amount: String(s.amount),
    recipient: `0x${'c0'.repeat(20)}`,
  });
  const due = model.due.get(account) ?? 0n;
  expect(result.ok).toBe(amount <= due);
  if (!result.ok) {
    expect(result.error.code).toBe('insufficient_balance');
    return;
  }
  const event = result.events.find((e) => e.type === 'chain-withdrawal-authorized');
  if (event?.type !== 'chain-withdrawal-authorized') throw new Error('no authorization');
  expect(event.expiry).toBe(time + 600);
  model.due.set(account, due - amount);
  model.pending.set(event.nonce, { account, amount, expiry: event.expiry });
}

function settleStep(
  s: Extract<Step, { kind: 'pay' | 'expire' }>,
  apply: (c: Record<string, unknown>) => ReturnType<Engine['applyJson']>,
  model: Reference,
  time: number,
  nextBlock: () => number,
): void {
  const nonces = [...model.pending.keys()];
  // A nonce never authorized (when none is pending) must be refused.
  const nonce = nonces.length === 0 ? 999 : (nonces[s.pick % nonces.length] as number);
  const withdrawal = model.pending.get(nonce);
  if (s.kind === 'pay') {
    const block = nextBlock();
    const tx = `0x${block.toString(16).padStart(64, '0')}`;
    const command = { type: 'chain-withdrawal-paid', chain: 'arb', nonce, block, logIndex: 0, tx };
    const result = apply(command);
    expect(result.ok).toBe(withdrawal !== undefined);
    if (withdrawal === undefined) return;
    model.vault -= withdrawal.amount;
    model.pending.delete(nonce);
    return;
  }
  const result = apply({ type: 'chain-withdrawal-expired', chain: 'arb', nonce });
  const expired = withdrawal !== undefined && time > withdrawal.expiry;
  expect(result.ok).toBe(expired);
  if (!expired || withdrawal === undefined) return;
  model.due.set(withdrawal.account, (model.due.get(withdrawal.account) ?? 0n) + withdrawal.amount);
  model.pending.delete(nonce);
}

function expectAgreement(engine: Engine, model: Reference): void {
  for (const account of ACCOUNTS) expect(credited(engine, account)).toBe(model.due.get(account));
  const asset = chainReport(engine.state)[0]?.assets[0];
  expect((asset?.credited ?? 0n) + (asset?.pending ?? 0n)).toBe(model.vault);
  let pending = 0n;
  for (const w of model.pending.values()) pending += w.amount;
  expect(asset?.pending).toBe(pending);
}

describe('collateral on other chains against a reference vault', () => {
  it('credits each deposit once and conserves what the vault holds, in any story', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => run(steps)),
      { numRuns: 150 },
    );
  });
});
