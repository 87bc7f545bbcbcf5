/**
 * Liquidations in one throttle window, as in a crash: `count` accounts fall below maintenance
 * together and are liquidated one after another within the window, with the per-account cap in
 * force (so the window keeps a total per liquidated sub-account). Reports the rate of the last
 * thousand liquidations of each window, and of a whole window of 40,000, against a whole window
 * of 5,000 in the same run: a cost that grew with the liquidations already made would show as
 * ratios well below 1 (before the window stopped copying its map per liquidation: 5,000 took
 * 2.3 s, 40,000 took 388 s).
 */
import { Engine, type Command } from '../src/index.js';
import { type Measurement, rateMeasurement } from './harness.js';

const USDC = 10n ** 6n;
const ETH = 10n ** 18n;
const PRICE = 10n ** 18n;
const SLICE = 1_000;

export function throttleWindowBenchmarks(counts: readonly number[]): Measurement[] {
  liquidateInOneWindow(2 * SLICE); // warms the code
  const windows = counts.map((count) => ({ count, ...liquidateInOneWindow(count) }));
  const measurements = windows.map(({ count, late }) =>
    rateMeasurement(
      `last ${SLICE.toLocaleString('en')} of ${count.toLocaleString('en')} liquidations in one window`,
      [late],
    ),
  );
  for (const { count, whole } of windows.slice(1)) {
    measurements.push(
      rateMeasurement(`all ${count.toLocaleString('en')} liquidations of one window`, [whole]),
    );
  }
  const first = windows[0];
  if (first !== undefined) {
    measurements.push(
      rateMeasurement(
        `all ${first.count.toLocaleString('en')} liquidations of one window (baseline)`,
        [first.whole],
      ),
    );
  }
  return measurements;
}

function liquidateInOneWindow(count: number): { whole: number; late: number } {
  const engine = new Engine();
  const apply = (command: Command) => {
    const result = engine.apply(command);
    if (!result.ok) throw new Error(`${command.type} refused: ${result.error.message}`);
  };
  const json = (command: Record<string, unknown>) => {
    const result = engine.applyJson(command);
    if (!result.ok) throw new Error(`${String(command.type)} refused: ${result.error.message}`);
  };
  const listing = (symbol: string, decimals: number) => ({
    symbol,
    decimals,
    initialWeight: '0.8',
    maintenanceWeight: '0.825',
  });
  json({ type: 'list-asset', time: 0, config: listing('USDC', 6), price: '1' });
  json({ type: 'list-asset', time: 0, config: listing('ETH', 18), price: '2000' });
  // No global cap: the window holds every liquidation of the crash; the per-account cap stays.
  json({ type: 'configure-liquidation', time: 0, config: { globalCapValue: null } });
  const total = BigInt(count) * 2_000n * USDC;
  apply({
    type: 'deposit',
    time: 0,
    account: 'lender',
    subAccount: 0,
    asset: 'USDC',
    amount: total,
  });
  apply({ type: 'deposit', time: 0, account: 'liq', subAccount: 0, asset: 'USDC', amount: total });
  for (let i = 0; i < count; i++) {
    const account = `v${i}`;
    apply({ type: 'deposit', time: 0, account, subAccount: 0, asset: 'ETH', amount: ETH });
    apply({
      type: 'borrow',
      time: 0,
      account,
      subAccount: 0,
      asset: 'USDC',
      amount: 1_500n * USDC,
    });
  }
  apply({ type: 'set-price', time: 1, asset: 'ETH', price: 1_700n * PRICE });
  const liquidate = (i: number) =>
    apply({
      type: 'liquidate',
      time: 1,
      liquidator: { account: 'liq', subAccount: 0 },
      target: { account: `v${i}`, subAccount: 0 },
      debtAsset: 'USDC',
      collateralAsset: 'ETH',
      amount: 'max',
    });
  const start = process.hrtime.bigint();
  for (let i = 0; i < count - SLICE; i++) liquidate(i);
  const lateStart = process.hrtime.bigint();
  for (let i = count - SLICE; i < count; i++) liquidate(i);
  const end = process.hrtime.bigint();
  return {
    whole: (count * 1e9) / Number(end - start),
    late: (SLICE * 1e9) / Number(end - lateStart),
  };
}
