// The SQLite journal's writer thread. The durable engine applies commands on the main thread
// while this thread writes the previous batch: with two cores, durability then costs about
// the time of the slower of the two, not their sum. Plain JavaScript (no build step), because
// it is loaded as a worker from `src/` (tests) and `dist/` (the package) alike.
//
// Messages in: { id, kind: 'open', file, readOnly, synchronous, maxPageCount }
//              { id, kind: 'append', frames: Uint8Array | null, runs: Float64Array,
//                snapshot: {...} | null, effects: Uint8Array | null }
//              { id, kind: 'digests', ranges: Float64Array }   (first, last of each range)
//              { id, kind: 'close' }
// Messages out: { id, ok: true [, value] } or { id, ok: false, code, message }.
// An append's `frames` hold its records as `recordFrames.ts` lays them out (length, checksum,
// sealed text), checksums still zero; `runs` describes the runs of consecutive records in them,
// five numbers each: first position, count, end offset in `frames`, smallest and largest time.
// Each run becomes one segment. Here each frame gets its checksum (the CRC-32 of its text, the
// record checksum of journal.ts), each segment its accounts in the index, and an effects
// segment the records digest of its batch: the CRC-32 of the batch's frames as stored. A
// `digests` message computes the same over records as stored now, a digest per range, for
// recovery to compare. A store opened for reading opens the file read-only here too, and only
// answers `digests`.
import { TextDecoder } from 'node:util';
import { crc32 } from 'node:zlib';
import { Buffer } from 'node:buffer';
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  accountRows,
  accountsStart,
  FRAME_HEADER,
  frameBounds,
  INSERT_SEGMENT,
  insertAccountsSql,
  LAST_SEQ,
  SEGMENT_HOLDING,
} from './segmentLayout.mjs';

// Index rows go in by statements of ROWS rows each (the rest one by one): one statement call
// per row cost more than SQLite's own work on the row.
const ROWS = 64;

let db = null;
let insertSegment = null;
let insertAccount = null;
let insertAccounts = null;
let insertSnapshot = null;
let insertEffects = null;
let segmentsIn = null;
let lastStored = null;
let appendBatch = null;
// After a failed append every later one is refused unwritten: a journal must not go on past a
// batch that is missing.
let failed = null;
const decoder = new TextDecoder();

function open(message) {
  if (message.readOnly) {
    db = new Database(message.file, { readonly: true, fileMustExist: true });
    prepareDigests();
    return;
  }
  db = new Database(message.file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${message.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  if (message.maxPageCount !== null) db.pragma(`max_page_count = ${message.maxPageCount}`);
  insertSegment = db.prepare(INSERT_SEGMENT);
  insertAccount = db.prepare(insertAccountsSql(1));
  insertAccounts = db.prepare(insertAccountsSql(ROWS));
  lastStored = db.prepare(LAST_SEQ).pluck();
  insertSnapshot = db.prepare(
    'INSERT OR REPLACE INTO snapshots (seq, state_hash, state, checksum) VALUES (?, ?, ?, ?)',
  );
  insertEffects = db.prepare(
    'INSERT INTO effects (first_seq, last_seq, data, checksum, records_checksum) VALUES (?, ?, ?, ?, ?)',
  );
  prepareDigests();
  appendBatch = db.transaction((message) => {
    const { frames, runs, effects } = message;
    let digest = 0;
    // Positions only go forward: a write that would overlap the journal is refused whole.
    let journalEnd = lastStored.get() ?? 0;
    for (let r = 0; r < runs.length; r += 5) {
      if (runs[r] <= journalEnd) {
        throw new Error(
          `journal record ${runs[r]} is already written (the journal ends at ${journalEnd})`,
        );
      }
      journalEnd = runs[r] + runs[r + 1] - 1;
    }
    if (frames !== null) {
      const view = new DataView(frames.buffer, frames.byteOffset, frames.byteLength);
      let at = 0;
      for (let r = 0; r < runs.length; r += 5) {
        const first = runs[r];
        const count = runs[r + 1];
        const byteEnd = runs[r + 2];
        const start = at;
        const accounts = new Set();
        for (let i = 0; i < count; i++) {
          const textStart = at + FRAME_HEADER;
          const textEnd = textStart + view.getUint32(at, true);
          view.setUint32(at + 4, crc32(frames.subarray(textStart, textEnd)), true);
          const k = accountsStart(frames, textStart, textEnd);
          if (k < textEnd) {
            for (const account of decoder.decode(frames.subarray(k, textEnd)).split('\u0001')) {
              accounts.add(account);
            }
          }
          at = textEnd;
        }
        // The main thread's runs and frames disagreeing is a bug there, never bad input.
        if (at !== byteEnd) {
          throw new Error(`frames of records ${first} on end at ${at}, not ${byteEnd}`);
        }
        const segment = frames.subarray(start, byteEnd);
        digest = crc32(segment, digest);
        insertSegment.run(
          first,
          first + count - 1,
          runs[r + 3],
          runs[r + 4],
          Buffer.from(segment.buffer, segment.byteOffset, segment.byteLength),
        );
        // In account order, within the segment's bucket (segmentLayout.mjs).
        insertInChunks(accountRows(first, accounts), 3, insertAccounts, insertAccount);
      }
    }
    if (effects !== null && runs.length > 0) {
      const first = runs[0];
      const last = runs[runs.length - 5] + runs[runs.length - 4] - 1;
      const checksum = crc32(effects, crc32(`${first}\u0000${last}\u0000`));
      const data = Buffer.from(effects.buffer, effects.byteOffset, effects.byteLength);
      insertEffects.run(first, last, data, checksum, digest);
    }
    const s = message.snapshot;
    if (s !== null) insertSnapshot.run(s.seq, s.stateHash, s.state, s.checksum);
  });
}

/** The statement `digestsOf` reads segments with. */
function prepareDigests() {
  segmentsIn = db
    .prepare(
      `SELECT first_seq, records FROM segments WHERE first_seq >= ${SEGMENT_HOLDING} AND first_seq <= ? ORDER BY first_seq`,
    )
    .raw(true);
}

/** Inserts `values` (`width` per row) by statements of ROWS rows, the rest row by row. */
function insertInChunks(values, width, many, one) {
  const chunk = ROWS * width;
  let at = 0;
  for (; at + chunk <= values.length; at += chunk) many.run(values.slice(at, at + chunk));
  for (; at < values.length; at += width) one.run(values.slice(at, at + width));
}

/**
 * The records digest of each range (`ranges`: first and last position of each, in pairs) as
 * stored: the CRC-32 of the frames of its records, in order. The segments under all the ranges
 * are read in one query (a query a range cost more than the digests over small segments).
 */
function digestsOf(ranges) {
  const digests = [];
  if (ranges.length < 2) return digests;
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i + 1 < ranges.length; i += 2) {
    low = Math.min(low, ranges[i]);
    high = Math.max(high, ranges[i + 1]);
  }
  const segments = segmentsIn.all(low, high);
  for (let i = 0; i + 1 < ranges.length; i += 2) {
    const first = ranges[i];
    const last = ranges[i + 1];
    // From the segment holding `first` (the last one starting at or before it) on.
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segments[mid][0] <= first) lo = mid;
      else hi = mid - 1;
    }
    let digest = 0;
    for (let k = lo; k < segments.length && segments[k][0] <= last; k++) {
      const frames = segments[k][1];
      const [from, to] = frameBounds(segments[k][0], frames, first, last);
      if (to > from) digest = crc32(frames.subarray(from, to), digest);
    }
    digests.push(digest);
  }
  return digests;
}

parentPort.on('message', (message) => {
  try {
    if (message.kind === 'digests') {
      parentPort.postMessage({ id: message.id, ok: true, value: digestsOf(message.ranges) });
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
