/**
 * The derivatives ledger's whole state as text, and back: what its journal's snapshots hold.
 * JSON with every bigint written as `#` and its digits (and a string that starts with `#` given
 * one more, so that nothing is ambiguous), maps as lists of entries in their order, so that a ledger read back iterates as the original
 * did and writes the very same text again. The state hash is SHA-256 of that text.
 */
import { FulcrumError } from '../base/errors.js';
import { sha256Hex } from '../math/sha256.js';
import { validateInstrument } from './instruments.js';
import {
  type DerivativesLedger,
  FUND,
  type InstrumentState,
  isSubAccountName,
  LEDGER_LIMITS,
  type Position,
  type SubAccount,
} from './ledger.js';

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
  checkLedgerText(state);
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

/**
 * Checks that parsed snapshot text holds a ledger state the ledger itself could have reached:
 * every value of the type and range the commands allow, every name one the commands accept,
 * no name twice, every position and realized result on a listed instrument, within the
 * ledger's limits, and cash and position balances adding up to the net deposits. Throws
 * `invalid_json` naming the first fault, so that a snapshot forged to pass its checksum still
 * cannot put into a ledger what no command could.
 */
function checkLedgerText(state: LedgerText): void {
  const fail = (what: string): never => {
    throw new FulcrumError(
      'invalid_json',
      `a ledger snapshot does not hold a ledger state: ${what}`,
    );
  };
  const isBig = (v: unknown): v is bigint => typeof v === 'bigint';
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const pairs = (v: unknown, what: string, max: number): [unknown, unknown][] => {
    if (!Array.isArray(v) || v.length > max)
      return fail(`${what} must be a list of at most ${max}`);
    for (const entry of v)
      if (!Array.isArray(entry) || entry.length !== 2)
        fail(`${what} must hold [name, value] pairs`);
    const names = new Set(v.map((entry: unknown[]) => entry[0]));
    if (names.size !== v.length) fail(`${what} names one entry twice`);
    return v as [unknown, unknown][];
  };
  if (!isObject(state) || state.version !== 1) return fail('no version 1 state');
  if (!Number.isSafeInteger(state.time) || state.time < 0 || state.time > LEDGER_LIMITS.timeMax)
    fail('time');
  if (!isBig(state.netDeposits)) fail('netDeposits');
  for (const [symbol, instrument] of pairs(
    state.instruments,
    'instruments',
    LEDGER_LIMITS.instruments,
  )) {
    if (!isObject(instrument)) return fail('an instrument');
    try {
      validateInstrument(instrument.spec as InstrumentState['spec']);
    } catch {
      fail('an instrument specification');
    }
    const i = instrument as unknown as InstrumentState;
    const price = (v: unknown) => isBig(v) && v >= 0n && v <= LEDGER_LIMITS.priceMax;
    if (
      symbol !== i.spec.symbol ||
      !price(i.index) ||
      !price(i.mark) ||
      !price(i.settlementIndex) ||
      !isBig(i.funding) ||
      !isBig(i.openInterest) ||
      i.openInterest < 0n ||
      !Number.isSafeInteger(i.lastFunding) ||
      typeof i.settled !== 'boolean'
    )
      fail('an instrument');
  }
  const listed = new Set(state.instruments.map(([symbol]) => symbol));
  let total = 0n;
  let subAccounts = 0;
  for (const [name, sub] of pairs(state.accounts, 'accounts', LEDGER_LIMITS.subAccounts + 1)) {
    if (name !== FUND && !isSubAccountName(name)) fail('a sub-account name');
    if (name !== FUND) subAccounts++;
    if (!isObject(sub) || !['cross', 'isolated', 'portfolio'].includes(sub.mode as string))
      return fail('a sub-account');
    if (!isBig(sub.cash)) fail('a sub-account cash');
    total += sub.cash as bigint;
    const most = name === FUND ? LEDGER_LIMITS.instruments : LEDGER_LIMITS.positionsPerSubAccount;
    for (const [symbol, p] of pairs(sub.positions, 'positions', most)) {
      if (!listed.has(symbol as string) || !isObject(p)) return fail('a position');
      if (!isBig(p.size) || p.size === 0n || !isBig(p.quote) || !isBig(p.funding))
        fail('a position');
      total += p.quote as bigint;
    }
    for (const [symbol, r] of pairs(sub.realized, 'realized', LEDGER_LIMITS.instruments))
      if (!listed.has(symbol as string) || !isBig(r)) fail('a realized result');
  }
  if (subAccounts > LEDGER_LIMITS.subAccounts) fail('too many sub-accounts');
  if (total !== state.netDeposits) fail('cash and positions do not add up to the net deposits');
  const underlyings = new Set(state.instruments.map(([, i]) => i.spec.underlying));
  for (const [underlying, vol] of pairs(state.volatility, 'volatility', LEDGER_LIMITS.underlyings))
    if (
      !underlyings.has(underlying as string) ||
      !(typeof vol === 'number' && vol > 0 && vol <= 10)
    )
      fail('a volatility');
}
