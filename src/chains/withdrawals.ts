/**
 * Withdrawal authorizations: the engine's `chain-withdrawal-authorized` event, signed with the
 * venue's key as EIP-712 typed data the chain's vault checks (its domain names the vault and the
 * chain, so a signature is good on that vault only), and the call that executes one.
 */
import { getAddress, isAddress, type Address, type Hex, type LocalAccount } from 'viem';
import { FulcrumError } from '../base/errors.js';
import { fulcrumVaultAbi } from './artifacts.js';
import type { VaultToken } from './config.js';

/** The vault's EIP-712 type: what the venue's key signs for a withdrawal. */
export const WITHDRAWAL_TYPES = {
  Withdrawal: [
    { name: 'nonce', type: 'uint256' },
    { name: 'token', type: 'address' },
    { name: 'recipient', type: 'address' },
    { name: 'amount', type: 'uint256' },
    { name: 'expiry', type: 'uint256' },
  ],
} as const;

/** A withdrawal the engine authorized, as its event carries it. */
export interface WithdrawalAuthorizedEvent {
  readonly type: 'chain-withdrawal-authorized';
  readonly chain: string;
  readonly nonce: number;
  readonly account: string;
  readonly subAccount: number;
  readonly asset: string;
  /** Base units: a bigint (the engine's event object) or a decimal integer (its JSON form). */
  readonly amount: bigint | string;
  readonly recipient: string;
  /** Unix seconds. */
  readonly expiry: number;
}

/** What the vault's `withdraw` takes: the authorization and its signature. */
export interface SignedWithdrawal {
  readonly chain: string;
  readonly nonce: bigint;
  readonly token: Address;
  readonly recipient: Address;
  readonly amount: bigint;
  readonly expiry: bigint;
  readonly signature: Hex;
}

export interface VaultDomain {
  readonly chain: string;
  readonly chainId: number;
  readonly vault: Address;
  readonly tokens: readonly VaultToken[];
}

/** Checks an event's fields, refusing (`invalid_field`, the field named) what the vault could not pay. */
export function parseAuthorization(
  event: unknown,
  domain: VaultDomain,
): Omit<SignedWithdrawal, 'signature'> {
  const fail = (field: string, message: string): never => {
    throw new FulcrumError('invalid_field', `withdrawal ${field}: ${message}`, field);
  };
  if (typeof event !== 'object' || event === null) return fail('event', 'must be an object');
  const raw = event as Record<string, unknown>;
  if (raw.type !== 'chain-withdrawal-authorized')
    fail('type', 'must be chain-withdrawal-authorized');
  if (raw.chain !== domain.chain) fail('chain', `must be ${domain.chain}`);
  if (!Number.isSafeInteger(raw.nonce) || (raw.nonce as number) < 1)
    fail('nonce', 'must be 1 or more');
  const amount = baseUnits(raw.baseUnits ?? raw.amount);
  if (amount === null) fail('amount', 'must be base units, a positive integer');
  if (typeof raw.recipient !== 'string' || !isAddress(raw.recipient, { strict: false })) {
    fail('recipient', 'must be an address');
  }
  if (!Number.isSafeInteger(raw.expiry) || (raw.expiry as number) < 1)
    fail('expiry', 'must be unix seconds');
  const token = domain.tokens.find((candidate) => candidate.asset === raw.asset);
  if (token === undefined)
    return fail('asset', `no token of ${domain.chain} is ${String(raw.asset)}`);
  return {
    chain: domain.chain,
    nonce: BigInt(raw.nonce as number),
    token: getAddress(token.address),
    recipient: getAddress(raw.recipient as string),
    amount: amount as bigint,
    expiry: BigInt(raw.expiry as number),
  };
}

/** Base units from a bigint or a decimal integer string; null unless positive and below 2^256. */
function baseUnits(value: unknown): bigint | null {
  let amount: bigint;
  if (typeof value === 'bigint') amount = value;
  else if (typeof value === 'string' && /^[1-9][0-9]{0,77}$/.test(value)) amount = BigInt(value);
  else return null;
  return amount > 0n && amount < 2n ** 256n ? amount : null;
}

/**
 * Signs an authorization event with the venue's key, for the vault of `domain`.
 *
 * @example
 * const signed = await signWithdrawal(event, venueKey, { chain: 'arb', chainId, vault, tokens });
 * await executeWithdrawal(wallet, vault, signed); // as the recipient or anyone: it pays `recipient`
 */
export async function signWithdrawal(
  event: unknown,
  signer: LocalAccount,
  domain: VaultDomain,
): Promise<SignedWithdrawal> {
  const message = parseAuthorization(event, domain);
  const signature = await signer.signTypedData({
    domain: {
      name: 'FulcrumVault',
      version: '1',
      chainId: domain.chainId,
      verifyingContract: domain.vault,
    },
    types: WITHDRAWAL_TYPES,
    primaryType: 'Withdrawal',
    message: {
      nonce: message.nonce,
      token: message.token,
      recipient: message.recipient,
      amount: message.amount,
      expiry: message.expiry,
    },
  });
  return { ...message, signature };
}

/** The vault call that pays a signed withdrawal (for `writeContract` or `simulateContract`). */
export function withdrawCall(vault: Address, signed: SignedWithdrawal) {
  return {
    address: vault,
    abi: fulcrumVaultAbi,
    functionName: 'withdraw',
    args: [
      signed.nonce,
      signed.token,
      signed.recipient,
      signed.amount,
      signed.expiry,
      signed.signature,
    ],
  } as const;
}
