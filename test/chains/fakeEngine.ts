/**
 * A recording stand-in for the engine's chain commands, with the same rules as the engine's
 * contract (docs/CHAINS.md): the cursor, `chain_event_seen`, nonces, expiry, time never going
 * back. For the watcher's own tests; the end-to-end tests use the real engine.
 */
import { parseDecimal } from '../../src/math/decimal.js';
import {
  BLOCK_END,
  type ChainStatusName,
  type ChainView,
  type EnginePort,
  type PendingWithdrawalView,
  type SubmitResult,
} from '../../src/chains/port.js';

interface FakeChain {
  status: ChainStatusName;
  cursor: { block: number; logIndex: number };
  nextNonce: number;
  ttl: number;
  pending: Map<number, PendingWithdrawalView>;
  credited: Map<string, bigint>;
}

/** The fields each command takes, as the engine's decoder (docs/CHAINS.md): others are refused. */
const EVENT = ['type', 'time', 'chain', 'block', 'logIndex', 'tx'];
const FIELDS: Record<string, readonly string[]> = {
  'chain-deposit': [...EVENT, 'account', 'subAccount', 'asset', 'amount'],
  'chain-withdrawal-paid': [...EVENT, 'nonce'],
  'chain-checkpoint': ['type', 'time', 'chain', 'block'],
  'chain-withdrawal-expired': ['type', 'time', 'chain', 'nonce'],
  'set-chain-status': ['type', 'time', 'chain', 'status'],
};

class Refusal extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

export class FakeEngine implements EnginePort {
  readonly accepted: Record<string, unknown>[] = [];
  readonly refused: { command: Record<string, unknown>; code: string }[] = [];
  readonly events: Record<string, unknown>[] = [];
  readonly balances = new Map<string, bigint>();
  private readonly chains = new Map<string, FakeChain>();
  private readonly decimals = new Map<string, number>();
  private time = 0;
  /** Throws (a crash) instead of answering once this many commands were accepted. */
  crashAfter = Infinity;

  listChain(chain: string, ttl: number, assets: Record<string, number>): void {
    this.chains.set(chain, {
      status: 'active',
      cursor: { block: -1, logIndex: BLOCK_END },
      nextNonce: 1,
      ttl,
      pending: new Map(),
      credited: new Map(),
    });
    for (const [asset, decimals] of Object.entries(assets)) this.decimals.set(asset, decimals);
  }

  chain(name: string): ChainView | undefined {
    const chain = this.chains.get(name);
    if (chain === undefined) return undefined;
    return {
      chain: name,
      ...chain,
      cursor: { ...chain.cursor },
      pending: [...chain.pending.values()],
      credited: new Map(chain.credited),
    };
  }

  balance(account: string, asset: string): bigint {
    return this.balances.get(`${account}/0/${asset}`) ?? 0n;
  }

  async submit(command: Readonly<Record<string, unknown>>): Promise<SubmitResult> {
    if (this.accepted.length >= this.crashAfter) throw new Error('crashed');
    try {
      this.apply(command);
      this.accepted.push({ ...command });
      return { ok: true };
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      this.refused.push({ command: { ...command }, code: error.code });
      return { ok: false, error: { code: error.code, message: error.code } };
    }
  }

  private apply(command: Readonly<Record<string, unknown>>): void {
    const allowed = FIELDS[command.type as string];
    if (allowed === undefined) throw new Refusal('unknown_command');
    if (Object.keys(command).some((key) => !allowed.includes(key)))
      throw new Refusal('invalid_field');
    const time = command.time as number;
    if (time < this.time) throw new Refusal('time_went_backwards');
    const chain = this.chains.get(command.chain as string);
    if (chain === undefined) throw new Refusal('unknown_chain');
    switch (command.type) {
      case 'chain-deposit':
        return this.deposit(chain, command);
      case 'chain-withdrawal-paid':
        this.advance(chain, command);
        if (!chain.pending.delete(command.nonce as number)) throw new Refusal('unknown_withdrawal');
        break;
      case 'chain-checkpoint': {
        const block = command.block as number;
        if (block < chain.cursor.block) throw new Refusal('chain_event_seen');
        chain.cursor = { block, logIndex: BLOCK_END };
        break;
      }
      case 'chain-withdrawal-expired':
        return this.expired(chain, command, time);
      case 'set-chain-status':
        chain.status = command.status as ChainStatusName;
        break;
      default:
        throw new Refusal('unknown_command');
    }
    this.time = time;
  }

  private advance(chain: FakeChain, command: Readonly<Record<string, unknown>>): void {
    const block = command.block as number;
    const logIndex = command.logIndex as number;
    const { cursor } = chain;
    if (block < cursor.block || (block === cursor.block && logIndex <= cursor.logIndex)) {
      throw new Refusal('chain_event_seen');
    }
    chain.cursor = { block, logIndex };
  }

  private deposit(chain: FakeChain, command: Readonly<Record<string, unknown>>): void {
    const asset = command.asset as string;
    const decimals = this.decimals.get(asset);
    if (decimals === undefined) throw new Refusal('unknown_asset');
    const amount = parseDecimal(command.amount, decimals, { field: 'amount' });
    this.advance(chain, command);
    const key = `${command.account as string}/${command.subAccount as number}/${asset}`;
    this.balances.set(key, (this.balances.get(key) ?? 0n) + amount);
    chain.credited.set(asset, (chain.credited.get(asset) ?? 0n) + amount);
    this.time = command.time as number;
  }

  private expired(
    chain: FakeChain,
    command: Readonly<Record<string, unknown>>,
    time: number,
  ): void {
    const withdrawal = chain.pending.get(command.nonce as number);
    if (withdrawal === undefined) throw new Refusal('unknown_withdrawal');
    if (time <= withdrawal.expiry) throw new Refusal('not_expired');
    chain.pending.delete(withdrawal.nonce);
    const key = `${withdrawal.account}/${withdrawal.subAccount}/${withdrawal.asset}`;
    this.balances.set(key, (this.balances.get(key) ?? 0n) + withdrawal.amount);
    chain.credited.set(
      withdrawal.asset,
      (chain.credited.get(withdrawal.asset) ?? 0n) + withdrawal.amount,
    );
    this.time = time;
  }

  /** `chain-withdraw` (margin not modelled): debits and returns the authorization event. */
  withdraw(
    chainName: string,
    time: number,
    account: string,
    asset: string,
    amount: bigint,
    recipient: string,
  ): Record<string, unknown> {
    const chain = this.chains.get(chainName);
    const key = `${account}/0/${asset}`;
    const held = this.balances.get(key) ?? 0n;
    if (chain === undefined || held < amount || time < this.time)
      throw new Error('withdraw refused');
    this.balances.set(key, held - amount);
    chain.credited.set(asset, (chain.credited.get(asset) ?? 0n) - amount);
    const nonce = chain.nextNonce++;
    const pending = {
      nonce,
      account,
      subAccount: 0,
      asset,
      amount,
      recipient: recipient.toLowerCase(),
      expiry: time + chain.ttl,
    };
    chain.pending.set(nonce, pending);
    this.time = time;
    const event = {
      type: 'chain-withdrawal-authorized',
      chain: chainName,
      ...pending,
      amount: amount.toString(),
    };
    this.events.push(event);
    return event;
  }
}
