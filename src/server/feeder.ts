/**
 * The replay feeder: OHLCV price files (the simulator's format, examples/data) as pushes of
 * quotes, played at a chosen speed. `fulcrum feed` plays them into a running service over HTTP;
 * `fulcrum serve --demo` plays the Black Thursday files into its own service.
 */
import { readFileSync } from 'node:fs';
import { parseOhlcv } from '../feeds/ohlcv.js';
import { describeFile, type QuoteJson, replayQuotes } from '../feeds/replay.js';

/** One push: the quotes of one source at one time, the body of `POST /v1/quotes`. */
export interface QuotePush {
  readonly time: number;
  readonly source: string;
  readonly quotes: readonly { readonly asset: string; readonly price: string }[];
}

/** The quotes of the price files (each `<source>_<BASE><QUOTE>_<interval>.csv`), in time order. */
export function loadPriceFiles(paths: readonly string[]): QuoteJson[] {
  const series = paths.map((path) => ({
    ...describeFile(path),
    bars: parseOhlcv(readFileSync(path, 'utf8'), path),
  }));
  return replayQuotes(series);
}

/** The quotes grouped into pushes: a source's consecutive quotes of one time. */
export function quotePushes(quotes: readonly QuoteJson[]): QuotePush[] {
  const pushes: QuotePush[] = [];
  for (let i = 0; i < quotes.length;) {
    const { time, source } = quotes[i] as QuoteJson;
    let j = i;
    while (j < quotes.length && quotes[j]?.time === time && quotes[j]?.source === source) j++;
    const batch = quotes.slice(i, j).map((q) => ({ asset: q.asset, price: q.price }));
    for (let k = 0; k < batch.length; k += 64) {
      pushes.push({ time, source, quotes: batch.slice(k, k + 64) });
    }
    i = j;
  }
  return pushes;
}

export interface ReplayOptions {
  /** Market seconds played a second. */
  readonly speed: number;
  readonly push: (push: QuotePush) => Promise<void>;
  /** Asked before each push: true ends the replay. */
  readonly stopped: () => boolean;
  /** Aborted when the replay is to stop: ends a wait for the next push at once. */
  readonly signal?: AbortSignal;
  /** Called after each push. */
  readonly after?: (push: QuotePush) => Promise<void>;
}

/**
 * Plays the pushes at `speed` market seconds a second from the first push's time; resolves
 * with the number of pushes made once the last is done (or the replay was stopped).
 */
export async function replayPushes(
  pushes: readonly QuotePush[],
  options: ReplayOptions,
): Promise<number> {
  const startMarket = pushes[0]?.time ?? 0;
  const startWall = Date.now();
  let made = 0;
  for (const push of pushes) {
    if (options.stopped()) break;
    const wait = startWall + ((push.time - startMarket) * 1_000) / options.speed - Date.now();
    if (wait > 0) await pause(wait, options.signal);
    if (options.stopped() || options.signal?.aborted === true) break;
    await options.push(push);
    made += 1;
    if (options.after !== undefined) await options.after(push);
  }
  return made;
}

/** Resolves after `ms`, or at once when `signal` is aborted (a slow replay stops without waiting). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted === true) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
