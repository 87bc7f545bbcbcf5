/**
 * The single writer: `applyCommand(state, command)` returns the result and the events, and
 * changes the state only when the command is accepted. `dryRun` runs the very same code on a
 * draft that is never committed: pre-trade checks, what-ifs and the simulator use it.
 */
import { FulcrumError } from '../base/errors.js';
import type { Command } from './commands.js';
import { Draft } from './draft.js';
import type { EngineEvent } from './events.js';
import { accruePool, borrow, deposit, repay, transfer, withdraw } from './lending.js';
import { backstop, configureLiquidation, liquidate, resolveBankruptcy } from './liquidate.js';
import { liquidatePosition } from './liquidatePosition.js';
import { deleverage } from './deleverage.js';
import {
  chainCheckpoint,
  chainDeposit,
  chainWithdraw,
  chainWithdrawalExpired,
  chainWithdrawalPaid,
  listChain,
  setChainStatus,
} from './chains.js';
import { configureVenue, listAsset, quote, setPrice, setWeights } from './market.js';
import {
  expire,
  listInstrument,
  setMode,
  settleFunding,
  settlePnl,
  setVolatility,
  trade,
} from './trading.js';
import type { EngineState, SubAccountRef } from './state.js';
import { validateCommand } from './validate.js';

export type CommandResult =
  | {
      readonly ok: true;
      /** Sequence number of the command among accepted commands (1, 2, ...). */
      readonly sequence: number;
      readonly time: number;
      readonly events: readonly EngineEvent[];
      /** The sub-accounts whose balances the command changed (for indexes kept beside the state). */
      readonly touched: readonly SubAccountRef[];
    }
  | { readonly ok: false; readonly error: FulcrumError };

/**
 * Applies one command. Accepted: the state moves on, `sequence` grows by one. Refused: the
 * result carries a {@link FulcrumError} and the state is exactly as before. `beforeCommit`, if
 * given, sees an accepted command's draft just before it is written into the state.
 *
 * @example
 * const state = createState();
 * const result = applyCommand(state, { type: 'deposit', time: 1, account: 'alice',
 *   subAccount: 0, asset: 'ETH', amount: 10n ** 18n });
 */
export function applyCommand(
  state: EngineState,
  command: Command,
  beforeCommit?: (draft: Draft) => void,
): CommandResult {
  const { result, draft } = run(state, command);
  if (result.ok && draft !== undefined) {
    // The effects journal reads an accepted command's changes here, against the state they replace.
    beforeCommit?.(draft);
    draft.commit();
  }
  return result;
}

/**
 * Runs a command without changing the state. The draft it returns answers questions about the
 * state the command would leave (`draft.health(ref)`, `draft.asset(i)`) until the next command
 * is applied; after that, using it is a programmer error.
 */
export function dryRun(
  state: EngineState,
  command: Command,
): { result: CommandResult; draft: Draft | undefined } {
  return run(state, command);
}

function run(
  state: EngineState,
  command: Command,
): { result: CommandResult; draft: Draft | undefined } {
  try {
    validateCommand(command, state);
    const draft = new Draft(state, command.time);
    HANDLERS[command.type](draft, command as never);
    const result: CommandResult = {
      ok: true,
      sequence: state.sequence + 1,
      time: command.time,
      events: draft.events,
      touched: draft.touched(),
    };
    return { result, draft };
  } catch (error) {
    if (error instanceof FulcrumError) return { result: { ok: false, error }, draft: undefined };
    throw error;
  }
}

type Handler<C extends Command> = (draft: Draft, command: C) => void;

const HANDLERS: { readonly [T in Command['type']]: Handler<Extract<Command, { type: T }>> } = {
  'list-asset': listAsset,
  'set-price': setPrice,
  'set-weights': setWeights,
  quote,
  deposit,
  withdraw,
  borrow,
  repay,
  transfer,
  accrue: accruePool,
  'configure-liquidation': configureLiquidation,
  'configure-venue': configureVenue,
  liquidate,
  backstop,
  'resolve-bankruptcy': resolveBankruptcy,
  'list-instrument': listInstrument,
  trade,
  'settle-funding': settleFunding,
  expire,
  'set-mode': setMode,
  'settle-pnl': settlePnl,
  'liquidate-position': liquidatePosition,
  deleverage,
  'set-volatility': setVolatility,
  'list-chain': listChain,
  'chain-deposit': chainDeposit,
  'chain-checkpoint': chainCheckpoint,
  'chain-withdraw': chainWithdraw,
  'chain-withdrawal-paid': chainWithdrawalPaid,
  'chain-withdrawal-expired': chainWithdrawalExpired,
  'set-chain-status': setChainStatus,
};
