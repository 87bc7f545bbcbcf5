/**
 * `fulcrum oracle replay FILE...`: replays price files through the oracle and reports, per asset,
 * the grades, the outliers rejected, the breaker's trips and the largest gap between price and
 * stable price.
 */
import { expectObject, type JsonObject } from '../domain/input.js';
import { parseOracleConfig } from '../domain/oracleConfig.js';
import { GRADES } from '../domain/priceGrade.js';
import { parseOhlcv } from '../feeds/ohlcv.js';
import { type AssetReplay, replayReport } from '../feeds/replayReport.js';
import { isoUtc } from '../math/time.js';
import { parseJson, priceFileNames, readInput } from './io.js';
import { table } from './table.js';

export function oracleReplay(paths: readonly string[], json: boolean, oracleText?: string): string {
  const series = paths.map((path) => ({
    ...priceFileNames(path),
    bars: parseOhlcv(readInput(path), path),
  }));
  const oracle = oracleText === undefined ? {} : oracleOption(oracleText);
  const report = replayReport(series, { ...oracle });
  if (json) return report.map((r) => JSON.stringify(r)).join('\n');
  return report.map(describe).join('\n\n');
}

/**
 * `--oracle`: a JSON object of oracle fields, checked here so that an error names `--oracle`
 * and its field (`[]`, `null` or `1` is refused, not read as no fields).
 */
function oracleOption(text: string): JsonObject {
  const value = expectObject(parseJson(text, '--oracle'), '--oracle');
  parseOracleConfig(value, '--oracle');
  return value;
}

function describe(r: AssetReplay): string {
  const grades = table(
    ['grade', 'aggregations'],
    GRADES.filter((g) => r.grades[g] > 0).map((g) => [g, String(r.grades[g])]),
  );
  const rejected = table(
    ['source', 'quotes rejected as outliers'],
    r.sources.map((s) => [s, String(Object.hasOwn(r.rejected, s) ? r.rejected[s] : 0)]),
  );
  const trips =
    r.breakerTrips.length === 0
      ? 'breaker: never tripped'
      : [
          `breaker: tripped ${r.breakerTrips.length} times`,
          ...r.breakerTrips.slice(0, 10).map((t) => `  ${isoUtc(t.time)}  ${t.from} -> ${t.to}`),
          ...(r.breakerTrips.length > 10 ? [`  ... and ${r.breakerTrips.length - 10} more`] : []),
        ].join('\n');
  const gap =
    r.largestGap === null
      ? 'largest price/stable gap: none'
      : `largest price/stable gap: ${(r.largestGap.ratio * 100).toFixed(2)}% at ${isoUtc(r.largestGap.time)} (price ${r.largestGap.price}, stable ${r.largestGap.stablePrice})`;
  return [
    `${r.asset}: ${r.quotes} quotes from ${r.sources.join(', ')}; prices adopted from ${r.lowestPrice} to ${r.highestPrice}, final ${r.finalPrice}`,
    '',
    grades,
    '',
    rejected,
    '',
    trips,
    gap,
  ].join('\n');
}
