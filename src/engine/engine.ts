/**
 * `Engine`: a convenience wrapper that owns one state and answers the usual questions about it.
 * Everything it does is also available as plain functions over an `EngineState`.
 */
import { FulcrumError } from '../base/errors.js';
import type { HealthReport } from '../margin/report.js';
import { applyCommand, type CommandResult, dryRun } from './apply.js';
import type { Command } from './commands.js';
import { decodeCommand } from './decode.js';
import type { Draft } from './draft.js';
import {
  type LiquidationStatus,
  liquidationStatus,
  poolSummaries,
  subAccountReport,
} from './queries.js';
import { createState, type EngineState, type SubAccountRef } from './state.js';
import { stateHash } from './stateHash.js';

export class Engine {
  readonly state: EngineState;

  constructor(state: EngineState = createState()) {
    this.state = state;
  }

  /** Applies a typed command; see {@link applyCommand}. */
  apply(command: Command): CommandResult {
    return applyCommand(this.state, command);
  }

  /**
   * Decodes and applies a JSON command (already parsed). A command that cannot be decoded is
   * refused like any other, with nothing changed.
   *
   * @example
   * engine.applyJson({ type: 'deposit', time: 1, account: 'alice', asset: 'ETH', amount: '10' });
   */
  applyJson(input: unknown): CommandResult {
    const decoded = decodeJson(input, this.state);
    return decoded instanceof FulcrumError ? { ok: false, error: decoded } : this.apply(decoded);
  }

  /** Runs a command without changing anything; the draft describes the state it would leave. */
  dryRun(command: Command): { result: CommandResult; draft: Draft | undefined } {
    return dryRun(this.state, command);
  }

  health(ref: SubAccountRef, time?: number): HealthReport {
    return subAccountReport(this.state, ref, time);
  }

  /** Whether the sub-account may be liquidated now (see {@link liquidationStatus}). */
  liquidation(ref: SubAccountRef, time?: number): LiquidationStatus {
    return liquidationStatus(this.state, ref, time);
  }

  pools(): ReturnType<typeof poolSummaries> {
    return poolSummaries(this.state);
  }

  hash(): string {
    return stateHash(this.state);
  }
}

/** Decodes a JSON command, returning the refusal instead of throwing it. */
export function decodeJson(input: unknown, state: EngineState): Command | FulcrumError {
  try {
    return decodeCommand(input, state);
  } catch (error) {
    if (error instanceof FulcrumError) return error;
    throw error;
  }
}
