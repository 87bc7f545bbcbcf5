/**
 * The leader lease: one key per shard in a JetStream key-value bucket whose entries expire
 * after the bucket's TTL. A contender creates the key (refused while another holds it), or
 * takes over a key whose revision it has seen unchanged for a TTL; the holder renews it with a compare-and-set on its revision well within the TTL; a renewal that
 * fails means the lease is lost, and the holder stops acting as leader at once. The revision
 * of the create that won is the term: revisions only rise, so every new leader's term is higher
 * than every earlier one's, and the log refuses batches of an older term (see `applier.ts`).
 */
import type { KV } from 'nats';

export class Lease {
  private readonly kv: KV;
  private readonly key: string;
  private readonly node: string;
  /** The term held (the winning create's revision), or null. */
  term: number | null = null;
  private revision = 0;

  constructor(kv: KV, key: string, node: string) {
    this.kv = kv;
    this.key = key;
    this.node = node;
  }

  /** Why the last attempt to take the lease failed (another holds it, or the bucket's error). */
  lastRefusal = '';

  /** The holder's revision as this contender first saw it, and when (its own clock). */
  private watched: { revision: number; sinceMs: number } | null = null;

  /**
   * Tries to take the lease; resolves with the term, or null while another holds it. A key
   * whose revision this contender has seen unchanged for a whole TTL (`nowMs`, `ttlMs`: its
   * own clock) belongs to a holder that stopped renewing: it is taken over by compare-and-set
   * on that revision, without waiting for the server to expire it (which takes up to two TTLs).
   */
  async tryAcquire(nowMs: number, ttlMs: number): Promise<number | null> {
    try {
      return this.won(await this.kv.create(this.key, this.value()));
    } catch (error) {
      this.lastRefusal = (error as Error).message;
    }
    try {
      const entry = await this.kv.get(this.key);
      if (entry === null || entry.operation !== 'PUT') return null;
      if (entry.revision !== this.watched?.revision) {
        this.watched = { revision: entry.revision, sinceMs: nowMs };
        return null;
      }
      if (nowMs - this.watched.sinceMs < ttlMs) return null;
      return this.won(await this.kv.update(this.key, this.value(), entry.revision));
    } catch (error) {
      this.lastRefusal = (error as Error).message;
      return null;
    }
  }

  private won(revision: number): number {
    this.term = revision;
    this.revision = revision;
    this.watched = null;
    return revision;
  }

  /** Renews the lease; false when it is lost (another holds it, or the bucket did not answer). */
  async renew(): Promise<boolean> {
    if (this.term === null) return false;
    try {
      this.revision = await this.kv.update(this.key, this.value(), this.revision);
      return true;
    } catch {
      this.term = null;
      return false;
    }
  }

  /** Gives the lease up (a graceful stop): the next contender need not wait for the TTL. */
  async release(): Promise<void> {
    if (this.term === null) return;
    const revision = this.revision;
    this.term = null;
    try {
      await this.kv.delete(this.key, { previousSeq: revision });
    } catch {
      // Expiry releases it anyway.
    }
  }

  /** Who holds the lease now, as the bucket says. */
  async holder(): Promise<{ node: string; revision: number } | null> {
    const entry = await this.kv.get(this.key);
    if (entry === null || entry.operation !== 'PUT') return null;
    const value = JSON.parse(entry.string()) as { node: string };
    return { node: value.node, revision: entry.revision };
  }

  private value(): string {
    return JSON.stringify({ node: this.node, term: this.term });
  }
}
