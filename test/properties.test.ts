/**
 * Properties of the whole engine over random command sequences (fast-check), biased toward the
 * edges: amounts of one base unit, whole balances, long gaps in time, big price moves.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Engine,
  type EngineState,
  poolSurplusRayUnits,
  supplyAmount,
  TIERS,
} from '../src/index.js';
import { ETH_LISTING, USDC_LISTING, WBTC_LISTING } from './fixtures/market.js';
import { checkConserved } from './scenarioRunner.js';

const ACCOUNTS = ['ann', 'ben', 'cat'];
const ASSETS = ['USDC', 'ETH', 'WBTC'];

/** An amount as a decimal string: tiny, ordinary or huge, or the word "all". */
const amountText = fc.oneof(
  fc.constant('0.000001'),
  fc.constant('all'),
  fc.integer({ min: 1, max: 1_000_000 }).map(String),
  fc
    .tuple(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 1, max: 999_999 }))
    .map(([w, f]) => `${w}.${String(f).padStart(6, '0')}`),
  fc.constant('100000000000'),
);

const who = {
  account: fc.constantFrom(...ACCOUNTS),
  subAccount: fc.integer({ min: 0, max: 1 }),
  asset: fc.constantFrom(...ASSETS),
};

/** One random command as JSON, at a time offset from the previous one. */
const commandArbitrary = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constantFrom('deposit', 'withdraw', 'borrow'),
      ...who,
      amount: amountText,
    }),
  },
  {
    // Repayments mostly of whole debts, so that debts are often found and closed.
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('repay'),
      ...who,
      amount: fc.oneof(fc.constant('all'), fc.constant('all'), amountText),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('transfer'),
      from: fc.record({ account: who.account, subAccount: who.subAccount }),
      to: fc.record({ account: who.account, subAccount: who.subAccount }),
      asset: who.asset,
      amount: amountText,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('set-price'),
      asset: fc.constantFrom('ETH', 'WBTC'),
      price: fc.integer({ min: 1, max: 200_000 }).map(String),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('accrue'), asset: who.asset }) },
);

const stepArbitrary = fc.tuple(
  fc.oneof(
    fc.constant(0),
    fc.integer({ min: 1, max: 3600 }),
    fc.integer({ min: 86_400, max: 90 * 86_400 }),
  ),
  commandArbitrary,
);

function freshMarket(): Engine {
  const engine = new Engine();
  for (const [config, price] of [
    [USDC_LISTING, '1'],
    [ETH_LISTING, '2000'],
    [WBTC_LISTING, '60000'],
  ] as const) {
    engine.applyJson({ type: 'list-asset', time: 0, config, price });
  }
  // Every account supplies something in each sub-account, so that every kind of command can pass.
  const holdings = [
    ['USDC', '500000'],
    ['ETH', '200'],
    ['WBTC', '5'],
  ] as const;
  ACCOUNTS.forEach((account, i) => {
    for (const subAccount of [0, 1]) {
      const [asset, amount] = holdings[(i + subAccount) % holdings.length] ?? holdings[0];
      engine.applyJson({ type: 'deposit', time: 0, account, subAccount, asset, amount });
    }
  });
  return engine;
}

/** A fresh market after `steps`, and the time the last step reached. */
function play(steps: readonly (readonly [number, Record<string, unknown>])[]): {
  engine: Engine;
  time: number;
} {
  const engine = freshMarket();
  let time = 0;
  for (const [dt, command] of steps) {
    time += dt;
    engine.applyJson({ ...command, time });
  }
  return { engine, time };
}

function indices(state: EngineState): bigint[] {
  return state.assets.flatMap((a) => [a.pool.supplyIndexRay, a.pool.borrowIndexRay]);
}

function surpluses(state: EngineState): bigint[] {
  return state.assets.map((a) => poolSurplusRayUnits(a.pool));
}

describe('engine properties over random command sequences', () => {
  it('books balance, indices never fall, no command creates value, refusals change nothing', () => {
    const accepted = new Map<string, number>();
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { minLength: 5, maxLength: 80, size: 'medium' }),
        (steps) => {
          const engine = freshMarket();
          let time = 0;
          for (const [dt, command] of steps) {
            time += dt;
            const hashBefore = engine.hash();
            const indicesBefore = indices(engine.state);
            const surplusBefore = surpluses(engine.state);
            const result = engine.applyJson({ ...command, time });
            if (!result.ok) {
              expect(engine.hash()).toBe(hashBefore);
              continue;
            }
            accepted.set(command.type, (accepted.get(command.type) ?? 0) + 1);
            checkConserved(engine, JSON.stringify(command));
            indices(engine.state).forEach((index, i) => {
              expect(index >= (indicesBefore[i] ?? 0n)).toBe(true);
            });
            // The surplus (cash + owed − claimed, exact) only grows by the rounding the venue keeps.
            surpluses(engine.state).forEach((surplus, i) => {
              expect(surplus >= (surplusBefore[i] ?? 0n)).toBe(true);
            });
          }
        },
      ),
      { numRuns: 200 },
    );
    // The sequences exercise every kind of command, not only refusals.
    for (const type of ['deposit', 'withdraw', 'borrow', 'repay', 'transfer', 'set-price']) {
      expect(accepted.get(type) ?? 0, type).toBeGreaterThanOrEqual(10);
    }
  });

  it('tier order holds for every sub-account after every command', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 1, maxLength: 40 }), (steps) => {
        const { engine } = play(steps);
        for (const [account, state] of engine.state.accounts) {
          for (const { number: subAccount } of state.subAccounts) {
            const { tiers } = engine.health({ account, subAccount });
            const [i, e, m] = TIERS.map((t) => tiers[t].healthFactor);
            if (i == null || e == null || m == null) continue;
            expect(i <= e && e <= m).toBe(true);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('deposit then withdraw all returns at most what went in, whatever the index', () => {
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { maxLength: 30 }),
        fc.constantFrom(...ASSETS),
        fc.bigInt({ min: 1n, max: 10n ** 24n }),
        (steps, asset, amount) => {
          const { engine, time } = play(steps);
          const who = { account: 'zed', subAccount: 0 };
          const deposited = engine.apply({ type: 'deposit', time, ...who, asset, amount });
          fc.pre(deposited.ok);
          const index = engine.state.assetIndex.get(asset) ?? 0;
          const pool = engine.state.assets[index]?.pool;
          const held = engine.state.accounts.get('zed')?.subAccounts[0]?.positions[0]?.scaled ?? 0n;
          expect(pool && supplyAmount(held, pool) <= amount).toBe(true);
          const result = engine.apply({ type: 'withdraw', time, ...who, asset, amount: 'all' });
          // All of it may be lent out; otherwise it must come back, no more than went in.
          if (!result.ok) {
            expect(result.error.code).toBe('insufficient_liquidity');
            return;
          }
          const out = result.events.find((e) => e.type === 'withdrawn');
          expect(out && 'amount' in out && out.amount <= amount).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('engine reports give a max borrow and max withdraw that pass, and one unit more fails', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 5, maxLength: 40 }), (steps) => {
        const { engine, time } = play(steps);
        for (const account of ACCOUNTS) {
          const ref = { account, subAccount: 0 };
          for (const p of engine.health(ref, time).positions) {
            for (const type of ['borrow', 'withdraw'] as const) {
              const max = type === 'borrow' ? p.maxBorrow : p.maxWithdraw;
              const attempt = (amount: bigint) =>
                engine.dryRun({ type, time, ...ref, asset: p.symbol, amount }).result.ok;
              if (max > 0n) expect(attempt(max), `${type} ${max} ${p.symbol}`).toBe(true);
              expect(attempt(max + 1n), `${type} ${max + 1n} ${p.symbol}`).toBe(false);
            }
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
