/**
 * The stress panel: a move for each asset, run by the service against every sub-account
 * (`POST /v1/stress`): who falls below maintenance, the debt they owe and the bad debt left.
 */
import { api, describeError } from './api.js';
import { fill, h, panel, row, table } from './dom.js';
import { formatHealth, formatMoney, healthClass } from './format.js';
import type { PricesReply } from './riskConsole.js';

interface StressReply {
  subAccounts: number;
  liquidatableBefore: number;
  liquidatableAfter: number;
  liquidatableDebtValue: string;
  badDebtBeforeValue: string;
  badDebtAfterValue: string;
  newlyLiquidatableCount: number;
  newlyLiquidatable: {
    account: string;
    subAccount: number;
    healthBefore: string | null;
    healthAfter: string | null;
    liabilityValue: string;
    shortfallValue: string;
  }[];
}

/** Default moves: the crypto assets down 20%, stable ones unmoved. */
const DEFAULT_MOVE = -20;

export function stressPanel() {
  const inputs = h('div', { class: 'moves' });
  const run = h('button', { type: 'submit', id: 'stress-run' }, 'Run stress test');
  const summary = h('dl', { class: 'totals', id: 'stress-summary', 'aria-live': 'polite' });
  const fallen = table(
    'Sub-accounts the moves make liquidatable',
    ['Sub-account', 'Health before', 'Health after', 'Debt', 'Shortfall'],
    [1, 2, 3, 4],
  );
  const form = h('form', { class: 'stress', 'aria-label': 'Price moves' }, inputs, run);
  const fields = new Map<string, HTMLInputElement>();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit(fields, summary, fallen.body, run);
  });
  const init = async () => {
    try {
      const { assets } = await api<PricesReply>('/v1/prices');
      for (const { asset } of assets) {
        const id = `move-${asset}`;
        const input = h('input', {
          id,
          type: 'number',
          min: -99,
          max: 500,
          step: 1,
          value: asset === 'USDC' ? 0 : DEFAULT_MOVE,
          inputmode: 'numeric',
        });
        fields.set(asset, input);
        inputs.append(
          h('div', { class: 'field' }, h('label', { for: id }, `${asset} move (%)`), input),
        );
      }
    } catch (error) {
      fill(inputs, h('p', { class: 'error', role: 'alert' }, describeError(error)));
    }
  };
  const element = panel(
    'stress',
    'Stress test',
    h(
      'p',
      { class: 'muted' },
      'Moves every listed price at once (oracle, stable and the marks on it) in a draft the engine never commits, then reads every sub-account.',
    ),
    form,
    summary,
    fallen.element,
  );
  return { element, init };
}

async function submit(
  fields: ReadonlyMap<string, HTMLInputElement>,
  summary: HTMLElement,
  body: HTMLElement,
  run: HTMLButtonElement,
): Promise<void> {
  const moves = [...fields]
    .map(([asset, input]) => ({ asset, move: Number(input.value) / 100 }))
    .filter((m) => Number.isFinite(m.move) && m.move !== 0)
    .map((m) => ({ asset: m.asset, move: m.move.toFixed(4) }));
  if (moves.length === 0) {
    fill(summary, h('p', { role: 'alert' }, 'Give at least one move.'));
    return;
  }
  run.disabled = true;
  fill(summary, h('p', {}, 'Running…'));
  try {
    const r = await api<StressReply>('/v1/stress', { moves });
    const item = (label: string, value: string, id: string) =>
      h('div', { class: 'total' }, h('dt', {}, label), h('dd', { id }, value));
    fill(
      summary,
      item(
        'Liquidatable',
        `${r.liquidatableBefore} → ${r.liquidatableAfter} of ${r.subAccounts}`,
        'stress-liquidatable',
      ),
      item('Newly liquidatable', String(r.newlyLiquidatableCount), 'stress-newly'),
      item('Debt of liquidatable accounts', formatMoney(r.liquidatableDebtValue), 'stress-debt'),
      item(
        'Bad debt',
        `${formatMoney(r.badDebtBeforeValue)} → ${formatMoney(r.badDebtAfterValue)}`,
        'stress-bad-debt',
      ),
    );
    fill(
      body,
      ...r.newlyLiquidatable.map((a) =>
        row(
          [
            `${a.account}/${a.subAccount}`,
            formatHealth(a.healthBefore),
            h('span', { class: healthClass(a.healthAfter) }, formatHealth(a.healthAfter)),
            formatMoney(a.liabilityValue),
            formatMoney(a.shortfallValue),
          ],
          [1, 2, 3, 4],
          1,
        ),
      ),
    );
  } catch (error) {
    fill(summary, h('p', { class: 'error', role: 'alert' }, describeError(error)));
  } finally {
    run.disabled = false;
  }
}
