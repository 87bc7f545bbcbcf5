/**
 * The two range-proof backends agree: over random engine states (a lender, and a borrower whose
 * deposit, borrowed share and elapsed time are drawn), both accept every honest leaf of the
 * snapshot, and both reject the same tampered ones (a flipped surplus-proof byte, two assets'
 * commitments swapped, the leaf checked in the next snapshot, and an account pushed below
 * maintenance whose forged surplus proof each backend's cheating prover makes). A statement
 * records its backend; the verifier dispatches on it and refuses a name it does not know.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/index.js';
import {
  accountUid,
  auditProblem,
  auditWith,
  buildSolvencyTree,
  buildSolvencyTreeWith,
  proofChecksOf,
  type ProofWorkers,
  proveLeafJob,
  proveNodeJob,
  statementShapeProblem,
  statementToJson,
  bulletproofsRangeProof,
  leafOpening,
  leafProblem,
  type LeafProof,
  proveLeaf,
  proveLeafUnchecked,
  type RangeProof,
  sigmaRangeProof,
  solvencyInputs,
  statementDigest,
  surplusValue,
  type ProofTable,
} from '../../src/solvency/index.js';
import { ETH_LISTING, T0, USDC_LISTING } from '../fixtures/market.js';
import { BP_FORGER, ETH, FORGER, SECRET, tableOf, units, USDC } from './helpers.js';

const BACKENDS: readonly { honest: RangeProof; forger: RangeProof }[] = [
  { honest: sigmaRangeProof, forger: FORGER },
  { honest: bulletproofsRangeProof, forger: BP_FORGER },
];

/** A venue: USDC and ETH listed, a lender, a borrower; null when the engine refuses the borrow. */
function venue(ethWhole: number, borrowPermille: number, days: number): Engine | null {
  const engine = new Engine();
  const apply = (command: object) => engine.applyJson(command).ok;
  apply({ type: 'list-asset', time: T0, config: USDC_LISTING, price: '1' });
  apply({ type: 'list-asset', time: T0, config: ETH_LISTING, price: '2000' });
  apply({ type: 'deposit', time: T0, account: 'lender', asset: 'USDC', amount: '1000000' });
  apply({ type: 'deposit', time: T0, account: 'bob', asset: 'ETH', amount: String(ethWhole) });
  // Initial capacity: 2000 × 0.8 per ETH.
  const borrow = ((ethWhole * 1600 * borrowPermille) / 1000).toFixed(6);
  if (!apply({ type: 'borrow', time: T0 + 60, account: 'bob', asset: 'USDC', amount: borrow }))
    return null;
  const later = T0 + 60 + days * 86_400;
  apply({ type: 'deposit', time: later, account: 'lender', asset: 'ETH', amount: '1' });
  return engine;
}

/** Each way of tampering a leaf, as a leaf and the snapshot it is checked in. */
function tamperings(snapshotId: string, leaf: LeafProof) {
  const flipped = leaf.surplusProof.slice();
  flipped[100] = (flipped[100] as number) ^ 2;
  const equity = [leaf.equity[1], leaf.equity[0]] as LeafProof['equity'];
  return [
    { snapshotId, leaf: { ...leaf, surplusProof: flipped } },
    { snapshotId, leaf: { ...leaf, equity } },
    { snapshotId: `${snapshotId}+1`, leaf },
  ];
}

/** Accept or reject, per leaf and tampering, for one backend. */
function verdicts(
  snapshotId: string,
  table: ProofTable,
  accounts: readonly { accountId: string; balances: ReadonlyMap<string, bigint> }[],
  backend: RangeProof,
): boolean[] {
  const out: boolean[] = [];
  for (const account of accounts) {
    const uid = accountUid(snapshotId, account.accountId, new Uint8Array(32).fill(5));
    const opening = leafOpening(table, account.balances, snapshotId, uid, SECRET);
    const leaf = proveLeaf(snapshotId, table, uid, opening, SECRET, backend);
    out.push(leafProblem(snapshotId, table, leaf, backend) === null);
    for (const bad of tamperings(snapshotId, leaf))
      out.push(leafProblem(bad.snapshotId, table, bad.leaf, backend) === null);
  }
  return out;
}

describe('range-proof backends agree', () => {
  it('property: over random engine states, both accept the honest leaves and reject the same tampered ones', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        // Up to 90% of the initial capacity, for up to 200 days of interest: still healthy.
        fc.integer({ min: 1, max: 900 }),
        fc.integer({ min: 0, max: 200 }),
        (eth, permille, days) => {
          const engine = venue(eth, permille, days);
          expect(engine).not.toBeNull();
          if (engine === null) return;
          const inputs = solvencyInputs(engine.state, 5);
          const results = BACKENDS.map(({ honest }) =>
            verdicts(inputs.snapshotId, inputs.table, inputs.accounts, honest),
          );
          const [sigma, bp] = results as [boolean[], boolean[]];
          expect(bp).toEqual(sigma);
          // Per account: the honest leaf passes, every tampered one fails.
          expect(sigma).toEqual(inputs.accounts.flatMap(() => [true, false, false, false]));
        },
      ),
      { numRuns: 3, endOnFailure: true },
    );
  }, 240_000);

  it('both reject a forced leaf below maintenance, each forged by its own cheating prover', () => {
    const table = tableOf([ETH, USDC]);
    const balances = new Map([units('ETH', 1, 18), units('USDC', -1_900, 6)]);
    const uid = accountUid('s', 'dummy', new Uint8Array(32));
    const opening = leafOpening(table, balances, 's', uid, SECRET);
    expect(surplusValue(table, opening)).toBeLessThan(0n);
    for (const { honest, forger } of BACKENDS) {
      expect(() => proveLeaf('s', table, uid, opening, SECRET, honest)).toThrow(/maintenance/);
      const forced = proveLeafUnchecked('s', table, uid, opening, SECRET, forger);
      expect(leafProblem('s', table, forced, honest), honest.name).toMatch(/surplus/);
    }
  }, 60_000);

  it('a tree proven through ProofWorkers is the tree proven in this thread', async () => {
    const table = tableOf([ETH, USDC]);
    const accounts = [
      { accountId: 'a/0', balances: new Map([units('ETH', 2, 18), units('USDC', -100, 6)]) },
      { accountId: 'b/0', balances: new Map([units('USDC', 7, 6)]) },
      { accountId: 'c/0', balances: new Map([units('ETH', 1, 18)]) },
    ];
    const backend = bulletproofsRangeProof;
    let jobs = 0;
    const workers: ProofWorkers = {
      proveLeaves: async (list) => list.map((job) => (jobs++, proveLeafJob(job, SECRET, backend))),
      proveNodeSums: async (list) =>
        list.map((job) => (jobs++, proveNodeJob(job, SECRET, backend))),
    };
    const inThread = buildSolvencyTree('s', table, accounts, SECRET, backend);
    const viaWorkers = await buildSolvencyTreeWith(
      's',
      table,
      accounts,
      SECRET,
      workers,
      'bulletproofs',
    );
    expect(jobs).toBe(4 + 2);
    expect(statementToJson(viaWorkers.statement)).toEqual(statementToJson(inThread.statement));
    expect([...viaWorkers.bundles.keys()]).toEqual([...inThread.bundles.keys()]);
    // The audit with its proof checks made elsewhere gives the same verdicts.
    const s = inThread.statement;
    expect(statementShapeProblem(s)).toBeNull();
    expect(auditWith(s, proofChecksOf(s, backend))).toBeNull();
    const failing = {
      leaf: (i: number) => (i === 2 ? 'leaf: surplus proof' : null),
      node: () => null,
    };
    expect(auditWith(s, failing)).toBe('leaf 2: leaf: surplus proof');
  }, 60_000);

  it('a statement records its backend, in its digest; the audit dispatches on it', () => {
    const accounts = [{ accountId: 'a/0', balances: new Map([units('ETH', 1, 18)]) }];
    const table = tableOf([ETH, USDC]);
    const built = buildSolvencyTree('s', table, accounts, SECRET, bulletproofsRangeProof);
    const s = built.statement;
    expect(s.backend).toBe('bulletproofs');
    expect(auditProblem(s)).toBeNull();
    const relabelled = { ...s, backend: 'reference' };
    expect(statementDigest(relabelled)).not.toEqual(statementDigest(s));
    expect(auditProblem(relabelled)).toMatch(/leaf 0: leaf: ETH equity range proof/);
    expect(auditProblem({ ...s, backend: 'snark' })).toMatch(/unknown range-proof backend/);
    expect(auditProblem(s, sigmaRangeProof)).toMatch(/proved with bulletproofs, not reference/);
  }, 60_000);
});
