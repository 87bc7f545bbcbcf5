/**
 * Watchers beside a running service, as `fulcrum chains watch` runs them: a local chain with a
 * vault, `fulcrum serve`'s app listening on loopback, the watcher's commands posted with the
 * operator's key and its cursor read from `GET /v1/chains`. A deposit is credited once it is
 * final, exactly once however many watchers run or restart; a trader's withdrawal authorized by
 * the service is signed by the venue's key and paid by the vault, and the watcher confirms it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chainReport } from '../../src/engine/chains.js';
import { depositToVault } from '../../src/chains/deploy.js';
import { httpEnginePort } from '../../src/chains/httpPort.js';
import { parseWatchFile, WatcherRunner } from '../../src/chains/runner.js';
import type { PollReport } from '../../src/chains/watcher.js';
import { signWithdrawal, withdrawCall } from '../../src/chains/withdrawals.js';
import { KEY, post, startService, T0, type TestService, VENUE } from '../server/helpers.js';
import { E18, vaultChain, venueKey, watcherConfig, type VaultChain } from './fixture.js';

const ROOT = join(import.meta.dirname, '..', '..');

let arb: VaultChain;
let service: TestService;
let url: string;

const now = () => Math.floor(Date.now() / 1000);

beforeEach(async () => {
  arb = await vaultChain('arb', 42_161);
  const located = (symbol: string, asset: string, decimals: number) => ({
    type: 'list-asset',
    time: T0,
    price: '1',
    config: {
      symbol,
      decimals,
      initialWeight: '0.7',
      maintenanceWeight: '0.75',
      borrowable: false,
      location: { chain: 'arb', asset },
    },
  });
  service = await startService({}, [
    ...VENUE,
    // The venue's fixtures are dated 2023; the watcher's clock is today's.
    { type: 'configure-venue', time: T0, config: { timeJumpSecondsMax: 200_000_000 } },
    { type: 'list-chain', time: T0, chain: 'arb', withdrawalTtl: 3_600 },
    located(arb.eth, 'ETH', 18),
    located(arb.usd, 'USDC', 6),
  ]);
  url = await service.app.listen({ port: 0, host: '127.0.0.1' });
});

afterEach(async () => {
  await service?.close();
});

/** A runner like `fulcrum chains watch`'s, reading the local chain, its reports kept. */
function runner(reports: PollReport[]): WatcherRunner {
  const [chain] = parseWatchFile({
    chains: [{ ...watcherConfig(arb), confirmations: 3, rpcUrl: 'http://127.0.0.1:1' }],
  });
  if (chain === undefined) throw new Error('no chain');
  return new WatcherRunner([chain], {
    port: httpEnginePort(url, KEY.admin),
    clientOf: () => arb.chain.client as never,
    now,
    report: (_chain, report) => {
      if ('outcome' in report) reports.push(report);
      else throw new Error(report.error);
    },
  });
}

function credited(asset: string): bigint {
  const report = chainReport(service.durable.engine.state)[0];
  return report?.assets.find((a) => a.asset === asset)?.credited ?? 0n;
}

describe('watchers beside a running service', () => {
  it('credit a final deposit exactly once, whatever restarts', async () => {
    const amount = 2n * E18;
    await depositToVault(arb.chain, arb.deployed, {
      from: 1,
      token: arb.weth,
      amount,
      account: 'alice',
      subAccount: 0,
    });
    const reports: PollReport[] = [];
    const first = runner(reports);
    await first.round();
    // Not final yet: three confirmations are asked for.
    expect(credited(arb.eth)).toBe(0n);
    await arb.chain.mine(3);
    await first.round();
    expect(reports.at(-1), JSON.stringify(reports.at(-1))).toMatchObject({
      outcome: 'ok',
      delivered: 1,
    });
    expect(credited(arb.eth)).toBe(amount);
    // A second watcher, and a restarted one, read the service's cursor: nothing twice.
    const second = runner(reports);
    await second.round();
    await runner(reports).round();
    expect(credited(arb.eth)).toBe(amount);
    expect(reports.slice(-2).map((r) => r.delivered)).toEqual([0, 0]);
  });

  it("pays a trader's withdrawal signed by the venue's key and confirms it", async () => {
    await depositToVault(arb.chain, arb.deployed, {
      from: 1,
      token: arb.weth,
      amount: 3n * E18,
      account: 'alice',
      subAccount: 0,
    });
    await arb.chain.mine(3);
    const reports: PollReport[] = [];
    const watchers = runner(reports);
    await watchers.round();
    const recipient = arb.chain.accounts[2]?.address as string;
    const reply = await post(service.app, '/v1/commands', KEY.alice, {
      type: 'chain-withdraw',
      time: now(),
      chain: 'arb',
      account: 'alice',
      asset: arb.eth,
      amount: '1',
      recipient,
    });
    expect(reply.statusCode, reply.body).toBe(200);
    const event = reply
      .json()
      .events.find((e: { type: string }) => e.type === 'chain-withdrawal-authorized');
    const signed = await signWithdrawal(event, venueKey, {
      chain: 'arb',
      chainId: 42_161,
      vault: arb.deployed.vault,
      tokens: watcherConfig(arb).tokens,
    });
    await arb.chain.wallet(2).writeContract(withdrawCall(arb.deployed.vault, signed));
    await arb.chain.mine(3);
    await watchers.round();
    const [report] = chainReport(service.durable.engine.state);
    expect(report?.pending).toEqual([]);
    expect(credited(arb.eth)).toBe(2n * E18);
  });
});

/** The local chain over HTTP JSON-RPC, as a real node serves it: what the CLI's watcher reads. */
async function rpcServer(chain: VaultChain['chain']): Promise<{ url: string; close(): void }> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const answer = async (call: { id: unknown; method: string; params?: unknown[] }) => {
        try {
          return {
            jsonrpc: '2.0',
            id: call.id,
            result: await chain.request(call.method, call.params),
          };
        } catch (error) {
          return { jsonrpc: '2.0', id: call.id, error: { code: -32000, message: String(error) } };
        }
      };
      const parsed = JSON.parse(body) as unknown;
      const replies = Array.isArray(parsed)
        ? Promise.all(parsed.map(answer))
        : answer(parsed as { id: unknown; method: string; params?: unknown[] });
      void replies.then((reply) => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(reply));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/** Runs the built `fulcrum` without blocking this process (the service answers it). */
function fulcrum(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), ...args]);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (status) => resolve({ status, stderr }));
  });
}

describe('fulcrum chains watch', () => {
  it('credits a final deposit from the chain node to the service, once', async () => {
    const rpc = await rpcServer(arb.chain);
    const folder = mkdtempSync(join(tmpdir(), 'fulcrum-watch-'));
    try {
      const config = join(folder, 'chains.json');
      const { finality: _f, ...watcher } = watcherConfig(arb);
      writeFileSync(
        config,
        JSON.stringify({ chains: [{ ...watcher, confirmations: 3, rpcUrl: rpc.url }] }),
      );
      const keyFile = join(folder, 'operator.key');
      writeFileSync(keyFile, `${KEY.admin}\n`);
      await depositToVault(arb.chain, arb.deployed, {
        from: 1,
        token: arb.weth,
        amount: 5n * E18,
        account: 'alice',
        subAccount: 0,
      });
      await arb.chain.mine(3);
      const args = ['chains', 'watch', '--config', config, '--url', url, '--key-file', keyFile];
      const first = await fulcrum([...args, '--once']);
      expect(first.status, first.stderr).toBe(0);
      expect(first.stderr).toMatch(/chain arb: ok, .*1 delivered/);
      expect(credited(arb.eth)).toBe(5n * E18);
      const again = await fulcrum([...args, '--once']);
      expect(again.status, again.stderr).toBe(0);
      expect(credited(arb.eth)).toBe(5n * E18);
      // A configuration that cannot be used is refused in one line.
      writeFileSync(config, JSON.stringify({ chains: [{ ...watcher, rpcUrl: 'ftp://x' }] }));
      const refused = await fulcrum([...args, '--once']);
      expect(refused.status).toBe(1);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(/rpcUrl must be an http\(s\) URL/);
    } finally {
      rpc.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
