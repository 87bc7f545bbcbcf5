/**
 * The remembered block hashes on their own: a chain of fake headers, reorganized by hand.
 */
import { describe, expect, it } from 'vitest';
import type { Hex } from 'viem';
import { HeaderChain, type BlockHeader } from '../../src/chains/headers.js';

/** A chain of headers: `fork` names the history, so two histories share no hash past a fork. */
function history(length: number, fork = 'a', from: readonly BlockHeader[] = []): BlockHeader[] {
  const blocks = [...from];
  for (let n = blocks.length; n < length; n++) {
    const parent = blocks[n - 1]?.hash ?? (`0x${'0'.repeat(64)}` as Hex);
    const hash = `0x${fork.charCodeAt(0).toString(16)}${n.toString(16).padStart(62, '0')}` as Hex;
    blocks.push({ number: n, hash, parentHash: parent, timestamp: 1_000 + n });
  }
  return blocks;
}

function fetcher(blocks: readonly BlockHeader[]) {
  return (n: number): Promise<BlockHeader> => {
    const block = blocks[n];
    if (block === undefined) throw new Error(`no block ${n}`);
    return Promise.resolve(block);
  };
}

async function sync(chain: HeaderChain, blocks: readonly BlockHeader[]) {
  const head = blocks.at(-1) as BlockHeader;
  return chain.sync(head, fetcher(blocks));
}

describe('HeaderChain', () => {
  it('follows a growing chain without a rewind', async () => {
    const chain = new HeaderChain(100);
    const a = history(10);
    expect(await sync(chain, a.slice(0, 5))).toEqual({ kind: 'synced', rewoundFrom: null });
    expect(await sync(chain, a)).toEqual({ kind: 'synced', rewoundFrom: null });
    expect(chain.top()?.number).toBe(9);
  });

  it('rewinds to the last common block when a fork replaces the top', async () => {
    const chain = new HeaderChain(100);
    const a = history(10);
    await sync(chain, a);
    // Blocks 7.. replaced by another history, as long and then longer.
    const b = history(12, 'b', a.slice(0, 7));
    expect(await sync(chain, b)).toEqual({ kind: 'synced', rewoundFrom: 7 });
    expect(chain.get(7)?.hash).toBe(b[7]?.hash);
    expect(chain.top()?.hash).toBe(b[11]?.hash);
  });

  it('rewinds when the chain gets shorter (a revert with nothing mined after)', async () => {
    const chain = new HeaderChain(100);
    const a = history(10);
    await sync(chain, a);
    expect(await sync(chain, a.slice(0, 6))).toEqual({ kind: 'synced', rewoundFrom: 6 });
    expect(chain.top()?.number).toBe(5);
  });

  it('reports a chain that moved while it was read (a parent hash that does not match)', async () => {
    const chain = new HeaderChain(100);
    const a = history(10);
    await sync(chain, a.slice(0, 5));
    // Head from history a, blocks 5.. from history b: block 5's parent is a's block 4, but
    // block 6 (from a) does not have b's block 5 as parent.
    const b = history(10, 'b', a.slice(0, 5));
    const mixed = (n: number) => Promise.resolve((n === 5 ? b[5] : a[n]) as BlockHeader);
    expect(await chain.sync(a[9] as BlockHeader, mixed)).toEqual({ kind: 'moved' });
  });

  it('reports a reorganization below everything it remembers', async () => {
    const chain = new HeaderChain(100);
    const a = history(10);
    await sync(chain, a);
    chain.pruneBelow(6);
    const b = history(12, 'b', a.slice(0, 3));
    expect(await sync(chain, b)).toEqual({ kind: 'deep', below: 6 });
  });

  it('holds at most its window of blocks', async () => {
    const chain = new HeaderChain(8);
    const a = history(50);
    let fetched = 0;
    const counting = (n: number) => {
      fetched += 1;
      return fetcher(a)(n);
    };
    await chain.sync(a[49] as BlockHeader, counting);
    expect(fetched).toBeLessThanOrEqual(8);
    expect(chain.get(41)).toBeUndefined();
    expect(chain.get(42)?.hash).toBe(a[42]?.hash);
  });
});
