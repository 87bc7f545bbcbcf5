/**
 * The command line's edge: reading input files or standard input, and turning refusals into
 * one-line messages with an exit status. Nothing here is imported by the core.
 */
import { readFileSync } from 'node:fs';
import type { FulcrumError } from '../domain/errors.js';
import { parseJsonText } from '../domain/json.js';

/** Exit statuses: 0 done, 1 bad input or refused, 2 wrong usage. */
export const EXIT = { ok: 0, badInput: 1, usage: 2 } as const;

/** An error the command line reports in one line and exits with. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Reads a file, or standard input for `-`. */
export function readInput(path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new CliError(
      `cannot read ${path === '-' ? 'standard input' : path} (${reason})`,
      EXIT.badInput,
    );
  }
}

/** Parses JSON text, refusing malformed text and repeated keys with `invalid_json`. */
export function parseJson(text: string, what: string): unknown {
  return parseJsonText(text, what);
}

/** One line for a refusal: `error invalid_number at assets.ETH.price: ...`. */
export function describeError(error: FulcrumError): string {
  const where = error.field === undefined ? '' : ` at ${error.field}`;
  return `error ${error.code}${where}: ${error.message}`;
}
