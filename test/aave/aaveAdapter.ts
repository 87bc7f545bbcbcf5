/**
 * Aave's own health factor for a simple portfolio, from the real `formatUserSummary` of
 * `@aave/math-utils` (reserves formatted once with the real `formatReserves`). The compatibility
 * test and the benchmark measure Fulcrum against it. Market reference currency: USD with 8
 * decimals, as in Aave v3; indices of exactly 1 RAY and equal timestamps, so that nothing accrues
 * and scaled balances equal balances.
 */
import {
  type FormatReserveUSDResponse,
  formatReserves,
  formatUserSummary,
  type ReserveDataWithPrice,
  type UserReserveData,
} from '@aave/math-utils';

export interface SimpleAsset {
  symbol: string;
  decimals: number;
  priceUsd: string /* decimal string */;
  ltvBps: number;
  liquidationThresholdBps: number;
}

export interface SimplePosition {
  symbol: string;
  supplied: bigint /* base units */;
  borrowed: bigint /* base units */;
}

export interface AaveHealth {
  healthFactor: string /* "-1" when no debt, else decimal string (<= 20 dp) */;
  totalCollateralUSD: string;
  totalBorrowsUSD: string;
  currentLiquidationThreshold: string /* fraction, e.g. "0.825" */;
}

export interface PreparedAave {
  readonly formattedReserves: FormatReserveUSDResponse[];
  readonly addressBySymbol: ReadonlyMap<string, string>;
  readonly marketReferenceCurrencyDecimals: number;
  readonly marketReferencePriceInUsd: string;
  readonly currentTimestamp: number;
}

const RAY = '1000000000000000000000000000'; // 1e27: scaled balance == real balance
const TIMESTAMP = 1_700_000_000; // lastUpdateTimestamp == currentTimestamp: no accrual
const USD_PRICE_DECIMALS = 8; // Aave v3 base currency (USD, 8 decimals)

/**
 * Decimal string -> integer string with `decimals` fractional digits.
 * Throws instead of silently rounding when the price has more precision than
 * the Aave oracle format can carry (8 decimals for USD).
 */
function toFixedPointInteger(value: string, decimals: number, what: string): string {
  const m = /^(\d+)(?:\.(\d*))?$/.exec(value.trim());
  if (!m) throw new Error(`${what}: not a non-negative decimal string: ${value}`);
  const intPart = m[1];
  const frac = (m[2] ?? '').replace(/0+$/, '');
  if (frac.length > decimals) {
    throw new Error(`${what}: ${value} has more than ${decimals} decimals (Aave oracle precision)`);
  }
  const s = (intPart + frac.padEnd(decimals, '0')).replace(/^0+(?=\d)/, '');
  return s;
}

function assertBps(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${what}: bad bps ${n}`);
}

function fakeAddress(i: number): string {
  return `0x${(i + 1).toString(16).padStart(40, '0')}`;
}

export function prepareAave(assets: SimpleAsset[]): PreparedAave {
  const addressBySymbol = new Map<string, string>();
  const reserves: ReserveDataWithPrice[] = assets.map((a, i) => {
    if (addressBySymbol.has(a.symbol)) throw new Error(`duplicate asset ${a.symbol}`);
    if (!Number.isInteger(a.decimals) || a.decimals < 0)
      throw new Error(`${a.symbol}: bad decimals`);
    assertBps(a.ltvBps, `${a.symbol}.ltvBps`);
    assertBps(a.liquidationThresholdBps, `${a.symbol}.liquidationThresholdBps`);
    const underlyingAsset = fakeAddress(i);
    addressBySymbol.set(a.symbol, underlyingAsset);
    return {
      originalId: i, // only used to index e-mode bitmaps (we pass no e-modes)
      id: `${underlyingAsset}-pool`,
      symbol: a.symbol,
      name: a.symbol,
      decimals: a.decimals,
      underlyingAsset,
      usageAsCollateralEnabled: a.liquidationThresholdBps > 0, // not read by formatUserSummary
      reserveFactor: '0',
      baseLTVasCollateral: String(a.ltvBps), // bps, e.g. "8000" = 80%
      reserveLiquidationThreshold: String(a.liquidationThresholdBps), // bps; "0" => not collateral
      reserveLiquidationBonus: '10500', // bps incl. 100% (irrelevant to HF)
      liquidityIndex: RAY,
      variableBorrowIndex: RAY,
      liquidityRate: '0',
      variableBorrowRate: '0',
      availableLiquidity: '0',
      totalScaledVariableDebt: '0',
      lastUpdateTimestamp: TIMESTAMP,
      borrowCap: '0',
      supplyCap: '0',
      debtCeiling: '0', // "0" => not an isolation-mode asset
      debtCeilingDecimals: 2,
      isolationModeTotalDebt: '0',
      virtualUnderlyingBalance: '0',
      deficit: '0',
      // price in market reference currency (USD) with 8 decimals, integer string
      priceInMarketReferenceCurrency: toFixedPointInteger(
        a.priceUsd,
        USD_PRICE_DECIMALS,
        `${a.symbol}.priceUsd`,
      ),
    };
  });
  const marketReferencePriceInUsd = '100000000'; // 1 USD in 8-decimals USD
  const formattedReserves = formatReserves({
    reserves,
    eModes: [], // formatUserSummary requires reserve.eModes to be an array
    currentTimestamp: TIMESTAMP,
    marketReferencePriceInUsd,
    marketReferenceCurrencyDecimals: USD_PRICE_DECIMALS,
  });
  return {
    formattedReserves,
    addressBySymbol,
    marketReferenceCurrencyDecimals: USD_PRICE_DECIMALS,
    marketReferencePriceInUsd,
    currentTimestamp: TIMESTAMP,
  };
}

export function aaveHealth(prepared: PreparedAave, positions: SimplePosition[]): AaveHealth {
  // Aave holds one user-reserve entry per asset: merge duplicates.
  const merged = new Map<string, { supplied: bigint; borrowed: bigint }>();
  for (const p of positions) {
    if (p.supplied < 0n || p.borrowed < 0n) throw new Error(`${p.symbol}: negative amount`);
    const cur = merged.get(p.symbol);
    if (cur) {
      cur.supplied += p.supplied;
      cur.borrowed += p.borrowed;
    } else merged.set(p.symbol, { supplied: p.supplied, borrowed: p.borrowed });
  }
  const userReserves: UserReserveData[] = [];
  for (const [symbol, { supplied, borrowed }] of merged) {
    const underlyingAsset = prepared.addressBySymbol.get(symbol);
    if (!underlyingAsset) throw new Error(`unknown asset ${symbol}`);
    userReserves.push({
      underlyingAsset,
      scaledATokenBalance: supplied.toString(), // base units; index = 1 RAY
      scaledVariableDebt: borrowed.toString(), // base units; index = 1 RAY
      usageAsCollateralEnabledOnUser: true, // only counts if reserveLiquidationThreshold != "0"
    });
  }
  const s = formatUserSummary({
    currentTimestamp: prepared.currentTimestamp,
    marketReferencePriceInUsd: prepared.marketReferencePriceInUsd,
    marketReferenceCurrencyDecimals: prepared.marketReferenceCurrencyDecimals,
    userReserves,
    formattedReserves: prepared.formattedReserves,
    userEmodeCategoryId: 0,
  });
  return {
    healthFactor: s.healthFactor,
    totalCollateralUSD: s.totalCollateralUSD,
    totalBorrowsUSD: s.totalBorrowsUSD,
    currentLiquidationThreshold: s.currentLiquidationThreshold,
  };
}
