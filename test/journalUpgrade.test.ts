/**
 * Journals written by an earlier Fulcrum (snapshot and state-hash format 1, before the venue's
 * rules and the oracle's later fields). One whose every record replays to its recorded outcome
 * under this release's rules is verified and opened: its snapshots, of an earlier format, are
 * passed over with one warning, and it is replayed from its records and goes on. One holding a
 * record that this release's rules decide otherwise is refused in one line naming the record,
 * and left as it was.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const main = join(root, 'dist', 'cli', 'main.js');
const scratch = mkdtempSync(join(tmpdir(), 'fulcrum-upgrade-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function fulcrum(args: string[], input = '') {
  const result = spawnSync(process.execPath, [main, ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every row of every table of a SQLite file, read without changing it. */
function rows(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all() as string[];
    return Object.fromEntries(
      tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}" ORDER BY 1`).all()]),
    );
  } finally {
    db.close();
  }
}

describe('a journal of snapshot format 1', () => {
  it('verifies by replay, with one warning, at the state its commands give today', () => {
    const data = join(scratch, 'verify');
    cpSync(join(root, 'test', 'fixtures', 'journal-format-1'), data, { recursive: true });
    const verified = fulcrum(['verify', '--data', data]);
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^ok: the hashes agree$/m);
    expect(verified.stderr.trim().split('\n')).toEqual([
      "fulcrum: warning: snapshots (8, at journal records 5 to 40) cannot be read (snapshot format 1, not this Fulcrum's 4); passed over",
    ]);
    // The same commands applied in memory today reach the same state.
    const story = join(root, 'examples', 'black-thursday-liquidations.jsonl');
    const fresh = fulcrum(['run', story, '--memory']);
    const hash = /state hash ([0-9a-f]{64})/.exec(fresh.stdout)?.[1];
    expect(hash).toBeDefined();
    expect(verified.stdout).toContain(`full replay: 41 records, hash ${hash}`);
  });

  it('goes on: the first run writes a snapshot of this format as it opens, and appends', () => {
    const data = join(scratch, 'run');
    cpSync(join(root, 'test', 'fixtures', 'journal-format-1'), data, { recursive: true });
    const story = readFileSync(join(root, 'examples', 'black-thursday-liquidations.jsonl'), 'utf8');
    const time = Math.max(...[...story.matchAll(/"time":(\d+)/g)].map((m) => Number(m[1])));
    const line = JSON.stringify({ type: 'accrue', time: time + 60, asset: 'USDC' });
    const ran = fulcrum(['run', '-', '--data', data], `${line}\n`);
    expect(ran.status, ran.stderr).toBe(0);
    const again = fulcrum(['verify', '--data', data]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^ok: the hashes agree$/m);
    // The run wrote a snapshot of this format as it opened: recovery starts from it, quietly.
    expect(again.stdout).toMatch(/recovery: snapshot at 41, 1 records replayed/);
    expect(again.stderr).toBe('');
  });
});

describe('a journal holding a record that these rules decide otherwise', () => {
  it('is refused by run and verify in one line naming the record, and left as it was', () => {
    const data = join(scratch, 'other-rules');
    cpSync(join(root, 'test', 'fixtures', 'journal-other-rules'), data, { recursive: true });
    const journal = join(data, 'fulcrum.sqlite');
    const before = rows(journal);
    const line = `${JSON.stringify({ type: 'accrue', time: 2, asset: 'USDC' })}\n`;
    for (const args of [
      ['run', '-', '--data', data],
      ['verify', '--data', data],
    ]) {
      const result = fulcrum(args, line);
      expect(result.status, result.stderr).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        "fulcrum: error store_incompatible: journal record 10 replays to liquidation_dust under this Fulcrum's rules, but the journal says ok: it was written under other rules (an earlier release); open it with the release that wrote it",
      ]);
    }
    // Every row as it was (a writer that closes takes the file out of WAL mode: its header
    // says so, and nothing else changes).
    expect(rows(journal)).toEqual(before);
  });
});
