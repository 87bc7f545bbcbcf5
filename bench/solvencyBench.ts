/**
 * Private solvency proofs (docs/SOLVENCY.md), reference backend (sigma bit proofs), one core:
 * one account with 10 assets (20 balance range proofs of 64 bits and one 128-bit surplus
 * proof), then a liabilities tree of a modest number of accounts: build (all proofs, padding and
 * node sums included), the full public audit, and one user's bundle check.
 */
import { performance } from 'node:perf_hooks';
import { parseAssetConfig, assetRisk } from '../src/index.js';
import { PRICE_SCALE } from '../src/math/fixed.js';
import {
  accountUid,
  auditProblem,
  buildProofTable,
  buildSolvencyTree,
  bundleProblem,
  leafOpening,
  leafProblem,
  proveLeaf,
  sigmaRangeProof,
  tableInputFromRisk,
} from '../src/solvency/index.js';
import { type Measurement, rateMeasurement } from './harness.js';

/** Accounts in the tree benchmark (the 100,000 is for a later session). */
const TREE_ACCOUNTS = Number(process.env.BENCH_SOLVENCY_ACCOUNTS ?? 8);
const ASSETS = 10;
const SNAPSHOT = 'bench@seq:1';
const SECRET = new Uint8Array(32).fill(3);

function tableOfTen() {
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

export function solvencyBenchmarks(): { measurements: Measurement[]; note: string } {
  const table = tableOfTen();
  const backend = sigmaRangeProof;
  const uid = accountUid(SNAPSHOT, 'one', new Uint8Array(32));
  const opening = leafOpening(table, balancesOf(1), SNAPSHOT, uid, SECRET);
  const proveRates: number[] = [];
  const verifyRates: number[] = [];
  let leafBytes = 0;
  for (let round = 0; round < 3; round++) {
    const proved = timed(() => proveLeaf(SNAPSHOT, table, uid, opening, SECRET, backend));
    const checked = timed(() => leafProblem(SNAPSHOT, table, proved.value, backend));
    if (checked.value !== null) throw new Error(checked.value);
    proveRates.push(1000 / proved.ms);
    verifyRates.push(1000 / checked.ms);
    const l = proved.value;
    leafBytes = 32 * (1 + l.equity.length + l.debt.length);
    leafBytes += [...l.equityProofs, ...l.debtProofs, l.surplusProof].reduce(
      (s, p) => s + p.length,
      0,
    );
  }
  const accounts = Array.from({ length: TREE_ACCOUNTS }, (_, k) => ({
    accountId: `acct-${k}`,
    balances: balancesOf(k),
  }));
  const built = timed(() => buildSolvencyTree(SNAPSHOT, table, accounts, SECRET, backend));
  const audit = timed(() => auditProblem(built.value.statement, backend));
  if (audit.value !== null) throw new Error(audit.value);
  const { statement, bundles } = built.value;
  const bundle = bundles.get('acct-0');
  if (bundle === undefined) throw new Error('no bundle');
  const root = { snapshotId: SNAPSHOT, table, depth: statement.depth, root: statement.root };
  const user = timed(() => bundleProblem(root, bundle, 'acct-0', backend));
  if (user.value !== null) throw new Error(user.value);
  const leaves = statement.leaves.length;
  const measurements = [
    rateMeasurement(`prove one account, ${ASSETS} assets (21 range proofs)`, proveRates),
    rateMeasurement(`verify one account, ${ASSETS} assets`, verifyRates),
    rateMeasurement(`build a tree of ${TREE_ACCOUNTS} accounts (${leaves} leaves), per account`, [
      (1000 * TREE_ACCOUNTS) / built.ms,
    ]),
    rateMeasurement(`full public audit of that tree, per leaf`, [(1000 * leaves) / audit.ms]),
    rateMeasurement(`one user's bundle check (depth ${statement.depth})`, [1000 / user.ms]),
  ];
  const note =
    `sigma backend: one account's statement ${leafBytes.toLocaleString('en')} bytes ` +
    `(64-bit proof ${backend.size(64)} B, 128-bit ${backend.size(128)} B); ` +
    `tree of ${TREE_ACCOUNTS}: build ${(built.ms / 1000).toFixed(1)} s, audit ${(audit.ms / 1000).toFixed(1)} s, ` +
    `user check ${(user.ms / 1000).toFixed(2)} s`;
  return { measurements, note };
}
