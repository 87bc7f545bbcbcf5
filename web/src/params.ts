/**
 * Parameters and their history: the listing, instrument, liquidation and venue parameters in
 * force (`GET /v1/parameters`), and the journaled commands that set them, oldest first, paged
 * by the service (`GET /v1/parameters/history`).
 */
import { api, describeError } from './api.js';
import { fill, h, panel, row, table } from './dom.js';
import { formatTime } from './format.js';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

interface ParametersReply {
  sequence: number;
  assets: Obj[];
  instruments: Obj[];
  liquidation: Obj;
  venue: Obj;
}

interface HistoryReply {
  items: {
    seq: number;
    time: number;
    type: string;
    outcome: string;
    by: string | null;
    command: Obj;
  }[];
  next: string | null;
}

const text = (value: Json | undefined): string =>
  value === undefined || value === null
    ? '—'
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value);
const field = (o: Json | undefined, ...path: string[]): Json | undefined =>
  path.reduce<Json | undefined>(
    (at, key) =>
      at !== null && typeof at === 'object' && !Array.isArray(at) ? at[key] : undefined,
    o,
  );

const ASSET_COLUMNS: [string, string[]][] = [
  ['Initial weight', ['assetWeight', 'initial']],
  ['Maint. weight', ['assetWeight', 'maintenance']],
  ['Liab. weight (init.)', ['liabilityWeight', 'initial']],
  ['Penalty', ['liquidationPenalty']],
  ['Insurance share', ['insuranceShare']],
  ['Reserve factor', ['reserveFactor']],
  ['Slope 1', ['interest', 'slope1']],
  ['Slope 2', ['interest', 'slope2']],
  ['Kink', ['interest', 'optimalUtilization']],
  ['Supply cap', ['supplyCap']],
  ['Borrow cap', ['borrowCap']],
  ['Oracle quorum', ['oracle', 'quorum']],
  ['Volatility', ['volatility']],
];

/** Key and value lines of a flat configuration. */
function configList(id: string, config: Obj): HTMLElement {
  return h(
    'dl',
    { class: 'params', id },
    ...Object.entries(config).map(([key, value]) =>
      h('div', { class: 'total' }, h('dt', {}, key), h('dd', {}, text(value))),
    ),
  );
}

async function loadParameters(box: HTMLElement): Promise<void> {
  try {
    const p = await api<ParametersReply>('/v1/parameters');
    const headers = ['Asset', ...ASSET_COLUMNS.map(([label]) => label)];
    const numeric = ASSET_COLUMNS.map((_, i) => i + 1);
    const assets = table('Listing parameters per asset', headers, numeric);
    for (const a of p.assets) {
      const cells = ASSET_COLUMNS.map(([, path]) => text(field(a, ...path)));
      assets.body.append(row([text(a.symbol), ...cells], numeric, 1));
    }
    const instruments = table('Instruments', ['Instrument', 'Listing']);
    for (const i of p.instruments)
      instruments.body.append(row([text(field(i, 'spec', 'symbol') ?? i.symbol), text(i)], [], 1));
    fill(
      box,
      assets.element,
      p.instruments.length === 0 ? null : instruments.element,
      h('h3', {}, 'Liquidation rules'),
      configList('params-liquidation', p.liquidation),
      h('h3', {}, 'Venue rules'),
      configList('params-venue', p.venue),
    );
  } catch (error) {
    fill(box, h('p', { class: 'error', role: 'alert' }, describeError(error)));
  }
}

/** What a parameter command changed, in a line. */
function what(command: Obj): string {
  const { type: _type, time: _time, by: _by, ...rest } = command;
  const config = rest.config;
  const symbol = field(config, 'symbol') ?? rest.asset ?? rest.instrument;
  return symbol === undefined ? text(rest) : `${text(symbol)}: ${text(rest)}`;
}

/** The panel, and what loads it. */
export function parametersPanel() {
  const current = h('div', { id: 'params-current' });
  const history = table(
    'Parameter changes, oldest first',
    ['Journal position', 'Time (UTC)', 'Who', 'Command', 'Outcome', 'What'],
    [0],
  );
  const cursors: (string | null)[] = [null];
  let page = 0;
  const prev = h('button', { type: 'button', id: 'params-prev' }, 'Earlier changes');
  const next = h('button', { type: 'button', id: 'params-next' }, 'Later changes');
  const where = h('span', { id: 'params-page', 'aria-live': 'polite' });
  const loadHistory = async () => {
    try {
      const cursor = cursors[page];
      const query = cursor === null || cursor === undefined ? '' : `&cursor=${cursor}`;
      const reply = await api<HistoryReply>(`/v1/parameters/history?limit=10${query}`);
      cursors[page + 1] = reply.next;
      fill(
        history.body,
        ...reply.items.map((c) =>
          row([c.seq, formatTime(c.time), c.by ?? '—', c.type, c.outcome, what(c.command)], [0]),
        ),
      );
      fill(where, `Page ${page + 1}`);
      prev.disabled = page === 0;
      next.disabled = reply.next === null;
    } catch (error) {
      fill(history.body, row([describeError(error)]));
    }
  };
  prev.addEventListener('click', () => {
    page = Math.max(0, page - 1);
    void loadHistory();
  });
  next.addEventListener('click', () => {
    page += 1;
    void loadHistory();
  });
  const element = panel(
    'params',
    'Parameters and their history',
    current,
    h('h3', {}, 'Who changed what, when'),
    h(
      'p',
      { class: 'muted' },
      'From the journal. Only a risk-admin key may send these commands; the service journals each with the id of the key that sent it (Who). “—”: a change the venue’s own process made, through no key.',
    ),
    history.element,
    h('div', { class: 'pager' }, prev, where, next),
  );
  const load = () => Promise.all([loadParameters(current), loadHistory()]);
  return { element, load };
}
