/**
 * Operating errors: the fixed list of named outcomes a command or an input can be refused with.
 *
 * Every refusal in Fulcrum is a {@link FulcrumError} with one of these codes. Codes are stable:
 * clients match on them, journals store them, and tests assert them. The message is for people
 * and may be reworded; the code may not. Programmer errors (a broken invariant) are not in this
 * list: they are assertions and stop the process (see `assert`).
 */
export const ERROR_CODES = {
  // Input shape and numbers.
  invalid_json: 'the input is not valid JSON',
  invalid_field: 'a field is missing or has the wrong type',
  invalid_number: 'a number is malformed, negative where it must not be, or out of range',
  too_many_decimals: 'a decimal has more fractional digits than its scale allows',
  unknown_command: 'the command type is not one the engine knows',
  // Configuration.
  unknown_asset: 'the asset is not listed',
  asset_already_listed: 'the asset is already listed',
  invalid_config: 'a market parameter is inconsistent or out of range',
  limit_exceeded: 'a hard limit (assets, positions, accounts) would be exceeded',
  // Time.
  time_went_backwards: 'the command is older than the engine state',
  time_jump_too_large:
    "the command is dated further ahead of the engine's time than the venue allows",
  // Balances and pools.
  zero_amount: 'the amount is zero',
  insufficient_balance: 'the amount exceeds what the account holds in that asset',
  asset_is_borrowed: 'the account owes this asset: repay before depositing it',
  asset_is_supplied: 'the account supplies this asset: withdraw before borrowing it',
  no_debt: 'the account owes nothing in this asset',
  repay_exceeds_debt: 'the amount exceeds the debt',
  insufficient_liquidity: 'the pool has too little cash for this amount',
  supply_cap_exceeded: 'the deposit would take total supply over its cap',
  borrow_cap_exceeded: 'the borrow would take total borrows over its cap',
  borrowing_disabled: 'the asset cannot be borrowed',
  same_account: 'a transfer must move between two different sub-accounts',
  // Margin.
  insufficient_collateral: 'the command would leave initial health below 1',
  // Prices.
  price_unusable: "an asset's price grade does not allow the action",
  circuit_breaker: "an asset's circuit breaker has frozen risk-increasing actions",
  oracle_managed: 'the asset is priced by its oracle: send quotes, not prices',
  no_oracle: 'the asset has no oracle: set its price instead',
  // Liquidation.
  not_liquidatable: 'the account meets maintenance margin',
  liquidation_toxic:
    'a liquidation with a penalty would leave the account worse: the backstop must act',
  liquidation_throttled: 'the liquidation caps for this window are used up',
  liquidation_dust: 'the liquidation would leave a debt too small to liquidate later',
  backstop_not_needed: 'the account is not deep enough below maintenance for the backstop',
  not_bankrupt: 'the account still holds collateral: liquidate it first',
  reserved_account: "the account is the system's own (the insurance fund)",
  // Derivatives.
  unknown_instrument: 'the instrument is not listed',
  already_listed: 'the instrument is already listed',
  no_price: 'the instrument has no index or mark price yet',
  instrument_settled: 'the instrument has expired and settled',
  has_positions: 'the margin mode changes only without open positions',
  isolated_one_instrument: 'an isolated sub-account holds one instrument',
  insufficient_margin: 'the command would leave the sub-account below initial margin',
  not_perpetual: 'only perpetuals pay funding',
  funding_not_due: 'the funding interval has not passed',
  not_expiring: 'perpetuals never expire',
  not_expired: 'the instrument has not reached its expiry',
  instrument_expired: 'the instrument has reached its expiry: it only settles',
  adl_failed: 'no opposite position was left to deleverage against',
  price_out_of_band: "the fill's price is further from the mark than the venue's band allows",
  no_pnl: 'the sub-account has no unsettled profit or loss',
  no_position: 'the sub-account holds no position in the instrument',
  adl_not_needed: 'the insurance fund covers the deficit: the backstop takes the positions over',
  // Collateral held on other chains.
  unknown_chain: 'the chain is not listed',
  chain_already_listed: 'the chain is already listed',
  chain_asset: "the asset is held in a chain's vault: it moves only through that vault",
  wrong_chain: 'the asset is not held on that chain',
  chain_event_seen: "the vault event is at or before the chain's cursor: it was taken already",
  chain_unavailable: 'the chain is halted or its vault paused',
  chain_status_unchanged: 'the chain already has that status',
  unknown_withdrawal: 'no pending withdrawal has that nonce on that chain',
  withdrawal_not_expired: "the withdrawal's authorization has not expired yet",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * A refused input or command. `code` is stable; `field` names the offending input field when
 * there is one (dotted path, e.g. `assets.ETH.price`).
 *
 * @example
 * throw new FulcrumError('unknown_asset', 'asset "DOGE" is not listed', 'asset');
 */
export class FulcrumError extends Error {
  override readonly name = 'FulcrumError';
  readonly code: ErrorCode;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, field?: string) {
    // A refusal is an expected outcome, not a fault: skip the stack trace, which would cost more
    // than the command itself on the engine's hot path.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.code = code;
    this.field = field;
  }

  /** The error as plain JSON, for results, journals and the command line. */
  toJSON(): { code: ErrorCode; message: string; field?: string } {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

/** A broken invariant: a bug in Fulcrum, never a user's mistake. Not caught by the engine. */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

/**
 * Asserts a condition the code relies on. A failure means Fulcrum itself is wrong; the error
 * propagates and stops the process rather than letting a corrupt state go on.
 */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError(`assertion failed: ${message}`);
}
