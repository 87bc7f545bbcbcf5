/**
 * Range proofs on Pedersen commitments: the `RangeProof` interface every backend implements, and
 * the reference backend, bit decomposition with sigma OR-proofs.
 *
 * Reference backend, for a commitment C = v·G + r·H and n bits:
 * - the prover writes v = Σ 2^i·b_i and commits each bit, C_i = b_i·G + r_i·H, with the r_i
 *   chosen so that Σ 2^i·r_i = r; the verifier checks Σ 2^i·C_i = C;
 * - for each bit, a Cramer-Damgård-Schoenmakers OR-proof that C_i = x·H (b_i = 0) or
 *   C_i − G = x·H (b_i = 1): the true branch is a Schnorr proof, the other simulated, and the
 *   two branch challenges e0 + e1 add up to one Fiat-Shamir challenge e over the transcript
 *   (snapshot, statement context, n, C, every C_i and every first message).
 * Since every digit is 0 or 1 and n < 252, Σ 2^i·b_i < 2^n is an integer below ℓ: C commits to a
 * value in [0, 2^n). Proof: n × (C_i, e0, s0, s1) + e, 32 bytes each (8,224 bytes for n = 64).
 * Every point must be a canonical ristretto255 encoding and every scalar below ℓ.
 */
import { assert } from './assert.js';
import {
  commit,
  decodePoint,
  decodeScalar,
  deriveScalar,
  ELEMENT_BYTES,
  encodePoint,
  encodeScalar,
  G,
  H,
  IDENTITY,
  mod,
  mul,
  mulSecret,
  ORDER,
  type Point,
} from './group.js';
import { type Transcript } from './transcript.js';
import { concatBytes } from '@noble/hashes/utils.js';

/** A range-proof system on the Pedersen commitments of `group.ts`. */
export interface RangeProof {
  readonly name: string;
  /**
   * A proof that value·G + blinding·H commits to a value in [0, 2^bits), bound to the
   * transcript (which already holds the snapshot and the statement's context). Refuses a value
   * out of range. Blindings and nonces come from `secret` and the transcript.
   */
  prove(
    value: bigint,
    blinding: bigint,
    bits: number,
    transcript: Transcript,
    secret: Uint8Array,
  ): Uint8Array;
  /** True when `proof` shows `commitment` opens to a value in [0, 2^bits) in this transcript. */
  verify(commitment: Point, proof: Uint8Array, bits: number, transcript: Transcript): boolean;
  /**
   * True when every proof verifies, checked together (faster); false says some proof fails,
   * not which. Optional: without it, {@link firstRangeProblem} checks one by one.
   */
  verifyBatch?(items: readonly RangeItem[]): boolean;
  /** The size of one proof in bytes. */
  size(bits: number): number;
}

/** One proof to check: its commitment, bytes, bit count and transcript. */
export interface RangeItem {
  readonly commitment: Point;
  readonly proof: Uint8Array;
  readonly bits: number;
  readonly transcript: Transcript;
}

/** A proof to check and what to report when it fails; its transcript made afresh on each use. */
export interface RangeCheck {
  readonly commitment: Point;
  readonly proof: Uint8Array;
  readonly bits: number;
  readonly transcript: () => Transcript;
  readonly problem: string;
}

/**
 * The problem of the first check that fails, in order, or null: all checked in one batch when
 * the backend can, and one by one (to name the failure) only when the batch fails.
 */
export function firstRangeProblem(
  backend: RangeProof,
  checks: readonly RangeCheck[],
): string | null {
  const batch = backend.verifyBatch;
  if (batch !== undefined && batch(checks.map((c) => ({ ...c, transcript: c.transcript() }))))
    return null;
  for (const c of checks) {
    if (!backend.verify(c.commitment, c.proof, c.bits, c.transcript())) return c.problem;
  }
  return null;
}

/** Bits a range proof may cover: each statement uses 64 (balances) or 128 (the surplus). */
export function validBits(bits: number): boolean {
  return Number.isInteger(bits) && bits >= 1 && bits <= 128;
}

const BIT_BYTES = 4 * ELEMENT_BYTES;

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

/** Modular inverse of 2^k mod ℓ (ℓ is odd). */
function inversePow2(k: number): bigint {
  const half = (ORDER + 1n) / 2n;
  let result = 1n;
  for (let i = 0; i < k; i++) result = (result * half) % ORDER;
  return result;
}

/**
 * The proof over explicit digits (scalars). With digits that are the bits of a value in range
 * this is the honest prover; with other digits (a value out of range, forced) it is what a
 * cheating prover can make, and verification rejects it.
 */
function proveDigits(
  digits: readonly bigint[],
  blinding: bigint,
  transcript: Transcript,
  secret: Uint8Array,
): Uint8Array {
  const bits = digits.length;
  let value = 0n;
  for (let i = bits - 1; i >= 0; i--) value = mod(value * 2n + (digits[i] as bigint));
  transcript.append('range/bits', u32(bits));
  transcript.append('range/commitment', encodePoint(commit(value, blinding)));
  const seed = transcript.digest();
  const r: bigint[] = [];
  let acc = 0n;
  for (let i = 0; i < bits - 1; i++) {
    r.push(deriveScalar(secret, [seed, 'bit-blinding', String(i)]));
    acc = mod(acc + (r[i] as bigint) * (1n << BigInt(i)));
  }
  r.push(mod((blinding - acc) * inversePow2(bits - 1)));
  const commitments = digits.map((d, i) => commit(d, r[i] as bigint));
  const encoded = commitments.map(encodePoint);
  transcript.append('range/bit-commitments', concatBytes(...encoded));
  const seed2 = transcript.digest();
  const firsts: Uint8Array[] = [];
  const sims: { k: bigint; e: bigint; s: bigint; one: boolean }[] = [];
  for (let i = 0; i < bits; i++) {
    const k = deriveScalar(secret, [seed2, 'k', String(i)]);
    const e = deriveScalar(secret, [seed2, 'e', String(i)]);
    const s = deriveScalar(secret, [seed2, 's', String(i)]);
    const one = digits[i] === 1n;
    const c = commitments[i] as Point;
    const real = mulSecret(H, k);
    // The simulated branch: A = s·H − e·(C_i − (other digit)·G).
    const fake = mul(H, s).subtract(mul(one ? c : c.subtract(G), e));
    firsts.push(encodePoint(one ? fake : real), encodePoint(one ? real : fake));
    sims.push({ k, e, s, one });
  }
  transcript.append('range/first-messages', concatBytes(...firsts));
  const e = transcript.challenge('range/challenge');
  const out: Uint8Array[] = [];
  for (let i = 0; i < bits; i++) {
    const sim = sims[i] as (typeof sims)[number];
    const eReal = mod(e - sim.e);
    const sReal = mod(sim.k + eReal * (r[i] as bigint));
    const [e0, s0, s1] = sim.one ? [sim.e, sim.s, sReal] : [eReal, sReal, sim.s];
    out.push(encoded[i] as Uint8Array, encodeScalar(e0), encodeScalar(s0), encodeScalar(s1));
  }
  out.push(encodeScalar(e));
  return concatBytes(...out);
}

/** The bits of a value in [0, 2^bits), least significant first. */
function bitsOf(value: bigint, bits: number): bigint[] {
  return Array.from({ length: bits }, (_, i) => (value >> BigInt(i)) & 1n);
}

interface ParsedBits {
  readonly commitments: Point[];
  readonly encoded: Uint8Array[];
  readonly e0: bigint[];
  readonly s0: bigint[];
  readonly s1: bigint[];
  readonly e: bigint;
}

/** The proof's fields, or null unless its length and every encoding are canonical. */
function parseBits(proof: Uint8Array, bits: number): ParsedBits | null {
  if (proof.length !== bits * BIT_BYTES + ELEMENT_BYTES) return null;
  const field = (offset: number) => proof.subarray(offset, offset + ELEMENT_BYTES);
  const parsed: ParsedBits = { commitments: [], encoded: [], e0: [], s0: [], s1: [], e: 0n };
  for (let i = 0; i < bits; i++) {
    const at = i * BIT_BYTES;
    const point = decodePoint(field(at));
    const e0 = decodeScalar(field(at + 32));
    const s0 = decodeScalar(field(at + 64));
    const s1 = decodeScalar(field(at + 96));
    if (point === null || e0 === null || s0 === null || s1 === null) return null;
    parsed.commitments.push(point);
    parsed.encoded.push(field(at));
    parsed.e0.push(e0);
    parsed.s0.push(s0);
    parsed.s1.push(s1);
  }
  const e = decodeScalar(field(bits * BIT_BYTES));
  return e === null ? null : { ...parsed, e };
}

function verifyBits(
  commitment: Point,
  proof: Uint8Array,
  bits: number,
  transcript: Transcript,
): boolean {
  if (!validBits(bits)) return false;
  const parsed = parseBits(proof, bits);
  if (parsed === null) return false;
  // Σ 2^i·C_i = C, by Horner's rule.
  let sum = IDENTITY;
  for (let i = bits - 1; i >= 0; i--) sum = sum.double().add(parsed.commitments[i] as Point);
  if (!sum.equals(commitment)) return false;
  transcript.append('range/bits', u32(bits));
  transcript.append('range/commitment', encodePoint(commitment));
  transcript.append('range/bit-commitments', concatBytes(...parsed.encoded));
  const firsts: Uint8Array[] = [];
  for (let i = 0; i < bits; i++) {
    const c = parsed.commitments[i] as Point;
    const e0 = parsed.e0[i] as bigint;
    const e1 = mod(parsed.e - e0);
    const a0 = mul(H, parsed.s0[i] as bigint).subtract(mul(c, e0));
    const a1 = mul(H, parsed.s1[i] as bigint).subtract(mul(c.subtract(G), e1));
    firsts.push(encodePoint(a0), encodePoint(a1));
  }
  transcript.append('range/first-messages', concatBytes(...firsts));
  return transcript.challenge('range/challenge') === parsed.e;
}

/** The reference backend: bit decomposition with sigma OR-proofs. */
export const sigmaRangeProof: RangeProof = {
  name: 'reference',
  prove(value, blinding, bits, transcript, secret) {
    assert(validBits(bits), `range proof: ${bits} bits is not a supported size`);
    assert(value >= 0n && value < 1n << BigInt(bits), 'range proof: value out of range');
    return proveDigits(bitsOf(value, bits), blinding, transcript, secret);
  },
  verify: verifyBits,
  size: (bits) => bits * BIT_BYTES + ELEMENT_BYTES,
};

/**
 * What a cheating prover can make for a value out of range, for soundness tests only:
 * `truncate` commits the low bits (every digit a bit, the sum wrong), `carry` the low bits and
 * one top digit that makes the sum right (so that digit is no bit). Neither verifies.
 */
export function forgeRangeProof(
  value: bigint,
  blinding: bigint,
  bits: number,
  transcript: Transcript,
  secret: Uint8Array,
  strategy: 'truncate' | 'carry',
): Uint8Array {
  const v = mod(value);
  const digits = bitsOf(v, bits);
  if (strategy === 'carry') {
    const low = v & ((1n << BigInt(bits - 1)) - 1n);
    digits[bits - 1] = mod((v - low) * inversePow2(bits - 1));
  }
  return proveDigits(digits, blinding, transcript, secret);
}
