/**
 * Reading and replacing one asset's scaled balance in a sub-account's sorted position list.
 * A change returns a new state for the draft; the position objects of assets it does not touch
 * are shared with the committed state, which `Draft.commit` updates in place.
 */
import { FulcrumError } from '../base/errors.js';
import { LIMITS } from '../domain/limits.js';
import { type ScaledPosition, type SubAccountState } from './state.js';

/** The scaled balance held in `asset` (0n when none). */
export function scaledBalance(sub: SubAccountState, asset: number): bigint {
  for (const position of sub.positions) {
    if (position.asset === asset) return position.scaled;
    if (position.asset > asset) break;
  }
  return 0n;
}

/**
 * The sub-account with its balance in `asset` set to `scaled`; a zero balance removes the
 * position. Refuses a new position beyond `limit` (a sub-account's
 * {@link LIMITS.positionsPerSubAccount} unless said: see {@link positionLimit}), naming `field`.
 */
export function withScaledBalance(
  sub: SubAccountState,
  asset: number,
  scaled: bigint,
  limit: number = LIMITS.positionsPerSubAccount,
  field = 'asset',
): SubAccountState {
  const positions: ScaledPosition[] = [];
  let placed = false;
  for (const position of sub.positions) {
    if (!placed && position.asset >= asset) {
      if (scaled !== 0n) positions.push({ asset, scaled });
      placed = true;
      if (position.asset === asset) continue;
    }
    positions.push(position);
  }
  if (!placed && scaled !== 0n) positions.push({ asset, scaled });
  if (positions.length > limit && positions.length > sub.positions.length) {
    throw new FulcrumError(
      'limit_exceeded',
      `a sub-account may hold at most ${limit} assets`,
      field,
    );
  }
  return sub.derivatives === undefined
    ? { number: sub.number, positions }
    : { number: sub.number, positions, derivatives: sub.derivatives };
}
