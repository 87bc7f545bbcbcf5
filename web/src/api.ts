/**
 * The service's REST routes, with the key as `Authorization: Bearer`. The key lives in
 * sessionStorage: gone when the tab closes, never in a cookie or the URL.
 */

const KEY = 'fulcrum.key';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, key);
}

/** A refusal from the service: its status, stable code and one-line reason. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** GET (or POST with a JSON body) a route; a refusal is thrown as an {@link ApiError}. */
export async function api<T>(path: string, body?: unknown, key = storedKey()): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${key ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json().catch(() => null)) as {
    error?: { code: string; message: string };
  } | null;
  if (!response.ok) {
    const error = json?.error;
    throw new ApiError(
      response.status,
      error?.code ?? 'http',
      error?.message ?? response.statusText,
    );
  }
  return json as T;
}

/** A refusal as one line for the screen. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return `Refused (${error.status} ${error.code}): ${error.message}`;
  return `Failed: ${(error as Error).message}`;
}

export interface Session {
  readonly id: string;
  readonly role: string;
  readonly everyAccount: boolean;
  readonly accounts: readonly string[];
  readonly subAccounts: readonly { account: string; subAccount: number }[];
}
