/**
 * Fault injection on the oracle, seen from the engine: a stale source, an outage, one source
 * spiking for one tick, a negative price, a gap over the breaker, a move too violent for the
 * volatility reference price, and a genuine fall. The assertions are what the venue must guarantee: no new
 * risk and no liquidation on a manipulated, stale or outlier price, and a genuine move still
 * liquidates.
 *
 * The market: USDC priced directly at $1; ETH priced by an oracle with three sources and the
 * default configuration (quorum 2, 60 s staleness, 5% outliers, breaker 25% in 5 minutes).
 * Alice holds 10 ETH and owes 12,000 USDC: liquidatable below 12000 / (10 × 0.825) = 1454.55.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/index.js';

const T0 = 1_583_971_200;
const SOURCES = ['binance', 'coinbase', 'kraken'] as const;
const alice = { account: 'alice', subAccount: 0 };

function market(): Engine {
  const engine = new Engine();
  const ok = (input: Record<string, unknown>) => {
    const result = engine.applyJson(input);
    if (!result.ok) throw new Error(`${JSON.stringify(input)}: ${result.error.message}`);
  };
  ok({
    type: 'list-asset',
    time: T0,
    price: '1',
    config: { symbol: 'USDC', decimals: 6, initialWeight: '0.85', maintenanceWeight: '0.875' },
  });
  ok({
    type: 'list-asset',
    time: T0,
    price: '2000',
    config: {
      symbol: 'ETH',
      decimals: 18,
      initialWeight: '0.8',
      maintenanceWeight: '0.825',
      oracle: {},
    },
  });
  quoteAll(engine, T0, 2000);
  ok({ type: 'deposit', time: T0, account: 'lena', asset: 'USDC', amount: '1000000' });
  ok({ type: 'deposit', time: T0, account: 'alice', asset: 'ETH', amount: '10' });
  ok({ type: 'borrow', time: T0, account: 'alice', asset: 'USDC', amount: '12000' });
  return engine;
}

/** Every source quotes `price` at `time`; a source mapped to null stays silent. */
function quoteAll(
  engine: Engine,
  time: number,
  price: number,
  override: Partial<Record<string, number | null>> = {},
) {
  for (const source of SOURCES) {
    const p = source in override ? override[source] : price;
    if (p === null || p === undefined) continue;
    const result = engine.applyJson({
      type: 'quote',
      time,
      asset: 'ETH',
      source,
      price: String(p),
    });
    if (!result.ok) throw new Error(result.error.message);
  }
}

/** Quotes every 10 s from `from` for `seconds`, the price moving linearly from `start` to `end`. */
function walk(engine: Engine, from: number, seconds: number, start: number, end: number) {
  for (let t = 0; t <= seconds; t += 10) {
    quoteAll(engine, from + t, Math.round((start + ((end - start) * t) / seconds) * 100) / 100);
  }
}

const borrowOne = (engine: Engine, time: number) =>
  engine.applyJson({ type: 'borrow', time, account: 'alice', asset: 'USDC', amount: '1' });
const refusal = (result: ReturnType<Engine['applyJson']>) => (result.ok ? 'ok' : result.error.code);
const ethPrice = (engine: Engine) => engine.pools().find((p) => p.asset === 'ETH')?.price;

describe('oracle faults', () => {
  it('a stale source drops out; the others keep the price valid', () => {
    const engine = market();
    walk(engine, T0 + 10, 50, 2000, 2000);
    // coinbase goes quiet for two minutes; binance and kraken go on
    for (let t = 70; t <= 190; t += 10) quoteAll(engine, T0 + t, 2000, { coinbase: null });
    const last = engine.applyJson({
      type: 'quote',
      time: T0 + 200,
      asset: 'ETH',
      source: 'kraken',
      price: '2000',
    });
    expect(last.ok && last.events[0]).toMatchObject({
      grade: 'valid',
      sources: ['binance', 'kraken'],
    });
    expect(refusal(borrowOne(engine, T0 + 200))).toBe('ok');
  });

  it('an outage: once every quote is 60 s old, no new risk and no liquidation', () => {
    const engine = market();
    walk(engine, T0 + 10, 600, 2000, 1400); // a genuine fall: alice becomes liquidatable
    const end = T0 + 610;
    expect(engine.liquidation(alice, end)).toMatchObject({ liquidatable: true, allowed: true });
    // then every source goes silent
    expect(engine.liquidation(alice, end + 61)).toEqual({
      liquidatable: true,
      allowed: false,
      blockedBy: [{ asset: 'ETH', grade: 'stale' }],
    });
    expect(refusal(borrowOne(engine, end + 61))).toBe('price_unusable');
    // quotes return: liquidation is allowed again
    quoteAll(engine, end + 120, 1400);
    expect(engine.liquidation(alice, end + 120).allowed).toBe(true);
  });

  it('one source spiking 50% down for one tick moves nothing: no liquidation', () => {
    const engine = market();
    walk(engine, T0 + 10, 60, 2000, 2000);
    const spike = engine.applyJson({
      type: 'quote',
      time: T0 + 80,
      asset: 'ETH',
      source: 'coinbase',
      price: '1000',
    });
    expect(spike.ok && spike.events[0]).toMatchObject({ grade: 'valid', rejected: ['coinbase'] });
    expect(ethPrice(engine)).toBe('2000');
    expect(engine.liquidation(alice, T0 + 80).liquidatable).toBe(false);
  });

  it('one source spiking 50% up buys no borrowing power', () => {
    const engine = market();
    walk(engine, T0 + 10, 60, 2000, 2000);
    const before = engine
      .health(alice, T0 + 80)
      .positions.find((p) => p.symbol === 'USDC')?.maxBorrow;
    engine.applyJson({
      type: 'quote',
      time: T0 + 80,
      asset: 'ETH',
      source: 'binance',
      price: '3000',
    });
    expect(ethPrice(engine)).toBe('2000');
    const after = engine
      .health(alice, T0 + 80)
      .positions.find((p) => p.symbol === 'USDC')?.maxBorrow;
    expect(after).toBe(before);
  });

  it('all sources drifting down together is a genuine move: it liquidates', () => {
    const engine = market();
    walk(engine, T0 + 10, 1800, 2000, 1400); // -30% over half an hour
    const end = T0 + 1810;
    expect(ethPrice(engine)).toBe('1400');
    const last = engine.applyJson({
      type: 'quote',
      time: end,
      asset: 'ETH',
      source: 'kraken',
      price: '1400',
    });
    expect(last.ok && last.events.map((e) => e.type)).toEqual(['price-aggregated']);
    expect(last.ok && last.events[0]).toMatchObject({ grade: 'valid' });
    expect(engine.liquidation(alice, end)).toMatchObject({ liquidatable: true, allowed: true });
  });

  it('a negative price is an outlier; all sources negative is non-positive: nothing allowed', () => {
    const engine = market();
    walk(engine, T0 + 10, 60, 2000, 2000);
    const one = engine.applyJson({
      type: 'quote',
      time: T0 + 80,
      asset: 'ETH',
      source: 'kraken',
      price: '-5',
    });
    expect(one.ok && one.events[0]).toMatchObject({ grade: 'valid', rejected: ['kraken'] });
    quoteAll(engine, T0 + 90, -5);
    expect(ethPrice(engine)).toBe('2000');
    expect(refusal(borrowOne(engine, T0 + 90))).toBe('price_unusable');
    // even a genuinely liquidatable account is not liquidated on a non-positive price
    walk(engine, T0 + 100, 600, 2000, 1400);
    quoteAll(engine, T0 + 710, 0);
    expect(engine.liquidation(alice, T0 + 710)).toMatchObject({
      liquidatable: true,
      allowed: false,
      blockedBy: [{ asset: 'ETH', grade: 'nonPositive' }],
    });
  });

  it('a gap over the breaker freezes new risk for 10 minutes; liquidation goes on', () => {
    const engine = market();
    walk(engine, T0 + 10, 60, 2000, 2000);
    // every source at once: -30% (over the 25% bound, under the 50% too-volatile bound)
    const results = SOURCES.map((source) =>
      engine.applyJson({ type: 'quote', time: T0 + 80, asset: 'ETH', source, price: '1400' }),
    );
    const tripped = results
      .flatMap((r) => (r.ok ? r.events : []))
      .filter((e) => e.type === 'breaker-tripped');
    expect(tripped).toHaveLength(1);
    expect(engine.liquidation(alice, T0 + 80)).toMatchObject({ liquidatable: true, allowed: true });
    // a deposit is fine; anything that adds risk waits
    expect(
      refusal(
        engine.applyJson({
          type: 'deposit',
          time: T0 + 90,
          account: 'alice',
          asset: 'ETH',
          amount: '20',
        }),
      ),
    ).toBe('ok');
    quoteAll(engine, T0 + 100, 1400);
    expect(refusal(borrowOne(engine, T0 + 100))).toBe('circuit_breaker');
    walk(engine, T0 + 110, 600, 1400, 1400);
    expect(refusal(borrowOne(engine, T0 + 710))).toBe('ok');
  });

  it('a fall too violent for the reference price blocks liquidation until that price catches up', () => {
    const engine = market();
    walk(engine, T0 + 10, 60, 2000, 2000);
    // -60% at once: more than 50% from the volatility reference price (the plain follower)
    quoteAll(engine, T0 + 80, 800);
    expect(engine.liquidation(alice, T0 + 80)).toMatchObject({
      liquidatable: true,
      allowed: false,
      blockedBy: [{ asset: 'ETH', grade: 'tooVolatile' }],
    });
    // the reference follows at 0.03%/s, not slowed by the delay price: after a few minutes of
    // steady quotes it is close enough
    walk(engine, T0 + 90, 1200, 800, 800);
    expect(engine.liquidation(alice, T0 + 1290)).toMatchObject({
      liquidatable: true,
      allowed: true,
    });
  });

  it('set-price is refused for an asset priced by its oracle; quote for one that is not', () => {
    const engine = market();
    const hash = engine.hash();
    expect(
      refusal(engine.applyJson({ type: 'set-price', time: T0 + 1, asset: 'ETH', price: '1' })),
    ).toBe('oracle_managed');
    expect(
      refusal(
        engine.applyJson({ type: 'quote', time: T0 + 1, asset: 'USDC', source: 'x', price: '1' }),
      ),
    ).toBe('no_oracle');
    expect(
      refusal(
        engine.applyJson({
          type: 'quote',
          time: T0 + 1,
          asset: 'ETH',
          source: 'x',
          price: '1',
          observedAt: T0 + 2,
        }),
      ),
    ).toBe('invalid_number');
    expect(
      refusal(
        engine.applyJson({
          type: 'quote',
          time: T0 + 1,
          asset: 'ETH',
          source: 'bad source',
          price: '1',
        }),
      ),
    ).toBe('invalid_field');
    expect(engine.hash()).toBe(hash);
  });
});
