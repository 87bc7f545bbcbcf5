/**
 * The two checks of a snapshot's solvency statement (see `tree.ts`):
 * - the public audit (`auditProblem`): every leaf's range and surplus proofs, padding included,
 *   every node's sums recomputed from its children and their range proofs, the root hash and its
 *   opened totals. O(N); parallel across leaves in an adapter;
 * - one user's check of their inclusion bundle (`bundleProblem`): their uid and openings, their
 *   own proofs, each sibling's range proofs, the hashes and sums up to the published root.
 * Each returns why the check fails, or null when it passes.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { accountUid, EXTRA_SIDES, type LeafProof, leafHash, leafProblem } from './account.js';
import { commit, equalBytes, type Point } from './group.js';
import { backendNamed } from './backends.js';
import type { RangeProof } from './rangeProof.js';
import { tableProblem, toProofUnits } from './table.js';
import {
  type InclusionBundle,
  type NodeProof,
  nodeProblem,
  parentOf,
  type PublicRoot,
  rootProblem,
  type SolvencyStatement,
} from './tree.js';

/** A node while it is checked: its hash and sum commitments. */
export interface Summed {
  readonly hash: Uint8Array;
  readonly equity: readonly Point[];
  readonly debt: readonly Point[];
}

function samePoints(a: readonly Point[], b: readonly Point[]): boolean {
  return a.length === b.length && a.every((p, i) => p.equals(b[i] as Point));
}

/**
 * The backend a statement names, or why it cannot be checked. `given` (a wrapped backend, for
 * progress) must carry the same name.
 */
export function statementBackend(
  name: string,
  given?: RangeProof,
): { backend: RangeProof } | { problem: string } {
  const backend = given ?? backendNamed(name);
  if (backend === null) return { problem: `statement: unknown range-proof backend "${name}"` };
  if (backend.name !== name)
    return { problem: `statement: proved with ${name}, not ${backend.name}` };
  return { backend };
}

/** Every range-proof check of an audit: made here, or beforehand by worker threads. */
export interface ProofChecks {
  /** Why leaf `index`'s proofs fail, or null. */
  leaf(index: number): string | null;
  /** Why node `index` of `level`'s sum proofs fail, or null. */
  node(level: number, index: number): string | null;
}

/** The checks of a statement made in this thread, one by one as the audit asks. */
export function proofChecksOf(statement: SolvencyStatement, backend: RangeProof): ProofChecks {
  const { snapshotId, table } = statement;
  return {
    leaf: (index) => leafProblem(snapshotId, table, statement.leaves[index] as LeafProof, backend),
    node: (level, index) => {
      const node = (statement.nodes[level - 1] as readonly NodeProof[])[index] as NodeProof;
      return nodeProblem(snapshotId, table, level, index, node, backend);
    },
  };
}

/** Why a statement's shape is wrong (table, depth, widths, repeated uids), or null. */
export function statementShapeProblem(statement: SolvencyStatement): string | null {
  const { table, depth } = statement;
  const problem = tableProblem(table);
  if (problem !== null) return problem;
  if (!Number.isInteger(depth) || depth < 1 || depth > 40) return 'statement: bad depth';
  if (statement.leaves.length !== 2 ** depth) return 'statement: 2^depth leaves expected';
  if (statement.nodes.length !== depth - 1) return 'statement: one row of nodes per inner level';
  for (let level = 1; level < depth; level++)
    if ((statement.nodes[level - 1] ?? []).length !== 2 ** (depth - level))
      return `statement: level ${level} has the wrong width`;
  const uids = new Set(statement.leaves.map((l) => bytesToHex(l.uid)));
  if (uids.size !== statement.leaves.length) return 'statement: two leaves share a uid';
  return null;
}

/**
 * The full audit of a statement, with the backend it names (or `given`, of that name); null
 * when every proof and sum holds.
 */
export function auditProblem(statement: SolvencyStatement, given?: RangeProof): string | null {
  const chosen = statementBackend(statement.backend, given);
  if ('problem' in chosen) return chosen.problem;
  return (
    statementShapeProblem(statement) ??
    auditWith(statement, proofChecksOf(statement, chosen.backend))
  );
}

/**
 * The audit of a statement of the right shape, its range proofs checked by `checks`: the
 * leaves, then level by level each node's sums against its children's and its proofs, then the
 * root. The first problem in that order, or null.
 */
export function auditWith(statement: SolvencyStatement, checks: ProofChecks): string | null {
  const { snapshotId, depth } = statement;
  const leaves = leafRow(snapshotId, statement.leaves, 0, checks);
  if (typeof leaves === 'string') return leaves;
  const stated = (level: number) => statement.nodes[level - 1] ?? [];
  const root = climb(snapshotId, leaves, 0, depth, stated, 0, checks);
  if (typeof root === 'string') return root;
  return rootCheck(statement, root);
}

/** The root's hash and opened totals against the sums climbed to it. */
export function rootCheck(root: PublicRoot, summed: Summed): string | null {
  if (!equalBytes(summed.hash, root.root.hash)) return 'root: hash differs';
  return rootProblem(root.table, root.root, summed);
}

/**
 * The hashes and sums of leaves (the first at position `first`), each leaf's proofs checked
 * first; or the first problem.
 */
export function leafRow(
  snapshotId: string,
  leaves: readonly LeafProof[],
  first: number,
  checks: ProofChecks,
): Summed[] | string {
  const row: Summed[] = [];
  for (const [i, leaf] of leaves.entries()) {
    const bad = checks.leaf(first + i);
    if (bad !== null) return `leaf ${first + i}: ${bad}`;
    row.push({ hash: leafHash(snapshotId, leaf), equity: leaf.equity, debt: leaf.debt });
  }
  return row;
}

/**
 * Stated nodes of `level` (the first at index `first`) against the sums computed from their
 * children, and their proofs; the first problem, or null.
 */
export function rowProblem(
  level: number,
  computed: readonly Summed[],
  stated: readonly NodeProof[],
  first: number,
  checks: ProofChecks,
): string | null {
  if (stated.length !== computed.length) return `level ${level}: the wrong number of nodes`;
  for (const [i, node] of stated.entries()) {
    const sums = computed[i] as Summed;
    if (!samePoints(node.equity, sums.equity) || !samePoints(node.debt, sums.debt))
      return `node ${level}/${first + i}: sums differ from its children's`;
    const bad = checks.node(level, first + i);
    if (bad !== null) return bad;
  }
  return null;
}

/**
 * A row of level `from` (its first node at index `first`) summed level by level up to `to`;
 * below `to` every level's stated nodes (`stated(level)`, the same span) are checked against
 * the sums and by their proofs. The node reached at `to`, or the first problem.
 */
export function climb(
  snapshotId: string,
  row: readonly Summed[],
  from: number,
  to: number,
  stated: (level: number) => readonly NodeProof[],
  first: number,
  checks: ProofChecks,
): Summed | string {
  let current = row;
  for (let level = from + 1; level <= to; level++) {
    const next: Summed[] = [];
    for (let i = 0; i < current.length / 2; i++)
      next.push(
        parentOf(snapshotId, level, current[2 * i] as Summed, current[2 * i + 1] as Summed),
      );
    if (level < to) {
      const bad = rowProblem(level, next, stated(level), first >> (level - from), checks);
      if (bad !== null) return bad;
    }
    current = next;
  }
  return current[0] as Summed;
}

/** The user's own leaf: uid, openings, proofs; optional balances as the user knows them. */
function ownLeafProblem(
  root: PublicRoot,
  bundle: InclusionBundle,
  accountId: string,
  backend: RangeProof,
  balances?: ReadonlyMap<string, bigint>,
): string | null {
  const { snapshotId, table } = root;
  if (bundle.snapshotId !== snapshotId) return 'bundle: from another snapshot';
  if (bundle.accountId !== accountId) return 'bundle: for another account';
  const uid = accountUid(snapshotId, accountId, bundle.salt);
  if (!equalBytes(uid, bundle.leaf.uid)) return 'bundle: the leaf is not this account’s';
  const { opening, leaf } = bundle;
  const n = table.assets.length;
  const lists = [opening.equity, opening.debt, opening.equityBlinding, opening.debtBlinding];
  if (lists.some((l) => l.length !== n)) return 'bundle: one opening per asset and side';
  for (let i = 0; i < n; i++) {
    const asset = table.assets[i] as (typeof table.assets)[number];
    if (
      !commit(opening.equity[i] as bigint, opening.equityBlinding[i] as bigint).equals(
        leaf.equity[i] as Point,
      )
    )
      return `bundle: ${asset.symbol} equity does not open`;
    if (
      !commit(opening.debt[i] as bigint, opening.debtBlinding[i] as bigint).equals(
        leaf.debt[i] as Point,
      )
    )
      return `bundle: ${asset.symbol} debt does not open`;
    if (balances !== undefined) {
      const units = toProofUnits(asset, balances.get(asset.symbol) ?? 0n);
      if (units.equity !== opening.equity[i] || units.debt !== opening.debt[i])
        return `bundle: ${asset.symbol} differs from the account's balance`;
    }
  }
  const extra = [opening.extra.collateral, opening.extra.liabilities];
  if (opening.extraBlinding.length !== 2 || leaf.extra.length !== 2)
    return 'bundle: two derivatives terms expected';
  for (const [k, side] of EXTRA_SIDES.entries())
    if (
      !commit(extra[k] as bigint, opening.extraBlinding[k] as bigint).equals(leaf.extra[k] as Point)
    )
      return `bundle: derivatives ${side} does not open`;
  return leafProblem(snapshotId, table, leaf, backend);
}

/**
 * One user's check of their bundle against the published root (whose `statementDigest` they
 * compare with the venue's signed publication). `balances`, when given, are the user's own
 * signed balances in base units, which the openings must match.
 */
export function bundleProblem(
  root: PublicRoot,
  bundle: InclusionBundle,
  accountId: string,
  given?: RangeProof,
  balances?: ReadonlyMap<string, bigint>,
): string | null {
  const chosen = statementBackend(root.backend, given);
  if ('problem' in chosen) return chosen.problem;
  const { backend } = chosen;
  const problem =
    tableProblem(root.table) ?? ownLeafProblem(root, bundle, accountId, backend, balances);
  if (problem !== null) return problem;
  const { snapshotId, table, depth } = root;
  if (bundle.path.length !== depth) return 'bundle: the path must have one step per level';
  if (!Number.isInteger(bundle.index) || bundle.index < 0 || bundle.index >= 2 ** depth)
    return 'bundle: leaf index out of range';
  let at = bundle.index;
  let current: Summed = {
    hash: leafHash(snapshotId, bundle.leaf),
    equity: bundle.leaf.equity,
    debt: bundle.leaf.debt,
  };
  for (const [level, step] of bundle.path.entries()) {
    let sibling: Summed;
    if (level === 0) {
      if (step.kind !== 'leaf') return 'bundle: the first sibling must be a leaf';
      const leaf: LeafProof = step.leaf;
      const bad = leafProblem(snapshotId, table, leaf, backend, false);
      if (bad !== null) return `sibling leaf: ${bad}`;
      sibling = { hash: leafHash(snapshotId, leaf), equity: leaf.equity, debt: leaf.debt };
    } else {
      if (step.kind !== 'node') return 'bundle: siblings above the leaves must be nodes';
      const bad = nodeProblem(snapshotId, table, level, at ^ 1, step.node, backend);
      if (bad !== null) return bad;
      sibling = { hash: step.hash, equity: step.node.equity, debt: step.node.debt };
    }
    const left = (at & 1) === 0 ? current : sibling;
    const right = (at & 1) === 0 ? sibling : current;
    current = parentOf(snapshotId, level + 1, left, right);
    at >>= 1;
  }
  if (!equalBytes(current.hash, root.root.hash)) return 'bundle: the path does not reach the root';
  return rootProblem(table, root.root, current);
}
