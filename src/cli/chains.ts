/**
 * `fulcrum chains status [--data DIR] [--json]`: the chains whose vaults hold collateral, as
 * the journal leaves them (recovered read-only): each chain's status, cursor and pending
 * withdrawals, and per asset on it what the engine credits, what is pending and its weights.
 * Credited plus pending is what the chain's vault must hold (docs/CHAINS.md).
 */
import { chainReport, type ChainReport, renderChain } from '../engine/chains.js';
import { recover } from '../store/recovery.js';
import { httpEnginePort } from '../chains/httpPort.js';
import { parseWatchFile, WatcherRunner } from '../chains/runner.js';
import type { PollReport } from '../chains/watcher.js';
import { withStore } from './history.js';
import { CliError, EXIT, parseJson, readInput } from './io.js';
import { table } from './table.js';

export function chainsStatus(data: string, json: boolean): Promise<string> {
  return withStore(data, async (store) => {
    const { state } = await recover(store);
    const reports = chainReport(state);
    if (json) return reports.map((r) => JSON.stringify(renderChain(r))).join('\n');
    if (reports.length === 0) return 'no chain is listed (list-chain)';
    return reports.map(describe).join('\n\n');
  });
}

function describe(report: ChainReport): string {
  const json = renderChain(report);
  const cursor =
    report.cursor.logIndex === null
      ? `end of block ${report.cursor.block}`
      : `block ${report.cursor.block} log ${report.cursor.logIndex}`;
  const head = `chain ${report.chain}: ${report.status}, taken up to ${cursor}, ${report.pending.length} withdrawals pending, next nonce ${report.nextNonce}`;
  const assets = table(
    ['asset', 'copies', 'credited', 'pending', 'vault holds', 'initial w.', 'maint. w.'],
    json.assets.map((a) => [
      a.asset,
      a.copies,
      a.credited,
      a.pending,
      a.vaultHolds,
      a.initialWeight,
      a.maintenanceWeight,
    ]),
  );
  return `${head}\n${assets}`;
}

/**
 * `fulcrum chains watch --config FILE --url URL --key-file F [--interval-ms N] [--once]`: a
 * watcher per configured chain beside a running service, until SIGINT or SIGTERM (or one round
 * with `--once`). Each poll that did something, or failed, is one line on standard error.
 */
export async function chainsWatch(options: {
  readonly config: string;
  readonly url: string;
  readonly keyFile: string;
  readonly intervalMs: number;
  readonly once: boolean;
}): Promise<number> {
  const chains = parseWatchFile(parseJson(readInput(options.config), options.config));
  const key = readInput(options.keyFile).trim();
  if (key === '') throw new CliError(`${options.keyFile} holds no key`, EXIT.usage);
  const runner = new WatcherRunner(chains, {
    port: httpEnginePort(options.url, key),
    now: () => Date.now() / 1000,
    report: (chain, report) => {
      if ('error' in report && report.error !== null) {
        process.stderr.write(`chain ${chain}: ${report.error}\n`);
      } else if ('outcome' in report) {
        const moved = report.delivered + report.duplicates + report.expired.length > 0;
        if (moved || report.outcome !== 'ok') process.stderr.write(`${pollLine(chain, report)}\n`);
      }
    },
  });
  if (options.once) {
    await runner.round();
    return EXIT.ok;
  }
  const stop = () => runner.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await runner.run(options.intervalMs);
  return EXIT.ok;
}

function pollLine(chain: string, report: PollReport): string {
  return [
    `chain ${chain}: ${report.outcome}`,
    `head ${report.head ?? '-'} final ${report.finalHead ?? '-'}`,
    `${report.delivered} delivered, ${report.duplicates} seen before`,
    report.expired.length > 0 ? `returned ${report.expired.join(', ')}` : '',
    report.rewoundFrom === null ? '' : `rewound from ${report.rewoundFrom}`,
    report.status === null ? '' : `status ${report.status}`,
  ]
    .filter((part) => part !== '')
    .join(', ');
}
