/**
 * Idempotency keys for commands. A client that sends `Idempotency-Key: K` with a command gets,
 * for any later request with the same key and the same body, the answer of the first (the
 * command is not applied again); the same key with another body is refused
 * (`idempotency_conflict`). A request that arrives while the first is still waiting for the
 * journal waits for the same answer. Keys are scoped to the API key that sent them.
 *
 * Memory is bounded twice: at most `perOwner` keys of one API key (its oldest forgotten first,
 * so that one key's traffic never pushes out another's), and at most `max` in all (the oldest
 * forgotten first). A request still waiting for its answer is never forgotten (the bounds may be
 * passed by those, which the queue bounds). Only answers of journaled commands are remembered:
 * a request that never became a command (refused before it was applied: 4xx of the service or
 * of the decoder, 429, 503) leaves nothing, so that neither junk nor a retry-later fills the
 * memory. Keys live in memory only: they do not survive a restart (docs/SERVER.md).
 */
import { createHash } from 'node:crypto';

/** An answer as sent: status and body. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly retryAfter?: number;
  /** Whether the request became a journaled command (only those are remembered). */
  readonly journaled?: boolean;
}

interface Entry {
  readonly owner: string;
  readonly digest: string;
  readonly answer: Promise<Answer>;
  settled: boolean;
}

/** Letters, digits and `_ . : -`, 1 to 128 of them. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

export class IdempotencyCache {
  /** Every entry, oldest first, by owner and key. */
  private readonly entries = new Map<string, Entry>();
  /** Each owner's entries' keys, oldest first. */
  private readonly owners = new Map<string, Set<string>>();
  readonly max: number;
  readonly perOwner: number;

  constructor(max: number, perOwner = max) {
    this.max = max;
    this.perOwner = Math.min(perOwner, max);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The answer for `owner`'s `key` with a body of `digest`: the remembered one, `conflict` for
   * another body, or the answer `run` makes (remembered when it is a journaled command's).
   */
  async answer(
    owner: string,
    key: string,
    digest: string,
    run: () => Promise<Answer>,
  ): Promise<Answer | 'conflict'> {
    if (this.max === 0) return run();
    const id = `${owner}\u0000${key}`;
    const seen = this.entries.get(id);
    if (seen !== undefined) return seen.digest === digest ? seen.answer : 'conflict';
    const answer = run();
    const entry: Entry = { owner, digest, answer, settled: false };
    this.entries.set(id, entry);
    const mine = this.owners.get(owner) ?? new Set<string>();
    this.owners.set(owner, mine);
    mine.add(id);
    try {
      const done = await answer;
      if (done.journaled === true) {
        entry.settled = true;
        this.evict(mine, this.perOwner);
        this.evict(this.entries.keys(), this.max);
      } else {
        this.forget(id, entry);
      }
      return done;
    } catch (error) {
      this.forget(id, entry);
      throw error;
    }
  }

  /** Forgets the oldest settled entries among `ids` while there are more than `bound`. */
  private evict(ids: Iterable<string>, bound: number): void {
    const count = () => (ids instanceof Set ? ids.size : this.entries.size);
    // Deleting while iterating is safe for a Map's and a Set's iterators.
    for (const id of ids) {
      if (count() <= bound) return;
      const entry = this.entries.get(id);
      if (entry !== undefined && entry.settled) this.forget(id, entry);
    }
  }

  private forget(id: string, entry: Entry): void {
    if (this.entries.get(id) !== entry) return;
    this.entries.delete(id);
    const mine = this.owners.get(entry.owner);
    mine?.delete(id);
    if (mine?.size === 0) this.owners.delete(entry.owner);
  }
}

/**
 * A digest of a JSON body that does not depend on its keys' order or its spacing: two bodies
 * with the same digest are the same command.
 */
export function bodyDigest(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
