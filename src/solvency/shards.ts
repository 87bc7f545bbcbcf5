/**
 * A statement split into shards, so that a tree of any size is written and audited one subtree
 * at a time (no file, string or thread holds the whole of it).
 *
 * A tree of depth d is cut at level k, the shard depth (1 ≤ k ≤ d): shard s (0 ≤ s < 2^(d−k))
 * holds the 2^k leaves from position s·2^k and the nodes of levels 1 to k − 1 above them (each
 * at its index in the whole tree, as its proofs' transcripts name it); the manifest holds the
 * public root, the nodes of levels k to d − 1 (the shards' own roots and everything above them)
 * and, per shard, its file, the hash of its subtree's root and the SHA-256 of its file. The
 * digest the venue signs is the public root's, as for one file: the root hash covers every
 * shard, so the manifest's per-shard entries only name a bad or stray file early.
 *
 * The audit checks each shard alone (its leaves, its nodes, its sums and hashes up to its root;
 * in parallel in an adapter), then the shards' roots against the manifest's level-k nodes,
 * those nodes' and every higher node's sums and proofs, the root hash and the opened totals,
 * and that no uid repeats across shards: the same checks as the single-file audit.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { LeafProof } from './account.js';
import { equalBytes, type Point } from './group.js';
import { tableProblem } from './table.js';
import type { NodeProof, PublicRoot, SolvencyStatement } from './tree.js';
import {
  climb,
  leafRow,
  type ProofChecks,
  rootCheck,
  rowProblem,
  type Summed,
} from './verifier.js';

/** The deepest default shard: 2^10 leaves (about 30 MB of JSON at 10 assets). */
export const SHARD_DEPTH_DEFAULT = 10;

/** One subtree of a statement. */
export interface Shard {
  readonly snapshotId: string;
  readonly index: number;
  readonly shardDepth: number;
  /** 2^shardDepth leaves in position order. */
  readonly leaves: readonly LeafProof[];
  /** nodes[l − 1]: the shard's 2^(shardDepth − l) nodes of level l, for 1 ≤ l < shardDepth. */
  readonly nodes: readonly (readonly NodeProof[])[];
}

/** A shard as the manifest lists it. */
export interface ShardEntry {
  /** Its file, relative to the manifest's folder. */
  readonly file: string;
  /** The hash of its subtree's root (the node of level shardDepth at its index). */
  readonly hash: Uint8Array;
  /** SHA-256 of the file's bytes. */
  readonly sha256: Uint8Array;
}

/** The manifest of a sharded statement: the public root, the top of the tree, the shards. */
export interface ShardedStatement extends PublicRoot {
  readonly shardDepth: number;
  /** top[l − shardDepth]: the nodes of level l, for shardDepth ≤ l < depth. */
  readonly top: readonly (readonly NodeProof[])[];
  readonly shards: readonly ShardEntry[];
}

/** What checking one shard yields: its root's hash and sums and its leaves' uids, or why not. */
export type ShardResult =
  | { readonly problem: string }
  | {
      readonly hash: Uint8Array;
      readonly equity: readonly Point[];
      readonly debt: readonly Point[];
      readonly uids: readonly string[];
    };

/** What checking a shard alone needs of its manifest. */
export type ShardPlace = Pick<ShardedStatement, 'snapshotId' | 'shardDepth'>;

/** The shard depth of a tree: `asked` (default {@link SHARD_DEPTH_DEFAULT}), at most the depth. */
export function shardDepthFor(depth: number, asked: number = SHARD_DEPTH_DEFAULT): number {
  return Math.max(1, Math.min(depth, asked));
}

/** The file of shard `index`, relative to the manifest. */
export function shardFile(index: number): string {
  return `shards/${String(index).padStart(6, '0')}.json`;
}

/** Shard `index` of a statement cut at `shardDepth`. */
export function shardOf(statement: SolvencyStatement, shardDepth: number, index: number): Shard {
  const width = 2 ** shardDepth;
  const nodes: NodeProof[][] = [];
  for (let level = 1; level < shardDepth; level++) {
    const span = 2 ** (shardDepth - level);
    nodes.push((statement.nodes[level - 1] ?? []).slice(index * span, (index + 1) * span));
  }
  return {
    snapshotId: statement.snapshotId,
    index,
    shardDepth,
    leaves: statement.leaves.slice(index * width, (index + 1) * width),
    nodes,
  };
}

/** The nodes of a statement from level `shardDepth` up (the manifest's `top`). */
export function topOf(statement: SolvencyStatement, shardDepth: number): NodeProof[][] {
  return statement.nodes.slice(shardDepth - 1).map((row) => [...row]);
}

/** Why a shard's own shape is wrong for the place the manifest gives it, or null. */
function shardShapeProblem(manifest: ShardPlace, index: number, shard: Shard) {
  const k = manifest.shardDepth;
  if (shard.snapshotId !== manifest.snapshotId) return 'from another snapshot';
  if (shard.index !== index) return `holds shard ${shard.index}`;
  if (shard.shardDepth !== k) return `cut at level ${shard.shardDepth}, not ${k}`;
  if (shard.leaves.length !== 2 ** k) return `2^${k} leaves expected`;
  if (shard.nodes.length !== k - 1) return 'one row of nodes per level below its root';
  for (let level = 1; level < k; level++)
    if ((shard.nodes[level - 1] ?? []).length !== 2 ** (k - level))
      return `level ${level} has the wrong width`;
  return null;
}

/**
 * Shard `index` of a manifest checked alone: its shape, every leaf's and node's proofs (by
 * `checks`, at their indices in the whole tree), its sums and hashes up to its root.
 */
export function checkShard(
  manifest: ShardPlace,
  index: number,
  shard: Shard,
  checks: ProofChecks,
): ShardResult {
  const shape = shardShapeProblem(manifest, index, shard);
  if (shape !== null) return { problem: `shard ${index}: ${shape}` };
  const k = manifest.shardDepth;
  const first = index * 2 ** k;
  const row = leafRow(manifest.snapshotId, shard.leaves, first, checks);
  if (typeof row === 'string') return { problem: row };
  const stated = (level: number) => shard.nodes[level - 1] ?? [];
  const top = climb(manifest.snapshotId, row, 0, k, stated, first, checks);
  if (typeof top === 'string') return { problem: top };
  return { ...top, uids: shard.leaves.map((leaf) => bytesToHex(leaf.uid)) };
}

/** Why a manifest's shape is wrong (table, depths, widths), or null. */
export function manifestShapeProblem(manifest: ShardedStatement): string | null {
  const problem = tableProblem(manifest.table);
  if (problem !== null) return problem;
  const { depth, shardDepth: k } = manifest;
  if (!Number.isInteger(depth) || depth < 1 || depth > 40) return 'statement: bad depth';
  if (!Number.isInteger(k) || k < 1 || k > depth) return 'statement: bad shard depth';
  if (manifest.shards.length !== 2 ** (depth - k))
    return 'statement: 2^(depth − k) shards expected';
  for (const [i, entry] of manifest.shards.entries())
    if (entry.file !== shardFile(i)) return `statement: shard ${i} must be ${shardFile(i)}`;
  if (manifest.top.length !== depth - k) return 'statement: one row of nodes per level above k';
  for (let level = k; level < depth; level++)
    if ((manifest.top[level - k] ?? []).length !== 2 ** (depth - level))
      return `statement: level ${level} has the wrong width`;
  return null;
}

/**
 * The audit's last part, once every shard is checked (`results`, in shard order): the first
 * shard's problem if any, then no uid twice, each shard's root against the manifest's entry and
 * its level-k node, the nodes above (sums and proofs, by `checks`), the root and its totals.
 */
export function auditShards(
  manifest: ShardedStatement,
  results: readonly ShardResult[],
  checks: ProofChecks,
): string | null {
  const k = manifest.shardDepth;
  const row: Summed[] = [];
  const uids = new Set<string>();
  for (const [i, result] of results.entries()) {
    if ('problem' in result) return result.problem;
    for (const uid of result.uids) {
      if (uids.has(uid)) return 'statement: two leaves share a uid';
      uids.add(uid);
    }
    if (!equalBytes(result.hash, (manifest.shards[i] as ShardEntry).hash))
      return `shard ${i}: its root's hash differs from the manifest's`;
    row.push(result);
  }
  if (row.length !== manifest.shards.length) return 'statement: a shard was not checked';
  if (k < manifest.depth) {
    const bad = rowProblem(k, row, manifest.top[0] ?? [], 0, checks);
    if (bad !== null) return bad;
  }
  const stated = (level: number) => manifest.top[level - k] ?? [];
  const root = climb(manifest.snapshotId, row, k, manifest.depth, stated, 0, checks);
  if (typeof root === 'string') return root;
  return rootCheck(manifest, root);
}
