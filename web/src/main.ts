/**
 * The console's entry: sign in with an API key, then the view the key's role reads: the risk
 * console for a risk-admin or a read-only key on every account, the trader view otherwise.
 */
import './style.css';
import { CHART_STYLE } from '../../src/sim/chartStyle.js';
import { api, ApiError, describeError, type Session, storedKey, storeKey } from './api.js';
import { fill, h } from './dom.js';
import { riskConsole } from './riskConsole.js';
import { traderView } from './trader.js';
import type { StreamStatus } from './stream.js';

const bar = document.getElementById('bar') as HTMLElement;
const main = document.getElementById('main') as HTMLElement;
let stop: (() => void) | null = null;

function login(message = ''): void {
  stop?.();
  stop = null;
  fill(bar, h('span', { class: 'brand' }, 'Fulcrum'));
  const input = h('input', {
    id: 'key',
    name: 'key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'key-help',
  });
  const error = h('p', { id: 'login-error', class: 'error', role: 'alert' }, message);
  const form = h(
    'form',
    { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Sign in'),
    h('label', { for: 'key' }, 'API key'),
    input,
    h(
      'p',
      { id: 'key-help', class: 'muted' },
      'A key from ',
      h('code', {}, 'fulcrum serve keygen'),
      ' (or the one ',
      h('code', {}, 'npm start'),
      ' prints). It stays in this tab only.',
    ),
    h('button', { type: 'submit' }, 'Sign in'),
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void signIn(input.value.trim(), error);
  });
  fill(main, form);
  input.focus();
}

async function signIn(key: string, error: HTMLElement): Promise<void> {
  try {
    const session = await api<Session>('/v1/session', undefined, key);
    storeKey(key);
    show(session, key);
  } catch (caught) {
    const unknown = caught instanceof ApiError && caught.status === 401;
    fill(error, unknown ? 'The service does not know this key.' : describeError(caught));
  }
}

function show(session: Session, key: string): void {
  const status = h('span', { class: 'status', role: 'status', 'data-status': 'connecting' });
  const onStatus = (value: StreamStatus, detail?: string) => {
    status.dataset.status = value;
    fill(status, `stream: ${value}${detail ? ` (${detail})` : ''}`);
  };
  const signOut = h('button', { type: 'button', class: 'link' }, 'Sign out');
  signOut.addEventListener('click', () => {
    storeKey(null);
    login();
  });
  const venue =
    session.role === 'risk-admin' || (session.role === 'read-only' && session.everyAccount);
  fill(
    bar,
    h('span', { class: 'brand' }, 'Fulcrum'),
    h('span', { class: 'view' }, venue ? 'Risk console' : 'Trader view'),
    h('span', { class: 'who' }, `${session.id} · ${session.role}`),
    status,
    signOut,
  );
  if (session.role === 'price-source') {
    fill(main, h('p', { class: 'error', role: 'alert' }, 'A price-source key has no view here.'));
    return;
  }
  stop = venue
    ? riskConsole(main, key, onStatus, session.role === 'risk-admin')
    : traderView(main, key, session, onStatus);
  main.focus();
}

async function start(): Promise<void> {
  const key = storedKey();
  if (key === null) return login();
  try {
    show(await api<Session>('/v1/session', undefined, key), key);
  } catch (caught) {
    storeKey(null);
    login(describeError(caught));
  }
}

// The page's ink, muted text, rules and type come from the style the simulator's report shares.
const root = document.documentElement.style;
root.setProperty('--ink', CHART_STYLE.ink);
root.setProperty('--muted', CHART_STYLE.muted);
root.setProperty('--rule', CHART_STYLE.rule);
root.setProperty('--font', CHART_STYLE.fontFamily);

void start();
