import {
  type AssetConfig,
  type AssetRisk,
  assetRisk,
  evaluateHealth,
  parseAssetConfig,
  type Position,
} from '../../src/index.js';
import { PRICE_SCALE } from '../../src/math/fixed.js';
import { forgeRanges } from '../../src/solvency/bulletproofs.js';
import {
  buildProofTable,
  bulletproofsRangeProof,
  type ProofTable,
  type RangeProof,
  sigmaRangeProof,
  tableInputFromRisk,
} from '../../src/solvency/index.js';
import { forgeRangeProof } from '../../src/solvency/rangeProof.js';

export const SECRET = new Uint8Array(32).fill(42);
export const BACKEND = sigmaRangeProof;

export interface Listed {
  readonly config: AssetConfig;
  readonly risk: AssetRisk;
}

/** A listed asset at a price in whole quote units (decimal string). */
export function listed(
  symbol: string,
  decimals: number,
  maintenanceWeight: string,
  price: string,
): Listed {
  const config = parseAssetConfig(
    { symbol, decimals, initialWeight: maintenanceWeight, maintenanceWeight, liabilityWeight: '1' },
    'asset',
  );
  const [whole, frac = ''] = price.split('.');
  const scaled =
    BigInt(whole as string) * PRICE_SCALE + BigInt((frac + '0'.repeat(18)).slice(0, 18));
  return { config, risk: assetRisk(config, scaled, scaled) };
}

export const ETH = listed('ETH', 18, '0.825', '2000.12345678');
export const BTC = listed('BTC', 8, '0.75', '60123.5');
export const USDC = listed('USDC', 6, '0.78', '0.99987654');
/** An asset the venue does not accept as collateral. */
export const JUNK = listed('JUNK', 18, '0', '3.5');

export function tableOf(assets: readonly Listed[]): ProofTable {
  return buildProofTable(assets.map((a) => tableInputFromRisk(a.risk, a.config)));
}

/** The engine's maintenance verdict on signed balances. */
export function engineHealthy(assets: readonly Listed[], balances: ReadonlyMap<string, bigint>) {
  const positions: Position[] = assets.map((a) => ({
    risk: a.risk,
    amount: balances.get(a.config.symbol) ?? 0n,
  }));
  return evaluateHealth(positions).meets('maintenance');
}

export const units = (symbol: string, whole: number | bigint, decimals: number) =>
  [symbol, BigInt(whole) * 10n ** BigInt(decimals)] as const;

/** A cheating prover: honest for values in range, forged (never refusing) for the others. */
export const FORGER: RangeProof = {
  ...sigmaRangeProof,
  prove: (value, blinding, bits, transcript, secret) =>
    forgeRangeProof(value, blinding, bits, transcript, secret, 'carry'),
};

/** The Bulletproofs backend's cheating prover: forged (never refusing) for every value. */
export const BP_FORGER: RangeProof = {
  ...bulletproofsRangeProof,
  prove: (value, blinding, bits, transcript, secret) =>
    forgeRanges([value], [blinding], bits, transcript, secret, 'carry'),
};
