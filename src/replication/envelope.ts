/**
 * The log's entries and the client's requests, as JSON text. One entry is one message of the
 * replicated stream: either a term marker (a new leader announces its term before it writes
 * anything else) or a batch of commands of one term, each with the idempotency key that makes a
 * retry harmless. Commands travel as the JSON a client sent (the form `fulcrum run` reads):
 * every replica decodes them against its own state, which is the same state at the same
 * position, so decoding is as deterministic as applying.
 */
import { ReplicationError } from './errors.js';

/** Version of the entry format; a change of form must change this. */
export const ENTRY_FORMAT_VERSION = 1;

/** Letters, digits and `_ . : -`, 1 to 128 of them (the service's Idempotency-Key). */
export const COMMAND_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Node identifiers: 1 to 32 letters, digits, `_` and `-` (they appear in NATS subjects). */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** Most commands in one entry (one log message). */
export const ENTRY_COMMANDS_MAX = 1_024;

export interface KeyedCommand {
  /** The idempotency key: a command with a key already applied is not applied again. */
  readonly key: string;
  /** The command's JSON, as a client sent it. */
  readonly command: unknown;
}

export type LogEntry =
  | { readonly kind: 'term'; readonly term: number; readonly node: string }
  | {
      readonly kind: 'commands';
      readonly term: number;
      readonly node: string;
      readonly commands: readonly KeyedCommand[];
    };

/** The entry's stored text. */
export function encodeEntry(entry: LogEntry): string {
  return JSON.stringify({ v: ENTRY_FORMAT_VERSION, ...entry });
}

/**
 * Reads an entry's stored text; null for text that is not an entry of this format (which every
 * replica then skips alike).
 */
export function decodeEntry(text: string): LogEntry | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(value) || value.v !== ENTRY_FORMAT_VERSION) return null;
  const { kind, term, node } = value;
  if (!isTerm(term) || typeof node !== 'string' || !NODE_ID_PATTERN.test(node)) return null;
  if (kind === 'term') return { kind, term, node };
  if (kind !== 'commands' || !Array.isArray(value.commands)) return null;
  if (value.commands.length === 0 || value.commands.length > ENTRY_COMMANDS_MAX) return null;
  const commands: KeyedCommand[] = [];
  for (const item of value.commands as unknown[]) {
    if (!isRecord(item) || typeof item.key !== 'string' || !COMMAND_KEY_PATTERN.test(item.key)) {
      return null;
    }
    commands.push({ key: item.key, command: item.command });
  }
  return { kind, term, node, commands };
}

/**
 * A client's request to the leader: `{"key": K, "command": {...}}`. The key is the client's
 * idempotency key; it is required, because a client that cannot retry with the same key cannot
 * survive a failover without applying a command twice.
 *
 * @example
 * decodeRequest('{"key":"alice-1","command":{"type":"deposit","time":1}}').key; // 'alice-1'
 */
export function decodeRequest(text: string): KeyedCommand {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ReplicationError('invalid_request', 'the request is not JSON');
  }
  return keyedCommand(value);
}

/**
 * A request of one command (`{key, command}`) or of several (`{"commands": [{key, command},
 * ...]}`, 1 to {@link ENTRY_COMMANDS_MAX}, keys distinct): a gateway batching its clients'
 * commands into one request. Answered with one outcome, or `{"outcomes": [...]}` in order.
 */
export function decodeRequests(text: string): { items: KeyedCommand[]; batch: boolean } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ReplicationError('invalid_request', 'the request is not JSON');
  }
  if (!isRecord(value) || !('commands' in value)) {
    return { items: [keyedCommand(value)], batch: false };
  }
  const list = value.commands;
  if (!Array.isArray(list) || list.length === 0 || list.length > ENTRY_COMMANDS_MAX) {
    throw new ReplicationError(
      'invalid_request',
      `commands is a list of 1 to ${ENTRY_COMMANDS_MAX}`,
    );
  }
  const items = list.map(keyedCommand);
  if (new Set(items.map((item) => item.key)).size !== items.length) {
    throw new ReplicationError('invalid_request', 'the keys of one request must be distinct');
  }
  return { items, batch: true };
}

function keyedCommand(value: unknown): KeyedCommand {
  if (!isRecord(value)) {
    throw new ReplicationError('invalid_request', 'the request is not an object');
  }
  if (typeof value.key !== 'string' || !COMMAND_KEY_PATTERN.test(value.key)) {
    throw new ReplicationError(
      'invalid_request',
      'key must be 1-128 letters, digits or _ . : - (the idempotency key)',
    );
  }
  if (!isRecord(value.command)) {
    throw new ReplicationError('invalid_request', 'command must be a JSON object');
  }
  return { key: value.key, command: value.command };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTerm(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}
