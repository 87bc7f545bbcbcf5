/**
 * The Bulletproofs backend: completeness (single and aggregated proofs across the range), and
 * soundness the way the reference backend is tested: a tampered byte anywhere, another
 * commitment, another transcript context or snapshot, a value of 2^64, a negative value, forged
 * proofs of both (the witness's digits truncated, or one digit that is no bit), non-canonical
 * encodings; aggregation; batch verification (a tampered proof, errors that would cancel, a
 * forged proof among honest ones); the multi-scalar multiplication against single ones.
 */
import { describe, expect, it } from 'vitest';
import {
  bulletproofsRangeProof,
  commit,
  G,
  H,
  ORDER,
  type Point,
  Transcript,
} from '../../src/solvency/index.js';
import {
  BULLETPROOFS_DST,
  forgeRanges,
  proofBytes,
  proveRanges,
  validShape,
  verifyRanges,
  verifyRangesBatch,
} from '../../src/solvency/bulletproofs.js';
import { baseOf, isBase, msm } from '../../src/solvency/msm.js';
import { firstRangeProblem } from '../../src/solvency/rangeProof.js';

const SECRET = new Uint8Array(32).fill(7);
const t = (context = 'test', snapshot = 'snap-1') => Transcript.start(snapshot, [context]);
const BP = bulletproofsRangeProof;

/** Scalar i of a proof (little-endian), and the proof with it replaced. */
function withScalar(proof: Uint8Array, index: number, to: (s: bigint) => bigint): Uint8Array {
  const at = 32 * index;
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(proof[at + i] as number);
  const v = to(s);
  const out = proof.slice();
  for (let i = 0; i < 32; i++) out[at + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

describe('Bulletproofs range proof, one value', () => {
  it('proves and verifies values across the range, 64 and 128 bits (672 and 736 bytes)', () => {
    for (const v of [0n, 1n, 12345678901234567n, (1n << 64n) - 1n]) {
      const proof = BP.prove(v, 99n, 64, t(), SECRET);
      expect(proof.length).toBe(672);
      expect(BP.verify(commit(v, 99n), proof, 64, t())).toBe(true);
    }
    const big = (1n << 128n) - 1n;
    const proof = BP.prove(big, ORDER - 5n, 128, t(), SECRET);
    expect(proof.length).toBe(BP.size(128));
    expect(BP.size(128)).toBe(736);
    expect(BP.verify(commit(big, ORDER - 5n), proof, 128, t())).toBe(true);
  });

  it('rejects a tampered proof: a flipped bit in every element, truncated, other commitment', () => {
    const proof = BP.prove(42n, 7n, 64, t(), SECRET);
    for (let element = 0; element < proof.length / 32; element++) {
      for (const at of [32 * element, 32 * element + 17]) {
        const bad = proof.slice();
        bad[at] = (bad[at] as number) ^ 1;
        expect(BP.verify(commit(42n, 7n), bad, 64, t()), `element ${element}`).toBe(false);
      }
    }
    expect(BP.verify(commit(42n, 7n), proof.subarray(32), 64, t())).toBe(false);
    expect(BP.verify(commit(42n, 7n), new Uint8Array([...proof, 0]), 64, t())).toBe(false);
    expect(BP.verify(commit(43n, 7n), proof, 64, t())).toBe(false);
    expect(BP.verify(commit(42n, 8n), proof, 64, t())).toBe(false);
    // The same proof checked as a 32-bit or 128-bit proof.
    expect(BP.verify(commit(42n, 7n), proof, 32, t())).toBe(false);
    expect(BP.verify(commit(42n, 7n), proof, 128, t())).toBe(false);
  });

  it('rejects a proof in another transcript context or snapshot', () => {
    const proof = BP.prove(42n, 7n, 64, t('a'), SECRET);
    expect(BP.verify(commit(42n, 7n), proof, 64, t('a'))).toBe(true);
    expect(BP.verify(commit(42n, 7n), proof, 64, t('b'))).toBe(false);
    expect(BP.verify(commit(42n, 7n), proof, 64, t('a', 'snap-2'))).toBe(false);
  });

  it('refuses to prove 2^64 or a negative value', () => {
    expect(() => BP.prove(1n << 64n, 1n, 64, t(), SECRET)).toThrow(/out of range/);
    expect(() => BP.prove(-1n, 1n, 64, t(), SECRET)).toThrow(/out of range/);
    expect(() => BP.prove(5n, 1n, 48, t(), SECRET)).toThrow(/bits/);
  });

  it('rejects forged proofs of 2^64, values above it and negative values', () => {
    for (const v of [1n << 64n, (1n << 64n) + 5n, -1n, -(1n << 40n), ORDER - 1n]) {
      for (const strategy of ['truncate', 'carry'] as const) {
        const proof = forgeRanges([v], [3n], 64, t(), SECRET, strategy);
        expect(BP.verify(commit(v, 3n), proof, 64, t()), `${v} ${strategy}`).toBe(false);
      }
    }
  });

  it('rejects non-canonical scalars and points', () => {
    const proof = BP.prove(5n, 7n, 8, t(), SECRET);
    expect(BP.verify(commit(5n, 7n), proof, 8, t())).toBe(true);
    // τx, μ, t̂, a, b plus ℓ: the same scalars mod ℓ, not canonical.
    const scalars = [4, 5, 6, proof.length / 32 - 2, proof.length / 32 - 1];
    for (const index of scalars) {
      const bad = withScalar(proof, index, (s) => s + ORDER);
      expect(BP.verify(commit(5n, 7n), bad, 8, t())).toBe(false);
    }
    const notAPoint = proof.slice();
    notAPoint.fill(0xff, 0, 32);
    expect(BP.verify(commit(5n, 7n), notAPoint, 8, t())).toBe(false);
  });
});

describe('Bulletproofs, aggregated', () => {
  const values = [5n, 0n, (1n << 64n) - 1n, 77n];
  const blindings = [1n, 2n, 3n, ORDER - 1n];
  const commitments = values.map((v, i) => commit(v, blindings[i] as bigint));

  it('one proof of 4 values of 64 bits (800 bytes), bound to every commitment and its order', () => {
    const proof = proveRanges(values, blindings, 64, t(), SECRET);
    expect(proof.length).toBe(proofBytes(64, 4));
    expect(proof.length).toBe(32 * (9 + 2 * 8));
    expect(verifyRanges(commitments, proof, 64, t())).toBe(true);
    const swapped = [commitments[1], commitments[0], ...commitments.slice(2)] as Point[];
    expect(verifyRanges(swapped, proof, 64, t())).toBe(false);
    expect(verifyRanges(commitments.slice(0, 2), proof, 64, t())).toBe(false);
    expect(verifyRanges(commitments, proof, 64, t('other'))).toBe(false);
  });

  it('one value out of range spoils the whole aggregate', () => {
    const bad = [values[0], -1n, values[2], values[3]] as bigint[];
    expect(() => proveRanges(bad, blindings, 64, t(), SECRET)).toThrow(/out of range/);
    const mine = bad.map((v, i) => commit(v, blindings[i] as bigint));
    for (const strategy of ['truncate', 'carry'] as const) {
      const forged = forgeRanges(bad, blindings, 64, t(), SECRET, strategy);
      expect(verifyRanges(mine, forged, 64, t())).toBe(false);
    }
    const high = [1n << 64n, ...values.slice(1)];
    const forged = forgeRanges(high, blindings, 64, t(), SECRET, 'carry');
    const theirs = high.map((v, i) => commit(v, blindings[i] as bigint));
    expect(verifyRanges(theirs, forged, 64, t())).toBe(false);
  });

  it('takes powers of two only, up to the generators it has', () => {
    expect(validShape(64, 16)).toBe(true);
    expect(validShape(64, 32)).toBe(true);
    expect(validShape(64, 64)).toBe(false);
    expect(validShape(64, 3)).toBe(false);
    expect(validShape(48, 1)).toBe(false);
    expect(verifyRanges(commitments.slice(0, 3), new Uint8Array(0), 64, t())).toBe(false);
    expect(BULLETPROOFS_DST).toBe('fulcrum/solvency/v1/bulletproofs');
  });
});

describe('Bulletproofs, batch verification', () => {
  const items = [
    { v: 5n, r: 1n, bits: 64, context: 'a' },
    { v: (1n << 64n) - 1n, r: 2n, bits: 64, context: 'b' },
    { v: 1n << 100n, r: ORDER - 3n, bits: 128, context: 'c' },
  ].map((i) => ({ ...i, proof: BP.prove(i.v, i.r, i.bits, t(i.context), SECRET) }));
  const batch = (list: typeof items, commitments = list.map((i) => commit(i.v, i.r))) =>
    verifyRangesBatch(
      list.map((i, k) => ({
        commitments: [commitments[k] as Point],
        proof: i.proof,
        bits: i.bits,
        transcript: t(i.context),
      })),
    );

  it('accepts proofs of different sizes and contexts together', () => {
    expect(batch(items)).toBe(true);
    expect(batch([])).toBe(true);
  });

  it('rejects a batch with one tampered proof, and the one-by-one pass names it', () => {
    const bad = items.map((i, k) => {
      if (k !== 1) return i;
      const proof = i.proof.slice();
      proof[200] = (proof[200] as number) ^ 4;
      return { ...i, proof };
    });
    expect(batch(bad)).toBe(false);
    const checks = bad.map((i) => ({
      commitment: commit(i.v, i.r),
      proof: i.proof,
      bits: i.bits,
      transcript: () => t(i.context),
      problem: `proof ${i.context}`,
    }));
    expect(firstRangeProblem(BP, checks)).toBe('proof b');
    expect(firstRangeProblem(BP, checks.slice(2))).toBeNull();
  });

  it('rejects two wrong commitments whose errors would cancel with equal weights', () => {
    const shift = commit(1n, 0n);
    const commitments = items.map((i) => commit(i.v, i.r));
    const moved = [
      (commitments[0] as Point).add(shift),
      (commitments[1] as Point).subtract(shift),
      commitments[2] as Point,
    ];
    expect(batch(items, moved)).toBe(false);
    // A forged proof of 2^64 among honest ones.
    const forged = { v: 1n << 64n, r: 3n, bits: 64, context: 'd' };
    const proof = forgeRanges([forged.v], [forged.r], 64, t('d'), SECRET, 'carry');
    expect(batch([...items, { ...forged, proof }])).toBe(false);
  });
});

describe('multi-scalar multiplication (msm.ts)', () => {
  it('equals the sum of single multiplications, fixed and one-off bases, scalars of every size', () => {
    const scalars = [
      0n,
      1n,
      2n,
      31n,
      32n,
      33n,
      63n,
      64n,
      65n,
      (1n << 200n) - 1n,
      ORDER - 1n,
      ORDER >> 1n,
      (ORDER >> 1n) + 1n,
      ORDER + 5n,
      -7n,
    ];
    const bases = [baseOf(G), H, baseOf(H), G.add(H)];
    for (const k of scalars) {
      const terms = bases.map((b, i) => [b, k + BigInt(i)] as const);
      let expected = commit(0n, 0n);
      bases.forEach((b, i) => {
        const point = isBase(b) ? b.point : b;
        const scalar = (((k + BigInt(i)) % ORDER) + ORDER) % ORDER;
        if (scalar !== 0n) expected = expected.add(point.multiplyUnsafe(scalar));
      });
      expect(msm(terms).equals(expected), String(k)).toBe(true);
    }
  });

  it('matches the library on sums of many terms, sums of points and the identity', () => {
    // Points in projective form (sums), fixed tables (affine) and one-off ones, with scalars
    // spread over the whole range, negatives included; a sum that cancels to the identity.
    const points = Array.from({ length: 40 }, (_, i) =>
      G.multiply(BigInt(i + 2) * 7919n).add(H.multiply(BigInt(3 * i + 1))),
    );
    const scalars = points.map((_, i) => ((ORDER / 41n) * BigInt(i + 1) * 37n) % ORDER);
    const terms = points.map(
      (p, i) => [i % 2 === 0 ? baseOf(p) : p, scalars[i] as bigint] as const,
    );
    let expected = commit(0n, 0n);
    points.forEach((p, i) => (expected = expected.add(p.multiplyUnsafe(scalars[i] as bigint))));
    expect(msm(terms).equals(expected)).toBe(true);
    const cancelling = [...terms, ...terms.map(([b, k]) => [b, -k] as const)];
    expect(msm(cancelling).equals(commit(0n, 0n))).toBe(true);
    expect(msm([]).equals(commit(0n, 0n))).toBe(true);
    expect(msm([[G, ORDER - 1n]]).equals(G.negate())).toBe(true);
  });
});
