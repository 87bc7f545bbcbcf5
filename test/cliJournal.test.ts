/**
 * The journal under the command line, where it can go wrong: a damaged record, two writers on
 * one folder, a folder that cannot be made, a mistyped or malformed `--data`, a read-only copy,
 * damaged pages. Each is refused in one line, at once, and nothing a reader touches changes.
 * The built program runs as a child process (`npm test` builds first); each run has a time
 * limit, so that a hang fails the test instead of stalling it.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/index.js';

const root = join(import.meta.dirname, '..');
const main = join(root, 'dist', 'cli', 'main.js');
const writerChild = join(import.meta.dirname, 'store', 'writerChild.mjs');
const isRoot = process.getuid?.() === 0;
const story = readFileSync(join(root, 'examples', 'lending-story.jsonl'), 'utf8');

const scratch = mkdtempSync(join(tmpdir(), 'fulcrum-journal-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A fresh folder path under the scratch folder (not created). */
let folders = 0;
const folder = (name: string) => join(scratch, `${name}-${++folders}`);

/** Runs `fulcrum`; a run that does not end within a minute is killed (status null). */
function fulcrum(args: string[], input = '') {
  const result = spawnSync(process.execPath, [main, ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Exit status `status` and one line on standard error matching `pattern`, no stack trace. */
function expectRefused(result: ReturnType<typeof fulcrum>, status: number, pattern: RegExp) {
  expect(result.status, result.stderr).toBe(status);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

/** Every file of `dir` with its bytes: what a reader must leave exactly as it found it. */
function contents(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
}

/** A journal of the lending story, then one deposit of 1234.5678 USDC by zed in a write of its own. */
function storyJournal(dir: string): number {
  expect(fulcrum(['run', '-', '--data', dir], story).status).toBe(0);
  const last = fulcrum(['run', '-', '--data', dir], deposit('zed', '1234.5678', 1_584_200_000));
  expect(last.status, last.stderr).toBe(0);
  return Number(/journal: (\d+) records/.exec(last.stdout)?.[1]);
}

function deposit(account: string, amount: string, time: number): string {
  return JSON.stringify({ type: 'deposit', time, account, asset: 'USDC', amount });
}

/** The questions a reader answers; each must leave the journal as it was. */
const readerCommands = [
  ['verify'],
  ['history', 'account', 'alice'],
  ['history', 'events', '0', '2100-01-01'],
  ['history', 'state', '3'],
];

/** Starts `writerChild.mjs` on `dir`; resolves once it holds the journal. */
async function startWriter(dir: string, file: string, commands?: number) {
  const args = [writerChild, dir, file, ...(commands === undefined ? [] : [String(commands)])];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const seq = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const ready = /ready (\d+)/.exec(out);
      if (ready !== null) resolve(Number(ready[1]));
    });
    child.on('exit', (code) => reject(new Error(`the writer ended (code ${code}): ${err}`)));
  });
  return {
    seq,
    /** Closes the journal and ends. */
    stop: async () => {
      child.stdin.end();
      await exited;
    },
    /** Dies at once, the journal open. */
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('a damaged last record', () => {
  it('is corruption: verify and history say so in one line, change nothing, and no run goes on from it', async () => {
    const dir = folder('damaged');
    const last = storyJournal(dir);
    // One byte of the last record (its event's amount, 1234.5678) flipped on disk.
    const file = join(dir, 'fulcrum.sqlite');
    const bytes = readFileSync(file);
    const at = bytes.indexOf('1234.5678');
    expect(at).toBeGreaterThan(0);
    expect(bytes.indexOf('1234.5678', at + 1)).toBe(-1);
    bytes[at] = '2'.charCodeAt(0);
    writeFileSync(file, bytes);
    const before = contents(dir);

    const damaged = new RegExp(`error store_corrupt: .*journal record ${last} is damaged`);
    expectRefused(fulcrum(['verify', '--data', dir]), 1, damaged);
    expectRefused(fulcrum(['history', 'account', 'zed', '--data', dir]), 1, damaged);
    expectRefused(fulcrum(['history', 'events', '0', '2100-01-01', '--data', dir]), 1, damaged);
    expect(contents(dir)).toEqual(before);

    // A run refuses to follow it: nothing is dropped, no position is written twice.
    expectRefused(
      fulcrum(['run', '-', '--data', dir], deposit('amy', '1', 1_584_200_001)),
      1,
      damaged,
    );
    const reader = new SqliteStore(dir, { readOnly: true });
    try {
      expect(await reader.lastSeq()).toBe(last);
      const [record] = await reader.readRecords(last - 1, 1);
      expect(record?.events).toContain('2234.5678');
    } finally {
      await reader.close();
    }
    expectRefused(fulcrum(['verify', '--data', dir]), 1, damaged);
  });
});

describe('one writer at a time', () => {
  it('a second writer is refused at once in one line; readers read meanwhile; the lock dies with its holder', async () => {
    const dir = folder('locked');
    const writer = await startWriter(dir, 'fulcrum.sqlite', 3);
    expect(writer.seq).toBe(4);
    try {
      const locked =
        /^fulcrum: error store_locked: the journal at .*fulcrum\.sqlite is open for writing elsewhere .*one writer at a time$/;
      expectRefused(fulcrum(['run', '-', '--data', dir], deposit('amy', '1', 2)), 1, locked);
      expectRefused(fulcrum(['demo', '--data', dir]), 1, locked);
      // Readers take no lock.
      const verified = fulcrum(['verify', '--data', dir]);
      expect(verified.status, verified.stderr).toBe(0);
      expect(verified.stdout).toMatch(/^journal: 4 records in /m);
      const history = fulcrum(['history', 'account', 'w0', '--data', dir]);
      expect(history.status, history.stderr).toBe(0);
      expect(JSON.parse(history.stdout).seq).toBeGreaterThan(1);
    } finally {
      // Killed, the journal open: the operating system releases its lock with it.
      await writer.kill();
    }
    const after = fulcrum(['run', '-', '--data', dir], deposit('amy', '1', 2));
    expect(after.status, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/journal: 5 records, all durable/);
  });
});

describe('a folder that cannot be made or is not there', () => {
  const journalCommands = [
    ['run', '-'],
    ['demo'],
    ...readerCommands,
    ['greeks', '--account', 'alice'],
  ];

  it.skipIf(!existsSync('/proc/self'))(
    'in /proc (where a recursive mkdir never ends): every command fails at once in one line',
    () => {
      for (const args of journalCommands) {
        const result = fulcrum([...args, '--data', '/proc/nope']);
        expectRefused(result, 1, /^fulcrum: error store_(unavailable|not_found): .*\/proc\/nope/);
      }
      expect(existsSync('/proc/nope')).toBe(false);
    },
  );

  it('below a dangling link: a writer fails at once in one line', () => {
    const dir = folder('dangling');
    mkdirSync(dir);
    symlinkSync(join(dir, 'gone'), join(dir, 'link'));
    for (const args of [['run', '-'], ['demo']]) {
      expectRefused(
        fulcrum([...args, '--data', join(dir, 'link', 'data')]),
        1,
        /^fulcrum: error store_unavailable: cannot open the journal at .*link/,
      );
    }
    expect(readdirSync(dir)).toEqual(['link']);
  });

  it('mistyped: a reader refuses it in one line and creates nothing', () => {
    const dir = folder('typo');
    mkdirSync(dir);
    for (const missing of [join(dir, 'fulcrum-dat'), join(dir, 'a', 'b')]) {
      for (const args of [...readerCommands, ['greeks', '--account', 'alice']]) {
        expectRefused(
          fulcrum([...args, '--data', missing]),
          1,
          /^fulcrum: error store_not_found: there is no journal at .*fulcrum\.sqlite$/,
        );
      }
    }
    expect(readdirSync(dir)).toEqual([]);
    // An existing folder that holds no journal is refused the same way, and stays empty.
    expectRefused(fulcrum(['verify', '--data', dir]), 1, /store_not_found/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('history questions that are not well formed', () => {
  it('are refused as usage (status 2) before any journal is looked for', () => {
    const missing = folder('no-journal');
    const cases: [string[], RegExp][] = [
      [
        ['events', '2021-02-30', '2021-03-01'],
        /^fulcrum: FROM must be unix seconds or an ISO date/,
      ],
      [['events', '0', '2020-03-12T24:00:00Z'], /^fulcrum: TO must be/],
      // A time without its zone would be read in the machine's.
      [['events', '0', '2020-03-12T10:00'], /^fulcrum: TO must be/],
      [['state', '1e3'], /^fulcrum: SEQ must be a journal position/],
      [['state', '0x10'], /^fulcrum: SEQ must be a journal position/],
    ];
    for (const [args, pattern] of cases) {
      expectRefused(fulcrum(['history', ...args, '--data', missing]), 2, pattern);
    }
    expect(existsSync(missing)).toBe(false);
    const dir = folder('dates');
    storyJournal(dir);
    const events = (to: string) =>
      fulcrum(['history', 'events', '2020-03-12', to, '--data', dir]).stdout.trim().split('\n');
    // A zone moves the instant: 02:10 at +02:00 is 00:10 UTC.
    expect(events('2020-03-12T02:10:00+02:00')).toEqual(events('2020-03-12T00:10:00Z'));
    expect(events('2020-03-12T00:10:00Z').length).toBeGreaterThan(3);
  });
});

describe('--data that is not a usable PostgreSQL URL', () => {
  it('is refused before anything is opened, in one line naming --data (usage, status 2)', () => {
    const cases: [string, RegExp][] = [
      ['postgresql://postgres@[::1', /it is not a well-formed URL/],
      ['postgres://a:b@host:99999/x', /its port "99999" is not 1 to 65535/],
      ['postgres://a@host:0/x', /its port "0" is not 1 to 65535/],
      ['postgres://a@host/x?port=70000', /its port "70000" is not 1 to 65535/],
      ['postgres://a@host:5432/', /it names no database/],
      ['postgres://a@host:5432', /it names no database/],
      ['postgres:///x', /it names no host/],
    ];
    for (const [url, problem] of cases) {
      for (const args of [['verify'], ['run', '-'], ['history', 'account', 'a']]) {
        const result = fulcrum([...args, '--data', url]);
        expectRefused(result, 2, /^fulcrum: --data is not a usable PostgreSQL URL: /);
        expect(result.stderr).toMatch(problem);
        // The password never appears.
        expect(result.stderr).not.toMatch(/a:b/);
      }
    }
    expectRefused(fulcrum(['verify', '--data', '']), 2, /^fulcrum: --data must name a folder/);
  });
});

describe('a read-only copy of a journal', () => {
  it('verify and history read it, every byte and file left as they were', () => {
    const dir = folder('copy');
    const last = storyJournal(dir);
    const before = contents(dir);
    for (const args of readerCommands) {
      const result = fulcrum([...args, '--data', dir]);
      expect(result.status, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    }
    expect(fulcrum(['verify', '--data', dir]).stdout).toMatch(
      new RegExp(`^journal: ${last} records in`, 'm'),
    );
    // Opened read-only: not a byte written, no file made (no -wal, no -shm, no lock).
    expect(contents(dir)).toEqual(before);
  });

  // Root ignores permissions: a folder is made read-only for root by a read-only bind mount.
  const readOnlyFolders = !isRoot || canMount();
  it.skipIf(!readOnlyFolders)(
    `in a folder nothing can be written to: read as it is, a writer refused${readOnlyFolders ? '' : ' (skipped: root, and mounting is not allowed here)'}`,
    async () => {
      const dir = folder('closed');
      const last = storyJournal(dir);
      // A journal taken while a writer had it open (its -wal and -shm beside it).
      const live = folder('live');
      const writer = await startWriter(live, 'fulcrum.sqlite', 5);
      await writer.kill();
      expect(readdirSync(live)).toContain('fulcrum.sqlite-wal');
      // A file left in WAL mode without its -wal file (closed by an earlier Fulcrum): SQLite
      // cannot read it where it may not make a -shm file, and says so.
      const atRest = folder('wal-at-rest');
      cpSync(dir, atRest, { recursive: true });
      const db = new Database(join(atRest, 'fulcrum.sqlite'));
      db.pragma('journal_mode = WAL');
      db.close();
      expect(readdirSync(atRest).sort()).toEqual(['fulcrum.sqlite', 'fulcrum.sqlite.lock']);

      for (const [source, records] of [
        [dir, last],
        [live, 6],
        [atRest, last],
      ] as const) {
        const copy = folder('read-only');
        cpSync(source, copy, { recursive: true });
        const before = contents(copy);
        withReadOnly(copy, () => {
          if (source === atRest) {
            expectRefused(
              fulcrum(['verify', '--data', copy]),
              1,
              /^fulcrum: error store_unavailable: cannot read the journal at .*: it was left in WAL mode and SQLite cannot create its -shm file in this folder/,
            );
            return;
          }
          const verified = fulcrum(['verify', '--data', copy]);
          expect(verified.status, verified.stderr).toBe(0);
          expect(verified.stdout).toMatch(new RegExp(`^journal: ${records} records in`, 'm'));
          expect(verified.stdout).toMatch(/^ok: the hashes agree$/m);
          for (const args of readerCommands.slice(1)) {
            const result = fulcrum([...args, '--data', copy]);
            expect(result.status, `${args.join(' ')}: ${result.stderr}`).toBe(0);
          }
          expectRefused(
            fulcrum(['run', '-', '--data', copy], deposit('amy', '1', 1_584_200_001)),
            1,
            /^fulcrum: error store_(read_only|unavailable): /,
          );
        });
        expect(contents(copy)).toEqual(before);
      }
    },
  );
});

describe('damaged pages', () => {
  it('are store_corrupt in one line, never a driver error', () => {
    const dir = folder('pages');
    storyJournal(dir);
    const file = join(dir, 'fulcrum.sqlite');
    const db = new Database(file, { readonly: true });
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    const rootPage = Number(
      db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'segments'").pluck().get(),
    );
    db.close();
    // The records' table garbled; the rest of the file (the schema, its version) reads.
    const bytes = readFileSync(file);
    bytes.fill(0xaa, (rootPage - 1) * pageSize, rootPage * pageSize);
    writeFileSync(file, bytes);
    for (const args of readerCommands) {
      expectRefused(
        fulcrum([...args, '--data', dir]),
        1,
        /^fulcrum: error store_corrupt: cannot read the journal at .*: the file is damaged/,
      );
    }
  });
});

/** Runs `body` with `dir` read-only: a read-only bind mount as root, permissions otherwise. */
function withReadOnly(dir: string, body: () => void): void {
  if (isRoot) {
    execFileSync('mount', ['--bind', dir, dir]);
    try {
      execFileSync('mount', ['-o', 'remount,bind,ro', dir]);
      body();
    } finally {
      execFileSync('umount', [dir]);
    }
    return;
  }
  execFileSync('chmod', ['-R', 'a-w', dir]);
  try {
    body();
  } finally {
    execFileSync('chmod', ['-R', 'u+w', dir]);
  }
}

function canMount(): boolean {
  const probe = join(scratch, 'probe');
  mkdirSync(probe, { recursive: true });
  try {
    execFileSync('mount', ['--bind', probe, probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    process.stderr.write('read-only folder test skipped: root, and mounting is not allowed\n');
    return false;
  }
}

describe('chains status', () => {
  it('shows each chain as the journal leaves it, read-only', () => {
    const data = folder('chains');
    const run = fulcrum(['run', join(root, 'examples', 'chain-story.jsonl'), '--data', data]);
    expect(run.status, run.stderr).toBe(0);
    // The re-delivered deposit and the borrow on a halted chain are refused.
    expect(run.stdout).toMatch(
      /chain-deposit alice\/0 20 ETH\.arb .*REFUSED error chain_event_seen/,
    );
    expect(run.stdout).toMatch(/borrow alice\/0 10 USDC .*REFUSED error insufficient_collateral/);
    const before = contents(data);
    const status = fulcrum(['chains', 'status', '--data', data, '--json']);
    expect(status.status, status.stderr).toBe(0);
    const [arb] = status.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    // 20 in, 1 paid out, 2 authorized and returned after their expiry: 19 credited, none pending.
    expect(arb).toMatchObject({
      chain: 'arb',
      status: 'active',
      cursor: { block: 180, logIndex: null },
      nextNonce: 3,
      pending: [],
      assets: [{ asset: 'ETH.arb', credited: '19', pending: '0', vaultHolds: '19' }],
    });
    // Alice's history holds her deposits and withdrawals: paid, and returned after expiry.
    const history = fulcrum(['history', 'account', 'alice', '--data', data]);
    const types = history.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { command: { type: string } }).command.type);
    for (const type of [
      'chain-deposit',
      'chain-withdraw',
      'chain-withdrawal-paid',
      'chain-withdrawal-expired',
    ]) {
      expect(types).toContain(type);
    }
    const text = fulcrum(['chains', 'status', '--data', data]);
    expect(text.stdout).toMatch(/^chain arb: active, taken up to end of block 180/);
    expect(contents(data)).toEqual(before);
    expectRefused(fulcrum(['chains', 'list', '--data', data]), 2, /usage: fulcrum chains status/);
  });
});
