/**
 * Builds a snapshot's solvency statement and every account's inclusion bundle (see `tree.ts`).
 * Deterministic: every blinding, salt, nonce and leaf position derives from the secret.
 */
import { assert } from '../base/errors.js';
import {
  type LeafOpening,
  type LeafProof,
  type Side,
  accountUid,
  leafHash,
  leafOpening,
  proveLeaf,
} from './account.js';
import { derive, mod, type Point } from './group.js';
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
  readonly open: LeafOpening;
}

export interface BuiltTree {
  readonly statement: SolvencyStatement;
  /** One bundle per account, by account id. */
  readonly bundles: ReadonlyMap<string, InclusionBundle>;
}

function addOpenings(a: LeafOpening, b: LeafOpening): LeafOpening {
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

interface LeafBuild {
  readonly leaves: LeafProof[];
  readonly built: Built[];
  readonly owners: { accountId: string | null; salt: Uint8Array }[];
}

/** The leaves in position order, padding included; refuses an account below maintenance. */
function buildLeaves(
  snapshotId: string,
  table: ProofTable,
  accounts: readonly AccountBalances[],
  depth: number,
  secret: Uint8Array,
  backend: RangeProof,
): LeafBuild {
  const keyed = accounts.map((a) => ({
    a,
    key: derive(secret, [snapshotId, 'position', a.accountId]),
  }));
  keyed.sort((x, y) => compareBytes(x.key, y.key));
  const out: LeafBuild = { leaves: [], built: [], owners: [] };
  const zeros = new Map<string, bigint>();
  for (let p = 0; p < 2 ** depth; p++) {
    const account = keyed[p]?.a;
    const salt =
      account === undefined
        ? derive(secret, [snapshotId, 'padding', String(p)]).slice(0, 32)
        : accountSalt(secret, snapshotId, account.accountId);
    // A padding leaf's uid is a hash like any other: it cannot be told from an account's.
    const uid = accountUid(snapshotId, account?.accountId ?? `padding:${p}`, salt);
    const open = leafOpening(table, account?.balances ?? zeros, snapshotId, uid, secret);
    let leaf: LeafProof;
    try {
      leaf = proveLeaf(snapshotId, table, uid, open, secret, backend);
    } catch (error) {
      if (account === undefined) throw error;
      throw new Error(`solvency: account ${account.accountId}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    out.leaves.push(leaf);
    out.built.push({
      hash: leafHash(snapshotId, leaf),
      equity: leaf.equity,
      debt: leaf.debt,
      open,
    });
    out.owners.push({ accountId: account?.accountId ?? null, salt });
  }
  return out;
}

function compareBytes(x: Uint8Array, y: Uint8Array): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  }
  return x.length - y.length;
}

/** A node's range proofs on its sums. */
function proveNode(
  snapshotId: string,
  table: ProofTable,
  level: number,
  index: number,
  node: Built,
  secret: Uint8Array,
  backend: RangeProof,
): NodeProof {
  const prove = (side: Side, values: readonly bigint[], blindings: readonly bigint[]) =>
    table.assets.map((a, i) =>
      backend.prove(
        values[i] as bigint,
        blindings[i] as bigint,
        BALANCE_BITS,
        nodeTranscript(snapshotId, level, index, side, a.symbol),
        secret,
      ),
    );
  return {
    equity: node.equity,
    debt: node.debt,
    equityProofs: prove('equity', node.open.equity, node.open.equityBlinding),
    debtProofs: prove('debt', node.open.debt, node.open.debtBlinding),
  };
}

/**
 * The statement and bundles of a snapshot. Throws when the table breaks its bounds, an account
 * is below maintenance at the table, a balance or a per-asset total reaches 2^64 proof units, or
 * an account id repeats.
 */
export function buildSolvencyTree(
  snapshotId: string,
  table: ProofTable,
  accounts: readonly AccountBalances[],
  secret: Uint8Array,
  backend: RangeProof,
): BuiltTree {
  const problem = tableProblem(table);
  if (problem !== null) throw new Error(problem);
  const ids = new Set(accounts.map((a) => a.accountId));
  assert(ids.size === accounts.length, 'solvency: an account id repeats');
  const depth = depthFor(accounts.length);
  const { leaves, built, owners } = buildLeaves(
    snapshotId,
    table,
    accounts,
    depth,
    secret,
    backend,
  );
  const levels: Built[][] = [built];
  const nodes: NodeProof[][] = [];
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
  for (let level = 1; level < depth; level++) {
    const row = levels[level] as Built[];
    nodes.push(row.map((node, i) => proveNode(snapshotId, table, level, i, node, secret, backend)));
  }
  const statement: SolvencyStatement = {
    snapshotId,
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
  return { statement, bundles: bundlesOf(statement, levels, owners) };
}

/** Every account's bundle: its opening and the siblings on its path. */
function bundlesOf(
  statement: SolvencyStatement,
  levels: readonly (readonly Built[])[],
  owners: readonly { accountId: string | null; salt: Uint8Array }[],
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
      opening: ((levels[0] as Built[])[index] as Built).open,
      leaf: statement.leaves[index] as LeafProof,
      path,
    });
  });
  return bundles;
}
