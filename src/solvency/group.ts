/**
 * The group of the solvency proofs: ristretto255 (RFC 9496) from `@noble/curves`, Pedersen
 * commitments on two generators derived by hash-to-curve, scalars modulo the group order ℓ,
 * canonical encodings, and the deterministic key derivation every blinding and nonce comes from.
 *
 * Generators: G = hashToCurve("G") and H = hashToCurve("H"), RFC 9380 `hash_to_ristretto255`
 * (expand_message_xmd with SHA-512) under the domain separation tag
 * `fulcrum/solvency/v1/pedersen`. Nothing up the sleeve: anyone can recompute both from the
 * tag, and nobody knows log_G H (that would need a discrete logarithm of a hash output). The
 * library's base point is not used, so neither generator is special.
 *
 * Randomness: the core draws no random number. Every blinding factor, salt and nonce is
 * HMAC-SHA-512 of the prover's secret (32 bytes or more, supplied by the adapter that holds it)
 * over labelled inputs that include the snapshot id and the statement so far, reduced mod ℓ:
 * reproducible by the prover, unpredictable to anyone without the secret, and never reused across
 * two different statements (RFC 6979's idea).
 */
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, equalBytes, numberToBytesLE } from '@noble/curves/utils.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { assert } from './assert.js';

export type Point = InstanceType<typeof ristretto255.Point>;
const PointClass = ristretto255.Point;

/** The order ℓ of ristretto255 (≈ 2^252). */
export const ORDER: bigint = PointClass.Fn.ORDER;

/** Bytes of one encoded point or scalar. */
export const ELEMENT_BYTES = 32;

/** The domain separation tag of the generators. */
export const GENERATOR_DST = 'fulcrum/solvency/v1/pedersen';

function generator(label: string): Point {
  const point = ristretto255_hasher.hashToCurve(utf8ToBytes(label), { DST: GENERATOR_DST });
  assert(!point.is0(), 'solvency: a generator is the identity');
  return point.precompute(8, false);
}

/** The value generator. */
export const G: Point = generator('G');
/** The blinding generator. */
export const H: Point = generator('H');
export const IDENTITY: Point = PointClass.ZERO;

/** x mod ℓ, in [0, ℓ). */
export function mod(x: bigint): bigint {
  const r = x % ORDER;
  return r < 0n ? r + ORDER : r;
}

/** Scalar times point for public inputs (any integer, reduced mod ℓ; zero allowed). */
export function mul(point: Point, scalar: bigint): Point {
  const s = mod(scalar);
  return s === 0n ? IDENTITY : point.multiplyUnsafe(s);
}

/** Scalar times point for secret scalars (the library's constant-time path; zero allowed). */
export function mulSecret(point: Point, scalar: bigint): Point {
  const s = mod(scalar);
  return s === 0n ? IDENTITY : point.multiply(s);
}

/** The Pedersen commitment v·G + r·H (v reduced mod ℓ). */
export function commit(value: bigint, blinding: bigint): Point {
  return mulSecret(G, value).add(mulSecret(H, blinding));
}

export function encodePoint(point: Point): Uint8Array {
  return point.toBytes();
}

/** A point from its canonical 32-byte encoding; null for anything else (RFC 9496 decoding). */
export function decodePoint(bytes: Uint8Array): Point | null {
  if (bytes.length !== ELEMENT_BYTES) return null;
  try {
    return PointClass.fromBytes(bytes);
  } catch {
    return null;
  }
}

export function encodeScalar(scalar: bigint): Uint8Array {
  return numberToBytesLE(mod(scalar), ELEMENT_BYTES);
}

/** A scalar from 32 little-endian bytes; null unless canonical (< ℓ). */
export function decodeScalar(bytes: Uint8Array): bigint | null {
  if (bytes.length !== ELEMENT_BYTES) return null;
  const value = bytesToNumberLE(bytes);
  return value < ORDER ? value : null;
}

/** A uniformly distributed scalar from 64 bytes (wide reduction). */
export function scalarFromWide(bytes: Uint8Array): bigint {
  return mod(bytesToNumberLE(bytes));
}

/** Length-prefixed concatenation: no two different lists of parts encode alike. */
export function framed(parts: readonly (Uint8Array | string)[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    const bytes = typeof part === 'string' ? utf8ToBytes(part) : part;
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, bytes.length, false);
    chunks.push(length, bytes);
  }
  return concatBytes(...chunks);
}

/** SHA-256 of the framed parts under a label (the tree's hashes and user ids). */
export function hashParts(label: string, parts: readonly (Uint8Array | string)[]): Uint8Array {
  return sha256(framed([`fulcrum/solvency/v1/${label}`, ...parts]));
}

/** 64 bytes derived from the prover's secret and labelled inputs (HMAC-SHA-512). */
export function derive(secret: Uint8Array, parts: readonly (Uint8Array | string)[]): Uint8Array {
  assert(secret.length >= 32, 'solvency: the prover secret must have at least 32 bytes');
  return hmac(sha512, secret, framed(['fulcrum/solvency/v1/kdf', ...parts]));
}

/** A scalar derived from the prover's secret (blindings, nonces). */
export function deriveScalar(secret: Uint8Array, parts: readonly (Uint8Array | string)[]): bigint {
  return scalarFromWide(derive(secret, parts));
}

export { equalBytes, sha512 };
