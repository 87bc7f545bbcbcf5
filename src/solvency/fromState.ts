/**
 * The inputs of a snapshot's solvency proof from an engine state at its time: the public table
 * (every listed asset, at the engine's maintenance margin prices and weights) and every trader
 * sub-account's signed balances, read through the engine's own amounts (scaled balances times
 * the pools' indexes, supply rounded down and debt up, as the engine values them).
 *
 * Derivatives: a sub-account's positions and unsettled profit enter its maintenance health as
 * the engine computes them (`Draft.extraMargin`, tier 2: weighted positive profit on the
 * collateral side, losses and requirements on the liability side, exact numerators over the
 * health's own denominator). Both are converted to surplus units, the collateral side rounded
 * down and the liability side up (against the venue), and committed in the leaf as the terms X
 * and Y (`account.ts`). They are values the venue computes: the proof shows "the balances and
 * these committed terms meet maintenance", and the owner checks their openings; it does not
 * derive them from committed positions (docs/SOLVENCY.md, "Derivatives").
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
import type { AssetConfig } from '../domain/asset.js';
import { type AssetRisk, NORM_DECIMALS } from '../margin/assetRisk.js';
import { VALUE_DECIMALS } from '../math/fixed.js';
import type { ExtraTerms } from './account.js';
import { buildProofTable, type ProofTable, type TableInput } from './table.js';
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

/**
 * The engine's weighted numerators (quote × VALUE_SCALE × 10^NORM_DECIMALS × WEIGHT_SCALE, see
 * `margin/health.ts`) in surplus units (quote × 10^priceExponent × WEIGHT_SCALE): the
 * collateral side rounded down, the liability side up.
 */
export function extraTermsOf(
  table: ProofTable,
  collateral: bigint,
  liabilities: bigint,
): ExtraTerms {
  const shift = table.priceExponent - VALUE_DECIMALS - NORM_DECIMALS;
  if (shift >= 0) {
    const m = 10n ** BigInt(shift);
    return { collateral: collateral * m, liabilities: liabilities * m };
  }
  const d = 10n ** BigInt(-shift);
  return { collateral: collateral / d, liabilities: (liabilities + d - 1n) / d };
}

/** The maintenance-tier input of an asset from its engine risk factors and listing. */
export function tableInputFromRisk(risk: AssetRisk, config: AssetConfig): TableInput {
  const w = risk.widening;
  return {
    symbol: risk.symbol,
    decimals: risk.decimals,
    collateralPrice: risk.oraclePrice > w ? risk.oraclePrice - w : 0n,
    debtPrice: risk.oraclePrice + w,
    assetWeight: config.assetWeight.maintenance,
    liabilityWeight: config.liabilityWeight.maintenance,
  };
}

/** The snapshot id of a journal position and the state hash there. */
export function snapshotIdOf(seq: number, stateHash: string): string {
  return `fulcrum/seq=${seq}/state=${stateHash}`;
}

/** The derivatives terms of a sub-account at maintenance; none without derivatives. */
function extraOf(draft: Draft, table: ProofTable, sub: SubAccountState): ExtraTerms | undefined {
  const book = sub.derivatives;
  if (book === undefined || (book.positions.length === 0 && book.unsettled === 0n))
    return undefined;
  const [collateral, liabilities] = draft.extraMargin(book, sub.positions).tier(2);
  return extraTermsOf(table, collateral, liabilities);
}

/**
 * The proof's inputs at `seq` (the journal position the state was recovered at). Throws an
 * Error when no asset is listed.
 */
export function solvencyInputs(state: EngineState, seq: number): SolvencyInputs {
  if (state.assets.length === 0) throw new Error('solvency: no asset is listed at this position');
  const stateHash = new Engine(state).hash();
  const table = buildProofTable(state.assets.map((a) => tableInputFromRisk(a.risk, a.config)));
  const draft = new Draft(state, state.time);
  const accounts: AccountBalances[] = [];
  const venueAccounts: string[] = [];
  for (const account of state.accounts.values()) {
    for (const sub of account.subAccounts) {
      const id = `${account.id}/${sub.number}`;
      if (account.id.startsWith(RESERVED_ACCOUNT_PREFIX)) {
        venueAccounts.push(id);
        continue;
      }
      const balances = new Map<string, bigint>();
      for (const asset of state.assets) {
        const amount = draft.amountOf(asset.index, scaledBalance(sub, asset.index));
        if (amount !== 0n) balances.set(asset.config.symbol, amount);
      }
      const extra = extraOf(draft, table, sub);
      accounts.push(
        extra === undefined ? { accountId: id, balances } : { accountId: id, balances, extra },
      );
    }
  }
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
