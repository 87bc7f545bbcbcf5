/**
 * Checks of a typed command's own fields, before it touches any state: times, identifiers,
 * amounts and prices in range. Library callers that build commands directly get the same
 * refusals as JSON input does.
 */
import { validateAssetConfig } from '../domain/asset.js';
import { ACTOR_ID_PATTERN, LIMITS, SOURCE_ID_PATTERN } from '../domain/limits.js';
import { validateLiquidationConfig } from '../domain/liquidationConfig.js';
import { validateVenueConfig } from '../domain/venueConfig.js';
import { validateInstrumentListing } from '../derivatives/listing.js';
import { validateChainCommand } from './chainShapes.js';
import { FulcrumError } from '../base/errors.js';
import { PRICE_MAX, validatePrice } from '../domain/price.js';
import { AMOUNT_MAX, WEIGHT_SCALE } from '../math/fixed.js';
import {
  ATTRIBUTED_COMMANDS,
  type Attributed,
  type Command,
  type QuoteCommand,
  type SetWeightsCommand,
  type TradeCommand,
} from './commands.js';
import {
  type EngineState,
  INSURANCE_ACCOUNT,
  RESERVED_ACCOUNT_PREFIX,
  type SubAccountRef,
} from './state.js';

export function validateCommand(command: Command, state: EngineState): void {
  validateTime(command.time, state);
  const { by } = command as Attributed;
  if (by !== undefined) validateActor(by, command.type);
  switch (command.type) {
    case 'list-asset':
      validateAssetConfig(command.config, 'config');
      validatePrice(command.price, 'price');
      return;
    case 'set-price':
      validatePrice(command.price, 'price');
      if (command.stablePrice !== undefined) validatePrice(command.stablePrice, 'stablePrice');
      return;
    case 'accrue':
    case 'settle-funding':
    case 'expire':
      return;
    case 'set-weights':
      validateAssetWeight(command);
      return;
    case 'quote':
      validateQuote(command);
      return;
    case 'configure-liquidation':
      validateLiquidationConfig(command.config, 'config');
      return;
    case 'configure-venue':
      validateVenueConfig(command.config, 'config');
      return;
    case 'liquidate':
      validateRef(command.liquidator, 'liquidator');
      validateRef(command.target, 'target');
      if (command.amount !== 'max') validateAmount(command.amount, 'amount');
      return;
    case 'backstop':
    case 'resolve-bankruptcy':
    case 'deleverage':
      validateRef(command.target, 'target');
      return;
    case 'deposit':
    case 'borrow':
      validateRef(command, '');
      validateAmount(command.amount, 'amount');
      return;
    case 'withdraw':
    case 'repay':
      validateRef(command, '');
      if (command.amount !== 'all') validateAmount(command.amount, 'amount');
      return;
    case 'transfer':
      validateRef(command.from, 'from');
      validateRef(command.to, 'to');
      if (command.amount !== 'all') validateAmount(command.amount, 'amount');
      return;
    case 'list-instrument':
      validateInstrumentListing(command.config, 'config');
      validatePrice(command.price, 'price');
      return;
    case 'trade':
      validateTrade(command);
      return;
    case 'set-mode':
      validateRef(command, '');
      validateMode(command.mode);
      return;
    case 'settle-pnl':
      validateRef(command, '');
      return;
    case 'set-volatility':
      validateVolatility(command.volatility);
      return;
    case 'liquidate-position':
      validateRef(command.liquidator, 'liquidator');
      validateRef(command.target, 'target');
      if (command.amount !== 'max') validateSize(command.amount, 'amount');
      return;
    default:
      validateOtherCommand(command);
  }
}

/** The commands of chains (`chainShapes.ts`), and a command of no known type. */
function validateOtherCommand(command: Command): void {
  switch (command.type) {
    case 'list-chain':
    case 'chain-deposit':
    case 'chain-checkpoint':
    case 'chain-withdraw':
    case 'chain-withdrawal-paid':
    case 'chain-withdrawal-expired':
    case 'set-chain-status':
      validateChainCommand(command, validateRef, validateAmount);
      return;
  }
  throw unknownCommand(command);
}

/** `by`: only on a parameter command, an identifier's shape. */
function validateActor(by: unknown, type: string): void {
  if (!ATTRIBUTED_COMMANDS.has(type)) {
    throw new FulcrumError('invalid_field', `${type} does not take by`, 'by');
  }
  if (typeof by !== 'string' || !ACTOR_ID_PATTERN.test(by)) {
    throw new FulcrumError('invalid_field', 'by must be 1-64 letters, digits or _ . : @ -', 'by');
  }
}

/** A command of no known type (a library caller's, built past the types). */
function unknownCommand(command: { type?: unknown }): FulcrumError {
  return new FulcrumError(
    'unknown_command',
    `unknown command type ${JSON.stringify(command.type)}`,
    'type',
  );
}

/** set-weights: each tier's weight a bigint from 0 to 1 (WEIGHT_SCALE), in tier order. */
function validateAssetWeight(command: SetWeightsCommand): void {
  for (const tier of ['initial', 'liquidationEnd', 'maintenance'] as const) {
    const w = command.assetWeight?.[tier];
    if (typeof w !== 'bigint' || w < 0n || w > WEIGHT_SCALE) {
      throw new FulcrumError(
        'invalid_number',
        `assetWeight.${tier} must be a weight from 0 to 1`,
        `assetWeight.${tier}`,
      );
    }
  }
}

/** trade: both sides, the size, the price, then the optional fees. */
function validateTrade(command: TradeCommand): void {
  validateRef(command.buyer, 'buyer');
  validateRef(command.seller, 'seller');
  validateSize(command.size, 'size');
  validatePrice(command.price, 'price');
  validateFee(command.buyerFee, 'buyerFee');
  validateFee(command.sellerFee, 'sellerFee');
}

/** An optional fee: a non-negative amount. */
function validateFee(fee: bigint | undefined, field: string): void {
  if (fee !== undefined && (typeof fee !== 'bigint' || fee < 0n || fee > AMOUNT_MAX)) {
    throw new FulcrumError('invalid_number', `${field} must be a non-negative amount`, field);
  }
}

function validateMode(mode: string): void {
  if (!['cross', 'isolated', 'portfolio'].includes(mode)) {
    throw new FulcrumError('invalid_field', 'mode must be cross, isolated or portfolio', 'mode');
  }
}

/** An annual volatility, 6 decimals: above 0 and at most 10 (1000%). */
function validateVolatility(volatility: bigint): void {
  if (typeof volatility !== 'bigint' || volatility <= 0n || volatility > 10_000_000n) {
    throw new FulcrumError(
      'invalid_number',
      'volatility must be above 0 and at most 10',
      'volatility',
    );
  }
}

/**
 * A command's time: whole unix seconds, never before the engine's time, and, once the engine
 * has a time (its first command set it), at most the venue's `timeJumpSecondsMax` after it: a
 * command dated in the year 9999 would otherwise be accepted and refuse every later one.
 */
function validateTime(time: number, state: EngineState): void {
  if (!Number.isSafeInteger(time) || time < 0 || time > LIMITS.timeMax) {
    throw new FulcrumError(
      'invalid_number',
      `time must be whole unix seconds, 0 to ${LIMITS.timeMax}`,
      'time',
    );
  }
  if (time < state.time) {
    throw new FulcrumError(
      'time_went_backwards',
      `time ${time} is before the engine's time ${state.time}`,
      'time',
    );
  }
  const jump = state.venueConfig.timeJumpSecondsMax;
  if (state.sequence > 0 && time - state.time > jump) {
    throw new FulcrumError(
      'time_jump_too_large',
      `time ${time} is ${time - state.time} s after the engine's time ${state.time}; the venue allows at most ${jump} s (configure-venue timeJumpSecondsMax, dated at the engine's time, raises it)`,
      'time',
    );
  }
}

export function validateRef(ref: SubAccountRef, field: string): void {
  if (typeof ref.account !== 'string' || !isAccountId(ref.account)) {
    throw new FulcrumError(
      'invalid_field',
      `${refPrefix(field)}account must be 1-64 letters, digits or _ . : @ -`,
      `${refPrefix(field)}account`,
    );
  }
  const max = LIMITS.subAccountsPerAccount - 1;
  if (!Number.isSafeInteger(ref.subAccount) || ref.subAccount < 0 || ref.subAccount > max) {
    throw new FulcrumError(
      'invalid_number',
      `${refPrefix(field)}subAccount must be a whole number from 0 to ${max}`,
      `${refPrefix(field)}subAccount`,
    );
  }
  if (
    ref.account.startsWith(RESERVED_ACCOUNT_PREFIX) &&
    (ref.account !== INSURANCE_ACCOUNT || ref.subAccount !== 0)
  ) {
    throw new FulcrumError(
      'reserved_account',
      `${refPrefix(field)}account: names beginning with ${RESERVED_ACCOUNT_PREFIX} are the venue's own; the only one a command may name is ${INSURANCE_ACCOUNT} (sub-account 0)`,
      `${refPrefix(field)}account`,
    );
  }
}

/**
 * `ACCOUNT_ID_PATTERN.test(id)` (1-64 of A-Z a-z 0-9 _ . : @ -), as a loop over the code units:
 * every command names one or two accounts, and the loop costs a fraction of a regex run.
 */
export function isAccountId(id: string): boolean {
  const length = id.length;
  if (length < 1 || length > 64) return false;
  for (let i = 0; i < length; i++) {
    const c = id.charCodeAt(i);
    const ok =
      (c >= 97 && c <= 122) || // a-z
      (c >= 65 && c <= 90) || // A-Z
      (c >= 48 && c <= 58) || // 0-9 and :
      c === 95 || // _
      c === 46 || // .
      c === 64 || // @
      c === 45; // -
    if (!ok) return false;
  }
  return true;
}

/** The prefix of a reference's fields in a refusal: built only when one is refused. */
function refPrefix(field: string): string {
  return field === '' ? '' : `${field}.`;
}

/** A size: 10^-8 units of the underlying, above 0 and at most {@link LIMITS.sizeMax}. */
function validateSize(size: bigint, field: string): void {
  if (typeof size !== 'bigint' || size <= 0n || size > LIMITS.sizeMax) {
    throw new FulcrumError(
      'invalid_number',
      `${field} must be above 0 and at most 10^12 units of the underlying`,
      field,
    );
  }
}

export function validateAmount(amount: bigint, field: string): void {
  if (typeof amount !== 'bigint') {
    throw new FulcrumError('invalid_number', `${field} must be a bigint in base units`, field);
  }
  if (amount === 0n)
    throw new FulcrumError('zero_amount', `${field} must be more than zero`, field);
  if (amount < 0n) throw new FulcrumError('invalid_number', `${field} must not be negative`, field);
  if (amount > AMOUNT_MAX) {
    throw new FulcrumError(
      'invalid_number',
      `${field} exceeds the largest amount (2^128 - 1 base units)`,
      field,
    );
  }
}

function validateQuote(command: QuoteCommand): void {
  if (typeof command.source !== 'string' || !SOURCE_ID_PATTERN.test(command.source)) {
    throw new FulcrumError(
      'invalid_field',
      'source must be 1-32 letters, digits or _ . : -',
      'source',
    );
  }
  if (
    typeof command.price !== 'bigint' ||
    command.price > PRICE_MAX ||
    command.price < -PRICE_MAX
  ) {
    throw new FulcrumError('invalid_number', 'price must be a bigint within ±10^12', 'price');
  }
  const { confidence, observedAt } = command;
  if (
    confidence !== undefined &&
    (typeof confidence !== 'bigint' || confidence < 0n || confidence > PRICE_MAX)
  ) {
    throw new FulcrumError(
      'invalid_number',
      'confidence must be a non-negative price',
      'confidence',
    );
  }
  if (
    observedAt !== undefined &&
    (!Number.isSafeInteger(observedAt) || observedAt < 0 || observedAt > command.time)
  ) {
    throw new FulcrumError(
      'invalid_number',
      'observedAt must be whole unix seconds, no later than the command time',
      'observedAt',
    );
  }
}
