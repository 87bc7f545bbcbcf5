import { describe, expect, it } from 'vitest';
import { commit, G, H, ORDER, sigmaRangeProof, Transcript } from '../../src/solvency/index.js';
import { forgeRangeProof } from '../../src/solvency/rangeProof.js';

const SECRET = new Uint8Array(32).fill(7);
const t = (context = 'test') => Transcript.start('snap-1', [context]);

describe('Pedersen commitments and generators', () => {
  it('derives G and H by hash-to-curve, distinct and not the identity', () => {
    expect(G.is0()).toBe(false);
    expect(H.is0()).toBe(false);
    expect(G.equals(H)).toBe(false);
  });

  it('adds homomorphically', () => {
    const sum = commit(3n, 5n).add(commit(4n, 6n));
    expect(sum.equals(commit(7n, 11n))).toBe(true);
    expect(commit(-1n, 0n).equals(commit(ORDER - 1n, 0n))).toBe(true);
  });
});

describe('reference range proof (sigma bits)', () => {
  const bits = 64;
  it('proves and verifies values across the range', () => {
    for (const v of [0n, 1n, 12345678901234567n, (1n << 64n) - 1n]) {
      const proof = sigmaRangeProof.prove(v, 99n, bits, t(), SECRET);
      expect(proof.length).toBe(sigmaRangeProof.size(bits));
      expect(sigmaRangeProof.verify(commit(v, 99n), proof, bits, t())).toBe(true);
    }
  });

  it('rejects a tampered proof: every field', () => {
    const proof = sigmaRangeProof.prove(42n, 7n, bits, t(), SECRET);
    for (const at of [0, 33, 70, 100, 128 * 10 + 5, proof.length - 1]) {
      const bad = proof.slice();
      bad[at] = (bad[at] as number) ^ 1;
      expect(sigmaRangeProof.verify(commit(42n, 7n), bad, bits, t())).toBe(false);
    }
    expect(sigmaRangeProof.verify(commit(42n, 7n), proof.subarray(1), bits, t())).toBe(false);
    expect(sigmaRangeProof.verify(commit(43n, 7n), proof, bits, t())).toBe(false);
  });

  it('rejects a proof in the wrong transcript context or snapshot', () => {
    const proof = sigmaRangeProof.prove(42n, 7n, bits, t('a'), SECRET);
    expect(sigmaRangeProof.verify(commit(42n, 7n), proof, bits, t('b'))).toBe(false);
    const other = Transcript.start('snap-2', ['a']);
    expect(sigmaRangeProof.verify(commit(42n, 7n), proof, bits, other)).toBe(false);
  });

  it('refuses to prove an out-of-range or negative value', () => {
    expect(() => sigmaRangeProof.prove(1n << 64n, 1n, bits, t(), SECRET)).toThrow(/out of range/);
    expect(() => sigmaRangeProof.prove(-1n, 1n, bits, t(), SECRET)).toThrow(/out of range/);
  });

  it('rejects forged proofs of out-of-range and negative values', () => {
    for (const v of [1n << 64n, (1n << 64n) + 5n, -1n, -(1n << 40n), ORDER - 1n]) {
      for (const strategy of ['truncate', 'carry'] as const) {
        const proof = forgeRangeProof(v, 3n, bits, t(), SECRET, strategy);
        expect(sigmaRangeProof.verify(commit(v, 3n), proof, bits, t())).toBe(false);
      }
    }
  });

  it('rejects non-canonical scalars', () => {
    const proof = sigmaRangeProof.prove(5n, 7n, 8, t(), SECRET);
    const bad = proof.slice();
    // The final challenge e plus ℓ: the same scalar mod ℓ, not canonical.
    const at = bad.length - 32;
    let e = 0n;
    for (let i = 31; i >= 0; i--) e = (e << 8n) | BigInt(bad[at + i] as number);
    const big = e + ORDER;
    if (big < 1n << 256n) {
      for (let i = 0; i < 32; i++) bad[at + i] = Number((big >> BigInt(8 * i)) & 0xffn);
      expect(sigmaRangeProof.verify(commit(5n, 7n), bad, 8, t())).toBe(false);
    }
    expect(sigmaRangeProof.verify(commit(5n, 7n), proof, 8, t())).toBe(true);
  });
});
