/**
 * The derivatives ledger's whole state as text, and back: what its journal's snapshots hold.
 * JSON with every bigint written as `#` and its digits (and a string that starts with `#` given
 * one more, so that nothing is ambiguous), maps as lists of entries in their order, so that a ledger read back iterates as the original
 * did and writes the very same text again. The state hash is SHA-256 of that text.
 */
import { FulcrumError } from '../domain/errors.js';
import { sha256Hex } from '../math/sha256.js';
import type { DerivativesLedger, InstrumentState, Position, SubAccount } from './ledger.js';

interface LedgerText {
  readonly version: 1;
  readonly time: number;
  readonly netDeposits: bigint;
  readonly instruments: [string, InstrumentState][];
  readonly accounts: [
    string,
    {
      mode: SubAccount['mode'];
      cash: bigint;
      positions: [string, Position][];
      realized: [string, bigint][];
    },
  ][];
  readonly volatility: [string, number][];
}

/** The ledger's state as text (not its configuration nor its portfolio hook). */
export function serializeLedger(ledger: DerivativesLedger): string {
  const text: LedgerText = {
    version: 1,
    time: ledger.time,
    netDeposits: ledger.netDeposits,
    instruments: [...ledger.instruments],
    accounts: [...ledger.accounts].map(([name, sub]) => [
      name,
      {
        mode: sub.mode,
        cash: sub.cash,
        positions: [...sub.positions],
        realized: [...sub.realized],
      },
    ]),
    volatility: [...ledger.volatility],
  };
  return JSON.stringify(text, (_, v: unknown) =>
    typeof v === 'bigint' || (typeof v === 'string' && v.startsWith('#')) ? `#${v}` : v,
  );
}

/** SHA-256 of {@link serializeLedger}, hex. */
export function ledgerHash(ledger: DerivativesLedger): string {
  return sha256Hex(serializeLedger(ledger));
}

/**
 * Fills an empty ledger (made with the configuration and portfolio hook wanted) with the state
 * in `text`. Throws `invalid_json` for text that is not a ledger state.
 */
export function restoreLedger(ledger: DerivativesLedger, text: string): DerivativesLedger {
  let state: LedgerText;
  try {
    state = JSON.parse(text, (_, v: unknown) => {
      if (typeof v !== 'string' || !v.startsWith('#')) return v;
      if (v.startsWith('##')) return v.slice(1);
      if (!/^#-?\d{1,80}$/.test(v)) throw new SyntaxError(`not a number: ${v}`);
      return BigInt(v.slice(1));
    }) as LedgerText;
  } catch {
    throw new FulcrumError('invalid_json', 'a ledger snapshot is not valid JSON');
  }
  if (
    state?.version !== 1 ||
    !Array.isArray(state.instruments) ||
    !Array.isArray(state.accounts) ||
    !Array.isArray(state.volatility)
  ) {
    throw new FulcrumError('invalid_json', 'a ledger snapshot does not hold a ledger state');
  }
  if (ledger.accounts.size > 0 || ledger.instruments.size > 0) {
    throw new FulcrumError('invalid_field', 'a snapshot is restored into an empty ledger only');
  }
  ledger.time = state.time;
  ledger.netDeposits = state.netDeposits;
  for (const [symbol, instrument] of state.instruments) ledger.instruments.set(symbol, instrument);
  for (const [name, sub] of state.accounts) {
    ledger.accounts.set(name, {
      mode: sub.mode,
      cash: sub.cash,
      positions: new Map(sub.positions),
      realized: new Map(sub.realized),
    });
  }
  for (const [underlying, vol] of state.volatility) ledger.volatility.set(underlying, vol);
  return ledger;
}
