/**
 * The engine as a watcher sees it through a running `fulcrum serve`: commands posted to
 * `/v1/commands` with the operator's key (answered once durable: the cursor is journaled before
 * the watcher goes on), and its chain's entry read from `GET /v1/chains`, refreshed before each
 * poll. The service stays the single writer; a watcher is a process of its own, restarted at
 * will: it resumes from the cursor the service reports.
 */
import { FulcrumError } from '../base/errors.js';
import { parseDecimal } from '../math/decimal.js';
import { BLOCK_END, type ChainView, type EnginePort } from './port.js';

/** A chain as `GET /v1/chains` renders it: amounts in whole units of their asset. */
interface RenderedChain {
  readonly chain: string;
  readonly status: ChainView['status'];
  readonly cursor: { readonly block: number; readonly logIndex: number | null };
  readonly nextNonce: number;
  readonly pending: readonly {
    readonly nonce: number;
    readonly account: string;
    readonly subAccount: number;
    readonly asset: string;
    readonly amount: string;
    readonly recipient: string;
    readonly expiry: number;
  }[];
  readonly assets: readonly {
    readonly asset: string;
    readonly decimals: number;
    readonly credited: string;
  }[];
}

/** How long one request may take before the poll fails (and is retried by the runner). */
const REQUEST_TIMEOUT_MS = 10_000;

export interface HttpEnginePort extends EnginePort {
  /** Reads the service's chain report; call it before each poll. */
  refresh(): Promise<void>;
}

/**
 * A running service as a watcher's port.
 *
 * @example
 * const port = httpEnginePort('http://127.0.0.1:8080', operatorKey);
 * await port.refresh();
 * await watcher.poll();
 */
export function httpEnginePort(url: string, key: string): HttpEnginePort {
  const base = url.replace(/\/+$/, '');
  let chains = new Map<string, ChainView>();
  const request = async (path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    return { status: response.status, json: (await response.json()) as unknown };
  };
  return {
    async refresh() {
      const { status, json } = await request('/v1/chains');
      if (status !== 200) throw serviceError('GET /v1/chains', status, json);
      const rendered = (json as { chains: RenderedChain[] }).chains;
      chains = new Map(rendered.map((c) => [c.chain, viewOf(c)]));
    },
    chain: (name) => chains.get(name),
    async submit(command) {
      const { status, json } = await request('/v1/commands', command);
      if (status === 200) return { ok: true };
      const error = (json as { error?: { code?: unknown; message?: unknown } }).error;
      // A refusal of the engine's is an answer; anything else (a full queue, a wrong key, a
      // service stopping) fails the poll, which the runner retries.
      if ((status === 400 || status === 422) && typeof error?.code === 'string') {
        return { ok: false, error: { code: error.code, message: String(error.message) } };
      }
      throw serviceError('POST /v1/commands', status, json);
    },
  };
}

function serviceError(what: string, status: number, json: unknown): FulcrumError {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const detail = typeof error?.message === 'string' ? `: ${error.message}` : '';
  return new FulcrumError('invalid_field', `the service answered ${what} with ${status}${detail}`);
}

/** The rendered report back as the watcher's view: whole units to base units, exactly. */
function viewOf(rendered: RenderedChain): ChainView {
  const decimals = new Map(rendered.assets.map((a) => [a.asset, a.decimals]));
  const units = (amount: string, asset: string) =>
    parseDecimal(amount, decimals.get(asset) ?? 0, { field: 'amount' });
  return {
    chain: rendered.chain,
    status: rendered.status,
    cursor: { block: rendered.cursor.block, logIndex: rendered.cursor.logIndex ?? BLOCK_END },
    nextNonce: rendered.nextNonce,
    pending: rendered.pending.map((p) => ({ ...p, amount: units(p.amount, p.asset) })),
    credited: new Map(rendered.assets.map((a) => [a.asset, units(a.credited, a.asset)])),
  };
}
