/**
 * The service's HTTP plumbing: strict JSON bodies, refusals as answers (status, stable code,
 * one-line reason), cursors, and CORS for configured origins.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FulcrumError } from '../base/errors.js';
import { parseJsonText } from '../domain/json.js';
import type { SubAccountRef } from '../engine/state.js';
import { HttpError, oneLine, statusOfEngineCode } from './errors.js';
import type { Metrics } from './metrics.js';

/** Sends a refusal, counting it. */
export function sendError(reply: FastifyReply, error: HttpError, metrics: Metrics): FastifyReply {
  metrics.refusals.inc({ code: error.code });
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
  if (error.statusCode === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(error.statusCode).send({ error: error.toJSON() });
}

/** Fastify's own errors (framework codes) that are the client's: status, code and reason. */
const FRAMEWORK_ERRORS: Readonly<Record<string, (limit: number) => HttpError>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: (limit) =>
    new HttpError(413, 'body_too_large', `the body is larger than ${limit} bytes`),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new HttpError(415, 'unsupported_media_type', 'bodies are application/json'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new HttpError(400, 'invalid_json', 'the body is empty'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new HttpError(400, 'invalid_json', 'the body does not match its Content-Length'),
};

interface FrameworkError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: { instancePath?: string; message?: string }[];
  validationContext?: string;
}

/** Any error a request ends in, as the refusal to answer with; a fault is logged, answered 500. */
export function toHttpError(error: unknown, request: FastifyRequest, bodyLimit: number): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof FulcrumError) {
    return new HttpError(
      statusOfEngineCode(error.code),
      error.code,
      error.message,
      error.field === undefined ? {} : { field: error.field },
    );
  }
  const e = error as FrameworkError;
  if (e.validation !== undefined) {
    const first = e.validation[0];
    const path = (first?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const where = [e.validationContext, path].filter((p) => p !== undefined && p !== '').join('.');
    return new HttpError(400, 'invalid_field', `${where} ${first?.message ?? 'is invalid'}`, {
      ...(path === '' ? {} : { field: path }),
    });
  }
  const known = e.code === undefined ? undefined : FRAMEWORK_ERRORS[e.code];
  if (known !== undefined) return known(bodyLimit);
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return new HttpError(e.statusCode, 'invalid_field', e.message ?? 'bad request');
  }
  request.log.error({ err: error }, 'internal error');
  return new HttpError(500, 'internal', 'internal error (a fault in Fulcrum, not in the request)');
}

/** A JSON body, refused (`invalid_json`) when empty, nested too deep or with a repeated key. */
export function parseBody(text: string, depthMax: number): unknown {
  if (text.trim() === '') throw new HttpError(400, 'invalid_json', 'the body is empty');
  const depth = nestingDepth(text);
  if (depth > depthMax) {
    throw new HttpError(
      400,
      'invalid_json',
      `the body nests ${depth > 1000 ? 'over 1000' : depth} levels deep; the most is ${depthMax}`,
    );
  }
  try {
    return parseJsonText(text, 'the body');
  } catch (error) {
    if (error instanceof FulcrumError) throw new HttpError(400, error.code, oneLine(error.message));
    throw error;
  }
}

/** The deepest nesting of arrays and objects in JSON text (strings skipped), up to 1001. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > 1000) return deepest;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

export function subAccountRef(account: string, n: string): SubAccountRef {
  const subAccount = Number(n);
  if (subAccount > 255) {
    throw new HttpError(400, 'invalid_field', 'a sub-account is numbered 0 to 255', { field: 'n' });
  }
  return { account, subAccount };
}

export function pageLimit(text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const limit = Number(text);
  if (limit > max) {
    throw new HttpError(400, 'invalid_field', `limit is at most ${max}`, { field: 'limit' });
  }
  return limit;
}

/** Cursors are opaque to clients: base64url of a small JSON value. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeCursor(text: string): unknown {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new Error('not base64url');
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'invalid_field', 'cursor is not one this service gave', {
      field: 'cursor',
    });
  }
}

export function refCursor(text: string): SubAccountRef {
  const value = decodeCursor(text);
  if (
    Array.isArray(value) &&
    value.length === 2 &&
    typeof value[0] === 'string' &&
    Number.isSafeInteger(value[1])
  ) {
    return { account: value[0], subAccount: value[1] as number };
  }
  throw new HttpError(400, 'invalid_field', 'cursor is not one this service gave', {
    field: 'cursor',
  });
}

export function numberCursor(text: string): number {
  const value = decodeCursor(text);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new HttpError(400, 'invalid_field', 'cursor is not one this service gave', {
    field: 'cursor',
  });
}

/** CORS for the configured origins only; without any, no CORS header is ever sent. */
export function addCors(app: FastifyInstance, origins: readonly string[]): void {
  const allowed = new Set(origins);
  app.addHook('onSend', async (request, reply, payload) => {
    const origin = request.headers.origin;
    if (origin !== undefined && (allowed.has(origin) || allowed.has('*'))) {
      reply.header('access-control-allow-origin', origin);
      reply.header('vary', 'Origin');
    }
    return payload;
  });
  app.options('/*', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined || !(allowed.has(origin) || allowed.has('*'))) {
      return reply.code(403).send({ error: { code: 'forbidden', message: 'origin not allowed' } });
    }
    return reply
      .code(204)
      .header('access-control-allow-methods', 'GET, POST')
      .header('access-control-allow-headers', 'authorization, content-type, idempotency-key')
      .header('access-control-max-age', '600')
      .send();
  });
}
