/**
 * Derivatives terms in the leaf: the engine's maintenance contribution of a sub-account's
 * positions and unsettled profit, committed as X (collateral side) and Y (liability side) and
 * added to the surplus. Along the derivatives story of `examples/perp-story.jsonl`, the proof
 * never calls healthy what the engine calls unhealthy; an account healthy only thanks to its
 * profit proves, and fails without it; one that its derivatives take below maintenance is
 * refused, and a forced proof or a tampered term does not verify.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Draft } from '../../src/engine/draft.js';
import { Engine } from '../../src/index.js';
import {
  accountUid,
  bulletproofsRangeProof,
  extraTermsOf,
  leafOpening,
  leafProblem,
  proveLeaf,
  proveLeafUnchecked,
  SolvencyRefusal,
  solvencyInputs,
  surplusValue,
  tableFactors,
} from '../../src/solvency/index.js';
import { BP_FORGER, ETH, SECRET, tableOf, units, USDC } from './helpers.js';

const BP = bulletproofsRangeProof;
const story = readFileSync(
  join(import.meta.dirname, '..', '..', 'examples', 'perp-story.jsonl'),
  'utf8',
)
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.startsWith('//'))
  .map((line) => JSON.parse(line) as object);

describe('derivatives terms', () => {
  it('along the perp story, a non-negative proof surplus implies the engine meets maintenance', () => {
    const engine = new Engine();
    let withTerms = 0;
    let checked = 0;
    let unhealthy = 0;
    let bothHealthy = 0;
    story.forEach((command, k) => {
      engine.applyJson(command);
      const inputs = solvencyInputs(engine.state, k + 1);
      const draft = new Draft(engine.state, engine.state.time);
      for (const account of inputs.accounts) {
        const [id, number] = account.accountId.split('/') as [string, string];
        const sub = engine.state.accounts
          .get(id)
          ?.subAccounts.find((s) => s.number === Number(number));
        if (sub === undefined) throw new Error(`no ${account.accountId}`);
        if (account.extra !== undefined) withTerms++;
        const uid = accountUid(inputs.snapshotId, account.accountId, new Uint8Array(32));
        const opening = leafOpening(
          inputs.table,
          account.balances,
          inputs.snapshotId,
          uid,
          SECRET,
          account.extra,
        );
        const meets = draft.healthOf(sub.positions, sub.derivatives).meets('maintenance');
        const proven = surplusValue(inputs.table, opening) >= 0n;
        if (proven) expect(meets, `${account.accountId} at ${k + 1}`).toBe(true);
        checked++;
        if (!meets) unhealthy++;
        if (meets && proven) bothHealthy++;
      }
    });
    expect(withTerms).toBeGreaterThan(20);
    expect(checked).toBeGreaterThan(100);
    // The crash takes accounts below maintenance (the implication is tested on both sides), and
    // the proof agrees with the engine on every healthy account of the story (no rounding edge).
    expect(unhealthy).toBeGreaterThan(0);
    expect(bothHealthy).toBe(checked - unhealthy);
  });

  it('an account with a position proves and verifies; its terms open to what the engine computes', () => {
    const engine = new Engine();
    // Up to the first open position and a move of the mark.
    let inputs;
    for (const [k, command] of story.entries()) {
      engine.applyJson(command);
      inputs = solvencyInputs(engine.state, k + 1);
      if (inputs.accounts.some((a) => (a.extra?.liabilities ?? 0n) > 0n)) break;
    }
    if (inputs === undefined) throw new Error('no state');
    const account = inputs.accounts.find((a) => (a.extra?.liabilities ?? 0n) > 0n);
    if (account?.extra === undefined) throw new Error('no derivatives');
    const { snapshotId, table } = inputs;
    const uid = accountUid(snapshotId, account.accountId, new Uint8Array(32));
    const opening = leafOpening(table, account.balances, snapshotId, uid, SECRET, account.extra);
    const leaf = proveLeaf(snapshotId, table, uid, opening, SECRET, BP);
    expect(leafProblem(snapshotId, table, leaf, BP)).toBeNull();
    // X and Y swapped, or the leaf shown without its terms (zeros): not verified.
    const swapped = { ...leaf, extra: [leaf.extra[1], leaf.extra[0]] as typeof leaf.extra };
    expect(leafProblem(snapshotId, table, swapped, BP)).toMatch(/derivatives|surplus/);
    const zeros = leafOpening(table, account.balances, snapshotId, uid, SECRET);
    const without = proveLeafUnchecked(snapshotId, table, uid, zeros, SECRET, BP);
    expect(leafProblem(snapshotId, table, { ...leaf, extra: without.extra }, BP)).toMatch(
      /derivatives|surplus/,
    );
  }, 60_000);

  it('converts the engine numerators against the venue: profit down, requirements up', () => {
    const table = tableOf([ETH, USDC]);
    const d = 10n ** BigInt(18 + 30 - table.priceExponent);
    expect(extraTermsOf(table, 3n * d + d - 1n, 3n * d + 1n)).toEqual({
      collateral: 3n,
      liabilities: 4n,
    });
    expect(extraTermsOf(table, 0n, 0n)).toEqual({ collateral: 0n, liabilities: 0n });
  });

  it('healthy only thanks to its profit: proves with X, is refused without; Y below maintenance is refused and a forced proof fails', () => {
    const table = tableOf([ETH, USDC]);
    const balances = new Map([units('ETH', 1, 18), units('USDC', -1_700, 6)]);
    const uid = accountUid('s', 'perp', new Uint8Array(32));
    const bare = leafOpening(table, balances, 's', uid, SECRET);
    const gap = -surplusValue(table, bare);
    expect(gap).toBeGreaterThan(0n);
    const profit = leafOpening(table, balances, 's', uid, SECRET, {
      collateral: gap,
      liabilities: 0n,
    });
    expect(surplusValue(table, profit)).toBe(0n);
    expect(leafProblem('s', table, proveLeaf('s', table, uid, profit, SECRET, BP), BP)).toBeNull();
    expect(() => proveLeaf('s', table, uid, bare, SECRET, BP)).toThrow(SolvencyRefusal);
    // Healthy by its balances, taken below maintenance by a requirement Y.
    const fine = new Map([units('ETH', 1, 18)]);
    const room = surplusValue(table, leafOpening(table, fine, 's', uid, SECRET));
    const requirement = leafOpening(table, fine, 's', uid, SECRET, {
      collateral: 0n,
      liabilities: room + 1n,
    });
    expect(() => proveLeaf('s', table, uid, requirement, SECRET, BP)).toThrow(SolvencyRefusal);
    const forced = proveLeafUnchecked('s', table, uid, requirement, SECRET, BP_FORGER);
    expect(leafProblem('s', table, forced, BP)).toMatch(/surplus/);
    expect(tableFactors(table).collateral.length).toBe(2);
    expect(() =>
      leafOpening(table, fine, 's', uid, SECRET, { collateral: -1n, liabilities: 0n }),
    ).toThrow(/derivatives term/);
  }, 60_000);
});
