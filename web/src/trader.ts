/**
 * The trader view: each of the key's sub-accounts with its health in every tier, liquidation
 * prices, positions and derivatives; a price-move what-if answered by the engine
 * (`POST /v1/what-if`); alerts and health live from `/v1/stream`; and a look-up of any other
 * sub-account, which the service refuses unless the key holds it.
 */
import { api, describeError, type Session } from './api.js';
import { fill, h, panel, row, table } from './dom.js';
import { formatAmount, formatHealth, formatMoney, formatPrice, healthClass } from './format.js';
import { openStream, type StreamStatus } from './stream.js';
import { solvencyPanel } from './solvency.js';
import { commandWhatIfPanel } from './traderWhatIf.js';

/** The Greeks of `GET …/risk` (floats in the quote unit). */
interface Greeks {
  deltaQuote: number;
  gammaQuotePerPercent: number;
  vegaQuotePerVolPoint: number;
  thetaQuotePerDay: number;
}
interface RiskReply {
  greeks: Greeks;
  positions: (Greeks & { symbol: string })[];
}

interface Report {
  account: string;
  subAccount: number;
  healthFactor: string | null;
  initialHealthFactor: string | null;
  liquidationEndHealthFactor: string | null;
  liquidatable: boolean;
  collateralValue: string;
  liabilityValue: string;
  liquidationPrices: Record<string, string | null>;
  debtLiquidationPrices: Record<string, string | null>;
  positions: Record<string, { amount: string; price: string; value: string }>;
  derivatives?: {
    mode: string;
    unsettled: string;
    positions: {
      instrument: string;
      size: string;
      entryPrice: string | null;
      mark: string;
      unrealized: string;
    }[];
  };
  liquidation?: { allowed: boolean; blockedBy: { asset: string; grade: string }[] };
}

const THRESHOLDS = ['1.25', '1.1', '1'];
const refName = (r: { account: string; subAccount: number }) => `${r.account}/${r.subAccount}`;

export function traderView(
  main: HTMLElement,
  key: string,
  session: Session,
  onStatus: (status: StreamStatus, detail?: string) => void,
): () => void {
  const cards = new Map<string, HTMLElement>();
  const alerts = h('ol', { class: 'feed', id: 'alerts', 'aria-live': 'polite' });
  const accounts = h('div', { class: 'cards' });
  for (const ref of session.subAccounts) {
    const card = h('article', {
      class: 'card',
      'data-account': refName(ref),
      'aria-label': `Sub-account ${refName(ref)}`,
    });
    cards.set(refName(ref), card);
    accounts.append(card);
    void loadCard(card, ref);
  }
  fill(
    main,
    h('h1', { class: 'visually-hidden' }, 'Trader view'),
    panel(
      'mine',
      'My sub-accounts',
      session.subAccounts.length === 0 ? h('p', {}, 'This key holds no account.') : accounts,
    ),
    h(
      'div',
      { class: 'columns' },
      whatIfPanel(session),
      commandWhatIfPanel(session),
      panel(
        'alerts-panel',
        'Alerts',
        h('p', { class: 'muted' }, `When maintenance health crosses ${THRESHOLDS.join(', ')}.`),
        alerts,
      ),
    ),
    lookupPanel(),
    solvencyPanel(session),
  );
  const stream = openStream(
    key,
    { channels: ['accounts'], accounts: session.subAccounts, thresholds: THRESHOLDS },
    (message) => {
      const name = refName(message as unknown as { account: string; subAccount: number });
      if (message.type === 'health') {
        const card = cards.get(name);
        if (card !== undefined)
          void loadCard(card, message as unknown as { account: string; subAccount: number });
      } else if (message.type === 'alert') {
        const text = `${new Date().toLocaleTimeString()} ${name}: health ${formatHealth(String(message.healthFactor))} went ${String(message.direction)} ${String(message.threshold)}`;
        alerts.prepend(h('li', { class: message.direction === 'below' ? 'danger' : 'ok' }, text));
      }
    },
    onStatus,
  );
  return () => stream.close();
}

async function loadCard(
  card: HTMLElement,
  ref: { account: string; subAccount: number },
): Promise<void> {
  try {
    const path = `/v1/accounts/${encodeURIComponent(ref.account)}/sub-accounts/${ref.subAccount}`;
    const report = await api<Report>(path);
    const derivatives = report.derivatives?.positions.length ?? 0;
    const risk = derivatives === 0 ? null : await api<RiskReply>(`${path}/risk`);
    fill(card, ...reportView(report, risk));
  } catch (error) {
    fill(
      card,
      h('h3', {}, refName(ref)),
      h('p', { class: 'error', role: 'alert' }, describeError(error)),
    );
  }
}

/** A health report as a heading, tiers, liquidation prices, positions and derivatives. */
function reportView(r: Report, risk: RiskReply | null): HTMLElement[] {
  const item = (label: string, value: string, attributes: Record<string, string> = {}) =>
    h('div', { class: 'total' }, h('dt', {}, label), h('dd', attributes, value));
  const tier = (label: string, value: string | null, id: string) =>
    item(label, formatHealth(value), { class: healthClass(value), 'data-health': id });
  const blocked = r.liquidation?.blockedBy ?? [];
  return [
    h(
      'h3',
      {},
      refName(r),
      r.liquidatable ? h('span', { class: 'badge danger' }, 'liquidatable') : null,
    ),
    h(
      'dl',
      { class: 'totals' },
      tier('Maintenance health', r.healthFactor, 'maintenance'),
      tier('Initial health', r.initialHealthFactor, 'initial'),
      tier('Liquidation-end health', r.liquidationEndHealthFactor, 'liquidation-end'),
      item('Collateral', formatMoney(r.collateralValue)),
      item('Liabilities', formatMoney(r.liabilityValue)),
    ),
    blocked.length === 0
      ? null
      : h(
          'p',
          { class: 'muted' },
          `Liquidation held by price grades: ${blocked.map((b) => `${b.asset} ${b.grade}`).join(', ')}`,
        ),
    positionsTable(r),
    derivativesTable(r, risk),
  ].filter((e): e is HTMLElement => e !== null);
}

function positionsTable(r: Report): HTMLElement {
  const positions = table(
    `Positions of ${refName(r)}`,
    ['Asset', 'Amount', 'Price', 'Value', 'Liquidation price'],
    [1, 2, 3, 4],
  );
  for (const [asset, p] of Object.entries(r.positions)) {
    if (Number(p.amount) === 0) continue;
    const liquidation = r.liquidationPrices[asset] ?? r.debtLiquidationPrices[asset] ?? null;
    const cells = [
      asset,
      formatAmount(p.amount),
      formatPrice(p.price),
      formatMoney(p.value),
      formatPrice(liquidation),
    ];
    positions.body.append(row(cells, [1, 2, 3, 4], 1));
  }
  return positions.element;
}

const greek = (value: number | undefined) =>
  value === undefined ? '—' : value.toLocaleString('en-US', { maximumFractionDigits: 2 });
const greekCells = (g: Greeks | undefined) => [
  greek(g?.deltaQuote),
  greek(g?.gammaQuotePerPercent),
  greek(g?.vegaQuotePerVolPoint),
  greek(g?.thetaQuotePerDay),
];

/** Derivatives positions with their Greeks beside them (`GET …/risk`), and the Greeks in all. */
function derivativesTable(r: Report, risk: RiskReply | null): HTMLElement | null {
  const derivatives = r.derivatives?.positions ?? [];
  if (derivatives.length === 0) return null;
  const numeric = [1, 2, 3, 4, 5, 6, 7, 8];
  const d = table(
    `Derivatives of ${refName(r)}, with their Greeks in the quote unit`,
    [
      'Instrument',
      'Size',
      'Entry',
      'Mark',
      'Unrealized',
      'Delta',
      'Gamma /1%',
      'Vega /vol pt',
      'Theta /day',
    ],
    numeric,
  );
  for (const p of derivatives) {
    const greeks = risk?.positions.find((x) => x.symbol === p.instrument);
    const cells = [
      p.instrument,
      formatAmount(p.size),
      formatPrice(p.entryPrice),
      formatPrice(p.mark),
      formatMoney(p.unrealized),
      ...greekCells(greeks),
    ];
    d.body.append(row(cells, numeric, 1));
  }
  if (risk !== null)
    d.body.append(row(['In all', '', '', '', '', ...greekCells(risk.greeks)], numeric, 1));
  return d.element;
}

function whatIfPanel(session: Session): HTMLElement {
  const select = h(
    'select',
    { id: 'whatif-account' },
    ...session.subAccounts.map((ref) => h('option', { value: refName(ref) }, refName(ref))),
  );
  const asset = h('select', { id: 'whatif-asset' });
  void api<{ assets: { asset: string }[] }>('/v1/prices').then(
    ({ assets }) => asset.append(...assets.map(({ asset: a }) => h('option', { value: a }, a))),
    () => undefined,
  );
  const slider = h('input', {
    id: 'whatif-move',
    type: 'range',
    min: -60,
    max: 60,
    step: 1,
    value: 0,
  });
  const shown = h('output', { for: 'whatif-move', id: 'whatif-move-value' }, '0%');
  const result = h('div', { id: 'whatif-result', 'aria-live': 'polite' });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ask = () => {
    fill(shown, `${slider.value}%`);
    clearTimeout(timer);
    timer = setTimeout(
      () => void answer(select.value, asset.value, Number(slider.value), result),
      150,
    );
  };
  slider.addEventListener('input', ask);
  asset.addEventListener('change', ask);
  select.addEventListener('change', ask);
  return panel(
    'whatif',
    'What if the price moves?',
    h('div', { class: 'field' }, h('label', { for: 'whatif-account' }, 'Sub-account'), select),
    h('div', { class: 'field' }, h('label', { for: 'whatif-asset' }, 'Asset'), asset),
    h('div', { class: 'field' }, h('label', { for: 'whatif-move' }, 'Price move'), slider, shown),
    result,
  );
}

async function answer(
  name: string,
  asset: string,
  percent: number,
  result: HTMLElement,
): Promise<void> {
  const slash = name.lastIndexOf('/');
  const account = name.slice(0, slash);
  const subAccount = Number(name.slice(slash + 1));
  try {
    const r = await api<{ before: Report; after: Report }>('/v1/what-if', {
      shock: { asset, move: (percent / 100).toFixed(4) },
      account,
      subAccount,
    });
    const line = (label: string, before: string | null, after: string | null) =>
      row(
        [
          label,
          formatHealth(before),
          h('span', { class: healthClass(after) }, formatHealth(after)),
        ],
        [1, 2],
        1,
      );
    const t = table('Health before and after the move', ['Tier', 'Now', 'After the move'], [1, 2]);
    t.body.append(
      line('Maintenance', r.before.healthFactor, r.after.healthFactor),
      line('Initial', r.before.initialHealthFactor, r.after.initialHealthFactor),
      line(
        'Liquidation end',
        r.before.liquidationEndHealthFactor,
        r.after.liquidationEndHealthFactor,
      ),
    );
    fill(
      result,
      h(
        'p',
        { id: 'whatif-verdict' },
        `${asset} ${percent >= 0 ? '+' : ''}${percent}%: ${r.after.liquidatable ? 'liquidatable' : 'not liquidatable'}`,
      ),
      t.element,
    );
  } catch (error) {
    fill(result, h('p', { class: 'error', role: 'alert' }, describeError(error)));
  }
}

function lookupPanel(): HTMLElement {
  const account = h('input', {
    id: 'lookup-account',
    type: 'text',
    autocomplete: 'off',
    required: true,
  });
  const number = h('input', { id: 'lookup-sub', type: 'number', min: 0, max: 255, value: 0 });
  const out = h('div', { id: 'lookup-result' });
  const form = h(
    'form',
    { class: 'lookup', 'aria-label': 'Look up a sub-account' },
    h('div', { class: 'field' }, h('label', { for: 'lookup-account' }, 'Account'), account),
    h('div', { class: 'field' }, h('label', { for: 'lookup-sub' }, 'Sub-account'), number),
    h('button', { type: 'submit' }, 'Look up'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const card = h('article', { class: 'card' });
    fill(out, card);
    void loadCard(card, { account: account.value.trim(), subAccount: Number(number.value) });
  });
  return panel('lookup', 'Look up a sub-account', form, out);
}
