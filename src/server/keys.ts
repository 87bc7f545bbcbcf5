/**
 * API keys and what each may do. A key is 32 random bytes (base64url, after `fk_`); the
 * configuration holds only its SHA-256, so a leaked configuration gives no key away. A request
 * names its key in `Authorization: Bearer <key>`; the key's hash is compared with every
 * configured hash in constant time.
 *
 * Roles (docs/SERVER.md has the whole matrix):
 * - `trader`: its own accounts' lending and margin commands, and their reports and history;
 * - `liquidator`: a trader's rights on its own accounts, plus `liquidate` and
 *   `liquidate-position` from them against any target, and the list of liquidatable accounts;
 * - `price-source`: `quote` (as the source its id names) and `accrue` (never `set-price`);
 * - `risk-admin`: every command on every account, every read;
 * - `read-only`: reads of the accounts it names (`"*"`: every account, and the venue-wide
 *   lists), no command.
 */
import { createHash, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Command, CommandType } from '../engine/commands.js';
import type { KeyEntry, Role } from './config.js';
import { publicKeyOf } from './signing.js';

/** A configured key, ready to check requests against. */
export interface ApiKey {
  readonly id: string;
  readonly role: Role;
  /** Accounts it may touch; `everyAccount` for `"*"` (and for risk-admin). */
  readonly accounts: ReadonlySet<string>;
  readonly everyAccount: boolean;
  readonly rateLimit: { readonly perSecond: number; readonly burst: number } | undefined;
  readonly digest: Buffer;
  /** The ed25519 key its requests must be signed with, if it signs (`publicKey`). */
  readonly verifier: KeyObject | undefined;
}

/** Commands each role may send (the accounts they name are checked beside). */
const OWN_ACCOUNT_COMMANDS: readonly CommandType[] = [
  'deposit',
  'withdraw',
  'borrow',
  'repay',
  'transfer',
  'set-mode',
  'settle-pnl',
  'chain-withdraw',
];

export const COMMANDS_OF_ROLE: Readonly<Record<Role, ReadonlySet<string>>> = {
  trader: new Set(OWN_ACCOUNT_COMMANDS),
  liquidator: new Set([...OWN_ACCOUNT_COMMANDS, 'liquidate', 'liquidate-position']),
  // Quotes only (and accrual): a direct price or mark is the operator's (risk-admin), never one
  // source's, which the oracle's quorum would not outvote.
  'price-source': new Set(['quote', 'accrue']),
  // Every command type: the venue's operator (listings, configuration, fills, backstop), and
  // the chains' watchers (chain deposits, payouts, returns, checkpoints, status).
  'risk-admin': new Set<string>(),
  'read-only': new Set(),
};

/** A new key: 32 random bytes, base64url, after `fk_`. */
export function generateKey(): string {
  return `fk_${randomBytes(32).toString('base64url')}`;
}

/** The configuration's form of a key's hash. */
export function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

export class KeyRing {
  private readonly keys: readonly ApiKey[];

  constructor(entries: readonly KeyEntry[]) {
    this.keys = entries.map((entry) => {
      const accounts = entry.accounts ?? [];
      return {
        id: entry.id,
        role: entry.role,
        accounts: new Set(accounts.filter((a) => a !== '*')),
        everyAccount: entry.role === 'risk-admin' || accounts.includes('*'),
        rateLimit: entry.rateLimit,
        digest: Buffer.from(entry.hash.slice('sha256:'.length), 'hex'),
        verifier: entry.publicKey === undefined ? undefined : publicKeyOf(entry.publicKey),
      };
    });
  }

  get size(): number {
    return this.keys.length;
  }

  /**
   * The key a bearer token names, or undefined. Every configured hash is compared, in constant
   * time, whether or not one matched already: the time taken says nothing about the keys.
   */
  find(token: string): ApiKey | undefined {
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found: ApiKey | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(key.digest, digest) && found === undefined) found = key;
    }
    return found;
  }
}

/** Whether `key` may read `account`'s sub-accounts, health and history. */
export function mayRead(key: ApiKey, account: string): boolean {
  if (key.role === 'price-source') return false;
  return key.everyAccount || key.accounts.has(account);
}

/** Whether `key` may read what concerns every account (venue-wide lists and history). */
export function mayReadVenue(key: ApiKey): boolean {
  return key.everyAccount;
}

/** Whether `key`'s role may send commands of `type` at all. */
export function mayCommand(key: ApiKey, type: unknown): boolean {
  if (key.role === 'risk-admin') return true;
  return typeof type === 'string' && COMMANDS_OF_ROLE[key.role].has(type);
}

/**
 * The accounts a command acts for, which the key must hold: the account of a balance command,
 * both sides of a transfer, the liquidator of a liquidation (its target is anyone's).
 * Venue-wide commands name none: their role decides.
 */
export function actingAccounts(command: Command): readonly string[] {
  switch (command.type) {
    case 'deposit':
    case 'withdraw':
    case 'borrow':
    case 'repay':
    case 'set-mode':
    case 'settle-pnl':
    case 'chain-withdraw':
      return [command.account];
    case 'transfer':
      return [command.from.account, command.to.account];
    case 'liquidate':
    case 'liquidate-position':
      return [command.liquidator.account];
    default:
      return [];
  }
}

/**
 * Why `key` may not send `command` for the accounts or the source it names, or undefined: the
 * first account it may not act for, or a quote in another source's name (a price-source key
 * quotes as the source its id names, so that one leaked key is one source, which the oracle's
 * quorum and outlier rules outvote).
 */
export function forbiddenTarget(key: ApiKey, command: Command): string | undefined {
  if (key.role === 'risk-admin') return undefined;
  if (command.type === 'quote' && command.source !== key.id) {
    return `key ${key.id} quotes as source ${JSON.stringify(key.id)} only`;
  }
  const account = actingAccounts(command).find((id) => !key.accounts.has(id));
  return account === undefined
    ? undefined
    : `key ${key.id} may not act for account ${JSON.stringify(account)}`;
}
