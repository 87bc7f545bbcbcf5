/**
 * The durable engine's acknowledgements against a store whose writes the test finishes by hand:
 * a position is acknowledged exactly when the write holding it is durable, whatever order
 * callers ask in, and a failure refuses only what was not written.
 */
import { describe, expect, it, vi } from 'vitest';
import type { Command } from '../../src/index.js';
import {
  DurableEngine,
  type DurableEngineOptions,
  type JournalStore,
  StoreError,
} from '../../src/store/index.js';
import type { SnapshotRecord } from '../../src/store/journal.js';
import { RecordList } from '../../src/store/store.js';
import { T0, USDC_LISTING } from '../fixtures/market.js';

/** A journal store that keeps nothing and whose appends wait for the test. */
class ManualStore implements JournalStore {
  readonly kind = 'manual';
  readonly location = 'memory';
  readonly appends: { records: number; finish: (error?: Error) => void }[] = [];

  batch(): RecordList {
    return new RecordList();
  }
  append(records: RecordList): Promise<void> {
    return new Promise((resolve, reject) => {
      this.appends.push({
        records: records.length,
        finish: (error) => (error === undefined ? resolve() : reject(error)),
      });
    });
  }
  async lastSeq() {
    return 0;
  }
  async readRecords() {
    return [];
  }
  async readEffects() {
    return [];
  }
  async recordsChecksums() {
    return [];
  }
  async snapshots() {
    return [];
  }
  async loadSnapshot() {
    return undefined;
  }
  async recordsOfAccount() {
    return [];
  }
  async recordsInTimeRange() {
    return [];
  }
  async close() {}
}

const accrue = (time: number): Command => ({ type: 'accrue', time, asset: 'USDC' });

/** Lets promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Whether `promise` has settled: 'resolved', 'rejected' or 'pending'. */
function watch(promise: Promise<unknown>): () => string {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  return () => state;
}

async function open(
  options: DurableEngineOptions = {},
): Promise<{ durable: DurableEngine; store: ManualStore }> {
  const store = new ManualStore();
  // One record a write, so that each submission starts its own write at once.
  const durable = await DurableEngine.open(store, {
    batchMax: 1,
    warn: () => undefined,
    ...options,
  });
  return { durable, store };
}

describe('acknowledgement by position', () => {
  it('a position asked for after later ones is acknowledged when its write is, even if a later write fails', async () => {
    const { durable, store } = await open();
    const first = durable.submitPipelined(accrue(1));
    const second = watch(durable.submit(accrue(2)));
    const firstDurable = watch(durable.whenDurable(first.seq as number));
    expect(store.appends).toHaveLength(2);
    store.appends[0]?.finish();
    await settle();
    expect(firstDurable()).toBe('resolved');
    store.appends[1]?.finish(new StoreError('store_full', 'disk full'));
    await settle();
    expect(second()).toBe('rejected');
    expect(durable.durableSeq).toBe(1);
  });

  it('a failure refuses only what was not written', async () => {
    const { durable, store } = await open();
    const first = durable.submitPipelined(accrue(1));
    const second = durable.submitPipelined(accrue(2));
    store.appends[0]?.finish();
    await settle();
    // Asked for after the write of position 1 finished, before the one of position 2 fails.
    const firstDurable = watch(durable.whenDurable(first.seq as number));
    const secondDurable = watch(durable.whenDurable(second.seq as number));
    store.appends[1]?.finish(new StoreError('store_full', 'disk full'));
    await settle();
    expect(firstDurable()).toBe('resolved');
    expect(secondDurable()).toBe('rejected');
    expect(() => durable.submitPipelined(accrue(3))).toThrow(StoreError);
  });

  it('a future position does not hold back the positions before it', async () => {
    const { durable, store } = await open();
    const future = watch(durable.whenDurable(3));
    const first = watch(durable.submit(accrue(1)));
    const second = watch(durable.submit(accrue(2)));
    store.appends[0]?.finish();
    store.appends[1]?.finish();
    await settle();
    expect([first(), second(), future()]).toEqual(['resolved', 'resolved', 'pending']);
    void durable.submit(accrue(3));
    await settle();
    store.appends[2]?.finish();
    await settle();
    expect(future()).toBe('resolved');
  });

  it('a batch that cannot be prepared whole stops the engine, refusing it, and is never written', async () => {
    // A store whose batches miscount their records: the effects no longer line up with them.
    class Miscounting extends ManualStore {
      override batch(): RecordList {
        const list = new RecordList();
        Object.defineProperty(list, 'length', { get: () => list.records.length + 1 });
        return list;
      }
    }
    const store = new Miscounting();
    const durable = await DurableEngine.open(store, { batchMax: 1, warn: () => undefined });
    const result = durable.submitPipelined(accrue(1));
    await expect(durable.whenDurable(result.seq as number)).rejects.toThrow(
      /an effects segment of 1 records for a batch of 2/,
    );
    expect(store.appends).toHaveLength(0);
    expect(() => durable.submitPipelined(accrue(2))).toThrow(StoreError);
    await expect(durable.submit(accrue(2))).rejects.toBeInstanceOf(StoreError);
    // The same through `submit`: the failure its own command caused is what it rejects with.
    const second = await DurableEngine.open(new Miscounting(), {
      batchMax: 1,
      warn: () => undefined,
    });
    await expect(second.submit(accrue(1))).rejects.toThrow(/an effects segment of 1 records/);
  });

  it('a position that is no position is refused', async () => {
    const { durable } = await open();
    for (const bad of [Number.NaN, -1, 1.5, Number.POSITIVE_INFINITY]) {
      await expect(durable.whenDurable(bad)).rejects.toThrow(RangeError);
    }
  });

  it('keeps no acknowledged waiter under steady load', async () => {
    const { durable, store } = await open();
    const waiters = () => (durable as unknown as { waiters: unknown[] }).waiters.length;
    let most = 0;
    for (let time = 1; time <= 5_000; time++) {
      void durable.submit(accrue(time));
      // The oldest write finishes as each new one starts: one is always waiting.
      if (store.appends.length >= 2) {
        store.appends.shift()?.finish();
        await settle();
      }
      most = Math.max(most, waiters());
    }
    expect(durable.durableSeq).toBeGreaterThan(4_990);
    expect(most).toBeLessThan(2_100);
  });
});

describe('snapshots', () => {
  /** A store whose writes finish at once, keeping only where snapshots were taken. */
  class SnapshotLog extends ManualStore {
    readonly at: number[] = [];
    override append(_records: RecordList, snapshot?: SnapshotRecord): Promise<void> {
      if (snapshot !== undefined) this.at.push(snapshot.seq);
      return Promise.resolve();
    }
  }

  /**
   * Lists USDC, then deposits for `fresh` new accounts and `more` deposits to the first of them,
   * one write each; returns where snapshots were taken and where the rule (at least `every`
   * records, and `perAccount` records an account) puts them.
   */
  async function journal(every: number, perAccount: number, fresh: number, more: number) {
    const store = new SnapshotLog();
    const durable = await DurableEngine.open(store, {
      batchMax: 1,
      snapshotEvery: every,
      snapshotPerAccount: perAccount,
      snapshotWorker: null,
      warn: () => undefined,
    });
    const expected: number[] = [];
    let last = 0;
    const submit = async (command: unknown, accounts: number) => {
      const result = await durable.submitJson(command);
      expect(result.ok).toBe(true);
      if (durable.lastSeq - last >= Math.max(every, perAccount * accounts)) {
        last = durable.lastSeq;
        expected.push(last);
      }
    };
    await submit({ type: 'list-asset', time: T0, price: '1', config: USDC_LISTING }, 0);
    for (let i = 0; i < fresh + more; i++) {
      const account = `acct-${i < fresh ? i : 0}`;
      await submit(
        { type: 'deposit', time: T0, account, asset: 'USDC', amount: '1' },
        Math.min(i + 1, fresh),
      );
    }
    return { taken: store.at, expected };
  }

  it('come every snapshotEvery records while the state is small, further apart as it grows', async () => {
    const { taken, expected } = await journal(10, 1, 30, 60);
    expect(taken).toEqual(expected);
    // Ten records in at first; thirty apart (one per account) once thirty accounts are held.
    expect(taken[0]).toBe(10);
    expect(taken.length).toBeGreaterThan(2);
    expect(taken.at(-1)).toBe((taken.at(-2) as number) + 30);
  });

  it('keep their interval under load that never lets the batches drain', async () => {
    const store = new SnapshotLog();
    const durable = await DurableEngine.open(store, {
      batchMax: 16,
      snapshotEvery: 50,
      snapshotPerAccount: 0,
      snapshotWorker: null,
      warn: () => undefined,
    });
    // Submitted in one go: while they are, a write is always waiting and batches queue up.
    for (let time = 1; time <= 1_000; time++) durable.submitPipelined(accrue(time));
    await durable.flush();
    // Each as soon as a batch fills at or past fifty records since the one before.
    const gaps = store.at.map((seq, i) => seq - (store.at[i - 1] ?? 0));
    expect(store.at.length).toBeGreaterThanOrEqual(14);
    expect(store.at.every((seq) => seq % 16 === 0)).toBe(true);
    expect(gaps.every((gap) => gap >= 50 && gap < 50 + 16)).toBe(true);
  });

  it('come every snapshotEvery records whatever the size, when not scaled', async () => {
    const { taken } = await journal(10, 0, 30, 60);
    expect(taken).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
  });
});

describe('backpressure, flushing and failures on the engine side', () => {
  it('backlogBelow waits until fewer than that many records wait to be durable, and rejects once the engine stopped', async () => {
    const { durable, store } = await open();
    for (let time = 1; time <= 3; time++) durable.submitPipelined(accrue(time));
    const belowTwo = watch(durable.backlogBelow(2));
    const belowFour = watch(durable.backlogBelow(4));
    await settle();
    expect([belowTwo(), belowFour()]).toEqual(['pending', 'resolved']);
    store.appends[0]?.finish();
    await settle();
    // Two still wait: not yet below two.
    expect(belowTwo()).toBe('pending');
    store.appends[1]?.finish();
    await settle();
    expect(belowTwo()).toBe('resolved');
    store.appends[2]?.finish(new StoreError('store_full', 'disk full'));
    await settle();
    await expect(durable.backlogBelow(1_000)).rejects.toThrow(/disk full/);
    await expect(durable.flush()).rejects.toThrow(
      /the engine has stopped: nothing after journal record 2 was acknowledged/,
    );
  });

  it('snapshot() writes the state at the last position once everything before it is durable', async () => {
    const snapshots: SnapshotRecord[] = [];
    const store = new (class extends ManualStore {
      override append(records: RecordList, snapshot?: SnapshotRecord): Promise<void> {
        if (snapshot !== undefined) snapshots.push(snapshot);
        return records.length === 0 ? Promise.resolve() : super.append(records);
      }
    })();
    const durable = await DurableEngine.open(store, {
      batchMax: 1,
      snapshotWorker: null,
      warn: () => undefined,
    });
    const listed = watch(
      durable.submitJson({ type: 'list-asset', time: T0, price: '1', config: USDC_LISTING }),
    );
    durable.submitPipelined(accrue(T0 + 60));
    const taken = watch(durable.snapshot());
    await settle();
    // Not before the records it follows are durable.
    expect(taken()).toBe('pending');
    expect(snapshots).toHaveLength(0);
    for (const append of store.appends) append.finish();
    await settle();
    expect([listed(), taken()]).toEqual(['resolved', 'resolved']);
    expect(snapshots.map((s) => [s.seq, s.stateHash])).toEqual([[2, durable.engine.hash()]]);
  });

  it('a snapshot that cannot be built as its batch fills stops the engine; what was durable stays acknowledged', async () => {
    const { durable, store } = await open({
      snapshotEvery: 2,
      snapshotPerAccount: 0,
      snapshotWorker: null,
    });
    const first = durable.submitPipelined(accrue(1));
    store.appends[0]?.finish();
    await settle();
    // The second record makes a snapshot due: building it fails (out of memory, say).
    const build = vi
      .spyOn(DurableEngine.prototype as unknown as { takeSnapshot(): never }, 'takeSnapshot')
      .mockImplementation(() => {
        throw new RangeError('Invalid string length');
      });
    try {
      const second = durable.submitPipelined(accrue(2));
      expect(build).toHaveBeenCalledTimes(1);
      await expect(durable.whenDurable(second.seq as number)).rejects.toThrow(
        /Invalid string length; the engine has stopped: nothing after journal record 1 was acknowledged/,
      );
      await expect(durable.whenDurable(first.seq as number)).resolves.toBeUndefined();
      expect(store.appends).toHaveLength(1);
      expect(() => durable.submitPipelined(accrue(3))).toThrow(StoreError);
    } finally {
      build.mockRestore();
    }
  });
});
