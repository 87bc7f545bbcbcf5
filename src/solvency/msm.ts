/**
 * Multi-scalar multiplication Σ k_i·P_i on ristretto255 for public inputs (the Bulletproofs
 * verifier, and the prover's public points): interleaved signed-window (wNAF) multiplication,
 * all terms sharing one chain of doublings. A fixed base keeps its table of odd multiples
 * (P, 3P, 5P, …) for every later use; a one-off point gets a small table built on the spot.
 * Not constant time: only ever given public points, or secret scalars of a proof the prover
 * publishes anyway (timing is "algorithmic" in JavaScript, see `group.ts`).
 */
import { IDENTITY, mod, ORDER, type Point } from './group.js';

/** Window of a fixed base: 2^(w−2) = 16 odd multiples kept per base. */
export const FIXED_WINDOW = 6;
/** Window of a one-off point: 4 odd multiples. */
const VARIABLE_WINDOW = 4;

/** A base with its odd multiples P, 3P, …, (2^(w−1) − 1)P. */
export interface Base {
  readonly window: number;
  readonly odd: readonly Point[];
}

/** The table of a point for a window. */
export function baseOf(point: Point, window: number = FIXED_WINDOW): Base {
  const twice = point.double();
  const odd: Point[] = [point];
  for (let i = 1; i < 2 ** (window - 2); i++) odd.push((odd[i - 1] as Point).add(twice));
  return { window, odd };
}

/**
 * Signed digits of k (least significant first), each zero or odd with |d| < 2^(w−1), at most
 * one non-zero digit in any w consecutive positions (wNAF). Reads k's bits once, then works on
 * small numbers only.
 */
function signedDigits(k: bigint, window: number): Int8Array {
  const text = k.toString(2);
  const length = text.length;
  const bit = (i: number) => (i < length && text.charCodeAt(length - 1 - i) === 49 ? 1 : 0);
  const size = 1 << window;
  const out = new Int8Array(length + 1);
  let carry = 0;
  let i = 0;
  while (i < length || carry !== 0) {
    if (((bit(i) + carry) & 1) === 0) {
      carry = (bit(i) + carry) >> 1;
      i++;
      continue;
    }
    let value = carry;
    for (let t = 0; t < window; t++) value += bit(i + t) << t;
    const d = value >= size >> 1 ? value - size : value;
    out[i] = d;
    carry = (value - d) >> window;
    i += window;
  }
  return out;
}

/** One term of a sum: a base (fixed, with its table) or a one-off point, and its scalar. */
export type Term = readonly [Base | Point, bigint];

/** Σ k_i·P_i (scalars reduced mod ℓ; zero terms cost nothing). */
export function msm(terms: readonly Term[]): Point {
  // Entries by bit position: which table entry to add or subtract there.
  const byBit: { item: Point; negative: boolean }[][] = [];
  for (const [base, scalar] of terms) {
    const reduced = mod(scalar);
    if (reduced === 0n) continue;
    // A scalar above ℓ/2 is a small negative one (−1, −z…): its digits, negated.
    const flip = reduced > ORDER >> 1n;
    const k = flip ? ORDER - reduced : reduced;
    const table = 'odd' in base ? base : baseOf(base, VARIABLE_WINDOW);
    const digits = signedDigits(k, table.window);
    for (let bit = 0; bit < digits.length; bit++) {
      const d = digits[bit] as number;
      if (d === 0) continue;
      const item = table.odd[(Math.abs(d) - 1) >> 1] as Point;
      (byBit[bit] ??= []).push({ item, negative: d < 0 !== flip });
    }
  }
  let acc = IDENTITY;
  for (let bit = byBit.length - 1; bit >= 0; bit--) {
    acc = acc.double();
    for (const { item, negative } of byBit[bit] ?? []) {
      acc = negative ? acc.subtract(item) : acc.add(item);
    }
  }
  return acc;
}
