/**
 * Growing byte buffers, for the writers of binary journals (effects segments, record frames).
 * Part of the core: no I/O.
 */

/**
 * A byte array at least `needed` bytes long that holds `bytes[0, used)`: `bytes` itself when it
 * is long enough, otherwise a copy at least twice as long.
 */
export function grownBytes(
  bytes: Uint8Array<ArrayBuffer>,
  used: number,
  needed: number,
): Uint8Array<ArrayBuffer> {
  if (needed <= bytes.length) return bytes;
  let size = Math.max(bytes.length * 2, 16);
  while (size < needed) size *= 2;
  const grown = new Uint8Array(size);
  grown.set(bytes.subarray(0, used));
  return grown;
}
