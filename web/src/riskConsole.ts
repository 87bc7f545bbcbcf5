/**
 * The risk console: venue totals, prices with grades and breakers, pools, the sub-accounts
 * nearest liquidation (paged by the service), the liquidation feed and a stress test, kept
 * live from `/v1/stream` (prices and liquidations).
 */
import { api, describeError } from './api.js';
import { PriceChart, SERIES_COLORS } from './chart.js';
import { fill, h, panel, row, table, throttle } from './dom.js';
import {
  formatAmount,
  formatHealth,
  formatMoney,
  formatPercent,
  formatPrice,
  formatTime,
  healthClass,
} from './format.js';
import { openStream, type Stream, type StreamMessage, type StreamStatus } from './stream.js';
import { chainsPanel } from './chains.js';
import { heatMapPanel } from './heatMap.js';
import { parametersPanel } from './params.js';
import { replayPanel } from './replay.js';
import { stressPanel } from './stress.js';

export interface PricesReply {
  time: number;
  assets: {
    asset: string;
    price: string;
    stablePrice: string;
    confidence: string;
    grade: string;
    allows: { newRisk: boolean; liquidate: boolean };
    oracle: {
      sources: number;
      freshUntil: number;
      breaker: { trippedAt: number | null; frozen: boolean };
    } | null;
  }[];
  instruments: { instrument: string; mark: string; index: string }[];
}

interface VenueReply {
  time: number;
  subAccounts: number;
  liquidatable: number;
  collateralValue: string;
  debtValue: string;
  openInterestValue: string;
  insuranceFundValue: string;
  badDebtValue: string;
  badDebtComplete: boolean;
}

interface PoolsReply {
  pools: {
    asset: string;
    cash: string;
    totalSupply: string;
    totalDebt: string;
    utilization: string;
    borrowRate: string;
    supplyRate: string;
  }[];
}

interface NearReply {
  total: number;
  items: {
    account: string;
    subAccount: number;
    healthFactor: string | null;
    initialHealthFactor: string | null;
    liquidatable: boolean;
    collateralValue: string;
    liabilityValue: string;
  }[];
  next: string | null;
}

/** Builds the console in `main`; returns what stops it. */
export function riskConsole(
  main: HTMLElement,
  key: string,
  onStatus: (status: StreamStatus, detail?: string) => void,
  mayControl = false,
): () => void {
  const totals = h('dl', { class: 'totals', id: 'totals' });
  const prices = pricesPanel();
  const pools = table(
    'Lending pools',
    ['Asset', 'Supplied', 'Borrowed', 'Cash', 'Utilization', 'Borrow APR', 'Supply APR'],
    [1, 2, 3, 4, 5, 6],
  );
  const near = nearPanel();
  const feed = h('ol', {
    class: 'feed',
    id: 'feed',
    'aria-live': 'polite',
    'aria-relevant': 'additions',
  });
  const stress = stressPanel();
  const chains = chainsPanel();
  const heat = heatMapPanel();
  const params = parametersPanel();
  const replay = replayPanel(mayControl);
  fill(
    main,
    h('h1', { class: 'visually-hidden' }, 'Risk console'),
    panel('venue', 'Venue', totals),
    replay.element,
    h('div', { class: 'columns' }, prices.element, panel('pools', 'Pools', pools.element)),
    h('div', { class: 'columns' }, near.element, panel('liquidations', 'Liquidation feed', feed)),
    chains.element,
    stress.element,
    heat.element,
    params.element,
  );
  const refresh = throttle(() => {
    void loadVenue(totals);
    void loadPools(pools.body);
    void prices.load();
    void chains.load();
    near.reload();
  }, 500);
  const refreshHeat = throttle(() => void heat.load(), 2_000);
  refresh();
  refreshHeat();
  void stress.init();
  void params.load();
  const stopReplay = pollReplay(replay);
  let stream: Stream | null = null;
  let stopped = false;
  void recentFrom().then((from) => {
    if (stopped) return;
    stream = openStream(
      key,
      { channels: ['prices', 'liquidations'], from },
      (message) => {
        if (message.type === 'event') onEvent(message, prices, feed, replay.liquidated);
        if (message.type === 'event' || message.type === 'grade' || message.type === 'live') {
          refresh();
          refreshHeat();
        }
      },
      onStatus,
    );
  });
  return () => {
    stopped = true;
    stopReplay();
    stream?.close();
  };
}

/** Polls the demo's replay twice a second while the service has one; returns what stops it. */
function pollReplay(replay: ReturnType<typeof replayPanel>): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const tick = async () => {
    let again = true;
    try {
      again = await replay.poll();
    } catch {
      // A refused read (the service stopping): try again on the next tick.
    }
    if (again && !stopped) timer = setTimeout(() => void tick(), 500);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** Journal records the console replays on opening: the recent prices and liquidations. */
const CATCH_UP_RECORDS = 5_000;

/** Where the stream starts: a bounded way back from the journal's end (`/readyz`). */
async function recentFrom(): Promise<number> {
  try {
    const response = await fetch('/readyz');
    const { seq } = (await response.json()) as { seq?: number };
    return Math.max(0, (seq ?? 0) - CATCH_UP_RECORDS);
  } catch {
    return 0;
  }
}

function onEvent(
  message: StreamMessage,
  prices: ReturnType<typeof pricesPanel>,
  feed: HTMLElement,
  liquidated: () => void,
) {
  const event = message.event;
  if (event === undefined) return;
  if (event.type === 'price-aggregated' || event.type === 'price-set') {
    prices.point(String(event.asset), message.time ?? 0, Number(event.price));
    return;
  }
  const line = feedLine(event, message.time ?? 0);
  if (line === null) return;
  liquidated();
  feed.prepend(h('li', {}, line));
  while (feed.children.length > 50) feed.lastElementChild?.remove();
}

function feedLine(event: Record<string, unknown>, time: number): string | null {
  const target = event.target as { account: string; subAccount: number } | undefined;
  const who = target === undefined ? '' : `${target.account}/${target.subAccount}`;
  const at = formatTime(time);
  switch (event.type) {
    case 'liquidation':
      return `${at} ${who}: repaid ${formatAmount(String(event.repaid))} ${String(event.debtAsset)}, seized ${formatAmount(String(event.seized))} ${String(event.collateralAsset)} (health ${formatHealth(event.healthBeforeWad as string | null)} → ${formatHealth(event.healthAfterWad as string | null)})`;
    case 'position-liquidated':
      return `${at} ${who}: ${String(event.instrument)} position of ${formatAmount(String(event.size))} taken over at ${formatPrice(String(event.price))}`;
    case 'bad-debt':
      return `${at} ${who}: bad debt ${formatAmount(String(event.deficit))} ${String(event.asset)} (insurance ${formatAmount(String(event.insuranceDraw))}, lenders ${formatAmount(String(event.socialized))})`;
    case 'deleveraged':
      return `${at} ${who}: deleveraged`;
    default:
      return null;
  }
}

async function loadVenue(totals: HTMLElement): Promise<void> {
  try {
    const v = await api<VenueReply>('/v1/venue');
    const item = (label: string, value: string, id: string) =>
      h('div', { class: 'total' }, h('dt', {}, label), h('dd', { id }, value));
    fill(
      totals,
      item('Collateral supplied', formatMoney(v.collateralValue), 'total-collateral'),
      item('Debt', formatMoney(v.debtValue), 'total-debt'),
      item('Open interest', formatMoney(v.openInterestValue), 'total-oi'),
      item('Insurance fund', formatMoney(v.insuranceFundValue), 'total-insurance'),
      item(
        'Bad debt outstanding',
        `${formatMoney(v.badDebtValue)}${v.badDebtComplete ? '' : '+'}`,
        'total-bad-debt',
      ),
      item('Liquidatable', `${v.liquidatable} of ${v.subAccounts}`, 'total-liquidatable'),
      item('Venue time', formatTime(v.time), 'total-time'),
    );
  } catch (error) {
    fill(totals, h('p', { class: 'error', role: 'alert' }, describeError(error)));
  }
}

async function loadPools(body: HTMLElement): Promise<void> {
  try {
    const { pools } = await api<PoolsReply>('/v1/pools');
    fill(
      body,
      ...pools.map((p) =>
        row(
          [
            p.asset,
            formatAmount(p.totalSupply, 2),
            formatAmount(p.totalDebt, 2),
            formatAmount(p.cash, 2),
            formatPercent(p.utilization),
            formatPercent(p.borrowRate),
            formatPercent(p.supplyRate),
          ],
          [1, 2, 3, 4, 5, 6],
          1,
        ),
      ),
    );
  } catch (error) {
    fill(body, row([describeError(error)]));
  }
}

function pricesPanel() {
  const prices = table(
    'Prices, grades and breakers',
    ['Asset', 'Price', 'Stable', 'Grade', 'Liquidations', 'Sources', 'Breaker'],
    [1, 2, 5],
  );
  const charts = h('div', { class: 'charts' });
  const byAsset = new Map<string, PriceChart>();
  const chart = (asset: string) => {
    let found = byAsset.get(asset);
    if (found === undefined) {
      const box = h('figure', { class: 'chart' }, h('figcaption', {}, `${asset} price`));
      charts.append(box);
      found = new PriceChart(
        box,
        asset,
        SERIES_COLORS[byAsset.size % SERIES_COLORS.length] as string,
      );
      byAsset.set(asset, found);
    }
    return found;
  };
  const load = async () => {
    try {
      const reply = await api<PricesReply>('/v1/prices');
      fill(prices.body, ...reply.assets.map(priceRow));
    } catch (error) {
      fill(prices.body, row([describeError(error)]));
    }
  };
  const point = (asset: string, time: number, price: number) => {
    if (asset !== 'USDC' && !asset.endsWith('-PERP')) chart(asset).add(time, price);
  };
  const element = panel('prices', 'Prices', prices.element, charts);
  return { element, load, point };
}

function priceRow(a: PricesReply['assets'][number]): HTMLTableRowElement {
  const breaker =
    a.oracle === null
      ? 'no oracle'
      : a.oracle.breaker.frozen
        ? `frozen since ${formatTime(a.oracle.breaker.trippedAt ?? 0)}`
        : a.oracle.breaker.trippedAt === null
          ? 'closed'
          : `tripped ${formatTime(a.oracle.breaker.trippedAt)}`;
  const tr = row(
    [
      a.asset,
      h('span', { 'data-price': a.asset }, formatPrice(a.price)),
      formatPrice(a.stablePrice),
      h('span', { class: `grade grade-${a.grade}` }, a.grade),
      a.allows.liquidate ? 'allowed' : 'held',
      a.oracle === null ? '—' : a.oracle.sources,
      breaker,
    ],
    [1, 2, 5],
    1,
  );
  return tr;
}

function nearPanel() {
  const list = table(
    'Sub-accounts nearest liquidation',
    ['Sub-account', 'Health', 'Initial health', 'Collateral', 'Debt', 'State'],
    [1, 2, 3, 4],
  );
  const cursors: (string | null)[] = [null];
  let page = 0;
  const prev = h('button', { type: 'button', id: 'near-prev' }, 'Previous page');
  const next = h('button', { type: 'button', id: 'near-next' }, 'Next page');
  const where = h('span', { id: 'near-page', 'aria-live': 'polite' });
  const reload = async () => {
    try {
      const cursor = cursors[page];
      const query =
        cursor === null || cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const reply = await api<NearReply>(`/v1/near-liquidation?limit=10${query}`);
      cursors[page + 1] = reply.next;
      fill(
        list.body,
        ...reply.items.map((item) =>
          row(
            [
              `${item.account}/${item.subAccount}`,
              h('span', { class: healthClass(item.healthFactor) }, formatHealth(item.healthFactor)),
              formatHealth(item.initialHealthFactor),
              formatMoney(item.collateralValue),
              formatMoney(item.liabilityValue),
              item.liquidatable ? 'liquidatable' : 'healthy',
            ],
            [1, 2, 3, 4],
            1,
          ),
        ),
      );
      fill(
        where,
        `Page ${page + 1} of ${Math.max(1, Math.ceil(reply.total / 10))} (${reply.total} with debt)`,
      );
      prev.disabled = page === 0;
      next.disabled = reply.next === null;
    } catch (error) {
      fill(list.body, row([describeError(error)]));
    }
  };
  prev.addEventListener('click', () => {
    page = Math.max(0, page - 1);
    void reload();
  });
  next.addEventListener('click', () => {
    page += 1;
    void reload();
  });
  const pager = h('div', { class: 'pager' }, prev, where, next);
  return {
    element: panel('near', 'Nearest liquidation', list.element, pager),
    reload: () => void reload(),
  };
}
