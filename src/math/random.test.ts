import { describe, expect, it } from 'vitest';
import { SeededRandom } from './random.js';

describe('SeededRandom', () => {
  it('draws the same mulberry32 numbers for a seed, every time', () => {
    // The simulator's populations and markets, and the figures in the README, rest on these.
    const random = new SeededRandom(1);
    expect([random.next(), random.next(), random.next()]).toEqual([
      0.6270739405881613, 0.002735721180215478, 0.5274470399599522,
    ]);
    const again = new SeededRandom(1);
    expect(again.next()).toBe(0.6270739405881613);
  });

  it('builds every draw on next(), a fixed number of calls each', () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    const u = b.next();
    const v = b.next();
    expect(a.normal()).toBe(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
    expect(a.integer(3, 9)).toBe(3 + Math.floor(b.next() * 7));
    expect(a.chance(0.5)).toBe(b.next() < 0.5);
    expect(a.pick(['x', 'y', 'z'])).toBe(['x', 'y', 'z'][Math.floor(b.next() * 3)]);
  });

  it('keeps every draw within its range', () => {
    const random = new SeededRandom(11);
    const counts = { rare: 0, common: 0 };
    for (let i = 0; i < 2_000; i++) {
      const n = random.integer(-2, 2);
      expect(n >= -2 && n <= 2 && Number.isInteger(n)).toBe(true);
      const below = random.bigintBelow(10n ** 30n);
      expect(below >= 0n && below < 10n ** 30n).toBe(true);
      const anySize = random.bigintOfAnySizeBelow(1_000n);
      expect(anySize >= 0n && anySize < 1_000n).toBe(true);
      counts[random.weighted({ rare: 1, common: 9 })]++;
    }
    expect(random.bigintBelow(0n)).toBe(0n);
    // 1 in 10 of 2,000 draws: 200 expected, far outside 100..300 only by a broken draw.
    expect(counts.rare).toBeGreaterThan(100);
    expect(counts.rare).toBeLessThan(300);
  });
});
