/**
 * JSON forms of a solvency statement and of an inclusion bundle: points, scalars, uids and
 * hashes as lowercase hex, range proofs as base64, integers as decimal strings. Decoding is
 * strict: unknown or missing fields, non-canonical hex, base64, points or scalars are refused
 * with a {@link SolvencyFormatError} naming the field, so that a file decodes to exactly one
 * statement (whose proofs are then checked by `auditProblem` or `bundleProblem`).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { LeafOpening, LeafProof } from './account.js';
import { decodePoint, decodeScalar, encodePoint, encodeScalar, type Point } from './group.js';
import type { Shard, ShardEntry, ShardedStatement } from './shards.js';
import type { ProofTable, TableAsset } from './table.js';
import type {
  InclusionBundle,
  NodeProof,
  PathStep,
  PublicRoot,
  RootOpening,
  SolvencyStatement,
} from './tree.js';

export const STATEMENT_FORMAT = 'fulcrum-solvency-statement/2';
export const BUNDLE_FORMAT = 'fulcrum-solvency-bundle/2';
/** The `layout` of a statement whose leaves and nodes are in shard files. */
export const SHARDED_LAYOUT = 'fulcrum-solvency-shards/1';
export const SHARD_FORMAT = 'fulcrum-solvency-shard/1';

/** A statement or bundle file that does not decode; the message names the field. */
export class SolvencyFormatError extends Error {
  override readonly name = 'SolvencyFormatError';
}

type Json = Record<string, unknown>;

const fail = (at: string, what: string): never => {
  throw new SolvencyFormatError(`${at}: ${what}`);
};

// ---------------------------------------------------------------------------------------------
// Encoding

export function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

const hexPoint = (p: Point) => bytesToHex(encodePoint(p));
const hexScalar = (s: bigint) => bytesToHex(encodeScalar(s));
const decimal = (v: bigint) => v.toString();

function tableJson(table: ProofTable): Json {
  return {
    priceExponent: table.priceExponent,
    assets: table.assets.map((a) => ({
      symbol: a.symbol,
      decimals: a.decimals,
      proofDecimals: a.proofDecimals,
      collateralPrice: decimal(a.collateralPrice),
      debtPrice: decimal(a.debtPrice),
      assetWeight: decimal(a.assetWeight),
      liabilityWeight: decimal(a.liabilityWeight),
    })),
  };
}

function leafJson(leaf: LeafProof): Json {
  return {
    uid: bytesToHex(leaf.uid),
    equity: leaf.equity.map(hexPoint),
    debt: leaf.debt.map(hexPoint),
    equityProofs: leaf.equityProofs.map(toBase64),
    debtProofs: leaf.debtProofs.map(toBase64),
    extra: leaf.extra.map(hexPoint),
    extraProofs: leaf.extraProofs.map(toBase64),
    surplusProof: toBase64(leaf.surplusProof),
  };
}

function nodeJson(node: NodeProof): Json {
  return {
    equity: node.equity.map(hexPoint),
    debt: node.debt.map(hexPoint),
    equityProofs: node.equityProofs.map(toBase64),
    debtProofs: node.debtProofs.map(toBase64),
  };
}

function rootJson(root: RootOpening): Json {
  return {
    hash: bytesToHex(root.hash),
    equityTotal: root.equityTotal.map(decimal),
    debtTotal: root.debtTotal.map(decimal),
    equityBlinding: root.equityBlinding.map(hexScalar),
    debtBlinding: root.debtBlinding.map(hexScalar),
  };
}

/** The statement as JSON (plain objects, arrays and strings). */
export function statementToJson(statement: SolvencyStatement): Json {
  return {
    format: STATEMENT_FORMAT,
    snapshotId: statement.snapshotId,
    backend: statement.backend,
    table: tableJson(statement.table),
    depth: statement.depth,
    root: rootJson(statement.root),
    leaves: statement.leaves.map(leafJson),
    nodes: statement.nodes.map((row) => row.map(nodeJson)),
  };
}

/**
 * A sharded statement's manifest as JSON: the public root's fields (same format tag: the root
 * a user checks against is unchanged), the layout, the shard depth, the top nodes and the
 * shards.
 */
export function manifestToJson(manifest: ShardedStatement): Json {
  return {
    format: STATEMENT_FORMAT,
    layout: SHARDED_LAYOUT,
    snapshotId: manifest.snapshotId,
    backend: manifest.backend,
    table: tableJson(manifest.table),
    depth: manifest.depth,
    root: rootJson(manifest.root),
    shardDepth: manifest.shardDepth,
    top: manifest.top.map((row) => row.map(nodeJson)),
    shards: manifest.shards.map((e) => ({
      file: e.file,
      hash: bytesToHex(e.hash),
      sha256: bytesToHex(e.sha256),
    })),
  };
}

/** One shard as JSON. */
export function shardToJson(shard: Shard): Json {
  return {
    format: SHARD_FORMAT,
    snapshotId: shard.snapshotId,
    index: shard.index,
    shardDepth: shard.shardDepth,
    leaves: shard.leaves.map(leafJson),
    nodes: shard.nodes.map((row) => row.map(nodeJson)),
  };
}

function openingJson(opening: LeafOpening): Json {
  return {
    equity: opening.equity.map(decimal),
    debt: opening.debt.map(decimal),
    equityBlinding: opening.equityBlinding.map(hexScalar),
    debtBlinding: opening.debtBlinding.map(hexScalar),
    extra: [decimal(opening.extra.collateral), decimal(opening.extra.liabilities)],
    extraBlinding: opening.extraBlinding.map(hexScalar),
  };
}

function stepJson(step: PathStep): Json {
  return step.kind === 'leaf'
    ? { kind: 'leaf', leaf: leafJson(step.leaf) }
    : { kind: 'node', hash: bytesToHex(step.hash), node: nodeJson(step.node) };
}

/** One account's bundle as JSON. */
export function bundleToJson(bundle: InclusionBundle): Json {
  return {
    format: BUNDLE_FORMAT,
    snapshotId: bundle.snapshotId,
    accountId: bundle.accountId,
    salt: bytesToHex(bundle.salt),
    index: bundle.index,
    opening: openingJson(bundle.opening),
    leaf: leafJson(bundle.leaf),
    path: bundle.path.map(stepJson),
  };
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** An object with exactly `keys` (each read by the caller). */
function object(value: unknown, at: string, keys: readonly string[]): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return fail(at, 'an object expected');
  const json = value as Json;
  for (const key of Object.keys(json))
    if (!keys.includes(key)) fail(`${at}.${key}`, 'unknown field');
  for (const key of keys) if (!(key in json)) fail(`${at}.${key}`, 'missing');
  return json;
}

function array(value: unknown, at: string): unknown[] {
  return Array.isArray(value) ? value : fail(at, 'an array expected');
}

function text(value: unknown, at: string): string {
  return typeof value === 'string' ? value : fail(at, 'a string expected');
}

function integer(value: unknown, at: string, min: number, max: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
    ? value
    : fail(at, `a whole number from ${min} to ${max} expected`);
}

function bigintOf(value: unknown, at: string): bigint {
  const s = text(value, at);
  return /^(0|-?[1-9][0-9]{0,120})$/.test(s) ? BigInt(s) : fail(at, 'a decimal integer expected');
}

function hex(value: unknown, at: string, bytes: number): Uint8Array {
  const s = text(value, at);
  if (s.length !== 2 * bytes || !/^[0-9a-f]*$/.test(s))
    fail(at, `${bytes} bytes of lowercase hex expected`);
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function point(value: unknown, at: string): Point {
  return decodePoint(hex(value, at, 32)) ?? fail(at, 'not a canonical ristretto255 point');
}

function scalar(value: unknown, at: string): bigint {
  return decodeScalar(hex(value, at, 32)) ?? fail(at, 'not a canonical scalar');
}

export function fromBase64(value: unknown, at: string): Uint8Array {
  const s = text(value, at);
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) fail(at, 'base64 expected');
  const raw = atob(s);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  if (toBase64(out) !== s) fail(at, 'base64 is not canonical');
  return out;
}

const list = <T>(value: unknown, at: string, item: (v: unknown, at: string) => T): T[] =>
  array(value, at).map((v, i) => item(v, `${at}[${i}]`));

function tableFrom(value: unknown, at: string): ProofTable {
  const json = object(value, at, ['priceExponent', 'assets']);
  const assets = list(json.assets, `${at}.assets`, (v, where): TableAsset => {
    const a = object(v, where, [
      'symbol',
      'decimals',
      'proofDecimals',
      'collateralPrice',
      'debtPrice',
      'assetWeight',
      'liabilityWeight',
    ]);
    return {
      symbol: text(a.symbol, `${where}.symbol`),
      decimals: integer(a.decimals, `${where}.decimals`, 0, 255),
      proofDecimals: integer(a.proofDecimals, `${where}.proofDecimals`, 0, 255),
      collateralPrice: bigintOf(a.collateralPrice, `${where}.collateralPrice`),
      debtPrice: bigintOf(a.debtPrice, `${where}.debtPrice`),
      assetWeight: bigintOf(a.assetWeight, `${where}.assetWeight`),
      liabilityWeight: bigintOf(a.liabilityWeight, `${where}.liabilityWeight`),
    };
  });
  return { priceExponent: integer(json.priceExponent, `${at}.priceExponent`, -60, 60), assets };
}

const LEAF_KEYS = [
  'uid',
  'equity',
  'debt',
  'equityProofs',
  'debtProofs',
  'extra',
  'extraProofs',
  'surplusProof',
];

function leafFrom(value: unknown, at: string): LeafProof {
  const json = object(value, at, LEAF_KEYS);
  return {
    uid: hex(json.uid, `${at}.uid`, 32),
    equity: list(json.equity, `${at}.equity`, point),
    debt: list(json.debt, `${at}.debt`, point),
    equityProofs: list(json.equityProofs, `${at}.equityProofs`, fromBase64),
    debtProofs: list(json.debtProofs, `${at}.debtProofs`, fromBase64),
    extra: list(json.extra, `${at}.extra`, point),
    extraProofs: list(json.extraProofs, `${at}.extraProofs`, fromBase64),
    surplusProof: fromBase64(json.surplusProof, `${at}.surplusProof`),
  };
}

function nodeFrom(value: unknown, at: string): NodeProof {
  const json = object(value, at, ['equity', 'debt', 'equityProofs', 'debtProofs']);
  return {
    equity: list(json.equity, `${at}.equity`, point),
    debt: list(json.debt, `${at}.debt`, point),
    equityProofs: list(json.equityProofs, `${at}.equityProofs`, fromBase64),
    debtProofs: list(json.debtProofs, `${at}.debtProofs`, fromBase64),
  };
}

function rootFrom(value: unknown, at: string): RootOpening {
  const keys = ['hash', 'equityTotal', 'debtTotal', 'equityBlinding', 'debtBlinding'];
  const json = object(value, at, keys);
  return {
    hash: hex(json.hash, `${at}.hash`, 32),
    equityTotal: list(json.equityTotal, `${at}.equityTotal`, bigintOf),
    debtTotal: list(json.debtTotal, `${at}.debtTotal`, bigintOf),
    equityBlinding: list(json.equityBlinding, `${at}.equityBlinding`, scalar),
    debtBlinding: list(json.debtBlinding, `${at}.debtBlinding`, scalar),
  };
}

const STATEMENT_KEYS = [
  'format',
  'snapshotId',
  'backend',
  'table',
  'depth',
  'root',
  'leaves',
  'nodes',
];

/** A statement from its JSON form; `extra` names further fields the caller reads itself. */
export function statementFromJson(
  value: unknown,
  extra: readonly string[] = [],
): SolvencyStatement {
  const json = object(value, 'statement', [...STATEMENT_KEYS, ...extra]);
  return {
    ...rootOf(json),
    leaves: list(json.leaves, 'statement.leaves', leafFrom),
    nodes: list(json.nodes, 'statement.nodes', (row, at) => list(row, at, nodeFrom)),
  };
}

/**
 * The public root of a statement (all but its leaves and nodes: what a user needs beside their
 * bundle) from the statement's JSON, or from the same fields served alone; `extra` names further
 * fields the caller reads itself.
 */
export function publicRootFromJson(value: unknown, extra: readonly string[] = []): PublicRoot {
  const keys = STATEMENT_KEYS.filter((k) => k !== 'leaves' && k !== 'nodes');
  return rootOf(object(value, 'statement', [...keys, ...extra]));
}

/** The root fields of a statement's JSON object, its format checked. */
function rootOf(json: Readonly<Record<string, unknown>>): PublicRoot {
  if (json.format !== STATEMENT_FORMAT) fail('statement.format', `${STATEMENT_FORMAT} expected`);
  return {
    snapshotId: text(json.snapshotId, 'statement.snapshotId'),
    backend: text(json.backend, 'statement.backend'),
    table: tableFrom(json.table, 'statement.table'),
    depth: integer(json.depth, 'statement.depth', 1, 40),
    root: rootFrom(json.root, 'statement.root'),
  };
}

function stepFrom(value: unknown, at: string): PathStep {
  const kind = (value as Json | null)?.kind;
  if (kind === 'leaf') {
    const json = object(value, at, ['kind', 'leaf']);
    return { kind: 'leaf', leaf: leafFrom(json.leaf, `${at}.leaf`) };
  }
  const json = object(value, at, ['kind', 'hash', 'node']);
  if (kind !== 'node') fail(`${at}.kind`, '"leaf" or "node" expected');
  return { kind: 'node', hash: hex(json.hash, `${at}.hash`, 32), node: nodeFrom(json.node, at) };
}

const BUNDLE_KEYS = ['format', 'snapshotId', 'accountId', 'salt', 'index', 'opening', 'leaf'];

/** A bundle from its JSON form; `extra` names further fields the caller reads itself. */
export function bundleFromJson(value: unknown, extra: readonly string[] = []): InclusionBundle {
  const json = object(value, 'bundle', [...BUNDLE_KEYS, 'path', ...extra]);
  if (json.format !== BUNDLE_FORMAT) fail('bundle.format', `${BUNDLE_FORMAT} expected`);
  const o = object(json.opening, 'bundle.opening', [
    'equity',
    'debt',
    'equityBlinding',
    'debtBlinding',
    'extra',
    'extraBlinding',
  ]);
  const extraTerms = list(o.extra, 'bundle.opening.extra', bigintOf);
  if (extraTerms.length !== 2) fail('bundle.opening.extra', 'two derivatives terms expected');
  return {
    snapshotId: text(json.snapshotId, 'bundle.snapshotId'),
    accountId: text(json.accountId, 'bundle.accountId'),
    salt: hex(json.salt, 'bundle.salt', 32),
    index: integer(json.index, 'bundle.index', 0, 2 ** 40),
    opening: {
      equity: list(o.equity, 'bundle.opening.equity', bigintOf),
      debt: list(o.debt, 'bundle.opening.debt', bigintOf),
      equityBlinding: list(o.equityBlinding, 'bundle.opening.equityBlinding', scalar),
      debtBlinding: list(o.debtBlinding, 'bundle.opening.debtBlinding', scalar),
      extra: { collateral: extraTerms[0] as bigint, liabilities: extraTerms[1] as bigint },
      extraBlinding: list(o.extraBlinding, 'bundle.opening.extraBlinding', scalar),
    },
    leaf: leafFrom(json.leaf, 'bundle.leaf'),
    path: list(json.path, 'bundle.path', stepFrom),
  };
}

/** Whether a statement's JSON is a sharded statement's manifest. */
export function isManifestJson(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'layout' in value;
}

const MANIFEST_KEYS = [
  ...STATEMENT_KEYS.filter((k) => k !== 'leaves' && k !== 'nodes'),
  'layout',
  'shardDepth',
  'top',
  'shards',
];

/** A sharded statement's manifest from JSON; `extra` names further fields the caller reads. */
export function manifestFromJson(value: unknown, extra: readonly string[] = []): ShardedStatement {
  const json = object(value, 'statement', [...MANIFEST_KEYS, ...extra]);
  if (json.layout !== SHARDED_LAYOUT) fail('statement.layout', `${SHARDED_LAYOUT} expected`);
  const shards = list(json.shards, 'statement.shards', (v, at): ShardEntry => {
    const e = object(v, at, ['file', 'hash', 'sha256']);
    return {
      file: text(e.file, `${at}.file`),
      hash: hex(e.hash, `${at}.hash`, 32),
      sha256: hex(e.sha256, `${at}.sha256`, 32),
    };
  });
  return {
    ...rootOf(json),
    shardDepth: integer(json.shardDepth, 'statement.shardDepth', 1, 40),
    top: list(json.top, 'statement.top', (row, at) => list(row, at, nodeFrom)),
    shards,
  };
}

/** One shard from its JSON form. */
export function shardFromJson(value: unknown): Shard {
  const keys = ['format', 'snapshotId', 'index', 'shardDepth', 'leaves', 'nodes'];
  const json = object(value, 'shard', keys);
  if (json.format !== SHARD_FORMAT) fail('shard.format', `${SHARD_FORMAT} expected`);
  return {
    snapshotId: text(json.snapshotId, 'shard.snapshotId'),
    index: integer(json.index, 'shard.index', 0, 2 ** 40),
    shardDepth: integer(json.shardDepth, 'shard.shardDepth', 1, 40),
    leaves: list(json.leaves, 'shard.leaves', leafFrom),
    nodes: list(json.nodes, 'shard.nodes', (row, at) => list(row, at, nodeFrom)),
  };
}
