/**
 * Journal records as the SQLite store keeps them: the records of one write are one segment, a
 * BLOB of frames, one per record, in journal order, with consecutive positions (frame i holds
 * record `firstSeq + i`):
 *
 *   frame := length:u32le checksum:u32le text:utf8[length]
 *
 * `text` is the record's sealed text (`sealedText`: seq, time, command, outcome, events and
 * accounts joined by U+0000, the accounts by U+0001) and `checksum` the record checksum, the
 * CRC-32 of those bytes. A segment is written in one insert, not one row per record: rows cost
 * the writer more than the engine spends applying the command.
 *
 * The durable engine's main thread builds the frames with their checksums left zero
 * ({@link FrameBuilder}); the writer thread (`sqliteWriter.mjs`) fills them in and stores the
 * segment (the SQLite tests check its frames against {@link encodeFrames} byte for byte). Reading decodes a segment back to records ({@link decodeFrames}); a frame that cannot
 * be read becomes a record that fails its checksum, so that recovery names it as damaged.
 */
import { Buffer } from 'node:buffer';
import { grownBytes } from '../engine/bytes.js';
import { type JournalRecord, type RecordContent, sealedText } from './journal.js';
import { accountsStart, FRAME_HEADER, frameBounds } from './segmentLayout.mjs';

export { FRAME_HEADER };

const decoder = new TextDecoder();

/** Frames of consecutive records, built into one growing buffer. */
export class FrameBuilder {
  private bytes: Uint8Array<ArrayBuffer>;
  private view: DataView;
  /** The same bytes as a Buffer: its `write` encodes UTF-8 faster than a TextEncoder. */
  private buffer: Buffer;
  private at = 0;

  /** `capacity`: bytes to start with; the buffer doubles as frames are added. */
  constructor(capacity = 1 << 10) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
    this.buffer = Buffer.from(this.bytes.buffer);
  }

  /** Appends the frame of `record`, with `checksum` (0: to be filled in by the writer). */
  add(record: RecordContent, checksum = 0): void {
    const text = sealedText(record);
    // UTF-8 takes at most three bytes per UTF-16 unit.
    this.reserve(FRAME_HEADER + text.length * 3);
    const written = this.buffer.write(text, this.at + FRAME_HEADER);
    this.view.setUint32(this.at, written, true);
    this.view.setUint32(this.at + 4, checksum, true);
    this.at += FRAME_HEADER + written;
  }

  /** Bytes of the frames so far. */
  get size(): number {
    return this.at;
  }

  /**
   * The frames so far, in a buffer of their own (which can be moved to another thread); the
   * builder starts again empty.
   */
  take(): Uint8Array {
    const frames = this.bytes.subarray(0, this.at);
    // Nothing is allocated until the next frame: most builders are taken once.
    this.bytes = new Uint8Array(0);
    this.view = new DataView(this.bytes.buffer);
    this.buffer = Buffer.from(this.bytes.buffer);
    this.at = 0;
    return frames;
  }

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.bytes.length) return;
    this.bytes = grownBytes(this.bytes, this.at, this.at + bytes);
    this.view = new DataView(this.bytes.buffer);
    this.buffer = Buffer.from(this.bytes.buffer);
  }
}

/** The frames of `records` with their checksums as they are (sealed or deliberately not). */
export function encodeFrames(records: readonly JournalRecord[]): Uint8Array {
  const builder = new FrameBuilder();
  for (const record of records) builder.add(record, record.checksum >>> 0);
  return builder.take();
}

/**
 * Calls `visit` with each whole frame of a segment in order (its position, the bounds of its
 * text and its checksum) until it returns false; returns the position of a frame cut short
 * (running past the end), or null.
 */
function eachFrame(
  firstSeq: number,
  frames: Uint8Array,
  visit: (seq: number, start: number, end: number, checksum: number) => boolean,
): number | null {
  const view = new DataView(frames.buffer, frames.byteOffset, frames.byteLength);
  let at = 0;
  for (let seq = firstSeq; at < frames.length; seq++) {
    const start = at + FRAME_HEADER;
    if (start > frames.length) return seq;
    const end = start + view.getUint32(at, true);
    if (end > frames.length) return seq;
    if (!visit(seq, start, end, view.getUint32(at + 4, true))) return null;
    at = end;
  }
  return null;
}

/**
 * The records of a segment whose first record is `firstSeq`: those from position `from` on
 * (the frames before are stepped over unread), at most `max` of them. A frame that runs past the
 * end, or whose text is not a record at its position, is returned as a record that fails its
 * checksum (checksum -1, never a CRC-32), at its position: the damage is reported, not skipped.
 */
export function decodeFrames(
  firstSeq: number,
  frames: Uint8Array,
  from = firstSeq,
  max = Infinity,
): JournalRecord[] {
  const records: JournalRecord[] = [];
  if (max <= 0) return records;
  const cut = eachFrame(firstSeq, frames, (seq, start, end, checksum) => {
    if (seq < from) return true;
    records.push(recordFromText(seq, decoder.decode(frames.subarray(start, end)), checksum));
    return records.length < max;
  });
  if (cut !== null && cut >= from) records.push(unreadable(cut));
  return records;
}

/**
 * The records of a segment whose frames `admit` lets through, decoded; the others are stepped
 * over unread. `admit` sees the frame's text bytes, `frames[start..end)`: a history query
 * looks at a frame's account list or time there before paying for its decoding. Frames that
 * cannot be read are left out.
 */
export function decodeFramesWhere(
  firstSeq: number,
  frames: Uint8Array,
  admit: (frames: Uint8Array, start: number, end: number) => boolean,
): JournalRecord[] {
  const records: JournalRecord[] = [];
  eachFrame(firstSeq, frames, (seq, start, end, checksum) => {
    if (admit(frames, start, end)) {
      records.push(recordFromText(seq, decoder.decode(frames.subarray(start, end)), checksum));
    }
    return true;
  });
  return records;
}

/** Whether a frame's text, `frames[start..end)`, names `account` (ASCII) among its accounts. */
export function frameNamesAccount(
  frames: Uint8Array,
  start: number,
  end: number,
  account: Uint8Array,
): boolean {
  // The accounts are the last field, separated by U+0001.
  for (let at = accountsStart(frames, start, end); at < end;) {
    let next = at;
    while (next < end && frames[next] !== 1) next++;
    if (next - at === account.length) {
      let same = true;
      for (let i = 0; i < account.length && same; i++) same = frames[at + i] === account[i];
      if (same) return true;
    }
    at = next + 1;
  }
  return false;
}

/** The time field of a frame's text (its second), or NaN when it is not digits. */
export function frameTime(frames: Uint8Array, start: number, end: number): number {
  let at = start;
  while (at < end && frames[at] !== 0) at++;
  let time = 0;
  let digits = 0;
  for (at++; at < end && frames[at] !== 0; at++, digits++) {
    const digit = (frames[at] as number) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    time = time * 10 + digit;
  }
  return digits === 0 ? Number.NaN : time;
}

/** The frames of records `first` to `last` of a segment starting at `firstSeq`, as stored. */
export function frameRange(
  firstSeq: number,
  frames: Uint8Array,
  first: number,
  last: number,
): Uint8Array {
  const [from, to] = frameBounds(firstSeq, frames, first, last);
  return frames.subarray(from, to);
}

function recordFromText(seq: number, text: string, checksum: number): JournalRecord {
  const fields = text.split('\u0000');
  if (fields.length !== 6) return unreadable(seq);
  const [seqText, timeText, command, outcome, events, accounts] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  // Frame i holds record firstSeq + i: text naming another position is damage.
  if (seqText !== String(seq)) return unreadable(seq);
  return {
    seq,
    time: Number(timeText),
    command,
    outcome,
    events,
    accounts: accounts === '' ? [] : accounts.split('\u0001'),
    checksum,
  };
}

function unreadable(seq: number): JournalRecord {
  return { seq, time: 0, command: '', outcome: '', events: '', accounts: [], checksum: -1 };
}
