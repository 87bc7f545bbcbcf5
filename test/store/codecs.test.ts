/**
 * What the journal and snapshots store must come back exactly: commands through their stored
 * form, and whole engine states through snapshot text, for states reached by random commands.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Command, decodeCommand, Engine, stateHash } from '../../src/index.js';
import { decodeStoredCommand, encodeCommand } from '../../src/engine/commandCodec.js';
import { deserializeState, serializeState } from '../../src/engine/snapshotCodec.js';
import { ETH_LISTING, T0, USDC_LISTING, WBTC_LISTING } from '../fixtures/market.js';

const accounts = ['ann', 'ben', 'x.y:z@w-1'];
const ref = fc.record({
  account: fc.constantFrom(...accounts),
  subAccount: fc.integer({ min: 0, max: 3 }),
});
const pair = {
  debtAsset: fc.constantFrom('USDC', 'ETH', 'WBTC'),
  collateralAsset: fc.constantFrom('USDC', 'ETH', 'WBTC'),
};
const step = fc.oneof(
  fc.record({
    type: fc.constantFrom('deposit', 'withdraw', 'borrow', 'repay'),
    account: fc.constantFrom(...accounts),
    subAccount: fc.integer({ min: 0, max: 3 }),
    asset: fc.constantFrom('USDC', 'ETH', 'WBTC'),
    amount: fc.oneof(fc.constant('all'), fc.integer({ min: 1, max: 5000 }).map(String)),
  }),
  fc.record({
    type: fc.constant('set-price'),
    asset: fc.constantFrom('ETH', 'WBTC'),
    price: fc.integer({ min: 1, max: 100_000 }).map(String),
    stablePrice: fc.integer({ min: 1, max: 100_000 }).map(String),
  }),
  fc.record({
    type: fc.constant('quote'),
    asset: fc.constant('LINK'),
    source: fc.constantFrom('a', 'b', 'c'),
    price: fc.integer({ min: -5, max: 40 }).map(String),
    confidence: fc.integer({ min: 0, max: 2 }).map(String),
  }),
  fc.record({
    type: fc.constant('transfer'),
    from: fc.record({
      account: fc.constantFrom(...accounts),
      subAccount: fc.integer({ min: 0, max: 3 }),
    }),
    to: fc.record({
      account: fc.constantFrom(...accounts),
      subAccount: fc.integer({ min: 0, max: 3 }),
    }),
    asset: fc.constantFrom('USDC', 'ETH', 'WBTC'),
    amount: fc.integer({ min: 1, max: 5000 }).map(String),
  }),
  // Liquidations, so that snapshots carry the throttle's window and the rules.
  fc.record({
    type: fc.constant('liquidate'),
    liquidator: ref,
    target: ref,
    ...pair,
    amount: fc.oneof(fc.constant('max'), fc.integer({ min: 1, max: 5000 }).map(String)),
    // A Dutch auction's bid: a bigint at the top level of a liquidation.
    maxPenalty: fc.constantFrom('0.02', '0.05'),
  }),
  // New weights: bigints one level down.
  fc.record({
    type: fc.constant('set-weights'),
    asset: fc.constantFrom('ETH', 'WBTC'),
    initialWeight: fc.constantFrom('0.6', '0.7'),
    maintenanceWeight: fc.constantFrom('0.8', '0.75'),
  }),
  fc.record({ type: fc.constant('backstop'), target: ref, ...pair }),
  fc.record({ type: fc.constant('resolve-bankruptcy'), target: ref }),
  fc.record({
    type: fc.constant('configure-liquidation'),
    config: fc.record({
      closeFactor: fc.constantFrom('0.5', '0.25', '1'),
      accountCapValue: fc.constantFrom('1000', '250000', null),
      throttleWindowSeconds: fc.constantFrom(60, 7200),
      backstopDepthValue: fc.constantFrom('1000', '1000000'),
    }),
  }),
);

function marketAfter(steps: readonly Record<string, unknown>[]): Engine {
  const engine = new Engine();
  for (const config of [USDC_LISTING, ETH_LISTING, WBTC_LISTING]) {
    engine.applyJson({ type: 'list-asset', time: T0, config, price: '100' });
  }
  // An asset priced by an oracle, so that snapshots carry oracle states too.
  const link = { symbol: 'LINK', decimals: 18, initialWeight: '0.7', maintenanceWeight: '0.75' };
  const oracle = {
    quorum: 2,
    maxStalenessSeconds: 7200,
    breakerMove: '0.3',
    policy: { stale: ['liquidate'] },
  };
  engine.applyJson({ type: 'list-asset', time: T0, config: { ...link, oracle }, price: '14' });
  for (const account of accounts) {
    engine.applyJson({ type: 'deposit', time: T0, account, asset: 'USDC', amount: '100000' });
  }
  steps.forEach((s, i) => engine.applyJson({ ...s, time: T0 + i * 3_600 }));
  return engine;
}

describe('stored commands', () => {
  it('decode to exactly the typed command that was encoded', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 10 }), step, (before, last) => {
        const engine = marketAfter(before);
        let typed;
        try {
          typed = decodeCommand({ ...last, time: T0 + 10 ** 6 }, engine.state);
        } catch {
          return; // input the engine refuses never becomes a stored command
        }
        expect(decodeStoredCommand(encodeCommand(typed))).toEqual(typed);
      }),
    );
  });

  it('keep a listing exact, every bigint of it, its oracle configuration included', () => {
    const engine = new Engine();
    const oracle = {
      quorum: 3,
      maxDeviation: '0.015',
      stableRatePerSecond: '0.0001',
      policy: { tooUncertain: [] },
    };
    const listing = {
      type: 'list-asset',
      time: T0,
      config: { ...WBTC_LISTING, reserveFactor: '0.123456', oracle },
      price: '61234.5',
    };
    const typed = decodeCommand(listing, engine.state);
    expect(decodeStoredCommand(encodeCommand(typed))).toEqual(typed);
  });
});

describe('snapshots', () => {
  it('give back a state with the same hash, and the same text again', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const engine = marketAfter(steps);
        const text = serializeState(engine.state);
        const restored = deserializeState(text);
        expect(stateHash(restored)).toBe(engine.hash());
        expect(serializeState(restored)).toBe(text);
        // The restored state goes on exactly like the original.
        const next = { type: 'accrue', time: T0 + 10 ** 7, asset: 'USDC' };
        const twin = new Engine(restored);
        engine.applyJson(next);
        twin.applyJson(next);
        expect(twin.hash()).toBe(engine.hash());
      }),
      { numRuns: 60 },
    );
  });

  it('keep a state through liquidations, throttles, a backstop and bad debt', () => {
    const story = readFileSync(
      join(import.meta.dirname, '..', '..', 'examples', 'black-thursday-liquidations.jsonl'),
      'utf8',
    );
    const engine = new Engine();
    let liquidations = 0;
    for (const line of story.split('\n')) {
      if (line.trim() === '' || line.startsWith('//')) continue;
      const typed = decodeCommand(JSON.parse(line), engine.state);
      expect(decodeStoredCommand(encodeCommand(typed))).toEqual(typed);
      const result = engine.apply(typed);
      if (result.ok) liquidations += result.events.filter((e) => e.type === 'liquidation').length;
      // Mid-story too: the throttle's window and the rules are part of the state.
      const restored = deserializeState(serializeState(engine.state));
      expect(stateHash(restored)).toBe(engine.hash());
    }
    expect(liquidations).toBeGreaterThan(5);
  });

  it('refuse text that is not a snapshot', () => {
    expect(() => deserializeState('{"format": 99}')).toThrow(
      /snapshot format 99, not this Fulcrum's/,
    );
    expect(() => deserializeState('not json')).toThrow(/not valid JSON/);
  });
});

describe('the direct encoding of balance commands', () => {
  it('writes exactly what JSON.stringify writes, and reads back what it wrote', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('deposit', 'withdraw', 'borrow', 'repay'),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.string({ maxLength: 70 }),
        fc.integer({ min: 0, max: 255 }),
        fc.string({ maxLength: 20 }),
        fc.oneof(fc.bigInt({ min: -(2n ** 130n), max: 2n ** 130n }), fc.constant('all' as const)),
        (type, time, account, subAccount, asset, amount) => {
          const command = { type, time, account, subAccount, asset, amount } as Command;
          const generic = JSON.stringify(command, (_k, v: unknown) =>
            typeof v === 'bigint' ? v.toString() : v,
          );
          expect(encodeCommand(command)).toBe(generic);
          expect(decodeStoredCommand(encodeCommand(command))).toEqual(command);
        },
      ),
    );
  });
});

describe('the direct encoding of prices and transfers', () => {
  const bigintsAsText = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
  const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 8 }));
  const integer = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 2 ** 40 }) },
    fc.double(),
    fc.constant(2 ** 60),
  );
  const big = fc.bigInt({ min: -(2n ** 130n), max: 2n ** 130n });
  /** Plain data shaped like the command, now and then with a field missing, odd or extra. */
  const odd = <T>(value: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 16, arbitrary: value }, fc.constant(undefined), text, integer, big);
  const ref = fc.oneof(
    { weight: 12, arbitrary: fc.record({ account: odd(text), subAccount: odd(integer) }) },
    fc.record({ subAccount: integer, account: text }),
    fc.record({ account: text, subAccount: integer, extra: text }),
    fc.constant(null),
    text,
  );

  /** Mostly the object as it is; now and then its keys swapped round, or one more key. */
  const reshaped = fc.oneof(
    { weight: 4, arbitrary: fc.constant((o: Record<string, unknown>) => o) },
    fc.integer({ min: 0, max: 5 }).map((at) => (o: Record<string, unknown>) => {
      const entries = Object.entries(o);
      const [moved] = entries.splice(at % entries.length, 1);
      return Object.fromEntries(moved === undefined ? entries : [...entries, moved]);
    }),
    fc
      .tuple(fc.string({ maxLength: 6 }), text)
      .map(([key, value]) => (o: Record<string, unknown>) => ({ ...o, [key]: value })),
  );

  it('writes exactly what JSON.stringify writes for set-price', () => {
    fc.assert(
      fc.property(
        odd(integer),
        odd(text),
        odd(big),
        fc.option(odd(big), { nil: undefined }),
        fc.boolean(),
        reshaped,
        (time, asset, price, stablePrice, withStable, reshape) => {
          const command = reshape(
            withStable
              ? { type: 'set-price', time, asset, price, stablePrice }
              : { type: 'set-price', time, asset, price },
          ) as unknown as Command;
          expect(encodeCommand(command)).toBe(JSON.stringify(command, bigintsAsText));
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('writes exactly what JSON.stringify writes for transfers, and reads back what it wrote', () => {
    fc.assert(
      fc.property(
        odd(integer),
        ref,
        ref,
        odd(text),
        fc.oneof(big, fc.constant('all'), text),
        reshaped,
        (time, from, to, asset, amount, reshape) => {
          const command = reshape({
            type: 'transfer',
            time,
            from,
            to,
            asset,
            amount,
          }) as unknown as Command;
          const generic = JSON.stringify(command, bigintsAsText);
          expect(encodeCommand(command)).toBe(generic);
        },
      ),
      { numRuns: 1_000 },
    );
    const transfer = {
      type: 'transfer',
      time: 7,
      from: { account: 'ann', subAccount: 0 },
      to: { account: 'ben', subAccount: 2 },
      asset: 'ETH',
      amount: 10n ** 20n,
    } as Command;
    expect(decodeStoredCommand(encodeCommand(transfer))).toEqual(transfer);
  });
});

describe('the stored form of any command', () => {
  it('is exactly JSON.stringify with bigints as integer strings, for any plain data', () => {
    const bigintsAsText = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.double(),
        fc.integer(),
        fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
        // What a caller may hand in where a number belongs (a Date, a decimal library's value):
        // refused by the engine, but journaled as JSON.stringify writes it.
        fc.date({ noInvalidDate: true }),
        fc.string().map((text) => ({ toJSON: () => text })),
        fc.array(tie('tree'), { maxLength: 4 }),
        fc.sparseArray(tie('tree'), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 6 }), tie('tree'), { maxKeys: 4 }),
      ),
    }));
    fc.assert(
      fc.property(
        fc.constantFrom('set-price', 'transfer', 'list-asset', 'liquidate'),
        fc.dictionary(fc.string({ maxLength: 8 }), tree, { maxKeys: 5 }),
        (type, fields) => {
          const command = { type, ...fields } as unknown as Command;
          expect(encodeCommand(command)).toBe(JSON.stringify(command, bigintsAsText));
        },
      ),
      { numRuns: 500 },
    );
  });
});
