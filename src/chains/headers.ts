/**
 * The block hashes a watcher remembers, from the last final block up to the head it last saw,
 * and how it notices a reorganization: a new block whose parent hash is not the hash remembered
 * for the block below it, or a remembered block the chain no longer has. It then rewinds to the
 * last block both agree on.
 */
import type { Hex } from 'viem';

export interface BlockHeader {
  readonly number: number;
  readonly hash: Hex;
  readonly parentHash: Hex;
  /** Unix seconds. */
  readonly timestamp: number;
}

export type SyncOutcome =
  /** Remembered blocks agree with the chain; `rewoundFrom` is the first block a reorg replaced. */
  | { readonly kind: 'synced'; readonly rewoundFrom: number | null }
  /** The chain moved while it was read (a parent hash changed under the walk): read again later. */
  | { readonly kind: 'moved' }
  /** Every remembered block was replaced: the reorg reaches below what the watcher remembers. */
  | { readonly kind: 'deep'; readonly below: number };

/**
 * Headers from `floor` (the last final block the watcher keeps as an anchor) to the head it saw.
 * Bounded: it never holds more than `window` blocks.
 */
export class HeaderChain {
  private readonly byNumber = new Map<number, BlockHeader>();
  private low = 0;
  private high = -1;

  constructor(private readonly window: number) {}

  get(number: number): BlockHeader | undefined {
    return this.byNumber.get(number);
  }

  /** The highest block remembered, or undefined when none is. */
  top(): BlockHeader | undefined {
    return this.byNumber.get(this.high);
  }

  /**
   * Brings the remembered blocks in line with the chain whose head is `head`: walks down from the
   * lower of the remembered top and the head until the chain's block has the remembered hash
   * (every block above is dropped: the rewind), then up to the head, each block's parent hash
   * checked against the block below. Reads at most `window` blocks.
   */
  async sync(
    head: BlockHeader,
    fetch: (number: number) => Promise<BlockHeader>,
  ): Promise<SyncOutcome> {
    let rewoundFrom: number | null = null;
    if (this.high >= this.low && this.byNumber.size > 0) {
      let n = Math.min(this.high, head.number);
      if (head.number < this.high) rewoundFrom = head.number + 1;
      while (n >= this.low) {
        const chainBlock = n === head.number ? head : await fetch(n);
        if (chainBlock.hash === this.byNumber.get(n)?.hash) break;
        rewoundFrom = n;
        n -= 1;
      }
      if (n < this.low) {
        const below = this.low;
        this.clear();
        return { kind: 'deep', below };
      }
      this.dropAbove(n);
    }
    const from =
      this.byNumber.size === 0 ? Math.max(0, head.number - this.window + 1) : this.high + 1;
    if (head.number - from + 1 > this.window) {
      // Too far behind to walk every header: start again from the window below the head.
      this.clear();
      return this.extend(Math.max(0, head.number - this.window + 1), head, fetch, rewoundFrom);
    }
    return this.extend(from, head, fetch, rewoundFrom);
  }

  /** Forgets blocks below `number` (they are final: no reorg is expected to reach them). */
  pruneBelow(number: number): void {
    while (this.low < number && this.low <= this.high) {
      this.byNumber.delete(this.low);
      this.low += 1;
    }
  }

  private async extend(
    from: number,
    head: BlockHeader,
    fetch: (number: number) => Promise<BlockHeader>,
    rewoundFrom: number | null,
  ): Promise<SyncOutcome> {
    for (let n = from; n <= head.number; n++) {
      const block = n === head.number ? head : await fetch(n);
      const below = this.byNumber.get(n - 1);
      if (below !== undefined && block.parentHash !== below.hash) return { kind: 'moved' };
      if (this.byNumber.size === 0) this.low = n;
      this.byNumber.set(n, block);
      this.high = n;
    }
    return { kind: 'synced', rewoundFrom };
  }

  private dropAbove(n: number): void {
    for (let k = this.high; k > n; k--) this.byNumber.delete(k);
    this.high = n;
    if (this.high < this.low) this.clear();
  }

  private clear(): void {
    this.byNumber.clear();
    this.low = 0;
    this.high = -1;
  }
}
