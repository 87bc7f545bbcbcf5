// The SQLite journal's writer thread. The durable engine applies commands on the main thread
// while this thread writes the previous batch: with two cores, durability then costs about
// the time of the slower of the two, not their sum. Plain JavaScript (no build step), because
// it is loaded as a worker from `src/` (tests) and `dist/` (the package) alike.
//
// Messages in: { id, kind: 'open', file, synchronous, maxPageCount, schema }
//              { id, kind: 'append', seq: Float64Array, time: Float64Array, text: string,
//                snapshot: {...} | null, effects: Uint8Array | null }
//              { id, kind: 'digest', first, last }
//              { id, kind: 'close' }
// Messages out: { id, ok: true [, value] } or { id, ok: false, code, message }.
// In an append, `text` holds each record's command, outcome, events and accounts joined by
// U+0000, which JSON text never contains unescaped. Each record is sealed here with the same
// checksum as `recordChecksum` in journal.ts computes (CRC-32 of seq, time, command, outcome,
// events and accounts joined by U+0000, the accounts among themselves by U+0001). An effects
// segment gets `effectsChecksum` and the records digest of its batch (`recordsDigest`); a
// `digest` message computes the digest of records as stored, for recovery to compare.
import { crc32 } from 'node:zlib';
import { Buffer } from 'node:buffer';
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
let insertEffects = null;
let digestOf = null;
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
  insertEffects = db.prepare(
    'INSERT INTO effects (first_seq, last_seq, data, checksum, records_checksum) VALUES (?, ?, ?, ?, ?)',
  );
  // The digest text of a range of records, built by SQLite and handed over as one BLOB of UTF-8.
  // In journal order: the inner query walks the primary key in order, so it needs no sort (an
  // ORDER BY inside group_concat sorts, and doubled the time).
  digestOf = db
    .prepare(
      "SELECT CAST(group_concat(piece, '') AS BLOB) FROM (SELECT seq || char(1) || time || char(1) || command || char(1) || outcome || char(1) || events || char(1) || accounts || char(2) AS piece FROM journal WHERE seq BETWEEN ? AND ? ORDER BY seq)",
    )
    .pluck();
  appendBatch = db.transaction((message) => {
    const effects = message.effects;
    let digest = 0;
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
      if (effects !== null) {
        digest = crc32(
          `${seq}\u0001${time}\u0001${command}\u0001${outcome}\u0001${events}\u0001${accounts}\u0002`,
          digest,
        );
      }
      if (accounts !== '') for (const account of accounts.split(' ')) pairs.push(account, seq);
    }
    insertInChunks(rows, 7, insertRecords, insertRecord);
    insertInChunks(pairs, 2, insertAccounts, insertAccount);
    if (effects !== null && message.seq.length > 0) {
      const first = message.seq[0];
      const last = message.seq[message.seq.length - 1];
      const checksum = crc32(effects, crc32(`${first}\u0000${last}\u0000`));
      const data = Buffer.from(effects.buffer, effects.byteOffset, effects.byteLength);
      insertEffects.run(first, last, data, checksum, digest);
    }
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
    if (message.kind === 'digest') {
      const text = digestOf.get(message.first, message.last);
      parentPort.postMessage({ id: message.id, ok: true, value: text == null ? 0 : crc32(text) });
      return;
    }
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
