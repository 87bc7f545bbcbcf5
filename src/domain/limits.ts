/**
 * Hard limits and identifier shapes shared by the engine, the derivatives rules and the
 * adapters: every collection is bounded, every name has a fixed alphabet and length. They sit
 * below the engine so that the rules beside it (derivatives, validation) check the same bounds
 * without importing the engine.
 */

/** Hard limits: every collection the engine keeps is bounded. */
export const LIMITS = {
  /** Listed assets. */
  assets: 128,
  /** Distinct assets one sub-account may hold or owe at once. */
  positionsPerSubAccount: 16,
  /** Sub-account numbers run from 0 to this minus one. */
  subAccountsPerAccount: 256,
  /** Accounts. */
  accounts: 50_000_000,
  /** Largest command time: unix seconds up to the year 10,000. */
  timeMax: 253_402_300_799,
  /** Listed chains whose vaults hold collateral. */
  chains: 16,
  /** Withdrawals authorized on one chain and not yet paid or returned. */
  pendingWithdrawalsPerChain: 100_000,
  /** Listed derivatives instruments, settled ones included. */
  instruments: 1_024,
  /** Open derivatives positions of one sub-account (the insurance fund: every instrument). */
  derivativesPerSubAccount: 32,
  /** The largest fill and the largest position, 10^-8 units of the underlying: 10^12 units. */
  sizeMax: 10n ** 20n,
} as const;

/** Account identifiers: 1-64 letters, digits and `_ . : @ -`. */
export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,64}$/;

/** Who sent a parameter change (a key's id, an operator's name): 1-64 of `_ . : @ -` and alphanumerics. */
export const ACTOR_ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,64}$/;

/** Price source identifiers: 1-32 letters, digits and `_ . : -`. */
export const SOURCE_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,32}$/;
