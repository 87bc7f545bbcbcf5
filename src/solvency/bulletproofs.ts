/**
 * The production range-proof backend: Bulletproofs (Bünz, Bootle, Boneh, Poelstra, Wuille and
 * Maxwell, 2018), aggregated, on the Pedersen commitments of `group.ts`, written here on
 * `@noble/curves` ristretto255.
 *
 * One proof shows that each of m commitments V_j = v_j·G + γ_j·H opens to a value in [0, 2^n),
 * n and m powers of two (N = n·m ≤ 4096). The vector generators G_i and H_i (i < 2048 each)
 * come from RFC 9380 hash-to-curve of `"G/i"` and `"H/i"` under the tag
 * `fulcrum/solvency/v1/bulletproofs`: no trusted setup, no known discrete logarithm between any
 * two generators. Fiat-Shamir through our transcript, which already holds the snapshot and the
 * statement's context; the proof appends n, m and every V_j before its first challenge, then A
 * and S (challenges y, z), T1 and T2 (x), t̂, τx and μ (w, which fixes Q = w·G), and each round's
 * L and R (u_k). Every blinding and nonce comes from the prover's secret and the transcript.
 *
 * Proof bytes: A, S, T1, T2, τx, μ, t̂, then (L_k, R_k) for k < log2 N, then a, b: 32 bytes each,
 * 32·(9 + 2·log2 N) in all (672 bytes for one 64-bit value, 736 for one 128-bit value).
 *
 * The verifier checks t̂·G + τx·H = Σ z^(2+j)·V_j + δ(y, z)·G + x·T1 + x²·T2, and the inner-product
 * argument as one multi-scalar multiplication over every generator (no generator is folded).
 * The prover folds the generators' coefficients, not the generators, the same way.
 */
import { invert as invertMod } from '@noble/curves/abstract/modular.js';
import { ristretto255_hasher } from '@noble/curves/ed25519.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { assert } from './assert.js';
import {
  decodePoint,
  decodeScalar,
  deriveScalar,
  ELEMENT_BYTES,
  encodePoint,
  encodeScalar,
  framed,
  G,
  H,
  IDENTITY,
  mod,
  ORDER,
  type Point,
  scalarFromWide,
  sha512,
} from './group.js';
import { type Base, baseOf, isBase, msm, type Term } from './msm.js';
import type { RangeProof } from './rangeProof.js';
import type { Transcript } from './transcript.js';

/** The domain separation tag of the vector generators. */
export const BULLETPROOFS_DST = 'fulcrum/solvency/v1/bulletproofs';
/** The largest N = n·m of one proof: the generators available. */
export const GENERATORS_MAX = 2048;

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Generators, derived on first use and kept with their tables.

const vectorG: Base[] = [];
const vectorH: Base[] = [];
let baseG: Base | undefined;
let baseH: Base | undefined;

function hashed(label: string): Point {
  const point = ristretto255_hasher.hashToCurve(utf8ToBytes(label), { DST: BULLETPROOFS_DST });
  assert(!point.is0(), 'bulletproofs: a generator is the identity');
  return point;
}

/** The first `count` generators G_i and H_i, and the Pedersen bases G and H. */
function generators(count: number): { g: Base[]; h: Base[]; G: Base; H: Base } {
  assert(count <= GENERATORS_MAX, 'bulletproofs: too many generators asked for');
  for (let i = vectorG.length; i < count; i++) {
    vectorG.push(baseOf(hashed(`G/${i}`)));
    vectorH.push(baseOf(hashed(`H/${i}`)));
  }
  baseG ??= baseOf(G);
  baseH ??= baseOf(H);
  return { g: vectorG, h: vectorH, G: baseG, H: baseH };
}

// ---------------------------------------------------------------------------------------------
// Scalar helpers

/** 1/x mod ℓ: extended Euclid, variable time (only ever given public challenges). */
function invert(x: bigint): bigint {
  assert(mod(x) !== 0n, 'bulletproofs: zero has no inverse');
  return invertMod(mod(x), ORDER);
}

function powers(x: bigint, count: number): bigint[] {
  const out: bigint[] = [];
  let p = 1n;
  for (let i = 0; i < count; i++) {
    out.push(p);
    p = (p * x) % ORDER;
  }
  return out;
}

function inner(a: readonly bigint[], b: readonly bigint[]): bigint {
  let s = 0n;
  for (let i = 0; i < a.length; i++) s += (a[i] as bigint) * (b[i] as bigint);
  return mod(s);
}

function log2(x: number): number {
  return Math.round(Math.log2(x));
}

const isPowerOfTwo = (x: number) => Number.isInteger(x) && x >= 1 && (x & (x - 1)) === 0;

/** Whether n bits and m values make a proof this backend can make. */
export function validShape(bits: number, count: number): boolean {
  return isPowerOfTwo(bits) && bits <= 128 && isPowerOfTwo(count) && bits * count <= GENERATORS_MAX;
}

/** Bytes of one proof of m values of n bits. */
export function proofBytes(bits: number, count: number): number {
  return ELEMENT_BYTES * (9 + 2 * log2(bits * count));
}

// ---------------------------------------------------------------------------------------------
// The proof's shared challenges

interface Challenges {
  y: bigint;
  z: bigint;
}

function startTranscript(
  transcript: Transcript,
  bits: number,
  commitments: readonly Point[],
): void {
  transcript.append('bp/domain', utf8ToBytes('bulletproofs-range/v1'));
  transcript.append('bp/n', u32(bits));
  transcript.append('bp/m', u32(commitments.length));
  for (const v of commitments) transcript.append('bp/V', encodePoint(v));
}

/** The vector z^(2+j)·2^(i mod n) of block j (the value part of r(X)). */
function valueWeights(bits: number, count: number, z: bigint): bigint[] {
  const two = powers(2n, bits);
  const out: bigint[] = [];
  let zj = (z * z) % ORDER;
  for (let j = 0; j < count; j++) {
    for (const t of two) out.push((zj * t) % ORDER);
    zj = (zj * z) % ORDER;
  }
  return out;
}

/** δ(y, z) = (z − z²)·Σ y^i − Σ_j z^(3+j)·(2^n − 1). */
function delta(bits: number, count: number, { y, z }: Challenges): bigint {
  const sumY = powers(y, bits * count).reduce((s, p) => s + p, 0n);
  let d = (z - z * z) * sumY;
  let zj = (z * z * z) % ORDER;
  for (let j = 0; j < count; j++) {
    d -= zj * ((1n << BigInt(bits)) - 1n);
    zj = (zj * z) % ORDER;
  }
  return mod(d);
}

// ---------------------------------------------------------------------------------------------
// Prover

/** The inner-product argument's rounds; returns the final a and b. */
function proveInnerProduct(
  a0: bigint[],
  b0: bigint[],
  hScale: readonly bigint[],
  w: bigint,
  transcript: Transcript,
  out: Uint8Array[],
): void {
  const N = a0.length;
  const gens = generators(N);
  const gc: bigint[] = new Array<bigint>(N).fill(1n);
  const hc = hScale.slice();
  let a = a0;
  let b = b0;
  for (let n = N; n > 1; n >>= 1) {
    const half = n >> 1;
    const lTerms: Term[] = [[gens.G, mod(w * inner(a.slice(0, half), b.slice(half)))]];
    const rTerms: Term[] = [[gens.G, mod(w * inner(a.slice(half), b.slice(0, half)))]];
    for (let j = 0; j < N; j++) {
      const t = j % n;
      const gj = gens.g[j] as Base;
      const hj = gens.h[j] as Base;
      if (t >= half) {
        lTerms.push([gj, (a[t - half] as bigint) * (gc[j] as bigint)]);
        rTerms.push([hj, (b[t - half] as bigint) * (hc[j] as bigint)]);
      } else {
        lTerms.push([hj, (b[t + half] as bigint) * (hc[j] as bigint)]);
        rTerms.push([gj, (a[t + half] as bigint) * (gc[j] as bigint)]);
      }
    }
    const L = encodePoint(msm(lTerms));
    const R = encodePoint(msm(rTerms));
    transcript.append('bp/L', L);
    transcript.append('bp/R', R);
    out.push(L, R);
    const u = transcript.challenge('bp/u');
    const ui = invert(u);
    const na: bigint[] = [];
    const nb: bigint[] = [];
    for (let t = 0; t < half; t++) {
      na.push(mod((a[t] as bigint) * u + (a[t + half] as bigint) * ui));
      nb.push(mod((b[t] as bigint) * ui + (b[t + half] as bigint) * u));
    }
    for (let j = 0; j < N; j++) {
      const lo = j % n < half;
      gc[j] = ((gc[j] as bigint) * (lo ? ui : u)) % ORDER;
      hc[j] = ((hc[j] as bigint) * (lo ? u : ui)) % ORDER;
    }
    a = na;
    b = nb;
  }
  out.push(encodeScalar(a[0] as bigint), encodeScalar(b[0] as bigint));
}

/** The witness vectors of a proof: a_L (the digits), a_R = a_L − 1, and the blinding vectors. */
interface Witness {
  readonly aL: readonly bigint[];
  readonly aR: readonly bigint[];
  readonly sL: readonly bigint[];
  readonly sR: readonly bigint[];
  readonly alpha: bigint;
  readonly rho: bigint;
}

function witnessOf(digits: readonly bigint[], seed: Uint8Array, secret: Uint8Array): Witness {
  const key = (label: string, i = 0) => deriveScalar(secret, [seed, 'bp', label, String(i)]);
  return {
    aL: digits,
    aR: digits.map((d) => mod(d - 1n)),
    sL: digits.map((_, i) => key('sL', i)),
    sR: digits.map((_, i) => key('sR', i)),
    alpha: key('alpha'),
    rho: key('rho'),
  };
}

/** A and S: commitments to the digits and to the blinding vectors. */
function commitWitness(wit: Witness): { A: Point; S: Point } {
  const gens = generators(wit.aL.length);
  const aTerms: Term[] = [[gens.H, wit.alpha]];
  const sTerms: Term[] = [[gens.H, wit.rho]];
  wit.aL.forEach((d, i) => {
    aTerms.push([gens.g[i] as Base, d], [gens.h[i] as Base, wit.aR[i] as bigint]);
    sTerms.push([gens.g[i] as Base, wit.sL[i] as bigint], [gens.h[i] as Base, wit.sR[i] as bigint]);
  });
  return { A: msm(aTerms), S: msm(sTerms) };
}

/**
 * The proof over explicit digits (n per value, scalars). With the bits of values in range this
 * is the honest prover; with other digits it is what a cheating prover can make.
 */
function proveDigits(
  digits: readonly bigint[],
  blindings: readonly bigint[],
  bits: number,
  transcript: Transcript,
  secret: Uint8Array,
): Uint8Array {
  const count = blindings.length;
  const N = bits * count;
  const values = blindings.map((_, j) => {
    let v = 0n;
    for (let i = bits - 1; i >= 0; i--) v = mod(2n * v + (digits[j * bits + i] as bigint));
    return v;
  });
  const gens = generators(N);
  const V = values.map((v, j) =>
    msm([
      [gens.G, v],
      [gens.H, blindings[j] as bigint],
    ]),
  );
  startTranscript(transcript, bits, V);
  const wit = witnessOf(digits, transcript.digest(), secret);
  const { A, S } = commitWitness(wit);
  const out: Uint8Array[] = [encodePoint(A), encodePoint(S)];
  transcript.append('bp/A', out[0] as Uint8Array);
  transcript.append('bp/S', out[1] as Uint8Array);
  const y = transcript.challenge('bp/y');
  const z = transcript.challenge('bp/z');
  const yN = powers(y, N);
  const two = valueWeights(bits, count, z);
  const l0 = wit.aL.map((d) => mod(d - z));
  const r0 = wit.aR.map((d, i) => mod((yN[i] as bigint) * (d + z) + (two[i] as bigint)));
  const r1 = wit.sR.map((s, i) => mod((yN[i] as bigint) * s));
  const t1 = mod(inner(l0, r1) + inner(wit.sL, r0));
  const t2 = inner(wit.sL, r1);
  const seed = transcript.digest();
  const tau1 = deriveScalar(secret, [seed, 'bp', 'tau1']);
  const tau2 = deriveScalar(secret, [seed, 'bp', 'tau2']);
  const T1 = encodePoint(
    msm([
      [gens.G, t1],
      [gens.H, tau1],
    ]),
  );
  const T2 = encodePoint(
    msm([
      [gens.G, t2],
      [gens.H, tau2],
    ]),
  );
  transcript.append('bp/T1', T1);
  transcript.append('bp/T2', T2);
  const x = transcript.challenge('bp/x');
  const l = l0.map((v, i) => mod(v + x * (wit.sL[i] as bigint)));
  const r = r0.map((v, i) => mod(v + x * (r1[i] as bigint)));
  let taux = mod(tau2 * x * x + tau1 * x);
  powers(z, count + 2)
    .slice(2)
    .forEach((zj, j) => (taux = mod(taux + zj * (blindings[j] as bigint))));
  const scalars = [taux, mod(wit.alpha + wit.rho * x), inner(l, r)].map(encodeScalar);
  transcript.append('bp/scalars', concat(scalars));
  const w = transcript.challenge('bp/w');
  out.push(T1, T2, ...scalars);
  const yInv = powers(invert(y), N);
  proveInnerProduct(l, r, yInv, w, transcript, out);
  return concat(out);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The bits of each value, least significant first, value after value. */
function bitsOf(values: readonly bigint[], bits: number): bigint[] {
  return values.flatMap((v) => Array.from({ length: bits }, (_, i) => (v >> BigInt(i)) & 1n));
}

/**
 * One aggregated proof that each value·G + blinding·H opens to a value in [0, 2^bits); `bits`
 * and the number of values are powers of two. Refuses a value out of range.
 */
export function proveRanges(
  values: readonly bigint[],
  blindings: readonly bigint[],
  bits: number,
  transcript: Transcript,
  secret: Uint8Array,
): Uint8Array {
  assert(values.length === blindings.length, 'bulletproofs: one blinding per value');
  assert(validShape(bits, values.length), `bulletproofs: ${values.length} × ${bits} bits`);
  for (const v of values)
    assert(v >= 0n && v < 1n << BigInt(bits), 'range proof: value out of range');
  return proveDigits(bitsOf(values, bits), blindings, bits, transcript, secret);
}

/**
 * What a cheating prover can make for values out of range, for soundness tests only:
 * `truncate` proves the low bits of each value mod ℓ, `carry` puts the rest in the top digit
 * (which is then no bit). Neither verifies.
 */
export function forgeRanges(
  values: readonly bigint[],
  blindings: readonly bigint[],
  bits: number,
  transcript: Transcript,
  secret: Uint8Array,
  strategy: 'truncate' | 'carry',
): Uint8Array {
  const digits = values.flatMap((value) => {
    const v = mod(value);
    const d = Array.from({ length: bits }, (_, i) => (v >> BigInt(i)) & 1n);
    if (strategy === 'carry') {
      const low = v & ((1n << BigInt(bits - 1)) - 1n);
      d[bits - 1] = mod((v - low) * invert(1n << BigInt(bits - 1)));
    }
    return d;
  });
  return proveDigits(digits, blindings, bits, transcript, secret);
}

// ---------------------------------------------------------------------------------------------
// Verifier

interface Parsed {
  readonly A: Point;
  readonly S: Point;
  readonly T1: Point;
  readonly T2: Point;
  readonly taux: bigint;
  readonly mu: bigint;
  readonly that: bigint;
  readonly L: readonly Point[];
  readonly R: readonly Point[];
  readonly a: bigint;
  readonly b: bigint;
  readonly raw: (index: number) => Uint8Array;
}

/** The proof's fields, or null unless its length and every encoding are canonical. */
function parse(proof: Uint8Array, rounds: number): Parsed | null {
  const elements = 9 + 2 * rounds;
  if (proof.length !== ELEMENT_BYTES * elements) return null;
  const raw = (i: number) => proof.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES);
  const points: Point[] = [];
  for (const i of [0, 1, 2, 3, ...Array.from({ length: 2 * rounds }, (_, k) => 7 + k)]) {
    const p = decodePoint(raw(i));
    if (p === null) return null;
    points.push(p);
  }
  const scalars: bigint[] = [];
  for (const i of [4, 5, 6, elements - 2, elements - 1]) {
    const s = decodeScalar(raw(i));
    if (s === null) return null;
    scalars.push(s);
  }
  const [A, S, T1, T2, ...lr] = points as [Point, Point, Point, Point, ...Point[]];
  const [taux, mu, that, a, b] = scalars as [bigint, bigint, bigint, bigint, bigint];
  return {
    ...{ A, S, T1, T2, taux, mu, that, a, b, raw },
    L: lr.filter((_, k) => k % 2 === 0),
    R: lr.filter((_, k) => k % 2 === 1),
  };
}

/** s_i = Π_k u_k^(±1) by the bits of i (the first round on the top bit). */
function foldWeights(u: readonly bigint[], uInv: readonly bigint[], N: number): bigint[] {
  const rounds = u.length;
  const s: bigint[] = [uInv.reduce((p, x) => (p * x) % ORDER, 1n)];
  for (let i = 1; i < N; i++) {
    const lg = 31 - Math.clz32(i);
    const uk = u[rounds - 1 - lg] as bigint;
    s.push(((((s[i - (1 << lg)] as bigint) * uk) % ORDER) * uk) % ORDER);
  }
  return s;
}

/** A proof's two checks, each a list of terms that must sum to the identity. */
interface CheckTerms {
  readonly polynomial: readonly Term[];
  readonly innerProduct: readonly Term[];
  /** The transcript's state after the last challenge: binds everything checked. */
  readonly digest: Uint8Array;
}

/** The checks of a proof, or null when its shape or an encoding is wrong. */
function checkTerms(
  commitments: readonly Point[],
  proof: Uint8Array,
  bits: number,
  transcript: Transcript,
): CheckTerms | null {
  const count = commitments.length;
  if (!validShape(bits, count)) return null;
  const N = bits * count;
  const rounds = log2(N);
  const p = parse(proof, rounds);
  if (p === null) return null;
  startTranscript(transcript, bits, commitments);
  transcript.append('bp/A', p.raw(0));
  transcript.append('bp/S', p.raw(1));
  const c = { y: transcript.challenge('bp/y'), z: transcript.challenge('bp/z') };
  transcript.append('bp/T1', p.raw(2));
  transcript.append('bp/T2', p.raw(3));
  const x = transcript.challenge('bp/x');
  transcript.append('bp/scalars', concat([p.raw(4), p.raw(5), p.raw(6)]));
  const w = transcript.challenge('bp/w');
  const u: bigint[] = [];
  for (let k = 0; k < rounds; k++) {
    transcript.append('bp/L', p.raw(7 + 2 * k));
    transcript.append('bp/R', p.raw(8 + 2 * k));
    u.push(transcript.challenge('bp/u'));
  }
  const gens = generators(N);
  // t̂·G + τx·H = Σ z^(2+j)·V_j + δ·G + x·T1 + x²·T2
  const zj = powers(c.z, count + 2).slice(2);
  const polynomial: Term[] = [
    [gens.G, mod(delta(bits, count, c) - p.that)],
    [gens.H, mod(-p.taux)],
    [p.T1, x],
    [p.T2, mod(x * x)],
    ...commitments.map((v, j): Term => [v, zj[j] as bigint]),
  ];
  const innerProduct = innerProductTerms(p, c, { x, w, u }, bits, count);
  return { polynomial, innerProduct, digest: transcript.digest() };
}

/** True when `proof` shows each commitment opens to a value in [0, 2^bits) in this transcript. */
export function verifyRanges(
  commitments: readonly Point[],
  proof: Uint8Array,
  bits: number,
  transcript: Transcript,
): boolean {
  const terms = checkTerms(commitments, proof, bits, transcript);
  if (terms === null) return false;
  return msm(terms.polynomial).equals(IDENTITY) && msm(terms.innerProduct).equals(IDENTITY);
}

/** One proof of a batch. */
export interface BatchItem {
  readonly commitments: readonly Point[];
  readonly proof: Uint8Array;
  readonly bits: number;
  readonly transcript: Transcript;
}

/**
 * True when every proof of the batch verifies, checked as one multi-scalar multiplication: each
 * proof's two checks weighted by scalars drawn from a hash of every proof's final transcript
 * state (so fixed before any weight is known to the prover), the generators' coefficients
 * merged. A false batch says some proof fails, not which: check them one by one to name it.
 */
export function verifyRangesBatch(items: readonly BatchItem[]): boolean {
  const checks: CheckTerms[] = [];
  for (const item of items) {
    const terms = checkTerms(item.commitments, item.proof, item.bits, item.transcript);
    if (terms === null) return false;
    checks.push(terms);
  }
  const seed = sha512(
    framed(['fulcrum/solvency/v1/bulletproofs-batch', ...checks.map((c) => c.digest)]),
  );
  const weight = (i: number, which: string) =>
    scalarFromWide(sha512(framed([seed, which, String(i)])));
  const fixed = new Map<Base, bigint>();
  const variable: Term[] = [];
  const add = (terms: readonly Term[], by: bigint) => {
    for (const [base, scalar] of terms) {
      if (isBase(base)) fixed.set(base, ((fixed.get(base) ?? 0n) + by * scalar) % ORDER);
      else variable.push([base, (by * scalar) % ORDER]);
    }
  };
  checks.forEach((c, i) => {
    add(c.polynomial, weight(i, 'polynomial'));
    add(c.innerProduct, weight(i, 'inner-product'));
  });
  return msm([...fixed.entries(), ...variable]).equals(IDENTITY);
}

/** The inner-product argument and A, S, as terms of one multi-scalar multiplication. */
function innerProductTerms(
  p: Parsed,
  { y, z }: Challenges,
  { x, w, u }: { x: bigint; w: bigint; u: readonly bigint[] },
  bits: number,
  count: number,
): Term[] {
  const N = bits * count;
  const gens = generators(N);
  const uInv = u.map(invert);
  const s = foldWeights(u, uInv, N);
  const yInv = powers(invert(y), N);
  const two = valueWeights(bits, count, z);
  const terms: Term[] = [
    [p.A, 1n],
    [p.S, x],
    [gens.H, mod(-p.mu)],
    [gens.G, mod(w * (p.that - p.a * p.b))],
  ];
  for (let i = 0; i < N; i++) {
    terms.push([gens.g[i] as Base, mod(-z - p.a * (s[i] as bigint))]);
    const hi = (two[i] as bigint) - p.b * (s[N - 1 - i] as bigint);
    terms.push([gens.h[i] as Base, mod(z + (yInv[i] as bigint) * hi)]);
  }
  u.forEach((uk, k) => {
    const inverse = uInv[k] as bigint;
    terms.push(
      [p.L[k] as Point, (uk * uk) % ORDER],
      [p.R[k] as Point, (inverse * inverse) % ORDER],
    );
  });
  return terms;
}

/**
 * The production backend behind `RangeProof`: one Bulletproof per value (m = 1), and many
 * checked in one batch.
 */
export const bulletproofsRangeProof: RangeProof = {
  name: 'bulletproofs',
  prove: (value, blinding, bits, transcript, secret) =>
    proveRanges([value], [blinding], bits, transcript, secret),
  verify: (commitment, proof, bits, transcript) =>
    verifyRanges([commitment], proof, bits, transcript),
  verifyBatch: (items) =>
    verifyRangesBatch(items.map((item) => ({ ...item, commitments: [item.commitment] }))),
  size: (bits) => proofBytes(bits, 1),
};
