/**
 * `fulcrum feed --url URL --key KEY --prices FILE... [--speed N]`: plays OHLCV price files
 * (examples/data's format) into a running service as quotes, through `POST /v1/quotes`, at N
 * market seconds a second, so that a crash day can be watched live. Each quote names its file's
 * source: a risk-admin key may push every source, a price-source key only the one its id names.
 */
import { parseArgs } from 'node:util';
import { loadPriceFiles, type QuotePush, quotePushes, replayPushes } from './feeder.js';

export const FEED_HELP = `usage:
  fulcrum feed --url URL --key KEY --prices FILE... [--speed N]
      play OHLCV price files (named source_PAIR_interval.csv, as examples/data) into a running
      fulcrum serve as quotes (POST /v1/quotes) at N market seconds a second (default 3600);
      KEY is a risk-admin key, or a price-source key whose id is the files' source`;

/** Pushes retried after a 429 or 503, at most, each. */
const RETRIES = 20;

export interface FeedSummary {
  pushes: number;
  quotesAccepted: number;
  quotesRefused: number;
}

/** Runs `fulcrum feed ARGS`; resolves with the exit status. */
export async function feedCommand(
  argv: readonly string[],
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        prices: { type: 'string', multiple: true },
        speed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`fulcrum: ${(error as Error).message.split('\n')[0]}; try --help\n`);
    return 2;
  }
  if (values.help === true) {
    write(FEED_HELP);
    return 0;
  }
  const speed = Number(values.speed ?? '3600');
  const { url, key, prices } = values;
  if (url === undefined || key === undefined || prices === undefined || !(speed > 0)) {
    process.stderr.write('fulcrum: feed takes --url, --key, --prices FILE... and --speed N > 0\n');
    return 2;
  }
  let summary;
  try {
    summary = await feed({ url, key, files: prices, speed });
  } catch (error) {
    process.stderr.write(`fulcrum: feed stopped: ${(error as Error).message.split('\n')[0]}\n`);
    return 1;
  }
  write(
    `fed ${summary.pushes} pushes: ${summary.quotesAccepted} quotes accepted, ${summary.quotesRefused} refused`,
  );
  return 0;
}

/** Plays the files into the service at `url`; resolves once the last push is answered. */
export async function feed(options: {
  readonly url: string;
  readonly key: string;
  readonly files: readonly string[];
  readonly speed: number;
}): Promise<FeedSummary> {
  const summary: FeedSummary = { pushes: 0, quotesAccepted: 0, quotesRefused: 0 };
  const endpoint = new URL('/v1/quotes', options.url).toString();
  summary.pushes = await replayPushes(quotePushes(loadPriceFiles(options.files)), {
    speed: options.speed,
    stopped: () => false,
    push: async (push) => {
      const results = await send(endpoint, options.key, push);
      for (const result of results) {
        if (result.ok) summary.quotesAccepted += 1;
        else summary.quotesRefused += 1;
      }
    },
  });
  return summary;
}

/** One push, retried after a 429 or a 503 as Retry-After says; another refusal throws. */
async function send(endpoint: string, key: string, push: QuotePush): Promise<{ ok: boolean }[]> {
  const body = JSON.stringify({
    time: push.time,
    quotes: push.quotes.map((quote) => ({ ...quote, source: push.source })),
  });
  for (let attempt = 0; ; attempt++) {
    const reply = await fetch(endpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
    });
    const text = await reply.text();
    if (reply.ok) return (JSON.parse(text) as { results: { ok: boolean }[] }).results;
    if ((reply.status === 429 || reply.status === 503) && attempt < RETRIES) {
      const wait = Number(reply.headers.get('retry-after') ?? '1');
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 10) * 1_000));
      continue;
    }
    throw new Error(`the service refused a push (${reply.status}): ${text.slice(0, 300)}`);
  }
}
