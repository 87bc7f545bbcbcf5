/**
 * A price source's push of quotes (`POST /v1/quotes`, or a NATS message): decoded as `quote`
 * commands, admitted to the queue whole or refused, then applied in order, each answered once
 * durable.
 */
import { FulcrumError } from '../base/errors.js';
import type { Command } from '../engine/commands.js';
import { decodeJson } from '../engine/engine.js';
import type { EngineGateway } from './gateway.js';
import type { Metrics } from './metrics.js';
import type { QuotesBody } from './schemas.js';

export interface QuoteResult {
  readonly ok: boolean;
  readonly seq: number | null;
  readonly error?: ReturnType<FulcrumError['toJSON']>;
}

/** A quote decoded, with the JSON it was decoded from (what a replicated log carries). */
export interface DecodedQuote {
  readonly command: Command;
  readonly input: unknown;
}

/**
 * The push's quotes as commands (a quote the decoder refuses, as its refusal), each in the name
 * of `sourceOf(quote)`; `check` throws for a command the pusher may not send.
 */
export function decodeQuotes(
  gateway: EngineGateway,
  body: QuotesBody,
  sourceOf: (quote: QuotesBody['quotes'][number]) => string,
  check: (command: Command) => void = () => {},
): (DecodedQuote | FulcrumError)[] {
  return body.quotes.map((quote) => {
    const input = { type: 'quote', time: body.time, ...quote, source: sourceOf(quote) };
    const decoded = decodeJson(input, gateway.state);
    if (decoded instanceof FulcrumError) return decoded;
    check(decoded);
    return { command: decoded, input };
  });
}

/**
 * Admits the whole push (throws the queue's refusal), then applies its quotes in order: each
 * is applied before this returns (the promise is of their durable results).
 */
export function applyQuotes(
  gateway: EngineGateway,
  metrics: Metrics,
  commands: readonly (DecodedQuote | FulcrumError)[],
): Promise<QuoteResult[]> {
  gateway.admit(commands.length);
  return Promise.all(
    commands.map(async (quote): Promise<QuoteResult> => {
      if (quote instanceof FulcrumError) return { ok: false, seq: null, error: quote.toJSON() };
      // A quote's key is its content: the same quote pushed to several replicated nodes (each
      // subscribed to NATS) is one command of the log.
      const key = `quote\n${JSON.stringify(quote.input)}`;
      const result = await gateway.submit(quote.command, { input: quote.input, key });
      metrics.commands.inc({ type: 'quote', outcome: result.ok ? 'ok' : result.error.code });
      return result.ok
        ? { ok: true, seq: result.seq }
        : { ok: false, seq: result.seq, error: result.error.toJSON() };
    }),
  );
}
