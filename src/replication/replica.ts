/**
 * One engine replica of a shard: it reads the replicated log in order and applies every entry
 * (`LogApplier`), publishes its state hash at checkpoints and checks the others' (`AuditBook`),
 * and contends for the lease. The lease holder is the leader: it takes clients' commands,
 * appends them to the log in batches (one append in flight, the next batch filling meanwhile),
 * fenced by `expect.lastSequence`, and answers each command once its own replica applied it,
 * which is after the log's quorum stored it. Every replica computes the same outcomes; only the
 * leader answers. Time is injected (`now`): the lease's bookkeeping needs a clock, the engine
 * never sees it.
 */
import type { NatsConnection, Subscription } from 'nats';
import { Engine } from '../engine/engine.js';
import type { DurableEngine } from '../store/durableEngine.js';
import { type CommandOutcome, type EntryResult, LogApplier } from './applier.js';
import { AuditBook } from './audit.js';
import { decodeRequests, encodeEntry, type KeyedCommand } from './envelope.js';
import { ReplicationError } from './errors.js';
import { Lease } from './lease.js';
import { ensureShard, JetStreamLog, type LogSettings, shardNames } from './natsLog.js';
import { decodeSnapshot, type ReplicaSnapshot, SnapshotStore, takeSnapshot } from './snapshot.js';
import { durableTarget, type JournalObserver, memoryTarget } from './targets.js';

export interface ReplicaOptions extends LogSettings {
  readonly node: string;
  readonly shard?: string;
  readonly connection: NatsConnection;
  /** The wall clock, ms (the lease's bookkeeping only). */
  readonly now: () => number;
  /** Replicas of the shard, for the divergence check's majority. Default 3. */
  readonly replicaCount?: number;
  /** Stream sequences between state-hash checkpoints. Default 1,000. */
  readonly checkpointEvery?: number;
  /** Commands in one log entry, at most. Default 256. */
  readonly batchMax?: number;
  /** Commands the leader holds waiting for the log, at most. Default 10,000. */
  readonly queueMax?: number;
  /** How long the leader retries an unacknowledged append before it gives up, ms. Default 20,000. */
  readonly appendDeadlineMs?: number;
  /** Idempotency keys remembered (log order). Default 200,000. */
  readonly dedupMax?: number;
  /** A local journal for the replica's history and snapshots; none: memory only. */
  readonly durable?: DurableEngine;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string, fields?: object) => void;
  /** Called after each entry is applied (instrumentation and tests; must not change the state). */
  readonly afterEntry?: (result: EntryResult, engine: Engine) => void;
  /**
   * Told of each command the local journal takes (only with `durable`, once the journal is
   * verified against the log): a service's liquidation monitor and streams.
   */
  readonly onJournaled?: JournalObserver;
  /**
   * Stream sequences between snapshots (a multiple of `checkpointEvery`); 0 or none: no
   * snapshots are taken or loaded.
   */
  readonly snapshotEvery?: number;
  /** Called once when the replica stops for good (divergence, a local journal that disagrees). */
  readonly onHalt?: (error: ReplicationError) => void;
}

export type Role = 'follower' | 'candidate' | 'leader' | 'halted' | 'stopped';

type Respond = (outcome: CommandOutcome | ReplicationError) => void;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Replica {
  readonly node: string;
  readonly names: ReturnType<typeof shardNames>;
  role: Role = 'follower';
  /** The term this replica leads in, or 0. */
  term = 0;
  private readonly options: ReplicaOptions;
  private readonly log: JetStreamLog;
  private readonly audit: AuditBook;
  private readonly applier: LogApplier;
  private current: Engine;
  /** A replay engine until the local journal's commands are re-read (see `start`). */
  private replayUntil = 0;
  private lease: Lease | null = null;
  private readonly stop = new AbortController();
  private readonly seqWaiters: { seq: number; resolve: () => void }[] = [];
  private readonly waiters = new Map<string, Respond[]>();
  private queue: KeyedCommand[] = [];
  private appending = false;
  private expectSeq = 0;
  private batchNo = 0;
  private lastRenewal = 0;
  private submitSub: Subscription | null = null;
  private readonly subs: Subscription[] = [];
  private readonly noted = new Map<string, number>();
  private readonly say: NonNullable<ReplicaOptions['log']>;
  private snapshots: SnapshotStore | null = null;
  /** Snapshots taken at checkpoints, waiting for a majority to agree on their hash. */
  private readonly unverified = new Map<number, ReplicaSnapshot>();
  /** The stream sequence of the snapshot this replica started from, if any. */
  private restoredFrom: number | null = null;
  /** The first stream sequence this replica applied since it started. */
  private firstApplied: number | null = null;

  constructor(options: ReplicaOptions) {
    this.options = options;
    this.node = options.node;
    this.names = shardNames(options.shard ?? 'main');
    this.log = new JetStreamLog(options.connection, this.names);
    this.audit = new AuditBook(this.node, options.replicaCount ?? 3);
    this.say = options.log ?? (() => {});
    const { durable } = options;
    if (durable === undefined || durable.lastSeq === 0) {
      this.current = durable?.engine ?? new Engine();
      this.applier = new LogApplier(
        durable === undefined
          ? memoryTarget(this.current)
          : durableTarget(durable, options.onJournaled),
        options.dedupMax === undefined ? {} : { dedupMax: options.dedupMax },
      );
    } else {
      // The local journal holds commands already: rebuild from the log in memory, check that
      // the journal is the log's prefix (same state hash), then journal the rest.
      this.current = new Engine();
      this.replayUntil = durable.lastSeq;
      this.applier = new LogApplier(memoryTarget(this.current), {
        ...(options.dedupMax === undefined ? {} : { dedupMax: options.dedupMax }),
      });
    }
  }

  /** The engine holding this replica's state (read only). */
  get engine(): Engine {
    return this.current;
  }

  /** Whether the replica stopped for good (divergence, a local journal that disagrees). */
  get halted(): boolean {
    return this.role === 'halted';
  }

  /**
   * Whether the local journal (if any) holds exactly the applied log: false while a restarted
   * replica re-reads the log up to its journal's end, and once halted.
   */
  get journalReady(): boolean {
    return this.replayUntil === 0 && this.role !== 'halted' && this.role !== 'stopped';
  }

  /** Stream sequence of the last entry applied. */
  get appliedSeq(): number {
    return this.applier.seq;
  }

  /** Commands handed to the engine so far. */
  get commandsApplied(): number {
    return this.applier.submitted;
  }

  /** Creates the shard's streams if needed and starts the loops. */
  async start(): Promise<void> {
    let kv;
    for (let attempt = 1; ; attempt++) {
      try {
        kv = await ensureShard(this.options.connection, this.names, this.options);
        if ((this.options.snapshotEvery ?? 0) > 0) {
          const { connection, replicas } = this.options;
          this.snapshots = await SnapshotStore.open(connection, this.names, replicas ?? 3);
        }
        break;
      } catch (error) {
        // A cluster still electing its JetStream leader: wait, up to a minute.
        if (attempt >= 60) throw error;
        this.note('the log is not ready: retrying', error);
        await sleep(1_000);
      }
    }
    this.lease = new Lease(kv, this.names.leaseKey, this.node);
    if (this.snapshots !== null) await this.restore(this.snapshots);
    await this.checkLogStart();
    if (this.halted) return;
    void this.readLoop();
    void this.auditLoop();
    void this.leaseLoop();
    void this.statusLoop();
    this.subs.push(
      this.options.connection.subscribe(`${this.names.nodePrefix}.${this.node}`, {
        callback: (_error, message) => {
          void this.answerNode(message.string()).then((reply) => message.respond(reply));
        },
      }),
    );
  }

  /** Stops the loops; a leader releases its lease so a follower need not wait for the TTL. */
  async close(): Promise<void> {
    if (this.role === 'stopped') return;
    const wasLeader = this.role === 'leader' || this.role === 'candidate';
    this.stepDown(new ReplicationError('not_leader', 'the replica is stopping'));
    this.role = 'stopped';
    this.stop.abort();
    for (const sub of this.subs) sub.unsubscribe();
    if (wasLeader) await this.lease?.release();
  }

  /** Resolves once the replica applied stream sequence `seq`. */
  appliedAtLeast(seq: number): Promise<void> {
    if (this.applier.seq >= seq) return Promise.resolve();
    return new Promise((resolve) => this.seqWaiters.push({ seq, resolve }));
  }

  private async readLoop(): Promise<void> {
    while (!this.stop.signal.aborted && this.role !== 'halted') {
      const reading = new AbortController();
      const abort = () => reading.abort();
      this.stop.signal.addEventListener('abort', abort, { once: true });
      const watchdog = this.watchReader(reading);
      try {
        await this.readUntilAborted(reading.signal);
        if (this.halted) return;
      } catch (error) {
        this.say('warn', 'log reader restarts', { error: (error as Error).message });
      } finally {
        clearInterval(watchdog);
        this.stop.signal.removeEventListener('abort', abort);
        reading.abort();
      }
      await sleep(200);
    }
  }

  /**
   * Applies what the log's reader yields until `signal` aborts, even when the reader itself
   * hangs (a consumer whose server died: the client may not notice for a long time).
   */
  private async readUntilAborted(signal: AbortSignal): Promise<void> {
    const iterator = this.log.read(this.applier.seq + 1, signal)[Symbol.asyncIterator]();
    const aborted = new Promise<null>((resolve) => {
      if (signal.aborted) resolve(null);
      signal.addEventListener('abort', () => resolve(null), { once: true });
    });
    try {
      for (;;) {
        const pending = iterator.next();
        // Abandoned when the abort wins: its late failure must not go unhandled.
        pending.catch(() => undefined);
        const next = await Promise.race([pending, aborted]);
        if (next === null || next.done === true) return;
        const entry = next.value;
        if (entry.seq <= this.applier.seq) continue;
        this.applyStored(entry.seq, entry.text);
        if (this.halted) return;
        if (this.options.durable !== undefined) await this.options.durable.backlogBelow(50_000);
      }
    } finally {
      void iterator.return(undefined).catch(() => undefined);
    }
  }

  /**
   * A reader that stopped moving while the log holds more (a consumer lost with its server)
   * is recreated from the next sequence.
   */
  private watchReader(reading: AbortController): NodeJS.Timeout {
    let seen = this.applier.seq;
    return setInterval(() => {
      const at = this.applier.seq;
      if (at !== seen) {
        seen = at;
        return;
      }
      void this.log.lastSeq().then(
        (last) => {
          if (last > at && this.applier.seq === at) {
            this.say('warn', 'log reader stalled: reopening', { applied: at, last });
            reading.abort();
          }
        },
        () => undefined,
      );
    }, 2_000);
  }

  private applyStored(seq: number, text: string): void {
    this.firstApplied ??= seq;
    const result = this.applier.applyEntry(seq, text);
    if (result.kind === 'term' && result.term > this.term && this.term > 0) {
      this.stepDown(new ReplicationError('fenced', `term ${result.term} began at ${seq}`));
    }
    for (const outcome of result.outcomes) this.answer(outcome);
    if (this.replayUntil > 0 && this.applier.submitted === this.replayUntil) this.handOver();
    const every = this.options.checkpointEvery ?? 1_000;
    if (seq % every === 0) this.checkpoint(seq);
    this.options.afterEntry?.(result, this.current);
    for (let i = this.seqWaiters.length - 1; i >= 0; i--) {
      const waiter = this.seqWaiters[i];
      if (waiter !== undefined && waiter.seq <= seq) {
        this.seqWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  /** The replay reached the local journal's end: same state, or the journal is not the log's. */
  private handOver(): void {
    const durable = this.options.durable;
    if (durable === undefined) return;
    this.replayUntil = 0;
    if (durable.engine.hash() !== this.current.hash()) {
      this.halt(
        new ReplicationError(
          'local_journal_mismatch',
          `the local journal's ${durable.lastSeq} commands do not give the log's state at ${this.applier.seq}`,
        ),
      );
      return;
    }
    this.current = durable.engine;
    this.applier.retarget(durableTarget(durable, this.options.onJournaled));
    this.say('info', 'local journal verified against the log', { seq: this.applier.seq });
  }

  private checkpoint(seq: number): void {
    const hash = this.current.hash();
    const snapshotEvery = this.options.snapshotEvery ?? 0;
    if (this.snapshots !== null && snapshotEvery > 0 && seq % snapshotEvery === 0) {
      const applier = this.applier.exportState();
      const snapshot = takeSnapshot(this.names.shard, this.node, this.current, hash, applier);
      this.unverified.set(seq, snapshot);
      if ((this.options.replicaCount ?? 3) === 1) this.verified(seq);
      // Bounded: a snapshot whose checkpoint is never agreed on is dropped with the oldest.
      for (const old of this.unverified.keys()) {
        if (this.unverified.size <= 4) break;
        this.unverified.delete(old);
      }
    }
    const body = JSON.stringify({ node: this.node, seq, hash });
    void this.log
      .appendAudit(`${this.names.auditPrefix}.${this.node}`, body, `hash:${this.node}:${seq}`)
      .catch((error: unknown) => {
        this.say('warn', 'state hash not published', { seq, error: (error as Error).message });
      });
    this.judge(this.audit.report(this.node, seq, hash));
  }

  private async auditLoop(): Promise<void> {
    while (!this.stop.signal.aborted && this.role !== 'halted') {
      let next = 1;
      try {
        const stream = this.names.auditStream;
        for await (const entry of this.log.read(next, this.stop.signal, stream)) {
          next = entry.seq + 1;
          const report = JSON.parse(entry.text) as { node: string; seq: number; hash: string };
          if (report.node === this.node) continue;
          this.judge(this.audit.report(report.node, report.seq, report.hash));
          if (this.halted) return;
        }
      } catch (error) {
        this.say('warn', 'audit reader restarts', { error: (error as Error).message });
      }
      await sleep(500);
    }
  }

  private judge(verdict: ReturnType<AuditBook['report']>): void {
    const majority = Math.floor((this.options.replicaCount ?? 3) / 2) + 1;
    const agreed = verdict.kind === 'agree' && verdict.replicas >= majority;
    if (agreed || verdict.kind === 'peer-diverged') this.verified(verdict.seq);
    if (verdict.kind === 'peer-diverged') {
      this.say('error', 'a peer replica diverged', { seq: verdict.seq, nodes: verdict.nodes });
    } else if (verdict.kind === 'diverged') {
      this.halt(
        new ReplicationError(
          'diverged',
          `replica ${this.node} diverged at stream sequence ${verdict.seq}: its state hash ${verdict.mine} against ${verdict.others} (${verdict.reporters} replicas reported)`,
        ),
      );
    }
  }

  /** A majority agreed on this replica's hash at `seq`: its snapshot there may be stored. */
  private verified(seq: number): void {
    const snapshot = this.unverified.get(seq);
    const store = this.snapshots;
    if (snapshot === undefined || store === null) return;
    this.unverified.delete(seq);
    void store.put(snapshot).then(
      () => this.say('info', 'snapshot stored', { seq, commands: snapshot.submitted }),
      (error: unknown) => this.note('snapshot not stored', error),
    );
  }

  /**
   * Starts from the newest snapshot that checks out and that the local journal (if any) holds
   * the commands of; a refused one is logged at error level and the next older tried. A fresh
   * local journal needs every command, so it replays the log from its start.
   */
  private async restore(store: SnapshotStore): Promise<void> {
    const durable = this.options.durable;
    if (durable !== undefined && durable.lastSeq === 0) return;
    const limit = durable?.lastSeq ?? Number.POSITIVE_INFINITY;
    const entries = await this.patiently('snapshot list', () => store.list(this.node));
    for (const entry of entries ?? []) {
      try {
        const bytes = await this.patiently('snapshot load', () => store.load(entry.name));
        if (bytes === null) continue;
        const { snapshot, engine } = decodeSnapshot(bytes, this.names.shard);
        if (snapshot.seq !== entry.seq) throw new ReplicationError('snapshot_refused', 'misnamed');
        if (snapshot.submitted > limit) continue;
        this.current = engine;
        this.applier.retarget(memoryTarget(engine));
        this.applier.restoreState(snapshot);
        this.restoredFrom = snapshot.seq;
        this.say('info', 'started from a snapshot', {
          seq: snapshot.seq,
          hash: snapshot.stateHash,
        });
        if (this.replayUntil > 0 && this.applier.submitted === this.replayUntil) this.handOver();
        return;
      } catch (error) {
        if (!(error instanceof ReplicationError)) throw error;
        this.say('error', `snapshot ${entry.name} refused: ${error.message}`, { code: error.code });
      }
    }
  }

  /**
   * Retries a snapshot store's request that does not answer (a cluster still electing) for up
   * to 30 s; then null: the replica goes on without it (it replays the log instead).
   */
  private async patiently<T>(what: string, ask: () => Promise<T>): Promise<T | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ask();
      } catch (error) {
        if (error instanceof ReplicationError) throw error;
        if (attempt >= 30) {
          this.say('error', `${what} failed: going on without snapshots`, {
            error: (error as Error).message,
          });
          return null;
        }
        this.note(`${what}: retrying`, error);
        await sleep(1_000);
      }
    }
  }

  /** The log must hold every entry after the applied position: trimmed past it, stop. */
  private async checkLogStart(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const first = await this.log.firstSeq();
        const last = await this.log.lastSeq();
        if (last > this.applier.seq && first > this.applier.seq + 1) {
          const message = `the log starts at ${first}; this replica needs it from ${this.applier.seq + 1} (a snapshot at ${first - 1} or later)`;
          this.halt(new ReplicationError('log_trimmed', message));
        }
        return;
      } catch (error) {
        if (attempt >= 30) throw error;
        this.note('the log does not answer: retrying', error);
        await sleep(1_000);
      }
    }
  }

  private halt(error: ReplicationError): void {
    if (this.role === 'halted') return;
    const wasLeader = this.role === 'leader' || this.role === 'candidate';
    this.stepDown(error);
    this.role = 'halted';
    this.stop.abort();
    this.say('error', `HALTED: ${error.message}`, { code: error.code });
    if (wasLeader) void this.lease?.release();
    this.options.onHalt?.(error);
  }

  private async leaseLoop(): Promise<void> {
    const ttl = this.options.leaseTtlMs ?? 2_000;
    while (!this.stop.signal.aborted && this.role !== 'halted') {
      if (this.role === 'leader' || this.role === 'candidate') {
        await this.keepLease(ttl);
        await sleep(Math.max(50, Math.floor(ttl / 5)));
      } else {
        await this.contend();
        await sleep(Math.max(50, Math.floor(ttl / 8)));
      }
    }
  }

  private async keepLease(ttl: number): Promise<void> {
    // Self-fencing: a leader that could not renew for most of the TTL (a pause, a lost server)
    // stops before another may have taken over; the log fences it anyway.
    if (this.options.now() - this.lastRenewal > ttl * 0.8) {
      this.stepDown(new ReplicationError('not_leader', 'the lease was not renewed in time'));
      return;
    }
    if (await (this.lease as Lease).renew()) {
      this.lastRenewal = this.options.now();
    } else if (this.role === 'leader' || this.role === 'candidate') {
      this.stepDown(new ReplicationError('not_leader', 'the lease was lost'));
    }
  }

  /** A caught-up follower tries to take the lease (only one that applied the whole log may). */
  private async contend(): Promise<void> {
    if (this.role !== 'follower') return;
    let last: number;
    try {
      last = await this.log.lastSeq();
    } catch (error) {
      this.note('contend: the log does not answer', error);
      return;
    }
    if (this.applier.seq < last) return;
    if (this.replayUntil > 0) {
      const message = `the local journal holds ${this.replayUntil} commands, the whole log ${this.applier.submitted}`;
      this.halt(new ReplicationError('local_journal_mismatch', message));
      return;
    }
    const started = this.options.now();
    const lease = this.lease as Lease;
    const term = await lease.tryAcquire(started, this.options.leaseTtlMs ?? 2_000);
    if (term === null && !/wrong last sequence|exists/i.test(lease.lastRefusal)) {
      this.note('contend: the lease bucket refused', new Error(lease.lastRefusal));
    }
    if (term === null || this.role !== 'follower') return;
    this.term = term;
    this.role = 'candidate';
    this.lastRenewal = started;
    this.say('info', 'lease acquired', { term, applied: this.applier.seq });
    void this.takeOffice(term);
  }

  /** A warning at most every 2 s per message (loops that retry fast). */
  private note(message: string, error: unknown): void {
    const now = this.options.now();
    if (now - (this.noted.get(message) ?? 0) < 2_000) return;
    this.noted.set(message, now);
    this.say('warn', message, { error: (error as Error).message });
  }

  /** Catch up, write the term's marker (fenced), apply it, then take commands. */
  private async takeOffice(term: number): Promise<void> {
    const marker = encodeEntry({ kind: 'term', term, node: this.node });
    while (this.role === 'candidate' && this.term === term) {
      try {
        const last = await this.log.lastSeq();
        await this.appliedAtLeast(last);
        if (this.role !== 'candidate' || this.term !== term) break;
        const ack = await this.log.append(marker, {
          msgId: `term:${this.names.shard}:${term}`,
          expectLastSeq: last,
          term,
        });
        await this.appliedAtLeast(ack.seq);
        if (this.applier.term !== term || this.role !== 'candidate') break;
        this.expectSeq = ack.seq;
        this.role = 'leader';
        this.submitSub = this.options.connection.subscribe(this.names.submitSubject, {
          callback: (_error, message) =>
            this.take(message.string(), (reply) => message.respond(reply)),
        });
        this.say('info', 'leading', { term, from: ack.seq });
        return;
      } catch (error) {
        this.note('taking office: retrying', error);
        await sleep(100);
      }
    }
    if (this.role === 'candidate') this.stepDown(new ReplicationError('fenced'));
  }

  /** Leaves the leader's office: no more commands; those waiting are told to retry. */
  private stepDown(reason: ReplicationError): void {
    if (this.role !== 'leader' && this.role !== 'candidate') return;
    this.say('warn', 'stepping down', { term: this.term, reason: reason.message });
    this.role = 'follower';
    this.term = 0;
    this.submitSub?.unsubscribe();
    this.submitSub = null;
    this.queue = [];
    const waiting = [...this.waiters.values()];
    this.waiters.clear();
    for (const responders of waiting) for (const respond of responders) respond(reason);
  }

  /**
   * A client's request of one command or several: each answered from the table, joined to one
   * in flight, or queued; the reply goes once every command has its answer (a batch's first
   * failure fails it whole: the client retries it, and what was applied comes back as
   * duplicates).
   */
  private take(text: string, reply: (body: string) => void): void {
    let request: ReturnType<typeof decodeRequests>;
    try {
      request = decodeRequests(text);
    } catch (error) {
      reply(answerText(error as ReplicationError, this.node));
      return;
    }
    const { items, batch } = request;
    const answers: (CommandOutcome | undefined)[] = items.map(() => undefined);
    let left = items.length;
    let failed = false;
    const settle =
      (index: number): Respond =>
      (outcome) => {
        if (failed) return;
        if (outcome instanceof ReplicationError) {
          failed = true;
          reply(answerText(outcome, this.node));
          return;
        }
        answers[index] = outcome;
        left -= 1;
        if (left > 0) return;
        if (!batch) reply(answerText(outcome, this.node));
        else reply(JSON.stringify({ outcomes: answers, node: this.node }));
      };
    if (this.role !== 'leader') {
      settle(0)(new ReplicationError('not_leader'));
      return;
    }
    if (this.waiters.size + items.length > (this.options.queueMax ?? 10_000)) {
      settle(0)(new ReplicationError('queue_full'));
      return;
    }
    items.forEach((item, index) => this.takeOne(item, settle(index)));
    if (this.queue.length > 0 && !this.appending) void this.appendLoop();
  }

  private takeOne(item: KeyedCommand, respond: Respond): void {
    const known = this.applier.answerOf(item.key);
    if (known !== undefined) {
      respond(known);
      return;
    }
    const joined = this.waiters.get(item.key);
    if (joined !== undefined) {
      joined.push(respond);
      return;
    }
    this.waiters.set(item.key, [respond]);
    this.queue.push(item);
  }

  private answer(outcome: CommandOutcome): void {
    const responders = this.waiters.get(outcome.key);
    if (responders === undefined) return;
    this.waiters.delete(outcome.key);
    const value = outcome.status === 'stale' ? new ReplicationError('fenced') : outcome;
    for (const respond of responders) respond(value);
  }

  /** Appends the queue in batches, one append in flight, while leading. */
  private async appendLoop(): Promise<void> {
    this.appending = true;
    try {
      while (this.role === 'leader' && this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.batchMax ?? 256);
        const term = this.term;
        const text = encodeEntry({ kind: 'commands', term, node: this.node, commands: batch });
        this.batchNo += 1;
        const msgId = `${this.node}:${term}:${this.batchNo}`;
        const seq = await this.appendPersistently(text, msgId, term);
        if (seq === null) return;
        this.expectSeq = seq;
      }
    } finally {
      this.appending = false;
    }
  }

  /**
   * One batch to the log, retried with the same message id while the log does not answer (an
   * election), up to `appendDeadlineMs`; then the leader steps down (outcome unknown: the
   * clients retry with their keys). Null when the batch did not go (fenced, or given up).
   */
  private async appendPersistently(text: string, msgId: string, term: number) {
    const started = this.options.now();
    const deadline = this.options.appendDeadlineMs ?? 20_000;
    for (;;) {
      if (this.role !== 'leader' || this.term !== term) return null;
      try {
        const ack = await this.log.append(text, { msgId, expectLastSeq: this.expectSeq, term });
        return ack.seq;
      } catch (error) {
        const failure = error as ReplicationError;
        this.note('append not acknowledged: retrying', failure);
        if (failure.code === 'fenced' || this.options.now() - started > deadline) {
          this.stepDown(failure);
          if (failure.code !== 'fenced') void this.lease?.release();
          return null;
        }
        await sleep(100);
      }
    }
  }

  private async statusLoop(): Promise<void> {
    while (!this.stop.signal.aborted) {
      const body = JSON.stringify(this.status());
      try {
        this.options.connection.publish(`${this.names.statusPrefix}.${this.node}`, body);
      } catch {
        // Closed or reconnecting: the next one goes.
      }
      await sleep(100);
    }
  }

  /** What the status messages and node requests report. */
  status() {
    return {
      node: this.node,
      role: this.role,
      term: this.term,
      applied: this.applier.seq,
      commands: this.applier.submitted,
      appended: this.role === 'leader' ? this.expectSeq : null,
      waiting: this.waiters.size,
      snapshot: this.restoredFrom,
      firstApplied: this.firstApplied,
    };
  }

  /** A node request: `{"until": SEQ}` waits until applied (bounded), then status and hash. */
  private async answerNode(text: string): Promise<string> {
    let until: number;
    try {
      until = Number((JSON.parse(text || '{}') as { until?: number }).until ?? 0);
    } catch {
      until = 0;
    }
    if (until > 0) await Promise.race([this.appliedAtLeast(until), sleep(10_000)]);
    return JSON.stringify({ ...this.status(), hash: this.current.hash() });
  }
}

/** The leader's answer to a client, as JSON text. */
export function answerText(outcome: CommandOutcome | ReplicationError, node: string): string {
  if (outcome instanceof ReplicationError) {
    return JSON.stringify({ error: { code: outcome.code, message: outcome.message }, node });
  }
  return JSON.stringify({ ...outcome, node });
}
