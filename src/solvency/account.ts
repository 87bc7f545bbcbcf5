/**
 * One sub-account's statement (a leaf of the liabilities tree) at a snapshot: commitments to its
 * equity E[a] and debt D[a] in proof units for every asset of the table (zeros included, so the
 * pattern of holdings stays hidden), a 64-bit range proof on each, and a 128-bit range proof on
 * the maintenance surplus computed from the commitments by anyone:
 *
 *   C_S = Σ_a f_c[a]·CE[a] − Σ_a f_l[a]·CD[a]  commits to  S = Σ f_c·E − Σ f_l·D
 *
 * with blinding Σ f_c·rE − Σ f_l·rD. S ≥ 0 is maintenance health ≥ 1 at the table's prices and
 * weights; `table.ts` gives the bounds under which a negative S cannot pass. The prover refuses
 * an account whose S is negative. The leaf is bound to its user id commitment `uid`, which
 * appears in every transcript context, and to the snapshot id.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { assert } from './assert.js';
import { commit, deriveScalar, hashParts, mod, mul, type Point, encodePoint } from './group.js';
import { firstRangeProblem, type RangeCheck, type RangeProof } from './rangeProof.js';
import {
  BALANCE_BITS,
  type ProofTable,
  SURPLUS_BITS,
  tableDigest,
  tableFactors,
  tableProblem,
  toProofUnits,
} from './table.js';
import { Transcript } from './transcript.js';

export interface LeafProof {
  /** SHA-256 commitment to the account id (with a per-snapshot salt); random for padding. */
  readonly uid: Uint8Array;
  readonly equity: readonly Point[];
  readonly debt: readonly Point[];
  readonly equityProofs: readonly Uint8Array[];
  readonly debtProofs: readonly Uint8Array[];
  /** Commitments to the derivatives terms X (collateral side) and Y (liability side). */
  readonly extra: readonly Point[];
  /** 128-bit range proofs on X and Y. */
  readonly extraProofs: readonly Uint8Array[];
  readonly surplusProof: Uint8Array;
}

/** What opens per-asset sum commitments (a leaf's balances, a node's sums). */
export interface SumOpening {
  readonly equity: readonly bigint[];
  readonly debt: readonly bigint[];
  readonly equityBlinding: readonly bigint[];
  readonly debtBlinding: readonly bigint[];
}

/**
 * A sub-account's derivatives terms at maintenance, in surplus units (quote × 10^priceExponent
 * × WEIGHT_SCALE): X, the weighted positive profit, rounded down; Y, losses and requirements,
 * rounded up. Zero for an account without derivatives.
 */
export interface ExtraTerms {
  readonly collateral: bigint;
  readonly liabilities: bigint;
}

export const NO_EXTRA_TERMS: ExtraTerms = { collateral: 0n, liabilities: 0n };

/** What opens a leaf's commitments: given to its owner only. */
export interface LeafOpening extends SumOpening {
  readonly extra: ExtraTerms;
  /** Blindings of X and Y. */
  readonly extraBlinding: readonly bigint[];
}

/** Derivatives terms are proven in [0, 2^EXTRA_BITS). */
export const EXTRA_BITS = 128;
/** The two derivatives terms, in the order of `extra`. */
export const EXTRA_SIDES = ['collateral', 'liabilities'] as const;

export type Side = 'equity' | 'debt';

/** The prover's refusal: the account is below maintenance at the proof table. */
export class SolvencyRefusal extends Error {
  override readonly name = 'SolvencyRefusal';
}

/** Why the prover refuses an account. */
export const BELOW_MAINTENANCE =
  'solvency: the account is below maintenance at the proof table; no proof is made';

/** The transcript of one balance's range proof in a leaf. */
export function leafTranscript(snapshotId: string, uid: Uint8Array, side: Side, symbol: string) {
  return Transcript.start(snapshotId, ['leaf-balance', bytesToHex(uid), side, symbol]);
}

/** The transcript of one derivatives term's range proof in a leaf. */
export function extraTranscript(snapshotId: string, uid: Uint8Array, side: string) {
  return Transcript.start(snapshotId, ['leaf-derivatives', bytesToHex(uid), side]);
}

/** The transcript of a leaf's surplus proof: bound to the table as well. */
export function surplusTranscript(snapshotId: string, uid: Uint8Array, table: ProofTable) {
  return Transcript.start(snapshotId, [
    'leaf-surplus',
    bytesToHex(uid),
    bytesToHex(tableDigest(table)),
  ]);
}

/** The user id commitment of an account. */
export function accountUid(snapshotId: string, accountId: string, salt: Uint8Array): Uint8Array {
  return hashParts('uid', [snapshotId, accountId, salt]);
}

/** S = Σ f_c·E − Σ f_l·D + X − Y, as an integer. */
export function surplusValue(table: ProofTable, opening: LeafOpening): bigint {
  const f = tableFactors(table);
  let s = opening.extra.collateral - opening.extra.liabilities;
  table.assets.forEach((_, i) => {
    s += (f.collateral[i] as bigint) * (opening.equity[i] as bigint);
    s -= (f.liability[i] as bigint) * (opening.debt[i] as bigint);
  });
  return s;
}

/** C_S from a leaf's commitments: Σ f_c·CE − Σ f_l·CD + CX − CY. */
export function surplusCommitment(
  table: ProofTable,
  equity: readonly Point[],
  debt: readonly Point[],
  extra: readonly Point[],
): Point {
  const f = tableFactors(table);
  let c = (extra[0] as Point).subtract(extra[1] as Point);
  table.assets.forEach((_, i) => {
    c = c.add(mul(equity[i] as Point, f.collateral[i] as bigint));
    c = c.subtract(mul(debt[i] as Point, f.liability[i] as bigint));
  });
  return c;
}

/**
 * The opening of an account's balances (signed, base units, by symbol; absent = 0) with
 * blindings derived from the secret and the leaf's uid.
 */
export function leafOpening(
  table: ProofTable,
  balances: ReadonlyMap<string, bigint>,
  snapshotId: string,
  uid: Uint8Array,
  secret: Uint8Array,
  extra: ExtraTerms = NO_EXTRA_TERMS,
): LeafOpening {
  const limit = 1n << BigInt(EXTRA_BITS);
  assert(
    extra.collateral >= 0n && extra.collateral < limit && extra.liabilities >= 0n,
    'solvency: a derivatives term out of range',
  );
  assert(extra.liabilities < limit, 'solvency: a derivatives term reaches 2^128 surplus units');
  const listed = new Set(table.assets.map((a) => a.symbol));
  for (const [symbol, amount] of balances) {
    // A balance the table leaves out would drop a debt from the statement: refused.
    if (amount !== 0n && !listed.has(symbol))
      throw new Error(`solvency: ${symbol} is held but not in the proof table`);
  }
  const units = table.assets.map((a) => toProofUnits(a, balances.get(a.symbol) ?? 0n));
  const blind = (side: Side, symbol: string) =>
    deriveScalar(secret, [snapshotId, 'blinding', uid, side, symbol]);
  return {
    equity: units.map((u) => u.equity),
    debt: units.map((u) => u.debt),
    equityBlinding: table.assets.map((a) => blind('equity', a.symbol)),
    debtBlinding: table.assets.map((a) => blind('debt', a.symbol)),
    extra,
    extraBlinding: EXTRA_SIDES.map((side) =>
      deriveScalar(secret, [snapshotId, 'blinding', uid, 'derivatives', side]),
    ),
  };
}

/** X and Y of an opening, in the order of {@link EXTRA_SIDES}. */
const extraValues = (o: LeafOpening) => [o.extra.collateral, o.extra.liabilities];

/**
 * A leaf's proofs without the refusal of {@link proveLeaf}: what a venue that cheats can
 * build (a negative surplus gets a proof that does not verify). Only tests call it directly.
 */
export function proveLeafUnchecked(
  snapshotId: string,
  table: ProofTable,
  uid: Uint8Array,
  opening: LeafOpening,
  secret: Uint8Array,
  backend: RangeProof,
): LeafProof {
  const prove = (side: Side, values: readonly bigint[], blindings: readonly bigint[]) =>
    table.assets.map((a, i) =>
      backend.prove(
        values[i] as bigint,
        blindings[i] as bigint,
        BALANCE_BITS,
        leafTranscript(snapshotId, uid, side, a.symbol),
        secret,
      ),
    );
  const f = tableFactors(table);
  const [rX, rY] = opening.extraBlinding as [bigint, bigint];
  let blinding = rX - rY;
  table.assets.forEach((_, i) => {
    blinding += (f.collateral[i] as bigint) * (opening.equityBlinding[i] as bigint);
    blinding -= (f.liability[i] as bigint) * (opening.debtBlinding[i] as bigint);
  });
  const surplus = surplusValue(table, opening);
  const extra = extraValues(opening);
  return {
    uid,
    equity: opening.equity.map((v, i) => commit(v, opening.equityBlinding[i] as bigint)),
    debt: opening.debt.map((v, i) => commit(v, opening.debtBlinding[i] as bigint)),
    equityProofs: prove('equity', opening.equity, opening.equityBlinding),
    debtProofs: prove('debt', opening.debt, opening.debtBlinding),
    extra: extra.map((v, k) => commit(v, opening.extraBlinding[k] as bigint)),
    extraProofs: EXTRA_SIDES.map((side, k) =>
      backend.prove(
        extra[k] as bigint,
        opening.extraBlinding[k] as bigint,
        EXTRA_BITS,
        extraTranscript(snapshotId, uid, side),
        secret,
      ),
    ),
    surplusProof: backend.prove(
      surplus,
      mod(blinding),
      SURPLUS_BITS,
      surplusTranscript(snapshotId, uid, table),
      secret,
    ),
  };
}

/** A leaf's proofs; refuses ({@link SolvencyRefusal}) an account below maintenance at the table. */
export function proveLeaf(
  snapshotId: string,
  table: ProofTable,
  uid: Uint8Array,
  opening: LeafOpening,
  secret: Uint8Array,
  backend: RangeProof,
): LeafProof {
  const problem = tableProblem(table);
  if (problem !== null) throw new Error(problem);
  if (surplusValue(table, opening) < 0n) throw new SolvencyRefusal(BELOW_MAINTENANCE);
  return proveLeafUnchecked(snapshotId, table, uid, opening, secret, backend);
}

/**
 * Why a leaf does not verify (shape, a balance's range proof, the surplus proof), or null.
 * `surplus: false` skips the surplus proof (a sibling on a user's path needs only its ranges).
 */
export function leafProblem(
  snapshotId: string,
  table: ProofTable,
  leaf: LeafProof,
  backend: RangeProof,
  surplus = true,
): string | null {
  const n = table.assets.length;
  if (leaf.uid.length !== 32) return 'leaf: uid must have 32 bytes';
  if ([leaf.equity, leaf.debt, leaf.equityProofs, leaf.debtProofs].some((l) => l.length !== n))
    return 'leaf: one commitment and proof per asset and side';
  const checks: RangeCheck[] = [];
  table.assets.forEach(({ symbol }, i) => {
    for (const side of ['equity', 'debt'] as const) {
      checks.push({
        commitment: (side === 'equity' ? leaf.equity : leaf.debt)[i] as Point,
        proof: (side === 'equity' ? leaf.equityProofs : leaf.debtProofs)[i] as Uint8Array,
        bits: BALANCE_BITS,
        transcript: () => leafTranscript(snapshotId, leaf.uid, side, symbol),
        problem: `leaf: ${symbol} ${side} range proof`,
      });
    }
  });
  if (surplus) {
    if (leaf.extra.length !== 2 || leaf.extraProofs.length !== 2)
      return 'leaf: two derivatives terms and their proofs';
    EXTRA_SIDES.forEach((side, k) =>
      checks.push({
        commitment: leaf.extra[k] as Point,
        proof: leaf.extraProofs[k] as Uint8Array,
        bits: EXTRA_BITS,
        transcript: () => extraTranscript(snapshotId, leaf.uid, side),
        problem: `leaf: derivatives ${side} range proof`,
      }),
    );
    checks.push({
      commitment: surplusCommitment(table, leaf.equity, leaf.debt, leaf.extra),
      proof: leaf.surplusProof,
      bits: SURPLUS_BITS,
      transcript: () => surplusTranscript(snapshotId, leaf.uid, table),
      problem: 'leaf: surplus proof',
    });
  }
  return firstRangeProblem(backend, checks);
}

/** The leaf's hash: snapshot, uid and every commitment. */
export function leafHash(snapshotId: string, leaf: LeafProof): Uint8Array {
  return hashParts('leaf', [
    snapshotId,
    leaf.uid,
    ...leaf.equity.map(encodePoint),
    ...leaf.debt.map(encodePoint),
    'derivatives',
    ...leaf.extra.map(encodePoint),
  ]);
}
