/**
 * What a chain watcher needs of the engine: to submit commands (JSON, as `fulcrum run` reads
 * them) and to read its chain's entry of the engine's chain report (status, cursor, pending
 * withdrawals). The engine's state is where the cursor lives, journaled with every command, so a
 * watcher restarted after a crash resumes where the journal says it stopped.
 */

/** An engine's answer to one command: accepted, or refused with a stable code. */
export type SubmitResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

export type ChainStatusName = 'active' | 'halted' | 'paused';

export interface PendingWithdrawalView {
  readonly nonce: number;
  readonly account: string;
  readonly subAccount: number;
  readonly asset: string;
  /** Base units. */
  readonly amount: bigint;
  readonly recipient: string;
  /** Unix seconds. */
  readonly expiry: number;
}

/** A chain as the engine reports it (`chainReport`). */
export interface ChainView {
  readonly chain: string;
  readonly status: ChainStatusName;
  /** Every vault event up to (block, logIndex) was taken; logIndex BLOCK_END: the whole block. */
  readonly cursor: { readonly block: number; readonly logIndex: number };
  readonly nextNonce: number;
  readonly pending: readonly PendingWithdrawalView[];
  /** Base units credited and not withdrawn, by located asset symbol. */
  readonly credited: ReadonlyMap<string, bigint> | Readonly<Record<string, bigint>>;
}

export interface EnginePort {
  /** Applies a command; may answer before it is durable when `flush` is given. */
  submit(command: Readonly<Record<string, unknown>>): Promise<SubmitResult>;
  /** Resolves once every command submitted so far is durable (the watcher awaits it each poll). */
  flush?(): Promise<void>;
  /** The chain's entry of the engine's chain report, or undefined when it is not listed. */
  chain(name: string): ChainView | undefined;
}

/** The engine's cursor log index for a block taken whole (`Number.MAX_SAFE_INTEGER`). */
export const BLOCK_END = Number.MAX_SAFE_INTEGER;

/** A credited amount from either form the report may use. */
export function creditedOf(view: ChainView, asset: string): bigint {
  const credited = view.credited;
  if (credited instanceof Map) return (credited as ReadonlyMap<string, bigint>).get(asset) ?? 0n;
  return (credited as Readonly<Record<string, bigint>>)[asset] ?? 0n;
}
