import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIABILITY_WEIGHT_MAX as ENGINE_LIABILITY_WEIGHT_MAX } from '../../src/domain/asset.js';
import {
  PRICE_SCALE as ENGINE_PRICE_SCALE,
  WEIGHT_SCALE as ENGINE_WEIGHT_SCALE,
} from '../../src/math/fixed.js';
import * as solvencyConstants from '../../src/solvency/assert.js';
import {
  accountUid,
  leafOpening,
  leafProblem,
  proveLeaf,
  proveLeafUnchecked,
  SolvencyRefusal,
  surplusValue,
  tableFactors,
  tableProblem,
  toProofUnits,
  FACTOR_SUM_LIMIT,
  type ProofTable,
} from '../../src/solvency/index.js';
import {
  BACKEND,
  BTC,
  FORGER,
  engineHealthy,
  ETH,
  JUNK,
  SECRET,
  tableOf,
  units,
  USDC,
} from './helpers.js';

const SNAP = 'venue-1@seq:1000';
const SOLVENCY_CONSTANTS = {
  WEIGHT_SCALE: solvencyConstants.WEIGHT_SCALE,
  PRICE_SCALE: solvencyConstants.PRICE_SCALE,
  LIABILITY_WEIGHT_MAX: solvencyConstants.LIABILITY_WEIGHT_MAX,
};

function prove(table: ProofTable, balances: Map<string, bigint>, id = 'alice', snap = SNAP) {
  const uid = accountUid(snap, id, new Uint8Array(32).fill(1));
  const opening = leafOpening(table, balances, snap, uid, SECRET);
  return { uid, opening, leaf: () => proveLeaf(snap, table, uid, opening, SECRET, BACKEND) };
}

describe('proof table', () => {
  it("uses the engine's constants (kept in solvency/assert.ts for the browser)", () => {
    expect(SOLVENCY_CONSTANTS).toEqual({
      WEIGHT_SCALE: ENGINE_WEIGHT_SCALE,
      PRICE_SCALE: ENGINE_PRICE_SCALE,
      LIABILITY_WEIGHT_MAX: ENGINE_LIABILITY_WEIGHT_MAX,
    });
  });

  it('meets the bounds and rounds prices against the venue', () => {
    const table = tableOf([ETH, BTC, USDC]);
    expect(tableProblem(table)).toBeNull();
    const f = tableFactors(table);
    expect(f.collateral.reduce((a, b) => a + b)).toBeLessThan(FACTOR_SUM_LIMIT);
    expect(f.liability.reduce((a, b) => a + b)).toBeLessThan(FACTOR_SUM_LIMIT);
    for (const a of table.assets) expect(a.debtPrice).toBeGreaterThanOrEqual(a.collateralPrice);
  });

  it('converts balances: equity down, debt up, refusing 2^64 units', () => {
    const eth = tableOf([ETH]).assets[0];
    if (eth === undefined) throw new Error('no asset');
    expect(toProofUnits(eth, 1_999_999_999n)).toEqual({ equity: 1n, debt: 0n });
    expect(toProofUnits(eth, -1_000_000_001n)).toEqual({ equity: 0n, debt: 2n });
    expect(() => toProofUnits(eth, (1n << 64n) * 10n ** 9n)).toThrow(/2\^64/);
  });

  it('refuses a table whose price × weight sums break the bound', () => {
    const table = tableOf([ETH, USDC]);
    const broken = {
      ...table,
      assets: table.assets.map((a) => ({ ...a, debtPrice: FACTOR_SUM_LIMIT })),
    };
    expect(tableProblem(broken)).toMatch(/2\^64/);
  });
});

describe('one account at maintenance', () => {
  const table = tableOf([ETH, BTC, USDC]);

  it('a healthy account proves and verifies (completeness)', () => {
    const balances = new Map([units('ETH', 10, 18), units('USDC', -10_000, 6)]);
    expect(engineHealthy([ETH, BTC, USDC], balances)).toBe(true);
    const { leaf } = prove(table, balances);
    expect(leafProblem(SNAP, table, leaf(), BACKEND)).toBeNull();
  });

  it('the prover refuses an account below maintenance; a forced proof does not verify', () => {
    const balances = new Map([units('ETH', 10, 18), units('USDC', -17_000, 6)]);
    expect(engineHealthy([ETH, BTC, USDC], balances)).toBe(false);
    const { uid, opening, leaf } = prove(table, balances);
    expect(leaf).toThrow(SolvencyRefusal);
    expect(surplusValue(table, opening)).toBeLessThan(0n);
    const forced = proveLeafUnchecked(SNAP, table, uid, opening, SECRET, FORGER);
    expect(leafProblem(SNAP, table, forced, BACKEND)).toMatch(/surplus/);
  });

  it('refuses a balance in an asset the table leaves out (a hidden debt)', () => {
    const balances = new Map([units('ETH', 1, 18), units('JUNK', -1, 18)]);
    expect(() => prove(table, balances)).toThrow(/not in the proof table/);
  });

  it('rejects a tampered leaf proof', () => {
    const { leaf } = prove(table, new Map([units('BTC', 1, 8), units('USDC', -1000, 6)]));
    const good = leaf();
    const flipped = good.surplusProof.slice();
    flipped[77] = (flipped[77] as number) ^ 4;
    expect(leafProblem(SNAP, table, { ...good, surplusProof: flipped }, BACKEND)).toMatch(
      /surplus/,
    );
    const proofs = [...good.debtProofs];
    proofs[1] = good.debtProofs[0] as Uint8Array;
    expect(leafProblem(SNAP, table, { ...good, debtProofs: proofs }, BACKEND)).toMatch(/range/);
    // Swapping a commitment between assets breaks that asset's range proof context.
    const equity = [good.equity[1], good.equity[0], good.equity[2]] as typeof good.equity;
    expect(leafProblem(SNAP, table, { ...good, equity }, BACKEND)).not.toBeNull();
  });

  it('rejects a leaf verified in another snapshot or with another table (context)', () => {
    const { leaf } = prove(table, new Map([units('ETH', 1, 18)]));
    const good = leaf();
    expect(leafProblem('venue-1@seq:1001', table, good, BACKEND)).not.toBeNull();
    const other = tableOf([ETH, BTC, USDC].map((a) => a));
    const moved = { ...other, priceExponent: other.priceExponent - 1 };
    expect(leafProblem(SNAP, moved, good, BACKEND)).toMatch(/surplus/);
  });

  it('a cross-asset dummy (equity in a zero-weight asset, debt in BTC) cannot prove', () => {
    const withJunk = tableOf([ETH, BTC, USDC, JUNK]);
    const balances = new Map([units('JUNK', 1_000_000, 18), units('BTC', -1, 8)]);
    expect(engineHealthy([ETH, BTC, USDC, JUNK], balances)).toBe(false);
    const { uid, opening, leaf } = prove(withJunk, balances, 'dummy');
    expect(leaf).toThrow(SolvencyRefusal);
    const forced = proveLeafUnchecked(SNAP, withJunk, uid, opening, SECRET, FORGER);
    expect(leafProblem(SNAP, withJunk, forced, BACKEND)).toMatch(/surplus/);
  });

  it('property: the table never calls healthy what the engine calls unhealthy; proofs verify', () => {
    const assets = [ETH, USDC];
    const small = tableOf(assets);
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 22n), max: 10n ** 22n }),
        fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
        (eth, usdc) => {
          const balances = new Map([
            ['ETH', eth],
            ['USDC', usdc],
          ]);
          const uid = accountUid(SNAP, 'p', new Uint8Array(32));
          const opening = leafOpening(small, balances, SNAP, uid, SECRET);
          if (surplusValue(small, opening) >= 0n)
            expect(engineHealthy(assets, balances)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: random healthy accounts at random prices and weights prove and verify', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 900_000 }),
        fc.bigInt({ min: 0n, max: 10n ** 24n }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (price, weight, eth, borrowShare, use) => {
          const a = listedAt('ETH', 18, weight, price);
          const u = listedAt('USDC', 6, 780_000, 1);
          const table = tableOf([a, u]);
          // Borrow a share of what the proof table allows, so the account is healthy.
          const opening0 = leafOpening(
            table,
            new Map([['ETH', eth]]),
            SNAP,
            new Uint8Array(32),
            SECRET,
          );
          const room = surplusValue(table, opening0);
          const fl = tableFactors(table).liability[1] as bigint;
          const debtUnits = (room * BigInt(Math.floor(use * 1000))) / 1000n / fl;
          const balances = new Map([
            ['ETH', eth],
            ['USDC', -((debtUnits * borrowShare) / 10n ** 12n)],
          ]);
          const { leaf } = prove(table, balances, 'r');
          expect(engineHealthy([a, u], balances)).toBe(true);
          expect(leafProblem(SNAP, table, leaf(), BACKEND)).toBeNull();
        },
      ),
      { numRuns: 3, endOnFailure: true },
    );
  });
});

import { assetRisk, parseAssetConfig } from '../../src/index.js';
import { PRICE_SCALE, WEIGHT_SCALE } from '../../src/math/fixed.js';

function listedAt(symbol: string, decimals: number, weight: number, price: number) {
  const w = (BigInt(weight) * 1000000n) / WEIGHT_SCALE;
  const config = parseAssetConfig(
    {
      symbol,
      decimals,
      initialWeight: (Number(w) / 1e6).toFixed(6),
      maintenanceWeight: (Number(w) / 1e6).toFixed(6),
      liabilityWeight: '1',
    },
    'asset',
  );
  const p = BigInt(price) * PRICE_SCALE;
  return { config, risk: assetRisk(config, p, p) };
}
