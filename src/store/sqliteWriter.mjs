// The SQLite journal's writer thread. The durable engine applies commands on the main thread
// while this thread writes the previous batch: with two cores, durability then costs about
// the time of the slower of the two, not their sum. Plain JavaScript (no build step), because
// it is loaded as a worker from `src/` (tests) and `dist/` (the package) alike.
//
// Messages in: { id, kind: 'open', file, synchronous, maxPageCount, schema }
//              { id, kind: 'append', seq: Float64Array, time: Float64Array, text: string,
//                snapshot: {...} | null }
//              { id, kind: 'close' }
// Messages out: { id, ok: true } or { id, ok: false, code, message }.
// In an append, `text` holds each record's command, outcome, events and accounts joined by
// U+0000, which JSON text never contains unescaped. Each record is sealed here with the same
// checksum as `recordChecksum` in journal.ts computes (CRC-32 of seq, time, command, outcome,
// events and accounts joined by U+0000, the accounts among themselves by U+0001).
import { crc32 } from 'node:zlib';
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';

// Rows go in by statements of ROWS rows each (the rest one by one): one statement call per row
// cost more than SQLite's own work on the row.
const ROWS = 64;

let db = null;
let insertRecord = null;
let insertRecords = null;
let insertAccount = null;
let insertAccounts = null;
let insertSnapshot = null;
let appendBatch = null;
// After a failed append every later one is refused unwritten: a journal must not go on past a
// batch that is missing.
let failed = null;

function open(message) {
  db = new Database(message.file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${message.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  if (message.maxPageCount !== null) db.pragma(`max_page_count = ${message.maxPageCount}`);
  insertRecord = db.prepare(
    'INSERT INTO journal (seq, time, command, outcome, events, accounts, checksum) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  insertRecords = db.prepare(
    `INSERT INTO journal (seq, time, command, outcome, events, accounts, checksum) VALUES ${Array(ROWS).fill('(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
  );
  insertAccount = db.prepare('INSERT OR IGNORE INTO journal_accounts (account, seq) VALUES (?, ?)');
  insertAccounts = db.prepare(
    `INSERT OR IGNORE INTO journal_accounts (account, seq) VALUES ${Array(ROWS).fill('(?, ?)').join(', ')}`,
  );
  insertSnapshot = db.prepare(
    'INSERT OR REPLACE INTO snapshots (seq, state_hash, state, checksum) VALUES (?, ?, ?, ?)',
  );
  appendBatch = db.transaction((message) => {
    const fields = message.text === '' ? [] : message.text.split('\u0000');
    const rows = [];
    const pairs = [];
    for (let i = 0; i < message.seq.length; i++) {
      const seq = message.seq[i];
      const time = message.time[i];
      const command = fields[4 * i];
      const outcome = fields[4 * i + 1];
      const events = fields[4 * i + 2];
      const accounts = fields[4 * i + 3];
      const sealed = `${seq}\u0000${time}\u0000${command}\u0000${outcome}\u0000${events}\u0000${accounts.replaceAll(' ', '\u0001')}`;
      rows.push(seq, time, command, outcome, events, accounts, crc32(sealed));
      if (accounts !== '') for (const account of accounts.split(' ')) pairs.push(account, seq);
    }
    insertInChunks(rows, 7, insertRecords, insertRecord);
    insertInChunks(pairs, 2, insertAccounts, insertAccount);
    const s = message.snapshot;
    if (s !== null) insertSnapshot.run(s.seq, s.stateHash, s.state, s.checksum);
  });
}

/** Inserts `values` (`width` per row) by statements of ROWS rows, the rest row by row. */
function insertInChunks(values, width, many, one) {
  const chunk = ROWS * width;
  let at = 0;
  for (; at + chunk <= values.length; at += chunk) many.run(values.slice(at, at + chunk));
  for (; at < values.length; at += width) one.run(values.slice(at, at + width));
}

parentPort.on('message', (message) => {
  try {
    if (message.kind === 'open') open(message);
    else if (message.kind === 'append') {
      if (failed !== null) throw failed;
      try {
        appendBatch(message);
      } catch (error) {
        failed = error;
        throw error;
      }
    } else if (message.kind === 'close') {
      if (db?.open) db.close();
    }
    parentPort.postMessage({ id: message.id, ok: true });
  } catch (error) {
    parentPort.postMessage({
      id: message.id,
      ok: false,
      code: typeof error?.code === 'string' ? error.code : '',
      message: error instanceof Error ? error.message : String(error),
    });
  }
});
