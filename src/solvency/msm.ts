/**
 * Multi-scalar multiplication Σ k_i·P_i on ristretto255 for public inputs (the Bulletproofs
 * prover and verifier): interleaved signed-window (wNAF) multiplication, all terms sharing one
 * chain of doublings. A fixed base keeps its table of odd multiples (P, 3P, 5P, …) for every
 * later use; a one-off point gets a small table built on the spot.
 *
 * The arithmetic is done here, not through the library's point class: a ristretto255 element is
 * an Edwards point (RFC 9496), and the sum runs on its extended coordinates (X : Y : Z : T) over
 * the field of p = 2^255 − 19 with bigints kept weakly reduced (below 2^256, reduced by folding
 * the high bits times 19 instead of a division), table entries in the "cached" form
 * (Y + X, Y − X, 2Z, 2d·T) that makes an addition 8 multiplications and a subtraction the same
 * (Hisil, Wong, Carter and Dawson, 2008, as in curve25519-dalek), and no validity check or
 * frozen object per step. Only the result goes back to the library (fully reduced), so every
 * encoding, decoding and comparison stays the audited code's. Same results as the library's
 * `multiplyUnsafe` and `add` (a test checks), and a proof made or checked with it is about 1.9×
 * faster in Node.
 *
 * Not constant time: only ever given public points, or secret scalars of a proof the prover
 * publishes anyway (timing is "algorithmic" in JavaScript, see `group.ts`).
 */
import { ed25519, ristretto255 } from '@noble/curves/ed25519.js';
import { mod, ORDER, type Point } from './group.js';

/** Window of a fixed base: 2^(w−2) = 64 odd multiples kept per base. */
export const FIXED_WINDOW = 8;
/** Signed digits of a scalar below ℓ/2 < 2^252, with room for the last carry. */
const DIGITS = 256;
/** Window of a one-off point: 4 odd multiples. */
const VARIABLE_WINDOW = 4;

// ---------------------------------------------------------------------------------------------
// The field of p = 2^255 − 19, weakly reduced.

const P = (1n << 255n) - 19n;
const MASK = (1n << 255n) - 1n;
/** 8p and 16p: added before a subtraction so the difference stays non-negative. */
const P8 = 8n * P;
const P16 = 16n * P;
/** 2d, d the Edwards curve's constant. */
const D2 = (2n * ed25519.Point.CURVE().d) % P;

/** x mod p up to a small multiple (below 2^256) for 0 ≤ x < 2^530. */
function red(x: bigint): bigint {
  const once = (x & MASK) + (x >> 255n) * 19n;
  return (once & MASK) + (once >> 255n) * 19n;
}

/** An Edwards point in extended coordinates, weakly reduced. */
interface Extended {
  readonly X: bigint;
  readonly Y: bigint;
  readonly Z: bigint;
  readonly T: bigint;
}

/** An addend in the cached form (Y + X, Y − X, 2Z, 2d·T). */
interface Cached {
  readonly ypx: bigint;
  readonly ymx: bigint;
  readonly z2: bigint;
  readonly t2d: bigint;
}

const ZERO: Extended = { X: 0n, Y: 1n, Z: 1n, T: 0n };

function cachedOf(p: Extended): Cached {
  return { ypx: red(p.Y + p.X), ymx: red(p.Y + P8 - p.X), z2: red(2n * p.Z), t2d: red(p.T * D2) };
}

/** p + q, or p − q when `negative`. */
function addCached(p: Extended, q: Cached, negative: boolean): Extended {
  const a = red((p.Y + P8 - p.X) * (negative ? q.ypx : q.ymx));
  const b = red((p.Y + p.X) * (negative ? q.ymx : q.ypx));
  const c = red(p.T * q.t2d);
  const d = red(p.Z * q.z2);
  const e = b + P8 - a;
  const h = b + a;
  const f = negative ? d + c : d + P8 - c;
  const g = negative ? d + P8 - c : d + c;
  return { X: red(e * f), Y: red(g * h), Z: red(f * g), T: red(e * h) };
}

/** 2p. */
function double(p: Extended): Extended {
  const xx = red(p.X * p.X);
  const yy = red(p.Y * p.Y);
  const zz2 = red(2n * p.Z * p.Z);
  const s = p.X + p.Y;
  const sum = yy + xx;
  const cx = red(s * s) + P8 - sum;
  const cz = yy + P8 - xx;
  const ct = zz2 + P16 - cz;
  return { X: red(cx * ct), Y: red(sum * cz), Z: red(cz * ct), T: red(cx * sum) };
}

// ---------------------------------------------------------------------------------------------
// To and from the library's points.

type EdwardsPoint = InstanceType<typeof ed25519.Point>;

/** The Edwards representative inside a ristretto255 element (the library keeps it as `ep`). */
function extendedOf(point: Point): Extended {
  const { X, Y, Z, T } = (point as unknown as { readonly ep: EdwardsPoint }).ep;
  return { X, Y, Z, T };
}

function pointOf(p: Extended): Point {
  const ep = new ed25519.Point(p.X % P, p.Y % P, p.Z % P, p.T % P);
  return new ristretto255.Point(ep);
}

// ---------------------------------------------------------------------------------------------
// Tables and the sum

/** A base with its odd multiples P, 3P, …, (2^(w−1) − 1)P in the cached form. */
export interface Base {
  readonly point: Point;
  readonly window: number;
  readonly table: readonly Cached[];
}

function tableOf(point: Point, window: number): Extended[] {
  const p = extendedOf(point);
  const twice = cachedOf(double(p));
  const table: Extended[] = [p];
  for (let i = 1; i < 2 ** (window - 2); i++)
    table.push(addCached(table[i - 1] as Extended, twice, false));
  return table;
}

/**
 * The points with Z = 1 (one field inversion for all, Montgomery's trick), so a cached entry's
 * 2Z is 2 and an addition of it costs one full multiplication less.
 */
function affine(points: readonly Extended[]): Extended[] {
  const prefix: bigint[] = [];
  let product = 1n;
  for (const p of points) {
    prefix.push(product);
    product = red(product * p.Z);
  }
  let inverse = ed25519.Point.Fp.inv(product % P);
  const out = new Array<Extended>(points.length);
  for (let i = points.length - 1; i >= 0; i--) {
    const p = points[i] as Extended;
    const zi = red(inverse * (prefix[i] as bigint));
    inverse = red(inverse * p.Z);
    const x = red(p.X * zi);
    const y = red(p.Y * zi);
    out[i] = { X: x, Y: y, Z: 1n, T: red(x * y) };
  }
  return out;
}

/** The table of a point for a window. */
export function baseOf(point: Point, window: number = FIXED_WINDOW): Base {
  return { point, window, table: affine(tableOf(point, window)).map(cachedOf) };
}

/** Whether a term's base is a fixed base with its table (not a one-off point). */
export function isBase(base: Base | Point): base is Base {
  return 'table' in base;
}

/**
 * Signed digits of k (least significant first), each zero or odd with |d| < 2^(w−1), at most
 * one non-zero digit in any w consecutive positions (wNAF). Reads k's bits once, then works on
 * small numbers only.
 */
function signedDigits(k: bigint, window: number): Int16Array {
  const text = k.toString(2);
  const length = text.length;
  const bit = (i: number) => (i < length && text.charCodeAt(length - 1 - i) === 49 ? 1 : 0);
  const size = 1 << window;
  const out = new Int16Array(DIGITS);
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
  // Each term's signed digits (negated for a flipped scalar) and the table they index.
  const digitsOf: Int16Array[] = [];
  const tables: (readonly Cached[])[] = [];
  let top = 0;
  for (const [base, scalar] of terms) {
    const reduced = mod(scalar);
    if (reduced === 0n) continue;
    // A scalar above ℓ/2 is a small negative one (−1, −z…): its digits, negated.
    const flip = reduced > ORDER >> 1n;
    const window = isBase(base) ? base.window : VARIABLE_WINDOW;
    const digits = signedDigits(flip ? ORDER - reduced : reduced, window);
    if (flip) for (let i = 0; i < digits.length; i++) digits[i] = -(digits[i] as number);
    digitsOf.push(digits);
    tables.push(isBase(base) ? base.table : tableOf(base, VARIABLE_WINDOW).map(cachedOf));
    let last = DIGITS - 1;
    while (digits[last] === 0) last--;
    top = Math.max(top, last + 1);
  }
  let acc = ZERO;
  for (let bit = top - 1; bit >= 0; bit--) {
    if (acc !== ZERO) acc = double(acc);
    for (let t = 0; t < digitsOf.length; t++) {
      const d = (digitsOf[t] as Int16Array)[bit];
      if (d === 0 || d === undefined) continue;
      const item = (tables[t] as readonly Cached[])[(Math.abs(d) - 1) >> 1] as Cached;
      acc = addCached(acc, item, d < 0);
    }
  }
  return pointOf(acc);
}
