// A process that applies commands under load until it is killed: the crash test's victim.
// Its commands mix lending and derivatives (fills, marks, funding, takeovers) on one journal.
// It prints `ready <seq> <hash>` after recovery, then `ack <seq>` for every command the
// durable engine acknowledges, with synchronous writes so that no acknowledgement is still
// buffered in this process when SIGKILL arrives.
import { writeSync } from 'node:fs';
import { URL } from 'node:url';
import { DurableEngine, SqliteStore } from '../../dist/store/index.js';

const [dir, seedText] = process.argv.slice(2);
let seed = Number(seedText) >>> 0 || 1;
const random = () => {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 2 ** 32;
};
const pick = (items) => items[Math.floor(random() * items.length)];

const durable = await DurableEngine.open(new SqliteStore(dir), {
  snapshotEvery: 400,
  snapshotPerAccount: 0,
  // Every other run builds its snapshots in a follower thread, which dies with the process.
  snapshotWorker:
    Number(seedText) % 2 === 1
      ? new URL('../../dist/store/snapshotWorker.js', import.meta.url)
      : null,
  batchMax: 64,
  warn: (message) => writeSync(2, `${message}\n`),
});
writeSync(1, `ready ${durable.recovery.seq} ${durable.recovery.stateHash}\n`);

let time = Math.max(durable.engine.state.time, 1_583_971_200);
if (durable.recovery.seq === 0) {
  const listing = (symbol, decimals, price) => ({
    type: 'list-asset',
    time,
    price,
    config: { symbol, decimals, initialWeight: '0.75', maintenanceWeight: '0.8' },
  });
  for (const command of [
    listing('USDC', 6, '1'),
    listing('ETH', 18, '2000'),
    { type: 'deposit', time, account: 'lender', asset: 'USDC', amount: '100000000' },
    { type: 'deposit', time, account: 'lender', asset: 'ETH', amount: '100000' },
    {
      type: 'list-instrument',
      time,
      price: '2000',
      config: {
        kind: 'perpetual',
        symbol: 'ETH-PERP',
        underlying: 'ETH',
        initialMargin: '0.1',
        maintenanceMargin: '0.05',
        fundingIntervalSeconds: '60',
      },
    },
  ]) {
    await durable.submitJson(command);
  }
}

const accounts = ['a', 'b', 'c', 'd', 'e', 'f'];
function command() {
  time += Math.floor(random() * 3);
  const account = pick(accounts);
  const roll = random();
  // Derivatives: fills between two accounts near the mark, marks, funding and takeovers.
  if (roll < 0.12)
    return {
      type: 'trade',
      time,
      buyer: { account },
      seller: { account: pick(accounts) },
      instrument: 'ETH-PERP',
      size: String(1 + Math.floor(random() * 20)),
      price: String(1500 + Math.floor(random() * 1000)),
    };
  if (roll < 0.17)
    return {
      type: 'set-price',
      time,
      asset: 'ETH-PERP',
      price: String(1500 + Math.floor(random() * 1000)),
    };
  if (roll < 0.19) return { type: 'settle-funding', time, instrument: 'ETH-PERP' };
  if (roll < 0.22)
    return {
      type: 'liquidate-position',
      time,
      liquidator: { account: 'lender' },
      target: { account },
      instrument: 'ETH-PERP',
      amount: 'max',
    };
  if (roll < 0.25)
    return {
      type: 'deposit',
      time,
      account,
      asset: 'USDC',
      amount: String(1000 + Math.floor(random() * 10000)),
    };
  if (roll < 0.4)
    return {
      type: 'set-price',
      time,
      asset: 'ETH',
      price: String(1500 + Math.floor(random() * 1000)),
    };
  if (roll < 0.55)
    return {
      type: 'deposit',
      time,
      account,
      asset: 'ETH',
      amount: String(1 + Math.floor(random() * 5)),
    };
  if (roll < 0.72)
    return {
      type: 'borrow',
      time,
      account,
      asset: 'USDC',
      amount: String(1 + Math.floor(random() * 3000)),
    };
  if (roll < 0.85)
    return { type: 'repay', time, account, asset: 'USDC', amount: random() < 0.5 ? 'all' : '100' };
  return { type: 'withdraw', time, account, asset: 'ETH', amount: '1' };
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes one line to the parent before going on. Standard output is a non-blocking pipe: when
 * the parent is slow to read, a write fails with EAGAIN and is tried again a millisecond later
 * (lines are shorter than PIPE_BUF, so a write is all or nothing).
 */
function say(line) {
  for (;;) {
    try {
      writeSync(1, line);
      return;
    } catch (error) {
      if (error?.code !== 'EAGAIN') throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

for (;;) {
  const burst = [];
  for (let i = 0; i < 40; i++) burst.push(durable.submitJson(command()));
  for (const pending of burst) {
    const result = await pending;
    if (result.seq !== null) say(`ack ${result.seq}\n`);
  }
}
