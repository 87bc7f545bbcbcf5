/**
 * The trader's command what-ifs, answered by the engine's dry run (`POST /v1/what-if`): borrow
 * more of an asset, or close a position. A lending position's close is a command: a debt closed
 * is `repay` of all of it (funds brought in), a deposit closed is `withdraw` of all of it;
 * either is refused as the engine would refuse it. A derivatives position closes by a fill,
 * which is the venue's matching engine's: the what-if (`close`) closes it at the mark without a
 * fee and settles its profit or loss as a fill would.
 */
import { api, describeError, type Session } from './api.js';
import { fill, h, panel, row, table } from './dom.js';
import { formatAmount, formatHealth, healthClass } from './format.js';

interface Figures {
  healthFactor: string | null;
  initialHealthFactor: string | null;
  liquidationEndHealthFactor: string | null;
}
interface CommandWhatIf {
  result: { ok: boolean; error?: { code: string; message: string } };
  health: (Figures & { account: string; subAccount: number })[];
}
interface Report extends Figures {
  positions: Record<string, { amount: string }>;
  derivatives?: { positions: { instrument: string; size: string }[] };
}
interface CloseWhatIf {
  close: { instrument: string; size: string; mark: string };
  before: Figures;
  after: Figures;
}
/** Option values of derivatives positions in the "close" list: `instrument:ETH-PERP`. */
const INSTRUMENT = 'instrument:';

const refName = (r: { account: string; subAccount: number }) => `${r.account}/${r.subAccount}`;
const refOf = (name: string) => {
  const slash = name.lastIndexOf('/');
  return { account: name.slice(0, slash), subAccount: Number(name.slice(slash + 1)) };
};
const field = (id: string, label: string, input: HTMLElement) =>
  h('div', { class: 'field' }, h('label', { for: id }, label), input);

function forms() {
  const asset = h('select', { id: 'borrow-asset' });
  const amount = h('input', { id: 'borrow-amount', type: 'number', min: 0, step: 'any', value: 1 });
  const position = h('select', { id: 'close-position' });
  const borrow = h(
    'form',
    { class: 'lookup', 'aria-label': 'Borrow more' },
    field('borrow-asset', 'Borrow', asset),
    field('borrow-amount', 'Amount', amount),
    h('button', { type: 'submit', id: 'borrow-run' }, 'What if I borrow?'),
  );
  const close = h(
    'form',
    { class: 'lookup', 'aria-label': 'Close a position' },
    field('close-position', 'Position', position),
    h('button', { type: 'submit', id: 'close-run' }, 'What if I close it?'),
  );
  return { asset, amount, position, borrow, close };
}

/** The panel: a sub-account, then "borrow" (asset, amount) or "close" (a position). */
export function commandWhatIfPanel(session: Session): HTMLElement {
  const account = h(
    'select',
    { id: 'cmd-account' },
    ...session.subAccounts.map((ref) => h('option', { value: refName(ref) }, refName(ref))),
  );
  const { asset, amount, position, borrow, close } = forms();
  const result = h('div', { id: 'cmd-result', 'aria-live': 'polite' });
  let report: Report | null = null;
  const fetchReport = async () => {
    const ref = refOf(account.value);
    report = await api<Report>(
      `/v1/accounts/${encodeURIComponent(ref.account)}/sub-accounts/${ref.subAccount}`,
    );
    return report;
  };
  const loadPositions = async () => {
    report = await fetchReport();
    const held = Object.entries(report.positions).filter(([, p]) => Number(p.amount) !== 0);
    fill(position, ...positionOptions(held, report.derivatives?.positions ?? []));
  };
  void api<{ assets: { asset: string }[] }>('/v1/prices').then(
    ({ assets }) => asset.append(...assets.map(({ asset: a }) => h('option', { value: a }, a))),
    () => undefined,
  );
  void loadPositions().catch(() => undefined);
  account.addEventListener('change', () => void loadPositions().catch(() => undefined));
  borrow.addEventListener('submit', (event) => {
    event.preventDefault();
    const command = {
      type: 'borrow',
      ...refOf(account.value),
      asset: asset.value,
      amount: amount.value,
    };
    const label = `Borrow ${amount.value} ${asset.value}`;
    void fetchReport().then((now) => answer(command, label, now, result));
  });
  close.addEventListener('submit', (event) => {
    event.preventDefault();
    if (position.value.startsWith(INSTRUMENT)) {
      const instrument = position.value.slice(INSTRUMENT.length);
      void closeAnswer(refOf(account.value), instrument, result);
      return;
    }
    const held = Number(report?.positions[position.value]?.amount ?? 0);
    const type = held < 0 ? 'repay' : 'withdraw';
    const command = { type, ...refOf(account.value), asset: position.value, amount: 'all' };
    const label = `Close ${position.value} (${type} all)`;
    void fetchReport().then((now) => answer(command, label, now, result));
  });
  return panel(
    'cmd-whatif',
    'What if I borrow more, or close a position?',
    field('cmd-account', 'Sub-account', account),
    borrow,
    close,
    h(
      'p',
      { class: 'muted' },
      'Answered by the engine’s dry run; nothing changes. Closing a debt is repaying all of it; closing a deposit is withdrawing all of it; closing a derivatives position is a fill at its mark, without a fee (the venue’s matching engine fills the real one).',
    ),
    result,
  );
}

async function answer(
  command: Record<string, unknown>,
  label: string,
  before: Report | null,
  result: HTMLElement,
): Promise<void> {
  try {
    const { time } = await api<{ time: number }>('/v1/prices');
    const r = await api<CommandWhatIf>('/v1/what-if', { command: { ...command, time } });
    if (!r.result.ok) {
      const e = r.result.error;
      fill(
        result,
        h(
          'p',
          { id: 'cmd-verdict', class: 'error' },
          `${label}: the engine would refuse it (${e?.code ?? 'refused'}): ${e?.message ?? ''}`,
        ),
      );
      return;
    }
    const after = r.health.find(
      (x) => refName(x) === refName(command as { account: string; subAccount: number }),
    );
    showHealth(label, before, after, result);
  } catch (error) {
    fill(result, h('p', { class: 'error', role: 'alert' }, describeError(error)));
  }
}

/** The "close" list: each balance held or owed, then each derivatives position. */
function positionOptions(
  held: [string, { amount: string }][],
  derivatives: { instrument: string; size: string }[],
): HTMLElement[] {
  return [
    ...held.map(([a, p]) =>
      h(
        'option',
        { value: a },
        `${a} ${Number(p.amount) < 0 ? 'debt' : 'deposit'} ${formatAmount(p.amount.replace('-', ''))}`,
      ),
    ),
    ...derivatives.map((d) =>
      h(
        'option',
        { value: `${INSTRUMENT}${d.instrument}` },
        `${d.instrument} ${d.size.startsWith('-') ? 'short' : 'long'} ${formatAmount(d.size.replace('-', ''))}`,
      ),
    ),
  ];
}

async function closeAnswer(
  ref: { account: string; subAccount: number },
  instrument: string,
  result: HTMLElement,
): Promise<void> {
  try {
    const r = await api<CloseWhatIf>('/v1/what-if', { close: { instrument }, ...ref });
    const label = `Close ${r.close.size} ${instrument} at the mark ${r.close.mark}`;
    showHealth(label, r.before, r.after, result);
  } catch (error) {
    fill(result, h('p', { class: 'error', role: 'alert' }, describeError(error)));
  }
}

/** Each tier's health now and after, with the verdict. */
function showHealth(
  label: string,
  before: Figures | null | undefined,
  after: Figures | null | undefined,
  result: HTMLElement,
): void {
  const line = (tier: string, a: string | null | undefined, b: string | null | undefined) =>
    row([tier, formatHealth(a), h('span', { class: healthClass(b) }, formatHealth(b))], [1, 2], 1);
  const t = table(`Health before and after: ${label}`, ['Tier', 'Now', 'After'], [1, 2]);
  t.body.append(
    line('Maintenance', before?.healthFactor, after?.healthFactor),
    line('Initial', before?.initialHealthFactor, after?.initialHealthFactor),
    line('Liquidation end', before?.liquidationEndHealthFactor, after?.liquidationEndHealthFactor),
  );
  fill(result, h('p', { id: 'cmd-verdict' }, `${label}: the engine would accept it.`), t.element);
}
