/**
 * The one margin account's health beside the published formulas of Drift v2 and Mango v4, on
 * worked portfolios of deposits, borrows and perpetuals. Each anchor is written here from its
 * documentation and source (../docs/MARGIN.md cites them), independently of Fulcrum's code:
 *
 * - Drift v2 (programs/drift/src/math/margin.rs): total collateral = Σ deposits × price × asset
 *   weight + Σ perp unrealized pnl (× the pnl asset weight when positive); margin requirement =
 *   Σ borrows × price × liability weight + Σ |base| × price × margin ratio. Free collateral =
 *   total collateral − margin requirement; liquidatable below zero (maintenance weights).
 * - Mango v4 (programs/mango-v4/src/health/cache.rs): health = Σ tokens × price × weight (asset
 *   weight if positive, liability weight if negative) + per perp market: base × price ×
 *   (1 − maintenance margin) for a long, × (1 + maintenance margin) for a short, plus the quote
 *   position (−entry × base + realized), with a positive total weighted by the market's
 *   overall asset weight (1 at maintenance here).
 *
 * At maintenance, with no size premium and profit weight 1, all three give the same free
 * collateral: Fulcrum's C − L.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/index.js';

interface Portfolio {
  readonly name: string;
  /** Whole units: USDC and ETH balances (negative: borrowed). */
  readonly usdc: number;
  readonly eth: number;
  /** Perpetual: size (units, + long), entry price, mark. */
  readonly perp: { readonly size: number; readonly entry: number; readonly mark: number };
  readonly ethPrice: number;
}

const USDC_WEIGHT = 0.95;
const USDC_LIABILITY = 1;
const ETH_WEIGHT = 0.825;
const ETH_LIABILITY = 1;
const MAINTENANCE_MARGIN = 0.05;

/** Drift v2's free collateral at maintenance. */
function drift(p: Portfolio): number {
  const deposits = Math.max(p.usdc, 0) * USDC_WEIGHT + Math.max(p.eth, 0) * p.ethPrice * ETH_WEIGHT;
  const borrows =
    Math.max(-p.usdc, 0) * USDC_LIABILITY + Math.max(-p.eth, 0) * p.ethPrice * ETH_LIABILITY;
  const upnl = p.perp.size * (p.perp.mark - p.perp.entry);
  const totalCollateral = deposits + upnl; // pnl weight 1 at maintenance
  const requirement = borrows + Math.abs(p.perp.size) * p.perp.mark * MAINTENANCE_MARGIN;
  return totalCollateral - requirement;
}

/** Mango v4's maintenance health. */
function mango(p: Portfolio): number {
  const token = (amount: number, price: number, asset: number, liability: number) =>
    amount >= 0 ? amount * price * asset : amount * price * liability;
  const tokens =
    token(p.usdc, 1, USDC_WEIGHT, USDC_LIABILITY) +
    token(p.eth, p.ethPrice, ETH_WEIGHT, ETH_LIABILITY);
  const { size, entry, mark } = p.perp;
  const baseWeight = size >= 0 ? 1 - MAINTENANCE_MARGIN : 1 + MAINTENANCE_MARGIN;
  const quote = -entry * size;
  const perp = size * mark * baseWeight + quote;
  return tokens + perp; // overall asset weight 1 at maintenance
}

/** Fulcrum's maintenance free collateral, C − L, for the same portfolio. */
function fulcrum(p: Portfolio): number {
  const engine = new Engine();
  const run = (command: Record<string, unknown>) => {
    const result = engine.applyJson(command);
    if (!result.ok) throw new Error(`${String(command.type)}: ${result.error.message}`);
  };
  run({
    type: 'list-asset',
    time: 0,
    config: { symbol: 'USDC', decimals: 6, initialWeight: '0.9', maintenanceWeight: '0.95' },
    price: '1',
  });
  run({
    type: 'list-asset',
    time: 0,
    config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
    price: String(p.ethPrice),
  });
  run({
    type: 'list-instrument',
    time: 0,
    config: {
      kind: 'perpetual',
      symbol: 'ETH-PERP',
      underlying: 'ETH',
      initialMargin: '0.05',
      maintenanceMargin: String(MAINTENANCE_MARGIN),
    },
    price: String(p.perp.entry),
  });
  // A lender and a counterparty with ample collateral; the account under test trades with it.
  run({ type: 'deposit', time: 0, account: 'lena', asset: 'USDC', amount: '10000000' });
  run({ type: 'deposit', time: 0, account: 'lena', asset: 'ETH', amount: '10000' });
  run({ type: 'deposit', time: 0, account: 'cp', asset: 'USDC', amount: '10000000' });
  const me = (type: string, asset: string, amount: number) =>
    run({ type, time: 0, account: 'me', asset, amount: String(Math.abs(amount)) });
  if (p.usdc > 0) me('deposit', 'USDC', p.usdc);
  if (p.eth > 0) me('deposit', 'ETH', p.eth);
  if (p.usdc < 0) me('borrow', 'USDC', p.usdc);
  if (p.eth < 0) me('borrow', 'ETH', p.eth);
  const long = p.perp.size > 0;
  run({
    type: 'trade',
    time: 0,
    buyer: { account: long ? 'me' : 'cp' },
    seller: { account: long ? 'cp' : 'me' },
    instrument: 'ETH-PERP',
    size: String(Math.abs(p.perp.size)),
    price: String(p.perp.entry),
  });
  run({ type: 'set-price', time: 0, asset: 'ETH-PERP', price: String(p.perp.mark) });
  const tier = engine.health({ account: 'me', subAccount: 0 }).tiers.maintenance;
  return Number(tier.freeCollateral) / 1e18;
}

const PORTFOLIOS: Portfolio[] = [
  // 10,000 USDC, long 20 ETH-PERP from 2,000, mark 1,900: 9,500 − 2,000 − 1,900.
  {
    name: 'a losing long on USDC',
    usdc: 10_000,
    eth: 0,
    perp: { size: 20, entry: 2000, mark: 1900 },
    ethPrice: 1900,
  },
  // A winning short on ETH collateral: 5 × 1,900 × 0.825 + 2,000 − 1,900.
  {
    name: 'a winning short on ETH',
    usdc: 0,
    eth: 5,
    perp: { size: -20, entry: 2000, mark: 1900 },
    ethPrice: 1900,
  },
  // ETH collateral, a USDC loan and a long perpetual: every holding in one health.
  {
    name: 'ETH collateral, a USDC loan, a long',
    usdc: -3_000,
    eth: 10,
    perp: { size: 15, entry: 2000, mark: 2100 },
    ethPrice: 2100,
  },
  // Underwater: liquidatable under all three.
  {
    name: 'underwater',
    usdc: 3_400,
    eth: 0,
    perp: { size: 30, entry: 2000, mark: 1880 },
    ethPrice: 1880,
  },
];

describe('maintenance health beside Drift v2 and Mango v4', () => {
  it.each(PORTFOLIOS.map((p) => [p.name, p] as const))('%s', (_name, portfolio) => {
    const ours = fulcrum(portfolio);
    expect(ours).toBeCloseTo(drift(portfolio), 6);
    expect(ours).toBeCloseTo(mango(portfolio), 6);
  });

  it('the worked example: 9,500 − 2,000 − 1,900 = 5,600', () => {
    expect(fulcrum(PORTFOLIOS[0] as Portfolio)).toBe(5600);
  });

  it('liquidatable exactly when the anchors say so', () => {
    for (const p of PORTFOLIOS) expect(fulcrum(p) < 0, p.name).toBe(drift(p) < 0);
    expect(fulcrum(PORTFOLIOS[3] as Portfolio)).toBeLessThan(0);
  });
});
