/**
 * Oracle robustness seen from the engine: a colluding pair of four sources, a source frozen on
 * one value, a pumped price held for half an hour, and a confidence that widens the prices
 * margin uses; with the liquidation monitor agreeing with the engine, and journals of listings
 * made before these rules replaying as they did.
 *
 * The market: USDC priced directly at $1 (initial weight 0.85, maintenance 0.875); ETH priced by
 * an oracle (initial weight 0.8, maintenance 0.825, liquidation penalty 5%). Liability weights
 * are 1.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/index.js';
import { decodeStoredCommand, encodeCommand } from '../../src/engine/commandCodec.js';
import type { EngineEvent, PriceAggregatedEvent } from '../../src/engine/events.js';
import { liquidationStatus } from '../../src/engine/queries.js';
import { deserializeState, serializeState } from '../../src/engine/snapshotCodec.js';
import type { SubAccountRef } from '../../src/engine/state.js';
import { canonicalState, stateHash } from '../../src/engine/stateHash.js';
import {
  DEFAULT_ORACLE_CONFIG,
  LEGACY_ORACLE_FIELDS,
  type OracleConfig,
} from '../../src/domain/oracleConfig.js';
import { LiquidationMonitor } from '../../src/liquidation/monitor.js';
import { divFloor, PRICE_SCALE, RAY, WEIGHT_SCALE } from '../../src/math/fixed.js';
import { type SourceQuote } from '../../src/oracle/oracle.js';

type Json = Record<string, unknown>;
const T0 = 1_583_971_200;
const alice = { account: 'alice', subAccount: 0 };
const P = (n: number) => (BigInt(Math.round(n * 1e6)) * PRICE_SCALE) / 1_000_000n;

function ok(engine: Engine, input: Json) {
  const result = engine.applyJson(input);
  if (!result.ok) throw new Error(`${JSON.stringify(input)}: ${result.error.message}`);
  return result;
}

/** USDC at $1 and ETH at 2000 priced by `sources` under `oracle`; lena lends 1,000,000 USDC. */
function market(oracle: Json, sources: readonly string[], confidence?: string): Engine {
  const engine = new Engine();
  ok(engine, {
    type: 'list-asset',
    time: T0,
    price: '1',
    config: { symbol: 'USDC', decimals: 6, initialWeight: '0.85', maintenanceWeight: '0.875' },
  });
  ok(engine, {
    type: 'list-asset',
    time: T0,
    price: '2000',
    config: {
      symbol: 'ETH',
      decimals: 18,
      initialWeight: '0.8',
      maintenanceWeight: '0.825',
      oracle,
    },
  });
  quote(engine, T0, Object.fromEntries(sources.map((s) => [s, 2000])), confidence);
  ok(engine, { type: 'deposit', time: T0, account: 'lena', asset: 'USDC', amount: '1000000' });
  return engine;
}

/** Each source quotes its price at `time`; the aggregation events, last last. */
function quote(
  engine: Engine,
  time: number,
  prices: Record<string, number>,
  confidence?: string,
): PriceAggregatedEvent[] {
  return Object.entries(prices).flatMap(([source, price]) =>
    aggregated(
      ok(engine, {
        type: 'quote',
        time,
        asset: 'ETH',
        source,
        price: String(price),
        ...(confidence === undefined ? {} : { confidence }),
      }).events,
    ),
  );
}

function aggregated(events: readonly EngineEvent[]): PriceAggregatedEvent[] {
  return events.filter((e): e is PriceAggregatedEvent => e.type === 'price-aggregated');
}

const ethPrice = (engine: Engine) => engine.state.assets[1]?.risk.oraclePrice;
function ethAsset(engine: Engine) {
  const asset = engine.state.assets[1];
  if (asset === undefined) throw new Error('ETH is listed second');
  return asset;
}
/** Base units of a whole USDC, and of a quote value (VALUE_SCALE). */
const USDC = 10n ** 6n;
const VALUE = 10n ** 18n;

describe('two of four sources colluding', () => {
  // alice: 10 ETH against 15,800 USDC, liquidatable below 15800 / (10 × 0.825) = 1915.15
  function book(oracle: Json = {}) {
    const engine = market(oracle, ['a', 'b', 'c', 'd']);
    ok(engine, { type: 'deposit', time: T0, account: 'alice', asset: 'ETH', amount: '10' });
    ok(engine, { type: 'borrow', time: T0, account: 'alice', asset: 'USDC', amount: '15800' });
    // all four drift to 1950 over ten minutes: a genuine move
    for (let t = 10; t <= 600; t += 10) {
      const p = 2000 - (50 * t) / 600;
      quote(engine, T0 + t, { a: p, b: p, c: p, d: p });
    }
    return engine;
  }

  it('a pair 4% down neither moves the price nor makes alice liquidatable', () => {
    const engine = book();
    // c and d at 1950 × 0.96 = 1872: before the agreement rule the median of four averaged
    // 1950 and 1872 to 1911 < 1915.15, and alice was liquidatable on two sources' word
    const events = quote(engine, T0 + 610, { a: 1950, b: 1950, c: 1872, d: 1872 });
    expect(events.at(-1)).toMatchObject({ grade: 'insufficientSources', price: P(1950) });
    expect(ethPrice(engine)).toBe(P(1950));
    expect(engine.liquidation(alice, T0 + 610).liquidatable).toBe(false);
    // new risk waits for the sources to agree again
    const borrow = engine.applyJson({
      type: 'borrow',
      time: T0 + 610,
      account: 'alice',
      asset: 'USDC',
      amount: '1',
    });
    expect(borrow.ok ? 'ok' : borrow.error.code).toBe('price_unusable');
  });

  it('one of four 4% down is outvoted: the price is the other three', () => {
    const engine = book();
    const events = quote(engine, T0 + 610, { a: 1950, b: 1950, c: 1950, d: 1872 });
    expect(events.at(-1)).toMatchObject({
      grade: 'valid',
      price: P(1950),
      sources: ['a', 'b', 'c'],
      rejected: ['d'],
    });
  });

  it('without the rule (maxSpread null) the pair moves the price halfway', () => {
    const engine = book({ maxSpread: null });
    quote(engine, T0 + 610, { a: 1950, b: 1950, c: 1872, d: 1872 });
    // (1950 + 1872) / 2
    expect(ethPrice(engine)).toBe(P(1911));
    expect(engine.liquidation(alice, T0 + 610).liquidatable).toBe(true);
  });
});

describe('a frozen source', () => {
  it('is left out once unchanged for 300 s while the others moved, and reported', () => {
    const engine = market({}, ['a', 'b', 'c']);
    let last: PriceAggregatedEvent | undefined;
    // a repeats 2000 with fresh times; b and c rise 0.05 a second, 1% in 400 s: a stays well
    // inside the 5% outlier bound and the 2% agreement, so only its being unchanged betrays it
    for (let t = 10; t <= 400; t += 10) {
      last = quote(engine, T0 + t, { a: 2000, b: 2000 + t / 20, c: 2001 + t / 20 }).at(-1);
      // up to 300 s a counts: the median of 2000, 2015 and 2016
      if (t === 300) {
        expect(last).toMatchObject({ price: P(2015), sources: ['a', 'b', 'c'], frozen: [] });
      }
    }
    // at 400 s: a left out, the price the median of b (2020) and c (2021)
    expect(last).toMatchObject({
      grade: 'valid',
      price: P(2020.5),
      sources: ['b', 'c'],
      frozen: ['a'],
    });
  });

  it('a price every source quotes flat for a day (a pegged asset) stays valid', () => {
    const engine = market({}, ['a', 'b', 'c']);
    let last: PriceAggregatedEvent | undefined;
    for (let t = 30; t <= 86_400; t += 30) {
      last = quote(engine, T0 + t, { a: 2000, b: 2000, c: 2000 }).at(-1);
    }
    expect(last).toMatchObject({ grade: 'valid', frozen: [] });
  });
});

describe('the delay price behind the stable price', () => {
  /** alice's largest borrow a minute after ETH has climbed 2000 -> 2800 (+40%) in 23 minutes. */
  function maxBorrowAfterPump(oracle: Json): bigint | undefined {
    const engine = market(oracle, ['a', 'b']);
    ok(engine, { type: 'deposit', time: T0, account: 'alice', asset: 'ETH', amount: '10' });
    // a slow climb keeps the breaker (25% in 5 minutes) quiet: +1.5% a minute for 23 minutes
    let p = 2000;
    let t = T0;
    while (p < 2800) {
      t += 60;
      p = Math.min(2800, Math.round(p * 1.015));
      quote(engine, t, { a: p, b: p });
    }
    t += 60;
    quote(engine, t, { a: 2800, b: 2800 });
    return engine.health(alice, t).positions.find((x) => x.symbol === 'USDC')?.maxBorrow;
  }

  it('buys less borrowing power from a pumped price', () => {
    const plain = maxBorrowAfterPump({ delayIntervals: 0 });
    const delayed = maxBorrowAfterPump({});
    // the plain limiter (0.03% a second, 1.8% a minute) keeps up with a climb of 1.5% a
    // minute: 10 × 2800 × 0.8 = 22,400 USDC
    expect(plain).toBe(22_400n * USDC);
    // the delayed one, slowed by (2000 / stable)² as it parts from the day's average of 2000,
    // lags behind (10 × 2000 × 0.8 = 16,000 at the listing price)
    expect(delayed !== undefined && delayed < (plain as bigint)).toBe(true);
    expect(delayed !== undefined && delayed > 16_000n * USDC).toBe(true);
  });
});

describe('a steady crash: the delay price slows the stable price, not liquidation', () => {
  /**
   * alice: 10 ETH against 4,000 USDC, liquidatable below 4000 / (10 × 0.825) = 484.85. Sources
   * a, b and c quote every 10 s a price falling 0.25% each time (1.49% a minute, exact cents
   * rounded down; the breaker's 25% in 5 minutes never trips), for 100 minutes: 2000 to 443.86.
   */
  function crash(oracle: Json) {
    const engine = market(oracle, ['a', 'b', 'c']);
    ok(engine, { type: 'deposit', time: T0, account: 'alice', asset: 'ETH', amount: '10' });
    ok(engine, { type: 'borrow', time: T0, account: 'alice', asset: 'USDC', amount: '4000' });
    ok(engine, { type: 'deposit', time: T0, account: 'liq', asset: 'USDC', amount: '100000' });
    let cents = 200_000n;
    const grades = new Set<string>();
    let last: PriceAggregatedEvent | undefined;
    for (let t = 10; t <= 6000; t += 10) {
      cents = (cents * 9975n) / 10_000n;
      const price = `${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`;
      for (const source of ['a', 'b', 'c']) {
        const result = ok(engine, { type: 'quote', time: T0 + t, asset: 'ETH', source, price });
        last = aggregated(result.events).at(-1);
        grades.add(last?.grade ?? 'none');
      }
    }
    return { engine, grades, last: last as PriceAggregatedEvent };
  }

  it('every aggregation is valid, and alice is liquidated at the end', () => {
    const { engine, grades, last } = crash({});
    expect([...grades]).toEqual(['valid']);
    expect(last.price).toBe(P(443.86));
    // initial margin's stable price is the slowed one, more than 50% above the price: graded
    // against it, the last ten minutes or so would be too volatile and alice not liquidatable
    const eth = ethAsset(engine);
    expect(eth.risk.stablePrice).toBe(last.stablePrice);
    expect(eth.oracle?.stablePrice).toBe(last.stablePrice);
    expect(last.stablePrice > 2n * last.price).toBe(true);
    // the too-volatile grade measures from the plain follower, which keeps up: it stands at the
    // price of ten seconds before (each second's first quote moves it toward the median then,
    // still that price; the second's later quotes add no time)
    expect(eth.oracle?.volatilityReferencePrice).toBe(P(444.98));
    expect(engine.liquidation(alice, T0 + 6000)).toMatchObject({
      liquidatable: true,
      allowed: true,
    });
    const result = ok(engine, {
      type: 'liquidate',
      time: T0 + 6000,
      liquidator: { account: 'liq' },
      target: { account: 'alice' },
      debtAsset: 'USDC',
      collateralAsset: 'ETH',
      amount: 'max',
    });
    expect(result.events.some((e) => e.type === 'liquidation')).toBe(true);
  });

  it('the grades are those of the plain rate limiter (the delay price off)', () => {
    const delayed = crash({});
    const plain = crash({ delayIntervals: 0 });
    expect(plain.grades).toEqual(delayed.grades);
    expect(ethAsset(delayed.engine).oracle?.volatilityReferencePrice).toBe(plain.last.stablePrice);
    // with the delay price off the two followers are one
    expect(ethAsset(plain.engine).oracle?.volatilityReferencePrice).toBe(plain.last.stablePrice);
  });
});

describe('confidence widens the prices margin uses', () => {
  /**
   * alice: 10 ETH against 15,000 USDC; then, in the same second (no interest), every source
   * quotes 1830 with confidence `c`. Maintenance: 10 × (1830 − k·c) × 0.825 against 15,000:
   * liquidatable once 1830 − k·c < 1818.18, with k = 2 once c > 5.909.
   */
  function alice1830(k: string, c: string) {
    const engine = market({ confidenceWidening: k }, ['a', 'b', 'c'], c);
    ok(engine, { type: 'deposit', time: T0, account: 'alice', asset: 'ETH', amount: '10' });
    ok(engine, { type: 'borrow', time: T0, account: 'alice', asset: 'USDC', amount: '15000' });
    quote(engine, T0, { a: 1830, b: 1830, c: 1830 }, c);
    return engine;
  }

  it.each([
    // k, c, maintenance collateral (quote, VALUE_SCALE), liquidatable
    ['0', '6', (10n * 1830n * 825n * VALUE) / 1000n, false], // 15,097.5: no widening
    ['2', '0', (10n * 1830n * 825n * VALUE) / 1000n, false], // 15,097.5: nothing to widen by
    ['2', '5', (10n * (1830n - 10n) * 825n * VALUE) / 1000n, false], // 15,015
    ['2', '6', (10n * (1830n - 12n) * 825n * VALUE) / 1000n, true], // 14,998.5 < 15,000
    ['1.5', '6', (10n * (1830n - 9n) * 825n * VALUE) / 1000n, false], // 15,023.25
  ] as const)('k %s, confidence %s', (k, c, collateral, liquidatable) => {
    const engine = alice1830(k, c);
    const report = engine.health(alice, T0);
    expect(report.tiers.maintenance.weightedCollateral).toBe(collateral);
    expect(report.tiers.maintenance.weightedLiabilities).toBe(15_000n * VALUE);
    expect(engine.liquidation(alice, T0).liquidatable).toBe(liquidatable);
    // reported values stay at the oracle price: 10 × 1830
    expect(report.positions.find((x) => x.symbol === 'ETH')?.value).toBe(18_300n * VALUE);
  });

  it('initial margin widens the lower of oracle and stable price: the borrow limit', () => {
    // 10 ETH at min(2000, 2000) − 2 × 5 = 1990: 10 × 1990 × 0.8 = 15,920
    const engine = market({ confidenceWidening: '2' }, ['a', 'b', 'c'], '5');
    ok(engine, { type: 'deposit', time: T0, account: 'alice', asset: 'ETH', amount: '10' });
    expect(engine.health(alice, T0).positions.find((x) => x.symbol === 'USDC')?.maxBorrow).toBe(
      15_920n * USDC,
    );
  });

  it('the liquidation price accounts for the widening', () => {
    // with c = 6 and k = 2 alice is liquidatable below 15000 / 8.25 + 12 = 1830.1818..,
    // rounded up to the price unit (10^-18)
    const engine = alice1830('2', '6');
    const eth = engine.health(alice, T0).positions.find((x) => x.symbol === 'ETH');
    expect(eth?.liquidationPrice).toBe(1_830_181_818_181_818_181_819n);
    // without widening: 15000 / 8.25 = 1818.1818..
    const plain = alice1830('0', '6')
      .health(alice, T0)
      .positions.find((x) => x.symbol === 'ETH');
    expect(plain?.liquidationPrice).toBe(1_818_181_818_181_818_181_819n);
  });

  it('a liquidation seizes at the oracle price, not the widened one', () => {
    const engine = alice1830('2', '6');
    ok(engine, { type: 'deposit', time: T0, account: 'liq', asset: 'USDC', amount: '100000' });
    const result = ok(engine, {
      type: 'liquidate',
      time: T0,
      liquidator: { account: 'liq' },
      target: { account: 'alice' },
      debtAsset: 'USDC',
      collateralAsset: 'ETH',
      amount: 'max',
    });
    const event = result.events.find((e) => e.type === 'liquidation');
    if (event?.type !== 'liquidation') throw new Error('no liquidation');
    expect(event.collateralPrice).toBe(P(1830));
    // seized = repaid × 1 × (1 + penalty) / 1830, in ETH base units, rounded down
    const penalty = event.penaltyPpm;
    const expected = divFloor(
      event.repaid * 10n ** 12n * PRICE_SCALE * (WEIGHT_SCALE + penalty),
      P(1830) * WEIGHT_SCALE,
    );
    expect(event.seized).toBe(expected);
    // the liquidation leaves alice above maintenance at the widened prices; its repay, sized
    // with the oracle price's figures, restores liquidation-end health with room to spare
    expect(engine.liquidation(alice, T0).liquidatable).toBe(false);
    expect((event.endHealthAfterWad ?? 0n) >= 10n ** 18n).toBe(true);
  });

  it('the liquidation monitor agrees with the engine as prices and confidences move', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            move: fc.integer({ min: -300, max: 300 }),
            confidence: fc.integer({ min: 0, max: 150 }),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        (steps) => {
          const engine = market({ confidenceWidening: '2.5' }, ['a', 'b', 'c'], '0');
          ok(engine, { type: 'deposit', time: T0, account: 'lena', asset: 'ETH', amount: '1000' });
          // collateral in ETH, debt in USDC; and the other way round
          for (let i = 0; i < 12; i++) {
            const long = `long${i}`;
            const short = `short${i}`;
            ok(engine, { type: 'deposit', time: T0, account: long, asset: 'ETH', amount: '1' });
            ok(engine, {
              type: 'borrow',
              time: T0,
              account: long,
              asset: 'USDC',
              amount: String(1200 + 30 * i),
            });
            ok(engine, {
              type: 'deposit',
              time: T0,
              account: short,
              asset: 'USDC',
              amount: '2000',
            });
            ok(engine, {
              type: 'borrow',
              time: T0,
              account: short,
              asset: 'ETH',
              amount: String(0.7 + 0.01 * i),
            });
          }
          const monitor = new LiquidationMonitor(engine.state);
          let price = 2000;
          let t = T0;
          for (const { move, confidence } of steps) {
            t += 30;
            price = Math.min(2400, Math.max(1500, price + move / 10));
            // confidence in hundredths of a percent of the price, up to 1.5%
            const c = ((price * confidence) / 10_000).toFixed(6);
            for (const source of ['a', 'b', 'c']) {
              const result = ok(engine, {
                type: 'quote',
                time: t,
                asset: 'ETH',
                source,
                price: price.toFixed(2),
                confidence: c,
              });
              monitor.observe(result);
              expect(sorted(monitor.liquidatable())).toEqual(exactScan(engine));
            }
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});

function exactScan(engine: Engine): string[] {
  const found: string[] = [];
  for (const account of engine.state.accounts.values()) {
    for (const sub of account.subAccounts) {
      const ref = { account: account.id, subAccount: sub.number };
      if (liquidationStatus(engine.state, ref).liquidatable) found.push(key(ref));
    }
  }
  return found.sort();
}

function sorted(refs: readonly SubAccountRef[]): string[] {
  return refs.map(key).sort();
}

function key(ref: SubAccountRef): string {
  return `${ref.account}/${ref.subAccount}`;
}

describe('journals and snapshots', () => {
  it('a listing stored before these rules replays with them off', () => {
    const engine = market({}, ['a']);
    const listing = {
      type: 'list-asset' as const,
      time: T0,
      price: P(2000),
      config: { ...ethAsset(engine).config, symbol: 'BTC' },
    };
    // the stored form as an earlier version wrote it: the oracle without the new fields
    const stored = JSON.parse(encodeCommand(listing)) as { config: { oracle: Json } };
    for (const field of Object.keys(LEGACY_ORACLE_FIELDS)) delete stored.config.oracle[field];
    const decoded = decodeStoredCommand(JSON.stringify(stored));
    if (decoded.type !== 'list-asset') throw new Error('not a listing');
    expect(decoded.config.oracle).toEqual({ ...DEFAULT_ORACLE_CONFIG, ...LEGACY_ORACLE_FIELDS });
    // a listing stored now keeps its own fields
    const current = decodeStoredCommand(encodeCommand(listing));
    expect(current.type === 'list-asset' && current.config.oracle).toEqual(DEFAULT_ORACLE_CONFIG);
  });

  it('with the rules off, the oracle gives what the earlier aggregation gave', () => {
    const legacy: OracleConfig = { ...DEFAULT_ORACLE_CONFIG, ...LEGACY_ORACLE_FIELDS };
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            source: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
            price: fc.integer({ min: -100, max: 4000 }),
            confidence: fc.option(fc.integer({ min: 0, max: 80 })),
            age: fc.integer({ min: 0, max: 90 }),
            gap: fc.integer({ min: 0, max: 120 }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        (steps) => {
          const engine = new Engine();
          ok(engine, {
            type: 'list-asset',
            time: T0,
            price: '2000',
            config: {
              symbol: 'ETH',
              decimals: 18,
              initialWeight: '0.8',
              maintenanceWeight: '0.825',
              oracle: { maxSpread: null, maxUnchangedSeconds: 0, delayIntervals: 0 },
            },
          });
          const reference = new EarlierOracle(P(2000), T0, legacy);
          let t = T0;
          for (const step of steps) {
            t += step.gap;
            const q: SourceQuote = {
              source: step.source,
              price: P(step.price),
              confidence: step.confidence === null ? null : P(step.confidence),
              observedAt: t - step.age,
            };
            const result = engine.applyJson({
              type: 'quote',
              time: t,
              asset: 'ETH',
              source: q.source,
              price: String(step.price),
              ...(q.confidence === null ? {} : { confidence: String(step.confidence) }),
              observedAt: q.observedAt,
            });
            if (!result.ok) throw new Error(result.error.message);
            const expected = reference.take(q, t);
            const got = aggregated(result.events)[0];
            expect([got?.grade, got?.price, got?.stablePrice]).toEqual(expected);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a snapshot keeps the oracle whole: delay window, unchanged times, confidence, followers', () => {
    const engine = market({ confidenceWidening: '2' }, ['a', 'b', 'c'], '3');
    // an hour and a half of quotes: a closed interval and an open one; a frozen
    for (let t = 60; t <= 5400; t += 60) {
      quote(engine, T0 + t, { a: 2000, b: 2000 + t / 60, c: 2001 + t / 60 }, '3');
    }
    // then ten minutes 30% up: the stable price, slowed by the delay price, parts from the
    // volatility reference price
    for (let t = 5460; t <= 6000; t += 60) {
      quote(engine, T0 + t, { a: 2700, b: 2700, c: 2701 }, '3');
    }
    const oracle = ethAsset(engine).oracle;
    if (oracle === null) throw new Error('ETH has an oracle');
    expect(oracle.delaySeconds).toBeGreaterThan(0);
    expect(oracle.quotes[0]?.unchangedSince).toBe(T0 + 5460);
    expect(oracle.volatilityReferencePrice > oracle.stablePrice).toBe(true);
    const text = serializeState(engine.state);
    const back = deserializeState(text);
    expect(back.assets[1]?.oracle).toEqual(oracle);
    expect(stateHash(back)).toBe(engine.hash());
    expect(back.assets[1]?.risk).toEqual(engine.state.assets[1]?.risk);
    expect(serializeState(back)).toBe(text);
    // both followers are in the state's canonical form, so in its hash
    const canonical = canonicalState(engine.state);
    expect(canonical).toContain(`"stablePrice":"${oracle.stablePrice}"`);
    expect(canonical).toContain(`"volatilityReferencePrice":"${oracle.volatilityReferencePrice}"`);
  });
});

/**
 * The aggregation as it was before the agreement, frozen-source and delay-price rules: the
 * median of the fresh sources, outliers beyond `maxDeviation` rejected, the median of the rest
 * with quorum; the stable price a plain rate limiter. A reference written apart from the code.
 */
class EarlierOracle {
  private quotes = new Map<string, SourceQuote>();
  private stable: bigint;
  private stableAt: number;
  constructor(
    private price: bigint,
    time: number,
    private readonly config: OracleConfig,
  ) {
    this.stable = price;
    this.stableAt = time;
  }

  take(q: SourceQuote, now: number): [string, bigint, bigint] {
    this.quotes.set(q.source, q);
    const c = this.config;
    const fresh = [...this.quotes.values()].filter(
      (x) => x.observedAt <= now && now - x.observedAt <= c.maxStalenessSeconds,
    );
    const median = (xs: bigint[]) => {
      const s = [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const m = s.length >> 1;
      const at = (i: number) => s[i] ?? 0n;
      return s.length % 2 === 1 ? at(m) : divFloor(at(m - 1) + at(m), 2n);
    };
    const abs = (x: bigint) => (x < 0n ? -x : x);
    const grade = (g: string): [string, bigint, bigint] => [g, this.price, this.stable];
    if (fresh.length === 0) return grade('stale');
    const center = median(fresh.map((x) => x.price));
    if (center <= 0n) return grade('nonPositive');
    const kept = fresh.filter((x) => abs(x.price - center) * RAY <= c.maxDeviationRay * center);
    if (kept.length < c.quorum) return grade('insufficientSources');
    const price = median(kept.map((x) => x.price));
    const reported = median(kept.map((x) => x.confidence ?? 0n));
    const prices = kept.map((x) => x.price).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const half = divFloor((prices.at(-1) ?? 0n) - (prices[0] ?? 0n) + 1n, 2n);
    const confidence = reported > half ? reported : half;
    const g =
      abs(price - this.stable) * RAY > c.maxStableGapRay * this.stable
        ? 'tooVolatile'
        : confidence * RAY > c.maxConfidenceRay * price
          ? 'tooUncertain'
          : 'valid';
    const step = BigInt(Math.min(Math.max(now - this.stableAt, 0), c.stableStepSecondsMax));
    const room = divFloor(this.stable * c.stableRatePerSecondRay * step, RAY);
    this.stable =
      price > this.stable + room
        ? this.stable + room
        : price < this.stable - room
          ? this.stable - room
          : price;
    this.stableAt = now;
    this.price = price;
    return [g, price, this.stable];
  }
}
