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

/**
 * The engine: one `EngineState` and the commands that change it, with the usual questions about
 * it (health, liquidation status, pools, the state hash). Deterministic: the same commands give
 * the same state and the same hash. A refused command (`result.ok` false, with a stable
 * `error.code`) changes nothing. For durability, wrap it in `DurableEngine` (`fulcrum/store`);
 * to follow liquidatable accounts, put a `LiquidationMonitor` beside it.
 *
 * @example
 * import { Engine, renderHealthReport } from 'fulcrum';
 *
 * const engine = new Engine();
 * const listing = (symbol, decimals, initialWeight, maintenanceWeight) => ({
 *   symbol,
 *   decimals,
 *   initialWeight,
 *   maintenanceWeight,
 * });
 * engine.applyJson({ type: 'list-asset', time: 0, price: '1', config: listing('USDC', 6, '0.85', '0.875') });
 * engine.applyJson({ type: 'list-asset', time: 0, price: '2000', config: listing('ETH', 18, '0.8', '0.825') });
 * engine.applyJson({ type: 'deposit', time: 1, account: 'lena', asset: 'USDC', amount: '100000' });
 * engine.applyJson({ type: 'deposit', time: 1, account: 'alice', asset: 'ETH', amount: '10' });
 * const borrowed = engine.applyJson({
 *   type: 'borrow',
 *   time: 2,
 *   account: 'alice',
 *   asset: 'USDC',
 *   amount: '12000',
 * });
 * console.log(borrowed.ok, borrowed.sequence);
 * // → true 5
 * // Beyond initial margin: refused, and nothing changes.
 * const refused = engine.applyJson({
 *   type: 'borrow',
 *   time: 3,
 *   account: 'alice',
 *   asset: 'USDC',
 *   amount: '5000',
 * });
 * console.log(refused.ok ? 'accepted' : refused.error.code);
 * // → insufficient_collateral
 * const report = renderHealthReport(engine.health({ account: 'alice', subAccount: 0 }));
 * console.log(report.healthFactor, report.liquidationPrices.ETH);
 * // → 1.375 1454.545454545454545455
 */
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
