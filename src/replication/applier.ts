/**
 * The deterministic reading of the log: every replica runs each entry through a `LogApplier`
 * in stream order and so makes the same decisions, with no clock and no network:
 *
 * - a term marker raises the term, once; a marker of a term not above the current one is
 *   ignored;
 * - a batch of commands is applied only when its term is the current term: a batch of an older
 *   term (a deposed leader that reached the log after its successor's marker) or of a term no
 *   marker announced is skipped whole, its commands `stale` (they never happened);
 * - a command whose idempotency key was applied before is not applied again: the first
 *   outcome is its answer (`duplicate`), so a client retrying after a failover, through another
 *   leader, gets the answer of the command the log already holds;
 * - a command that does not decode against the state is `invalid` (remembered like the rest).
 *
 * The table of keys is bounded (oldest forgotten first, in log order: the same on every
 * replica); a retry older than the last `dedupMax` commands is a new command.
 */
import { assert, FulcrumError } from '../base/errors.js';
import type { Command } from '../engine/commands.js';
import { decodeJson } from '../engine/engine.js';
import type { EngineState } from '../engine/state.js';
import { decodeEntry } from './envelope.js';

/** What applying one command did, as the leader answers it. */
export interface CommandOutcome {
  readonly key: string;
  readonly status: 'accepted' | 'refused' | 'invalid' | 'stale';
  /** Stream sequence of the entry that carried the command the first time. */
  readonly seq: number;
  /** The command's place in that entry. */
  readonly index: number;
  readonly term: number;
  /** The engine's sequence after an accepted command. */
  readonly sequence?: number;
  /**
   * The command's journal position: how many commands the log had handed to the engine up to
   * this one (accepted or refused). The same on every replica, so a replica's local journal
   * holds the command at this position.
   */
  readonly position?: number;
  /** The engine's (or the decoder's) refusal code. */
  readonly code?: string;
  /** Whether this answers a retry of a command applied before. */
  readonly duplicate: boolean;
}

/** Where commands go: an in-memory engine, or a durable engine's journal. */
export interface ApplyTarget {
  readonly state: EngineState;
  apply(command: Command): { ok: true; sequence: number } | { ok: false; code: string };
}

export interface EntryResult {
  readonly seq: number;
  readonly kind: 'term' | 'commands' | 'unreadable';
  /** The current term after the entry. */
  readonly term: number;
  /** One per command of a batch, in order; empty for a marker or an unreadable entry. */
  readonly outcomes: readonly CommandOutcome[];
}

/** The applier's state as a snapshot records it. */
export interface ApplierState {
  readonly seq: number;
  readonly term: number;
  readonly submitted: number;
  /** The key table's outcomes, oldest first. */
  readonly outcomes: readonly CommandOutcome[];
}

export class LogApplier {
  /** The current term: the highest term a marker announced. */
  term = 0;
  /** Stream sequence of the last entry read. */
  seq = 0;
  /** Commands handed to the target (accepted or refused by the engine). */
  submitted = 0;
  private readonly outcomes = new Map<string, CommandOutcome>();
  private readonly dedupMax: number;
  private target: ApplyTarget;

  constructor(target: ApplyTarget, options: { dedupMax?: number } = {}) {
    this.target = target;
    this.dedupMax = options.dedupMax ?? 200_000;
    assert(this.dedupMax >= 1, 'dedupMax is at least 1');
  }

  /** Switches the target (a replay engine hands over to the durable one at the same state). */
  retarget(target: ApplyTarget): void {
    this.target = target;
  }

  /** The remembered outcome of a key, as the answer to a retry. */
  answerOf(key: string): CommandOutcome | undefined {
    const seen = this.outcomes.get(key);
    return seen === undefined ? undefined : { ...seen, duplicate: true };
  }

  /** Applies the entry stored at stream sequence `seq` (sequences rise strictly). */
  applyEntry(seq: number, text: string): EntryResult {
    assert(seq > this.seq, `log entries in order: ${seq} after ${this.seq}`);
    this.seq = seq;
    const entry = decodeEntry(text);
    if (entry === null) return { seq, kind: 'unreadable', term: this.term, outcomes: [] };
    if (entry.kind === 'term') {
      if (entry.term > this.term) this.term = entry.term;
      return { seq, kind: 'term', term: this.term, outcomes: [] };
    }
    const current = entry.term === this.term;
    const outcomes = entry.commands.map((item, index): CommandOutcome => {
      if (!current) {
        return { key: item.key, status: 'stale', seq, index, term: entry.term, duplicate: false };
      }
      const seen = this.answerOf(item.key);
      if (seen !== undefined) return seen;
      const outcome = this.applyOne(item.key, item.command, seq, index, entry.term);
      this.remember(outcome);
      return outcome;
    });
    return { seq, kind: 'commands', term: this.term, outcomes };
  }

  private applyOne(
    key: string,
    input: unknown,
    seq: number,
    index: number,
    term: number,
  ): CommandOutcome {
    const base = { key, seq, index, term, duplicate: false };
    const decoded = decodeJson(input, this.target.state);
    if (decoded instanceof FulcrumError) return { ...base, status: 'invalid', code: decoded.code };
    this.submitted += 1;
    const position = this.submitted;
    const result = this.target.apply(decoded);
    return result.ok
      ? { ...base, status: 'accepted', sequence: result.sequence, position }
      : { ...base, status: 'refused', code: result.code, position };
  }

  /** What a snapshot keeps of the applier: its place in the log, its term and its key table. */
  exportState(): ApplierState {
    return {
      seq: this.seq,
      term: this.term,
      submitted: this.submitted,
      outcomes: [...this.outcomes.values()],
    };
  }

  /**
   * Takes up a snapshot's place in the log, term and key table (in log order, the oldest
   * first, as it was kept); only on an applier that has read nothing yet.
   */
  restoreState(state: ApplierState): void {
    assert(this.seq === 0 && this.outcomes.size === 0, 'restore into a fresh applier only');
    this.seq = state.seq;
    this.term = state.term;
    this.submitted = state.submitted;
    for (const outcome of state.outcomes) this.remember(outcome);
  }

  private remember(outcome: CommandOutcome): void {
    this.outcomes.set(outcome.key, outcome);
    if (this.outcomes.size <= this.dedupMax) return;
    const oldest = this.outcomes.keys().next();
    if (oldest.done !== true) this.outcomes.delete(oldest.value);
  }
}
