/**
 * Oracle figures: aggregated price updates per second, as the pure oracle step (one quote into
 * an asset's oracle: re-aggregate three sources, grade, stable price, breaker) and as the
 * engine's `quote` command (adding validation, the risk factors at the new price, the event and
 * the commit). The baseline, measured in the same run: the engine's plain `set-price` command.
 */
import {
  applyCommand,
  type Command,
  createState,
  DEFAULT_ORACLE_CONFIG,
  decodeCommand,
  type EngineState,
  PRICE_SCALE,
  takeQuote,
} from '../src/index.js';
import { SeededRandom } from '../src/math/random.js';
import { initialOracleState, type SourceQuote } from '../src/oracle/oracle.js';
import { type Measurement, measure } from './harness.js';

const SOURCES = ['binance', 'coinbase', 'kraken'];

/** Prices that wander by up to ±0.1% a step around 2000, per source with its own noise. */
function priceSeries(count: number): bigint[] {
  const random = new SeededRandom(3);
  const out: bigint[] = [];
  let price = 2000n * PRICE_SCALE;
  for (let i = 0; i < count; i++) {
    price = (price * BigInt(99_900 + random.integer(0, 201 - 1))) / 100_000n;
    out.push(price + BigInt(random.integer(0, 1000 - 1)) * 10n ** 12n);
  }
  return out;
}

function market(oracle: boolean): EngineState {
  const state = createState();
  const config = {
    symbol: 'ETH',
    decimals: 18,
    initialWeight: '0.8',
    maintenanceWeight: '0.85',
    ...(oracle ? { oracle: {} } : {}),
  };
  const result = applyCommand(
    state,
    decodeCommand({ type: 'list-asset', time: 0, price: '2000', config }, state),
  );
  if (!result.ok) throw new Error(result.error.message);
  return state;
}

export function oracleBenchmarks(): Measurement[] {
  const prices = priceSeries(1 << 16);
  const mask = prices.length - 1;
  let oracle = initialOracleState(2000n * PRICE_SCALE, 0);
  let time = 0;
  const pure = measure('oracle step: one quote into a 3-source oracle (pure)', (n) => {
    for (let i = 0; i < n; i++) {
      if (i % 3 === 0) time += 1;
      const quote: SourceQuote = {
        source: SOURCES[i % 3] ?? 'a',
        price: prices[i & mask] ?? 1n,
        confidence: null,
        observedAt: time,
      };
      oracle = takeQuote(oracle, quote, time, DEFAULT_ORACLE_CONFIG).state;
    }
  });

  const quoteState = market(true);
  let quoteTime = 0;
  const quotes = measure('engine quote command: aggregate, grade, re-price, commit', (n) => {
    for (let i = 0; i < n; i++) {
      if (i % 3 === 0) quoteTime += 1;
      const command: Command = {
        type: 'quote',
        time: quoteTime,
        asset: 'ETH',
        source: SOURCES[i % 3] ?? 'a',
        price: prices[i & mask] ?? 1n,
      };
      applyCommand(quoteState, command);
    }
  });

  const priceState = market(false);
  let priceTime = 0;
  const setPrice = measure('engine set-price command, no oracle (baseline)', (n) => {
    for (let i = 0; i < n; i++) {
      if (i % 3 === 0) priceTime += 1;
      applyCommand(priceState, {
        type: 'set-price',
        time: priceTime,
        asset: 'ETH',
        price: prices[i & mask] ?? 1n,
      });
    }
  });
  if (oracle.grade !== 'valid') throw new Error(`the benchmark oracle ended ${oracle.grade}`);
  return [pure, quotes, setPrice];
}
