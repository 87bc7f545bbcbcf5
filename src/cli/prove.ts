/**
 * `fulcrum prove` and `fulcrum verify-proof`: private solvency proofs of a journal position
 * (docs/SOLVENCY.md). `prove` recovers the journal read-only at a position, proves every trader
 * sub-account at or above maintenance and the venue's per-asset totals, and writes the public
 * statement (a manifest and one shard file per subtree) and one bundle per account;
 * `verify-proof` runs the public audit of a statement, or one account's check of its bundle
 * against it. The core draws no randomness: the prover secret
 * comes from a file, or a fresh one is drawn here and written beside the output.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { bytesToHex } from '@noble/hashes/utils.js';
import { formatDecimal } from '../math/decimal.js';
import { recover } from '../store/recovery.js';
import {
  auditProblem,
  auditWith,
  backendNamed,
  buildSolvencyTree,
  buildSolvencyTreeWith,
  type BuiltTree,
  bundleFromJson,
  bundleProblem,
  bundleToJson,
  DEFAULT_BACKEND,
  type InclusionBundle,
  isManifestJson,
  manifestFromJson,
  manifestShapeProblem,
  manifestToJson,
  nodeProblem,
  type PublicRoot,
  RANGE_PROOF_BACKENDS,
  type RangeProof,
  snapshotIdOf,
  SolvencyFormatError,
  auditShards,
  type ShardedStatement,
  shardDepthFor,
  type SolvencyInputs,
  solvencyInputs,
  type SolvencyStatement,
  statementDigest,
  statementFromJson,
  statementShapeProblem,
} from '../solvency/index.js';
import { withStore } from './history.js';
import { defaultWorkers, ProofPool } from './provePool.js';
import { checkShardFile, writeShards } from './proveShards.js';
import { CliError, ensureFolder, EXIT, parseJson, readInput, showPath } from './io.js';

/** The fields `prove` adds to the statement; `verify-proof` checks each against the proofs. */
const STATEMENT_EXTRA = ['digest', 'journal', 'totals', 'venueAccounts'];
/** An account's bundle file: its sub-accounts' bundles. */
const ACCOUNT_FORMAT = 'fulcrum-solvency-account/1';
/** Smallest and largest secret file. */
const SECRET_BYTES_MIN = 32;
const SECRET_BYTES_MAX = 1 << 20;

export interface ProveOptions {
  readonly data: string;
  readonly at: string | undefined;
  readonly out: string;
  readonly secretFile: string | undefined;
  /** The range-proof backend (`bulletproofs`, the default, or `reference`). */
  readonly backend?: string | undefined;
  /** Worker threads (default: one per core); 1 proves in this thread. */
  readonly workers?: string | undefined;
  /** Levels per shard file (default 10: 1,024 leaves a shard; at most the tree's depth). */
  readonly shardDepth?: string | undefined;
}

/** `--shard-depth K`: 1 to 40 levels per shard file; 10 by default. */
export function shardDepthOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const k = /^[0-9]{1,2}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(k) || k < 1 || k > 40)
    throw new CliError(
      `--shard-depth must be a whole number from 1 to 40, not ${JSON.stringify(text)}`,
      EXIT.usage,
    );
  return k;
}

/** `--workers N`: 1 to 256 worker threads; one per core by default. */
export function workersOption(text: string | undefined): number {
  if (text === undefined) return defaultWorkers();
  const n = /^[0-9]{1,3}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new CliError(
      `--workers must be a whole number from 1 to 256, not ${JSON.stringify(text)}`,
      EXIT.usage,
    );
  return n;
}

/** Progress of a pool's jobs on standard error, at most every two seconds. */
function poolProgress(verb: string, what: string): (done: number, total: number) => void {
  let said = Date.now();
  return (done, total) => {
    if (Date.now() - said < 2_000) return;
    said = Date.now();
    const percent = Math.floor((100 * done) / Math.max(total, 1));
    process.stderr.write(`fulcrum: ${verb}: ${done} of ${total} ${what} (${percent}%)\n`);
  };
}

/** The tree, in this thread (one worker) or on a pool of worker threads. */
async function proveTree(
  inputs: SolvencyInputs,
  secret: Uint8Array,
  backend: RangeProof,
  workers: number,
): Promise<BuiltTree> {
  const { snapshotId, table, accounts } = inputs;
  if (workers <= 1) {
    const total = proofCount(accounts.length, table.assets.length);
    return buildSolvencyTree(
      snapshotId,
      table,
      accounts,
      secret,
      counting(backend, total, 'proving'),
    );
  }
  const pool = new ProofPool(
    workers,
    backend.name,
    secret,
    poolProgress('proving', 'leaves or nodes'),
  );
  try {
    return await buildSolvencyTreeWith(snapshotId, table, accounts, secret, pool, backend.name);
  } finally {
    await pool.close();
  }
}

/** The backend of `--backend`, refused in one line when no verifier knows it. */
export function backendOption(name: string | undefined): RangeProof {
  const backend = backendNamed(name ?? DEFAULT_BACKEND);
  if (backend === null)
    throw new CliError(
      `--backend must be one of ${[...RANGE_PROOF_BACKENDS.keys()].join(', ')}, not ${JSON.stringify(name)}`,
      EXIT.usage,
    );
  return backend;
}

/** Progress on standard error, at most every two seconds, of a count of range proofs. */
function counting(backend: RangeProof, total: number, verb: string): RangeProof {
  let done = 0;
  let said = Date.now();
  const tick = () => {
    done++;
    if (Date.now() - said < 2_000) return;
    said = Date.now();
    const percent = Math.min(100, Math.floor((100 * done) / Math.max(total, 1)));
    process.stderr.write(`fulcrum: ${verb}: ${done} of ${total} range proofs (${percent}%)\n`);
  };
  const batch = backend.verifyBatch;
  return {
    ...backend,
    ...(batch === undefined
      ? {}
      : {
          verifyBatch: (items) => {
            const ok = batch(items);
            for (let i = 0; i < items.length; i++) tick();
            return ok;
          },
        }),
    prove: (...args) => {
      const proof = backend.prove(...args);
      tick();
      return proof;
    },
    verify: (...args) => {
      const ok = backend.verify(...args);
      tick();
      return ok;
    },
  };
}

/** Range proofs of a tree of `accounts` leaves over `assets` assets (leaves and inner nodes). */
function proofCount(accounts: number, assets: number): number {
  let leaves = 2;
  while (leaves < accounts) leaves *= 2;
  return leaves * (2 * assets + 1) + (leaves - 2) * 2 * assets;
}

function parseSeq(text: string): number {
  const seq = /^[0-9]{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(seq) || seq < 1)
    throw new CliError(
      `--at must be a journal position (1 or more), not ${JSON.stringify(text)}`,
      EXIT.usage,
    );
  return seq;
}

/** `--out` must be new or an empty folder. */
function checkOut(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory())
    throw new CliError(`--out ${showPath(out)} names an existing file`, EXIT.badInput);
  if (readdirSync(out).length > 0)
    throw new CliError(
      `--out ${showPath(out)} is not empty; give a new or empty folder`,
      EXIT.badInput,
    );
}

function readSecret(path: string): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError(`cannot read --secret-file ${showPath(path)} (${code})`, EXIT.badInput);
  }
  if (bytes.length < SECRET_BYTES_MIN || bytes.length > SECRET_BYTES_MAX)
    throw new CliError(
      `--secret-file must hold 32 bytes to 1 MiB, not ${bytes.length}`,
      EXIT.badInput,
    );
  return new Uint8Array(bytes);
}

/** Where a fresh secret goes: beside `out`, never inside what is published. */
const secretPath = (out: string) => join(dirname(out), `${basename(out)}.prover-secret`);

/** The state at the position asked for (the last by default) and that position. */
async function recovered(data: string, at: string | undefined, warn: (m: string) => void) {
  const until = at === undefined ? undefined : parseSeq(at);
  return withStore(data, async (store) => {
    const last = await store.lastSeq();
    if (until !== undefined && until > last)
      throw new CliError(
        `the journal holds ${last} records; there is no record ${until}`,
        EXIT.badInput,
      );
    const options = until === undefined ? { warn } : { warn, untilSeq: until };
    const { state, report } = await recover(store, options);
    return { state, seq: until ?? report.seq };
  });
}

/** `fulcrum prove`: writes statement.json and bundles/<account>.json; returns the summary line. */
export async function proveCommand(options: ProveOptions, warn: (m: string) => void) {
  const chosen = backendOption(options.backend);
  const workers = workersOption(options.workers);
  const shardDepth = shardDepthOption(options.shardDepth);
  checkOut(options.out);
  const fresh = options.secretFile === undefined;
  if (fresh && existsSync(secretPath(options.out)))
    throw new CliError(
      `${showPath(secretPath(options.out))} exists; give it as --secret-file or remove it`,
      EXIT.badInput,
    );
  const secret = fresh ? new Uint8Array(randomBytes(32)) : readSecret(options.secretFile as string);
  const { state, seq } = await recovered(options.data, options.at, warn);
  let inputs: SolvencyInputs;
  try {
    inputs = solvencyInputs(state, seq);
  } catch (error) {
    // No asset listed, a table out of bounds, a derivatives term of 2^128 units: refusals.
    throw new CliError((error as Error).message, EXIT.badInput);
  }
  if (inputs.accounts.length === 0)
    throw new CliError(
      `no trader account holds anything at record ${seq}; nothing to prove`,
      EXIT.badInput,
    );
  let built;
  try {
    built = await proveTree(inputs, secret, chosen, workers);
  } catch (error) {
    // An account below maintenance at the table, a balance or total of 2^64 proof units or more.
    throw new CliError((error as Error).message, EXIT.badInput);
  }
  if (fresh) {
    writeFileSync(secretPath(options.out), secret, { flag: 'wx', mode: 0o600 });
    warn(
      `no --secret-file: a fresh prover secret is in ${secretPath(options.out)}; keep it private (it opens every commitment)`,
    );
  }
  const statement = built.statement;
  const written = writeStatement(options.out, built, shardDepthFor(statement.depth, shardDepth), {
    journal: { seq, stateHash: inputs.stateHash },
    venueAccounts: inputs.venueAccounts,
  });
  const accounts = writeBundles(options.out, built.bundles, written.digest);
  return `proved: record ${seq}, ${built.bundles.size} sub-accounts of ${accounts} accounts at or above maintenance, ${statement.leaves.length} leaves in ${written.shards} shard(s) (${chosen.name}); digest ${written.digest}; wrote ${join(options.out, 'statement.json')} and ${accounts} bundles`;
}

/**
 * The statement as a manifest (`statement.json`) and its shard files (`shards/`), each written
 * alone; the fields the command adds beside the public root. Returns the digest and the shard
 * count.
 */
function writeStatement(
  out: string,
  built: BuiltTree,
  shardDepth: number,
  added: { journal: { seq: number; stateHash: string }; venueAccounts: readonly string[] },
): { digest: string; shards: number } {
  const statement = built.statement;
  ensureFolder(join(out, 'bundles'), '--out');
  ensureFolder(join(out, 'shards'), '--out');
  const hashes = built.hashes[shardDepth] ?? [];
  const manifest = writeShards(out, statement, shardDepth, hashes);
  const digest = bytesToHex(statementDigest(statement));
  const file = {
    ...manifestToJson(manifest),
    digest,
    journal: added.journal,
    totals: totalsOf(statement),
    venueAccounts: added.venueAccounts,
  };
  writeFileSync(join(out, 'statement.json'), `${JSON.stringify(file, null, 1)}\n`);
  return { digest, shards: manifest.shards.length };
}

/** One file per account (its sub-accounts' bundles); returns how many. */
function writeBundles(out: string, bundles: ReadonlyMap<string, InclusionBundle>, digest: string) {
  const byAccount = new Map<string, InclusionBundle[]>();
  for (const bundle of bundles.values()) {
    const account = bundle.accountId.slice(0, bundle.accountId.lastIndexOf('/'));
    byAccount.set(account, [...(byAccount.get(account) ?? []), bundle]);
  }
  for (const [account, list] of byAccount) {
    list.sort((a, b) => (a.accountId < b.accountId ? -1 : 1));
    const file = { format: ACCOUNT_FORMAT, account, digest, bundles: list.map(bundleToJson) };
    writeFileSync(join(out, 'bundles', `${account}.json`), `${JSON.stringify(file, null, 1)}\n`);
  }
  return byAccount.size;
}

/** Per asset, the opened totals in tokens (proof units shown with their decimals). */
function totalsOf(statement: PublicRoot) {
  return statement.table.assets.map((a, i) => ({
    symbol: a.symbol,
    equity: formatDecimal(statement.root.equityTotal[i] as bigint, a.proofDecimals),
    debt: formatDecimal(statement.root.debtTotal[i] as bigint, a.proofDecimals),
  }));
}

/** A statement file: the whole tree in one file, or a sharded statement's manifest. */
type StatementFile =
  | { readonly kind: 'single'; readonly statement: SolvencyStatement; readonly digest: string }
  | {
      readonly kind: 'sharded';
      readonly statement: ShardedStatement;
      readonly digest: string;
      /** The folder of the manifest, where its shard files are. */
      readonly folder: string;
    };

/** The statement of a file, with its added fields checked against the proofs' public part. */
function readStatement(path: string): StatementFile {
  const json = parseJson(readInput(path), showPath(path)) as Record<string, unknown>;
  const file: StatementFile = isManifestJson(json)
    ? {
        kind: 'sharded',
        statement: decoded(() => manifestFromJson(json, STATEMENT_EXTRA), path),
        digest: '',
        folder: dirname(path),
      }
    : {
        kind: 'single',
        statement: decoded(() => statementFromJson(json, STATEMENT_EXTRA), path),
        digest: '',
      };
  const statement: PublicRoot = file.statement;
  const digest = bytesToHex(statementDigest(statement));
  const problem = addedFieldsProblem(json, statement, digest);
  if (problem !== null)
    throw new CliError(`not verified: ${showPath(path)}: ${problem}`, EXIT.badInput);
  return { ...file, digest };
}

/** Why the fields `prove` adds (digest, journal, totals, venue accounts) disagree, or null. */
function addedFieldsProblem(
  json: Record<string, unknown>,
  statement: PublicRoot,
  digest: string,
): string | null {
  const journal = json.journal as { seq?: unknown; stateHash?: unknown } | null;
  return json.digest !== digest
    ? 'the digest differs from the statement’s'
    : typeof journal !== 'object' ||
        journal === null ||
        Object.keys(journal).length !== 2 ||
        snapshotIdOf(journal.seq as number, journal.stateHash as string) !== statement.snapshotId
      ? 'the journal position differs from the snapshot id'
      : JSON.stringify(json.totals) !== JSON.stringify(totalsOf(statement))
        ? 'the totals differ from the root’s'
        : !Array.isArray(json.venueAccounts) ||
            json.venueAccounts.some((v) => typeof v !== 'string')
          ? 'venueAccounts must be a list of sub-account ids'
          : null;
}

function decoded<T>(decode: () => T, path: string): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof SolvencyFormatError)
      throw new CliError(`not verified: ${showPath(path)}: ${error.message}`, EXIT.badInput);
    throw error;
  }
}

/** An account's bundle file: its bundles, each checked against the statement. */
function readBundles(path: string): {
  account: string;
  digest: unknown;
  bundles: InclusionBundle[];
} {
  const json = parseJson(readInput(path), showPath(path)) as Record<string, unknown>;
  return decoded(() => {
    const keys = Object.keys(json ?? {})
      .sort()
      .join(',');
    if (json?.format !== ACCOUNT_FORMAT || keys !== 'account,bundles,digest,format')
      throw new SolvencyFormatError(`account bundle file (${ACCOUNT_FORMAT}) expected`);
    const list = Array.isArray(json.bundles) ? json.bundles : [];
    const account = String(json.account);
    if (list.length === 0) throw new SolvencyFormatError('bundles: one or more expected');
    const bundles = list.map((b: unknown) => bundleFromJson(b));
    for (const b of bundles)
      if (!b.accountId.startsWith(`${account}/`))
        throw new SolvencyFormatError(`bundle ${b.accountId} is not of account ${account}`);
    return { account, digest: json.digest, bundles };
  }, path);
}

export interface VerifyProofOptions {
  readonly statement: string;
  readonly bundle: string | undefined;
  /** Worker threads of the public audit (default: one per core); 1 checks in this thread. */
  readonly workers?: string | undefined;
}

/** A statement read and checked against its added fields, with its backend. */
function statementToCheck(path: string) {
  const file = readStatement(path);
  const { statement, digest } = file;
  const at = `snapshot ${statement.snapshotId}, ${statement.backend}, digest ${digest}`;
  const backend = backendNamed(statement.backend);
  if (backend === null)
    throw new CliError(
      `not verified: unknown range-proof backend ${JSON.stringify(statement.backend)}`,
      EXIT.badInput,
    );
  return { file, at, backend };
}

const auditPassed = (depth: number, at: string) =>
  `verified: all ${2 ** depth} leaves at or above maintenance, every sum and the root's totals (${at})`;

const notVerified = (problem: string | null) => {
  if (problem !== null) throw new CliError(`not verified: ${problem}`, EXIT.badInput);
};

/**
 * `fulcrum verify-proof` in this thread: the line to print when every check passes; throws
 * otherwise. {@link verifyProofParallel} runs the public audit on worker threads.
 */
export function verifyProofCommand(options: VerifyProofOptions): string {
  const { file, at, backend } = statementToCheck(options.statement);
  if (options.bundle !== undefined)
    return verifyBundles(options.bundle, file.statement, file.digest, backend, at);
  const { statement } = file;
  const total = proofCount(2 ** statement.depth, statement.table.assets.length);
  const counted = counting(backend, total, 'verifying');
  if (file.kind === 'single') notVerified(auditProblem(file.statement, counted));
  else notVerified(auditShardedHere(file.folder, file.statement, counted));
  return auditPassed(statement.depth, at);
}

/** A sharded statement's audit in this thread, one shard file after another. */
function auditShardedHere(folder: string, manifest: ShardedStatement, backend: RangeProof) {
  const shape = manifestShapeProblem(manifest);
  if (shape !== null) return shape;
  const { snapshotId, table, shardDepth } = manifest;
  const shards = manifest.shards.map((entry, index) =>
    checkShardFile(
      { folder, index, sha256: entry.sha256, shardDepth },
      { snapshotId, table },
      backend,
    ),
  );
  const node = (level: number, index: number) => {
    const stated = (manifest.top[level - shardDepth] ?? [])[index];
    if (stated === undefined) return `node ${level}/${index}: missing`;
    return nodeProblem(snapshotId, table, level, index, stated, backend);
  };
  return auditShards(manifest, shards, { leaf: () => 'not in the manifest', node });
}

/**
 * `fulcrum verify-proof` with the public audit's range proofs checked on `--workers` threads
 * (one per core by default; a sharded statement's shard files each read and checked by a
 * worker); a bundle is checked in this thread. Same lines as {@link verifyProofCommand}.
 */
export async function verifyProofParallel(options: VerifyProofOptions): Promise<string> {
  const workers = workersOption(options.workers);
  if (options.bundle !== undefined || workers <= 1) return verifyProofCommand(options);
  const { file, at, backend } = statementToCheck(options.statement);
  const shape =
    file.kind === 'single'
      ? statementShapeProblem(file.statement)
      : manifestShapeProblem(file.statement);
  notVerified(shape);
  const what = file.kind === 'single' ? 'leaves or nodes' : 'shards or top nodes';
  const pool = new ProofPool(workers, backend.name, null, poolProgress('verifying', what));
  try {
    if (file.kind === 'single')
      notVerified(auditWith(file.statement, await pool.checkStatement(file.statement)));
    else {
      const { shards, checks } = await pool.checkShards(file.folder, file.statement);
      notVerified(auditShards(file.statement, shards, checks));
    }
  } finally {
    await pool.close();
  }
  return auditPassed(file.statement.depth, at);
}

/** Each of an account's bundles against the statement. */
function verifyBundles(
  path: string,
  statement: PublicRoot,
  statementDigestHex: string,
  named: RangeProof,
  at: string,
): string {
  const { account, digest, bundles } = readBundles(path);
  const assets = statement.table.assets.length;
  const perBundle = 2 * assets + 1 + statement.depth * 2 * assets;
  const backend = counting(named, bundles.length * perBundle, 'verifying');
  for (const bundle of bundles) {
    const problem = bundleProblem(statement, bundle, bundle.accountId, backend);
    if (problem !== null)
      throw new CliError(`not verified: ${bundle.accountId}: ${problem}`, EXIT.badInput);
  }
  if (digest !== statementDigestHex)
    throw new CliError(
      'not verified: the bundle file names another statement digest',
      EXIT.badInput,
    );
  return `verified: account ${account}, ${bundles.length} sub-account(s) included at or above maintenance (${at})`;
}
