/**
 * The liabilities tree of a snapshot: a binary Merkle-sum tree over the accounts' leaves, with
 * per-asset sums of equity and of debt (never netted across assets, nor equity against debt
 * inside a node), kept as Pedersen commitments that add homomorphically.
 *
 * - Leaves sit at positions ordered by HMAC(secret, snapshot, account id): no one learns an
 *   account's neighbours from its id. The tree is padded to 2^depth leaves (depth = ⌈log2 N⌉,
 *   at least 1) with padding leaves that commit to zeros under fresh blindings and carry valid
 *   proofs, indistinguishable from real empty accounts.
 * - A node's hash is SHA-256 over the snapshot id, its level, and both children's hashes and
 *   sum commitments (Maxwell+: value cannot be shifted between siblings).
 * - Every node below the root carries 64-bit range proofs on its 2A sums (DAPOL+): a user who
 *   checks a path knows no sibling subtree has a negative total. The prover refuses a snapshot
 *   whose per-asset totals reach 2^64 proof units, so every honest sum fits.
 * - The root's per-asset totals are opened (values and blindings).
 */
import type { ExtraTerms, LeafOpening, LeafProof, Side } from './account.js';
import { commit, derive, encodePoint, hashParts, type Point } from './group.js';
import { firstRangeProblem, type RangeCheck, type RangeProof } from './rangeProof.js';
import { BALANCE_BITS, type ProofTable, tableDigest } from './table.js';
import { Transcript } from './transcript.js';

export interface NodeProof {
  readonly equity: readonly Point[];
  readonly debt: readonly Point[];
  readonly equityProofs: readonly Uint8Array[];
  readonly debtProofs: readonly Uint8Array[];
}

export interface RootOpening {
  readonly hash: Uint8Array;
  readonly equityTotal: readonly bigint[];
  readonly debtTotal: readonly bigint[];
  readonly equityBlinding: readonly bigint[];
  readonly debtBlinding: readonly bigint[];
}

/** What the venue publishes: everything anyone needs for the full audit. */
export interface SolvencyStatement {
  readonly snapshotId: string;
  /** The range-proof backend every proof of the statement was made with (its name). */
  readonly backend: string;
  readonly table: ProofTable;
  readonly depth: number;
  /** 2^depth leaves in position order, padding included. */
  readonly leaves: readonly LeafProof[];
  /** nodes[l − 1]: the 2^(depth − l) nodes of level l, for 1 ≤ l < depth. */
  readonly nodes: readonly (readonly NodeProof[])[];
  readonly root: RootOpening;
}

/** The part of the statement a user needs beside their bundle. */
export type PublicRoot = Pick<
  SolvencyStatement,
  'snapshotId' | 'backend' | 'table' | 'depth' | 'root'
>;

export type PathStep =
  | { readonly kind: 'leaf'; readonly leaf: LeafProof }
  | { readonly kind: 'node'; readonly hash: Uint8Array; readonly node: NodeProof };

/** One account's inclusion bundle: its openings and the path to the root. */
export interface InclusionBundle {
  readonly snapshotId: string;
  readonly accountId: string;
  readonly salt: Uint8Array;
  readonly index: number;
  readonly opening: LeafOpening;
  readonly leaf: LeafProof;
  /** Siblings from the leaf's level up. */
  readonly path: readonly PathStep[];
}

export interface AccountBalances {
  readonly accountId: string;
  /** Signed balances in base units by symbol (negative = owed); absent symbols are zero. */
  readonly balances: ReadonlyMap<string, bigint>;
  /** The derivatives terms at maintenance (surplus units); none by default. */
  readonly extra?: ExtraTerms;
}

/** A node while it is built or checked: its hash and sum commitments. */
interface Summed {
  readonly hash: Uint8Array;
  readonly equity: readonly Point[];
  readonly debt: readonly Point[];
}

/** The transcript of one sum's range proof in a node. */
export function nodeTranscript(
  snapshotId: string,
  level: number,
  index: number,
  side: Side,
  symbol: string,
) {
  return Transcript.start(snapshotId, ['node-sum', String(level), String(index), side, symbol]);
}

/** The parent of two children: hash over both children's hashes and sums, sums added. */
export function parentOf(snapshotId: string, level: number, left: Summed, right: Summed): Summed {
  const hash = hashParts('node', [
    snapshotId,
    String(level),
    left.hash,
    ...left.equity.map(encodePoint),
    ...left.debt.map(encodePoint),
    right.hash,
    ...right.equity.map(encodePoint),
    ...right.debt.map(encodePoint),
  ]);
  return {
    hash,
    equity: left.equity.map((c, i) => c.add(right.equity[i] as Point)),
    debt: left.debt.map((c, i) => c.add(right.debt[i] as Point)),
  };
}

/**
 * The digest to publish (signed, anchored): snapshot, backend, table, depth, root and its
 * totals.
 */
export function statementDigest(root: PublicRoot): Uint8Array {
  const r = root.root;
  return hashParts('statement', [
    root.snapshotId,
    root.backend,
    tableDigest(root.table),
    String(root.depth),
    r.hash,
    ...[r.equityTotal, r.debtTotal, r.equityBlinding, r.debtBlinding].flat().map(String),
  ]);
}

/** Why a node's range proofs fail, or null. */
export function nodeProblem(
  snapshotId: string,
  table: ProofTable,
  level: number,
  index: number,
  node: NodeProof,
  backend: RangeProof,
): string | null {
  const n = table.assets.length;
  if ([node.equity, node.debt, node.equityProofs, node.debtProofs].some((l) => l.length !== n))
    return `node ${level}/${index}: one sum and proof per asset and side`;
  const checks: RangeCheck[] = [];
  table.assets.forEach(({ symbol }, i) => {
    for (const side of ['equity', 'debt'] as const) {
      checks.push({
        commitment: (side === 'equity' ? node.equity : node.debt)[i] as Point,
        proof: (side === 'equity' ? node.equityProofs : node.debtProofs)[i] as Uint8Array,
        bits: BALANCE_BITS,
        transcript: () => nodeTranscript(snapshotId, level, index, side, symbol),
        problem: `node ${level}/${index}: ${symbol} ${side} sum range proof`,
      });
    }
  });
  return firstRangeProblem(backend, checks);
}

/** The root's totals open its sums, and lie in [0, 2^64). */
export function rootProblem(table: ProofTable, root: RootOpening, summed: Summed): string | null {
  const n = table.assets.length;
  const lists = [root.equityTotal, root.debtTotal, root.equityBlinding, root.debtBlinding];
  if (lists.some((l) => l.length !== n)) return 'root: one total per asset and side';
  const limit = 1n << BigInt(BALANCE_BITS);
  for (let i = 0; i < n; i++) {
    const e = root.equityTotal[i] as bigint;
    const d = root.debtTotal[i] as bigint;
    if (e < 0n || e >= limit || d < 0n || d >= limit) return 'root: a total out of range';
    if (!commit(e, root.equityBlinding[i] as bigint).equals(summed.equity[i] as Point))
      return `root: the equity total of ${(table.assets[i] as { symbol: string }).symbol} does not open`;
    if (!commit(d, root.debtBlinding[i] as bigint).equals(summed.debt[i] as Point))
      return `root: the debt total of ${(table.assets[i] as { symbol: string }).symbol} does not open`;
  }
  return null;
}

/** The per-account salt of a snapshot. */
export function accountSalt(secret: Uint8Array, snapshotId: string, accountId: string) {
  return derive(secret, [snapshotId, 'salt', accountId]).slice(0, 32);
}

export function depthFor(accounts: number): number {
  let depth = 1;
  while (2 ** depth < accounts) depth++;
  return depth;
}
