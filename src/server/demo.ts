/**
 * `fulcrum serve --demo` (what `npm start` runs): the service on an empty journal with a demo
 * venue (USDC, ETH and BTC; lenders; borrowers at different leverage; an ETH perpetual with
 * traders on both sides; a liquidator), then the Black Thursday price files of examples/data
 * (5 to 20 March 2020, three sources per asset) replayed as quotes at a chosen speed through the
 * price-source path (`POST /v1/quotes`, one price-source key per source), the perpetual's mark
 * following ETH, and a liquidator taking what becomes liquidatable. docs/SERVER.md, "Demo".
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { formatDecimal } from '../math/decimal.js';
import { PRICE_DECIMALS } from '../math/fixed.js';
import type { QuoteJson } from '../feeds/replay.js';
import { loadPriceFiles, quotePushes } from './feeder.js';
import type { KeyEntry } from './config.js';
import type { EngineGateway } from './gateway.js';
import { generateKey, hashKey } from './keys.js';
import { liquidatablePage } from './liquidatable.js';

/** Market seconds replayed per second by default: an hour of the crash a second. */
export const DEMO_SPEED = 3_600;

const DATA = fileURLToPath(new URL('../../examples/data/', import.meta.url));
const SOURCES = ['binance-spot', 'binance-usdm', 'gemini'];

export interface DemoKeys {
  readonly entries: KeyEntry[];
  /** The read-only key ("*") printed for the newcomer. */
  readonly viewer: string;
  readonly admin: string;
  readonly liquidator: string;
  /** A price-source key per source, its id the source's name. */
  readonly feeds: ReadonlyMap<string, string>;
}

/** Fresh random keys: a viewer, the demo's operator, its liquidator and one per price source. */
export function demoKeys(): DemoKeys {
  const viewer = generateKey();
  const admin = generateKey();
  const liquidator = generateKey();
  const feeds = new Map(SOURCES.map((source) => [source, generateKey()]));
  // The demo's own clients replay as fast as asked: no rate limit for them.
  const rateLimit = { perSecond: 1_000_000, burst: 1_000_000 };
  const entries: KeyEntry[] = [
    { id: 'demo-viewer', hash: hashKey(viewer), role: 'read-only', accounts: ['*'] },
    { id: 'demo-admin', hash: hashKey(admin), role: 'risk-admin', accounts: ['*'], rateLimit },
    { id: 'liz', hash: hashKey(liquidator), role: 'liquidator', accounts: ['liz'], rateLimit },
    ...[...feeds].map(([source, key]): KeyEntry => ({
      id: source,
      hash: hashKey(key),
      role: 'price-source',
      rateLimit,
    })),
  ];
  return { entries, viewer, admin, liquidator, feeds };
}

/** The Black Thursday window's quotes, in time order (examples/data, six files). */
export function demoQuotes(): QuoteJson[] {
  const files = readdirSync(DATA).filter((name) => /^[a-z-]+_(ETH|BTC)USDT?_1h\.csv$/.test(name));
  return loadPriceFiles(files.map((name) => DATA + name));
}

/** The venue before the replay starts, at `time`, with ETH and BTC at their first quotes. */
export function demoVenue(time: number, eth: string, btc: string): Record<string, unknown>[] {
  const interest = { baseRate: '0', slope1: '0.04', slope2: '0.6', optimalUtilization: '0.9' };
  const oracle = {
    quorum: 2,
    maxStalenessSeconds: 3_600,
    maxUnchangedSeconds: 0,
    maxDeviation: '0.1',
    maxSpread: '0.1',
    maxConfidence: '0.1',
  };
  const weights = { initialWeight: '0.8', maintenanceWeight: '0.825', liabilityWeight: '1' };
  const crypto = {
    ...weights,
    liquidationPenalty: '0.05',
    insuranceShare: '0.2',
    oracle,
    interest,
  };
  const at = (command: Record<string, unknown>) => ({ time, ...command });
  const deposit = (account: string, asset: string, amount: string) =>
    at({ type: 'deposit', account, asset, amount });
  const borrow = (account: string, amount: string) =>
    at({ type: 'borrow', account, asset: 'USDC', amount });
  const perp = 'ETH-PERP';
  const trade = (buyer: string, seller: string, size: string) =>
    at({
      type: 'trade',
      buyer: { account: buyer },
      seller: { account: seller },
      instrument: perp,
      size,
      price: eth,
    });
  const usdc = { symbol: 'USDC', decimals: 6, initialWeight: '0.9', maintenanceWeight: '0.95' };
  return [
    at({ type: 'list-asset', config: { ...usdc, liabilityWeight: '1', interest }, price: '1' }),
    at({ type: 'list-asset', config: { symbol: 'ETH', decimals: 18, ...crypto }, price: eth }),
    at({ type: 'list-asset', config: { symbol: 'BTC', decimals: 8, ...crypto }, price: btc }),
    at({
      type: 'list-instrument',
      config: {
        kind: 'perpetual',
        symbol: perp,
        underlying: 'ETH',
        initialMargin: '0.1',
        maintenanceMargin: '0.05',
        fundingIntervalSeconds: '28800',
        fundingClamp: '0.005',
      },
      price: eth,
    }),
    deposit('lena', 'USDC', '5000000'),
    deposit('liz', 'USDC', '2000000'),
    deposit('@insurance', 'USDC', '10000'),
    deposit('mm', 'USDC', '2000000'),
    // Borrowers: liquidation price = debt / (0.825 × collateral).
    ...[
      ['ann', 'ETH', '100', '15000'],
      ['ben', 'ETH', '400', '55000'],
      ['cat', 'ETH', '300', '33000'],
      ['eve', 'ETH', '1000', '120000'],
      ['gus', 'ETH', '500', '45000'],
      ['bo', 'BTC', '10', '50000'],
      ['kim', 'BTC', '20', '80000'],
    ].flatMap(([who, asset, amount, debt]) => [
      deposit(who as string, asset as string, amount as string),
      borrow(who as string, debt as string),
    ]),
    // Perpetual traders: tom and uma long against the market maker, vic short.
    deposit('tom', 'USDC', '3000'),
    deposit('uma', 'USDC', '8000'),
    deposit('vic', 'USDC', '5000'),
    trade('tom', 'mm', '50'),
    trade('uma', 'mm', '100'),
    trade('mm', 'vic', '30'),
    ...chainCollateral(at, usdc),
  ];
}

/**
 * Collateral on another chain (docs/CHAINS.md): USDC in the vault on chain `base`, credited by
 * its watcher, backs dan's loan.
 */
function chainCollateral(
  at: (command: Record<string, unknown>) => Record<string, unknown>,
  usdc: Record<string, unknown>,
): Record<string, unknown>[] {
  return [
    at({ type: 'list-chain', chain: 'base', withdrawalTtl: 3600 }),
    at({
      type: 'list-asset',
      config: {
        ...usdc,
        symbol: 'USDC.base',
        initialWeight: '0.85',
        maintenanceWeight: '0.9',
        borrowable: false,
        location: { chain: 'base', asset: 'USDC' },
      },
      price: '1',
    }),
    at({
      type: 'chain-deposit',
      chain: 'base',
      block: 1,
      logIndex: 0,
      tx: `0x${'0'.repeat(63)}1`,
      account: 'dan',
      asset: 'USDC.base',
      amount: '20000',
    }),
    at({ type: 'borrow', account: 'dan', asset: 'USDC', amount: '15000' }),
  ];
}

/** Applies the venue through the service, as its operator would. */
export async function seedDemo(app: FastifyInstance, keys: DemoKeys): Promise<void> {
  const quotes = demoQuotes();
  const first = (asset: string) => quotes.find((q) => q.asset === asset)?.price ?? '1';
  const start = (quotes[0]?.time ?? 0) - 60;
  const venue = demoVenue(start, first('ETH'), first('BTC'));
  const check = (reply: { status: number; body: string }) => {
    if (reply.status !== 200) throw new Error(`demo venue: ${reply.body}`);
  };
  for (const [i, command] of venue.entries()) {
    // Risk needs a valid price: every source quotes once the assets are listed.
    if (i === 4) {
      for (const key of keys.feeds.values()) {
        const prices = ['ETH', 'BTC'].map((asset) => ({ asset, price: first(asset) }));
        check(await inject(app, '/v1/quotes', key, { time: start, quotes: prices }));
      }
    }
    check(await inject(app, '/v1/commands', keys.admin, command));
  }
}

async function inject(
  app: FastifyInstance,
  url: string,
  key: string,
  body: unknown,
): Promise<{ status: number; body: string }> {
  let reply;
  try {
    reply = await app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
  } catch (error) {
    // Once the service has closed, the feed's requests are refused: the feed stops.
    return { status: 503, body: (error as Error).message };
  }
  return { status: reply.statusCode, body: reply.body };
}

export interface DemoFeed {
  /** Resolves when the replay has ended (or the service stopped). */
  readonly done: Promise<void>;
  stop(): void;
  /** Plays on (at `speed` market seconds a second, when given) or pauses; the state after. */
  control(change: { playing?: boolean; speed?: number }): ReplayState;
  state(): ReplayState;
}

/** Where the replay stands: playing or paused, its speed, its market time and progress. */
export interface ReplayState {
  readonly playing: boolean;
  readonly ended: boolean;
  readonly speed: number;
  /** The market time of the last push made (unix seconds), or null before the first. */
  readonly time: number | null;
  readonly pushes: number;
  readonly total: number;
  readonly from: number;
  readonly to: number;
}

/**
 * The replay's clock: market time advances at `speed` market seconds a wall second while
 * playing, not at all while paused; a change of speed or a pause takes effect at once, even
 * during a wait for the next push.
 */
class ReplayClock {
  playing = true;
  stopped = false;
  private wake: (() => void) | null = null;

  constructor(public speed: number) {}

  set(change: { playing?: boolean; speed?: number }): void {
    if (change.playing !== undefined) this.playing = change.playing;
    if (change.speed !== undefined) this.speed = change.speed;
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Waits until `seconds` of market time have passed (or the replay stopped). */
  async wait(seconds: number): Promise<void> {
    let left = seconds * 1_000;
    while (!this.stopped && (left > 0 || !this.playing)) {
      const started = Date.now();
      const speed = this.speed;
      const playing = this.playing;
      await new Promise<void>((resolve) => {
        const timer = playing ? setTimeout(resolve, left / speed) : undefined;
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
      if (playing) left -= (Date.now() - started) * speed;
    }
  }
}

/**
 * Replays the quotes at `speed` market seconds a second: each source's quotes of one time as
 * one push, ETH-PERP's mark set to ETH's price after it, then one liquidation pass. The replay
 * can be paused, played on and sped up or slowed (`control`: the risk console's replay page).
 */
export function runDemoFeed(
  app: FastifyInstance,
  gateway: EngineGateway,
  keys: DemoKeys,
  speed: number,
  say: (line: string) => void,
): DemoFeed {
  const pushes = quotePushes(demoQuotes());
  const clock = new ReplayClock(speed);
  const progress = { made: 0, time: null as number | null, ended: false };
  let day = '';
  const done = (async () => {
    for (const push of pushes) {
      await clock.wait(push.time - (progress.time ?? push.time));
      if (clock.stopped || !gateway.ready) return;
      await inject(app, '/v1/quotes', keys.feeds.get(push.source) ?? '', {
        time: push.time,
        quotes: push.quotes,
      });
      progress.made += 1;
      progress.time = push.time;
      await followMark(app, gateway, keys, push.time);
      await liquidationPass(app, gateway, keys, push.time, say);
      const today = new Date(push.time * 1_000).toISOString().slice(0, 10);
      if (today !== day) {
        day = today;
        say(`${today}: ${priceLine(gateway)}`);
      }
    }
    progress.ended = true;
    say('the replay has ended; the service runs on until stopped');
  })().catch((error: unknown) => say(`the demo feed stopped: ${(error as Error).message}`));
  const state = (): ReplayState => ({
    playing: clock.playing && !progress.ended && !clock.stopped,
    ended: progress.ended,
    speed: clock.speed,
    time: progress.time,
    pushes: progress.made,
    total: pushes.length,
    from: pushes[0]?.time ?? 0,
    to: pushes.at(-1)?.time ?? 0,
  });
  return {
    done,
    stop: () => clock.stop(),
    control: (change) => {
      clock.set(change);
      return state();
    },
    state,
  };
}

function priceLine(gateway: EngineGateway): string {
  return gateway.state.assets
    .filter((a) => a.config.symbol !== 'USDC')
    .map(
      (a) =>
        `${a.config.symbol} ${Number(formatDecimal(a.risk.oraclePrice, PRICE_DECIMALS)).toFixed(2)}`,
    )
    .join(', ');
}

/**
 * ETH-PERP's mark set to ETH's oracle price by the demo's operator (a direct price is the
 * risk-admin's: a price-source key only quotes).
 */
async function followMark(
  app: FastifyInstance,
  gateway: EngineGateway,
  keys: DemoKeys,
  time: number,
) {
  const eth = gateway.state.assets.find((a) => a.config.symbol === 'ETH');
  if (eth === undefined) return;
  const price = formatDecimal(eth.risk.oraclePrice, PRICE_DECIMALS);
  const command = { type: 'set-price', time, asset: 'ETH-PERP', price };
  await inject(app, '/v1/commands', keys.admin, command);
}

/** The liquidator `liz` takes the best liquidation of each liquidatable sub-account. */
async function liquidationPass(
  app: FastifyInstance,
  gateway: EngineGateway,
  keys: DemoKeys,
  time: number,
  say: (line: string) => void,
): Promise<void> {
  const { items } = liquidatablePage(gateway.state, gateway.monitor, null, 20);
  const liquidator = { account: 'liz', subAccount: 0 };
  for (const entry of items) {
    if (!entry.allowed) continue;
    const target = { account: entry.account, subAccount: entry.subAccount };
    const commands: Record<string, unknown>[] = entry.positions.map((p) => ({
      type: 'liquidate-position',
      time,
      liquidator,
      target,
      instrument: p.instrument,
      amount: 'max',
    }));
    if (entry.best !== null) {
      const { debtAsset, collateralAsset } = entry.best;
      commands.push({
        type: 'liquidate',
        time,
        liquidator,
        target,
        debtAsset,
        collateralAsset,
        amount: 'max',
      });
    }
    for (const command of commands) {
      const reply = await inject(app, '/v1/commands', keys.liquidator, command);
      const at = new Date(time * 1_000).toISOString().slice(0, 16).replace('T', ' ');
      const what = command.type === 'liquidate' ? 'loan' : String(command.instrument);
      if (reply.status === 200) say(`${at}: liz liquidated ${entry.account} (${what})`);
    }
  }
}
