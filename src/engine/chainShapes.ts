/**
 * The shapes of chain commands' fields (see `chains.ts`), shared by the JSON decoder and the
 * typed commands' validation: blocks and log indices a JSON number holds exactly, transaction
 * hashes as 0x and 64 hex digits, addresses as 0x and 40, an authorization's life.
 */
import { CHAIN_ID_PATTERN } from '../domain/asset.js';
import { FulcrumError } from '../base/errors.js';
import type { ChainEventRef, Command } from './commands.js';
import type { ChainStatus, SubAccountRef } from './state.js';

export const BLOCK_MAX = Number.MAX_SAFE_INTEGER - 1;
export const LOG_INDEX_MAX = 2 ** 31 - 1;
/** A withdrawal authorization lives from a minute to thirty days. */
export const TTL_MIN = 60;
export const TTL_MAX = 30 * 24 * 3600;
export const TX_PATTERN = /^0x[0-9a-fA-F]{64}$/;
export const ADDRESS_PATTERN = /^0x[0-9a-fA-F]{40}$/;
export const CHAIN_STATUSES: ReadonlySet<string> = new Set<ChainStatus>([
  'active',
  'halted',
  'paused',
]);
const STATUSES = CHAIN_STATUSES;

type ChainCommand = Extract<
  Command,
  {
    type:
      | 'list-chain'
      | 'chain-deposit'
      | 'chain-checkpoint'
      | 'chain-withdraw'
      | 'chain-withdrawal-paid'
      | 'chain-withdrawal-expired'
      | 'set-chain-status';
  }
>;

/**
 * A typed chain command's own fields (a library caller's, or one read back from a journal):
 * the same shapes {@link CHAIN_DECODERS} enforce on JSON.
 */
export function validateChainCommand(
  command: ChainCommand,
  validateRef: (ref: SubAccountRef, field: string) => void,
  validateAmount: (amount: bigint, field: string) => void,
): void {
  typedChain(command.chain);
  switch (command.type) {
    case 'list-chain':
      typedInteger(command.withdrawalTtl, 'withdrawalTtl', TTL_MIN, TTL_MAX);
      return;
    case 'chain-checkpoint':
      typedInteger(command.block, 'block', 0, BLOCK_MAX);
      return;
    case 'chain-deposit':
      typedEvent(command);
      validateRef(command, '');
      validateAmount(command.amount, 'amount');
      return;
    case 'chain-withdraw':
      validateRef(command, '');
      if (command.amount !== 'all') validateAmount(command.amount, 'amount');
      typedText(command.recipient, 'recipient', ADDRESS_PATTERN, '0x and 40 hex digits');
      return;
    case 'chain-withdrawal-paid':
      typedEvent(command);
      typedInteger(command.nonce, 'nonce', 1, Number.MAX_SAFE_INTEGER);
      return;
    case 'chain-withdrawal-expired':
      typedInteger(command.nonce, 'nonce', 1, Number.MAX_SAFE_INTEGER);
      return;
    case 'set-chain-status':
      if (!STATUSES.has(command.status)) {
        throw new FulcrumError(
          'invalid_field',
          'status must be active, halted or paused',
          'status',
        );
      }
  }
}

function typedChain(chain: unknown): void {
  if (typeof chain !== 'string' || !CHAIN_ID_PATTERN.test(chain)) {
    throw new FulcrumError(
      'invalid_field',
      'chain must be 1-16 lower-case letters, digits or "-"',
      'chain',
    );
  }
}

function typedEvent(event: ChainEventRef): void {
  typedInteger(event.block, 'block', 0, BLOCK_MAX);
  typedInteger(event.logIndex, 'logIndex', 0, LOG_INDEX_MAX);
  typedText(event.tx, 'tx', TX_PATTERN, '0x and 64 hex digits');
}

function typedInteger(value: unknown, field: string, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new FulcrumError(
      'invalid_number',
      `${field} must be a whole number from ${min} to ${max}`,
      field,
    );
  }
}

function typedText(value: unknown, field: string, pattern: RegExp, shape: string): void {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new FulcrumError('invalid_field', `${field} must be ${shape}`, field);
  }
}
