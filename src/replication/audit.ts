/**
 * Divergence detection: every replica publishes its state hash at the same checkpoints (every
 * `checkpointEvery` stream sequences, after applying that entry), and reads the others'. A
 * replica whose hash differs from one a majority of the replicas published is the odd one out:
 * it must stop, loudly. A replica whose hash a majority shares only reports the odd peer. If
 * every replica reported and no hash has a majority, each one stops (no one can tell which
 * state is right). Pure: the caller publishes and reads, and halts on `diverged`.
 */

export type AuditVerdict =
  | { readonly kind: 'pending' }
  | { readonly kind: 'agree'; readonly seq: number; readonly replicas: number }
  | {
      readonly kind: 'diverged';
      readonly seq: number;
      readonly mine: string;
      readonly others: string;
      readonly reporters: number;
    }
  | { readonly kind: 'peer-diverged'; readonly seq: number; readonly nodes: readonly string[] };

export class AuditBook {
  private readonly self: string;
  private readonly replicas: number;
  private readonly keep: number;
  /** Hashes by checkpoint sequence, then by node; oldest checkpoint first. */
  private readonly checkpoints = new Map<number, Map<string, string>>();
  private readonly decided = new Set<string>();

  /**
   * @param self this replica's node id
   * @param replicas how many replicas the shard runs (a majority of them decides)
   * @param keep checkpoints remembered (older reports are dropped)
   */
  constructor(self: string, replicas: number, keep = 256) {
    this.self = self;
    this.replicas = Math.max(1, replicas);
    this.keep = keep;
  }

  /** A hash reported (by this replica or a peer) for checkpoint `seq`. */
  report(node: string, seq: number, hash: string): AuditVerdict {
    let hashes = this.checkpoints.get(seq);
    if (hashes === undefined) {
      hashes = new Map();
      this.checkpoints.set(seq, hashes);
      if (this.checkpoints.size > this.keep) {
        const oldest = this.checkpoints.keys().next();
        if (oldest.done !== true) this.checkpoints.delete(oldest.value);
      }
    }
    hashes.set(node, hash);
    return this.verdict(seq, hashes);
  }

  private verdict(seq: number, hashes: ReadonlyMap<string, string>): AuditVerdict {
    const mine = hashes.get(this.self);
    if (mine === undefined) return { kind: 'pending' };
    const counts = new Map<string, number>();
    for (const hash of hashes.values()) counts.set(hash, (counts.get(hash) ?? 0) + 1);
    const majority = Math.floor(this.replicas / 2) + 1;
    const mineCount = counts.get(mine) ?? 0;
    for (const [hash, count] of counts) {
      if (hash === mine) continue;
      const lost = count >= majority || (hashes.size >= this.replicas && mineCount < majority);
      if (lost) {
        return { kind: 'diverged', seq, mine, others: hash, reporters: hashes.size };
      }
    }
    if (counts.size > 1 && mineCount >= majority) {
      const nodes = [...hashes].filter(([, hash]) => hash !== mine).map(([node]) => node);
      const id = `${seq}:${nodes.join(',')}`;
      if (this.decided.has(id)) return { kind: 'pending' };
      this.decided.add(id);
      return { kind: 'peer-diverged', seq, nodes };
    }
    return counts.size === 1 && hashes.size > 1
      ? { kind: 'agree', seq, replicas: hashes.size }
      : { kind: 'pending' };
  }
}
