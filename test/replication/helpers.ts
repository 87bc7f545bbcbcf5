/**
 * What the replication tests share: the replica child script bundled once (rolldown, which
 * vite brings) into a temporary folder that sees the project's node_modules, the venue's setup
 * commands, and the state a set of acknowledged deposits must give.
 */
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from 'nats';
import { Engine } from '../../src/engine/engine.js';
import type { DepositLoad } from '../../src/replication/load.js';
import { shardNames } from '../../src/replication/natsLog.js';

export const T0 = 1_700_000_000;

export const SETUP = [
  {
    type: 'list-asset',
    time: T0,
    price: '1',
    config: { symbol: 'USDC', decimals: 6, initialWeight: '0.85', maintenanceWeight: '0.875' },
  },
];

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Bundles a child script (the replica's by default); returns its path and a cleanup. */
export async function bundleChild(
  name = 'replicaChild',
): Promise<{ script: string; cleanup: () => void }> {
  const { rolldown } = await import('rolldown');
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-replica-bundle-'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const script = join(dir, `${name}.mjs`);
  const bundle = await rolldown({
    input: join(ROOT, `test/replication/${name}.ts`),
    platform: 'node',
    external: [/^node:/, /^[a-z@][^:]*$/],
    resolve: { extensionAlias: { '.js': ['.ts', '.js'] } },
    logLevel: 'silent',
  });
  // One file: the service's lazily imported modules go in the same bundle.
  await bundle.write({ file: script, format: 'esm', codeSplitting: false });
  await bundle.close();
  // The SQLite store's writer thread is a script beside the store's module.
  for (const file of ['sqliteWriter.mjs', 'segmentLayout.mjs']) {
    copyFileSync(join(ROOT, 'src/store', file), join(dir, file));
  }
  return { script, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The hash a replica must reach: the setup, then each client's acknowledged deposits once. */
export function expectedHash(
  load: DepositLoad | readonly DepositLoad[],
  extra: readonly unknown[] = [],
): string {
  const engine = new Engine();
  for (const command of [...SETUP, ...extra]) {
    const result = engine.applyJson(command);
    if (!result.ok) throw new Error(`setup refused: ${result.error.code}`);
  }
  for (const one of Array.isArray(load) ? load : [load]) {
    (one as DepositLoad).acked.forEach((count, client) => {
      for (let i = 0; i < count; i++) engine.applyJson((one as DepositLoad).command(client));
    });
  }
  return engine.hash();
}

export interface NodeStatus {
  readonly node: string;
  readonly role: string;
  readonly term: number;
  readonly applied: number;
  readonly commands: number;
  readonly hash: string;
}

/** A replica's status and hash once it applied stream sequence `until`. */
export async function nodeStatus(
  connection: NatsConnection,
  shard: string,
  node: string,
  until = 0,
): Promise<NodeStatus> {
  const subject = `${shardNames(shard).nodePrefix}.${node}`;
  const until20s = Date.now() + 20_000;
  for (;;) {
    try {
      const reply = await connection.request(subject, JSON.stringify({ until }), {
        timeout: 15_000,
      });
      return JSON.parse(reply.string()) as NodeStatus;
    } catch (error) {
      // No responders: the replica is still starting.
      if ((error as { code?: string }).code !== '503' || Date.now() > until20s) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The log's last sequence, retried while the cluster is still electing (up to 30 s). */
export async function lastSeqOf(connection: NatsConnection, shard: string): Promise<number> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      const jsm = await connection.jetstreamManager({ timeout: 3_000 });
      return (await jsm.streams.info(shardNames(shard).stream)).state.last_seq;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Watches the replicas' status messages: who leads now. */
export function watchLeader(connection: NatsConnection, shard: string) {
  const latest = new Map<string, { role: string; term: number; at: number }>();
  const sub = connection.subscribe(`${shardNames(shard).statusPrefix}.*`, {
    callback: (_error, message) => {
      const status = JSON.parse(message.string()) as { node: string; role: string; term: number };
      latest.set(status.node, { role: status.role, term: status.term, at: Date.now() });
    },
  });
  return {
    /** The node that reported itself leader within the last second, with the highest term. */
    leader(): string | null {
      let best: { node: string; term: number } | null = null;
      for (const [node, s] of latest) {
        if (s.role !== 'leader' || Date.now() - s.at > 1_000) continue;
        if (best === null || s.term > best.term) best = { node, term: s.term };
      }
      return best?.node ?? null;
    },
    async waitLeader(timeoutMs: number, not?: string): Promise<string> {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const leader = this.leader();
        if (leader !== null && leader !== not) return leader;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no leader within ${timeoutMs} ms`);
    },
    all: () => Object.fromEntries(latest),
    close: () => sub.unsubscribe(),
  };
}
