/**
 * Private solvency proofs (docs/SOLVENCY.md): Pedersen commitments on ristretto255, range
 * proofs behind the `RangeProof` interface, per-account maintenance statements and the
 * liabilities tree with inclusion bundles. Runs in Node.js and in the browser.
 */
export * from './account.js';
export * from './fromState.js';
export {
  commit,
  decodePoint,
  decodeScalar,
  encodePoint,
  encodeScalar,
  G,
  GENERATOR_DST,
  H,
  ORDER,
  type Point,
} from './group.js';
export { type RangeProof, sigmaRangeProof } from './rangeProof.js';
export { backendNamed, DEFAULT_BACKEND, RANGE_PROOF_BACKENDS } from './backends.js';
export { bulletproofsRangeProof } from './bulletproofs.js';
export * from './prover.js';
export * from './serialize.js';
export * from './shards.js';
export * from './table.js';
export { Transcript } from './transcript.js';
export * from './tree.js';
export * from './verifier.js';
