/**
 * Operating errors of the replicated log, with stable codes. A client matches on the code; the
 * message is for people. `retry` says whether the same request, with the same idempotency key,
 * may be sent again (to this node or another): every code but `invalid_request` and the halts of a replica (`diverged`,
 * `local_journal_mismatch`, `snapshot_refused`, `log_trimmed`).
 */
export const REPLICATION_ERROR_CODES = {
  invalid_request: 'the request is not a command envelope: fix it, do not retry',
  not_leader: 'this node does not hold the lease: send the command to the leader',
  queue_full: 'the leader has too many commands waiting for the log: retry later',
  log_unavailable:
    'the log did not store the batch in time (no quorum, or an election): outcome unknown, retry with the same idempotency key',
  fenced: 'a newer leader wrote to the log: this node stepped down, retry with the same key',
  diverged: 'this replica state hash disagrees with the others at a checkpoint: it has stopped',
  local_journal_mismatch: "the replica's local journal is not a prefix of the log",
  timeout: 'no answer in time: retry with the same idempotency key',
  snapshot_refused:
    'a replica snapshot is damaged, of another shard, or does not give its recorded state hash',
  log_trimmed: 'the log no longer holds the entries after the newest usable snapshot',
} as const;

export type ReplicationErrorCode = keyof typeof REPLICATION_ERROR_CODES;

/** A typed refusal of the replication layer. */
export class ReplicationError extends Error {
  readonly code: ReplicationErrorCode;

  constructor(code: ReplicationErrorCode, message: string = REPLICATION_ERROR_CODES[code]) {
    super(message);
    this.name = 'ReplicationError';
    this.code = code;
  }

  /** Whether the request may be sent again with the same idempotency key. */
  get retry(): boolean {
    return (
      this.code !== 'invalid_request' &&
      this.code !== 'diverged' &&
      this.code !== 'local_journal_mismatch' &&
      this.code !== 'snapshot_refused' &&
      this.code !== 'log_trimmed'
    );
  }
}
