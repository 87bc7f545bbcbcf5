/** A small seeded generator for benchmark workloads (xorshift128+): same seed, same workload. */
export class Random {
  private s0: bigint;
  private s1: bigint;

  constructor(seed: number) {
    this.s0 = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n;
    this.s1 = (BigInt(seed) ^ 0xdeadbeefn) * 0xbf58476d1ce4e5b9n + 7n;
    for (let i = 0; i < 8; i++) this.nextU64();
  }

  nextU64(): bigint {
    const mask = (1n << 64n) - 1n;
    let x = this.s0;
    const y = this.s1;
    this.s0 = y;
    x ^= (x << 23n) & mask;
    this.s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return (this.s1 + y) & mask;
  }

  /** A float in [0, 1). */
  next(): number {
    return Number(this.nextU64() >> 11n) / 2 ** 53;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A bigint in [0, n), log-uniform in size so that small and huge amounts both appear. */
  bigIntBelow(n: bigint): bigint {
    const digits = n.toString().length;
    const take = 1 + this.int(digits);
    let value = 0n;
    for (let i = 0; i < take; i++) value = value * 10n + BigInt(this.int(10));
    return value % n;
  }
}
