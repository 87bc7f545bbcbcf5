// The SQLite journal's segments as both of its threads read and write them: the main thread
// (`sqliteStore.ts`, `recordFrames.ts`) and the writer thread (`sqliteWriter.mjs`). The writer
// is loaded as a worker from `src/` (tests) and `dist/` (the package) alike, without a build
// step, so what it shares with the main thread is plain JavaScript too, here; its types are in
// `segmentLayout.d.mts`. A segment's records are frames (`recordFrames.ts` describes them):
//
//   frame := length:u32le checksum:u32le text:utf8[length]
//
// and the text's last field, after its last U+0000, lists the accounts, joined by U+0001.

/** Bytes of a frame's header: length and checksum. */
export const FRAME_HEADER = 8;

/**
 * Journal positions per bucket of the account index: its entries are ordered by bucket, then
 * account, so that a write touches the pages of one bucket only (ordered by account first over
 * the whole journal, they touched pages all over a growing index, and writes slowed as the
 * journal grew), and a history query looks its account up once a bucket.
 */
export const ACCOUNT_BUCKET = 1 << 20;

/**
 * SQL for the first position of the segment holding position `?` (or, in a gap, the one
 * before): segments do not overlap, so the segments from a position on start there, and a
 * query that says so walks the primary key from there instead of every segment before.
 */
export const SEGMENT_HOLDING =
  '(SELECT coalesce(max(first_seq), 0) FROM segments WHERE first_seq <= ?)';

/** SQL for the journal's last position: the last segment's (an index seek, not a scan). */
export const LAST_SEQ = 'SELECT last_seq FROM segments ORDER BY first_seq DESC LIMIT 1';

/** SQL storing a segment: first and last position, smallest and largest time, frames. */
export const INSERT_SEGMENT =
  'INSERT INTO segments (first_seq, last_seq, min_time, max_time, records) VALUES (?, ?, ?, ?, ?)';

/** SQL storing `rows` account index entries (bucket, account, segment) in one statement. */
export function insertAccountsSql(rows) {
  return `INSERT OR IGNORE INTO segment_accounts (bucket, account, first_seq) VALUES ${Array(rows).fill('(?, ?, ?)').join(', ')}`;
}

/** The account index entries of a segment starting at `firstSeq`, flat, in account order. */
export function accountRows(firstSeq, accounts) {
  const bucket = Math.floor(firstSeq / ACCOUNT_BUCKET);
  const rows = [];
  for (const account of [...accounts].sort()) rows.push(bucket, account, firstSeq);
  return rows;
}

/** Where the accounts field of the frame text `frames[start..end)` begins. */
export function accountsStart(frames, start, end) {
  let at = end;
  while (at > start && frames[at - 1] !== 0) at--;
  return at;
}

/**
 * The bytes of the whole frames of records `first` to `last` in a segment whose first record
 * is `firstSeq`, as `[from, to)`; a frame cut short (running past the end) ends them, and none
 * there is `[0, 0)`.
 */
export function frameBounds(firstSeq, frames, first, last) {
  const view = new DataView(frames.buffer, frames.byteOffset, frames.byteLength);
  let from = -1;
  let to = 0;
  let at = 0;
  for (let seq = firstSeq; seq <= last && at + FRAME_HEADER <= frames.length; seq++) {
    const end = at + FRAME_HEADER + view.getUint32(at, true);
    if (end > frames.length) break;
    if (seq >= first) {
      if (from < 0) from = at;
      to = end;
    }
    at = end;
  }
  return from < 0 ? [0, 0] : [from, to];
}
