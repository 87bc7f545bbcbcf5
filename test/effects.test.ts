/**
 * The effects journal against the commands it stands for: a state rebuilt from effects
 * segments must hash like the state the commands left, at every segment boundary, for every
 * scenario file, the shipped stories and random command streams (lending alone, and lending
 * mixed with fills, funding, takeovers, deleveraging and expiry); segments of the first format
 * still apply; a segment that is not what its writer wrote is refused before it changes
 * anything.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../src/engine/commandCodec.js';
import {
  applyEffects,
  applyEffectsInOrder,
  EFFECTS_FORMAT_VERSION,
  EffectsError,
  type EffectsSegment,
  EffectsWriter,
} from '../src/engine/effects.js';
import {
  applyCommand,
  createState,
  decodeJson,
  type EngineState,
  FulcrumError,
  stateHash,
} from '../src/index.js';
import { MixedStream, streamOpening } from './effectsStreams.js';
import { ETH_LISTING, USDC_LISTING, WBTC_LISTING } from './fixtures/market.js';

type Json = Record<string, unknown>;

/** What a journal of `commands` holds: its segments and the live state's hash after each. */
interface Journaled {
  readonly segments: EffectsSegment[];
  /** State hash after each segment, as the commands left it. */
  readonly hashes: string[];
  /** Accepted commands whose effects are not images (kept as their command). */
  readonly kept: number;
  readonly live: EngineState;
}

/**
 * Commands whose changes the effects hold as the command itself: listings and weights, oracle
 * quotes (on assets and instruments), and whatever moves the liquidation throttle or the
 * venue's rules. Fills, funding, expiry, marks, modes, volatilities and deleveraging are images.
 */
const KEPT = new Set([
  'list-asset',
  'set-weights',
  'quote',
  'configure-liquidation',
  'configure-venue',
  'liquidate',
  'backstop',
  'list-instrument',
  'liquidate-position',
]);

/** Commands to journal: a list, or a stream that makes each from the live state (undefined: done). */
type Source = readonly Json[] | ((live: EngineState) => Json | undefined);

/** Accepted commands by type, over every journal made. */
const acceptedTypes = new Map<string, number>();

/**
 * Journals `source` with a writer of `segmentRecords`-record segments. `takeNow(records)` says
 * after which records a segment is taken (one: the oldest full one, or else the open one), as
 * the durable engine takes one whenever it starts a write; by default, whenever one fills.
 */
function journal(
  source: Source,
  segmentRecords: number,
  takeNow: (records: number) => boolean = (records) => records % segmentRecords === 0,
): Journaled {
  const live = createState();
  const writer = new EffectsWriter(segmentRecords);
  const segments: EffectsSegment[] = [];
  const hashes: string[] = [];
  // The state hash after each number of records (0: before any).
  const hashAfter = [stateHash(live)];
  let records = 0;
  let taken = 0;
  let kept = 0;
  const take = (): boolean => {
    const segment = writer.take();
    if (segment === undefined) return false;
    // Segments line up with the engine's batches: none longer than asked for.
    expect(segment.records).toBeLessThanOrEqual(segmentRecords);
    segments.push(segment);
    taken += segment.records;
    hashes.push(hashAfter[taken] as string);
    return true;
  };
  const next = typeof source === 'function' ? source : listed(source);
  for (let input = next(live); input !== undefined; input = next(live)) {
    const command = decodeJson(input, live);
    // Input that never became a command is not journaled.
    if (command instanceof FulcrumError) continue;
    const text = encodeCommand(command);
    const result = applyCommand(live, command, (draft) => writer.accepted(draft, text));
    if (!result.ok) writer.refused();
    else {
      if (KEPT.has(command.type)) kept++;
      acceptedTypes.set(command.type, (acceptedTypes.get(command.type) ?? 0) + 1);
    }
    records++;
    hashAfter.push(stateHash(live));
    if (takeNow(records)) take();
  }
  while (take());
  expect(taken).toBe(records);
  expect(writer.take()).toBeUndefined();
  return { segments, hashes, kept, live };
}

function listed(inputs: readonly Json[]): (live: EngineState) => Json | undefined {
  let at = 0;
  return () => inputs[at++];
}

/** The opening market of the mixed streams, then `count` commands of seed `seed`'s stream. */
function mixedStream(seed: number, count: number): (live: EngineState) => Json | undefined {
  const opening = streamOpening();
  const stream = new MixedStream(seed);
  let at = 0;
  return (live) => {
    at++;
    if (at <= opening.length) return opening[at - 1];
    return at <= opening.length + count ? stream.next(live) : undefined;
  };
}

/** Applies the segments to an empty state, checking the hash after each. */
function replayEffects(journaled: Journaled): { state: EngineState; commands: number } {
  const state = createState();
  let commands = 0;
  journaled.segments.forEach((segment, i) => {
    commands += applyEffects(state, segment.bytes, segment.records).commands;
    expect(stateHash(state), `after segment ${i}`).toBe(journaled.hashes[i]);
  });
  return { state, commands };
}

/** The commands of a scenario or story file, checks and expectations left out. */
function commandsOf(path: string): Json[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('//'))
    .map((line) => JSON.parse(line) as Json)
    .filter((line) => !('check' in line) && !('raw' in line))
    .map(({ expect: _expect, ...command }) => command);
}

const root = join(import.meta.dirname, '..');
const FILES = [
  ...readdirSync(join(root, 'test', 'scenarios'))
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => join(root, 'test', 'scenarios', f)),
  join(root, 'examples', 'lending-story.jsonl'),
  join(root, 'examples', 'black-thursday-liquidations.jsonl'),
];

describe('effects replay', () => {
  it.each(FILES.map((f) => [f.slice(root.length + 1), f]))(
    '%s: the state after every segment equals the commands',
    (_name, path) => {
      const inputs = commandsOf(path);
      for (const size of [1, 3, 64]) {
        const journaled = journal(inputs, size);
        expect(journaled.segments.length).toBeGreaterThan(0);
        const { commands } = replayEffects(journaled);
        // Listings, liquidations and rule changes are re-executed; everything else is images.
        expect(commands).toBe(journaled.kept);
      }
    },
  );

  it('keeps an oracle-managed asset exact: quotes are re-executed, their effects on accounts are images', () => {
    const inputs: Json[] = [
      { type: 'list-asset', time: 0, price: '1', config: USDC_LISTING },
      { type: 'list-asset', time: 0, price: '2000', config: { ...ETH_LISTING, oracle: {} } },
      { type: 'deposit', time: 1, account: 'lena', asset: 'USDC', amount: '1000000' },
      { type: 'deposit', time: 1, account: 'alice', asset: 'ETH', amount: '10' },
      { type: 'borrow', time: 2, account: 'alice', asset: 'USDC', amount: '12000' },
    ];
    for (let t = 3; t < 60; t += 3) {
      for (const source of ['a', 'b', 'c']) {
        inputs.push({ type: 'quote', time: t, asset: 'ETH', source, price: String(2000 - t * 5) });
      }
      inputs.push({ type: 'repay', time: t, account: 'alice', asset: 'USDC', amount: '10' });
    }
    const journaled = journal(inputs, 7);
    const { commands, state } = replayEffects(journaled);
    expect(commands).toBe(2 + 19 * 3);
    expect(stateHash(state)).toBe(stateHash(journaled.live));
  });

  it('writes the pools of a run once, at its end; sub-accounts with each record', () => {
    const inputs: Json[] = [
      { type: 'list-asset', time: 0, price: '1', config: USDC_LISTING },
      ...Array.from({ length: 200 }, (_, i) => ({
        type: 'deposit',
        time: 1 + i,
        account: i % 2 === 0 ? 'ann' : 'ben',
        asset: 'USDC',
        amount: '3',
      })),
    ];
    const journaled = journal(inputs, 1_000);
    const [segment] = journaled.segments;
    if (segment === undefined) throw new Error('no segment');
    expect(segment.records).toBe(201);
    // Each deposit's record: its header and one sub-account image (about 25 bytes); a pool image
    // (six bigints and a time, about 80 bytes more) only in the last.
    expect(segment.bytes.length).toBeLessThan(200 * 40);
    const { state } = replayEffects(journaled);
    expect(stateHash(state)).toBe(stateHash(journaled.live));
    expect(state.sequence).toBe(201);
  });

  it('random command streams: effects replay equals the commands, whatever the segment size', () => {
    const accounts = ['ann', 'ben', 'cat', 'dan'];
    const amount = fc.oneof(
      fc.constant('all'),
      fc.integer({ min: 1, max: 100_000 }).map(String),
      fc.constant('0.000001'),
      // Past 2^64 base units: bigints of more than one limb.
      fc.constant('100000000000'),
    );
    const who = {
      account: fc.constantFrom(...accounts),
      subAccount: fc.integer({ min: 0, max: 2 }),
    };
    const command = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          type: fc.constantFrom('deposit', 'withdraw', 'borrow', 'repay'),
          ...who,
          asset: fc.constantFrom('USDC', 'ETH', 'WBTC'),
          amount,
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          type: fc.constant('transfer'),
          from: fc.record(who),
          to: fc.record(who),
          asset: fc.constantFrom('USDC', 'ETH'),
          amount,
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          type: fc.constant('set-price'),
          asset: fc.constantFrom('ETH', 'WBTC'),
          price: fc.integer({ min: 50, max: 200_000 }).map(String),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          type: fc.constant('accrue'),
          asset: fc.constantFrom('USDC', 'ETH'),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          type: fc.constant('liquidate'),
          liquidator: fc.constant({ account: 'liz', subAccount: 0 }),
          target: fc.record(who),
          debtAsset: fc.constantFrom('USDC', 'ETH'),
          collateralAsset: fc.constantFrom('ETH', 'WBTC', 'USDC'),
          amount: fc.constantFrom('all', '1000'),
        }),
      },
    );
    const steps = fc.array(fc.tuple(fc.integer({ min: 0, max: 86_400 }), command), {
      minLength: 1,
      maxLength: 120,
    });
    /** When segments are taken: when they fill (null), or after the records a pattern says. */
    const takes = fc.option(fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }), {
      nil: null,
    });
    let keptInAll = 0;
    fc.assert(
      fc.property(steps, fc.integer({ min: 1, max: 40 }), takes, (stream, size, pattern) => {
        const inputs: Json[] = [
          { type: 'list-asset', time: 0, price: '1', config: USDC_LISTING },
          { type: 'list-asset', time: 0, price: '2000', config: ETH_LISTING },
          { type: 'list-asset', time: 0, price: '60000', config: WBTC_LISTING },
          { type: 'deposit', time: 0, account: 'lena', asset: 'USDC', amount: '10000000' },
          { type: 'deposit', time: 0, account: 'lena', asset: 'ETH', amount: '10000' },
          { type: 'deposit', time: 0, account: 'liz', asset: 'USDC', amount: '10000000' },
          { type: 'deposit', time: 0, account: 'liz', asset: 'ETH', amount: '10000' },
          ...accounts.map((account) => ({
            type: 'deposit',
            time: 0,
            account,
            asset: 'ETH',
            amount: '50',
          })),
        ];
        let time = 0;
        for (const [dt, c] of stream) {
          time += dt;
          inputs.push({ ...c, time });
        }
        // Segments taken when they fill, or late and at odd moments, as a busy engine does.
        const journaled = journal(
          inputs,
          size,
          pattern === null ? undefined : (records) => pattern[records % pattern.length] as boolean,
        );
        const { commands, state } = replayEffects(journaled);
        expect(commands).toBe(journaled.kept);
        keptInAll += journaled.kept;
        expect(state.sequence).toBe(journaled.live.sequence);
        expect(state.time).toBe(journaled.live.time);
      }),
      {
        seed: Number(process.env.FC_SEED ?? 20_261_206),
        numRuns: Number(process.env.FC_RUNS ?? 150),
      },
    );
    // Liquidations really happened among the images: kept commands between runs of images.
    expect(keptInAll).toBeGreaterThan(20);
  });
});

describe('effects of mixed streams of lending and derivatives', () => {
  it('mixed streams of lending and derivatives: effects replay equals the commands', () => {
    const before = new Map(acceptedTypes);
    const seeds = (process.env.EFFECTS_SEEDS ?? '1,2,3,4,5,6').split(',').map(Number);
    const count = Number(process.env.EFFECTS_COMMANDS ?? 500);
    for (const seed of seeds) {
      for (const size of [1, 13, 256]) {
        // Taken when they fill, or at odd moments, as a busy engine does.
        const pattern = [true, false, false, true, false, false, false];
        const takeNow =
          size === 13 && seed % 2 === 0
            ? (records: number) => pattern[(records * seed) % pattern.length] as boolean
            : undefined;
        const journaled = journal(mixedStream(seed, count), size, takeNow);
        const { commands, state } = replayEffects(journaled);
        // Only listings, quotes and what moves the throttle are re-executed.
        expect(commands, `seed ${seed}, segments of ${size}`).toBe(journaled.kept);
        expect(state.sequence).toBe(journaled.live.sequence);
        expect(state.instruments).toEqual(journaled.live.instruments);
        expect(state.volatilities).toEqual(journaled.live.volatilities);
      }
    }
    // Every derivatives command took part, as images or kept.
    const accepted = (type: string) => (acceptedTypes.get(type) ?? 0) - (before.get(type) ?? 0);
    for (const type of [
      'trade',
      'settle-funding',
      'expire',
      'liquidate-position',
      'deleverage',
      'set-mode',
      'set-volatility',
      'settle-pnl',
      'set-price',
      'quote',
      'liquidate',
    ]) {
      expect(accepted(type), type).toBeGreaterThan(0);
    }
  });

  it('writes fills and funding as images: nothing re-executed after the listings', () => {
    const inputs: Json[] = streamOpening().filter((c) => c.type !== 'quote');
    const time = 1_000;
    for (let i = 0; i < 200; i++) {
      const [buyer, seller] = i % 2 === 0 ? ['ann', 'bob'] : ['cat', 'ann'];
      inputs.push({
        type: 'trade',
        time: time + i * 60,
        buyer: { account: buyer },
        seller: { account: seller },
        instrument: 'ETH-PERP',
        size: '0.5',
        price: '2000',
        buyerFee: '1',
      });
      if (i % 60 === 59) {
        inputs.push({ type: 'settle-funding', time: time + i * 60, instrument: 'ETH-PERP' });
      }
    }
    const journaled = journal(inputs, 64);
    const { commands, state } = replayEffects(journaled);
    // The listings only: 2 assets and 4 instruments.
    expect(commands).toBe(6);
    expect(journaled.kept).toBe(6);
    const perp = state.instruments[0];
    expect(perp?.openInterest).toBeGreaterThan(0n);
    expect(perp?.fundingAt).toBeGreaterThan(time);
    expect(stateHash(state)).toBe(stateHash(journaled.live));
  });
});

describe('effects of the first format', () => {
  const dir = join(root, 'test', 'fixtures', 'effects-format-1');
  const fixture = JSON.parse(readFileSync(join(dir, 'segments.json'), 'utf8')) as {
    version: number;
    segments: { records: number; bytes: string }[];
    hashes: string[];
  };
  const segments: EffectsSegment[] = fixture.segments.map(({ records, bytes }) => ({
    records,
    bytes: new Uint8Array(Buffer.from(bytes, 'base64')),
  }));
  const inputs = readFileSync(join(dir, 'commands.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Json);

  it('still apply: a journal written before derivatives were images recovers', () => {
    expect(EFFECTS_FORMAT_VERSION).toBe(2);
    expect(segments.every((s) => s.bytes[0] === 1)).toBe(true);
    const state = createState();
    let commands = 0;
    segments.forEach((segment, i) => {
      commands += applyEffects(state, segment.bytes, segment.records).commands;
      expect(stateHash(state), `after segment ${i}`).toBe(fixture.hashes[i]);
    });
    // In the first format every derivatives command was kept.
    expect(commands).toBeGreaterThan(100);
    // The same state as the commands re-executed by today's engine.
    const { live } = journal(inputs, 1_000);
    expect(stateHash(state)).toBe(stateHash(live));
  });

  it('apply in one group with segments of the current format after them', () => {
    // Recovery applies up to 64 consecutive segments at once: an upgraded venue's journal
    // holds format 1 up to the upgrade and format 2 after it.
    const live = journal(inputs, 1_000).live;
    const writer = new EffectsWriter(16);
    const stream = new MixedStream(11);
    const hashes: string[] = [];
    const later: EffectsSegment[] = [];
    for (let i = 0; i < 300; i++) {
      const command = decodeJson({ ...stream.next(live) }, live);
      if (command instanceof FulcrumError) continue;
      const text = encodeCommand(command);
      const result = applyCommand(live, command, (draft) => writer.accepted(draft, text));
      if (!result.ok) writer.refused();
      if (writer.waiting >= 16) {
        later.push(writer.take() as EffectsSegment);
        hashes.push(stateHash(live));
      }
    }
    const last = writer.take();
    if (last !== undefined) later.push(last);
    expect(later.every((s) => s.bytes[0] === 2)).toBe(true);
    const state = createState();
    applyEffectsInOrder(state, segments.slice(0, -10));
    applyEffectsInOrder(state, [...segments.slice(-10), ...later]);
    expect(stateHash(state)).toBe(stateHash(live));
  });
});

describe('an effects segment that is not what its writer wrote', () => {
  const inputs = commandsOf(join(root, 'examples', 'lending-story.jsonl'));
  const { segments } = journal(inputs, 1_000);
  const [segment] = segments;
  if (segment === undefined) throw new Error('no segment');

  /** Applying `bytes` as `records` records is refused, and the state is left as it was. */
  function refused(bytes: Uint8Array, records: number, message: RegExp): void {
    const state = createState();
    const before = stateHash(state);
    let error: unknown;
    try {
      applyEffects(state, bytes, records);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EffectsError);
    expect((error as EffectsError).message).toMatch(message);
    expect((error as EffectsError).stateChanged).toBe(false);
    expect(stateHash(state)).toBe(before);
  }

  it('is refused whole when cut short, padded, of another version or of another length', () => {
    refused(segment.bytes.subarray(0, segment.bytes.length - 3), segment.records, /cannot be read/);
    refused(new Uint8Array([...segment.bytes, 0]), segment.records, /bytes after/);
    refused(segment.bytes, segment.records - 1, /bytes after/);
    refused(segment.bytes, segment.records + 1, /cannot be read/);
    refused(new Uint8Array([9, ...segment.bytes.subarray(1)]), segment.records, /version/);
    // A record of an unknown kind.
    refused(new Uint8Array([1, 7]), 1, /unknown record kind 7/);
    // A time going backwards between two records.
    const back = new Uint8Array(1 + 2 * 12);
    const view = new DataView(back.buffer);
    back[0] = 1;
    back[1] = 1;
    view.setFloat64(2, 10, true);
    back[13] = 1;
    view.setFloat64(14, 5, true);
    refused(back, 2, /out of order/);
  });

  it('stops part-way, saying so, when a kept command is refused on replay', () => {
    const writer = new EffectsWriter(10);
    const state = createState();
    const deposit = decodeJson(
      { type: 'list-asset', time: 0, price: '1', config: USDC_LISTING },
      state,
    );
    if (deposit instanceof FulcrumError) throw deposit;
    applyCommand(state, deposit, (draft) => writer.accepted(draft, encodeCommand(deposit)));
    const taken = writer.take() as EffectsSegment;
    // Replayed onto a state that lists USDC already, the listing is refused.
    let error: unknown;
    try {
      applyEffects(state, taken.bytes, taken.records);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EffectsError);
    expect((error as EffectsError).message).toMatch(/refused on replay \(asset_already_listed\)/);
    expect((error as EffectsError).record).toBe(0);
    expect((error as EffectsError).stateChanged).toBe(true);
  });

  it('does not reuse a writer segment across takes: each starts with its own account names', () => {
    const { segments: small, hashes } = journal(inputs, 2);
    // Applying the second segment alone onto the state after the first works from its own names.
    const state = createState();
    const [first, second] = small;
    if (first === undefined || second === undefined) throw new Error('two segments expected');
    applyEffects(state, first.bytes, first.records);
    applyEffects(state, second.bytes, second.records);
    expect(stateHash(state)).toBe(hashes[1]);
  });
});

/** Bytes of a hand-made segment, little-endian as the writer writes them. */
class SegmentBytes {
  private readonly out: number[] = [];

  constructor(version = EFFECTS_FORMAT_VERSION) {
    this.out.push(version);
  }

  u8(value: number): this {
    this.out.push(value & 0xff);
    return this;
  }

  u16(value: number): this {
    return this.u8(value).u8(value >> 8);
  }

  f64(value: number): this {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value, true);
    this.out.push(...bytes);
    return this;
  }

  big(value: bigint): this {
    let magnitude = value < 0n ? -value : value;
    const limbs: bigint[] = [];
    while (magnitude > 0n) {
      limbs.push(magnitude & ((1n << 64n) - 1n));
      magnitude >>= 64n;
    }
    this.u8((value < 0n ? 0x80 : 0) | limbs.length);
    for (const limb of limbs) {
      for (let i = 0n; i < 8n; i++) this.u8(Number((limb >> (8n * i)) & 0xffn));
    }
    return this;
  }

  /** A CHANGES record's header (with no asset images unless `assets` says). */
  changes(
    time: number,
    counts: { assets?: number; instruments?: number; volatilities?: number; subs?: number },
  ): this {
    return this.u8(1)
      .f64(time)
      .u8(counts.assets ?? 0)
      .u16(counts.instruments ?? 0)
      .u8(counts.volatilities ?? 0)
      .u16(counts.subs ?? 0);
  }

  /** An instrument's image. */
  instrument(index: number, flags = 0, fundingAt = 2_000): this {
    this.u16(index)
      .big(2_000n * 10n ** 18n)
      .big(0n)
      .f64(fundingAt)
      .big(0n)
      .u8(flags);
    return (flags & 1) !== 0 ? this.big(10n ** 18n) : this;
  }

  /** A sub-account named for the first time, holding no balance; its book follows. */
  sub(account: string, number = 0): this {
    this.u8(0).u8(account.length);
    for (const c of account) this.u8(c.charCodeAt(0));
    return this.u8(number).u8(0);
  }

  /** A book: its mode and positions (instrument, size); nothing unsettled. */
  book(
    mode: number,
    positions: readonly (readonly [number, bigint])[],
    count = positions.length,
  ): this {
    this.u8(mode).u16(count);
    for (const [instrument, size] of positions) {
      this.u16(instrument)
        .big(size)
        .big(-size * 2_000n * 10n ** 30n)
        .big(0n);
    }
    return this.big(0n);
  }

  get bytes(): Uint8Array {
    return new Uint8Array(this.out);
  }
}

/** The opening market of the mixed streams: 2 assets, 4 instruments, at time 1,000. */
function market(): EngineState {
  return journal(streamOpening(), 1_000).live;
}

/** Applying `bytes` (`records` records) to the market is refused; the state as it was. */
function refusedOnMarket(bytes: Uint8Array, records: number, message: RegExp): EffectsError {
  const state = market();
  const before = stateHash(state);
  let error: unknown;
  try {
    applyEffects(state, bytes, records);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(EffectsError);
  expect((error as EffectsError).message).toMatch(message);
  expect((error as EffectsError).stateChanged).toBe(false);
  expect(stateHash(state)).toBe(before);
  return error as EffectsError;
}

describe('a damaged segment of the current format', () => {
  it('is refused whole when cut short anywhere', () => {
    const { segments } = journal(mixedStream(3, 120), 100_000);
    const [segment] = segments;
    if (segment === undefined) throw new Error('no segment');
    expect(segment.bytes[0]).toBe(2);
    const { length } = segment.bytes;
    const cuts = new Set<number>();
    for (let i = 1; i < 200; i++) cuts.add(Math.floor((length * i) / 200));
    for (let i = 1; i <= 64; i++) cuts.add(length - i);
    for (const cut of cuts) {
      const state = createState();
      expect(() => applyEffects(state, segment.bytes.subarray(0, cut), segment.records)).toThrow(
        EffectsError,
      );
      expect(stateHash(state)).toBe(stateHash(createState()));
    }
  });

  it('refuses counts out of range', () => {
    const instruments = new SegmentBytes().changes(2_000, { instruments: 1_025 });
    refusedOnMarket(instruments.bytes, 1, /counts out of range: 0 assets, 1025 instruments/);
    const volatilities = new SegmentBytes().changes(2_000, { volatilities: 200 });
    refusedOnMarket(volatilities.bytes, 1, /200 volatilities/);
    const assets = new SegmentBytes().changes(2_000, { assets: 129 });
    refusedOnMarket(assets.bytes, 1, /129 assets/);

    // A trader's book of 33 positions (32 at most); the fund's may hold more.
    const book = new SegmentBytes().changes(2_000, { subs: 1 }).sub('ann').book(1, [], 33);
    refusedOnMarket(book.bytes, 1, /bad derivatives book \(mode 1, 33 positions\)/);
    const mode = new SegmentBytes().changes(2_000, { subs: 1 }).sub('ann').book(4, []);
    refusedOnMarket(mode.bytes, 1, /bad derivatives book \(mode 4/);
    // A sub-account image of 17 balances (16 at most).
    const balances = new SegmentBytes().changes(2_000, { subs: 1 }).u8(0).u8(3);
    balances.u8(97).u8(110).u8(110).u8(0).u8(17);
    refusedOnMarket(balances.bytes, 1, /bad sub-account image/);
  });
});

describe('a damaged segment of the current format: its indices', () => {
  it('refuses instruments out of range, not listed, or images that do not hold', () => {
    const far = new SegmentBytes().changes(2_000, { instruments: 1 }).instrument(1_024);
    refusedOnMarket(far.bytes, 1, /instrument 1024 out of range/);
    // The market lists 4 instruments: an image of the tenth is refused before anything is written.
    const unlisted = new SegmentBytes().changes(2_000, { instruments: 1 }).instrument(9);
    expect(refusedOnMarket(unlisted.bytes, 1, /instrument 9, which is not listed/).record).toBe(0);
    const flags = new SegmentBytes().changes(2_000, { instruments: 1 }).instrument(0, 4);
    refusedOnMarket(flags.bytes, 1, /bad image of instrument 0/);
    const time = new SegmentBytes().changes(2_000, { instruments: 1 }).instrument(0, 0, 1.5);
    refusedOnMarket(time.bytes, 1, /bad image of instrument 0/);
    const held = new SegmentBytes()
      .changes(2_000, { subs: 1 })
      .sub('ann')
      .book(1, [[7, 10n ** 8n]]);
    refusedOnMarket(held.bytes, 1, /instrument 7, which is not listed/);
    const order = new SegmentBytes()
      .changes(2_000, { subs: 1 })
      .sub('ann')
      .book(1, [
        [2, 10n ** 8n],
        [1, 10n ** 8n],
      ]);
    refusedOnMarket(order.bytes, 1, /positions out of order/);
    const empty = new SegmentBytes()
      .changes(2_000, { subs: 1 })
      .sub('ann')
      .book(1, [[0, 0n]]);
    refusedOnMarket(empty.bytes, 1, /a position of size 0/);
    const volatility = new SegmentBytes().changes(2_000, { volatilities: 1 }).u8(128).big(1n);
    refusedOnMarket(volatility.bytes, 1, /asset 128 out of range/);
    const unlistedVolatility = new SegmentBytes().changes(2_000, { volatilities: 1 }).u8(5).big(1n);
    refusedOnMarket(unlistedVolatility.bytes, 1, /asset 5, which is not listed/);
  });
});

describe('hand-made segments of the current format', () => {
  it('apply sound images, and stop part-way, saying so, at a later bad run', () => {
    const sound = new SegmentBytes()
      .changes(2_000, { instruments: 1, volatilities: 1, subs: 1 })
      .instrument(1, 1)
      .u8(1)
      .big(900_000n)
      .sub('ann', 1)
      .book(3, [
        [0, 10n ** 8n],
        [3, -(10n ** 7n)],
      ]);
    const state = market();
    applyEffects(state, sound.bytes, 1);
    expect(state.instruments[1]?.settlementPrice).toBe(10n ** 18n);
    expect(state.volatilities.get(1)).toBe(900_000n);
    const book = findSub(state, 'ann', 1)?.derivatives;
    expect(book?.mode).toBe('portfolio');
    expect(book?.positions.map((p) => p.instrument)).toEqual([0, 3]);
    expect(state.sequence).toBe(market().sequence + 1);
    // A kept command, then a run naming an instrument not listed: the first run was written.
    const command = decodeJson(
      { type: 'set-price', time: 2_100, asset: 'ETH', price: '2100' },
      state,
    );
    if (command instanceof FulcrumError) throw command;
    const text = new TextEncoder().encode(encodeCommand(command));
    const bad = new SegmentBytes()
      .changes(2_000, { volatilities: 1 })
      .u8(1)
      .big(800_000n)
      .u8(2)
      .u8(text.length & 0xff)
      .u8(text.length >> 8)
      .u16(0);
    for (const byte of text) bad.u8(byte);
    bad.changes(2_200, { instruments: 1 }).instrument(9);
    const fresh = market();
    let error: unknown;
    try {
      applyEffects(fresh, bad.bytes, 3);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EffectsError);
    expect((error as EffectsError).message).toMatch(/instrument 9, which is not listed/);
    expect((error as EffectsError).record).toBe(2);
    expect((error as EffectsError).stateChanged).toBe(true);
  });
});

function findSub(state: EngineState, account: string, number: number) {
  return state.accounts.get(account)?.subAccounts.find((s) => s.number === number);
}
