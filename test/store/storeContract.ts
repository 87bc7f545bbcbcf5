/**
 * The behaviour every journal store must have, run against SQLite and PostgreSQL alike:
 * acknowledged means durable, recovery equals a full replay, damage is found and named, a full
 * disk loses nothing acknowledged, and history answers from the journal.
 */
import { describe, expect, it } from 'vitest';
import { decodeCommand, Engine } from '../../src/index.js';
import { snapshotChecksum } from '../../src/store/journal.js';
import type { RecordBatch } from '../../src/store/store.js';
import { exampleLines } from '../fixtures/examples.js';
import {
  accountHistory,
  DurableEngine,
  eventsInTimeRange,
  type JournalRecord,
  type JournalStore,
  recover,
  type SeqRange,
  sealRecord,
  stateAt,
  StoreError,
} from '../../src/store/index.js';

/** A store to test, with a way to damage its rows and to make it refuse writes. */
export interface StoreFixture {
  /**
   * The fixture's store opened for writing: fresh and empty the first time, the same journal
   * after (refusing writes past `writesAllowed` more, when given).
   */
  open(reopen?: { writesAllowed: number }): Promise<JournalStore>;
  /** The same journal opened for reading only. */
  openForReading(): Promise<JournalStore>;
  /** What the fixture's place holds (files, tables), to show that a reader created nothing. */
  contents(): Promise<readonly string[]>;
  /** Changes fields of record `seq` as stored, its checksum left as it was unless given. */
  damage(
    store: JournalStore,
    seq: number,
    change: Partial<Pick<JournalRecord, 'command' | 'outcome' | 'events' | 'checksum'>>,
  ): Promise<void>;
  /** Runs an UPDATE on the effects table: `SET ... WHERE first_seq = ?`. */
  damageEffects(store: JournalStore, setClause: string, firstSeq: number): Promise<void>;
  /** Cleans up after the test. */
  dispose(): Promise<void>;
}

const STORY = exampleLines('lending-story.jsonl');

/** The story applied in memory only: the hash every durable run must reach. */
function memoryHash(commands: readonly unknown[]): string {
  const engine = new Engine();
  for (const command of commands) engine.applyJson(command);
  return engine.hash();
}

async function submitAll(durable: DurableEngine, commands: readonly unknown[]) {
  return Promise.all(commands.map((c) => durable.submitJson(c)));
}

export function storeContract(name: string, makeFixture: () => Promise<StoreFixture>): void {
  /** Runs a test body with a fresh fixture, disposed of whatever happens. */
  const withFixture = (body: (fixture: StoreFixture) => Promise<void>) => async () => {
    const fixture = await makeFixture();
    try {
      await body(fixture);
    } finally {
      await fixture.dispose();
    }
  };

  describe(`${name} journal store`, () => {
    const quiet = { warn: () => undefined };

    it(
      'acknowledges only durable commands; reopening recovers the same state as memory',
      withFixture(async (fixture) => {
        const durable = await DurableEngine.open(await fixture.open(), {
          ...quiet,
          snapshotEvery: 10,
          snapshotPerAccount: 0,
        });
        const results = await submitAll(durable, STORY);
        const journaled = results.filter((r) => r.seq !== null);
        expect(journaled.map((r) => r.seq)).toEqual(journaled.map((_, i) => i + 1));
        expect(durable.durableSeq).toBe(journaled.length);
        const hash = durable.engine.hash();
        expect(hash).toBe(memoryHash(STORY));
        await durable.close();

        const reopened = await DurableEngine.open(await fixture.open(), quiet);
        expect(reopened.recovery.seq).toBe(journaled.length);
        expect(reopened.recovery.stateHash).toBe(hash);
        expect(reopened.engine.hash()).toBe(hash);
        await reopened.close();
      }),
    );

    it(
      'recovery from a snapshot and the tail equals a full replay, and continues the journal',
      withFixture(async (fixture) => {
        const half = Math.floor(STORY.length / 2);
        const first = await DurableEngine.open(await fixture.open(), {
          ...quiet,
          snapshotEvery: 5,
          snapshotPerAccount: 0,
        });
        for (const command of STORY.slice(0, half)) await first.submitJson(command);
        await first.close();
        const second = await DurableEngine.open(await fixture.open(), {
          ...quiet,
          snapshotEvery: 5,
          snapshotPerAccount: 0,
        });
        expect(second.recovery.snapshotSeq).not.toBeNull();
        await submitAll(second, STORY.slice(half));
        await second.close();
        const store = await fixture.open();
        const fast = await recover(store, quiet);
        const full = await recover(store, { ...quiet, fullReplay: true });
        // A sound snapshot past the journal's end (a journal restored shorter than its
        // snapshots) is passed over with a warning: it would skip records that are not there.
        const last = await store.lastSeq();
        const newest = await store.loadSnapshot(fast.report.snapshotSeq ?? 0);
        if (newest === undefined) throw new Error('no snapshot');
        const ahead = { seq: last + 5, stateHash: newest.stateHash, state: newest.state };
        await store.append([], { ...ahead, checksum: snapshotChecksum(ahead) });
        const warnings: string[] = [];
        const past = await recover(store, { warn: (m) => warnings.push(m) });
        expect(warnings.join()).toMatch(
          new RegExp(`snapshot at journal record ${last + 5} is past`),
        );
        expect(past.report.snapshotSeq).toBe(fast.report.snapshotSeq);
        expect(past.report.stateHash).toBe(full.report.stateHash);
        await store.close();
        expect(fast.report.snapshotSeq).toBeGreaterThan(0);
        expect(fast.report.replayed).toBeLessThan(full.report.replayed);
        expect(fast.report.stateHash).toBe(full.report.stateHash);
        expect(full.report.stateHash).toBe(memoryHash(STORY));
      }),
    );

    it(
      'recovers from the effects of each batch, and re-executes the commands where they do not check out',
      withFixture(async (fixture) => {
        const durable = await DurableEngine.open(await fixture.open(), quiet);
        // Six commands a batch: a segment of effects each.
        for (let at = 0; at < STORY.length; at += 6)
          await submitAll(durable, STORY.slice(at, at + 6));
        const hash = durable.engine.hash();
        const last = durable.durableSeq;
        await durable.close();

        const store = await fixture.open();
        const segments = await store.readEffects(0, 1_000);
        expect(segments.length).toBeGreaterThan(3);
        expect(segments[0]?.firstSeq).toBe(1);
        expect(segments.at(-1)?.lastSeq).toBe(last);
        const clean = await recover(store, quiet);
        expect(clean.report.fromEffects).toBe(last);
        expect(clean.report.stateHash).toBe(hash);
        // The digests asked together, one a range, are those written with the segments; a
        // range with no records has the digest of nothing.
        const asked: SeqRange[] = [
          ...segments.map((s): SeqRange => [s.firstSeq, s.lastSeq]),
          [last + 1, last + 9],
        ];
        expect(await store.recordsChecksums(asked)).toEqual([
          ...segments.map((s) => s.recordsChecksum),
          0,
        ]);
        expect(await store.recordsChecksums([])).toEqual([]);
        // Ranges far past the end, asked together (more records than one PostgreSQL query
        // reads), answer as each does alone, in order.
        const [whole] = await store.recordsChecksums([[1, 20_000]]);
        const [middle] = await store.recordsChecksums([[5, 6]]);
        expect(whole).not.toBe(middle);
        expect(
          await store.recordsChecksums([
            [1, 20_000],
            [5, 6],
            [1, 20_000],
            [5, 6],
          ]),
        ).toEqual([whole, middle, whole, middle]);

        // A segment whose checksum fails: its commands are re-executed instead, with a warning.
        const second = segments[1];
        if (second === undefined) throw new Error('no second segment');
        await fixture.damageEffects(store, 'checksum = checksum + 1', second.firstSeq);
        const warnings: string[] = [];
        const around = await recover(store, { warn: (m) => warnings.push(m) });
        expect(warnings.join()).toMatch(
          new RegExp(
            `effects of journal records ${second.firstSeq} to ${second.lastSeq} are damaged`,
          ),
        );
        expect(around.report.fromEffects).toBe(last - (second.lastSeq - second.firstSeq + 1));
        expect(around.report.stateHash).toBe(hash);
        // Without effects at all, the same state.
        const commandsOnly = await recover(store, { ...quiet, effects: false });
        expect(commandsOnly.report.fromEffects).toBe(0);
        expect(commandsOnly.report.stateHash).toBe(hash);

        // Records that are not those the effects were written with (each still matching its own
        // checksum: the digest written with the segment says so) stop recovery.
        const third = segments[2];
        if (third === undefined) throw new Error('no third segment');
        await fixture.damageEffects(
          store,
          'records_checksum = records_checksum + 1',
          third.firstSeq,
        );
        const failure = await recover(store, quiet).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(StoreError);
        expect((failure as StoreError).message).toMatch(
          new RegExp(`journal records ${third.firstSeq} to ${third.lastSeq} are not the records`),
        );
        await store.close();
      }),
    );

    it(
      'refuses a batch another store made, writing nothing',
      withFixture(async (fixture) => {
        const store = await fixture.open();
        const foreign = { length: 1, add: () => undefined } as unknown as RecordBatch;
        await expect(store.append(foreign)).rejects.toThrow(/a batch made by another store/);
        expect(await store.lastSeq()).toBe(0);
        await store.close();
      }),
    );

    it(
      'batches commands submitted together into one write (group commit)',
      withFixture(async (fixture) => {
        const store = await fixture.open();
        let writes = 0;
        const counting: JournalStore = Object.assign(
          Object.create(Object.getPrototypeOf(store)),
          store,
          {
            append: (...args: Parameters<JournalStore['append']>) => {
              writes++;
              return store.append(...args);
            },
          },
        );
        const durable = await DurableEngine.open(counting, quiet);
        await submitAll(durable, STORY);
        expect(writes).toBe(1);
        await durable.close();
      }),
    );

    it(
      'a damaged last record is corruption, as damage anywhere else is: named, and nothing dropped',
      withFixture(async (fixture) => {
        const durable = await DurableEngine.open(await fixture.open(), quiet);
        await submitAll(durable, STORY);
        const last = durable.durableSeq;
        await durable.close();

        // A write is one transaction: a crash leaves all of it or none, never part of a record.
        // A last record that fails its checksum was acknowledged, and has been damaged since.
        const store = await fixture.open();
        const [lastRecord] = await store.readRecords(last - 1, 1);
        await fixture.damage(store, last, { command: `${lastRecord?.command} ` });
        await store.close();
        for (const options of [{}, { fullReplay: true }, { snapshots: false }]) {
          const reader = await fixture.openForReading();
          const failure = await recover(reader, { ...quiet, ...options }).catch((e: unknown) => e);
          expect(failure).toBeInstanceOf(StoreError);
          expect((failure as StoreError).code).toBe('store_corrupt');
          expect((failure as StoreError).message).toMatch(
            new RegExp(`journal record ${last} is damaged`),
          );
          // Nothing was taken out: the damaged record is still there, at its position.
          expect(await reader.lastSeq()).toBe(last);
          await reader.close();
        }
        // A writer refuses to go on from it (its next record would follow a damaged one), and
        // the failed opening let go of the journal: the next opening is not refused as locked.
        const refused = await DurableEngine.open(await fixture.open(), quiet).catch(
          (e: unknown) => e,
        );
        expect((refused as StoreError).code).toBe('store_corrupt');
        const again = await fixture.open();
        expect(await again.lastSeq()).toBe(last);

        await fixture.damage(again, 7, { outcome: 'ok ' });
        const failure = await recover(again, { ...quiet, fullReplay: true }).catch(
          (error: unknown) => error,
        );
        expect(failure).toBeInstanceOf(StoreError);
        expect((failure as StoreError).code).toBe('store_corrupt');
        expect((failure as StoreError).message).toMatch(/journal record 7 is damaged/);
        await again.close();
      }),
    );

    it(
      'takes one writer at a time: a second is refused at once, readers are not, closing lets go',
      withFixture(async (fixture) => {
        const writer = await DurableEngine.open(await fixture.open(), quiet);
        await submitAll(writer, STORY.slice(0, 5));
        const second = await fixture.open().catch((e: unknown) => e);
        expect(second).toBeInstanceOf(StoreError);
        expect((second as StoreError).code).toBe('store_locked');
        expect((second as StoreError).message).toMatch(/one writer at a time/);
        // A reader needs no lock, and sees what the writer made durable.
        const reader = await fixture.openForReading();
        expect(await reader.lastSeq()).toBe(writer.durableSeq);
        await submitAll(writer, STORY.slice(5, 10));
        expect(await reader.lastSeq()).toBe(writer.durableSeq);
        await writer.close();
        // Closed, the lock is free for the next writer, which goes on from the journal.
        const next = await DurableEngine.open(await fixture.open(), quiet);
        expect(next.recovery.seq).toBe(writer.durableSeq);
        await next.close();
        await reader.close();
      }),
    );

    it(
      'a reader refuses every write, changes nothing, and refuses a journal that is not there',
      withFixture(async (fixture) => {
        const missing = await fixture.openForReading().catch((e: unknown) => e);
        expect(missing).toBeInstanceOf(StoreError);
        expect((missing as StoreError).code).toBe('store_not_found');
        expect(await fixture.contents()).toEqual([]);

        const durable = await DurableEngine.open(await fixture.open(), {
          ...quiet,
          snapshotEvery: 8,
          snapshotPerAccount: 0,
        });
        const results = await submitAll(durable, STORY);
        await durable.close();
        const before = await fixture.contents();
        const reader = await fixture.openForReading();
        const [first] = await reader.readRecords(0, 1);
        if (first === undefined) throw new Error('no record 1');
        const refusal = await reader
          .append([{ ...first, seq: durable.durableSeq + 1 }])
          .catch((e: unknown) => e);
        expect((refusal as StoreError).code).toBe('store_read_only');
        // Recovery, a full replay and history all read it as it is.
        const fast = await recover(reader, quiet);
        const full = await recover(reader, { ...quiet, fullReplay: true });
        expect(fast.report.stateHash).toBe(memoryHash(STORY));
        expect(full.report.stateHash).toBe(memoryHash(STORY));
        const seq = results.find((r) => r.seq !== null && r.seq > 10)?.seq ?? 0;
        expect(new Engine(await stateAt(reader, seq)).hash()).toBe(
          memoryHash(STORY.slice(0, results.findIndex((r) => r.seq === seq) + 1)),
        );
        expect((await accountHistory(reader, 'alice')).length).toBeGreaterThan(0);
        expect(await reader.lastSeq()).toBe(durable.durableSeq);
        await reader.close();
        expect(await fixture.contents()).toEqual(before);
      }),
    );

    it(
      'finds a record whose replay disagrees with its recorded outcome, even with a valid checksum',
      withFixture(async (fixture) => {
        const durable = await DurableEngine.open(await fixture.open(), quiet);
        await submitAll(durable, STORY);
        await durable.close();
        const store = await fixture.open();
        const [record] = await store.readRecords(9, 1);
        if (record === undefined) throw new Error('no record 10');
        const forged = sealRecord({
          ...record,
          outcome: record.outcome === 'ok' ? 'insufficient_collateral' : 'ok',
        });
        await fixture.damage(store, 10, { outcome: forged.outcome, checksum: forged.checksum });
        const failure = await recover(store, { ...quiet, fullReplay: true }).catch(
          (e: unknown) => e,
        );
        // The record checks out, so the journal was written under other rules than these (or
        // forged with its checksum): either way, not this release's to replay.
        expect((failure as StoreError).code).toBe('store_incompatible');
        expect((failure as StoreError).message).toMatch(
          /journal record 10 replays to \w+ under this Fulcrum's rules, but the journal says \w+/,
        );
        await store.close();
      }),
    );

    it(
      'a full store stops the engine, refuses what was not written, and loses nothing acknowledged',
      withFixture(async (fixture) => {
        const durable = await DurableEngine.open(await fixture.open({ writesAllowed: 2 }), quiet);
        const acknowledged: number[] = [];
        let refusal: unknown;
        for (const command of STORY) {
          try {
            const result = await durable.submitJson(command);
            if (result.seq !== null) acknowledged.push(result.seq);
          } catch (error) {
            refusal = error;
            break;
          }
        }
        expect(refusal).toBeInstanceOf(StoreError);
        // Each store reports its own disk-full error as such (SQLite's SQLITE_FULL, the
        // server's SQLSTATE 53100).
        expect((refusal as StoreError).code).toBe('store_full');
        expect((refusal as StoreError).message).toMatch(/the engine has stopped/);
        await expect(durable.submitJson(STORY[0])).rejects.toBeInstanceOf(StoreError);
        await durable.store.close();

        const reopened = await DurableEngine.open(await fixture.open(), quiet);
        expect(reopened.recovery.seq).toBe(acknowledged.length);
        expect(reopened.recovery.seq).toBeGreaterThan(0);
        await reopened.close();
      }),
    );

    it(
      'pipelined: results and positions at once, acknowledged by position; a failed journal rejects what was not written',
      withFixture(async (fixture) => {
        const durable = await DurableEngine.open(await fixture.open({ writesAllowed: 2 }), quiet);
        const engine = new Engine();
        const results = [];
        let stopped: unknown;
        for (const input of STORY) {
          let command;
          try {
            command = decodeCommand(input, engine.state);
          } catch {
            continue; // input that is not a command (an unlisted asset) is never journaled
          }
          let result;
          try {
            result = durable.submitPipelined(command);
          } catch (error) {
            stopped = error;
            break;
          }
          // The result is the in-memory engine's, and its position the next one, at once.
          const expected = engine.apply(command);
          expect(result.ok).toBe(expected.ok);
          expect(result.seq).toBe(results.length + 1);
          results.push(result);
          if (results.length % 5 === 0) {
            const waited = await durable.whenDurable(result.seq as number).then(
              () => 'durable',
              (error: unknown) => error,
            );
            if (waited !== 'durable') {
              stopped = waited;
              break;
            }
            expect(durable.durableSeq).toBeGreaterThanOrEqual(result.seq as number);
          }
        }
        // Two writes fit: the journal filled up before the story's end, and the engine stopped.
        expect(stopped).toBeInstanceOf(StoreError);
        const durableSeq = durable.durableSeq;
        expect(durableSeq).toBeGreaterThan(0);
        await expect(durable.whenDurable(durableSeq + 1)).rejects.toBeInstanceOf(StoreError);
        await expect(durable.whenDurable(durableSeq)).resolves.toBeUndefined();
        expect(() => durable.submitPipelined({ type: 'accrue', time: 1, asset: 'USDC' })).toThrow(
          StoreError,
        );
        await durable.store.close();
        const reopened = await DurableEngine.open(await fixture.open(), quiet);
        expect(reopened.recovery.seq).toBe(durableSeq);
        await reopened.close();
      }),
    );

    it(
      'answers history across many small writes as the records themselves do',
      withFixture(async (fixture) => {
        const durable = await DurableEngine.open(await fixture.open(), { ...quiet, batchMax: 3 });
        for (const command of STORY) await durable.submitJson(command);
        const store = durable.store;
        const all = await store.readRecords(0, 1_000);
        expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1));
        for (const account of ['alice', 'bob', 'carol', 'nobody']) {
          const touched = all.filter((r) => r.accounts.includes(account));
          expect(await store.recordsOfAccount(account, 1_000)).toEqual(touched);
          expect(await store.recordsOfAccount(account, 2)).toEqual(touched.slice(0, 2));
        }
        const times = [...new Set(all.map((r) => r.time))].sort((a, b) => a - b);
        const [from, to] = [times[1] ?? 0, times.at(-2) ?? 0];
        const inRange = all.filter((r) => r.time >= from && r.time <= to);
        expect(inRange.length).toBeGreaterThan(3);
        expect(await store.recordsInTimeRange(from, to, 1_000)).toEqual(inRange);
        expect(await store.recordsInTimeRange(from, to, 3)).toEqual(inRange.slice(0, 3));
        expect(await store.readRecords(7, 4)).toEqual(all.slice(7, 11));
        await durable.close();
      }),
    );

    it(
      'answers history: an account, events in a time range, the state at a position',
      withFixture(async (fixture) => {
        const durable = await DurableEngine.open(await fixture.open(), {
          ...quiet,
          snapshotEvery: 8,
          snapshotPerAccount: 0,
        });
        const results = await submitAll(durable, STORY);
        const store = durable.store;
        const alice = await accountHistory(store, 'alice');
        const aliceCommands = STORY.filter((c) => (c as { account?: string }).account === 'alice');
        expect(alice).toHaveLength(aliceCommands.length);
        expect(alice.map((e) => e.outcome)).toContain('insufficient_collateral');
        expect(alice.every((e) => (e.command as { account: string }).account === 'alice')).toBe(
          true,
        );

        const t0 = 1_583_971_200; // 2020-03-12T00:00:00Z: the story's first minutes
        const borrowed = await eventsInTimeRange(
          store,
          t0,
          t0 + 600,
          (type) => type === 'borrowed',
        );
        expect(borrowed.map((e) => [e.account, e.amount, e.asset])).toEqual([
          ['alice', '14000', 'USDC'],
          ['bob', '9000', 'USDC'],
          ['carol', '150', 'ETH'],
        ]);

        for (const seq of [1, 12, 20, durable.durableSeq]) {
          const commands = STORY.slice(0, results.findIndex((r) => r.seq === seq) + 1);
          expect(new Engine(await stateAt(store, seq)).hash()).toBe(memoryHash(commands));
        }
        await durable.close();
      }),
    );
  });
}
