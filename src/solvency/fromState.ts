/**
 * The inputs of a snapshot's solvency proof from an engine state at its time: the public table
 * (every listed asset, at the engine's maintenance margin prices and weights) and every trader
 * sub-account's signed balances, read through the engine's own amounts (scaled balances times
 * the pools' indexes, supply rounded down and debt up, as the engine values them).
 *
 * Derivatives are refused, not left out: the statement proves lending balances only (the
 * derivatives' maintenance terms are the next step, docs/SOLVENCY.md), and a sub-account with
 * derivatives positions or unsettled derivatives profit could be healthy only thanks to them, or
 * unhealthy only because of them. Leaving it out would also drop its balances from the published
 * totals. {@link DerivativesNotProven} names every such sub-account instead.
 *
 * The venue's own accounts (ids beginning with `@`: the insurance fund, the settlement reserve,
 * the fee account) are not liabilities to users: they are left out of the tree and listed in
 * {@link SolvencyInputs.venueAccounts}, so that the statement says so.
 */
import { Draft } from '../engine/draft.js';
import { Engine } from '../engine/engine.js';
import { scaledBalance } from '../engine/positions.js';
import {
  type EngineState,
  RESERVED_ACCOUNT_PREFIX,
  type SubAccountState,
} from '../engine/state.js';
import { buildProofTable, type ProofTable, tableInputFromRisk } from './table.js';
import type { AccountBalances } from './tree.js';

/** A snapshot's table, accounts and identity, ready for `buildSolvencyTree`. */
export interface SolvencyInputs {
  /** `fulcrum/seq=<journal position>/state=<state hash>`. */
  readonly snapshotId: string;
  readonly seq: number;
  readonly stateHash: string;
  /** The state's time (unix seconds): balances and prices are those of that moment. */
  readonly time: number;
  readonly table: ProofTable;
  /** One per trader sub-account that holds or owes something, as `account/number`. */
  readonly accounts: readonly AccountBalances[];
  /** The venue's own sub-accounts, left out of the tree (not liabilities to users). */
  readonly venueAccounts: readonly string[];
}

/** Sub-accounts with derivatives: the proof does not cover them yet, so none is made. */
export class DerivativesNotProven extends Error {
  override readonly name = 'DerivativesNotProven';
  readonly subAccounts: readonly string[];
  constructor(subAccounts: readonly string[]) {
    const shown = subAccounts.slice(0, 5).join(', ');
    const more = subAccounts.length > 5 ? ` and ${subAccounts.length - 5} more` : '';
    super(
      `solvency: ${subAccounts.length} sub-account(s) hold derivatives, which the proof does not cover yet: ${shown}${more}`,
    );
    this.subAccounts = subAccounts;
  }
}

/** The snapshot id of a journal position and the state hash there. */
export function snapshotIdOf(seq: number, stateHash: string): string {
  return `fulcrum/seq=${seq}/state=${stateHash}`;
}

function holdsDerivatives(sub: SubAccountState): boolean {
  const book = sub.derivatives;
  return book !== undefined && (book.positions.length > 0 || book.unsettled !== 0n);
}

/**
 * The proof's inputs at `seq` (the journal position the state was recovered at). Throws
 * {@link DerivativesNotProven} when any trader sub-account holds derivatives, and an Error when
 * no asset is listed.
 */
export function solvencyInputs(state: EngineState, seq: number): SolvencyInputs {
  if (state.assets.length === 0) throw new Error('solvency: no asset is listed at this position');
  const stateHash = new Engine(state).hash();
  const table = buildProofTable(state.assets.map((a) => tableInputFromRisk(a.risk, a.config)));
  const draft = new Draft(state, state.time);
  const accounts: AccountBalances[] = [];
  const venueAccounts: string[] = [];
  const derivatives: string[] = [];
  for (const account of state.accounts.values()) {
    for (const sub of account.subAccounts) {
      const id = `${account.id}/${sub.number}`;
      if (account.id.startsWith(RESERVED_ACCOUNT_PREFIX)) {
        venueAccounts.push(id);
        continue;
      }
      if (holdsDerivatives(sub)) derivatives.push(id);
      const balances = new Map<string, bigint>();
      for (const asset of state.assets) {
        const amount = draft.amountOf(asset.index, scaledBalance(sub, asset.index));
        if (amount !== 0n) balances.set(asset.config.symbol, amount);
      }
      accounts.push({ accountId: id, balances });
    }
  }
  if (derivatives.length > 0) throw new DerivativesNotProven(derivatives.sort());
  accounts.sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));
  return {
    snapshotId: snapshotIdOf(seq, stateHash),
    seq,
    stateHash,
    time: state.time,
    table,
    accounts,
    venueAccounts: venueAccounts.sort(),
  };
}
