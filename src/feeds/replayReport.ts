/**
 * What an oracle makes of historical price files: each asset's quotes are replayed through an
 * engine whose listing has an oracle, and every aggregation is counted: grades, sources
 * rejected (outliers, or outside the agreeing majority), sources left out as frozen, breaker
 * trips, and the largest gap between price and stable price. This is `fulcrum oracle replay`.
 */
import { FulcrumError } from '../base/errors.js';
import { GRADES, type Grade } from '../domain/priceGrade.js';
import { Engine } from '../engine/engine.js';
import type { EngineEvent } from '../engine/events.js';
import { formatDecimal } from '../math/decimal.js';
import { PRICE_DECIMALS, RAY } from '../math/fixed.js';
import { barSeconds } from '../math/time.js';
import { replayQuotes, type SourceSeries } from './replay.js';

export interface AssetReplay {
  readonly asset: string;
  readonly sources: readonly string[];
  readonly quotes: number;
  readonly grades: Readonly<Record<Grade, number>>;
  /** Aggregations that rejected each source: an outlier, or outside the agreeing majority. */
  readonly rejected: Readonly<Record<string, number>>;
  /** Aggregations that left each source out as frozen (unchanged while the others moved). */
  readonly frozen: Readonly<Record<string, number>>;
  readonly breakerTrips: readonly { time: number; from: string; to: string }[];
  /** The largest |price − stable| / stable seen, with when and the two prices. */
  readonly largestGap: { ratio: number; time: number; price: string; stablePrice: string } | null;
  readonly finalPrice: string;
  /** The highest and lowest prices the oracle adopted. */
  readonly highestPrice: string;
  readonly lowestPrice: string;
}

/**
 * Replays the series through an engine, one listing per asset with `oracle` (JSON listing
 * fields) as its oracle configuration. Defaults that depend on the data: quorum two sources (one
 * for an asset with a single file); staleness and the breaker's window one bar, its cooldown two;
 * a source is frozen when unchanged for two bars (a bar's quotes lie a third of a bar apart, so
 * a shorter span would call a bar whose low was its open frozen).
 */
export function replayReport(
  series: readonly SourceSeries[],
  oracle: Record<string, unknown> = {},
): AssetReplay[] {
  const assets = [...new Set(series.map((s) => s.asset))];
  const engine = new Engine();
  const stats = new Map<string, Stats>();
  for (const asset of assets) {
    const own = series.filter((s) => s.asset === asset);
    const first = replayQuotes(own)[0];
    const sources = [...new Set(own.map((s) => s.source))];
    // Bars quote a few times each: freshness and the breaker's clock scale with the bar, unless
    // the caller says otherwise.
    const bar = Math.max(...own.map((s) => barSeconds(s.bars)));
    const scaled = {
      quorum: Math.min(2, sources.length),
      maxStalenessSeconds: bar,
      breakerWindowSeconds: bar,
      breakerCooldownSeconds: 2 * bar,
      maxUnchangedSeconds: 2 * bar,
    };
    const listing = engine.applyJson({
      type: 'list-asset',
      time: first?.time ?? 0,
      price: first?.price ?? '1',
      config: {
        symbol: asset,
        decimals: 18,
        initialWeight: '0.8',
        maintenanceWeight: '0.85',
        oracle: { ...scaled, ...oracle },
      },
    });
    if (!listing.ok) throw listing.error;
    stats.set(asset, newStats(asset, sources));
  }
  for (const quote of replayQuotes(series)) {
    const result = engine.applyJson(quote);
    if (!result.ok) {
      throw new FulcrumError(
        result.error.code,
        `${quote.asset} ${quote.source} at ${quote.time}: ${result.error.message}`,
      );
    }
    const entry = stats.get(quote.asset);
    if (entry !== undefined) record(entry, quote.time, result.events);
  }
  const prices = new Map(engine.pools().map((p) => [p.asset, p.price]));
  return [...stats.values()].map(({ gapRay, highest, lowest, ...report }) => ({
    ...report,
    finalPrice: prices.get(report.asset) ?? '0',
    highestPrice: formatDecimal(highest, PRICE_DECIMALS),
    lowestPrice: formatDecimal(lowest, PRICE_DECIMALS),
  }));
}

/** An asset's counts while the replay runs, with the running extremes as exact bigints. */
interface Stats {
  readonly asset: string;
  readonly sources: readonly string[];
  quotes: number;
  readonly grades: Record<Grade, number>;
  readonly rejected: Record<string, number>;
  readonly frozen: Record<string, number>;
  readonly breakerTrips: { time: number; from: string; to: string }[];
  largestGap: AssetReplay['largestGap'];
  gapRay: bigint;
  highest: bigint;
  lowest: bigint;
}

function newStats(asset: string, sources: string[]): Stats {
  return {
    asset,
    sources,
    quotes: 0,
    grades: Object.fromEntries(GRADES.map((g) => [g, 0])) as Record<Grade, number>,
    rejected: Object.fromEntries(sources.map((s) => [s, 0])),
    frozen: Object.fromEntries(sources.map((s) => [s, 0])),
    breakerTrips: [],
    largestGap: null,
    gapRay: -1n,
    highest: 0n,
    lowest: -1n,
  };
}

function record(stats: Stats, time: number, events: readonly EngineEvent[]): void {
  stats.quotes += 1;
  for (const event of events) {
    if (event.type === 'price-aggregated') {
      stats.grades[event.grade as Grade] += 1;
      if (event.price > stats.highest) stats.highest = event.price;
      if (stats.lowest < 0n || event.price < stats.lowest) stats.lowest = event.price;
      for (const source of event.rejected)
        stats.rejected[source] = (stats.rejected[source] ?? 0) + 1;
      for (const source of event.frozen) stats.frozen[source] = (stats.frozen[source] ?? 0) + 1;
      const gap =
        event.price > event.stablePrice
          ? event.price - event.stablePrice
          : event.stablePrice - event.price;
      const gapRay = (gap * RAY) / event.stablePrice;
      if (gapRay > stats.gapRay) {
        stats.gapRay = gapRay;
        stats.largestGap = {
          ratio: Number((gapRay * 1_000_000n) / RAY) / 1_000_000,
          time,
          price: formatDecimal(event.price, PRICE_DECIMALS),
          stablePrice: formatDecimal(event.stablePrice, PRICE_DECIMALS),
        };
      }
    } else if (event.type === 'breaker-tripped') {
      stats.breakerTrips.push({
        time,
        from: formatDecimal(event.fromPrice ?? 0n, PRICE_DECIMALS),
        to: formatDecimal(event.toPrice ?? 0n, PRICE_DECIMALS),
      });
    }
  }
}
