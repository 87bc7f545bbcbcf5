/**
 * Worker threads for `fulcrum prove` and `fulcrum verify-proof`: the leaves and nodes of a
 * solvency tree are independent, so their range proofs are made, or checked, on every core.
 * Jobs go one at a time to whichever worker is free; results come back in job order. Points
 * cross the thread boundary as their canonical encodings; bigints and bytes as they are.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
// Not the solvency index: the workers need the proofs, not the engine behind `fromState.ts`.
import type { LeafProof } from '../solvency/account.js';
import { decodePoint, encodePoint, type Point } from '../solvency/group.js';
import type {
  LeafJob,
  LeafProofs,
  NodeJob,
  NodeSumProofs,
  ProofWorkers,
} from '../solvency/prover.js';
import type { ProofTable } from '../solvency/table.js';
import type { NodeProof, SolvencyStatement } from '../solvency/tree.js';
import type { ShardedStatement, ShardResult } from '../solvency/shards.js';
import type { ProofChecks } from '../solvency/verifier.js';
import { type ShardJob, shardFromWire, type ShardWire } from './proveShards.js';

/** A point list as bytes, and back (the points were decoded once already: canonical). */
const wirePoints = (points: readonly Point[]) => points.map(encodePoint);
const pointsOf = (bytes: readonly Uint8Array[]) =>
  bytes.map((b) => {
    const p = decodePoint(b);
    if (p === null) throw new Error('solvency: a point does not decode');
    return p;
  });

export interface LeafWire {
  readonly uid: Uint8Array;
  readonly equity: Uint8Array[];
  readonly debt: Uint8Array[];
  readonly equityProofs: readonly Uint8Array[];
  readonly debtProofs: readonly Uint8Array[];
  readonly extra: Uint8Array[];
  readonly extraProofs: readonly Uint8Array[];
  readonly surplusProof: Uint8Array;
}

export type NodeWire = Omit<LeafWire, 'uid' | 'surplusProof' | 'extra' | 'extraProofs'>;

export const leafToWire = (leaf: LeafProof): LeafWire => ({
  ...leaf,
  equity: wirePoints(leaf.equity),
  debt: wirePoints(leaf.debt),
  extra: wirePoints(leaf.extra),
});
export const leafFromWire = (w: LeafWire): LeafProof => ({
  ...w,
  equity: pointsOf(w.equity),
  debt: pointsOf(w.debt),
  extra: pointsOf(w.extra),
});
export const nodeToWire = (node: NodeProof): NodeWire => ({
  ...node,
  equity: wirePoints(node.equity),
  debt: wirePoints(node.debt),
});
export const nodeFromWire = (w: NodeWire): NodeProof => ({
  ...w,
  equity: pointsOf(w.equity),
  debt: pointsOf(w.debt),
});

/** One job of a worker. */
export type PoolJob =
  | { readonly kind: 'prove-leaf'; readonly job: LeafJob }
  | { readonly kind: 'prove-node'; readonly job: NodeJob }
  | { readonly kind: 'audit'; readonly snapshotId: string; readonly table: ProofTable }
  | { readonly kind: 'check-leaf'; readonly leaf: LeafWire }
  | { readonly kind: 'check-shard'; readonly job: ShardJob }
  | {
      readonly kind: 'check-node';
      readonly level: number;
      readonly index: number;
      readonly node: NodeWire;
    };

/** Worker threads by default: one per core the process may use. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** A pool of worker threads holding one backend (and, to prove, the secret). */
export class ProofPool implements ProofWorkers {
  private readonly workers: Worker[];
  private readonly onProgress: (done: number, total: number) => void;

  constructor(
    count: number,
    backend: string,
    secret: Uint8Array | null,
    onProgress: (done: number, total: number) => void = () => {},
  ) {
    const url = new URL('./proveWorker.js', import.meta.url);
    this.workers = Array.from(
      { length: Math.max(1, count) },
      () => new Worker(url, { workerData: { backend, secret } }),
    );
    this.onProgress = onProgress;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Runs every job, each on the next free worker; the results in job order. */
  run<T>(jobs: readonly PoolJob[]): Promise<T[]> {
    const results = new Array<T>(jobs.length);
    let next = 0;
    let done = 0;
    return new Promise((resolve, reject) => {
      if (jobs.length === 0) return resolve(results);
      const feed = (worker: Worker) => {
        if (next >= jobs.length) return;
        const id = next++;
        worker.postMessage({ id, job: jobs[id] });
      };
      for (const worker of this.workers) {
        worker.removeAllListeners('message').removeAllListeners('error');
        worker.on('message', (message: { id: number; result: T }) => {
          results[message.id] = message.result;
          done++;
          this.onProgress(done, jobs.length);
          if (done === jobs.length) resolve(results);
          else feed(worker);
        });
        worker.on('error', reject);
        feed(worker);
      }
    });
  }

  proveLeaves(jobs: readonly LeafJob[]): Promise<LeafProofs[]> {
    return this.run(jobs.map((job) => ({ kind: 'prove-leaf' as const, job })));
  }

  proveNodeSums(jobs: readonly NodeJob[]): Promise<NodeSumProofs[]> {
    return this.run(jobs.map((job) => ({ kind: 'prove-node' as const, job })));
  }

  /** Every worker told the statement it checks (its snapshot and table). */
  private async prepareAudit(snapshotId: string, table: ProofTable): Promise<void> {
    await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.removeAllListeners('message').removeAllListeners('error');
            worker.once('message', () => resolve());
            worker.once('error', reject);
            worker.postMessage({ id: 0, job: { kind: 'audit', snapshotId, table } });
          }),
      ),
    );
  }

  /**
   * Every shard file of a manifest (in `folder`) checked across the workers, then every node of
   * the manifest's top: the shards' results in order, and the top nodes' checks.
   */
  async checkShards(
    folder: string,
    manifest: ShardedStatement,
  ): Promise<{ shards: ShardResult[]; checks: ProofChecks }> {
    const { snapshotId, table, shardDepth } = manifest;
    await this.prepareAudit(snapshotId, table);
    const jobs: PoolJob[] = manifest.shards.map((entry, index) => ({
      kind: 'check-shard',
      job: { folder, index, sha256: entry.sha256, shardDepth },
    }));
    const nodeJobs: PoolJob[] = manifest.top.flatMap((row, l) =>
      row.map((node, index) => ({
        kind: 'check-node' as const,
        level: shardDepth + l,
        index,
        node: nodeToWire(node),
      })),
    );
    const results = await this.run<ShardWire | string | null>([...jobs, ...nodeJobs]);
    const shards = results.slice(0, jobs.length).map((r) => shardFromWire(r as ShardWire));
    const offsets: number[] = [];
    let at = jobs.length;
    for (const row of manifest.top) {
      offsets.push(at);
      at += row.length;
    }
    const node = (level: number, index: number) =>
      (results[(offsets[level - shardDepth] as number) + index] as string | null) ?? null;
    return { shards, checks: { leaf: () => 'not in the manifest', node } };
  }

  /** Every leaf's and node's range proofs of a statement, checked across the workers. */
  async checkStatement(statement: SolvencyStatement): Promise<ProofChecks> {
    const { snapshotId, table } = statement;
    await this.prepareAudit(snapshotId, table);
    const leafJobs: PoolJob[] = statement.leaves.map((leaf) => ({
      kind: 'check-leaf',
      leaf: leafToWire(leaf),
    }));
    const nodeJobs: PoolJob[] = statement.nodes.flatMap((row, l) =>
      row.map((node, index) => ({
        kind: 'check-node' as const,
        level: l + 1,
        index,
        node: nodeToWire(node),
      })),
    );
    const results = await this.run<string | null>([...leafJobs, ...nodeJobs]);
    const offsets: number[] = [];
    let at = leafJobs.length;
    for (const row of statement.nodes) {
      offsets.push(at);
      at += row.length;
    }
    return {
      leaf: (index) => results[index] ?? null,
      node: (level, index) => results[(offsets[level - 1] as number) + index] ?? null,
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
