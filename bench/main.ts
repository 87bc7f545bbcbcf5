/**
 * `npm run bench`: Fulcrum's figures, each beside a baseline measured in the same run, with the
 * machine noted. Each section runs in a fresh Node.js process, so that one section's heap and
 * compiled code do not colour the next. Results also go to bench/results/latest.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { accountBenchmarks } from './accountBench.js';
import { chainBenchmarks } from './chainBench.js';
import { commandBenchmarks } from './commandBench.js';
import { consoleBenchmarks } from './consoleBench.js';
import { formatRate, type Measurement, machine } from './harness.js';
import { healthBenchmarks } from './healthBench.js';
import { journalBenchmarks, recoveryBenchmark, snapshotBenchmarks } from './journalBench.js';
import {
  detectionBenchmark,
  heatMapBenchmark,
  mixedDetectionBenchmark,
  PERP_SHARE,
} from './liquidationBench.js';
import { oracleBenchmarks } from './oracleBench.js';
import { portfolioMarginBenchmarks } from './portfolioMarginBench.js';
import { replicationBenchmarks } from './replicationBench.js';
import { serveBenchmarks } from './serveBench.js';
import { simulationBenchmarks } from './simulationBench.js';
import { solvencyBenchmarks } from './solvencyBench.js';
import { throttleWindowBenchmarks } from './throttleBench.js';
import { tradeRecoveryBenchmarks } from './tradeRecoveryBench.js';

interface Section {
  readonly title: string;
  readonly run: () =>
    | { measurements: Measurement[]; note?: string }
    | Promise<{ measurements: Measurement[]; note?: string }>;
}

/** Open accounts in the detection benchmark (the liquidation issue asks for 1,000,000). */
const DETECTION_ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 1_000_000);

/** Accounts of the largest cascade simulation (the risk-lab issue asks for 100,000). */
const SIMULATION_ACCOUNTS = Number(process.env.BENCH_SIM_ACCOUNTS ?? 100_000);

/** Commands in the recovery benchmark's journal (the durability issue asks for 10,000,000). */
const RECOVERY_COMMANDS = Number(process.env.BENCH_RECOVERY_COMMANDS ?? 10_000_000);

const SECTIONS: Record<string, Section> = {
  health: {
    title: 'Health of 5-position accounts (3 deposits, 2 debts)',
    run: () => ({ measurements: healthBenchmarks() }),
  },
  commands: {
    title: 'In-memory commands, one core',
    run: () => {
      const { measurements, accepted, total } = commandBenchmarks();
      return {
        measurements,
        note: `${accepted} of ${total} mixed commands accepted; the rest refused`,
      };
    },
  },
  account: {
    title:
      'The one margin account: a derivatives venue mix, and cost against the book size, one core',
    run: () => accountBenchmarks(),
  },
  oracle: {
    title: 'Oracle: aggregated price updates, one core',
    run: () => ({ measurements: oracleBenchmarks() }),
  },
  liquidation: {
    title: `Liquidation detection: ${DETECTION_ACCOUNTS.toLocaleString('en')} open accounts, one core`,
    run: () => detectionBenchmark(DETECTION_ACCOUNTS),
  },
  'liquidation-mixed': {
    title: `Liquidation detection, mixed book: ${DETECTION_ACCOUNTS.toLocaleString('en')} accounts, ${PERP_SHARE * 100}% also holding ETH-PERP, one core`,
    run: () => mixedDetectionBenchmark(DETECTION_ACCOUNTS),
  },
  'heat-map': {
    title: `The console's heat map estimate: 21 moves of ETH over ${DETECTION_ACCOUNTS.toLocaleString('en')} mixed accounts, one core`,
    run: () => heatMapBenchmark(DETECTION_ACCOUNTS),
  },
  throttle: {
    title: 'Liquidations in one throttle window (per-account cap on), one core',
    run: () => ({ measurements: throttleWindowBenchmarks([5_000, 40_000]) }),
  },
  simulation: {
    title: `Cascade simulation: LUNA, 9 May 2022, one day of minute bars, one core`,
    run: () => simulationBenchmarks(SIMULATION_ACCOUNTS),
  },
  portfolio: {
    title:
      'Portfolio margin: 20 options and perpetual hedges on ETH and BTC, 35 scenarios each, one core',
    run: () => ({ measurements: portfolioMarginBenchmarks() }),
  },
  journal: {
    title: 'Journal: durable commands and replay, one core',
    run: () => journalBenchmarks(),
  },
  snapshots: {
    title: "Snapshots: built on the engine's thread or by a follower thread, one core each",
    run: () => snapshotBenchmarks([10_000, 110_000]),
  },
  'recovery-trades': {
    title:
      'Recovery of a derivatives venue: 200,000 commands of the account mix on SQLite, one core',
    run: () => tradeRecoveryBenchmarks(),
  },
  serve: {
    title:
      'fulcrum serve over loopback: the built service as a child process, autocannon and ws clients',
    run: () => serveBenchmarks(),
  },
  console: {
    title:
      "The browser console against 1,000,000 accounts: the built service, Debian's Chromium (playwright-core)",
    run: () => consoleBenchmarks(),
  },
  solvency: {
    title:
      'Private solvency proofs, 10 assets: Bulletproofs and the reference backend, one account and a tree on worker threads',
    run: () => solvencyBenchmarks(),
  },
  replication: {
    title:
      'Replicated command log: three NATS JetStream servers (R=3) and three engine replicas on loopback',
    run: () => replicationBenchmarks(),
  },
  chains: {
    title:
      "Collateral on other chains: two local EVM chains in process (Hardhat's EDR), the watcher, the engine",
    run: () => chainBenchmarks(),
  },
  recovery: {
    title: `Recovery of a journal of ${RECOVERY_COMMANDS.toLocaleString('en')} commands, snapshots every 100,000`,
    run: () => recoveryBenchmark(RECOVERY_COMMANDS),
  },
};

/** Prints a section; ratios are against its last line, the baseline. */
function print(title: string, measurements: readonly Measurement[], note?: string): void {
  const baseline = measurements.at(-1)?.perSecond ?? 1;
  console.log(`${title}\n${'-'.repeat(title.length)}`);
  for (const m of measurements) {
    const ratio = m.perSecond / baseline;
    const shown = ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(2);
    console.log(
      `${m.name.padEnd(72)} ${formatRate(m.perSecond).padStart(11)}  ${shown.padStart(6)}x`,
    );
  }
  if (note !== undefined) console.log(`(${note})`);
  console.log('');
}

async function main(): Promise<void> {
  const only = process.argv[2];
  if (only !== undefined && only !== '--only') {
    // A child: run one section and hand its figures to the parent as JSON.
    const section = SECTIONS[only];
    if (section === undefined) throw new Error(`no benchmark section ${only}`);
    process.stdout.write(JSON.stringify(await section.run()));
    return;
  }
  const chosen = only === '--only' ? (process.argv[3] ?? '').split(',') : Object.keys(SECTIONS);
  const flags = process.execArgv.join(' ') || 'none';
  console.log(`Fulcrum benchmarks on ${machine()}; node flags: ${flags}`);
  console.log("Ratios are against each section's last line, measured in the same run.\n");
  const results: Record<string, unknown> = { machine: machine(), flags };
  const self = fileURLToPath(import.meta.url);
  for (const [name, section] of Object.entries(SECTIONS)) {
    if (!chosen.includes(name)) continue;
    const child = spawnSync(process.execPath, [...process.execArgv, self, name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 1024 * 1024,
    });
    if (child.status !== 0) throw new Error(`benchmark section ${name} failed`);
    const { measurements, note } = JSON.parse(child.stdout) as {
      measurements: Measurement[];
      note?: string;
    };
    print(section.title, measurements, note);
    results[name] = measurements;
  }
  const folder = join(process.cwd(), 'bench', 'results');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
}

await main();
