/**
 * Idempotency keys for commands. A client that sends `Idempotency-Key: K` with a command gets,
 * for any later request with the same key and the same body, the answer of the first (the
 * command is not applied again); the same key with another body is refused
 * (`idempotency_conflict`). A request that arrives while the first is still waiting for the
 * journal waits for the same answer. Keys are scoped to the API key that sent them.
 *
 * Memory is bounded: at most `max` keys are remembered, the oldest forgotten first. A key
 * forgotten is a key never seen: keep retries well within the last `max` commands. Answers that
 * say to try again later (429, 503) are not remembered, so that the retry does the work.
 */
import { createHash } from 'node:crypto';

/** An answer as sent: status and body. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly retryAfter?: number;
}

interface Entry {
  readonly digest: string;
  readonly answer: Promise<Answer>;
}

/** Letters, digits and `_ . : -`, 1 to 128 of them. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();
  readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The answer for `key` with a body of `digest`: the remembered one, `conflict` for another
   * body, or the answer `run` makes (remembered unless it says to retry).
   */
  async answer(
    key: string,
    digest: string,
    run: () => Promise<Answer>,
  ): Promise<Answer | 'conflict'> {
    if (this.max === 0) return run();
    const seen = this.entries.get(key);
    if (seen !== undefined) return seen.digest === digest ? seen.answer : 'conflict';
    const answer = run();
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const entry = { digest, answer };
    this.entries.set(key, entry);
    try {
      const done = await answer;
      if (done.status === 429 || done.status >= 500) this.forget(key, entry);
      return done;
    } catch (error) {
      this.forget(key, entry);
      throw error;
    }
  }

  private forget(key: string, entry: Entry): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
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
