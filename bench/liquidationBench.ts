/**
 * Detection at scale: 1,000,000 open accounts holding 1 to 6 of ten assets, and a 10% move of
 * one asset. Reports the time the liquidation monitor takes to find every newly liquidatable
 * account, against a full exact scan of every account in the same run; checks the monitor's set
 * against that scan after every move; and reports the memory the monitor holds per account.
 *
 * The accounts are written into the state directly (as a journal replay would leave them), each
 * meeting initial margin: collateral in one to three assets, debts in the rest, with borrowing
 * drawn toward the limit as real books are.
 *
 * The mixed book (`mixedDetectionBenchmark`) is the same book with a share of the accounts also
 * holding a perpetual on ETH, long or short, that takes part of their margin; a 10% move of ETH
 * there moves the asset's price and the perpetual's mark together (two commands).
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import {
  type AccountState,
  Engine,
  evaluateHealth,
  LiquidationMonitor,
  type MonitorScan,
  type Position,
  supplyAmount,
  debtAmount,
} from '../src/index.js';
import { Draft } from '../src/engine/draft.js';
import { heatMap } from '../src/server/riskViews.js';
import type { DerivativesBook, EngineState, ScaledPosition } from '../src/engine/state.js';
import { RATE_SCALE } from '../src/derivatives/position.js';
import { standardRequirement } from '../src/derivatives/requirement.js';
import { type Measurement, median } from './harness.js';
import { SeededRandom } from '../src/math/random.js';

const ASSETS = [
  { symbol: 'USDC', decimals: 6, price: 1, initial: '0.85', maintenance: '0.875' },
  { symbol: 'USDT', decimals: 6, price: 1, initial: '0.8', maintenance: '0.85' },
  { symbol: 'DAI', decimals: 18, price: 1, initial: '0.77', maintenance: '0.8' },
  { symbol: 'ETH', decimals: 18, price: 2000, initial: '0.8', maintenance: '0.825' },
  { symbol: 'WBTC', decimals: 8, price: 60000, initial: '0.73', maintenance: '0.78' },
  { symbol: 'SOL', decimals: 9, price: 150, initial: '0.65', maintenance: '0.72' },
  { symbol: 'LINK', decimals: 18, price: 15, initial: '0.6', maintenance: '0.7' },
  { symbol: 'AVAX', decimals: 18, price: 30, initial: '0.55', maintenance: '0.65' },
  { symbol: 'ARB', decimals: 18, price: 1.2, initial: '0.5', maintenance: '0.6' },
  { symbol: 'DOGE', decimals: 8, price: 0.1, initial: '0.45', maintenance: '0.55' },
] as const;

/** Share of accounts holding 1, 2, ... 6 assets. */
const SIZE_MIX = [0.15, 0.3, 0.25, 0.15, 0.1, 0.05];

export interface DetectionResult {
  measurements: Measurement[];
  note: string;
}

export function detectionBenchmark(accounts: number): DetectionResult {
  const gc = exposeGc();
  gc();
  const before = heapBytes();
  const engine = openBook(accounts);
  gc();
  const afterState = heapBytes();
  const buildStart = performance.now();
  const monitor = new LiquidationMonitor(engine.state);
  const buildMs = performance.now() - buildStart;
  gc();
  const afterMonitor = heapBytes();
  const statePerAccount = (afterState - before) / accounts;
  const monitorPerAccount = (afterMonitor - afterState) / accounts;

  const baselineMs: number[] = [];
  const downMs: number[] = [];
  const upMs: number[] = [];
  let time = 1;
  let found = 0;
  let confirmed = 0;
  let checked = 0;
  const eth = ASSETS.findIndex((a) => a.symbol === 'ETH');
  let price = ASSETS[eth]?.price ?? 0;
  for (let round = 0; round < 5; round++) {
    // A full exact scan: the baseline, and the truth the monitor's set is checked against.
    const scanStart = performance.now();
    const before = exactScan(engine.state);
    baselineMs.push(performance.now() - scanStart);
    // ETH falls 10%.
    price *= 0.9;
    const down = engine.apply({
      type: 'set-price',
      time: time++,
      asset: 'ETH',
      price: BigInt(Math.round(price * 1e6)) * 10n ** 12n,
    });
    const start = performance.now();
    const scan = monitor.observe(down);
    downMs.push(performance.now() - start);
    found = scan.liquidatable.length;
    confirmed = scan.confirmed;
    const after = exactScan(engine.state);
    const newly = [...after].filter((key) => !before.has(key));
    if (!sameSet(newly, scan.liquidatable.map(keyOf))) {
      throw new Error(`round ${round}: the monitor's new set differs from the exact scan`);
    }
    if (!sameSet([...after], monitor.liquidatable().map(keyOf))) {
      throw new Error(`round ${round}: the monitor's set differs from the exact scan`);
    }
    checked++;
    // And recovers, for the next round.
    price /= 0.9;
    const up = engine.apply({
      type: 'set-price',
      time: time++,
      asset: 'ETH',
      price: BigInt(Math.round(price * 1e6)) * 10n ** 12n,
    });
    const upStart = performance.now();
    monitor.observe(up);
    upMs.push(performance.now() - upStart);
  }
  const holders = countHolders(engine.state, eth);
  const measurements: Measurement[] = [
    latency(
      `monitor: find new liquidatables after a 10% ETH fall (${fmt(median(downMs))} ms)`,
      downMs,
    ),
    latency(`monitor: re-judge after the 10% rise back (${fmt(median(upMs))} ms)`, upMs),
    latency(
      `baseline: exact scan of all ${accounts.toLocaleString('en')} accounts (${fmt(median(baselineMs))} ms)`,
      baselineMs,
    ),
  ];
  const note =
    `${accounts.toLocaleString('en')} accounts, ${holders.toLocaleString('en')} hold or owe ETH; ` +
    `a 10% fall made ${found.toLocaleString('en')} newly liquidatable (${confirmed} confirmed exactly); ` +
    `set equal to the full exact scan in ${checked} of 5 rounds; ` +
    `memory per account: monitor ${Math.round(monitorPerAccount)} B, engine state ${Math.round(statePerAccount)} B; ` +
    `monitor built in ${fmt(buildMs)} ms; target < 25 ms per move`;
  return { measurements, note };
}

/** Share of the mixed book's accounts holding the perpetual. */
export const PERP_SHARE = 0.3;

/**
 * The mixed book: `accounts` accounts, a share {@link PERP_SHARE} of them holding ETH-PERP
 * besides their balances. Each round ETH and its perpetual's mark fall 10% together (a
 * `set-price` of each, observed one after the other: the figure is the two together), then rise
 * back; the monitor's set is checked against a full exact scan (balances and derivatives) after
 * every move.
 */
export function mixedDetectionBenchmark(accounts: number): DetectionResult {
  const gc = exposeGc();
  gc();
  const before = heapBytes();
  const engine = openBook(accounts, PERP_SHARE);
  gc();
  const afterState = heapBytes();
  const buildStart = performance.now();
  const monitor = new LiquidationMonitor(engine.state);
  const buildMs = performance.now() - buildStart;
  gc();
  const afterMonitor = heapBytes();
  const statePerAccount = (afterState - before) / accounts;
  const monitorPerAccount = (afterMonitor - afterState) / accounts;

  const baselineMs: number[] = [];
  const downMs: number[] = [];
  const assetMs: number[] = [];
  const markMs: number[] = [];
  const upMs: number[] = [];
  let time = 1;
  let found = 0;
  let confirmed = 0;
  let checked = 0;
  let price = ASSETS.find((a) => a.symbol === 'ETH')?.price ?? 0;
  const move = (factor: number): { asset: number; mark: number; scans: MonitorScan[] } => {
    price *= factor;
    const value = BigInt(Math.round(price * 1e6)) * 10n ** 12n;
    const t = time++;
    const eth = engine.apply({ type: 'set-price', time: t, asset: 'ETH', price: value });
    const start = performance.now();
    const first = monitor.observe(eth);
    const asset = performance.now() - start;
    const perp = engine.apply({ type: 'set-price', time: t, asset: 'ETH-PERP', price: value });
    const markStart = performance.now();
    const second = monitor.observe(perp);
    const mark = performance.now() - markStart;
    if (!eth.ok || !perp.ok) throw new Error('a price was refused');
    return { asset, mark, scans: [first, second] };
  };
  for (let round = 0; round < 5; round++) {
    const scanStart = performance.now();
    const beforeSet = exactScan(engine.state);
    baselineMs.push(performance.now() - scanStart);
    const down = move(0.9);
    downMs.push(down.asset + down.mark);
    assetMs.push(down.asset);
    markMs.push(down.mark);
    const after = exactScan(engine.state);
    // What the two observations reported, netted: new, less any that recovered in between.
    const reported = new Set<string>();
    for (const scan of down.scans) {
      for (const ref of scan.liquidatable) reported.add(keyOf(ref));
      for (const ref of scan.recovered) reported.delete(keyOf(ref));
    }
    const newly = [...after].filter((key) => !beforeSet.has(key));
    if (
      !sameSet(
        newly,
        [...reported].filter((key) => !beforeSet.has(key)),
      )
    ) {
      throw new Error(`round ${round}: the monitor's new set differs from the exact scan`);
    }
    if (!sameSet([...after], monitor.liquidatable().map(keyOf))) {
      throw new Error(`round ${round}: the monitor's set differs from the exact scan`);
    }
    found = newly.length;
    confirmed = down.scans.reduce((n, scan) => n + scan.confirmed, 0);
    checked++;
    const up = move(1 / 0.9);
    upMs.push(up.asset + up.mark);
  }
  const eth = ASSETS.findIndex((a) => a.symbol === 'ETH');
  const holders = countHolders(engine.state, eth);
  const books = countBooks(engine.state);
  const measurements: Measurement[] = [
    latency(
      `mixed: find new liquidatables after ETH and its mark fall 10% (${fmt(median(downMs))} ms)`,
      downMs,
    ),
    latency(`  of which the asset's move (${fmt(median(assetMs))} ms)`, assetMs),
    latency(`  of which the perpetual's mark (${fmt(median(markMs))} ms)`, markMs),
    latency(`mixed: re-judge after the 10% rise back (${fmt(median(upMs))} ms)`, upMs),
    latency(
      `baseline: exact scan of all ${accounts.toLocaleString('en')} accounts (${fmt(median(baselineMs))} ms)`,
      baselineMs,
    ),
  ];
  const note =
    `${accounts.toLocaleString('en')} accounts, ${holders.toLocaleString('en')} hold or owe ETH, ` +
    `${books.toLocaleString('en')} hold ETH-PERP; ` +
    `a 10% fall made ${found.toLocaleString('en')} newly liquidatable (${confirmed} confirmed exactly); ` +
    `set equal to the full exact scan in ${checked} of 5 rounds; ` +
    `memory per account: monitor ${Math.round(monitorPerAccount)} B, engine state ${Math.round(statePerAccount)} B; ` +
    `monitor built in ${fmt(buildMs)} ms; target < 25 ms per move`;
  return { measurements, note };
}

/**
 * The console's heat map past `whatIfScanMax`: on the mixed book of `accounts` accounts, the
 * time the monitor's stress estimate takes for `moves` moves of ETH (its holders' balances and
 * the ETH-PERP books), and for the whole heat map (every asset, the same moves).
 */
export function heatMapBenchmark(accounts: number, moves = 21): DetectionResult {
  const engine = openBook(accounts, PERP_SHARE);
  const monitor = new LiquidationMonitor(engine.state);
  const eth = ASSETS.findIndex((a) => a.symbol === 'ETH');
  const relative = Array.from({ length: moves }, (_, i) => (i - (moves - 1) / 2) / (moves - 1));
  const percents = relative.map((m) => Math.round(m * 100));
  const ethMs: number[] = [];
  const mapMs: number[] = [];
  let cells: ReturnType<LiquidationMonitor['stressEstimate']> = [];
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    cells = monitor.stressEstimate(eth, relative);
    ethMs.push(performance.now() - start);
    const mapStart = performance.now();
    heatMap(engine.state, percents, 100_000, monitor);
    mapMs.push(performance.now() - mapStart);
  }
  const count = monitor.count;
  if (monitor.liquidatable().length !== count) throw new Error('the estimate changed the monitor');
  const fall = cells[0];
  const measurements: Measurement[] = [
    latency(`heat map estimate: ${moves} moves of ETH (${fmt(median(ethMs))} ms)`, ethMs),
    latency(
      `heat map estimate: ${ASSETS.length} assets × ${moves} moves (${fmt(median(mapMs))} ms)`,
      mapMs,
    ),
  ];
  const note =
    `${accounts.toLocaleString('en')} accounts, ${countHolders(engine.state, eth).toLocaleString('en')} ` +
    `hold or owe ETH, ${countBooks(engine.state).toLocaleString('en')} hold ETH-PERP; ` +
    `ETH -50%: ${(fall?.liquidatable ?? 0).toLocaleString('en')} below maintenance, ` +
    `owing ${Math.round(fall?.debtValue ?? 0).toLocaleString('en')}`;
  return { measurements, note };
}

function countBooks(state: EngineState): number {
  let books = 0;
  for (const account of state.accounts.values()) {
    for (const sub of account.subAccounts)
      if ((sub.derivatives?.positions.length ?? 0) > 0) books++;
  }
  return books;
}

/** The perpetual of the mixed book: initial 10%, maintenance 5%, Drift-like size premium. */
const PERP = {
  kind: 'perpetual',
  symbol: 'ETH-PERP',
  underlying: 'ETH',
  initialMargin: '0.1',
  maintenanceMargin: '0.05',
  sizePremium: '0.0005',
} as const;

/**
 * An engine with `count` accounts, each meeting initial margin, written straight into its state;
 * a share `perpShare` of them also hold ETH-PERP (drawn from a generator of their own, so that
 * the balances are those of the book without perpetuals, their debts scaled down to leave the
 * perpetual its margin).
 */
function openBook(count: number, perpShare = 0): Engine {
  const engine = new Engine();
  for (const asset of ASSETS) {
    const result = engine.applyJson({
      type: 'list-asset',
      time: 0,
      config: {
        symbol: asset.symbol,
        decimals: asset.decimals,
        initialWeight: asset.initial,
        maintenanceWeight: asset.maintenance,
      },
      price: String(asset.price),
    });
    if (!result.ok) throw new Error(result.error.message);
  }
  if (perpShare > 0) {
    const eth = ASSETS.find((a) => a.symbol === 'ETH')?.price ?? 0;
    const listed = engine.applyJson({
      type: 'list-instrument',
      time: 0,
      config: PERP,
      price: String(eth),
    });
    if (!listed.ok) throw new Error(listed.error.message);
  }
  const state = engine.state;
  const random = new SeededRandom(20_261_124);
  const perps = new SeededRandom(20_261_125);
  const instrument = state.instruments[0];
  const supplied = ASSETS.map(() => 0n);
  const borrowed = ASSETS.map(() => 0n);
  for (let i = 0; i < count; i++) {
    const size = pickSize(random.next());
    const chosen = pickAssets(random, size);
    const collateralCount = size === 1 ? 1 : 1 + Math.floor(random.next() * Math.min(3, size - 1));
    const collateral = chosen.slice(0, collateralCount);
    const debts = chosen.slice(collateralCount);
    // Collateral: $500 to $500,000, log-uniform, split at random.
    const value = 500 * 1000 ** random.next();
    let borrowingPower = 0;
    const positions: ScaledPosition[] = [];
    const shares = split(random, collateral.length);
    collateral.forEach((a, k) => {
      const asset = ASSETS[a] as (typeof ASSETS)[number];
      const v = value * (shares[k] as number);
      borrowingPower += v * Number(asset.initial);
      const amount = toUnits(v / asset.price, asset.decimals);
      positions.push({ asset: a, scaled: amount });
      supplied[a] = (supplied[a] as bigint) + amount;
    });
    // A holder of the perpetual gives it a share of the margin its debts would have used.
    const holder = perpShare > 0 && perps.next() < perpShare;
    const perpUse = holder ? 0.1 + 0.8 * perps.next() : 0;
    let budget = 0;
    if (debts.length > 0) {
      // Borrowed share of the limit: most books sit well inside it, a tail near it.
      const use = Math.min(0.999, Math.max(0.02, 1 - Math.abs(random.normal()) * 0.35));
      const debtShares = split(random, debts.length);
      debts.forEach((a, k) => {
        const asset = ASSETS[a] as (typeof ASSETS)[number];
        const v = borrowingPower * use * (debtShares[k] as number) * 0.995 * (1 - perpUse);
        const amount = toUnits(v / asset.price, asset.decimals);
        if (amount <= 0n) return;
        positions.push({ asset: a, scaled: -amount });
        borrowed[a] = (borrowed[a] as bigint) + amount;
      });
      budget = borrowingPower * use * perpUse * 0.995;
    } else if (holder) {
      budget =
        borrowingPower * Math.min(0.999, Math.max(0.02, 1 - Math.abs(perps.normal()) * 0.35));
    }
    let derivatives: DerivativesBook | undefined;
    if (holder && instrument !== undefined && budget > 0) {
      derivatives = perpBook(
        instrument.index,
        instrument.listing.spec,
        instrument.mark,
        budget,
        perps,
      );
    }
    positions.sort((x, y) => x.asset - y.asset);
    const id = `acct${i}`;
    const account: AccountState = {
      id,
      subAccounts: [
        derivatives === undefined
          ? { number: 0, positions }
          : { number: 0, positions, derivatives },
      ],
    };
    state.accounts.set(id, account);
  }
  // Lenders supply what was borrowed and more; pool totals match the balances.
  ASSETS.forEach((_, a) => {
    const lent = ((borrowed[a] as bigint) * 3n) / 2n + 1n;
    const state_ = state.assets[a];
    if (state_ === undefined) return;
    state.accounts.set(`lender${a}`, {
      id: `lender${a}`,
      subAccounts: [{ number: 0, positions: [{ asset: a, scaled: lent }] }],
    });
    const supply = (supplied[a] as bigint) + lent;
    Object.assign(state_.pool, {
      supplyScaled: supply,
      borrowScaled: borrowed[a] as bigint,
      cash: supply - (borrowed[a] as bigint),
    });
  });
  return engine;
}

/**
 * A perpetual position opened at the mark, long or short, whose initial requirement (size
 * premium included) stays within `budget` (quote).
 */
function perpBook(
  instrument: number,
  spec: Parameters<typeof standardRequirement>[0],
  mark: bigint,
  budget: number,
  random: SeededRandom,
): DerivativesBook | undefined {
  const markUnits = Number(mark) / 1e18;
  let units = budget / (markUnits * 0.1);
  let size = 0n;
  for (let tries = 0; tries < 8; tries++) {
    size = BigInt(Math.floor(units * 1e8));
    if (size <= 0n) return undefined;
    const required = Number(standardRequirement(spec, mark, mark, size).initial) / 1e38;
    if (required <= budget) break;
    units *= (budget / required) * 0.999;
  }
  const signed = random.next() < 0.5 ? size : -size;
  return {
    mode: 'cross',
    positions: [{ instrument, size: signed, quote: -signed * mark * RATE_SCALE, funding: 0n }],
    unsettled: 0n,
  };
}

/**
 * Every sub-account below maintenance, by the exact engine arithmetic, one pass: the balances'
 * health with what derivatives add (`Draft.extraMargin`), as `Draft.health` sums it.
 */
function exactScan(state: EngineState): Set<string> {
  const found = new Set<string>();
  const assets = state.assets;
  const draft = new Draft(state, state.time);
  for (const account of state.accounts.values()) {
    for (const sub of account.subAccounts) {
      const positions: Position[] = sub.positions.map(({ asset, scaled }) => {
        const { risk, pool } = assets[asset] as EngineState['assets'][number];
        return {
          risk,
          amount: scaled >= 0n ? supplyAmount(scaled, pool) : -debtAmount(-scaled, pool),
        };
      });
      const book = sub.derivatives;
      const extra = book === undefined ? null : draft.extraMargin(book);
      if (!evaluateHealth(positions, extra).meets('maintenance')) {
        found.add(keyOf({ account: account.id, subAccount: sub.number }));
      }
    }
  }
  return found;
}

function countHolders(state: EngineState, asset: number): number {
  let holders = 0;
  for (const account of state.accounts.values()) {
    for (const sub of account.subAccounts) {
      if (sub.positions.some((p) => p.asset === asset)) holders++;
    }
  }
  return holders;
}

function keyOf(ref: { account: string; subAccount: number }): string {
  return `${ref.account}/${ref.subAccount}`;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((key) => set.has(key));
}

function latency(name: string, samples: readonly number[]): Measurement {
  const ms = median(samples);
  return { name, perSecond: 1000 / ms, nsPerOp: ms * 1e6, rounds: samples.length };
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

function pickSize(u: number): number {
  let total = 0;
  for (let k = 0; k < SIZE_MIX.length; k++) {
    total += SIZE_MIX[k] as number;
    if (u < total) return k + 1;
  }
  return SIZE_MIX.length;
}

/** `size` distinct asset indices, weighted toward the large assets as books are. */
function pickAssets(random: SeededRandom, size: number): number[] {
  const weights = [20, 8, 5, 25, 15, 10, 5, 5, 4, 3];
  const chosen: number[] = [];
  while (chosen.length < size) {
    let u = random.next() * weights.reduce((s, w, i) => (chosen.includes(i) ? s : s + w), 0);
    for (let i = 0; i < weights.length; i++) {
      if (chosen.includes(i)) continue;
      u -= weights[i] as number;
      if (u < 0) {
        chosen.push(i);
        break;
      }
    }
  }
  return chosen;
}

function split(random: SeededRandom, parts: number): number[] {
  const raw = Array.from({ length: parts }, () => 0.2 + random.next());
  const total = raw.reduce((s, x) => s + x, 0);
  return raw.map((x) => x / total);
}

function toUnits(amount: number, decimals: number): bigint {
  const digits = Math.min(decimals, 6);
  return BigInt(Math.floor(amount * 10 ** digits)) * 10n ** BigInt(decimals - digits);
}

function heapBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** A garbage collection on demand, for memory figures. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
