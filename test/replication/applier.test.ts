/**
 * The deterministic reading of the log (no NATS): terms fence stale leaders, idempotency keys
 * make retries harmless, unreadable entries are skipped alike everywhere, and the divergence
 * check's majority rule.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { LogApplier } from '../../src/replication/applier.js';
import { AuditBook } from '../../src/replication/audit.js';
import {
  decodeEntry,
  decodeRequest,
  decodeRequests,
  encodeEntry,
} from '../../src/replication/envelope.js';
import { ReplicationError } from '../../src/replication/errors.js';
import { decodeSnapshot, encodeSnapshot, takeSnapshot } from '../../src/replication/snapshot.js';
import { memoryTarget } from '../../src/replication/targets.js';
import { SETUP, T0 } from './helpers.js';

const deposit = (account: string, amount = '1') => ({
  type: 'deposit',
  time: T0,
  account,
  asset: 'USDC',
  amount,
});

const marker = (term: number, node = 'a') => encodeEntry({ kind: 'term', term, node });
const batch = (term: number, commands: { key: string; command: unknown }[], node = 'a') =>
  encodeEntry({ kind: 'commands', term, node, commands });

function fresh() {
  const engine = new Engine();
  return { engine, applier: new LogApplier(memoryTarget(engine), { dedupMax: 3 }) };
}

describe('LogApplier', () => {
  it('goes on from a snapshot exactly as the applier it was taken from', () => {
    const { engine, applier } = fresh();
    applier.applyEntry(1, marker(4));
    applier.applyEntry(2, batch(4, [{ key: 's', command: SETUP[0] }]));
    applier.applyEntry(3, batch(4, [{ key: 'k1', command: deposit('alice') }]));
    const taken = takeSnapshot('main', 'a', engine, engine.hash(), applier.exportState());
    const { snapshot, engine: copy } = decodeSnapshot(encodeSnapshot(taken), 'main');
    const restored = new LogApplier(memoryTarget(copy), { dedupMax: 3 });
    restored.restoreState(snapshot);
    expect(restored).toMatchObject({ seq: 3, term: 4, submitted: 2 });
    // The next entries give the same outcomes and the same state on both: a retry of k1 is a
    // duplicate (with the journal position of its first application), k2 is new.
    const next = batch(4, [
      { key: 'k1', command: deposit('alice') },
      { key: 'k2', command: deposit('bob') },
    ]);
    const original = applier.applyEntry(4, next);
    expect(restored.applyEntry(4, next)).toEqual(original);
    expect(original.outcomes[0]).toMatchObject({ duplicate: true, position: 2 });
    expect(original.outcomes[1]).toMatchObject({ duplicate: false, position: 3 });
    expect(copy.hash()).toBe(engine.hash());
  });

  it('refuses a damaged snapshot, one of another shard, and one that is not its hash', () => {
    const { engine, applier } = fresh();
    applier.applyEntry(1, marker(1));
    applier.applyEntry(2, batch(1, [{ key: 's', command: SETUP[0] }]));
    const taken = takeSnapshot('main', 'a', engine, engine.hash(), applier.exportState());
    const bytes = encodeSnapshot(taken);
    bytes[10] = (bytes[10] as number) ^ 1;
    const refusal = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return (error as ReplicationError).code + ': ' + (error as Error).message;
      }
      return 'taken';
    };
    expect(refusal(() => decodeSnapshot(bytes, 'main'))).toMatch(/^snapshot_refused: its checksum/);
    const good = encodeSnapshot(taken);
    expect(refusal(() => decodeSnapshot(good, 'other'))).toMatch(/shard main's, not other's/);
    const lying = encodeSnapshot({ ...taken, stateHash: '0'.repeat(64) });
    expect(refusal(() => decodeSnapshot(lying, 'main'))).toMatch(/its state hashes to/);
  });

  it('applies a batch of the current term, refuses one of an older term (a stale leader)', () => {
    const { engine, applier } = fresh();
    applier.applyEntry(1, marker(5));
    const setup = applier.applyEntry(2, batch(5, [{ key: 's', command: SETUP[0] }]));
    expect(setup.outcomes[0]?.status).toBe('accepted');
    applier.applyEntry(3, marker(9, 'b'));
    const stale = applier.applyEntry(4, batch(5, [{ key: 'k1', command: deposit('alice') }]));
    expect(stale.outcomes.map((o) => o.status)).toEqual(['stale']);
    expect(engine.state.accounts.has('alice')).toBe(false);
    // A marker of a lower term does not lower the term; the new leader's batch goes through.
    applier.applyEntry(5, marker(7, 'c'));
    expect(applier.term).toBe(9);
    const fresh9 = applier.applyEntry(6, batch(9, [{ key: 'k1', command: deposit('alice') }], 'b'));
    expect(fresh9.outcomes[0]).toMatchObject({ status: 'accepted', seq: 6, duplicate: false });
    // A batch of a term no marker announced is refused too.
    const unannounced = applier.applyEntry(7, batch(11, [{ key: 'k2', command: deposit('bob') }]));
    expect(unannounced.outcomes[0]?.status).toBe('stale');
  });

  it('answers a retried key with the first outcome and applies it once', () => {
    const { engine, applier } = fresh();
    applier.applyEntry(1, marker(1));
    applier.applyEntry(2, batch(1, [{ key: 's', command: SETUP[0] }]));
    const first = applier.applyEntry(3, batch(1, [{ key: 'r', command: deposit('alice', '5') }]));
    const hash = engine.hash();
    // After a failover, the new leader's batch carries the same key again.
    applier.applyEntry(4, marker(2, 'b'));
    const again = applier.applyEntry(5, batch(2, [{ key: 'r', command: deposit('alice', '5') }]));
    expect(again.outcomes[0]).toMatchObject({ status: 'accepted', seq: 3, duplicate: true });
    expect(again.outcomes[0]?.sequence).toBe(first.outcomes[0]?.sequence);
    expect(engine.hash()).toBe(hash);
    expect(applier.answerOf('r')?.duplicate).toBe(true);
    expect(applier.answerOf('never')).toBeUndefined();
  });

  it('forgets the oldest keys past dedupMax, in log order', () => {
    const { applier } = fresh();
    applier.applyEntry(1, marker(1));
    applier.applyEntry(2, batch(1, [{ key: 's', command: SETUP[0] }]));
    const keys = ['k1', 'k2', 'k3'];
    applier.applyEntry(
      3,
      batch(
        1,
        keys.map((key) => ({ key, command: deposit(key) })),
      ),
    );
    expect(applier.answerOf('s')).toBeUndefined();
    expect(applier.answerOf('k1')).toBeDefined();
    expect(applier.answerOf('k3')).toBeDefined();
  });

  it('records engine refusals and undecodable commands, skips unreadable entries', () => {
    const { engine, applier } = fresh();
    applier.applyEntry(1, marker(1));
    const out = applier.applyEntry(
      2,
      batch(1, [
        { key: 'a', command: deposit('alice') },
        { key: 'b', command: { type: 'no-such-command', time: T0 } },
      ]),
    );
    expect(out.outcomes.map((o) => [o.status, o.code])).toEqual([
      ['invalid', 'unknown_asset'],
      ['invalid', 'unknown_command'],
    ]);
    const before = engine.hash();
    expect(applier.applyEntry(3, '{not json').kind).toBe('unreadable');
    expect(applier.applyEntry(4, JSON.stringify({ v: 99, kind: 'term', term: 3 })).kind).toBe(
      'unreadable',
    );
    expect(engine.hash()).toBe(before);
    expect(() => applier.applyEntry(4, marker(2))).toThrow(/in order/);
  });
});

describe('envelope', () => {
  it('round-trips entries and refuses malformed ones', () => {
    const entry = {
      kind: 'commands' as const,
      term: 3,
      node: 'n1',
      commands: [{ key: 'x', command: {} }],
    };
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
    expect(decodeEntry(batch(0, [{ key: 'x', command: {} }]))).toBeNull();
    expect(decodeEntry(batch(1, []))).toBeNull();
    expect(decodeEntry(batch(1, [{ key: 'bad key', command: {} }]))).toBeNull();
    expect(decodeEntry(encodeEntry({ kind: 'term', term: 2, node: 'no.dots' }))).toBeNull();
  });

  it('refuses a request without a usable key or command, with a typed error', () => {
    const refusal = (text: string) => {
      try {
        decodeRequest(text);
      } catch (error) {
        return error as ReplicationError;
      }
      throw new Error('accepted');
    };
    for (const text of ['nope', '[]', '{"command":{}}', '{"key":"","command":{}}', '{"key":"k"}']) {
      const error = refusal(text);
      expect(error).toBeInstanceOf(ReplicationError);
      expect(error.code).toBe('invalid_request');
      expect(error.retry).toBe(false);
    }
    expect(decodeRequest('{"key":"k-1","command":{"type":"x"}}').key).toBe('k-1');
  });

  it('reads a batch request, refusing an empty one, one too long and repeated keys', () => {
    const one = { key: 'a', command: {} };
    expect(decodeRequests(JSON.stringify(one))).toEqual({ items: [one], batch: false });
    const two = { commands: [one, { key: 'b', command: {} }] };
    expect(decodeRequests(JSON.stringify(two)).items.map((i) => i.key)).toEqual(['a', 'b']);
    const long = {
      commands: Array.from({ length: 1_025 }, (_, i) => ({ key: `k${i}`, command: {} })),
    };
    for (const body of [{ commands: [] }, long, { commands: [one, one] }, { commands: 'x' }]) {
      expect(() => decodeRequests(JSON.stringify(body))).toThrow(ReplicationError);
    }
  });
});

describe('AuditBook', () => {
  it('stops the odd replica out, not the majority', () => {
    const odd = new AuditBook('c', 3);
    const good = new AuditBook('a', 3);
    expect(odd.report('c', 100, 'bad').kind).toBe('pending');
    expect(odd.report('a', 100, 'h').kind).toBe('pending');
    expect(odd.report('b', 100, 'h')).toMatchObject({ kind: 'diverged', mine: 'bad', others: 'h' });
    expect(good.report('a', 100, 'h').kind).toBe('pending');
    expect(good.report('c', 100, 'bad').kind).toBe('pending');
    expect(good.report('b', 100, 'h')).toMatchObject({ kind: 'peer-diverged', nodes: ['c'] });
    expect(good.report('a', 200, 'h2').kind).toBe('pending');
    expect(good.report('b', 200, 'h2')).toMatchObject({ kind: 'agree', replicas: 2 });
  });

  it('stops everyone when all reported and no hash has a majority', () => {
    const book = new AuditBook('a', 3);
    book.report('a', 5, 'x');
    book.report('b', 5, 'y');
    expect(book.report('c', 5, 'z')).toMatchObject({ kind: 'diverged', reporters: 3 });
  });
});
