/**
 * The replay page, on a demo service (`fulcrum serve --demo`): play or pause the Black
 * Thursday replay at a chosen speed (`POST /v1/demo/replay`, a risk-admin's), and watch the
 * price, the liquidatable sub-accounts and the liquidations move together on one chart, beside
 * the console's own live panels. Absent on any other service (`GET /v1/demo/replay` is 404).
 */
import uPlot from 'uplot';
import { CHART_STYLE, SERIES_COLORS } from '../../src/sim/chartStyle.js';
import { api, ApiError, describeError } from './api.js';
import { axis, follow } from './chart.js';
import { fill, h, panel } from './dom.js';
import { formatTime } from './format.js';
import type { PricesReply } from './riskConsole.js';

interface ReplayState {
  playing: boolean;
  ended: boolean;
  speed: number;
  time: number | null;
  pushes: number;
  total: number;
}

const SPEEDS = [
  [600, '10 minutes a second'],
  [3_600, 'an hour a second'],
  [21_600, '6 hours a second'],
  [86_400, 'a day a second'],
] as const;
const HEIGHT = 200;

/** The panel's controls, state line and chart box; hidden until a replay is found. */
function controls(mayControl: boolean) {
  const state = h('p', { id: 'replay-state', role: 'status' });
  const play = h('button', { type: 'button', id: 'replay-play' }, 'Play');
  const pause = h('button', { type: 'button', id: 'replay-pause' }, 'Pause');
  const speed = h(
    'select',
    { id: 'replay-speed' },
    ...SPEEDS.map(([value, label]) => h('option', { value }, label)),
  );
  const box = h(
    'figure',
    { class: 'chart' },
    h('figcaption', {}, 'ETH price, liquidatable sub-accounts and liquidations, by market time'),
  );
  const element = panel(
    'replay',
    'Replay: Black Thursday',
    h('div', { class: 'pager' }, h('label', { for: 'replay-speed' }, 'Speed'), speed, play, pause),
    mayControl
      ? null
      : h('p', { class: 'muted' }, 'Only a risk-admin key plays or pauses the replay.'),
    state,
    box,
  );
  element.hidden = true;
  for (const control of [play, pause, speed]) control.disabled = !mayControl;
  return { state, play, pause, speed, box, element };
}

/** The panel (hidden until the service says a replay runs), and what polls it. */
export function replayPanel(mayControl: boolean) {
  const { state, play, pause, speed, box, element } = controls(mayControl);
  const data: [number[], number[], number[], number[]] = [[], [], [], []];
  let plot: uPlot | null = null;
  let liquidations = 0;
  const show = (s: ReplayState) => {
    const at = s.time === null ? 'not started' : formatTime(s.time);
    const mode = s.ended ? 'ended' : s.playing ? 'playing' : 'paused';
    element.dataset.mode = mode;
    fill(
      state,
      `${mode} · market time ${at} · ${s.pushes} of ${s.total} quote pushes · ${s.speed}× speed`,
    );
    if (![...speed.options].some((o) => o.value === String(s.speed))) {
      speed.append(h('option', { value: s.speed }, `${s.speed}× (as started)`));
    }
    speed.value = String(s.speed);
  };
  const send = async (body: { playing?: boolean; speed?: number }) => {
    try {
      show(await api<ReplayState>('/v1/demo/replay', body));
    } catch (error) {
      fill(state, h('span', { class: 'error', role: 'alert' }, describeError(error)));
    }
  };
  play.addEventListener('click', () => void send({ playing: true, speed: Number(speed.value) }));
  pause.addEventListener('click', () => void send({ playing: false }));
  speed.addEventListener('change', () => void send({ speed: Number(speed.value) }));
  const poll = async (): Promise<boolean> => {
    let s: ReplayState;
    try {
      s = await api<ReplayState>('/v1/demo/replay');
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return false;
      throw error;
    }
    element.hidden = false;
    show(s);
    plot ??= newPlot(box);
    const [prices, venue] = await Promise.all([
      api<PricesReply>('/v1/prices'),
      api<{ time: number; liquidatable: number }>('/v1/venue'),
    ]);
    const eth = Number(prices.assets.find((a) => a.asset === 'ETH')?.price ?? NaN);
    if (venue.time > (data[0].at(-1) ?? 0)) {
      data[0].push(venue.time);
      data[1].push(eth);
      data[2].push(venue.liquidatable);
      data[3].push(liquidations);
      plot.setData(data);
    }
    return true;
  };
  /** A liquidation seen on the stream: counted on the chart. */
  const liquidated = () => {
    liquidations += 1;
  };
  return { element, poll, liquidated };
}

function newPlot(box: HTMLElement): uPlot {
  const plot = new uPlot(
    {
      width: Math.max(240, box.clientWidth),
      height: HEIGHT,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, count: { range: (_u, _min, max) => [0, Math.max(5, max)] } },
      axes: [axis(), axis({ size: 60 }), axis({ scale: 'count', side: 1, grid: { show: false } })],
      series: [
        {},
        { label: 'ETH price', stroke: SERIES_COLORS[0], width: CHART_STYLE.lineWidth },
        {
          label: 'liquidatable',
          stroke: SERIES_COLORS[1],
          width: CHART_STYLE.lineWidth,
          scale: 'count',
        },
        {
          label: 'liquidations',
          stroke: SERIES_COLORS[2],
          width: CHART_STYLE.lineWidth,
          scale: 'count',
          dash: [5, 4],
        },
      ],
    },
    [[], [], [], []],
    box,
  );
  follow(box, plot, HEIGHT);
  return plot;
}
