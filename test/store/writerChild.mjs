// A process that opens a journal for writing and keeps it open: the other writer of the journal
// safety tests. `node writerChild.mjs DIR FILE` opens the SQLite journal FILE in DIR as a bare
// store; `node writerChild.mjs DIR fulcrum.sqlite COMMANDS` opens the engine's journal with a
// durable engine and journals COMMANDS deposits. Either way it prints `ready <seq>` (the
// journal's length) and waits, holding the journal's lock, until it is killed or its standard
// input closes (then it closes the journal and exits).
import { writeSync } from 'node:fs';
import { DurableEngine, SqliteStore } from '../../dist/store/index.js';

const [dir, fileName, countText] = process.argv.slice(2);
const store = new SqliteStore(dir, { fileName });
let close = () => store.close();
let seq = await store.lastSeq();
if (countText !== undefined) {
  const durable = await DurableEngine.open(store, {
    snapshotWorker: null,
    warn: (message) => writeSync(2, `${message}\n`),
  });
  const time = Math.max(durable.engine.state.time, 1);
  if (!durable.engine.state.assetIndex.has('USDC')) {
    await durable.submitJson({
      type: 'list-asset',
      time,
      price: '1',
      config: { symbol: 'USDC', decimals: 6, initialWeight: '0.8', maintenanceWeight: '0.85' },
    });
  }
  await Promise.all(
    Array.from({ length: Number(countText) }, (_, i) =>
      durable.submitJson({ type: 'deposit', time, account: `w${i}`, asset: 'USDC', amount: '1' }),
    ),
  );
  seq = durable.durableSeq;
  close = () => durable.close();
}
writeSync(1, `ready ${seq}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await close();
  process.exit(0);
});
