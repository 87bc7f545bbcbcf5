/**
 * The SQLite store's record segments: frames read back to the records written, whatever their
 * text; a frame that is damaged, cut short or at the wrong position is reported as a record that
 * fails its checksum, at its position; the range and digest of part of a segment are those of
 * the same records framed alone.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type JournalRecord, recordIntact, sealRecord } from '../../src/store/journal.js';
import {
  decodeFrames,
  decodeFramesWhere,
  encodeFrames,
  FRAME_HEADER,
  FrameBuilder,
  frameNamesAccount,
  frameRange,
  frameTime,
} from '../../src/store/recordFrames.js';

/** Text without U+0000 (the field separator), including multi-byte and astral characters. */
const text = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replaceAll('\u0000', '?'));
const account = fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,12}$/);

/** Consecutive sealed records from `first`. */
const records = fc
  .tuple(
    fc.integer({ min: 1, max: 1_000_000 }),
    fc.array(
      fc.record({
        time: fc.integer({ min: 0, max: 2 ** 40 }),
        command: text,
        outcome: fc.constantFrom('ok', 'insufficient_collateral', 'unknown_asset'),
        events: text,
        accounts: fc.array(account, { maxLength: 3 }),
      }),
      { minLength: 1, maxLength: 20 },
    ),
  )
  .map(([first, contents]) => contents.map((c, i) => sealRecord({ ...c, seq: first + i })));

/** Offsets of each frame in `frames`. */
function offsets(frames: Uint8Array): number[] {
  const view = new DataView(frames.buffer, frames.byteOffset, frames.byteLength);
  const at: number[] = [];
  for (let o = 0; o < frames.length; o += FRAME_HEADER + view.getUint32(o, true)) at.push(o);
  return at;
}

describe('record frames', () => {
  it('read back to the records written, with their checksums', () => {
    fc.assert(
      fc.property(records, (written) => {
        const read = decodeFrames(written[0]?.seq ?? 1, encodeFrames(written));
        expect(read).toEqual(written);
        expect(read.every(recordIntact)).toBe(true);
      }),
    );
  });

  it('framed unsealed (for the writer thread to seal) differ from sealed frames only in checksums', () => {
    fc.assert(
      fc.property(records, (written) => {
        // A small start, so that the buffer grows while frames are added.
        const builder = new FrameBuilder(16);
        for (const { checksum: _, ...content } of written) builder.add(content);
        const first = written[0]?.seq ?? 1;
        const unsealed = decodeFrames(first, builder.take());
        expect(unsealed).toEqual(written.map((r) => ({ ...r, checksum: 0 })));
      }),
    );
  });

  it('read from a position, at most a number, stepping over the frames before', () => {
    fc.assert(
      fc.property(records, fc.nat(25), fc.nat(25), (written, skip, max) => {
        const first = written[0]?.seq ?? 1;
        const read = decodeFrames(first, encodeFrames(written), first + skip, max);
        expect(read).toEqual(written.slice(skip, skip + max));
      }),
    );
  });

  it('the frames of a range of records are those records framed alone', () => {
    fc.assert(
      fc.property(records, fc.nat(20), fc.nat(20), (written, a, b) => {
        const first = written[0]?.seq ?? 1;
        const [from, to] = [Math.min(a, b), Math.max(a, b)];
        const range = frameRange(first, encodeFrames(written), first + from, first + to);
        expect(range).toEqual(encodeFrames(written.slice(from, to + 1)));
      }),
    );
  });

  it('the frames of a range of a segment cut short are its whole frames only', () => {
    fc.assert(
      fc.property(records, fc.nat(20), fc.nat(20), fc.nat(), (written, a, b, cut) => {
        const first = written[0]?.seq ?? 1;
        const [from, to] = [Math.min(a, b), Math.max(a, b)];
        const frames = encodeFrames(written);
        const length = cut % (frames.length + 1);
        const at = offsets(frames);
        const whole = at.filter((_, i) => (at[i + 1] ?? frames.length) <= length).length;
        const range = frameRange(first, frames.subarray(0, length), first + from, first + to);
        expect(range).toEqual(encodeFrames(written.slice(from, Math.min(to + 1, whole))));
      }),
    );
  });

  it('a changed byte of a record fails that record only', () => {
    fc.assert(
      fc.property(records, fc.nat(), fc.nat(), (written, pick, where) => {
        const frames = encodeFrames(written);
        const starts = offsets(frames);
        const index = pick % written.length;
        const start = starts[index] as number;
        const end = starts[index + 1] ?? frames.length;
        // A byte of the record's text (not its length: that moves every later frame).
        const at = start + FRAME_HEADER + (where % (end - start - FRAME_HEADER));
        frames[at] = (frames[at] as number) ^ 0x01;
        const read = decodeFrames(written[0]?.seq ?? 1, frames);
        expect(read.map((r) => r.seq)).toEqual(written.map((r) => r.seq));
        expect(read.map(recordIntact)).toEqual(written.map((_, i) => i !== index));
      }),
    );
  });

  it('a segment cut short ends with an unreadable record at the position cut', () => {
    fc.assert(
      fc.property(records, fc.nat(), (written, cut) => {
        const frames = encodeFrames(written);
        const length = cut % frames.length;
        const read = decodeFrames(written[0]?.seq ?? 1, frames.subarray(0, length));
        const at = offsets(frames);
        // Frames that end at or before the cut are whole.
        const whole = at.filter((_, i) => (at[i + 1] ?? frames.length) <= length).length;
        expect(read.slice(0, whole)).toEqual(written.slice(0, whole));
        if (length > (at[whole] ?? frames.length)) {
          expect(read).toHaveLength(whole + 1);
          expect(read[whole]?.seq).toBe(written[whole]?.seq);
          expect(recordIntact(read[whole] as JournalRecord)).toBe(false);
        } else {
          expect(read).toHaveLength(whole);
        }
      }),
    );
  });

  it('picked on their bytes, by account or time, as the decoded records would be', () => {
    fc.assert(
      fc.property(records, account, fc.nat(2 ** 40), fc.nat(2 ** 40), (written, who, a, b) => {
        const first = written[0]?.seq ?? 1;
        const frames = encodeFrames(written);
        const name = new TextEncoder().encode(who);
        const byAccount = decodeFramesWhere(first, frames, (f, s, e) =>
          frameNamesAccount(f, s, e, name),
        );
        expect(byAccount).toEqual(written.filter((r) => r.accounts.includes(who)));
        // Also for an account the records do name.
        const named = written.find((r) => r.accounts.length > 0)?.accounts[0];
        if (named !== undefined) {
          const bytes = new TextEncoder().encode(named);
          expect(
            decodeFramesWhere(first, frames, (f, s, e) => frameNamesAccount(f, s, e, bytes)),
          ).toEqual(written.filter((r) => r.accounts.includes(named)));
        }
        const [from, to] = [Math.min(a, b), Math.max(a, b)];
        const byTime = decodeFramesWhere(first, frames, (f, s, e) => {
          const time = frameTime(f, s, e);
          return time >= from && time <= to;
        });
        expect(byTime).toEqual(written.filter((r) => r.time >= from && r.time <= to));
      }),
    );
  });

  it('reads a time that is not plain digits as NaN, for the caller to judge on the record', () => {
    const times = ['-5', '', '1e3', '12', '0'];
    const frames = encodeFrames(
      times.map((time, i) =>
        // A time as text, as a damaged or hand-made frame may hold it.
        sealRecord({
          seq: i + 1,
          time: time as unknown as number,
          command: '{}',
          outcome: 'ok',
          events: '[]',
          accounts: [],
        }),
      ),
    );
    const read: number[] = [];
    decodeFramesWhere(1, frames, (f, s, e) => {
      read.push(frameTime(f, s, e));
      return false;
    });
    expect(read).toEqual([Number.NaN, Number.NaN, Number.NaN, 12, 0]);
  });

  it('a frame that names another position than its own is unreadable there', () => {
    const written = [5, 6, 7].map((seq) =>
      sealRecord({ seq, time: 1, command: '{}', outcome: 'ok', events: '[]', accounts: [] }),
    );
    // Frames of records 5, 6 and 7 read as if the segment started at 4.
    const read = decodeFrames(4, encodeFrames(written));
    expect(read.map((r) => r.seq)).toEqual([4, 5, 6]);
    expect(read.map(recordIntact)).toEqual([false, false, false]);
  });
});
