/**
 * Value is neither made nor lost by derivatives in the one margin account, over random command
 * streams: fills, fees, mark and index moves, funding, takeovers, deleveraging, expiry and
 * settlement into the pools. After every command, accepted or refused:
 *
 * - Σ over positions of (quote − funding owed) + Σ unsettled profit + Σ settled into the pools
 *   (each `pnl-settled` event's amount, whole base units of USDC) = 0, exactly: every fill moves
 *   quote from one side to the other, funding is paid by one side to the other (the sizes of
 *   an instrument sum to zero), and settlement only moves profit from unsettled to the pools;
 * - each instrument's sizes sum to zero and its open interest is the sum of its long sizes;
 * - every pool stays solvent (its exact surplus never negative);
 * - a refused command leaves the state hash as it was.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine, type EngineEvent, poolSurplusRayUnits } from '../src/index.js';
import { VALUE_UNIT } from '../src/derivatives/position.js';
import { Draft } from '../src/engine/draft.js';

type Json = Record<string, unknown>;

const ACCOUNTS = ['ann', 'bob', 'cat', 'dan', 'eve'];
const USDC_UNIT = VALUE_UNIT / 10n ** 6n;
const START = 1000;

function market(): Engine {
  const engine = new Engine();
  const commands: Json[] = [
    {
      type: 'list-asset',
      time: START,
      config: { symbol: 'USDC', decimals: 6, initialWeight: '0.9', maintenanceWeight: '0.95' },
      price: '1',
    },
    {
      type: 'list-asset',
      time: START,
      config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
      price: '2000',
    },
    {
      type: 'list-instrument',
      time: START,
      config: {
        kind: 'perpetual',
        symbol: 'ETH-PERP',
        underlying: 'ETH',
        initialMargin: '0.1',
        maintenanceMargin: '0.05',
        sizePremium: '0.001',
        fundingIntervalSeconds: '3600',
      },
      price: '2000',
    },
    {
      type: 'list-instrument',
      time: START,
      config: {
        kind: 'future',
        symbol: 'ETH-FUT',
        underlying: 'ETH',
        initialMargin: '0.1',
        maintenanceMargin: '0.05',
        expiry: START + 200_000,
      },
      price: '2000',
    },
    { type: 'deposit', time: START, account: 'lena', asset: 'USDC', amount: '10000000' },
    { type: 'deposit', time: START, account: '@insurance', asset: 'USDC', amount: '2000' },
  ];
  for (const account of ACCOUNTS) {
    commands.push(
      { type: 'deposit', time: START, account, asset: 'USDC', amount: '5000' },
      { type: 'deposit', time: START, account, asset: 'ETH', amount: '1' },
    );
  }
  for (const command of commands) {
    const result = engine.applyJson(command);
    if (!result.ok) throw new Error(`${JSON.stringify(command)}: ${result.error.message}`);
  }
  return engine;
}

const instrument = fc.constantFrom('ETH-PERP', 'ETH-FUT');
const account = fc.constantFrom(...ACCOUNTS);
/** A move of a price, in thousandths: −150 to +150. */
const move = fc.integer({ min: -150, max: 150 });

/** A command given the engine it goes to and the time it is sent at. */
type Step = (engine: Engine, time: number) => Json;

/** The current price of an asset or the mark of an instrument, moved by `permille`. */
function moved(engine: Engine, symbol: string, permille: number): string {
  const state = engine.state;
  const index = state.instrumentIndex.get(symbol);
  const current =
    index === undefined
      ? (state.assets[state.assetIndex.get(symbol) ?? 0]?.risk.oraclePrice ?? 0n)
      : (state.instruments[index]?.mark ?? 0n);
  const next = (current * BigInt(1000 + permille)) / 1000n;
  return (Number(next) / 1e18).toFixed(6);
}

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .record({
        buyer: account,
        seller: account,
        instrument,
        size: fc.integer({ min: 1, max: 300 }),
        offset: move,
        fee: fc.integer({ min: 0, max: 5 }),
      })
      .map(({ buyer, seller, instrument, size, offset, fee }): Step => (engine, time) => ({
        type: 'trade',
        time,
        buyer: { account: buyer },
        seller: { account: seller },
        instrument,
        size: (size / 10).toString(),
        // Near the mark: sometimes outside the band, refused.
        price: moved(engine, instrument, offset),
        buyerFee: String(fee),
        sellerFee: '0.5',
      })),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(instrument, move).map(([symbol, permille]): Step => (engine, time) => ({
      type: 'set-price',
      time,
      asset: symbol,
      price: moved(engine, symbol, permille),
    })),
  },
  {
    weight: 2,
    arbitrary: move.map((permille): Step => (engine, time) => ({
      type: 'set-price',
      time,
      asset: 'ETH',
      price: moved(engine, 'ETH', permille),
    })),
  },
  {
    weight: 2,
    arbitrary: fc.constant<Step>((_engine, time) => ({
      type: 'settle-funding',
      time,
      instrument: 'ETH-PERP',
    })),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(account, account, instrument)
      .map(([liquidator, target, symbol]): Step => (_engine, time) => ({
        type: 'liquidate-position',
        time,
        liquidator: { account: liquidator },
        target: { account: target },
        instrument: symbol,
        amount: 'max',
      })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(account, instrument).map(([target, symbol]): Step => (_engine, time) => ({
      type: 'liquidate-position',
      time,
      liquidator: { account: '@insurance' },
      target: { account: target },
      instrument: symbol,
      amount: 'max',
    })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(account, instrument).map(([target, symbol]): Step => (_engine, time) => ({
      type: 'deleverage',
      time,
      target: { account: target },
      instrument: symbol,
    })),
  },
  {
    weight: 1,
    arbitrary: fc.constant<Step>((_engine, time) => ({
      type: 'expire',
      time,
      instrument: 'ETH-FUT',
    })),
  },
  {
    weight: 1,
    arbitrary: account.map((a): Step => (_engine, time) => ({
      type: 'settle-pnl',
      time,
      account: a,
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(account, fc.integer({ min: 1, max: 5000 }))
      .map(([a, amount]): Step => (_engine, time) => ({
        type: 'withdraw',
        time,
        account: a,
        asset: 'USDC',
        amount: String(amount),
      })),
  },
);

/** Σ (quote − funding owed) over every position, plus Σ unsettled profit. */
function heldValue(engine: Engine): bigint {
  let total = 0n;
  for (const account of engine.state.accounts.values()) {
    for (const sub of account.subAccounts) {
      const book = sub.derivatives;
      if (book === undefined) continue;
      total += book.unsettled;
      for (const p of book.positions) {
        const fundingIndex = engine.state.instruments[p.instrument]?.fundingIndex ?? 0n;
        total += p.quote - p.size * (fundingIndex - p.funding);
      }
    }
  }
  return total;
}

function checkInstruments(engine: Engine): void {
  for (const instrument of engine.state.instruments) {
    let sum = 0n;
    let longs = 0n;
    for (const account of engine.state.accounts.values()) {
      for (const sub of account.subAccounts) {
        const p = sub.derivatives?.positions.find((x) => x.instrument === instrument.index);
        if (p === undefined) continue;
        sum += p.size;
        if (p.size > 0n) longs += p.size;
      }
    }
    expect(sum, `${instrument.listing.spec.symbol}: sizes sum`).toBe(0n);
    expect(instrument.openInterest, `${instrument.listing.spec.symbol}: open interest`).toBe(longs);
  }
}

/** The health's float screen never answers otherwise than the exact comparison. */
function checkScreen(engine: Engine): void {
  for (const [id, account] of engine.state.accounts) {
    for (const sub of account.subAccounts) {
      const ref = { account: id, subAccount: sub.number };
      for (const tier of ['initial', 'liquidationEnd', 'maintenance'] as const) {
        const screened = new Draft(engine.state, engine.state.time).health(ref).meets(tier);
        const exact = new Draft(engine.state, engine.state.time).health(ref);
        expect(screened, `${id} ${tier}`).toBe(
          exact.collateralNum(tier) >= exact.liabilityNum(tier),
        );
      }
    }
  }
}

function settledIn(events: readonly EngineEvent[]): bigint {
  let total = 0n;
  for (const event of events) if (event.type === 'pnl-settled') total += event.amount;
  return total;
}

describe('derivatives in the one margin account, over random command streams', () => {
  it('neither make nor lose value; instruments balance; pools stay solvent; refusals change nothing', () => {
    let accepted = 0;
    const seen = new Set<string>();
    const counts = new Map<string, number>();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(step, fc.integer({ min: 0, max: 1_200 })), {
          minLength: 40,
          maxLength: 160,
        }),
        (steps) => {
          const engine = market();
          let time = START;
          let settled = 0n;
          for (const [make, advance] of steps) {
            time += advance;
            const command = make(engine, time);
            const hash = engine.hash();
            const result = engine.applyJson(command);
            if (result.ok) {
              accepted++;
              seen.add(String(command.type));
              counts.set(String(command.type), (counts.get(String(command.type)) ?? 0) + 1);
              settled += settledIn(result.events);
            } else {
              expect(engine.hash(), `${String(command.type)} refused, ${result.error.code}`).toBe(
                hash,
              );
            }
            // What was settled left the positions' and books' values for the pools, exactly.
            expect(heldValue(engine) + settled * USDC_UNIT).toBe(0n);
            checkInstruments(engine);
            checkScreen(engine);
            for (const asset of engine.state.assets) {
              expect(poolSurplusRayUnits(asset.pool) >= 0n, `${asset.config.symbol} solvent`).toBe(
                true,
              );
            }
          }
        },
      ),
      { seed: 16_2026, numRuns: 150 },
    );
    expect(accepted).toBeGreaterThan(500);
    expect(counts.get('liquidate-position') ?? 0).toBeGreaterThan(20);
    expect(counts.get('deleverage') ?? 0).toBeGreaterThan(0);
    for (const type of ['trade', 'set-price', 'settle-funding', 'liquidate-position']) {
      expect(seen.has(type), `${type} was exercised`).toBe(true);
    }
  });
});
