/**
 * The solvency code's assertion and the engine constants its verifier needs, here rather than
 * imported from the engine's modules: the verifier runs in the browser (web/src/solvency.ts)
 * and must not pull in the engine. `test/solvency/account.test.ts` checks that the constants
 * equal the engine's.
 */

/** A programmer error or a refused input the caller should have checked: throws. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

/** The engine's WEIGHT_SCALE (`math/fixed.ts`): weights are fractions of 10^6. */
export const WEIGHT_SCALE = 10n ** 6n;
/** The engine's PRICE_SCALE (`math/fixed.ts`): prices per whole token, 10^18. */
export const PRICE_SCALE = 10n ** 18n;
/** The engine's LIABILITY_WEIGHT_MAX (`domain/asset.ts`). */
export const LIABILITY_WEIGHT_MAX = 10n * WEIGHT_SCALE;
