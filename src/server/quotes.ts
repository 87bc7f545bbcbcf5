/**
 * A price source's push of quotes (`POST /v1/quotes`, or a NATS message): decoded as `quote`
 * commands, admitted to the queue whole or refused, then applied in order, each answered once
 * durable.
 */
import { FulcrumError } from '../base/errors.js';
import type { Command } from '../engine/commands.js';
import { decodeJson } from '../engine/engine.js';
import type { Gateway } from './gateway.js';
import type { Metrics } from './metrics.js';
import type { QuotesBody } from './schemas.js';

export interface QuoteResult {
  readonly ok: boolean;
  readonly seq: number | null;
  readonly error?: ReturnType<FulcrumError['toJSON']>;
}

/**
 * The push's quotes as commands (a quote the decoder refuses, as its refusal), each in the name
 * of `sourceOf(quote)`; `check` throws for a command the pusher may not send.
 */
export function decodeQuotes(
  gateway: Gateway,
  body: QuotesBody,
  sourceOf: (quote: QuotesBody['quotes'][number]) => string,
  check: (command: Command) => void = () => {},
): (Command | FulcrumError)[] {
  return body.quotes.map((quote) => {
    const command = { type: 'quote', time: body.time, ...quote, source: sourceOf(quote) };
    const decoded = decodeJson(command, gateway.state);
    if (decoded instanceof FulcrumError) return decoded;
    check(decoded);
    return decoded;
  });
}

/**
 * Admits the whole push (throws the queue's refusal), then applies its quotes in order: each
 * is applied before this returns (the promise is of their durable results).
 */
export function applyQuotes(
  gateway: Gateway,
  metrics: Metrics,
  commands: readonly (Command | FulcrumError)[],
): Promise<QuoteResult[]> {
  gateway.admit(commands.length);
  return Promise.all(
    commands.map(async (command): Promise<QuoteResult> => {
      if (command instanceof FulcrumError) return { ok: false, seq: null, error: command.toJSON() };
      const result = await gateway.submit(command);
      metrics.commands.inc({ type: 'quote', outcome: result.ok ? 'ok' : result.error.code });
      return result.ok
        ? { ok: true, seq: result.seq }
        : { ok: false, seq: result.seq, error: result.error.toJSON() };
    }),
  );
}
