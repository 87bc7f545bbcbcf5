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
import type { InstrumentSpec } from '../src/derivatives/instruments.js';
import {
  DerivativesMargin,
  type InstrumentPrices,
  pricesWithFloats,
  type ProfitWeights,
} from '../src/derivatives/margin.js';
import { type DerivativePosition, RATE_SCALE } from '../src/derivatives/position.js';
import { DERIVATIVES_TO_HEALTH } from '../src/engine/draft.js';
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
  const mixed = mixedBook(4096, 7);
  const mixedMaintenance = measure(
    'Fulcrum: mixed account (3 balances, 2 perpetuals): maintenance health, exact',
    (n) => {
      for (let i = 0; i < n; i++) {
        const account = mixed[i & 4095] as MixedAccount;
        const snapshot = evaluateHealth(account.balances, derivatives(account));
        sink ^= snapshot.healthFactor('maintenance') ?? 0n;
      }
    },
  );
  const mixedCheck = measure('Fulcrum: mixed account: maintenance check, exact', (n) => {
    for (let i = 0; i < n; i++) {
      const account = mixed[i & 4095] as MixedAccount;
      if (!evaluateHealth(account.balances, derivatives(account)).meets('maintenance'))
        liquidatable++;
    }
  });
  if (sink === -1n || text === 'x' || liquidatable < 0) console.log('unreachable');
  return [maintenance, check, everyTier, report, mixedMaintenance, mixedCheck, aave];
}

const W = 1_000_000n;
const UNSETTLED: ProfitWeights = [900_000n, 950_000n, 1_000_000n];

/** What the engine adds to a mixed account's health (as `Draft.extraMargin` builds it). */
function derivatives(account: MixedAccount): DerivativesMargin {
  return new DerivativesMargin(
    account.perps,
    account.prices,
    0n,
    UNSETTLED,
    W,
    DERIVATIVES_TO_HEALTH,
  );
}

interface MixedAccount {
  readonly balances: Position[];
  readonly perps: DerivativePosition[];
  readonly prices: (index: number) => InstrumentPrices;
}

/**
 * `count` mixed accounts: WETH and WBTC deposited and USDC borrowed (the balances of the lending
 * book), and an ETH and a BTC perpetual of random size and side, entered near the mark.
 */
function mixedBook(count: number, seed: number): MixedAccount[] {
  const random = new SeededRandom(seed);
  const lending = portfolios(count, seed);
  const perp = (symbol: string, underlying: string, sizePremium: number): InstrumentSpec => ({
    kind: 'perpetual',
    symbol,
    underlying,
    initialMargin: 0.1,
    maintenanceMargin: 0.05,
    sizePremium,
    fundingIntervalSeconds: 28_800,
    fundingClamp: 0.0075,
  });
  const markets: InstrumentPrices[] = [
    {
      spec: perp('ETH-PERP', 'WETH', 0.0005),
      mark: 2_000n * 10n ** 18n,
      index: 2_000n * 10n ** 18n,
      fundingIndex: 0n,
      profitWeights: UNSETTLED,
    },
    {
      spec: perp('BTC-PERP', 'WBTC', 0.0005),
      mark: 60_000n * 10n ** 18n,
      index: 60_000n * 10n ** 18n,
      fundingIndex: 0n,
      profitWeights: UNSETTLED,
    },
  ];
  const kept = markets.map(pricesWithFloats);
  const prices = (index: number) => kept[index] as InstrumentPrices;
  return lending.map(({ fulcrum }) => {
    const perps = markets.map((market, instrument): DerivativePosition => {
      const units = BigInt(random.integer(1, 100_000)) * 10n ** 5n; // 0.001 to 100 units
      const size = random.chance(0.5) ? units : -units;
      const entry = (market.mark * BigInt(random.integer(950, 1050))) / 1000n;
      return { instrument, size, quote: -size * entry * RATE_SCALE, funding: 0n };
    });
    // The deposits and one borrow: three balances.
    return { balances: fulcrum.slice(0, 2).concat(fulcrum.slice(3, 4)), perps, prices };
  });
}
