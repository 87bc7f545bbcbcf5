// Types of `segmentLayout.mjs` (plain JavaScript, shared with the SQLite writer thread).

export declare const FRAME_HEADER: number;
export declare const ACCOUNT_BUCKET: number;
export declare const SEGMENT_HOLDING: string;
export declare const LAST_SEQ: string;
export declare const INSERT_SEGMENT: string;
export declare function insertAccountsSql(rows: number): string;
export declare function accountRows(
  firstSeq: number,
  accounts: Iterable<string>,
): (number | string)[];
export declare function accountsStart(frames: Uint8Array, start: number, end: number): number;
export declare function frameBounds(
  firstSeq: number,
  frames: Uint8Array,
  first: number,
  last: number,
): [from: number, to: number];
