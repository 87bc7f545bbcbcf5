/**
 * Cross-chain collateral (docs/CHAINS.md), on local EVM chains (EDR, in process):
 * - deposit-to-credit latency: a chain producing a block every BLOCK_MS, a watcher polling every
 *   POLL_MS; from the deposit's block to the engine's credit, for several confirmation counts.
 *   The floor is `confirmations × BLOCK_MS` (the chain's own time); the rest is the watcher's.
 * - watcher throughput: a backlog of deposits (DEPOSITS_PER_BLOCK a block) taken by a fresh
 *   watcher into the in-memory engine and into the durable one (SQLite), pipelined (each poll's
 *   commands durable together at its end) and one write per event: events a second.
 * Sizes: BENCH_CHAIN_DEPOSITS (default 2,000), BENCH_CHAIN_SAMPLES (latency samples, default 7).
 *
 * Run alone: `npx tsc -p tsconfig.bench.json; node dist-bench/bench/chainBench.js`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Address, Hex, PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { fulcrumVaultAbi, testTokenAbi } from '../src/chains/artifacts.js';
import { deployVault, send, type DeployedVault } from '../src/chains/deploy.js';
import { durableEnginePort, memoryEnginePort } from '../src/chains/enginePort.js';
import { startLocalChain, testPrivateKey, type LocalChain } from '../src/chains/localChain.js';
import type { EnginePort } from '../src/chains/port.js';
import { ChainWatcher } from '../src/chains/watcher.js';
import { Engine } from '../src/engine/engine.js';
import { DurableEngine, SqliteStore } from '../src/store/index.js';
import { formatRate, machine, median, rateMeasurement, type Measurement } from './harness.js';

const BLOCK_MS = 50;
const POLL_MS = 10;
const DEPOSITS_PER_BLOCK = 100;
const DEPOSITORS = 4;
const E6 = 10n ** 6n;

const MODES = ['memory', 'durable-pipelined', 'durable-each'] as const;
type Mode = (typeof MODES)[number];
const MODE_NAMES: Record<Mode, string> = {
  memory: 'in-memory engine',
  'durable-pipelined': 'durable engine (SQLite), pipelined',
  'durable-each': 'durable engine (SQLite), one write per event',
};

interface Venue {
  readonly chain: LocalChain;
  readonly deployed: DeployedVault;
  readonly usdc: Address;
}

async function venueChain(chainId: number): Promise<Venue> {
  const chain = await startLocalChain({ name: 'arb', chainId, accounts: DEPOSITORS + 1 });
  const signer = privateKeyToAccount(testPrivateKey(31)).address;
  const deployed = await deployVault(chain, {
    signer,
    tokens: [{ symbol: 'USDC', decimals: 6, cap: 10n ** 30n }],
  });
  const usdc = deployed.tokens[0]?.address as Address;
  for (let from = 1; from <= DEPOSITORS; from++) {
    const wallet = chain.wallet(from);
    const args = [wallet.account.address, 10n ** 24n] as const;
    await send(chain, wallet, { address: usdc, abi: testTokenAbi, functionName: 'mint', args });
    const approve = [deployed.vault, 2n ** 256n - 1n] as const;
    await send(chain, wallet, {
      address: usdc,
      abi: testTokenAbi,
      functionName: 'approve',
      args: approve,
    });
  }
  return { chain, deployed, usdc };
}

function listings(time: number): Record<string, unknown>[] {
  const usdc = { symbol: 'USDC', decimals: 6, initialWeight: '0.85', maintenanceWeight: '0.875' };
  const located = {
    ...usdc,
    symbol: 'USDC.arb',
    initialWeight: '0.8',
    maintenanceWeight: '0.85',
    borrowable: false,
    location: { chain: 'arb', asset: 'USDC' },
  };
  return [
    { type: 'list-asset', time, config: usdc, price: '1' },
    { type: 'list-chain', time, chain: 'arb', withdrawalTtl: 3_600 },
    { type: 'list-asset', time, config: located, price: '1' },
  ];
}

function memoryEngine(): { engine: Engine; port: EnginePort } {
  const engine = new Engine();
  for (const command of listings(now())) {
    const result = engine.applyJson(command);
    if (!result.ok) throw new Error(`bench setup refused: ${result.error.message}`);
  }
  return { engine, port: memoryEnginePort(engine) };
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function watcher(venue: Venue, port: EnginePort, confirmations: number): ChainWatcher {
  const config = {
    chain: 'arb',
    vault: venue.deployed.vault,
    tokens: [{ address: venue.usdc, asset: 'USDC.arb', decimals: 6 }],
    finality: { kind: 'confirmations', confirmations } as const,
    startBlock: venue.deployed.startBlock,
    haltAfterSeconds: 3_600,
    blocksPerPoll: 10_000,
  };
  return new ChainWatcher(config, {
    client: venue.chain.client as unknown as PublicClient,
    engine: port,
    now,
  });
}

/** `count` deposits of 1 USDC, `DEPOSITS_PER_BLOCK` a block, sent from the depositors in turn. */
async function depositBacklog(venue: Venue, count: number): Promise<void> {
  const { chain } = venue;
  const nonces: number[] = [];
  for (let from = 1; from <= DEPOSITORS; from++) {
    const address = chain.wallet(from).account.address;
    nonces[from] = await chain.client.getTransactionCount({ address });
  }
  await chain.setAutomine(false);
  for (let sent = 0; sent < count;) {
    const hashes: Promise<Hex>[] = [];
    for (let i = 0; i < DEPOSITS_PER_BLOCK && sent < count; i++, sent++) {
      const from = 1 + (sent % DEPOSITORS);
      const nonce = nonces[from] as number;
      nonces[from] = nonce + 1;
      hashes.push(sendDeposit(venue, from, nonce, `user${sent % 1_000}`));
    }
    await Promise.all(hashes);
    await chain.mine(1);
  }
  await chain.setAutomine(true);
}

function sendDeposit(venue: Venue, from: number, nonce: number, account: string): Promise<Hex> {
  return venue.chain.wallet(from).writeContract({
    address: venue.deployed.vault,
    abi: fulcrumVaultAbi,
    functionName: 'deposit',
    args: [venue.usdc, E6, account, 0],
    nonce,
    gas: 200_000n,
    maxFeePerGas: 10_000_000_000n,
    maxPriorityFeePerGas: 1_000_000_000n,
  });
}

/** Events a second for a fresh watcher taking a backlog of `count` deposits. */
async function throughput(
  count: number,
  mode: Mode,
): Promise<{ measurement: Measurement; polls: number; readPerSecond: number }> {
  const venue = await venueChain(42_161 + MODES.indexOf(mode));
  await depositBacklog(venue, count);
  await venue.chain.mine(1);
  const folder = mkdtempSync(join(tmpdir(), 'fulcrum-chain-bench-'));
  let close = async (): Promise<void> => undefined;
  let port: EnginePort;
  if (mode !== 'memory') {
    const engine = await DurableEngine.open(new SqliteStore(folder));
    for (const command of listings(now())) await engine.submitJson(command);
    port = durableEnginePort(engine, { pipelined: mode === 'durable-pipelined' });
    close = () => engine.close();
  } else {
    port = memoryEngine().port;
  }
  try {
    const taker = watcher(venue, port, 1);
    // Reading and decoding the vault's logs alone, for the share of the chain's side.
    const head = await venue.chain.blockNumber();
    const readStart = performance.now();
    const logs = (await taker.readEvents(venue.deployed.startBlock, head)).length;
    const readSeconds = (performance.now() - readStart) / 1000;
    const start = performance.now();
    let polls = 0;
    while (taker.stats.delivered < count && polls < 1_000) {
      await taker.poll();
      polls += 1;
    }
    const seconds = (performance.now() - start) / 1000;
    if (taker.stats.delivered !== count)
      throw new Error(`delivered ${taker.stats.delivered} of ${count}`);
    const name = `watcher throughput, ${count} deposits, ${MODE_NAMES[mode]}`;
    return {
      measurement: rateMeasurement(name, [count / seconds]),
      polls,
      readPerSecond: logs / readSeconds,
    };
  } finally {
    await close();
    rmSync(folder, { recursive: true, force: true });
  }
}

/** One deposit's latency: from its block, and from the block that made it final, to its credit. */
interface Latency {
  readonly total: number;
  readonly watcher: number;
}

/**
 * Deposits one at a time on a chain mining a block every BLOCK_MS while a watcher polls every
 * POLL_MS: milliseconds from the deposit's block to its credit (`total`), and from the block
 * that made it final (its `confirmations`-th successor) to its credit (`watcher`).
 */
async function latency(confirmations: number, samples: number): Promise<Latency[]> {
  const venue = await venueChain(43_000 + confirmations);
  const { engine, port } = memoryEngine();
  const taker = watcher(venue, port, confirmations);
  const minedAt = new Map<number, number>();
  const mine = async (): Promise<void> => {
    await venue.chain.mine(1);
    minedAt.set(await venue.chain.blockNumber(), performance.now());
  };
  taker.start(POLL_MS);
  const producer = setInterval(() => void mine(), BLOCK_MS);
  const results: Latency[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const before = taker.stats.delivered;
      const address = venue.chain.wallet(1).account.address;
      const nonce = await venue.chain.client.getTransactionCount({ address, blockTag: 'pending' });
      const hash = await sendDeposit(venue, 1, nonce, `latency${i}`);
      const sentAt = performance.now();
      const receipt = await venue.chain.client.getTransactionReceipt({ hash });
      while (taker.stats.delivered === before)
        await new Promise((resolve) => setTimeout(resolve, 1));
      const creditedAt = performance.now();
      const finalAt = minedAt.get(Number(receipt.blockNumber) + confirmations) ?? creditedAt;
      results.push({ total: creditedAt - sentAt, watcher: creditedAt - finalAt });
    }
  } finally {
    clearInterval(producer);
    await taker.stop();
  }
  if (engine.state.sequence === 0) throw new Error('nothing credited');
  return results;
}

/**
 * The chain section's figures.
 *
 * @example
 * const { measurements, note } = await chainBenchmarks();
 */
export async function chainBenchmarks(): Promise<{ measurements: Measurement[]; note: string }> {
  const deposits = Number(process.env.BENCH_CHAIN_DEPOSITS ?? 2_000);
  const samples = Number(process.env.BENCH_CHAIN_SAMPLES ?? 7);
  const measurements: Measurement[] = [];
  const notes: string[] = [];
  for (const confirmations of [1, 3, 12]) {
    const runs = await latency(confirmations, samples);
    const ms = median(runs.map((run) => run.total));
    const own = median(runs.map((run) => run.watcher));
    measurements.push({
      name: `deposit to credit, ${confirmations} confirmations, a block every ${BLOCK_MS} ms (median of ${samples})`,
      perSecond: 1000 / ms,
      nsPerOp: ms * 1e6,
      rounds: samples,
    });
    notes.push(
      `${confirmations} conf: ${ms.toFixed(1)} ms, ${own.toFixed(1)} ms of it after the final block`,
    );
  }
  for (const mode of MODES) {
    const { measurement, polls, readPerSecond } = await throughput(deposits, mode);
    measurements.push(measurement);
    const read = `reading the logs alone ${formatRate(readPerSecond)}`;
    notes.push(
      `${measurement.name}: ${formatRate(measurement.perSecond)} in ${polls} polls (${read})`,
    );
  }
  return { measurements, note: notes.join('; ') };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { measurements, note } = await chainBenchmarks();
  console.log(machine());
  for (const m of measurements)
    console.log(`${m.name}: ${formatRate(m.perSecond)} (${(m.nsPerOp / 1e6).toFixed(2)} ms)`);
  console.log(note);
}
