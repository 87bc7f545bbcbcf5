/**
 * The heat map: for each asset and price move, how many sub-accounts the move alone would leave
 * below maintenance and the debt they owe (`GET /v1/heat-map`, the engine's dry run on the
 * service, or past its `whatIfScanMax` the liquidation monitor's estimate, cached there per
 * journal position). Drawn on a canvas in the shared chart style;
 * the same figures are a table for screen readers.
 */
import { CHART_STYLE, HEAT_DARK_STEPS, HEAT_RAMP } from '../../src/sim/chartStyle.js';
import { api, describeError } from './api.js';
import { fill, h, panel, row, table } from './dom.js';
import { formatMoney } from './format.js';

export interface HeatReply {
  time: number;
  sequence: number;
  subAccounts: number;
  /** True past the service's `whatIfScanMax`: the liquidation monitor's float estimate. */
  estimate?: boolean;
  moves: number[];
  assets: { asset: string; cells: { move: number; liquidatable: number; debtValue: string }[] }[];
}

const CELL_H = 34;
const LABEL_W = 64;
const HEAD_H = 24;

/** The ramp step of a count: 0 for none, then by its share of the largest count. */
function step(count: number, max: number): number {
  if (count === 0 || max === 0) return 0;
  const last = HEAT_RAMP.length - 1;
  return Math.max(1, Math.ceil((count / max) * last));
}

function draw(canvas: HTMLCanvasElement, reply: HeatReply): void {
  const width = Math.max(360, canvas.parentElement?.clientWidth ?? 600);
  const cellW = (width - LABEL_W) / Math.max(1, reply.moves.length);
  const height = HEAD_H + CELL_H * reply.assets.length;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const g = canvas.getContext('2d');
  if (g === null) return;
  g.scale(ratio, ratio);
  g.font = `${CHART_STYLE.fontSize}px ${CHART_STYLE.fontFamily}`;
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.fillStyle = CHART_STYLE.muted;
  reply.moves.forEach((move, j) =>
    g.fillText(`${move > 0 ? '+' : ''}${move}%`, LABEL_W + cellW * (j + 0.5), HEAD_H / 2),
  );
  const max = Math.max(0, ...reply.assets.flatMap((a) => a.cells.map((c) => c.liquidatable)));
  const dark = HEAT_RAMP.length - HEAT_DARK_STEPS;
  reply.assets.forEach((a, i) => {
    const y = HEAD_H + CELL_H * i;
    g.textAlign = 'left';
    g.fillStyle = CHART_STYLE.ink;
    g.fillText(a.asset, 4, y + CELL_H / 2);
    g.textAlign = 'center';
    a.cells.forEach((c, j) => {
      const s = step(c.liquidatable, max);
      g.fillStyle = HEAT_RAMP[s] as string;
      g.fillRect(LABEL_W + cellW * j, y, cellW - 1, CELL_H - 1);
      g.strokeStyle = CHART_STYLE.grid;
      g.strokeRect(LABEL_W + cellW * j + 0.5, y + 0.5, cellW - 1, CELL_H - 1);
      g.fillStyle = s >= dark ? '#ffffff' : CHART_STYLE.ink;
      g.fillText(String(c.liquidatable), LABEL_W + cellW * (j + 0.5), y + CELL_H / 2);
    });
  });
}

/** The panel and what loads it (again when the journal has moved). */
export function heatMapPanel() {
  const canvas = h('canvas', { id: 'heat-canvas', 'aria-hidden': 'true' });
  const note = h('p', { class: 'muted', id: 'heat-note' });
  const values = h('div', { class: 'visually-hidden', id: 'heat-values' });
  let last = -1;
  let reply: HeatReply | null = null;
  const load = async () => {
    try {
      const next = await api<HeatReply>('/v1/heat-map');
      if (next.sequence === last) return;
      last = next.sequence;
      reply = next;
      draw(canvas, next);
      fillTable(values, next);
      fill(
        note,
        `Of ${next.subAccounts} sub-accounts: how many each move alone (every other price held) leaves below maintenance; the same figures with each cell's debt are a table for screen readers. ${next.estimate === true ? "Estimated from the liquidation monitor's float sums (too many sub-accounts to evaluate each exactly). " : ''}Journal position ${next.sequence}.`,
      );
    } catch (error) {
      fill(note, h('span', { class: 'error', role: 'alert' }, describeError(error)));
    }
  };
  new ResizeObserver(() => reply !== null && draw(canvas, reply)).observe(document.body);
  const element = panel(
    'heat',
    'Heat map: accounts below maintenance by price move',
    h('div', { class: 'heat' }, canvas),
    note,
    values,
  );
  return { element, load };
}

function fillTable(box: HTMLElement, reply: HeatReply): void {
  const headers = ['Asset', ...reply.moves.map((m) => `${m > 0 ? '+' : ''}${m}%`)];
  const numeric = reply.moves.map((_, i) => i + 1);
  const t = table(
    'Heat map: sub-accounts below maintenance, and the debt they owe, per asset and price move',
    headers,
    numeric,
  );
  for (const a of reply.assets) {
    const cells = a.cells.map((c) => `${c.liquidatable} (${formatMoney(c.debtValue)})`);
    t.body.append(row([a.asset, ...cells], numeric, 1));
  }
  fill(box, t.element);
}
