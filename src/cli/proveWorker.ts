/**
 * A worker thread of `fulcrum prove` and `fulcrum verify-proof` (see `provePool.ts`): proves
 * leaves and node sums with the secret and backend it was started with, or checks a statement's
 * leaves and nodes. One job per message, answered with its id.
 */
import { parentPort, workerData } from 'node:worker_threads';
// Not the solvency index: a worker needs the proofs, not the engine behind `fromState.ts`.
import { leafProblem } from '../solvency/account.js';
import { backendNamed } from '../solvency/backends.js';
import { type LeafJob, type NodeJob, proveLeafJob, proveNodeJob } from '../solvency/prover.js';
import type { RangeProof } from '../solvency/rangeProof.js';
import type { ProofTable } from '../solvency/table.js';
import { nodeProblem } from '../solvency/tree.js';
import { type PoolJob, leafFromWire, nodeFromWire } from './provePool.js';
import { checkShardFile, shardToWire } from './proveShards.js';

const { backend: name, secret } = workerData as { backend: string; secret: Uint8Array | null };
const found = backendNamed(name);
if (found === null) throw new Error(`no range-proof backend ${name}`);
const backend: RangeProof = found;
let audit: { snapshotId: string; table: ProofTable } | undefined;

function run(job: PoolJob): unknown {
  switch (job.kind) {
    case 'prove-leaf':
      return proveLeafJob(job.job as LeafJob, secret as Uint8Array, backend);
    case 'prove-node':
      return proveNodeJob(job.job as NodeJob, secret as Uint8Array, backend);
    case 'audit':
      audit = { snapshotId: job.snapshotId, table: job.table };
      return null;
    case 'check-leaf': {
      const a = audit as NonNullable<typeof audit>;
      return leafProblem(a.snapshotId, a.table, leafFromWire(job.leaf), backend);
    }
    case 'check-shard':
      return shardToWire(checkShardFile(job.job, audit as NonNullable<typeof audit>, backend));
    case 'check-node': {
      const a = audit as NonNullable<typeof audit>;
      const node = nodeFromWire(job.node);
      return nodeProblem(a.snapshotId, a.table, job.level, job.index, node, backend);
    }
  }
}

parentPort?.on('message', (message: { id: number; job: PoolJob }) => {
  parentPort?.postMessage({ id: message.id, result: run(message.job) });
});
