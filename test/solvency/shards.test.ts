/**
 * Sharded statements (`shards.ts`): a tree of depth 3 cut at every level audits as the whole
 * does, its shards and manifest survive their JSON forms, and a shard out of place, of another
 * snapshot, with a leaf changed or missing is refused, naming it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  auditProblem,
  auditShards,
  buildSolvencyTree,
  type BuiltTree,
  bulletproofsRangeProof,
  checkShard,
  manifestFromJson,
  manifestShapeProblem,
  manifestToJson,
  nodeProblem,
  type ProofChecks,
  type Shard,
  shardDepthFor,
  type ShardedStatement,
  shardFile,
  shardFromJson,
  shardOf,
  shardToJson,
  type SolvencyStatement,
  topOf,
  leafProblem,
  type LeafProof,
  type NodeProof,
} from '../../src/solvency/index.js';
import { ETH, SECRET, tableOf, units, USDC } from './helpers.js';

const BACKEND = bulletproofsRangeProof;
const table = tableOf([ETH, USDC]);
const ACCOUNTS = ['ann', 'ben', 'cat', 'dan', 'eve'].map((accountId, k) => ({
  accountId,
  balances: new Map([units('ETH', k + 1, 18), units('USDC', -100 * k, 6)]),
}));

let tree: BuiltTree;
let other: BuiltTree;

/** The manifest of `built` cut at `k` (its file digests left zero: no file here). */
function manifestOf(built: BuiltTree, k: number): ShardedStatement {
  const s = built.statement;
  const shards = Array.from({ length: 2 ** (s.depth - k) }, (_, i) => ({
    file: shardFile(i),
    hash: built.hashes[k]?.[i] as Uint8Array,
    sha256: new Uint8Array(32),
  }));
  const { snapshotId, backend, depth, root } = s;
  return {
    snapshotId,
    backend,
    table: s.table,
    depth,
    root,
    shardDepth: k,
    top: topOf(s, k),
    shards,
  };
}

/** The checks of a shard's own leaves and nodes, at their indices in the whole tree. */
function shardChecks(s: SolvencyStatement, shard: Shard): ProofChecks {
  const first = shard.index * 2 ** shard.shardDepth;
  return {
    leaf: (i) => leafProblem(s.snapshotId, s.table, shard.leaves[i - first] as LeafProof, BACKEND),
    node: (level, i) => {
      const row = shard.nodes[level - 1] ?? [];
      const node = row[i - shard.index * row.length];
      return node === undefined
        ? 'missing'
        : nodeProblem(s.snapshotId, s.table, level, i, node, BACKEND);
    },
  };
}

const topChecks = (m: ShardedStatement): ProofChecks => ({
  leaf: () => 'not in the manifest',
  node: (level, i) =>
    nodeProblem(
      m.snapshotId,
      m.table,
      level,
      i,
      m.top[level - m.shardDepth]?.[i] as NodeProof,
      BACKEND,
    ),
});

/** The sharded audit of `built` cut at `k`, with `replace` changing the shards first. */
function auditCut(built: BuiltTree, k: number, replace: (shards: Shard[]) => Shard[] = (x) => x) {
  const manifest = manifestOf(built, k);
  const shards = replace(manifest.shards.map((_, i) => shardOf(built.statement, k, i)));
  const results = shards.map((shard, i) =>
    checkShard(manifest, i, shard, shardChecks(built.statement, shard)),
  );
  return auditShards(manifest, results, topChecks(manifest));
}

beforeAll(() => {
  tree = buildSolvencyTree('venue@seq:10', table, ACCOUNTS, SECRET, BACKEND);
  other = buildSolvencyTree('venue@seq:11', table, ACCOUNTS, SECRET, BACKEND);
}, 300_000);

describe('sharded statements', () => {
  it('audits a tree cut at every level as the whole tree audits', () => {
    expect(tree.statement.depth).toBe(3);
    expect(auditProblem(tree.statement, BACKEND)).toBeNull();
    for (const k of [1, 2, 3]) {
      expect(manifestShapeProblem(manifestOf(tree, k))).toBeNull();
      expect(auditCut(tree, k), `cut at ${k}`).toBeNull();
    }
    expect([shardDepthFor(3), shardDepthFor(17), shardDepthFor(17, 6)]).toEqual([3, 10, 6]);
  }, 120_000);

  it('keeps a shard and a manifest through their JSON forms', () => {
    const manifest = manifestOf(tree, 1);
    const json = JSON.parse(JSON.stringify(manifestToJson(manifest)));
    expect(manifestToJson(manifestFromJson(json))).toEqual(json);
    const shard = shardOf(tree.statement, 2, 1);
    const shardJson = JSON.parse(JSON.stringify(shardToJson(shard)));
    expect(shardToJson(shardFromJson(shardJson))).toEqual(shardJson);
    expect(() => manifestFromJson({ ...json, layout: 'other' })).toThrow(/statement.layout/);
    expect(() => shardFromJson({ ...shardToJson(shard), extra: 1 })).toThrow(/shard.extra/);
  });

  it('refuses a manifest of the wrong shape', () => {
    const manifest = manifestOf(tree, 1);
    expect(manifestShapeProblem({ ...manifest, shardDepth: 4 })).toMatch(/bad shard depth/);
    expect(manifestShapeProblem({ ...manifest, shards: manifest.shards.slice(1) })).toMatch(
      /shards expected/,
    );
    const renamed = manifest.shards.map((e, i) => (i === 2 ? { ...e, file: '../x.json' } : e));
    expect(manifestShapeProblem({ ...manifest, shards: renamed })).toMatch(/shard 2 must be/);
    expect(manifestShapeProblem({ ...manifest, top: manifest.top.slice(1) })).toMatch(/one row/);
  });

  it('refuses a shard out of place, of another snapshot, with a leaf changed or repeated', () => {
    const swap = (shards: Shard[]) => [shards[1], shards[0], ...shards.slice(2)] as Shard[];
    expect(auditCut(tree, 1, swap)).toBe('shard 0: holds shard 1');
    const foreign = (shards: Shard[]) =>
      shards.map((s, i) => (i === 1 ? shardOf(other.statement, 1, 1) : s));
    expect(auditCut(tree, 1, foreign)).toBe('shard 1: from another snapshot');
    const changed = (shards: Shard[]) =>
      shards.map((s, i) =>
        i === 1
          ? { ...s, leaves: [s.leaves[0], (shards[0] as Shard).leaves[0]] as LeafProof[] }
          : s,
      );
    // A leaf of shard 0 in shard 1: its proofs hold, but the uid repeats.
    expect(auditCut(tree, 1, changed)).toBe('statement: two leaves share a uid');
    const reversed = (shards: Shard[]) =>
      shards.map((s, i) => (i === 3 ? { ...s, leaves: [...s.leaves].reverse() } : s));
    expect(auditCut(tree, 1, reversed)).toBe(
      "shard 3: its root's hash differs from the manifest's",
    );
    const short = (shards: Shard[]) =>
      shards.map((s, i) => (i === 0 ? { ...s, leaves: s.leaves.slice(1) } : s));
    expect(auditCut(tree, 2, short)).toBe('shard 0: 2^2 leaves expected');
  }, 120_000);
});
