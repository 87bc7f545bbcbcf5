import { beforeAll, describe, expect, it } from 'vitest';
import {
  accountUid,
  auditProblem,
  leafOpening,
  proveLeafUnchecked,
  buildSolvencyTree,
  type BuiltTree,
  bundleProblem,
  commit,
  G,
  H,
  type InclusionBundle,
  type NodeProof,
  nodeTranscript,
  type PublicRoot,
  sigmaRangeProof,
  type SolvencyStatement,
  statementDigest,
} from '../../src/solvency/index.js';
import { BACKEND, ETH, SECRET, tableOf, units, USDC, FORGER } from './helpers.js';

const SNAP = 'venue-1@seq:2000';
const table = tableOf([ETH, USDC]);
const ACCOUNTS = [
  { accountId: 'alice', balances: new Map([units('ETH', 3, 18), units('USDC', -2_000, 6)]) },
  { accountId: 'bob', balances: new Map([units('USDC', 5_000, 6)]) },
  { accountId: 'carol', balances: new Map([units('ETH', 1, 18)]) },
];

let tree: BuiltTree;
let other: BuiltTree;
const publicRoot = (s: SolvencyStatement): PublicRoot => ({
  snapshotId: s.snapshotId,
  backend: s.backend,
  table: s.table,
  depth: s.depth,
  root: s.root,
});
const bundle = (id: string, t = tree): InclusionBundle => {
  const b = t.bundles.get(id);
  if (b === undefined) throw new Error(`no bundle for ${id}`);
  return b;
};

beforeAll(() => {
  tree = buildSolvencyTree(SNAP, table, ACCOUNTS, SECRET, BACKEND);
  other = buildSolvencyTree('venue-1@seq:1999', table, ACCOUNTS, SECRET, BACKEND);
}, 120_000);

describe('liabilities tree', () => {
  it('builds a padded tree that passes the full audit, with per-asset totals opened', () => {
    const s = tree.statement;
    expect(s.depth).toBe(2);
    expect(s.leaves.length).toBe(4);
    expect(auditProblem(s, BACKEND)).toBeNull();
    // Totals per asset in proof units (ETH in gwei, USDC in base units), never netted.
    expect(s.root.equityTotal).toEqual([4n * 10n ** 9n, 5_000n * 10n ** 6n]);
    expect(s.root.debtTotal).toEqual([0n, 2_000n * 10n ** 6n]);
    expect(statementDigest(publicRoot(s)).length).toBe(32);
  }, 60_000);

  it('every account verifies its bundle against the root', () => {
    for (const a of ACCOUNTS) {
      const b = bundle(a.accountId);
      expect(
        bundleProblem(publicRoot(tree.statement), b, a.accountId, BACKEND, a.balances),
      ).toBeNull();
    }
  }, 60_000);

  it('is deterministic in the secret and snapshot', () => {
    expect(tree.statement.root.hash).not.toEqual(other.statement.root.hash);
  });

  it('two users on one leaf: a bundle shown to another account is rejected', () => {
    const root = publicRoot(tree.statement);
    const alices = bundle('alice');
    expect(bundleProblem(root, { ...alices, accountId: 'bob' }, 'bob', BACKEND)).toMatch(
      /not this account/,
    );
    expect(bundleProblem(root, alices, 'bob', BACKEND)).toMatch(/another account/);
    // Bob's true balances against Alice's openings.
    const bobs = ACCOUNTS[1]?.balances;
    expect(bundleProblem(root, alices, 'alice', BACKEND, bobs)).toMatch(/differs/);
  });

  it('snapshot replay: a bundle or statement of another snapshot is rejected', () => {
    const root = publicRoot(tree.statement);
    expect(bundleProblem(root, bundle('alice', other), 'alice', BACKEND)).toMatch(
      /another snapshot/,
    );
    const relabelled = { ...bundle('alice', other), snapshotId: SNAP };
    expect(bundleProblem(root, relabelled, 'alice', BACKEND)).not.toBeNull();
    const replayed = { ...other.statement, snapshotId: SNAP };
    expect(auditProblem(replayed, BACKEND)).not.toBeNull();
  });

  it('a leaf from another snapshot is rejected by the audit and on a path', () => {
    const s = tree.statement;
    const index = bundle('bob').index;
    const foreign = other.statement.leaves[bundle('bob', other).index];
    if (foreign === undefined) throw new Error('no leaf');
    const leaves = s.leaves.map((l, i) => (i === index ? foreign : l));
    expect(auditProblem({ ...s, leaves }, BACKEND)).toMatch(/leaf/);
    // Shown as Alice's sibling, whichever leaf it replaces.
    const alice = bundle('alice');
    const path = [{ kind: 'leaf' as const, leaf: foreign }, ...alice.path.slice(1)];
    expect(bundleProblem(publicRoot(s), { ...alice, path }, 'alice', BACKEND)).not.toBeNull();
  });

  it('a tampered sibling proof or hash is rejected', () => {
    const alice = bundle('alice');
    const step = alice.path[1];
    if (step?.kind !== 'node') throw new Error('expected a node');
    const proofs = step.node.equityProofs.map((p) => p.slice());
    const first = proofs[0] as Uint8Array;
    first[40] = (first[40] as number) ^ 1;
    const node = { ...step.node, equityProofs: proofs };
    const path = [alice.path[0], { ...step, node }] as typeof alice.path;
    expect(bundleProblem(publicRoot(tree.statement), { ...alice, path }, 'alice', BACKEND)).toMatch(
      /range proof/,
    );
    const hash = step.hash.slice();
    hash[0] = (hash[0] as number) ^ 1;
    const path2 = [alice.path[0], { ...step, hash }] as typeof alice.path;
    expect(
      bundleProblem(publicRoot(tree.statement), { ...alice, path: path2 }, 'alice', BACKEND),
    ).toMatch(/root/);
  });

  it('a sibling with a negative sum is rejected (its forced range proof fails)', () => {
    const alice = bundle('alice');
    const step = alice.path[1];
    if (step?.kind !== 'node') throw new Error('expected a node');
    const index = (alice.index >> 1) ^ 1;
    // The venue hides 10 ETH of liabilities with a sibling subtree summing to −10 ETH.
    const negative = commit(-(10n * 10n ** 9n), 77n);
    const t = nodeTranscript(SNAP, 1, index, 'equity', 'ETH');
    const forged = FORGER.prove(-(10n * 10n ** 9n), 77n, 64, t, SECRET);
    const node: NodeProof = {
      ...step.node,
      equity: [negative, ...step.node.equity.slice(1)],
      equityProofs: [forged, ...step.node.equityProofs.slice(1)],
    };
    const path = [alice.path[0], { ...step, node }] as typeof alice.path;
    expect(bundleProblem(publicRoot(tree.statement), { ...alice, path }, 'alice', BACKEND)).toMatch(
      /ETH equity sum range proof/,
    );
  });

  it('value shifting between siblings is rejected: the parent hashes both children sums', () => {
    const s = tree.statement;
    const row = s.nodes[0] as readonly NodeProof[];
    const shift = commit(10n ** 9n, 5n);
    const [left, right] = row as [NodeProof, NodeProof];
    // Both shifted sums still non-negative, with honest range proofs; the parent sum unchanged.
    const reprove = (node: NodeProof, index: number, delta: 1n | -1n): NodeProof => {
      const equity = [
        delta === 1n
          ? (node.equity[0] as typeof shift).add(shift)
          : (node.equity[0] as typeof shift).subtract(shift),
        ...node.equity.slice(1),
      ];
      return {
        ...node,
        equity,
        equityProofs: [
          sigmaRangeProof.prove(
            0n,
            0n,
            64,
            nodeTranscript(SNAP, 1, index, 'equity', 'ETH'),
            SECRET,
          ),
          ...node.equityProofs.slice(1),
        ],
      };
    };
    const shifted = { ...s, nodes: [[reprove(left, 0, 1n), reprove(right, 1, -1n)]] };
    expect(auditProblem(shifted, BACKEND)).toMatch(/sums differ/);
    // On a path: the sibling shown with more (or less) than it holds changes the parent's hash.
    const alice = bundle('alice');
    const step = alice.path[1];
    if (step?.kind !== 'node') throw new Error('expected a node');
    const moved = {
      ...step.node,
      equity: [(step.node.equity[0] as typeof shift).subtract(shift), ...step.node.equity.slice(1)],
    };
    const path = [alice.path[0], { ...step, node: moved }] as typeof alice.path;
    expect(bundleProblem(publicRoot(s), { ...alice, path }, 'alice', BACKEND)).not.toBeNull();
  });

  it('a dummy with debt in one asset and equity in another cannot enter the tree', () => {
    const dummy = {
      accountId: 'dummy',
      balances: new Map([units('ETH', -1, 18), units('USDC', 1_000, 6)]),
    };
    expect(() => buildSolvencyTree(SNAP, table, [...ACCOUNTS, dummy], SECRET, BACKEND)).toThrow(
      /dummy.*maintenance/,
    );
  });

  it('a dummy leaf forced into the tree (a padding slot) fails the audit', () => {
    const s = tree.statement;
    const used = new Set([...tree.bundles.values()].map((b) => b.index));
    const slot = [0, 1, 2, 3].find((i) => !used.has(i)) as number;
    const uid = accountUid(SNAP, 'dummy', new Uint8Array(32).fill(9));
    const dummy = new Map([units('ETH', -1, 18), units('USDC', 1_000, 6)]);
    const opening = leafOpening(table, dummy, SNAP, uid, SECRET);
    const leaf = proveLeafUnchecked(SNAP, table, uid, opening, SECRET, FORGER);
    const leaves = s.leaves.map((l, i) => (i === slot ? leaf : l));
    expect(auditProblem({ ...s, leaves }, BACKEND)).toMatch(
      new RegExp(`leaf ${slot}: leaf: surplus`),
    );
  });

  it('opened totals that do not match the root are rejected', () => {
    const s = tree.statement;
    const root = {
      ...s.root,
      equityTotal: [s.root.equityTotal[0] as bigint, (s.root.equityTotal[1] as bigint) - 1n],
    };
    expect(auditProblem({ ...s, root }, BACKEND)).toMatch(/does not open/);
    expect(G.equals(H)).toBe(false);
  });
});
