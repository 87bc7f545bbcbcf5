/**
 * The sharding simulation: deterministic for its seed, never above the leaders' analytic
 * capacity, and it shows the pool shard as the limit of cross-shard borrowing.
 */
import { describe, expect, it } from 'vitest';
import { saturationRate, simulateShards } from '../../src/replication/shardSim.js';

const BASE = {
  shards: 1,
  poolShare: 0.2,
  batchMax: 256,
  appendMs: 1,
  applyUs: 10,
  relayMs: 0.5,
  seconds: 0.25,
  seed: 7,
};

describe('simulateShards', () => {
  it('gives the same figures for the same seed', () => {
    const a = simulateShards({ ...BASE, rate: 20_000 });
    expect(simulateShards({ ...BASE, rate: 20_000 })).toEqual(a);
    expect(a.completed).toBeGreaterThan(0);
    expect(a.inFlight).toBeLessThan(20_000 * 0.05);
  });

  it('saturates one shard below its leader capacity: batchMax / (append + batchMax x apply)', () => {
    // 256 commands per 1 ms + 256 x 10 µs = 3.56 ms: at most 71,910 commands a second.
    const capacity = 256 / ((1 + (256 * 10) / 1_000) / 1_000);
    const { rate } = saturationRate({ ...BASE, seconds: 1 }, 50);
    // A one-second run cannot see a queue growing by less than about a batch a second.
    expect(rate).toBeLessThanOrEqual(capacity * 1.01);
    expect(rate).toBeGreaterThan(capacity * 0.5);
  });

  it('scales with account shards until the pool shard is the limit', () => {
    const one = saturationRate(BASE, 50).rate;
    const fourLocal = saturationRate({ ...BASE, shards: 4, poolShare: 0 }, 50).rate;
    const fourHalfPool = saturationRate({ ...BASE, shards: 4, poolShare: 0.5 }, 50).rate;
    expect(fourLocal).toBeGreaterThan(one * 3);
    // Half the commands through one pool shard: at most twice one shard's capacity.
    expect(fourHalfPool).toBeLessThan(fourLocal);
    expect(fourHalfPool).toBeLessThanOrEqual(one * 2.2);
  });
});
