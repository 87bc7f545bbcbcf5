/**
 * The push interface for a live feed: a venue's connector to an exchange or an oracle network
 * calls `push` with each price it receives; the feed stamps it with the time and hands the quote
 * command to the engine (in memory or durable). Fulcrum itself never connects anywhere.
 */

export interface LiveQuote {
  readonly asset: string;
  readonly source: string;
  /** A decimal string, as received. */
  readonly price: string;
  /** Half-width of the confidence interval, a decimal string, if the source gives one. */
  readonly confidence?: string;
  /** When the source observed the price (unix seconds); defaults to the time of the push. */
  readonly observedAt?: number;
}

export class LiveFeed<R> {
  private lastTime = 0;
  private readonly submit: (command: Record<string, unknown>) => R;
  private readonly clock: () => number;

  /**
   * @param submit takes a JSON command: `engine.applyJson`, or `durable.submitJson` for a
   *   journaled engine.
   * @param clock unix seconds now, from the venue's time source.
   *
   * @example
   * const feed = new LiveFeed((c) => durable.submitJson(c), () => Math.floor(Date.now() / 1000));
   * socket.on('trade', (t) => feed.push({ asset: 'ETH', source: 'binance', price: t.p }));
   */
  constructor(submit: (command: Record<string, unknown>) => R, clock: () => number) {
    this.submit = submit;
    this.clock = clock;
  }

  /** Submits one quote, timed now (never earlier than the previous push: time only moves on). */
  push(quote: LiveQuote): R {
    this.lastTime = Math.max(this.lastTime, Math.floor(this.clock()));
    const command: Record<string, unknown> = {
      type: 'quote',
      time: this.lastTime,
      asset: quote.asset,
      source: quote.source,
      price: quote.price,
    };
    if (quote.confidence !== undefined) command.confidence = quote.confidence;
    if (quote.observedAt !== undefined)
      command.observedAt = Math.min(quote.observedAt, this.lastTime);
    return this.submit(command);
  }
}
