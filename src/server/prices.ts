/**
 * Every price as the engine holds it: each asset's oracle and stable prices, its grade now and
 * what the grade allows under the asset's policy, its oracle's sources, freshness and circuit
 * breaker; each instrument's mark beside its underlying's index.
 */
import { DEFAULT_PRICE_POLICY, gradeAllows, type Grade } from '../domain/priceGrade.js';
import type { EngineState } from '../engine/state.js';
import { formatDecimal } from '../math/decimal.js';
import { PRICE_DECIMALS } from '../math/fixed.js';
import { breakerFrozen, gradeAt } from '../oracle/oracle.js';

export function pricesOf(state: EngineState) {
  const price = (value: bigint) => formatDecimal(value, PRICE_DECIMALS);
  const time = state.time;
  return {
    time,
    assets: state.assets.map(({ config, risk, oracle }) => {
      // An asset priced directly (no oracle) has a price the venue vouches for: valid.
      const grade: Grade = oracle === null ? 'valid' : gradeAt(oracle, time);
      const policy = config.oracle?.policy ?? DEFAULT_PRICE_POLICY;
      return {
        asset: config.symbol,
        price: price(risk.oraclePrice),
        stablePrice: price(risk.stablePrice),
        confidence: price(risk.confidence),
        grade,
        allows: {
          newRisk: gradeAllows(policy, grade, 'newRisk'),
          liquidate: gradeAllows(policy, grade, 'liquidate'),
        },
        oracle:
          oracle === null || config.oracle === null
            ? null
            : {
                sources: oracle.quotes.length,
                freshUntil: oracle.freshUntil,
                breaker: {
                  trippedAt: oracle.trippedAt,
                  frozen: breakerFrozen(oracle, time, config.oracle),
                },
              },
      };
    }),
    instruments: state.instruments.map((instrument) => ({
      instrument: instrument.listing.spec.symbol,
      underlying: state.assets[instrument.underlying]?.config.symbol ?? '',
      mark: price(instrument.mark),
      index: price(state.assets[instrument.underlying]?.risk.oraclePrice ?? 0n),
      settled: instrument.settled,
    })),
  };
}
