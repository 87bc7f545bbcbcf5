/**
 * Snapshots built off the engine's thread: a follower worker applies each batch's effects to its
 * own copy of the state and builds the snapshots asked for. Every snapshot it builds must be the
 * state a full replay reaches at its position, and a follower that fails, cannot start or falls
 * behind must leave the engine building snapshots itself, losing nothing.
 *
 * The worker runs compiled (`dist/store/snapshotWorker.js`, built by `npm test` before the
 * tests); without a build these tests are skipped and say so.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stateHash } from '../../src/index.js';
import { deserializeState, serializeState } from '../../src/engine/snapshotCodec.js';
import { SeededRandom } from '../../src/math/random.js';
import { createState } from '../../src/engine/state.js';
import { DurableEngine, recover, SqliteStore } from '../../src/store/index.js';
import { SnapshotFollower } from '../../src/store/snapshotFollower.js';
import { exampleLines, temporaryFolders } from '../fixtures/examples.js';

const WORKER = new URL('../../dist/store/snapshotWorker.js', import.meta.url);
const built = existsSync(fileURLToPath(WORKER));
if (!built) {
  process.stderr.write(
    'snapshot follower tests skipped: dist/store/snapshotWorker.js is not built (npm run build)\n',
  );
}
/** A worker that takes the state, then never answers: a follower stuck on a long snapshot. */
const SILENT = new URL('./silentWorker.mjs', import.meta.url);
/** A worker that never even says it holds the state. */
const DEAF = new URL('./deafWorker.mjs', import.meta.url);

const BLACK_THURSDAY = exampleLines('black-thursday-liquidations.jsonl');

/**
 * Liquidations, a backstop and new rules (kept in the effects as commands, re-executed by the
 * follower), then `count` seeded random balance commands and prices (kept as images).
 */
function commands(count: number, seed: number): unknown[] {
  const random = new SeededRandom(seed);
  const pick = <T>(items: readonly T[]) => random.pick(items);
  const accounts = ['ann', 'ben', 'cy', 'dee', 'eve', 'fay', 'gil', 'hal', 'ivy', 'jo'];
  let time = 1_584_070_000;
  const out: unknown[] = [...BLACK_THURSDAY];
  for (let i = 0; i < count; i++) {
    time += Math.floor(random.next() * 30);
    const account = pick(accounts);
    const roll = random.next();
    if (roll < 0.15) {
      out.push({ type: 'set-price', time, asset: 'ETH', price: String(100 + random.next() * 80) });
    } else if (roll < 0.45) {
      const asset = pick(['ETH', 'USDC']);
      const amount = asset === 'ETH' ? String(1 + Math.floor(random.next() * 9)) : '500';
      out.push({ type: 'deposit', time, account, asset, amount });
    } else if (roll < 0.65) {
      out.push({ type: 'borrow', time, account, asset: 'USDC', amount: '100' });
    } else if (roll < 0.8) {
      out.push({ type: 'repay', time, account, asset: 'USDC', amount: 'all' });
    } else if (roll < 0.9) {
      out.push({ type: 'withdraw', time, account, asset: 'ETH', amount: '1' });
    } else {
      const to = { account: pick(accounts) };
      out.push({ type: 'transfer', time, from: { account }, to, asset: 'USDC', amount: '10' });
    }
  }
  return out;
}

const dataDir = temporaryFolders('fulcrum-follower-');

/** Submits `all` as a gateway would: in chunks, waiting now and then for the journal. */
async function submitAll(durable: DurableEngine, all: readonly unknown[]): Promise<void> {
  for (let at = 0; at < all.length; at += 40) {
    const chunk = all.slice(at, at + 40);
    const results = await Promise.all(chunk.map((command) => durable.submitJson(command)));
    expect(results.every((result) => result.seq !== null)).toBe(true);
  }
  await durable.flush();
}

/** Every stored snapshot against a full replay of the journal up to its position. */
async function expectSnapshotsMatchReplay(dir: string): Promise<number[]> {
  const store = new SqliteStore(dir);
  try {
    const positions = (await store.snapshots()).map((s) => s.seq);
    for (const seq of positions) {
      const snapshot = await store.loadSnapshot(seq);
      if (snapshot === undefined) throw new Error(`no snapshot at ${seq}`);
      const replayed = await recover(store, {
        fullReplay: true,
        untilSeq: seq,
        warn: () => undefined,
      });
      expect(replayed.report.stateHash, `snapshot at ${seq}`).toBe(snapshot.stateHash);
      expect(stateHash(deserializeState(snapshot.state))).toBe(snapshot.stateHash);
    }
    const fast = await recover(store, { warn: () => undefined });
    const full = await recover(store, { fullReplay: true, warn: () => undefined });
    expect(fast.report.stateHash).toBe(full.report.stateHash);
    return positions;
  } finally {
    await store.close();
  }
}

describe.skipIf(!built)('a snapshot follower', () => {
  it('builds every snapshot off the engine thread, each the state a full replay reaches there', async () => {
    const dir = dataDir();
    const warnings: string[] = [];
    const durable = await DurableEngine.open(new SqliteStore(dir), {
      snapshotWorker: WORKER,
      snapshotEvery: 150,
      snapshotPerAccount: 0,
      batchMax: 32,
      warn: (message) => warnings.push(message),
    });
    expect(durable.snapshotsOffThread).toBe(true);
    await submitAll(durable, commands(1_500, 7));
    expect(durable.snapshotsOffThread).toBe(true);
    await durable.close();
    expect(warnings).toEqual([]);
    const positions = await expectSnapshotsMatchReplay(dir);
    expect(positions.length).toBeGreaterThanOrEqual(3);
  });

  it('starts from a recovered journal and goes on following it', async () => {
    const dir = dataDir();
    const all = commands(900, 11);
    const warnings: string[] = [];
    const options = {
      snapshotWorker: WORKER,
      snapshotEvery: 100,
      snapshotPerAccount: 0,
      batchMax: 16,
      warn: (message: string) => warnings.push(message),
    };
    const first = await DurableEngine.open(new SqliteStore(dir), options);
    await submitAll(first, all.slice(0, 400));
    await first.close();
    const second = await DurableEngine.open(new SqliteStore(dir), options);
    expect(second.recovery.seq).toBe(400);
    await submitAll(second, all.slice(400));
    await second.close();
    expect(warnings).toEqual([]);
    const positions = await expectSnapshotsMatchReplay(dir);
    expect(
      positions.some((seq) => seq > 400),
      positions.join(),
    ).toBe(true);
  });

  it('that cannot start leaves the engine building snapshots, with a warning', async () => {
    const dir = dataDir();
    const warnings: string[] = [];
    const durable = await DurableEngine.open(new SqliteStore(dir), {
      snapshotWorker: new URL('./no-such-worker.js', import.meta.url),
      snapshotEvery: 100,
      snapshotPerAccount: 0,
      batchMax: 16,
      warn: (message) => warnings.push(message),
    });
    await submitAll(durable, commands(600, 3));
    expect(durable.snapshotsOffThread).toBe(false);
    await durable.close();
    expect(warnings.join('\n')).toMatch(
      /the snapshot follower failed.*engine's thread from now on/,
    );
    const positions = await expectSnapshotsMatchReplay(dir);
    expect(positions.length).toBeGreaterThanOrEqual(3);
  });

  it('has the snapshot it finished after the last write written when the engine closes', async () => {
    const dir = dataDir();
    const durable = await DurableEngine.open(new SqliteStore(dir), {
      snapshotWorker: WORKER,
      snapshotEvery: 1,
      snapshotPerAccount: 0,
      warn: () => undefined,
    });
    // One batch, one write: the follower is asked for the state at its end as it goes out.
    const all = commands(50, 9);
    const results = all.map((command) => durable.submitJson(command));
    await durable.flush();
    await Promise.all(results);
    const follower = (durable as unknown as { follower: SnapshotFollower }).follower;
    for (let waited = 0; follower.building && waited < 20_000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(follower.building).toBe(false);
    const last = durable.durableSeq;
    await durable.close();
    expect(await expectSnapshotsMatchReplay(dir)).toEqual([last]);
  });

  it('that falls too far behind is dropped, and the engine builds snapshots again at once', async () => {
    const dir = dataDir();
    const warnings: string[] = [];
    const durable = await DurableEngine.open(new SqliteStore(dir), {
      snapshotWorker: SILENT,
      snapshotEvery: 100,
      snapshotPerAccount: 0,
      followerLagLimit: 300,
      batchMax: 1,
      warn: (message) => warnings.push(message),
    });
    for (const command of commands(500, 5)) await durable.submitJson(command);
    expect(durable.snapshotsOffThread).toBe(false);
    await durable.close();
    expect(warnings).toHaveLength(1);
    const dropped = /fell ([\d,]+) records behind \(after journal record 0 of (\d+)\)/.exec(
      warnings[0] ?? '',
    );
    expect(dropped, warnings[0]).not.toBeNull();
    const at = Number(dropped?.[2]);
    expect(Number(dropped?.[1]?.replaceAll(',', ''))).toBe(301);
    expect(at).toBe(300);
    const positions = await expectSnapshotsMatchReplay(dir);
    // The snapshot it was asked for at 100 never came: the engine took one at once, and then
    // every hundred records.
    const after = positions.filter((seq) => seq > at).sort((a, b) => a - b);
    expect(after[0]).toBe(at + 1);
    expect(after.slice(1).every((seq, i) => seq - (after[i] as number) === 100)).toBe(true);
    expect(positions.filter((seq) => seq <= at)).toEqual([]);
  });

  it('that cannot even be made (a script that is no file) leaves open() to warn, not fail', async () => {
    const warnings: string[] = [];
    const durable = await DurableEngine.open(new SqliteStore(dataDir()), {
      snapshotWorker: new URL('https://example.invalid/snapshotWorker.js'),
      warn: (message) => warnings.push(message),
    });
    expect(durable.snapshotsOffThread).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^the snapshot follower could not start: /);
    await durable.close();
  });

  it('that dies is dropped, and a warning that throws stops neither the engine nor the process', async () => {
    const dir = dataDir();
    let warned = 0;
    const durable = await DurableEngine.open(new SqliteStore(dir), {
      snapshotWorker: new URL('./exitingWorker.mjs', import.meta.url),
      snapshotEvery: 50,
      snapshotPerAccount: 0,
      batchMax: 8,
      warn: (message) => {
        warned += 1;
        expect(message).toMatch(/the snapshot follower exited with code 3/);
        throw new Error('the log is gone');
      },
    });
    expect(durable.snapshotsOffThread).toBe(true);
    await submitAll(durable, commands(300, 13));
    expect(durable.snapshotsOffThread).toBe(false);
    await durable.close();
    expect(warned).toBe(1);
    const positions = await expectSnapshotsMatchReplay(dir);
    expect(positions.length).toBeGreaterThanOrEqual(3);
  });

  it('that does not take the state in time resolves stopped, with a warning', async () => {
    const warnings: string[] = [];
    const follower = await SnapshotFollower.start(DEAF, 0, serializeState(createState()), {
      warn: (message) => warnings.push(message),
      startMs: 200,
    });
    expect(follower.active).toBe(false);
    expect(follower.follow(1, 1, new Uint8Array([2]), true)).toBe(false);
    expect(warnings).toEqual([
      "the snapshot follower did not start within 0.2 s (after journal record 0 of 0); snapshots are built on the engine's thread from now on",
    ]);
    await follower.close();
  });

  it('counts its lag in records, not segments', async () => {
    const warnings: string[] = [];
    const state = serializeState(createState());
    const follower = await SnapshotFollower.start(SILENT, 0, state, {
      warn: (message) => warnings.push(message),
      lagLimit: 300,
    });
    let taken = 0;
    // Segments of ten records: the thirty-first puts it 310 records behind.
    while (follower.follow((taken + 1) * 10, 10, new Uint8Array(10), taken === 0)) taken++;
    expect(taken).toBe(30);
    expect(follower.active).toBe(false);
    expect(follower.building).toBe(false);
    expect(warnings).toEqual([
      "the snapshot follower fell 310 records behind (after journal record 0 of 300); snapshots are built on the engine's thread from now on",
    ]);
    await follower.close();
  });

  it('refuses effects that do not follow on, or cannot be read, and says why', async () => {
    for (const [lastSeq, bytes, why] of [
      [9, new Uint8Array([2]), /effects of records 9 to 9 after record 0/],
      [1, new Uint8Array([250, 1, 2, 3]), /failed: /],
    ] as const) {
      const warnings: string[] = [];
      const follower = await SnapshotFollower.start(WORKER, 0, serializeState(createState()), {
        warn: (message) => warnings.push(message),
      });
      expect(follower.active).toBe(true);
      follower.follow(lastSeq, 1, bytes, true);
      for (let waited = 0; follower.active && waited < 5_000; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        follower.take();
      }
      expect(follower.active).toBe(false);
      expect(follower.take()).toBeUndefined();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(why);
      await follower.close();
    }
  });
});
