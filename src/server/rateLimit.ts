/**
 * Rate limits per API key: a token bucket each, refilled continuously at `perSecond` up to
 * `burst`. The map of buckets is bounded: past `bucketsMax` the least recently used is dropped
 * (it comes back full, which only ever favours a key that has been quiet longest).
 */

export interface Bucket {
  tokens: number;
  at: number;
}

export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly bucketsMax: number;

  constructor(bucketsMax = 100_000) {
    this.bucketsMax = bucketsMax;
  }

  get size(): number {
    return this.buckets.size;
  }

  /**
   * Takes one token from `id`'s bucket at `nowMs`: 0 when taken, otherwise the whole seconds
   * to wait before one is there (for Retry-After).
   */
  take(id: string, limit: RateLimit, nowMs: number): number {
    let bucket = this.buckets.get(id);
    if (bucket === undefined) {
      bucket = { tokens: limit.burst, at: nowMs };
      if (this.buckets.size >= this.bucketsMax) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    } else {
      this.buckets.delete(id); // re-inserted below: the map's order is least recently used first
      const elapsed = Math.max(0, nowMs - bucket.at) / 1000;
      bucket.tokens = Math.min(limit.burst, bucket.tokens + elapsed * limit.perSecond);
      bucket.at = nowMs;
    }
    this.buckets.set(id, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond));
  }
}
