/**
 * The effects journal against the commands it stands for: a state rebuilt from effects
 * segments must hash like the state the commands left, at every segment boundary, for every
 * scenario file, the shipped stories and random command streams; a segment that is not what
 * its writer wrote is refused before it changes anything.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../src/engine/commandCodec.js';
import {
  applyCommand,
  applyEffects,
  createState,
  decodeJson,
  EffectsError,
  type EffectsSegment,
  EffectsWriter,
  type EngineState,
  FulcrumError,
  stateHash,
} from '../src/index.js';
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

/** Commands whose changes the effects hold as the command itself. */
const KEPT = new Set([
  'list-asset',
  'set-weights',
  'quote',
  'configure-liquidation',
  'configure-venue',
  'liquidate',
  'backstop',
  'resolve-bankruptcy',
  'list-instrument',
  'trade',
  'settle-funding',
  'expire',
  'set-mode',
  'settle-pnl',
  'liquidate-position',
  'deleverage',
  'set-volatility',
]);

/**
 * Journals `inputs` with a writer of `segmentRecords`-record segments. `takeNow(records)` says
 * after which records a segment is taken (one: the oldest full one, or else the open one), as
 * the durable engine takes one whenever it starts a write; by default, whenever one fills.
 */
function journal(
  inputs: readonly Json[],
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
  for (const input of inputs) {
    const command = decodeJson(input, live);
    // Input that never became a command is not journaled.
    if (command instanceof FulcrumError) continue;
    const text = encodeCommand(command);
    // A price set or quoted on an instrument (or one that fixes a settlement price) changes an
    // instrument: kept as a command too.
    let changesDerivatives = false;
    const result = applyCommand(live, command, (draft) => {
      changesDerivatives = draft.changes().liquidationState;
      writer.accepted(draft, text);
    });
    if (!result.ok) writer.refused();
    else if (KEPT.has(command.type) || changesDerivatives) kept++;
    records++;
    hashAfter.push(stateHash(live));
    if (takeNow(records)) take();
  }
  while (take());
  expect(taken).toBe(records);
  expect(writer.take()).toBeUndefined();
  return { segments, hashes, kept, live };
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
