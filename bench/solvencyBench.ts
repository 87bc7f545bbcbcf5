/**
 * Private solvency proofs (docs/SOLVENCY.md), both range-proof backends, 10 assets:
 * - one account: prove and verify (20 balance range proofs of 64 bits and one 128-bit surplus
 *   proof), in one thread, and the leaf's size;
 * - a liabilities tree on worker threads (every core): build (every proof, padding and node sums
 *   included) and the full public audit; one user's bundle: its JSON size and its check in one
 *   thread;
 * - 100,000 accounts, extrapolated from the tree: range proofs of a padded tree of depth 17,
 *   times the measured core-seconds per proof, over the cores; the bundle from the measured
 *   sizes and check times of a leaf and a node, for 17 levels.
 * Tree sizes: BENCH_SOLVENCY_ACCOUNTS (Bulletproofs, default 64) and
 * BENCH_SOLVENCY_REFERENCE_ACCOUNTS (reference, default 8; 0 skips the backend). The tree is
 * written as `fulcrum prove` writes it (shard files of BENCH_SOLVENCY_SHARD_DEPTH levels, default
 * 10, at most the tree's depth, in a temporary folder) and audited from those files as
 * `fulcrum verify-proof` does, each shard on a worker.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ProofPool } from '../src/cli/provePool.js';
import { writeShards } from '../src/cli/proveShards.js';
import { parseAssetConfig } from '../src/domain/asset.js';
import { assetRisk } from '../src/margin/assetRisk.js';
import { PRICE_SCALE } from '../src/math/fixed.js';
// Not the solvency index, which loads the engine for `fromState.ts`: proofs only.
import {
  accountUid,
  type LeafProof,
  leafOpening,
  leafProblem,
  proveLeaf,
} from '../src/solvency/account.js';
import { bulletproofsRangeProof } from '../src/solvency/bulletproofs.js';
import { buildSolvencyTreeWith, type BuiltTree } from '../src/solvency/prover.js';
import { auditShards, shardDepthFor } from '../src/solvency/shards.js';
import { type RangeProof, sigmaRangeProof } from '../src/solvency/rangeProof.js';
import { bundleToJson } from '../src/solvency/serialize.js';
import { tableInputFromRisk } from '../src/solvency/fromState.js';
import { buildProofTable, type ProofTable } from '../src/solvency/table.js';
import { depthFor, type NodeProof, nodeProblem } from '../src/solvency/tree.js';
import { bundleProblem } from '../src/solvency/verifier.js';
import { type Measurement, rateMeasurement } from './harness.js';

const TREE_ACCOUNTS: Readonly<Record<string, number>> = {
  bulletproofs: Number(process.env.BENCH_SOLVENCY_ACCOUNTS ?? 64),
  reference: Number(process.env.BENCH_SOLVENCY_REFERENCE_ACCOUNTS ?? 8),
};
const SHARD_DEPTH = Number(process.env.BENCH_SOLVENCY_SHARD_DEPTH ?? 10);
const ASSETS = 10;
const SCALE_ACCOUNTS = 100_000;
const SNAPSHOT = 'bench@seq:1';
const SECRET = new Uint8Array(32).fill(3);

function tableOfTen(): ProofTable {
  const inputs = Array.from({ length: ASSETS }, (_, i) => {
    const decimals = [18, 8, 6][i % 3] as number;
    const config = parseAssetConfig(
      {
        symbol: `A${i}`,
        decimals,
        initialWeight: '0.7',
        maintenanceWeight: '0.8',
        liabilityWeight: '1',
      },
      'asset',
    );
    const price = BigInt(1 + i * 137) * PRICE_SCALE;
    return tableInputFromRisk(assetRisk(config, price, price), config);
  });
  return buildProofTable(inputs);
}

/** Balances of account k: deposits in every asset, a debt in one. */
function balancesOf(k: number): Map<string, bigint> {
  const balances = new Map<string, bigint>();
  for (let i = 0; i < ASSETS; i++) {
    const decimals = [18, 8, 6][i % 3] as number;
    balances.set(`A${i}`, BigInt(10 + ((k * 7 + i) % 90)) * 10n ** BigInt(decimals));
  }
  const debt = k % ASSETS;
  const decimals = [18, 8, 6][debt % 3] as number;
  balances.set(`A${debt}`, -BigInt(1 + (k % 5)) * 10n ** BigInt(decimals));
  return balances;
}

function timed<T>(run: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = run();
  return { value, ms: performance.now() - start };
}

/** CPU time of the process so far, every thread's (the workers' included), in ms. */
function cpuMs(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}

/** Wall time and the process's CPU time (all threads: on a shared machine, the work done). */
async function timedAsync<T>(
  run: () => Promise<T>,
): Promise<{ value: T; ms: number; cpuMs: number }> {
  const start = performance.now();
  const cpu = cpuMs();
  const value = await run();
  return { value, ms: performance.now() - start, cpuMs: cpuMs() - cpu };
}

const proofBytesOf = (proofs: readonly Uint8Array[]) => proofs.reduce((s, p) => s + p.length, 0);

/** Binary size of a leaf: uid, commitments (balances and derivatives terms), proofs. */
function leafBytes(l: LeafProof): number {
  const commitments = l.equity.length + l.debt.length + l.extra.length;
  const proofs = [...l.equityProofs, ...l.debtProofs, ...l.extraProofs, l.surplusProof];
  return 32 * (1 + commitments) + proofBytesOf(proofs);
}

/** One account in one thread: prove and verify rates, the leaf's bytes. */
function oneAccount(table: ProofTable, backend: RangeProof, rounds: number) {
  const uid = accountUid(SNAPSHOT, 'one', new Uint8Array(32));
  const opening = leafOpening(table, balancesOf(1), SNAPSHOT, uid, SECRET);
  const prove: number[] = [];
  const verify: number[] = [];
  let bytes = 0;
  for (let round = 0; round < rounds; round++) {
    const proved = timed(() => proveLeaf(SNAPSHOT, table, uid, opening, SECRET, backend));
    const checked = timed(() => leafProblem(SNAPSHOT, table, proved.value, backend));
    if (checked.value !== null) throw new Error(checked.value);
    prove.push(1000 / proved.ms);
    verify.push(1000 / checked.ms);
    bytes = leafBytes(proved.value);
  }
  return { prove, verify, bytes };
}

/**
 * Range proofs in a padded tree of `accounts`: 2A + 3 per leaf (balances, the two derivatives
 * terms, the surplus), 2A per node below the root.
 */
function proofsInTree(accounts: number): { leaves: number; proofs: number; depth: number } {
  const depth = depthFor(accounts);
  const leaves = 2 ** depth;
  return { leaves, depth, proofs: leaves * (2 * ASSETS + 3) + (leaves - 2) * 2 * ASSETS };
}

/** The tree written as shard files, then audited from them on the pool's workers. */
async function shardedAudit(pool: ProofPool, built: BuiltTree) {
  const { statement } = built;
  const folder = mkdtempSync(join(tmpdir(), 'fulcrum-solvency-bench-'));
  try {
    mkdirSync(join(folder, 'shards'));
    const shardDepth = shardDepthFor(statement.depth, SHARD_DEPTH);
    const write = timed(() =>
      writeShards(folder, statement, shardDepth, built.hashes[shardDepth] ?? []),
    );
    const manifest = write.value;
    const bytes = manifest.shards.reduce((s, e) => s + statSync(join(folder, e.file)).size, 0);
    const audit = await timedAsync(async () => {
      const { shards, checks } = await pool.checkShards(folder, manifest);
      return auditShards(manifest, shards, checks);
    });
    if (audit.value !== null) throw new Error(audit.value);
    return { audit, writeMs: write.ms, bytes, shards: manifest.shards.length };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** The tree on every core: build, write and audit its shards, one user's bundle. */
async function tree(table: ProofTable, backend: RangeProof, accounts: number, cores: number) {
  const list = Array.from({ length: accounts }, (_, k) => ({
    accountId: `acct-${k}`,
    balances: balancesOf(k),
  }));
  const pool = new ProofPool(cores, backend.name, SECRET);
  try {
    const built = await timedAsync(() =>
      buildSolvencyTreeWith(SNAPSHOT, table, list, SECRET, pool, backend.name),
    );
    const { statement, bundles } = built.value;
    const { audit, ...files } = await shardedAudit(pool, built.value);
    const bundle = bundles.get('acct-0');
    if (bundle === undefined) throw new Error('no bundle');
    const user = timed(() => bundleProblem(statement, bundle, 'acct-0', backend));
    if (user.value !== null) throw new Error(user.value);
    const node = statement.nodes[0]?.[0] as NodeProof | undefined;
    if (node === undefined) throw new Error('a tree of 3 accounts or more is needed');
    const nodeCheck = timed(() => nodeProblem(SNAPSHOT, table, 1, 0, node, backend));
    const lastStepless = bundleToJson({ ...bundle, path: bundle.path.slice(0, -1) });
    return {
      ...{ built, audit, files, user, nodeCheckMs: nodeCheck.ms },
      bundleJson: JSON.stringify(bundleToJson(bundle)).length,
      nodeJson: JSON.stringify(bundleToJson(bundle)).length - JSON.stringify(lastStepless).length,
      depth: statement.depth,
    };
  } finally {
    await pool.close();
  }
}

/** Hours, to one decimal. */
const hours = (seconds: number) => `${(seconds / 3600).toFixed(1)} h`;

export async function solvencyBenchmarks(): Promise<{ measurements: Measurement[]; note: string }> {
  const table = tableOfTen();
  const cores = Math.max(1, (await import('node:os')).availableParallelism());
  const measurements: Measurement[] = [];
  const notes: string[] = [];
  for (const backend of [bulletproofsRangeProof, sigmaRangeProof]) {
    const name = backend.name;
    if ((TREE_ACCOUNTS[name] as number) === 0) continue;
    const one = oneAccount(table, backend, name === 'bulletproofs' ? 3 : 2);
    const accounts = TREE_ACCOUNTS[name] as number;
    const t = await tree(table, backend, accounts, cores);
    const shape = proofsInTree(accounts);
    const coreSecondsPerProof = (t.built.ms / 1000) * (cores / shape.proofs);
    const auditCoreSecondsPerProof = (t.audit.ms / 1000) * (cores / shape.proofs);
    const cpuPerProof = t.built.cpuMs / 1000 / shape.proofs;
    const auditCpuPerProof = t.audit.cpuMs / 1000 / shape.proofs;
    const scale = proofsInTree(SCALE_ACCOUNTS);
    const oneLevelMs = t.nodeCheckMs;
    // A user's check at depth 17: the one measured, plus a node's check per extra level.
    const userScaleMs = t.user.ms + (scale.depth - t.depth) * oneLevelMs;
    const bundleScale = t.bundleJson + (scale.depth - t.depth) * t.nodeJson;
    measurements.push(
      rateMeasurement(`${name}: prove one account, ${ASSETS} assets (23 range proofs)`, one.prove),
      rateMeasurement(`${name}: verify one account`, one.verify),
      rateMeasurement(`${name}: tree of ${accounts} accounts on ${cores} threads, per account`, [
        (1000 * accounts) / t.built.ms,
      ]),
      rateMeasurement(`${name}: public audit on ${cores} threads, per leaf`, [
        (1000 * shape.leaves) / t.audit.ms,
      ]),
      rateMeasurement(`${name}: one user's bundle check, depth ${t.depth}`, [1000 / t.user.ms]),
    );
    notes.push(
      `${name}: account statement ${one.bytes.toLocaleString('en')} B ` +
        `(64-bit proof ${backend.size(64)} B, 128-bit ${backend.size(128)} B); ` +
        `tree of ${accounts} (${shape.leaves} leaves, ${shape.proofs} range proofs) on ${cores} threads: ` +
        `build ${(t.built.ms / 1000).toFixed(1)} s (${coreSecondsPerProof.toFixed(3)} core-s per proof; ` +
        `CPU ${(t.built.cpuMs / 1000).toFixed(0)} s, ${cpuPerProof.toFixed(3)} s per proof), ` +
        `${t.files.shards} shard file(s) of ${(t.files.bytes / 1e6).toFixed(1)} MB written in ${(t.files.writeMs / 1000).toFixed(1)} s, ` +
        `audit from them ${(t.audit.ms / 1000).toFixed(1)} s (${auditCoreSecondsPerProof.toFixed(4)} core-s per proof; ` +
        `CPU ${auditCpuPerProof.toFixed(4)} s per proof); ` +
        `bundle ${t.bundleJson.toLocaleString('en')} B of JSON (a node ${t.nodeJson.toLocaleString('en')} B), ` +
        `user check ${(t.user.ms / 1000).toFixed(2)} s (a node ${oneLevelMs.toFixed(0)} ms). ` +
        `Extrapolated to ${SCALE_ACCOUNTS.toLocaleString('en')} accounts (depth ${scale.depth}, ` +
        `${scale.proofs.toLocaleString('en')} range proofs): prove ` +
        `${hours(scale.proofs * coreSecondsPerProof)} on one core, ` +
        `${hours((scale.proofs * coreSecondsPerProof) / cores)} on ${cores} ` +
        `(from CPU time: ${hours(scale.proofs * cpuPerProof)} on one core); audit ` +
        `${hours(scale.proofs * auditCoreSecondsPerProof)} on one core ` +
        `(from CPU time: ${hours(scale.proofs * auditCpuPerProof)}); bundle ` +
        `${Math.round(bundleScale / 1000)} kB, user check ${(userScaleMs / 1000).toFixed(1)} s`,
    );
  }
  return { measurements, note: notes.join('\n') };
}
