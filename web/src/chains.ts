/**
 * Collateral held on other chains (`GET /v1/chains`, docs/CHAINS.md): each chain's status
 * (a halted or paused chain backs no new risk), how far its vault's events were taken, its
 * pending withdrawals, and per asset on it what the engine credits, what is pending and what the
 * vault must hold (their sum), with the weights in force.
 */
import { api, describeError } from './api.js';
import { fill, h, panel, row, table } from './dom.js';
import { formatAmount } from './format.js';

interface ChainsReply {
  chains: {
    chain: string;
    status: string;
    cursor: { block: number; logIndex: number | null };
    pending: unknown[];
    assets: {
      asset: string;
      copies: string;
      credited: string;
      pending: string;
      vaultHolds: string;
      initialWeight: string;
      maintenanceWeight: string;
    }[];
  }[];
}

/** The panel, and what loads it. */
export function chainsPanel() {
  const t = table(
    'Collateral by chain',
    [
      'Chain',
      'Status',
      'Taken up to',
      'Asset',
      'Credited',
      'Pending out',
      'Vault holds',
      'Initial w.',
      'Maint. w.',
    ],
    [4, 5, 6, 7, 8],
  );
  const note = h('p', { class: 'muted', id: 'chains-note' });
  const load = async () => {
    try {
      const { chains } = await api<ChainsReply>('/v1/chains');
      fill(note, chains.length === 0 ? 'No chain is listed.' : '');
      fill(
        t.body,
        ...chains.flatMap((c) => {
          const cursor =
            c.cursor.logIndex === null
              ? `block ${c.cursor.block}`
              : `block ${c.cursor.block} log ${c.cursor.logIndex}`;
          const status = h(
            'span',
            { class: `grade ${c.status === 'active' ? 'grade-valid' : 'grade-invalid'}` },
            c.status,
          );
          return c.assets.map((a) =>
            row(
              [
                c.chain,
                status.cloneNode(true) as HTMLElement,
                cursor,
                `${a.asset} (${a.copies})`,
                formatAmount(a.credited),
                formatAmount(a.pending),
                formatAmount(a.vaultHolds),
                a.initialWeight,
                a.maintenanceWeight,
              ],
              [4, 5, 6, 7, 8],
            ),
          );
        }),
      );
    } catch (error) {
      fill(note, describeError(error));
    }
  };
  return { element: panel('chains', 'Collateral on other chains', note, t.element), load };
}
