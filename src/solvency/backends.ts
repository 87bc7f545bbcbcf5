/**
 * The range-proof backends by the name a statement records: `bulletproofs` (production,
 * `bulletproofs.ts`) and `reference` (sigma bit proofs, `rangeProof.ts`). The prover picks one;
 * every verifier dispatches on the name the statement carries (and its digest binds).
 */
import { bulletproofsRangeProof } from './bulletproofs.js';
import { type RangeProof, sigmaRangeProof } from './rangeProof.js';

export const RANGE_PROOF_BACKENDS: ReadonlyMap<string, RangeProof> = new Map([
  [bulletproofsRangeProof.name, bulletproofsRangeProof],
  [sigmaRangeProof.name, sigmaRangeProof],
]);

/** The backend `fulcrum prove` uses unless told otherwise. */
export const DEFAULT_BACKEND = bulletproofsRangeProof.name;

/** The backend of a name, or null for a name no verifier knows. */
export function backendNamed(name: string): RangeProof | null {
  return RANGE_PROOF_BACKENDS.get(name) ?? null;
}
