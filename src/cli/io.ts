/**
 * The command line's edge: reading input files or standard input, writing standard output,
 * creating output folders, and turning refusals into one-line messages with an exit status.
 * Nothing here is imported by the core.
 */
import { accessSync, closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { SYMBOL_PATTERN } from '../domain/asset.js';
import { type ErrorCode, FulcrumError } from '../base/errors.js';
import { parseJsonText } from '../domain/json.js';
import { SOURCE_ID_PATTERN } from '../domain/limits.js';
import { fieldName, quoteInput } from '../domain/quote.js';
import { describeFile } from '../feeds/replay.js';
import { FolderError, makeFolder } from '../store/folder.js';

/**
 * Exit statuses: 0 done, 1 bad input or refused, 2 wrong usage, 3 the commands were applied
 * but the output could not be written in full (do not apply them again), 70 a fault in Fulcrum
 * itself (not in the input).
 */
export const EXIT = { ok: 0, badInput: 1, usage: 2, outputIncomplete: 3, internal: 70 } as const;

/** Largest input file (or standard input) read whole: 256 MiB. */
export const INPUT_BYTES_MAX = 256 * 1024 * 1024;

/** Longest line of a command file (`run`, `liquidations`): 1 MiB. */
export const COMMAND_LINE_LENGTH_MAX = 1024 * 1024;

/** Longest message printed: anything longer is cut, so that an error stays one short line. */
const MESSAGE_LENGTH_MAX = 1_000;

/**
 * An error the command line reports in one line and exits with. With a `code` (and a `field`),
 * it reads like a refusal: `error invalid_number at --accounts: ...`.
 */
export class CliError extends Error {
  readonly exitCode: number;
  readonly code: ErrorCode | undefined;
  readonly field: string | undefined;
  constructor(
    message: string,
    exitCode: number,
    where: { readonly code?: ErrorCode; readonly field?: string } = {},
  ) {
    super(message);
    this.exitCode = exitCode;
    this.code = where.code;
    this.field = where.field;
  }
}

/** A warning on standard error, one line: the run goes on. */
export function warn(message: string): void {
  process.stderr.write(`fulcrum: warning: ${oneLine(message)}\n`);
}

/** A path as messages show it: whole when short and plain, cut and escaped otherwise. */
export function showPath(path: string): string {
  return path === '-' ? 'standard input' : fieldName(path);
}

/**
 * Reads a file, or standard input for `-`, as UTF-8, refusing more than `maxBytes` and anything
 * that is not a readable file (a folder, a missing file) in one line naming the path.
 */
export function readInput(path: string, maxBytes = INPUT_BYTES_MAX): string {
  let fd: number | undefined;
  try {
    fd = path === '-' ? 0 : openSync(path, 'r');
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw Object.assign(new Error('a folder'), { code: 'EISDIR' });
    if (stat.isFile() && stat.size > maxBytes) tooLarge(path, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const read = readChunk(fd, chunk);
      if (read === 0) break;
      total += read;
      if (total > maxBytes) tooLarge(path, maxBytes);
      chunks.push(Buffer.from(chunk.subarray(0, read)));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new CliError(`cannot read ${showPath(path)} (${reason})`, EXIT.badInput);
  } finally {
    if (fd !== undefined && fd !== 0) closeSync(fd);
  }
}

/** One read; a non-blocking standard input that has nothing yet is waited for. */
function readChunk(fd: number, into: Buffer): number {
  for (;;) {
    try {
      return readSync(fd, into, 0, into.length, null);
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      if (error instanceof Error && 'code' in error && error.code === 'EOF') return 0;
      throw error;
    }
  }
}

function tooLarge(path: string, maxBytes: number): never {
  throw new CliError(
    `${showPath(path)} is larger than ${maxBytes} bytes; split it`,
    EXIT.badInput,
    { code: 'limit_exceeded', field: showPath(path) },
  );
}

/**
 * The asset and source a price file's name gives (`source_PAIR_...csv`, see `describeFile`),
 * refused in one line naming the file when the name gives no asset a listing could take or no
 * source a quote could name.
 */
export function priceFileNames(path: string): { asset: string; source: string } {
  const names = describeFile(path);
  const fail = (what: string): never => {
    throw new FulcrumError(
      'invalid_field',
      `${showPath(path)}: the file's name gives ${what}; name price files source_PAIR_interval.csv, such as binance-spot_ETHUSDT_1h.csv`,
      showPath(path),
    );
  };
  if (!SYMBOL_PATTERN.test(names.asset)) fail(`no asset symbol (${quoteInput(names.asset)})`);
  if (!SOURCE_ID_PATTERN.test(names.source)) fail(`no source name (${quoteInput(names.source)})`);
  return names;
}

/** One line of a command file: its number (from 1) and its text, trimmed. */
export interface CommandLine {
  readonly lineNumber: number;
  readonly text: string;
}

/**
 * The command lines of a file: blank lines and `//` comments skipped, each line trimmed. A line
 * longer than {@link COMMAND_LINE_LENGTH_MAX} comes back as `tooLong` (the caller refuses it as
 * that line's outcome, like any other refused command).
 */
export function* commandLines(
  text: string,
): Generator<CommandLine & { readonly tooLong: boolean }> {
  let start = 0;
  let lineNumber = 0;
  while (start <= text.length) {
    const end = text.indexOf('\n', start);
    const stop = end === -1 ? text.length : end;
    lineNumber++;
    if (stop - start > COMMAND_LINE_LENGTH_MAX) {
      yield { lineNumber, text: '', tooLong: true };
    } else {
      const line = text.slice(start, stop).trim();
      if (line !== '' && !line.startsWith('//')) yield { lineNumber, text: line, tooLong: false };
    }
    if (end === -1) break;
    start = end + 1;
  }
}

/** The refusal of a line longer than {@link COMMAND_LINE_LENGTH_MAX}. */
export function lineTooLong(lineNumber: number): FulcrumError {
  return new FulcrumError(
    'limit_exceeded',
    `line ${lineNumber} is longer than ${COMMAND_LINE_LENGTH_MAX} characters`,
    `line ${lineNumber}`,
  );
}

/** Parses JSON text, refusing malformed text and repeated keys with `invalid_json`. */
export function parseJson(text: string, what: string): unknown {
  return parseJsonText(text, what);
}

/** One line for a refusal: `error invalid_number at assets.ETH.price: ...`. */
export function describeError(error: FulcrumError | CliError): string {
  const where = error.field === undefined ? '' : ` at ${error.field}`;
  return `error ${error.code ?? 'invalid_field'}${where}: ${error.message}`;
}

/**
 * `text` on one line of bounded length: line breaks and other control characters escaped, cut
 * with a count past {@link MESSAGE_LENGTH_MAX} characters. The last guard before standard error.
 */
export function oneLine(text: string): string {
  const cut = text.length > MESSAGE_LENGTH_MAX;
  const shown = cut ? text.slice(0, MESSAGE_LENGTH_MAX) : text;
  // eslint-disable-next-line no-control-regex
  const flat = shown.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? ' ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return cut ? `${flat}… (${text.length} characters)` : flat;
}

/**
 * What a failure to write output must add once commands were applied to a journal, so that a
 * failed print is never taken for a failed run: a function that settles the run's state (waits
 * for its commands to be durable) and says what it is. Null while nothing was applied.
 */
let appliedState: (() => Promise<string>) | null = null;

/** Registers (or clears, with null) what {@link appliedNote} says; see {@link EXIT}. */
export function whenOutputFails(state: (() => Promise<string>) | null): void {
  appliedState = state;
}

/** What the run applied, once settled; null when nothing was. */
export async function appliedNote(): Promise<string | null> {
  return appliedState === null ? null : appliedState();
}

/** Output gathered before it is written: one write per this many characters, not per line. */
const OUTPUT_CHUNK = 64 * 1024;
let pending: string[] = [];
let pendingLength = 0;
let flushScheduled = false;

/**
 * Writes `text` to standard output, gathered into chunks (a run of a million results makes
 * sixteen writes a megabyte, not a million). What is gathered goes out once it fills a chunk,
 * once the program is idle for a moment (so that results still appear as they come), or on
 * {@link flushOut}. Resolves at once, or once the stream has drained when it asks the writer to
 * wait, so that a long output never piles up in memory.
 */
export function writeOut(text: string): Promise<void> | undefined {
  pending.push(text);
  pendingLength += text.length;
  if (pendingLength >= OUTPUT_CHUNK) return flushOut();
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      void flushOut();
    });
  }
  return undefined;
}

/** Writes out whatever {@link writeOut} has gathered. */
export function flushOut(): Promise<void> | undefined {
  if (pendingLength === 0) return undefined;
  const chunk = pending.join('');
  pending = [];
  pendingLength = 0;
  if (process.stdout.write(chunk)) return undefined;
  return new Promise((resolve) => process.stdout.once('drain', resolve));
}

/**
 * Creates the folder `path` (and its parents) if it is not there, or refuses in one line: a
 * file where the folder should be, a place that cannot hold a folder, a folder that cannot be
 * written. Each parent is tried once, so a path the system answers strangely (`/proc/x`, where
 * `mkdirSync` with `recursive` loops) ends in an error rather than a loop.
 */
export function ensureFolder(path: string, option: string): void {
  const fail = (reason: string): never => {
    throw new CliError(`${option} ${showPath(path)}: ${reason}`, EXIT.badInput, {
      code: 'invalid_field',
      field: option,
    });
  };
  try {
    makeFolder(path);
  } catch (error) {
    if (!(error instanceof FolderError)) throw error;
    const where = error.at === path ? 'it' : showPath(error.at);
    if (error.reason === 'not-a-folder') fail(`${where} is not a folder`);
    if (error.reason === 'unreachable') fail(`cannot reach ${where} (${error.code})`);
    fail(`cannot create it (${error.code})`);
  }
  try {
    accessSync(path, constants.W_OK);
  } catch (error) {
    fail(
      `cannot write in it (${error instanceof Error && 'code' in error ? String(error.code) : 'failed'})`,
    );
  }
}
