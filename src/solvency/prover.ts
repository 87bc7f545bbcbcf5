/**
 * Builds a snapshot's solvency statement and every account's inclusion bundle (see `tree.ts`).
 * Deterministic: every blinding, salt, nonce and leaf position derives from the secret.
 */
import { assert } from './assert.js';
import {
  accountUid,
  BELOW_MAINTENANCE,
  type LeafOpening,
  type LeafProof,
  leafHash,
  leafOpening,
  proveLeaf,
  type Side,
  SolvencyRefusal,
  type SumOpening,
  surplusValue,
} from './account.js';
import { commit, derive, mod, type Point } from './group.js';
import type { RangeProof } from './rangeProof.js';
import { BALANCE_BITS, type ProofTable, tableProblem } from './table.js';
import {
  type AccountBalances,
  accountSalt,
  depthFor,
  type InclusionBundle,
  type NodeProof,
  nodeTranscript,
  parentOf,
  type PathStep,
  type SolvencyStatement,
} from './tree.js';

/** A node's sums with their openings, while the tree is built. */
interface Built {
  readonly hash: Uint8Array;
  readonly equity: readonly Point[];
  readonly debt: readonly Point[];
  readonly open: SumOpening;
}

export interface BuiltTree {
  readonly statement: SolvencyStatement;
  /** One bundle per account, by account id. */
  readonly bundles: ReadonlyMap<string, InclusionBundle>;
  /** hashes[l]: the hashes of level l's nodes (0: the leaves; depth: the root). */
  readonly hashes: readonly (readonly Uint8Array[])[];
}

function addOpenings(a: SumOpening, b: SumOpening): SumOpening {
  const add = (x: readonly bigint[], y: readonly bigint[]) => x.map((v, i) => v + (y[i] as bigint));
  const addMod = (x: readonly bigint[], y: readonly bigint[]) =>
    x.map((v, i) => mod(v + (y[i] as bigint)));
  return {
    equity: add(a.equity, b.equity),
    debt: add(a.debt, b.debt),
    equityBlinding: addMod(a.equityBlinding, b.equityBlinding),
    debtBlinding: addMod(a.debtBlinding, b.debtBlinding),
  };
}

/** One leaf to prove: the snapshot, the table, its uid and its opening. */
export interface LeafJob {
  readonly snapshotId: string;
  readonly table: ProofTable;
  readonly uid: Uint8Array;
  readonly opening: LeafOpening;
}

/** One inner node's sums to prove. */
export interface NodeJob {
  readonly snapshotId: string;
  readonly table: ProofTable;
  readonly level: number;
  readonly index: number;
  readonly opening: SumOpening;
}

/** What proving a leaf yields beside the commitments (which its opening gives). */
export type LeafProofs = Pick<
  LeafProof,
  'equityProofs' | 'debtProofs' | 'extraProofs' | 'surplusProof'
>;

/** What proving a node's sums yields. */
export type NodeSumProofs = Pick<NodeProof, 'equityProofs' | 'debtProofs'>;

/** Proves leaves and node sums in bulk, off this thread (the CLI's worker threads). */
export interface ProofWorkers {
  proveLeaves(jobs: readonly LeafJob[]): Promise<LeafProofs[]>;
  proveNodeSums(jobs: readonly NodeJob[]): Promise<NodeSumProofs[]>;
}

interface LeafPlan {
  readonly accountId: string | null;
  readonly salt: Uint8Array;
  readonly job: LeafJob;
}

/**
 * The leaves in position order, padding included, without their proofs; refuses an account
 * below maintenance at the table (naming it) before any proof is made.
 */
function planLeaves(
  snapshotId: string,
  table: ProofTable,
  accounts: readonly AccountBalances[],
  depth: number,
  secret: Uint8Array,
): LeafPlan[] {
  const keyed = accounts.map((a) => ({
    a,
    key: derive(secret, [snapshotId, 'position', a.accountId]),
  }));
  keyed.sort((x, y) => compareBytes(x.key, y.key));
  const out: LeafPlan[] = [];
  const zeros = new Map<string, bigint>();
  for (let p = 0; p < 2 ** depth; p++) {
    const account = keyed[p]?.a;
    const salt =
      account === undefined
        ? derive(secret, [snapshotId, 'padding', String(p)]).slice(0, 32)
        : accountSalt(secret, snapshotId, account.accountId);
    // A padding leaf's uid is a hash like any other: it cannot be told from an account's.
    const uid = accountUid(snapshotId, account?.accountId ?? `padding:${p}`, salt);
    const opening = leafOpening(
      table,
      account?.balances ?? zeros,
      snapshotId,
      uid,
      secret,
      account?.extra,
    );
    if (account !== undefined && surplusValue(table, opening) < 0n) {
      const refusal = new SolvencyRefusal(BELOW_MAINTENANCE);
      throw new Error(`solvency: account ${account.accountId}: ${refusal.message}`, {
        cause: refusal,
      });
    }
    out.push({
      accountId: account?.accountId ?? null,
      salt,
      job: { snapshotId, table, uid, opening },
    });
  }
  return out;
}

/** A leaf's proofs (in this thread or a worker's). */
export function proveLeafJob(job: LeafJob, secret: Uint8Array, backend: RangeProof): LeafProofs {
  const leaf = proveLeaf(job.snapshotId, job.table, job.uid, job.opening, secret, backend);
  return {
    equityProofs: leaf.equityProofs,
    debtProofs: leaf.debtProofs,
    extraProofs: leaf.extraProofs,
    surplusProof: leaf.surplusProof,
  };
}

/** The leaf of a job and its proofs: the commitments recomputed from the opening. */
function leafOf(job: LeafJob, proofs: LeafProofs): LeafProof {
  const o = job.opening;
  return {
    uid: job.uid,
    equity: o.equity.map((v, i) => commit(v, o.equityBlinding[i] as bigint)),
    debt: o.debt.map((v, i) => commit(v, o.debtBlinding[i] as bigint)),
    extra: [o.extra.collateral, o.extra.liabilities].map((v, k) =>
      commit(v, o.extraBlinding[k] as bigint),
    ),
    ...proofs,
  };
}

function compareBytes(x: Uint8Array, y: Uint8Array): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  }
  return x.length - y.length;
}

/** A node's range proofs on its sums (in this thread or a worker's). */
export function proveNodeJob(job: NodeJob, secret: Uint8Array, backend: RangeProof): NodeSumProofs {
  const prove = (side: Side, values: readonly bigint[], blindings: readonly bigint[]) =>
    job.table.assets.map((a, i) =>
      backend.prove(
        values[i] as bigint,
        blindings[i] as bigint,
        BALANCE_BITS,
        nodeTranscript(job.snapshotId, job.level, job.index, side, a.symbol),
        secret,
      ),
    );
  const o = job.opening;
  return {
    equityProofs: prove('equity', o.equity, o.equityBlinding),
    debtProofs: prove('debt', o.debt, o.debtBlinding),
  };
}

/** The tree's building in steps: plan the leaves, sum the levels once they are proven, finish. */
interface TreeSteps {
  readonly leafJobs: readonly LeafJob[];
  afterLeaves(proofs: readonly LeafProofs[]): {
    readonly nodeJobs: readonly NodeJob[];
    finish(proofs: readonly NodeSumProofs[], backend: string): BuiltTree;
  };
}

function treeSteps(
  snapshotId: string,
  table: ProofTable,
  accounts: readonly AccountBalances[],
  secret: Uint8Array,
): TreeSteps {
  const problem = tableProblem(table);
  if (problem !== null) throw new Error(problem);
  const ids = new Set(accounts.map((a) => a.accountId));
  assert(ids.size === accounts.length, 'solvency: an account id repeats');
  const depth = depthFor(accounts.length);
  const plans = planLeaves(snapshotId, table, accounts, depth, secret);
  return {
    leafJobs: plans.map((p) => p.job),
    afterLeaves(proofs) {
      assert(proofs.length === plans.length, 'solvency: one proof set per leaf');
      const leaves = plans.map((p, i) => leafOf(p.job, proofs[i] as LeafProofs));
      const levels = sumLevels(snapshotId, depth, leaves, plans);
      const nodeJobs: NodeJob[] = [];
      for (let level = 1; level < depth; level++)
        (levels[level] as Built[]).forEach((node, index) =>
          nodeJobs.push({ snapshotId, table, level, index, opening: node.open }),
        );
      return {
        nodeJobs,
        finish(nodeProofs, backend) {
          assert(nodeProofs.length === nodeJobs.length, 'solvency: one proof set per node');
          const nodes: NodeProof[][] = [];
          nodeJobs.forEach((job, k) => {
            const built = (levels[job.level] as Built[])[job.index] as Built;
            const row = (nodes[job.level - 1] ??= []);
            row.push({
              equity: built.equity,
              debt: built.debt,
              ...(nodeProofs[k] as NodeSumProofs),
            });
          });
          const root = (levels[depth] as Built[])[0] as Built;
          const statement: SolvencyStatement = {
            snapshotId,
            backend,
            table,
            depth,
            leaves,
            nodes,
            root: {
              hash: root.hash,
              equityTotal: root.open.equity,
              debtTotal: root.open.debt,
              equityBlinding: root.open.equityBlinding,
              debtBlinding: root.open.debtBlinding,
            },
          };
          const hashes = levels.map((row) => row.map((node) => node.hash));
          return { statement, bundles: bundlesOf(statement, levels, plans), hashes };
        },
      };
    },
  };
}

/** Every level's sums, leaves up; refuses per-asset totals of 2^64 proof units or more. */
function sumLevels(
  snapshotId: string,
  depth: number,
  leaves: readonly LeafProof[],
  plans: readonly LeafPlan[],
): Built[][] {
  const built = leaves.map((leaf, i) => ({
    hash: leafHash(snapshotId, leaf),
    equity: leaf.equity,
    debt: leaf.debt,
    open: (plans[i] as LeafPlan).job.opening,
  }));
  const levels: Built[][] = [built];
  for (let level = 1; level <= depth; level++) {
    const below = levels[level - 1] as Built[];
    const row: Built[] = [];
    for (let i = 0; i < below.length / 2; i++) {
      const left = below[2 * i] as Built;
      const right = below[2 * i + 1] as Built;
      row.push({
        ...parentOf(snapshotId, level, left, right),
        open: addOpenings(left.open, right.open),
      });
    }
    levels.push(row);
  }
  const root = (levels[depth] as Built[])[0] as Built;
  const limit = 1n << BigInt(BALANCE_BITS);
  assert(
    [...root.open.equity, ...root.open.debt].every((v) => v < limit),
    'solvency: a per-asset total reaches 2^64 proof units',
  );
  return levels;
}

/**
 * The statement and bundles of a snapshot, every proof made in this thread. Throws when the
 * table breaks its bounds, an account is below maintenance at the table, a balance or a
 * per-asset total reaches 2^64 proof units, or an account id repeats.
 */
export function buildSolvencyTree(
  snapshotId: string,
  table: ProofTable,
  accounts: readonly AccountBalances[],
  secret: Uint8Array,
  backend: RangeProof,
): BuiltTree {
  const steps = treeSteps(snapshotId, table, accounts, secret);
  const next = steps.afterLeaves(steps.leafJobs.map((job) => proveLeafJob(job, secret, backend)));
  return next.finish(
    next.nodeJobs.map((job) => proveNodeJob(job, secret, backend)),
    backend.name,
  );
}

/**
 * {@link buildSolvencyTree} with the proofs made by `workers` (which hold the secret and the
 * backend named `backend`); the same statement and bundles, byte for byte.
 */
export async function buildSolvencyTreeWith(
  snapshotId: string,
  table: ProofTable,
  accounts: readonly AccountBalances[],
  secret: Uint8Array,
  workers: ProofWorkers,
  backend: string,
): Promise<BuiltTree> {
  const steps = treeSteps(snapshotId, table, accounts, secret);
  const next = steps.afterLeaves(await workers.proveLeaves(steps.leafJobs));
  return next.finish(await workers.proveNodeSums(next.nodeJobs), backend);
}

/** Every account's bundle: its opening and the siblings on its path. */
function bundlesOf(
  statement: SolvencyStatement,
  levels: readonly (readonly Built[])[],
  owners: readonly LeafPlan[],
): Map<string, InclusionBundle> {
  const bundles = new Map<string, InclusionBundle>();
  owners.forEach((owner, index) => {
    const accountId = owner.accountId;
    if (accountId === null) return;
    const path: PathStep[] = [];
    let at = index;
    for (let level = 0; level < statement.depth; level++) {
      const sibling = at ^ 1;
      if (level === 0) path.push({ kind: 'leaf', leaf: statement.leaves[sibling] as LeafProof });
      else {
        const node = (statement.nodes[level - 1] as NodeProof[])[sibling] as NodeProof;
        const hash = ((levels[level] as Built[])[sibling] as Built).hash;
        path.push({ kind: 'node', hash, node });
      }
      at >>= 1;
    }
    bundles.set(accountId, {
      snapshotId: statement.snapshotId,
      accountId,
      salt: owner.salt,
      index,
      opening: owner.job.opening,
      leaf: statement.leaves[index] as LeafProof,
      path,
    });
  });
  return bundles;
}
