/**
 * JSON chain commands to typed commands (see `chains.ts`): what a chain's watcher and a
 * trader's withdrawal send. Identifiers have fixed shapes: a chain as `list-chain` names it,
 * a transaction hash as 0x and 64 hex digits, an address as 0x and 40.
 */
import { CHAIN_ID_PATTERN } from '../domain/asset.js';
import { FulcrumError } from '../base/errors.js';
import {
  expectInteger,
  expectString,
  type JsonObject,
  rejectUnknownFields,
} from '../domain/input.js';
import type { ChainStatus } from './state.js';
import type { ChainEventRef, Command, CommandType } from './commands.js';
import type { Decoder } from './decode.js';
import { amount, amountOrAll, assetSymbol, ref } from './decodeFields.js';
import {
  ADDRESS_PATTERN,
  BLOCK_MAX,
  CHAIN_STATUSES as STATUSES,
  LOG_INDEX_MAX,
  TTL_MAX,
  TTL_MIN,
  TX_PATTERN,
} from './chainShapes.js';

export function chainId(raw: JsonObject, field = 'chain'): string {
  const chain = expectString(raw[field], field);
  if (!CHAIN_ID_PATTERN.test(chain)) {
    const message = `${field} must be 1-16 lower-case letters, digits or "-"`;
    throw new FulcrumError('invalid_field', message, field);
  }
  return chain;
}

function patterned(raw: JsonObject, field: string, pattern: RegExp, shape: string): string {
  const text = expectString(raw[field], field);
  if (!pattern.test(text)) {
    throw new FulcrumError('invalid_field', `${field} must be ${shape}`, field);
  }
  return text;
}

/** Where a vault event sits: chain, block, log index and transaction. */
function eventRef(raw: JsonObject): ChainEventRef {
  return {
    chain: chainId(raw),
    block: expectInteger(raw.block, 'block', 0, BLOCK_MAX),
    logIndex: expectInteger(raw.logIndex, 'logIndex', 0, LOG_INDEX_MAX),
    tx: patterned(raw, 'tx', TX_PATTERN, '0x and 64 hex digits').toLowerCase(),
  };
}

function nonce(raw: JsonObject): number {
  return expectInteger(raw.nonce, 'nonce', 1, Number.MAX_SAFE_INTEGER);
}

function decodeListChain(raw: JsonObject, time: number): Command {
  rejectUnknownFields(raw, ['type', 'time', 'chain', 'withdrawalTtl'], '');
  const withdrawalTtl =
    raw.withdrawalTtl === undefined
      ? 3600
      : expectInteger(raw.withdrawalTtl, 'withdrawalTtl', TTL_MIN, TTL_MAX);
  return { type: 'list-chain', time, chain: chainId(raw), withdrawalTtl };
}

function decodeChainDeposit(raw: JsonObject, time: number, state: Parameters<Decoder>[2]): Command {
  rejectUnknownFields(
    raw,
    [
      'type',
      'time',
      'chain',
      'block',
      'logIndex',
      'tx',
      'account',
      'subAccount',
      'asset',
      'amount',
    ],
    '',
  );
  const asset = assetSymbol(raw, state);
  return {
    type: 'chain-deposit',
    time,
    ...eventRef(raw),
    ...ref(raw, ''),
    asset,
    amount: amount(raw.amount, asset, state),
  };
}

function decodeChainCheckpoint(raw: JsonObject, time: number): Command {
  rejectUnknownFields(raw, ['type', 'time', 'chain', 'block'], '');
  const block = expectInteger(raw.block, 'block', 0, BLOCK_MAX);
  return { type: 'chain-checkpoint', time, chain: chainId(raw), block };
}

function decodeChainWithdraw(
  raw: JsonObject,
  time: number,
  state: Parameters<Decoder>[2],
): Command {
  rejectUnknownFields(
    raw,
    ['type', 'time', 'chain', 'account', 'subAccount', 'asset', 'amount', 'recipient'],
    '',
  );
  const asset = assetSymbol(raw, state);
  return {
    type: 'chain-withdraw',
    time,
    chain: chainId(raw),
    ...ref(raw, ''),
    asset,
    amount: amountOrAll(raw.amount, asset, state),
    recipient: patterned(raw, 'recipient', ADDRESS_PATTERN, '0x and 40 hex digits').toLowerCase(),
  };
}

function decodeChainWithdrawalPaid(raw: JsonObject, time: number): Command {
  rejectUnknownFields(raw, ['type', 'time', 'chain', 'nonce', 'block', 'logIndex', 'tx'], '');
  return { type: 'chain-withdrawal-paid', time, ...eventRef(raw), nonce: nonce(raw) };
}

function decodeChainWithdrawalExpired(raw: JsonObject, time: number): Command {
  rejectUnknownFields(raw, ['type', 'time', 'chain', 'nonce'], '');
  return { type: 'chain-withdrawal-expired', time, chain: chainId(raw), nonce: nonce(raw) };
}

function decodeSetChainStatus(raw: JsonObject, time: number): Command {
  rejectUnknownFields(raw, ['type', 'time', 'chain', 'status'], '');
  const status = expectString(raw.status, 'status');
  if (!STATUSES.has(status)) {
    throw new FulcrumError('invalid_field', 'status must be active, halted or paused', 'status');
  }
  return { type: 'set-chain-status', time, chain: chainId(raw), status: status as ChainStatus };
}

/** The chain commands' decoders, for `decode.ts`'s table. */
export const CHAIN_DECODERS: Readonly<Record<CommandType & `${string}chain${string}`, Decoder>> = {
  'list-chain': decodeListChain,
  'chain-deposit': decodeChainDeposit,
  'chain-checkpoint': decodeChainCheckpoint,
  'chain-withdraw': decodeChainWithdraw,
  'chain-withdrawal-paid': decodeChainWithdrawalPaid,
  'chain-withdrawal-expired': decodeChainWithdrawalExpired,
  'set-chain-status': decodeSetChainStatus,
};
