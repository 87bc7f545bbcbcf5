/**
 * The Fiat-Shamir transcript of every proof: a chained SHA-512 state over labelled,
 * length-prefixed messages. It starts from the protocol's domain, the snapshot id and the
 * statement's context (what is being proven, about which leaf, node or asset), so a proof made
 * for one snapshot or one statement does not verify for another. Every public input of a proof
 * (its commitments and its first messages) is appended before the challenge is drawn.
 */
import { framed, scalarFromWide, sha512 } from './group.js';

export const PROTOCOL_DOMAIN = 'fulcrum/solvency/v1/transcript';

export class Transcript {
  private state: Uint8Array;

  private constructor(state: Uint8Array) {
    this.state = state;
  }

  /** A transcript bound to the snapshot and the statement's context. */
  static start(snapshotId: string, context: readonly string[]): Transcript {
    return new Transcript(sha512(framed([PROTOCOL_DOMAIN, snapshotId, ...context])));
  }

  append(label: string, data: Uint8Array): void {
    this.state = sha512(framed([this.state, label, data]));
  }

  /** The state so far: the prover derives its blindings and nonces from it. */
  digest(): Uint8Array {
    return this.state;
  }

  /** A challenge scalar, uniform mod ℓ; the label is appended first. */
  challenge(label: string): bigint {
    this.append(label, new Uint8Array(0));
    return scalarFromWide(sha512(framed([this.state, 'challenge'])));
  }

  clone(): Transcript {
    return new Transcript(this.state);
  }
}
