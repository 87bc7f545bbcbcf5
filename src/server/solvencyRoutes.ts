/**
 * The solvency proof of the venue, served from a proof directory written by `fulcrum prove`
 * (docs/SOLVENCY.md): its public root for anyone holding a key, and each account's inclusion
 * bundle file to the keys that may read that account. The files are served as they are; the
 * client checks them (the console verifies a bundle in the browser). Bundles are written ahead
 * and served whole, never made on request, so that serving one reveals nothing the file does
 * not (which users check is still visible to the service, as any request is).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';
import { mayRead } from './keys.js';
import { ALL_ROLES, apiKeyOf } from './routes.js';

export interface SolvencyRouteOptions {
  /** The folder `fulcrum prove --out` wrote (statement.json, bundles/); null when none. */
  readonly directory: string | null | undefined;
}

/**
 * The statement's fields a user needs beside their bundle: the public root of `statement.json`
 * (a sharded statement's manifest: its top nodes, shard list and shard files are for the public
 * audit and are not served here; an older single-file statement: all but its leaves and nodes).
 */
const ROOT_FIELDS = [
  'format',
  'snapshotId',
  'backend',
  'table',
  'depth',
  'root',
  'digest',
  'journal',
  'totals',
  'venueAccounts',
] as const;

/** Account ids as `fulcrum prove` names bundle files: no separator, no leading dot. */
const ACCOUNT_FILE = /^[A-Za-z0-9_-][A-Za-z0-9_.@-]{0,127}$/;

const notFound = (message: string) => new HttpError(404, 'not_found', message);
const ACCOUNT_READERS = ALL_ROLES.filter((r) => r !== 'price-source');

/** The statement's public root, read again only when the file changes. */
function rootReader(directory: string): () => Promise<string> {
  let cached: { mtimeMs: number; body: string } | undefined;
  return async () => {
    const file = join(directory, 'statement.json');
    const info = await stat(file).catch(() => null);
    if (info === null) throw notFound('no solvency statement has been published');
    if (cached?.mtimeMs === info.mtimeMs) return cached.body;
    const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    const root: Record<string, unknown> = {};
    for (const field of ROOT_FIELDS) root[field] = json[field];
    cached = { mtimeMs: info.mtimeMs, body: JSON.stringify(root) };
    return cached.body;
  };
}

/** `GET /v1/solvency/statement` and `GET /v1/solvency/accounts/:account`. */
export function registerSolvencyRoutes(app: FastifyInstance, options: SolvencyRouteOptions): void {
  const directory = options.directory ?? null;
  const readRoot = directory === null ? null : rootReader(directory);
  app.get(
    '/v1/solvency/statement',
    {
      config: { access: ALL_ROLES },
      schema: {
        summary: "The published solvency statement's root: snapshot, table, totals, digest",
        tags: ['solvency'],
        security: [{ bearer: [] }],
      },
    },
    async (_request, reply) => {
      if (readRoot === null) throw notFound('this service publishes no solvency proof');
      return reply.type('application/json').send(await readRoot());
    },
  );
  app.get<{ Params: { account: string } }>(
    '/v1/solvency/accounts/:account',
    {
      config: { access: ACCOUNT_READERS },
      schema: {
        summary:
          "An account's inclusion bundles (one per sub-account), as `fulcrum prove` wrote them",
        tags: ['solvency'],
        security: [{ bearer: [] }],
      },
    },
    async (request: FastifyRequest<{ Params: { account: string } }>, reply) => {
      const { account } = request.params;
      const key = apiKeyOf(request);
      if (!mayRead(key, account))
        throw new HttpError(
          403,
          'forbidden',
          `key ${key.id} may not read account ${JSON.stringify(account)}`,
        );
      if (directory === null) throw notFound('this service publishes no solvency proof');
      if (!ACCOUNT_FILE.test(account))
        throw notFound(`no bundle for account ${JSON.stringify(account)}`);
      const body = await readFile(join(directory, 'bundles', `${account}.json`), 'utf8').catch(
        () => null,
      );
      if (body === null) throw notFound(`no bundle for account ${JSON.stringify(account)}`);
      return reply.type('application/json').send(body);
    },
  );
}
