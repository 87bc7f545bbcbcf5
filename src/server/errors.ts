/**
 * Refusals at the service's edge: an HTTP status, a stable code and a one-line reason. Engine
 * refusals keep the engine's codes (`FulcrumError`); the service adds its own (authentication,
 * rate limits, the queue, idempotency, request shape), listed in {@link SERVICE_ERROR_CODES}.
 */
import type { ErrorCode } from '../base/errors.js';

/** The service's own codes, with what each means; every 4xx and 5xx answer carries one. */
export const SERVICE_ERROR_CODES = {
  unauthenticated: 'no API key, or one the service does not know (401)',
  signature_required: 'the key signs its requests and this one carries no signature (401)',
  invalid_signature: 'the signature headers are malformed or do not match the request (401)',
  signature_expired: "the signed request's timestamp is outside the window (401)",
  replayed: 'the nonce of a signed request was used before within the window (401)',
  nonce_store_full: 'too many signed requests within the window; see Retry-After (503)',
  forbidden: "the key's role or accounts do not allow this (403)",
  not_found: 'no such route (404)',
  method_not_allowed: 'the route does not take this method (405)',
  time_ahead:
    "the command or quote time is ahead of the service's clock by more than clockSkewSeconds (422)",
  idempotency_conflict: 'the Idempotency-Key was used before with another body (409)',
  body_too_large: 'the body is larger than the limit (413)',
  unsupported_media_type: 'the body is not application/json (415)',
  rate_limited: "the key's rate limit is used up; see Retry-After (429)",
  queue_full: 'too many commands wait to be journaled; see Retry-After (503)',
  shutting_down: 'the service is stopping and takes no new commands (503)',
  store_failed: 'the journal cannot be written: the engine has stopped (503)',
  log_unavailable:
    'a replicated node: the log or its leader did not take the command in time; retry with the same Idempotency-Key (503)',
  replica_behind:
    'a replicated node: the command is in the log but not yet applied here; retry with the same Idempotency-Key (503)',
  replica_starting: 'a replicated node: its replica is still catching up the log (503)',
  replica_halted:
    "a replicated node: its replica stopped (a state hash the others' disagree with) (503)",
  internal: 'a fault in Fulcrum, not in the request (500)',
} as const;

export type ServiceErrorCode = keyof typeof SERVICE_ERROR_CODES;

/** Engine codes that say the input itself is malformed (400); every other refusal is 422. */
const SHAPE_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'invalid_json',
  'invalid_field',
  'invalid_number',
  'too_many_decimals',
  'unknown_command',
]);

/** The HTTP status of an engine refusal. */
export function statusOfEngineCode(code: ErrorCode): number {
  return SHAPE_CODES.has(code) ? 400 : 422;
}

/** A refusal the service answers with, thrown from hooks, parsers and handlers. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly statusCode: number;
  readonly code: ServiceErrorCode | ErrorCode;
  readonly field: string | undefined;
  /** Seconds for the Retry-After header (429, 503). */
  readonly retryAfter: number | undefined;

  constructor(
    statusCode: number,
    code: ServiceErrorCode | ErrorCode,
    message: string,
    options: { field?: string; retryAfter?: number } = {},
  ) {
    super(oneLine(message));
    this.statusCode = statusCode;
    this.code = code;
    this.field = options.field;
    this.retryAfter = options.retryAfter;
  }

  toJSON(): { code: string; message: string; field?: string } {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

/** Longest reason sent back: a reason is a line, never a dump of the input. */
export const REASON_LENGTH_MAX = 300;

/** `text` as one short line: line breaks and controls become spaces, cut with an ellipsis. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  return flat.length <= REASON_LENGTH_MAX ? flat : `${flat.slice(0, REASON_LENGTH_MAX - 1)}…`;
}
