/**
 * `fulcrum chains status [--data DIR] [--json]`: the chains whose vaults hold collateral, as
 * the journal leaves them (recovered read-only): each chain's status, cursor and pending
 * withdrawals, and per asset on it what the engine credits, what is pending and its weights.
 * Credited plus pending is what the chain's vault must hold (docs/CHAINS.md).
 */
import { chainReport, type ChainReport, renderChain } from '../engine/chains.js';
import { recover } from '../store/recovery.js';
import { withStore } from './history.js';
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
