/**
 * The public price and weight table of a solvency snapshot, in proof units.
 *
 * Proof units: asset a's balances are proven in units of 10^−proofDecimals[a] tokens
 * (default min(decimals, 9): gwei for an 18-decimal token, the base unit for fewer decimals), so
 * every balance fits in 64 bits (2^64 gwei ≈ 1.8·10^10 tokens); the prover refuses a balance
 * that does not. Conversion rounds against the venue: equity down, debt up.
 *
 * Prices: per proof unit, in quote units × 10^priceExponent, the collateral price (the engine's
 * maintenance margin price of a deposit: oracle less the confidence widening) rounded down, the
 * debt price (oracle plus widening) rounded up. Weights: the engine's maintenance asset and
 * liability weights (WEIGHT_SCALE), exact. Factors: f_c[a] = collateralPrice·assetWeight and
 * f_l[a] = debtPrice·liabilityWeight.
 *
 * Bounds (checked by the builder and again by every verifier): Σ_a f_c[a] < 2^64 and
 * Σ_a f_l[a] < 2^64. With every balance proven in [0, 2^64), the surplus
 * S = Σ f_c·E − Σ f_l·D then lies in (−2^128, 2^128): an honest S ≥ 0 fits a 128-bit range
 * proof, and a negative S is ℓ − |S| > 2^251 mod ℓ, which no 128-bit range proof can cover. The
 * builder picks the largest priceExponent that meets the bounds (the finest prices that fit).
 */
import { assert, LIABILITY_WEIGHT_MAX, PRICE_SCALE, WEIGHT_SCALE } from './assert.js';
import { hashParts } from './group.js';

/** Balances are proven in [0, 2^BALANCE_BITS). */
export const BALANCE_BITS = 64;
/** The surplus is proven in [0, 2^SURPLUS_BITS). */
export const SURPLUS_BITS = 128;
/** Each side's factors sum below this. */
export const FACTOR_SUM_LIMIT = 1n << 64n;
/** At most this many assets in one table. */
export const TABLE_ASSETS_MAX = 256;

/** One asset as the engine sees it: margin prices per whole token (PRICE_SCALE), weights. */
export interface TableInput {
  readonly symbol: string;
  readonly decimals: number;
  readonly collateralPrice: bigint;
  readonly debtPrice: bigint;
  readonly assetWeight: bigint;
  readonly liabilityWeight: bigint;
  /** Decimals of one proof unit; default min(decimals, 9). */
  readonly proofDecimals?: number;
}

export interface TableAsset {
  readonly symbol: string;
  readonly decimals: number;
  readonly proofDecimals: number;
  /** Per proof unit, quote × 10^priceExponent, rounded down. */
  readonly collateralPrice: bigint;
  /** Per proof unit, quote × 10^priceExponent, rounded up. */
  readonly debtPrice: bigint;
  readonly assetWeight: bigint;
  readonly liabilityWeight: bigint;
}

export interface ProofTable {
  readonly priceExponent: number;
  readonly assets: readonly TableAsset[];
}

/** price (PRICE_SCALE per token) per proof unit × 10^exponent, rounded down or up. */
function scaledPrice(price: bigint, proofDecimals: number, exponent: number, up: boolean) {
  const shift = exponent - proofDecimals;
  let numerator = price;
  let denominator = PRICE_SCALE;
  if (shift >= 0) numerator *= 10n ** BigInt(shift);
  else denominator *= 10n ** BigInt(-shift);
  const q = numerator / denominator;
  return up && q * denominator !== numerator ? q + 1n : q;
}

/** The finest table of the inputs that meets the bounds. */
export function buildProofTable(inputs: readonly TableInput[]): ProofTable {
  assert(inputs.length >= 1 && inputs.length <= TABLE_ASSETS_MAX, 'proof table: 1 to 256 assets');
  for (let exponent = 60; exponent >= -60; exponent--) {
    const assets = inputs.map((input) => {
      const proofDecimals = input.proofDecimals ?? Math.min(input.decimals, 9);
      return {
        symbol: input.symbol,
        decimals: input.decimals,
        proofDecimals,
        collateralPrice: scaledPrice(input.collateralPrice, proofDecimals, exponent, false),
        debtPrice: scaledPrice(input.debtPrice, proofDecimals, exponent, true),
        assetWeight: input.assetWeight,
        liabilityWeight: input.liabilityWeight,
      };
    });
    const table = { priceExponent: exponent, assets };
    if (tableProblem(table) === null) return table;
  }
  throw new Error('proof table: no price exponent meets the bounds');
}

/** Why a table may not be used (bounds, shapes), or null. Every verifier checks this. */
export function tableProblem(table: ProofTable): string | null {
  const { assets } = table;
  if (assets.length < 1 || assets.length > TABLE_ASSETS_MAX) return 'table: 1 to 256 assets';
  if (new Set(assets.map((a) => a.symbol)).size !== assets.length) return 'table: repeated symbol';
  let collateral = 0n;
  let liability = 0n;
  for (const a of assets) {
    if (!Number.isInteger(a.proofDecimals) || a.proofDecimals < 0 || a.proofDecimals > a.decimals)
      return `table: ${a.symbol} proof decimals out of range`;
    if (a.collateralPrice < 0n || a.debtPrice < a.collateralPrice)
      return `table: ${a.symbol} prices must satisfy 0 <= collateral <= debt`;
    if (a.assetWeight < 0n || a.assetWeight > WEIGHT_SCALE)
      return `table: ${a.symbol} asset weight out of range`;
    if (a.liabilityWeight < 0n || a.liabilityWeight > LIABILITY_WEIGHT_MAX)
      return `table: ${a.symbol} liability weight out of range`;
    collateral += a.collateralPrice * a.assetWeight;
    liability += a.debtPrice * a.liabilityWeight;
  }
  if (collateral >= FACTOR_SUM_LIMIT) return 'table: collateral factors sum to 2^64 or more';
  if (liability >= FACTOR_SUM_LIMIT) return 'table: liability factors sum to 2^64 or more';
  return null;
}

/** f_c and f_l of every asset. */
export function tableFactors(table: ProofTable): { collateral: bigint[]; liability: bigint[] } {
  return {
    collateral: table.assets.map((a) => a.collateralPrice * a.assetWeight),
    liability: table.assets.map((a) => a.debtPrice * a.liabilityWeight),
  };
}

/** The table's digest: bound into every surplus transcript and the root. */
export function tableDigest(table: ProofTable): Uint8Array {
  const parts = [String(table.priceExponent)];
  for (const a of table.assets) {
    parts.push(a.symbol, String(a.decimals), String(a.proofDecimals));
    parts.push(String(a.collateralPrice), String(a.debtPrice));
    parts.push(String(a.assetWeight), String(a.liabilityWeight));
  }
  return hashParts('table', parts);
}

/**
 * A signed balance in base units as proof units: equity rounded down, debt rounded up; throws
 * when either does not fit in 64 bits.
 */
export function toProofUnits(asset: TableAsset, amount: bigint): { equity: bigint; debt: bigint } {
  const unit = 10n ** BigInt(asset.decimals - asset.proofDecimals);
  const equity = amount > 0n ? amount / unit : 0n;
  const debt = amount < 0n ? (-amount + unit - 1n) / unit : 0n;
  const limit = 1n << BigInt(BALANCE_BITS);
  assert(
    equity < limit && debt < limit,
    `solvency: ${asset.symbol} balance exceeds 2^64 proof units`,
  );
  return { equity, debt };
}
