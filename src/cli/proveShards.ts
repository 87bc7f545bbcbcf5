/**
 * Sharded statements on disk (docs/SOLVENCY.md, "Sharded statement"): `fulcrum prove`
 * writes one file per subtree, each serialized and written alone, and `fulcrum verify-proof`
 * checks each shard file alone, on a worker thread or in the command's thread, before the
 * manifest's top of the tree. The shard files' checks are the core's (`shards.ts`); here are the
 * files: their bytes against the manifest's SHA-256, their JSON, their paths.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FulcrumError } from '../base/errors.js';
import { parseJsonText } from '../domain/json.js';
import { leafProblem } from '../solvency/account.js';
import { decodePoint, encodePoint, equalBytes, type Point } from '../solvency/group.js';
import type { RangeProof } from '../solvency/rangeProof.js';
import { SolvencyFormatError, shardFromJson, shardToJson } from '../solvency/serialize.js';
import {
  checkShard,
  type ShardedStatement,
  type ShardEntry,
  shardFile,
  shardOf,
  type ShardPlace,
  type ShardResult,
  topOf,
} from '../solvency/shards.js';
import type { ProofTable } from '../solvency/table.js';
import { nodeProblem, type SolvencyStatement } from '../solvency/tree.js';
import type { ProofChecks } from '../solvency/verifier.js';

/** The largest shard file read (as any input of the command line). */
const SHARD_BYTES_MAX = 256 * 1024 * 1024;

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest());

/**
 * Writes every shard of `statement` cut at `shardDepth` under `out/shards/`, one at a time
 * (`hashes`: the prover's node hashes of level `shardDepth`); returns the manifest without the
 * fields the command adds.
 */
export function writeShards(
  out: string,
  statement: SolvencyStatement,
  shardDepth: number,
  hashes: readonly Uint8Array[],
): ShardedStatement {
  const count = 2 ** (statement.depth - shardDepth);
  const shards: ShardEntry[] = [];
  for (let index = 0; index < count; index++) {
    const shard = shardOf(statement, shardDepth, index);
    const bytes = Buffer.from(`${JSON.stringify(shardToJson(shard), null, 1)}\n`, 'utf8');
    const file = shardFile(index);
    writeFileSync(join(out, file), bytes, { flag: 'wx' });
    const hash = hashes[index];
    if (hash === undefined) throw new Error('solvency: a shard root has no hash');
    shards.push({ file, hash, sha256: sha256(bytes) });
  }
  const { snapshotId, backend, table, depth, root } = statement;
  const top = topOf(statement, shardDepth);
  return { snapshotId, backend, table, depth, root, shardDepth, top, shards };
}

/** What a worker (or the command's thread) needs to check one shard file. */
export interface ShardJob {
  readonly folder: string;
  readonly index: number;
  readonly sha256: Uint8Array;
  readonly shardDepth: number;
}

/** A shard's result as it crosses a thread boundary: points as their encodings. */
export type ShardWire =
  | { readonly problem: string }
  | {
      readonly hash: Uint8Array;
      readonly equity: Uint8Array[];
      readonly debt: Uint8Array[];
      readonly uids: readonly string[];
    };

export function shardToWire(result: ShardResult): ShardWire {
  if ('problem' in result) return result;
  return { ...result, equity: result.equity.map(encodePoint), debt: result.debt.map(encodePoint) };
}

export function shardFromWire(wire: ShardWire): ShardResult {
  if ('problem' in wire) return wire;
  const points = (list: readonly Uint8Array[]): Point[] =>
    list.map(
      (b) =>
        decodePoint(b) ??
        (() => {
          throw new Error('solvency: a point does not decode');
        })(),
    );
  return { ...wire, equity: points(wire.equity), debt: points(wire.debt) };
}

/** Reads, decodes and checks one shard file with `backend`. */
export function checkShardFile(
  job: ShardJob,
  audit: { readonly snapshotId: string; readonly table: ProofTable },
  backend: RangeProof,
): ShardResult {
  const at = `shard ${job.index}`;
  const file = join(job.folder, shardFile(job.index));
  let bytes: Buffer;
  try {
    if (statSync(file).size > SHARD_BYTES_MAX)
      return { problem: `${at}: ${shardFile(job.index)} is larger than 256 MiB` };
    bytes = readFileSync(file);
  } catch (error) {
    return {
      problem: `${at}: cannot read ${shardFile(job.index)} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    };
  }
  if (!equalBytes(sha256(bytes), job.sha256))
    return { problem: `${at}: the file differs from the manifest's SHA-256` };
  let shard;
  try {
    shard = shardFromJson(parseJsonText(bytes.toString('utf8'), shardFile(job.index)));
  } catch (error) {
    if (error instanceof SolvencyFormatError || error instanceof FulcrumError)
      return { problem: `${at}: ${error.message}` };
    throw error;
  }
  const { snapshotId, table } = audit;
  const place: ShardPlace = { snapshotId, shardDepth: job.shardDepth };
  const nodeAt = (level: number, index: number) =>
    (shard.nodes[level - 1] ?? [])[index - (job.index << (job.shardDepth - level))];
  const checks: ProofChecks = {
    leaf: (i) => {
      const leaf = shard.leaves[i - job.index * 2 ** job.shardDepth];
      return leaf === undefined ? 'missing' : leafProblem(snapshotId, table, leaf, backend);
    },
    node: (level, index) => {
      const node = nodeAt(level, index);
      if (node === undefined) return `node ${level}/${index}: missing`;
      return nodeProblem(snapshotId, table, level, index, node, backend);
    },
  };
  return checkShard(place, job.index, shard, checks);
}
