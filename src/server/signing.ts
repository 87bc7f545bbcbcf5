/**
 * ed25519-signed requests. A key whose configuration entry carries `publicKey` must sign every
 * request: three headers, `X-Fulcrum-Timestamp` (unix seconds), `X-Fulcrum-Nonce` (16 to 128
 * letters, digits, `_` or `-`, never used twice by the key within the window) and
 * `X-Fulcrum-Signature` (the 64-byte ed25519 signature, base64 or base64url) over the text
 *
 *     METHOD \n PATH \n TIMESTAMP \n NONCE \n hex(SHA-256(body))
 *
 * (PATH with its query string, as sent; an empty body for a GET). The timestamp must be within
 * `signatureWindowSeconds` of the service's clock; a nonce is remembered until its timestamp
 * leaves the window, in a bounded store. docs/SERVER.md, "Signed requests", has a worked example.
 */
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { HttpError, type ServiceErrorCode } from './errors.js';

export const SIGNATURE_HEADERS = {
  timestamp: 'x-fulcrum-timestamp',
  nonce: 'x-fulcrum-nonce',
  signature: 'x-fulcrum-signature',
} as const;

const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;
const SIGNATURE_PATTERN = /^[A-Za-z0-9+/_-]{86}={0,2}$/;

/** A configured `ed25519:<base64url>` public key as a key object. */
export function publicKeyOf(text: string): KeyObject {
  const x = text.slice('ed25519:'.length);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/** The text a request's signature covers. */
export function signedText(
  method: string,
  path: string,
  timestamp: string,
  nonce: string,
  body: string,
): string {
  const digest = createHash('sha256').update(body, 'utf8').digest('hex');
  return `${method.toUpperCase()}\n${path}\n${timestamp}\n${nonce}\n${digest}`;
}

/** A signed request's headers, checked for form and for the time window (before the body). */
export interface SignatureHeaders {
  readonly timestamp: string;
  readonly nonce: string;
  readonly signature: Buffer;
  readonly seconds: number;
}

function refused(code: ServiceErrorCode, message: string): HttpError {
  return new HttpError(401, code, message);
}

/**
 * The signature headers of a request by a signing key, refused when one is missing or
 * malformed (`signature_required`, `invalid_signature`) or when the timestamp is outside the
 * window (`signature_expired`).
 */
export function signatureHeaders(
  headers: Record<string, string | string[] | undefined>,
  nowMs: number,
  windowSeconds: number,
): SignatureHeaders {
  const get = (name: string) => {
    const value = headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const timestamp = get(SIGNATURE_HEADERS.timestamp);
  const nonce = get(SIGNATURE_HEADERS.nonce);
  const signature = get(SIGNATURE_HEADERS.signature);
  if (timestamp === undefined || nonce === undefined || signature === undefined) {
    throw refused(
      'signature_required',
      'this key signs its requests: X-Fulcrum-Timestamp, X-Fulcrum-Nonce, X-Fulcrum-Signature',
    );
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw refused('invalid_signature', 'X-Fulcrum-Timestamp is unix seconds');
  }
  if (!NONCE_PATTERN.test(nonce)) {
    throw refused('invalid_signature', 'X-Fulcrum-Nonce is 16 to 128 of A-Z a-z 0-9 _ -');
  }
  if (!SIGNATURE_PATTERN.test(signature)) {
    throw refused('invalid_signature', 'X-Fulcrum-Signature is 64 bytes in base64');
  }
  const seconds = Number(timestamp);
  if (Math.abs(seconds - nowMs / 1_000) > windowSeconds) {
    throw refused(
      'signature_expired',
      `X-Fulcrum-Timestamp is more than ${windowSeconds} s from the service's clock`,
    );
  }
  const bytes = Buffer.from(signature.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return { timestamp, nonce, signature: bytes, seconds };
}

/** Refuses (`invalid_signature`) a signature that `key` did not make over the request. */
export function checkSignature(
  key: KeyObject,
  headers: SignatureHeaders,
  method: string,
  path: string,
  body: string,
): void {
  const text = signedText(method, path, headers.timestamp, headers.nonce, body);
  let ok: boolean;
  try {
    ok = headers.signature.length === 64 && verify(null, Buffer.from(text), key, headers.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw refused('invalid_signature', 'the signature does not match the request and key');
}

/**
 * The nonces seen within the window, per key: bounded. A nonce is forgotten once its
 * timestamp has left the window (then the timestamp alone refuses the request). When the store
 * is full of nonces still inside the window, a new signed request is refused with 503.
 */
export class NonceStore {
  /** `key id` + space + nonce → the time (ms) the entry may be forgotten; insertion order. */
  private readonly seen = new Map<string, number>();
  private readonly max: number;
  private readonly windowMs: number;

  constructor(max: number, windowSeconds: number) {
    this.max = max;
    this.windowMs = windowSeconds * 1_000;
  }

  get size(): number {
    return this.seen.size;
  }

  /** Records the nonce, refusing one seen before (`replayed`) or a full store. */
  use(keyId: string, nonce: string, timestampSeconds: number, nowMs: number): void {
    this.expire(nowMs);
    const id = `${keyId} ${nonce}`;
    if (this.seen.has(id)) {
      throw refused('replayed', 'this nonce was used before: sign each request with a new one');
    }
    if (this.seen.size >= this.max) {
      throw new HttpError(503, 'nonce_store_full', 'too many signed requests in the window', {
        retryAfter: 1,
      });
    }
    this.seen.set(id, Math.max(nowMs, timestampSeconds * 1_000) + this.windowMs + 1_000);
  }

  /** Forgets the entries whose time has passed, oldest first, stopping at the first live one. */
  private expire(nowMs: number): void {
    for (const [id, until] of this.seen) {
      if (until > nowMs) {
        // Entries are nearly in expiry order; a late one is cheap to keep a little longer.
        if (this.seen.size < this.max) return;
        continue;
      }
      this.seen.delete(id);
    }
  }
}

/** What checks signed requests: the window and the nonces seen in it. */
export class SignatureChecker {
  readonly windowSeconds: number;
  private readonly nonces: NonceStore;

  constructor(windowSeconds: number, nonceStoreMax: number) {
    this.windowSeconds = windowSeconds;
    this.nonces = new NonceStore(nonceStoreMax, windowSeconds);
  }

  /** The headers of a signing key's request, checked for form and window (before the body). */
  headers(headers: Record<string, string | string[] | undefined>, nowMs: number) {
    return signatureHeaders(headers, nowMs, this.windowSeconds);
  }

  /** The signature over the whole request checked, then its nonce used up. */
  verify(
    key: { readonly id: string; readonly verifier: KeyObject | undefined },
    signed: SignatureHeaders,
    request: { readonly method: string; readonly url: string; readonly body: string },
    nowMs: number,
  ): void {
    if (key.verifier === undefined) return;
    checkSignature(key.verifier, signed, request.method, request.url, request.body);
    this.nonces.use(key.id, signed.nonce, signed.seconds, nowMs);
  }
}
