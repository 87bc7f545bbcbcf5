/**
 * Health evaluations of 5-position accounts (3 deposits, 2 debts), Fulcrum against Aave's
 * `formatUserSummary` (`@aave/math-utils`) on the same portfolios, in the same run.
 */
import {
  type AssetConfig,
  type AssetRisk,
  assetRisk,
  evaluateHealth,
  healthReport,
  type Position,
  parseAssetConfig,
  parseDecimal,
  TIERS,
} from '../src/index.js';
import { SeededRandom } from '../src/math/random.js';
import {
  aaveHealth,
  prepareAave,
  type SimpleAsset,
  type SimplePosition,
} from '../test/aave/aaveAdapter.js';
import { type Measurement, measure } from './harness.js';

const MARKET: SimpleAsset[] = [
  {
    symbol: 'WETH',
    decimals: 18,
    priceUsd: '2000.12345678',
    ltvBps: 8000,
    liquidationThresholdBps: 8250,
  },
  { symbol: 'WBTC', decimals: 8, priceUsd: '60123.5', ltvBps: 7000, liquidationThresholdBps: 7500 },
  {
    symbol: 'LINK',
    decimals: 18,
    priceUsd: '14.2345',
    ltvBps: 6500,
    liquidationThresholdBps: 7000,
  },
  {
    symbol: 'USDC',
    decimals: 6,
    priceUsd: '0.99987654',
    ltvBps: 7500,
    liquidationThresholdBps: 7800,
  },
  { symbol: 'DAI', decimals: 18, priceUsd: '1.0001', ltvBps: 7500, liquidationThresholdBps: 7700 },
];

interface Portfolio {
  readonly fulcrum: Position[];
  readonly aave: SimplePosition[];
}

/** `count` portfolios: WETH, WBTC, LINK deposited; USDC and DAI borrowed; random sizes. */
export function portfolios(count: number, seed: number): Portfolio[] {
  const random = new SeededRandom(seed);
  const risks = new Map<string, AssetRisk>();
  for (const a of MARKET) {
    const config: AssetConfig = parseAssetConfig(
      {
        symbol: a.symbol,
        decimals: a.decimals,
        initialWeight: (a.ltvBps / 10_000).toString(),
        maintenanceWeight: (a.liquidationThresholdBps / 10_000).toString(),
      },
      'bench',
    );
    const price = parseDecimal(a.priceUsd, 18, { field: 'price' });
    risks.set(a.symbol, assetRisk(config, price, price));
  }
  const out: Portfolio[] = [];
  for (let i = 0; i < count; i++) {
    const amounts = MARKET.map(
      (a) => random.bigintOfAnySizeBelow(10n ** BigInt(a.decimals + 5)) + 1n,
    );
    const fulcrum = MARKET.map((a, j): Position => {
      const risk = risks.get(a.symbol);
      if (risk === undefined) throw new Error('missing risk');
      const amount = amounts[j] ?? 0n;
      return { risk, amount: j < 3 ? amount : -amount };
    });
    const aave = MARKET.map((a, j): SimplePosition => {
      const amount = amounts[j] ?? 0n;
      return { symbol: a.symbol, supplied: j < 3 ? amount : 0n, borrowed: j < 3 ? 0n : amount };
    });
    out.push({ fulcrum, aave });
  }
  return out;
}

export function healthBenchmarks(): Measurement[] {
  const book = portfolios(4096, 42);
  const prepared = prepareAave(MARKET);
  let sink = 0n;
  const maintenance = measure(
    'Fulcrum: maintenance health factor (the figure Aave returns)',
    (n) => {
      for (let i = 0; i < n; i++) {
        const snapshot = evaluateHealth((book[i & 4095] as Portfolio).fulcrum);
        sink ^= snapshot.healthFactor('maintenance') ?? 0n;
      }
    },
  );
  let liquidatable = 0;
  const check = measure('Fulcrum: maintenance check (liquidatable or not, exact)', (n) => {
    for (let i = 0; i < n; i++) {
      if (!evaluateHealth((book[i & 4095] as Portfolio).fulcrum).meets('maintenance'))
        liquidatable++;
    }
  });
  const everyTier = measure('Fulcrum: every figure of every tier (3 tiers + values)', (n) => {
    for (let i = 0; i < n; i++) {
      const snapshot = evaluateHealth((book[i & 4095] as Portfolio).fulcrum);
      for (const tier of TIERS) sink ^= snapshot.tier(tier).freeCollateral;
      sink ^= snapshot.collateralValue ^ snapshot.liabilityValue;
    }
  });
  const report = measure(
    'Fulcrum: full report (+ liquidation prices, max borrow/withdraw)',
    (n) => {
      for (let i = 0; i < n; i++) {
        sink ^= healthReport((book[i & 4095] as Portfolio).fulcrum).tiers.initial.freeCollateral;
      }
    },
  );
  let text = '';
  const aave = measure(
    'Aave @aave/math-utils formatUserSummary (baseline)',
    (n) => {
      for (let i = 0; i < n; i++)
        text = aaveHealth(prepared, (book[i & 4095] as Portfolio).aave).healthFactor;
    },
    { rounds: 5, roundMs: 300 },
  );
  if (sink === -1n || text === 'x' || liquidatable < 0) console.log('unreachable');
  return [maintenance, check, everyTier, report, aave];
}
